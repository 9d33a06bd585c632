// The backup domain's facts: each builder's command, and its parser on real output captured on the
// lab by test/lab/capture-backup-fixtures.ts (test/unit/fixtures/backup/README.md names each
// capture's command, and the source of the few files written by hand: pvesh, PBS). The scripts
// chaton sends run here, under dash, on real files: find, gzip (and zstd, lzop when installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { borgCheckProbe, borgInstant, borgListProbe, borgOutcome } from '../../src/lib/backup/borg.js';
import { parseSubset, subsetArgument } from '../../src/lib/backup/durations.js';
import { formatDuration, parseDuration } from '../../src/lib/inventory/durations.js';
import { clusterGuestsFact, guestKey, guestLabel, parseClusterGuests, splitTags } from '../../src/lib/backup/guests.js';
import { parsePbsSnapshots, pbsOutcome, pbsSnapshotsProbe, upidStartTime } from '../../src/lib/backup/pbs.js';
import { resticCheckProbe, resticOutcome, resticSnapshotsProbe } from '../../src/lib/backup/restic.js';
import { resolveSecret, type ToolOutput, withSecretIn } from '../../src/lib/backup/tools.js';
import {
  archivesToTest,
  dumpListing,
  dumpListProbe,
  integrityProbe,
  parseArchiveName,
} from '../../src/lib/backup/vzdump.js';
import { hostZoneFact, instantOf, parseHostZone, wallClockAt } from '../../src/lib/backup/zone.js';
import { display, render, type RemoteCommand, Secret } from '../../src/lib/remote/shell.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/backup/', import.meta.url));
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const INDEX = JSON.parse(fixture('captures.json')) as {
  capturedAt: string;
  captures: { name: string; exitCode: number; stdout: string | null; stderr: string | null }[];
};
/** A run captured on the lab (captures.json): its exit code, and its streams ('' when silent). */
function captured(name: string): ToolOutput {
  const capture = INDEX.captures.find((entry) => entry.name === name);
  assert.ok(capture, `${name} is not in captures.json`);
  const read = (file: string | null) => (file === null ? '' : fixture(file));
  return { code: capture.exitCode, stdout: read(capture.stdout), stderr: read(capture.stderr) };
}

const DASH = spawnSync('sh', ['-c', 'command -v dash'], { encoding: 'utf8' }).stdout.trim();

/** Runs a command as the remote POSIX shell would (dash), with its stdin. */
function runLocally(cmd: RemoteCommand, env: NodeJS.ProcessEnv = process.env): ToolOutput {
  const stdin = cmd.stdin instanceof Secret ? cmd.stdin.reveal() : cmd.stdin;
  const run = spawnSync(DASH, ['-c', render(cmd).toString()], { input: stdin, env, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const work = mkdtempSync(path.join(tmpdir(), 'chaton-backup-'));
after(() => rmSync(work, { recursive: true, force: true }));

const utc = (text: string) => Date.parse(text);

describe('durations and data subsets', () => {
  it('reads one whole number and one unit, and refuses the rest', () => {
    assert.deepEqual(['90m', '26h', '4d', '2w'].map(parseDuration), [5400, 93_600, 345_600, 1_209_600]);
    for (const wrong of ['4 days', '1.5d', '26', '0h', '4D', 'h', '-1d', '4d2h'])
      assert.equal(parseDuration(wrong), undefined);
    assert.deepEqual([93_600, 345_600, 5400, 1_209_600, 90].map(formatDuration), ['26h', '4d', '90m', '2w', '90s']);
  });

  it('reads n/t and x% as restic takes them', () => {
    assert.deepEqual(parseSubset('1/10'), { part: 1, of: 10 });
    assert.deepEqual(parseSubset('2.5%'), { percent: 2.5 });
    for (const wrong of ['11/10', '0/3', '0%', '120%', '5 %', 'all']) assert.equal(parseSubset(wrong), undefined);
    assert.equal(subsetArgument({ percent: 5 }), '5%');
    assert.equal(subsetArgument({ part: 3, of: 7 }), '3/7');
  });
});

describe('the cluster guests fact', () => {
  const resources = fixture('pvesh-cluster-resources.json').trim();
  const stdout = `${resources}\n\n${fixture('pvesh-backup-info-not-backed-up.json').trim()}\n`;

  it('asks pvesh for both lists in one session', () => {
    assert.equal(
      display(clusterGuestsFact.command),
      "sh -c 'pvesh get /cluster/resources --type vm --output-format json && echo && " +
        "pvesh get /cluster/backup-info/not-backed-up --output-format json'",
    );
  });

  it('reads the guests without templates, tags split, pool kept; and the VMIDs in no job', () => {
    const { guests, notBackedUp } = parseClusterGuests(stdout);
    assert.deepEqual(
      guests.map((guest) => [guest.vmid, guest.name, guest.type, guest.node, guest.tags, guest.pool]),
      [
        [100, 'web', 'qemu', 'pve1', ['prod'], 'prod'],
        [101, 'mail', 'qemu', 'pve1', ['prod'], undefined],
        [102, 'db', 'qemu', 'pve2', ['prod', 'db'], undefined],
        [103, 'dev', 'qemu', 'pve2', ['dev'], undefined],
        [104, 'dns', 'lxc', 'pve3', ['prod'], undefined],
        [105, 'scratch', 'qemu', 'pve3', [], undefined],
      ],
    );
    assert.deepEqual(notBackedUp, [105, 9000]);
    assert.deepEqual([guestKey(guests[0]!), guestLabel(guests[0]!)], ['100', '100 web']);
    assert.deepEqual(
      [guestKey({ name: 'www', type: 'host', tags: [] }), guestLabel({ name: 'www', type: 'host', tags: [] })],
      ['host:www', 'www'],
    );
  });

  it('takes VMIDs as text, booleans as true, older tag separators', () => {
    const { guests } = parseClusterGuests(
      '[{"vmid":"200","type":"lxc","name":"a","template":false,"tags":"x,Y z"},' +
        '{"vmid":201,"type":"qemu","template":true}]\n[]\n',
    );
    assert.deepEqual(guests, [{ vmid: 200, name: 'a', type: 'lxc', tags: ['x', 'y', 'z'] }]);
    assert.deepEqual(splitTags(undefined), []);
  });

  it('says what it expected when pvesh printed something else', () => {
    assert.throws(() => parseClusterGuests('[]\n'), /1 lines of JSON where 2 were expected/);
    assert.throws(() => parseClusterGuests('{}\n[]\n'), /a JSON array was expected/);
  });
});

describe('the host time zone', () => {
  it('reads the /etc/localtime link first, then /etc/timezone, else UTC said so', () => {
    assert.deepEqual(parseHostZone('localtime\t/usr/share/zoneinfo/Europe/Paris\ntimezone\tEtc/UTC\n'), {
      zone: 'Europe/Paris',
      from: 'localtime',
    });
    assert.deepEqual(
      parseHostZone('localtime\t../usr/share/zoneinfo/posix/America/New_York\ntimezone\t\n').zone,
      'America/New_York',
    );
    assert.deepEqual(parseHostZone('localtime\t\ntimezone\tEurope/Brussels\n'), {
      zone: 'Europe/Brussels',
      from: 'timezone',
    });
    assert.deepEqual(parseHostZone('localtime\t/etc/zoneinfo/Nowhere/Atlantis\ntimezone\t\n'), {
      zone: 'UTC',
      from: 'none',
    });
  });

  it('runs here and gives a zone Intl knows', () => {
    const zone = hostZoneFact.parse(runLocally(hostZoneFact.command).stdout);
    assert.ok(wallClockAt(0, zone.zone).year === 1970 || wallClockAt(0, zone.zone).year === 1969);
  });

  it('turns a Paris wall clock into UTC across both DST changes', () => {
    const paris = 'Europe/Paris';
    const wall = (text: string) => {
      const [year, month, day, hour, minute, second] = text.split(/[-T:]/).map(Number) as number[];
      return { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second! };
    };
    assert.equal(instantOf(wall('2025-03-30T01:30:00'), paris), utc('2025-03-30T00:30:00Z'));
    assert.equal(instantOf(wall('2025-03-30T03:30:00'), paris), utc('2025-03-30T01:30:00Z'));
    // 02:30 does not exist that night: read as a clock not yet moved shows it.
    assert.equal(instantOf(wall('2025-03-30T02:30:00'), paris), utc('2025-03-30T01:30:00Z'));
    // 02:30 shows twice on 26 October: the file's mtime (the dump's end) tells which.
    const twice = wall('2025-10-26T02:30:00');
    assert.equal(instantOf(twice, paris), utc('2025-10-26T00:30:00Z'));
    assert.equal(instantOf(twice, paris, utc('2025-10-26T00:41:00Z')), utc('2025-10-26T00:30:00Z'));
    assert.equal(instantOf(twice, paris, utc('2025-10-26T01:41:00Z')), utc('2025-10-26T01:30:00Z'));
    assert.equal(instantOf(wall('2025-07-14T12:00:00'), paris), utc('2025-07-14T10:00:00Z'));
    assert.equal(instantOf(wall('2025-07-14T12:00:00'), 'UTC'), utc('2025-07-14T12:00:00Z'));
  });
});

describe('a vzdump dump directory', () => {
  it('reads archive names, not their .log and .notes', () => {
    assert.deepEqual(parseArchiveName('vzdump-qemu-100-2025_10_26-02_30_00.vma.zst'), {
      guestType: 'qemu',
      vmid: 100,
      wall: { year: 2025, month: 10, day: 26, hour: 2, minute: 30, second: 0 },
      compression: 'zst',
    });
    assert.equal(parseArchiveName('vzdump-lxc-104-2025_01_02-03_04_05.tar.gz')?.compression, 'gz');
    assert.equal(parseArchiveName('vzdump-lxc-104-2025_01_02-03_04_05.tgz')?.compression, 'gz');
    assert.equal(parseArchiveName('vzdump-qemu-101-2025_01_02-03_04_05.vma')?.compression, null);
    assert.equal(parseArchiveName('vzdump-qemu-101-2025_01_02-03_04_05.vma.lzo')?.compression, 'lzo');
    for (const other of [
      'vzdump-qemu-100-2025_10_26-02_30_00.log',
      'vzdump-qemu-100-2025_10_26-02_30_00.vma.zst.notes',
      'vzdump-qemu-100-2025_10_26-02_30_00.vma.dat',
      'vzdump-qemu-100-2025_10_26-02_30.vma.zst',
      'vzdump-openvz-100-2025_10_26-02_30_00.tar',
    ]) {
      assert.equal(parseArchiveName(other), undefined, other);
    }
  });

  const dump = path.join(work, 'dump dir');
  const file = (name: string, content: Buffer | string, mtime: string) => {
    writeFileSync(path.join(dump, name), content);
    utimesSync(path.join(dump, name), new Date(mtime), new Date(mtime));
  };
  mkdirSync(dump);
  // Bytes that do not compress to a few dozen: a cut archive is then really cut.
  const payload = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7919 + (i >> 7)) % 251));
  file('vzdump-qemu-100-2025_10_26-02_30_00.vma.gz', gzipSync(payload), '2025-10-26T01:41:00Z');
  file('vzdump-qemu-100-2025_10_26-02_30_00.log', 'INFO: Finished Backup of VM 100', '2025-10-26T01:41:00Z');
  file('vzdump-qemu-100-2025_10_25-02_30_00.vma.gz', gzipSync(payload), '2025-10-25T00:40:00Z');
  file('vzdump-qemu-100-2025_10_25-02_30_00.vma.gz.notes', 'web', '2025-10-25T00:40:00Z');
  file('vzdump-qemu-101-2025_10_26-03_00_00.vma', payload, '2025-10-26T02:10:00Z');
  file('vzdump-qemu-102-2025_10_26-04_00_00.vma.dat', 'half', '2025-10-26T03:01:00Z');
  file('stray.tmp', '', '2025-10-20T00:00:00Z');
  file('notes.txt', 'not a dump', '2025-10-20T00:00:00Z');
  mkdirSync(path.join(dump, 'vzdump-lxc-104-2025_10_26-05_00_00.tmp'));

  it('lists archives and leftovers with sizes and mtimes, names in the node local time', () => {
    const probe = dumpListProbe({ path: dump });
    const read = probe.parse(runLocally(probe.command));
    assert.equal(read.outcome.kind, 'ok');
    const listing = dumpListing(read, dump, 'Europe/Paris');
    const copies = listing.copies.sort((a, b) => a.location.localeCompare(b.location));
    assert.deepEqual(
      copies.map((copy) => [
        copy.key,
        new Date(copy.time).toISOString(),
        path.basename(copy.location),
        copy.compression,
      ]),
      [
        [{ vmid: 100 }, '2025-10-25T00:30:00.000Z', 'vzdump-qemu-100-2025_10_25-02_30_00.vma.gz', 'gz'],
        // The second 02:30 of the night: the mtime says the dump ended at 01:41 UTC.
        [{ vmid: 100 }, '2025-10-26T01:30:00.000Z', 'vzdump-qemu-100-2025_10_26-02_30_00.vma.gz', 'gz'],
        [{ vmid: 101 }, '2025-10-26T02:00:00.000Z', 'vzdump-qemu-101-2025_10_26-03_00_00.vma', null],
      ],
    );
    assert.equal(copies[2]?.size, 40_000);
    assert.equal(copies[0]?.location, path.join(dump, 'vzdump-qemu-100-2025_10_25-02_30_00.vma.gz'));
    assert.deepEqual(listing.leftovers.map((leftover) => [path.basename(leftover.location), leftover.vmid]).sort(), [
      ['stray.tmp', undefined],
      ['vzdump-lxc-104-2025_10_26-05_00_00.tmp', 104],
      ['vzdump-qemu-102-2025_10_26-04_00_00.vma.dat', 102],
    ]);
    assert.equal(listing.leftovers.find((leftover) => leftover.vmid === 102)?.time, utc('2025-10-26T03:01:00Z'));
    assert.deepEqual(archivesToTest(listing.copies), [path.join(dump, 'vzdump-qemu-100-2025_10_26-02_30_00.vma.gz')]);
  });

  it('says when the directory is not there, and passes the path as one argument', () => {
    const probe = dumpListProbe({ path: path.join(work, 'gone') });
    const read = probe.parse(runLocally(probe.command));
    assert.equal(read.outcome.kind, 'no-repository');
    assert.match(read.outcome.detail!, /gone is not a directory/);
    assert.deepEqual(dumpListing(read, '/x', 'UTC'), { outcome: read.outcome, copies: [], leftovers: [] });
  });

  it('tests each archive with its compressor, in order, and tells damage from a missing tool', () => {
    const good = path.join(dump, 'vzdump-qemu-100-2025_10_26-02_30_00.vma.gz');
    const truncated = path.join(work, 'truncated.vma.gz');
    writeFileSync(truncated, gzipSync(payload).subarray(0, 50));
    const flipped = path.join(work, 'flipped.vma.gz');
    const bytes = gzipSync(Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)));
    bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff;
    writeFileSync(flipped, bytes);
    const files = [good, truncated, flipped, path.join(work, 'missing.vma.gz')];
    const probe = integrityProbe(files);
    const results = probe.parse(runLocally(probe.command));
    assert.deepEqual(
      files.map((name) => results.get(name)?.kind),
      ['ok', 'failed', 'failed', 'failed'],
    );
    assert.match(results.get(truncated)!.detail!, /unexpected end of file/);
    assert.match(results.get(flipped)!.detail!, /crc error|invalid compressed data/);
    const noZstd = integrityProbe([path.join(work, 'x.vma.zst')]);
    const withoutTools = runLocally(noZstd.command, { PATH: '/nonexistent' });
    assert.equal(noZstd.parse(withoutTools).get(path.join(work, 'x.vma.zst'))?.kind, 'missing-tool');
  });

  for (const [tool, extension, args] of [
    ['zstd', 'zst', ['-q', '-o']],
    ['lzop', 'lzo', ['-q', '-o']],
  ] as const) {
    // The lab's packages (test/lab/debian-packages.txt): a missing compressor fails, never skips.
    it(`tests a .${extension} archive with ${tool} -t`, () => {
      const raw = path.join(work, `raw-${extension}`);
      writeFileSync(raw, payload);
      const archive = path.join(work, `a.vma.${extension}`);
      spawnSync(tool, [...args, archive, raw]);
      const cut = path.join(work, `cut.vma.${extension}`);
      writeFileSync(cut, readFileSync(archive).subarray(0, 60));
      const probe = integrityProbe([archive, cut]);
      const results = probe.parse(runLocally(probe.command));
      assert.deepEqual([results.get(archive)?.kind, results.get(cut)?.kind], ['ok', 'failed']);
    });
  }

  it('leaves untested what a session cut short did not reach', () => {
    const probe = integrityProbe(['/a.vma.zst', '/b.vma.zst']);
    const results = probe.parse({ code: null, stdout: '0\t\0', stderr: '' });
    assert.deepEqual([results.get('/a.vma.zst')?.kind, results.get('/b.vma.zst')?.kind], ['ok', 'interrupted']);
  });
});

describe('secrets for the tools', () => {
  const printVariable = ['sh', '-c', 'printf %s "$PASS"'];

  it('reads a file on the host into the variable, or the value from stdin: never in argv', () => {
    const file = path.join(work, 'pass');
    writeFileSync(file, 'from the file\n');
    assert.equal(runLocally(withSecretIn('PASS', { file }, printVariable)).stdout, 'from the file');
    const fromEnv = withSecretIn('PASS', { value: new Secret("it's $w0rdfish") }, printVariable);
    assert.ok(!render(fromEnv).toString().includes('w0rdfish'));
    assert.match(display(fromEnv), /<secret on stdin>$/);
    assert.equal(runLocally(fromEnv).stdout, "it's $w0rdfish");
  });

  it('exits 125 when the secret cannot be read', () => {
    const run = runLocally(withSecretIn('PASS', { file: path.join(work, 'none') }, printVariable));
    assert.equal(run.code, 125);
  });

  it('resolves an environment variable of the operator, or says it is unset', () => {
    assert.deepEqual(resolveSecret({ file: '/root/p' }, {}), { file: '/root/p' });
    assert.deepEqual(resolveSecret({ env: 'RESTIC_X' }, {}), { unset: 'RESTIC_X' });
    const resolved = resolveSecret({ env: 'RESTIC_X' }, { RESTIC_X: 'v' });
    assert.ok('value' in resolved && resolved.value.reveal().toString() === 'v');
  });
});

describe('a PBS datastore', () => {
  it('lists snapshots through a script that sets PBS_PASSWORD from the file on the host', () => {
    const probe = pbsSnapshotsProbe(
      { repository: 'root@pam@localhost:store1', fingerprint: 'aa:bb' },
      { file: '/root/pbs.pass' },
    );
    assert.deepEqual(probe.command.argv.slice(3), [
      'sh',
      'PBS_PASSWORD',
      '/root/pbs.pass',
      'env',
      'PBS_FINGERPRINT=aa:bb',
      'proxmox-backup-client',
      'snapshot',
      'list',
      '--output-format',
      'json',
      '--repository',
      'root@pam@localhost:store1',
    ]);
    assert.equal(probe.command.stdin, undefined);
  });

  it('reads each snapshot: its guest, time, id, size and verification (absent: never verified)', () => {
    const copies = parsePbsSnapshots(fixture('pbs-snapshot-list.json'));
    assert.deepEqual(
      copies.map((copy) => [copy.key, copy.location, copy.size, copy.verification]),
      [
        [
          { vmid: 100 },
          'vm/100/2025-05-30T01:00:00Z',
          34_359_739_357,
          { state: 'ok', time: utc('2025-05-30T02:00:00Z') },
        ],
        [{ vmid: 100 }, 'vm/100/2025-05-31T01:00:00Z', 34_359_739_357, 'never'],
        [
          { vmid: 101 },
          'vm/101/2025-05-31T01:00:00Z',
          34_359_738_929,
          { state: 'failed', time: utc('2025-05-31T02:00:00Z') },
        ],
        [{ vmid: 104 }, 'ct/104/2025-05-31T01:00:00Z', 524_358_792, 'never'],
        [{ name: 'www-legacy' }, 'host/www-legacy/2025-05-31T01:00:00Z', 1_048_976, 'never'],
      ],
    );
    assert.equal(
      upidStartTime('UPID:elsa:00004F37:0039E469:00000000:5CA78B83:garbage_collection::root@pam:'),
      0x5ca78b83 * 1000,
    );
    assert.equal(upidStartTime('nonsense'), undefined);
  });

  it('tells a refused login from other failures', () => {
    const refused = { code: 255, stdout: '', stderr: 'Error: authentication failed - invalid credentials\n' };
    assert.equal(pbsOutcome(refused).kind, 'wrong-password');
    assert.equal(pbsOutcome({ code: 255, stdout: '', stderr: 'Error: connection refused\n' }).kind, 'error');
    const probe = pbsSnapshotsProbe({ repository: 'store1' }, { file: '/p' });
    assert.equal(
      probe.parse({ code: 125, stdout: '', stderr: 'cat: /p: No such file\n' }).outcome.kind,
      'secret-unreadable',
    );
  });
});

describe('a restic repository', () => {
  const target = { repository: '/srv/backup/restic', guestFrom: { hostname: true as const } };

  it('lists snapshots without taking a lock, the password file read by restic itself', () => {
    const probe = resticSnapshotsProbe(target, { file: '/root/restic.pass' });
    assert.equal(
      display(probe.command),
      'restic --repo /srv/backup/restic --password-file /root/restic.pass snapshots --json --no-lock',
    );
    const fromEnv = resticSnapshotsProbe(target, { value: new Secret('pw') });
    assert.match(
      display(fromEnv.command),
      /sh RESTIC_PASSWORD '' restic --repo \/srv\/backup\/restic snapshots --json --no-lock <secret on stdin>$/,
    );
  });

  it('reads captured snapshots by host name, or by a VMID tag (the others by host name)', () => {
    const byHost = resticSnapshotsProbe(target, { file: '/p' }).parse(captured('restic-0.14-snapshots'));
    assert.equal(byHost.outcome.kind, 'ok');
    assert.equal(byHost.copies.length, 32, '8 rounds of web, mail, db and www-legacy');
    // The lab's site (test/lab/README.md, Backup site): its newest round 3 h before the capture,
    // restic's copies 10 min into a round, a minute apart; restic printed them at +01:00.
    const round = Math.floor((Date.parse(INDEX.capturedAt) - 3 * 3_600_000 + 10 * 60_000) / 1000) * 1000;
    assert.deepEqual(
      byHost.copies.slice(-4).map((copy) => [copy.key, copy.time - round]),
      [
        [{ name: 'web' }, 0],
        [{ name: 'mail' }, 60_000],
        [{ name: 'db' }, 120_000],
        [{ name: 'www-legacy' }, 180_000],
      ],
    );
    assert.match(byHost.copies[0]!.location, /^[0-9a-f]{64}$/);
    const byTag = resticSnapshotsProbe({ ...target, guestFrom: { tagPrefix: 'vmid=' } }, { file: '/p' }).parse(
      captured('restic-0.14-snapshots'),
    );
    assert.deepEqual(
      byTag.copies.slice(-4).map((copy) => copy.key),
      [{ vmid: 100 }, { vmid: 101 }, { vmid: 102 }, { name: 'www-legacy' }],
    );
    // The night DST ends, web was backed up at each 02:30: +02:00, then +01:00.
    const dstEnd = resticSnapshotsProbe(target, { file: '/p' }).parse(captured('restic-0.14-snapshots-dst-end'));
    assert.deepEqual(
      dstEnd.copies.slice(0, 2).map((copy) => new Date(copy.time).toISOString()),
      ['2025-10-26T00:30:00.000Z', '2025-10-26T01:30:00.000Z'],
    );
    // A running backup's lock does not stop a listing.
    assert.equal(
      resticSnapshotsProbe(target, { file: '/p' }).parse(captured('restic-0.14-snapshots-locked')).copies.length,
      32,
    );
    assert.deepEqual(
      resticSnapshotsProbe(target, { file: '/p' }).parse({ code: 0, stdout: 'null\n', stderr: '' }).copies,
      [],
    );
  });

  it("reports output that does not read as restic's as an error of the read, not a crash", () => {
    const listing = resticSnapshotsProbe(target, { file: '/p' }).parse({ code: 0, stdout: 'Welcome!\n[]', stderr: '' });
    assert.equal(listing.outcome.kind, 'error');
    assert.match(listing.outcome.detail!, /^unexpected output: /);
    const pbs = pbsSnapshotsProbe({ repository: 'store1' }, { file: '/p' }).parse({
      code: 0,
      stdout: '{}',
      stderr: '',
    });
    assert.deepEqual(pbs.outcome, {
      kind: 'error',
      detail: 'unexpected output: proxmox-backup-client: a JSON array was expected',
    });
  });

  it('tells restic 0.14 failures apart by their messages', () => {
    const snapshots = resticSnapshotsProbe(target, { file: '/p' });
    assert.equal(snapshots.parse(captured('restic-0.14-snapshots-wrong-password')).outcome.kind, 'wrong-password');
    assert.equal(snapshots.parse(captured('restic-0.14-snapshots-no-repository')).outcome.kind, 'no-repository');
    assert.equal(
      snapshots.parse(captured('restic-0.14-snapshots-password-file-missing')).outcome.kind,
      'secret-unreadable',
    );
    const check = resticCheckProbe({ repository: '/r' }, { file: '/p' });
    for (const healthy of ['restic-0.14-check', 'restic-0.14-check-read-data-subset']) {
      assert.deepEqual(check.parse(captured(healthy)), { outcome: { kind: 'ok' }, problems: [] }, healthy);
    }
    assert.equal(check.parse(captured('restic-0.14-check-wrong-password')).outcome.kind, 'wrong-password');
    // A running backup's lock and a stale one read the same.
    for (const name of ['restic-0.14-check-locked', 'restic-0.14-check-stale-lock']) {
      const locked = check.parse(captured(name)).outcome;
      assert.equal(locked.kind, 'busy', name);
      assert.match(locked.detail!, /repository is already locked by PID \d+ on backup/);
    }
    // A damaged data pack: only --read-data reads it.
    assert.equal(check.parse(captured('restic-0.14-check-data-pack-corrupted')).outcome.kind, 'ok');
    const corrupt = check.parse(captured('restic-0.14-check-read-data-data-pack-corrupted'));
    assert.equal(corrupt.outcome.kind, 'failed');
    assert.match(corrupt.outcome.detail!, /^Pack ID does not match, want [0-9a-f]{64}, got [0-9a-f]{64}$/);
  });

  it('names what check found, with the line that explains it, and what failed, by its Fatal line', () => {
    const check = resticCheckProbe({ repository: '/r' }, { file: '/p' }).parse(
      captured('restic-0.14-check-tree-pack-corrupted'),
    );
    assert.equal(check.outcome.kind, 'failed');
    assert.match(
      check.outcome.detail!,
      /^error for tree ([0-9a-f]{8}): decrypting blob \1[0-9a-f]{56} failed: ciphertext verification failed$/,
    );
    assert.deepEqual(check.problems, [check.outcome.detail]);
    assert.equal(
      resticOutcome(captured('restic-0.14-snapshots-no-repository')).detail,
      'Fatal: unable to open config file: stat /srv/backup/no-such-repo/config: no such file or directory',
    );
  });

  it('maps the exit codes of restic 0.17 and later; an unknown code is a failure', () => {
    const run = (code: number | null) => resticOutcome({ code, stdout: '', stderr: 'Fatal: something\n' }).kind;
    assert.deepEqual([0, 1, 10, 11, 12, 130, 3, 42, null, 127].map(run), [
      'ok',
      'failed',
      'no-repository',
      'busy',
      'wrong-password',
      'interrupted',
      'error',
      'error',
      'interrupted',
      'missing-tool',
    ]);
  });

  it('checks the data subset the inventory gives', () => {
    const probe = resticCheckProbe({ repository: '/r', checkSubset: { percent: 5 } }, { file: '/p' });
    assert.equal(display(probe.command), "restic --repo /r --password-file /p check '--read-data-subset=5%'");
  });
});

describe('a borg repository', () => {
  it('lists archives under TZ=UTC, with --log-json, the passphrase read by cat on the host', () => {
    const probe = borgListProbe({ repository: '/srv/backup/borg' }, { file: '/root/borg pass' });
    assert.deepEqual(probe.command.argv, [
      'env',
      'TZ=UTC',
      'PYTHONIOENCODING=utf-8',
      'BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes',
      'BORG_RELOCATED_REPO_ACCESS_IS_OK=yes',
      // borg splits the passcommand as a shell would: the renderer's quoting holds there too.
      "BORG_PASSCOMMAND=cat -- '/root/borg pass'",
      'borg',
      '--log-json',
      'list',
      '--json',
      '--',
      '/srv/backup/borg',
    ]);
    const unencrypted = borgListProbe({ repository: '/b' }, undefined);
    assert.doesNotMatch(display(unencrypted.command), /PASS/);
  });

  it('reads the captured listing as UTC, which TZ=UTC makes it', () => {
    const listing = borgListProbe({ repository: '/b' }, undefined).parse(captured('borg-1.2-list-dst-end-utc'));
    assert.deepEqual(
      listing.copies.map((copy) => [copy.key, copy.location, new Date(copy.time).toISOString()]),
      [
        [{ archive: 'mail-2025-10-26T02:30:00' }, 'mail-2025-10-26T02:30:00', '2025-10-26T00:30:00.000Z'],
        [{ archive: 'db-2025-10-26T02:30:00' }, 'db-2025-10-26T02:30:00', '2025-10-26T01:30:00.000Z'],
      ],
    );
    assert.equal(
      borgListProbe({ repository: '/b' }, undefined).parse(captured('borg-1.2-list-utc')).copies.length,
      16,
      '8 rounds of mail and db',
    );
    // Under the host's own zone, the two archives an hour apart read the same: why TZ=UTC.
    const paris = JSON.parse(captured('borg-1.2-list-dst-end').stdout) as { archives: { start: string }[] };
    assert.equal(paris.archives.length, 2);
    assert.equal(paris.archives[0]?.start, paris.archives[1]?.start);
    assert.equal(borgInstant('2025-10-26T02:30:00.000000+01:00'), utc('2025-10-26T01:30:00Z'));
  });

  it('tells a lock, a wrong passphrase, a missing repository and a failing passcommand apart by msgid', () => {
    const list = borgListProbe({ repository: '/b' }, undefined);
    const kinds = ['locked', 'wrong-passphrase', 'no-repository', 'passcommand-failed'].map(
      (name) => list.parse(captured(`borg-1.2-log-json-list-${name}`)).outcome,
    );
    assert.deepEqual(
      kinds.map((ended) => ended.kind),
      ['busy', 'wrong-password', 'no-repository', 'secret-unreadable'],
    );
    assert.match(kinds[0]!.detail!, /Failed to create\/acquire the lock .*lock.exclusive \(timeout\)/);
  });

  it('a lock borg could not create (no write permission: no backup runs) is an error, not busy', () => {
    // borg 1.2 as a login that may not write the repository (the lab's unreadable-target fault).
    const message =
      'Failed to create/acquire the lock /srv/backup/borg/lock.exclusive ' +
      "([Errno 13] Permission denied: '/srv/backup/borg/lock.exclusive.m2mwlfo2.tmp').";
    const json = JSON.stringify({ type: 'log_message', message, levelname: 'ERROR', msgid: 'LockFailed' });
    assert.deepEqual(borgOutcome({ code: 2, stdout: '', stderr: `${json}\n` }, false), {
      kind: 'error',
      detail: message,
    });
    assert.equal(borgOutcome({ code: 2, stdout: '', stderr: `${message}\n` }, false).kind, 'error');
  });

  it('tells the same errors apart by their words when borg ran without --log-json', () => {
    const kinds = ['locked', 'wrong-passphrase', 'no-repository', 'passcommand-failed'].map(
      (name) => borgOutcome(captured(`borg-1.2-list-${name}`), false).kind,
    );
    assert.deepEqual(kinds, ['busy', 'wrong-password', 'no-repository', 'secret-unreadable']);
    assert.equal(borgOutcome(captured('borg-1.2-check-locked'), true).kind, 'busy');
    const damaged = borgOutcome(captured('borg-1.2-check-damaged-segment'), true);
    assert.equal(damaged.kind, 'failed');
    assert.match(
      damaged.detail!,
      /^Data integrity error: Segment entry checksum mismatch \[segment \d+, offset \d+\]$/,
    );
  });

  it('counts a check that exits 1 as damage found, and a listing that exits 1 as a warning', () => {
    const check = borgCheckProbe({ repository: '/b', verifyData: true }, undefined);
    assert.match(display(check.command), /borg --log-json check --verify-data -- \/b$/);
    const damaged = check.parse(captured('borg-1.2-log-json-check-damaged-segment'));
    assert.equal(damaged.outcome.kind, 'failed');
    assert.match(damaged.outcome.detail!, /^Data integrity error: Segment entry checksum mismatch/);
    assert.ok(damaged.problems.length > 1);
    assert.equal(check.parse(captured('borg-1.2-log-json-check-verify-data-damaged-segment')).outcome.kind, 'failed');
    for (const healthy of ['borg-1.2-check', 'borg-1.2-check-verify-data']) {
      assert.deepEqual(check.parse(captured(healthy)), { outcome: { kind: 'ok' }, problems: [] }, healthy);
    }
    assert.equal(borgOutcome({ code: 1, stdout: '', stderr: 'some warning\n' }, false).kind, 'warning');
    assert.equal(
      borgOutcome({ code: 2, stdout: '', stderr: '{"levelname": "ERROR", "message": "boom"}\n' }, false).kind,
      'error',
    );
  });
});
