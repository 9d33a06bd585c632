import type { Endpoint } from '../inventory/types.js';

/** How a host is named in messages: its name, address and port. */
export function where(endpoint: Endpoint): string {
  return `${endpoint.name} (${endpoint.address}:${endpoint.port})`;
}
