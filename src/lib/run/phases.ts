// Phases: the run machinery of operations longer than one step per host (onboard, offboard,
// and to come vm create, disk swap, failover). Ordered phases in ONE listr2 chain, each a
// fan-out over hosts, one shared step (on one host, or cluster-wide), reaching the hosts (keys,
// bastion), or a question computed from what earlier phases found. A phase that fails stops
// the ones after it, so a refusal changes nothing; fan-out phases keep every host's outcome.
import { Listr, type ListrTask } from 'listr2';
import { hostAuditOutcome } from './audit.js';
import { connectionSteps } from './connect.js';
import type { RunContext } from './context.js';
import { Display, type HostTask, type Style, type Wrapper } from './display.js';
import { ChatonError, ExitCode, formatError, notStarted } from './errors.js';
import type { Host } from '../inventory/types.js';
import { messages } from './messages.js';
import { confirm } from './prompts.js';

export type HostOutcome<T> = { host: Host; ok: true; value: T } | { host: Host; ok: false; error: unknown };

/** What the hosts' work does in one phase. */
export interface FanOutSpec<T> {
  /** The parent line, e.g. "Check 26 hosts" (the count of hosts is added). */
  title: string;
  /** Its hosts; a function is asked when the phase starts, e.g. the hosts an earlier phase left. */
  hosts: Host[] | (() => Host[]);
  work(host: Host, task: HostTask): Promise<T>;
  /** Shown after the host's name when its work is done. */
  summary?(value: T): string | undefined;
  /** Work that ran to its end but failed (e.g. a non-zero exit code): shown and counted as failed. */
  failed?(value: T): boolean;
  /** A host that fails stops the run after this phase (e.g. a drain every node must finish). */
  everyHostMustSucceed?: boolean;
}

/** A fan-out phase, and once it ran, each of its hosts' outcomes. */
export class FanOutPhase<T> {
  readonly kind = 'fan-out';
  readonly #outcomes = new Map<string, HostOutcome<T>>();
  #hosts: Host[] | undefined;

  constructor(readonly spec: FanOutSpec<T>) {}

  /** Its hosts, as resolved when it started (before: the given list, if it is one). */
  get hosts(): Host[] {
    return this.#hosts ?? (Array.isArray(this.spec.hosts) ? this.spec.hosts : []);
  }

  /** Each of its hosts' outcome, in its order; a host that never ran its work was interrupted. */
  get outcomes(): HostOutcome<T>[] {
    return this.hosts.map((host) => this.#outcomes.get(host.name) ?? { host, ok: false, error: notStarted(host.name) });
  }

  /** The hosts whose work succeeded, with what it returned: those a later phase goes on with. */
  succeeded(): { host: Host; value: T }[] {
    return this.outcomes.flatMap((o) =>
      o.ok && this.spec.failed?.(o.value) !== true ? [{ host: o.host, value: o.value }] : [],
    );
  }

  /** What the work on `host` returned, if it ran to its end. */
  valueOn(host: Host): T | undefined {
    const outcome = this.#outcomes.get(host.name);
    return outcome?.ok ? outcome.value : undefined;
  }

  /** Whether the work on `host` failed (an error, or a result the phase counts as failed). */
  failedOn(host: Host): boolean {
    const outcome = this.#outcomes.get(host.name);
    return outcome !== undefined && (!outcome.ok || this.spec.failed?.(outcome.value) === true);
  }

  /** @internal the runner's: resolves the hosts as the phase starts. */
  start(): Host[] {
    this.#hosts = typeof this.spec.hosts === 'function' ? this.spec.hosts() : this.spec.hosts;
    return this.#hosts;
  }

  /** @internal the runner's. */
  record(outcome: HostOutcome<T>): void {
    this.#outcomes.set(outcome.host.name, outcome);
  }
}

/** One shared step: on one host, or for the whole cluster (e.g. taking locks in order). */
export interface StepPhase {
  kind: 'step';
  title: string;
  /**
   * `live`: on a terminal, where a progress line is redrawn rather than added (see waitUntil);
   * `task` (always given by runPhases): for a question to the operator on the way (prompts.ts).
   */
  run(progress: (text: string) => void, live: boolean, task?: Wrapper): Promise<void>;
}

/**
 * A question for the operator, computed when its turn comes from what earlier phases found:
 * undefined when there is nothing to ask (nothing would change). Dry-run asks nothing.
 */
export interface ConfirmPhase {
  kind: 'confirm';
  question(): string | undefined;
}

/** Loading the keys for these hosts and reaching their bastions: a dead bastion stops the run. */
export interface ConnectPhase {
  kind: 'connect';
  hosts: Host[];
}

export type Phase = StepPhase | ConfirmPhase | ConnectPhase | FanOutPhase<any>;

export function fanOutPhase<T>(spec: FanOutSpec<T>): FanOutPhase<T> {
  return new FanOutPhase(spec);
}

/** A fan-out phase that had a host fail while every host had to succeed. */
export class PhaseFailedError extends ChatonError {
  constructor(title: string, failed: Host[]) {
    super(messages.phaseFailed(title, failed.map((h) => h.name).join(', ')), ExitCode.failed);
  }
}

/**
 * Runs the phases in order in one task chain. A phase that fails rejects with its error, and no
 * later phase starts; each fan-out phase keeps its hosts' outcomes (see FanOutPhase.outcomes).
 */
export async function runPhases(ctx: RunContext, phases: Phase[], style: Style): Promise<void> {
  const display = new Display(ctx, style);
  const lastFanOut = phases.filter((p) => p.kind === 'fan-out').at(-1);
  const tasks = phases.flatMap((phase): ListrTask<unknown, any, any>[] => {
    switch (phase.kind) {
      case 'connect':
        return connectionSteps(ctx, phase.hosts);
      case 'step':
        return [
          { title: phase.title, task: (_, task: Wrapper) => phase.run(display.stepProgress(task), display.live, task) },
        ];
      case 'confirm':
        return [
          {
            title: messages.confirmTitle,
            // Dry-run changes nothing: there is nothing to agree to; after Ctrl-C, nothing follows.
            skip: () => ctx.options.dryRun || ctx.signal.aborted,
            task: async (_, task: Wrapper) => {
              const question = phase.question();
              if (question === undefined) task.skip(messages.nothingToConfirm);
              else await confirm(ctx, task, question);
            },
          },
        ];
      case 'fan-out':
        return fanOutTasks(ctx, display, phase, phase === lastFanOut);
    }
  });
  await new Listr<unknown, any, any>(tasks, {
    ...display.renderer(),
    exitOnError: true,
    registerSignalListeners: false,
  }).run();
}

/** A fan-out phase: one task per host, at most --concurrency at once; then its check, if every host must succeed. */
function fanOutTasks<T>(
  ctx: RunContext,
  display: Display,
  phase: FanOutPhase<T>,
  last: boolean,
): ListrTask<unknown, any, any>[] {
  const { spec } = phase;
  const tasks: ListrTask<unknown, any, any>[] = [
    {
      title: spec.title,
      task: (_, task: Wrapper) => {
        const hosts = phase.start();
        task.title = messages.phaseHosts(spec.title, hosts.length);
        if (hosts.length === 0) return task.skip(messages.noHostLeft(spec.title));
        const width = Math.max(...hosts.map((h) => h.name.length));
        const hostTasks = hosts.map((host) => ({
          title: host.name,
          task: (_: unknown, hostTask: Wrapper) => runHost(ctx, display, phase, host, hostTask, width, last),
        }));
        return task.newListr(hostTasks, { concurrent: ctx.options.concurrency, exitOnError: false });
      },
    },
  ];
  if (spec.everyHostMustSucceed) {
    tasks.push({
      title: messages.everyHostMustSucceed(spec.title),
      task: () => {
        const failed = phase.hosts.filter((host) => phase.failedOn(host));
        if (failed.length) throw new PhaseFailedError(spec.title, failed);
      },
    });
  }
  return tasks;
}

async function runHost<T>(
  ctx: RunContext,
  display: Display,
  phase: FanOutPhase<T>,
  host: Host,
  task: Wrapper,
  width: number,
  last: boolean,
): Promise<void> {
  const { spec } = phase;
  if (ctx.signal.aborted) {
    phase.record({ host, ok: false, error: notStarted(host.name) });
    task.skip(messages.hostNotStarted(host.name));
    return;
  }
  let outcome: HostOutcome<T>;
  try {
    outcome = { host, ok: true, value: await spec.work(host, display.hostTask(task, host, width)) };
  } catch (error) {
    outcome = { host, ok: false, error };
  }
  phase.record(outcome);
  const failed = phase.failedOn(host);
  // A host's syslog line is written when its work ends: it failed here, or this was its last phase.
  if (failed || last)
    await ctx.auditHost(host, hostAuditOutcome(failed ? { error: outcome.ok ? undefined : outcome.error } : undefined));
  if (!outcome.ok) throw new Error(formatError(outcome.error));
  const summary = spec.summary?.(outcome.value);
  if (failed) throw new Error(messages.about(host.name, summary ?? messages.failed));
  if (summary) task.title = messages.about(host.name, summary);
}

/**
 * Each host's outcome over several fan-out phases: its first error, else what the last phase
 * made of it. A host that an earlier phase left out is reported by the phase where it failed.
 */
export function hostOutcomes<T>(
  hosts: Host[],
  earlier: FanOutPhase<unknown>[],
  last: FanOutPhase<T>,
): HostOutcome<T>[] {
  const lastOutcomes = new Map(last.outcomes.map((o) => [o.host.name, o]));
  return hosts.map((host): HostOutcome<T> => {
    for (const phase of earlier) {
      const outcome = phase.outcomes.find((o) => o.host.name === host.name);
      if (outcome && !outcome.ok) return outcome;
      // Work that ended but that its phase counts as failed (its `failed` rule): told as it said it.
      if (outcome && phase.failedOn(host)) {
        const said = phase.spec.summary?.(outcome.value) ?? messages.failed;
        return { host, ok: false, error: new ChatonError(messages.about(host.name, said), ExitCode.failed) };
      }
    }
    return lastOutcomes.get(host.name) ?? { host, ok: false, error: notStarted(host.name) };
  });
}
