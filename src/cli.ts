// The `chaton` program: global options, the subcommands, the exit-code table. Only commander is
// loaded here; each command loads what it needs when it runs, so `chaton --help` stays fast.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { register as registerCompletion } from './commands/completion.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerExec } from './commands/exec.js';
import { examples } from './commands/help.js';
import { register as registerHostsCheck } from './commands/hosts-check.js';
import { register as registerInventoryCheck } from './commands/inventory-check.js';
import { register as registerInventoryInit } from './commands/inventory-init.js';
import { register as registerInventoryShow } from './commands/inventory-show.js';
import { register as registerSysadminOffboard } from './commands/sysadmin-offboard.js';
import { register as registerSysadminOnboard } from './commands/sysadmin-onboard.js';
import { registerSections } from './lib/inventory/sections.js';
import { optionsOf, takesValue, visibleSubcommands } from './lib/program-tree.js';
import { suggest } from './lib/inventory/suggest.js';
import { ChatonError, ExitCode, exitCodeTable, formatError, UsageError } from './lib/run/errors.js';
import { outputWidth, reflowHelp } from './lib/run/text.js';

const EXIT_CODE_LINES = exitCodeTable().map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`);
const EXIT_CODES = `\nExit codes:\n${EXIT_CODE_LINES.join('\n')}`;

export function buildProgram(): Command {
  const program = new Command('chaton')
    .description('Safe routine operations on a small hosting collective, over SSH through the bastion.')
    .version(packageVersion(), '-V, --version')
    .option(
      '-i, --inventory <file>',
      'inventory file (default: $CHATON_INVENTORY, chaton.yaml searched upwards, ' +
        '~/.config/chaton/inventory.yaml, /etc/chaton/inventory.yaml)',
    )
    .option('-n, --dry-run', 'run only read-only probes; print every command that would change something')
    .option('-y, --yes', 'answer yes to confirmations (required without a terminal)')
    .option('--json', 'print one JSON document on stdout (progress goes to stderr)')
    .option(
      '-v, --verbose',
      'show the output of remote commands as they run; twice (-vv), also how each SSH connection is made ' +
        '(address, jump host, key exchange, host key and its known_hosts line, keys offered and accepted, timings)',
      (_: unknown, count: number | undefined) => (count ?? 0) + 1,
    )
    .option('-q, --quiet', 'nothing on success; only what failed and why (for cron)')
    .addOption(new Option('-j, --concurrency <n>', 'hosts worked on at once, 1 to 1000').default('32'))
    .option('--accept-new', 'add unknown host keys to known_hosts (a changed key is still refused)')
    .option('--no-color', 'no colour (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--log-file <file>', 'also append every step, plain and timestamped, to this file')
    .addHelpText(
      'after',
      `${EXIT_CODES}\n${examples(
        'chaton inventory check',
        'chaton hosts check all',
        'chaton exec hypervisors -- uptime',
        'chaton --json hosts check role:ceph > check.json',
        'chaton onboard sysadmin jdupont --key jdupont.pub --sudo',
        'chaton offboard sysadmin jdupont',
      )}`,
    )
    .showHelpAfterError('(add --help for usage)')
    // Set before the subcommands are added: they inherit it. Every --help lists the global
    // options its examples use, and its prose fits the terminal (80 columns when not one).
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => process.stdout.write(reflowHelp(text, outputWidth())),
      getOutHelpWidth: () => outputWidth(),
      getErrHelpWidth: () => outputWidth(process.stderr),
    })
    .exitOverride()
    .hook('preAction', registerDomainSections);

  // Subcommands inherit exitOverride: usage errors become exit code 2, not commander's 1.
  const inventory = program.command('inventory').description('write, check and show the inventory');
  registerInventoryInit(inventory);
  registerInventoryCheck(inventory);
  registerInventoryShow(inventory);
  const hosts = program.command('hosts').description('reach and check hosts');
  registerHostsCheck(hosts);
  registerExec(program);
  registerSysadminOnboard(program.command('onboard').description('give access to a newcomer'));
  registerSysadminOffboard(program.command('offboard').description('take access back'));
  registerDoctor(program);
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
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  // Whoever read chaton's output went away (`chaton --help | head -3`): the rest is not wanted.
  // A run on hosts adds its own listener, which stops the remote commands (see lifecycle.ts).
  for (const stream of [process.stdout, process.stderr]) stream.on('error', quietOnClosedOutput);
  const program = buildProgram();
  try {
    const unknown = unknownCommand(program, argv.slice(2));
    if (unknown) throw unknown;
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    // commander has already printed its own usage errors.
    if (!(error instanceof CommanderError)) process.stderr.write(`error: ${formatError(error)}\n`);
    if (!(error instanceof ChatonError) && !(error instanceof CommanderError)) {
      process.stderr.write(
        `${(error as Error).stack ?? ''}\nThis is a bug in chaton: please report it with the command line above.\n`,
      );
    }
    if (process.exitCode !== ExitCode.ok) await reportFailure(program, argv.slice(2), error);
  }
}

/**
 * Under --json, a command stopped before its own report (a bad flag, no inventory) still prints
 * the envelope on stdout, with the error: a program reading it always gets one document.
 */
async function reportFailure(program: Command, words: string[], error: unknown): Promise<void> {
  const { command, json } = invocation(program, words);
  if (!json) return;
  const { commandName, jsonRenderer } = await import('./lib/run/report.js');
  const name = commandName(command);
  const help = ['see chaton', name, '--help'].filter(Boolean).join(' ');
  const stopped = error instanceof CommanderError ? new UsageError(error.message.replace(/^error: /, ''), help) : error;
  const exitCode = exitCodeOf(error) as ExitCode;
  const text = jsonRenderer.render({ command: name, exitCode, hosts: [], error: stopped });
  process.stdout.write(`${text}\n`);
}

/**
 * The command line read without commander (it may have failed on it, or would mishandle it):
 * the subcommand the words name, whether they ask for --json, and a command word that names no
 * command, if one does. The value of an option that takes one is skipped (`-i FILE`). A
 * command without subcommands takes the rest as its arguments; so does `help` (commander's own).
 */
function invocation(program: Command, words: string[]): { command: Command; json: boolean; unknown?: string } {
  let command = program;
  let json = false;
  let unknown: string | undefined;
  for (let i = 0; i < words.length && words[i] !== '--'; i++) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      json ||= word === '--json';
      const option = optionsOf(command).find((o) => o.long === word || o.short === word);
      if (option && takesValue(option)) i++;
    } else if (unknown === undefined && command.commands.length > 0 && word !== 'help') {
      const sub = command.commands.find((candidate) => candidate.name() === word);
      if (sub) command = sub;
      else unknown = word;
    }
  }
  return { command, json, ...(unknown !== undefined ? { unknown } : {}) };
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
  const hint = closest
    ? `did you mean ${where} ${closest}? (${where} --help lists them)`
    : `${where} --help lists them`;
  return new UsageError(`unknown command '${unknown}' (${where} has: ${names.join(', ')})`, hint);
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof ChatonError) return error.exitCode;
  return ExitCode.failed;
}
