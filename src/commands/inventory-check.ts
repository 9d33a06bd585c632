// `chaton inventory check`: validate the inventory, listing every problem at once.
import type { Command } from 'commander';
import type { InventorySource } from '../lib/inventory/discover.js';
import { examples } from './help.js';
import { messages } from './messages.js';

/** Which inventory is used is the first thing to know when it is not the expected one. */
function foundBy(source: InventorySource): string {
  const texts: Record<InventorySource, string> = {
    flag: messages.foundByFlag,
    env: messages.foundByEnv,
    search: messages.foundBySearch,
    config: messages.foundByConfig,
    system: messages.foundBySystem,
  };
  return texts[source];
}

export function register(parent: Command): void {
  parent
    .command('check')
    .description(messages.inventoryCheckDescription)
    .addHelpText('after', examples('chaton inventory check', 'chaton -i /etc/chaton/site.yaml inventory check --json'))
    .action(async (_options: unknown, cmd: Command) => {
      const { runLocal } = await import('../lib/run/lifecycle.js');
      const { findInventory } = await import('../lib/inventory/discover.js');
      const { loadInventory } = await import('../lib/inventory/load.js');
      const { InventoryError } = await import('../lib/inventory/reader.js');
      const { ExitCode } = await import('../lib/run/errors.js');
      await runLocal(cmd, async (options) => {
        try {
          const found = await findInventory({ flag: options.inventory, env: process.env, cwd: process.cwd() });
          const inventory = await loadInventory(found.path);
          const jumps = inventory.bastions.map((b) => b.name).join(' > ') || messages.noBastion;
          return {
            exitCode: ExitCode.ok,
            hosts: inventory.hosts.map((h) => ({ host: h.name, error: null })),
            fields: {
              file: inventory.file,
              foundBy: found.source,
              groups: [...inventory.groups.keys()],
              bastions: inventory.bastions.map((b) => b.name),
            },
            view: [
              {
                text: messages.inventoryValid(
                  inventory.file,
                  foundBy(found.source),
                  inventory.hosts.length,
                  inventory.groups.size,
                  jumps,
                ),
              },
            ],
          };
        } catch (error) {
          // Without --json the problems are printed as the error message, on stderr.
          if (!(error instanceof InventoryError) || !options.json) throw error;
          return { exitCode: ExitCode.usage, hosts: [], error, fields: { problems: error.problems } };
        }
      });
    });
}
