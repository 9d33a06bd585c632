// `chaton connections` (its default, `connections list`): what the keepers of this user hold, the
// connections kept warm between runs (ssh.persist, --persist). It reads no inventory.
import type { Command } from 'commander';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('list', { isDefault: true })
    .description(messages.connectionsListDescription)
    .addHelpText(
      'after',
      `${messages.connectionsTimesHelp}\n${examples('chaton connections', 'chaton --json connections')}`,
    )
    .action(async (_options: unknown, cmd: Command) => {
      const { printNotices, runLocal } = await import('../lib/run/lifecycle.js');
      const { listKeepers } = await import('../lib/ssh/keeper/control.js');
      const { keepersReport } = await import('./connections-view.js');
      await runLocal(cmd, async (_global, mode) => {
        const { keepers, stale } = await listKeepers(process.env);
        printNotices(mode, stale.map(messages.staleKeeperRemoved));
        return keepersReport(keepers, stale);
      });
    });
}
