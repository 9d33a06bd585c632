// `chaton exec <targets> -- <command...>`: one command everywhere, in parallel, its output
// prefixed with the host's name, and a summary of exit codes.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { ConnectionError, InterruptedError, LostWhileRunningError } from '../lib/run/errors.js';
import { brief } from '../lib/remote/shell.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(program: Command): void {
  program
    .command('exec')
    .description(messages.execDescription)
    .argument('<targets>', messages.targetsArgument)
    .argument('<command...>', messages.execCommandArgument)
    .addHelpText(
      'after',
      `
${messages.execHelp}
${messages.targetsHelp}
${examples(
  'chaton exec pve1 -- uptime',
  "chaton exec -y hypervisors -- 'df -h / | tail -1'",
  'chaton --dry-run exec all -- apt-get -y upgrade',
  'chaton --json -y exec role:vm -- systemctl is-active nginx',
)}`,
    )
    .action(async (targets: string, words: string[], _options: unknown, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => exec(ctx, targets, words));
    });
}

interface ExecReport {
  /** Not sent: --dry-run. */
  dryRun: boolean;
  code: number | null;
  signal: string | null;
  durationMs: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** In --json mode each host's output is kept, up to this much per stream. */
const JSON_CAPTURE_BYTES = 1024 * 1024;

async function exec(ctx: RunContext, targets: string, words: string[]): Promise<CommandResult> {
  const { resolveTargets } = await import('../lib/inventory/targets.js');
  const { exitCodeFor, fanOut } = await import('../lib/run/fan-out.js');
  const { errorReport } = await import('../lib/run/report.js');

  const hosts = resolveTargets(ctx.inventory, targets);
  const shellText = words.join(' ');
  const outcomes = await fanOut<ExecReport>(ctx, {
    title: messages.execTitle(brief(shellText)),
    hosts,
    style: 'lines',
    offline: ctx.options.dryRun,
    confirm:
      hosts.length > 1
        ? messages.execQuestion(brief(shellText), hosts.length, names(hosts.map((h) => h.name)))
        : undefined,
    work: async (host, task) => {
      const result = await ctx.executor.run(
        host,
        { shellText },
        {
          kind: 'change',
          check: false,
          onInterrupt: 'cancel',
          captureBytes: ctx.options.json ? JSON_CAPTURE_BYTES : 0,
          // The remote output is what exec is for: shown with or without --verbose.
          onLines: (stream, lines, endsLine) => task.output(lines, stream, endsLine),
          drained: task.drained,
          // The one change on this host: its audit line rides in the same session. (Stopped or
          // cut off, the host is audited in a session of its own, with that outcome.)
          then: { command: ctx.auditTrailer(), ran: () => ctx.audited(host) },
        },
      );
      return {
        dryRun: result.dryRun,
        code: result.code,
        signal: result.signal,
        durationMs: Math.round(result.durationMs),
        stdout: result.stdout.toString('utf8'),
        stderr: result.stderr.toString('utf8'),
        truncated: result.truncated,
      };
    },
    summary: (r) => (r.dryRun ? messages.execNotSent : ending(r)),
    failed,
  });

  // Failures were told on stderr as they happened; the report sums up.
  const groups = new Map<string, string[]>();
  for (const o of outcomes) {
    const key = o.ok ? ending(o.value) : failureText(failureState(o.error));
    groups.set(key, [...(groups.get(key) ?? []), o.host.name]);
  }
  const counted = [...groups].map(([key, hostNames]) => messages.execOnHosts(key, hostNames.length, names(hostNames)));
  const summary = messages.execSummary(counted.join(messages.separator));
  return {
    exitCode: exitCodeFor(outcomes, ctx.signal, failed),
    fields: { shellText },
    hosts: outcomes.map((o) => {
      if (!o.ok) {
        return { host: o.host.name, ok: false, state: failureState(o.error), error: errorReport(o.error), ...NOT_RUN };
      }
      const { dryRun: _sent, ...ran } = o.value;
      return { host: o.host.name, ok: !failed(o.value), state: endState(o.value), error: null, ...ran };
    }),
    // In dry-run the plan printed above is the report.
    view: ctx.options.dryRun ? undefined : [{ text: summary }],
  };
}

/** The JSON fields of a host whose command did not run to its end, so every host has the same shape. */
const NOT_RUN: Omit<ExecReport, 'dryRun'> = {
  code: null,
  signal: null,
  durationMs: 0,
  stdout: '',
  stderr: '',
  truncated: false,
};

function ending(report: ExecReport): string {
  return report.signal ? messages.execKilled(report.signal) : messages.execExited(String(report.code));
}

/** A host whose command exited non-zero (or was killed) failed. */
function failed(report: ExecReport): boolean {
  return !report.dryRun && report.code !== 0;
}

/**
 * What became of a host's command, in JSON: `exited` (see code), `killed` (see signal), `not-sent`
 * (dry-run); or, without an end: `unreachable` (never sent), `lost` (the connection dropped while it
 * ran: it may have ended either way), `interrupted`, `failed` (anything else).
 */
type FailureState = 'unreachable' | 'lost' | 'interrupted' | 'failed';

/** A failure state as the summary says it. */
function failureText(state: FailureState): string {
  const texts: Record<FailureState, string> = {
    unreachable: messages.execUnreachable,
    lost: messages.execLost,
    interrupted: messages.execInterrupted,
    failed: messages.execFailed,
  };
  return texts[state];
}

function endState(report: ExecReport): 'exited' | 'killed' | 'not-sent' {
  if (report.dryRun) return 'not-sent';
  return report.signal ? 'killed' : 'exited';
}

function failureState(error: unknown): FailureState {
  if (error instanceof InterruptedError) return 'interrupted';
  if (error instanceof LostWhileRunningError) return 'lost';
  return error instanceof ConnectionError ? 'unreachable' : 'failed';
}

/** A list of host names short enough for one line. */
function names(hostNames: string[]): string {
  return hostNames.length <= 8
    ? hostNames.join(', ')
    : messages.andMore(hostNames.slice(0, 8).join(', '), hostNames.length - 8);
}
