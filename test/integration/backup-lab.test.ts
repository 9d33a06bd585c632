// The lab's backup site (test/lab/backups.ts): the repositories exist and the real tools read
// them as the site says, and each injected fault is seen by the real tool. Needs root.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  addCopy,
  backupShell,
  backupSite,
  borgArchives,
  CHECK_USER,
  corruptResticPack,
  damageBorgSegment,
  dumpArchives,
  flipArchiveByte,
  leftoverDump,
  lockRepository,
  makeStale,
  makeTargetUnreadable,
  removeCopies,
  resetBackupSite,
  resticSnapshots,
  SITE_GUESTS,
  SITE_PATHS,
  siteGuest,
  staleLock,
  TARGET_GUESTS,
  truncateArchive,
  wrongResticPassword,
  type BackupSite,
} from '../lab/backups.js';
import { LAB_TIMEZONE } from '../lab/lab-files.js';
import type { Lab } from '../lab/lab.js';
import { freshLab } from './chaton.js';

const execFileAsync = promisify(execFile);
const DAY = 86_400_000;

/** `date` as vzdump names it (strftime "%Y_%m_%d-%H_%M_%S" in the node's zone), with Intl. */
function vzdumpTime(time: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: LAB_TIMEZONE,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(time)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}_${parts.month}_${parts.day}-${parts.hour}_${parts.minute}_${parts.second}`;
}

/** As borg names archives ({now}: local "%Y-%m-%dT%H:%M:%S"). */
function borgLocalTime(time: Date): string {
  return vzdumpTime(time).replace(/^(\d+)_(\d+)_(\d+)-(\d+)_(\d+)_(\d+)$/, '$1-$2-$3T$4:$5:$6');
}

describe('backup site', () => {
  let lab: Lab;
  let site: BackupSite;

  before(async () => {
    lab = await freshLab('it-backup-lab', 0);
    site = await backupSite(lab);
  });
  after(async () => {
    await lab?.down();
  });

  async function sh(script: string, ...args: string[]) {
    return backupShell(lab, script, args);
  }

  function planned(target: 'vzdump' | 'restic' | 'borg', guest: string): Date[] {
    return site.copies
      .filter((copy) => copy.target === target && copy.guest === guest)
      .map((copy) => copy.time)
      .sort((a, b) => a.getTime() - b.getTime());
  }

  it('runs pve1-3 and backup in Europe/Paris, the other hosts in the machine zone', async () => {
    for (const host of ['pve1', 'pve3', 'backup']) {
      const { stdout } = await lab.run(host, ['sh', '-c', 'readlink /etc/localtime; cat /etc/timezone']);
      assert.equal(stdout, `/usr/share/zoneinfo/${LAB_TIMEZONE}\n${LAB_TIMEZONE}\n`, host);
    }
    const gw = await lab.run('gw', ['readlink', '/etc/localtime']);
    assert.notEqual(gw.stdout.trim(), `/usr/share/zoneinfo/${LAB_TIMEZONE}`);
  });

  it('holds vzdump archives named in the node zone, backdated, .log and .notes beside, each passing -t', async () => {
    for (const name of TARGET_GUESTS.vzdump) {
      const { vmid, type, compression } = siteGuest(name);
      const archives = await dumpArchives(lab, vmid!);
      const times = planned('vzdump', name);
      assert.equal(archives.length, times.length, name);
      const inner = type === 'qemu' ? 'vma' : 'tar';
      archives.forEach((archive, i) => {
        const base = `${SITE_PATHS.dump}/vzdump-${type}-${vmid}-${vzdumpTime(times[i]!)}`;
        assert.equal(archive.path, `${base}.${inner}.${compression}`);
        assert.equal(archive.mtime.getTime(), times[i]!.getTime() + 4000, `${archive.path}: mtime`);
      });
      const newest = archives.at(-1)!.path;
      const tool = { zst: 'zstd', gz: 'gzip', lzo: 'lzop' }[compression!];
      const test = await sh(`${tool} -t "$1" && cat "$1.notes" && cat "\${1%.${inner}.*}.log"`, newest);
      assert.equal(test.exitCode, 0, test.stderr);
      assert.match(test.stdout, new RegExp(`^${name}\\d{4}-.* INFO: Starting Backup of VM ${vmid} \\(${type}\\)`));
      assert.match(test.stdout, /INFO: Finished Backup of VM \d+ \(00:00:04\)\n$/);
    }
    assert.deepEqual(await dumpArchives(lab, 105), [], '105 scratch is in no backup job');
  });

  it('holds an lxc archive that is a real tar of the guest files', async () => {
    const newest = (await dumpArchives(lab, 104)).at(-1)!.path;
    const list = await sh('zstd -dc "$1" | tar -tf -', newest);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.match(list.stdout, /^\.\/canary\.txt$/m);
  });

  it('holds a restic repository whose snapshots carry the backdated times, hosts and vmid tags', async () => {
    const snapshots = await resticSnapshots(lab);
    for (const name of TARGET_GUESTS.restic) {
      const mine = snapshots.filter((s) => s.hostname === name);
      assert.deepEqual(
        mine.map((s) => new Date(s.time).getTime()).sort(),
        planned('restic', name).map((time) => time.getTime()),
        name,
      );
      const vmid = siteGuest(name).vmid;
      for (const s of mine) {
        assert.deepEqual(s.tags ?? [], vmid === undefined ? [] : [`vmid=${vmid}`]);
        assert.deepEqual(s.paths, [`${SITE_PATHS.guestData}/${name}`]);
        // Written with the node's UTC offset of that day, as restic in Paris would.
        assert.match(s.time, /\+0[12]:00$/);
      }
    }
    const check = await sh('restic check');
    assert.equal(check.exitCode, 0, check.stderr);
    assert.match(check.stdout, /no errors were found/);
  });

  it('holds a borg repository of <name>-<local time> archives started at the backdated times', async () => {
    const archives = await borgArchives(lab);
    for (const name of TARGET_GUESTS.borg) {
      const times = planned('borg', name);
      const mine = archives.filter((a) => a.name.startsWith(`${name}-`));
      assert.deepEqual(
        mine.map((a) => a.name),
        times.map((time) => `${name}-${borgLocalTime(time)}`),
      );
      assert.deepEqual(
        mine.map((a) => new Date(`${a.start}Z`).getTime()),
        times.map((time) => time.getTime()),
      );
    }
    // Without TZ, borg prints the host's local time, without a zone: the name's time.
    const local = await sh('borg list --json');
    assert.equal(local.exitCode, 0, local.stderr);
    for (const a of (JSON.parse(local.stdout) as { archives: { name: string; start: string }[] }).archives) {
      assert.equal(a.start.slice(0, 19), a.name.replace(/^[a-z-]+?-(?=\d)/, ''));
    }
    const check = await sh('borg check');
    assert.equal(check.exitCode, 0, check.stderr);
  });

  it('adds a copy at either 02:30 of the night DST ends, each kept apart by restic', async () => {
    const first = new Date('2026-10-25T00:30:00Z'); // 02:30 CEST
    const second = new Date('2026-10-25T01:30:00Z'); // 02:30 CET, an hour later
    await addCopy(lab, { target: 'restic', guest: 'web', time: first });
    await addCopy(lab, { target: 'restic', guest: 'web', time: second });
    const times = (await resticSnapshots(lab, 'web')).map((s) => s.time);
    assert.ok(times.includes('2026-10-25T02:30:00+02:00'), times.join(' '));
    assert.ok(times.includes('2026-10-25T02:30:00+01:00'), times.join(' '));
    await resetBackupSite(lab);
    assert.equal((await resticSnapshots(lab, 'web')).length, planned('restic', 'web').length);
  });

  describe('faults', () => {
    it('a stale guest has only copies older than the age given, on every target', async () => {
      await makeStale(lab, 'mail', { now: site.now, age: 3 * DAY });
      const cutoff = site.now.getTime() - 3 * DAY;
      const dumps = await dumpArchives(lab, 101);
      assert.ok(dumps.length > 0 && dumps.every((a) => a.mtime.getTime() < cutoff + 4000));
      const snapshots = await resticSnapshots(lab, 'mail');
      assert.ok(snapshots.length > 0 && snapshots.every((s) => new Date(s.time).getTime() < cutoff));
      const archives = (await borgArchives(lab)).filter((a) => a.name.startsWith('mail-'));
      assert.ok(archives.length > 0 && archives.every((a) => new Date(`${a.start}Z`).getTime() < cutoff));
      assert.equal((await dumpArchives(lab, 100)).length, planned('vzdump', 'web').length, 'web is untouched');
      await resetBackupSite(lab);
    });

    it('a guest with no copy has none anywhere', async () => {
      await removeCopies(lab, 'db');
      assert.deepEqual(await dumpArchives(lab, 102), []);
      assert.deepEqual(await resticSnapshots(lab, 'db'), []);
      assert.ok(!(await borgArchives(lab)).some((a) => a.name.startsWith('db-')));
      await resetBackupSite(lab);
      assert.equal((await dumpArchives(lab, 102)).length, planned('vzdump', 'db').length);
    });

    for (const [vmid, tool, truncated, flipped] of [
      [
        100,
        'zstd',
        /Read error \(39\) : premature end/,
        /Decoding error \(36\) : Restored data doesn't match checksum/,
      ],
      [101, 'gzip', /unexpected end of file/, /invalid compressed data--crc error/],
      [102, 'lzop', /unexpected end of file/, /Checksum error/],
    ] as const) {
      it(`a truncated archive and a flipped byte fail ${tool} -t`, async () => {
        const { path, size } = await truncateArchive(lab, vmid);
        const cut = await sh(`stat -c %s "$1"; ${tool} -t "$1"`, path);
        assert.equal(cut.exitCode, 1);
        assert.equal(cut.stdout.trim(), String(size));
        assert.match(cut.stderr, truncated);
        await resetBackupSite(lab);
        const flip = await flipArchiveByte(lab, vmid);
        const rot = await sh(`${tool} -t "$1"`, flip.path);
        assert.equal(rot.exitCode, 1);
        assert.match(rot.stderr, flipped);
        await resetBackupSite(lab);
      });
    }

    it('a corrupted tree pack fails restic check; a corrupted data pack only restic check --read-data', async () => {
      const tree = await corruptResticPack(lab);
      assert.match(tree.path, /^\/srv\/backup\/restic\/data\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
      const check = await sh('restic check');
      assert.equal(check.exitCode, 1);
      assert.match(check.stderr, /ciphertext verification failed\nFatal: repository contains errors/);
      await resetBackupSite(lab);
      await corruptResticPack(lab, { type: 'data' });
      assert.equal((await sh('restic check')).exitCode, 0);
      const readData = await sh('restic check --read-data');
      assert.equal(readData.exitCode, 1);
      assert.match(readData.stderr, /Pack ID does not match/);
      await resetBackupSite(lab);
    });

    it('a damaged borg segment fails borg check', async () => {
      await damageBorgSegment(lab);
      const check = await sh('borg check');
      assert.equal(check.exitCode, 1);
      assert.match(check.stderr, /Segment entry checksum mismatch/);
      assert.match(check.stderr, /Finished full repository check, errors found\./);
      await resetBackupSite(lab);
    });

    it('a wrong restic password file fails every restic command', async () => {
      await wrongResticPassword(lab);
      const snapshots = await sh('restic snapshots --json');
      assert.equal(snapshots.exitCode, 1);
      assert.equal(snapshots.stderr, 'Fatal: wrong password or no key found\n');
      await resetBackupSite(lab);
      assert.equal((await sh('restic snapshots --json')).exitCode, 0);
    });

    it('leaves the .dat, .tmp and log of an interrupted vzdump run', async () => {
      const left = await leftoverDump(lab, 100);
      assert.match(left.dat, /\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.dat$/);
      const seen = await sh('test -d "$2" && tail -1 "$3" && zstd -t "$1"', left.dat, left.tmpDir, left.log);
      assert.equal(seen.exitCode, 1, 'the partial archive is cut');
      assert.match(seen.stdout, /INFO: creating vzdump archive '.*\.vma\.zst'\n$/);
      assert.equal((await dumpArchives(lab, 100)).length, planned('vzdump', 'web').length, 'no archive among them');
      await resetBackupSite(lab);
    });

    it('a running restic backup holds a lock: restic check fails, snapshots still list; released, check passes', async () => {
      const lock = await lockRepository(lab, 'restic');
      try {
        const check = await sh('restic check');
        assert.equal(check.exitCode, 1);
        assert.match(check.stderr, /repository is already locked by PID \d+ on backup by root/);
        assert.equal((await sh('restic snapshots --json')).exitCode, 0);
      } finally {
        await lock.release();
      }
      assert.equal((await sh('restic check')).exitCode, 0);
    });

    it('borg with-lock holds the lock: other borg commands fail with exit 2; released, they work', async () => {
      const lock = await lockRepository(lab, 'borg');
      try {
        const list = await sh('borg list --json');
        assert.equal(list.exitCode, 2);
        assert.match(
          list.stderr,
          /Failed to create\/acquire the lock \/srv\/backup\/borg\/lock\.exclusive \(timeout\)/,
        );
      } finally {
        await lock.release();
      }
      assert.equal((await sh('borg list --json')).exitCode, 0);
    });

    it('a killed backup leaves a stale lock: restic keeps refusing; borg removes its own host stale lock', async () => {
      await staleLock(lab, 'restic');
      const check = await sh('restic check');
      assert.equal(check.exitCode, 1);
      assert.match(check.stderr, /already locked by PID/);
      await staleLock(lab, 'borg');
      const list = await sh('borg list --json');
      assert.equal(list.exitCode, 0);
      assert.match(list.stderr, /^Killed stale lock backup@/);
      await resetBackupSite(lab);
      assert.equal((await sh('restic check')).exitCode, 0);
    });

    it('an unreadable dump directory: a non-root login gets "Permission denied"', async () => {
      const { path, user } = await makeTargetUnreadable(lab, 'vzdump');
      assert.equal(user, CHECK_USER);
      const backup = lab.hosts.find((host) => host.name === 'backup')!;
      const options = ['-F', 'none', '-i', lab.operatorKeyPath, '-o', `UserKnownHostsFile=${lab.knownHostsPath}`];
      const jump = `ssh ${options.join(' ')} -o BatchMode=yes -W %h:%p root@${lab.bastion.address}`;
      const ssh = await execFileAsync(
        'ssh',
        [...options, '-o', 'BatchMode=yes', '-o', `ProxyCommand=${jump}`, `${user}@${backup.address}`, `ls ${path}`],
        { encoding: 'utf8' },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(ssh.code, 2);
      assert.match(ssh.stderr, /ls: cannot open directory '\/srv\/backup\/dump': Permission denied/);
      await resetBackupSite(lab);
      assert.equal((await sh(`su -s /bin/sh ${user} -c 'cd / && ls ${path} > /dev/null'`)).exitCode, 0);
    });
  });

  it('knows every guest it names', () => {
    for (const list of Object.values(TARGET_GUESTS)) for (const name of list) assert.ok(siteGuest(name));
    assert.equal(SITE_GUESTS.filter((g) => g.vmid !== undefined).length, 6);
  });
});
