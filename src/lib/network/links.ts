// The gateway's network interfaces (`ip -j link show`): whether each link's interface exists, is
// up and has a carrier. Only the gateway knows its interfaces: a link on one it lacks is an
// inventory problem found there, before anything runs, reported at the line that names it.
import { InventoryError } from '../inventory/reader.js';
import type { Fact } from '../remote/facts.js';
import { command } from '../remote/shell.js';
import type { FailoverSection } from './inventory.js';
import { LINK_NAMES } from './inventory.js';
import { messages } from './messages.js';

export interface InterfaceState {
  /** Set up by the administrator (flag UP). */
  up: boolean;
  /** The cable, the modem or the peer is there (flag LOWER_UP; operstate says UNKNOWN for PPP links). */
  carrier: boolean;
}

export const interfacesFact: Fact<Map<string, InterfaceState>> = {
  command: command('ip', '-j', 'link', 'show'),
  parse: parseInterfaces,
};

export function parseInterfaces(stdout: string): Map<string, InterfaceState> {
  const entries = JSON.parse(stdout) as { ifname?: unknown; flags?: unknown }[];
  if (!Array.isArray(entries)) throw new TypeError(messages.notJsonList('ip -j link show'));
  return new Map(
    entries.flatMap((entry) => {
      if (typeof entry.ifname !== 'string') return [];
      const flags = Array.isArray(entry.flags) ? entry.flags : [];
      return [[entry.ifname, { up: flags.includes('UP'), carrier: flags.includes('LOWER_UP') }] as const];
    }),
  );
}

/** The links whose interface the gateway lacks, as inventory problems at their lines; undefined when none. */
export function missingInterfaces(
  failover: FailoverSection,
  interfaces: ReadonlyMap<string, InterfaceState>,
): InventoryError | undefined {
  const present = [...interfaces.keys()].join(', ');
  const problems = LINK_NAMES.map((name) => failover.links[name])
    .filter((link) => !interfaces.has(link.interface))
    .map((link) => ({
      ...link.interfaceAt,
      message: messages.interfaceMissing(failover.gateway, link.interface),
      hint: messages.interfaceMissingHint(present),
    }));
  return problems.length > 0 ? new InventoryError(problems) : undefined;
}
