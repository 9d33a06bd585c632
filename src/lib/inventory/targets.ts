// Target specs on the command line: "all", host, bastion and group names, "role:<role>",
// comma-separated. They are quoted in runbooks, so a typo fails loudly, never half-runs.
import { UsageError } from '../run/errors.js';
import { messages } from './messages.js';
import { suggest } from './suggest.js';
import type { Host, Inventory } from './types.js';

const ALL = 'all';
const ROLE_PREFIX = 'role:';

/** The hosts a spec names, each once, in inventory order (bastions first, then hosts). */
export function resolveTargets(inventory: Inventory, spec: string): Host[] {
  const items = spec.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new UsageError(
      spec.trim() === '' ? messages.noTarget : messages.emptyTarget(spec),
      messages.targetsHint(messages.showNamesHint),
    );
  }
  const selected = new Set<Host>();
  const unknown: string[] = [];
  for (const item of items) {
    const hosts = hostsNamedBy(inventory, item);
    if (hosts) hosts.forEach((host) => selected.add(host));
    else unknown.push(item);
  }
  if (unknown.length > 0) throw unknownTargetsError(inventory, unknown);
  // An empty group is valid in the inventory, but a run on nothing is surely a mistake.
  if (selected.size === 0) throw new UsageError(messages.namesNoHost(spec), messages.showNamesHint);
  return everyMachine(inventory).filter((host) => selected.has(host));
}

/** Bastions then hosts: the inventory order of targets. */
export function everyMachine(inventory: Inventory): Host[] {
  return [...inventory.bastions, ...inventory.hosts];
}

/** The hosts one item names, or undefined when it names nothing in the inventory. */
function hostsNamedBy(inventory: Inventory, item: string): Host[] | undefined {
  if (item === ALL) return inventory.hosts;
  if (item.startsWith(ROLE_PREFIX)) {
    const role = item.slice(ROLE_PREFIX.length);
    const withRole = everyMachine(inventory).filter((host) => host.roles.includes(role));
    return withRole.length > 0 ? withRole : undefined;
  }
  const byName = everyMachine(inventory).find((host) => host.name === item);
  if (byName) return [byName];
  const members = inventory.groups.get(item);
  return members && inventory.hosts.filter((host) => members.includes(host.name));
}

function unknownTargetsError(inventory: Inventory, unknown: string[]): UsageError {
  const machines = everyMachine(inventory);
  const candidates = [
    ALL,
    ...machines.map((host) => host.name),
    ...inventory.groups.keys(),
    ...new Set(machines.flatMap((host) => host.roles.map((role) => `${ROLE_PREFIX}${role}`))),
  ];
  const described = unknown.map((item) => {
    const guess = suggest(item, candidates);
    return guess ? `"${item}" (${messages.didYouMean(`"${guess}"`)})` : `"${item}"`;
  });
  return new UsageError(messages.unknownTargets(unknown.length, described.join(', ')), messages.showNamesHint);
}
