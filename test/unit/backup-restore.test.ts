// Restore tests' building blocks (src/lib/backup/restore.ts): the commands as they are sent, their
// remote scripts run by a real sh, the parsers on what the real restic and borg printed
// (test/unit/fixtures/backup/), the choice of a VMID and of the archive's path on the node, the
// records read back as the judgement takes them, and the restore_test inventory block.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backupsOf, type BackupTarget } from '../../src/lib/backup/inventory.js';
import {
  appendRecordCommand,
  archiveOnNode,
  canariesOf,
  canaryCommand,
  compareListing,
  copyListingCommand,
  destroyCommand,
  fileRestoreCommand,
  type FileTarget,
  offlineCommand,
  parseCanary,
  parseCopyListing,
  parsePrepared,
  parseRestoredFiles,
  parseRestoreRecords,
  parseStatus,
  parseVmPreflight,
  prepareScratchCommand,
  refusedVmid,
  removeScratchCommand,
  restoredFilesCommand,
  restoreRecord,
  restoreError,
  restoreRecordsProbe,
  spareVmid,
  vmPreflightCommand,
  vmRestoreCommand,
} from '../../src/lib/backup/restore.js';
import { borgOutcome } from '../../src/lib/backup/borg.js';
import { resticOutcome } from '../../src/lib/backup/restic.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError, type InventoryProblem } from '../../src/lib/inventory/reader.js';
import { render, type RemoteCommand } from '../../src/lib/remote/shell.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/backup/', import.meta.url));

interface Capture {
  name: string;
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
}

async function captured(name: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const index = JSON.parse(await readFile(join(FIXTURES, 'captures.json'), 'utf8')) as { captures: Capture[] };
  const capture = index.captures.find((candidate) => candidate.name === name);
  assert.ok(capture, `no capture ${name}`);
  const read = (file: string | null) => (file ? readFile(join(FIXTURES, file), 'utf8') : Promise.resolve(''));
  return { code: capture.exitCode, stdout: await read(capture.stdout), stderr: await read(capture.stderr) };
}

/** Runs a built command with the local sh, as the remote one would; stdin as the command says. */
function sh(cmd: RemoteCommand): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', render(cmd).toString()], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const RESTIC: FileTarget = { type: 'restic', repository: '/srv/backup/restic', secret: { file: '/root/restic.pass' } };
const BORG: FileTarget = { type: 'borg', repository: '/srv/backup/borg', secret: { file: '/root/borg.pass' } };
/** borg's fixed environment, as the renderer quotes it (words with "=" are always quoted). */
const BORG_ENV = [
  'env',
  "'TZ=UTC'",
  "'PYTHONIOENCODING=utf-8'",
  "'BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes'",
  "'BORG_RELOCATED_REPO_ACCESS_IS_OK=yes'",
  "'BORG_PASSCOMMAND=cat -- /root/borg.pass'",
  'borg',
  '--log-json',
].join(' ');

describe('restore test commands', () => {
  it('restic: restore into the directory, list the snapshot, dump a canary beside what was restored', () => {
    const repo = 'restic --repo /srv/backup/restic --password-file /root/restic.pass';
    assert.equal(
      render(fileRestoreCommand(RESTIC, 'abc123', '/var/tmp/r/chaton-restore.x')).toString(),
      `${repo} restore abc123 --target /var/tmp/r/chaton-restore.x`,
    );
    assert.equal(render(copyListingCommand(RESTIC, 'abc123')).toString(), `${repo} ls --json abc123`);
    const canary = canaryCommand(RESTIC, 'abc123', '/var/tmp/r/chaton-restore.x', '/srv/guests/mail/canary.txt');
    assert.deepEqual(canary.argv.slice(3).map(String), [
      'sh',
      '/var/tmp/r/chaton-restore.x/srv/guests/mail/canary.txt',
      '/var/tmp/r/chaton-restore.x/.chaton-canary',
      ...`${repo} dump abc123 /srv/guests/mail/canary.txt`.split(' '),
    ]);
  });

  it('borg: extract run in the directory, its listing as JSON lines, a canary by its path without the /', () => {
    const restore = fileRestoreCommand(BORG, 'db-2026-12-01T23:00:00', '/var/tmp/r/chaton-restore.x');
    assert.deepEqual(
      restore.argv.slice(3).map(String).join(' '),
      `sh /var/tmp/r/chaton-restore.x ${BORG_ENV.replace(/'/g, '')} extract -- ` +
        '/srv/backup/borg::db-2026-12-01T23:00:00',
    );
    assert.equal(
      render(copyListingCommand(BORG, 'db-2026-12-01T23:00:00')).toString(),
      `${BORG_ENV} list --json-lines -- /srv/backup/borg::db-2026-12-01T23:00:00`,
    );
    const canary = canaryCommand(BORG, 'db-x', '/d/chaton-restore.x', '/srv/guests/db/canary.txt');
    assert.deepEqual(canary.argv.slice(-2).map(String), ['/srv/backup/borg::db-x', 'srv/guests/db/canary.txt']);
  });

  it('a VM: qmrestore <archive> <vmid>, pct restore <vmid> <archive>, both unique onto the storage', () => {
    const archive = '/var/lib/vz/dump/vzdump-qemu-100-2026_12_01-22_00_00.vma.zst';
    assert.equal(
      render(vmRestoreCommand('qm', archive, 9900, 'local')).toString(),
      `qmrestore ${archive} 9900 --unique 1 --storage local`,
    );
    assert.equal(
      render(vmRestoreCommand('pct', 'pbs:backup/ct/104/2026-12-01T21:00:00Z', 9901, 'local-lvm')).toString(),
      'pct restore 9901 pbs:backup/ct/104/2026-12-01T21:00:00Z --unique 1 --storage local-lvm',
    );
    assert.deepEqual(vmPreflightCommand('pve1', 'local').argv.slice(3), ['sh', 'pve1', 'local']);
    assert.deepEqual(offlineCommand('qm', 9900).argv.slice(3), ['sh', 'qm', '9900']);
    assert.deepEqual(destroyCommand('pct', 9901).argv.slice(3), ['sh', 'pct', '9901']);
  });
});

describe('restore test scripts, run by sh', () => {
  it('a scratch directory is made when space allows, refused otherwise, and only ours is removed', async () => {
    const parent = join(await mkdtemp(join(os.tmpdir(), 'chaton-restore-')), 'scratch');
    const made = parsePrepared(sh(prepareScratchCommand(parent, 1024)));
    assert.ok('dir' in made && made.dir.startsWith(`${parent}/chaton-restore.`) && made.free > 0);
    const short = parsePrepared(sh(prepareScratchCommand(parent, 1024 ** 5)));
    assert.ok('short' in short && short.short > 0);
    assert.equal(spawnSync('ls', ['-A', parent], { encoding: 'utf8' }).stdout.trim().split('\n').length, 1);
    const dir = (made as { dir: string }).dir;
    await writeFile(join(dir, 'file'), 'restored');
    // Someone else's directory is never removed, nor one reached through "..".
    assert.equal(sh(removeScratchCommand(parent, os.tmpdir())).code, 7);
    assert.equal(sh(removeScratchCommand(parent, `${parent}/chaton-restore.x/../..`)).code, 7);
    assert.deepEqual(parseRestoredFiles(sh(restoredFilesCommand(dir)).stdout), new Map([['file', 8]]));
    assert.equal(sh(removeScratchCommand(parent, dir)).code, 0);
    assert.equal(spawnSync('ls', ['-A', parent], { encoding: 'utf8' }).stdout, '');
  });

  it('a canary: the same bytes, other bytes, not in the copy, not restored', async () => {
    const dir = await mkdtemp(join(os.tmpdir(), 'chaton-canary-'));
    await writeFile(join(dir, 'restored'), 'canary\n');
    await writeFile(join(dir, 'same'), 'canary\n');
    await writeFile(join(dir, 'other'), 'canarY\n');
    const check = (restored: string, source: string) => {
      const cmd = canaryCommand(RESTIC, 'id', dir, '/x');
      const argv = [...cmd.argv.slice(0, 4), join(dir, restored), join(dir, 'copy'), 'cat', join(dir, source)];
      return parseCanary(sh({ argv }) as never);
    };
    assert.equal(check('restored', 'same'), 'same');
    assert.equal(check('restored', 'other'), 'differs');
    assert.deepEqual(check('restored', 'missing'), {
      notInCopy: `cat: ${join(dir, 'missing')}: No such file or directory`,
    });
    assert.equal(check('missing', 'same'), 'not-restored');
  });

  it('records are appended as JSON lines and read back as the judgement takes them', async () => {
    const file = join(await mkdtemp(join(os.tmpdir(), 'chaton-records-')), 'lib/restore-tests.jsonl');
    const probe = restoreRecordsProbe(['offsite'], file);
    assert.deepEqual(probe.parse({ ...sh(probe.command), code: 0 }), []);
    const result = {
      key: '101',
      target: 'offsite',
      location: 'abc',
      ok: true,
      started: Date.parse('2026-12-01T22:00:00Z'),
      restoreMs: 1234.4,
    };
    assert.equal(sh(appendRecordCommand(restoreRecord(result as never), file)).code, 0);
    const failed = {
      ...result,
      ok: false,
      started: result.started + 1000,
      problem: 'canary-differs',
      reason: { en: "it's" },
    };
    assert.equal(sh(appendRecordCommand(restoreRecord(failed as never), file)).code, 0);
    assert.equal(sh(appendRecordCommand(restoreRecord({ ...result, target: 'borg' } as never), file)).code, 0);
    const read = sh(probe.command);
    assert.deepEqual(probe.parse({ ...read, code: read.code ?? 1 }), [
      { guest: '101', target: 'offsite', time: result.started, ok: true, durationMs: 1234 },
      { guest: '101', target: 'offsite', time: result.started + 1000, ok: false, durationMs: 1234 },
    ]);
    assert.match(read.stdout.split('\n')[1]!, /"problem":"canary-differs","reason":"it's"/);
  });
});

describe('restore test parsers', () => {
  it("restic ls --json: the snapshot's regular files and their sizes (real output)", async () => {
    const files = parseCopyListing('restic', (await captured('restic-0.14-ls-json')).stdout);
    assert.deepEqual(files.map((file) => file.path).sort(), [
      'srv/guests/mail/canary.txt',
      'srv/guests/mail/etc/hostname',
      'srv/guests/mail/var/lib/mail/data.bin',
    ]);
    assert.equal(files.find((file) => file.path.endsWith('hostname'))?.size, 5);
  });

  it("borg list --json-lines: the archive's regular files and their sizes (real output)", async () => {
    const files = parseCopyListing('borg', (await captured('borg-1.2-list-json-lines')).stdout);
    assert.deepEqual(files.map((file) => file.path).sort(), [
      'srv/guests/db/canary.txt',
      'srv/guests/db/etc/hostname',
      'srv/guests/db/var/lib/db/data.bin',
    ]);
    assert.equal(files.find((file) => file.path.endsWith('hostname'))?.size, 3);
  });

  it("a restore of a damaged pack is a failure, with restic's own words (real output)", async () => {
    assert.equal(resticOutcome(await captured('restic-0.14-restore')).kind, 'ok');
    const damaged = resticOutcome(await captured('restic-0.14-restore-data-pack-corrupted'));
    assert.equal(damaged.kind, 'failed');
    assert.ok(damaged.detail);
  });

  it('a canary the copy lacks makes restic dump and borg extract --stdout fail (real output)', async () => {
    const restic = await captured('restic-0.14-dump-not-in-snapshot');
    assert.notEqual(restic.code, 0);
    const borg = await captured('borg-1.2-log-json-extract-stdout-not-in-archive');
    assert.notEqual(borg.code, 0);
    assert.match(borgOutcome(borg, false).detail ?? '', /never matched/);
  });

  it('compares what was restored with the listing: a missing file, another size', () => {
    const listed = [
      { path: 'a', size: 1 },
      { path: 'b', size: 2 },
      { path: 'c', size: 3 },
    ];
    const restored = new Map([
      ['a', 1],
      ['b', 5],
      ['extra', 9],
    ]);
    assert.deepEqual(
      compareListing(listed, restored).map((said) => said.en),
      ['b: 5 bytes, the copy says 2', 'c missing'],
    );
  });

  it('the VMIDs in use (templates too) and the free bytes; the first spare one of the range', async () => {
    const resources = (await readFile(join(FIXTURES, 'pvesh-cluster-resources.json'), 'utf8')).trim();
    const status = '{"active":1,"avail":52613349376,"content":"backup,images","enabled":1,"shared":0}';
    const { used, free } = parseVmPreflight(`${resources}\n\n${status}\n`);
    assert.ok(used.has(9000) && used.has(105));
    assert.equal(free, 52613349376);
    assert.equal(spareVmid({ first: 9000, last: 9001 }, used), 9001);
    assert.equal(spareVmid({ first: 9000, last: 9000 }, used), undefined);
    assert.equal(parseStatus('status: running\n'), 'running');
  });

  it("qmrestore's refusal of a VMID in use is told apart from a restore that failed", () => {
    const output = (stderr: string) => ({ code: 255, stdout: '', stderr });
    assert.equal(
      refusedVmid(output("unable to restore VM 9900 - VM 9900 already exists on node 'pve1'\n"), 9900),
      true,
    );
    assert.equal(refusedVmid(output('unable to restore CT 9901 - CT 9901 already exists\n'), 9901), true);
    assert.equal(refusedVmid(output("can't find file '/x'\n"), 9900), false);
  });

  it("a failed restore from PBS is told by the client's Error: line, not run_command's last one", () => {
    // PBSPlugin.pm's client call under run_command: the client's error, then run_command's die.
    const command = "command '/usr/bin/proxmox-backup-client restore vm/100/2026-12-01T21:00:02Z index.json -'";
    const pbs = {
      code: 255,
      stdout: '',
      stderr: `Error: permission check failed.\n${command} failed: exit code 255\n`,
    };
    assert.equal(restoreError(pbs), 'permission check failed.');
    const vma = { code: 255, stdout: '', stderr: "can't find file 'backup-nfs:backup/x.vma.zst'\n" };
    assert.equal(restoreError(vma), "can't find file 'backup-nfs:backup/x.vma.zst'");
  });

  it('skips record lines that do not read as records', () => {
    const lines = ['{"guest":"100","target":"dump","ok":true,"time":"2026-12-01T22:00:00.000Z"}', '{"guest":', 'x', ''];
    assert.deepEqual(parseRestoreRecords(lines.join('\n')), [
      { guest: '100', target: 'dump', time: Date.parse('2026-12-01T22:00:00Z'), ok: true },
    ]);
  });
});

describe('where a VM copy is restored from, and which canaries', () => {
  const vzdump = (host: string): BackupTarget =>
    ({ name: 'dump', type: 'vzdump', host, path: '/srv/backup/dump' }) as BackupTarget;
  const copy = { location: '/srv/backup/dump/vzdump-qemu-100-2026_12_01-22_00_00.vma.zst' };

  it('the archive on the node itself, under dump_path, from the PBS storage; refused where the node lacks it', () => {
    assert.equal(archiveOnNode(vzdump('pve1'), copy, { node: 'pve1' }), copy.location);
    assert.equal(
      archiveOnNode(vzdump('backup'), copy, { node: 'pve1', dumpPath: '/mnt/pve/backup/dump/' }),
      '/mnt/pve/backup/dump/vzdump-qemu-100-2026_12_01-22_00_00.vma.zst',
    );
    const elsewhere = archiveOnNode(vzdump('backup'), copy, { node: 'pve1' });
    assert.ok(typeof elsewhere === 'object' && /restore_test\.dump_path/.test(elsewhere.reason.en));
    const pbs = { name: 'pbs', type: 'pbs', host: 'backup' } as BackupTarget;
    assert.equal(
      archiveOnNode(pbs, { location: 'vm/100/2026-12-01T21:00:00Z' }, { node: 'pve1', pbsStorage: 'pbs' }),
      'pbs:backup/vm/100/2026-12-01T21:00:00Z',
    );
  });

  it("a guest's canaries: its own by name or VMID, else the default, {name} replaced", () => {
    const canaries = new Map([
      ['default', ['/srv/guests/{name}/canary.txt']],
      ['mail', ['/var/mail/canary']],
      ['102', ['/var/lib/db/canary']],
    ]);
    const guest = (vmid: number, name: string) => ({ vmid, name, type: 'qemu' as const, tags: [] });
    assert.deepEqual(canariesOf(guest(101, 'mail'), canaries), ['/var/mail/canary']);
    assert.deepEqual(canariesOf(guest(102, 'db'), canaries), ['/var/lib/db/canary']);
    assert.deepEqual(canariesOf(guest(100, 'web'), canaries), ['/srv/guests/web/canary.txt']);
  });
});

const HOSTS = 'hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n  backup: { address: 10.0.0.30, direct: true }\n';
const TARGETS = '  targets:\n    dump: { type: vzdump, host: backup, path: /srv/backup/dump }\n';

function problemsIn(yaml: string): InventoryProblem[] {
  try {
    parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS);
  } catch (error) {
    if (error instanceof InventoryError) return error.problems;
    throw error;
  }
  assert.fail('the inventory was accepted');
}

describe('the restore_test block', () => {
  it('reads every key, with a size in bytes and the VMID range', () => {
    const yaml = `backups:
${TARGETS}  restore_test:
    node: pve1
    storage: local
    vmids: 9900-9909
    dump_path: /mnt/pve/backup/dump
    host: backup
    scratch_dir: /var/tmp/chaton-restore
    min_free: 20G
    canaries: { default: [/etc/hostname], mail: [/var/mail/canary], 102: ['/srv/{name}/x'] }
`;
    const backups = backupsOf(parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS));
    const { source, ...settings } = backups!.restoreTest!;
    assert.equal(source.line, 7);
    assert.deepEqual(settings, {
      node: 'pve1',
      storage: 'local',
      vmids: { first: 9900, last: 9909 },
      dumpPath: '/mnt/pve/backup/dump',
      host: 'backup',
      scratchDir: '/var/tmp/chaton-restore',
      minFree: 20 * 1024 ** 3,
      canaries: new Map([
        ['default', ['/etc/hostname']],
        ['mail', ['/var/mail/canary']],
        ['102', ['/srv/{name}/x']],
      ]),
    });
  });

  it('reports each bad value at its line and column, with what to write', () => {
    const problems = problemsIn(`backups:
${TARGETS}  restore_test:
    node: pve9
    storage: local
    vmids: 9909-9900
    min_free: 20 GB
    scratch_dir: tmp/restore
    canaries: { default: [etc/hostname], "web server": [/x] }
`);
    assert.deepEqual(
      problems.map((problem) => `${problem.position.line}:${problem.position.col} ${problem.message}`),
      [
        '8:11 "pve9" is not a host of the inventory',
        '10:12 must be a range of VMIDs FIRST-LAST, got "9909-9900"',
        '11:15 must be a size: a whole number and one unit, K, M, G or T, got "20 GB"',
        '12:18 must be an absolute path on that host, got "tmp/restore"',
        '13:27 must be the absolute path of a file in the backup, got "etc/hostname"',
        '13:42 "web server" is neither a guest\'s name or VMID nor default',
      ],
    );
    assert.ok(problems.every((problem) => problem.hint));
  });

  it('wants node, storage and vmids together, and scratch_dir for canaries', () => {
    const problems = problemsIn(`backups:
${TARGETS}  restore_test:
    node: pve1
    canaries: { default: [/etc/hostname] }
`);
    assert.deepEqual(
      problems.map((problem) => problem.message),
      ['has no storage', 'has no vmids', 'has no scratch_dir'],
    );
  });
});
