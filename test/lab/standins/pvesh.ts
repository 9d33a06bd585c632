// A stand-in for `pvesh`, the Proxmox VE API shell, on lab hosts with the pve role: the API paths
// chaton reads, with the real parameters, results, output formats, error lines and exit codes.
// Self-contained (node: builtins only); run by /usr/local/bin/pvesh.
//
// Covered: `pvesh get` of /cluster/resources [--type vm|storage|node|sdn], /cluster/nextid,
// /cluster/backup and /cluster/backup/<id>, /cluster/backup-info/not-backed-up, /nodes,
// /nodes/<node>/qemu and /lxc, .../<vmid>/status/current and .../<vmid>/config,
// /nodes/<node>/storage/<storage>/content [--content T] [--vmid N] and .../<storage>/status
// (file-based storages); and
// `pvesh create /nodes/<node>/startall` (what pve-guests.service runs at boot: the guests with
// onboot 1). Calls for another node are answered from that node's last broadcast status (the real
// pvesh proxies them over SSH); storage content of another node's local storage is refused.
//
// Sources (github.com/proxmox):
// - pve-manager: PVE/CLI/pvesh.pm ("No 'get' handler defined for '<path>'" and exit 1, the
//   proxying, the standard output options), PVE/API2/Cluster.pm (resources, nextid),
//   PVE/API2/Cluster/BackupInfo.pm (not-backed-up), PVE/API2/Backup.pm (index, read_job,
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
// - pve-common: src/PVE/Network.pm and Tools.pm (the message for a node name that does not
//   resolve), src/PVE/JSONSchema.pm (pve-node, pve-vmid, pve-storage-id formats).
// The rest of the machinery (options, validation, output) is in pve-cli.ts, with its sources.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Die,
  Exit,
  getOptions,
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
} from './pve-cluster.js';
import { guestStatus, loadConfig, type NodeContext, refreshNodeStatus, runningPid, startGuest } from './pve-guests.js';
import { listVolumes, type VolumeContent } from './pve-storage.js';

// ---------------------------------------------------------------------------------------------
// Parameter formats (JSONSchema.pm).

const NODE: Param = {
  type: 'string',
  format: {
    verify: (value) => {
      if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(value)) {
        throw new Error('value does not look like a valid node name\n');
      }
      return value;
    },
  },
};
const VMID: Param = {
  type: 'integer',
  minimum: 100,
  maximum: 999_999_999,
  format: {
    verify: (value) => {
      if (!/^[1-9][0-9]{2,8}$/.test(value)) throw new Error('value does not look like a valid VM ID\n');
      return value;
    },
  },
};
const STORAGE_ID: Param = {
  type: 'string',
  format: {
    verify: (value) => {
      if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value)) {
        throw new Error(`storage ID '${value}' contains illegal characters\n`);
      }
      return value;
    },
  },
};
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

/** A guest of another node, as its broadcast and its configuration tell (pid unknown). */
async function remoteGuestStatus(ctx: Context, entry: VmListEntry, rrd: Rrd): Promise<{ [key: string]: Json }> {
  const config = await readGuestConfig(ctx.configDir, entry);
  const stats = vmStats(entry, rrd);
  const status: { [key: string]: Json } = {
    vmid: entry.vmid,
    status: stats['status'] === 'unknown' ? 'stopped' : (stats['status'] as string),
  };
  for (const key of ['name', 'uptime', 'cpu', 'mem', 'maxmem', 'disk', 'maxdisk', 'netin', 'netout']) {
    if (stats[key] !== undefined) status[key] = stats[key] as Json;
  }
  if (stats['maxcpu'] !== undefined) status['cpus'] = stats['maxcpu'] as Json;
  if (config?.values.get('lock')) status['lock'] = config.values.get('lock') as string;
  if (config?.values.has('tags')) status['tags'] = config.values.get('tags') as string;
  if (config?.values.get('template') === '1') status['template'] = 1;
  if (entry.type === 'lxc') status['type'] = 'lxc';
  return status;
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
      if (node !== ctx.node) {
        const rrd = await readRrd(ctx.configDir);
        return Promise.all(list.map((entry) => remoteGuestStatus(ctx, entry, rrd)));
      }
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
      if (node !== ctx.node) {
        const status = await remoteGuestStatus(ctx, entry, await readRrd(ctx.configDir));
        if (type === 'qemu') status['qmpstatus'] = status['status'] as string;
        status['ha'] = { managed: 0 };
        return status;
      }
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
      if (node !== ctx.node && !storage.shared) {
        throw new Die(`pvesh (chaton lab stand-in): cannot proxy to node '${node}': run this call on ${node}\n`);
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
      if (node !== ctx.node && !storage.shared) {
        throw new Die(`pvesh (chaton lab stand-in): cannot proxy to node '${node}': run this call on ${node}\n`);
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

/** check_proxyto's remote_node_ip for a node outside the cluster: the host name lookup's failure. */
async function checkNode(ctx: Context, node: string): Promise<void> {
  if (node === ctx.node || node === 'localhost') return;
  const nodes = await clusterNodes(ctx.configDir, ctx.node);
  if (nodes.some((member) => member.name === node)) return;
  try {
    await lookup(node);
  } catch {
    throw new Die(
      `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known\n`,
    );
  }
}

export async function run(argv: string[], ctx: Context): Promise<number> {
  const { io } = ctx;
  const args = [...argv];
  let noOutput = false;
  while (args[0] === '--noproxy' || args[0] === '--nooutput') {
    if (args.shift() === '--nooutput') noOutput = true;
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
    if (handler.proxyto === 'node') {
      if (all['node'] === 'localhost') all['node'] = ctx.node;
      await checkNode(ctx, String(all['node']));
    }
    const data = await handler.run(all, ctx);
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
