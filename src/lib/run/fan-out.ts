// One step per host in parallel: the common case of the phases (see phases.ts), with an optional
// question first and a shared step once connected; and the exit code of hosts' fates.
import type { RunContext } from './context.js';
import type { HostTask, Style } from './display.js';
import { ConnectionError, ExitCode, HostKeyError, RefusedError } from './errors.js';
import type { Host } from '../inventory/types.js';
import { fanOutPhase, runPhases, type HostOutcome, type Phase, type StepPhase } from './phases.js';

export interface FanOut<T> {
  /** The parent line, e.g. "Check 26 hosts". */
  title: string;
  hosts: Host[];
  style: Style;
  /** Ask this before starting (on a terminal), or refuse without --yes (no terminal). */
  confirm?: string;
  /** Nothing will be sent (a dry-run without probes): no keys to load, no bastion to reach. */
  offline?: boolean;
  /** A shared step once connected, before any host's work (e.g. taking locks in order); its failure stops the run. */
  prepare?: Omit<StepPhase, 'kind'>;
  work(host: Host, task: HostTask): Promise<T>;
  /** Shown after the host's name when its work is done. */
  summary?(value: T): string | undefined;
  /** Work that ran to its end but failed (e.g. a non-zero exit code): shown and counted as failed. */
  failed?(value: T): boolean;
}

/** Runs `work` on every host in parallel (at most --concurrency at once), after the shared steps. */
export async function fanOut<T>(ctx: RunContext, spec: FanOut<T>): Promise<HostOutcome<T>[]> {
  const { confirm, offline, prepare, style, ...work } = spec;
  const hosts = fanOutPhase<T>(work);
  const phases: Phase[] = [
    ...(confirm !== undefined ? [{ kind: 'confirm' as const, question: () => confirm }] : []),
    ...(offline ? [] : [{ kind: 'connect' as const, hosts: spec.hosts }]),
    ...(prepare ? [{ kind: 'step' as const, ...prepare }] : []),
    hosts,
  ];
  // A shared step that fails (no confirmation, bastion unreachable) rejects here: no host was touched.
  await runPhases(ctx, phases, style);
  return hosts.outcomes;
}

/**
 * The exit code for a fan-out: trust problems and unreachable fleets are connection failures
 * (5), a mixed result is partial (4), all refused by safety checks is 3, all failed is 1.
 */
export function exitCodeFor<T>(
  outcomes: HostOutcome<T>[],
  signal: AbortSignal,
  failed: (value: T) => boolean = () => false,
): ExitCode {
  if (signal.aborted) return ExitCode.interrupted;
  const failures = outcomes.flatMap((o) => (!o.ok ? [o.error] : failed(o.value) ? [o.value] : []));
  if (failures.some((e) => e instanceof HostKeyError)) return ExitCode.connection;
  if (failures.length === 0) return ExitCode.ok;
  if (failures.length < outcomes.length) return ExitCode.partial;
  if (failures.every((e) => e instanceof ConnectionError)) return ExitCode.connection;
  // Every host said no before changing anything: the run changed nothing.
  return failures.every((e) => e instanceof RefusedError) ? ExitCode.refused : ExitCode.failed;
}
