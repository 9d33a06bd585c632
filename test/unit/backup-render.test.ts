// The renderers of the judgement, golden: the table and its reasons in 80 columns (English and
// French), the JSON fields in chaton's envelope, the Nagios plugin output and its exit code, the
// Prometheus textfile; the metrics are all named in the README.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { judge, type Judgement } from '../../src/lib/backup/judge.js';
import {
  exitCodeOf,
  guestTable,
  METRICS,
  nagiosReport,
  prometheusText,
  reportFields,
  reportView,
} from '../../src/lib/backup/render.js';
import { ExitCode } from '../../src/lib/run/errors.js';
import { jsonRenderer, rendererFor } from '../../src/lib/run/report.js';
import { cluster, DAY, HOUR, input, NOW, withoutIntegrity } from './backup-scenario.js';
import { inFrench } from './in-french.js';

/** A site with one of each: a damaged archive, a guest in no job, a target down, a leftover. */
function troubled(): Judgement {
  return judge(
    input((reads) => {
      const dump = reads.find((read) => read.target.name === 'dump')!;
      const newest = (vmid: number) =>
        dump.listing.copies.find((copy) => 'vmid' in copy.key && copy.key.vmid === vmid)!;
      dump.archives = new Map([
        ...dump.archives!,
        [newest(102).location, { kind: 'failed', detail: 'Read error (39) : premature end' }],
      ]);
      dump.listing.leftovers = [
        { location: '/srv/backup/dump/vzdump-qemu-103-2025_11_02-03_00_00.vma.dat', vmid: 103, time: NOW - 9 * HOUR },
      ];
      const offsite = reads.find((read) => read.target.name === 'offsite')!;
      offsite.listing = {
        outcome: { kind: 'unreachable', detail: 'connect ETIMEDOUT 10.0.0.30:22' },
        copies: [],
        leftovers: [],
      };
      delete offsite.check;
      for (const read of reads) {
        read.listing.copies = read.listing.copies.filter(
          (copy) => !('vmid' in copy.key && copy.key.vmid === 104) || copy.time > NOW - DAY,
        );
      }
      return { cluster: { ...cluster(), notBackedUp: [101, 105, 9000] } };
    }),
  );
}

/** Every guest ok, nothing else to say. */
function healthy(): Judgement {
  return judge(
    input((_, section) => ({
      backups: { ...section, overrides: section.overrides.filter((override) => override.guests[0]?.text !== 'old-vm') },
    })),
  );
}

function text(judgement: Judgement): string {
  const report = {
    command: 'backup verify',
    exitCode: exitCodeOf(judgement.state),
    hosts: [],
    view: reportView(judgement, 80),
  };
  return rendererFor({ json: false, quiet: false }, 80).render(report)!;
}

const TROUBLED_TEXT = `GUEST       STATE     FRESH  NEWEST  KEPT   INTEGRITY  RESTORED
102 db      CRITICAL  3/2    2h      4, 3d  critical   -
www-legacy  UNKNOWN   0/1?   -       -      -          -
101 mail    WARNING   3/2    2h      4, 3d  ok         -
103 dev     WARNING   3/1    2h      4, 3d  ok         -
100 web     OK        2/2    2h      4, 3d  ok         -
104 dns     OK        3/2    2h      3, 2d  ok         -

102 db
  CRITICAL: the newest archive on dump is damaged
      (vzdump-qemu-102-2025_11_02-09_00_00.vma.zst: Read error (39) : premature
      end): make a new backup now, then find the cause
www-legacy
  UNKNOWN: not enough fresh copies proven: offsite could not be read (see below)
101 mail
  WARNING: in no backup job of the cluster: add it to one, or exclude it in the
      inventory with the reason
103 dev
  WARNING: vzdump-qemu-103-2025_11_02-03_00_00.vma.dat on dump (9h old) is left
      by a dump running or interrupted: if none runs, read the job's log, then
      remove it
target offsite (restic on backup)
  UNKNOWN: backup could not be reached to read offsite (connect ETIMEDOUT
      10.0.0.30:22): is it up, and reachable through the bastion?
inventory and cluster
  WARNING: the override old-vm at /etc/chaton/chaton.yaml:13:16 selects no guest
      of the cluster: fix it or remove it

105 scratch: excluded (scratch VM, rebuilt from its template when needed)

CRITICAL: 6 guests: 1 critical, 1 unknown, 2 warning, 2 ok; 1 target with
  problems; 1 problem of the inventory or the cluster; 1 excluded`;

describe('the report for a person', () => {
  it('is a table worst first, why each guest is not ok and what to do, the exclusions, the verdict', () => {
    assert.equal(text(troubled()), TROUBLED_TEXT);
  });

  it('fits 80 columns', () => {
    for (const line of text(troubled()).split('\n')) assert.ok(line.length <= 80, line);
  });

  it('is only the table and the verdict when all is well', () => {
    assert.equal(
      text(healthy()).split('\n\n').pop(),
      'OK: all 6 guests could be restored: fresh, intact copies on enough targets',
    );
    assert.equal(guestTable(healthy()).rows.length, 6);
  });

  it('--no-integrity: "not checked" in the INTEGRITY column and in JSON, never ok', () => {
    const judgement = judge(input((reads) => withoutIntegrity(reads)));
    const shown = text(judgement);
    assert.match(shown, /^100 web +OK +\d\/2 +\S+ +\S+, \S+ +not checked +-$/m);
    assert.ok(shown.split('\n').every((line) => line.length <= 80));
    const fields = reportFields(judgement) as {
      integrityChecked: boolean;
      guests: { key: string; integrity: string; targets: { target: string; integrity: { state: string } | null }[] }[];
    };
    assert.equal(fields.integrityChecked, false);
    const web = fields.guests.find((g) => g.key === '100')!;
    assert.equal(web.integrity, 'not-checked');
    assert.deepEqual(
      web.targets.map((t) => [t.target, t.integrity?.state ?? null]),
      [
        ['dump', 'not-checked'],
        ['pbs', 'ok'],
        ['offsite', 'not-checked'],
        ['borg', null],
      ],
    );
  });

  it('speaks French under a French locale', () => {
    const french = inFrench(() => text(troubled()));
    assert.match(french, /^INVITÉ {6}ÉTAT {6}RÉCENT {2}DERNIÈRE {2}GARDÉ {2}INTÉGRITÉ {2}RESTAURÉ$/m);
    assert.match(french, /^ {2}ALERTE : dans aucune tâche de sauvegarde du cluster : ajoutez-le à l'une$/m);
    assert.match(french, /^105 scratch : exclu \(scratch VM, rebuilt from its template when needed\)$/m);
    assert.match(french, /^CRITIQUE : 6 invités : 1 critique, 1 inconnu, 2 en alerte, 2 ok ; 1 cible à$/m);
  });
});

describe('the JSON report', () => {
  it("gives each copy's location and each check's result, in English whatever the language", () => {
    const judgement = troubled();
    const envelope = JSON.parse(
      inFrench(() =>
        jsonRenderer.render({
          command: 'backup verify',
          exitCode: exitCodeOf(judgement.state),
          hosts: [],
          fields: reportFields(judgement),
        })!,
      ),
    );
    assert.deepEqual(
      [envelope.chaton, envelope.command, envelope.exitCode, envelope.state],
      [1, 'backup verify', 1, 'critical'],
    );
    assert.equal(envelope.verdict, judgement.verdict.en);
    const db = envelope.guests[0];
    assert.deepEqual(
      [db.key, db.vmid, db.name, db.state, db.inBackupJob, db.integrity, db.policy.maxAgeSeconds],
      ['102', 102, 'db', 'critical', true, 'critical', 93_600],
    );
    assert.deepEqual(db.findings, [
      {
        state: 'critical',
        code: 'archive-damaged',
        target: 'dump',
        message:
          'the newest archive on dump is damaged (vzdump-qemu-102-2025_11_02-09_00_00.vma.zst: Read error (39) : ' +
          'premature end): make a new backup now, then find the cause',
      },
    ]);
    const onDump = db.targets.find((placed: { target: string }) => placed.target === 'dump');
    assert.deepEqual(onDump.copies[0], {
      time: '2025-11-02T09:00:00.000Z',
      location: '/srv/backup/dump/vzdump-qemu-102-2025_11_02-09_00_00.vma.zst',
      size: 40_000,
    });
    assert.deepEqual(onDump.integrity, {
      state: 'critical',
      passed: false,
      result: 'failed',
      detail: 'Read error (39) : premature end',
      location: '/srv/backup/dump/vzdump-qemu-102-2025_11_02-09_00_00.vma.zst',
    });
    const onPbs = db.targets.find((placed: { target: string }) => placed.target === 'pbs');
    assert.deepEqual(onPbs.copies[0].verification, { state: 'ok', time: '2025-11-02T11:00:00.000Z' });
    const offsite = envelope.targets.find((target: { name: string }) => target.name === 'offsite');
    assert.deepEqual(
      [offsite.state, offsite.read, offsite.detail, offsite.check, offsite.findings[0].code],
      ['unknown', 'unreachable', 'connect ETIMEDOUT 10.0.0.30:22', null, 'unreachable'],
    );
    const borg = envelope.targets.find((target: { name: string }) => target.name === 'borg');
    assert.deepEqual(borg.check, { result: 'ok', detail: null, problems: [], durationMs: null });
    assert.deepEqual(envelope.excluded, [
      {
        key: '105',
        vmid: 105,
        name: 'scratch',
        reason: 'scratch VM, rebuilt from its template when needed',
        source: '/etc/chaton/chaton.yaml:11:7',
      },
    ]);
    assert.equal(envelope.targets[0].leftovers[0].vmid, 103);
  });
});

describe('the Nagios plugin output', () => {
  it('is one status line with perfdata, then a line per problem; exit 2 when critical', () => {
    const { text: output, exitCode } = nagiosReport(troubled());
    assert.equal(exitCode, 2);
    const [first, ...rest] = output.split('\n');
    assert.equal(
      first,
      'BACKUP CRITICAL - 6 guests: 1 critical, 1 unknown, 2 warning, 2 ok; 1 target with problems; ' +
        '1 problem of the inventory or the cluster; 1 excluded; ' +
        '102 db critical, www-legacy unknown, 101 mail warning, 103 dev warning; target offsite unknown | ' +
        'guests=6;;;0; ok=2;;;0; warning=2;;;0; critical=1;;;0; unknown=1;;;0; excluded=1;;;0; ' +
        'not_in_job=1;;;0; without_copy=1;;;0; ' +
        "'age 102 db'=7200s;;93600;0; 'age www-legacy'=U;;93600;0; 'age 101 mail'=7200s;;93600;0; " +
        "'age 103 dev'=7200s;;691200;0; 'age 100 web'=7200s;;93600;0; 'age 104 dns'=7200s;;93600;0;",
    );
    assert.deepEqual(rest, [
      '102 db: CRITICAL: the newest archive on dump is damaged (vzdump-qemu-102-2025_11_02-09_00_00.vma.zst: ' +
        'Read error (39) : premature end): make a new backup now, then find the cause',
      'www-legacy: UNKNOWN: not enough fresh copies proven: offsite could not be read (see below)',
      '101 mail: WARNING: in no backup job of the cluster: add it to one, or exclude it in the inventory with the reason',
      '103 dev: WARNING: vzdump-qemu-103-2025_11_02-03_00_00.vma.dat on dump (9h old) is left by a dump running or ' +
        "interrupted: if none runs, read the job's log, then remove it",
      'target offsite: UNKNOWN: backup could not be reached to read offsite (connect ETIMEDOUT 10.0.0.30:22): ' +
        'is it up, and reachable through the bastion?',
      'WARNING: the override old-vm at /etc/chaton/chaton.yaml:13:16 selects no guest of the cluster: fix it or remove it',
    ]);
  });

  it('is English under a French locale, OK with exit 0 when all is well, 3 when unknown', () => {
    const { text: output, exitCode } = inFrench(() => nagiosReport(healthy()));
    assert.match(
      output,
      /^BACKUP OK - all 6 guests could be restored: fresh, intact copies on enough targets \| guests=6;/,
    );
    assert.equal(exitCode, 0);
    const unknown = judge(input(() => ({ cluster: { error: 'no host with role pve answered' } })));
    assert.equal(nagiosReport(unknown).exitCode, 3);
  });

  it('names five guests at most in the status line, and never lets a | through', () => {
    const judgement = troubled();
    judgement.rows = Array.from({ length: 8 }, () => judgement.rows[0]!);
    judgement.verdict = { en: 'a | b', text: 'a | b' };
    const [first] = nagiosReport(judgement).text.split('\n');
    assert.match(
      first!,
      /^BACKUP CRITICAL - a \/ b; (102 db critical, ){4}102 db critical, 3 more; target offsite unknown \| /,
    );
  });
});

describe('the exit code of a run read by a person or a program', () => {
  it('is 0 when ok or warned, 4 when something could not be proven, 1 when critical', () => {
    assert.deepEqual((['ok', 'warning', 'unknown', 'critical'] as const).map(exitCodeOf), [
      ExitCode.ok,
      ExitCode.ok,
      ExitCode.partial,
      ExitCode.failed,
    ]);
  });
});

describe('the Prometheus textfile', () => {
  it('writes each metric once with its help and type, a sample per guest and target', () => {
    const output = prometheusText(troubled(), { durationMs: 1234, success: true, endedAt: NOW + 2000 });
    assert.ok(output.endsWith('\n'));
    const lines = output.trimEnd().split('\n');
    for (const line of lines)
      assert.match(line, /^(# (HELP|TYPE) chaton_backup_\w+ .+|chaton_backup_\w+(\{[^}]*\})? -?[\d.]+)$/);
    for (const metric of Object.keys(METRICS)) {
      assert.equal(
        lines.filter((line) => line.startsWith(`# TYPE ${metric} gauge`)).length,
        metric.includes('restore') ? 0 : 1,
        metric,
      );
    }
    const samples = lines.filter((line) => !line.startsWith('#'));
    for (const wanted of [
      'chaton_backup_last_timestamp_seconds{guest="db",vmid="102",target="dump"} 1762074000',
      'chaton_backup_copies{guest="dns",vmid="104",target="dump"} 1',
      'chaton_backup_integrity_ok{guest="db",vmid="102",target="dump"} 0',
      'chaton_backup_integrity_ok{guest="db",vmid="102",target="pbs"} 1',
      'chaton_backup_verified_timestamp_seconds{guest="web",vmid="100",target="pbs"} 1762081200',
      'chaton_backup_guest_status{guest="www-legacy"} 3',
      'chaton_backup_guest_status{guest="db",vmid="102"} 2',
      'chaton_backup_guests{state="critical"} 1',
      'chaton_backup_guests_excluded 1',
      'chaton_backup_guests_without_backup 1',
      'chaton_backup_guests_not_in_job 1',
      'chaton_backup_target_up{target="offsite",type="restic",host="backup"} 0',
      'chaton_backup_verify_duration_seconds 1.234',
      'chaton_backup_verify_success 1',
      'chaton_backup_verify_timestamp_seconds 1762084802',
    ]) {
      assert.ok(samples.includes(wanted), wanted);
    }
    assert.ok(
      !samples.some((line) => line.includes('target="offsite"') && !line.startsWith('chaton_backup_target_up')),
    );
  });

  it('writes the last good restore test of each guest when known', () => {
    const judgement = judge(input(() => ({ restoreTests: [{ guest: '100', time: NOW - DAY, ok: true }] })));
    const output = prometheusText(judgement, { durationMs: 1, success: true, endedAt: NOW });
    assert.match(output, /^chaton_backup_last_restore_test_timestamp_seconds\{guest="web",vmid="100"\} 1761998400$/m);
  });

  it('writes only the run itself when it failed before its judgement', () => {
    assert.equal(
      prometheusText(undefined, { durationMs: 300, success: false, endedAt: NOW }),
      '# HELP chaton_backup_verify_duration_seconds How long this run of chaton backup verify took.\n' +
        '# TYPE chaton_backup_verify_duration_seconds gauge\n' +
        'chaton_backup_verify_duration_seconds 0.3\n' +
        '# HELP chaton_backup_verify_success Whether this run of chaton backup verify reached its judgement (1), ' +
        'whatever it found.\n' +
        '# TYPE chaton_backup_verify_success gauge\n' +
        'chaton_backup_verify_success 0\n' +
        '# HELP chaton_backup_verify_timestamp_seconds When this run of chaton backup verify ended.\n' +
        '# TYPE chaton_backup_verify_timestamp_seconds gauge\n' +
        'chaton_backup_verify_timestamp_seconds 1762084800\n',
    );
  });

  it('names every metric in the README', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    for (const metric of Object.keys(METRICS))
      assert.ok(readme.includes(`\`${metric}\``), `${metric} is not in the README`);
  });
});
