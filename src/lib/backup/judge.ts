// The judgement: from the guests, what each target holds and what its checks said, the policy and
// the time now, whether each guest could be restored today, and why not; one pure function.
// States rank critical > unknown > warning > ok: unknown (nothing proves the guest restorable)
// is worse than a warning. Each finding says what to do, in English (JSON, Nagios) and in the
// reader's language (the terminal).
import type { SourcePosition } from '../inventory/types.js';
import type { Copy, Leftover, Listing, RepositoryCheck } from './copies.js';
import { formatDuration } from '../inventory/durations.js';
import { extraGuest, type ClusterGuests, type Guest, guestKey } from './guests.js';
import type { BackupPolicy, BackupsSection, BackupTarget, TargetType } from './inventory.js';
import { type Said, said } from './messages.js';
import { globRegExp, policyFor, unmatchedSelectors } from './policy.js';
import type { Outcome } from './tools.js';

export type State = 'ok' | 'warning' | 'critical' | 'unknown';

const RANK: Record<State, number> = { ok: 0, warning: 1, unknown: 2, critical: 3 };

export function worst(states: Iterable<State>): State {
  let found: State = 'ok';
  for (const state of states) if (RANK[state] > RANK[found]) found = state;
  return found;
}

/** Worst first. */
function byState(a: State, b: State): number {
  return RANK[b] - RANK[a];
}

/** Something the judgement found: its state, a code for programs, the target it is about, what to do. */
export interface Finding {
  state: State;
  code: string;
  target?: string;
  message: Said;
}

/** What the command read of one target. */
export interface TargetRead {
  target: BackupTarget;
  listing: Listing;
  /** restic check, borg check: when it ran, how it ended and how long it took. */
  check?: RepositoryCheck & { durationMs?: number };
  /** vzdump: each tested archive's outcome, by location (see archivesToTest). */
  archives?: ReadonlyMap<string, Outcome>;
  /** Its integrity checks were not run (--no-integrity): what they would prove is "not checked", never ok. */
  integrityNotChecked?: boolean;
}

/** A restore test recorded on a target host (a later slice writes them). */
export interface RestoreTest {
  /** guestKey() of the guest. */
  guest: string;
  /** The target the copy came from (records of old versions may lack it). */
  target?: string;
  time: number;
  ok: boolean;
  durationMs?: number;
}

export interface JudgeInput {
  backups: BackupsSection;
  /** The cluster's guests, or why they could not be listed. */
  cluster: ClusterGuests | { error: string };
  targets: readonly TargetRead[];
  /** Milliseconds since the epoch. */
  now: number;
  /** The last restore tests, when their records were read; undefined: not known (not judged). */
  restoreTests?: readonly RestoreTest[];
}

/** One guest on one target. */
export interface GuestOnTarget {
  target: string;
  type: TargetType;
  /** false: the target could not be read, what it holds of the guest is unknown. */
  read: boolean;
  /** Newest first. */
  copies: Copy[];
  fresh: boolean;
  /**
   * The integrity check that speaks for this guest here (its newest archive's test, the PBS
   * verification of its newest snapshot, the repository check): its state, and whether the data
   * tested good (undefined: not tested, never verified, locked).
   */
  integrity?: { state: State; passed?: boolean; outcome: Outcome; location?: string };
  /** Its copies' integrity check was not run (--no-integrity). */
  integrityNotChecked?: boolean;
}

export interface GuestRow {
  guest: Guest;
  key: string;
  state: State;
  findings: Finding[];
  policy: BackupPolicy;
  /** In a backup job of the cluster; undefined for a host outside Proxmox. */
  inBackupJob?: boolean;
  /** Targets holding a fresh copy, wanted, and those that could not be read. */
  coverage: { fresh: string[]; wanted: number; unknown: string[] };
  newest?: { time: number; target: string; location: string };
  /** The target that keeps the most copies: how many, over how long (ms). */
  retention?: { target: string; copies: number; span: number };
  /** The worst of the integrity checks that ran; undefined when none did. */
  integrity?: State;
  /** Targets holding copies of the guest whose integrity check was not run (--no-integrity). */
  integrityNotChecked: string[];
  /** PBS: the newest snapshot's verification. */
  verification?: { target: string; state: 'ok' | 'failed' | 'never'; time?: number };
  restoreTest?: RestoreTest;
  onTargets: GuestOnTarget[];
}

export interface TargetSummary {
  name: string;
  type: TargetType;
  host: string;
  state: State;
  findings: Finding[];
  outcome: Outcome;
  copies: number;
  /** Copies whose guest is not a guest of the cluster (deleted guests, other hosts). */
  unattributed: number;
  leftovers: Leftover[];
  check?: TargetRead['check'];
}

export interface Excluded {
  guest: Guest;
  key: string;
  reason: string;
  source: SourcePosition;
}

export interface Counts {
  guests: number;
  ok: number;
  warning: number;
  critical: number;
  unknown: number;
  excluded: number;
  /** Guests judged that are in no backup job of the cluster. */
  notInJob: number;
  /** Guests judged without a single copy on a target that could be read. */
  withoutCopy: number;
}

export interface Judgement {
  state: State;
  verdict: Said;
  now: number;
  counts: Counts;
  /** Worst first. */
  rows: GuestRow[];
  excluded: Excluded[];
  targets: TargetSummary[];
  /** About the inventory or the cluster as a whole. */
  findings: Finding[];
  /** false when integrity checks were not run (--no-integrity): the verdict says so. */
  integrityChecked: boolean;
}

const SECOND = 1000;

function finding(state: State, code: string, message: Said, target?: string): Finding {
  return target === undefined ? { state, code, message } : { state, code, target, message };
}

/**
 * An age, written as the inventory writes durations (the same in every language): minutes under
 * an hour, hours under two days, then days.
 */
export function age(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.floor(hours / 24)}d`;
}

/** Bytes for people, in binary units. */
export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// Which guest a copy is of

interface Attribution {
  /** Copies by guest key. */
  copies: Map<string, Copy[]>;
  unattributed: number;
  /** Names (or archives) that more than one guest could claim. */
  ambiguous: Map<string, number>;
}

/**
 * A copy names its guest by VMID (vzdump, PBS, a restic tag), by host name (restic, PBS host
 * backups), or by an archive name that the target's pattern matches (borg): the guest whose
 * pattern says the most (the most characters that are not * or ?) wins; a tie counts for none.
 */
function attribute(copies: readonly Copy[], target: BackupTarget, guests: readonly Guest[]): Attribution {
  const byVmid = new Map(guests.flatMap((guest) => (guest.vmid === undefined ? [] : [[guest.vmid, guest] as const])));
  const byName = new Map<string, Guest[]>();
  for (const guest of guests)
    byName.set(guest.name.toLowerCase(), [...(byName.get(guest.name.toLowerCase()) ?? []), guest]);
  const patterns =
    target.type === 'borg'
      ? guests.flatMap((guest) => {
          if (target.archivePattern.includes('{vmid}') && guest.vmid === undefined) return [];
          const expanded = target.archivePattern
            .replaceAll('{name}', guest.name)
            .replaceAll('{vmid}', String(guest.vmid));
          return [{ guest, regex: globRegExp(expanded), weight: expanded.replace(/[*?]/g, '').length }];
        })
      : [];
  const result: Attribution = { copies: new Map(), unattributed: 0, ambiguous: new Map() };
  for (const copy of copies) {
    let candidates: Guest[];
    if ('vmid' in copy.key) candidates = [byVmid.get(copy.key.vmid)].filter((guest): guest is Guest => !!guest);
    else if ('name' in copy.key) candidates = byName.get(copy.key.name.toLowerCase()) ?? [];
    else {
      const archive = copy.key.archive;
      const matching = patterns.filter((pattern) => pattern.regex.test(archive));
      const best = Math.max(...matching.map((pattern) => pattern.weight));
      candidates = matching.filter((pattern) => pattern.weight === best).map((pattern) => pattern.guest);
    }
    if (candidates.length === 1) {
      const key = guestKey(candidates[0]!);
      result.copies.set(key, [...(result.copies.get(key) ?? []), copy]);
    } else if (candidates.length === 0) result.unattributed++;
    else {
      const name = 'name' in copy.key ? copy.key.name : 'archive' in copy.key ? copy.key.archive : '';
      result.ambiguous.set(name, candidates.length);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Targets

/** What a target that could not be read means for a guest that may have a copy there. */
function unreadState(outcome: Outcome, backups: BackupsSection): State {
  if (outcome.kind === 'busy') return 'warning';
  if (outcome.kind === 'unreachable') return backups.unreachable;
  return 'unknown';
}

function isRead(listing: Listing): boolean {
  return listing.outcome.kind === 'ok' || listing.outcome.kind === 'warning';
}

/** What the target itself is told about its listing. */
function listingFinding(read: TargetRead, backups: BackupsSection): Finding | undefined {
  const { target } = read;
  const { kind, detail = '' } = read.listing.outcome;
  const where = target.type === 'vzdump' ? target.path : target.repository;
  switch (kind) {
    case 'ok':
      return undefined;
    case 'warning':
      return finding('warning', 'read-warning', said('targetWarning', target.name, detail), target.name);
    case 'busy':
      return finding('warning', 'busy', said('targetBusy', target.name, target.host), target.name);
    case 'wrong-password':
      return finding('critical', 'wrong-password', said('targetWrongPassword', target.name), target.name);
    case 'no-repository':
      return finding('critical', 'no-repository', said('targetMissing', target.name, where, target.host), target.name);
    case 'secret-unreadable':
      return finding('unknown', 'secret-unreadable', said('targetSecretUnreadable', target.name, detail), target.name);
    case 'missing-tool':
      return finding(
        'unknown',
        'missing-tool',
        said('targetToolMissing', target.name, target.host, detail),
        target.name,
      );
    case 'unreachable':
      return finding(
        backups.unreachable,
        'unreachable',
        said('targetUnreachable', target.name, target.host, detail),
        target.name,
      );
    case 'interrupted':
      return finding('unknown', 'interrupted', said('targetInterrupted', target.name), target.name);
    case 'failed':
    case 'error':
      return finding('unknown', 'read-error', said('targetError', target.name, detail), target.name);
  }
}

const TOOL: Record<TargetType, string> = {
  vzdump: 'vzdump',
  pbs: 'proxmox-backup-client',
  restic: 'restic',
  borg: 'borg',
};

/** The repository check's state for the guests whose copies it covers, and what they are told. */
function checkFinding(read: TargetRead): Finding | undefined {
  const check = read.check;
  if (!check || !isRead(read.listing)) return undefined;
  const { target } = read;
  const { kind, detail = '' } = check.outcome;
  if (kind === 'ok') return undefined;
  if (kind === 'failed') {
    return finding(
      'critical',
      'repository-damaged',
      said('repositoryDamaged', target.name, TOOL[target.type], detail),
      target.name,
    );
  }
  if (kind === 'busy' || kind === 'warning') {
    return finding(
      'warning',
      'check-busy',
      said(kind === 'busy' ? 'checkBusy' : 'checkWarning', target.name, detail),
      target.name,
    );
  }
  return finding('unknown', 'check-not-run', said('checkNotRun', target.name, detail), target.name);
}

// ---------------------------------------------------------------------------------------------
// Guests

interface GuestContext {
  input: JudgeInput;
  reads: readonly TargetRead[];
  attributions: Map<string, Attribution>;
  notBackedUp: Set<number>;
  leftovers: Map<number, { target: string; leftover: Leftover }[]>;
}

function onTarget(read: TargetRead, copies: Copy[], policy: BackupPolicy, now: number): GuestOnTarget {
  const sorted = [...copies].sort((a, b) => b.time - a.time);
  const readable = isRead(read.listing);
  const newest = sorted[0];
  return {
    target: read.target.name,
    type: read.target.type,
    read: readable,
    copies: sorted,
    fresh: readable && newest !== undefined && now - newest.time <= policy.maxAge * SECOND,
  };
}

function coverageFindings(
  row: GuestRow,
  reads: readonly TargetRead[],
  backups: BackupsSection,
  now: number,
): Finding[] {
  const { fresh, wanted, unknown } = row.coverage;
  if (fresh.length >= wanted) return [];
  if (fresh.length + unknown.length >= wanted) {
    const states = reads
      .filter((read) => unknown.includes(read.target.name))
      .map((read) => unreadState(read.listing.outcome, backups));
    return [finding(worst(states), 'coverage-unknown', said('coverageUnknown', unknown.join(', ')))];
  }
  const readWithCopies = row.onTargets.filter((placed) => placed.read && placed.copies.length > 0);
  if (fresh.length > 0) {
    const missing = row.onTargets.filter((placed) => placed.read && !placed.fresh).map((placed) => placed.target);
    return [finding('warning', 'few-targets', said('fewTargets', fresh.length, wanted, missing.join(', ')))];
  }
  if (readWithCopies.length === 0) return [finding('critical', 'no-copy', said('noCopy'))];
  return [finding('critical', 'stale', said('stale', age(now - row.newest!.time), formatDuration(row.policy.maxAge)))];
}

function retentionOf(row: GuestRow): Finding[] {
  const kept = row.onTargets
    .filter((placed) => placed.read && placed.copies.length > 0)
    .map((placed) => ({
      target: placed.target,
      copies: placed.copies.length,
      span: placed.copies[0]!.time - placed.copies[placed.copies.length - 1]!.time,
    }));
  if (kept.length === 0) return [];
  const { minCopies, minSpan } = row.policy;
  const meets = (entry: (typeof kept)[number]) =>
    entry.copies >= minCopies && (minSpan === undefined || entry.span >= minSpan * SECOND);
  const best = kept.find(meets) ?? [...kept].sort((a, b) => b.copies - a.copies || b.span - a.span)[0]!;
  row.retention = best;
  if (meets(best)) return [];
  const message =
    minSpan === undefined
      ? said('retentionCopies', best.target, best.copies, minCopies)
      : said('retention', best.target, best.copies, age(best.span), minCopies, formatDuration(minSpan));
  return [finding('warning', 'retention', message)];
}

/** The newest vzdump archive's test, and its size against the previous ones. */
function archiveFindings(placed: GuestOnTarget, read: TargetRead): Finding[] {
  const newest = placed.copies[0];
  if (!newest || read.target.type !== 'vzdump') return [];
  const found: Finding[] = [];
  const name = newest.location.slice(newest.location.lastIndexOf('/') + 1);
  const tested = read.archives?.get(newest.location);
  if (tested) {
    const state: State =
      tested.kind === 'ok'
        ? 'ok'
        : tested.kind === 'warning'
          ? 'warning'
          : tested.kind === 'failed'
            ? 'critical'
            : 'unknown';
    const passed = state === 'ok' || state === 'warning' ? true : state === 'critical' ? false : undefined;
    placed.integrity = {
      state,
      ...(passed === undefined ? {} : { passed }),
      outcome: tested,
      location: newest.location,
    };
    const detail = tested.detail ?? '';
    if (state === 'critical')
      found.push(finding(state, 'archive-damaged', said('archiveDamaged', placed.target, name, detail), placed.target));
    if (state === 'warning')
      found.push(finding(state, 'archive-warning', said('archiveWarning', placed.target, name, detail), placed.target));
    if (state === 'unknown')
      found.push(
        finding(state, 'archive-untested', said('archiveUntested', placed.target, name, detail), placed.target),
      );
  }
  if (newest.size !== undefined) {
    const previous = placed.copies.slice(1).filter((copy) => copy.size !== undefined);
    const alike = previous.filter((copy) => copy.compression === newest.compression);
    const sizes = (alike.length > 0 ? alike : previous).map((copy) => copy.size!);
    if (sizes.length > 0 && newest.size < median(sizes) / 2) {
      found.push(
        finding(
          'warning',
          'size-drop',
          said('sizeDrop', placed.target, name, size(newest.size), size(median(sizes))),
          placed.target,
        ),
      );
    }
  }
  return found;
}

function verificationFindings(row: GuestRow, placed: GuestOnTarget, now: number): Finding[] {
  const newest = placed.copies[0];
  if (!newest || placed.type !== 'pbs' || newest.verification === undefined) return [];
  const verification = newest.verification;
  const target = placed.target;
  if (verification === 'never') {
    row.verification = { target, state: 'never' };
    placed.integrity = {
      state: 'warning',
      outcome: { kind: 'error', detail: 'never verified' },
      location: newest.location,
    };
    return [finding('warning', 'never-verified', said('neverVerified', target, newest.location), target)];
  }
  row.verification = {
    target,
    state: verification.state,
    ...(verification.time === undefined ? {} : { time: verification.time }),
  };
  if (verification.state === 'failed') {
    placed.integrity = { state: 'critical', passed: false, outcome: { kind: 'failed' }, location: newest.location };
    return [finding('critical', 'verify-failed', said('verifyFailed', target, newest.location), target)];
  }
  placed.integrity = { state: 'ok', passed: true, outcome: { kind: 'ok' }, location: newest.location };
  const limit = row.policy.verifyAge;
  if (limit !== undefined && verification.time !== undefined && now - verification.time > limit * SECOND) {
    placed.integrity.state = 'warning';
    return [
      finding(
        'warning',
        'verify-old',
        said('verifyOld', target, age(now - verification.time), formatDuration(limit)),
        target,
      ),
    ];
  }
  return [];
}

function repositoryFindings(placed: GuestOnTarget, read: TargetRead): Finding[] {
  if (placed.copies.length === 0 || !read.check || !isRead(read.listing)) return [];
  const checked = checkFinding(read);
  const kind = read.check.outcome.kind;
  const passed = kind === 'ok' ? true : kind === 'failed' ? false : undefined;
  placed.integrity = {
    state: checked?.state ?? 'ok',
    ...(passed === undefined ? {} : { passed }),
    outcome: read.check.outcome,
  };
  return checked ? [checked] : [];
}

function restoreFindings(row: GuestRow, tests: readonly RestoreTest[] | undefined, now: number): Finding[] {
  if (tests === undefined) return [];
  const mine = tests.filter((test) => test.guest === row.key).sort((a, b) => b.time - a.time);
  const { restoreTestAge, maxRestoreTime } = row.policy;
  if (!mine[0])
    return restoreTestAge === undefined ? [] : [finding('warning', 'never-restore-tested', said('neverRestoreTested'))];
  // Each target's copies restore or not on their own: a good test from one target does not
  // excuse the last one from another that failed.
  const lastPerTarget = mine.filter((test, i) => mine.findIndex((other) => other.target === test.target) === i);
  const failed = lastPerTarget.find((test) => !test.ok);
  if (failed) {
    row.restoreTest = failed;
    const from = failed.target ?? '?';
    return [finding('critical', 'restore-test-failed', said('restoreTestFailed', from, age(now - failed.time)))];
  }
  const last = mine[0];
  row.restoreTest = last;
  const found: Finding[] = [];
  if (restoreTestAge !== undefined && now - last.time > restoreTestAge * SECOND) {
    found.push(
      finding(
        'warning',
        'restore-test-old',
        said('restoreTestOld', age(now - last.time), formatDuration(restoreTestAge)),
      ),
    );
  }
  if (maxRestoreTime !== undefined && last.durationMs !== undefined && last.durationMs > maxRestoreTime * SECOND) {
    found.push(
      finding('warning', 'restore-slow', said('restoreSlow', age(last.durationMs), formatDuration(maxRestoreTime))),
    );
  }
  return found;
}

function judgeGuest(guest: Guest, policy: BackupPolicy, context: GuestContext): GuestRow {
  const { input, reads, attributions } = context;
  const key = guestKey(guest);
  const onTargets = reads.map((read) =>
    onTarget(read, attributions.get(read.target.name)?.copies.get(key) ?? [], policy, input.now),
  );
  const newest = onTargets
    .flatMap((placed) => (placed.read && placed.copies[0] ? [{ ...placed.copies[0], target: placed.target }] : []))
    .sort((a, b) => b.time - a.time)[0];
  const row: GuestRow = {
    guest,
    key,
    state: 'ok',
    findings: [],
    policy,
    ...(guest.vmid === undefined ? {} : { inBackupJob: !context.notBackedUp.has(guest.vmid) }),
    coverage: {
      fresh: onTargets.filter((placed) => placed.fresh).map((placed) => placed.target),
      wanted: policy.targets,
      unknown: onTargets.filter((placed) => !placed.read).map((placed) => placed.target),
    },
    ...(newest ? { newest: { time: newest.time, target: newest.target, location: newest.location } } : {}),
    integrityNotChecked: [],
    onTargets,
  };
  const findings = [...coverageFindings(row, reads, input.backups, input.now)];
  if (row.inBackupJob === false) findings.push(finding('warning', 'not-in-job', said('notInJob')));
  findings.push(...retentionOf(row));
  onTargets.forEach((placed, i) => {
    const read = reads[i]!;
    if (!placed.read) return;
    if (read.integrityNotChecked && placed.copies.length > 0) {
      placed.integrityNotChecked = true;
      row.integrityNotChecked.push(placed.target);
    }
    findings.push(
      ...archiveFindings(placed, read),
      ...verificationFindings(row, placed, input.now),
      ...repositoryFindings(placed, read),
    );
  });
  for (const { target, leftover } of guest.vmid === undefined ? [] : (context.leftovers.get(guest.vmid) ?? [])) {
    const name = leftover.location.slice(leftover.location.lastIndexOf('/') + 1);
    findings.push(
      finding('warning', 'leftover', said('leftover', target, name, age(input.now - leftover.time)), target),
    );
  }
  findings.push(...restoreFindings(row, input.restoreTests, input.now));
  const integrities = onTargets.flatMap((placed) => (placed.integrity ? [placed.integrity.state] : []));
  if (integrities.length > 0) row.integrity = worst(integrities);
  row.findings = findings.sort((a, b) => byState(a.state, b.state));
  row.state = worst(findings.map((found) => found.state));
  return row;
}

// ---------------------------------------------------------------------------------------------
// The whole

function guestsOf(input: JudgeInput): Guest[] {
  const cluster = 'guests' in input.cluster ? input.cluster.guests : [];
  const names = new Set(cluster.map((guest) => guest.name.toLowerCase()));
  const extras: Guest[] = [];
  for (const target of input.backups.targets) {
    if (target.type !== 'restic' && target.type !== 'borg') continue;
    for (const name of target.extraGuests) {
      if (names.has(name.toLowerCase())) continue;
      names.add(name.toLowerCase());
      extras.push(extraGuest(name));
    }
  }
  return [...cluster, ...extras];
}

function verdictOf(counts: Counts, targets: TargetSummary[], findings: Finding[], integrityChecked: boolean): Said {
  const troubled = targets.filter((target) => target.state !== 'ok').length;
  if (counts.ok === counts.guests && troubled === 0 && findings.length === 0)
    return said(integrityChecked ? 'verdictOk' : 'verdictOkNotChecked', counts.guests);
  const parts = [said('verdictCounts', counts.guests, counts.critical, counts.unknown, counts.warning, counts.ok)];
  if (!integrityChecked) parts.push(said('verdictNotChecked'));
  if (troubled > 0) parts.push(said('verdictTargets', troubled));
  if (findings.length > 0) parts.push(said('verdictFindings', findings.length));
  if (counts.excluded > 0) parts.push(said('verdictExcluded', counts.excluded));
  const separator = said('listSeparator');
  return {
    en: parts.map((part) => part.en).join(separator.en),
    text: parts.map((part) => part.text).join(separator.text),
  };
}

export function judge(input: JudgeInput): Judgement {
  const { backups, now } = input;
  const allGuests = guestsOf(input);
  const reads = backups.targets.map(
    (target) =>
      input.targets.find((read) => read.target.name === target.name) ?? {
        target,
        listing: { outcome: { kind: 'error' as const, detail: 'not read' }, copies: [], leftovers: [] },
      },
  );
  const attributions = new Map(
    reads.map((read) => [read.target.name, attribute(read.listing.copies, read.target, allGuests)]),
  );
  const leftovers = new Map<number, { target: string; leftover: Leftover }[]>();
  for (const read of reads) {
    for (const leftover of read.listing.leftovers) {
      if (leftover.vmid === undefined) continue;
      leftovers.set(leftover.vmid, [...(leftovers.get(leftover.vmid) ?? []), { target: read.target.name, leftover }]);
    }
  }
  const notBackedUp = new Set('notBackedUp' in input.cluster ? input.cluster.notBackedUp : []);
  const context: GuestContext = { input, reads, attributions, notBackedUp, leftovers };

  const rows: GuestRow[] = [];
  const excluded: Excluded[] = [];
  for (const guest of allGuests) {
    const applies = policyFor(guest, backups);
    if (applies.excluded)
      excluded.push({ guest, key: guestKey(guest), reason: applies.reason, source: applies.by.source });
    else rows.push(judgeGuest(guest, applies.policy, context));
  }
  rows.sort(
    (a, b) =>
      byState(a.state, b.state) ||
      (a.guest.vmid ?? Infinity) - (b.guest.vmid ?? Infinity) ||
      a.guest.name.localeCompare(b.guest.name),
  );

  const targets = reads.map((read): TargetSummary => {
    const attribution = attributions.get(read.target.name)!;
    const found = [listingFinding(read, backups), checkFinding(read)].filter((item): item is Finding => !!item);
    for (const leftover of read.listing.leftovers.filter((item) => item.vmid === undefined)) {
      const name = leftover.location.slice(leftover.location.lastIndexOf('/') + 1);
      found.push(
        finding(
          'warning',
          'leftover',
          said('leftover', read.target.name, name, age(now - leftover.time)),
          read.target.name,
        ),
      );
    }
    for (const [name, count] of attribution.ambiguous) {
      found.push(finding('warning', 'ambiguous', said('ambiguous', read.target.name, name, count), read.target.name));
    }
    return {
      name: read.target.name,
      type: read.target.type,
      host: read.target.host,
      state: worst(found.map((item) => item.state)),
      findings: found,
      outcome: read.listing.outcome,
      copies: read.listing.copies.length,
      unattributed: attribution.unattributed,
      leftovers: read.listing.leftovers,
      ...(read.check ? { check: read.check } : {}),
    };
  });

  const findings: Finding[] = [];
  if ('error' in input.cluster)
    findings.push(finding('unknown', 'cluster-unknown', said('clusterUnknown', input.cluster.error)));
  else {
    for (const selector of unmatchedSelectors(allGuests, backups.overrides)) {
      const where = `${selector.source.file}:${selector.source.line}:${selector.source.col}`;
      findings.push(finding('warning', 'override-unmatched', said('selectorUnmatched', selector.text, where)));
    }
  }

  const count = (state: State) => rows.filter((row) => row.state === state).length;
  const counts: Counts = {
    guests: rows.length,
    ok: count('ok'),
    warning: count('warning'),
    critical: count('critical'),
    unknown: count('unknown'),
    excluded: excluded.length,
    notInJob: rows.filter((row) => row.inBackupJob === false).length,
    withoutCopy: rows.filter((row) => row.onTargets.every((placed) => !placed.read || placed.copies.length === 0))
      .length,
  };
  const state = worst([
    ...rows.map((row) => row.state),
    ...targets.map((target) => target.state),
    ...findings.map((item) => item.state),
  ]);
  const integrityChecked = !reads.some((read) => read.integrityNotChecked);
  return {
    state,
    verdict: verdictOf(counts, targets, findings, integrityChecked),
    now,
    counts,
    rows,
    excluded,
    targets,
    findings,
    integrityChecked,
  };
}
