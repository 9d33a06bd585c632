// The storage stand-ins' logic without a lab (test/lab/standins/: zpool.ts, mdadm.ts with
// md-array.ts, proxmox-boot-tool.ts, grub-install.ts, sgdisk.ts): each runs on a state of its own
// with a clock the test sets, and what it prints is read back by chaton's own parsers (zfs.ts,
// md.ts, partitions.ts), as chaton reads the real tools' outputs (test/unit/fixtures/storage/).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LabDisk } from '../lab/control.js';
import { STANDIN_TOOLS } from '../lab/pve-lab.js';
import { gptCodes, grubInstall } from '../lab/standins/grub-install.js';
import { resolveDevice } from '../lab/standins/lab-disk-map.js';
import { type StorageRates, withState } from '../lab/standins/storage-state.js';
import { dhms, nicenum, zfsLabels, zpool, type ZfsState, type ZpoolWorld } from '../lab/standins/zpool.js';
import { humanSize, renderMdstat, superblock, SUPERBLOCK_OFFSET, type MdState } from '../lab/standins/md-array.js';
import { mdadm, type MdadmWorld } from '../lab/standins/mdadm.js';
import {
  type BootHost,
  EMPTY_BOOT_STATE,
  ESP_TYPE,
  LAB_KERNELS,
  proxmoxBootTool,
} from '../lab/standins/proxmox-boot-tool.js';
import { writtenDevices } from '../lab/standins/sgdisk.js';
import { inSync, parseMdDetail, parseMdStat } from '../../src/lib/storage/md.js';
import { parseBootToolStatus } from '../../src/lib/storage/partitions.js';
import { leafOf, leavesOf, parsePoolStatus } from '../../src/lib/storage/zfs.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const START = Date.UTC(2026, 11, 2, 13, 0, 0);

/** A lab disk as the Proxmox installer partitions it for a ZFS mirror (BIOS boot, 1 GiB ESP, ZFS). */
function labDisk(serial: string, device: string, sizeGiB = 8): LabDisk {
  const sectors = (sizeGiB * GIB) / 512;
  return {
    serial,
    wwn: '0x5cafe00001000001',
    model: `LAB_SSD_${sizeGiB}G`,
    sizeBytes: sizeGiB * GIB,
    host: 'pve1',
    state: 'inserted',
    device,
    byId: [`ata-LAB_SSD_${sizeGiB}G_${serial}`],
    smartPassed: true,
    partitions: [
      { number: 1, device: `${device}p1`, loop: 'loop20', start: 34, sectors: 2014 },
      { number: 2, device: `${device}p2`, loop: 'loop21', start: 2048, sectors: 2097152 },
      { number: 3, device: `${device}p3`, loop: 'loop22', start: 2099200, sectors: sectors - 2099200 - 34 },
    ],
  };
}

const rates: StorageRates = { resilverBytesPerSecond: 64 * MIB, syncBytesPerSecond: 64 * MIB };

function zpoolWorld(disks: LabDisk[], now = START): ZpoolWorld {
  let guid = 1000;
  return { now, disks, rates, realpath: () => undefined, newGuid: () => String(++guid * 7919) };
}

const diskA = labDisk('CL00D0001', 'loop3');
const diskB = labDisk('CL00D0002', 'loop4');
const diskC = labDisk('CL00D0003', 'loop5');
const small = labDisk('CL00D0004', 'loop6', 4);
const partA = '/dev/disk/by-id/ata-LAB_SSD_8G_CL00D0001-part3';
const partB = '/dev/disk/by-id/ata-LAB_SSD_8G_CL00D0002-part3';

/** A pool as the installer makes it, on A and B. */
function rpool(world: ZpoolWorld): ZfsState {
  const state: ZfsState = { pools: [] };
  const created = zpool(state, ['create', '-f', '-o', 'ashift=12', 'rpool', 'mirror', partA, partB], world);
  assert.deepEqual(created, { stdout: '', stderr: '', code: 0 });
  return state;
}

function statusOf(state: ZfsState, world: ZpoolWorld, ...flags: string[]) {
  const out = zpool(state, ['status', ...flags, 'rpool'], world);
  assert.equal(out.code, 0, out.stderr);
  return { text: out.stdout, status: parsePoolStatus(out.stdout) };
}

describe('lab disk names', () => {
  it('maps a /dev path, a by-id link and a shorthand to the disk and its partition', () => {
    const disks = [diskA, diskB];
    const byPath = resolveDevice(disks, '/dev/loop4p2', () => undefined);
    assert.equal(byPath?.disk.serial, 'CL00D0002');
    assert.equal(byPath?.partition?.number, 2);
    assert.equal(resolveDevice(disks, partA, () => undefined)?.partition?.device, 'loop3p3');
    assert.equal(resolveDevice(disks, 'loop3', () => undefined)?.partition, null);
    assert.equal(resolveDevice(disks, 'ata-LAB_SSD_8G_CL00D0002-part1', () => undefined)?.partition?.number, 1);
    const followed = resolveDevice(disks, '/dev/disk/by-uuid/6D31-87F4', (path) =>
      path === '/dev/disk/by-uuid/6D31-87F4' ? '/dev/loop3p2' : undefined,
    );
    assert.equal(followed?.partition?.device, 'loop3p2');
    assert.equal(
      resolveDevice(disks, '/dev/loop9', () => undefined),
      undefined,
    );
    assert.equal(
      resolveDevice(disks, `${partA.slice(0, -1)}7`, () => undefined),
      undefined,
    );
  });
});

describe('the zpool stand-in', () => {
  it('prints numbers and times as zpool does', () => {
    assert.equal(nicenum(0, true), '0B');
    assert.equal(nicenum(1024 ** 3, true), '1G');
    assert.equal(nicenum(Math.round(1.2 * GIB), true), '1.20G');
    assert.equal(nicenum(631 * MIB, true), '631M');
    assert.equal(nicenum(5.42 * GIB, true), '5.42G');
    assert.equal(nicenum(0), '0');
    assert.equal(dhms(32), '00:00:32');
    assert.equal(dhms(2 * 86400 + 3723), '2 days 01:02:03');
  });

  it("creates the installer's mirror, ONLINE, in the layout of a real status", () => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    const { text, status } = statusOf(state, world);
    assert.equal(status.pool, 'rpool');
    assert.equal(status.state, 'ONLINE');
    assert.equal(status.status, null);
    assert.equal(status.scan.kind, 'none');
    assert.equal(status.errors, 'No known data errors');
    const [mirror] = status.root.children;
    assert.equal(mirror?.name, 'mirror-0');
    assert.equal(mirror?.type, 'mirror');
    assert.deepEqual(
      mirror?.children.map((leaf) => [leaf.name, leaf.state]),
      [
        ['ata-LAB_SSD_8G_CL00D0001-part3', 'ONLINE'],
        ['ata-LAB_SSD_8G_CL00D0002-part3', 'ONLINE'],
      ],
    );
    // The columns of zpool-status-rpool-resilvered-2.1.txt: a TAB, the names padded to the widest.
    assert.match(text, /^\tNAME {32}STATE {5}READ WRITE CKSUM$/m);
    assert.match(text, /^\t {4}ata-LAB_SSD_8G_CL00D0002-part3  ONLINE {7}0 {5}0 {5}0$/m);
    assert.deepEqual(text.split('\n').slice(0, 5), [
      '  pool: rpool',
      ' state: ONLINE',
      '  scan: none requested',
      'config:',
      '',
    ]);
    const paths = statusOf(state, world, '-P', '-L').status;
    assert.deepEqual(
      leavesOf(paths.root).map((leaf) => leaf.name),
      ['/dev/loop3p3', '/dev/loop4p3'],
    );
  });

  it('refuses what the real one refuses, with its words and exit statuses', () => {
    const world = zpoolWorld([diskA, diskB, diskC, small]);
    const state = rpool(world);
    const run = (...argv: string[]) => zpool(state, argv, world);
    assert.deepEqual(run('status', 'tank'), { stdout: '', stderr: "cannot open 'tank': no such pool\n", code: 1 });
    assert.equal(run('offline', 'rpool').code, 2);
    assert.match(run('offline', 'rpool').stderr, /^missing device name\nusage:\n\toffline /);
    assert.deepEqual(run('offline', 'rpool', '/dev/loop5p3'), {
      stdout: '',
      stderr: 'cannot offline /dev/loop5p3: no such device in pool\n',
      code: 1,
    });
    assert.deepEqual(run('replace', 'rpool', partA, '/dev/loop6p3'), {
      stdout: '',
      stderr: `cannot replace ${partA} with /dev/loop6p3: device is too small\n`,
      code: 1,
    });
    assert.deepEqual(run('replace', 'rpool', partA, '/dev/loop4p3'), {
      stdout: '',
      stderr:
        "invalid vdev specification\nuse '-f' to override the following errors:\n" +
        "/dev/loop4p3 is part of active pool 'rpool'\n",
      code: 1,
    });
    assert.equal(run('replace', 'rpool', partA, '/dev/loop9p3').code, 1);
    assert.match(
      run('replace', 'rpool', partA, '/dev/loop9p3').stderr,
      /^cannot open '\/dev\/loop9p3': no such device/,
    );
    assert.deepEqual(run('create', 'rpool', 'mirror', '/dev/loop5p3', '/dev/loop6p3'), {
      stdout: '',
      stderr: "cannot create 'rpool': pool already exists\n",
      code: 1,
    });
    assert.equal(run('offline', 'rpool', partA).code, 0);
    assert.deepEqual(run('offline', 'rpool', partB), {
      stdout: '',
      stderr: `cannot offline ${partB}: no valid replicas\n`,
      code: 1,
    });
    assert.equal(run('frobnicate').code, 2);
    assert.deepEqual(run('create', 'tank', 'mirror', '/dev/loop5p3'), {
      stdout: '',
      stderr: 'invalid vdev specification: mirror requires at least 2 devices\n',
      code: 1,
    });
  });

  it('shows a pulled disk UNAVAIL by its GUID, "was" its path, the pool DEGRADED', () => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    const pulled = { ...world, disks: [diskA] };
    const { status } = statusOf(state, pulled);
    assert.equal(status.state, 'DEGRADED');
    assert.match(status.status ?? '', /^One or more devices could not be opened\./);
    assert.equal(status.action, "Attach the missing device and online it using 'zpool online'.");
    const missing = leafOf(status, [partB]);
    assert.equal(missing?.state, 'UNAVAIL');
    assert.match(missing?.name ?? '', /^\d+$/);
    assert.equal(missing?.was, partB);
    assert.equal(status.root.children[0]?.state, 'DEGRADED');
  });

  it('offlines, replaces and resilvers over time, then detaches the old disk', () => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    assert.equal(zpool(state, ['offline', 'rpool', partB], world).code, 0);
    const offline = statusOf(state, world, '-P').status;
    assert.equal(offline.state, 'DEGRADED');
    assert.equal(leafOf(offline, [partB])?.state, 'OFFLINE');
    assert.match(offline.status ?? '', /taken offline by the administrator/);

    // The operator pulls B and puts in C, partitioned like A.
    const swapped = { ...world, disks: [diskA, diskC], now: START + 60_000 };
    const newPart = '/dev/disk/by-id/ata-LAB_SSD_8G_CL00D0003-part3';
    assert.deepEqual(zpool(state, ['replace', '-f', 'rpool', partB, newPart], swapped), {
      stdout: '',
      stderr: '',
      code: 0,
    });
    // 1.2 GiB at 64 MiB/s: 19.2 s. After 5 s: 320 MiB of 1.20G.
    const during = statusOf(state, { ...swapped, now: swapped.now + 5000 });
    const scan = during.status.scan;
    assert.equal(scan.kind, 'resilver');
    assert.ok(scan.state === 'in-progress');
    assert.equal(scan.processedBytes, 320 * MIB);
    assert.equal(scan.totalBytes, Math.round(1.2 * GIB));
    assert.equal(scan.bytesPerSecond, 64 * MIB);
    assert.equal(scan.percentDone, 26.04);
    assert.equal(scan.secondsToGo, 14);
    assert.equal(during.status.state, 'DEGRADED');
    assert.match(during.status.status ?? '', /currently being resilvered/);
    assert.equal(during.status.action, 'Wait for the resilver to complete.');
    const [mirror] = during.status.root.children;
    const [kept, replacing] = mirror?.children ?? [];
    assert.equal(kept?.name, 'ata-LAB_SSD_8G_CL00D0001-part3');
    assert.equal(replacing?.name, 'replacing-1');
    assert.equal(replacing?.state, 'DEGRADED');
    assert.deepEqual(
      replacing?.children.map((leaf) => [leaf.name, leaf.state, leaf.resilvering]),
      [
        ['ata-LAB_SSD_8G_CL00D0002-part3', 'OFFLINE', false],
        ['ata-LAB_SSD_8G_CL00D0003-part3', 'ONLINE', true],
      ],
    );
    assert.match(during.text, /^ {2}scan: resilver in progress since \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2026$/m);
    assert.match(during.text, /^\t1\.20G \/ 1\.20G scanned at \S+\/s, 320M \/ 1\.20G issued at 64M\/s$/m);
    assert.match(during.text, /^\t320M resilvered, 26\.04% done, 00:00:14 to go$/m);
    assert.equal(zpool(state, ['scrub', 'rpool'], swapped).stderr, 'cannot scrub rpool: currently resilvering\n');

    const after = statusOf(state, { ...swapped, now: swapped.now + 60_000 }).status;
    assert.equal(after.state, 'ONLINE');
    assert.equal(after.status, null);
    assert.ok(after.scan.kind === 'resilver' && after.scan.state === 'finished');
    assert.equal(after.scan.processedBytes, Math.round(1.2 * GIB));
    assert.equal(after.scan.durationSeconds, 19);
    assert.deepEqual(
      leavesOf(after.root).map((leaf) => [leaf.name, leaf.state]),
      [
        ['ata-LAB_SSD_8G_CL00D0001-part3', 'ONLINE'],
        ['ata-LAB_SSD_8G_CL00D0003-part3', 'ONLINE'],
      ],
    );
  });

  it('says no estimate under 10 MiB/s, and runs a scrub that -s stops', () => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    assert.equal(zpool(state, ['scrub', 'rpool'], world).code, 0);
    const slow = { ...world, rates: { ...rates, resilverBytesPerSecond: 5 * MIB }, now: START + 10_000 };
    const { text, status } = statusOf(state, slow);
    assert.ok(status.scan.kind === 'scrub' && status.scan.state === 'in-progress');
    assert.equal(status.scan.secondsToGo, null);
    assert.match(text, /^\t0B repaired, 4\.07% done, no estimated completion time$/m);
    assert.equal(
      zpool(state, ['scrub', 'rpool'], slow).stderr,
      "cannot scrub rpool: currently scrubbing; use 'zpool scrub -s' to cancel scrub\n",
    );
    assert.equal(zpool(state, ['scrub', '-s', 'rpool'], slow).code, 0);
    const stopped = statusOf(state, slow).status;
    assert.ok(stopped.scan.kind === 'scrub' && stopped.scan.state === 'canceled');
  });

  it('replaces a disk still ONLINE (a failing one taken out early): the pool stays ONLINE, resilvering', () => {
    const world = zpoolWorld([diskA, diskB, diskC]);
    const state = rpool(world);
    const newPart = '/dev/disk/by-id/ata-LAB_SSD_8G_CL00D0003-part3';
    assert.equal(zpool(state, ['replace', 'rpool', 'loop4p3', newPart], world).code, 0);
    const { status } = statusOf(state, { ...world, now: START + 1000 });
    assert.equal(status.state, 'ONLINE');
    assert.match(status.status ?? '', /currently being resilvered/);
    const replacing = status.root.children[0]?.children[1];
    assert.deepEqual(
      [replacing?.name, replacing?.state, replacing?.children.map((leaf) => leaf.resilvering)],
      ['replacing-1', 'ONLINE', [false, true]],
    );
    assert.equal(
      zpool(state, ['replace', 'rpool', 'loop4p3', 'loop6p3'], world).stderr,
      'cannot replace loop4p3 with loop6p3: cannot replace a replacing device\n',
    );
  });

  it('says which pools are sick with -x, and warns of a device onlined that is not there', () => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    assert.equal(zpool(state, ['status', '-x'], world).stdout, 'all pools are healthy\n');
    assert.equal(zpool(state, ['status', '-x', 'rpool'], world).stdout, "pool 'rpool' is healthy\n");
    const pulled = { ...world, disks: [diskA] };
    assert.equal(parsePoolStatus(zpool(state, ['status', '-x'], pulled).stdout).state, 'DEGRADED');
    assert.deepEqual(zpool(state, ['online', 'rpool', partB], pulled), {
      stdout:
        `warning: device '${partB}' onlined, but remains in faulted state\n` +
        "use 'zpool replace' to replace devices that are no longer present\n",
      stderr: '',
      code: 0,
    });
    assert.equal(zpool({ pools: [] }, ['status'], world).stdout, 'no pools available\n');
  });

  it('detaches a side of the mirror, and refuses the last one', () => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    assert.equal(zpool(state, ['detach', 'rpool', 'ata-LAB_SSD_8G_CL00D0002-part3'], world).code, 0);
    const single = statusOf(state, world).status;
    assert.deepEqual(
      single.root.children.map((vdev) => [vdev.name, vdev.type]),
      [['ata-LAB_SSD_8G_CL00D0001-part3', 'disk']],
    );
    assert.deepEqual(zpool(state, ['detach', 'rpool', partA], world), {
      stdout: '',
      stderr: `cannot detach ${partA}: only applicable to mirror and replacing vdevs\n`,
      code: 1,
    });
  });
});

/** A backup host's disk: BIOS boot, then Linux RAID to the end. */
function raidDisk(serial: string, device: string, sizeGiB = 4): LabDisk {
  const sectors = (sizeGiB * GIB) / 512;
  return {
    ...labDisk(serial, device, sizeGiB),
    host: 'backup',
    partitions: [
      { number: 1, device: `${device}p1`, loop: 'loop30', start: 34, sectors: 2014 },
      { number: 2, device: `${device}p2`, loop: 'loop31', start: 2048, sectors: sectors - 2048 - 34 },
    ],
  };
}

function mdWorld(disks: LabDisk[], now = START): MdadmWorld {
  return {
    now,
    disks,
    rates,
    realpath: () => undefined,
    hostname: 'backup',
    newUuid: () => 'e35d52b7:6c8e6a23:9f3d188d:d519bd2b',
    // Each partition loop device's numbers: major 7 (loop), its minor from its name.
    deviceNumbers: (path) => ({ major: 7, minor: Number(/loop(\d+)p(\d+)$/.exec(path)?.slice(1).join('')) }),
  };
}

const raidA = raidDisk('CL00D0011', 'loop1');
const raidB = raidDisk('CL00D0012', 'loop2');
const raidC = raidDisk('CL00D0013', 'loop3');
const raidSmall = raidDisk('CL00D0014', 'loop4', 2);

function md0(world: MdadmWorld): MdState {
  const state: MdState = { arrays: [] };
  const created = mdadm(
    state,
    [
      '--create',
      '/dev/md0',
      '--level=1',
      '--raid-devices=2',
      '--metadata=1.2',
      '--assume-clean',
      '/dev/loop1p2',
      '/dev/loop2p2',
    ],
    world,
  );
  assert.deepEqual(created, { stdout: '', stderr: 'mdadm: array /dev/md0 started.\n', code: 0 });
  return state;
}

function detailOf(state: MdState, world: MdadmWorld) {
  const out = mdadm(state, ['--detail', '/dev/md0'], world);
  assert.equal(out.code, 0, out.stderr);
  return { text: out.stdout, detail: parseMdDetail(out.stdout) };
}

function mdstatOf(state: MdState, world: MdadmWorld) {
  const text = renderMdstat(state, world);
  const array = parseMdStat(text).arrays.find((candidate) => candidate.name === 'md0');
  assert.ok(array);
  return { text, array };
}

describe('the mdadm stand-in and /proc/mdstat', () => {
  it('sizes as mdadm prints them', () => {
    assert.equal(humanSize(41909248 * 1024), ' (39.97 GiB 42.92 GB)');
    assert.equal(humanSize(1023 * MIB), ' (1023.00 MiB 1072.69 MB)');
    assert.equal(humanSize(4000 * 1024), '');
  });

  it('creates a clean RAID1, in the layout of a real --detail and /proc/mdstat', () => {
    const world = mdWorld([raidA, raidB]);
    const state = md0(world);
    const { text, detail } = detailOf(state, world);
    assert.equal(detail.array, '/dev/md0');
    assert.equal(detail.level, 'raid1');
    assert.equal(detail.state, 'clean');
    assert.deepEqual([detail.raidDevices, detail.totalDevices, detail.activeDevices], [2, 2, 2]);
    assert.deepEqual([detail.workingDevices, detail.failedDevices, detail.spareDevices], [2, 0, 0]);
    assert.equal(detail.sync, null);
    assert.equal(detail.uuid, 'e35d52b7:6c8e6a23:9f3d188d:d519bd2b');
    // 4 GiB less the table's 2048 + 34 sectors and the 1 MiB data offset, in whole 64 KiB.
    assert.equal(detail.arraySizeKib, 4192192);
    assert.deepEqual(
      detail.members.map((member) => [
        member.number,
        member.major,
        member.minor,
        member.raidDevice,
        member.states,
        member.device,
      ]),
      [
        [0, 7, 12, 0, ['active', 'sync'], '/dev/loop1p2'],
        [1, 7, 22, 1, ['active', 'sync'], '/dev/loop2p2'],
      ],
    );
    // The columns of mdadm-detail-raid1-faulty-4.x.txt.
    assert.match(text, /^ {11}Version : 1\.2$/m);
    assert.match(text, /^ {13}State : clean $/m);
    assert.match(text, /^ {14}Name : backup:0 {2}\(local to host backup\)$/m);
    assert.match(text, /^ {7}1 {7}7 {7}22 {8}1 {6}active sync {3}\/dev\/loop2p2$/m);
    const { text: mdstat, array } = mdstatOf(state, world);
    assert.deepEqual(
      array.members.map((member) => [member.device, member.index, member.flags]),
      [
        ['loop2p2', 1, []],
        ['loop1p2', 0, []],
      ],
    );
    assert.deepEqual(array.slots, { total: 2, working: 2 });
    assert.equal(array.slotMap, 'UU');
    assert.equal(array.blocks, 4192192);
    assert.equal(array.sync, null);
    assert.match(
      mdstat,
      /^md0 : active raid1 loop2p2\[1\] loop1p2\[0\]\n {6}4192192 blocks super 1\.2 \[2\/2\] \[UU\]\n\nunused/m,
    );
  });

  it('fails, removes, adds a member and rebuilds it over time', () => {
    const world = mdWorld([raidA, raidB]);
    const state = md0(world);
    const run = (argv: string[], at = world) => mdadm(state, argv, at);
    assert.deepEqual(run(['--manage', '/dev/md0', '--remove', '/dev/loop2p2']), {
      stdout: '',
      stderr: 'mdadm: hot remove failed for /dev/loop2p2: Device or resource busy\n',
      code: 1,
    });
    assert.deepEqual(run(['--manage', '/dev/md0', '--fail', '/dev/loop2p2', '--remove', '/dev/loop2p2']), {
      stdout: '',
      stderr: 'mdadm: set /dev/loop2p2 faulty in /dev/md0\nmdadm: hot removed /dev/loop2p2 from /dev/md0\n',
      code: 0,
    });
    assert.deepEqual(run(['/dev/md0', '--fail', '/dev/loop1p2']), {
      stdout: '',
      stderr: 'mdadm: set device faulty failed for /dev/loop1p2:  Device or resource busy\n',
      code: 2,
    });
    const degraded = detailOf(state, world).detail;
    assert.equal(degraded.state, 'clean, degraded');
    assert.deepEqual(
      degraded.members.map((member) => [member.raidDevice, member.states, member.device]),
      [
        [0, ['active', 'sync'], '/dev/loop1p2'],
        [1, ['removed'], null],
      ],
    );
    assert.equal(mdstatOf(state, world).array.slotMap, 'U_');

    const swapped = { ...world, disks: [raidA, raidC, raidSmall], now: START + 60_000 };
    assert.deepEqual(run(['--manage', '/dev/md0', '--add', '/dev/loop4p2'], swapped), {
      stdout: '',
      stderr: 'mdadm: /dev/loop4p2 not large enough to join array\n',
      code: 1,
    });
    assert.deepEqual(run(['--manage', '/dev/md0', '--add', '/dev/loop3p2'], swapped), {
      stdout: '',
      stderr: 'mdadm: added /dev/loop3p2\n',
      code: 0,
    });
    assert.deepEqual(run(['--manage', '/dev/md0', '--add', '/dev/loop3p2'], swapped), {
      stdout: '',
      stderr: 'mdadm: Cannot open /dev/loop3p2: Device or resource busy\n',
      code: 1,
    });
    // 4192192 KiB at 64 MiB/s: 64 s. After 10 s: 655360 KiB, 15.6%, 53 s to go.
    const during = { ...swapped, now: swapped.now + 10_000 };
    const { detail } = detailOf(state, during);
    assert.equal(detail.state, 'clean, degraded, recovering');
    assert.deepEqual(detail.sync, { action: 'rebuild', percent: 15 });
    assert.deepEqual([detail.activeDevices, detail.workingDevices, detail.spareDevices], [1, 2, 1]);
    assert.deepEqual(
      detail.members.map((member) => [member.number, member.raidDevice, member.states, member.device]),
      [
        [0, 0, ['active', 'sync'], '/dev/loop1p2'],
        [2, 1, ['spare', 'rebuilding'], '/dev/loop3p2'],
      ],
    );
    const { text, array } = mdstatOf(state, during);
    assert.deepEqual(array.sync, {
      action: 'recovery',
      percent: 15.6,
      doneBlocks: 655360,
      totalBlocks: 4192192,
      finishMinutes: 0.8,
      kibPerSecond: 65536,
    });
    assert.equal(array.slotMap, 'U_');
    assert.match(
      text,
      /^ {6}\[===>\.{17}\] {2}recovery = 15\.6% \(655360\/4192192\) finish=0\.8min speed=65536K\/sec$/m,
    );
    assert.match(run(['--action=check', '/dev/md0'], during).stderr, /^mdadm: Count not set action for \/dev\/md0/);

    const after = { ...swapped, now: swapped.now + 70_000 };
    const done = detailOf(state, after).detail;
    assert.equal(done.state, 'clean');
    assert.equal(done.sync, null);
    assert.ok(done.members.every(inSync));
    assert.equal(mdstatOf(state, after).array.slotMap, 'UU');
  });

  it('resyncs an array made without --assume-clean, its options in any form', () => {
    const world = mdWorld([raidA, raidB]);
    const state: MdState = { arrays: [] };
    const created = mdadm(state, ['-C', '/dev/md1', '-l1', '-n', '2', '-e', '1.2', '-R', 'loop1p2', 'loop2p2'], world);
    assert.deepEqual(created, { stdout: '', stderr: 'mdadm: array /dev/md1 started.\n', code: 0 });
    const during = { ...world, now: START + 30_000 };
    const out = mdadm(state, ['--detail', '/dev/md1'], during);
    const detail = parseMdDetail(out.stdout);
    assert.equal(detail.state, 'clean, resyncing');
    assert.deepEqual(detail.sync, { action: 'resync', percent: 46 });
    assert.match(out.stdout, /^ {5}Resync Status : 46% complete$/m);
    const array = parseMdStat(renderMdstat(state, during)).arrays[0];
    assert.equal(array?.sync?.action, 'resync');
    assert.deepEqual(mdadm(state, ['--create', '/dev/md2', '--level=1', '--frobnicate'], world), {
      stdout: '',
      stderr: "mdadm: unrecognized option '--frobnicate'\n",
      code: 2,
    });
    assert.deepEqual(mdadm(state, ['--create', '/dev/md2', '--raid-devices=2', 'loop1p2', 'loop2p2'], world), {
      stdout: '',
      stderr: 'mdadm: a RAID level is needed to create an array.\n',
      code: 1,
    });
    assert.deepEqual(
      mdadm(state, ['--create', '/dev/md2', '--level=raid1', '--raid-devices=2', 'loop1p2', 'loop2p2'], world),
      {
        stdout: '',
        stderr: 'mdadm: cannot open loop1p2: Device or resource busy\n',
        code: 1,
      },
    );
  });

  it('keeps an added disk as a spare when no slot is empty, and lists a failed member until it is removed', () => {
    const world = mdWorld([raidA, raidB, raidC]);
    const state = md0(world);
    assert.equal(mdadm(state, ['/dev/md0', '--add', '/dev/loop3p2'], world).code, 0);
    const spare = detailOf(state, world).detail;
    assert.equal(spare.state, 'clean');
    assert.deepEqual(spare.members.at(-1)?.states, ['spare']);
    assert.equal(spare.members.at(-1)?.raidDevice, null);
    assert.deepEqual(mdstatOf(state, world).array.members[0], { device: 'loop3p2', index: 2, flags: ['S'] });
    // A failure puts the spare to work at once.
    assert.equal(mdadm(state, ['/dev/md0', '--fail', '/dev/loop2p2'], world).code, 0);
    const failed = detailOf(state, world).detail;
    assert.equal(failed.state, 'clean, degraded, recovering');
    assert.deepEqual(
      failed.members.map((member) => [member.raidDevice, member.states.join(' '), member.device]),
      [
        [0, 'active sync', '/dev/loop1p2'],
        [1, 'spare rebuilding', '/dev/loop3p2'],
        [null, 'faulty', '/dev/loop2p2'],
      ],
    );
    assert.deepEqual(mdstatOf(state, world).array.members.at(-2), { device: 'loop2p2', index: 1, flags: ['F'] });
    assert.deepEqual(mdadm(state, ['/dev/md0', '--remove', 'failed'], world), {
      stdout: '',
      stderr: 'mdadm: hot removed failed from /dev/md0\n',
      code: 0,
    });
    assert.equal(detailOf(state, world).detail.totalDevices, 2);
  });

  it('takes a pulled disk out, as the kernel and udev do', () => {
    const world = mdWorld([raidA, raidB]);
    const state = md0(world);
    const pulled = { ...world, disks: [raidA] };
    const { detail } = detailOf(state, pulled);
    assert.equal(detail.state, 'clean, degraded');
    assert.deepEqual([detail.totalDevices, detail.activeDevices], [1, 1]);
    assert.equal(detail.members[1]?.states.join(' '), 'removed');
    assert.deepEqual(mdadm(state, ['--fail', '/dev/loop2p2'], pulled).code, 1);
  });

  it('runs a check, and refuses what the real one refuses', () => {
    const world = mdWorld([raidA, raidB]);
    const state = md0(world);
    assert.equal(mdadm(state, ['--action=check', '/dev/md0'], world).code, 0);
    const during = { ...world, now: START + 5_000 };
    assert.equal(detailOf(state, during).detail.state, 'clean, checking');
    assert.deepEqual(detailOf(state, during).detail.sync?.action, 'check');
    assert.equal(mdstatOf(state, during).array.sync?.action, 'check');
    assert.deepEqual(mdadm(state, ['--detail', '/dev/md1'], world), {
      stdout: '',
      stderr: 'mdadm: cannot open /dev/md1: No such file or directory\n',
      code: 1,
    });
    assert.deepEqual(mdadm(state, ['--manage', '/dev/md0', '--fail', '/dev/loop9p2'], world), {
      stdout: '',
      stderr: 'mdadm: stat failed for /dev/loop9p2: No such file or directory\n',
      code: 1,
    });
    assert.equal(mdadm(state, ['--action=frobnicate', '/dev/md0'], world).code, 2);
  });
});

describe('the sgdisk wrapper', () => {
  it('knows which disk a run writes: the device, or the target of -R, none under -P or for a print', () => {
    assert.deepEqual(writtenDevices(['/dev/loop3', '-R', '/dev/loop5']), ['/dev/loop5']);
    assert.deepEqual(writtenDevices(['--replicate=/dev/loop5', '/dev/loop3']), ['/dev/loop5']);
    assert.deepEqual(writtenDevices(['-G', '/dev/loop5']), ['/dev/loop5']);
    assert.deepEqual(
      writtenDevices([
        '-a1',
        '-n1:34:2047',
        '-t1:EF02',
        '-n',
        '2:2048:+1G',
        '-t2:EF00',
        '-n3:0:0',
        '-t3:BF01',
        '/dev/loop3',
      ]),
      ['/dev/loop3'],
    );
    assert.deepEqual(writtenDevices(['-t2:c12a7328-f81f-11d2-ba4b-00a0c93ec93b', '/dev/loop3']), ['/dev/loop3']);
    assert.deepEqual(writtenDevices(['-p', '/dev/loop3']), []);
    assert.deepEqual(writtenDevices(['-i', '2', '/dev/loop3']), []);
    assert.deepEqual(writtenDevices(['--info=2', '/dev/loop3']), []);
    assert.deepEqual(writtenDevices(['-b', '/root/table.bak', '/dev/loop3']), []);
    assert.deepEqual(writtenDevices(['-P', '-Z', '/dev/loop3']), []);
    assert.deepEqual(writtenDevices(['-Z', '/dev/loop3']), ['/dev/loop3']);
  });
});

/** A host for proxmox-boot-tool: blkid's answers, the ESP list, the by-uuid links, the tools run. */
function bootHost(disks: LabDisk[], filesystems: Map<string, { type?: string; uuid?: string }>, efi = true) {
  const links = new Map<string, string>();
  const ran: string[][] = [];
  let list: string[] | null = null;
  const host: BootHost = {
    world: {
      now: START,
      disks,
      realpath: (path) => links.get(path) ?? (resolveDevice(disks, path, () => undefined) ? path : undefined),
    },
    efi,
    readEspList: () => list,
    writeEspList: (uuids) => {
      list = uuids;
    },
    blkid: (path) => filesystems.get(path) ?? {},
    partType: (_disk, number) => (number === 2 ? ESP_TYPE : null),
    run: (argv) => {
      ran.push(argv);
      if (argv[0] === 'mkfs.vfat') filesystems.set(argv[3] ?? '', { type: 'vfat', uuid: `6D31-87F${ran.length}` });
      return { stdout: argv[0] === 'mkfs.vfat' ? 'mkfs.fat 4.2 (2021-01-31)\n' : '', stderr: '', code: 0 };
    },
    linkByUuid: (uuid, device) => links.set(`/dev/disk/by-uuid/${uuid}`, device),
  };
  return { host, links, ran, list: () => list };
}

describe('the proxmox-boot-tool stand-in', () => {
  it('formats and inits both ESPs; status lists them as the real one does, parsed by chaton', () => {
    const filesystems = new Map<string, { type?: string; uuid?: string }>();
    const { host, ran, list, links } = bootHost([diskA, diskB], filesystems);
    const state = structuredClone(EMPTY_BOOT_STATE);
    const run = (...argv: string[]) => proxmoxBootTool(state, argv, host);
    assert.deepEqual(run('status'), {
      stdout: '',
      stderr: 'E: /etc/kernel/proxmox-boot-uuids does not exist.\n',
      code: 2,
    });
    assert.deepEqual(parseBootToolStatus(run('status')), {
      installed: true,
      managing: false,
      bootedWith: null,
      esps: [],
      missing: [],
      unreadable: [],
    });
    const formatted = run('format', '/dev/loop3p2');
    assert.equal(formatted.code, 0, formatted.stderr);
    assert.equal(
      formatted.stdout,
      `UUID="" SIZE="1073741824" FSTYPE="" PARTTYPE="${ESP_TYPE}" PKNAME="loop3" MOUNTPOINT=""\n` +
        "Formatting '/dev/loop3p2' as vfat..\nmkfs.fat 4.2 (2021-01-31)\nDone.\n",
    );
    assert.deepEqual(ran, [['mkfs.vfat', '-F', '32', '/dev/loop3p2']]);
    assert.equal(links.get('/dev/disk/by-uuid/6D31-87F1'), '/dev/loop3p2');
    assert.deepEqual(run('format', '/dev/loop3p2'), {
      stdout: `UUID="6D31-87F1" SIZE="1073741824" FSTYPE="vfat" PARTTYPE="${ESP_TYPE}" PKNAME="loop3" MOUNTPOINT=""\n`,
      stderr: "E: '/dev/loop3p2' contains a filesystem ('vfat') - exiting (use --force to override)\n",
      code: 1,
    });
    assert.equal(run('format', '/dev/loop4p2').code, 0);
    const init = run('init', '/dev/loop3p2');
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^Re-executing '\/usr\/sbin\/proxmox-boot-tool' in new private mount namespace\.\.$/m);
    assert.match(init.stdout, /^Adding '\/dev\/loop3p2' to list of synced ESPs\.\.$/m);
    assert.match(init.stdout, /^Installing systemd-boot\.\.$/m);
    assert.equal(run('init', '/dev/loop4p2').code, 0);
    assert.deepEqual(list(), ['6D31-87F1', '6D31-87F2']);
    const status = run('status');
    assert.equal(status.stdout.split('\n')[1], 'System currently booted with uefi');
    const parsed = parseBootToolStatus(status);
    assert.equal(parsed.bootedWith, 'uefi');
    assert.deepEqual(
      parsed.esps.map((esp) => [esp.uuid, esp.loaders, esp.kernels]),
      [
        ['6D31-87F1', ['uefi'], LAB_KERNELS],
        ['6D31-87F2', ['uefi'], LAB_KERNELS],
      ],
    );

    // B's disk pulled: its ESP's link points at nothing, status warns, clean drops it.
    links.delete('/dev/disk/by-uuid/6D31-87F2');
    const warned = run('status');
    assert.equal(
      warned.stderr,
      "WARN: /dev/disk/by-uuid/6D31-87F2 does not exist - clean '/etc/kernel/proxmox-boot-uuids'! - skipping\n",
    );
    assert.deepEqual(parseBootToolStatus(warned).missing, ['6D31-87F2']);
    assert.deepEqual(run('clean'), {
      stdout:
        "Checking whether ESP '6D31-87F1' exists.. Found!\nChecking whether ESP '6D31-87F2' exists.. Not found!\n" +
        'Sorting and removing duplicate ESPs..\n',
      stderr: '',
      code: 0,
    });
    assert.deepEqual(list(), ['6D31-87F1']);
  });

  it('refuses what the real script refuses, and says grub on a legacy host', () => {
    const filesystems = new Map([['/dev/loop3p2', { type: 'vfat', uuid: '1FDB-C48E' }]]);
    const { host } = bootHost([diskA, small], filesystems, false);
    const state = structuredClone(EMPTY_BOOT_STATE);
    const run = (...argv: string[]) => proxmoxBootTool(state, argv, host);
    assert.deepEqual(run('format'), {
      stdout: '',
      stderr: 'E: <partition> is mandatory.\n\n  /usr/sbin/proxmox-boot-tool format <partition> [--force]\n',
      code: 1,
    });
    assert.deepEqual(run('format', '/dev/loop9p2'), {
      stdout: '',
      stderr: "E: '/dev/loop9p2' does not exist!\n",
      code: 1,
    });
    assert.equal(run('format', '/dev/loop3').stderr, "E: block device '/dev/loop3' has children!\n");
    assert.equal(
      run('init', '/dev/loop3p3').stderr,
      "E: '/dev/loop3p3' has wrong partition type (!= c12a7328-f81f-11d2-ba4b-00a0c93ec93b).\n",
    );
    assert.equal(run('init', '/dev/loop3p2').code, 0);
    const parsed = parseBootToolStatus(run('status'));
    assert.equal(parsed.bootedWith, 'legacy bios');
    assert.deepEqual(parsed.esps[0]?.loaders, ['grub']);
    assert.equal(run('frobnicate').code, 1);
  });
});

describe('the grub-install stand-in', () => {
  const print = (codes: string[]) => () =>
    'Disk /dev/loop1: 8388608 sectors, 4.0 GiB\n\nNumber  Start (sector)    End (sector)  Size       Code  Name\n' +
    codes.map((code, index) => `   ${index + 1}              34            2047   1007.0 KiB  ${code}  \n`).join('');

  it('reads the codes of a real sgdisk -p', () => {
    const fixture = readFileSync(
      new URL('../../../test/unit/fixtures/storage/sgdisk-p-md-raid.txt', import.meta.url),
      'utf8',
    );
    assert.deepEqual(gptCodes(fixture), ['EF02', 'FD00']);
    const blank = readFileSync(
      new URL('../../../test/unit/fixtures/storage/sgdisk-p-blank.txt', import.meta.url),
      'utf8',
    );
    assert.equal(gptCodes(blank), null);
  });

  it('installs on a disk with a BIOS boot partition and records it; refuses one without', () => {
    const state = structuredClone(EMPTY_BOOT_STATE);
    const world = { now: START, disks: [raidA, raidB], realpath: () => undefined };
    assert.deepEqual(grubInstall(state, ['--recheck', '/dev/loop1'], world, print(['EF02', 'FD00'])), {
      stdout: '',
      stderr: 'Installing for i386-pc platform.\nInstallation finished. No error reported.\n',
      code: 0,
    });
    assert.deepEqual(state.grub, [{ serial: 'CL00D0011', installedAt: START }]);
    assert.deepEqual(grubInstall(state, ['/dev/loop2'], world, print(['FD00'])), {
      stdout: '',
      stderr:
        'Installing for i386-pc platform.\n' +
        "grub-install: warning: this GPT partition label contains no BIOS Boot Partition; embedding won't be possible.\n" +
        'grub-install: error: embedding is not possible, but this is required for RAID and LVM install.\n',
      code: 1,
    });
    assert.equal(grubInstall(state, ['/dev/loop7'], world, print([])).code, 1);
    assert.equal(state.grub.length, 1);
  });
});

describe('the storage stand-ins in the lab', () => {
  it('are the tools of role disks, in /usr/local, with cat for /proc/mdstat', () => {
    assert.deepEqual(
      STANDIN_TOOLS['disks']?.map((tool) => `${tool.dir}/${tool.name} ${tool.module}`),
      [
        'bin/lsblk lsblk.js',
        'sbin/smartctl smartctl.js',
        'sbin/ledctl ledctl.js',
        'sbin/zpool zpool.js',
        'sbin/mdadm mdadm.js',
        'sbin/proxmox-boot-tool proxmox-boot-tool.js',
        'sbin/grub-install grub-install.js',
        'sbin/sgdisk sgdisk.js',
        'bin/cat cat.js',
      ],
    );
  });
});

describe("a member's md superblock", () => {
  it('is what the real blkid reads as a linux_raid_member of the array', async (t) => {
    const world = mdWorld([raidA, raidB]);
    const state = md0(world);
    const [array] = state.arrays;
    const [member] = array?.members ?? [];
    assert.ok(array && member);
    const dir = await mkdtemp(join(tmpdir(), 'md-superblock-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const image = join(dir, 'member.img');
    await writeFile(image, Buffer.alloc(0));
    await truncate(image, 8 * MIB);
    const handle = await open(image, 'r+');
    const deviceUuid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    await handle.write(superblock(array, member, deviceUuid, (8 * MIB) / 512), 0, undefined, SUPERBLOCK_OFFSET);
    await handle.close();
    const probe = spawnSync('blkid', ['-p', '-o', 'export', image], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /^TYPE=linux_raid_member$/m);
    assert.match(probe.stdout, /^UUID=e35d52b7-6c8e-6a23-9f3d-188dd519bd2b$/m);
    assert.match(probe.stdout, /^UUID_SUB=01234567-89ab-cdef-0123-456789abcdef$/m);
    assert.match(probe.stdout, /^LABEL=backup:0$/m);
    assert.match(probe.stdout, /^VERSION=1\.2$/m);
  });
});

describe("a pool member's ZFS labels", () => {
  it('are what the real blkid reads as a zfs_member of the pool', async (t) => {
    const world = zpoolWorld([diskA, diskB]);
    const state = rpool(world);
    const [pool] = state.pools;
    const leaf = pool?.vdevs[0]?.type === 'mirror' ? pool.vdevs[0].children[0] : undefined;
    assert.ok(pool && leaf?.type === 'disk');
    const dir = await mkdtemp(join(tmpdir(), 'zfs-labels-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const image = join(dir, 'member.img');
    const size = 100 * MIB + 4096;
    await writeFile(image, Buffer.alloc(0));
    await truncate(image, size);
    const handle = await open(image, 'r+');
    for (const { offset, bytes } of zfsLabels(pool, leaf, size)) await handle.write(bytes, 0, undefined, offset);
    await handle.close();
    const probe = spawnSync('blkid', ['-p', '-o', 'export', image], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.match(probe.stdout, /^TYPE=zfs_member$/m);
    assert.match(probe.stdout, /^LABEL=rpool$/m);
    assert.match(probe.stdout, new RegExp(`^UUID=${pool.guid}$`, 'm'));
    assert.match(probe.stdout, new RegExp(`^UUID_SUB=${leaf.guid}$`, 'm'));
    assert.match(probe.stdout, /^VERSION=5000$/m);
  });
});

describe("the stand-ins' state files", () => {
  it('are changed under a lock, written when changed; a lock left by a killed run is taken over', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'storage-state-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'storage', 'zfs.json');
    const empty: ZfsState = { pools: [] };
    assert.equal(
      withState(file, empty, (state) => state.pools.length),
      0,
    );
    assert.equal(existsSync(file), false, 'nothing changed, nothing written');
    withState(file, empty, (state) => {
      state.pools.push({ name: 'rpool', guid: '1', createdAt: START, allocatedBytes: 1, vdevs: [], scan: null });
    });
    assert.equal(empty.pools.length, 0, 'the empty state given is left as it was');
    await mkdir(`${file}.lock`);
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, longAgo, longAgo);
    assert.deepEqual(
      withState(file, empty, (state) => state.pools.map((pool) => pool.name)),
      ['rpool'],
    );
    assert.equal(existsSync(`${file}.lock`), false);
  });
});
