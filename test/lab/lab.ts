// The lab's programmatic API, for integration tests and the demo (README.md tells how it works).
import { constants } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { CephObject } from './ceph.js';
import { controlRequest, type ControlOp, type DiskMetadata, type LabDisk } from './control.js';
import { ifExists } from './if-exists.js';
import { enterNetnsArgs } from './netns.js';
import { ensureCephPackages, ensureLabPackages, requireRoot } from './packages.js';
import { findSupervisor, isRunningSshd, isSupervisorOf, signalProcess, waitForExit } from './processes.js';
import { allocateIndex, cleanLabLeftovers, createStateDir, listLabs } from './registry.js';
import {
  DEFAULT_EXTRA_HOSTS,
  DEFAULT_LAB_NAME,
  enterHostArgs,
  HOST_SESSION_ENV,
  hostPaths,
  LabPreconditionError,
  labPaths,
  labPlan,
  validateExtraHosts,
  validateLabName,
  type HostState,
  type LabConfig,
  type LabHost,
  type LabPaths,
  type LabState,
  vmDir,
  type VmState,
  type WanLayout,
  type WanLinkName,
} from './topology.js';
import type { CephFaults } from './standins/ceph-lab.js';
import type { StorageRates } from './standins/storage-state.js';
import { mergeFaultsFile } from './standins/faults-file.js';
import { mergeVmFaults, type VmFaults } from './vm-faults.js';

export type { LabHost, VmState, WanLayout, WanLinkName } from './topology.js';
export type { VmFaults } from './vm-faults.js';
export type { CephObject } from './ceph.js';
export type { LabDisk, LabPartition } from './control.js';
export type { StorageRates } from './standins/storage-state.js';
export type { CephFaults } from './standins/ceph-lab.js';
export { ensureLabPackages } from './packages.js';

export interface RunResult {
  /** As the command wrote them, final newline included. */
  stdout: string;
  stderr: string;
  /** 128 + signal number when the command was killed by a signal, as a shell reports it. */
  exitCode: number;
}

export interface Lab {
  name: string;
  index: number;
  stateDir: string;
  inventoryPath: string;
  knownHostsPath: string;
  operatorKeyPath: string;
  bastion: LabHost;
  /** Every host but the bastion, in inventory order. */
  hosts: LabHost[];
  /** A wan lab's internet, ISP links and DNS (README: WAN mode); undefined for the default lab. */
  wan: WanLayout | undefined;
  /** Runs `argv` as root inside the host (its network, mounts and hostname), from /root, stdin empty unless given. */
  run(host: string, argv: string[], opts?: { input?: string | Buffer }): Promise<RunResult>;
  /** Kills the host's sshd and its sessions: its address still answers, with "connection refused". */
  stopSshd(host: string): Promise<void>;
  startSshd(host: string): Promise<void>;
  /** Takes the host's eth0 down: packets to it get no answer. */
  linkDown(host: string): Promise<void>;
  linkUp(host: string): Promise<void>;
  /** Cuts a wan lab's ISP link upstream: the ISP box still answers, nothing beyond it does. */
  ispDown(link: WanLinkName): Promise<void>;
  ispUp(link: WanLinkName): Promise<void>;
  /** A new host key and sshd restarted; known_hosts is left as it was. Returns "SHA256:...". */
  rekey(host: string): Promise<string>;
  /** The host's /var/log/syslog ('' when nothing was logged). */
  syslog(host: string): Promise<string>;
  /** An interactive root login shell in the host on this process's terminal; its exit code. */
  shell(host: string): Promise<number>;
  /** The control socket (control.ts): host operations, and the VM operations the Proxmox stand-in asks for. */
  controlSocketPath: string;
  /** `<ISO time> <kind> <ms>` per wait the lab imposed (clone, boot, agent). */
  vmWaitsLogPath: string;
  /** Merges into the VM faults file (a key set to null is removed); returns the faults now in force. */
  setVmFaults(partial: { [K in keyof VmFaults]: VmFaults[K] | null }): Promise<VmFaults>;
  /** The VM hosts running now (state.json). */
  vms(): Promise<VmState[]>;
  /** Runs `argv` as root inside a running VM host, as `run` does in a lab host. */
  runInVm(vmid: number, argv: string[], opts?: { input?: string | Buffer }): Promise<RunResult>;
  /** The VM's real host key, as its sshd serves it (also while it is stopped: it is on its disk). */
  vmHostKey(vmid: number): Promise<{ publicKey: string; fingerprint: string }>;
  /** A real Ceph cluster runs on pve1-3 (README: Ceph). */
  ceph: boolean;
  /** pve1-3 boot from a ZFS mirror, backup from an mdadm RAID1, on lab disks (README: Disks, ZFS and mdadm). */
  mirrors: boolean;
  /**
   * A lab with disks (--disks or --ceph): a new empty disk in a disk host (pve1-3, backup; a new
   * serial), or carrying `metadata` (a GPT, an LVM physical volume, an ext4 filesystem, written by the
   * real tools in the host), or the pulled disk `serial` put back as it was (a serial the lab has
   * never seen: a new disk bearing it, of `sizeGiB` and with `metadata` if given), its partitions
   * mapped from its table; its serial.
   */
  diskInsert(host: string, opts?: { sizeGiB?: number; serial?: string; metadata?: DiskMetadata }): Promise<string>;
  /** The disk leaves the host (its device, partitions and links go); it stays in `disks()` as pulled. */
  diskPull(host: string, serial: string): Promise<void>;
  /** What smartctl says of the disk's health from now on (false: FAILED!, exit bit 8). */
  diskSmart(host: string, serial: string, passed: boolean): Promise<void>;
  /** The lab's disks, inserted or pulled, in insertion order. */
  disks(): Promise<LabDisk[]>;
  /** Each disk's locate LED, as the ledctl stand-in left it (serial: lit). */
  diskLeds(): Promise<Record<string, boolean>>;
  /** The disk's image file on the machine (its bytes, whether inserted or pulled). */
  diskImage(serial: string): string;
  /** How fast the stand-ins' resilvers and resyncs go from now on (unset: their defaults); the rates in force. */
  setStorageRates(rates: Partial<StorageRates>): Promise<Partial<StorageRates>>;
  /** /proc/mdstat of the host as the mdadm stand-in's arrays make it (there is no md in this kernel). */
  mdstat(host: string): Promise<string>;
  /** The objects written to the pool `rbd` when the lab came up, with their sizes and SHA-256. */
  cephObjects(): Promise<CephObject[]>;
  /** A Ceph lab: merges into its faults file (a key set to null is removed); returns the faults now in force. */
  setCephFaults(partial: { [K in keyof CephFaults]: CephFaults[K] | null }): Promise<CephFaults>;
  down(): Promise<void>;
}

export interface LabSummary {
  name: string;
  index: number;
  /** Lab hosts, the bastion included. */
  hosts: number;
  /** Hosts whose sshd is running. */
  alive: number;
  inventoryPath: string;
}

const SUPERVISOR_SCRIPT = fileURLToPath(new URL('./supervisor.js', import.meta.url));
/** Dismantling 150 hosts takes about a second; this is for a stuck one. */
const STOP_TIMEOUT_MS = 30_000;

async function readJsonIfPresent<T>(path: string): Promise<T | undefined> {
  const text = await ifExists(readFile(path, 'utf8'));
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** Runs `nsenter args` as a lab session would; an exit code whatever happens to the command. */
export async function nsenterRun(args: string[], opts: { input?: string | Buffer } = {}): Promise<RunResult> {
  const stdin = opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input };
  const result = await execa('nsenter', args, {
    ...stdin,
    reject: false,
    stripFinalNewline: false,
    extendEnv: false,
    env: HOST_SESSION_ENV,
  });
  const { stdout, stderr } = result;
  if (result.exitCode !== undefined) return { stdout, stderr, exitCode: result.exitCode };
  if (result.signal === undefined) throw result; // nsenter itself could not start
  return { stdout, stderr, exitCode: 128 + constants.signals[result.signal] };
}

/** Runs `argv` in a lab's network namespace that is no host (a wan lab's internet or an ISP). */
export function runInNetns(netns: string, argv: string[]): Promise<RunResult> {
  return nsenterRun(enterNetnsArgs(netns, argv));
}

class AttachedLab implements Lab {
  readonly name: string;
  readonly index: number;
  readonly stateDir: string;
  readonly inventoryPath: string;
  readonly knownHostsPath: string;
  readonly operatorKeyPath: string;
  readonly bastion: LabHost;
  readonly hosts: LabHost[];
  readonly wan: WanLayout | undefined;
  readonly controlSocketPath: string;
  readonly vmWaitsLogPath: string;
  readonly ceph: boolean;
  readonly mirrors: boolean;
  readonly #paths: LabPaths;
  readonly #hostStates: Map<string, HostState>;

  constructor(state: LabState, paths: LabPaths) {
    const strip = ({ name, address, netns, roles }: HostState): LabHost => ({ name, address, netns, roles });
    this.name = state.name;
    this.index = state.index;
    this.stateDir = paths.stateDir;
    this.inventoryPath = paths.inventory;
    this.knownHostsPath = paths.knownHosts;
    this.operatorKeyPath = paths.operatorKey;
    this.bastion = strip(state.bastion);
    this.hosts = state.hosts.map(strip);
    this.wan = labPlan(state).wanLayout;
    this.controlSocketPath = paths.controlSocket;
    this.vmWaitsLogPath = paths.vmLab.waitsLog;
    this.ceph = state.ceph === true;
    this.mirrors = state.disks === true;
    this.#paths = paths;
    this.#hostStates = new Map([state.bastion, ...state.hosts].map((host) => [host.name, host]));
  }

  #host(name: string): HostState {
    const host = this.#hostStates.get(name);
    if (!host) {
      throw new LabPreconditionError(
        `no host named "${name}" in lab "${this.name}" (${[...this.#hostStates.keys()].join(', ')})`,
      );
    }
    return host;
  }

  run(host: string, argv: string[], opts: { input?: string | Buffer } = {}): Promise<RunResult> {
    return nsenterRun(enterHostArgs(this.#host(host).holderPid, argv), opts);
  }

  async #control(op: ControlOp, host: string): Promise<string | undefined> {
    return (await controlRequest(this.#paths.controlSocket, { op, host })).fingerprint;
  }

  async stopSshd(host: string): Promise<void> {
    this.#host(host);
    await this.#control('stop-sshd', host);
  }

  async startSshd(host: string): Promise<void> {
    this.#host(host);
    await this.#control('start-sshd', host);
  }

  async linkDown(host: string): Promise<void> {
    this.#host(host);
    await this.#control('link-down', host);
  }

  async linkUp(host: string): Promise<void> {
    this.#host(host);
    await this.#control('link-up', host);
  }

  async ispDown(link: WanLinkName): Promise<void> {
    await this.#control('isp-down', link);
  }

  async ispUp(link: WanLinkName): Promise<void> {
    await this.#control('isp-up', link);
  }

  async rekey(host: string): Promise<string> {
    this.#host(host);
    const fingerprint = await this.#control('rekey', host);
    if (!fingerprint) throw new Error(`rekey ${host}: the supervisor returned no fingerprint`);
    return fingerprint;
  }

  async syslog(host: string): Promise<string> {
    this.#host(host);
    return (await ifExists(readFile(hostPaths(join(this.#paths.hostsDir, host)).syslog, 'utf8'))) ?? '';
  }

  async shell(host: string): Promise<number> {
    const { exitCode } = await execa('nsenter', enterHostArgs(this.#host(host).holderPid, ['/bin/bash', '--login']), {
      stdio: 'inherit',
      reject: false,
      extendEnv: false,
      env: { ...HOST_SESSION_ENV, TERM: process.env['TERM'] ?? 'dumb' },
    });
    return exitCode ?? 1;
  }

  setVmFaults(partial: { [K in keyof VmFaults]: VmFaults[K] | null }): Promise<VmFaults> {
    return mergeVmFaults(this.#paths.vmLab.faults, partial);
  }

  async vms(): Promise<VmState[]> {
    const state = await readJsonIfPresent<LabState>(this.#paths.stateFile);
    if (!state) throw new Error(`lab "${this.name}" is not up`);
    return state.vms;
  }

  async runInVm(vmid: number, argv: string[], opts: { input?: string | Buffer } = {}): Promise<RunResult> {
    const vm = (await this.vms()).find((candidate) => candidate.vmid === vmid);
    if (!vm) throw new LabPreconditionError(`no VM ${vmid} is running in lab "${this.name}"`);
    return nsenterRun(enterHostArgs(vm.holderPid, argv), opts);
  }

  async vmHostKey(vmid: number): Promise<{ publicKey: string; fingerprint: string }> {
    const publicKeyPath = `${hostPaths(vmDir(this.#paths, vmid)).hostKey}.pub`;
    const publicKey = await ifExists(readFile(publicKeyPath, 'utf8'));
    if (publicKey === undefined) throw new LabPreconditionError(`VM ${vmid} has no disk in lab "${this.name}"`);
    const { stdout } = await execa('ssh-keygen', ['-l', '-f', publicKeyPath]);
    return { publicKey: publicKey.trim(), fingerprint: stdout.split(' ')[1] ?? '' };
  }

  #requireCeph(): void {
    if (!this.ceph) throw new LabPreconditionError(`lab "${this.name}" has no Ceph cluster (up --ceph)`);
  }

  #requireDisks(): void {
    if (!this.ceph && !this.mirrors) {
      throw new LabPreconditionError(`lab "${this.name}" has no disks (up --disks or --ceph)`);
    }
  }

  async diskInsert(
    host: string,
    opts: { sizeGiB?: number; serial?: string; metadata?: DiskMetadata } = {},
  ): Promise<string> {
    this.#requireDisks();
    this.#host(host);
    const { disk } = await controlRequest(this.#paths.controlSocket, { op: 'disk-insert', host, ...opts });
    if (!disk) throw new Error(`disk-insert ${host}: the supervisor returned no disk`);
    return disk.serial;
  }

  async diskPull(host: string, serial: string): Promise<void> {
    this.#requireDisks();
    this.#host(host);
    await controlRequest(this.#paths.controlSocket, { op: 'disk-pull', host, serial });
  }

  async diskSmart(host: string, serial: string, passed: boolean): Promise<void> {
    this.#requireDisks();
    this.#host(host);
    await controlRequest(this.#paths.controlSocket, { op: 'disk-smart', host, serial, passed });
  }

  async disks(): Promise<LabDisk[]> {
    this.#requireDisks();
    return JSON.parse(await readFile(this.#paths.diskLab.disksFile, 'utf8')) as LabDisk[];
  }

  async diskLeds(): Promise<Record<string, boolean>> {
    const lit = new Set((await ifExists(readdir(this.#paths.diskLab.ledsDir))) ?? []);
    return Object.fromEntries((await this.disks()).map((disk) => [disk.serial, lit.has(disk.serial)]));
  }

  diskImage(serial: string): string {
    this.#requireDisks();
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(serial)) throw new LabPreconditionError(`no disk serial: ${serial}`);
    return join(this.#paths.disksDir, `${serial}.img`);
  }

  async setStorageRates(rates: Partial<StorageRates>): Promise<Partial<StorageRates>> {
    this.#requireDisks();
    const file = this.#paths.diskLab.storageRates;
    // Renamed into place: a stand-in reading it at that moment sees the old rates or the new ones.
    await writeFile(`${file}.tmp`, JSON.stringify(rates) + '\n');
    await rename(`${file}.tmp`, file);
    return rates;
  }

  async mdstat(host: string): Promise<string> {
    this.#requireDisks();
    // As a program reads it: the cat stand-in prints it from the mdadm stand-in's arrays (cat.ts).
    const result = await this.run(host, ['cat', '/proc/mdstat']);
    if (result.exitCode !== 0) throw new Error(`mdstat on ${host}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  async cephObjects(): Promise<CephObject[]> {
    this.#requireCeph();
    return JSON.parse(await readFile(this.#paths.cephLab.objectsFile, 'utf8')) as CephObject[];
  }

  setCephFaults(partial: { [K in keyof CephFaults]: CephFaults[K] | null }): Promise<CephFaults> {
    this.#requireCeph();
    return mergeFaultsFile<CephFaults>(this.#paths.cephLab.faults, partial);
  }

  down(): Promise<void> {
    return labDown(this.name);
  }
}

/** The lab `name`, already up (in this process or another). */
export async function labAttach(name = DEFAULT_LAB_NAME): Promise<Lab> {
  validateLabName(name);
  const paths = labPaths(name);
  const state = await readJsonIfPresent<LabState>(paths.stateFile);
  if (!state) throw new Error(`lab "${name}" is not up`);
  if (!(await isSupervisorOf(state.supervisorPid, paths.stateDir))) {
    throw new Error(`lab "${name}" is broken: its supervisor is gone (\`down --name ${name}\` cleans it up)`);
  }
  return new AttachedLab(state, paths);
}

/** Dismantles lab `name`, through its supervisor if alive, by itself otherwise (crashed lab). */
export async function labDown(name = DEFAULT_LAB_NAME): Promise<void> {
  validateLabName(name);
  requireRoot();
  const supervisor = await findSupervisor(labPaths(name).stateDir);
  if (supervisor !== undefined) {
    signalProcess(supervisor, 'SIGTERM');
    await waitForExit(supervisor, STOP_TIMEOUT_MS);
  }
  await cleanLabLeftovers(name); // nothing left once the supervisor has done its job
}

/** Starts the supervisor detached and waits until it reports the lab up (or fails). */
async function startSupervisor(paths: LabPaths): Promise<void> {
  // node:child_process rather than execa: execa relays file outputs through this process, and
  // the supervisor must outlive it.
  const log = await open(paths.supervisorLog, 'a');
  let supervisor: ChildProcess;
  try {
    supervisor = spawn(process.execPath, [SUPERVISOR_SCRIPT, paths.stateDir], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd, 'pipe'],
    });
  } finally {
    await log.close();
  }
  const reportStream = supervisor.stdio[3] as Readable; // 'pipe' above
  // One JSON line, then end-of-file; end-of-file alone if the supervisor died.
  let reportText = '';
  for await (const chunk of reportStream) reportText += String(chunk);
  reportStream.destroy();
  supervisor.unref();
  if (!reportText) {
    const logText = await readFile(paths.supervisorLog, 'utf8');
    throw new Error(`the lab supervisor died before the lab was up; its log:\n${logText}`);
  }
  const report = JSON.parse(reportText) as { ready: true } | { error: string };
  if ('ready' in report) return;
  if (supervisor.pid !== undefined) await waitForExit(supervisor.pid, STOP_TIMEOUT_MS); // it cleans up
  throw new Error(report.error);
}

/**
 * Runs `work` (bringing lab `name` up). If it fails, the lab is dismantled; on Ctrl-C or SIGTERM
 * meanwhile too, then this process ends with that signal.
 */
async function dismantledUnlessUp<T>(name: string, work: () => Promise<T>): Promise<T> {
  let interruption: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interruption ??= labDown(name).finally(() => {
      stopListening();
      process.kill(process.pid, signal);
    });
  };
  const stopListening = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work();
  } catch (error) {
    // When interrupted, the process ends with the signal once the lab is gone.
    await (interruption ?? cleanLabLeftovers(name));
    throw error;
  } finally {
    if (!interruption) stopListening();
  }
}

/** What `up` makes: `hosts` extra hosts, a wan lab's ISP links, a Ceph lab's cluster, the mirrors of `disks` (README). */
export interface LabUpOptions {
  name?: string;
  hosts?: number;
  wan?: boolean;
  ceph?: boolean;
  /** pve1-3 on a ZFS mirror, backup on an mdadm RAID1 (README: Disks, ZFS and mdadm). */
  disks?: boolean;
}

export async function labUp(opts: LabUpOptions = {}): Promise<Lab> {
  const name = opts.name ?? DEFAULT_LAB_NAME;
  const wan = opts.wan ?? false;
  const ceph = opts.ceph ?? false;
  const disks = opts.disks ?? false;
  const extraHosts = opts.hosts ?? DEFAULT_EXTRA_HOSTS;
  validateLabName(name);
  validateExtraHosts(extraHosts);
  await ensureLabPackages();
  if (ceph) await ensureCephPackages();
  requireRoot();
  const paths = labPaths(name);
  if ((await findSupervisor(paths.stateDir)) !== undefined) {
    throw new LabPreconditionError(`lab "${name}" is already up (\`down --name ${name}\` first)`);
  }
  await cleanLabLeftovers(name); // of a crashed lab of that name
  return dismantledUnlessUp(name, async () => {
    await createStateDir(name); // before the index: see registry.ts
    const index = await allocateIndex(name, wan);
    const config: LabConfig = {
      name,
      index,
      extraHosts,
      ...(wan ? { wan } : {}),
      ...(ceph ? { ceph } : {}),
      ...(disks ? { disks } : {}),
    };
    await writeFile(paths.configFile, JSON.stringify(config) + '\n');
    await startSupervisor(paths);
    return labAttach(name);
  });
}

export async function labStatus(): Promise<LabSummary[]> {
  return Promise.all(
    (await listLabs()).map(async ({ index, name }) => {
      const paths = labPaths(name);
      const config = await readJsonIfPresent<LabConfig>(paths.configFile);
      const state = await readJsonIfPresent<LabState>(paths.stateFile);
      const plan = config && labPlan(config);
      const sshdPids = state ? [state.bastion, ...state.hosts].map((host) => host.sshdPid) : [];
      const running = await Promise.all(sshdPids.map((pid) => pid !== null && isRunningSshd(pid)));
      return {
        name,
        index,
        hosts: plan ? 1 + plan.hosts.length : 0,
        alive: running.filter(Boolean).length,
        inventoryPath: paths.inventory,
      };
    }),
  );
}
