// `chaton inventory check`: validate the inventory, listing every problem at once.
import type { Command } from 'commander';
import { examples } from './help.js';

export function register(parent: Command): void {
  parent
    .command('check')
    .description('validate the inventory: every problem with its file:line:col, exit 0 or 2')
    .addHelpText('after', examples('chaton inventory check', 'chaton -i /etc/chaton/site.yaml inventory check --json'))
    .action(async (_options: unknown, cmd: Command) => {
      const { inventoryFor, runLocal } = await import('../lib/run.js');
      const { InventoryError } = await import('../lib/inventory/load.js');
      const { ExitCode } = await import('../lib/errors.js');
      const { plural } = await import('../lib/output.js');
      await runLocal(cmd, async (options) => {
        try {
          const inventory = await inventoryFor(options);
          const jumps = inventory.bastions.map((b) => b.name).join(' > ') || 'none';
          return {
            exitCode: ExitCode.ok,
            json: { ok: true, file: inventory.file, hosts: inventory.hosts.length, groups: inventory.groups.size, bastions: inventory.bastions.map((b) => b.name) },
            text: `${inventory.file}: OK: ${plural(inventory.hosts.length, 'host')}, ${plural(inventory.groups.size, 'group')}, bastion: ${jumps}`,
          };
        } catch (error) {
          // Without --json the problems are printed as the error message, on stderr.
          if (!(error instanceof InventoryError) || !options.json) throw error;
          return { exitCode: ExitCode.usage, json: { ok: false, problems: error.problems } };
        }
      });
    });
}
