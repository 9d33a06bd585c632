// `chaton inventory show`: the resolved hosts, and how each one is reached.
import type { Command } from 'commander';
import type { Block } from '../lib/run/report.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('show')
    .description(messages.inventoryShowDescription)
    .argument('[targets]', messages.targetsArgument, 'all')
    .addHelpText(
      'after',
      `${messages.targetsHelp}\n${examples('chaton inventory show', 'chaton inventory show role:pve --json')}`,
    )
    .action(async (targets: string, _options: unknown, cmd: Command) => {
      const { inventoryFor, runLocal } = await import('../lib/run/lifecycle.js');
      const { resolveTargets } = await import('../lib/inventory/targets.js');
      const { secretsOf, sysadminsOf } = await import('../lib/access/inventory.js');
      const { ExitCode } = await import('../lib/run/errors.js');
      const { jumpNames, routeOf } = await import('../lib/ssh/endpoint.js');
      await runLocal(cmd, async (options) => {
        const inventory = await inventoryFor(options);
        const hosts = resolveTargets(inventory, targets);
        const entries = hosts.map((h) => ({
          host: h.name,
          error: null,
          // The first address, as before hosts had several.
          address: h.addresses[0],
          addresses: h.addresses,
          port: h.port,
          user: h.user,
          become: h.become,
          roles: h.roles,
          groups: h.groups,
          via: jumpNames(h),
        }));
        const sysadmins = sysadminsOf(inventory).map((s) => ({
          login: s.login,
          name: s.name ?? null,
          sudo: s.sudo,
          proxmoxRole: s.proxmoxRole ?? null,
          keyCount: s.keys.length,
        }));
        const secrets = secretsOf(inventory).map(({ name, description }) => ({ name, description }));
        const view: Block[] = [
          {
            columns: [
              messages.columnHost,
              messages.columnAddress,
              messages.columnUser,
              messages.columnSudo,
              messages.columnRoles,
              messages.columnGroups,
              messages.columnVia,
            ],
            rows: hosts.map((h) => {
              const list = (names: string[]) => names.join(',') || '-';
              return [
                h.name,
                h.addresses.map((address) => `${address}:${h.port}`).join(','),
                h.user,
                h.become ?? '-',
                list(h.roles),
                list(h.groups),
                routeOf(h),
              ];
            }),
            failures: [],
          },
        ];
        if (sysadmins.length > 0) {
          view.push({
            columns: [
              messages.columnSysadmin,
              messages.columnName,
              messages.columnSudo,
              messages.columnProxmoxRole,
              messages.columnKeys,
            ],
            rows: sysadmins.map((s) => [
              s.login,
              s.name ?? '-',
              s.sudo ? messages.yes : messages.no,
              s.proxmoxRole ?? '-',
              String(s.keyCount),
            ]),
            failures: [],
          });
        }
        if (secrets.length > 0)
          view.push({ text: messages.sharedSecrets(secrets.map((secret) => secret.name).join(', ')) });
        const fields = { file: inventory.file, sysadmins, secrets };
        return { exitCode: ExitCode.ok, hosts: entries, fields, view };
      });
    });
}
