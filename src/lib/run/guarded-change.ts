// A risky change on one host, that could cut chaton off (a route switched, a VM created on the
// bridge that carries the session, a disk swapped), made so that the host can never stay broken:
// take the host's lock, arm a revert, apply the change detached from the session, wait for it to
// end, reach the host again on new connections, prove the change (the caller's proof), and only
// then disarm the revert. When the proof fails or the host cannot be reached again in time, the
// revert fires by itself: chaton waits for it and says how it ended, or what to check by hand.
// Failover, vm create and disk swap each give their lock name, change, revert, proof and bounds.
import { randomBytes } from 'node:crypto';
import type { Host } from '../inventory/types.js';
import {
  applyDetached,
  applyDirectory,
  applyState,
  applyStatus,
  armRevert,
  disarmRevert,
  parseGuardState,
  revertDirectory,
  revertState,
  revertStatus,
  systemdRuns,
  type GuardState,
} from '../remote/guard.js';
import { releaseLock, takeLock } from '../remote/host-lock.js';
import { command, display, type RemoteCommand } from '../remote/shell.js';
import type { RunContext } from './context.js';
import { ChatonError, ExitCode, formatError, InterruptedError, RemoteCommandError } from './errors.js';
import { HostLock, runOwnerLine } from './host-lock.js';
import { messages } from './messages.js';
import { timestamp } from './output.js';
import { duration, throughDrops, waitUntil, type Polled } from './wait.js';

export interface GuardedChange {
  host: Host;
  /** The host's lock (e.g. `failover`), also the stem of the revert's and the change's files. */
  name: string;
  /** The change, run detached: it must end by itself, whatever becomes of the session. */
  change: RemoteCommand;
  /** Restores the state from before the change (e.g. the routes read first); runs unless disarmed. */
  revert: RemoteCommand;
  revertAfterSeconds: number;
  /**
   * How long, from the start of the change, it may take to end and the host to answer again on new
   * connections; past it, chaton stops trying and waits for the revert. Less than revertAfterSeconds,
   * with time left for the proof.
   */
  comeBackWithinMs: number;
  /**
   * Proves the change, on connections opened after it: undefined when proven, else why not, for
   * people. An error thrown counts as not proven.
   */
  prove(): Promise<string | undefined>;
  /** Commands that show by hand whether the state from before is back (e.g. `ip route show`). */
  checks?: RemoteCommand[];
  /**
   * The lock `name`, already taken by the caller, who read the state under it first (so that
   * another run cannot change it in between) and releases it.
   */
  heldLock?: HostLock;
}

export type GuardedStep = 'lock' | 'arm' | 'apply' | 'reconnect' | 'prove' | 'disarm' | 'revert' | 'release';

export interface StepDuration {
  step: GuardedStep;
  ms: number;
}

/**
 * How a guarded change ended. `applied`: proven and disarmed. Otherwise the change did not stay:
 * `reverted` (the revert ran and exited 0), `revert-failed` (it exited otherwise), `unknown`
 * (chaton could not tell: `check` lists what to run on the host); `why` says why it did not stay.
 * `planned`: dry-run, every command that would run (nothing ran).
 */
export type GuardedChangeResult =
  | { outcome: 'planned'; commands: PlannedStep[] }
  | { outcome: 'applied'; id: string; change: GuardState; steps: StepDuration[] }
  | (NotKept<'reverted' | 'revert-failed'> & { revert: GuardState })
  | NotKept<'unknown'>;

interface NotKept<Outcome> {
  outcome: Outcome;
  id: string;
  why: string;
  /** What to run on the host to see how the revert ended and whether the state from before is back. */
  check: string[];
  steps: StepDuration[];
}

export interface PlannedStep {
  step: GuardedStep;
  command: RemoteCommand;
}

/** One poll of a state on the host may not take longer: a connection cut by the change hangs. */
const POLL_TIMEOUT_MS = 5000;
const POLL_INTERVAL_MS = 250;
/** How long the revert's timer may take to say it runs, once armed. */
const ARM_BOUND_MS = 10_000;
/** How long the revert itself may run, past its deadline, before chaton stops waiting for it. */
const REVERT_RUNS_WITHIN_MS = 30_000;

/**
 * A bound reached while waiting, with what was last awaited: the outcome says so, it is never
 * thrown past this module.
 */
class NotWithinBound extends Error {
  constructor(readonly waiting: string) {
    super(waiting);
  }
}

/**
 * Runs a guarded change (see the top of this file). A held lock is refused (LockHeldError, exit 3)
 * and a revert that cannot be armed stops everything (nothing was changed); every other end is a
 * result, with each step's duration. `progress` and `live` are those of a StepPhase.
 */
export async function runGuardedChange(
  ctx: RunContext,
  spec: GuardedChange,
  progress: (text: string) => void,
  live: boolean,
): Promise<GuardedChangeResult> {
  const { host } = spec;
  const id = `${spec.name}-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`;
  const systemd = await ctx.executor.fact(host, systemdRuns);
  const arm = armRevert({ id, afterSeconds: spec.revertAfterSeconds, revert: spec.revert, systemd });
  if (ctx.options.dryRun) return plan(ctx, spec, id, arm);

  const steps: StepDuration[] = [];
  const timed = async <T>(step: GuardedStep, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      steps.push({ step, ms: performance.now() - started });
    }
  };
  const lock = spec.heldLock ?? new HostLock(ctx, host, spec.name);
  if (!spec.heldLock) await timed('lock', () => lock.take());
  try {
    const guarded = new Guarded(ctx, spec, id, progress, live);
    await timed('arm', () => guarded.arm(arm));
    const result = await guarded.changeThenProve(timed);
    if (result.kept) return { outcome: 'applied', id, change: result.change, steps };
    const revert = await timed('revert', () => guarded.revertFired());
    // Only chaton's disarm disarms: one that was sent but whose answer was lost kept the change.
    if (revert && revertStatus(revert) === 'disarmed' && result.change)
      return { outcome: 'applied', id, change: result.change, steps };
    const notKept = { id, why: result.why, check: guarded.checks(), steps };
    if (revert === undefined || revertStatus(revert) !== 'fired') return { outcome: 'unknown', ...notKept };
    return { outcome: revert.ended?.code === 0 ? 'reverted' : 'revert-failed', revert, ...notKept };
  } finally {
    if (!spec.heldLock) await timed('release', () => releaseOrSay(ctx, lock));
  }
}

/**
 * Dry-run: what would run, in order, none of it sent (the executor plans each command that runs
 * now; the revert, which runs later or never, is listed after the arm that carries it).
 */
async function plan(
  ctx: RunContext,
  spec: GuardedChange,
  id: string,
  arm: RemoteCommand,
): Promise<GuardedChangeResult> {
  const owner = runOwnerLine(ctx.operator);
  const sent: PlannedStep[] = [
    { step: 'lock', command: takeLock(spec.name, owner) },
    { step: 'arm', command: arm },
    { step: 'apply', command: applyDetached(id, spec.change) },
    { step: 'disarm', command: disarmRevert(id) },
    { step: 'release', command: releaseLock(spec.name, owner) },
  ];
  for (const { command: planned } of sent) await ctx.executor.run(spec.host, planned, { kind: 'change' });
  const [lock, armed, ...after] = sent;
  return { outcome: 'planned', commands: [lock!, armed!, { step: 'revert', command: spec.revert }, ...after] };
}

/** A lock left behind makes the next run wait or refuse: the operator is told where it is. */
async function releaseOrSay(ctx: RunContext, lock: HostLock): Promise<void> {
  try {
    await lock.release();
  } catch (error) {
    ctx.notices.push(messages.guardLockNotReleased(lock.host.name, lock.directory, firstLine(error)));
  }
}

/** The steps after the lock, with what they share: the host, the revert's id and its deadline. */
class Guarded {
  /** When the revert fires, by this machine's clock (the host's may differ). */
  #deadline = 0;

  constructor(
    private readonly ctx: RunContext,
    private readonly spec: GuardedChange,
    private readonly id: string,
    private readonly progress: (text: string) => void,
    private readonly live: boolean,
  ) {}

  /** Arms the revert and waits for its timer to exist: no change before that. */
  async arm(arm: RemoteCommand): Promise<void> {
    const { host } = this.spec;
    this.progress(messages.guardArming(host.name, duration(this.spec.revertAfterSeconds * 1000)));
    this.#deadline = Date.now() + this.spec.revertAfterSeconds * 1000;
    await this.ctx.executor.run(host, arm, { kind: 'change' });
    try {
      await this.#waitFor(
        async () => {
          const state = await this.ctx.executor.fact(host, revertState(this.id), { timeoutMs: POLL_TIMEOUT_MS });
          return state.timer
            ? { done: true, value: state }
            : { done: false, waiting: messages.guardTimerStarting(host.name) };
        },
        ARM_BOUND_MS,
        false,
      );
    } catch (error) {
      await this.#disarmUnchanged();
      if (!(error instanceof NotWithinBound)) throw error;
      throw new ChatonError(
        messages.guardTimerNotStarted(host.name),
        ExitCode.failed,
        messages.guardLookAt(revertDirectory(this.id), host.name),
      );
    }
  }

  /**
   * Disarms a revert before any change was made (the arming or the change's start failed), so that
   * it does not run for nothing later. Best effort: if it runs, it restores the state as it is.
   */
  async #disarmUnchanged(): Promise<void> {
    await this.ctx.executor.run(this.spec.host, disarmRevert(this.id), { kind: 'change' }).catch(() => undefined);
  }

  /**
   * Applies the change, waits for it to end, reaches the host again and proves the change, then
   * disarms: kept, or why not (the revert then fires or has fired).
   */
  async changeThenProve(
    timed: <T>(step: GuardedStep, work: () => Promise<T>) => Promise<T>,
  ): Promise<{ kept: true; change: GuardState } | { kept: false; why: string; change?: GuardState }> {
    const { host } = this.spec;
    const comeBackBy = performance.now() + this.spec.comeBackWithinMs;
    const left = () => Math.max(0, comeBackBy - performance.now());
    const notBack = (bound: NotWithinBound) =>
      messages.guardNotWithin(bound.waiting, duration(this.spec.comeBackWithinMs));
    let change: GuardState;
    try {
      change = await timed('apply', () => this.#apply(left));
    } catch (error) {
      if (error instanceof NotWithinBound) return { kept: false, why: notBack(error) };
      throw error;
    }
    if (change.ended!.code !== 0)
      return { kept: false, why: messages.guardChangeFailed(change.ended!.code, change.outputTail.trim()) };
    try {
      await timed('reconnect', () => this.#reconnect(left()));
    } catch (error) {
      if (error instanceof NotWithinBound) return { kept: false, why: notBack(error) };
      throw error;
    }
    this.progress(messages.guardProving(host.name));
    const unproven = await timed('prove', () => this.spec.prove().catch((error: unknown) => formatError(error)));
    if (unproven !== undefined) return { kept: false, why: messages.guardNotProven(unproven) };
    const disarmed = await timed('disarm', () => this.#disarm());
    if (disarmed === undefined) return { kept: false, why: messages.guardCannotDisarm(host.name), change };
    if (revertStatus(disarmed) !== 'disarmed') return { kept: false, why: messages.guardDisarmTooLate };
    return { kept: true, change };
  }

  /** Starts the change, then waits for its state to say it ended. */
  async #apply(left: () => number): Promise<GuardState> {
    const { host } = this.spec;
    this.progress(messages.guardApplying(host.name));
    try {
      await this.ctx.executor.run(host, applyDetached(this.id, this.spec.change), {
        kind: 'change',
        timeoutMs: POLL_TIMEOUT_MS,
      });
    } catch (error) {
      if (error instanceof InterruptedError) throw this.#interrupted();
      // It ran and said it could not start the change: nothing was changed.
      if (error instanceof RemoteCommandError && error.code !== null) {
        await this.#disarmUnchanged();
        throw error;
      }
      // Otherwise (cut off, or no answer in time) its fate is in the change's state, read below.
    }
    return this.#waitFor(async () => {
      const state = await this.ctx.executor.fact(host, applyState(this.id), { timeoutMs: POLL_TIMEOUT_MS });
      return applyStatus(state) === 'done'
        ? { done: true, value: state }
        : { done: false, waiting: messages.guardChangeRunning(host.name) };
    }, left());
  }

  /** Drops the connections of the host's route and opens them again: the way there may have changed. */
  async #reconnect(boundMs: number): Promise<void> {
    const { host } = this.spec;
    this.progress(messages.guardReconnecting(host.name));
    this.ctx.pool.forget(host);
    await this.#waitFor(async () => {
      await this.ctx.pool.connect(host);
      return { done: true, value: undefined };
    }, boundMs);
  }

  /** Disarms the revert: its state after, or undefined when the host could not be asked in time. */
  async #disarm(): Promise<GuardState | undefined> {
    const { host } = this.spec;
    this.progress(messages.guardDisarming(host.name));
    try {
      return await this.#waitFor(
        async () => {
          const result = await this.ctx.executor.run(host, disarmRevert(this.id), {
            kind: 'change',
            timeoutMs: POLL_TIMEOUT_MS,
          });
          return { done: true, value: parseGuardState(result.stdout.toString()) };
        },
        Math.max(0, this.#deadline - Date.now()),
      );
    } catch (error) {
      if (error instanceof NotWithinBound) return undefined;
      throw error;
    }
  }

  /** Waits for the revert to have run (bounded): its state, or undefined when chaton cannot tell. */
  async revertFired(): Promise<GuardState | undefined> {
    const { host } = this.spec;
    const due = timestamp(new Date(this.#deadline));
    try {
      return await this.#waitFor(
        async () => {
          const state = await this.ctx.executor.fact(host, revertState(this.id), { timeoutMs: POLL_TIMEOUT_MS });
          const status = revertStatus(state);
          // Gone (the host rebooted and emptied /run) or disarmed after all: nothing more will come.
          if (status === 'fired' || status === 'unknown' || status === 'disarmed') return { done: true, value: state };
          return { done: false, waiting: messages.guardWaitingForRevert(host.name, due) };
        },
        Math.max(0, this.#deadline - Date.now()) + REVERT_RUNS_WITHIN_MS,
      );
    } catch (error) {
      if (error instanceof NotWithinBound) return undefined;
      throw error;
    }
  }

  /** What to run on the host to see how the revert ended, and whether the state from before is back. */
  checks(): string[] {
    const dir = revertDirectory(this.id);
    const own = [command('cat', `${dir}/state`, `${dir}/output`), command('ls', '-l', applyDirectory(this.id))];
    return [...own, ...(this.spec.checks ?? [])].map((check) => display(check));
  }

  /**
   * Polls until done, within `boundMs`. A poll that cannot reach the host (the change may have cut
   * the way there) forgets its connections and says so: the next poll opens new ones.
   */
  #waitFor<T>(poll: () => Promise<Polled<T>>, boundMs: number, reconnect = true): Promise<T> {
    return waitUntil({
      poll: reconnect ? throughDrops(this.ctx.pool, this.spec.host, poll) : poll,
      boundMs,
      intervalMs: POLL_INTERVAL_MS,
      signal: this.ctx.signal,
      progress: this.progress,
      live: this.live,
      timedOut: (waiting) => new NotWithinBound(waiting),
      interrupted: () => this.#interrupted(),
    });
  }

  #interrupted(): InterruptedError {
    return new InterruptedError(
      messages.guardInterrupted(this.spec.host.name, timestamp(new Date(this.#deadline)), revertDirectory(this.id)),
    );
  }
}

function firstLine(error: unknown): string {
  return formatError(error).split('\n')[0] ?? '';
}

/**
 * The error a command reports for a guarded change that did not stay (exit 1), with what to check
 * when chaton could not tell; undefined when it was applied or only planned.
 */
export function guardedChangeError(host: string, result: GuardedChangeResult): ChatonError | undefined {
  switch (result.outcome) {
    case 'planned':
    case 'applied':
      return undefined;
    case 'reverted':
      return new ChatonError(messages.guardReverted(host, result.why), ExitCode.failed);
    case 'revert-failed': {
      const { code } = result.revert.ended!;
      const said = messages.guardRevertFailed(host, result.why, code, result.revert.outputTail.trim());
      return new ChatonError(said, ExitCode.failed, checkHint(host, result.check));
    }
    case 'unknown':
      return new ChatonError(
        messages.guardRevertUnknown(host, result.why),
        ExitCode.failed,
        checkHint(host, result.check),
      );
  }
}

function checkHint(host: string, check: string[]): string {
  return messages.guardCheckHint(host, check.map((line) => `\`${line}\``).join('; '));
}
