// The policy each guest gets, and the judgement: a healthy site is OK; each thing the issue
// injects in the lab (a stale backup, no copy, a guest in no job, a damaged archive or
// repository, a wrong password, a leftover, a lock, a PBS snapshot never verified, a host down)
// gets its state and a reason that names the guest and what to do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Copy } from '../../src/lib/backup/copies.js';
import { extraGuest } from '../../src/lib/backup/guests.js';
import { age, judge, type Judgement, type TargetRead, worst } from '../../src/lib/backup/judge.js';
import { globRegExp, policyFor, unmatchedSelectors } from '../../src/lib/backup/policy.js';
import {
  backups,
  cluster,
  DAY,
  healthyReads,
  HOUR,
  input,
  INVENTORY,
  NOW,
  row,
  withoutIntegrity,
} from './backup-scenario.js';

const codes = (judgement: Judgement, guest: number | string) =>
  row(judgement, guest).findings.map((f) => [f.state, f.code]);

describe('the policy of each guest', () => {
  const section = backups();
  const { guests } = cluster();
  const web = guests.find((guest) => guest.vmid === 100)!;
  const dev = guests.find((guest) => guest.vmid === 103)!;
  const scratch = guests.find((guest) => guest.vmid === 105)!;

  it('is the default, then each override that selects the guest, a later one winning key by key', () => {
    assert.deepEqual(policyFor(web, section), { excluded: false, policy: section.policy });
    const forDev = policyFor(dev, section);
    assert.ok(!forDev.excluded);
    assert.deepEqual([forDev.policy.maxAge, forDev.policy.targets, forDev.policy.minCopies], [8 * 86_400, 1, 3]);
  });

  it('excludes with the reason and where it is written; a later override brings the guest back', () => {
    const excluded = policyFor(scratch, section);
    assert.ok(excluded.excluded);
    assert.equal(excluded.reason, 'scratch VM, rebuilt from its template when needed');
    assert.equal(excluded.by.source.line, 11);
    const back = backups(INVENTORY.replace('    - guests: [old-vm]', '    - guests: [scratch]'));
    assert.equal(policyFor(scratch, back).excluded, false);
  });

  it('selects by name and glob ignoring case, by pool and by tag', () => {
    assert.ok(globRegExp('test-*').test('TEST-web1'));
    assert.ok(!globRegExp('test-?').test('test-12'));
    assert.ok(!globRegExp('a.b').test('axb'));
    const section2 = backups(
      INVENTORY.replace(
        '    - guests: [old-vm]\n      min_copies: 1',
        '    - guests: [pool:prod, "D?", WEB]\n      min_copies: 1',
      ),
    );
    const selected = guests.filter((guest) => {
      const applied = policyFor(guest, section2);
      return !applied.excluded && applied.policy.minCopies === 1;
    });
    assert.deepEqual(
      selected.map((guest) => guest.name),
      ['web', 'db'],
    );
  });

  it('tells which selectors select no guest of the cluster', () => {
    assert.deepEqual(
      unmatchedSelectors([...guests, extraGuest('www-legacy')], section.overrides).map((selector) => [
        selector.text,
        selector.source.line,
      ]),
      [['old-vm', 13]],
    );
  });
});

describe('the judgement', () => {
  it('finds a healthy site OK, the excluded guest with its reason, the override that selects nothing', () => {
    const judgement = judge(input());
    assert.deepEqual(
      judgement.rows.map((r) => [r.key, r.state]),
      [
        ['100', 'ok'],
        ['101', 'ok'],
        ['102', 'ok'],
        ['103', 'ok'],
        ['104', 'ok'],
        ['host:www-legacy', 'ok'],
      ],
    );
    assert.deepEqual(
      judgement.excluded.map((e) => [e.key, e.reason]),
      [['105', 'scratch VM, rebuilt from its template when needed']],
    );
    assert.deepEqual(
      judgement.findings.map((f) => [f.state, f.code]),
      [['warning', 'override-unmatched']],
    );
    assert.match(
      judgement.findings[0]!.message.en,
      /^the override old-vm at \/etc\/chaton\/chaton\.yaml:13:16 selects no guest of the cluster: fix it or remove it$/,
    );
    assert.equal(judgement.state, 'warning');
    const web = row(judgement, 100);
    assert.deepEqual(web.coverage, { fresh: ['dump', 'pbs', 'offsite'], wanted: 2, unknown: [] });
    assert.deepEqual([web.integrity, web.newest?.target, web.retention?.copies], ['ok', 'pbs', 4]);
    assert.equal(row(judgement, 103).coverage.wanted, 1);
    assert.equal(judgement.counts.notInJob, 0);
  });

  it('with nothing to say, says every guest could be restored', () => {
    const judgement = judge(
      input((_, section) => ({
        backups: {
          ...section,
          overrides: section.overrides.filter((override) => override.guests[0]?.text !== 'old-vm'),
        },
      })),
    );
    assert.equal(judgement.state, 'ok');
    assert.equal(judgement.verdict.en, 'all 6 guests could be restored: fresh, intact copies on enough targets');
  });

  it('a stale backup everywhere is critical, and says how old against what', () => {
    const judgement = judge(
      input((reads) => {
        for (const read of reads) {
          read.listing.copies = read.listing.copies.map((copy) =>
            'vmid' in copy.key && copy.key.vmid === 101 ? { ...copy, time: copy.time - 3 * DAY } : copy,
          );
          if (read.target.name === 'offsite' || read.target.name === 'borg') {
            read.listing.copies = read.listing.copies.filter((copy) => !JSON.stringify(copy.key).includes('mail'));
          }
        }
      }),
    );
    assert.deepEqual(codes(judgement, 101), [['critical', 'stale']]);
    assert.equal(
      row(judgement, 101).findings[0]!.message.en,
      'newest copy is 3d old, more than 26h: look at its backup job and the log of its last run',
    );
    assert.equal(judgement.rows[0]!.key, '101', 'worst first');
    assert.equal(judgement.state, 'critical');
  });

  it('a fresh copy on fewer targets than wanted is a warning naming where it is missing', () => {
    const judgement = judge(
      input((reads) => {
        const pbs = reads.find((read) => read.target.name === 'pbs')!;
        pbs.listing.copies = pbs.listing.copies.map((copy) => ({ ...copy, time: copy.time - 2 * DAY }));
        const dump = reads.find((read) => read.target.name === 'dump')!;
        dump.listing.copies = dump.listing.copies.filter((copy) => !('vmid' in copy.key && copy.key.vmid === 104));
      }),
    );
    assert.deepEqual(codes(judgement, 104), [['warning', 'few-targets']]);
    assert.match(
      row(judgement, 104).findings[0]!.message.en,
      /^a fresh copy on 1 of the 2 targets wanted \(none on dump, pbs, offsite\): look at what copies it there$/,
    );
    assert.equal(row(judgement, 100).state, 'ok');
  });

  it('a guest with no copy at all is critical; one in no backup job is named', () => {
    const judgement = judge(
      input((reads) => {
        for (const read of reads)
          read.listing.copies = read.listing.copies.filter((copy) => !('vmid' in copy.key && copy.key.vmid === 104));
        for (const read of reads)
          read.listing.copies = read.listing.copies.filter((copy) => !JSON.stringify(copy.key).includes('dns'));
        return { cluster: { ...cluster(), notBackedUp: [104, 105, 9000] } };
      }),
    );
    assert.deepEqual(codes(judgement, 104), [
      ['critical', 'no-copy'],
      ['warning', 'not-in-job'],
    ]);
    assert.equal(row(judgement, 104).inBackupJob, false);
    assert.deepEqual([judgement.counts.withoutCopy, judgement.counts.notInJob], [1, 1]);
  });

  it('--no-integrity: the checks not run are "not checked", never ok; PBS verification states still count', () => {
    const judgement = judge(
      input((reads, section) => {
        withoutIntegrity(reads);
        return {
          backups: { ...section, overrides: section.overrides.filter((o) => o.guests[0]?.text !== 'old-vm') },
        };
      }),
    );
    assert.equal(judgement.state, 'ok');
    assert.equal(judgement.integrityChecked, false);
    assert.equal(
      judgement.verdict.en,
      'all 6 guests have fresh copies on enough targets; their integrity was not checked (--no-integrity)',
    );
    // 100 web: its archive and the restic check not run; PBS's own verification read with the listing.
    assert.deepEqual(row(judgement, 100).integrityNotChecked, ['dump', 'offsite']);
    assert.equal(row(judgement, 100).integrity, 'ok');
    assert.deepEqual(row(judgement, 'www-legacy').integrityNotChecked, ['offsite']);
    assert.equal(row(judgement, 'www-legacy').integrity, undefined);
    const placed = row(judgement, 101).onTargets.find((p) => p.target === 'borg')!;
    assert.deepEqual([placed.integrityNotChecked, placed.integrity], [true, undefined]);

    // What the checks would have caught is not seen: the same damaged archive passes unnoticed.
    const damaged = judge(
      input((reads) => {
        const dump = reads.find((read) => read.target.name === 'dump')!;
        dump.listing.leftovers = [
          { location: '/srv/backup/dump/vzdump-qemu-103-2025_11_02-03_00_00.vma.dat', vmid: 103, time: NOW - HOUR },
        ];
        withoutIntegrity(reads);
      }),
    );
    assert.deepEqual(codes(damaged, 103), [['warning', 'leftover']], 'the listing still shows leftovers');
    assert.match(damaged.verdict.en, /; integrity not checked \(--no-integrity\)/);
  });

  it('a damaged newest archive is critical, naming the target and the archive', () => {
    const judgement = judge(
      input((reads) => {
        const dump = reads.find((read) => read.target.name === 'dump')!;
        const newest = dump.listing.copies.find((copy) => 'vmid' in copy.key && copy.key.vmid === 102)!;
        dump.archives = new Map([
          ...dump.archives!,
          [newest.location, { kind: 'failed', detail: 'Read error (39) : premature end' }],
        ]);
      }),
    );
    assert.deepEqual(codes(judgement, 102), [['critical', 'archive-damaged']]);
    assert.match(
      row(judgement, 102).findings[0]!.message.en,
      /^the newest archive on dump is damaged \(vzdump-qemu-102-[\d_-]+\.vma\.zst: Read error/,
    );
    assert.deepEqual([row(judgement, 102).integrity, row(judgement, 101).integrity], ['critical', 'ok']);
  });

  it('an archive that could not be tested is unknown; a size drop is a warning', () => {
    const judgement = judge(
      input((reads) => {
        const dump = reads.find((read) => read.target.name === 'dump')!;
        const newest = (vmid: number) =>
          dump.listing.copies.find((copy) => 'vmid' in copy.key && copy.key.vmid === vmid)!;
        dump.archives = new Map([
          ...dump.archives!,
          [newest(103).location, { kind: 'missing-tool', detail: 'zstd: not found' }],
        ]);
        newest(100).size = 12_000;
      }),
    );
    assert.deepEqual(codes(judgement, 103), [['unknown', 'archive-untested']]);
    assert.deepEqual(codes(judgement, 100), [['warning', 'size-drop']]);
    assert.match(
      row(judgement, 100).findings[0]!.message.en,
      / is 12 KiB, under half the median of the previous ones \(39 KiB\): check what the guest or its backup lost$/,
    );
  });

  it('a damaged restic repository is critical for every guest with copies there, and for the target', () => {
    const judgement = judge(
      input((reads) => {
        const offsite = reads.find((read) => read.target.name === 'offsite')!;
        offsite.check = {
          outcome: { kind: 'failed', detail: 'Pack ID does not match' },
          problems: ['Pack ID does not match'],
        };
      }),
    );
    for (const guest of [100, 101, 102, 'www-legacy'])
      assert.deepEqual(codes(judgement, guest), [['critical', 'repository-damaged']]);
    assert.equal(row(judgement, 103).state, 'ok');
    const offsite = judgement.targets.find((target) => target.name === 'offsite')!;
    assert.equal(offsite.state, 'critical');
    assert.match(
      offsite.findings[0]!.message.en,
      /^restic check of offsite found damage \(Pack ID does not match\): repair/,
    );
  });

  it('a wrong password makes the target critical, and what only it would prove unknown', () => {
    const judgement = judge(
      input((reads) => {
        const offsite = reads.find((read) => read.target.name === 'offsite')!;
        offsite.listing = {
          outcome: { kind: 'wrong-password', detail: 'Fatal: wrong password or no key found' },
          copies: [],
          leftovers: [],
        };
        delete offsite.check;
      }),
    );
    assert.deepEqual(
      judgement.targets.find((target) => target.name === 'offsite')!.findings.map((f) => [f.state, f.code]),
      [['critical', 'wrong-password']],
    );
    // www-legacy is only there: it could have a fresh copy, nothing proves it.
    assert.deepEqual(codes(judgement, 'www-legacy'), [['unknown', 'coverage-unknown']]);
    assert.deepEqual(row(judgement, 'www-legacy').coverage.unknown, ['offsite']);
    assert.equal(row(judgement, 100).state, 'ok', 'proven on two other targets');
    assert.equal(judgement.state, 'critical');
  });

  it('a host down is unknown for what it would prove, or critical when the inventory says so', () => {
    const down = (reads: TargetRead[]) => {
      const offsite = reads.find((read) => read.target.name === 'offsite')!;
      offsite.listing = { outcome: { kind: 'unreachable', detail: 'connect ETIMEDOUT' }, copies: [], leftovers: [] };
      delete offsite.check;
    };
    const judgement = judge(input(down));
    assert.deepEqual(codes(judgement, 'www-legacy'), [['unknown', 'coverage-unknown']]);
    assert.equal(judgement.targets.find((target) => target.name === 'offsite')!.state, 'unknown');
    assert.equal(judgement.state, 'unknown');
    const strict = judge(
      input((reads, section) => (down(reads), { backups: { ...section, unreachable: 'critical' } })),
    );
    assert.deepEqual(codes(strict, 'www-legacy'), [['critical', 'coverage-unknown']]);
    assert.equal(strict.state, 'critical');
  });

  it('a repository locked by a running backup is a warning, never more', () => {
    const judgement = judge(
      input((reads) => {
        const borg = reads.find((read) => read.target.name === 'borg')!;
        borg.listing = {
          outcome: { kind: 'busy', detail: 'Failed to create/acquire the lock' },
          copies: [],
          leftovers: [],
        };
        const offsite = reads.find((read) => read.target.name === 'offsite')!;
        offsite.check = { outcome: { kind: 'busy', detail: 'repository is already locked' }, problems: [] };
      }),
    );
    assert.deepEqual(
      judgement.targets.map((target) => [target.name, target.state]),
      [
        ['dump', 'ok'],
        ['pbs', 'ok'],
        ['offsite', 'warning'],
        ['borg', 'warning'],
      ],
    );
    assert.deepEqual(codes(judgement, 100), [['warning', 'check-busy']]);
    assert.equal(row(judgement, 103).state, 'ok');
    assert.equal(judgement.state, 'warning');
  });

  it('a leftover .dat is a warning for its guest; one without a guest for its target', () => {
    const judgement = judge(
      input((reads) => {
        const dump = reads.find((read) => read.target.name === 'dump')!;
        dump.listing.leftovers = [
          { location: '/srv/backup/dump/vzdump-qemu-102-2025_11_02-03_00_00.vma.dat', vmid: 102, time: NOW - 9 * HOUR },
          { location: '/srv/backup/dump/stray.tmp', time: NOW - 2 * DAY },
        ];
      }),
    );
    assert.deepEqual(codes(judgement, 102), [['warning', 'leftover']]);
    assert.match(
      row(judgement, 102).findings[0]!.message.en,
      /^vzdump-qemu-102-2025_11_02-03_00_00\.vma\.dat on dump \(9h old\) is left by a dump running or interrupted/,
    );
    assert.deepEqual(
      judgement.targets.find((target) => target.name === 'dump')!.findings.map((f) => f.code),
      ['leftover'],
    );
  });

  it('PBS: never verified is a warning, a failed verification critical, an old one a warning', () => {
    const judgement = judge(
      input((reads) => {
        const pbs = reads.find((read) => read.target.name === 'pbs')!;
        const newest = (vmid: number) =>
          pbs.listing.copies.find((copy) => 'vmid' in copy.key && copy.key.vmid === vmid)!;
        newest(100).verification = 'never';
        newest(101).verification = { state: 'failed', time: NOW - HOUR };
        newest(102).verification = { state: 'ok', time: NOW - 10 * DAY };
      }),
    );
    assert.deepEqual(codes(judgement, 100), [['warning', 'never-verified']]);
    assert.deepEqual(codes(judgement, 101), [['critical', 'verify-failed']]);
    assert.deepEqual(codes(judgement, 102), [['warning', 'verify-old']]);
    assert.deepEqual(row(judgement, 100).verification, { target: 'pbs', state: 'never' });
    assert.match(row(judgement, 101).findings[0]!.message.en, /vm\/101\//);
  });

  it('retention: too few copies kept, or over too short a span, on every target', () => {
    const judgement = judge(
      input((reads) => {
        for (const read of reads) {
          const dns = (copy: Copy) =>
            ('vmid' in copy.key && copy.key.vmid === 104) || JSON.stringify(copy.key).includes('dns');
          read.listing.copies = read.listing.copies.filter((copy) => !dns(copy) || copy.time > NOW - DAY - 12 * HOUR);
        }
      }),
    );
    assert.deepEqual(codes(judgement, 104), [['warning', 'retention']]);
    assert.equal(
      row(judgement, 104).findings[0]!.message.en,
      'keeps at best 2 copies over 24h (dump), the policy wants 3 over 2d: check the retention (prune) settings',
    );
  });

  it('borg archives go to the guest whose pattern says the most; a tie to none', () => {
    const section = backups(
      INVENTORY.replace(
        'passphrase_file: /root/borg.pass }',
        'passphrase_file: /root/borg.pass, extra_guests: [mail-old] }',
      ),
    );
    const reads = healthyReads(section);
    const borg = reads.find((read) => read.target.name === 'borg')!;
    borg.listing.copies = [
      { key: { archive: 'mail-old-2025-11-02' }, time: NOW - HOUR, location: 'mail-old-2025-11-02' },
      { key: { archive: 'mail-2025-11-02' }, time: NOW - HOUR, location: 'mail-2025-11-02' },
      { key: { archive: 'nobody-2025-11-02' }, time: NOW - HOUR, location: 'nobody-2025-11-02' },
    ];
    const judgement = judge({ backups: section, cluster: cluster(), targets: reads, now: NOW });
    const onBorg = (guest: number | string) =>
      row(judgement, guest)
        .onTargets.find((placed) => placed.target === 'borg')!
        .copies.map((c) => c.location);
    assert.deepEqual(onBorg('mail-old'), ['mail-old-2025-11-02']);
    assert.deepEqual(onBorg(101), ['mail-2025-11-02']);
    assert.equal(judgement.targets.find((target) => target.name === 'borg')!.unattributed, 1);
  });

  it('restic snapshots of one host name shared by two guests count for neither', () => {
    const judgement = judge(
      input((reads) => {
        const offsite = reads.find((read) => read.target.name === 'offsite')!;
        offsite.listing.copies.push({ key: { name: 'twin' }, time: NOW, location: 'abc' });
        return {
          cluster: {
            guests: [
              ...cluster().guests,
              ...[300, 301].map((vmid) => ({ vmid, name: 'twin', type: 'qemu' as const, tags: [] })),
            ],
            notBackedUp: [],
          },
        };
      }),
    );
    assert.deepEqual(
      judgement.targets
        .find((target) => target.name === 'offsite')!
        .findings.map((f) => [f.code, f.message.en.slice(0, 40)]),
      [['ambiguous', 'twin on offsite could be the copy of 2 g']],
    );
  });

  it('restore tests, when known: never tested, failed, too old, too slow', () => {
    const judgement = judge(
      input(() => ({
        restoreTests: [
          { guest: '101', time: NOW - 2 * DAY, ok: false },
          { guest: '102', time: NOW - 40 * DAY, ok: true, durationMs: 600_000 },
          { guest: '103', time: NOW - DAY, ok: true, durationMs: 600_000 },
        ],
      })),
    );
    assert.deepEqual(codes(judgement, 100), [['warning', 'never-restore-tested']]);
    assert.deepEqual(codes(judgement, 101), [['critical', 'restore-test-failed']]);
    assert.deepEqual(codes(judgement, 102), [['warning', 'restore-test-old']]);
    assert.equal(row(judgement, 103).state, 'ok');
    assert.equal(row(judgement, 103).restoreTest?.durationMs, 600_000);
  });

  it("restore tests: each target's last test counts; a later good one from another target excuses nothing", () => {
    const judgement = judge(
      input(() => ({
        restoreTests: [
          { guest: '101', target: 'dump', time: NOW - 2 * HOUR, ok: false },
          { guest: '101', target: 'offsite', time: NOW - HOUR, ok: true },
          { guest: '102', target: 'dump', time: NOW - 2 * HOUR, ok: false },
          { guest: '102', target: 'dump', time: NOW - HOUR, ok: true },
        ],
      })),
    );
    assert.deepEqual(codes(judgement, 101), [['critical', 'restore-test-failed']]);
    assert.match(row(judgement, 101).findings[0]!.message.en, /^the last restore test from dump \(2h ago\) failed/);
    assert.equal(row(judgement, 101).restoreTest?.ok, false);
    assert.equal(row(judgement, 102).state, 'ok', 'fixed since: the newest test of dump passed');
  });

  it('when the cluster cannot be listed: unknown, and the hosts outside it are still judged', () => {
    const judgement = judge(input(() => ({ cluster: { error: 'no host with role pve answered' } })));
    assert.deepEqual(
      judgement.rows.map((r) => r.key),
      ['host:www-legacy'],
    );
    assert.deepEqual(
      judgement.findings.map((f) => [f.state, f.code]),
      [['unknown', 'cluster-unknown']],
    );
    assert.equal(judgement.state, 'unknown');
  });

  it('ranks critical over unknown over warning over ok', () => {
    assert.equal(worst(['ok', 'warning', 'unknown']), 'unknown');
    assert.equal(worst(['unknown', 'critical', 'warning']), 'critical');
    assert.equal(worst([]), 'ok');
    assert.deepEqual([age(59_000), age(90 * 60_000), age(47 * HOUR), age(3 * DAY + HOUR)], ['0m', '1h', '47h', '3d']);
  });
});
