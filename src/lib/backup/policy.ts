// Which policy applies to each guest: the section's default, then each override that selects the
// guest, in file order, key by key (a later one wins); an exclusion takes the guest out with its
// reason. Which overrides select no guest at all is told too: the judgement reports them, since
// only the cluster knows its guests (`inventory check` cannot).
import type { Guest } from './guests.js';
import type { BackupPolicy, BackupsSection, GuestSelector, PolicyOverride } from './inventory.js';

export type GuestPolicy =
  { excluded: false; policy: BackupPolicy } | { excluded: true; reason: string; by: PolicyOverride };

/** A glob over names: `*` any text, `?` one character; the whole name, case ignored (DNS names). */
export function globRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

export function selects(selector: GuestSelector, guest: Guest): boolean {
  switch (selector.kind) {
    case 'vmid':
      return guest.vmid === selector.vmid;
    case 'name':
      return guest.name.toLowerCase() === selector.name.toLowerCase();
    case 'glob':
      return globRegExp(selector.pattern).test(guest.name);
    case 'pool':
      return guest.pool === selector.pool;
    case 'tag':
      return guest.tags.includes(selector.tag);
  }
}

export function policyFor(guest: Guest, backups: Pick<BackupsSection, 'policy' | 'overrides'>): GuestPolicy {
  let policy: BackupPolicy = { ...backups.policy };
  let exclusion: PolicyOverride | undefined;
  for (const override of backups.overrides) {
    if (!override.guests.some((selector) => selects(selector, guest))) continue;
    if (override.exclude !== undefined) exclusion = override;
    else {
      // An override after an exclusion brings the guest back with its own keys.
      exclusion = undefined;
      policy = { ...policy, ...override.policy };
    }
  }
  return exclusion ? { excluded: true, reason: exclusion.exclude!, by: exclusion } : { excluded: false, policy };
}

/** The selectors of the overrides that select none of `guests`, in file order. */
export function unmatchedSelectors(guests: readonly Guest[], overrides: readonly PolicyOverride[]): GuestSelector[] {
  return overrides.flatMap((override) =>
    override.guests.filter((selector) => !guests.some((guest) => selects(selector, guest))),
  );
}
