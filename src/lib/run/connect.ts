// The first steps of a run that reaches hosts: its keys, then each bastion on the way.
import type { ListrTask } from 'listr2';
import type { RunContext } from './context.js';
import type { Wrapper } from './display.js';
import type { Host } from '../inventory/types.js';
import { addressList } from '../ssh/endpoint.js';
import { messages } from './messages.js';
import { askPassphrase } from './prompts.js';

/** Load the keys (asking for passphrases), then reach each bastion once: a dead bastion stops everything. */
export function connectionSteps(ctx: RunContext, hosts: Host[]): ListrTask<unknown, any, any>[] {
  const steps: ListrTask<unknown, any, any>[] = [
    {
      title: messages.loadKeysTitle,
      task: (_, task: Wrapper) => ctx.pool.loadKeys(hosts, (file, retry) => askPassphrase(ctx.mode, task, file, retry)),
    },
  ];
  for (const jump of ctx.pool.jumpsFor(hosts)) {
    steps.push({
      title: messages.connectTitle(jump.name, `${jump.user}@${addressList(jump)}`),
      task: async () => {
        await ctx.pool.connect(jump);
      },
    });
  }
  return steps;
}
