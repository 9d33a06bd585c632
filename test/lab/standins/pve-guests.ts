// Guests on one node of the lab's Proxmox VE cluster, for the qm, qmrestore, pct and pvesh stand-ins:
// their run state, their locks, their status as the API reports it, starting, stopping,
// destroying and restoring them, and the status the node broadcasts. Self-contained (node:
// builtins only, plus flock(1) from util-linux for the real flock(2) locks).
//
// Run state is the node's own, as on a real node: a running VM is a process whose pid is in
// /var/run/qemu-server/<vmid>.pid (qemu-server's own path), its argv[0] /usr/bin/kvm and its
// arguments carrying "-id <vmid>" and "-pidfile"; a running container is a process
// "/usr/bin/lxc-start -F -n <vmid>" whose pid the stand-in keeps in /var/run/lxc/<vmid>.pid (the
// real one asks lxc's command socket). Both are a shell sleeping until stopped; the lab kills
// them when it goes down, as a node's reboot would.
//
// Sources (github.com/proxmox):
// - pve-guest-common: src/PVE/AbstractConfig.pm (load_config's "Configuration file ... does not
//   exist", create_and_lock_config, lock_config_full with its 10 s default and 5 s for create,
//   check_lock "VM is locked (...)", destroy_config).
// - pve-common: src/PVE/Tools.pm lock_file_full (flock, "trying to acquire lock...", " OK",
//   "can't lock file '<path>' - got timeout"), src/PVE/RESTEnvironment.pm fork_worker and
//   $tee_worker (a CLI task runs in the foreground: its output and stderr on stdout and in its task
//   log, "TASK OK" only in the log, "TASK ERROR: <message>" in the log and the message on stderr,
//   newlines as spaces; the UPID is returned, the CLI's $upid_exit turns an error into exit 255),
//   src/PVE/UPID.pm (encode, decode, the log file /var/log/pve/tasks/<X>/<UPID>, read_status),
//   src/PVE/ProcFSTools.pm (uptime and read_proc_starttime from /proc).
// - pve-cluster: src/PVE/Cluster.pm check_vmid_unused ("VM 100 already exists on node 'pve1'").
// - qemu-server: src/PVE/QemuConfig.pm (lock file /var/lock/qemu-server/lock-<vmid>.conf),
//   src/PVE/QemuServer/Helpers.pm (pid file, vm_running_locally), src/PVE/QemuServer.pm (vmstatus
//   and its fields, vm_start "VM 100 already running", "you can't start a vm if it's a template",
//   destroy_vm, restore_update_config_line), src/PVE/API2/Qemu.pm (vm_status adds ha and agent;
//   destroy_vm "VM 100 is running - destroy failed", its skiplock, purge and
//   destroy-unreferenced-disks; update_vm's delete and "cannot delete '<key>' - not set in current
//   configuration!"; create_vm's restore path and its messages).
// - pve-guest-common: src/PVE/VZDump/Plugin.pm remove_vmid_from_backup_jobs (what --purge does
//   to jobs.cfg, under its cluster lock).
// - pve-container: src/PVE/LXC/Config.pm (lock file /run/lock/lxc/pve-config-<vmid>.lock),
//   src/PVE/LXC.pm (vmstatus), src/PVE/API2/LXC.pm and LXC/Status.pm (the messages).
// - pve-manager: PVE/Service/pvestatd.pm (the status lines a node broadcasts).
// - qemu-server: src/PVE/QemuServer/Cloudinit.pm commit_cloudinit_disk ("generating cloud-init
//   ISO" when a VM with a cloud-init drive starts); src/PVE/API2/Qemu.pm update_vm_api (qm set's
//   values, "no options specified", the digest's "checksum mismatch (file change by other user?)").
// In a VM lab, a started cloud-init VM with a static address becomes a lab host, stopped and
// destroyed with it (pve-lab-vm.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, uptime as osUptime } from 'node:os';
import { mkdir, readFile, rm, statfs, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cfsLock,
  type Command,
  Die,
  encodeText,
  type Io,
  isMainModule,
  type Json,
  messageOf,
  type Param,
  processIo,
  PVE_CONFIG_DIR,
  replaceFile,
  runCommandLine,
  sorted,
  splitList,
  stringParam,
  givenValues,
  type Tool,
  Exit,
  ERROR_EXIT,
  ParamError,
} from './pve-cli.js';
import {
  bootDiskSize,
  cloudinitDrive,
  guestConfigDigest,
  type GuestConfig,
  type GuestType,
  guestName,
  memoryMiB,
  parsePropertyString,
  parseSize,
  readGuestConfig,
  readJobsConfig,
  readStorageConfig,
  readVmList,
  saveGuestConfig,
  rrdLine,
  storageEnabledOn,
  type VmListEntry,
  nodeName,
  writeJobsConfig,
  writeNodeRrd,
} from './pve-cluster.js';
import { freeImage, storageSubdir } from './pve-storage.js';
import { parseUserConfig, writeUserConfig } from './pveum.js';
import { currentFaults, imposeWait, nodeMemory, readVmLab, vmLabRequest, vmSpecOf } from './pve-lab-vm.js';

/** Where one node's stand-ins run: its /etc/pve, its name, and the root of its own files. */
export interface NodeContext {
  configDir: string;
  node: string;
  io: Io;
  /** '/' on a lab host; a scratch directory in unit tests. */
  root: string;
}

export const GUEST_WORD: Record<GuestType, string> = { qemu: 'VM', lxc: 'CT' };

// ---------------------------------------------------------------------------------------------
// Locks: flock(2) on a node-local file, held by a flock(1) child until released.

export function configLockPath(type: GuestType, vmid: number): string {
  return type === 'qemu' ? `/var/lock/qemu-server/lock-${vmid}.conf` : `/run/lock/lxc/pve-config-${vmid}.lock`;
}

interface HeldLock {
  release(): Promise<void>;
}

/** flock(1) holding a lock on `path` (exclusive, or shared); undefined when not had (at once, or within `waitS`). */
export function flockHolder(path: string, waitS?: number, shared = false): Promise<HeldLock | undefined> {
  return new Promise((resolve, reject) => {
    const wait = waitS === undefined ? ['-n'] : ['-w', String(waitS)];
    const child = spawn('flock', [shared ? '-s' : '-x', ...wait, path, '-c', 'echo locked; read line'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let settled = false;
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    child.on('error', reject);
    child.stdout.once('data', () => {
      settled = true;
      resolve({
        release: async () => {
          child.stdin.end();
          await exited;
        },
      });
    });
    void exited.then(() => {
      if (!settled) resolve(undefined);
    });
  });
}

/** lock_file_full: `work` under the flock of `path` (exclusive, or shared), waited for at most `timeoutS`. */
export async function withFileLock<T>(
  path: string,
  timeoutS: number,
  io: Io,
  work: () => Promise<T>,
  shared = false,
): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  let held = await flockHolder(path, undefined, shared);
  if (!held) {
    io.err('trying to acquire lock...\n');
    held = await flockHolder(path, timeoutS, shared);
    if (!held) throw new Die(`can't lock file '${path}' - got timeout\n`);
    io.err(' OK\n');
  }
  try {
    return await work();
  } finally {
    await held.release();
  }
}

export function lockGuestConfig<T>(
  ctx: NodeContext,
  type: GuestType,
  vmid: number,
  timeoutS: number,
  work: () => Promise<T>,
): Promise<T> {
  return withFileLock(join(ctx.root, configLockPath(type, vmid)), timeoutS, ctx.io, work);
}

// ---------------------------------------------------------------------------------------------
// Tasks (RESTEnvironment fork_worker in the CLI's foreground mode, PVE::UPID): the worker's output
// and stderr go to stdout and to its task log, /var/log/pve/tasks/<X>/<UPID> (X: the start time's
// last hex digit), which ends with "TASK OK" or "TASK ERROR: <message, newlines as spaces>"; the
// error is also printed on stderr. The stand-in's worker is its own process, not a fork.

/** What a finished task leaves: its UPID, and its error when it failed. */
export interface TaskOutcome {
  upid: string;
  error?: string;
}

/** ProcFSTools read_proc_starttime: the process's start, in clock ticks since boot. */
export async function processStartTicks(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** PVE::UPID::encode. */
export function encodeUpid(
  task: { node: string; pid: number; pstart: number; starttime: number },
  type: string,
  id: string,
): string {
  const hex = (value: number): string => value.toString(16).toUpperCase().padStart(8, '0');
  return `UPID:${task.node}:${hex(task.pid)}:${hex(task.pstart)}:${hex(task.starttime)}:${type}:${id}:root@pam:`;
}

export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const UPID_RE = new RegExp(
  '^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):' +
    '([^:\\s/]+):([^:\\s/]*):([^:\\s/]+):$',
);

/** PVE::UPID::decode: the task and its log file; undefined when it is no UPID. */
export function decodeUpid(upid: string): { task: Upid; logFile: string } | undefined {
  const match = UPID_RE.exec(upid);
  if (!match) return undefined;
  const [, node = '', , pid = '', pstart = '', starttime = '', type = '', id = '', user = ''] = match;
  const task = { node, pid: parseInt(pid, 16), pstart: parseInt(pstart, 16), starttime: parseInt(starttime, 16) };
  return { task: { ...task, type, id, user }, logFile: `/var/log/pve/tasks/${starttime.slice(7, 8)}/${upid}` };
}

/** fork_worker: runs `work` as a task; its failure is printed and returned, not thrown. */
export async function forkWorker(
  ctx: NodeContext,
  type: string,
  id: string,
  work: (taskIo: Io) => Promise<void>,
): Promise<TaskOutcome> {
  const pstart = (await processStartTicks(process.pid)) ?? 0;
  const upid = encodeUpid(
    { node: ctx.node, pid: process.pid, pstart, starttime: Math.floor(Date.now() / 1000) },
    type,
    id,
  );
  const logFile = join(ctx.root, decodeUpid(upid)?.logFile ?? '');
  await mkdir(dirname(logFile), { recursive: true });
  await writeFile(logFile, '');
  let log = '';
  const write = (text: string): void => {
    ctx.io.out(text);
    log += text;
  };
  const taskIo: Io = { ...ctx.io, out: write, err: write };
  try {
    await work(taskIo);
    await writeFile(logFile, `${log}TASK OK\n`);
    return { upid };
  } catch (error) {
    if (!(error instanceof Die)) throw error;
    const message = messageOf(error).replace(/\n$/, '').replace(/\n/g, ' ');
    await writeFile(logFile, `${log}\nTASK ERROR: ${message}\n`);
    ctx.io.err(`${message}\n`);
    return { upid, error: message };
  }
}

/** A task of qm, pct or qmrestore (CLIHandler's $upid_exit): its failure exits 255. */
export async function runTask(
  ctx: NodeContext,
  type: string,
  id: string,
  work: (taskIo: Io) => Promise<void>,
): Promise<TaskOutcome> {
  const outcome = await forkWorker(ctx, type, id, work);
  if (outcome.error !== undefined) throw new Exit('', ERROR_EXIT);
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Run state.

function pidFile(ctx: NodeContext, type: GuestType, vmid: number): string {
  return join(ctx.root, type === 'qemu' ? `/var/run/qemu-server/${vmid}.pid` : `/var/run/lxc/${vmid}.pid`);
}

async function cmdline(pid: number): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return raw === undefined || raw === '' ? undefined : raw.replace(/\0$/, '').split('\0');
}

/** vm_running_locally / check_running: the guest's pid when its process lives. */
export async function runningPid(ctx: NodeContext, type: GuestType, vmid: number): Promise<number | undefined> {
  const text = await readFile(pidFile(ctx, type, vmid), 'utf8').catch(() => '');
  const pid = /^(\d+)\s*$/.exec(text)?.[1];
  if (pid === undefined) return undefined;
  const argv = await cmdline(Number(pid));
  if (!argv) return undefined;
  const ours =
    type === 'qemu'
      ? (argv[0] ?? '').endsWith('kvm') && argv.includes('-id') && argv[argv.indexOf('-id') + 1] === String(vmid)
      : (argv[0] ?? '').endsWith('lxc-start') && argv[argv.indexOf('-n') + 1] === String(vmid);
  return ours ? Number(pid) : undefined;
}

/** The guest's process: a shell sleeping until stopped, named as kvm or lxc-start is. */
export async function startProcess(ctx: NodeContext, type: GuestType, vmid: number, name: string): Promise<number> {
  const file = pidFile(ctx, type, vmid);
  await mkdir(dirname(file), { recursive: true });
  const script = 'while :; do sleep 3600; done';
  const args =
    type === 'qemu'
      ? ['-id', String(vmid), '-name', `${name},debug-threads=on`, '-no-shutdown', '-pidfile', file, '-daemonize']
      : ['-F', '-n', String(vmid)];
  const child = spawn('/bin/sh', ['-c', script, ...args], {
    argv0: type === 'qemu' ? '/usr/bin/kvm' : '/usr/bin/lxc-start',
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined)
    throw new Die(`start failed: could not start the ${type === 'qemu' ? 'kvm' : 'lxc'} process\n`);
  await writeFile(file, `${pid}\n`);
  return pid;
}

/** Stops the guest's process (its process group), waiting for it to go; removes the pid file. */
export async function stopProcess(ctx: NodeContext, type: GuestType, vmid: number): Promise<void> {
  const pid = await runningPid(ctx, type, vmid);
  if (pid !== undefined) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      process.kill(pid, 'SIGTERM');
    }
    for (let waited = 0; waited < 5000 && (await cmdline(pid)); waited += 20) await sleep(20);
    if (await cmdline(pid)) process.kill(-pid, 'SIGKILL');
  }
  await unlink(pidFile(ctx, type, vmid)).catch(() => {});
}

/** Seconds since the process started (ProcFSTools read_proc_pid_stat and read_proc_uptime). */
async function processUptime(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = Number(fields[19] ?? 0);
  const [uptime = '0'] = (await readFile('/proc/uptime', 'utf8').catch(() => '0')).split(' ');
  return Math.max(0, Math.floor(Number(uptime) - startTicks / 100));
}

// ---------------------------------------------------------------------------------------------
// Status (QemuServer vmstatus, LXC vmstatus).

export type GuestStatus = { [key: string]: Json };

/** The guest's entry of vmstatus on its own node; `full` adds what the status/current API adds. */
export async function guestStatus(
  ctx: NodeContext,
  entry: VmListEntry,
  config: GuestConfig,
  full = false,
): Promise<GuestStatus> {
  const { vmid, type } = entry;
  const pid = await runningPid(ctx, type, vmid);
  const hostCpus = cpus().length || 1;
  const status: GuestStatus = { vmid, status: pid ? 'running' : 'stopped' };
  if (pid) status['pid'] = pid;
  const values = config.values;
  if (type === 'qemu') {
    const size = bootDiskSize(config);
    status['disk'] = 0;
    status['maxdisk'] = size ?? 0;
    const sockets = Number(values.get('sockets') ?? 1);
    const cores = Number(values.get('cores') ?? 1);
    status['cpus'] = values.get('vcpus') ? Number(values.get('vcpus')) : Math.min(sockets * cores, hostCpus);
    status['name'] = values.get('name') ?? `VM ${vmid}`;
  } else {
    const rootfs = values.get('rootfs');
    status['disk'] = 0;
    status['maxdisk'] =
      parseSize(rootfs ? parsePropertyString(rootfs, 'volume').get('size') : undefined) ?? 4 * 1024 ** 3;
    status['cpus'] = Number(values.get('cores') ?? values.get('cpulimit') ?? hostCpus);
    status['name'] = (values.get('hostname') ?? `CT${vmid}`).replace(/\s/g, '');
    status['swap'] = 0;
    status['maxswap'] = Number(values.get('swap') ?? 0) * 1024 * 1024;
    status['type'] = 'lxc';
  }
  status['maxmem'] = memoryMiB(config) * 1024 * 1024;
  Object.assign(status, { uptime: pid ? await processUptime(pid) : 0, cpu: 0, mem: 0, netin: 0, netout: 0 });
  Object.assign(status, { diskread: 0, diskwrite: 0 });
  if (values.get('template') === '1') status['template'] = 1;
  if (values.get('lock')) status['lock'] = values.get('lock') as string;
  if (values.has('tags')) status['tags'] = values.get('tags') as string;
  if (full && type === 'qemu') {
    status['qmpstatus'] = status['status'] as string;
    status['ha'] = { managed: 0 };
    if (/^(1|enabled=1)/.test(values.get('agent') ?? '')) status['agent'] = 1;
    if (pid) {
      status['running-machine'] = 'pc-i440fx-8.1+pve0';
      status['running-qemu'] = '8.1.5';
    }
  } else if (full) {
    status['ha'] = { managed: 0 };
  }
  return status;
}

/** The guest's configuration on `node`, or load_config's error. */
export async function loadConfig(ctx: NodeContext, type: GuestType, vmid: number): Promise<GuestConfig> {
  const config = await readGuestConfig(ctx.configDir, { vmid, type, node: ctx.node });
  if (!config)
    throw new Die(
      `Configuration file 'nodes/${ctx.node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist\n`,
    );
  return config;
}

/** Cluster.pm check_vmid_unused. */
export async function checkVmidUnused(configDir: string, vmid: number): Promise<void> {
  const entry = (await readVmList(configDir)).get(vmid);
  if (entry) throw new Die(`${GUEST_WORD[entry.type]} ${vmid} already exists on node '${entry.node}'\n`);
}

// ---------------------------------------------------------------------------------------------
// What the node broadcasts (pvestatd): its own status, its guests' and its storages'.

/**
 * The node's own line: its memory is the lab's (pve-lab-vm.ts nodeMemory), used by its running
 * guests' memory, as the host's would be.
 */
async function nodeStatusLine(ctx: NodeContext, statuses: Map<number, GuestStatus>, now: number): Promise<string> {
  const total = await nodeMemory(await readVmLab(ctx.root), ctx.node);
  const used = [...statuses.values()]
    .filter((status) => status['status'] === 'running')
    .reduce((sum, status) => sum + Number(status['maxmem'] ?? 0), 0);
  const rootfs = await statfs(join(ctx.root, '/')).catch(() => undefined);
  const disk = rootfs ? [rootfs.blocks * rootfs.bsize, (rootfs.blocks - rootfs.bfree) * rootfs.bsize] : [0, 0];
  const load = (loadavg()[0] ?? 0).toFixed(2);
  const uptime = Math.floor(osUptime());
  const values = [uptime, '', now, load, cpus().length, 0.01, 0, total, used, 0, 0, disk[0], disk[1], 0, 0];
  return rrdLine(`pve2-node/${ctx.node}`, values);
}

/** Writes this node's status lines from its real state; returns its guests' statuses. */
export async function refreshNodeStatus(ctx: NodeContext): Promise<Map<number, GuestStatus>> {
  const now = Math.floor(Date.now() / 1000);
  const lines: string[] = [];
  const statuses = new Map<number, GuestStatus>();
  for (const entry of (await readVmList(ctx.configDir)).values()) {
    if (entry.node !== ctx.node) continue;
    const config = await readGuestConfig(ctx.configDir, entry);
    if (!config) continue;
    const status = await guestStatus(ctx, entry, config);
    statuses.set(entry.vmid, status);
    const running = status['status'] === 'running';
    const value = (key: string): string | number | undefined =>
      running ? (status[key] as string | number | undefined) : undefined;
    lines.push(
      rrdLine(`pve2.3-vm/${entry.vmid}`, [
        running ? (status['uptime'] as number) : 0,
        status['name'] as string,
        status['status'] as string,
        (status['template'] as number | undefined) ?? 0,
        now,
        status['cpus'] as number,
        value('cpu'),
        status['maxmem'] as number,
        value('mem'),
        status['maxdisk'] as number,
        status['disk'] as number,
        value('netin'),
        value('netout'),
        value('diskread'),
        value('diskwrite'),
      ]),
    );
  }
  lines.unshift(await nodeStatusLine(ctx, statuses, now));
  for (const storage of await readStorageConfig(ctx.configDir)) {
    if (!storageEnabledOn(storage, ctx.node) || !storage.path) continue;
    const info = await statfs(join(ctx.root, storage.path)).catch(() => undefined);
    if (!info) continue;
    const size = info.blocks * info.bsize;
    lines.push(rrdLine(`pve2-storage/${ctx.node}/${storage.id}`, [now, size, size - info.bfree * info.bsize]));
  }
  await writeNodeRrd(ctx.configDir, ctx.node, lines);
  return statuses;
}

// ---------------------------------------------------------------------------------------------
// Operations shared by qm, pct and pvesh.

/** How an operation runs its task: qm's and pct's exit on failure, the API's returns the UPID. */
export type TaskRunner = (
  ctx: NodeContext,
  type: string,
  id: string,
  work: (taskIo: Io) => Promise<void>,
) => Promise<TaskOutcome>;

/**
 * vm_start / lxc start: the guest's process started under its config lock, in a task. A VM with a
 * cloud-init drive gets its image generated (vm_start's config_to_command) and, in a VM lab, becomes
 * a lab host (pve-lab-vm.ts).
 */
export async function startGuest(
  ctx: NodeContext,
  type: GuestType,
  vmid: number,
  runner: TaskRunner = runTask,
): Promise<TaskOutcome> {
  if (type === 'lxc' && (await runningPid(ctx, type, vmid))) throw new Die(`CT ${vmid} already running\n`);
  return runner(ctx, type === 'qemu' ? 'qmstart' : 'vzstart', String(vmid), (io) =>
    lockGuestConfig({ ...ctx, io }, type, vmid, 10, async () => {
      const config = await loadConfig(ctx, type, vmid);
      const word = type === 'qemu' ? 'vm' : 'CT';
      if (config.values.get('template') === '1') throw new Die(`you can't start a ${word} if it's a template\n`);
      const lock = config.values.get('lock');
      if (lock) throw new Die(`${GUEST_WORD[type]} is locked (${lock})\n`);
      if (await runningPid(ctx, type, vmid)) throw new Die(`${GUEST_WORD[type]} ${vmid} already running\n`);
      if (type === 'qemu' && cloudinitDrive(config)) io.out('generating cloud-init ISO\n');
      await startProcess(ctx, type, vmid, guestName(type, config) ?? `${GUEST_WORD[type]}${vmid}`);
      if (type === 'qemu') await bootLabHost({ ...ctx, io }, vmid, config);
    }),
  );
}

/** In a VM lab: the boot's wait, then the VM as a new lab host (its start fails if the lab refuses). */
async function bootLabHost(ctx: NodeContext, vmid: number, config: GuestConfig): Promise<void> {
  const lab = await readVmLab(ctx.root);
  await imposeWait(lab, 'boot', (await currentFaults(lab)).bootDelayMs);
  const vm = vmSpecOf(vmid, ctx.node, config);
  if (!vm) return;
  const answer = await vmLabRequest(lab, { op: 'vm-start', vm });
  if (answer && !answer.ok) {
    await stopProcess(ctx, 'qemu', vmid);
    throw new Die(`start failed: ${answer.error}\n`);
  }
}

/** The lab host of a VM, stopped or destroyed with it (the supervisor ignores a VM it has not). */
async function labHostGoes(ctx: NodeContext, op: 'vm-stop' | 'vm-destroy', vmid: number, config: GuestConfig) {
  if (!vmSpecOf(vmid, ctx.node, config)) return;
  const answer = await vmLabRequest(await readVmLab(ctx.root), { op, vmid });
  if (answer && !answer.ok) throw new Die(`${op === 'vm-stop' ? 'stop' : 'destroy'} failed: ${answer.error}\n`);
}

/** vm_stop (qm: silent when already stopped) / lxc's stop ("CT 104 not running"), a hard stop. */
export async function stopGuest(
  ctx: NodeContext,
  type: GuestType,
  vmid: number,
  runner: TaskRunner = runTask,
): Promise<TaskOutcome> {
  const stop = async (taskCtx: NodeContext): Promise<void> => {
    if (!(await runningPid(taskCtx, type, vmid))) return;
    await lockGuestConfig(taskCtx, type, vmid, 10, async () => {
      const config = await loadConfig(taskCtx, type, vmid);
      const lock = config.values.get('lock');
      if (lock) throw new Die(`${GUEST_WORD[type]} is locked (${lock})\n`);
      await stopProcess(taskCtx, type, vmid);
      if (type === 'qemu') await labHostGoes(taskCtx, 'vm-stop', vmid, config);
    });
  };
  if (type === 'lxc') {
    if (!(await runningPid(ctx, type, vmid))) throw new Die(`CT ${vmid} not running\n`);
    return runner(ctx, 'vzstop', String(vmid), (io) => stop({ ...ctx, io }));
  }
  return runner(ctx, 'qmstop', String(vmid), async (io) => {
    if (!(await readGuestConfig(ctx.configDir, { vmid, type, node: ctx.node }))) {
      throw new Die(`unable to find configuration file for VM ${vmid} on node '${ctx.node}'\n`);
    }
    await stop({ ...ctx, io });
  });
}

/** The volumes of a guest's configuration that belong to it ("<storage>:<vmid>/..."). */
export function ownedVolumes(type: GuestType, vmid: number, config: GuestConfig): string[] {
  const keys = [...config.values.keys()].filter((key) =>
    type === 'qemu'
      ? /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$/.test(key)
      : /^(rootfs|mp\d+|unused\d+)$/.test(key),
  );
  const volids = keys.map((key) => parsePropertyString(config.values.get(key) as string, 'file').get('file') ?? '');
  const mountpoints = keys.map((key) => parsePropertyString(config.values.get(key) as string, 'volume').get('volume'));
  return [...volids, ...mountpoints]
    .filter((volid): volid is string => volid !== undefined && new RegExp(`^[^:]+:${vmid}/`).test(volid))
    .filter((volid, index, all) => all.indexOf(volid) === index);
}

/** Frees the volumes on file storages; the others (lvm, zfs...) are only in the configuration. */
async function freeVolumes(ctx: NodeContext, volids: string[]): Promise<void> {
  const storages = await readStorageConfig(ctx.configDir);
  for (const volid of volids) {
    const [id = '', volname = ''] = volid.split(/:(.*)/s);
    const storage = storages.find((candidate) => candidate.id === id);
    if (storage?.path) await freeImage({ ...storage, path: join(ctx.root, storage.path) }, volname);
  }
}

/** AccessControl remove_vm_access: the guest out of its pool and its ACLs, under user.cfg's lock. */
async function removeVmAccess(ctx: NodeContext, vmid: number): Promise<void> {
  const path = join(ctx.configDir, 'user.cfg');
  await cfsLock(ctx.configDir, 'file-user_cfg', ctx.io, 'delete VM access failed', async () => {
    const raw = await readFile(path, 'utf8').catch(() => undefined);
    if (raw === undefined) return;
    const config = parseUserConfig(raw);
    let changed = false;
    for (const pool of config.pools.values()) changed = pool.vms.delete(vmid) || changed;
    const vms = config.acl.children.get('vms');
    if (vms?.children.delete(String(vmid))) changed = true;
    if (changed) await replaceFile(path, writeUserConfig(config), 0o640);
  });
}

/** What `qm destroy` / `pct destroy` take besides the VMID. */
export interface DestroyOptions {
  /** Ignore the configuration's lock (root only on a real node): what cleans up after a killed restore. */
  skiplock?: boolean;
  /** Also take the guest out of the backup jobs (jobs.cfg) that name it. */
  purge?: boolean;
  /** Also free the disks of this VMID that the configuration does not reference, on every enabled storage. */
  unreferencedDisks?: boolean;
}

/** pve-guest-common VZDump/Plugin.pm remove_vmid_from_backup_jobs: under jobs.cfg's cluster lock. */
async function removeFromBackupJobs(ctx: NodeContext, vmid: number): Promise<void> {
  const path = join(ctx.configDir, 'jobs.cfg');
  await cfsLock(ctx.configDir, 'file-jobs_cfg', ctx.io, 'remove VMID from backup jobs failed', async () => {
    const jobs = await readJobsConfig(ctx.configDir);
    let changed = false;
    const kept = jobs.flatMap((job) => {
      for (const key of ['vmid', 'exclude']) {
        const listed = job.properties.get(key);
        if (listed === undefined) continue;
        const left = splitList(listed).filter((id) => id !== String(vmid));
        if (left.length === splitList(listed).length) continue;
        changed = true;
        // A job that backed up only this guest has nothing left to do: it goes.
        if (key === 'vmid' && left.length === 0) return [];
        if (left.length === 0) job.properties.delete(key);
        else job.properties.set(key, left.join(','));
      }
      return [job];
    });
    if (changed) await replaceFile(path, writeJobsConfig(kept), 0o640);
  });
}

/** destroy_vm's destroy-unreferenced-disks: images/<vmid>/ of every enabled file storage holding images. */
async function freeUnreferencedDisks(ctx: NodeContext, vmid: number): Promise<void> {
  for (const storage of await readStorageConfig(ctx.configDir)) {
    if (!storage.path || !storageEnabledOn(storage, ctx.node) || !storage.content.has('images')) continue;
    const local = { ...storage, path: join(ctx.root, storage.path) };
    await rm(join(storageSubdir(local, 'images'), String(vmid)), { recursive: true, force: true });
  }
}

/** A change of a guest's configuration: values set, keys deleted, under the digest it was read with. */
export interface ConfigUpdate {
  set: Map<string, string>;
  delete: string[];
  digest?: string;
  skiplock?: boolean;
}

/**
 * update_vm_api's synchronous path (PUT config, qm set) and pct's update: under the config lock,
 * the digest checked, the lock checked, keys deleted (a key not set only warned about), values set.
 * The VM is taken as stopped: every change applies at once (no [PENDING] section).
 */
export async function updateGuestConfig(
  ctx: NodeContext,
  type: GuestType,
  vmid: number,
  update: ConfigUpdate,
): Promise<void> {
  for (const key of update.delete) {
    if (update.set.has(key)) {
      throw new ParamError('Parameter verification failed.\n', {
        delete: `you can't use '-${key}' and -delete ${key}' at the same time`,
      });
    }
  }
  if (update.set.size === 0 && update.delete.length === 0) throw new Die('no options specified\n');
  await lockGuestConfig(ctx, type, vmid, 10, async () => {
    const entry = { vmid, type, node: ctx.node };
    const config = await loadConfig(ctx, type, vmid);
    if (update.digest && update.digest !== (await guestConfigDigest(ctx.configDir, entry))) {
      throw new Die('checksum mismatch (file change by other user?)\n');
    }
    const lock = config.values.get('lock');
    if (lock && !update.skiplock) throw new Die(`${GUEST_WORD[type]} is locked (${lock})\n`);
    for (const key of update.delete) {
      if (!config.values.delete(key)) ctx.io.err(`cannot delete '${key}' - not set in current configuration!\n`);
    }
    for (const [key, value] of update.set) {
      if (key === 'description') config.description = value;
      else config.values.set(key, value);
    }
    await saveGuestConfig(ctx.configDir, entry, config);
  });
}

/** destroy_vm and destroy_config: disks freed, access removed, then the configuration. */
export async function destroyGuest(
  ctx: NodeContext,
  type: GuestType,
  vmid: number,
  options: DestroyOptions = {},
  runner: TaskRunner = runTask,
): Promise<TaskOutcome> {
  const early = async (): Promise<GuestConfig> => {
    const config = await loadConfig(ctx, type, vmid);
    if (config.values.get('protection') === '1') {
      throw new Die(`can't remove ${GUEST_WORD[type]} ${vmid} - protection mode enabled\n`);
    }
    if (await runningPid(ctx, type, vmid)) {
      throw new Die(
        type === 'qemu'
          ? `VM ${vmid} is running - destroy failed\n`
          : `unable to destroy CT ${vmid} - container is running\n`,
      );
    }
    return config;
  };
  await early();
  return runner(ctx, type === 'qemu' ? 'qmdestroy' : 'vzdestroy', String(vmid), async (taskIo) => {
    const taskCtx = { ...ctx, io: taskIo };
    await lockGuestConfig(taskCtx, type, vmid, 10, async () => {
      const config = await early();
      const lock = config.values.get('lock');
      if (lock && lock !== 'destroyed' && !options.skiplock) throw new Die(`${GUEST_WORD[type]} is locked (${lock})\n`);
      await freeVolumes(taskCtx, ownedVolumes(type, vmid, config));
      if (options.unreferencedDisks) await freeUnreferencedDisks(taskCtx, vmid);
      await removeVmAccess(taskCtx, vmid);
      if (options.purge) await removeFromBackupJobs(taskCtx, vmid);
      await rm(join(ctx.configDir, 'firewall', `${vmid}.fw`), { force: true });
      if (type === 'qemu') await labHostGoes(taskCtx, 'vm-destroy', vmid, config);
      await unlink(join(ctx.configDir, 'nodes', ctx.node, type === 'qemu' ? 'qemu-server' : 'lxc', `${vmid}.conf`));
    });
  });
}

/** PVE::Tools::random_ether_addr with the default "BC:24:11" prefix of datacenter.cfg. */
export function randomMac(): string {
  const bytes = randomBytes(3);
  return ['BC', '24', '11', ...[...bytes].map((byte) => byte.toString(16).toUpperCase().padStart(2, '0'))].join(':');
}

/**
 * `qm config` / `pct config`: the configuration's keys sorted, the description encoded as
 * pve-common's config writer does, then a container's raw lxc.* lines. `vmid` is the tool's VMID
 * parameter.
 */
export function configCommand(type: GuestType, vmid: Param): Command<NodeContext> {
  return {
    words: ['config'],
    argParams: ['vmid'],
    params: {
      vmid,
      current: { type: 'boolean', optional: true },
      snapshot: { type: 'string', optional: true },
    },
    async run(params, ctx) {
      const config = await loadConfig(ctx, type, Number(params['vmid']));
      const values = new Map(config.values);
      if (config.description !== undefined) values.set('description', encodeText(config.description));
      let text = sorted(values.keys())
        .map((key) => `${key}: ${values.get(key)}\n`)
        .join('');
      for (const [key, value] of config.lxc) text += `${key}: ${value}\n`;
      ctx.io.out(text);
    },
  };
}

/**
 * `qm set` / `pct set`: the tool's `options` set (after `prepare`, e.g. qm's sshkeys file read and
 * URL-encoded), --delete, --digest. `params` names the VMID and the tool's own options.
 */
export function setCommand(
  type: GuestType,
  params: Record<string, Param>,
  options: Record<string, Param> = {},
  prepare: (set: Map<string, string>) => Promise<void> = async () => {},
): Command<NodeContext> {
  return {
    words: ['set'],
    argParams: ['vmid'],
    params: {
      ...params,
      ...options,
      delete: { type: 'string', optional: true },
      digest: { type: 'string', optional: true, maxLength: 64 },
    },
    async run(given, ctx) {
      const set = givenValues(given, options);
      await prepare(set);
      await updateGuestConfig(ctx, type, Number(given['vmid']), {
        set,
        delete: splitList(stringParam(given, 'delete')),
        digest: stringParam(given, 'digest'),
        skiplock: Boolean(given['skiplock']),
      });
    },
  };
}

/**
 * A node tool's entry points: `run` (what tests call), after which the node broadcasts its
 * guests' status again whatever the command did, and `main`, run when the module is the program.
 */
export function nodeTool(tool: Tool<NodeContext>, moduleUrl: string) {
  const run = async (argv: string[], ctx: NodeContext): Promise<number> => {
    try {
      return await runCommandLine(tool, argv, ctx.io, ctx);
    } finally {
      await refreshNodeStatus(ctx).catch(() => {});
    }
  };
  const main = async (io: Io = processIo(), configDir = PVE_CONFIG_DIR, root = '/'): Promise<number> =>
    run(process.argv.slice(2), { configDir, node: await nodeName(), io, root });
  if (isMainModule(moduleUrl)) void main().then((code) => (process.exitCode = code));
  return { run, main };
}
