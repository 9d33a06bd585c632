// What every kind of `disk swap` does the same way (a Ceph OSD's disk, a ZFS mirror's, an md RAID1
// member's): the journal's steps timed into the report's phases, the disk's identity with SMART, the
// wait for the new disk (a serial not seen before, or the one named) with the old disk's locate LED
// lit, its judgement and its typed serial, and the command's result. Each kind adds its own steps.
import type { Host } from '../inventory/types.js';
import type { RemoteCommand } from '../remote/shell.js';
import type { CommandResult, RunContext } from '../run/context.js';
import type { Wrapper } from '../run/display.js';
import type { ExitCode } from '../run/errors.js';
import type { Journal, Json } from '../run/journal.js';
import type { Disk, DiskIdentity } from './disks.js';
import { messages } from './messages.js';
import type { SwapPhase, SwapPhaseName, SwapReport } from './swap-report.js';

/** How often the host's disks are listed while the operator swaps (lsblk: no load on anything). */
const DEVICE_POLL_MS = 500;
/** A change that takes longer than this is stuck. */
const CHANGE_TIMEOUT_MS = 60_000;

export type Progress = (text: string) => void;

/** What the wait for the new disk needs to know. */
export interface NewDiskWait {
  /** The serials present at the identification: a new disk is one that was not there. */
  knownSerials: string[];
  /** `--new-device`: the disk asked for, by serial, by-id path or kernel name. */
  asked: string | undefined;
  boundMs: number;
  /** The least the new disk must hold (a mirror's healthy side), and whether it must be blank. */
  minBytes?: number;
  blankOnly?: boolean;
  /** What the swap waits in when the new disk is refused (the OSD destroyed, the mirror degraded). */
  refusedHint: string;
  interrupted: () => Error;
}

export abstract class SwapRun<Step extends string> {
  readonly started = performance.now();
  journal: Journal | undefined;
  oldDisk: DiskIdentity | undefined;
  newDisk: { identity: DiskIdentity; path: string } | undefined;

  constructor(
    protected readonly ctx: RunContext,
    readonly host: Host,
    readonly report: SwapReport,
    /** The report's phase of each journal step. */
    private readonly phaseOf: Record<Step, SwapPhaseName>,
  ) {}

  get dryRun(): boolean {
    return this.ctx.options.dryRun;
  }

  /** Runs a journal step (or takes its recorded result); its time goes to its phase's row. */
  async step<T extends Json>(
    name: Step,
    work: { check?: () => Promise<{ done: true; result: T } | { done: false }>; apply: () => Promise<T> },
    detail: (result: T) => string,
  ): Promise<T> {
    const journal = this.journal!;
    const before = journal.snapshot.steps.find((s) => s.name === name)?.state;
    const phase = this.phase(this.phaseOf[name]);
    const started = performance.now();
    try {
      const result = await journal.run<T>(name, {
        check: work.check ?? (async () => ({ done: false })),
        apply: work.apply,
      });
      // identify only reads: done, even in dry-run.
      if (before !== 'done') phase.outcome = this.dryRun && name !== 'identify' ? 'planned' : 'done';
      phase.detail = detail(result);
      return result;
    } catch (error) {
      phase.outcome = 'failed';
      phase.detail = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      throw error;
    } finally {
      phase.durationMs += Math.round(performance.now() - started);
    }
  }

  /** The report's row of a phase, made at its first step: "earlier" until a step of it runs here. */
  phase(name: SwapPhaseName): SwapPhase {
    let phase = this.report.phases.find((p) => p.phase === name);
    if (!phase) {
      phase = { phase: name, outcome: 'earlier', durationMs: 0, detail: '' };
      this.report.phases.push(phase);
    }
    return phase;
  }

  /** The state of a journal step: in this run's journal, or in the record a run left. */
  stepState(name: Step, steps = this.journal?.snapshot.steps): string {
    return steps?.find((s) => s.name === name)?.state ?? 'pending';
  }

  pendingSteps(steps: { name: string; state: string }[]): string {
    return steps
      .filter((s) => s.state !== 'done')
      .map((s) => s.name)
      .join(', ');
  }

  /** The new disk's serial a finished journal recorded at its `swap` step. */
  recordedNewSerial(steps: { name: string; result?: Json }[]): string | undefined {
    const result = steps.find((s) => s.name === 'swap')?.result as { disk?: DiskIdentity } | undefined;
    return result?.disk?.serial ?? undefined;
  }

  async change(command: RemoteCommand, timeoutMs = CHANGE_TIMEOUT_MS): Promise<void> {
    await this.ctx.executor.run(this.host, command, { kind: 'change', timeoutMs });
  }

  /** The host's disks now (lsblk and the by-id links). */
  async listDisks(): Promise<Disk[]> {
    const storage = await import('./disks.js');
    const [devices, links] = await Promise.all([
      this.ctx.executor.fact(this.host, storage.blockDevices),
      this.ctx.executor.fact(this.host, storage.diskLinks),
    ]);
    return storage.disksOf(devices, links);
  }

  /** Its identity, SMART's health included (it may fill what lsblk lacks: a virtio or NVMe disk). */
  async identity(disk: Disk): Promise<DiskIdentity> {
    const { identityOf, smartHealth } = await import('./disks.js');
    return identityOf(disk, await this.ctx.executor.probe(this.host, smartHealth(disk.path)));
  }

  /**
   * The swap itself: the old disk's LED lit and the operator told which disk to pull, then a new
   * disk awaited, judged and confirmed by its typed serial (or named by `--new-device` with --yes).
   * Null in a dry-run when the new disk is not there yet.
   */
  async awaitNewDisk(
    progress: Progress,
    live: boolean,
    task: Wrapper,
    wait: NewDiskWait,
  ): Promise<{ disk: DiskIdentity; path: string } | null> {
    const storage = await import('./disks.js');
    const { judgeNewDevice } = await import('./judge.js');
    const { waitUntil } = await import('../run/wait.js');
    const { RefusedError } = await import('../run/errors.js');
    const { confirmByTyping } = await import('../run/prompts.js');
    const { formatSize } = await import('../inventory/sizes.js');
    const old = this.oldDisk;
    const lit = old ? await this.light(old, true) : false;
    if (old) progress(messages.swapPull(this.host.name, old.serial ?? '?', old.byId[0] ?? old.path, lit));
    const asked = wait.asked;
    if (this.dryRun) {
      const present = asked === undefined ? undefined : storage.identify(await this.listDisks(), asked);
      return present ? { disk: await this.identity(present), path: present.byId[0] ?? present.path } : null;
    }
    const disk = await waitUntil({
      poll: async () => {
        const disks = await this.listDisks();
        const candidate =
          asked !== undefined
            ? storage.identify(disks, asked)
            : disks.find((d) => d.serial !== null && !wait.knownSerials.includes(d.serial));
        // The kernel makes the node at once, udev the by-id links a moment later: a disk is taken
        // once its links name its serial (and lsblk and the links, read apart, agree on it).
        const settled =
          candidate && (candidate.serial === null || candidate.byId.some((l) => l.includes(candidate.serial!)));
        if (candidate && settled) return { done: true, value: candidate };
        if (candidate) return { done: false, waiting: messages.swapAwaitingLinks(candidate.path) };
        return {
          done: false,
          waiting:
            asked === undefined
              ? messages.swapWaitingNewDisk(this.host.name)
              : messages.swapWaitingNamed(asked, this.host.name),
        };
      },
      boundMs: wait.boundMs,
      intervalMs: DEVICE_POLL_MS,
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: (waiting) => new RefusedError(waiting, messages.swapNoNewDiskHint),
      interrupted: wait.interrupted,
    });
    const identity = await this.identity(disk);
    const verdict = judgeNewDevice(disk, {
      oldSerial: old?.serial ?? null,
      ...(wait.minBytes !== undefined ? { minBytes: wait.minBytes } : {}),
      ...(wait.blankOnly ? { blankOnly: true } : {}),
    });
    if (verdict.refusals.length > 0) {
      this.report.problems.push(...verdict.refusals.map((r) => r.said));
      throw new RefusedError(
        messages.swapBadNewDisk(`/dev/${disk.name}`, verdict.refusals.map((r) => r.said.text).join('; ')),
        wait.refusedHint,
      );
    }
    if (asked === undefined) {
      await confirmByTyping(
        this.ctx,
        task,
        messages.swapTypeSerial(`/dev/${disk.name}`, disk.model ?? '?', formatSize(identity.sizeBytes)),
        disk.serial ?? '',
        (typed) => messages.swapSerialMismatch(typed, disk.serial ?? '?'),
      );
    }
    if (old && lit) await this.light(old, false);
    return { disk: identity, path: disk.byId[0] ?? disk.path };
  }

  /** The `swap` step: the new disk awaited (see awaitNewDisk), recorded, reported. */
  async swapStep(name: Step, progress: Progress, live: boolean, task: Wrapper, wait: NewDiskWait): Promise<void> {
    const result = await this.step<Json>(
      name,
      { apply: async () => (await this.awaitNewDisk(progress, live, task, wait)) as unknown as Json },
      (found) => {
        const disk = (found as { disk: DiskIdentity } | null)?.disk;
        return disk ? messages.swapNewDisk(disk.path, disk.serial ?? '?') : messages.swapNewDiskPlanned;
      },
    );
    const found = result as { disk: DiskIdentity; path: string } | null;
    if (found) {
      this.newDisk = { identity: found.disk, path: found.path };
      this.report.newDisk = found.disk;
    }
  }

  /** The locate LED of a disk, when ledctl is there: an LED that cannot be lit is not a reason to stop. */
  async light(disk: DiskIdentity, on: boolean): Promise<boolean> {
    if (this.dryRun) return false;
    const led = await import('./led.js');
    const present = await this.ctx.executor.fact(this.host, led.ledctlPresent);
    if (!present) return false;
    const path = disk.byId[0] ?? disk.path;
    const result = await this.ctx.executor.run(this.host, on ? led.locateOn(path) : led.locateOff(path), {
      kind: 'change',
      check: false,
    });
    return result.code === 0;
  }

  /** The outcome of a run that stopped on `error`. */
  async stoppedOutcome(error: unknown, stalled = false): Promise<SwapReport['outcome']> {
    const { RefusedError, UsageError } = await import('../run/errors.js');
    if (stalled) return 'stalled';
    if (error instanceof RefusedError || error instanceof UsageError) return 'refused';
    return this.ctx.signal.aborted ? 'interrupted' : 'failed';
  }

  async result(error?: unknown, exitCode?: ExitCode): Promise<CommandResult> {
    const { exitCodeFor, formatError } = await import('../run/errors.js');
    const { errorReport } = await import('../run/report.js');
    const { swapReportFields, swapReportView } = await import('./swap-report.js');
    // The last step's "done" goes with the next one's start: written here when no step follows.
    await this.journal?.flush().catch((failed: unknown) => {
      this.ctx.notices.push(messages.swapJournalNotWritten(this.host.name, formatError(failed)));
    });
    this.report.totalMs = Math.round(performance.now() - this.started);
    const code = exitCodeFor(this.ctx.signal.aborted, error, exitCode);
    if (error !== undefined && this.report.failure === null) this.report.failure = errorReport(error);
    return {
      exitCode: code,
      hosts: [
        { host: this.host.name, ok: error === undefined, error: error === undefined ? null : errorReport(error) },
      ],
      fields: swapReportFields(this.report),
      ...(error !== undefined ? { error } : {}),
      view: swapReportView(this.report),
    };
  }
}
