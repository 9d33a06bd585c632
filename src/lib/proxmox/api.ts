// The Proxmox VE API as `vm create` uses it: `pvesh` commands on one node of the cluster (pvesh
// proxies a call for another node to that node, as the API does) and the parsers of what they print.
// Each parser reads the REAL output; the sources are named at each one (github.com/proxmox):
// - pve-common src/PVE/RESTEnvironment.pm fork_worker: from the CLI a task (clone, start, resize,
//   delete) runs in the foreground; its log lines come on stdout BEFORE the result, the UPID
//   (a JSON string with --output-format json); a task's error goes to stderr, and the task's
//   status keeps it (`exitstatus`).
// - pve-manager PVE/API2/Tasks.pm read_task_status: `{status: running|stopped, exitstatus}`,
//   exitstatus `OK`, `WARNINGS: N` or the error; PVE/API2/Cluster.pm resources and nextid
//   ("VM N already exists"); PVE/API2/Backup.pm read_job/update_job (setting `vmid` REPLACES the
//   list, and drops `all`, `exclude` and `pool`); PVE/API2/Cluster/BackupInfo.pm not-backed-up.
// - qemu-server src/PVE/API2/Qemu.pm clone_vm ("unable to create VM N: config file already
//   exists", the source's lock taken for 1 s: pve-common PVE/Tools.pm lock_file_full, "can't lock
//   file '<file>' - got timeout"), update_vm (PUT: synchronous), resize_vm (a task), vm_config;
//   src/PVE/API2/Qemu/Agent.pm (`{"result": ...}`; file-read `{"content": ..., "truncated"?: 1}`)
//   and src/PVE/QemuServer/Agent.pm assert_agent_available ("No QEMU guest agent configured",
//   "VM N is not running", "QEMU guest agent is not running").
import { command, type RemoteCommand } from '../remote/shell.js';
import { vmMessages as messages } from './messages.js';

const JSON_OUTPUT = ['--output-format', 'json'] as const;

/** `pvesh <verb> <path> [args] --output-format json`. */
export function pvesh(verb: 'get' | 'create' | 'set' | 'delete', path: string, ...args: string[]): RemoteCommand {
  return command('pvesh', verb, path, ...args, ...JSON_OUTPUT);
}

export function vmPath(node: string, vmid: number, rest = ''): string {
  return `/nodes/${node}/qemu/${vmid}${rest}`;
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(messages.notJson(what, text.trim().slice(0, 200)));
  }
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(messages.notObject(what));
  return value as Record<string, unknown>;
}

function arrayOf(value: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new Error(messages.notArray(what));
  return value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

/** A VMID or a count as the API gives it: a number or its text. */
function integerOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) ? number : undefined;
}

/** Booleans come as 0/1, "0"/"1" or true/false. */
function flag(value: unknown): boolean {
  return value === true || Number(value) === 1;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The cluster's resources

export interface ClusterVm {
  vmid: number;
  type: 'qemu' | 'lxc';
  /** Absent while a clone is under way: its config has only `lock: clone` until it ends. */
  name?: string;
  node: string;
  status: string;
  template: boolean;
  /** Bytes. */
  maxmem: number;
  lock?: string;
}

export interface ClusterNode {
  node: string;
  status: string;
  /** Bytes in use, and in all. */
  mem: number;
  maxmem: number;
}

export interface Resources {
  vms: ClusterVm[];
  nodes: ClusterNode[];
}

/** `pvesh get /cluster/resources` (every type: guests and nodes in one call). */
export const resourcesCommand = pvesh('get', '/cluster/resources');

export function parseResources(stdout: string): Resources {
  const entries = arrayOf(json(stdout, '/cluster/resources'), '/cluster/resources');
  const vms: ClusterVm[] = [];
  const nodes: ClusterNode[] = [];
  for (const entry of entries) {
    const node = text(entry.node);
    if (entry.type === 'node' && node !== undefined) {
      nodes.push({
        node,
        status: text(entry.status) ?? 'unknown',
        mem: integerOf(entry.mem) ?? 0,
        maxmem: integerOf(entry.maxmem) ?? 0,
      });
      continue;
    }
    const vmid = integerOf(entry.vmid);
    if ((entry.type !== 'qemu' && entry.type !== 'lxc') || vmid === undefined || node === undefined) continue;
    const name = text(entry.name);
    const lock = text(entry.lock);
    vms.push({
      vmid,
      type: entry.type,
      ...(name ? { name } : {}),
      node,
      status: text(entry.status) ?? 'unknown',
      template: flag(entry.template),
      maxmem: integerOf(entry.maxmem) ?? 0,
      ...(lock ? { lock } : {}),
    });
  }
  return { vms, nodes };
}

/** `pvesh get /cluster/nextid`: the first free VMID, `101` or `"101"`. */
export function parseNextId(stdout: string): number {
  const id = integerOf(json(stdout, '/cluster/nextid'));
  if (id === undefined) throw new Error(messages.notJson('/cluster/nextid', stdout.trim()));
  return id;
}

// ---------------------------------------------------------------------------------------------
// Tasks

/** The UPID a task printed last (after its log lines), or undefined when none came. */
export function parseUpid(stdout: string): string | undefined {
  return [...stdout.matchAll(/UPID:[^\s"]+/g)].at(-1)?.[0];
}

/** The node a task runs on: the second field of its UPID. */
export function upidNode(upid: string): string {
  return upid.split(':')[1] ?? '';
}

export interface TaskStatus {
  running: boolean;
  /** `OK`, `WARNINGS: N` or the error; absent while it runs. */
  exitstatus?: string;
}

export function taskStatusCommand(upid: string): RemoteCommand {
  // pvesh takes the path as it is: no URL encoding (a UPID has no slash).
  return pvesh('get', `/nodes/${upidNode(upid)}/tasks/${upid}/status`);
}

export function parseTaskStatus(stdout: string): TaskStatus {
  const status = objectOf(json(stdout, 'task status'), 'task status');
  const exitstatus = text(status.exitstatus);
  return { running: status.status === 'running', ...(exitstatus === undefined ? {} : { exitstatus }) };
}

/** A task that ended without error (`WARNINGS: N` ended too: what it did is done). */
export function taskSucceeded(status: TaskStatus): boolean {
  return !status.running && (status.exitstatus === 'OK' || /^WARNINGS: \d+$/.test(status.exitstatus ?? ''));
}

/**
 * Why a clone failed, when trying again with another VMID may work: the id taken (on the node that
 * clones: "config file already exists"; on another, pmxcfs refuses the new file: "close (rename)
 * atomic file '...' failed: File exists"), or a config lock that timed out.
 */
export function cloneRetryable(error: string): 'vmid-taken' | 'lock-timeout' | undefined {
  if (/already exists|atomic file .* failed: File exists/.test(error)) return 'vmid-taken';
  if (/can't lock file .* got timeout|got timeout/.test(error)) return 'lock-timeout';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// A VM's configuration

export interface VmConfig {
  name?: string;
  description?: string;
  cores?: number;
  /** MiB. */
  memory?: number;
  ciuser?: string;
  /** Decoded: one key a line. */
  sshkeys: string[];
  ipconfig0?: string;
  nameserver?: string;
  searchdomain?: string;
  tags: string[];
  onboot: boolean;
  agent: boolean;
  net0?: string;
  /** The boot disk: its key (scsi0) and size in bytes. */
  disk?: { key: string; size: number };
  lock?: string;
  template: boolean;
  digest?: string;
}

/** `.../status/current` (Qemu.pm vm_status): `running` or `stopped`, from the VM's own node. */
export function parseVmStatus(stdout: string): string {
  return text(objectOf(json(stdout, 'status/current'), 'status/current').status) ?? 'unknown';
}

const DISK_KEY = /^(scsi|virtio|sata|ide)\d+$/;
const SIZE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `size=8G` of a drive's property string, in bytes. */
export function driveSize(drive: string): number | undefined {
  const [, number, unit] = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])?(?:,|$)/.exec(drive) ?? [];
  return number === undefined ? undefined : Math.round(Number(number) * (unit ? SIZE_UNITS[unit]! : 1));
}

/** The boot disk: the first disk of `boot: order=...`, else the first disk that is not a CD-ROM. */
function bootDisk(config: Record<string, unknown>): { key: string; size: number } | undefined {
  const order = /(?:^|,)order=([^,]+)/.exec(text(config.boot) ?? '')?.[1]?.split(';') ?? [];
  const disks = Object.keys(config)
    .filter((key) => DISK_KEY.test(key) && !/media=cdrom/.test(text(config[key]) ?? ''))
    .sort();
  const key = order.find((device) => disks.includes(device)) ?? disks[0];
  const size = key === undefined ? undefined : driveSize(text(config[key]) ?? '');
  return key === undefined || size === undefined ? undefined : { key, size };
}

/** `memory` is a number of MiB, or since 8.1 a property string `[current=]<MiB>`. */
function memoryOf(value: unknown): number | undefined {
  const [, mib] = /^(?:current=)?(\d+)/.exec(text(value) ?? '') ?? [];
  return mib === undefined ? undefined : Number(mib);
}

/** sshkeys: URL-encoded as Perl's uri_escape writes it; decoded, one key a line. */
export function decodeSshKeys(value: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    decoded = value;
  }
  return decoded
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** As Perl's URI::Escape uri_escape: everything but A-Z a-z 0-9 - . _ ~ (the API decodes it). */
export function encodeSshKeys(keys: readonly string[]): string {
  return encodeURIComponent(`${keys.join('\n')}\n`).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/**
 * A VM's config file as pmxcfs shows it on every node (qemu-server PVE/QemuServer.pm
 * parse_vm_config): `key: value` lines; the description as leading `#` lines, URL-encoded as
 * PVE::Tools::encode_text writes it; snapshots from the first `[name]` line on, left out. What
 * `pvesh get .../config` returns is this, read by a Perl process of its own: cat costs nothing.
 */
export function parseConfFile(text: string): VmConfig {
  const config: Record<string, string> = {};
  const description: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break;
    if (line.startsWith('#')) description.push(decodeText(line.slice(1)));
    const match = /^([a-z][a-z0-9_-]*):\s*(.*)$/.exec(line);
    if (match) config[match[1]!] = match[2]!;
  }
  if (description.length > 0) config.description = `${description.join('\n')}\n`;
  return vmConfigOf(config);
}

function decodeText(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Where pmxcfs shows a VM's config (every node sees every node's). */
export function confPath(node: string, vmid: number): string {
  return `/etc/pve/nodes/${node}/qemu-server/${vmid}.conf`;
}

/** A file of /etc/pve, or nothing when it does not exist (a VM without firewall rules has no .fw). */
export function readPveFile(path: string): RemoteCommand {
  return command('sh', '-c', '[ ! -e "$1" ] || cat -- "$1"', 'sh', path);
}

function vmConfigOf(config: Record<string, unknown>): VmConfig {
  const optional = <K extends string>(key: K, value: string | number | undefined) =>
    value === undefined ? {} : ({ [key]: value } as Record<K, string | number>);
  const disk = bootDisk(config);
  return {
    ...optional('name', text(config.name)),
    ...optional('description', text(config.description)),
    ...optional('cores', integerOf(config.cores)),
    ...optional('memory', memoryOf(config.memory)),
    ...optional('ciuser', text(config.ciuser)),
    sshkeys: decodeSshKeys(text(config.sshkeys) ?? ''),
    ...optional('ipconfig0', text(config.ipconfig0)),
    ...optional('nameserver', text(config.nameserver)),
    ...optional('searchdomain', text(config.searchdomain)),
    tags: (text(config.tags) ?? '')
      .split(/[;, ]+/)
      .filter(Boolean)
      .map((tag) => tag.toLowerCase()),
    // Absent: onboot 0, agent off (qemu-server's defaults).
    onboot: flag(config.onboot),
    agent: /^(enabled=)?1(,|$)/.test(text(config.agent) ?? ''),
    ...optional('net0', text(config.net0)),
    ...(disk ? { disk } : {}),
    ...optional('lock', text(config.lock)),
    template: flag(config.template),
    ...optional('digest', text(config.digest)),
  } as VmConfig;
}

/** `ip=10.0.0.5/24,gw=10.0.0.1` of an ipconfigN. */
export function ipconfigAddress(ipconfig: string): string | undefined {
  return /(?:^|,)ip=([0-9.]+)\/\d+(?:,|$)/.exec(ipconfig)?.[1];
}

/** A NIC's property string: `virtio=BC:24:11:..,bridge=vmbr0,firewall=1`. */
export function parseNic(nic: string): { model?: string; mac?: string; bridge?: string; firewall: boolean } {
  const parts = new Map(
    nic.split(',').map((part) => {
      const at = part.indexOf('=');
      return at === -1 ? [part, ''] : [part.slice(0, at), part.slice(at + 1)];
    }),
  );
  const model = ['virtio', 'e1000', 'e1000e', 'rtl8139', 'vmxnet3'].find((m) => parts.has(m));
  const mac = model === undefined ? undefined : parts.get(model) || undefined;
  return {
    ...(model ? { model } : {}),
    ...(mac ? { mac } : {}),
    ...(parts.get('bridge') ? { bridge: parts.get('bridge')! } : {}),
    firewall: parts.get('firewall') === '1',
  };
}

// ---------------------------------------------------------------------------------------------
// /etc/pve: the addresses other VMs are configured with

/** A VM as its config file says it, read straight from /etc/pve. */
export interface QemuSummary {
  vmid: number;
  node: string;
  name?: string;
  /** Bytes (qemu-server's default, 512 MiB, when the config says none). */
  memory: number;
  template: boolean;
  /** The addresses of its ipconfigN lines, snapshots' included (a rollback brings them back). */
  addresses: string[];
}

/**
 * The lines of every VM config of the cluster that vm create needs, as `grep -H` prints them.
 * pmxcfs shows each node's configs under /etc/pve/nodes/<node>/qemu-server/<vmid>.conf, the same
 * on every node at once; /cluster/resources takes a VM's name and memory from the status the
 * nodes broadcast every 10 s (PVE/API2Tools.pm extract_vm_stats reads them from the RRD data), so
 * a VM cloned a moment ago is listed there without its name: looking a VM up by name there could
 * make a second one. A `[snapshot]` line starts a snapshot's section: what follows is not the VM's.
 */
export const qemuConfigsCommand = command(
  'sh',
  '-c',
  "grep -H -E '^(\\[|name:|memory:|template:|ipconfig[0-9]+:)' /etc/pve/nodes/*/qemu-server/*.conf; [ $? -le 1 ]",
);

const DEFAULT_MEMORY_MIB = 512;

export function parseQemuConfigs(stdout: string): QemuSummary[] {
  const vms = new Map<number, QemuSummary>();
  /** The VMs whose snapshot sections have begun in the lines read so far. */
  const inSnapshot = new Set<number>();
  for (const line of stdout.split('\n')) {
    const [, node, id, key, value = ''] =
      /^\/etc\/pve\/nodes\/([^/]+)\/qemu-server\/(\d+)\.conf:(\[|[a-z0-9]+:)\s*(.*)$/.exec(line) ?? [];
    if (node === undefined || id === undefined || key === undefined) continue;
    const vmid = Number(id);
    let vm = vms.get(vmid);
    if (!vm) {
      vm = { vmid, node, memory: DEFAULT_MEMORY_MIB * 1024 ** 2, template: false, addresses: [] };
      vms.set(vmid, vm);
    }
    if (key === '[') inSnapshot.add(vmid);
    else if (key.startsWith('ipconfig')) {
      const address = ipconfigAddress(value.trim());
      if (address !== undefined && !vm.addresses.includes(address)) vm.addresses.push(address);
    } else if (inSnapshot.has(vmid)) continue;
    else if (key === 'name:') vm.name = value.trim();
    else if (key === 'memory:') vm.memory = (memoryOf(value.trim()) ?? DEFAULT_MEMORY_MIB) * 1024 ** 2;
    else if (key === 'template:') vm.template = flag(value.trim());
  }
  return [...vms.values()];
}

// ---------------------------------------------------------------------------------------------
// Firewall, backup job, coverage

export const CLUSTER_FIREWALL = '/etc/pve/firewall/cluster.fw';
export const JOBS_CFG = '/etc/pve/jobs.cfg';

export function vmFirewallPath(vmid: number): string {
  return `/etc/pve/firewall/${vmid}.fw`;
}

/** cluster.fw's security groups (pve-firewall src/PVE/Firewall.pm parse_fw_config: `[group name]`). */
export function parseClusterGroups(text: string): string[] {
  return [...text.matchAll(/^\[group\s+([A-Za-z][A-Za-z0-9_-]*)\]/gim)].map((match) => match[1]!);
}

/**
 * A VM's firewall file (`/etc/pve/firewall/<vmid>.fw`, Firewall.pm parse_vmfw_config): `[OPTIONS]`
 * with `enable: 1`; `[RULES]` with `GROUP name -i net0`, a leading `|` for a disabled rule.
 */
export function parseVmFirewall(text: string): { enabled: boolean; rules: FirewallRule[] } {
  let section = '';
  let enabled = false;
  const rules: FirewallRule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) section = header[1]!.toUpperCase();
    else if (section === 'OPTIONS' && /^enable:\s*1$/.test(line)) enabled = true;
    else if (section === 'RULES' && line) {
      const [, off, type, action, rest = ''] = /^(\|)?\s*(\S+)\s+(\S+)(.*)$/.exec(line) ?? [];
      if (!type || !action) continue;
      const iface = /(?:^|\s)-i(?:face)?\s+(\S+)/.exec(rest)?.[1];
      rules.push({ type: type.toLowerCase(), action, ...(iface ? { iface } : {}), enable: off === undefined });
    }
  }
  return { enabled, rules };
}

/**
 * A job of jobs.cfg (pve-manager PVE/Jobs/VZDump.pm, a section config): `vzdump: <id>` then
 * tab-indented `key value` lines; undefined when the file has no such job.
 */
export function parseJobsCfg(text: string, id: string): BackupJob | undefined {
  const sections = text.split(/\n(?=\S)/);
  const section = sections.find((part) => part.split('\n')[0]!.replace(/\s+/g, ' ').trim() === `vzdump: ${id}`);
  if (!section) return undefined;
  const values: Record<string, string> = { id };
  for (const line of section.split('\n').slice(1)) {
    const match = /^\s+(\S+)\s+(.*)$/.exec(line);
    if (match) values[match[1]!] = match[2]!.trim();
  }
  return backupJobOf(values);
}

export interface FirewallRule {
  type: string;
  action: string;
  iface?: string;
  enable: boolean;
}

export interface BackupJob {
  id: string;
  /** The VMIDs it names; empty when it selects by `all` or `pool`. */
  vmids: number[];
  all: boolean;
  exclude: number[];
  pool?: string;
}

function idList(value: unknown): number[] {
  return (text(value) ?? '').split(/[,;\s]+/).flatMap((id) => (/^\d+$/.test(id) ? [Number(id)] : []));
}

function backupJobOf(job: Record<string, string>): BackupJob {
  const pool = text(job.pool);
  return {
    id: text(job.id) ?? '',
    vmids: idList(job.vmid),
    all: flag(job.all),
    exclude: idList(job.exclude),
    ...(pool ? { pool } : {}),
  };
}

/** Whether the job backs the VM up. */
export function jobIncludes(job: BackupJob, vmid: number): boolean {
  if (job.pool !== undefined) return false;
  return job.all ? !job.exclude.includes(vmid) : job.vmids.includes(vmid);
}

/** `/cluster/backup-info/not-backed-up`: the VMIDs in no backup job. */
export function parseNotBackedUp(stdout: string): number[] {
  return arrayOf(json(stdout, 'not-backed-up'), 'not-backed-up').flatMap((entry) => {
    const vmid = integerOf(entry.vmid);
    return vmid === undefined ? [] : [vmid];
  });
}

// ---------------------------------------------------------------------------------------------
// The guest agent

/** The agent's answer: `{"result": [...]}`; loopback and link-local addresses left out. */
export function parseAgentAddresses(stdout: string): string[] {
  const result = objectOf(json(stdout, 'network-get-interfaces'), 'network-get-interfaces').result;
  return arrayOf(result, 'network-get-interfaces result').flatMap((nic) =>
    arrayOf(nic['ip-addresses'] ?? [], 'ip-addresses').flatMap((entry) => {
      const address = text(entry['ip-address']);
      if (address === undefined) return [];
      const type = entry['ip-address-type'];
      const skip =
        type === 'ipv4'
          ? /^(127\.|169\.254\.)/.test(address)
          : address === '::1' || /^fe[89ab][0-9a-f]:/i.test(address);
      return skip ? [] : [address];
    }),
  );
}

/** The agent's file-read: `{"content": ...}`; `truncated` set when the file was too long. */
export function parseFileRead(stdout: string): string {
  const read = objectOf(json(stdout, 'file-read'), 'file-read');
  if (typeof read.content !== 'string') throw new Error(messages.notObject('file-read'));
  return read.content;
}

/** The agent's answers that mean "not yet": the VM still starting, or its agent not up. */
export function agentNotYet(stderr: string): boolean {
  return /QEMU guest agent is not running|VM \d+ is not running|got timeout|not running/.test(stderr);
}

// ---------------------------------------------------------------------------------------------
// The network

/**
 * One echo request from the node: an address that answers is in use. A LAN answers within a
 * millisecond; a free address costs the whole wait, which every run pays: 0.1 s.
 */
export function pingCommand(address: string): RemoteCommand {
  return command('ping', '-c', '1', '-W', '0.1', '-q', address);
}
