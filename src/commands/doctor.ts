// `chaton doctor [--reach]`: what on this machine would make a run fail over SSH, found before
// any connection (keys, ssh-agent, known_hosts); with --reach, then a connection to every machine.
import type { Command } from 'commander';
import type { Inventory } from '../lib/inventory/types.js';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { OutputMode } from '../lib/run/output.js';
import type { HostEntry } from '../lib/run/report.js';
import type { Check, CheckStatus } from '../lib/ssh/doctor.js';
import type { Identities } from '../lib/ssh/identities.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description(messages.doctorDescription)
    .option('--reach', messages.doctorReachOption)
    .addHelpText('after', examples('chaton doctor', 'chaton doctor --reach', 'chaton --json doctor --reach'))
    .action(async (options: { reach?: boolean }, cmd: Command) => {
      const { inventoryFor, runLocal, runRemote } = await import('../lib/run/lifecycle.js');
      if (options.reach) {
        await runRemote(cmd, (ctx) => doctor(ctx.inventory, ctx.env, ctx.identities, ctx.mode, ctx));
      } else {
        const { Identities } = await import('../lib/ssh/identities.js');
        await runLocal(cmd, async (global, mode) =>
          doctor(await inventoryFor(global), process.env, new Identities(), mode),
        );
      }
    });
}

/** The checks, then with a run context (--reach) a connection to every machine. */
async function doctor(
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
  identities: Identities,
  mode: OutputMode,
  ctx?: RunContext,
): Promise<CommandResult> {
  const { ExitCode } = await import('../lib/run/errors.js');
  const checks = await checkLocally(inventory, env, identities, mode);
  const localFailure = checks.some((c) => c.status === 'FAIL');
  const reached = ctx ? await reach(ctx) : undefined;
  const reachFailure = reached?.checks.some((c) => c.status === 'FAIL') === true;
  const all = [...checks, ...(reached?.checks ?? [])];
  return {
    // What to fix first: this machine's side; a reach that fails because of it says nothing new.
    exitCode: localFailure ? ExitCode.usage : reachFailure ? ExitCode.connection : ExitCode.ok,
    hosts: reached?.hosts ?? [],
    fields: { reach: ctx !== undefined, checks: all },
    view: [await checkTable(all)],
  };
}

/**
 * This machine's checks, as one step of a listr2 chain: a run asks for an encrypted key's
 * passphrase at a terminal, through listr2's prompt, so the doctor does too (it then knows the
 * passphrase works); without a terminal, the key is skipped as a run would skip it.
 */
async function checkLocally(
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
  identities: Identities,
  mode: OutputMode,
): Promise<Check[]> {
  const { Listr } = await import('listr2');
  const { localChecks } = await import('../lib/ssh/doctor.js');
  const { askPassphrase } = await import('../lib/run/prompts.js');
  let checks: Check[] = [];
  await new Listr(
    [
      {
        title: messages.doctorLocalTitle,
        task: async (_, task) => {
          checks = await localChecks(inventory, env, identities, (file, retry) =>
            askPassphrase(mode, task, file, retry),
          );
        },
      },
    ],
    // Only a terminal can be asked anything; elsewhere the report says it all.
    { renderer: mode.interactive ? 'default' : 'silent', exitOnError: true, registerSignalListeners: false },
  ).run();
  return checks;
}

/**
 * Connects to the bastions and every host through the pool, as a run does (keys loaded, the
 * bastion first, every host key checked). A shared step that fails (the bastion) is one check.
 */
async function reach(ctx: RunContext): Promise<{ checks: Check[]; hosts: HostEntry[] }> {
  const { everyMachine } = await import('../lib/inventory/targets.js');
  const { fanOut } = await import('../lib/run/fan-out.js');
  const { ChatonError, ConnectionError } = await import('../lib/run/errors.js');
  const { EVERY_MACHINE } = await import('../lib/ssh/doctor.js');
  const { errorReport } = await import('../lib/run/report.js');
  const { milliseconds } = await import('../lib/run/output.js');
  const machines = everyMachine(ctx.inventory);
  let outcomes;
  try {
    outcomes = await fanOut(ctx, {
      title: messages.doctorReachTitle,
      hosts: machines,
      style: 'live',
      work: async (host) => (await ctx.pool.connect(host)).info,
      summary: (info) => `${info.hostKey} (${milliseconds(info.connectMs)})`,
    });
  } catch (error) {
    if (!(error instanceof ChatonError) || ctx.signal.aborted) throw error;
    const subject = error instanceof ConnectionError ? error.host : EVERY_MACHINE;
    const { message, hint } = errorReport(error);
    return { checks: [{ check: 'reach', subject, status: 'FAIL', detail: message, fix: hint }], hosts: [] };
  }
  const checks: Check[] = outcomes.map((o) => {
    const about = { check: 'reach', subject: o.host.name };
    if (o.ok) {
      const { hostKey, connectMs, address } = o.value;
      const detail = messages.connectedIn(hostKey, milliseconds(Math.round(connectMs)), address);
      return { ...about, status: 'OK', detail, fix: null };
    }
    const { message, hint } = errorReport(o.error);
    return { ...about, status: 'FAIL', detail: message, fix: hint };
  });
  const hosts = outcomes.map((o) => ({
    host: o.host.name,
    ok: o.ok,
    error: o.ok ? null : errorReport(o.error),
    addressUsed: o.ok ? o.value.address : null,
    connectMs: o.ok ? Math.round(o.value.connectMs) : null,
    hostKey: o.ok ? o.value.hostKey : null,
  }));
  return { checks, hosts };
}

/**
 * One row per check; what is not OK is told in full under the table, with what to do. The names
 * of checks and statuses are JSON values, in English: the table says them in the reader's language.
 */
async function checkTable(checks: Check[]) {
  const { FAILED } = await import('../lib/run/report.js');
  const { checkTitle, subjectTitle } = await import('../lib/ssh/doctor.js');

  const statuses: Record<CheckStatus, string> = {
    OK: messages.checkStatusOk,
    WARN: messages.checkStatusWarn,
    FAIL: messages.checkStatusFail,
  };
  const name = (c: Check) => checkTitle(c.check);
  const subject = (c: Check) => subjectTitle(c.subject);
  return {
    columns: [messages.columnCheck, messages.columnOn, messages.columnResult],
    rows: checks.map((c) => {
      const result =
        c.status === 'OK' ? messages.checkOk(c.detail) : c.status === 'FAIL' ? FAILED : messages.checkWarnSeeBelow;
      return [name(c), subject(c), result];
    }),
    failures: checks
      .filter((c) => c.status !== 'OK')
      .map((c) => {
        const error = { message: messages.checkProblem(statuses[c.status], c.detail), hint: c.fix };
        return { failure: `${name(c)} ${subject(c)}`, error };
      }),
  };
}
