// `chaton failover status`: which link carries the site's default route, and is each link up?
// Reads the gateway's interfaces, routes and rules, and probes every target through each link,
// all at once (one session per question), then hands what it read to the network domain's
// judgement, rendered for a person, a program (--json) and the monitoring (--format nagios).
// Read-only: nothing is changed on the gateway.
import { Option, type Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { Host } from '../lib/inventory/types.js';
import type { FailoverSection } from '../lib/network/inventory.js';
import type { GatewayRead, GatewayUnread } from '../lib/network/judge.js';
import type { Fact } from '../lib/remote/facts.js';
import type { WatchdogReport } from './failover-watchdog.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('status')
    .description(messages.failoverStatusDescription)
    .addOption(new Option('--format <format>', messages.nagiosFormatOption).choices(['nagios']))
    .addHelpText(
      'after',
      `\n${messages.failoverStatusHelp}\n${examples(
        'chaton failover status',
        `chaton -q failover status   # ${messages.fromCron}`,
        'chaton --json failover status > failover.json',
        `chaton failover status --format nagios   # ${messages.forNagios}`,
      )}`,
    )
    .action(async (options: StatusOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => failoverStatus(ctx, options));
    });
}

interface StatusOptions {
  format?: 'nagios';
}

/** One command the status ran on the gateway: for -v, and for programs (JSON `checks`). */
interface Ran {
  host: string;
  command: string;
  code: number | null;
  durationMs: number;
}

/** Room for the probes' own bound (count requests 0.2 s apart, then the timeout), and a slow gateway. */
const PROBE_SLACK_MS = 10_000;

async function failoverStatus(ctx: RunContext, options: StatusOptions): Promise<CommandResult> {
  const { failoverOf } = await import('../lib/network/inventory.js');
  const { ExitCode, UsageError } = await import('../lib/run/errors.js');
  const { runPhases } = await import('../lib/run/phases.js');

  const failover = failoverOf(ctx.inventory);
  if (!failover) throw new UsageError(messages.failoverNoSection(ctx.inventory.file), messages.failoverNoSectionHint);
  if (ctx.options.json && options.format === 'nagios') throw new UsageError(messages.jsonOrNagios);
  const gateway = ctx.inventory.hosts.find((host) => host.name === failover.gateway)!;

  const ran: Ran[] = [];
  let read: GatewayRead | (GatewayUnread & { cause: unknown }) | undefined;
  let watchdog: WatchdogReport | undefined;
  await runPhases(
    ctx,
    [
      { kind: 'connect', hosts: [gateway] },
      {
        kind: 'step',
        title: messages.failoverReadTitle(gateway.name),
        run: async (progress) => {
          const { readWatchdog } = await import('./failover-watchdog.js');
          // The watchdog is a line of the report: one that cannot be read is left out, not a failure.
          [read, watchdog] = await Promise.all([
            readGateway(ctx, gateway, failover, ran, ctx.options.verbose ? progress : undefined),
            readWatchdog(ctx, gateway, failover, 1).catch(() => undefined),
          ]);
        },
      },
    ],
    'live',
  );
  const checks = ran.map((r) => ({ ...r, durationMs: Math.round(r.durationMs) }));
  if (ctx.signal.aborted || !read) return { exitCode: ExitCode.interrupted, hosts: [], fields: { checks } };

  const { judge } = await import('../lib/network/judge.js');
  const { exitCodeOf, nagiosReport, reportFields, reportView } = await import('../lib/network/render.js');
  const { errorReport } = await import('../lib/run/report.js');
  const { outputWidth } = await import('../lib/run/text.js');
  const { watchdogField, watchdogLine } = await import('./failover-watchdog.js');
  const judgement = judge({ failover, gateway: read, now: Date.now() });
  const failed = 'error' in read ? errorReport(read.cause) : null;
  return {
    exitCode: exitCodeOf(judgement),
    hosts: [{ host: gateway.name, ok: failed === null, error: failed }],
    fields: { ...reportFields(judgement), checks, watchdog: watchdogField(watchdog) },
    view: [
      ...reportView(judgement, outputWidth()),
      ...(watchdog && watchdog.installed !== 'absent' ? [{ text: watchdogLine(watchdog) }] : []),
    ],
    alert: judgement.state !== 'ok',
    plugin: nagiosReport(judgement),
  };
}

/**
 * Everything the status asks the gateway, at once: its interfaces (a link on one it lacks is an
 * inventory error, exit 2), the default routes of the main table and of each link's, the rules,
 * and each link's probes. A gateway that cannot be reached, or a read that fails, is what the
 * judgement is given; a link whose probes fail is unknown, the other one is still judged.
 */
export async function readGateway(
  ctx: RunContext,
  gateway: Host,
  failover: FailoverSection,
  ran: Ran[],
  verbose: ((text: string) => void) | undefined,
): Promise<GatewayRead | (GatewayUnread & { cause: unknown })> {
  const { interfacesFact, missingInterfaces } = await import('../lib/network/links.js');
  const { defaultRoutesFact, rulesFact, tablesOf } = await import('../lib/network/routing.js');
  const { linkProbesFact } = await import('../lib/network/probes.js');
  const { RemoteCommandError } = await import('../lib/run/errors.js');
  const { errorReport } = await import('../lib/run/report.js');
  const unread = (cause: unknown, reached: boolean) => {
    const { message, hint } = errorReport(cause);
    return { error: message, ...(hint === null ? {} : { hint }), reached, cause };
  };
  const { milliseconds } = await import('../lib/run/output.js');
  const { brief } = await import('../lib/remote/shell.js');
  try {
    await ctx.pool.connect(gateway);
  } catch (error) {
    return unread(error, false);
  }
  const ask = async <T>(fact: Fact<T>, timeoutMs?: number): Promise<T> => {
    const result = await ctx.executor.run(gateway, fact.command, {
      kind: 'probe',
      check: false,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
    ran.push({ host: gateway.name, command: result.command, code: result.code, durationMs: result.durationMs });
    const duration = milliseconds(Math.round(result.durationMs));
    verbose?.(
      messages.commandRan(
        gateway.name,
        brief(result.command.replace(/\s*\n\s*/g, ' '), 300),
        duration,
        String(result.code),
      ),
    );
    const stderr = result.stderr.toString('utf8');
    if (result.code !== 0) throw new RemoteCommandError(gateway.name, result.command, result.code, stderr);
    return fact.parse(result.stdout.toString('utf8'));
  };
  const { probes } = failover;
  const probeBoundMs = (probes.count * 0.2 + probes.timeout) * 1000 + PROBE_SLACK_MS;
  const probe = (link: FailoverSection['links']['main']) =>
    ask(linkProbesFact(link, probes), probeBoundMs).catch((error: unknown) => ({ error: errorReport(error).message }));
  try {
    const [interfaces, routes, rules, main, backup] = await Promise.all([
      ask(interfacesFact),
      ask(defaultRoutesFact(tablesOf(failover))),
      ask(rulesFact),
      probe(failover.links.main),
      probe(failover.links.backup),
    ]);
    const missing = missingInterfaces(failover, interfaces);
    if (missing) throw missing;
    return { interfaces, routes, rules, probes: { main, backup } };
  } catch (error) {
    const { InventoryError } = await import('../lib/inventory/reader.js');
    if (error instanceof InventoryError) throw error;
    return unread(error, true);
  }
}
