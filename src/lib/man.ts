// chaton(1), the man page, written from the same program tree and help texts as --help: a
// command, an option or an example added there is in the man page at the next build. It is
// English: the build writes it under LC_ALL=C (see man-page.ts), so its own words here are too.
import type { Command, Help } from 'commander';
import { visibleSubcommands } from './program-tree.js';
import { exitCodeTable } from './run/errors.js';

/** Text as roff shows it: backslashes and hyphens escaped, no line read as a request. */
function escape(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^[.']/gm, '\\&$&');
}

/** The subcommands a --help lists: not the hidden ones, not help's own pseudo-command. */

/** What a command's --help prints after its options (examples, targets, exit codes), unwrapped. */
function helpAfter(command: Command): string {
  let text = '';
  const output = command.configureOutput();
  command.configureOutput({ ...output, writeOut: (chunk) => (text += chunk) });
  try {
    command.outputHelp();
  } finally {
    command.configureOutput(output);
  }
  return text.slice(command.helpInformation().length).trim();
}

function optionList(command: Command, help: Help, options = help.visibleOptions(command)): string[] {
  return options.flatMap((option) => {
    return ['.TP', `.B ${escape(help.optionTerm(option))}`, escape(help.optionDescription(option))];
  });
}

/** Preformatted, as in --help: examples are lines to copy as they are. */
function preformatted(text: string): string[] {
  return text ? ['.PP', '.nf', '.RS 4', escape(text), '.RE', '.fi'] : [];
}

function commandSection(command: Command, help: Help, names: string[]): string[] {
  const subcommands = visibleSubcommands(command);
  const lines: string[] = [];
  if (command.registeredArguments.length > 0 || subcommands.length === 0 || command.options.length > 0) {
    const usage = `${names.join(' ')} ${help.commandUsage(command).split(' ').slice(names.length).join(' ')}`.trim();
    lines.push(`.SS "${escape(usage)}"`, escape(help.commandDescription(command)));
    // --help is among the global options, said once.
    const options = help.visibleOptions(command).filter((option) => option.long !== '--help');
    lines.push(...optionList(command, help, options), ...preformatted(helpAfter(command)));
  }
  return [...lines, ...subcommands.flatMap((sub) => commandSection(sub, help, [...names, sub.name()]))];
}

/** The man page, in roff with the man macros. */
export function manPage(program: Command): string {
  const version = program.version() ?? '';
  const help = program.createHelp();
  const commands = visibleSubcommands(program);
  const description = escape(help.commandDescription(program));
  const lines = [
    `.TH CHATON 1 "" "chaton ${escape(version)}" "User Commands"`,
    '.SH NAME',
    `chaton \\- ${description}`,
    '.SH SYNOPSIS',
    '.B chaton',
    '[\\fIoptions\\fR] \\fIcommand\\fR [\\fIarguments\\fR]',
    '.SH DESCRIPTION',
    description,
    'Every command also takes the global options below, before or after its name.',
    '.SH OPTIONS',
    ...optionList(program, help),
    '.SH COMMANDS',
    ...commands.flatMap((command) => commandSection(command, help, ['chaton', command.name()])),
    '.SH EXIT STATUS',
    ...exitCodeTable().flatMap(([code, meaning]) => ['.TP', `.B ${code}`, escape(meaning)]),
    '.SH EXAMPLES',
    ...preformatted(helpAfter(program).split(/^Examples:\n/m)[1] ?? ''),
    '.SH SEE ALSO',
    '.BR ssh (1),',
    '.BR ssh\\-agent (1),',
    '.BR sshd (8),',
    '.BR ssh_config (5)',
  ];
  return `${lines.join('\n')}\n`;
}
