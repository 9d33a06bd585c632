// Shell completion, from the commander program tree itself: a new command, option or choice is
// completed without anyone keeping a list. The shells' scripts call back `chaton __complete`
// with the command line up to the cursor; it prints one candidate a line, or FILES for the
// shell's own file names. Inventory names come from the inventory found as every command finds
// it; nothing touches the network.
import type { Command } from 'commander';
import { messages } from './messages.js';
import { optionsOf, takesValue } from './program-tree.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The one line that asks the shell to complete file names instead. */
export const FILES = ':files';

/** What targets can name: hosts, groups, roles (as role:<role>), all, bastions. */
export interface TargetNames {
  names(): Promise<string[]>;
}

/** The words of a command line up to the cursor, split as a shell would (quotes removed); the last is completed. */
export function splitLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | null = null;
  let started = false;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else {
      word += char;
    }
  }
  words.push(word);
  return words;
}

/** The candidates for the value of an option or an argument, by its choices or its placeholder. */
async function valuesFor(
  placeholder: string,
  choices: readonly string[] | undefined,
  word: string,
  targets: TargetNames,
): Promise<string[]> {
  if (choices) return choices.filter((choice) => choice.startsWith(word));
  if (/file/i.test(placeholder)) return [FILES];
  if (!/targets/i.test(placeholder)) return [];
  // A comma list: the items before the last are kept, the last one completed.
  const done = word.slice(0, word.lastIndexOf(',') + 1);
  const last = word.slice(done.length);
  const named = new Set(done.split(','));
  const names = await targets.names();
  return names.filter((name) => name.startsWith(last) && !named.has(name)).map((name) => `${done}${name}`);
}

/** What may come at the end of `line` (the program's name first), for `program`. */
export async function candidates(program: Command, line: string, targets: TargetNames): Promise<string[]> {
  const words = splitLine(line).slice(1);
  const word = words.pop() ?? '';
  let command = program;
  let operands = 0;
  for (let i = 0; i < words.length; i++) {
    const current = words[i]!;
    // After `--` come a remote command's words (exec): nothing of chaton's.
    if (current === '--') return [];
    if (current.startsWith('-')) {
      const option = optionsOf(command).find((o) => o.long === current || o.short === current);
      if (option && takesValue(option)) i++;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === current || c.aliases().includes(current));
    if (sub && operands === 0) command = sub;
    else operands++;
  }
  const previous = words.at(-1);
  const valueOf = optionsOf(command).find((o) => previous && (o.long === previous || o.short === previous));
  if (valueOf && takesValue(valueOf)) return valuesFor(valueOf.flags, valueOf.argChoices, word, targets);
  if (word.startsWith('-')) {
    const names = optionsOf(command).flatMap((o) => [o.long, o.short].filter((n): n is string => n !== undefined));
    return [...new Set(names)].filter((name) => name.startsWith(word));
  }
  const help = command.createHelp();
  const subcommands = help.visibleCommands(command).map((c) => c.name());
  if (subcommands.length > 0 && operands === 0) return subcommands.filter((name) => name.startsWith(word));
  const args = command.registeredArguments;
  const argument = args[operands] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
  return argument ? valuesFor(argument.name(), argument.argChoices, word, targets) : [];
}

/** The script for `shell`: sourced (bash, zsh) or put where the shell looks for completions. */
export function completionScript(shell: Shell): string {
  const [first, body] = SCRIPTS[shell];
  // How to install it, in the language of the moment, a comment after any line the shell reads first.
  const header = { bash: messages.bashScript, zsh: messages.zshScript, fish: messages.fishScript }[shell];
  return `${first}${header.replace(/^/gm, '# ')}\n${body}`;
}

// bash splits the words it completes at COMP_WORDBREAKS (`:` and `=` among them), which would
// cut `role:pve` in two: the script hands chaton the line itself, and strips from each candidate
// the part of the word before the last break, which readline keeps in place.
const BASH = `_chaton() {
  local line=\${COMP_LINE:0:COMP_POINT}
  local word=\${line##*[[:space:]]}
  local kept=\${word%"\${word##*[$COMP_WORDBREAKS]}"}
  local candidates
  candidates=$(chaton __complete -- "$line" 2>/dev/null) || return 0
  if [[ $candidates == "${FILES}" ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "\${word#"$kept"}")
    return 0
  fi
  mapfile -t COMPREPLY <<<"$candidates"
  [[ -z $candidates ]] && COMPREPLY=()
  COMPREPLY=("\${COMPREPLY[@]#"$kept"}")
}
complete -F _chaton chaton
`;

const ZSH = `_chaton() {
  local -a candidates
  candidates=("\${(@f)$(chaton __complete -- "\${(j: :)words[1,CURRENT]}" 2>/dev/null)}")
  if [[ \${candidates[1]} == "${FILES}" ]]; then
    _files
    return
  fi
  compadd -Q -- \${candidates:#}
}
if [[ \${funcstack[1]} == _chaton ]]; then
  _chaton "$@"
else
  compdef _chaton chaton
fi
`;

const FISH = `function __chaton_complete
    set -l candidates (chaton __complete -- (commandline -cp) 2>/dev/null)
    if test "$candidates[1]" = "${FILES}"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $candidates
    end
end
complete -c chaton -f -a '(__chaton_complete)'
`;

/** Each shell's script: what must come first (zsh's #compdef line), then its code. */
const SCRIPTS: Record<Shell, [string, string]> = {
  bash: ['', BASH],
  zsh: ['#compdef chaton\n', ZSH],
  fish: ['', FISH],
};
