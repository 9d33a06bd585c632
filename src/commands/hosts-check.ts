// `chaton hosts check`: reach every target through the bastion, check its host key, and report
// latency and OS. The first thing to run on a new inventory, and a cheap cron health check.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('check')
    .description(messages.hostsCheckDescription)
    .argument('[targets]', messages.targetsArgument, 'all')
    .addHelpText(
      'after',
      `${messages.targetsHelp}\n${examples(
        'chaton hosts check',
        'chaton hosts check hypervisors,gw',
        `chaton --json hosts check all   # ${messages.fromCron}`,
      )}`,
    )
    .action(async (targets: string, _options: unknown, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => hostsCheck(ctx, targets));
    });
}

interface HostReport {
  /** Which of the host's addresses answered. */
  addressUsed: string;
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
  const { milliseconds } = await import('../lib/run/output.js');
  const { errorReport, FAILED, hostTable } = await import('../lib/run/report.js');
  const { addressList, jumpNames, routeOf } = await import('../lib/ssh/endpoint.js');

  const hosts = resolveTargets(ctx.inventory, targets);
  const outcomes = await fanOut<HostReport>(ctx, {
    title: messages.hostsCheckTitle,
    hosts,
    style: 'live',
    work: async (host, task) => {
      const connection = await ctx.pool.connect(host);
      const started = performance.now();
      const os = await ctx.executor.fact(host, kernelRelease, { onLines: task.verboseLines, drained: task.drained });
      return {
        addressUsed: connection.info.address,
        connectMs: Math.round(connection.info.connectMs),
        latencyMs: Math.round(performance.now() - started),
        kex: connection.info.kex,
        hostKey: connection.info.hostKey,
        os,
      };
    },
    summary: (r) => `${r.os} (${milliseconds(r.latencyMs)})`,
  });

  const entries = outcomes.map((o) => ({
    host: o.host.name,
    ok: o.ok,
    error: o.ok ? null : errorReport(o.error),
    // The first address, as before hosts had several.
    address: o.host.addresses[0],
    addresses: o.host.addresses,
    port: o.host.port,
    via: jumpNames(o.host),
    ...(o.ok ? o.value : NOT_REACHED),
  }));
  return {
    exitCode: exitCodeFor(outcomes, ctx.signal),
    hosts: entries,
    view: [
      hostTable(
        [
          messages.columnHost,
          messages.columnAddress,
          messages.columnVia,
          messages.columnConnect,
          messages.columnLatency,
          messages.columnOs,
        ],
        entries,
        outcomes.map((o) => {
          if (!o.ok) return [o.host.name, addressList(o.host), routeOf(o.host), '-', '-', FAILED];
          const { addressUsed, connectMs, latencyMs, os } = o.value;
          return [o.host.name, addressUsed, routeOf(o.host), milliseconds(connectMs), milliseconds(latencyMs), os];
        }),
      ),
    ],
  };
}

/** The fields of a host that was not reached, so that every host has the same shape. */
const NOT_REACHED: { [K in keyof HostReport]: null } = {
  addressUsed: null,
  connectMs: null,
  latencyMs: null,
  kex: null,
  hostKey: null,
  os: null,
};
