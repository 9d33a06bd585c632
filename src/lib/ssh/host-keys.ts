// Whether to trust the key a host offered, as OpenSSH decides it from known_hosts: trusted,
// revoked, changed (both fingerprints and the line to fix) or unknown (added only when asked).
import type { Endpoint } from '../inventory/types.js';
import { HostKeyError } from '../run/errors.js';
import { command, display } from '../remote/shell.js';
import { where } from './endpoint.js';
import { hostLookupName, keyPhrase, type KnownHostsStore } from './known-hosts.js';
import { messages } from './messages.js';

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
      return messages.matchesLine(`${verdict.entry.file}:${verdict.entry.line}`);
    case 'revoked':
      throw new HostKeyError(
        endpoint.name,
        messages.offeredRevoked(where(endpoint), keyPhrase(key), `${verdict.entry.file}:${verdict.entry.line}`),
        messages.revokedHint,
      );
    case 'changed': {
      const known = verdict.known.map((e) => `${keyPhrase(e.key)} (${e.file}:${e.line})`).join(', ');
      const first = verdict.known[0]!;
      const removeOld = command('ssh-keygen', '-R', hostLookupName(endpoint.address, endpoint.port), '-f', first.file);
      throw new HostKeyError(
        endpoint.name,
        messages.hostKeyChanged(where(endpoint), keyPhrase(key), known),
        messages.hostKeyChangedHint(display(removeOld)),
      );
    }
    case 'unknown': {
      if (acceptNew) {
        const accepted = await knownHosts.accept(endpoint.address, endpoint.port, key);
        trust.notice(messages.keyAdded(keyPhrase(key), where(endpoint), accepted.file));
        return messages.addedAsNew(accepted.file);
      }
      throw new HostKeyError(
        endpoint.name,
        messages.offeredUnknown(where(endpoint), keyPhrase(key), knownHosts.files.join(messages.orSeparator)),
        messages.unknownHint,
      );
    }
  }
}
