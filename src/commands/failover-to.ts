// `chaton failover to main|backup`: switch the site's internet link without locking anyone out.
// Under the gateway's lock: read the gateway as `failover status` does and decide (already there:
// unchanged; the link not up: refused unless --force); then a guarded change (run/guarded-change):
// a revert restoring the exact default routes read is armed first, the route is switched detached
// from the session, chaton comes back through the bastion (on whichever of its addresses answers)
// and proves the new path: the default route through the link, the link up from the gateway, the
// targets answering from a host inside. Only then is the revert disarmed, conntrack's flows of the
// old link flushed and the DNS names moved. Runtime state only: the gateway's boot configuration
// is left alone, so a reboot brings the site back on its configured link.
import { Argument, type Command } from 'commander';
import type { Host } from '../lib/inventory/types.js';
import type { FailoverSection, LinkName } from '../lib/network/inventory.js';
import type { GatewayRead, Judgement } from '../lib/network/judge.js';
import type { DefaultRoute } from '../lib/network/routing.js';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { GuardedChangeResult, StepDuration } from '../lib/run/guarded-change.js';
import type { HostLock } from '../lib/run/host-lock.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('to')
    .description(messages.failoverToDescription)
    .addArgument(new Argument('<link>', messages.failoverToLinkArgument).choices(['main', 'backup']))
    .option('--force', messages.failoverForceOption)
    .addHelpText(
      'after',
      `\n${messages.failoverToHelp}\n${examples(
        'chaton failover to backup',
        `chaton -y failover to main   # ${messages.failoverFromRunbook}`,
        `chaton --dry-run failover to backup   # ${messages.failoverDryRunExample}`,
        `chaton failover to backup --force   # ${messages.failoverForceExample}`,
      )}`,
    )
    .action(async (link: LinkName, options: ToOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => failoverTo(ctx, link, options));
    });
}

interface ToOptions {
  force?: boolean;
}

/** What a step after the switch did, for the report. */
interface AfterStep {
  step: 'conntrack' | 'dns';
  ok: boolean;
  durationMs: number;
  detail: string;
}

async function failoverTo(ctx: RunContext, to: LinkName, options: ToOptions): Promise<CommandResult> {
  const { failoverOf } = await import('../lib/network/inventory.js');
  const { ExitCode, RefusedError, UsageError } = await import('../lib/run/errors.js');
  const { runPhases } = await import('../lib/run/phases.js');
  const { HostLock } = await import('../lib/run/host-lock.js');
  const { decideSwitch, FAILOVER_LOCK } = await import('../lib/network/switch.js');
  const { reportView } = await import('../lib/network/render.js');
  const { outputWidth } = await import('../lib/run/text.js');

  const failover = failoverOf(ctx.inventory);
  if (!failover) throw new UsageError(messages.failoverNoSection(ctx.inventory.file), messages.failoverNoSectionHint);
  const hostNamed = (name: string) => ctx.inventory.hosts.find((host) => host.name === name)!;
  const gateway = hostNamed(failover.gateway);
  const inside = failover.proveFrom === undefined ? undefined : hostNamed(failover.proveFrom);
  // Dry-run takes no lock: it changes nothing, and the plan shows the lock's commands.
  const lock = ctx.options.dryRun ? undefined : new HostLock(ctx, gateway, FAILOVER_LOCK);
  let locked = false;
  const started = performance.now();
  try {
    let before: { read: GatewayRead; judgement: Judgement } | undefined;
    await runPhases(
      ctx,
      [
        { kind: 'connect', hosts: inside ? [gateway, inside] : [gateway] },
        {
          kind: 'step',
          title: messages.failoverReadTitle(gateway.name),
          run: async () => {
            if (lock) {
              await lock.take();
              locked = true;
            }
            before = await judgeGateway(ctx, gateway, failover);
          },
        },
      ],
      'live',
    );
    if (!before) return { exitCode: ExitCode.interrupted, hosts: [] };
    const decision = decideSwitch(before.judgement, to, options.force === true);
    const statusView = reportView(before.judgement, outputWidth());
    const base = { from: before.judgement.active, to };
    if (decision.kind === 'unchanged') {
      return {
        exitCode: ExitCode.ok,
        hosts: [{ host: gateway.name, ok: true, error: null }],
        fields: { ...base, forced: false, outcome: 'unchanged', steps: [], after: [] },
        view: [{ text: messages.failoverUnchanged(to, gateway.name) }],
      };
    }
    if (decision.kind === 'refused') throw new RefusedError(decision.reason, messages.failoverRefusedHint(to));
    const routesBefore = before.read.routes.get('main') ?? [];

    let guarded: GuardedChangeResult | undefined;
    const after: AfterStep[] = [];
    await runPhases(
      ctx,
      [
        {
          kind: 'confirm',
          question: () => messages.failoverQuestion(gateway.name, String(base.from), to),
        },
        {
          kind: 'step',
          title: messages.failoverSwitchTitle(to),
          run: async (progress, live) => {
            guarded = await switchLink(ctx, { gateway, inside, failover, to, routesBefore, lock }, progress, live);
          },
        },
        {
          kind: 'step',
          title: messages.failoverAfterTitle,
          run: async (progress) => {
            if (guarded?.outcome !== 'applied' && guarded?.outcome !== 'planned') return;
            after.push(...(await afterSwitch(ctx, gateway, failover, to, progress)));
          },
        },
      ],
      'live',
    );
    if (!guarded) return { exitCode: ExitCode.interrupted, hosts: [] };
    const outcome = { gateway, routesBefore, to, base, forced: decision.forced, guarded, after, started };
    return await switchResult(ctx, outcome, ctx.options.dryRun ? statusView : []);
  } finally {
    if (lock && locked) await lock.release().catch(() => undefined);
  }
}

/** The gateway read and judged as `failover status` does; a gateway that cannot be read stops here. */
async function judgeGateway(
  ctx: RunContext,
  gateway: Host,
  failover: FailoverSection,
): Promise<{ read: GatewayRead; judgement: Judgement }> {
  const { readGateway } = await import('./failover-status.js');
  const { judge } = await import('../lib/network/judge.js');
  const read = await readGateway(ctx, gateway, failover, [], undefined);
  if ('error' in read) throw read.cause;
  return { read, judgement: judge({ failover, gateway: read, now: Date.now() }) };
}

interface SwitchSpec {
  gateway: Host;
  inside: Host | undefined;
  failover: FailoverSection;
  to: LinkName;
  routesBefore: readonly DefaultRoute[];
  lock: HostLock | undefined;
}

/** The guarded change: the default route switched, proven from the gateway and from inside. */
async function switchLink(
  ctx: RunContext,
  spec: SwitchSpec,
  progress: (text: string) => void,
  live: boolean,
): Promise<GuardedChangeResult> {
  const { runGuardedChange } = await import('../lib/run/guarded-change.js');
  const { restoreDefaultRoutes, switchDefaultRoute } = await import('../lib/network/routing.js');
  const { insideProbesFact } = await import('../lib/network/probes.js');
  const { FAILOVER_LOCK, switchUnproven } = await import('../lib/network/switch.js');
  const { command } = await import('../lib/remote/shell.js');
  const { gateway, inside, failover, to } = spec;
  const revertAfterMs = failover.revertAfter * 1000;
  return runGuardedChange(
    ctx,
    {
      host: gateway,
      name: FAILOVER_LOCK,
      change: switchDefaultRoute(failover.links[to]),
      revert: restoreDefaultRoutes(spec.routesBefore),
      revertAfterSeconds: failover.revertAfter,
      // Half the revert's delay to come back, the other half for the proof and the disarm.
      comeBackWithinMs: revertAfterMs / 2,
      prove: async () => {
        // The gateway and the inside host probe at once: one probe round's time, not two.
        const [{ judgement }, probes] = await Promise.all([
          judgeGateway(ctx, gateway, failover),
          inside ? ctx.executor.fact(inside, insideProbesFact(failover.probes)) : undefined,
        ]);
        return switchUnproven(judgement, to, inside && probes ? { host: inside.name, probes } : undefined);
      },
      checks: [command('ip', 'route', 'show', 'table', 'main')],
      ...(spec.lock ? { heldLock: spec.lock } : {}),
    },
    progress,
    live,
  );
}

/**
 * Once the new path is proven: the old link's flows forgotten by conntrack (their NAT would keep
 * them on the old link), and the DNS names moved to the new link's address, then asked of the
 * authoritative server. A failure here leaves the switch in place (it is proven) and says so.
 */
async function afterSwitch(
  ctx: RunContext,
  gateway: Host,
  failover: FailoverSection,
  to: LinkName,
  progress: (text: string) => void,
): Promise<AfterStep[]> {
  const { flushLinkFlows, conntrackCount } = await import('../lib/network/conntrack.js');
  const { dnsAnswersFact, dnsUpdate, nsupdateFailure } = await import('../lib/network/dns.js');
  const { formatError } = await import('../lib/run/errors.js');
  const steps: AfterStep[] = [];
  const old = failover.links[to === 'main' ? 'backup' : 'main'];
  const timed = async (step: AfterStep['step'], work: () => Promise<{ ok: boolean; detail: string }>) => {
    const started = performance.now();
    const done = await work().catch((error: unknown) => ({ ok: false, detail: formatError(error) }));
    steps.push({ step, ...done, durationMs: performance.now() - started });
    progress(done.detail);
  };
  if (failover.conntrackFlush) {
    await timed('conntrack', async () => {
      const flush = flushLinkFlows(old);
      const result = await ctx.executor.run(gateway, flush.command, { kind: 'change', okCodes: flush.okCodes });
      if (result.dryRun) return { ok: true, detail: messages.failoverPlanned };
      const count = conntrackCount(result.stderr.toString()) ?? 0;
      return { ok: true, detail: messages.failoverFlowsFlushed(count, old.name) };
    });
  }
  const { dns } = failover;
  if (dns) {
    const address = failover.links[to].publicAddress;
    await timed('dns', async () => {
      const update = await ctx.executor.run(gateway, dnsUpdate(dns, address), { kind: 'change', check: false });
      if (update.dryRun) return { ok: true, detail: messages.failoverPlanned };
      const failed = nsupdateFailure(update.code, update.stderr.toString());
      if (failed !== undefined) return { ok: false, detail: messages.failoverDnsFailed(dns.server, failed) };
      const answers = await ctx.executor.fact(gateway, dnsAnswersFact(dns));
      const wrong = [...answers].filter(
        ([, answer]) => !('addresses' in answer) || answer.addresses.join() !== address,
      );
      if (wrong.length === 0) return { ok: true, detail: messages.failoverDnsMoved(dns.names.join(', '), address) };
      const said = wrong.map(([name, answer]) => `${name}: ${'addresses' in answer ? answer.addresses : answer.error}`);
      return { ok: false, detail: messages.failoverDnsWrong(dns.server, said.join('; ')) };
    });
  }
  return steps;
}

interface SwitchOutcome {
  gateway: Host;
  routesBefore: readonly DefaultRoute[];
  to: LinkName;
  base: { from: Judgement['active']; to: LinkName };
  forced: boolean;
  guarded: GuardedChangeResult;
  after: AfterStep[];
  started: number;
}

/** The report: what happened, each step's duration, and for a change that did not stay, the state now. */
async function switchResult(
  ctx: RunContext,
  outcome: SwitchOutcome,
  before: NonNullable<CommandResult['view']>,
): Promise<CommandResult> {
  const { ExitCode } = await import('../lib/run/errors.js');
  const { guardedChangeError } = await import('../lib/run/guarded-change.js');
  const { milliseconds } = await import('../lib/run/output.js');
  const { gateway, guarded, after, to } = outcome;
  const steps: StepDuration[] = 'steps' in guarded ? guarded.steps : [];
  const timings = [
    ...steps.map((step) => ({ step: step.step, durationMs: Math.round(step.ms) })),
    ...after.map((step) => ({ step: step.step, durationMs: Math.round(step.durationMs) })),
  ];
  const fields = {
    ...outcome.base,
    forced: outcome.forced,
    outcome: guarded.outcome === 'applied' ? 'switched' : guarded.outcome,
    steps: timings,
    after: after.map((step) => ({ step: step.step, ok: step.ok, detail: step.detail })),
    totalMs: Math.round(performance.now() - outcome.started),
    ...('why' in guarded ? { why: guarded.why, check: guarded.check } : {}),
  };
  const lines = timings.map((step) => `  ${step.step.padEnd(10)} ${milliseconds(step.durationMs)}`);
  const failed = guardedChangeError(gateway.name, guarded);
  if (guarded.outcome === 'planned') {
    return {
      exitCode: ExitCode.ok,
      hosts: [{ host: gateway.name, ok: true, error: null }],
      fields,
      view: [...before, { text: messages.failoverPlannedVerdict(String(outcome.base.from), to) }],
    };
  }
  if (failed) {
    const back = guarded.outcome === 'reverted' ? await routesBack(ctx, gateway, outcome.routesBefore) : undefined;
    return {
      exitCode: ExitCode.failed,
      hosts: [{ host: gateway.name, ok: false, error: null }],
      fields: { ...fields, ...(back === undefined ? {} : { routesBack: back }) },
      error: failed,
      view: [
        { text: lines.join('\n') },
        ...(back === undefined ? [] : [{ text: back ? messages.failoverRoutesBack : messages.failoverRoutesNotBack }]),
      ],
    };
  }
  const afterFailed = after.filter((step) => !step.ok);
  return {
    exitCode: afterFailed.length > 0 ? ExitCode.failed : ExitCode.ok,
    hosts: [{ host: gateway.name, ok: true, error: null }],
    fields,
    view: [
      { text: lines.join('\n') },
      {
        text:
          afterFailed.length > 0
            ? messages.failoverSwitchedBut(to, afterFailed.map((step) => step.detail).join('; '))
            : messages.failoverSwitched(to, milliseconds(fields.totalMs)),
      },
    ],
  };
}

/** After a revert: the main table's default routes read again, the same as those read at first? */
async function routesBack(
  ctx: RunContext,
  gateway: Host,
  before: readonly DefaultRoute[],
): Promise<boolean | undefined> {
  const { defaultRoutesFact } = await import('../lib/network/routing.js');
  const { describeRoute } = await import('../lib/network/judge.js');
  const key = (routes: readonly DefaultRoute[]) => JSON.stringify(routes.map((route) => describeRoute(route)).sort());
  try {
    const now = await ctx.executor.fact(gateway, defaultRoutesFact(['main']));
    return key(now.get('main') ?? []) === key(before);
  } catch {
    return undefined;
  }
}
