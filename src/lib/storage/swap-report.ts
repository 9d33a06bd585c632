// The report of one `disk swap`: one model for every kind of swap (a Ceph OSD now; a ZFS mirror or
// an mdadm array next), rendered as a table for people and as the command's fields of the JSON
// envelope (English values; `detail` and `problems` in the reader's language in the table only).
import type { Said } from '../run/catalogue.js';
import { milliseconds } from '../run/output.js';
import { timedStepsTable, type Block, type ErrorReport } from '../run/report.js';
import { describeDisk, type DiskIdentity } from './disks.js';
import { messages } from './messages.js';

export type SwapPhaseName = 'identify' | 'preflight' | 'drain' | 'destroy' | 'swap' | 'create' | 'backfill' | 'finish';

export interface SwapPhase {
  phase: SwapPhaseName;
  /** earlier: done by a run this one continues; planned: dry-run. */
  outcome: 'done' | 'earlier' | 'planned' | 'failed';
  durationMs: number;
  detail: string;
}

export interface SwapReport {
  host: string;
  /** What is swapped: a Ceph OSD's id. */
  osd: number;
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

export function newSwapReport(host: string, osd: number): SwapReport {
  return {
    host,
    osd,
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
      osd: report.osd,
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

function verdict(report: SwapReport): string {
  const what = `osd.${report.osd}`;
  const { host } = report;
  switch (report.outcome) {
    case 'swapped':
      return messages.verdictSwapped(what, host);
    case 'resumed':
      return messages.verdictResumed(what, host);
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
    blocks.push({ text: [messages.oldDiskTitle(`osd.${report.osd}`), ...lines(report.oldDisk)].join('\n') });
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
