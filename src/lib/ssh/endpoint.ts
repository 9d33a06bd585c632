// What the connection layer connects to. Only this layer reads how a host is reached (`via`).
import type { Endpoint } from '../inventory/types.js';
import { messages } from './messages.js';

/** An endpoint and the jump hosts before it, first one first (a Host is one). */
export interface Reachable extends Endpoint {
  readonly via: readonly Endpoint[];
}

/** A target at one of its addresses: the one being tried, or the one that answered. */
export interface Dialed extends Reachable {
  readonly address: string;
}

/** How a host is named in messages: its name, the address tried or used, and the port. */
export function where(endpoint: Dialed): string {
  return `${endpoint.name} (${endpoint.address}:${endpoint.port})`;
}

/** How a host is named in -vv's lines: as `where` names it, and the jump hosts it is reached through. */
export function whereVia(target: Dialed): string {
  return target.via.length ? messages.whereVia(where(target), routeOf(target)) : where(target);
}

/** The names of the jump hosts before `target`, first one first. */
export function jumpNames(target: Reachable): string[] {
  return target.via.map((jump) => jump.name);
}

/** How a host is reached, for tables: its jump hosts in order, or "direct". */
export function routeOf(target: Reachable): string {
  return route(jumpNames(target));
}

/** The names of the jump hosts before a host, first one first, as tables show them ("direct" for none). */
export function route(jumps: readonly string[]): string {
  return jumps.join(' > ') || messages.direct;
}

/** Its addresses as tables and titles show them: in the order they are tried, comma-separated. */
export function addressList(endpoint: Endpoint): string {
  return endpoint.addresses.join(',');
}

/**
 * Identifies a chain of endpoints (jump hosts, then the target) by every address of each, so that
 * whichever answered, one connection per key.
 */
export function routeKey(target: Reachable): string {
  return [...target.via, target].map((e) => `${e.user}@${addressList(e)}:${e.port}`).join(' > ');
}

/** Names for a message, each once and at most `shown` of them: "a, b, c and 4 more". */
export function nameList(names: readonly string[], shown = 5): string {
  const unique = [...new Set(names)];
  const head = unique.slice(0, shown).join(', ');
  return unique.length > shown ? messages.andMore(head, unique.length - shown) : head;
}
