// `chaton connections close`: every keeper of this user closes its connections and exits, so that
// the next run connects afresh. With --dry-run, it only says which keepers it would close.
import type { Command } from 'commander';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('close')
    .description(messages.connectionsCloseDescription)
    .addHelpText('after', examples('chaton connections close'))
    .action(async (_options: unknown, cmd: Command) => {
      const { runLocal } = await import('../lib/run/lifecycle.js');
      const { closeKeepers, listKeepers } = await import('../lib/ssh/keeper/control.js');
      const { closedReport } = await import('./connections-view.js');
      await runLocal(cmd, async (global) => {
        if (global.dryRun) return closedReport((await listKeepers(process.env)).keepers, true);
        return closedReport(await closeKeepers(process.env), false);
      });
    });
}
