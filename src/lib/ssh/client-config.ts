// An OpenSSH client configuration that reaches the hosts as chaton does (the same jump hosts,
// addresses and ports), with the host keys chaton verified: for a person who will log in too.
import { jumpNames, type Reachable } from './endpoint.js';
import { messages } from './messages.js';
import type { ConnectionPool } from './pool.js';

/**
 * ssh takes one HostName: the first address, the one chaton tries first; the others are named
 * in a comment, to give with `ssh -o HostName=...` when the first does not answer.
 */
function hostNameLines({ name, addresses: [first, ...others] }: Reachable): string[] {
  return [`  HostName ${first}`, ...(others.length ? [`  # ${messages.otherAddresses(others.join(', '), name)}`] : [])];
}

/**
 * `Host` blocks for `user` (jump hosts first, each once), and the known_hosts lines of the keys
 * this run verified, so that their first login trusts nothing new. A host chaton could not reach
 * gets its block without a key.
 */
export async function clientConfig(
  pool: ConnectionPool,
  user: string,
  targets: readonly Reachable[],
  knownHostsName: string,
  header: string[],
): Promise<{ config: string; knownHosts: string }> {
  const endpoints = new Map<string, Reachable>();
  for (const target of [...pool.jumpsFor(targets), ...targets]) endpoints.set(target.name, target);
  const blocks = [...header];
  const knownHosts: string[] = [];
  for (const endpoint of endpoints.values()) {
    const connection = await pool.connect(endpoint).catch(() => undefined);
    if (connection) knownHosts.push(connection.info.knownHostsLine);
    blocks.push(
      [
        `Host ${endpoint.name}`,
        ...(connection ? [`  # ${connection.info.hostKey}`] : []),
        ...hostNameLines(endpoint),
        ...(endpoint.port === 22 ? [] : [`  Port ${endpoint.port}`]),
        `  User ${user}`,
        ...(endpoint.via.length ? [`  ProxyJump ${jumpNames(endpoint).join(',')}`] : []),
        `  UserKnownHostsFile ~/.ssh/${knownHostsName}`,
        '  StrictHostKeyChecking yes',
      ].join('\n'),
    );
  }
  return { config: `${blocks.join('\n')}\n`, knownHosts: knownHosts.length ? `${knownHosts.join('\n')}\n` : '' };
}
