// `chaton hosts check`: reach every target through the bastion, check its host key, and report
// latency and OS. The first thing to run on a new inventory, and a cheap cron health check.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { examples, TARGETS_HELP } from './help.js';

export function register(parent: Command): void {
  parent
    .command('check')
    .description('connect to every target (host keys checked), print latency and OS; exit 4 if some fail, 5 if the bastion fails')
    .argument('[targets]', 'which hosts (see below)', 'all')
    .addHelpText('after', `${TARGETS_HELP}\n${examples('chaton hosts check', 'chaton hosts check hypervisors,gw', 'chaton --json hosts check all   # from cron')}`)
    .action(async (targets: string, _options: unknown, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => hostsCheck(ctx, targets));
    });
}

interface HostReport {
  connectMs: number;
  latencyMs: number;
  kex: string;
  hostKey: string;
  os: string;
}

async function hostsCheck(ctx: RunContext, targets: string): Promise<CommandResult> {
  const { resolveTargets } = await import('../lib/inventory/targets.js');
  const { exitCodeFor, fanOut } = await import('../lib/run/fan-out.js');
  const { kernelRelease } = await import('../lib/remote/facts.js');
  const { formatError } = await import('../lib/run/errors.js');
  const { milliseconds, paint, table } = await import('../lib/run/output.js');
  const { jumpNames, routeOf } = await import('../lib/ssh/endpoint.js');

  const hosts = resolveTargets(ctx.inventory, targets);
  const outcomes = await fanOut<HostReport>(ctx, {
    title: 'Check',
    hosts,
    style: 'live',
    work: async (host, task) => {
      const connection = await ctx.pool.connect(host);
      const started = performance.now();
      const os = await ctx.executor.fact(host, kernelRelease, { onLines: task.verboseLines, drained: task.drained });
      return { connectMs: connection.info.connectMs, latencyMs: performance.now() - started, kex: connection.info.kex, hostKey: connection.info.hostKey, os };
    },
    summary: (r) => `${r.os} (${milliseconds(r.latencyMs)})`,
  });

  return {
    exitCode: exitCodeFor(outcomes, ctx.signal),
    json: {
      command: 'hosts check',
      hosts: outcomes.map((o) => ({
        host: o.host.name,
        address: o.host.address,
        port: o.host.port,
        via: jumpNames(o.host),
        ok: o.ok,
        ...(o.ok ? o.value : { error: formatError(o.error) }),
      })),
    },
    text: table(
      ['HOST', 'ADDRESS', 'VIA', 'CONNECT', 'LATENCY', 'OS'],
      outcomes.map((o) =>
        o.ok
          ? [o.host.name, o.host.address, routeOf(o.host), milliseconds(o.value.connectMs), milliseconds(o.value.latencyMs), o.value.os]
          : [o.host.name, o.host.address, routeOf(o.host), '-', '-', paint.red(`FAILED: ${formatError(o.error).split('\n')[0]}`)],
      ),
    ),
  };
}
