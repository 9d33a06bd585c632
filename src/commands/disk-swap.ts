// `chaton disk swap <host> --osd <id>`: a failing Ceph OSD disk replaced on a live cluster, the
// way the Ceph docs' "Replacing an OSD" does it, checked at every step and resumable:
// 1. Identify the OSD's disk (serial, WWN, model, size, SMART, by-id path) and 2. preflight it
//    (read-only; refused with the numbers: src/lib/ceph/judge.ts). 3. Drain: the cluster's lock
//    (a config-key), noout on this OSD only, out, then wait until Ceph lists it safe to destroy
//    AND every PG is active+clean. 4. ok-to-stop, stop, destroy (id, CRUSH place, class kept).
// 5. The operator swaps the disk: its LED lit, a NEW device awaited, confirmed by its typed serial
//    (or --new-device with --yes). 6. Zap it, create the OSD with the same id (a purged entry put
//    back first), wait for backfill and health; noout off, lock released.
// Every step is a step of the shared journal (src/lib/run/journal.ts), kept on the OSD's host and
// locally: the same command continues after Ctrl-C, a lost session or a reboot of the laptop.
// Ceph is polled at most once per Ceph host every 5 s, round the cluster's hosts, so a poll
// survives one of them dropping. This file holds the flags, the help, the phases and steps; Ceph's
// facts, judgements and changes are src/lib/ceph/'s, the disks' src/lib/storage/'s.
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { OsdTree } from '../lib/ceph/facts.js';
import type { Probe } from '../lib/remote/facts.js';
import type { DestroyedEntry, SwapLock } from '../lib/ceph/operations.js';
import type { Host } from '../lib/inventory/types.js';
import type { RemoteCommand } from '../lib/remote/shell.js';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { Wrapper } from '../lib/run/display.js';
import type { Json } from '../lib/run/journal.js';
import type { Polled, Wait } from '../lib/run/wait.js';
import type { Disk, DiskIdentity } from '../lib/storage/disks.js';
import type { SwapPhaseName, SwapReport } from '../lib/storage/swap-report.js';
import { messages as swapMessages } from '../lib/storage/messages.js';
import { SwapRun } from '../lib/storage/swap-run.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('swap')
    .description(messages.swapDescription)
    .argument('<host>', messages.swapHostArgument)
    .option('--osd <id>', messages.swapOsdOption)
    .option('--zfs <pool>', messages.swapZfsOption)
    .option('--md <array>', messages.swapMdOption)
    .option('--device <disk>', messages.swapDeviceOption)
    .option('--new-device <disk>', messages.swapNewDeviceOption)
    .option('--resume', messages.swapResumeOption)
    .addOption(new Option('--drain-timeout <duration>', messages.swapDrainTimeoutOption).default('12h'))
    .addOption(new Option('--stall-timeout <duration>', messages.swapStallTimeoutOption).default('15m'))
    .addOption(new Option('--swap-timeout <duration>', messages.swapSwapTimeoutOption).default('2h'))
    .addOption(new Option('--rebuild-timeout <duration>', messages.swapRebuildTimeoutOption).default('48h'))
    .addHelpText(
      'after',
      `\n${messages.swapHelp}\n${examples(
        `chaton --dry-run disk swap pve2 --osd 3   # ${messages.swapDryRunExample}`,
        `chaton disk swap pve2 --osd 3   # ${messages.swapTerminalExample}`,
        `chaton -y disk swap pve2 --osd 3 --new-device S3Z9NB0K12   # ${messages.swapRunbookExample}`,
        `chaton disk swap pve2 --osd 3 --resume   # ${messages.swapResumeExample}`,
        `chaton -y disk swap pve1 --zfs rpool --device WD-WX12 --new-device WD-WX77   # ${messages.swapMirrorExample}`,
        `chaton disk swap backup --md md0 --device WD-WX34   # ${messages.swapMdExample}`,
      )}`,
    )
    .action(async (hostName: string, options: SwapOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => diskSwap(ctx, hostName, options));
    });
}

interface SwapOptions {
  osd?: string;
  zfs?: string;
  md?: string;
  device?: string;
  rebuildTimeout: string;
  newDevice?: string;
  resume?: boolean;
  drainTimeout: string;
  stallTimeout: string;
  swapTimeout: string;
}

/** The journal's steps, in order: a rerun goes on from the first one not done. */
const STEPS = [
  'identify',
  'lock',
  'out',
  'drain',
  'stop',
  'destroy',
  'swap',
  'create',
  'backfill',
  'unnoout',
  'unlock',
] as const;
type Step = (typeof STEPS)[number];

/** The report's phase of each journal step. */
const PHASE_OF: Record<Step, SwapPhaseName> = {
  identify: 'identify',
  lock: 'drain',
  out: 'drain',
  drain: 'drain',
  stop: 'destroy',
  destroy: 'destroy',
  swap: 'swap',
  create: 'create',
  backfill: 'backfill',
  unnoout: 'finish',
  unlock: 'finish',
};

/** Polling load on the monitors: one `ceph` command per Ceph host per this much time. */
const POLL_PER_HOST_MS = 5000;
/** A `ceph` question that takes longer than this is stuck (monitors without quorum). */
const CEPH_PROBE_TIMEOUT_MS = 60_000;
/**
 * systemctl stop waits up to systemd's DefaultTimeoutStopSec (90 s) for the OSD to exit before it
 * kills it: a stop is not stuck before that.
 */
const STOP_TIMEOUT_MS = 120_000;
/** ceph-volume makes BlueStore on the whole disk: minutes on a large slow disk. */
const CREATE_TIMEOUT_MS = 30 * 60_000;
/** ok-to-stop may say no for a moment after a drain (PG stats catching up), and the new OSD's boot. */
const SHORT_WAIT_MS = 5 * 60_000;
/**
 * After the lock is written, how long before it is read back: two runs that both found it free
 * wrote it within one command's time of each other, and the later value is what both read then.
 */
const LOCK_SETTLE_MS = 700;
/** A lock read this recently (the preflight's, with no question asked since) is not read again. */
const LOCK_FRESH_MS = 3000;

function journalId(osd: number): string {
  return `disk-swap-ceph-osd.${osd}`;
}

async function diskSwap(ctx: RunContext, hostName: string, options: SwapOptions): Promise<CommandResult> {
  const { UsageError } = await import('../lib/run/errors.js');
  const targets = [options.osd, options.zfs, options.md].filter((given) => given !== undefined);
  if (targets.length !== 1) throw new UsageError(messages.swapNoTarget, messages.swapNoTargetHint);
  if (options.osd === undefined) return mirrorSwap(ctx, hostName, options);
  if (options.device !== undefined) throw new UsageError(messages.swapDeviceWithOsd, messages.swapNoTargetHint);
  if (!/^[0-9]{1,6}$/.test(options.osd)) {
    throw new UsageError(messages.swapBadOsd(options.osd), messages.swapNoTargetHint);
  }
  const bounds = {
    drainMs: await durationMs('--drain-timeout', options.drainTimeout),
    stallMs: await durationMs('--stall-timeout', options.stallTimeout),
    swapMs: await durationMs('--swap-timeout', options.swapTimeout),
  };
  const host = await inventoryHost(ctx, hostName);
  const cephHosts = ctx.inventory.hosts.filter((candidate) => candidate.roles.includes('ceph'));
  if (!cephHosts.includes(host)) {
    throw new UsageError(messages.swapNotCeph(hostName, ctx.inventory.file), messages.swapNotCephHint);
  }
  const { newSwapReport } = await import('../lib/storage/swap-report.js');
  const osd = Number(options.osd);
  const swap = new Swap(ctx, host, cephHosts, osd, options, bounds, newSwapReport(host.name, { kind: 'ceph', osd }));
  return swap.run();
}

/** A duration flag's value in ms ("12h", "15m"), or bad input (exit 2). */
async function durationMs(flag: string, value: string): Promise<number> {
  const { UsageError } = await import('../lib/run/errors.js');
  const { parseDuration } = await import('../lib/inventory/durations.js');
  const parsed = parseDuration(value);
  if (parsed === undefined) throw new UsageError(messages.swapBadDuration(flag, value), messages.swapBadDurationHint);
  return parsed * 1000;
}

async function inventoryHost(ctx: RunContext, name: string): Promise<Host> {
  const { UsageError } = await import('../lib/run/errors.js');
  const host = ctx.inventory.hosts.find((candidate) => candidate.name === name);
  if (host === undefined)
    throw new UsageError(messages.swapUnknownHost(name, ctx.inventory.file), messages.swapUnknownHostHint);
  return host;
}

/** `--zfs <pool>` or `--md <array>`, `--device <old>`: the mirror swap (storage/mirror-swap.ts). */
async function mirrorSwap(ctx: RunContext, hostName: string, options: SwapOptions): Promise<CommandResult> {
  const { UsageError } = await import('../lib/run/errors.js');
  const flag = options.zfs !== undefined ? '--zfs' : '--md';
  const name = (options.zfs ?? options.md)!;
  // Names that are also file names of the journal and the lock (zpool's own rules are wider: a colon, a space).
  const valid =
    options.zfs !== undefined ? /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/ : /^(\/dev\/)?md(\/)?[A-Za-z0-9_.-]{1,64}$/;
  if (!valid.test(name)) {
    throw new UsageError(messages.swapBadName(flag, name), messages.swapNoTargetHint);
  }
  if (options.device === undefined || options.device.trim() === '') {
    throw new UsageError(messages.swapNoDevice(flag), messages.swapNoTargetHint);
  }
  const bounds = {
    swapMs: await durationMs('--swap-timeout', options.swapTimeout),
    rebuildMs: await durationMs('--rebuild-timeout', options.rebuildTimeout),
    stallMs: await durationMs('--stall-timeout', options.stallTimeout),
  };
  const host = await inventoryHost(ctx, hostName);
  const { MirrorSwap } = await import('../lib/storage/mirror-swap.js');
  const { newSwapReport } = await import('../lib/storage/swap-report.js');
  const target =
    options.zfs !== undefined
      ? ({ kind: 'zfs', pool: options.zfs } as const)
      : ({ kind: 'md', array: name.startsWith('/dev/') ? name : `/dev/${name}` } as const);
  const swapOptions = {
    device: options.device.trim(),
    ...(options.newDevice !== undefined ? { newDevice: options.newDevice } : {}),
    ...(options.resume ? { resume: true } : {}),
  };
  return new MirrorSwap(ctx, host, target, swapOptions, bounds, newSwapReport(host.name, target)).run();
}

/** Ceph's answer on one of its hosts, taken in turn: the polling load spread, a dropped host skipped. */
class CephHosts {
  /** When each host was last asked by a poll (performance.now()). */
  readonly #asked = new Map<Host, number>();

  constructor(
    private readonly ctx: RunContext,
    /** The OSD's host first: its changes run there, and it answers the first question. */
    readonly hosts: Host[],
  ) {}

  /**
   * The host the next poll asks: the one asked longest ago, once POLL_PER_HOST_MS have passed since
   * (waited for here, ended by Ctrl-C: then undefined).
   */
  async next(signal: AbortSignal): Promise<Host | undefined> {
    const { pause } = await import('../lib/run/wait.js');
    const last = (host: Host) => this.#asked.get(host) ?? Number.NEGATIVE_INFINITY;
    const host = this.hosts.reduce((oldest, candidate) => (last(candidate) < last(oldest) ? candidate : oldest));
    const early = last(host) + POLL_PER_HOST_MS - performance.now();
    if (early > 0) await pause(early, signal);
    if (signal.aborted) return undefined;
    this.mark(host);
    return host;
  }

  /** The host was just asked (a check outside the polls' turns also counts for its next turn). */
  mark(host: Host): void {
    this.#asked.set(host, performance.now());
  }

  ask<T>(host: Host, probe: Probe<T>): Promise<T> {
    return this.ctx.executor.probe(host, probe, { timeoutMs: CEPH_PROBE_TIMEOUT_MS });
  }
}

/** One run of `disk swap --osd`: its phases and the journal's steps, each timed and reported. */
class Swap extends SwapRun<Step> {
  readonly ceph: CephHosts;
  /** What the journal's steps found, for the steps after them. */
  entry: DestroyedEntry | undefined;
  /** The device names present at the identification: a new disk is one that was not there. */
  knownSerials: string[] = [];
  /**
   * The PGs the OSD held before the drain: the new one, same id, weight and CRUSH place, gets the
   * same ones back (CRUSH is a function of them). Until it holds them, the PG states lag behind:
   * on the lab `pg stat` said all clean while it held 2 of its 22.
   */
  pgsBefore = 0;
  /** The preflight's reads, for the confirmation and the lock; when the lock was read. */
  foundLock: SwapLock | { foreign: string } | undefined;
  lockReadAt = 0;
  /** A wait for the data stopped: it stopped moving, or took longer than its bound. */
  stalled = false;

  constructor(
    ctx: RunContext,
    host: Host,
    cephHosts: Host[],
    private readonly osd: number,
    private readonly options: SwapOptions,
    private readonly bounds: { drainMs: number; stallMs: number; swapMs: number },
    report: SwapReport,
  ) {
    super(ctx, host, report, PHASE_OF);
    this.ceph = new CephHosts(ctx, [host, ...cephHosts.filter((other) => other !== host)]);
  }

  async run(): Promise<CommandResult> {
    const { runPhases } = await import('../lib/run/phases.js');
    const { ExitCode, RefusedError, UsageError } = await import('../lib/run/errors.js');
    let unchanged = false;
    try {
      await runPhases(
        this.ctx,
        [
          { kind: 'connect', hosts: [this.host] },
          {
            kind: 'step',
            title: messages.swapIdentifyTitle(this.osd, this.host.name),
            run: async (progress) => {
              unchanged = await this.identifyAndCheck(progress);
            },
          },
        ],
        'live',
      );
    } catch (error) {
      // Nothing changed before the journal opens: bad input or a refusal alike.
      const refused = error instanceof RefusedError || error instanceof UsageError;
      this.report.outcome = refused ? 'refused' : this.ctx.signal.aborted ? 'interrupted' : 'failed';
      return this.result(error);
    }
    if (unchanged) return this.result(undefined, ExitCode.ok);
    if (this.ctx.signal.aborted) {
      this.report.outcome = 'interrupted';
      return this.result(undefined, ExitCode.interrupted);
    }
    const resumed = this.journal?.resumed === true;
    const step = (
      title: string,
      work: (progress: (text: string) => void, live: boolean, task?: Wrapper) => Promise<void>,
    ) => ({ kind: 'step', title, run: work }) as const;
    try {
      await runPhases(
        this.ctx,
        [
          { kind: 'confirm', question: () => this.question() },
          step(messages.swapDrainTitle(this.osd), (progress, live) => this.drain(progress, live)),
          step(messages.swapDestroyTitle(this.osd), (progress, live) => this.destroy(progress, live)),
          step(swapMessages.swapSwapTitle(this.host.name), (progress, live, task) => this.swap(progress, live, task!)),
          step(messages.swapCreateTitle(this.osd), (progress) => this.create(progress)),
          step(messages.swapBackfillTitle(this.osd), (progress, live) => this.backfill(progress, live)),
          step(messages.swapFinishTitle, (progress, live) => this.finish(progress, live)),
        ],
        'live',
      );
    } catch (error) {
      this.report.outcome = this.stalled
        ? 'stalled'
        : error instanceof RefusedError
          ? 'refused'
          : this.ctx.signal.aborted
            ? 'interrupted'
            : 'failed';
      return this.result(error);
    }
    if (this.ctx.signal.aborted) {
      this.report.outcome = 'interrupted';
      return this.result(undefined, ExitCode.interrupted);
    }
    this.report.outcome = this.dryRun ? 'planned' : resumed ? 'resumed' : 'swapped';
    return this.result(undefined, ExitCode.ok);
  }

  // -------------------------------------------------------------------------------------------
  // The journal's steps, timed into the report's phases

  // -------------------------------------------------------------------------------------------
  // 1-2. Identify and preflight (read-only)

  /** True when there is nothing to do: the OSD is already on the disk asked for. */
  async identifyAndCheck(progress: (text: string) => void): Promise<boolean> {
    const { Journal } = await import('../lib/run/journal.js');
    const { RefusedError, UsageError } = await import('../lib/run/errors.js');
    const { preflight } = await import('../lib/ceph/judge.js');
    const { parseLock } = await import('../lib/ceph/operations.js');
    const started = performance.now();
    const identify = this.phase('identify');
    const records = await Journal.list(this.ctx, this.host);
    const record = records.find((r) => r.id === journalId(this.osd));
    const running = record?.state === 'running' ? record : undefined;
    const stepState = (name: Step) => running?.steps.find((s) => s.name === name)?.state ?? 'pending';
    const facts = await this.readCluster();
    this.foundLock = facts.lock === undefined ? undefined : parseLock(facts.lock);
    this.lockReadAt = performance.now();
    const recorded = running?.steps.find((s) => s.name === 'identify' && s.state === 'done')?.result as
      { disk: DiskIdentity; serials: string[]; pgs: number } | undefined;
    if (recorded) {
      this.oldDisk = recorded.disk;
      this.knownSerials = recorded.serials;
      this.pgsBefore = recorded.pgs;
    } else {
      const found = await this.identifyDisk(facts.devices, facts.metadataDevices);
      this.oldDisk = found?.identity;
      this.knownSerials = facts.devices.flatMap((d) => (d.serial ? [d.serial] : []));
      this.pgsBefore = facts.usage.find((u) => u.id === this.osd)?.pgs ?? 0;
    }
    this.report.oldDisk = this.oldDisk ?? null;
    identify.outcome = recorded ? 'earlier' : 'done';
    identify.detail = this.oldDisk ? swapMessages.swapIdentified(this.oldDisk.path, this.oldDisk.serial ?? '?') : '';
    if (this.oldDisk) progress(identify.detail);
    identify.durationMs = Math.round(performance.now() - started);

    // Already on the disk asked for, or on the disk a finished swap put in: nothing to do.
    const current = facts.metadataDevices[0];
    const currentSerial = facts.devices.find((d) => d.name === current)?.serial ?? undefined;
    const finishedNew = record?.state === 'finished' ? this.recordedNewSerial(record.steps) : undefined;
    const asked = this.options.newDevice;
    const upNow = facts.tree.nodes.find((n) => n.id === this.osd)?.status === 'up';
    if (!running && upNow && currentSerial !== undefined) {
      const { identify: named } = await import('../lib/storage/disks.js');
      const askedMatches = asked !== undefined && named(facts.devices, asked)?.serial === currentSerial;
      if (askedMatches || (asked === undefined && finishedNew === currentSerial)) {
        this.report.outcome = 'unchanged';
        this.report.problems = [];
        this.ctx.notices.push(messages.swapUnchanged(this.osd, this.host.name, currentSerial));
        return true;
      }
    }

    const preflightPhase = this.phase('preflight');
    const checked = performance.now();
    const pastOut = stepState('out') !== 'pending';
    if (!pastOut) {
      const verdict = preflight({
        osd: this.osd,
        host: this.host.name,
        tree: facts.tree,
        usage: facts.usage,
        dump: facts.dump,
        health: facts.health,
        pgs: facts.pgs,
      });
      this.report.projections = verdict.projections;
      this.report.problems.push(...verdict.refusals.map((r) => r.said));
    }
    const lock = await this.judgeLock(this.foundLock, running?.started ?? '');
    if (lock) this.report.problems.push(lock);
    preflightPhase.durationMs = Math.round(performance.now() - checked);
    if (this.report.problems.length > 0) {
      preflightPhase.outcome = 'failed';
      preflightPhase.detail = swapMessages.swapRefusedDetail(this.report.problems.length);
      throw new RefusedError(
        messages.swapRefused(this.osd, this.host.name, this.report.problems.map((p) => p.text).join('; ')),
        swapMessages.swapRefusedHint,
      );
    }
    preflightPhase.outcome = pastOut ? 'earlier' : 'done';
    preflightPhase.detail = pastOut ? swapMessages.swapPreflightEarlier : messages.swapPreflightPassed;
    progress(preflightPhase.detail);
    // Without a terminal nobody answers: what a question would ask must be on the command line,
    // checked before the first change (a swap resumed past the destroy, or past the swap, asks less).
    const needsSerial = stepState('swap') !== 'done' && this.options.newDevice === undefined;
    const needsYes = stepState('destroy') !== 'done' && !this.ctx.options.yes;
    if (!this.ctx.mode.interactive && !this.dryRun && (needsSerial || needsYes)) {
      throw new UsageError(messages.swapNeedsNewDevice, messages.swapNeedsNewDeviceHint);
    }
    if (running)
      progress(swapMessages.swapContinuing(running.operator, running.started, this.pendingSteps(running.steps)));
    this.journal = await Journal.open(this.ctx, this.host, {
      kind: 'disk-swap',
      id: journalId(this.osd),
      params: { host: this.host.name, osd: this.osd },
      steps: STEPS,
    });
    const disk = this.oldDisk;
    await this.step(
      'identify',
      { apply: async () => ({ disk: disk as unknown as Json, serials: this.knownSerials, pgs: this.pgsBefore }) },
      () => identify.detail,
    );
    return false;
  }

  /** Every fact the preflight needs, in one session on the OSD's host: one round trip. */
  async readCluster() {
    const f = await import('../lib/ceph/facts.js');
    const storage = await import('../lib/storage/disks.js');
    const { atOnce } = await import('../lib/remote/at-once.js');
    const { LOCK_KEY } = await import('../lib/ceph/operations.js');
    const probes = [
      f.osdTree,
      f.osdDf,
      f.osdDump,
      f.healthDetail,
      f.pgStat,
      f.osdMetadata(this.osd),
      f.configKey(LOCK_KEY),
    ];
    const commands = [...probes.map((p) => p.command), storage.blockDevices.command, storage.diskLinks.command];
    const parts = await this.ctx.executor.fact(this.host, atOnce(commands), { timeoutMs: CEPH_PROBE_TIMEOUT_MS });
    const answer = <T>(probe: Probe<T>, index: number): T => probe.parse(parts[index]!);
    const { RemoteCommandError } = await import('../lib/run/errors.js');
    const { display } = await import('../lib/remote/shell.js');
    const stdoutOf = (index: number, what: RemoteCommand) => {
      const part = parts[index]!;
      if (part.code !== 0) {
        throw new RemoteCommandError(this.host.name, display(what), part.code, part.stderr);
      }
      return part.stdout;
    };
    const devices = storage.disksOf(
      storage.blockDevices.parse(stdoutOf(7, storage.blockDevices.command)),
      storage.diskLinks.parse(stdoutOf(8, storage.diskLinks.command)),
    );
    const metadata = answer(f.osdMetadata(this.osd), 5);
    return {
      tree: answer(f.osdTree, 0),
      usage: answer(f.osdDf, 1),
      dump: answer(f.osdDump, 2),
      health: answer(f.healthDetail, 3),
      pgs: answer(f.pgStat, 4),
      metadataDevices:
        metadata?.hostname === this.host.name || metadata?.hostname === undefined ? (metadata?.devices ?? []) : [],
      lock: answer(f.configKey(LOCK_KEY), 6),
      devices,
    };
  }

  /** The OSD's disk, found by the kernel name Ceph records, with its SMART health. */
  async identifyDisk(devices: Disk[], names: string[]): Promise<{ identity: DiskIdentity; disk: Disk } | undefined> {
    const disk = devices.find((d) => names.includes(d.name));
    if (!disk) return undefined;
    return { identity: await this.identity(disk), disk };
  }

  /**
   * Why this run may not take the cluster's lock `found`, or undefined when it may; `resume` false
   * when the lock was just written and only this operation's own may be there.
   */
  async judgeLock(found: SwapLock | { foreign: string } | undefined, operation: string, resume?: boolean) {
    const { judgeLock } = await import('../lib/ceph/operations.js');
    const { ownerGone } = await import('../lib/run/host-lock.js');
    const written = resume === false;
    const decision = judgeLock(
      found,
      { host: this.host.name, osd: this.osd, operation },
      {
        resume: written ? false : this.options.resume === true,
        gone: (owner) => !written && ownerGone(this.ctx.operator, owner),
      },
    );
    return decision.take ? undefined : decision.said;
  }

  question(): string | undefined {
    const state = (name: Step) => this.journal?.snapshot.steps.find((s) => s.name === name)?.state;
    if (state('destroy') === 'done') return undefined;
    const disk = this.oldDisk;
    return messages.swapQuestion(this.osd, this.host.name, disk?.serial ?? '?', disk?.path ?? '?');
  }

  // -------------------------------------------------------------------------------------------
  // 3. Drain

  async drain(progress: (text: string) => void, live: boolean): Promise<void> {
    const ops = await import('../lib/ceph/operations.js');
    const { runOwnerLine } = await import('../lib/run/host-lock.js');
    const { pause } = await import('../lib/run/wait.js');
    const operation = this.journal!.snapshot.started;
    const owner = runOwnerLine(this.ctx.operator);
    // A lock this operation's earlier run holds (gone, or --resume): taken over in this run's name,
    // so that a second run of it now sees a live owner.
    const held = this.foundLock;
    if (!this.dryRun && held && !('foreign' in held) && held.operation === operation && held.owner !== owner) {
      await this.change(ops.setLock({ ...held, owner }));
    }
    await this.step(
      'lock',
      {
        apply: async () => {
          const lock: SwapLock = {
            owner,
            host: this.host.name,
            osd: this.osd,
            operation,
          };
          // Read again just before writing it: another run may have taken it since the preflight
          // (a confirmation can take minutes); then written, and read back once the writes of a run
          // that found it free at the same moment have landed: one of the two goes on.
          if (!this.dryRun && performance.now() - this.lockReadAt > LOCK_FRESH_MS) await this.refuseHeldLock(operation);
          await this.change(ops.setLock(lock));
          if (!this.dryRun) {
            await pause(LOCK_SETTLE_MS, this.ctx.signal);
            await this.refuseHeldLock(operation, true);
          }
          return null;
        },
      },
      () => (this.dryRun ? messages.swapDrainPlanned(this.osd) : messages.swapLocked),
    );
    // noout on this OSD and out at once: each waits about a second for the monitors to commit a new
    // OSD map, and one map can take both (noout on an OSD marked out changes nothing until it stops).
    await this.step(
      'out',
      {
        apply: async () => {
          await Promise.all([this.change(ops.addNoout(this.osd)), this.change(ops.markOut(this.osd))]);
          return null;
        },
      },
      () => messages.swapOut(this.osd),
    );
    await this.step(
      'drain',
      {
        check: async () => ((await this.readyToDestroyNow()) ? { done: true, result: null } : { done: false }),
        apply: async () => {
          if (this.dryRun) return null;
          await this.waitForClean(progress, live, 'drain');
          return null;
        },
      },
      () => (this.dryRun ? messages.swapDrainPlanned(this.osd) : messages.swapDrained(this.osd)),
    );
  }

  /**
   * Refuses (exit 3) when the cluster's lock is not this operation's to take: before writing it, as
   * the preflight judged it; after, `written`: it must hold this operation, or another run won.
   */
  async refuseHeldLock(operation: string, written = false): Promise<void> {
    const { configKey } = await import('../lib/ceph/facts.js');
    const ops = await import('../lib/ceph/operations.js');
    const { RefusedError } = await import('../lib/run/errors.js');
    const text = await this.ceph.ask(this.host, configKey(ops.LOCK_KEY));
    const lock = text === undefined ? undefined : ops.parseLock(text);
    const ours = lock !== undefined && !('foreign' in lock) && lock.operation === operation && lock.osd === this.osd;
    if (written) {
      if (ours) return;
      const other = await this.judgeLock(lock, operation, false);
      throw new RefusedError(messages.swapLockLost(other?.text ?? messages.swapLockGone), swapMessages.swapRefusedHint);
    }
    const refused = await this.judgeLock(lock, operation);
    if (refused !== undefined) throw new RefusedError(refused.text, swapMessages.swapRefusedHint);
  }

  /** One look: listed safe to destroy by Ceph AND every PG active+clean (two commands: a resume's check). */
  async readyToDestroyNow(): Promise<boolean> {
    const f = await import('../lib/ceph/facts.js');
    const { readyToDestroy } = await import('../lib/ceph/judge.js');
    // In this order: a status taken before safe-to-destroy's answer may be a stale clean one.
    const safe = await this.ceph.ask(this.host, f.safeToDestroy(this.osd));
    const status = await this.ceph.ask(this.host, f.clusterStatus);
    return readyToDestroy(this.osd, safe, status.pgs).ready;
  }

  /**
   * Waits on Ceph: `look` asks one host at each poll (CephHosts.next: each host at most once per
   * POLL_PER_HOST_MS); a poll that cannot ask that host drops its connections and says so, and the
   * next poll asks another.
   */
  async pollCeph<T>(
    look: (host: Host) => Promise<Polled<T>>,
    wait: Pick<Wait<T>, 'boundMs' | 'progress' | 'live' | 'timedOut'> & { checkFirst?: boolean },
  ): Promise<T> {
    const { waitUntil, throughDrops } = await import('../lib/run/wait.js');
    const { InterruptedError } = await import('../lib/run/errors.js');
    // A wait that is a check most of the time (ok-to-stop after the drain, health after noout):
    // its first question is not a poll and goes at once, to the OSD's host; if it must wait, the
    // polls that follow keep the pace.
    let first = wait.checkFirst === true;
    return waitUntil({
      ...wait,
      poll: async () => {
        const host = first ? this.host : await this.ceph.next(this.ctx.signal);
        if (first) this.ceph.mark(this.host);
        first = false;
        // Ctrl-C while waiting for a host's turn: nothing asked, waitUntil stops.
        if (host === undefined) return { done: false, waiting: '' };
        return throughDrops(this.ctx.pool, host, () => look(host))();
      },
      // The pace is CephHosts.next's.
      intervalMs: 0,
      signal: this.ctx.signal,
      interrupted: () => new InterruptedError(messages.swapInterrupted(this.osd, this.host.name)),
    });
  }

  /**
   * Waits until the data has moved, one `ceph` command per poll. `ceph status` and `pg stat` lag
   * behind: right after `out`, and right after the new OSD boots, they show the old clean numbers
   * (measured on the lab); safe-to-destroy lists the OSD while PGs are still degraded. So two polls
   * in three ask `pg dump pgs_brief`, PG by PG: the drain is over when no PG maps to the OSD or is
   * served by it and all are active+clean, then confirmed by safe-to-destroy (its list: the exit code
   * says nothing); the backfill when the new OSD holds as many PGs as before, all clean. The third
   * asks `ceph status`, for the progress line (objects left, rate, time left) and an OSD that came
   * up out (marked in). Stops when nothing has moved for the stall bound, or at the drain bound.
   */
  async waitForClean(progress: (text: string) => void, live: boolean, why: 'drain' | 'backfill'): Promise<void> {
    const f = await import('../lib/ceph/facts.js');
    const ops = await import('../lib/ceph/operations.js');
    const { backfilled, drained, drainProgress, pgsOnOsd, readyToDestroy } = await import('../lib/ceph/judge.js');
    const { duration } = await import('../lib/run/wait.js');
    const { ChatonError, ExitCode } = await import('../lib/run/errors.js');
    const best = { left: Infinity, notClean: Infinity, onOsd: why === 'drain' ? Infinity : -1, at: performance.now() };
    let polls = 0;
    let moving = messages.swapMovingUnknown(why, this.osd);
    let markedIn = false;
    const stopped = (message: string) => {
      this.stalled = true;
      const hint =
        why === 'drain' ? messages.swapStalledDrainHint(this.osd) : messages.swapStalledBackfillHint(this.osd);
      return new ChatonError(message, ExitCode.failed, hint);
    };
    /** Something moved since the best so far: the stall clock starts again. */
    const moved = (seen: { left?: number; notClean?: number; onOsd?: number }, state: string) => {
      const better =
        (seen.left !== undefined && seen.left < best.left) ||
        (seen.notClean !== undefined && seen.notClean < best.notClean) ||
        (seen.onOsd !== undefined && (why === 'drain' ? seen.onOsd < best.onOsd : seen.onOsd > best.onOsd));
      if (seen.left !== undefined) best.left = Math.min(best.left, seen.left);
      if (seen.notClean !== undefined) best.notClean = Math.min(best.notClean, seen.notClean);
      if (seen.onOsd !== undefined) {
        best.onOsd = why === 'drain' ? Math.min(best.onOsd, seen.onOsd) : Math.max(best.onOsd, seen.onOsd);
      }
      if (better) best.at = performance.now();
      else if (performance.now() - best.at > this.bounds.stallMs) {
        throw stopped(messages.swapStalled(why, this.osd, duration(this.bounds.stallMs), state));
      }
    };
    await this.pollCeph(
      async (host) => {
        polls++;
        if (polls % 3 === 0) {
          const status = await this.ceph.ask(host, f.clusterStatus);
          const now = drainProgress(status);
          moving = messages.swapMoving(why, this.osd, now.said.text);
          moved({ left: now.misplacedObjects + now.degradedObjects }, now.said.text);
          const cameUpOut = status.osds.up === status.osds.total && status.osds.in < status.osds.total;
          if (why === 'backfill' && cameUpOut && !markedIn) {
            // Up but out (mon_osd_auto_mark_new_in off): marked in, once.
            await this.change(ops.markIn(this.osd));
            markedIn = true;
          }
          return { done: false, waiting: moving };
        }
        const pgs = pgsOnOsd(await this.ceph.ask(host, f.pgsBrief), this.osd);
        const where = messages.swapPgsOnOsd(this.osd, pgs.onOsd, pgs.notClean, pgs.total);
        moved({ notClean: pgs.notClean, onOsd: pgs.onOsd }, where);
        const over = why === 'drain' ? drained(pgs) : backfilled(pgs, this.pgsBefore);
        if (over && why === 'backfill') return { done: true, value: undefined };
        if (over) {
          // The authority on destroying: asked once now, on the OSD's host (a check, not a poll).
          this.ceph.mark(this.host);
          const safe = await this.ceph.ask(this.host, f.safeToDestroy(this.osd));
          const clean = { total: pgs.total, byState: [{ state: 'active+clean', count: pgs.total }] };
          const ready = readyToDestroy(this.osd, safe, clean);
          if (ready.ready) return { done: true, value: undefined };
          return { done: false, waiting: ready.reasons.map((r) => r.text).join('; ') };
        }
        return { done: false, waiting: `${moving}; ${where}` };
      },
      {
        boundMs: this.bounds.drainMs,
        progress,
        live,
        timedOut: (last) => stopped(messages.swapTimedOut(why, this.osd, duration(this.bounds.drainMs), last)),
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // 4. Stop and destroy

  async destroy(progress: (text: string) => void, live: boolean): Promise<void> {
    const f = await import('../lib/ceph/facts.js');
    const ops = await import('../lib/ceph/operations.js');
    await this.step(
      'stop',
      {
        apply: async () => {
          if (!this.dryRun) await this.waitOkToStop(progress, live);
          await this.change(ops.stopDaemon(this.osd), STOP_TIMEOUT_MS);
          return null;
        },
      },
      () => messages.swapStopped(this.osd),
    );
    const entry = await this.step<Json>(
      'destroy',
      {
        check: async () => {
          const tree = await this.ceph.ask(this.host, f.osdTree);
          const entry = ops.destroyedEntry(tree, this.osd);
          return ops.osdNode(tree, this.osd)?.status === 'destroyed' && entry
            ? { done: true, result: entry as unknown as Json }
            : { done: false };
        },
        apply: async () => {
          const entry = ops.destroyedEntry(await this.ceph.ask(this.host, f.osdTree), this.osd);
          await this.change(ops.destroyOsd(this.osd));
          return (entry ?? null) as unknown as Json;
        },
      },
      () => (this.dryRun ? messages.swapDestroyPlanned(this.osd) : messages.swapDestroyed(this.osd)),
    );
    this.entry = (entry ?? undefined) as DestroyedEntry | undefined;
  }

  async waitOkToStop(progress: (text: string) => void, live: boolean): Promise<void> {
    const f = await import('../lib/ceph/facts.js');
    const { RefusedError } = await import('../lib/run/errors.js');
    await this.pollCeph(
      async (host) => {
        const answer = await this.ceph.ask(host, f.okToStop(this.osd));
        return answer.ok
          ? { done: true, value: undefined }
          : { done: false, waiting: messages.swapNotOkToStop(this.osd, answer.becomeInactive.length, answer.notOkPgs) };
      },
      {
        boundMs: SHORT_WAIT_MS,
        progress,
        live,
        timedOut: (waiting) => new RefusedError(waiting, messages.swapNotOkToStopHint(this.osd)),
        checkFirst: true,
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // 5. The operator swaps the disk

  async swap(progress: (text: string) => void, live: boolean, task: Wrapper): Promise<void> {
    const { InterruptedError } = await import('../lib/run/errors.js');
    await this.swapStep('swap', progress, live, task, {
      knownSerials: this.knownSerials,
      asked: this.options.newDevice,
      boundMs: this.bounds.swapMs,
      refusedHint: messages.swapBadNewDiskHint,
      interrupted: () => new InterruptedError(messages.swapInterrupted(this.osd, this.host.name)),
    });
  }

  // -------------------------------------------------------------------------------------------
  // 6. Create with the same id, then backfill

  async create(progress: (text: string) => void): Promise<void> {
    const f = await import('../lib/ceph/facts.js');
    const ops = await import('../lib/ceph/operations.js');
    // The by-id path of the disk taken; in a dry-run without it, a path a runbook can read.
    const asked = this.options.newDevice;
    const device =
      this.newDisk?.path ?? (asked?.startsWith('/dev/') ? asked : swapMessages.swapNewDevicePlaceholder(asked ?? ''));
    await this.step(
      'create',
      {
        check: async () =>
          ops.osdNode(await this.ceph.ask(this.host, f.osdTree), this.osd)?.status === 'up'
            ? { done: true, result: null }
            : { done: false },
        apply: async () => {
          await this.readyEntry(progress, f, ops);
          progress(messages.swapZapping(device));
          await this.change(ops.zapDevice(device), CREATE_TIMEOUT_MS);
          progress(messages.swapCreating(this.osd, device));
          try {
            await this.change(ops.createOsd(this.osd, device), CREATE_TIMEOUT_MS);
          } catch (error) {
            if (this.ctx.signal.aborted) throw error;
            // ceph-volume's rollback purges the entry it could not finish: put it back for the retry.
            const restored = await this.readyEntry(progress, f, ops);
            throw await this.createFailed(error, restored);
          }
          return null;
        },
      },
      () => (this.dryRun ? messages.swapCreatePlanned(this.osd, device) : messages.swapCreated(this.osd, device)),
    );
  }

  /**
   * Makes the OSD's entry what ceph-volume needs to reuse the id: destroyed. Purged (a failed
   * create's rollback): put back with its CRUSH place and class, then destroyed; left half-made
   * (down, not destroyed): destroyed again. True when something had to be put back.
   */
  async readyEntry(
    progress: (text: string) => void,
    f: typeof import('../lib/ceph/facts.js'),
    ops: typeof import('../lib/ceph/operations.js'),
  ): Promise<boolean> {
    if (this.dryRun) return false;
    const tree: OsdTree = await this.ceph.ask(this.host, f.osdTree);
    const node = ops.osdNode(tree, this.osd);
    if (node?.status === 'destroyed') return false;
    if (node === undefined) {
      if (!this.entry) throw new Error(messages.swapNoEntry(this.osd));
      progress(messages.swapRestoringEntry(this.osd, this.entry.host));
      for (const command of ops.restoreEntry(this.entry, randomUUID())) await this.change(command);
      return true;
    }
    if (node.status === 'down') {
      await this.change(ops.destroyOsd(this.osd));
      return true;
    }
    return false;
  }

  async createFailed(error: unknown, restored: boolean): Promise<Error> {
    const { ChatonError, ExitCode, formatError } = await import('../lib/run/errors.js');
    return new ChatonError(
      messages.swapCreateFailed(this.osd, formatError(error).split('\n')[0] ?? ''),
      ExitCode.failed,
      restored ? messages.swapCreateFailedRestoredHint(this.osd) : messages.swapCreateFailedHint(this.osd),
    );
  }

  async backfill(progress: (text: string) => void, live: boolean): Promise<void> {
    await this.step(
      'backfill',
      {
        apply: async () => {
          if (this.dryRun) return null;
          await this.waitForClean(progress, live, 'backfill');
          return null;
        },
      },
      () => (this.dryRun ? messages.swapBackfillPlanned(this.osd) : messages.swapBackfilled(this.osd)),
    );
  }

  // -------------------------------------------------------------------------------------------
  // The end: noout off, health back, the lock released

  async finish(progress: (text: string) => void, live: boolean): Promise<void> {
    const f = await import('../lib/ceph/facts.js');
    const ops = await import('../lib/ceph/operations.js');
    const { ChatonError, ExitCode } = await import('../lib/run/errors.js');
    await this.step(
      'unnoout',
      {
        apply: async () => {
          await this.change(ops.removeNoout(this.osd));
          if (this.dryRun) return null;
          await this.pollCeph(
            async (host) => {
              const health = await this.ceph.ask(host, f.healthDetail);
              if (health.status === 'HEALTH_OK' || health.checks.every((c) => c.muted)) {
                return { done: true, value: undefined };
              }
              const checks = health.checks.filter((c) => !c.muted).map((c) => `${c.code}: ${c.message}`);
              return { done: false, waiting: messages.swapWaitingHealth(health.status, checks.join('; ')) };
            },
            {
              boundMs: SHORT_WAIT_MS,
              progress,
              live,
              timedOut: (waiting) => new ChatonError(waiting, ExitCode.failed, messages.swapHealthHint),
              checkFirst: true,
            },
          );
          return null;
        },
      },
      () => messages.swapHealthy,
    );
    await this.step(
      'unlock',
      {
        apply: async () => {
          const text = this.dryRun ? undefined : await this.ceph.ask(this.host, f.configKey(ops.LOCK_KEY));
          const lock = text === undefined ? undefined : ops.parseLock(text);
          const ours = lock && !('foreign' in lock) && lock.operation === this.journal!.snapshot.started;
          if (this.dryRun || ours) await this.change(ops.removeLock());
          return null;
        },
      },
      () => (this.dryRun ? messages.swapFinishPlanned(this.osd) : messages.swapUnlocked),
    );
    if (!this.dryRun) await this.journal!.finish();
  }
}
