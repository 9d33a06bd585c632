// The report of one `disk swap`: one model for every kind of swap (a Ceph OSD's disk, a ZFS
// mirror's, an md RAID1 member's), rendered as a table for people and as the command's fields of the JSON
// envelope (English values; `detail` and `problems` in the reader's language in the table only).
import type { Said } from '../run/catalogue.js';
import { milliseconds } from '../run/output.js';
import { timedStepsTable, type Block, type ErrorReport } from '../run/report.js';
import { describeDisk, type DiskIdentity } from './disks.js';
import { messages } from './messages.js';

/**
 * A Ceph OSD's: identify, preflight, drain, destroy, swap, create, backfill, finish. A mirror's:
 * identify, preflight, takeout (zpool offline, mdadm --fail --remove), swap, partition (the table
 * copied), attach (zpool replace, mdadm --add), boot, rebuild (resilver, resync), finish.
 */
export type SwapPhaseName =
  | 'identify'
  | 'preflight'
  | 'drain'
  | 'destroy'
  | 'takeout'
  | 'swap'
  | 'create'
  | 'partition'
  | 'attach'
  | 'boot'
  | 'backfill'
  | 'rebuild'
  | 'finish';

/** What is swapped: a Ceph OSD's disk, or a member of a ZFS mirror or of an md RAID1. */
export type SwapTarget = { kind: 'ceph'; osd: number } | { kind: 'zfs'; pool: string } | { kind: 'md'; array: string };

export interface SwapPhase {
  phase: SwapPhaseName;
  /** earlier: done by a run this one continues; planned: dry-run. */
  outcome: 'done' | 'earlier' | 'planned' | 'failed';
  durationMs: number;
  detail: string;
}

export interface SwapReport {
  host: string;
  target: SwapTarget;
  /**
   * swapped; resumed (a swap an earlier run left half-way, finished); unchanged (the OSD is already
   * on the disk asked for, or on the one a finished swap put in); planned (dry-run); refused
   * (nothing changed); stalled (the data stopped moving: nothing destroyed); interrupted (Ctrl-C:
   * the same command continues); failed.
   */
  outcome: 'swapped' | 'resumed' | 'unchanged' | 'planned' | 'refused' | 'stalled' | 'interrupted' | 'failed';
  oldDisk: DiskIdentity | null;
  newDisk: DiskIdentity | null;
  phases: SwapPhase[];
  problems: Said[];
  /** How full each OSD that takes the data would be: fractions 0-1 (Ceph). */
  projections: { osd: number; now: number; after: number }[];
  failure: ErrorReport | null;
  totalMs: number;
}

export function newSwapReport(host: string, target: SwapTarget): SwapReport {
  return {
    host,
    target,
    outcome: 'refused',
    oldDisk: null,
    newDisk: null,
    phases: [],
    problems: [],
    projections: [],
    failure: null,
    totalMs: 0,
  };
}

/** A disk in JSON: English only. */
function diskFields(disk: DiskIdentity | null) {
  if (disk === null) return null;
  const { smartUnavailable, ...identity } = disk;
  return { ...identity, smartUnavailable: smartUnavailable?.en ?? null };
}

export function swapReportFields(report: SwapReport): Record<string, unknown> {
  return {
    swap: {
      host: report.host,
      kind: report.target.kind,
      osd: report.target.kind === 'ceph' ? report.target.osd : null,
      pool: report.target.kind === 'zfs' ? report.target.pool : null,
      array: report.target.kind === 'md' ? report.target.array : null,
      outcome: report.outcome,
      oldDisk: diskFields(report.oldDisk),
      newDisk: diskFields(report.newDisk),
    },
    phases: report.phases,
    problems: report.problems.map((problem) => problem.en),
    projections: report.projections,
    totalMs: report.totalMs,
  };
}

/** For people: "osd.3", "pool rpool", "array /dev/md0". */
export function targetName(target: SwapTarget): string {
  if (target.kind === 'ceph') return `osd.${target.osd}`;
  return target.kind === 'zfs' ? messages.poolName(target.pool) : messages.arrayName(target.array);
}

function verdict(report: SwapReport): string {
  const what = targetName(report.target);
  const { host } = report;
  const ceph = report.target.kind === 'ceph';
  switch (report.outcome) {
    case 'swapped':
      return ceph ? messages.verdictSwapped(what, host) : messages.verdictMirrorSwapped(what, host);
    case 'resumed':
      return ceph ? messages.verdictResumed(what, host) : messages.verdictMirrorResumed(what, host);
    case 'unchanged':
      return messages.verdictUnchanged(what, host);
    case 'planned':
      return messages.verdictPlanned(what, host);
    case 'refused':
      return messages.verdictRefused(what, host);
    case 'stalled':
      return messages.verdictStalled(what, host);
    case 'interrupted':
      return messages.verdictInterrupted(what, host);
    case 'failed':
      return messages.verdictFailed(what, host);
  }
}

/** For people: the disks, the phases with their durations, the problems, the verdict. */
export function swapReportView(report: SwapReport): Block[] {
  const blocks: Block[] = [];
  const lines = (disk: DiskIdentity) => describeDisk(report.host, disk).map((line) => `  ${line.text}`);
  if (report.oldDisk) {
    blocks.push({ text: [messages.oldDiskTitle(targetName(report.target)), ...lines(report.oldDisk)].join('\n') });
  }
  if (report.newDisk) blocks.push({ text: [messages.newDiskTitle, ...lines(report.newDisk)].join('\n') });
  if (report.phases.length > 0) {
    const phases = report.phases.map(({ phase, ...timed }) => ({ name: phase, ...timed }));
    blocks.push(timedStepsTable(messages.columnPhase, phases, messages.phaseOutcome));
  }
  if (report.failure?.hint) blocks.push({ text: `→ ${report.failure.hint}` });
  if (report.problems.length > 0) blocks.push({ text: report.problems.map((p) => `- ${p.text}`).join('\n') });
  blocks.push({ text: `${verdict(report)} (${milliseconds(report.totalMs)})` });
  return blocks;
}
