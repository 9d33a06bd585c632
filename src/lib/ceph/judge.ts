// The disk swap's judgements on the Ceph facts (issue 14), pure: the preflight (may this OSD be
// drained now?), the drain's progress, and whether the OSD may be destroyed. Every refusal says
// why with the numbers, in a Said (English for JSON, the reader's language on a terminal).
import { formatSize } from '../inventory/sizes.js';
import { duration } from '../run/wait.js';
import {
  bucketOf,
  type ClusterStatus,
  type CrushNode,
  type Health,
  type OsdDump,
  osdsUnder,
  type OsdTree,
  type OsdUsage,
  type PgBrief,
  type PgStateCount,
  type SafeToDestroy,
} from './facts.js';
import { messages, type Said, said } from './messages.js';

export type RefusalCode =
  | 'no-such-osd'
  | 'osd-destroyed'
  | 'other-host'
  | 'other-osds-down'
  | 'pgs-inactive'
  | 'pgs-not-clean'
  | 'health'
  | 'cluster-flags'
  | 'other-osd-flags'
  | 'nowhere-to-drain'
  | 'nearfull';

export interface Refusal {
  code: RefusalCode;
  said: Said;
}

/** What an OSD would hold once the drained one's data reached it. */
export interface Projection {
  osd: number;
  /** Fractions of its capacity, 0-1. */
  now: number;
  after: number;
}

export interface Preflight {
  refusals: Refusal[];
  /** The OSDs that would receive the data, and how full they would be; empty when not computed. */
  projections: Projection[];
}

export interface PreflightFacts {
  osd: number;
  /** The host the operator named. */
  host: string;
  tree: OsdTree;
  usage: OsdUsage[];
  dump: OsdDump;
  health: Health;
  /** From `ceph pg stat` (or `ceph status`). */
  pgs: { total: number; byState: PgStateCount[] };
}

/**
 * Health checks the judgement reads from more precise facts instead: OSDs down from the tree, flags
 * from the osdmap, PG states from the PG statistics (one refusal per cause, not two).
 */
const JUDGED_FROM_FACTS = new Set([
  'OSD_DOWN',
  'OSD_FLAGS',
  'OSDMAP_FLAGS',
  'PG_DEGRADED',
  'PG_AVAILABILITY',
  'OBJECT_UNFOUND',
]);

/** Cluster-wide flags that stop or hide a drain (`ceph osd set`): recovery, backfill, I/O, marking. */
const BLOCKING_FLAGS = new Set(['noout', 'noin', 'noup', 'nodown', 'norecover', 'nobackfill', 'norebalance', 'pause']);

/** Per-OSD flags, as `ceph osd dump` lists them in an OSD's state. */
const OSD_FLAGS = new Set(['noout', 'noin', 'noup', 'nodown']);

/** A PG state token that means part of the data cannot be served, is damaged, or cannot be found. */
const BAD_PG_TOKENS = new Set([
  'down',
  'incomplete',
  'stale',
  'inconsistent',
  'snaptrim_error',
  'unknown',
  'recovery_unfound',
  'backfill_unfound',
  'failed_repair',
]);

function list(items: string[]): string {
  return items.join(messages.listSeparator);
}

/** A message built from messages: its English from their English, its reader's text from theirs. */
function composed(parts: Said[], build: (texts: string[]) => Said): Said {
  return { en: build(parts.map((part) => part.en)).en, text: build(parts.map((part) => part.text)).text };
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function statesOf(byState: PgStateCount[]): string {
  return list(byState.map(({ state, count }) => `${count} ${state}`));
}

/**
 * Tokens that may stand beside active+clean while every copy is in place, nothing moves and I/O
 * flows (doc/rados/operations/pg-states.rst): scrubs, which a real cluster runs nearly all the time
 * (every PG is deep-scrubbed weekly), and snapshot trimming. Anything else is not clean, a token
 * Ceph may add later too: `laggy` (a replica slow to renew its read lease) and `wait` (a new acting
 * set waiting for the old one's leases) pause I/O for seconds, and `remapped` or `inconsistent`
 * beside `clean` still mean data to move or to repair.
 */
const CALM_PG_TOKENS = new Set(['active', 'clean', 'scrubbing', 'deep', 'snaptrim', 'snaptrim_wait']);

/** Every copy in place and nothing to move: active and clean, beside calm tokens only (fixtures scrubbing-*). */
export function pgClean(state: string): boolean {
  const tokens = state.split('+');
  return tokens.includes('active') && tokens.includes('clean') && tokens.every((token) => CALM_PG_TOKENS.has(token));
}

function pgCount(byState: PgStateCount[]): number {
  return byState.reduce((sum, s) => sum + s.count, 0);
}

function inactive(state: string): boolean {
  const tokens = state.split('+');
  return !tokens.includes('active') || tokens.some((token) => BAD_PG_TOKENS.has(token));
}

/** Whether a health check's detail names only `osd` (OSD_DOWN "osd.4 (root=default,host=pve3) is down"). */
function onlyAbout(check: Health['checks'][number], osd: number): boolean {
  const name = new RegExp(`\\bosd\\.${osd}(?![0-9])`);
  return check.detail.length > 0 && check.detail.every((line) => name.test(line));
}

/**
 * May `osd` of `host` be drained now? Refuses (exit 3 for the command) when the OSD is not there,
 * when the cluster has a problem this OSD does not cause, or when the drain would fill another OSD.
 */
export function preflight(facts: PreflightFacts): Preflight {
  const { osd, tree } = facts;
  const node = tree.nodes.find((n) => n.type === 'osd' && n.id === osd);
  const osds = tree.nodes.filter((n) => n.type === 'osd');
  if (node === undefined) {
    const known = list(osds.map((n) => n.name));
    return { refusals: [{ code: 'no-such-osd', said: said('noSuchOsd', osd, known) }], projections: [] };
  }
  const refusals: Refusal[] = [];
  const host = bucketOf(tree, osd);
  if (host === undefined) refusals.push({ code: 'other-host', said: said('noHost', osd) });
  else if (host.name !== facts.host) {
    refusals.push({ code: 'other-host', said: said('otherHost', osd, host.name, facts.host) });
  }
  if (node.status === 'destroyed') refusals.push({ code: 'osd-destroyed', said: said('osdDestroyed', osd) });
  refusals.push(...clusterProblems(facts));
  const drain = host === undefined ? undefined : nearfull(facts, host);
  if (drain !== undefined) refusals.push(...drain.refusals);
  return { refusals, projections: drain?.projections ?? [] };
}

/** Problems this OSD does not cause: other OSDs down, PGs inactive, other health checks, flags. */
function clusterProblems(facts: PreflightFacts): Refusal[] {
  const { osd, tree, dump, health, pgs } = facts;
  const refusals: Refusal[] = [];
  const down = tree.nodes.filter((n) => n.type === 'osd' && n.id !== osd && n.status !== 'up');
  if (down.length > 0) {
    const names = list(down.map((n) => `${n.name} ${n.status ?? 'down'}`));
    refusals.push({ code: 'other-osds-down', said: said('otherOsdsDown', names) });
  }
  const bad = pgs.byState.filter(({ state }) => inactive(state));
  if (bad.length > 0) {
    refusals.push({ code: 'pgs-inactive', said: said('pgsInactive', pgCount(bad), pgs.total, statesOf(bad)) });
  }
  // Degraded or moving PGs are this OSD's doing only once it is down or out.
  const self = dump.osds.find((o) => o.id === osd);
  const notClean = pgs.byState.filter(({ state }) => !pgClean(state) && !inactive(state));
  if (notClean.length > 0 && self !== undefined && self.up && self.in) {
    refusals.push({
      code: 'pgs-not-clean',
      said: said('pgsNotClean', pgCount(notClean), pgs.total, osd, statesOf(notClean)),
    });
  }
  for (const check of health.checks) {
    // A muted warning is an operator's decision (`ceph health mute`); a muted error still refuses.
    // OSDs down, PG states (unfound objects among them) and flags are judged from the facts above.
    const warning = check.severity === 'HEALTH_WARN';
    if ((check.muted && warning) || JUDGED_FROM_FACTS.has(check.code) || onlyAbout(check, osd)) continue;
    const why = warning ? 'healthWarning' : 'healthError';
    refusals.push({ code: 'health', said: said(why, check.code, check.severity, check.message) });
  }
  const blocking = dump.flags.filter((flag) => BLOCKING_FLAGS.has(flag));
  if (blocking.length > 0) refusals.push({ code: 'cluster-flags', said: said('clusterFlags', list(blocking)) });
  const flagged = [
    ...dump.osds
      .filter((o) => o.id !== osd)
      .flatMap((o) => {
        const flags = o.state.filter((s) => OSD_FLAGS.has(s));
        return flags.length > 0 ? [`osd.${o.id} ${flags.join(',')}`] : [];
      }),
    ...Object.entries(facts.dump.groupFlags).map(([group, flags]) => `${group} ${flags.join(',')}`),
  ];
  if (flagged.length > 0) refusals.push({ code: 'other-osd-flags', said: said('otherOsdFlags', list(flagged)) });
  return refusals;
}

/**
 * Would draining the OSD push another past the nearfull ratio? The model: the OSD's data (its
 * `kb_used_data` + omap: BlueStore's own metadata stays) goes to the other up and in OSDs of its
 * CRUSH host, in proportion to their effective weight (CRUSH weight x reweight), as CRUSH places it.
 * Why the host: with the usual rule (failure domain host) and as many hosts as replicas (the
 * common 3-node Proxmox cluster) every PG keeps one copy per host, so the copies on this OSD can
 * only move to its host's other OSDs: exact there, and pessimistic with more hosts (some copies
 * then move to other hosts), which is the right side for a refusal. With no other OSD in its host,
 * the data goes over every other up and in OSD of the cluster (a cluster of one OSD per host
 * with more hosts than replicas); that fallback does not see pool sizes, nor rules by device class.
 */
function nearfull(facts: PreflightFacts, host: CrushNode): Preflight | undefined {
  const { osd, usage, dump, tree } = facts;
  const drained = usage.find((u) => u.id === osd);
  if (drained === undefined) return undefined;
  const serving = (id: number) => id !== osd && dump.osds.some((o) => o.id === id && o.up && o.in);
  const weighted = (u: OsdUsage) => u.crushWeight * u.reweight > 0 && u.kb > 0;
  const inHost = new Set(osdsUnder(tree, host).map((n) => n.id));
  const sameHost = usage.filter((u) => inHost.has(u.id) && serving(u.id) && weighted(u));
  const receivers = sameHost.length > 0 ? sameHost : usage.filter((u) => serving(u.id) && weighted(u));
  if (receivers.length === 0) {
    return { refusals: [{ code: 'nowhere-to-drain', said: said('nowhereToDrain', osd) }], projections: [] };
  }
  // A drained (or out) OSD has reweight 0 and nothing left to move.
  const movedKb = drained.reweight > 0 ? drained.kbUsedData : 0;
  const totalWeight = receivers.reduce((sum, u) => sum + u.crushWeight * u.reweight, 0);
  const projections = receivers.map((u) => ({
    osd: u.id,
    now: u.kbUsed / u.kb,
    after: (u.kbUsed + (movedKb * u.crushWeight * u.reweight) / totalWeight) / u.kb,
  }));
  // As Ceph flags an OSD: nearfull once its use passes the ratio, not when it reaches it.
  const over = projections.filter((p) => p.after > dump.nearfullRatio);
  if (over.length === 0) return { refusals: [], projections };
  const uses = over.map((p) => said('projectedUse', p.osd, percent(p.now), percent(p.after)));
  const moved = formatSize(movedKb * 1024);
  const ratio = percent(dump.nearfullRatio);
  const text = composed(uses, (texts) => said('wouldPassNearfull', osd, moved, list(texts), ratio));
  return { refusals: [{ code: 'nearfull', said: text }], projections };
}

// --- The drain ----------------------------------------------------------------------------------

export interface DrainProgress {
  misplacedObjects: number;
  misplacedTotal: number;
  degradedObjects: number;
  degradedTotal: number;
  bytesPerSec: number;
  /** Undefined while Ceph gives no rate (the manager needs two samples; 0 when nothing moves). */
  etaSeconds: number | undefined;
  pgsNotClean: number;
  /** One line for people: objects left, rate, time left. */
  said: Said;
}

/**
 * How far the drain is, from `ceph status`. The time left comes from the BYTE rate: Ceph rounds
 * `recovering_objects_per_sec` down to whole objects, so with 4 MiB RBD objects it said 0 objects/s
 * while 591 KiB/s moved (test/unit/fixtures/ceph/). Objects left are misplaced plus degraded copies,
 * each the cluster's mean object size (data_bytes / num_objects).
 */
export function drainProgress(status: ClusterStatus): DrainProgress {
  const r = status.recovery;
  const left = r.misplacedObjects + r.degradedObjects;
  const objectBytes = status.pgs.objects > 0 ? status.pgs.dataBytes / status.pgs.objects : 0;
  let etaSeconds: number | undefined;
  if (left === 0) etaSeconds = 0;
  else if (r.recoveringBytesPerSec > 0 && objectBytes > 0) {
    etaSeconds = (left * objectBytes) / r.recoveringBytesPerSec;
  } else if (r.recoveringObjectsPerSec > 0) etaSeconds = left / r.recoveringObjectsPerSec;
  const pgsNotClean = pgCount(status.pgs.byState.filter(({ state }) => !pgClean(state)));
  const rate =
    r.recoveringBytesPerSec > 0
      ? said('bytesRate', formatSize(r.recoveringBytesPerSec))
      : r.recoveringObjectsPerSec > 0
        ? said('objectsRate', r.recoveringObjectsPerSec)
        : said('noRate');
  const parts = [
    said('objectsOf', r.misplacedObjects, r.misplacedTotal),
    said('objectsOf', r.degradedObjects, r.degradedTotal),
    rate,
    etaSeconds === undefined ? said('noEta') : said('eta', duration(etaSeconds * 1000)),
  ];
  const line = composed(parts, ([misplaced = '', degraded = '', speed = '', left = '']) =>
    said('drainLine', misplaced, degraded, speed, left),
  );
  return {
    misplacedObjects: r.misplacedObjects,
    misplacedTotal: r.misplacedTotal,
    degradedObjects: r.degradedObjects,
    degradedTotal: r.degradedTotal,
    bytesPerSec: r.recoveringBytesPerSec,
    etaSeconds,
    pgsNotClean,
    said: line,
  };
}

export interface DestroyDecision {
  ready: boolean;
  /** Why not yet; empty when ready. */
  reasons: Said[];
}

/**
 * The OSD may be destroyed once Ceph lists it in `safe_to_destroy` (the exit code says nothing)
 * AND every PG is active+clean: on the lab, safe-to-destroy said yes while 8 PGs were still
 * `recovery_wait+degraded` after `out` (fixtures safe-not-clean-*). `pgs` from `ceph pg stat`.
 */
export function readyToDestroy(
  osd: number,
  safe: SafeToDestroy,
  pgs: { total: number; byState: PgStateCount[] },
): DestroyDecision {
  const reasons: Said[] = [];
  if (!safe.safe.includes(osd)) {
    reasons.push(safe.missingStats.includes(osd) ? said('notSafeNoStats', osd) : said('notSafeToDestroy', osd));
  }
  const notClean = pgs.byState.filter(({ state }) => !pgClean(state));
  const clean = pgCount(pgs.byState.filter(({ state }) => pgClean(state)));
  if (notClean.length > 0 || clean < pgs.total) {
    reasons.push(said('notAllClean', pgs.total - clean, pgs.total, statesOf(notClean)));
  }
  return { ready: reasons.length === 0, reasons };
}

export interface PgsOnOsd {
  /** PGs that map to the OSD or that it still serves (up or acting). */
  onOsd: number;
  /** PGs not active+clean, anywhere. */
  notClean: number;
  total: number;
}

/**
 * What the PGs say of one OSD, PG by PG: the answer to both waits that `status` and `pg stat`
 * cannot give right after `out` or a boot (their counts are the old clean ones then, while this
 * list still names the OSD in the PGs' sets, or not yet).
 */
export function pgsOnOsd(pgs: PgBrief[], osd: number): PgsOnOsd {
  return {
    onOsd: pgs.filter((pg) => pg.up.includes(osd) || pg.acting.includes(osd)).length,
    notClean: pgs.filter((pg) => !pgClean(pg.state)).length,
    total: pgs.length,
  };
}

/** Drained: no PG maps to the OSD or is served by it, and every PG is active+clean. */
export function drained(pgs: PgsOnOsd): boolean {
  return pgs.onOsd === 0 && pgs.notClean === 0;
}

/**
 * Backfilled: the new OSD holds as many PGs as the old one held (same id, weight and CRUSH place:
 * the same PGs), and every PG is active+clean.
 */
export function backfilled(pgs: PgsOnOsd, heldBefore: number): boolean {
  return pgs.onOsd >= Math.max(1, heldBefore) && pgs.notClean === 0;
}
