// `chaton inventory check`: validate the inventory, listing every problem at once.
import type { Command } from 'commander';
import { examples } from './help.js';

/** Which inventory is used is the first thing to know when it is not the expected one. */
const FOUND_BY = {
  flag: 'from --inventory',
  env: 'from CHATON_INVENTORY',
  search: 'found by searching upwards',
  config: 'your own, in your config directory',
  system: "this machine's",
} as const;

export function register(parent: Command): void {
  parent
    .command('check')
    .description('validate the inventory: every problem with its file:line:col, exit 0 or 2')
    .addHelpText('after', examples('chaton inventory check', 'chaton -i /etc/chaton/site.yaml inventory check --json'))
    .action(async (_options: unknown, cmd: Command) => {
      const { runLocal } = await import('../lib/run/lifecycle.js');
      const { findInventory } = await import('../lib/inventory/discover.js');
      const { loadInventory } = await import('../lib/inventory/load.js');
      const { InventoryError } = await import('../lib/inventory/reader.js');
      const { ExitCode } = await import('../lib/run/errors.js');
      const { plural } = await import('../lib/run/output.js');
      await runLocal(cmd, async (options) => {
        try {
          const found = await findInventory({ flag: options.inventory, env: process.env, cwd: process.cwd() });
          const inventory = await loadInventory(found.path);
          const jumps = inventory.bastions.map((b) => b.name).join(' > ') || 'none';
          const counts = `${plural(inventory.hosts.length, 'host')}, ${plural(inventory.groups.size, 'group')}`;
          return {
            exitCode: ExitCode.ok,
            hosts: inventory.hosts.map((h) => ({ host: h.name, error: null })),
            fields: {
              file: inventory.file,
              foundBy: found.source,
              groups: [...inventory.groups.keys()],
              bastions: inventory.bastions.map((b) => b.name),
            },
            view: [{ text: `${inventory.file} (${FOUND_BY[found.source]}): OK: ${counts}, bastion: ${jumps}` }],
          };
        } catch (error) {
          // Without --json the problems are printed as the error message, on stderr.
          if (!(error instanceof InventoryError) || !options.json) throw error;
          return { exitCode: ExitCode.usage, hosts: [], error, fields: { problems: error.problems } };
        }
      });
    });
}
