// The Ceph facts a disk swap reads (issue 14): each a read-only `ceph ... -f json` command and the
// pure parser of what it prints, tested on the real outputs of test/unit/fixtures/ceph/ (Debian
// 12's Pacific, captured by test/lab/capture-ceph-fixtures.ts). Ceph's traps, met there:
// - some commands print a newline before their JSON (safe-to-destroy): JSON.parse takes it;
// - `osd safe-to-destroy N -f json` exits 0 even when unsafe: read `safe_to_destroy`;
// - `osd ok-to-stop N` exits 16 (EBUSY) when not ok, its JSON still printed: read `ok_to_stop`;
// - `status`'s pgmap omits the degraded, misplaced and recovery fields when they are 0;
// - before Octopus, `status`'s osdmap counts were one level deeper (`osdmap.osdmap`: real-tools.md);
// - `config-key get` of an absent key exits 2 (ENOENT) with "Error ENOENT: " on stderr.
// Sources: the fixtures' README (what each state printed); real-tools.md (Ceph), which cites ceph
// src/mgr/DaemonServer.cc for safe-to-destroy and ok-to-stop.
import type { Probe, ProbeOutput } from '../remote/facts.js';
import {
  bool,
  type JsonObject as Json,
  list,
  num,
  object,
  OutputError,
  parseJson,
  str,
} from '../remote/json-output.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import { messages } from './messages.js';

/** EBUSY, as `ceph` exits when an OSD is not ok to stop (and the text safe-to-destroy when unsafe). */
export const EXIT_EBUSY = 16;
/** ENOENT, as `ceph config-key get` exits for an absent key. */
export const EXIT_ENOENT = 2;

function ceph(...args: string[]): RemoteCommand {
  return command('ceph', ...args, '-f', 'json');
}

function parseObject(stdout: string, what: string): Json {
  return object(parseJson(stdout, what), what);
}

/** A number Ceph leaves out when it is 0. */
function omitted0(value: unknown, what: string): number {
  return value === undefined ? 0 : num(value, what);
}

function numbers(value: unknown, what: string): number[] {
  return list(value, what).map((item) => num(item, what));
}

/** The stdout of a command that must exit 0; when it did not, its stderr says why. */
function succeeded(output: ProbeOutput, what: string): string {
  if (output.code !== 0) {
    throw new OutputError(messages.commandFailed(what, output.code ?? 'signal', output.stderr.trim()));
  }
  return output.stdout;
}

// --- Health -------------------------------------------------------------------------------------

export type HealthStatus = 'HEALTH_OK' | 'HEALTH_WARN' | 'HEALTH_ERR';

export interface HealthCheck {
  /** E.g. OSD_DOWN, PG_DEGRADED, OSD_FLAGS. */
  code: string;
  severity: HealthStatus;
  message: string;
  count: number;
  /** `health detail` only: one line per item (an OSD, a PG...). */
  detail: string[];
  muted: boolean;
}

export interface Health {
  status: HealthStatus;
  checks: HealthCheck[];
}

function healthStatus(value: unknown, what: string): HealthStatus {
  const status = str(value, what);
  if (status !== 'HEALTH_OK' && status !== 'HEALTH_WARN' && status !== 'HEALTH_ERR') {
    throw new OutputError(messages.unknownHealth(status));
  }
  return status;
}

/** `{status, checks: {CODE: {severity, summary: {message, count}, detail?: [{message}], muted}}}`. */
export function parseHealth(value: unknown): Health {
  const health = object(value, 'health');
  const checks = Object.entries(object(health.checks, 'health.checks')).map(([code, raw]): HealthCheck => {
    const check = object(raw, `health.checks.${code}`);
    const summary = object(check.summary, `health.checks.${code}.summary`);
    const detail = check.detail === undefined ? [] : list(check.detail, `health.checks.${code}.detail`);
    return {
      code,
      severity: healthStatus(check.severity, `health.checks.${code}.severity`),
      message: str(summary.message, `health.checks.${code}.summary.message`),
      count: omitted0(summary.count, `health.checks.${code}.summary.count`),
      detail: detail.map((line) => str(object(line, 'detail').message, `health.checks.${code}.detail.message`)),
      muted: check.muted === true,
    };
  });
  return { status: healthStatus(health.status, 'health.status'), checks };
}

export const healthDetail: Probe<Health> = {
  command: ceph('health', 'detail'),
  parse: (output) => parseHealth(parseObject(succeeded(output, 'ceph health detail'), 'ceph health detail')),
};

// --- Status -------------------------------------------------------------------------------------

export interface PgStateCount {
  /** E.g. "active+clean", "active+recovery_wait+degraded". */
  state: string;
  count: number;
}

/** What `ceph status` says of the data moving; every field 0 when Ceph left it out. */
export interface Recovery {
  degradedObjects: number;
  degradedTotal: number;
  misplacedObjects: number;
  misplacedTotal: number;
  recoveringObjectsPerSec: number;
  recoveringBytesPerSec: number;
}

export interface ClusterStatus {
  health: Health;
  osds: { total: number; up: number; in: number; remappedPgs: number };
  /** `objects` and `dataBytes` once (before replication): what the drain moves, object by object. */
  pgs: { total: number; byState: PgStateCount[]; objects: number; dataBytes: number };
  recovery: Recovery;
  bytes: { used: number; avail: number; total: number };
}

/** `ceph status -f json`: the osdmap counts flat (Octopus and later) or under `osdmap.osdmap`. */
export function parseStatus(stdout: string): ClusterStatus {
  const status = parseObject(stdout, 'ceph status');
  const outer = object(status.osdmap, 'osdmap');
  const osdmap = outer.osdmap === undefined ? outer : object(outer.osdmap, 'osdmap.osdmap');
  const pgmap = object(status.pgmap, 'pgmap');
  const byState = list(pgmap.pgs_by_state, 'pgmap.pgs_by_state').map((raw) => {
    const item = object(raw, 'pgmap.pgs_by_state');
    return { state: str(item.state_name, 'state_name'), count: num(item.count, 'count') };
  });
  return {
    health: parseHealth(status.health),
    osds: {
      total: num(osdmap.num_osds, 'osdmap.num_osds'),
      up: num(osdmap.num_up_osds, 'osdmap.num_up_osds'),
      in: num(osdmap.num_in_osds, 'osdmap.num_in_osds'),
      remappedPgs: omitted0(osdmap.num_remapped_pgs, 'osdmap.num_remapped_pgs'),
    },
    pgs: {
      total: num(pgmap.num_pgs, 'pgmap.num_pgs'),
      byState,
      objects: omitted0(pgmap.num_objects, 'pgmap.num_objects'),
      dataBytes: omitted0(pgmap.data_bytes, 'pgmap.data_bytes'),
    },
    recovery: {
      degradedObjects: omitted0(pgmap.degraded_objects, 'pgmap.degraded_objects'),
      degradedTotal: omitted0(pgmap.degraded_total, 'pgmap.degraded_total'),
      misplacedObjects: omitted0(pgmap.misplaced_objects, 'pgmap.misplaced_objects'),
      misplacedTotal: omitted0(pgmap.misplaced_total, 'pgmap.misplaced_total'),
      recoveringObjectsPerSec: omitted0(pgmap.recovering_objects_per_sec, 'pgmap.recovering_objects_per_sec'),
      recoveringBytesPerSec: omitted0(pgmap.recovering_bytes_per_sec, 'pgmap.recovering_bytes_per_sec'),
    },
    bytes: {
      used: omitted0(pgmap.bytes_used, 'pgmap.bytes_used'),
      avail: omitted0(pgmap.bytes_avail, 'pgmap.bytes_avail'),
      total: omitted0(pgmap.bytes_total, 'pgmap.bytes_total'),
    },
  };
}

export const clusterStatus: Probe<ClusterStatus> = {
  command: ceph('status'),
  parse: (output) => parseStatus(succeeded(output, 'ceph status')),
};

// --- PG stat ------------------------------------------------------------------------------------

export interface PgStat {
  total: number;
  byState: PgStateCount[];
}

/** `ceph pg stat -f json`: `{pg_ready, pg_summary: {num_pg_by_state: [{name, num}], num_pgs, ...}}`. */
export function parsePgStat(stdout: string): PgStat {
  const summary = object(parseObject(stdout, 'ceph pg stat').pg_summary, 'pg_summary');
  const byState = list(summary.num_pg_by_state, 'pg_summary.num_pg_by_state').map((raw) => {
    const item = object(raw, 'pg_summary.num_pg_by_state');
    return { state: str(item.name, 'name'), count: num(item.num, 'num') };
  });
  return { total: num(summary.num_pgs, 'pg_summary.num_pgs'), byState };
}

export const pgStat: Probe<PgStat> = {
  command: ceph('pg', 'stat'),
  parse: (output) => parsePgStat(succeeded(output, 'ceph pg stat')),
};

// --- PGs, one by one -----------------------------------------------------------------------------

/** A PG as `pg dump pgs_brief` gives it: its state, and the OSDs it maps to (up) and is served by (acting). */
export interface PgBrief {
  pgid: string;
  state: string;
  up: number[];
  acting: number[];
}

/** `ceph pg dump pgs_brief -f json`: `{pg_ready, pg_stats: [{pgid, state, up, acting, ...}]}` (Pacific). */
export function parsePgsBrief(stdout: string): PgBrief[] {
  const dump = parseJson(stdout, 'ceph pg dump pgs_brief');
  // Older releases (the bench sampler met both) print the list bare, without pg_ready around it.
  const stats = Array.isArray(dump) ? dump : object(dump, 'ceph pg dump pgs_brief').pg_stats;
  return list(stats, 'pg_stats').map((raw) => {
    const pg = object(raw, 'pg_stats');
    return {
      pgid: str(pg.pgid, 'pgid'),
      state: str(pg.state, 'state'),
      up: numbers(pg.up, 'up'),
      acting: numbers(pg.acting, 'acting'),
    };
  });
}

export const pgsBrief: Probe<PgBrief[]> = {
  command: ceph('pg', 'dump', 'pgs_brief'),
  parse: (output) => parsePgsBrief(succeeded(output, 'ceph pg dump pgs_brief')),
};

// --- OSD tree -----------------------------------------------------------------------------------

export interface CrushNode {
  id: number;
  name: string;
  /** osd, host, rack, root... */
  type: string;
  children: number[];
  /** OSDs only. */
  status?: 'up' | 'down' | 'destroyed';
  crushWeight?: number;
  reweight?: number;
  deviceClass?: string;
}

export interface OsdTree {
  nodes: CrushNode[];
  /** OSDs in no CRUSH bucket. */
  stray: CrushNode[];
}

function crushNode(value: unknown): CrushNode {
  const item = object(value, 'osd tree node');
  const node: CrushNode = {
    id: num(item.id, 'id'),
    name: str(item.name, 'name'),
    type: str(item.type, 'type'),
    children: item.children === undefined ? [] : numbers(item.children, 'children'),
  };
  if (item.status !== undefined) {
    const status = str(item.status, 'status');
    if (status !== 'up' && status !== 'down' && status !== 'destroyed') {
      throw new OutputError(messages.unknownOsdStatus(node.name, status));
    }
    node.status = status;
  }
  if (item.crush_weight !== undefined) node.crushWeight = num(item.crush_weight, 'crush_weight');
  if (item.reweight !== undefined) node.reweight = num(item.reweight, 'reweight');
  if (item.device_class !== undefined) node.deviceClass = str(item.device_class, 'device_class');
  return node;
}

export function parseOsdTree(stdout: string): OsdTree {
  const tree = parseObject(stdout, 'ceph osd tree');
  return {
    nodes: list(tree.nodes, 'nodes').map(crushNode),
    stray: tree.stray === undefined ? [] : list(tree.stray, 'stray').map(crushNode),
  };
}

export const osdTree: Probe<OsdTree> = {
  command: ceph('osd', 'tree'),
  parse: (output) => parseOsdTree(succeeded(output, 'ceph osd tree')),
};

/** The CRUSH bucket of type `type` holding `osd` (its host, by default); undefined when none. */
export function bucketOf(tree: OsdTree, osd: number, type = 'host'): CrushNode | undefined {
  const parent = (id: number) => tree.nodes.find((node) => node.children.includes(id));
  for (let node = parent(osd); node !== undefined; node = parent(node.id)) if (node.type === type) return node;
  return undefined;
}

/** The OSDs under a bucket, at any depth. */
export function osdsUnder(tree: OsdTree, bucket: CrushNode): CrushNode[] {
  return bucket.children.flatMap((id) => {
    const node = tree.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) return [];
    return node.type === 'osd' ? [node] : osdsUnder(tree, node);
  });
}

// --- OSD df -------------------------------------------------------------------------------------

export interface OsdUsage {
  id: number;
  /** Capacity, used and available, in KiB as Ceph gives them. */
  kb: number;
  kbUsed: number;
  /** The objects' own bytes and omap (what moves when the OSD drains), without BlueStore's metadata. */
  kbUsedData: number;
  kbAvail: number;
  /** Percent, 0-100. */
  utilization: number;
  pgs: number;
  crushWeight: number;
  reweight: number;
  /** up, down or destroyed; undefined before Nautilus printed it. */
  status?: string;
}

export function parseOsdDf(stdout: string): OsdUsage[] {
  return list(parseObject(stdout, 'ceph osd df').nodes, 'nodes').map((raw) => {
    const node = object(raw, 'osd df node');
    const kbUsed = num(node.kb_used, 'kb_used');
    return {
      id: num(node.id, 'id'),
      kb: num(node.kb, 'kb'),
      kbUsed,
      // Older releases have no split of kb_used: all of it is then counted as moving (pessimistic).
      kbUsedData:
        node.kb_used_data === undefined
          ? kbUsed
          : num(node.kb_used_data, 'kb_used_data') + omitted0(node.kb_used_omap, 'kb_used_omap'),
      kbAvail: num(node.kb_avail, 'kb_avail'),
      utilization: num(node.utilization, 'utilization'),
      pgs: num(node.pgs, 'pgs'),
      crushWeight: num(node.crush_weight, 'crush_weight'),
      reweight: num(node.reweight, 'reweight'),
      ...(node.status !== undefined && { status: str(node.status, 'status') }),
    };
  });
}

export const osdDf: Probe<OsdUsage[]> = {
  command: ceph('osd', 'df'),
  parse: (output) => parseOsdDf(succeeded(output, 'ceph osd df')),
};

// --- OSD dump -----------------------------------------------------------------------------------

export interface OsdState {
  id: number;
  up: boolean;
  in: boolean;
  /** E.g. ["exists", "up"], with "noout" once `ceph osd add-noout osd.N`, "destroyed"... */
  state: string[];
}

export interface OsdDump {
  /** Cluster-wide flags: "sortbitwise", "noout", "norecover"... */
  flags: string[];
  nearfullRatio: number;
  backfillfullRatio: number;
  fullRatio: number;
  osds: OsdState[];
  /** CRUSH buckets and device classes with flags (`ceph osd set-group`): name to flags. */
  groupFlags: Record<string, string[]>;
}

function groupFlags(value: unknown, what: string): Record<string, string[]> {
  if (value === undefined) return {};
  return Object.fromEntries(
    Object.entries(object(value, what)).map(([name, flags]) => [name, list(flags, what).map((f) => str(f, what))]),
  );
}

export function parseOsdDump(stdout: string): OsdDump {
  const dump = parseObject(stdout, 'ceph osd dump');
  const flags = str(dump.flags, 'flags');
  return {
    flags: flags === '' ? [] : flags.split(','),
    nearfullRatio: num(dump.nearfull_ratio, 'nearfull_ratio'),
    backfillfullRatio: num(dump.backfillfull_ratio, 'backfillfull_ratio'),
    fullRatio: num(dump.full_ratio, 'full_ratio'),
    osds: list(dump.osds, 'osds').map((raw) => {
      const osd = object(raw, 'osds');
      return {
        id: num(osd.osd, 'osd'),
        up: num(osd.up, 'up') === 1,
        in: num(osd.in, 'in') === 1,
        state: list(osd.state, 'state').map((s) => str(s, 'state')),
      };
    }),
    groupFlags: {
      ...groupFlags(dump.crush_node_flags, 'crush_node_flags'),
      ...groupFlags(dump.device_class_flags, 'device_class_flags'),
    },
  };
}

export const osdDump: Probe<OsdDump> = {
  command: ceph('osd', 'dump'),
  parse: (output) => parseOsdDump(succeeded(output, 'ceph osd dump')),
};

// --- One OSD ------------------------------------------------------------------------------------

export interface OsdMetadata {
  id: number;
  hostname: string;
  /** Kernel names, e.g. ["sdc"] or ["loop3"]. */
  devices: string[];
  /** "sdc=VENDOR_MODEL_SERIAL"; empty for a device Ceph cannot identify (a loop device). */
  deviceIds: string[];
}

/** Ceph joins several devices with commas, and says "" for none. */
function commaList(value: unknown, what: string): string[] {
  return value === undefined ? [] : str(value, what).split(',').filter(Boolean);
}

export function parseOsdMetadata(stdout: string): OsdMetadata {
  const meta = parseObject(stdout, 'ceph osd metadata');
  return {
    id: num(meta.id, 'id'),
    hostname: str(meta.hostname, 'hostname'),
    devices: commaList(meta.devices, 'devices'),
    deviceIds: commaList(meta.device_ids, 'device_ids'),
  };
}

/**
 * The metadata of an OSD; undefined for ENOENT (an id with no metadata: not recorded here). A
 * destroyed OSD keeps its metadata (fixture destroyed-osd-metadata-1): the old disk's, not the new.
 */
export function osdMetadata(osd: number): Probe<OsdMetadata | undefined> {
  return {
    command: ceph('osd', 'metadata', String(osd)),
    parse: (output) =>
      output.code === EXIT_ENOENT ? undefined : parseOsdMetadata(succeeded(output, 'ceph osd metadata')),
  };
}

export interface SafeToDestroy {
  /** The OSDs asked about that are safe: the ONLY answer to read (the exit code is 0 either way). */
  safe: number[];
  /** Of the OSDs asked about: those PGs are still mapped to. */
  active: number[];
  /** Those the manager has no statistics for yet. */
  missingStats: number[];
  /** Those still storing PG data. */
  storedPgs: number[];
}

export function parseSafeToDestroy(stdout: string): SafeToDestroy {
  const answer = parseObject(stdout, 'ceph osd safe-to-destroy');
  return {
    safe: numbers(answer.safe_to_destroy, 'safe_to_destroy'),
    active: answer.active === undefined ? [] : numbers(answer.active, 'active'),
    missingStats: answer.missing_stats === undefined ? [] : numbers(answer.missing_stats, 'missing_stats'),
    storedPgs: answer.stored_pgs === undefined ? [] : numbers(answer.stored_pgs, 'stored_pgs'),
  };
}

export function safeToDestroy(osd: number): Probe<SafeToDestroy> {
  return {
    command: ceph('osd', 'safe-to-destroy', String(osd)),
    parse: (output) => parseSafeToDestroy(succeeded(output, 'ceph osd safe-to-destroy')),
  };
}

export interface OkToStop {
  ok: boolean;
  osds: number[];
  okPgs: number;
  notOkPgs: number;
  /** The PGs that would become inactive: why not. */
  becomeInactive: string[];
}

export function parseOkToStop(stdout: string): OkToStop {
  const answer = parseObject(stdout, 'ceph osd ok-to-stop');
  const pgs = (key: string) => (answer[key] === undefined ? [] : list(answer[key], key).map((pg) => str(pg, key)));
  return {
    ok: bool(answer.ok_to_stop, 'ok_to_stop'),
    osds: numbers(answer.osds, 'osds'),
    okPgs: omitted0(answer.num_ok_pgs, 'num_ok_pgs'),
    notOkPgs: omitted0(answer.num_not_ok_pgs, 'num_not_ok_pgs'),
    becomeInactive: pgs('bad_become_inactive'),
  };
}

/** Exit 0 when ok, 16 (EBUSY) when not, the JSON printed either way. */
export function okToStop(osd: number): Probe<OkToStop> {
  return {
    command: ceph('osd', 'ok-to-stop', String(osd)),
    parse: (output) =>
      parseOkToStop(output.code === EXIT_EBUSY ? output.stdout : succeeded(output, 'ceph osd ok-to-stop')),
  };
}

// --- config-key ---------------------------------------------------------------------------------

/** A value of the monitors' key store; undefined when the key is absent (exit 2, ENOENT). */
export function configKey(key: string): Probe<string | undefined> {
  return {
    command: command('ceph', 'config-key', 'get', key),
    parse: (output) =>
      output.code === EXIT_ENOENT && /^Error ENOENT/.test(output.stderr)
        ? undefined
        : succeeded(output, 'ceph config-key get'),
  };
}
