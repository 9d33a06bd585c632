// The judgement for whoever reads it, from the one report model (src/lib/run/report.ts): a table
// and its reasons for a person (80 columns, worst first), the command's JSON fields, the Nagios
// plugin line, the node_exporter textfile. Pure: the command writes them out. JSON, Nagios and
// Prometheus are English whatever the language; the metrics are named once, in METRICS.
import type { Block, TableBlock } from '../run/report.js';
import { ExitCode } from '../run/errors.js';
import type { Cell } from '../run/output.js';
import { wrap } from '../run/text.js';
import type { Copy } from './copies.js';
import { guestLabel } from './guests.js';
import { age, type Finding, type GuestRow, type Judgement, type State } from './judge.js';
import type { BackupPolicy } from './inventory.js';
import { messages } from './messages.js';

// ---------------------------------------------------------------------------------------------
// Exit codes

/**
 * chaton's exit code for a `backup verify` read by a person or a program (README's table):
 * 0 when every guest is ok or only warned about, 1 when something is critical, 4 ("partial")
 * when nothing is critical but something could not be proven (unknown).
 */
export function exitCodeOf(state: State): ExitCode {
  if (state === 'critical') return ExitCode.failed;
  return state === 'unknown' ? ExitCode.partial : ExitCode.ok;
}

/** The Monitoring Plugins' codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
const NAGIOS_CODE: Record<State, 0 | 1 | 2 | 3> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

// ---------------------------------------------------------------------------------------------
// For a person

function stateWord(state: State): string {
  return {
    ok: messages.stateOk,
    warning: messages.stateWarning,
    critical: messages.stateCritical,
    unknown: messages.stateUnknown,
  }[state];
}

const NONE = '-';

function stateCell(state: State): Cell {
  return state === 'critical' ? { text: stateWord(state), failed: true } : stateWord(state);
}

function guestCells(row: GuestRow, now: number): Cell[] {
  const { fresh, wanted, unknown } = row.coverage;
  return [
    guestLabel(row.guest),
    stateCell(row.state),
    // `?`: too few fresh copies proven, and a target that could not be read may hold more.
    `${fresh.length}/${wanted}${fresh.length < wanted && unknown.length > 0 ? '?' : ''}`,
    row.newest ? age(now - row.newest.time) : NONE,
    row.retention ? `${row.retention.copies}, ${age(row.retention.span)}` : NONE,
    integrityCell(row),
    row.restoreTest ? age(now - row.restoreTest.time) : NONE,
  ];
}

/**
 * The integrity a guest's row shows: a check that found a problem first; then "not checked" when a
 * check was not run (--no-integrity), never ok; then ok, or nothing when no check speaks for it.
 */
function integrityOf(row: GuestRow): State | 'not-checked' | undefined {
  if (row.integrity && row.integrity !== 'ok') return row.integrity;
  return row.integrityNotChecked.length > 0 ? 'not-checked' : row.integrity;
}

function integrityCell(row: GuestRow): string {
  const integrity = integrityOf(row);
  if (integrity === undefined) return NONE;
  return integrity === 'not-checked' ? messages.integrityNotChecked : stateWord(integrity).toLowerCase();
}

/** One row per guest judged, worst first (the judgement's order): fits 80 columns. */
export function guestTable(judgement: Judgement): TableBlock {
  const columns = [
    messages.columnGuest,
    messages.columnState,
    messages.columnFresh,
    messages.columnNewest,
    messages.columnKept,
    messages.columnIntegrity,
    messages.columnRestored,
  ];
  return { columns, rows: judgement.rows.map((row) => guestCells(row, judgement.now)), failures: [] };
}

/** A heading, then each finding on its own lines, wrapped to `width` under its state. */
function findingsText(heading: string, findings: readonly Finding[], width: number): string {
  const lines = [heading];
  for (const found of findings)
    lines.push(
      ...wrap(messages.stateLine(stateWord(found.state), found.message.text), width - 2, '    ').map(
        (line) => `  ${line}`,
      ),
    );
  return lines.join('\n');
}

/**
 * What a person reads: the table, why each guest is not ok, the targets' and the inventory's
 * problems, the exclusions, the verdict.
 */
export function reportView(judgement: Judgement, width: number): Block[] {
  const blocks: Block[] = [];
  if (judgement.rows.length > 0) blocks.push(guestTable(judgement));
  const reasons = judgement.rows
    .filter((row) => row.state !== 'ok')
    .map((row) => findingsText(guestLabel(row.guest), row.findings, width));
  const targets = judgement.targets
    .filter((target) => target.findings.length > 0)
    .map((target) =>
      findingsText(messages.targetHeading(target.name, target.type, target.host), target.findings, width),
    );
  const general =
    judgement.findings.length > 0 ? [findingsText(messages.generalHeading, judgement.findings, width)] : [];
  const problems = [...reasons, ...targets, ...general];
  if (problems.length > 0) blocks.push({ text: problems.join('\n') });
  if (judgement.excluded.length > 0) {
    const lines = judgement.excluded.flatMap((excluded) =>
      wrap(messages.excludedLine(guestLabel(excluded.guest), excluded.reason), width, '  '),
    );
    blocks.push({ text: lines.join('\n') });
  }
  blocks.push({
    text: wrap(messages.stateLine(stateWord(judgement.state), judgement.verdict.text), width, '  ').join('\n'),
  });
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// JSON

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms / 1000);

function findingJson(found: Finding): Record<string, unknown> {
  return { state: found.state, code: found.code, target: found.target ?? null, message: found.message.en };
}

function policyJson(policy: BackupPolicy): Record<string, number | null> {
  return {
    maxAgeSeconds: policy.maxAge,
    minCopies: policy.minCopies,
    minSpanSeconds: policy.minSpan ?? null,
    targets: policy.targets,
    verifyAgeSeconds: policy.verifyAge ?? null,
    restoreTestAgeSeconds: policy.restoreTestAge ?? null,
    maxRestoreTimeSeconds: policy.maxRestoreTime ?? null,
  };
}

function copyJson(copy: Copy): Record<string, unknown> {
  const verification = copy.verification;
  return {
    time: iso(copy.time),
    location: copy.location,
    size: copy.size ?? null,
    ...(verification === undefined
      ? {}
      : {
          verification:
            verification === 'never'
              ? 'never'
              : { state: verification.state, time: verification.time === undefined ? null : iso(verification.time) },
        }),
  };
}

function guestJson(row: GuestRow, now: number): Record<string, unknown> {
  const { guest } = row;
  return {
    key: row.key,
    vmid: guest.vmid ?? null,
    name: guest.name,
    type: guest.type,
    node: guest.node ?? null,
    state: row.state,
    inBackupJob: row.inBackupJob ?? null,
    policy: policyJson(row.policy),
    coverage: row.coverage,
    newest: row.newest
      ? {
          time: iso(row.newest.time),
          ageSeconds: seconds(now - row.newest.time),
          target: row.newest.target,
          location: row.newest.location,
        }
      : null,
    retention: row.retention
      ? { target: row.retention.target, copies: row.retention.copies, spanSeconds: seconds(row.retention.span) }
      : null,
    integrity: integrityOf(row) ?? null,
    verification: row.verification
      ? {
          target: row.verification.target,
          state: row.verification.state,
          time: row.verification.time === undefined ? null : iso(row.verification.time),
        }
      : null,
    restoreTest: row.restoreTest
      ? {
          time: iso(row.restoreTest.time),
          ok: row.restoreTest.ok,
          durationSeconds: row.restoreTest.durationMs === undefined ? null : seconds(row.restoreTest.durationMs),
        }
      : null,
    findings: row.findings.map(findingJson),
    targets: row.onTargets.map((placed) => ({
      target: placed.target,
      type: placed.type,
      read: placed.read,
      fresh: placed.fresh,
      copies: placed.copies.map(copyJson),
      integrity: placed.integrity
        ? {
            state: placed.integrity.state,
            passed: placed.integrity.passed ?? null,
            result: placed.integrity.outcome.kind,
            detail: placed.integrity.outcome.detail ?? null,
            location: placed.integrity.location ?? null,
          }
        : placed.integrityNotChecked
          ? { state: 'not-checked', passed: null, result: 'not-checked', detail: null, location: null }
          : null,
    })),
  };
}

/** The command's own fields in the JSON envelope: every copy's location, every check's result. */
export function reportFields(judgement: Judgement): Record<string, unknown> {
  return {
    state: judgement.state,
    verdict: judgement.verdict.en,
    time: iso(judgement.now),
    integrityChecked: judgement.integrityChecked,
    counts: judgement.counts,
    guests: judgement.rows.map((row) => guestJson(row, judgement.now)),
    excluded: judgement.excluded.map((excluded) => ({
      key: excluded.key,
      vmid: excluded.guest.vmid ?? null,
      name: excluded.guest.name,
      reason: excluded.reason,
      source: `${excluded.source.file}:${excluded.source.line}:${excluded.source.col}`,
    })),
    targets: judgement.targets.map((target) => ({
      name: target.name,
      type: target.type,
      host: target.host,
      state: target.state,
      read: target.outcome.kind,
      detail: target.outcome.detail ?? null,
      copies: target.copies,
      unattributed: target.unattributed,
      leftovers: target.leftovers.map((leftover) => ({
        location: leftover.location,
        vmid: leftover.vmid ?? null,
        time: iso(leftover.time),
      })),
      check: target.check
        ? {
            result: target.check.outcome.kind,
            detail: target.check.outcome.detail ?? null,
            problems: target.check.problems,
            durationMs: target.check.durationMs ?? null,
          }
        : null,
      findings: target.findings.map(findingJson),
    })),
    findings: judgement.findings.map(findingJson),
  };
}

// ---------------------------------------------------------------------------------------------
// Nagios

/** A perfdata label: in single quotes, a quote doubled; `=` is not allowed in it. */
function perfLabel(text: string): string {
  return `'${text.replace(/=/g, '_').replace(/'/g, "''")}'`;
}

/** Guests named in the status line, at most: the rest are counted, and listed on the lines after it. */
const NAMED_IN_SUMMARY = 5;

/**
 * The plugin output: `BACKUP <STATE> - <summary> | <perfdata>` on the first line (the newest
 * copy's age per guest in seconds, critical at the policy's max_age; the counts), then one line
 * per guest or target that is not ok, with what to do. Exit code as the Monitoring Plugins say.
 */
export function nagiosReport(judgement: Judgement): { text: string; exitCode: 0 | 1 | 2 | 3 } {
  const { counts, now } = judgement;
  const troubled = judgement.rows.filter((row) => row.state !== 'ok');
  const named = troubled.slice(0, NAMED_IN_SUMMARY).map((row) => `${guestLabel(row.guest)} ${row.state}`);
  if (troubled.length > NAMED_IN_SUMMARY) named.push(`${troubled.length - NAMED_IN_SUMMARY} more`);
  const badTargets = judgement.targets
    .filter((target) => target.state !== 'ok')
    .map((target) => `target ${target.name} ${target.state}`);
  // A | would end the text: the rest would be read as perfdata.
  const summary = [judgement.verdict.en, ...(named.length > 0 ? [named.join(', ')] : []), ...badTargets]
    .join('; ')
    .replace(/\|/g, '/');
  const ages = judgement.rows.map((row) => {
    const value = row.newest ? `${seconds(now - row.newest.time)}s` : 'U';
    return `${perfLabel(`age ${guestLabel(row.guest)}`)}=${value};;${row.policy.maxAge};0;`;
  });
  const totals = (
    ['guests', 'ok', 'warning', 'critical', 'unknown', 'excluded', 'notInJob', 'withoutCopy'] as const
  ).map((key) => `${key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}=${counts[key]};;;0;`);
  const line = `${summary} | ${[...totals, ...ages].join(' ')}`;
  const first = `BACKUP ${judgement.state.toUpperCase()} - ${line}`;
  const said = (findings: readonly Finding[]) =>
    findings.map((found) => `${found.state.toUpperCase()}: ${found.message.en}`).join('; ');
  const details = [
    ...troubled.map((row) => `${guestLabel(row.guest)}: ${said(row.findings)}`),
    ...judgement.targets
      .filter((target) => target.findings.length > 0)
      .map((target) => `target ${target.name}: ${said(target.findings)}`),
    ...(judgement.findings.length > 0 ? [said(judgement.findings)] : []),
  ].map((detail) => detail.replace(/\|/g, '/'));
  return { text: [first, ...details].join('\n'), exitCode: NAGIOS_CODE[judgement.state] };
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/** Every metric `backup verify` writes, with its help: the one place they are named (the README lists them). */
export const METRICS = {
  chaton_backup_last_timestamp_seconds: 'When the newest copy of a guest on a target was made.',
  chaton_backup_copies: 'Copies of a guest a target holds.',
  chaton_backup_integrity_ok:
    'Whether the integrity check that speaks for a guest on a target passed (1) or found damage (0).',
  chaton_backup_verified_timestamp_seconds: 'PBS: when the newest snapshot of a guest was last verified.',
  chaton_backup_last_restore_test_timestamp_seconds: 'When the last good restore test of a guest ran.',
  chaton_backup_guest_status: 'The state of a guest: 0 ok, 1 warning, 2 critical, 3 unknown (the Nagios codes).',
  chaton_backup_guests: 'Guests judged, by state.',
  chaton_backup_guests_excluded: 'Guests excluded by the inventory, with a reason.',
  chaton_backup_guests_without_backup: 'Guests without a single copy on a target that could be read.',
  chaton_backup_guests_not_in_job: 'Guests in no backup job of the cluster.',
  chaton_backup_target_up: 'Whether a target could be read (1) or not (0).',
  chaton_backup_verify_duration_seconds: 'How long this run of chaton backup verify took.',
  chaton_backup_verify_success:
    'Whether this run of chaton backup verify reached its judgement (1), whatever it found.',
  chaton_backup_verify_timestamp_seconds: 'When this run of chaton backup verify ended.',
} as const;
type Metric = keyof typeof METRICS;

/** A label value as the exposition format escapes it. */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function sample(metric: Metric, labels: Record<string, string | undefined>, value: number): string {
  const pairs = Object.entries(labels).flatMap(([name, text]) =>
    text === undefined ? [] : [`${name}="${labelValue(text)}"`],
  );
  return `${metric}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${value}`;
}

export interface RunFacts {
  durationMs: number;
  /** The run reached its judgement (what it found does not matter). */
  success: boolean;
  /** When it ended, milliseconds since the epoch. */
  endedAt: number;
}

/**
 * The node_exporter textfile (the command writes it to NAME.prom.$$, then renames it); without a
 * judgement (the run failed before it), only the run's own metrics.
 */
export function prometheusText(judgement: Judgement | undefined, run: RunFacts): string {
  const samples = new Map<Metric, string[]>(Object.keys(METRICS).map((metric) => [metric as Metric, []]));
  const add = (metric: Metric, labels: Record<string, string | undefined>, value: number) =>
    samples.get(metric)!.push(sample(metric, labels, value));
  for (const row of judgement?.rows ?? []) {
    const guest = { guest: row.guest.name, vmid: row.guest.vmid === undefined ? undefined : String(row.guest.vmid) };
    for (const placed of row.onTargets) {
      const labels = { ...guest, target: placed.target };
      const newest = placed.copies[0];
      if (!placed.read || !newest) continue;
      add('chaton_backup_last_timestamp_seconds', labels, seconds(newest.time));
      add('chaton_backup_copies', labels, placed.copies.length);
      if (placed.integrity?.passed !== undefined)
        add('chaton_backup_integrity_ok', labels, placed.integrity.passed ? 1 : 0);
      if (typeof newest.verification === 'object' && newest.verification.time !== undefined) {
        add('chaton_backup_verified_timestamp_seconds', labels, seconds(newest.verification.time));
      }
    }
    if (row.restoreTest?.ok)
      add('chaton_backup_last_restore_test_timestamp_seconds', guest, seconds(row.restoreTest.time));
    add('chaton_backup_guest_status', guest, NAGIOS_CODE[row.state]);
  }
  if (judgement) {
    const { counts } = judgement;
    for (const state of ['ok', 'warning', 'critical', 'unknown'] as const)
      add('chaton_backup_guests', { state }, counts[state]);
    add('chaton_backup_guests_excluded', {}, counts.excluded);
    add('chaton_backup_guests_without_backup', {}, counts.withoutCopy);
    add('chaton_backup_guests_not_in_job', {}, counts.notInJob);
  }
  for (const target of judgement?.targets ?? []) {
    const up = target.outcome.kind === 'ok' || target.outcome.kind === 'warning' ? 1 : 0;
    add('chaton_backup_target_up', { target: target.name, type: target.type, host: target.host }, up);
  }
  add('chaton_backup_verify_duration_seconds', {}, Math.round(run.durationMs) / 1000);
  add('chaton_backup_verify_success', {}, run.success ? 1 : 0);
  add('chaton_backup_verify_timestamp_seconds', {}, seconds(run.endedAt));
  return [...samples]
    .filter(([, lines]) => lines.length > 0)
    .flatMap(([metric, lines]) => [`# HELP ${metric} ${METRICS[metric]}`, `# TYPE ${metric} gauge`, ...lines])
    .join('\n')
    .concat('\n');
}
