// The life of one chaton run around a command's own work: options, colour, inventory,
// connections, Ctrl-C, the audit trail, the report and the exit code.
import { setMaxListeners } from 'node:events';
import type { Command } from 'commander';
import type { CommandResult, GlobalOptions, RunContext } from './context.js';
import { ExitCode, formatError, UsageError, ChatonError } from './errors.js';
import { findInventory } from './inventory/discover.js';
import { loadInventory } from './inventory/load.js';
import type { AuditRecord } from './audit.js';
import type { Inventory } from './inventory/types.js';
import { announceColour, paint, setColour, wantsColour, type OutputMode } from './output.js';

export function globalOptions(cmd: Command): GlobalOptions {
  const raw = cmd.optsWithGlobals();
  const concurrency = Number(raw.concurrency ?? 32);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
    throw new UsageError(`--concurrency must be an integer from 1 to 1000, got ${JSON.stringify(raw.concurrency)}`);
  }
  if (raw.quiet && raw.verbose) throw new UsageError('--quiet and --verbose cannot be used together');
  return {
    inventory: raw.inventory,
    dryRun: Boolean(raw.dryRun),
    yes: Boolean(raw.yes),
    json: Boolean(raw.json),
    verbose: Boolean(raw.verbose),
    quiet: Boolean(raw.quiet),
    concurrency,
    color: raw.color !== false,
    acceptNew: Boolean(raw.acceptNew),
  };
}

/** Decides colour and interactivity once, before anything that prints is loaded. */
export function outputMode(options: GlobalOptions, env: NodeJS.ProcessEnv): OutputMode {
  const colour = wantsColour(options.color, env, process.stdout);
  setColour(colour);
  announceColour(colour, env);
  return {
    json: options.json,
    quiet: options.quiet,
    verbose: options.verbose,
    colour,
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  };
}

export async function inventoryFor(options: GlobalOptions): Promise<Inventory> {
  const found = await findInventory({ flag: options.inventory, env: process.env, cwd: process.cwd() });
  return loadInventory(found.path);
}

/** Prints a command's report: one JSON document on stdout with --json, else its text. */
export function report(options: GlobalOptions, result: CommandResult, extra: Record<string, unknown> = {}): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...result.json, ...extra, exitCode: result.exitCode }, null, 2)}\n`);
  } else if (result.text) {
    process.stdout.write(`${result.text}\n`);
  }
  process.exitCode = result.exitCode;
}

/** Runs a command that only reads the inventory. */
export async function runLocal(cmd: Command, body: (options: GlobalOptions) => Promise<CommandResult>): Promise<void> {
  const options = globalOptions(cmd);
  outputMode(options, process.env);
  report(options, await body(options));
}

/** Runs a command that works on hosts: builds the context, handles Ctrl-C, audits, reports. */
export async function runRemote(cmd: Command, body: (ctx: RunContext) => Promise<CommandResult>): Promise<void> {
  const options = globalOptions(cmd);
  const mode = outputMode(options, process.env);
  const inventory = await inventoryFor(options);
  const { RunContext } = await import('./context.js');
  const abort = new AbortController();
  // Every running remote command listens for Ctrl-C: as many listeners as hosts at once.
  setMaxListeners(0, abort.signal);
  const ctx = new RunContext(options, mode, inventory, abort.signal, process.env);

  const onSignal = () => {
    if (abort.signal.aborted) {
      process.stderr.write('interrupted again: closing connections now\n');
      void ctx.pool.closeAll().finally(() => process.exit(ExitCode.interrupted));
      return;
    }
    process.stderr.write('interrupting: no new step starts; running commands finish or are stopped (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let result: CommandResult;
  try {
    result = await body(ctx);
  } catch (error) {
    // A shared step failed before any host was touched: report it like any other result.
    if (!(error instanceof ChatonError)) throw error;
    result = { exitCode: abort.signal.aborted ? ExitCode.interrupted : error.exitCode, json: { error: formatError(error) }, text: undefined };
    process.stderr.write(`${paint.red('error:')} ${formatError(error)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const audit = await auditChanges(ctx, result);
  await ctx.pool.closeAll();
  for (const notice of ctx.notices) process.stderr.write(`${paint.yellow('note:')} ${notice}\n`);
  if (options.dryRun && !options.json) printPlan(ctx);
  report(options, result, {
    ...(options.dryRun ? { dryRun: true, planned: plannedAsJson(ctx) } : {}),
    ...(ctx.notices.length ? { notices: ctx.notices } : {}),
    ...(audit ? { audit } : {}),
  });
}

/** Records a run that changed hosts: locally, and in the syslog of each changed host. */
async function auditChanges(ctx: RunContext, result: CommandResult): Promise<string | undefined> {
  // In inventory order, whatever order the hosts finished in.
  const changed = [...ctx.inventory.bastions, ...ctx.inventory.hosts].filter((host) => ctx.executor.changedHosts.has(host.name));
  if (changed.length === 0) return undefined;
  const { appendAuditRecord, hostAuditCommand, operatorName } = await import('./audit.js');
  const outcome =
    result.exitCode === ExitCode.ok ? 'ok' : result.exitCode === ExitCode.interrupted ? 'interrupted' : result.exitCode === ExitCode.partial ? 'partial' : 'failed';
  const record: AuditRecord = {
    time: new Date().toISOString(),
    operator: operatorName(ctx.env),
    argv: ['chaton', ...process.argv.slice(2)],
    inventory: ctx.inventory.file,
    hosts: changed.map((h) => h.name),
    outcome,
    exitCode: result.exitCode,
  };
  const file = await appendAuditRecord(ctx.env, record);
  // The host's own log line is best effort: a missing syslog must not turn a success into a failure.
  const logged = await Promise.allSettled(
    changed.map((host) => ctx.executor.run(host, hostAuditCommand(record), { kind: 'change', afterInterrupt: true })),
  );
  logged.forEach((r, i) => {
    if (r.status === 'rejected') ctx.notices.push(`could not write the audit line in ${changed[i]!.name}'s syslog: ${formatError(r.reason)}`);
  });
  return file;
}

function printPlan(ctx: RunContext): void {
  const planned = ctx.executor.planned;
  process.stdout.write(`# dry-run: nothing was changed; ${planned.length === 0 ? 'no command would run' : 'these commands would run'}\n`);
  let last = '';
  for (const step of planned) {
    if (step.host.name !== last) process.stdout.write(`# ${step.host.name} (${step.host.user}@${step.host.address})\n`);
    last = step.host.name;
    process.stdout.write(Buffer.concat([step.line, Buffer.from(step.stdin ? `    # with ${step.stdin === 'secret' ? 'a secret (redacted)' : 'data'} on stdin\n` : '\n')]));
  }
}

function plannedAsJson(ctx: RunContext) {
  return ctx.executor.planned.map((step) => ({ host: step.host.name, command: step.line.toString('utf8'), stdin: step.stdin }));
}
