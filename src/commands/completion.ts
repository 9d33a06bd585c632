// `chaton completion bash|zsh|fish`: the shell's completion script; and the hidden command
// `chaton __complete` that the script calls back for the candidates.
import { Argument, type Command } from 'commander';
import { examples } from './help.js';
import { messages } from './messages.js';

/** The same list as SHELLS in lib/completion.ts, which --help does not load. */
const SHELL_NAMES = ['bash', 'zsh', 'fish'];

export function register(program: Command): void {
  program
    .command('completion')
    .description(messages.completionDescription)
    .addArgument(new Argument('<shell>', messages.completionShellArgument).choices(SHELL_NAMES))
    .addHelpText(
      'after',
      examples(
        'chaton completion bash > ~/.local/share/bash-completion/completions/chaton',
        `chaton completion zsh > ~/.zfunc/_chaton   # ${messages.completionZshComment}`,
        'chaton completion fish > ~/.config/fish/completions/chaton.fish',
      ),
    )
    .action(async (shell: string) => {
      const { completionScript } = await import('../lib/completion.js');
      process.stdout.write(completionScript(shell as 'bash' | 'zsh' | 'fish'));
    });

  program
    .command('__complete', { hidden: true })
    .description(messages.completeDescription)
    .argument('<line>', messages.completeLineArgument)
    .action(async (line: string, _options: unknown, cmd: Command) => {
      const { candidates } = await import('../lib/completion.js');
      const found = await candidates(program, line, { names: () => targetNames(line, cmd) });
      if (found.length > 0) process.stdout.write(`${found.join('\n')}\n`);
    });
}

/**
 * Every name a target may use, from the inventory the line names (-i) or the one found as for
 * any command; none when there is none or it does not load: completion never fails aloud.
 */
async function targetNames(line: string, cmd: Command): Promise<string[]> {
  const { splitLine } = await import('../lib/completion.js');
  const { findInventory } = await import('../lib/inventory/discover.js');
  const { loadInventory } = await import('../lib/inventory/load.js');
  const words = splitLine(line);
  const at = words.findIndex((w) => w === '-i' || w === '--inventory');
  const flag = at >= 0 ? words[at + 1] : (cmd.optsWithGlobals() as { inventory?: string }).inventory;
  try {
    const found = await findInventory({ flag, env: process.env, cwd: process.cwd() });
    const inventory = await loadInventory(found.path);
    const roles = [...inventory.bastions, ...inventory.hosts].flatMap((h) => h.roles.map((role) => `role:${role}`));
    const names = ['all', ...inventory.bastions.map((b) => b.name), ...inventory.hosts.map((h) => h.name)];
    return [...new Set([...names, ...inventory.groups.keys(), ...roles])];
  } catch {
    return [];
  }
}
