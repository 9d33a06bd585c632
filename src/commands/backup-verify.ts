// `chaton backup verify`: could every guest be restored today? Reads the cluster's guests, then
// every backup target on its host (in parallel across hosts, at most concurrency_per_host
// expensive checks on one), and hands what it read to the backup domain's judgement, rendered for
// a person, a program (--json), the monitoring (--format nagios) and node_exporter (--prom-file).
// Read-only: nothing is changed on any repository (a locked one is retried, never unlocked).
import { Option, type Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { HostTask } from '../lib/run/display.js';
import type { Host } from '../lib/inventory/types.js';
import type { BackupsSection, BackupTarget } from '../lib/backup/inventory.js';
import type { ClusterGuests } from '../lib/backup/guests.js';
import type { Listing, RepositoryCheck } from '../lib/backup/copies.js';
import type { Judgement, RestoreTest, TargetRead } from '../lib/backup/judge.js';
import type { RestoreResult } from '../lib/backup/restore.js';
import type { SecretRef } from '../lib/backup/inventory.js';
import type { Outcome, Probe, SecretInput, ToolOutput } from '../lib/backup/tools.js';
import type { DumpRead } from '../lib/backup/vzdump.js';
import type { Semaphore } from '../lib/run/semaphore.js';
import type { HostEntry } from '../lib/run/report.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('verify')
    .description(messages.backupVerifyDescription)
    .addOption(new Option('--format <format>', messages.nagiosFormatOption).choices(['nagios']))
    .option('--prom-file <file>', messages.backupPromFileOption)
    .option('--restore-test [guests]', messages.backupRestoreTestOption)
    .option('--no-integrity', messages.backupNoIntegrityOption)
    .addHelpText(
      'after',
      `\n${messages.backupVerifyHelp}\n${examples(
        'chaton backup verify',
        `chaton -q backup verify   # ${messages.fromCron}`,
        'chaton --json backup verify > backups.json',
        `chaton backup verify --format nagios   # ${messages.forNagios}`,
        `chaton backup verify --prom-file chaton_backup.prom   # ${messages.backupForNodeExporter}`,
        'chaton -q backup verify --restore-test mail,db',
        `chaton -q backup verify --no-integrity   # ${messages.backupHourlyMetadata}`,
      )}`,
    )
    .action(async (options: VerifyOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => backupVerify(ctx, options));
    });
}

interface VerifyOptions {
  format?: 'nagios';
  promFile?: string;
  /** true: every guest with a copy; a string: the guests it names. */
  restoreTest?: true | string;
  /** false with --no-integrity: coverage, freshness and retention only (no -t, no restic/borg check). */
  integrity: boolean;
}

/** A listing or a check: cheap ones run at once; expensive ones take a slot of the host's semaphore. */
const LIST_TIMEOUT_MS = 10 * 60_000;
/** restic check and borg check of a large repository take hours; Ctrl-C still stops them. */
const CHECK_TIMEOUT_MS = 12 * 3_600_000;
/** A repository locked by a running backup: looked at again every 3 s, for 6 s (three tries), then reported. */
const BUSY_INTERVAL_MS = 3_000;
const BUSY_BOUND_MS = 6_000;

/** One command a target's read ran: for -v, and for programs (JSON `checks`). */
interface Ran {
  host: string;
  /** null: the host's own restore-test records. */
  target: string | null;
  command: string;
  code: number | null;
  durationMs: number;
}

async function backupVerify(ctx: RunContext, options: VerifyOptions): Promise<CommandResult> {
  const started = performance.now();
  try {
    const { result, judged } = await verify(ctx, options);
    // Dry-run judges nothing and writes nothing; an interrupted run writes that it failed.
    if (options.promFile && !ctx.options.dryRun) await writeProm(ctx, options.promFile, judged, started, result);
    return result;
  } catch (error) {
    // The run did not reach its judgement: the textfile says so (success 0), the metrics of the
    // last good run are gone with it rather than left to look current.
    if (options.promFile && !ctx.options.dryRun) await writeProm(ctx, options.promFile, undefined, started);
    throw error;
  }
}

async function writeProm(
  ctx: RunContext,
  file: string,
  judged: Judgement | undefined,
  started: number,
  result?: CommandResult,
): Promise<void> {
  const { prometheusText } = await import('../lib/backup/render.js');
  const { writeFileAtomically } = await import('../lib/run/files.js');
  const { ExitCode, formatError } = await import('../lib/run/errors.js');
  const text = prometheusText(judged, {
    durationMs: performance.now() - started,
    success: judged !== undefined,
    endedAt: Date.now(),
  });
  try {
    await writeFileAtomically(file, text, 0o644);
  } catch (error) {
    ctx.notices.push(messages.backupPromNotWritten(file, formatError(error)));
    // The monitoring that reads the file would see nothing new: the run is partial at best.
    if (result && result.exitCode === ExitCode.ok) {
      result.exitCode = ExitCode.partial;
      result.alert = true;
    }
  }
}

async function verify(ctx: RunContext, options: VerifyOptions): Promise<{ result: CommandResult; judged?: Judgement }> {
  const { backupsOf } = await import('../lib/backup/inventory.js');
  const { ExitCode, UsageError } = await import('../lib/run/errors.js');
  const { resolveTargets } = await import('../lib/inventory/targets.js');
  const { fanOutPhase, runPhases } = await import('../lib/run/phases.js');
  const { errorReport } = await import('../lib/run/report.js');

  const backups = backupsOf(ctx.inventory);
  if (!backups) throw new UsageError(messages.backupNoSection(ctx.inventory.file), messages.backupNoSectionHint);
  if (ctx.options.json && options.format === 'nagios') throw new UsageError(messages.jsonOrNagios);
  if (options.restoreTest && !backups.restoreTest) {
    throw new UsageError(
      messages.backupRestoreNotConfigured(ctx.inventory.file),
      messages.backupRestoreNotConfiguredHint,
    );
  }

  const pveHosts = ctx.inventory.hosts.filter((host) => host.roles.includes('pve'));
  const targetHosts = resolveTargets(ctx.inventory, [...new Set(backups.targets.map((t) => t.host))].join(','));
  const cluster = new ClusterRead(ctx, pveHosts);
  const ran: Ran[] = [];
  const reads = new Map<string, TargetRead>();
  const restoreTests: RestoreTest[] = [];
  const readHosts = fanOutPhase<string[]>({
    title: messages.backupTargetsTitle,
    hosts: targetHosts,
    work: async (host, task) => {
      const reader = new TargetReader(ctx, backups, host, task, cluster, ran, restoreTests, options.integrity);
      try {
        const done = await reader.readAll(backups.targets.filter((target) => target.host === host.name));
        for (const read of done) reads.set(read.target.name, read);
        return done.map((read) => read.target.name);
      } finally {
        for (const read of reader.unreachable) reads.set(read.target.name, read);
      }
    },
    summary: (names) => messages.backupTargetsRead(names.join(', ')),
  });
  await runPhases(
    ctx,
    [
      { kind: 'connect', hosts: [...pveHosts, ...targetHosts] },
      { kind: 'step', title: messages.backupClusterTitle, run: (progress) => cluster.read(progress) },
      readHosts,
    ],
    'live',
  );

  const hosts: HostEntry[] = [
    ...cluster.tried.map(({ host, error }) => ({
      host: host.name,
      ok: error === undefined,
      error: error === undefined ? null : errorReport(error),
    })),
    ...readHosts.outcomes
      .filter((o) => !cluster.tried.some((tried) => tried.host.name === o.host.name))
      .map((o) => ({ host: o.host.name, ok: o.ok, error: o.ok ? null : errorReport(o.error) })),
  ];
  const checks = ran.map((r) => ({ ...r, durationMs: Math.round(r.durationMs) }));
  if (ctx.signal.aborted) return { result: { exitCode: ExitCode.interrupted, hosts, fields: { checks } } };

  const { judge } = await import('../lib/backup/judge.js');
  const { exitCodeOf, nagiosReport, reportFields, reportView } = await import('../lib/backup/render.js');
  const { outputWidth } = await import('../lib/run/text.js');
  const judged = () =>
    judge({
      backups,
      cluster: cluster.guests ?? { error: cluster.error },
      targets: backups.targets.flatMap((target) => reads.get(target.name) ?? []),
      now: Date.now(),
      restoreTests,
    });
  const restored = options.restoreTest ? await restoreTestsOf(ctx, backups, judged(), options.restoreTest) : [];
  if (ctx.options.dryRun) {
    // The restore tests' facts were read (spare VMIDs, free space); their changes are in the plan.
    const restoreLines = restored.map(restoreLine);
    return {
      result: {
        exitCode: ctx.signal.aborted ? ExitCode.interrupted : ExitCode.ok,
        hosts,
        fields: { checks, ...(options.restoreTest ? { restoreTests: restored.map(restoreJson) } : {}) },
        view: [...(restoreLines.length ? [{ text: restoreLines.join('\n') }] : []), { text: messages.backupDryRun }],
      },
    };
  }
  // What was just proved counts at once, as the records it wrote would on the next run.
  for (const result of restored.filter((r) => r.recorded)) {
    const measured = result.restoreMs === undefined ? {} : { durationMs: result.restoreMs };
    restoreTests.push({ guest: result.key, target: result.target, time: result.started, ok: result.ok, ...measured });
  }
  if (ctx.signal.aborted) return { result: { exitCode: ExitCode.interrupted, hosts, fields: { checks } } };
  const judgement = judged();
  const restoreLines = restored.map(restoreLine);
  return {
    judged: judgement,
    result: {
      exitCode: exitCodeOf(judgement.state),
      hosts,
      fields: {
        ...reportFields(judgement),
        checks,
        ...(options.restoreTest ? { restoreTests: restored.map(restoreJson) } : {}),
      },
      view: [
        ...reportView(judgement, outputWidth()),
        ...(restoreLines.length ? [{ text: restoreLines.join('\n') }] : []),
      ],
      alert: judgement.state !== 'ok',
      plugin: nagiosReport(judgement),
    },
  };
}

/**
 * The cluster's guests, from the first pve host that answers, and the time zone of each node:
 * vzdump names an archive in the LOCAL time of the node that wrote it, which is the node the
 * guest runs on (a guest that migrated since keeps older archives named in its former node's
 * zone: nodes of one cluster share a zone in practice). A guest whose node is not in the
 * inventory, or did not answer, is read in the zone of the host that listed the guests.
 */
class ClusterRead {
  guests: ClusterGuests | undefined;
  /** The zone of the host that listed the guests, and of each node by name. */
  zone: string | undefined;
  readonly zones = new Map<string, string>();
  readonly tried: { host: Host; error?: unknown }[] = [];
  /** Why the guests could not be listed, when they could not. */
  error: string;

  constructor(
    private readonly ctx: RunContext,
    private readonly pveHosts: Host[],
  ) {
    this.error = messages.backupNoPveHost;
  }

  async read(progress: (text: string) => void): Promise<void> {
    const { clusterGuestsFact } = await import('../lib/backup/guests.js');
    const { hostZoneFact } = await import('../lib/backup/zone.js');
    const { formatError } = await import('../lib/run/errors.js');
    const { executor } = this.ctx;
    for (const host of this.pveHosts) {
      try {
        const [guests, zone] = await Promise.all([
          executor.fact(host, clusterGuestsFact, { timeoutMs: LIST_TIMEOUT_MS }),
          executor.fact(host, hostZoneFact),
        ]);
        this.tried.push({ host });
        this.guests = guests;
        this.zone = this.zoneOf(host, zone);
        this.zones.set(host.name, this.zone);
        progress(messages.backupClusterFrom(host.name, guests.guests.length, this.zone));
        break;
      } catch (error) {
        this.tried.push({ host, error });
        if (this.ctx.signal.aborted) return;
      }
    }
    if (!this.guests) {
      const errors = this.tried.map(({ error }) => formatError(error));
      if (errors.length > 0) this.error = messages.backupClusterUnread(errors.join('; '));
      return;
    }
    // The other nodes that hold guests: their own zones, in parallel.
    const nodes = new Set(this.guests.guests.flatMap((guest) => (guest.node ? [guest.node] : [])));
    const others = this.pveHosts.filter((host) => nodes.has(host.name) && !this.zones.has(host.name));
    await Promise.all(
      others.map(async (host) => {
        try {
          this.zones.set(host.name, this.zoneOf(host, await executor.fact(host, hostZoneFact)));
        } catch {
          // Unreachable now: its guests are read in the zone of the host that listed them.
        }
      }),
    );
  }

  private zoneOf(host: Host, zone: { zone: string; from: string }): string {
    if (zone.from === 'none') this.ctx.notices.push(messages.backupZoneAssumed(host.name));
    return zone.zone;
  }

  /** The zone a vzdump archive of this guest is named in; undefined when no node could be read. */
  zoneForGuest(vmid: number | undefined): string | undefined {
    const node = this.guests?.guests.find((guest) => guest.vmid === vmid)?.node;
    return (node === undefined ? undefined : this.zones.get(node)) ?? this.zone;
  }
}

/** Every target on one host, read in parallel; their expensive checks share the host's semaphore. */
class TargetReader {
  #semaphore: Semaphore | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly backups: BackupsSection,
    private readonly host: Host,
    private readonly task: HostTask,
    private readonly cluster: ClusterRead,
    private readonly ran: Ran[],
    private readonly restoreTests: RestoreTest[],
    /** false: the integrity checks are not run, and each read says so (not checked, never ok). */
    private readonly integrity: boolean,
  ) {}

  async readAll(targets: BackupTarget[]): Promise<TargetRead[]> {
    const { Semaphore } = await import('../lib/run/semaphore.js');
    this.#semaphore = new Semaphore(this.backups.concurrencyPerHost);
    // Not reached: every target on it is unreachable (unknown, or critical as configured), and
    // the host's own line says why.
    try {
      await this.ctx.pool.connect(this.host);
    } catch (error) {
      const { emptyListing } = await import('../lib/backup/copies.js');
      const { formatError } = await import('../lib/run/errors.js');
      const unreachable = emptyListing({ kind: 'unreachable', detail: formatError(error) });
      this.unreachable = targets.map((target) => ({ target, listing: unreachable }));
      throw error;
    }
    const [read] = await Promise.all([
      Promise.all(targets.map((target) => this.read(target))),
      this.readRecords(targets),
    ]);
    return read;
  }

  /** The restore tests run on these targets' copies, as their host recorded them. */
  private async readRecords(targets: BackupTarget[]): Promise<void> {
    const { restoreRecordsProbe } = await import('../lib/backup/restore.js');
    const { formatError } = await import('../lib/run/errors.js');
    const probe = restoreRecordsProbe(targets.map((target) => target.name));
    try {
      this.restoreTests.push(...probe.parse(await this.send(undefined, probe, false)));
    } catch (error) {
      this.ctx.notices.push(messages.backupRecordsUnread(this.host.name, formatError(error)));
    }
  }

  /** What the targets of a host that could not be reached are judged on. */
  unreachable: TargetRead[] = [];

  private async read(target: BackupTarget): Promise<TargetRead> {
    switch (target.type) {
      case 'vzdump':
        return this.readVzdump(target);
      case 'pbs':
        return this.readPbs(target);
      case 'restic':
        return this.readRestic(target);
      case 'borg':
        return this.readBorg(target);
    }
  }

  private async readVzdump(target: Extract<BackupTarget, { type: 'vzdump' }>): Promise<TargetRead> {
    const { archivesToTest, dumpListProbe, integrityProbe } = await import('../lib/backup/vzdump.js');
    const read = await this.run(target, dumpListProbe(target), { expensive: false });
    if ('failed' in read) return { target, listing: read.failed };
    const listing = await this.inZones(read.value, target.path);
    const locations = listing.outcome.kind === 'ok' ? archivesToTest(listing.copies) : [];
    if (locations.length === 0) return { target, listing };
    if (!this.integrity) return { target, listing, integrityNotChecked: true };
    // One session per slot of the host's semaphore, each testing its share in turn.
    const size = Math.ceil(locations.length / this.backups.concurrencyPerHost);
    const chunks: string[][] = [];
    for (let i = 0; i < locations.length; i += size) chunks.push(locations.slice(i, i + size));
    const archives = new Map<string, Outcome>();
    await Promise.all(
      chunks.map(async (chunk) => {
        const tested = await this.run(target, integrityProbe(chunk), { expensive: true });
        for (const location of chunk) {
          archives.set(location, 'failed' in tested ? tested.failed.outcome : tested.value.get(location)!);
        }
      }),
    );
    return { target, listing, archives };
  }

  /** The dump directory's listing, each archive's name read in the zone of the node that wrote it. */
  private async inZones(read: DumpRead, dir: string): Promise<Listing> {
    const { dumpListing, parseArchiveName } = await import('../lib/backup/vzdump.js');
    const fallback = this.cluster.zone ?? (await this.ownZone());
    if (read.outcome.kind !== 'ok') return dumpListing(read, dir, fallback);
    const byZone = new Map<string, DumpRead['entries']>();
    for (const entry of read.entries) {
      const zone = this.cluster.zoneForGuest(parseArchiveName(entry.name)?.vmid) ?? fallback;
      byZone.set(zone, [...(byZone.get(zone) ?? []), entry]);
    }
    const parts = [...byZone].map(([zone, entries]) => dumpListing({ outcome: read.outcome, entries }, dir, zone));
    return {
      outcome: read.outcome,
      copies: parts.flatMap((part) => part.copies),
      leftovers: parts.flatMap((part) => part.leftovers),
    };
  }

  /** No pve node told its zone: the dump directory's own host's (UTC if it names none). */
  private async ownZone(): Promise<string> {
    const { hostZoneFact } = await import('../lib/backup/zone.js');
    try {
      const zone = await this.ctx.executor.fact(this.host, hostZoneFact);
      if (zone.from === 'none') this.ctx.notices.push(messages.backupZoneAssumed(this.host.name));
      return zone.zone;
    } catch {
      return 'UTC';
    }
  }

  private async readPbs(target: Extract<BackupTarget, { type: 'pbs' }>): Promise<TargetRead> {
    const { pbsSnapshotsProbe } = await import('../lib/backup/pbs.js');
    const secret = await this.secret(target.password);
    if ('unset' in secret) return { target, listing: secret.unset };
    const read = await this.run(target, pbsSnapshotsProbe(target, secret), { expensive: false });
    return { target, listing: 'failed' in read ? read.failed : read.value };
  }

  private async readRestic(target: Extract<BackupTarget, { type: 'restic' }>): Promise<TargetRead> {
    const { resticCheckProbe, resticSnapshotsProbe } = await import('../lib/backup/restic.js');
    const secret = await this.secret(target.password);
    if ('unset' in secret) return { target, listing: secret.unset };
    return this.listThenCheck(target, resticSnapshotsProbe(target, secret), resticCheckProbe(target, secret));
  }

  private async readBorg(target: Extract<BackupTarget, { type: 'borg' }>): Promise<TargetRead> {
    const { borgCheckProbe, borgListProbe } = await import('../lib/backup/borg.js');
    let secret: SecretInput | undefined;
    if (target.passphrase) {
      const resolved = await this.secret(target.passphrase);
      if ('unset' in resolved) return { target, listing: resolved.unset };
      secret = resolved;
    }
    return this.listThenCheck(target, borgListProbe(target, secret), borgCheckProbe(target, secret));
  }

  /** A repository's listing, then (when it could be read, and unless --no-integrity) its own check. */
  private async listThenCheck(
    target: BackupTarget,
    list: Probe<Listing>,
    check: Probe<RepositoryCheck>,
  ): Promise<TargetRead> {
    const listed = await this.run(target, list, { expensive: false, busy: (l) => l.outcome.kind === 'busy' });
    if ('failed' in listed) return { target, listing: listed.failed };
    const listing = listed.value;
    if (listing.outcome.kind !== 'ok' && listing.outcome.kind !== 'warning') return { target, listing };
    if (!this.integrity) return { target, listing, integrityNotChecked: true };
    const checked = await this.run(target, check, { expensive: true, busy: (c) => c.outcome.kind === 'busy' });
    const result = 'failed' in checked ? { outcome: checked.failed.outcome, problems: [] } : checked.value;
    return { target, listing, check: { ...result, durationMs: Math.round(checked.durationMs) } };
  }

  /** The secret a target names; a variable of the operator's that is not set is said as such. */
  private async secret(ref: SecretRef): Promise<SecretInput | { unset: Listing }> {
    const { resolveSecret } = await import('../lib/backup/tools.js');
    const { emptyListing } = await import('../lib/backup/copies.js');
    const resolved = resolveSecret(ref, this.ctx.env);
    if ('unset' in resolved) {
      return {
        unset: emptyListing({ kind: 'secret-unreadable', detail: messages.backupVariableNotSet(resolved.unset) }),
      };
    }
    return resolved;
  }

  /**
   * Runs a probe on the host (an expensive one in a slot of the host's semaphore; under
   * --dry-run, expensive ones are only planned) and parses what it said. A repository that says
   * it is locked is tried again a few times, then reported as it is: chaton never unlocks. What
   * stops the session (the host lost, a timeout, Ctrl-C) is the read's outcome, not a crash.
   */
  private async run<T>(
    target: BackupTarget,
    probe: Probe<T>,
    how: { expensive: boolean; busy?: (value: T) => boolean },
  ): Promise<({ value: T } | { failed: Listing }) & { durationMs: number }> {
    const { waitUntil } = await import('../lib/run/wait.js');
    let last: { value: T; durationMs: number } | undefined;
    const once = async () => {
      last = { value: probe.parse(await this.send(target, probe, how.expensive)), durationMs: this.lastDuration };
      return last;
    };
    try {
      if (!how.busy || this.ctx.options.dryRun) return await once();
      const busy = how.busy;
      return await waitUntil({
        poll: async () => {
          const got = await once();
          return busy(got.value)
            ? { done: false, waiting: messages.backupBusy(target.name, this.said(got.value)) }
            : { done: true, value: got };
        },
        boundMs: BUSY_BOUND_MS,
        intervalMs: BUSY_INTERVAL_MS,
        signal: this.ctx.signal,
        progress: (text) => this.task.progress(text),
        live: false,
        timedOut: () => new StillBusy(),
        interrupted: () => new StillBusy(),
      });
    } catch (error) {
      if (error instanceof StillBusy && last) return last;
      const { emptyListing } = await import('../lib/backup/copies.js');
      return { failed: emptyListing(await outcomeOfError(error)), durationMs: this.lastDuration };
    }
  }

  private said(value: unknown): string {
    const outcome = (value as { outcome?: Outcome }).outcome;
    return outcome?.detail ?? outcome?.kind ?? '';
  }

  private lastDuration = 0;

  private async send(target: BackupTarget | undefined, probe: Probe<unknown>, expensive: boolean): Promise<ToolOutput> {
    const release = expensive ? await this.#semaphore!.acquire() : () => {};
    try {
      // Dry-run: the listings are read, the checks only planned (printed with the plan).
      const plan = expensive && this.ctx.options.dryRun;
      const result = await this.ctx.executor.run(this.host, probe.command, {
        kind: plan ? 'change' : 'probe',
        check: false,
        timeoutMs: expensive ? CHECK_TIMEOUT_MS : LIST_TIMEOUT_MS,
      });
      this.lastDuration = result.durationMs;
      if (!result.dryRun) {
        this.ran.push({
          host: this.host.name,
          target: target?.name ?? null,
          command: result.command,
          code: result.code,
          durationMs: result.durationMs,
        });
        if (this.ctx.options.verbose) {
          const { milliseconds } = await import('../lib/run/output.js');
          const { brief } = await import('../lib/remote/shell.js');
          this.task.progress(
            messages.commandRan(
              target?.name ?? this.host.name,
              brief(result.command.replace(/\s*\n\s*/g, ' '), 300),
              milliseconds(Math.round(result.durationMs)),
              String(result.code),
            ),
          );
        }
      }
      return { code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
    } finally {
      release();
    }
  }
}

/** The bound of a busy repository's retries was reached (or Ctrl-C came): its last answer stands. */
class StillBusy extends Error {}

/** What stopped a probe's session, as the outcome of the read. */
async function outcomeOfError(error: unknown): Promise<Outcome> {
  const { ConnectionError, InterruptedError, LostWhileRunningError, formatError } =
    await import('../lib/run/errors.js');
  const detail = formatError(error);
  if (error instanceof InterruptedError) return { kind: 'interrupted', detail };
  if (error instanceof ConnectionError || error instanceof LostWhileRunningError)
    return { kind: 'unreachable', detail };
  return { kind: 'error', detail };
}

/**
 * Restores the newest copy of each chosen guest from each target that holds one, one test at a
 * time (two on one node would pick the same spare VMID), and says how each went. A test that
 * could not run (no space, a VMID taken...) proves nothing and is not recorded: it is told, and
 * restore_test_age says when the tests stop happening.
 */
async function restoreTestsOf(
  ctx: RunContext,
  backups: BackupsSection,
  first: Judgement,
  chosen: true | string,
): Promise<RestoreResult[]> {
  const { executorRunner, restoreTest } = await import('../lib/backup/restore.js');
  const { guestLabel } = await import('../lib/backup/guests.js');
  const { UsageError } = await import('../lib/run/errors.js');
  const { runPhases } = await import('../lib/run/phases.js');
  const withCopy = first.rows.filter((row) => row.onTargets.some((on) => on.read && on.copies.length > 0));
  const names = chosen === true ? [] : chosen.split(',').filter(Boolean);
  const isNamed = (row: (typeof withCopy)[number], name: string) =>
    name === row.guest.name || name === String(row.guest.vmid);
  const rows = withCopy.filter((row) => names.length === 0 || names.some((name) => isNamed(row, name)));
  const unknown = names.filter((name) => !withCopy.some((row) => isNamed(row, name)));
  if (unknown.length > 0 || rows.length === 0) {
    throw new UsageError(
      messages.backupRestoreUnknownGuests(unknown.join(', '), withCopy.map((r) => guestLabel(r.guest)).join(', ')),
    );
  }
  const results: RestoreResult[] = [];
  const hostNamed = (name: string) => ctx.inventory.hosts.find((host) => host.name === name)!;
  await runPhases(
    ctx,
    [
      {
        kind: 'step',
        title: messages.backupRestoreTitle,
        run: async (progress) => {
          const runner = executorRunner(ctx.executor, hostNamed, { signal: ctx.signal, progress, live: false });
          for (const row of rows) {
            for (const on of row.onTargets.filter((on) => on.read && on.copies.length > 0)) {
              if (ctx.signal.aborted) return;
              const target = backups.targets.find((t) => t.name === on.target)!;
              progress(messages.backupRestoreStarting(guestLabel(row.guest), target.name, on.copies[0]!.location));
              const result = await restoreTest(runner, {
                guest: row.guest,
                target,
                copy: on.copies[0]!,
                settings: backups.restoreTest!,
                env: ctx.env,
              });
              results.push(result);
              progress(restoreLine(result));
              if (!result.cleanedUp && result.where) ctx.notices.push(messages.backupRestoreNotCleaned(result.where));
            }
          }
        },
      },
    ],
    'live',
  );
  return results;
}

/** One restore test, as a person reads it. */
function restoreLine(result: RestoreResult): string {
  const guest = result.guest.name ?? String(result.guest.vmid);
  const reason = result.reason?.text ?? result.problem ?? '';
  if (result.ok && result.planned) return messages.backupRestorePlanned(guest, result.target, result.where ?? '');
  if (result.ok)
    return messages.backupRestoreOk(guest, result.target, `${Math.round(result.restoreMs ?? result.totalMs)} ms`);
  return result.recorded
    ? messages.backupRestoreFailed(guest, result.target, reason)
    : messages.backupRestoreRefused(guest, result.target, reason);
}

/** One restore test in JSON: English reasons, the steps it ran. */
function restoreJson(result: RestoreResult) {
  return {
    guest: result.key,
    target: result.target,
    location: result.location,
    ok: result.ok,
    problem: result.problem ?? null,
    reason: result.reason?.en ?? null,
    started: new Date(result.started).toISOString(),
    restoreMs: result.restoreMs === undefined ? null : Math.round(result.restoreMs),
    totalMs: Math.round(result.totalMs),
    where: result.where ?? null,
    cleanedUp: result.cleanedUp,
    recorded: result.recorded,
    planned: result.planned ?? false,
    steps: result.steps,
  };
}
