// The life of one chaton run around a command's own work: options, colour, inventory,
// connections, Ctrl-C, the audit trail, the report and the exit code.
import { setMaxListeners } from 'node:events';
import type { Command } from 'commander';
import type { CommandResult, GlobalOptions, RunContext } from './context.js';
import { ExitCode, formatError, UsageError, ChatonError } from './errors.js';
import { findInventory } from '../inventory/discover.js';
import { parsePersist } from '../inventory/durations.js';
import { everyMachine } from '../inventory/targets.js';
import { loadInventory } from '../inventory/load.js';
import { appendAuditRecord, auditOutcome, type AuditRecord } from './audit.js';
import type { Host, Inventory } from '../inventory/types.js';
import { announceColour, paint, setColour, wantsColour, type OutputMode } from './output.js';
import { LogFile } from './log-file.js';
import { messages } from './messages.js';
import { outputWidth } from './text.js';
import { addressList } from '../ssh/endpoint.js';
import { commandName, rendererFor } from './report.js';

function globalOptions(cmd: Command, env: NodeJS.ProcessEnv): GlobalOptions {
  const raw = cmd.optsWithGlobals();
  const concurrencyText = String(raw.concurrency ?? 32);
  const concurrency = Number(concurrencyText);
  // Number() also reads "1e3", "0x10" and " 16": only decimal digits are a count to the operator.
  if (!/^[0-9]+$/.test(concurrencyText) || concurrency < 1 || concurrency > 1000) {
    throw new UsageError(messages.concurrencyRange(JSON.stringify(raw.concurrency)), messages.concurrencyHint);
  }
  // -v counts: -v shows the remote output, -vv also how each SSH connection is made.
  const verbosity = Number(raw.verbose ?? 0);
  if (raw.quiet && verbosity > 0) throw new UsageError(messages.quietWithVerbose, messages.quietWithVerboseHint);
  const persistMs = persistSetting(raw.persist, env);
  return {
    inventory: raw.inventory,
    dryRun: Boolean(raw.dryRun),
    yes: Boolean(raw.yes),
    json: Boolean(raw.json),
    verbose: verbosity >= 1,
    sshDebug: verbosity >= 2,
    quiet: Boolean(raw.quiet),
    concurrency,
    color: raw.color !== false,
    acceptNew: Boolean(raw.acceptNew),
    ...(persistMs === undefined ? {} : { persistMs }),
    logFile: raw.logFile,
    // A command's own --format (backup verify): read here, where the renderer is chosen.
    ...(raw.format === 'nagios' ? { format: 'nagios' as const } : {}),
  };
}

/**
 * How long this run's connections are kept warm after their last use, in ms (0: off): `--persist`,
 * else CHATON_PERSIST; undefined when neither says, and the inventory's `ssh.persist` decides.
 */
export function persistSetting(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const [source, text] =
    flag !== undefined ? ['--persist', flag] : ['CHATON_PERSIST', env['CHATON_PERSIST'] || undefined];
  if (text === undefined) return undefined;
  const persistMs = parsePersist(text);
  if (persistMs === undefined)
    throw new UsageError(messages.persistInvalid(source, JSON.stringify(text)), messages.persistHint);
  return persistMs;
}

/** Decides colour and interactivity once, before anything that prints is loaded. */
function outputMode(options: GlobalOptions, env: NodeJS.ProcessEnv): OutputMode {
  // Progress goes to stderr and reports to stdout: colour only when both are terminals.
  const colour = wantsColour(options.color, env, process.stdout.isTTY === true && process.stderr.isTTY === true);
  setColour(colour);
  announceColour(colour, env);
  let log: LogFile | undefined;
  if (options.logFile) {
    log = new LogFile(options.logFile);
    log.start(['chaton', ...process.argv.slice(2)]);
  }
  return {
    json: options.json,
    quiet: options.quiet,
    verbose: options.verbose,
    colour,
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    log,
  };
}

export async function inventoryFor(options: GlobalOptions): Promise<Inventory> {
  const found = await findInventory({ flag: options.inventory, env: process.env, cwd: process.cwd() });
  return loadInventory(found.path);
}

/** Prints a command's report on stdout: one JSON document with --json, else its text. */
export function report(options: GlobalOptions, mode: OutputMode, command: string, result: CommandResult): void {
  const renderer = rendererFor(options, outputWidth());
  const text = renderer.render({ ...result, command });
  if (text !== undefined) process.stdout.write(`${text}\n`);
  if (result.error) mode.log?.line(`${messages.errorLabel} ${formatError(result.error)}`);
  const exitCode = renderer.exitCode?.({ ...result, command }) ?? result.exitCode;
  endLog(mode, exitCode);
  process.exitCode = exitCode;
}

/** What the operator must know that is not a failure: on stderr, and into the log file. */
export function printNotices(mode: OutputMode, notices: readonly string[]): void {
  for (const notice of notices) {
    process.stderr.write(`${paint.yellow(messages.noteLabel)} ${notice}\n`);
    mode.log?.line(`${messages.noteLabel} ${notice}`);
  }
}

/** The log file's last line; and if it stopped taking lines mid-run, the run says so. */
function endLog(mode: OutputMode, exitCode: number): void {
  mode.log?.line(messages.logExit(exitCode));
  if (mode.log?.failed) process.stderr.write(`${messages.noteLabel} ${messages.logFileStopped(mode.log.failed)}\n`);
}

/** A run stopped before its report (no inventory, a bug): its log file still says how it ended. */
async function loggingEarlyStops(mode: OutputMode, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    mode.log?.line(`${messages.errorLabel} ${formatError(error)}`);
    endLog(mode, error instanceof ChatonError ? error.exitCode : ExitCode.failed);
    throw error;
  }
}

/** Runs a command that only reads the inventory. */
export async function runLocal(
  cmd: Command,
  body: (options: GlobalOptions, mode: OutputMode) => Promise<CommandResult>,
): Promise<void> {
  const options = globalOptions(cmd, process.env);
  const mode = outputMode(options, process.env);
  await loggingEarlyStops(mode, async () => report(options, mode, commandName(cmd), await body(options, mode)));
}

/** Runs a command that works on hosts: builds the context, handles Ctrl-C, audits, reports. */
export async function runRemote(cmd: Command, body: (ctx: RunContext) => Promise<CommandResult>): Promise<void> {
  const options = globalOptions(cmd, process.env);
  const mode = outputMode(options, process.env);
  await loggingEarlyStops(mode, () => runOnHosts(cmd, options, mode, body));
}

async function runOnHosts(
  cmd: Command,
  options: GlobalOptions,
  mode: OutputMode,
  body: (ctx: RunContext) => Promise<CommandResult>,
): Promise<void> {
  const inventory = await inventoryFor(options);
  const { RunContext } = await import('./context.js');
  const abort = new AbortController();
  // Every running remote command listens for Ctrl-C: as many listeners as hosts at once.
  setMaxListeners(0, abort.signal);
  const ctx = new RunContext(options, mode, inventory, abort.signal, process.env, process.argv);

  const onSignal = () => {
    if (abort.signal.aborted) {
      // Quit now, but not without the local record of what was already changed.
      process.stderr.write(`${messages.interruptedAgain}\n`);
      const record = auditRecord(ctx, ExitCode.interrupted);
      try {
        if (record) appendAuditRecord(ctx.env, record);
      } catch (error) {
        process.stderr.write(`${messages.auditRecordFailed(formatError(error))}\n`);
      }
      quitNow();
    }
    process.stderr.write(`${messages.interrupting}\n`);
    abort.abort();
  };
  // Whoever read our output went away (`| head`): stop as on Ctrl-C. The listeners stay: later
  // writes to the closed stream must not crash the report and the audit.
  const onOutputClosed = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (!abort.signal.aborted) abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', onOutputClosed);
  process.stderr.on('error', onOutputClosed);
  try {
    let result: CommandResult;
    try {
      result = await body(ctx);
    } catch (error) {
      if (!(error instanceof ChatonError)) {
        // A bug: whatever was changed until then is still recorded, locally and on the hosts.
        await auditChanges(ctx, ExitCode.failed);
        throw error;
      }
      // A shared step failed before any host was touched: report it like any other result.
      result = { exitCode: abort.signal.aborted ? ExitCode.interrupted : error.exitCode, hosts: [], error };
      process.stderr.write(`${paint.red(messages.errorLabel)} ${formatError(error)}\n`);
    }
    const audit = await auditChanges(ctx, result.exitCode);
    printNotices(mode, ctx.notices);
    if (options.dryRun && !options.json) printPlan(ctx);
    // What every remote command adds to its own fields.
    const fields = {
      ...result.fields,
      dryRun: options.dryRun,
      ...(options.dryRun ? { planned: plannedAsJson(ctx) } : {}),
      notices: ctx.notices,
      audit: audit ?? null,
    };
    report(options, mode, commandName(cmd), { ...result, fields });
  } finally {
    ctx.pool.closeAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Ends the process at once, as interrupted. process.exit() first waits for libuv's worker
 * threads, and one may be stuck for good in a blocking open() or read(): SIGINT's own default
 * action ends the process whatever its threads do, and a shell reports it as 130 all the same.
 */
function quitNow(): never {
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
  // Not reached unless SIGINT is blocked in this thread.
  process.exit(ExitCode.interrupted);
}

function changedMachines(ctx: RunContext): Host[] {
  return everyMachine(ctx.inventory).filter((host) => ctx.executor.changedHosts.has(host.name));
}

/** The local audit record of this run, if it changed any host (hosts in inventory order). */
function auditRecord(ctx: RunContext, exitCode: number, changed = changedMachines(ctx)): AuditRecord | undefined {
  if (changed.length === 0) return undefined;
  return {
    time: new Date().toISOString(),
    operator: ctx.operator,
    argv: ctx.commandLine,
    inventory: ctx.inventory.file,
    hosts: changed.map((h) => h.name),
    outcome: auditOutcome(exitCode),
    exitCode,
  };
}

/**
 * Appends the local record of a run that changed hosts. Each host's syslog line was written when
 * its work ended; a host changed outside such work gets it now, with the run's outcome.
 */
async function auditChanges(ctx: RunContext, exitCode: number): Promise<string | undefined> {
  const changed = changedMachines(ctx);
  const record = auditRecord(ctx, exitCode, changed);
  if (!record) return undefined;
  // At once: each is a session on its own host.
  await Promise.all(changed.map((host) => ctx.auditHost(host, record.outcome)));
  try {
    return appendAuditRecord(ctx.env, record);
  } catch (error) {
    ctx.notices.push(messages.auditRecordOnlySyslog(formatError(error)));
    return undefined;
  }
}

function printPlan(ctx: RunContext): void {
  const planned = ctx.executor.planned;
  process.stdout.write(`${planned.length === 0 ? messages.planNothing : messages.planCommands}\n`);
  let last = '';
  for (const step of planned) {
    if (step.host.name !== last)
      process.stdout.write(`# ${step.host.name} (${step.host.user}@${addressList(step.host)})\n`);
    last = step.host.name;
    process.stdout.write(
      Buffer.concat([
        step.line,
        Buffer.from(
          step.stdin
            ? `    ${step.stdin === 'secret' ? messages.planSecretOnStdin : messages.planDataOnStdin}\n`
            : '\n',
        ),
      ]),
    );
  }
}

function plannedAsJson(ctx: RunContext) {
  return ctx.executor.planned.map((step) => ({
    host: step.host.name,
    command: step.line.toString('utf8'),
    stdin: step.stdin,
  }));
}
