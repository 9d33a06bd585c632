// Whether to trust the key a host offered, as OpenSSH decides it from known_hosts: trusted,
// revoked, changed (both fingerprints and the line to fix) or unknown (added only when asked).
import type { Endpoint } from '../inventory/types.js';
import { HostKeyError } from '../run/errors.js';
import { command, display } from '../remote/shell.js';
import { where } from './endpoint.js';
import { describeKey, hostLookupName, type KnownHostsStore } from './known-hosts.js';

export interface HostKeyTrust {
  /** Add unknown host keys to known_hosts (never replaces a changed one). */
  acceptNew: boolean;
  /** Told when a key was added. */
  notice: (message: string) => void;
}

/**
 * Resolves when the key is trusted (or was accepted as new), saying why for -vv: the known_hosts
 * line that vouches for it, or where it was added. Throws a HostKeyError otherwise.
 */
export async function verifyHostKey(
  endpoint: Endpoint,
  key: Buffer,
  knownHosts: KnownHostsStore,
  trust: HostKeyTrust,
): Promise<string> {
  const { acceptNew } = trust;
  const verdict = knownHosts.check(endpoint.address, endpoint.port, key);
  switch (verdict.status) {
    case 'trusted':
      return `matches ${verdict.entry.file}:${verdict.entry.line}`;
    case 'revoked':
      throw new HostKeyError(
        endpoint.name,
        `${where(endpoint)} offered ${describeKey(key)}, ` +
          `which is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}`,
        'do not connect until the host has a new key; check it on the console',
      );
    case 'changed': {
      const known = verdict.known.map((e) => `${describeKey(e.key)} (${e.file}:${e.line})`).join(', ');
      const first = verdict.known[0]!;
      const removeOld = command('ssh-keygen', '-R', hostLookupName(endpoint.address, endpoint.port), '-f', first.file);
      throw new HostKeyError(
        endpoint.name,
        `HOST KEY CHANGED for ${where(endpoint)}: it offered ${describeKey(key)}, but known_hosts has ${known}. ` +
          'Someone may be intercepting the connection, or the host was reinstalled.',
        "check the key on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub); " +
          `if it is right, remove the old one: ${display(removeOld)}`,
      );
    }
    case 'unknown': {
      if (acceptNew) {
        const accepted = await knownHosts.accept(endpoint.address, endpoint.port, key);
        trust.notice(`added ${describeKey(key)} of ${where(endpoint)} to ${accepted.file}`);
        return `was unknown: added to ${accepted.file}`;
      }
      throw new HostKeyError(
        endpoint.name,
        `${where(endpoint)} offered ${describeKey(key)}, which is not in ${knownHosts.files.join(' or ')}`,
        "compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on its console), " +
          'then rerun with --accept-new',
      );
    }
  }
}
