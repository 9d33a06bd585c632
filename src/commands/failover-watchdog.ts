// `chaton failover watchdog install | remove | status`: the gateway switches by itself when the main
// link dies at night (src/lib/network/watchdog.ts: a round a minute from cron, down and up rounds
// of main in a row, never flapping). install writes what differs of its three files (each whole);
// remove takes them away with its state; status compares them with what the inventory makes and
// shows the state file and the last rounds. `failover status` shows a line of it too.
import type { Command } from 'commander';
import type { Host } from '../lib/inventory/types.js';
import type { FailoverSection } from '../lib/network/inventory.js';
import type { FileState, WatchdogState } from '../lib/network/watchdog.js';
import type { RemoteCommand } from '../lib/remote/shell.js';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  const watchdog = parent
    .command('watchdog')
    .description(messages.watchdogDescription)
    .addHelpText('after', `\n${messages.watchdogHelp}`);
  watchdog
    .command('install')
    .description(messages.watchdogInstallDescription)
    .addHelpText(
      'after',
      examples(
        'chaton failover watchdog install',
        `chaton --dry-run failover watchdog install   # ${messages.watchdogDryRunExample}`,
        `chaton -y failover watchdog install   # ${messages.watchdogAfterInventoryExample}`,
      ),
    )
    .action(async (_options: unknown, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => installCommand(ctx));
    });
  watchdog
    .command('remove')
    .description(messages.watchdogRemoveDescription)
    .addHelpText('after', examples('chaton failover watchdog remove', 'chaton -y failover watchdog remove'))
    .action(async (_options: unknown, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => removeCommand(ctx));
    });
  watchdog
    .command('status')
    .description(messages.watchdogStatusDescription)
    .addHelpText(
      'after',
      examples('chaton failover watchdog status', 'chaton --json failover watchdog status > watchdog.json'),
    )
    .action(async (_options: unknown, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => statusCommand(ctx));
    });
}

/** How many of the last rounds status shows. */
const LAST_ROUNDS = 5;

async function gatewayOf(ctx: RunContext): Promise<{ failover: FailoverSection; gateway: Host }> {
  const { failoverOf } = await import('../lib/network/inventory.js');
  const { UsageError } = await import('../lib/run/errors.js');
  const failover = failoverOf(ctx.inventory);
  if (!failover) throw new UsageError(messages.failoverNoSection(ctx.inventory.file), messages.failoverNoSectionHint);
  return { failover, gateway: ctx.inventory.hosts.find((host) => host.name === failover.gateway)! };
}

type FileReport = { path: string; state: FileState };

/** Each file and what the gateway said of it. */
function filesOf(states: ReadonlyMap<string, FileState>): FileReport[] {
  return [...states].map(([path, state]) => ({ path, state }));
}

function fileLines(files: readonly FileReport[]): string {
  return files.map((file) => `  ${file.state.padEnd(8)} ${file.path}`).join('\n');
}

/** Reads the files' states, and when `pending` says something would change: asks, then runs `change`. */
async function changeFiles(
  ctx: RunContext,
  spec: {
    read: (gateway: Host) => Promise<Map<string, FileState>>;
    pending: (states: ReadonlyMap<string, FileState>) => boolean;
    question: (gateway: string) => string;
    title: (gateway: string) => string;
    change: RemoteCommand;
    done: (gateway: string) => string;
    unchanged: (gateway: string) => string;
  },
): Promise<CommandResult> {
  const { ExitCode } = await import('../lib/run/errors.js');
  const { runPhases } = await import('../lib/run/phases.js');
  const { parseFileStates } = await import('../lib/network/watchdog.js');
  const { gateway } = await gatewayOf(ctx);
  let before: Map<string, FileState> | undefined;
  let after: Map<string, FileState> | undefined;
  let planned = false;
  await runPhases(
    ctx,
    [
      { kind: 'connect', hosts: [gateway] },
      {
        kind: 'step',
        title: messages.watchdogReadTitle(gateway.name),
        run: async () => {
          before = await spec.read(gateway);
        },
      },
      { kind: 'confirm', question: () => (before && spec.pending(before) ? spec.question(gateway.name) : undefined) },
      {
        kind: 'step',
        title: spec.title(gateway.name),
        run: async () => {
          if (!before || !spec.pending(before)) return;
          const result = await ctx.executor.run(gateway, spec.change, { kind: 'change' });
          planned = result.dryRun;
          after = parseFileStates(result.stdout.toString());
        },
      },
    ],
    'live',
  );
  if (!before) return { exitCode: ExitCode.interrupted, hosts: [] };
  const hosts = [{ host: gateway.name, ok: true, error: null }];
  const outcome = !spec.pending(before) ? 'unchanged' : planned ? 'planned' : 'changed';
  const files = filesOf(after ?? before);
  const verdict = {
    unchanged: spec.unchanged(gateway.name),
    planned: messages.watchdogPlanned,
    changed: spec.done(gateway.name),
  }[outcome];
  return {
    exitCode: ExitCode.ok,
    hosts,
    fields: { outcome, files },
    view: [{ text: files.length > 0 ? `${fileLines(files)}\n${verdict}` : verdict }],
  };
}

async function installCommand(ctx: RunContext): Promise<CommandResult> {
  const { watchdogFiles, watchdogFilesFact, installWatchdog } = await import('../lib/network/watchdog.js');
  const { failover } = await gatewayOf(ctx);
  const files = watchdogFiles(failover);
  return changeFiles(ctx, {
    read: (gateway) => ctx.executor.fact(gateway, watchdogFilesFact(files)),
    pending: (states) => [...states.values()].some((state) => state !== 'same'),
    question: messages.watchdogInstallQuestion,
    title: messages.watchdogInstallTitle,
    change: installWatchdog(files),
    done: (gateway) => messages.watchdogInstalled(gateway, failover.watchdog.down, failover.watchdog.up),
    unchanged: messages.watchdogInstallUnchanged,
  });
}

async function removeCommand(ctx: RunContext): Promise<CommandResult> {
  const { removeWatchdog, watchdogPresentFact } = await import('../lib/network/watchdog.js');
  return changeFiles(ctx, {
    read: (gateway) => ctx.executor.fact(gateway, watchdogPresentFact),
    pending: (states) => states.size > 0,
    question: messages.watchdogRemoveQuestion,
    title: messages.watchdogRemoveTitle,
    change: removeWatchdog,
    done: messages.watchdogRemoved,
    unchanged: messages.watchdogRemoveUnchanged,
  });
}

/** What the gateway says of its watchdog: its files compared with the inventory's, its state, its last rounds. */
export interface WatchdogReport {
  installed: 'current' | 'stale' | 'absent';
  files: FileReport[];
  state: WatchdogState['state'];
  rounds: { at: string; words: Record<string, string> }[];
}

export async function readWatchdog(
  ctx: RunContext,
  gateway: Host,
  failover: FailoverSection,
  rounds = LAST_ROUNDS,
): Promise<WatchdogReport> {
  const { installedVersion, watchdogFiles, watchdogFilesFact, watchdogStateFact } =
    await import('../lib/network/watchdog.js');
  const [states, read] = await Promise.all([
    ctx.executor.fact(gateway, watchdogFilesFact(watchdogFiles(failover))),
    ctx.executor.fact(gateway, watchdogStateFact(rounds)),
  ]);
  return {
    installed: installedVersion(states),
    files: filesOf(states),
    state: read.state,
    rounds: read.rounds.map((round) => ({ at: new Date(round.at * 1000).toISOString(), words: round.words })),
  };
}

/** The watchdog in `failover status`'s JSON: null when not installed. */
export function watchdogField(report: WatchdogReport | undefined): Record<string, unknown> | null {
  if (!report || report.installed === 'absent') return null;
  const last = report.rounds.at(-1);
  return {
    installed: report.installed,
    active: report.state.active ?? null,
    bad: Number(report.state.bad ?? 0),
    good: Number(report.state.good ?? 0),
    decision: last?.words.decision ?? null,
    at: last?.at ?? null,
  };
}

/** One line: installed or not, the link it keeps, its last decision (`failover status` shows it when installed). */
export function watchdogLine(report: WatchdogReport): string {
  if (report.installed === 'absent') return messages.watchdogAbsent;
  const { state } = report;
  const last = report.rounds.at(-1);
  return messages.watchdogSummary(
    report.installed,
    state.active ?? '-',
    last ? `${last.words.decision ?? '-'} (${last.at})` : '-',
    state.bad ?? '0',
    state.good ?? '0',
  );
}

async function statusCommand(ctx: RunContext): Promise<CommandResult> {
  const { ExitCode } = await import('../lib/run/errors.js');
  const { runPhases } = await import('../lib/run/phases.js');
  const { failover, gateway } = await gatewayOf(ctx);
  let report: WatchdogReport | undefined;
  await runPhases(
    ctx,
    [
      { kind: 'connect', hosts: [gateway] },
      {
        kind: 'step',
        title: messages.watchdogReadTitle(gateway.name),
        run: async () => {
          report = await readWatchdog(ctx, gateway, failover);
        },
      },
    ],
    'live',
  );
  if (!report) return { exitCode: ExitCode.interrupted, hosts: [] };
  const switched = report.state.switched_at;
  const lastSwitch =
    switched && switched !== '0'
      ? messages.watchdogLastSwitch(report.state.switched ?? '-', new Date(Number(switched) * 1000).toISOString())
      : undefined;
  const rounds = report.rounds.map((round) =>
    [round.at, ...Object.entries(round.words).map(([key, value]) => `${key}=${value}`)].join(' '),
  );
  return {
    exitCode: ExitCode.ok,
    hosts: [{ host: gateway.name, ok: true, error: null }],
    fields: { watchdog: report },
    view: [
      { text: `${fileLines(report.files)}\n${watchdogLine(report)}` },
      ...(lastSwitch ? [{ text: lastSwitch }] : []),
      ...(rounds.length > 0
        ? [{ text: `${messages.watchdogLastRounds}\n${rounds.map((r) => `  ${r}`).join('\n')}` }]
        : []),
    ],
  };
}
