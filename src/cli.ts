// The `chaton` program: global options, the subcommands, the exit-code table. Only commander is
// loaded here; each command loads what it needs when it runs, so `chaton --help` stays fast.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { register as registerBackupVerify } from './commands/backup-verify.js';
import { register as registerCompletion } from './commands/completion.js';
import { register as registerConnectionsClose } from './commands/connections-close.js';
import { register as registerConnectionsList } from './commands/connections-list.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerExec } from './commands/exec.js';
import { register as registerFailoverStatus } from './commands/failover-status.js';
import { register as registerFailoverTo } from './commands/failover-to.js';
import { register as registerFailoverWatchdog } from './commands/failover-watchdog.js';
import { examples } from './commands/help.js';
import { register as registerHostsCheck } from './commands/hosts-check.js';
import { register as registerInventoryCheck } from './commands/inventory-check.js';
import { register as registerInventoryInit } from './commands/inventory-init.js';
import { register as registerInventoryShow } from './commands/inventory-show.js';
import { register as registerSysadminOffboard } from './commands/sysadmin-offboard.js';
import { register as registerSysadminOnboard } from './commands/sysadmin-onboard.js';
import { register as registerVmCreate } from './commands/vm-create.js';
import { register as registerDiskSwap } from './commands/disk-swap.js';
import { registerSections } from './lib/inventory/sections.js';
import { optionsOf, takesValue, visibleSubcommands } from './lib/program-tree.js';
import { suggest } from './lib/inventory/suggest.js';
import { commanderMessage, commanderTexts, errorOutput, helpTexts } from './lib/run/commander-texts.js';
import { ChatonError, ExitCode, exitCodeTable, formatError, UsageError } from './lib/run/errors.js';
import { messages as runMessages } from './lib/run/messages.js';
import { packageFile } from './lib/run/package.js';
import { outputWidth, reflowHelp } from './lib/run/text.js';
import { messages } from './messages.js';

/** The exit-code table of `chaton --help`, in the language of the moment. */
function exitCodes(): string {
  const lines = exitCodeTable().map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`);
  return `\n${messages.exitCodes}\n${lines.join('\n')}`;
}

/**
 * The program, its texts in the language of messages (LC_ALL, LC_MESSAGES, LANG: see
 * lib/run/catalogue.ts), commander's own words too (lib/run/commander-texts.ts).
 */
export function buildProgram(): Command {
  const program = commanderTexts(new Command('chaton'))
    .description(messages.program)
    .version(packageVersion(), '-V, --version', runMessages.versionDescription)
    .option('-i, --inventory <file>', messages.inventoryOption)
    .option('-n, --dry-run', messages.dryRunOption)
    .option('-y, --yes', messages.yesOption)
    .option('--json', messages.jsonOption)
    .option('-v, --verbose', messages.verboseOption, (_: unknown, count: number | undefined) => (count ?? 0) + 1)
    .option('-q, --quiet', messages.quietOption)
    .addOption(new Option('-j, --concurrency <n>', messages.concurrencyOption).default('32'))
    .option('--accept-new', messages.acceptNewOption)
    .option('--persist <duration>', messages.persistOption)
    .option('--no-color', messages.noColorOption)
    .option('--log-file <file>', messages.logFileOption)
    .addHelpText(
      'after',
      () =>
        `${exitCodes()}\n${examples(
          'chaton inventory check',
          'chaton hosts check all',
          'chaton exec hypervisors -- uptime',
          'chaton --json hosts check role:ceph > check.json',
          'chaton onboard sysadmin jdupont --key jdupont.pub --sudo',
          'chaton offboard sysadmin jdupont',
        )}`,
    )
    // Set before the subcommands are added, as commanderTexts() was: they inherit it. Every
    // --help lists the global options its examples use, and its prose fits the terminal (80
    // columns when not one). commander's usage errors start as chaton's own do.
    .configureHelp({ showGlobalOptions: true, ...helpTexts() })
    .configureOutput({
      writeOut: (text) => process.stdout.write(reflowHelp(text, outputWidth())),
      outputError: errorOutput,
      getOutHelpWidth: () => outputWidth(),
      getErrHelpWidth: () => outputWidth(process.stderr),
    })
    .exitOverride()
    .hook('preAction', registerDomainSections);

  // Subcommands inherit exitOverride: usage errors become exit code 2, not commander's 1.
  const inventory = program.command('inventory').description(messages.inventoryCommand);
  registerInventoryInit(inventory);
  registerInventoryCheck(inventory);
  registerInventoryShow(inventory);
  const hosts = program.command('hosts').description(messages.hostsCommand);
  registerHostsCheck(hosts);
  registerExec(program);
  registerSysadminOnboard(program.command('onboard').description(messages.onboardCommand));
  registerSysadminOffboard(program.command('offboard').description(messages.offboardCommand));
  registerBackupVerify(program.command('backup').description(messages.backupCommand));
  const failover = program.command('failover').description(messages.failoverCommand);
  registerFailoverStatus(failover);
  registerFailoverTo(failover);
  registerFailoverWatchdog(failover);
  registerVmCreate(program.command('vm').description(messages.vmCommand));
  registerDiskSwap(program.command('disk').description(messages.diskCommand));
  registerDoctor(program);
  const connections = program.command('connections').description(messages.connectionsCommand);
  registerConnectionsList(connections);
  registerConnectionsClose(connections);
  registerCompletion(program);
  return program;
}

/**
 * The domains' inventory sections, registered before any command runs rather than at load:
 * their readers load yaml, which `chaton --help` does without.
 */
async function registerDomainSections(): Promise<void> {
  registerSections((await import('./lib/domains.js')).INVENTORY_SECTIONS);
}

/** The version in package.json. */
function packageVersion(): string {
  const file = packageFile('package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  // Whoever read chaton's output went away (`chaton --help | head -3`): the rest is not wanted.
  // A run on hosts adds its own listener, which stops the remote commands (see lifecycle.ts).
  for (const stream of [process.stdout, process.stderr]) stream.on('error', quietOnClosedOutput);
  const program = buildProgram();
  // A monitoring plugin speaks English whatever the locale, its errors too (see --format nagios).
  if (invocation(program, argv.slice(2)).nagios) process.env.LC_ALL = 'C.UTF-8';
  try {
    const unknown = unknownCommand(program, argv.slice(2));
    if (unknown) throw unknown;
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    // commander has already printed its own usage errors (see errorOutput).
    if (!(error instanceof CommanderError)) process.stderr.write(`${runMessages.errorLabel} ${formatError(error)}\n`);
    if (!(error instanceof ChatonError) && !(error instanceof CommanderError)) {
      process.stderr.write(`${(error as Error).stack ?? ''}\n${messages.bug}\n`);
    }
    if (process.exitCode !== ExitCode.ok) await reportFailure(program, argv.slice(2), error);
  }
}

/**
 * Under --json, a command stopped before its own report (a bad flag, no inventory) still prints
 * the envelope on stdout, with the error: a program reading it always gets one document.
 */
async function reportFailure(program: Command, words: string[], error: unknown): Promise<void> {
  const { command, json, nagios } = invocation(program, words);
  if (!json && !nagios) return;
  const { commandName, jsonRenderer, pluginRenderer } = await import('./lib/run/report.js');
  const name = commandName(command);
  const help = messages.seeHelp(['chaton', name].filter(Boolean).join(' '));
  const stopped = error instanceof CommanderError ? new UsageError(commanderMessage(error.message), help) : error;
  const exitCode = exitCodeOf(error) as ExitCode;
  const report = { command: name, exitCode, hosts: [], error: stopped };
  if (nagios && !json) {
    // The monitoring reads stdout and the plugin's exit code: UNKNOWN (3), whatever stopped the run.
    process.stdout.write(`${pluginRenderer.render(report)}\n`);
    process.exitCode = pluginRenderer.exitCode!(report);
    return;
  }
  const text = jsonRenderer.render(report);
  process.stdout.write(`${text}\n`);
}

/**
 * The command line read without commander (it may have failed on it, or would mishandle it):
 * the subcommand the words name, whether they ask for --json or for `--format nagios`, and a
 * command word that names no command, if one does. The value of an option that takes one is
 * skipped (`-i FILE`). A command without subcommands takes the rest as its arguments; so does
 * `help` (commander's own).
 */
function invocation(
  program: Command,
  words: string[],
): { command: Command; json: boolean; nagios: boolean; unknown?: string } {
  let command = program;
  let json = false;
  let nagios = false;
  let unknown: string | undefined;
  for (let i = 0; i < words.length && words[i] !== '--'; i++) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      json ||= word === '--json';
      nagios ||= word === '--format=nagios' || (word === '--format' && words[i + 1] === 'nagios');
      const option = optionsOf(command).find((o) => o.long === word || o.short === word);
      if (option && takesValue(option)) i++;
    } else if (unknown === undefined && command.commands.length > 0 && word !== 'help') {
      const sub = command.commands.find((candidate) => candidate.name() === word);
      if (sub) command = sub;
      else unknown = word;
    }
  }
  return { command, json, nagios, ...(unknown !== undefined ? { unknown } : {}) };
}

function quietOnClosedOutput(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/**
 * A command word that names no command: commander would show the top help for `chaton disk swap
 * --help` and exit 0, so it is refused here first, with the closest command as a suggestion.
 */
function unknownCommand(program: Command, words: string[]): UsageError | undefined {
  const { command, unknown } = invocation(program, words);
  if (unknown === undefined) return undefined;
  const names = visibleSubcommands(command).map((candidate) => candidate.name());
  const closest = suggest(unknown, names);
  const where = command === program ? 'chaton' : `chaton ${command.name()}`;
  const hint = closest ? messages.didYouMean(`${where} ${closest}`, where) : messages.helpListsThem(where);
  return new UsageError(messages.unknownCommand(unknown, where, names.join(', ')), hint);
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof ChatonError) return error.exitCode;
  return ExitCode.failed;
}
