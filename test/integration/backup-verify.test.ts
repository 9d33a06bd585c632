// `chaton backup verify` on the lab's backup site (real restic, borg, zstd, gzip, lzop; stand-ins
// for pvesh and proxmox-backup-client): a healthy site is OK, and each fault a site really has is
// caught with the right state and a line that names the guest and what to do. Needs root.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  backupShell,
  backupSite,
  CHECK_USER,
  corruptResticPack,
  damageBorgSegment,
  flipArchiveByte,
  leftoverDump,
  lockRepository,
  makeStale,
  makeTargetUnreadable,
  removeCopies,
  resetBackupSite,
  truncateArchive,
  wrongResticPassword,
  type BackupSite,
} from '../lab/backups.js';
import type { Lab } from '../lab/lab.js';
import { PBS_STORAGE } from '../lab/lab-files.js';
import { pbsSetVerifyState } from '../lab/proxmox.js';
import { chaton, freshLab, sandboxEnv, variantInventory, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
let site: BackupSite;

before(async () => {
  lab = await freshLab('it-backup-verify', 0);
  env = await sandboxEnv();
  site = await backupSite(lab);
});
after(async () => {
  await lab?.down();
});

function verify(args: string[] = [], options: { inventory?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return chaton(['-i', options.inventory ?? lab.inventoryPath, 'backup', 'verify', ...args], {
    env: options.env ?? env,
  });
}

interface Report {
  exitCode: number;
  state: string;
  verdict: string;
  integrityChecked: boolean;
  guests: {
    key: string;
    name: string;
    state: string;
    integrity: string | null;
    findings: { state: string; code: string; message: string }[];
  }[];
  targets: { name: string; state: string; read: string; findings: { code: string; message: string }[] }[];
  excluded: { key: string; reason: string }[];
  checks: { target: string; command: string }[];
}

async function verifyJson(options: { inventory?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Report> {
  const run = await verify([], options);
  const json = await chaton(['-i', options.inventory ?? lab.inventoryPath, '--json', 'backup', 'verify'], {
    env: options.env ?? env,
  });
  assert.equal(run.code, (JSON.parse(json.stdout) as Report).exitCode, 'the same run with or without --json');
  return JSON.parse(json.stdout) as Report;
}

function guest(report: Report, key: string) {
  const found = report.guests.find((g) => g.key === key);
  assert.ok(found, `no guest ${key} in the report`);
  return found;
}

/** The report's text with each wrapped line joined to the line it continues (indented deeper). */
function joined(stdout: string): string {
  return stdout.replace(/\n {4,}/g, ' ');
}

/** The reasons under a guest's (or target's) heading below the table, one per line. */
function reasonOf(stdout: string, heading: string): string {
  const lines = joined(stdout).split('\n');
  const start = lines.findIndex((line) => line === heading);
  assert.ok(start >= 0, `no "${heading}" in:\n${stdout}`);
  const reasons: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    reasons.push(line.trim());
  }
  return reasons.join('\n');
}

interface Restored {
  guest: string;
  target: string;
  ok: boolean;
  problem: string | null;
  recorded: boolean;
  cleanedUp: boolean;
  restoreMs: number | null;
}

/** After restore tests: an empty scratch directory, no guest in the reserved VMIDs, no disk. */
async function assertNothingLeft(): Promise<void> {
  const scratch = await lab.run('backup', ['sh', '-c', 'ls -A /var/tmp/chaton-restore 2>/dev/null || true']);
  assert.equal(scratch.stdout, '', 'the scratch directory is left empty');
  const listed = await lab.run('pve1', [
    'pvesh',
    'get',
    '/cluster/resources',
    '--type',
    'vm',
    '--output-format',
    'json',
  ]);
  const spare = (JSON.parse(listed.stdout) as { vmid: number }[]).filter((vm) => vm.vmid >= 9900 && vm.vmid <= 9909);
  assert.deepEqual(spare, [], 'no restored guest left in the reserved VMIDs');
  const disks = await lab.run('pve1', ['sh', '-c', 'ls -d /var/lib/vz/images/99* 2>/dev/null || true']);
  assert.equal(disks.stdout, '', 'no disk left');
}

async function clearRestoreRecords(): Promise<void> {
  await lab.run('backup', ['rm', '-f', '/var/lib/chaton/restore-tests.jsonl']);
}

describe('backup verify on the lab site', () => {
  afterEach(async () => {
    await resetBackupSite(lab);
  });

  it('a healthy site is OK: the table, the verdict, JSON and the Nagios line (exit 0)', async () => {
    const run = await verify();
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /^GUEST +STATE +FRESH +NEWEST +KEPT +INTEGRITY +RESTORED$/m);
    for (const row of ['100 web', '101 mail', '102 db', '103 dev', '104 dns', 'www-legacy']) {
      assert.match(run.stdout, new RegExp(`^${row} +OK +\\d/\\d +[23]h +8, 7d +ok +-$`, 'm'), row);
    }
    assert.ok(run.stdout.split('\n').every((line) => line.length <= 80));
    // The exclusion and its reason; 9000, a template, is no guest at all.
    assert.match(run.stdout, /^105 scratch: excluded \(scratch VM, rebuilt from its template when needed\)$/m);
    assert.doesNotMatch(run.stdout, /9000/);
    assert.match(run.stdout, /^OK: all 6 guests could be restored/m);

    const report = await verifyJson();
    assert.equal(report.state, 'ok');
    assert.deepEqual(
      report.guests.map((g) => [g.key, g.state]),
      ['100', '101', '102', '103', '104', 'host:www-legacy'].map((key) => [key, 'ok']),
    );
    assert.deepEqual(
      report.excluded.map((e) => e.key),
      ['105'],
    );
    assert.deepEqual(
      report.targets.map((t) => [t.name, t.read, t.state]),
      ['dump', 'pbs', 'offsite', 'borg'].map((name) => [name, 'ok', 'ok']),
    );

    const nagios = await verify(['--format', 'nagios']);
    assert.equal(nagios.code, 0);
    assert.match(nagios.stdout, /^BACKUP OK - all 6 guests could be restored.* \| guests=6;;;0; ok=6;;;0; /);
    assert.match(nagios.stdout, /'age 100 web'=\d+s;;93600;0;/);
    assert.equal(nagios.stdout.trim().split('\n').length, 1);

    // From cron: nothing at all when every guest is OK.
    const quiet = await chaton(['-q', '-i', lab.inventoryPath, 'backup', 'verify'], { env });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stdout + quiet.stderr, '');
  });

  it('-v shows each check with its command and duration', async () => {
    const run = await verify(['-v']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /^backup \| offsite: restic --repo \/srv\/backup\/restic .* check '--read-data-subset=20%' \(\d+ ms, exit 0\)$/m,
    );
    assert.match(run.stderr, /^backup \| borg: .*borg --log-json check -- \/srv\/backup\/borg \(\d+ ms, exit 0\)$/m);
    assert.match(run.stderr, /^backup \| dump: sh -c 'for file do case \$file in \*\.zst\) said=\$\(zstd -t/m);
  });

  it('a stale backup is critical, naming the guest and what to do (exit 1)', async () => {
    await makeStale(lab, 'dev', { now: site.now });
    const run = await verify();
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /^103 dev +CRITICAL +0\/2 +3d /m);
    assert.match(
      reasonOf(run.stdout, '103 dev'),
      /^CRITICAL: newest copy is 3d old, more than 26h: look at its backup job and the log of its last run$/m,
    );
  });

  it('a guest with no copy at all is critical', async () => {
    await removeCopies(lab, 'dns');
    const run = await verify();
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^104 dns +CRITICAL +0\/2 +- +- +- +-$/m);
    assert.match(reasonOf(run.stdout, '104 dns'), /^CRITICAL: no copy on any target: add it to a backup job/m);
  });

  it('a guest in no backup job is named, unless excluded with its reason', async () => {
    const inventory = await variantInventory(lab.inventoryPath, (doc) => doc.deleteIn(['backups', 'overrides', 1]));
    const run = await verify([], { inventory });
    assert.equal(run.code, 1);
    const reasons = reasonOf(run.stdout, '105 scratch');
    assert.match(reasons, /CRITICAL: no copy on any target/);
    assert.match(reasons, /WARNING: in no backup job of the cluster: add it to one, or exclude it/);
    assert.doesNotMatch(run.stdout, /9000/, 'the template is no guest');
  });

  it('a truncated archive and a flipped byte are caught by the compressors themselves', async () => {
    const truncated = await truncateArchive(lab, 100);
    const flipped = await flipArchiveByte(lab, 101);
    const report = await verifyJson();
    assert.equal(report.exitCode, 1);
    for (const [key, file] of [
      ['100', truncated.path],
      ['101', flipped.path],
    ] as const) {
      const damaged = guest(report, key).findings.find((f) => f.code === 'archive-damaged');
      assert.ok(damaged, key);
      assert.equal(damaged.state, 'critical');
      assert.ok(damaged.message.includes(path.basename(file)), damaged.message);
      assert.match(damaged.message, /make a new backup now, then find the cause$/);
    }
    assert.equal(guest(report, '102').state, 'ok');
  });

  it('--no-integrity reads the listings only: a flipped byte is "not checked", caught without the flag', async () => {
    const flipped = await flipArchiveByte(lab, 100);
    const quick = await verify(['--no-integrity', '-v']);
    assert.equal(quick.code, 0, quick.stderr + quick.stdout);
    assert.match(quick.stdout, /^100 web +OK +\d\/2 +[23]h +8, 7d +not checked +-$/m);
    assert.match(quick.stdout.replace(/\n +/g, ' '), /^OK: .*their integrity was not checked \(--no-integrity\)$/m);
    assert.doesNotMatch(quick.stderr, /zstd -t|restic .* check|borg .* check/, 'no check ran');
    const report = JSON.parse(
      (await chaton(['-i', lab.inventoryPath, '--json', 'backup', 'verify', '--no-integrity'], { env })).stdout,
    ) as Report;
    assert.equal(report.integrityChecked, false);
    assert.equal(report.guests.find((g) => g.key === '100')!.integrity, 'not-checked');
    const nagios = await verify(['--no-integrity', '--format', 'nagios']);
    assert.equal(nagios.code, 0);
    assert.match(nagios.stdout, /^BACKUP OK - .*integrity was not checked/);

    const full = await verifyJson();
    assert.equal(full.exitCode, 1);
    const damaged = guest(full, '100').findings.find((f) => f.code === 'archive-damaged');
    assert.ok(damaged?.message.includes(path.basename(flipped.path)), JSON.stringify(guest(full, '100')));
  });

  it('a corrupted restic pack, a damaged borg segment: the repository checks find them', async () => {
    await corruptResticPack(lab, { type: 'tree' });
    await damageBorgSegment(lab);
    const run = await verify();
    assert.equal(run.code, 1);
    assert.match(
      reasonOf(run.stdout, '100 web'),
      /CRITICAL: restic check of offsite found damage .*: repair the repository/,
    );
    assert.match(reasonOf(run.stdout, '101 mail'), /CRITICAL: borg check of borg found damage/);
    assert.match(run.stdout, /^www-legacy +CRITICAL /m);
  });

  it('a wrong restic password file is critical for the target', async () => {
    await wrongResticPassword(lab);
    const report = await verifyJson();
    assert.equal(report.exitCode, 1);
    const offsite = report.targets.find((t) => t.name === 'offsite')!;
    assert.deepEqual([offsite.read, offsite.state], ['wrong-password', 'critical']);
    // Its only copies are there: nothing proves it restorable, and the target says why.
    assert.equal(guest(report, 'host:www-legacy').state, 'unknown');
    assert.match(offsite.findings[0]!.message, /offsite/);
  });

  it('a leftover .dat is a warning: exit 0, and printed under -q (cron mails it)', async () => {
    const left = await leftoverDump(lab, 102);
    const run = await chaton(['-q', '-i', lab.inventoryPath, 'backup', 'verify'], { env });
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^102 db +WARNING /m);
    assert.ok(joined(run.stdout).includes(path.basename(left.dat)), run.stdout);
    assert.match(run.stdout, /^WARNING: /m);
  });

  it('a repository locked by a running backup is busy: retried, then a warning; the lock stays', async () => {
    const lock = await lockRepository(lab, 'restic');
    try {
      const started = Date.now();
      const report = await verifyJson();
      assert.ok(Date.now() - started >= 2 * 6000, 'retried for the bound, in both runs');
      assert.equal(report.exitCode, 0);
      const web = guest(report, '100');
      assert.equal(web.state, 'warning');
      assert.ok(web.findings.some((f) => f.code === 'check-busy'));
      const locks = await backupShell(lab, 'ls /srv/backup/restic/locks');
      assert.notEqual(locks.stdout.trim(), '', 'chaton never unlocks');
    } finally {
      await lock.release();
    }
  });

  it('a PBS snapshot never verified is a warning', async () => {
    const newest = site.copies.filter((c) => c.target === 'pbs' && c.guest === 'mail').at(-1)!;
    await pbsSetVerifyState(lab, { type: 'vm', id: '101', time: Math.floor(newest.time.getTime() / 1000) }, 'none');
    const run = await verify();
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^101 mail +WARNING /m);
    assert.match(
      reasonOf(run.stdout, '101 mail'),
      /WARNING: the newest snapshot on pbs was never verified .*: schedule a verify job/,
    );
  });

  it('an unreadable target directory is unknown (exit 4)', async () => {
    await makeTargetUnreadable(lab, 'vzdump');
    const inventory = await variantInventory(lab.inventoryPath, (doc) =>
      doc.setIn(['hosts', 'backup', 'user'], CHECK_USER),
    );
    const report = await verifyJson({ inventory });
    const dump = report.targets.find((t) => t.name === 'dump')!;
    assert.equal(dump.state, 'unknown');
    assert.match(dump.findings[0]!.message, /^dump could not be read \(chaton: cannot read \/srv\/backup\/dump\)/);
    assert.equal(report.exitCode, 4);
  });

  it('--restore-test restores the newest copies, records them, and a plain run then reports the test', async () => {
    const args = ['-i', lab.inventoryPath, '--json', 'backup', 'verify', '--restore-test', 'mail,dns'];
    const run = await chaton(args, { env });
    assert.equal(run.code, 0, run.stderr);
    const tests = (JSON.parse(run.stdout) as { restoreTests: Restored[] }).restoreTests;
    // dump: qmrestore (pct restore for the container dns) on pve1 from the NFS storage the nodes
    // mount; pbs: from the cluster's pbs storage; offsite and borg: files restored into the
    // scratch directory on backup.
    assert.deepEqual(
      tests.map((test) => `${test.guest} ${test.target}`),
      ['101 dump', '101 pbs', '101 offsite', '101 borg', '104 dump', '104 pbs'],
    );
    for (const test of tests) {
      assert.ok(test.ok && test.recorded && test.cleanedUp && test.restoreMs !== null, JSON.stringify(test));
    }
    await assertNothingLeft();

    const plain = await verifyJson();
    const mail = guest(plain, '101') as unknown as { restoreTest: { ok: boolean; durationSeconds: number } | null };
    assert.equal(mail.restoreTest?.ok, true);
    assert.equal(typeof mail.restoreTest?.durationSeconds, 'number');
    assert.equal((guest(plain, '100') as unknown as { restoreTest: unknown }).restoreTest, null);
    const text = await verify(['--restore-test', 'nosuch']);
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stderr, /--restore-test names no guest with a copy: nosuch/);
    await clearRestoreRecords();
  });

  it('a restore test that fails is critical, naming the guest, the target and what to do (exit 1)', async () => {
    // The PBS password rotated on the server, not in the cluster's storage: listings still work
    // (backup verify reads PBS on its own host), restores do not.
    const passwordFile = `/etc/pve/priv/storage/${PBS_STORAGE}.pw`;
    const kept = (await lab.run('pve1', ['cat', passwordFile])).stdout;
    await lab.run('pve1', ['sh', '-c', 'echo rotated-on-the-server-only > "$1"', 'sh', passwordFile]);
    try {
      const run = await verify(['--no-integrity', '--restore-test', 'web']);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^restore test of web from pbs: FAILED: .*permission check failed/m);
      assert.match(run.stdout, /^100 web +CRITICAL /m);
      assert.match(run.stdout, /^100 web\n {2}CRITICAL: the last restore test from pbs \(\S+ ago\) failed: find why/m);
      await assertNothingLeft();
    } finally {
      await clearRestoreRecords();
      await lab.run('pve1', ['sh', '-c', 'printf %s "$2" > "$1"', 'sh', passwordFile, kept]);
    }
  });

  it('Ctrl-C during a restore test: the scratch directory removed, the VMID freed, nothing recorded', async () => {
    // web's first copy is restored by qmrestore on pve1; www-legacy's only one by restic on backup.
    for (const [name, host, pattern] of [
      ['web', 'pve1', 'qmrestore'],
      ['www-legacy', 'backup', 'restic .*restore'],
    ] as const) {
      const run = await chaton(['-i', lab.inventoryPath, 'backup', 'verify', '--restore-test', name], {
        env,
        onSpawn: (child) => {
          // As a person would press it: once the restore runs on the host.
          void (async () => {
            while (child.exitCode === null) {
              if ((await lab.run(host, ['pgrep', '-f', pattern])).exitCode === 0) {
                child.kill('SIGINT');
                return;
              }
            }
          })();
        },
      });
      assert.equal(run.code, 130, run.stderr);
      const records = await lab.run('backup', ['test', '-e', '/var/lib/chaton/restore-tests.jsonl']);
      assert.equal(records.exitCode, 1, 'an interrupted test proves nothing: not recorded');
      await assertNothingLeft();
    }
  });

  it('in French, the JSON is the English one but for its sentences', async () => {
    const strip = (report: Report): unknown =>
      JSON.parse(JSON.stringify(report), (key, value: unknown) =>
        ['message', 'verdict', 'time', 'ageSeconds', 'durationMs', 'checks', 'spanSeconds'].includes(key)
          ? undefined
          : value,
      );
    const english = await verifyJson();
    const french = await verifyJson({ env: { ...env, LANG: 'fr_FR.UTF-8' } });
    assert.deepEqual(strip(french), strip(english));
    const table = await verify([], { env: { ...env, LANG: 'fr_FR.UTF-8' } });
    assert.match(table.stdout, /^INVITÉ /m);
  });
});

describe('backup verify when hosts are down, and its outputs for the monitoring', () => {
  it('the backup host down is unknown (exit 4, Nagios UNKNOWN), or critical as configured', async () => {
    await lab.stopSshd('backup');
    try {
      const run = await verify();
      assert.equal(run.code, 4, run.stdout + run.stderr);
      assert.match(joined(run.stdout), /backup could not be reached to read dump/);
      const nagios = await verify(['--format', 'nagios']);
      assert.equal(nagios.code, 3);
      assert.match(nagios.stdout, /^BACKUP UNKNOWN - /);
      const critical = await variantInventory(lab.inventoryPath, (doc) =>
        doc.setIn(['backups', 'unreachable'], 'critical'),
      );
      const strict = await verify(['--format', 'nagios'], { inventory: critical });
      assert.equal(strict.code, 2);
      assert.match(strict.stdout, /^BACKUP CRITICAL - /);
    } finally {
      await lab.startSshd('backup');
    }
  });

  it('--prom-file: the textfile replaced whole; a run that fails says so (success 0)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-prom-'));
    const file = path.join(dir, 'chaton_backup.prom');
    const run = await verify(['--prom-file', file]);
    assert.equal(run.code, 0, run.stderr);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^# TYPE chaton_backup_last_timestamp_seconds gauge$/m);
    assert.match(text, /^chaton_backup_last_timestamp_seconds\{guest="web",vmid="100",target="dump"\} \d{10}$/m);
    assert.match(text, /^chaton_backup_integrity_ok\{guest="mail",vmid="101",target="borg"\} 1$/m);
    assert.match(text, /^chaton_backup_verify_success 1$/m);
    assert.deepEqual(await readdir(dir), ['chaton_backup.prom'], 'no temporary file left');

    await lab.stopSshd('bastion');
    try {
      const down = await verify(['--prom-file', file]);
      assert.equal(down.code, 5);
      const failed = await readFile(file, 'utf8');
      assert.match(failed, /^chaton_backup_verify_success 0$/m);
      assert.match(failed, /^chaton_backup_verify_timestamp_seconds \d{10}$/m);
      assert.doesNotMatch(failed, /chaton_backup_last_timestamp_seconds\{/);
      const nagios = await verify(['--format', 'nagios']);
      assert.equal(nagios.code, 3);
      assert.match(nagios.stdout, /^BACKUP UNKNOWN - .*bastion/);
    } finally {
      await lab.startSshd('bastion');
    }
  });

  it('a usage error under --format nagios is UNKNOWN, exit 3', async () => {
    const run = await verify(['--format', 'nagios', '--no-such-flag']);
    assert.equal(run.code, 3);
    assert.match(run.stdout, /^BACKUP UNKNOWN - .*--no-such-flag/);
  });

  it('--dry-run reads the listings and prints the checks it would run, read-only ones', async () => {
    const run = await verify(['-n']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^restic --repo \/srv\/backup\/restic --password-file \/root\/restic\.pass check /m);
    assert.match(run.stdout, /borg --log-json check -- \/srv\/backup\/borg$/m);
    assert.match(run.stdout, /zstd -t -q/);
    assert.match(run.stdout, /\/srv\/backup\/dump\/vzdump-qemu-100-\S+\.vma\.zst/);
    assert.doesNotMatch(run.stdout, /^GUEST /m, 'nothing judged');
  });

  it('--dry-run --restore-test reads the spare VMID and the space, and plans every restore command', async () => {
    const run = await verify(['-n', '--restore-test', 'web']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^qmrestore \/mnt\/pve\/backup-nfs\/dump\/vzdump-qemu-100-\S+\.vma\.zst 9900 --unique 1 --storage local$/m,
    );
    assert.match(run.stdout, /^qmrestore backup-pbs:backup\/vm\/100\/\S+Z 9900 --unique 1 --storage local$/m);
    assert.match(run.stdout, /^qm start 9900$/m);
    assert.match(run.stdout, / restore \w+ --target \/var\/tmp\/chaton-restore\/chaton-restore\.XXXXXX$/m);
    assert.match(
      run.stderr,
      /^restore test of web from offsite: planned, into \/var\/tmp\/chaton-restore\/chaton-restore\.XXXXXX/m,
    );
    const records = await lab.run('backup', ['test', '-e', '/var/lib/chaton/restore-tests.jsonl']);
    assert.equal(records.exitCode, 1, 'nothing recorded');
    await assertNothingLeft();
  });

  it('inventory check finds a bad backups: section at its file:line:col', async () => {
    const inventory = await variantInventory(lab.inventoryPath, (doc) =>
      doc.setIn(['backups', 'targets', 'dump', 'type'], 'tape'),
    );
    const run = await chaton(['-i', inventory, 'inventory', 'check'], { env });
    assert.equal(run.code, 2);
    assert.match(
      run.stdout + run.stderr,
      new RegExp(`${inventory.replace(/[.]/g, '\\.')}:\\d+:\\d+: backups\\.targets\\.dump\\.type`),
    );
  });
});
