// The commander program tree as --help shows it: what the command line check of cli.ts, shell
// completion and the man page read, so that the three agree on it.
import type { Command, Option } from 'commander';

/** The subcommands --help lists: not the hidden ones (__complete), nor help's own pseudo-command. */
export function visibleSubcommands(command: Command): Command[] {
  return command
    .createHelp()
    .visibleCommands(command)
    .filter((sub) => command.commands.includes(sub));
}

/** The options a command accepts as its --help lists them: its own (--help too), then the global ones. */
export function optionsOf(command: Command): Option[] {
  const all = command.createHelp().visibleOptions(command);
  for (let at = command.parent; at; at = at.parent) all.push(...at.options.filter((o) => !o.hidden));
  return all;
}

/** Whether the option takes the next word as its value (`-i FILE`). */
export function takesValue(option: Option): boolean {
  return option.required || option.optional;
}
