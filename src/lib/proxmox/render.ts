// The report of one `vm create`: one model, rendered as a table for people and as the command's
// fields of the JSON envelope for programs (English values; only `detail` sentences and `problems`
// are in the reader's language in the table, English in JSON).
import { timedStepsTable, type ErrorReport, type Block } from '../run/report.js';
import { milliseconds } from '../run/output.js';
import { vmMessages as messages, type Said } from './messages.js';
import type { Difference } from './vm.js';

export interface VmStep {
  /** backup (joining the backup job), then verify, run beside start and reach. */
  step: 'preflight' | 'clone' | 'configure' | 'backup' | 'start' | 'reach' | 'verify' | 'finish' | 'cleanup';
  outcome: 'done' | 'planned' | 'failed';
  durationMs: number;
  detail: string;
}

export interface VmReport {
  name: string;
  /**
   * created; resumed (an unfinished VM finished); unchanged or differs (a VM of that name, made
   * before); planned (dry-run); refused (nothing made); destroyed or kept (a failure after the
   * clone); interrupted (Ctrl-C: rerun to continue); failed.
   */
  outcome:
    | 'created'
    | 'resumed'
    | 'unchanged'
    | 'differs'
    | 'planned'
    | 'refused'
    | 'destroyed'
    | 'kept'
    | 'interrupted'
    | 'failed';
  vmid: number | null;
  node: string | null;
  address: string | null;
  /** SHA256 fingerprint of the host key read through the agent and recorded. */
  fingerprint: string | null;
  /** What the VM said its name is, over SSH through the bastion. */
  hostname: string | null;
  differences: Difference[];
  problems: Said[];
  /** Clones refused before the one that worked: the VMID tried and why. */
  attempts: { vmid: number; error: string }[];
  steps: VmStep[];
  failure: ErrorReport | null;
  totalMs: number;
}

/** The command's fields of the JSON envelope. */
/** A run's report before its first step: refused until it says otherwise. */
export function newVmReport(name: string): VmReport {
  return {
    name,
    outcome: 'refused',
    vmid: null,
    node: null,
    address: null,
    fingerprint: null,
    hostname: null,
    differences: [],
    problems: [],
    attempts: [],
    steps: [],
    failure: null,
    totalMs: 0,
  };
}

export function vmReportFields(report: VmReport): Record<string, unknown> {
  return {
    vm: {
      name: report.name,
      outcome: report.outcome,
      vmid: report.vmid,
      node: report.node,
      address: report.address,
      fingerprint: report.fingerprint,
      hostname: report.hostname,
    },
    differences: report.differences,
    problems: report.problems.map((problem) => problem.en),
    attempts: report.attempts,
    steps: report.steps,
    totalMs: report.totalMs,
  };
}

function verdict(report: VmReport): string {
  const where = { vmid: String(report.vmid ?? '?'), node: report.node ?? '?', address: report.address ?? '?' };
  switch (report.outcome) {
    case 'created':
      return messages.verdictCreated(report.name, where.vmid, where.node, where.address);
    case 'resumed':
      return messages.verdictResumed(report.name, where.vmid, where.node, where.address);
    case 'unchanged':
      return messages.verdictUnchanged(report.name, where.vmid, where.node, where.address);
    case 'differs':
      return messages.verdictDiffers(report.name, where.vmid, report.differences.length);
    case 'planned':
      return messages.verdictPlanned(report.name, where.vmid, where.node, where.address);
    case 'refused':
      return messages.verdictRefused(report.name);
    case 'destroyed':
      return messages.verdictDestroyed(report.name, where.vmid);
    case 'kept':
      return messages.verdictKept(report.name, where.vmid, where.node);
    case 'interrupted':
      return messages.verdictInterrupted(report.name);
    case 'failed':
      return messages.verdictFailed(report.name);
  }
}

/** For people: the VM, its steps with their durations, the differences or problems, the verdict. */
export function vmReportView(report: VmReport): Block[] {
  const blocks: Block[] = [];
  const facts: [string, string | null][] = [
    [messages.labelVmid, report.vmid === null ? null : String(report.vmid)],
    [messages.labelNode, report.node],
    [messages.labelAddress, report.address],
    [messages.labelFingerprint, report.fingerprint],
    [messages.labelHostname, report.hostname],
  ];
  const shown = facts.filter((fact): fact is [string, string] => fact[1] !== null);
  if (shown.length > 0) {
    const label = Math.max(...shown.map(([name]) => name.length));
    blocks.push({ text: shown.map(([name, value]) => `${name.padEnd(label)}  ${value}`).join('\n') });
  }
  if (report.steps.length > 0) {
    const steps = report.steps.map(({ step, ...timed }) => ({ name: step, ...timed }));
    blocks.push(timedStepsTable(messages.columnStep, steps, messages.stepOutcome));
  }
  // The failed step's row says what went wrong; what to do follows the table.
  if (report.failure?.hint) blocks.push({ text: `→ ${report.failure.hint}` });
  if (report.differences.length > 0) {
    blocks.push({
      columns: [messages.columnSetting, messages.columnWanted, messages.columnActual],
      rows: report.differences.map((d) => [d.setting, d.wanted, d.actual]),
      failures: [],
    });
  }
  if (report.problems.length > 0) blocks.push({ text: report.problems.map((p) => `- ${p.text}`).join('\n') });
  if (report.attempts.length > 0) {
    blocks.push({ text: report.attempts.map((a) => messages.attemptLine(a.vmid, a.error)).join('\n') });
  }
  blocks.push({ text: `${verdict(report)} (${milliseconds(report.totalMs)})` });
  return blocks;
}
