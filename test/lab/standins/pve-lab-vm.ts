// What the lab adds to a Proxmox VE node for the VMs that `chaton vm create` makes: the lab
// supervisor that turns a started cloud-init VM into a new lab host and answers for its guest agent,
// and the faults file that makes clones, boots and nodes behave as they do on a busy cluster. No
// Proxmox source here: this is the lab's side of the stand-ins (pve-vm.ts uses it).
//
// /etc/chaton-lab/vm-lab.json on each pve node (written by the supervisor):
// {"controlSocket": "<path>", "faultsFile": "<path>", "waitsLog"?: "<path>"}. Absent: no VM
// becomes a host, the agent never answers, no faults. The waits log defaults to vm-waits.log beside
// the faults file.
//
// The faults file is a JSON object (every key optional): cloneVmidTaken and cloneLockTimeouts are
// counters, consumed one by one under a flock(2) of the faults file itself; cloneDelayMs and
// bootDelayMs are waits that a clone or a start task takes; nodeMemory ({"pve1": bytes}) is each
// node's total memory (16 GiB when unset). Each imposed wait is appended to the waits log as
// "<ISO time> <kind> <ms>", so that a bench can subtract them.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VmRequest, VmResponse, VmSpec } from '../control.js';
import type { Io } from './pve-cli.js';
import { cloudinitDrive, type GuestConfig, parsePropertyString } from './pve-cluster.js';
import { withFileLock } from './pve-guests.js';
import { labRequest } from './lab-socket.js';

export const VM_LAB_FILE = '/etc/chaton-lab/vm-lab.json';
/** A node's memory when the faults file does not set it. */
export const DEFAULT_NODE_MEMORY = 16 * 1024 ** 3;

export interface VmLab {
  controlSocket?: string;
  faultsFile?: string;
  waitsLog?: string;
}

export interface VmFaults {
  cloneVmidTaken?: number;
  cloneLockTimeouts?: number;
  cloneDelayMs?: number;
  bootDelayMs?: number;
  nodeMemory?: Record<string, number>;
}

export type WaitKind = 'clone' | 'boot';

/** The node's vm-lab.json (under `root`, '/' on a lab host), or nothing outside a VM lab. */
export async function readVmLab(root: string): Promise<VmLab> {
  const raw = await readFile(join(root, VM_LAB_FILE), 'utf8').catch(() => undefined);
  return raw === undefined ? {} : (JSON.parse(raw) as VmLab);
}

/** The faults as they stand (nothing is consumed). */
export async function currentFaults(lab: VmLab): Promise<VmFaults> {
  if (!lab.faultsFile) return {};
  const raw = await readFile(lab.faultsFile, 'utf8').catch(() => '');
  return raw.trim() === '' ? {} : (JSON.parse(raw) as VmFaults);
}

/** Consumes one of a counter fault; true when there was one left. */
export async function takeFault(lab: VmLab, key: 'cloneVmidTaken' | 'cloneLockTimeouts', io: Io): Promise<boolean> {
  const file = lab.faultsFile;
  if (!file) return false;
  return withFileLock(file, 10, io, async () => {
    const faults = await currentFaults(lab);
    const left = faults[key] ?? 0;
    if (left <= 0) return false;
    faults[key] = left - 1;
    await writeFile(file, `${JSON.stringify(faults)}\n`);
    return true;
  });
}

/** A wait the lab imposes (a full clone's copy, a guest's boot), logged for the bench. */
export async function imposeWait(lab: VmLab, kind: WaitKind, ms: number | undefined): Promise<void> {
  if (!ms || ms <= 0) return;
  await sleep(ms);
  const log = lab.waitsLog ?? (lab.faultsFile ? join(dirname(lab.faultsFile), 'vm-waits.log') : undefined);
  if (log) await appendFile(log, `${new Date().toISOString()} ${kind} ${ms}\n`);
}

/** The node's total memory: the faults file's nodeMemory, else the lab's default. */
export async function nodeMemory(lab: VmLab, node: string): Promise<number> {
  return (await currentFaults(lab)).nodeMemory?.[node] ?? DEFAULT_NODE_MEMORY;
}

/** One request to the supervisor; undefined when the node has no supervisor to ask. */
export async function vmLabRequest(lab: VmLab, request: VmRequest): Promise<VmResponse | undefined> {
  return lab.controlSocket ? labRequest(lab.controlSocket, request) : undefined;
}

/**
 * The host a started VM becomes: only a VM with a cloud-init drive and a static ipconfig0 address
 * (what `vm create` makes); the other guests stay processes.
 */
export function vmSpecOf(vmid: number, node: string, config: GuestConfig): VmSpec | undefined {
  const values = config.values;
  const cloudinit = cloudinitDrive(config);
  const ipconfig = parsePropertyString(values.get('ipconfig0') ?? '', 'ip');
  const address = ipconfig.get('ip');
  if (!cloudinit || !address || !address.includes('/')) return undefined;
  const spec: VmSpec = {
    vmid,
    node,
    name: values.get('name') ?? `VM${vmid}`,
    address,
    nameservers: (values.get('nameserver') ?? '').split(/[\s,;]+/).filter((server) => server !== ''),
    user: values.get('ciuser') ?? 'root',
    sshKeys: decodeURIComponent(values.get('sshkeys') ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== ''),
  };
  const gateway = ipconfig.get('gw');
  if (gateway) spec.gateway = gateway;
  const searchdomain = values.get('searchdomain');
  if (searchdomain) spec.searchdomain = searchdomain;
  return spec;
}
