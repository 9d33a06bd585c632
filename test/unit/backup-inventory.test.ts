// The `backups:` section: what it reads, its defaults, and every problem at its line and column
// with a next step; the annotated example documents every key.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backupsOf, type BackupsSection } from '../../src/lib/backup/inventory.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { loadInventory, parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError, type InventoryProblem } from '../../src/lib/inventory/reader.js';
import { assertProblems } from './inventory-problems.js';

// Compiled to dist/test/unit: the fixtures and the example stay in the source tree.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = path.join(REPO, 'inventory.example.yaml');
const PROBLEMS = path.join(REPO, 'test/unit/fixtures/backup/backups-inventory-problems.yaml');

const HOSTS = 'hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n  backup: { address: 10.0.0.30, direct: true }\n';

function backupsIn(yaml: string): BackupsSection | undefined {
  return backupsOf(parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS));
}

function problemsIn(yaml: string): InventoryProblem[] {
  try {
    parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS);
  } catch (error) {
    if (error instanceof InventoryError) return error.problems;
    throw error;
  }
  assert.fail('the inventory was accepted');
}

describe('the backups: section', () => {
  it('reads the annotated example: policy, overrides in order, each type of target', async () => {
    const backups = backupsOf(await loadInventory(EXAMPLE, INVENTORY_SECTIONS));
    assert.ok(backups);
    assert.deepEqual(backups.policy, {
      maxAge: 26 * 3600,
      minCopies: 7,
      minSpan: 6 * 86_400,
      targets: 2,
      verifyAge: 8 * 86_400,
      restoreTestAge: 35 * 86_400,
      maxRestoreTime: 2 * 3600,
    });
    assert.equal(backups.concurrencyPerHost, 2);
    assert.equal(backups.unreachable, 'unknown');
    assert.deepEqual(
      backups.overrides.map((override) => [
        override.guests.map((guest) => guest.kind),
        override.policy,
        override.exclude,
      ]),
      [
        [['tag', 'glob'], { maxAge: 8 * 86_400, targets: 1 }, undefined],
        [['vmid'], {}, 'scratch VM, rebuilt from its template when needed'],
      ],
    );
    assert.equal(backups.overrides[1]?.guests[0]?.source.file, EXAMPLE);
    const byName = new Map(backups.targets.map((target) => [target.name, target]));
    assert.deepEqual([...byName.keys()], ['dump', 'pbs', 'offsite', 'borg']);
    const { source: _dump, ...dump } = byName.get('dump')!;
    assert.deepEqual(dump, { name: 'dump', host: 'pbs', type: 'vzdump', path: '/srv/backup/dump' });
    const offsite = byName.get('offsite');
    assert.ok(offsite?.type === 'restic');
    assert.deepEqual(
      [offsite.password, offsite.guestFrom, offsite.checkSubset, offsite.extraGuests],
      [{ env: 'RESTIC_PASSWORD_OFFSITE' }, { hostname: true }, { percent: 5 }, ['www-legacy']],
    );
    const borg = byName.get('borg');
    assert.ok(borg?.type === 'borg');
    assert.deepEqual(
      [borg.passphrase, borg.archivePattern, borg.verifyData],
      [{ file: '/srv/borg.pass' }, '{name}-*', false],
    );
    const pbs = byName.get('pbs');
    assert.ok(pbs?.type === 'pbs');
    assert.deepEqual([pbs.repository, pbs.password], ['root@pam@localhost:store1', { file: '/root/pbs.pass' }]);
  });

  it('documents every key it accepts in the example', async () => {
    const example = await readFile(EXAMPLE, 'utf8');
    const keys = [
      'backups',
      'policy',
      'max_age',
      'min_copies',
      'min_span',
      'targets',
      'verify_age',
      'restore_test_age',
      'max_restore_time',
      'concurrency_per_host',
      'unreachable',
      'overrides',
      'guests',
      'exclude',
      'type',
      'host',
      'path',
      'repository',
      'password_file',
      'password_env',
      'passphrase_file',
      'passphrase_env',
      'fingerprint',
      'guest_from',
      'check_subset',
      'extra_guests',
      'restore_test',
      'node',
      'storage',
      'vmids',
      'dump_path',
      'pbs_storage',
      'scratch_dir',
      'min_free',
      'canaries',
      'archive_pattern',
      'verify_data',
    ];
    for (const key of keys)
      assert.match(example, new RegExp(`^\\s*(- |# )?${key}:`, 'm'), `${key} is not in the example`);
  });

  it('is undefined when the inventory has none', () => {
    assert.equal(backupsIn(''), undefined);
  });

  it('gives the defaults: 26h, one copy on one target, 2 checks at once, unknown when unreadable', () => {
    const backups = backupsIn(
      'backups:\n  targets:\n' +
        '    r: { type: restic, host: backup, repository: /srv/r, password_file: /root/r.pass, guest_from: "tag:vmid=" }\n' +
        '    b: { type: borg, host: backup, repository: "ssh://borg@nas/./repo" }\n',
    );
    assert.ok(backups);
    assert.deepEqual(backups.policy, { maxAge: 26 * 3600, minCopies: 1, targets: 1 });
    assert.deepEqual([backups.concurrencyPerHost, backups.unreachable, backups.overrides], [2, 'unknown', []]);
    const [restic, borg] = backups.targets;
    assert.ok(restic?.type === 'restic' && borg?.type === 'borg');
    assert.deepEqual(
      [restic.guestFrom, restic.checkSubset, restic.extraGuests],
      [{ tagPrefix: 'vmid=' }, undefined, []],
    );
    assert.deepEqual([borg.passphrase, borg.archivePattern, borg.verifyData], [undefined, '{name}-*', false]);
  });

  it('reads each kind of guest selector, a single one without a list', () => {
    const backups = backupsIn(
      'backups:\n  overrides:\n    - guests: [100, "101", web, "test-*", pool:prod, tag:DB]\n      targets: 1\n' +
        '    - guests: web-2\n      exclude: gone\n' +
        '  targets: { d: { type: vzdump, host: backup, path: /srv/dump } }\n',
    );
    const selectors = backups?.overrides
      .flatMap((override) => override.guests)
      .map(({ source: _s, ...selector }) => selector);
    assert.deepEqual(selectors, [
      { text: '100', kind: 'vmid', vmid: 100 },
      { text: '101', kind: 'vmid', vmid: 101 },
      { text: 'web', kind: 'name', name: 'web' },
      { text: 'test-*', kind: 'glob', pattern: 'test-*' },
      { text: 'pool:prod', kind: 'pool', pool: 'prod' },
      { text: 'tag:DB', kind: 'tag', tag: 'db' },
      { text: 'web-2', kind: 'name', name: 'web-2' },
    ]);
  });

  it('reports every problem at its line and column, each with a next step', async () => {
    const error = await loadInventory(PROBLEMS, INVENTORY_SECTIONS).catch((thrown: unknown) => thrown);
    const { problems } = assertProblems(error, [
      '6:14 backups.policy.max_age: must be a duration',
      '7:17 backups.policy.min_copies: must be a whole number from 1 to 10000, got 0',
      '8:14 backups.policy.targets: wants a fresh copy on 6 targets, the section defines 5',
      '10:25 backups.overrides[0].guests[1]: must be a guest',
      '11:16 backups.overrides[0].max_age: must be a duration',
      '13:7 backups.overrides[1].exclude: must be the reason why these guests are not backed up, got nothing',
      '15:16 backups.overrides[2].exclude: must be the reason why these guests are not backed up, got true',
      '18:7 backups.overrides[3].targets: an excluded guest has no policy',
      '19:7 backups.overrides[4]: has no guests',
      '23:13 backups.targets.dump.host: "bakup" is not a host of the inventory',
      '24:13 backups.targets.dump.path: must be an absolute path on that host, got "srv/dump"',
      '26:13 backups.targets.copy.type: must be "vzdump", "pbs", "restic" or "borg", got "rsync"',
      '33:7 backups.targets.offsite.password_env: has both password_file and password_env',
      '34:7 backups.targets.offsite.archive_pattern: archive_pattern is a key of borg targets, not of restic ones',
      '35:21 backups.targets.offsite.check_subset: must be n/t or x%, got "120%"',
      '39:19 backups.targets.borg.repository: must be a repository, got "-e /srv/borg"',
      '40:24 backups.targets.borg.archive_pattern: must be an archive name pattern with {name} or {vmid}',
      '44:19 backups.targets.pbs.repository: "not a repo" is not a PBS repository',
    ]);
    const hints = new Map(problems.map((problem) => [problem.path, problem.hint]));
    assert.match(hints.get('backups.policy.max_age')!, /90m, 26h, 4d or 2w/);
    assert.match(hints.get('backups.targets.dump.host')!, /did you mean "backup"\?/);
    assert.match(hints.get('backups.overrides[1].exclude')!, /say why/);
  });

  it('refuses a host that is only a bastion, with the way forward', () => {
    const problems = problemsIn(
      'bastion: { address: 10.0.0.2 }\nbackups:\n  targets: { d: { type: vzdump, host: bastion, path: /srv/d } }\n',
    );
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.message, problem.hint]),
      [
        [
          'backups.targets.d.host',
          '"bastion" is not a host of the inventory',
          'define it under `hosts:`: chaton reads the copies there, over SSH',
        ],
      ],
    );
  });

  it('wants a secret for pbs and restic, and no key of another type', () => {
    const problems = problemsIn(
      'backups:\n  targets:\n    p: { type: pbs, host: backup, repository: store1 }\n' +
        '    d: { type: vzdump, host: backup, path: /srv/d, verify_data: true }\n',
    );
    assert.deepEqual(
      problems.map((problem) => problem.message),
      ['has neither password_file nor password_env', 'verify_data is a key of borg targets, not of vzdump ones'],
    );
  });
});
