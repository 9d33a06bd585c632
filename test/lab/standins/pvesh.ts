// A stand-in for `pvesh`, the Proxmox VE API shell, on lab hosts with the pve role: the API paths
// chaton reads and writes, with the real parameters, results, output formats, error lines and exit
// codes. Self-contained (node: builtins only, plus ssh(1) for the proxy); run by /usr/local/bin/pvesh.
//
// Covered: `pvesh get` of /cluster/resources [--type vm|storage|node|sdn], /cluster/nextid
// [--vmid N], /cluster/backup and /cluster/backup/<id>, /cluster/backup-info/not-backed-up,
// /cluster/firewall/groups, /nodes, /nodes/<node>/status, /nodes/<node>/qemu and /lxc,
// .../<vmid>/status/current and .../<vmid>/config, .../qemu/<vmid>/firewall/options and /rules,
// .../qemu/<vmid>/agent/network-get-interfaces and agent/file-read --file F,
// /nodes/<node>/tasks/<upid>/status and /log, /nodes/<node>/storage/<storage>/content [--content T]
// [--vmid N] and .../<storage>/status (file-based storages); `pvesh create` of
// /nodes/<node>/startall, .../qemu/<vmid>/clone, /config (async), /status/start, /status/stop,
// /agent/ping, /agent (--command), /firewall/rules; `pvesh set` of .../qemu/<vmid>/config,
// /resize, /firewall/options and /cluster/backup/<id>; `pvesh delete` of .../qemu/<vmid>.
//
// A call of a method that the API runs on a node ("proxyto") for another node runs there, as the
// real pvesh does it: `ssh root@<node> pvesh --noproxy <verb> <path> --output-format json <args>`
// with the cluster's keys (pve-lab.ts joinClusterSsh). A task runs in the foreground, its output on
// stdout before the UPID that the call returns (its error on stderr, exit 0: only the task's
// status tells), so that a proxied task's stdout is no JSON and comes back as a string.
//
// Sources (github.com/proxmox):
// - pve-manager: PVE/CLI/pvesh.pm ("No 'get' handler defined for '<path>'" and exit 1,
//   check_proxyto and proxy_handler: "proxy loop detected - aborting", the remote's stdout decoded as
//   JSON or kept as a string, the standard output options), PVE/API2/Tasks.pm (read_task_status,
//   read_task_log), PVE/API2/Nodes.pm (status), PVE/API2/Backup.pm (update_job: no digest, "no
//   options specified", "no such vzdump job", vmid/all/pool exclusive), PVE/API2/Cluster.pm
//   (resources, nextid), PVE/API2/Cluster/BackupInfo.pm (not-backed-up), PVE/API2/Backup.pm (index, read_job,
//   next-run), PVE/API2/Nodes.pm (the /nodes index, startall), PVE/API2Tools.pm
//   (extract_vm_stats, extract_node_stats, extract_storage_stats), PVE/VZDump.pm
//   (get_included_guests).
// - qemu-server: src/PVE/API2/Qemu.pm (vmlist, vm_status, vm_config); pve-container:
//   src/PVE/API2/LXC.pm, LXC/Status.pm, LXC/Config.pm (the same for containers).
// - pve-storage: src/PVE/API2/Storage/Content.pm (index), src/PVE/API2/Storage/Status.pm
//   (read_status: storage_info's entry, "No such storage." when the node has it not),
//   src/PVE/Storage/Plugin.pm and PVE::Tools::df (total, used, avail of a path-based storage:
//   blocks, blocks - bfree, bavail, times the block size), src/PVE/Storage.pm
//   (storage_check_enabled: "storage 'x' is not available on node 'y'"; storage_config:
//   "storage 'x' does not exist").
// - pve-cluster: src/PVE/SSHInfo.pm (ssh_info_to_command: -e none, BatchMode, HostKeyAlias, the
//   node's ssh_known_hosts); pve-common src/PVE/Cmd.pm run_command (errmsg: stderr passed on, the
//   last line in "proxy handler failed: <line>").
// - pve-common: src/PVE/Network.pm and Tools.pm (the message for a node name that does not
//   resolve), src/PVE/JSONSchema.pm (pve-node, pve-vmid, pve-storage-id formats).
// The rest of the machinery (options, validation, output) is in pve-cli.ts, with its sources.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { cpus, loadavg, uptime as osUptime } from 'node:os';
import { spawn } from 'node:child_process';
import { readFile, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { VmAgentCommand } from '../control.js';
import {
  cfsLock,
  Die,
  Exit,
  replaceFile,
  getOptions,
  givenValues,
  isMainModule,
  type Json,
  type OutputOptions,
  type Param,
  ParamError,
  type Params,
  processIo,
  PVE_CONFIG_DIR,
  renderApiResult,
  type ResultSchema,
  sorted,
  splitList,
  stringParam,
  usageLine,
  validate,
  ERROR_EXIT,
  type Io,
  type Command,
} from './pve-cli.js';
import {
  cfsConfigPath,
  clusterNodes,
  type GuestType,
  guestName,
  includedGuests,
  nodeName,
  readGuestConfig,
  readJobsConfig,
  readPools,
  readRrd,
  readStorageConfig,
  readVmList,
  type Rrd,
  rrdKey,
  storageEnabledOn,
  type VmListEntry,
  writeJobsConfig,
} from './pve-cluster.js';
import {
  type ConfigUpdate,
  decodeUpid,
  destroyGuest,
  forkWorker,
  guestStatus,
  loadConfig,
  type NodeContext,
  processStartTicks,
  refreshNodeStatus,
  runningPid,
  startGuest,
  stopGuest,
  type TaskOutcome,
  updateGuestConfig,
  type Upid,
} from './pve-guests.js';
import {
  addVmFirewallRule,
  type Rule,
  RULE_PARAMS,
  securityGroups,
  setVmFirewallOptions,
  VM_FIREWALL_OPTIONS,
  vmFirewallOptions,
  vmFirewallRules,
} from './pve-firewall.js';
import { nodeMemory, readVmLab } from './pve-lab-vm.js';
import {
  AGENT_COMMANDS,
  agentCommand,
  agentFileRead,
  CLONE_OPTIONS,
  cloneRequest,
  cloneVm,
  GUEST_AGENT_COMMANDS,
  NODE_PARAM,
  prepareVmValues,
  RESIZE_OPTIONS,
  resizeVm,
  STORAGE_ID_PARAM,
  VM_OPTIONS,
  VMID_PARAM,
} from './pve-vm.js';
import { listVolumes, type VolumeContent } from './pve-storage.js';

// ---------------------------------------------------------------------------------------------
// Parameter formats (JSONSchema.pm).

const NODE = NODE_PARAM;
const VMID = VMID_PARAM;
const STORAGE_ID = STORAGE_ID_PARAM;
const CONTENT: Param = {
  type: 'string',
  optional: true,
  format: {
    verify: (value) => {
      if (!['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'].includes(value)) {
        throw new Error(`invalid content type '${value}'\n`);
      }
      return value;
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Result schemas (the `returns` of each method), for text output.

const VM_COLUMNS: ResultSchema = {
  type: 'array',
  items: {
    vmid: { type: 'integer' },
    status: { type: 'string' },
    name: { type: 'string', optional: true },
    cpus: { type: 'number', optional: true },
    maxmem: { type: 'integer', optional: true, renderer: 'bytes' },
    maxdisk: { type: 'integer', optional: true, renderer: 'bytes' },
    mem: { type: 'integer', optional: true, renderer: 'bytes' },
    disk: { type: 'integer', optional: true, renderer: 'bytes' },
    cpu: { type: 'number', optional: true },
    uptime: { type: 'integer', optional: true, renderer: 'duration' },
    netin: { type: 'integer', optional: true, renderer: 'bytes' },
    netout: { type: 'integer', optional: true, renderer: 'bytes' },
    diskread: { type: 'integer', optional: true, renderer: 'bytes' },
    diskwrite: { type: 'integer', optional: true, renderer: 'bytes' },
    pid: { type: 'integer', optional: true },
    lock: { type: 'string', optional: true },
    tags: { type: 'string', optional: true },
    template: { type: 'boolean', optional: true },
    qmpstatus: { type: 'string', optional: true },
    serial: { type: 'boolean', optional: true },
  },
};

const RESOURCE_COLUMNS: ResultSchema = {
  type: 'array',
  items: {
    id: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string', optional: true },
    name: { type: 'string', optional: true },
    node: { type: 'string', optional: true },
    storage: { type: 'string', optional: true },
    pool: { type: 'string', optional: true },
    cpu: { type: 'number', optional: true, renderer: 'fraction_as_percentage' },
    maxcpu: { type: 'number', optional: true },
    mem: { type: 'integer', optional: true, renderer: 'bytes' },
    maxmem: { type: 'integer', optional: true, renderer: 'bytes' },
    netin: { type: 'integer', optional: true, renderer: 'bytes' },
    netout: { type: 'integer', optional: true, renderer: 'bytes' },
    level: { type: 'string', optional: true },
    lock: { type: 'string', optional: true },
    uptime: { type: 'integer', optional: true, renderer: 'duration' },
    hastate: { type: 'string', optional: true },
    disk: { type: 'integer', optional: true, renderer: 'bytes' },
    maxdisk: { type: 'integer', optional: true, renderer: 'bytes' },
    diskread: { type: 'integer', optional: true, renderer: 'bytes' },
    diskwrite: { type: 'integer', optional: true, renderer: 'bytes' },
    content: { type: 'string', optional: true },
    shared: { type: 'boolean', optional: true },
    plugintype: { type: 'string', optional: true },
    vmid: { type: 'integer', optional: true },
    'cgroup-mode': { type: 'integer', optional: true },
    sdn: { type: 'string', optional: true },
    tags: { type: 'string', optional: true },
    template: { type: 'boolean', optional: true },
  },
};

const CONTENT_COLUMNS: ResultSchema = {
  type: 'array',
  items: {
    volid: { type: 'string' },
    format: { type: 'string' },
    vmid: { type: 'integer', optional: true },
    parent: { type: 'string', optional: true },
    size: { type: 'integer', optional: true, renderer: 'bytes' },
    used: { type: 'integer', optional: true, renderer: 'bytes' },
    ctime: { type: 'integer', optional: true },
    notes: { type: 'string', optional: true },
    encrypted: { type: 'string', optional: true },
    verification: { type: 'object', optional: true },
    protected: { type: 'boolean', optional: true },
  },
};

// ---------------------------------------------------------------------------------------------
// Handlers.

interface Context extends NodeContext {
  /** Lazily: this node's guests' status, refreshed once per run. */
  localStatus?: Map<number, { [key: string]: Json }>;
}

interface Handler {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path parts; "{name}" stands for a parameter. */
  path: string[];
  /** Parameters taken from the path. */
  uriParams?: Record<string, Param>;
  params?: Record<string, Param>;
  /** The node a call runs on (the real pvesh proxies the others over SSH). */
  proxyto?: 'node';
  returns: ResultSchema;
  props?: string[];
  run(params: Params, ctx: Context): Promise<Json>;
}

async function vmlistOrDie(ctx: Context, type: GuestType, vmid: number, node: string): Promise<VmListEntry> {
  const entry = { vmid, type, node };
  if (!(await readGuestConfig(ctx.configDir, entry))) {
    throw new Die(
      `Configuration file 'nodes/${node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist\n`,
    );
  }
  return entry;
}

/** extract_vm_stats: what the cluster knows of a guest from its node's broadcast. */
function vmStats(entry: VmListEntry, rrd: Rrd): { [key: string]: Json } {
  const stats: { [key: string]: Json } = {
    id: `${entry.type}/${entry.vmid}`,
    vmid: entry.vmid,
    node: entry.node,
    type: entry.type,
    status: 'unknown',
  };
  const key = rrdKey(rrd, 'vm', String(entry.vmid));
  const d = key === undefined ? undefined : rrd.get(key);
  if (d) {
    const number = (index: number): number => Number(d[index] ?? 0) || 0;
    Object.assign(stats, {
      uptime: number(0),
      name: d[1] ?? '',
      status: d[2] ?? 'unknown',
      template: number(3),
      maxcpu: number(5),
      cpu: number(6),
      maxmem: number(7),
      mem: number(8),
      maxdisk: number(9),
      disk: number(10),
      netin: number(11),
      netout: number(12),
      diskread: number(13),
      diskwrite: number(14),
    });
  }
  return stats;
}

/** extract_node_stats: a node as the cluster knows it from its broadcast. */
function nodeStats(name: string, rrd: Rrd): { [key: string]: Json } {
  const entry: { [key: string]: Json } = { id: `node/${name}`, node: name, type: 'node', status: 'unknown' };
  const key = rrdKey(rrd, 'node', name);
  const d = key === undefined ? undefined : rrd.get(key);
  if (d) {
    const number = (index: number): number => Number(d[index] ?? 0) || 0;
    Object.assign(entry, { uptime: number(0), cpu: number(5), mem: number(8), disk: number(12) });
    Object.assign(entry, { status: 'online', level: d[1] ?? '' });
    Object.assign(entry, { maxcpu: number(4), maxmem: number(7), maxdisk: number(11) });
  }
  return entry;
}

async function localStatus(ctx: Context): Promise<Map<number, { [key: string]: Json }>> {
  ctx.localStatus ??= await refreshNodeStatus(ctx);
  return ctx.localStatus;
}

function guestListHandler(type: GuestType): Handler {
  return {
    method: 'GET',
    path: ['nodes', '{node}', type],
    uriParams: { node: NODE },
    params: type === 'qemu' ? { full: { type: 'boolean', optional: true } } : {},
    proxyto: 'node',
    returns: VM_COLUMNS,
    async run(params, ctx) {
      const node = String(params['node']);
      const list = [...(await readVmList(ctx.configDir)).values()].filter(
        (entry) => entry.node === node && entry.type === type,
      );
      const statuses = await localStatus(ctx);
      const result: Json[] = [];
      for (const entry of list) {
        const status = statuses.get(entry.vmid);
        if (!status) continue;
        if (params['full'] && type === 'qemu') {
          const config = await loadConfig(ctx, type, entry.vmid);
          result.push(await guestStatus(ctx, entry, config, true));
        } else result.push(status);
      }
      return result;
    },
  };
}

function guestStatusHandler(type: GuestType): Handler {
  return {
    method: 'GET',
    path: ['nodes', '{node}', type, '{vmid}', 'status', 'current'],
    uriParams: { node: NODE, vmid: VMID },
    proxyto: 'node',
    returns: { type: 'object', properties: VM_COLUMNS.type === 'array' ? VM_COLUMNS.items : {} },
    async run(params, ctx) {
      const node = String(params['node']);
      const entry = await vmlistOrDie(ctx, type, Number(params['vmid']), node);
      await localStatus(ctx);
      const config = await loadConfig(ctx, type, entry.vmid);
      return guestStatus(ctx, entry, config, true);
    },
  };
}

function guestConfigHandler(type: GuestType): Handler {
  return {
    method: 'GET',
    path: ['nodes', '{node}', type, '{vmid}', 'config'],
    uriParams: { node: NODE, vmid: VMID },
    params: { current: { type: 'boolean', optional: true }, snapshot: { type: 'string', optional: true } },
    proxyto: 'node',
    returns: { type: 'object', properties: {} },
    async run(params, ctx) {
      const node = String(params['node']);
      const entry = await vmlistOrDie(ctx, type, Number(params['vmid']), node);
      const config = await readGuestConfig(ctx.configDir, entry);
      const result: { [key: string]: Json } = {};
      for (const [key, value] of config?.values ?? []) {
        result[key] = /^\d+$/.test(value) && !/^0\d/.test(value) ? Number(value) : value;
      }
      if (config?.description !== undefined) result['description'] = config.description;
      if (config && config.lxc.length > 0) result['lxc'] = config.lxc.map(([key, value]) => [key, value]);
      const raw = await readFile(join(ctx.configDir, cfsConfigPath(node, type, entry.vmid)));
      result['digest'] = createHash('sha1').update(raw).digest('hex');
      return result;
    },
  };
}

/** Calendar events as jobs.cfg schedules use them: [weekdays] [hours]:[minutes], daily, hourly... */
export function nextRun(schedule: string, after: number): number | undefined {
  const aliases: Record<string, string> = {
    minutely: '*:*',
    hourly: '*:00',
    daily: '00:00',
    weekly: 'mon 00:00',
    monthly: '*-*-01 00:00',
  };
  const spec = (aliases[schedule.trim()] ?? schedule.trim()).split(/\s+/);
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  let weekdays: Set<number> | undefined;
  if (spec[0] && /^[a-z]/i.test(spec[0])) {
    weekdays = new Set();
    for (const range of (spec.shift() as string).toLowerCase().split(',')) {
      const [from = '', to] = range.split('..');
      const start = days.indexOf(from.slice(0, 3));
      const end = to === undefined ? start : days.indexOf(to.slice(0, 3));
      for (let day = start; day >= 0; day = day === end ? -1 : (day + 1) % 7) weekdays.add(day);
    }
  }
  if (spec[0] && /-/.test(spec[0])) spec.shift(); // a date part: not modelled beyond "any day"
  const [hours = '*', minutes = '00'] = (spec[0] ?? '*:00').includes(':')
    ? (spec[0] as string).split(':')
    : ['*', spec[0] ?? '0'];
  const matches = (field: string, value: number): boolean =>
    field.split(',').some((part) => {
      const [base = '*', step] = part.split('/');
      const [from, to] = base === '*' ? [0, 59] : base.split('..').map(Number);
      const start = from ?? 0;
      const end = step !== undefined && base !== '*' && to === undefined ? 59 : (to ?? start);
      if (value < start || value > end) return false;
      return step === undefined ? true : (value - start) % Number(step) === 0;
    });
  const time = new Date((Math.floor(after / 60) + 1) * 60 * 1000);
  for (let minute = 0; minute < 8 * 24 * 60; minute++) {
    if (
      (!weekdays || weekdays.has(time.getDay())) &&
      matches(hours, time.getHours()) &&
      matches(minutes, time.getMinutes())
    ) {
      return Math.floor(time.getTime() / 1000);
    }
    time.setTime(time.getTime() + 60_000);
  }
  return undefined;
}

/** JobBase's typed properties of a vzdump job (the rest stays a string). */
const JOB_NUMBERS = new Set(['enabled', 'all', 'bwlimit', 'ionice', 'lockwait', 'pigz', 'zstd', 'stopwait', 'remove']);
JOB_NUMBERS.add('repeat-missed').add('stdexcludes').add('stop').add('quiet');

function jobObject(id: string, properties: Map<string, string>, withNextRun: boolean): { [key: string]: Json } {
  const job: { [key: string]: Json } = { type: 'vzdump' };
  for (const [key, value] of properties) job[key] = JOB_NUMBERS.has(key) && /^\d+$/.test(value) ? Number(value) : value;
  const schedule = properties.get('schedule');
  if (withNextRun && schedule) {
    const next = nextRun(schedule, Math.floor(Date.now() / 1000));
    if (next !== undefined) job['next-run'] = next;
  }
  job['id'] = id;
  return job;
}

/** update_job's parameters: vzdump's job options that the lab's jobs use, and delete. */
const BACKUP_JOB_PARAMS: Record<string, Param> = {
  vmid: { type: 'string', optional: true, format: { list: true, verify: (value) => VMID.format!.verify(value) } },
  all: { type: 'boolean', optional: true },
  exclude: { type: 'string', optional: true, format: { list: true, verify: (value) => VMID.format!.verify(value) } },
  pool: { type: 'string', optional: true },
  node: { ...NODE, optional: true },
  storage: { ...STORAGE_ID, optional: true },
  schedule: { type: 'string', optional: true, maxLength: 128 },
  enabled: { type: 'boolean', optional: true },
  comment: { type: 'string', optional: true, maxLength: 512 },
  mode: { type: 'string', optional: true, enum: ['snapshot', 'suspend', 'stop'] },
  compress: { type: 'string', optional: true, enum: ['0', '1', 'gzip', 'lzo', 'zstd'] },
  'notes-template': { type: 'string', optional: true, maxLength: 1024 },
  'prune-backups': { type: 'string', optional: true },
  mailto: { type: 'string', optional: true },
  mailnotification: { type: 'string', optional: true, enum: ['always', 'failure'] },
  'repeat-missed': { type: 'boolean', optional: true },
  delete: { type: 'string', optional: true },
};

/** Backup.pm update_job: under vzdump.cron's then jobs.cfg's cluster locks; errors as they are. */
async function updateBackupJob(ctx: Context, id: string, given: Params): Promise<void> {
  const deleted = splitList(stringParam(given, 'delete'));
  const set = Object.keys(BACKUP_JOB_PARAMS).filter((key) => key !== 'delete' && given[key] !== undefined);
  await cfsLock(ctx.configDir, 'file-vzdump_cron', ctx.io, undefined, () =>
    cfsLock(ctx.configDir, 'file-jobs_cfg', ctx.io, undefined, async () => {
      const jobs = await readJobsConfig(ctx.configDir);
      if (set.length === 0 && deleted.length === 0) throw new Die('no options specified\n');
      const job = jobs.find((candidate) => candidate.id === id);
      if (!job) throw new Die('no such vzdump job\n');
      const { properties } = job;
      for (const key of deleted) {
        if (!(key in BACKUP_JOB_PARAMS) || key === 'delete') {
          throw new ParamError('Parameter verification failed.\n', { delete: `unknown option '${key}'` });
        }
        properties.delete(key);
      }
      for (const key of set) properties.set(key, String(given[key]));
      if (properties.has('exclude') && !properties.has('pool')) properties.set('all', '1');
      const drop = (...keys: string[]): void => keys.forEach((key) => properties.delete(key));
      if (given['vmid'] !== undefined) drop('all', 'exclude', 'pool');
      else if (given['all']) drop('vmid', 'pool');
      else if (properties.has('pool')) drop('vmid', 'all', 'exclude');
      await replaceFile(join(ctx.configDir, 'jobs.cfg'), writeJobsConfig(jobs), 0o640);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// What `vm create` asks: clone, configuration, resize, start, stop, destroy, the guest agent, the
// firewall, tasks, the node's status, the backup job's guests (pve-vm.ts, pve-firewall.ts).

const VM_URI = { node: NODE, vmid: VMID };
const TASK: ResultSchema = { type: 'string' };

/** A handler of one VM whose result is a task's UPID (the task has run: see forkWorker). */
function vmTask(
  method: Handler['method'],
  path: string[],
  params: Record<string, Param>,
  run: (params: Params, ctx: Context, vmid: number) => Promise<TaskOutcome>,
): Handler {
  return {
    method,
    path: ['nodes', '{node}', 'qemu', '{vmid}', ...path],
    uriParams: VM_URI,
    params,
    proxyto: 'node',
    returns: TASK,
    async run(given, ctx) {
      return (await run(given, ctx, Number(given['vmid']))).upid;
    },
  };
}

/** The values of a configuration update among the parameters, prepared as update_vm_api does. */
async function configValues(given: Params): Promise<Map<string, string>> {
  const set = givenValues(given, VM_OPTIONS);
  await prepareVmValues(set);
  return set;
}

function configUpdate(set: Map<string, string>, given: Params): ConfigUpdate {
  return {
    set,
    delete: splitList(stringParam(given, 'delete')),
    digest: stringParam(given, 'digest'),
    skiplock: Boolean(given['skiplock']),
  };
}

const CONFIG_PARAMS: Record<string, Param> = {
  ...VM_OPTIONS,
  delete: { type: 'string', optional: true },
  digest: { type: 'string', optional: true, maxLength: 40 },
  skiplock: { type: 'boolean', optional: true },
  revert: { type: 'string', optional: true },
};

/** An agent command's endpoint: `{result}` of the agent. */
function agentHandler(command: string, method: Handler['method']): Handler {
  return {
    method,
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'agent', command],
    uriParams: VM_URI,
    proxyto: 'node',
    returns: { type: 'object', properties: {} },
    async run(given, ctx) {
      const execute = `guest-${command}` as VmAgentCommand;
      return { result: await agentCommand(ctx, Number(given['vmid']), execute) };
    },
  };
}

const TASK_STATUS_COLUMNS: ResultSchema = {
  type: 'object',
  properties: {
    pid: { type: 'integer' },
    status: { type: 'string' },
    type: { type: 'string' },
    id: { type: 'string' },
    user: { type: 'string' },
    exitstatus: { type: 'string', optional: true },
    upid: { type: 'string' },
    starttime: { type: 'integer' },
    pstart: { type: 'integer' },
    node: { type: 'string' },
  },
};

/** A task of this node and its log file, or read_task_status's 400. */
async function taskOf(ctx: Context, upid: string): Promise<{ task: Upid; log: string }> {
  const decoded = decodeUpid(upid);
  if (!decoded) throw new ParamError('Parameter verification failed.\n', { upid: 'unable to parse worker upid' });
  const log = await readFile(join(ctx.root, decoded.logFile), 'utf8').catch(() => undefined);
  if (log === undefined) throw new ParamError('Parameter verification failed.\n', { upid: 'no such task' });
  return { task: decoded.task, log };
}

/** PVE::UPID::read_status: the log's last line. */
function exitStatus(log: string): string {
  const line = log.replace(/\n$/, '').split('\n').at(-1) ?? '';
  if (line === 'TASK OK') return 'OK';
  const error = /^TASK ERROR: (.+)$/.exec(line);
  if (error) return error[1] as string;
  const warnings = /^TASK (WARNINGS: \d+)$/.exec(line);
  return warnings ? (warnings[1] as string) : 'unexpected status';
}

const VM_HANDLERS: Handler[] = [
  {
    method: 'GET',
    path: ['nodes', '{node}', 'status'],
    uriParams: { node: NODE },
    proxyto: 'node',
    returns: { type: 'object', properties: {} },
    async run(_params, ctx) {
      const statuses = await localStatus(ctx);
      const total = await nodeMemory(await readVmLab(ctx.root), ctx.node);
      const used = [...statuses.values()]
        .filter((status) => status['status'] === 'running')
        .reduce((sum, status) => sum + Number(status['maxmem'] ?? 0), 0);
      const rootfs = await statfs(join(ctx.root, '/'));
      const [one = 0, five = 0, fifteen = 0] = loadavg();
      return {
        memory: { total, used, free: total - used, available: total - used },
        swap: { total: 0, used: 0, free: 0 },
        cpu: 0.01,
        wait: 0,
        uptime: Math.floor(osUptime()),
        loadavg: [one.toFixed(2), five.toFixed(2), fifteen.toFixed(2)],
        cpuinfo: { cpus: cpus().length, cores: cpus().length, sockets: 1, model: cpus()[0]?.model ?? 'unknown' },
        rootfs: {
          total: rootfs.blocks * rootfs.bsize,
          used: (rootfs.blocks - rootfs.bfree) * rootfs.bsize,
          free: rootfs.bfree * rootfs.bsize,
          avail: rootfs.bavail * rootfs.bsize,
        },
        pveversion: 'pve-manager/8.2.4/faa83925c9641325',
        kversion: 'Linux 6.8.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.8-2 (2024-06-24T09:00Z)',
      };
    },
  },
  {
    method: 'GET',
    path: ['nodes', '{node}', 'tasks', '{upid}', 'status'],
    uriParams: { node: NODE, upid: { type: 'string' } },
    proxyto: 'node',
    returns: TASK_STATUS_COLUMNS,
    async run(given, ctx) {
      const upid = String(given['upid']);
      const { task, log } = await taskOf(ctx, upid);
      // The stand-in's worker is the tool's own process, which lives on a moment after its task: a
      // task whose log has its last line has ended, as a real worker exits right after writing it.
      const ended = /^TASK (OK|ERROR: .*|WARNINGS: \d+)$/m.test(log);
      const running = !ended && (await processStartTicks(task.pid)) === task.pstart;
      const status: { [key: string]: Json } = { ...task, upid, status: running ? 'running' : 'stopped' };
      if (!running) status['exitstatus'] = exitStatus(log);
      return status;
    },
  },
  {
    method: 'GET',
    path: ['nodes', '{node}', 'tasks', '{upid}', 'log'],
    uriParams: { node: NODE, upid: { type: 'string' } },
    params: {
      start: { type: 'integer', optional: true, minimum: 0 },
      limit: { type: 'integer', optional: true, minimum: 0 },
      download: { type: 'boolean', optional: true },
    },
    proxyto: 'node',
    returns: { type: 'array', items: { n: { type: 'integer' }, t: { type: 'string' } } },
    async run(given, ctx) {
      const { log } = await taskOf(ctx, String(given['upid']));
      const start = Number(given['start'] ?? 0);
      const limit = Number(given['limit'] ?? 50);
      const lines = log.replace(/\n$/, '').split('\n');
      return lines.slice(start, start + limit).map((t, index) => ({ n: start + index + 1, t }));
    },
  },
  vmTask('POST', ['clone'], { newid: VMID, ...CLONE_OPTIONS }, (given, ctx) =>
    cloneVm(ctx, cloneRequest(given), forkWorker),
  ),
  {
    method: 'PUT',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'config'],
    uriParams: VM_URI,
    params: CONFIG_PARAMS,
    proxyto: 'node',
    returns: { type: 'null' },
    async run(given, ctx) {
      await updateGuestConfig(ctx, 'qemu', Number(given['vmid']), configUpdate(await configValues(given), given));
      return null;
    },
  },
  vmTask('POST', ['config'], CONFIG_PARAMS, async (given, ctx, vmid) => {
    const update = configUpdate(await configValues(given), given);
    return forkWorker(ctx, 'qmconfig', String(vmid), (io) => updateGuestConfig({ ...ctx, io }, 'qemu', vmid, update));
  }),
  vmTask('PUT', ['resize'], RESIZE_OPTIONS, (given, ctx, vmid) => {
    const options = { digest: stringParam(given, 'digest'), skiplock: Boolean(given['skiplock']) };
    return resizeVm(ctx, vmid, String(given['disk']), String(given['size']), options, forkWorker);
  }),
  vmTask(
    'POST',
    ['status', 'start'],
    { skiplock: { type: 'boolean', optional: true }, timeout: { type: 'integer', optional: true, minimum: 0 } },
    (_given, ctx, vmid) => startGuest(ctx, 'qemu', vmid, forkWorker),
  ),
  vmTask(
    'POST',
    ['status', 'stop'],
    {
      skiplock: { type: 'boolean', optional: true },
      timeout: { type: 'integer', optional: true, minimum: 0 },
      keepActive: { type: 'boolean', optional: true },
      'overrule-shutdown': { type: 'boolean', optional: true },
    },
    (_given, ctx, vmid) => stopGuest(ctx, 'qemu', vmid, forkWorker),
  ),
  vmTask(
    'DELETE',
    [],
    {
      skiplock: { type: 'boolean', optional: true },
      purge: { type: 'boolean', optional: true },
      'destroy-unreferenced-disks': { type: 'boolean', optional: true },
    },
    (given, ctx, vmid) =>
      destroyGuest(
        ctx,
        'qemu',
        vmid,
        {
          skiplock: Boolean(given['skiplock']),
          purge: Boolean(given['purge']),
          unreferencedDisks: Boolean(given['destroy-unreferenced-disks']),
        },
        forkWorker,
      ),
  ),
  ...Object.entries(AGENT_COMMANDS).map(([command, method]) => agentHandler(command, method)),
  {
    method: 'POST',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'agent'],
    uriParams: VM_URI,
    params: { command: { type: 'string', enum: GUEST_AGENT_COMMANDS } },
    proxyto: 'node',
    returns: { type: 'object', properties: {} },
    async run(given, ctx) {
      const command = String(given['command']);
      if (!(command in AGENT_COMMANDS))
        throw new Die(`pvesh (chaton lab stand-in): agent ${command} is not implemented\n`);
      const execute = `guest-${command}` as VmAgentCommand;
      return { result: await agentCommand(ctx, Number(given['vmid']), execute) };
    },
  },
  {
    method: 'GET',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'agent', 'file-read'],
    uriParams: VM_URI,
    params: {
      file: { type: 'string' },
      count: { type: 'integer', optional: true, minimum: 1, maximum: 16 * 1024 * 1024 },
      decode: { type: 'boolean', optional: true },
      offset: { type: 'integer', optional: true, minimum: 0 },
    },
    proxyto: 'node',
    returns: {
      type: 'object',
      properties: { content: { type: 'string' }, truncated: { type: 'boolean', optional: true } },
    },
    async run(given, ctx) {
      return agentFileRead(ctx, Number(given['vmid']), String(given['file']));
    },
  },
  {
    method: 'GET',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'firewall', 'options'],
    uriParams: VM_URI,
    proxyto: 'node',
    returns: { type: 'object', properties: {} },
    async run(given, ctx) {
      return vmFirewallOptions(ctx.configDir, Number(given['vmid']));
    },
  },
  {
    method: 'PUT',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'firewall', 'options'],
    uriParams: VM_URI,
    params: {
      ...VM_FIREWALL_OPTIONS,
      delete: { type: 'string', optional: true },
      digest: { type: 'string', optional: true, maxLength: 64 },
    },
    proxyto: 'node',
    returns: { type: 'null' },
    async run(given, ctx) {
      const set = givenValues(given, VM_FIREWALL_OPTIONS);
      const vmid = Number(given['vmid']);
      await setVmFirewallOptions(
        ctx.configDir,
        vmid,
        ctx.io,
        set,
        stringParam(given, 'delete'),
        stringParam(given, 'digest'),
      );
      return null;
    },
  },
  {
    method: 'GET',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'firewall', 'rules'],
    uriParams: VM_URI,
    returns: { type: 'array', items: { pos: { type: 'integer' } } },
    async run(given, ctx) {
      return vmFirewallRules(ctx.configDir, Number(given['vmid']));
    },
  },
  {
    method: 'POST',
    path: ['nodes', '{node}', 'qemu', '{vmid}', 'firewall', 'rules'],
    uriParams: VM_URI,
    params: RULE_PARAMS,
    returns: { type: 'null' },
    async run(given, ctx) {
      const rule: Rule = {};
      for (const key of Object.keys(RULE_PARAMS))
        if (given[key] !== undefined) rule[key] = given[key] as string | number;
      await addVmFirewallRule(ctx.configDir, Number(given['vmid']), ctx.io, rule);
      return null;
    },
  },
  {
    method: 'GET',
    path: ['cluster', 'firewall', 'groups'],
    returns: {
      type: 'array',
      items: { group: { type: 'string' }, digest: { type: 'string' }, comment: { type: 'string', optional: true } },
    },
    async run(_params, ctx) {
      return securityGroups(ctx.configDir);
    },
  },
  {
    method: 'PUT',
    path: ['cluster', 'backup', '{id}'],
    uriParams: { id: { type: 'string', maxLength: 50 } },
    params: BACKUP_JOB_PARAMS,
    returns: { type: 'null' },
    async run(given, ctx) {
      await updateBackupJob(ctx, String(given['id']), given);
      return null;
    },
  },
];

const HANDLERS: Handler[] = [
  {
    method: 'GET',
    path: ['cluster', 'resources'],
    params: { type: { type: 'string', optional: true, enum: ['vm', 'storage', 'node', 'sdn'] } },
    returns: RESOURCE_COLUMNS,
    async run(params, ctx) {
      await localStatus(ctx);
      const type = stringParam(params, 'type');
      const [nodes, rrd, vmlist, pools] = await Promise.all([
        clusterNodes(ctx.configDir, ctx.node),
        readRrd(ctx.configDir),
        readVmList(ctx.configDir),
        readPools(ctx.configDir),
      ]);
      const result: { [key: string]: Json }[] = [];
      const poolEntries = new Map<string, { [key: string]: Json }>();
      if (!type || type === 'pool') {
        for (const pool of sorted(pools.keys())) {
          const entry = { id: `/pool/${pool}`, pool, type: 'pool' };
          poolEntries.set(pool, entry);
          result.push(entry);
        }
      }
      const poolOf = new Map<number, string>();
      for (const [pool, vms] of pools) for (const vmid of vms) poolOf.set(vmid, pool);
      if (!type || type === 'vm') {
        for (const entry of vmlist.values()) {
          const stats = vmStats(entry, rrd);
          const pool = poolOf.get(entry.vmid);
          if (pool !== undefined) {
            stats['pool'] = pool;
            const total = poolEntries.get(pool);
            if (total && stats['uptime']) {
              total['uptime'] = Math.max(Number(total['uptime'] ?? 0), Number(stats['uptime']));
              for (const key of ['mem', 'maxmem']) total[key] = Number(total[key] ?? 0) + Number(stats[key] ?? 0);
              const [cpu, maxcpu] = [Number(total['cpu'] ?? 0), Number(total['maxcpu'] ?? 0)];
              const [vmCpu, vmMaxcpu] = [Number(stats['cpu'] ?? 0), Number(stats['maxcpu'] ?? 0)];
              total['cpu'] = maxcpu + vmMaxcpu > 0 ? (cpu * maxcpu + vmCpu * vmMaxcpu) / (maxcpu + vmMaxcpu) : 0;
              total['maxcpu'] = maxcpu + vmMaxcpu;
            }
          }
          const config = await readGuestConfig(ctx.configDir, entry);
          for (const key of ['lock', 'tags']) {
            const value = config?.values.get(key);
            if (value !== undefined) stats[key] = value;
          }
          result.push(stats);
        }
      }
      if (!type || type === 'node') {
        for (const { name } of nodes) result.push({ ...nodeStats(name, rrd), 'cgroup-mode': 2 });
      }
      if (!type || type === 'storage') {
        for (const storage of await readStorageConfig(ctx.configDir)) {
          for (const { name } of nodes) {
            if (!storageEnabledOn(storage, name)) continue;
            const entry: { [key: string]: Json } = {
              id: `storage/${name}/${storage.id}`,
              storage: storage.id,
              node: name,
              type: 'storage',
              plugintype: storage.type,
              status: 'unknown',
              shared: storage.shared ? 1 : 0,
              content: sorted(storage.content).join(','),
            };
            const key = rrdKey(rrd, 'storage', `${name}/${storage.id}`);
            const d = key === undefined ? undefined : rrd.get(key);
            if (d) Object.assign(entry, { maxdisk: Number(d[1] ?? 0), disk: Number(d[2] ?? 0), status: 'available' });
            result.push(entry);
          }
        }
      }
      if (!type || type === 'sdn') {
        for (const { name } of nodes) {
          if (!rrdKey(rrd, 'node', name)) continue;
          result.push({ id: `sdn/${name}/localnetwork`, sdn: 'localnetwork', node: name, type: 'sdn', status: 'ok' });
        }
      }
      return result;
    },
  },
  {
    method: 'GET',
    path: ['cluster', 'nextid'],
    params: { vmid: { ...VMID, optional: true } },
    returns: { type: 'integer' },
    async run(params, ctx) {
      const vmlist = await readVmList(ctx.configDir);
      const wanted = stringParam(params, 'vmid');
      if (wanted !== undefined) {
        if (!vmlist.has(Number(wanted))) return wanted;
        throw new ParamError('Parameter verification failed.\n', { vmid: `VM ${wanted} already exists` });
      }
      for (let vmid = 100; vmid < 1_000_000; vmid++) if (!vmlist.has(vmid)) return vmid;
      throw new Die('unable to get any free VMID in range [100, 1000000]\n');
    },
  },
  {
    method: 'GET',
    path: ['cluster', 'backup'],
    returns: { type: 'array', items: { id: { type: 'string' } } },
    async run(_params, ctx) {
      return (await readJobsConfig(ctx.configDir)).map((job) => jobObject(job.id, job.properties, true));
    },
  },
  {
    method: 'GET',
    path: ['cluster', 'backup', '{id}'],
    uriParams: { id: { type: 'string', maxLength: 50 } },
    returns: { type: 'object', properties: {} },
    async run(params, ctx) {
      const id = String(params['id']);
      const job = (await readJobsConfig(ctx.configDir)).find((candidate) => candidate.id === id);
      if (!job) throw new ParamError('Parameter verification failed.\n', { id: `No such job '${id}'` });
      return jobObject(job.id, job.properties, false);
    },
  },
  {
    method: 'GET',
    path: ['cluster', 'backup-info', 'not-backed-up'],
    returns: {
      type: 'array',
      items: { vmid: { type: 'integer' }, name: { type: 'string', optional: true }, type: { type: 'string' } },
    },
    async run(_params, ctx) {
      const [vmlist, jobs, pools] = await Promise.all([
        readVmList(ctx.configDir),
        readJobsConfig(ctx.configDir),
        readPools(ctx.configDir),
      ]);
      const included = new Set(jobs.flatMap((job) => includedGuests(job, vmlist, pools)));
      const result: Json[] = [];
      for (const entry of vmlist.values()) {
        if (included.has(entry.vmid)) continue;
        const config = await readGuestConfig(ctx.configDir, entry);
        const item: { [key: string]: Json } = { vmid: entry.vmid, type: entry.type };
        const name = config && guestName(entry.type, config);
        if (name !== undefined) item['name'] = name;
        result.push(item);
      }
      return result;
    },
  },
  {
    method: 'GET',
    path: ['nodes'],
    returns: {
      type: 'array',
      items: {
        node: { type: 'string' },
        status: { type: 'string' },
        cpu: { type: 'number', optional: true, renderer: 'fraction_as_percentage' },
        maxcpu: { type: 'integer', optional: true },
        mem: { type: 'integer', optional: true, renderer: 'bytes' },
        maxmem: { type: 'integer', optional: true, renderer: 'bytes' },
        level: { type: 'string', optional: true },
        uptime: { type: 'integer', optional: true, renderer: 'duration' },
        ssl_fingerprint: { type: 'string', optional: true },
      },
    },
    async run(_params, ctx) {
      await localStatus(ctx);
      const rrd = await readRrd(ctx.configDir);
      return (await clusterNodes(ctx.configDir, ctx.node)).map(({ name }) => nodeStats(name, rrd));
    },
  },
  guestListHandler('qemu'),
  guestListHandler('lxc'),
  guestStatusHandler('qemu'),
  guestStatusHandler('lxc'),
  guestConfigHandler('qemu'),
  guestConfigHandler('lxc'),
  {
    method: 'GET',
    path: ['nodes', '{node}', 'storage', '{storage}', 'content'],
    uriParams: { node: NODE, storage: STORAGE_ID },
    params: { content: CONTENT, vmid: { ...VMID, optional: true } },
    proxyto: 'node',
    returns: CONTENT_COLUMNS,
    async run(params, ctx) {
      const node = String(params['node']);
      const id = String(params['storage']);
      const storage = (await readStorageConfig(ctx.configDir)).find((candidate) => candidate.id === id);
      if (!storage) throw new Die(`storage '${id}' does not exist\n`);
      if (storage.disabled) throw new Die(`storage '${id}' is disabled\n`);
      if (storage.nodes && !storage.nodes.has(node)) {
        throw new Die(`storage '${id}' is not available on node '${node}'\n`);
      }
      const contents = params['content']
        ? [String(params['content']) as VolumeContent]
        : (['rootdir', 'images', 'vztmpl', 'iso', 'backup', 'snippets'] as VolumeContent[]);
      const vmlist = await readVmList(ctx.configDir);
      const types = new Map([...vmlist.values()].map((entry) => [entry.vmid, entry.type as string]));
      const vmid = params['vmid'] === undefined ? undefined : Number(params['vmid']);
      const root = ctx.root === '/' ? storage : { ...storage, path: `${ctx.root}${storage.path ?? ''}` };
      const volumes = await listVolumes(root, contents, types, vmid);
      return volumes.map((volume) => {
        const item: { [key: string]: Json } = {};
        for (const [key, value] of Object.entries(volume)) if (value !== undefined) item[key] = value as Json;
        return item;
      });
    },
  },
  {
    method: 'GET',
    path: ['nodes', '{node}', 'storage', '{storage}', 'status'],
    uriParams: { node: NODE, storage: STORAGE_ID },
    proxyto: 'node',
    returns: {
      type: 'object',
      properties: {
        type: { type: 'string' },
        content: { type: 'string' },
        active: { type: 'boolean' },
        enabled: { type: 'boolean' },
        shared: { type: 'boolean' },
        total: { type: 'integer', renderer: 'bytes' },
        used: { type: 'integer', renderer: 'bytes' },
        avail: { type: 'integer', renderer: 'bytes' },
      },
    },
    async run(params, ctx) {
      const node = String(params['node']);
      const id = String(params['storage']);
      const storage = (await readStorageConfig(ctx.configDir)).find((candidate) => candidate.id === id);
      // storage_info lists only the storages enabled on the node: read_status then finds none.
      if (!storage || !storageEnabledOn(storage, node)) {
        throw new ParamError('Parameter verification failed.\n', { storage: 'No such storage.' });
      }
      if (!storage.path) {
        throw new Die(`pvesh (chaton lab stand-in): storage type '${storage.type}' is not implemented\n`);
      }
      const info = await statfs(join(ctx.root, storage.path)).catch(() => undefined);
      const status: { [key: string]: Json } = {
        type: storage.type,
        content: sorted(storage.content).join(','),
        active: info ? 1 : 0,
        enabled: 1,
        shared: storage.shared ? 1 : 0,
      };
      if (info) {
        Object.assign(status, {
          total: info.blocks * info.bsize,
          used: (info.blocks - info.bfree) * info.bsize,
          avail: info.bavail * info.bsize,
        });
      }
      return status;
    },
  },
  {
    method: 'POST',
    path: ['nodes', '{node}', 'startall'],
    uriParams: { node: NODE },
    params: { force: { type: 'boolean', optional: true }, vms: { type: 'string', optional: true } },
    proxyto: 'node',
    returns: { type: 'string' },
    async run(params, ctx) {
      const vmlist = await readVmList(ctx.configDir);
      const only = params['vms'] === undefined ? undefined : new Set(splitList(String(params['vms'])).map(Number));
      for (const entry of vmlist.values()) {
        if (entry.node !== ctx.node || (only && !only.has(entry.vmid))) continue;
        const config = await readGuestConfig(ctx.configDir, entry);
        if (!config || config.values.get('template') === '1') continue;
        if (!params['force'] && config.values.get('onboot') !== '1') continue;
        if (await runningPid(ctx, entry.type, entry.vmid)) continue;
        ctx.io.out(`Starting ${entry.type === 'qemu' ? 'VM' : 'CT'} ${entry.vmid}\n`);
        await startGuest(ctx, entry.type, entry.vmid);
      }
      ctx.localStatus = undefined;
      await localStatus(ctx);
      return `UPID:${ctx.node}:00000000:00000000:00000000:startall::root@pam:`;
    },
  },
  ...VM_HANDLERS,
];

// ---------------------------------------------------------------------------------------------
// The command line: pvesh <get|create|ls|usage|...> <api_path> [OPTIONS] [FORMAT_OPTIONS].

const METHODS: Record<string, Handler['method']> = { get: 'GET', create: 'POST', set: 'PUT', delete: 'DELETE' };

/** PVE::API2->find_handler: the handler of `path` for `method`, and the values of its parameters. */
function findHandler(method: string, path: string): { handler: Handler; uri: Params } | undefined {
  const parts = path.split('/').filter((part) => part !== '');
  for (const handler of HANDLERS) {
    if (handler.method !== method || handler.path.length !== parts.length) continue;
    const uri: Params = {};
    const found = handler.path.every((pattern, index) => {
      const part = parts[index] as string;
      const name = /^\{(.+)\}$/.exec(pattern)?.[1];
      if (name === undefined) return pattern === part;
      uri[name] = part;
      return true;
    });
    if (found) return { handler, uri };
  }
  return undefined;
}

/** String::ShellQuote::shell_quote of one word. */
function shellQuote(word: string): string {
  return /^[-\w.,:/=@+%]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * check_proxyto and proxy_handler: the call runs on `node` as `pvesh --noproxy ... --output-format
 * json`, over the cluster's root SSH (SSHInfo.pm ssh_info_to_command, the node's ssh_known_hosts).
 * Its stderr passes through; a failure dies as "proxy handler failed: <its last stderr line>";
 * its stdout is decoded as JSON, or taken as it is (a task's output before its UPID).
 */
async function proxy(ctx: Context, node: string, verb: string, path: string, values: Params): Promise<Json> {
  const member = (await clusterNodes(ctx.configDir, ctx.node)).find((candidate) => candidate.name === node);
  let address = member?.address;
  if (!address) {
    try {
      address = (await lookup(node)).address;
    } catch {
      throw new Die(
        `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known\n`,
      );
    }
  }
  const knownHosts = join(ctx.configDir, 'nodes', node, 'ssh_known_hosts');
  const hasKnownHosts = await stat(knownHosts).then(
    (info) => info.isFile(),
    () => false,
  );
  const args = Object.keys(values)
    .filter((key) => !['quiet', 'output-format', 'api_path', 'noproxy'].includes(key))
    .flatMap((key) => [`--${key}`, shellQuote(String(values[key]))]);
  const ssh = [
    ...['-e', 'none', '-o', 'BatchMode=yes', '-o', `HostKeyAlias=${node}`],
    ...(hasKnownHosts ? ['-o', `UserKnownHostsFile=/etc/pve/nodes/${node}/ssh_known_hosts`] : []),
    ...(hasKnownHosts ? ['-o', 'GlobalKnownHostsFile=none'] : []),
    `root@${address}`,
    ...['--', 'pvesh', '--noproxy', verb, path, '--output-format', 'json', ...args],
  ];
  const child = spawn('/usr/bin/ssh', ssh, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let lastStderr: string | undefined;
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (lastStderr !== undefined) ctx.io.err(`${lastStderr}\n`);
      lastStderr = line;
    }
  });
  const code = await new Promise<number>((resolve) => child.on('close', (exit) => resolve(exit ?? 255)));
  if (partial) {
    if (lastStderr !== undefined) ctx.io.err(`${lastStderr}\n`);
    lastStderr = partial;
  }
  if (code !== 0) throw new Die(`proxy handler failed: ${lastStderr ?? `exit code ${code}`}\n`);
  if (lastStderr) ctx.io.err(`${lastStderr}\n`);
  try {
    return JSON.parse(stdout) as Json;
  } catch {
    return stdout;
  }
}

export async function run(argv: string[], ctx: Context): Promise<number> {
  const { io } = ctx;
  const args = [...argv];
  let noOutput = false;
  let noProxy = false;
  while (args[0] === '--noproxy' || args[0] === '--nooutput') {
    if (args.shift() === '--nooutput') noOutput = true;
    else noProxy = true;
  }
  const [verb, path] = args;
  const method = verb === undefined ? undefined : METHODS[verb];
  if (verb === undefined || !['get', 'set', 'create', 'delete', 'ls', 'usage', 'help'].includes(verb)) {
    const known = ['create', 'delete', 'get', 'help', 'ls', 'set', 'usage'];
    const reason = verb === undefined ? 'no command specified' : `unknown command 'pvesh ${verb}'`;
    io.err(`ERROR: ${reason}\nUSAGE: pvesh <COMMAND> [ARGS] [OPTIONS]\n`);
    io.err(
      known
        .map(
          (name) =>
            `       pvesh ${name} <api_path> [OPTIONS]${['get', 'ls'].includes(name) ? ' [FORMAT_OPTIONS]' : ''}\n`,
        )
        .join(''),
    );
    return ERROR_EXIT;
  }
  if (method === undefined) {
    io.err(`pvesh (chaton lab stand-in): 'pvesh ${verb}' is not implemented\n`);
    return ERROR_EXIT;
  }
  const found = path === undefined ? undefined : findHandler(method, path);
  if (path !== undefined && !found) {
    io.err(`No '${verb}' handler defined for '${path}'\n`);
    return 1;
  }
  const params = { ...(found?.handler.params ?? {}) };
  const command: Command<Context> = {
    words: [verb],
    argParams: ['api_path'],
    params: { api_path: { type: 'string' }, noproxy: { type: 'boolean', optional: true }, ...params },
    lists: true,
    run: async () => undefined,
  };
  try {
    const values = getOptions(command, args.slice(1), io);
    validate(values, command.params);
    if (!found) throw new Die('missing API path\n');
    const { handler, uri } = found;
    validate(uri, handler.uriParams ?? {});
    const all = { ...values, ...uri };
    let data: Json;
    const node = handler.proxyto === 'node' ? String(all['node']) : undefined;
    if (node !== undefined && node !== 'localhost' && node !== ctx.node) {
      if (noProxy || values['noproxy']) throw new Die('proxy loop detected - aborting\n');
      data = await proxy(ctx, node, verb, path as string, values);
    } else {
      if (node !== undefined) all['node'] = ctx.node;
      data = await handler.run(all, ctx);
    }
    if (noOutput) return 0;
    const options = values as OutputOptions;
    io.out(renderApiResult({ data, schema: handler.returns, props: handler.props }, options, io));
    return 0;
  } catch (error) {
    if (error instanceof ParamError) {
      io.err(error.stringify() + usageLine('pvesh', command));
    } else if (error instanceof Exit) {
      io.err(error.message);
      return error.code;
    } else if (error instanceof Die) io.err(error.message);
    else throw error;
    return ERROR_EXIT;
  }
}

export async function main(io: Io = processIo(), configDir = PVE_CONFIG_DIR, root = '/'): Promise<number> {
  const node = await nodeName();
  return run(process.argv.slice(2), { configDir, node, io, root });
}

if (isMainModule(import.meta.url)) {
  process.exitCode = await main();
}
