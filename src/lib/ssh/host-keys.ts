// Whether to trust the key a host offered, as OpenSSH decides it from known_hosts: trusted,
// revoked, changed (both fingerprints and the line to fix) or unknown (added only when asked).
import { HostKeyError } from '../run/errors.js';
import { command, display } from '../remote/shell.js';
import { type Dialed, where } from './endpoint.js';
import {
  entryMatchesHost,
  hostLookupName,
  type KeyKnownAt,
  keyPhrase,
  type KnownHostsStore,
  location,
} from './known-hosts.js';
import { messages } from './messages.js';

export interface HostKeyTrust {
  /** Add unknown host keys to known_hosts (never replaces a changed one). */
  acceptNew: boolean;
  /** Told when a key was added. */
  notice: (message: string) => void;
}

/** What is wrong when known_hosts gives two addresses of `host` different keys, with both lines. */
export function disagreementMessage(host: string, [first, second]: [KeyKnownAt, KeyKnownAt]): string {
  const known = ({ address, entry }: KeyKnownAt) => messages.keyKnownAt(address, keyPhrase(entry.key), location(entry));
  return messages.addressesDisagree(host, known(first), known(second));
}

/**
 * Resolves when the key is trusted (or was accepted as new), saying why for -vv: the known_hosts
 * line that vouches for it, or where it was added. Throws a HostKeyError otherwise. The key may
 * be known for any of the host's addresses: the inventory says they are one machine, so lines
 * that give them different keys are refused before anything else.
 */
export async function verifyHostKey(
  endpoint: Dialed,
  key: Buffer,
  knownHosts: KnownHostsStore,
  trust: HostKeyTrust,
): Promise<string> {
  const { acceptNew } = trust;
  const { addresses, port } = endpoint;
  const disagreement = knownHosts.disagreement(addresses, port);
  if (disagreement) {
    const message = disagreementMessage(endpoint.name, disagreement);
    throw new HostKeyError(endpoint.name, message, messages.addressesDisagreeHint(endpoint.name));
  }
  const verdict = knownHosts.check(addresses, port, key);
  switch (verdict.status) {
    case 'trusted':
      return messages.matchesLine(location(verdict.entry));
    case 'revoked':
      throw new HostKeyError(
        endpoint.name,
        messages.offeredRevoked(where(endpoint), keyPhrase(key), location(verdict.entry)),
        messages.revokedHint,
      );
    case 'changed': {
      const known = verdict.known.map((e) => `${keyPhrase(e.key)} (${location(e)})`).join(', ');
      const first = verdict.known[0]!;
      // The line may be that of another of the host's addresses: name the one it is for.
      const names = addresses.map((address) => hostLookupName(address, port));
      const name = names.find((candidate) => entryMatchesHost(first, candidate))!;
      const removeOld = command('ssh-keygen', '-R', name, '-f', first.file);
      throw new HostKeyError(
        endpoint.name,
        messages.hostKeyChanged(where(endpoint), keyPhrase(key), known),
        messages.hostKeyChangedHint(display(removeOld)),
      );
    }
    case 'unknown': {
      if (acceptNew) {
        const accepted = await knownHosts.accept(endpoint.address, port, key, addresses);
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
