// The lab's site as the judgement sees it, for the judgement's and the renderers' tests: the
// cluster of fixtures/backup/pvesh-*.json, four targets (vzdump, PBS, restic, borg) holding daily copies.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Copy, Listing } from '../../src/lib/backup/copies.js';
import { type ClusterGuests, parseClusterGuests } from '../../src/lib/backup/guests.js';
import { backupsOf, type BackupsSection } from '../../src/lib/backup/inventory.js';
import type { JudgeInput, Judgement, TargetRead } from '../../src/lib/backup/judge.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { parseInventory } from '../../src/lib/inventory/load.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/backup/', import.meta.url));
const fixture = (name: string) => readFileSync(FIXTURES + name, 'utf8');

export const INVENTORY = `
hosts:
  pve1: { address: 10.0.0.11, roles: [pve], direct: true }
  backup: { address: 10.0.0.30, direct: true }
backups:
  policy: { max_age: 26h, min_copies: 3, min_span: 2d, targets: 2, verify_age: 8d, restore_test_age: 35d }
  overrides:
    - guests: [tag:dev]
      max_age: 8d
      targets: 1
    - guests: [105]
      exclude: scratch VM, rebuilt from its template when needed
    - guests: [old-vm]
      min_copies: 1
    - guests: [www-legacy]
      targets: 1
  targets:
    dump: { type: vzdump, host: backup, path: /srv/backup/dump }
    pbs: { type: pbs, host: backup, repository: "root@pam@localhost:store1", password_file: /root/pbs.pass }
    offsite:
      type: restic
      host: backup
      repository: /srv/backup/restic
      password_file: /root/restic.pass
      extra_guests: [www-legacy]
    borg: { type: borg, host: backup, repository: /srv/backup/borg, passphrase_file: /root/borg.pass }
`;

export const backups = (yaml = INVENTORY): BackupsSection =>
  backupsOf(parseInventory(yaml, '/etc/chaton/chaton.yaml', INVENTORY_SECTIONS))!;
export const cluster = (): ClusterGuests =>
  parseClusterGuests(
    `${fixture('pvesh-cluster-resources.json').trim()}\n${fixture('pvesh-backup-info-not-backed-up.json').trim()}\n`,
  );

export const NOW = Date.parse('2025-11-02T12:00:00Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Daily copies, the newest `newestAgo` ago, `count` of them. */
export function daily(
  key: Copy['key'],
  newestAgo: number,
  count: number,
  make: (time: number, i: number) => Partial<Copy> = () => ({}),
): Copy[] {
  return Array.from({ length: count }, (_, i) => {
    const time = NOW - newestAgo - i * DAY;
    return { key, time, location: `${JSON.stringify(key)}@${time}`, ...make(time, i) };
  });
}

/** A vzdump name's time (here in UTC: the zone is the facts' business). */
const stamp = (time: number) =>
  new Date(time).toISOString().slice(0, 19).replace(/-/g, '_').replace('T', '-').replace(/:/g, '_');

export const ok = (copies: Copy[]): Listing => ({ outcome: { kind: 'ok' }, copies, leftovers: [] });

/** Every guest of the cluster on vzdump and PBS, web, mail and db on restic, mail and db on borg. */
export function healthyReads(section: BackupsSection): TargetRead[] {
  const target = (name: string) => section.targets.find((t) => t.name === name)!;
  const vmids = [100, 101, 102, 103, 104];
  const dumpCopies = vmids.flatMap((vmid) =>
    daily({ vmid }, 3 * HOUR, 4, (time) => ({
      location: `/srv/backup/dump/vzdump-qemu-${vmid}-${stamp(time)}.vma.zst`,
      size: 40_000,
      compression: 'zst',
    })),
  );
  const pbsCopies = vmids.flatMap((vmid) =>
    daily({ vmid }, 2 * HOUR, 4, (time) => ({
      location: `vm/${vmid}/${new Date(time).toISOString()}`,
      verification: { state: 'ok', time: time + HOUR },
    })),
  );
  const resticCopies = ['web', 'mail', 'db', 'www-legacy'].flatMap((name) => daily({ name }, 5 * HOUR, 3));
  const borgCopies = ['mail', 'db', 'dev', 'dns'].flatMap((name) =>
    daily({ archive: '' }, 6 * HOUR, 3).map((copy) => ({ ...copy, key: { archive: `${name}-${copy.time}` } })),
  );
  const dumpRead: TargetRead = { target: target('dump'), listing: ok(dumpCopies) };
  dumpRead.archives = new Map(
    vmids.map((vmid) => [
      dumpCopies.filter((copy) => 'vmid' in copy.key && copy.key.vmid === vmid)[0]!.location,
      { kind: 'ok' },
    ]),
  );
  return [
    dumpRead,
    { target: target('pbs'), listing: ok(pbsCopies) },
    {
      target: target('offsite'),
      listing: ok(resticCopies),
      check: { outcome: { kind: 'ok' }, problems: [], durationMs: 1200 },
    },
    { target: target('borg'), listing: ok(borgCopies), check: { outcome: { kind: 'ok' }, problems: [] } },
  ];
}

/** What --no-integrity reads: the same listings, no archive tested, no restic or borg check run. */
export function withoutIntegrity(reads: TargetRead[]): void {
  for (const read of reads) {
    if (read.target.type === 'pbs') continue;
    delete read.archives;
    delete read.check;
    read.integrityNotChecked = true;
  }
}

export function input(
  change: (reads: TargetRead[], section: BackupsSection) => Partial<JudgeInput> | void = () => {},
): JudgeInput {
  const section = backups();
  const reads = healthyReads(section);
  const more = change(reads, section) ?? {};
  return { backups: section, cluster: { ...cluster(), notBackedUp: [105, 9000] }, targets: reads, now: NOW, ...more };
}

export function row(judgement: Judgement, vmidOrName: number | string) {
  const found = judgement.rows.find((r) => r.guest.vmid === vmidOrName || r.guest.name === vmidOrName);
  assert.ok(found, `no row for ${vmidOrName}`);
  return found;
}
