// `chaton exec <targets> -- <command...>`: one command everywhere, in parallel, its output
// prefixed with the host's name, and a summary of exit codes.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { ConnectionError, InterruptedError, LostWhileRunningError } from '../lib/run/errors.js';
import { brief } from '../lib/remote/shell.js';
import { examples, TARGETS_HELP } from './help.js';

export function register(program: Command): void {
  program
    .command('exec')
    .description('run one command on every target in parallel; exit 4 when some hosts failed')
    .argument('<targets>', 'which hosts (see below)')
    .argument('<command...>', 'the command, after --')
    .addHelpText(
      'after',
      `
The words after -- reach the remote shell as \`ssh host words...\` sends them: joined by
spaces and read by the host's shell, so pipes, redirections and globs work there (quote them
so that YOUR shell leaves them alone). stdin is not forwarded. On more than one host chaton
asks first; without a terminal, add --yes.
${TARGETS_HELP}
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
  const { plural } = await import('../lib/run/output.js');
  const { errorReport } = await import('../lib/run/report.js');

  const hosts = resolveTargets(ctx.inventory, targets);
  const shellText = words.join(' ');
  const outcomes = await fanOut<ExecReport>(ctx, {
    title: `Run \`${brief(shellText)}\``,
    hosts,
    style: 'lines',
    offline: ctx.options.dryRun,
    confirm:
      hosts.length > 1
        ? `Run \`${brief(shellText)}\` on ${plural(hosts.length, 'host')} (${names(hosts.map((h) => h.name))})?`
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
          // cut off, it never runs, and the host is audited in a session of its own.)
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
    summary: (r) => (r.dryRun ? 'not sent (dry-run)' : ending(r)),
    failed,
  });

  // Failures were told on stderr as they happened; the report sums up.
  const groups = new Map<string, string[]>();
  for (const o of outcomes) {
    const key = o.ok ? ending(o.value) : FAILURE_TEXT[failureState(o.error)];
    groups.set(key, [...(groups.get(key) ?? []), o.host.name]);
  }
  const counted = [...groups].map(
    ([key, hostNames]) => `${key} on ${plural(hostNames.length, 'host')} (${names(hostNames)})`,
  );
  const summary = `exit codes: ${counted.join('; ')}`;
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
  return report.signal ? `killed by ${report.signal}` : `exit ${report.code}`;
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

const FAILURE_TEXT: Record<FailureState, string> = {
  unreachable: 'unreachable',
  lost: 'lost while running (outcome unknown)',
  interrupted: 'interrupted',
  failed: 'failed',
};

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
    : `${hostNames.slice(0, 8).join(', ')}, +${hostNames.length - 8} more`;
}
