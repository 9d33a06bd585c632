// The mirror swap's facts and judgement (issue 15) on real outputs (test/unit/fixtures/storage/
// README.md says where each comes from): zpool status of OpenZFS 0.6 to 2.2, mdadm --detail of
// mdadm 3 and 4, /proc/mdstat, sgdisk and sfdisk on a loop device, proxmox-boot-tool status.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OutputError } from '../../src/lib/remote/json-output.js';
import { render } from '../../src/lib/remote/shell.js';
import {
  espRegistered,
  judgeMirrorSwap,
  type MirrorFacts,
  mdMirrorFacts,
  mdSyncProgress,
  zfsMirrorFacts,
  zfsSyncProgress,
} from '../../src/lib/storage/judge.js';
import { parseBlockDevices, parseDiskLinks } from '../../src/lib/storage/disks.js';
import {
  inSync,
  mdadmDetail,
  mdAdd,
  mdFail,
  mdRemove,
  mdStat,
  mdStatIfPresent,
  memberOf,
  parseMdDetail,
  parseMdStat,
} from '../../src/lib/storage/md.js';
import {
  bootPartitionsOf,
  bootToolClean,
  bootToolFormat,
  bootToolInit,
  bootToolStatus,
  copyPartitionTable,
  filesystemUuid,
  grubInstall,
  memberPaths,
  parseBootToolStatus,
  parseSfdiskJson,
  parseSgdiskPrint,
  partitionTable,
  sgdiskPrint,
} from '../../src/lib/storage/partitions.js';
import {
  leafOf,
  leavesOf,
  niceNumber,
  parsePoolStatus,
  topVdevOf,
  zpoolDetach,
  zpoolDuration,
  zpoolOffline,
  zpoolOnline,
  zpoolReplace,
  zpoolStatus,
} from '../../src/lib/storage/zfs.js';
import { inFrench } from './in-french.js';

const DIR = fileURLToPath(new URL('../../../test/unit/fixtures/storage/', import.meta.url));
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');
const text = (cmd: { argv: readonly (string | Uint8Array)[] }) => render(cmd).toString();
const ok = (stdout: string, stderr = '') => ({ code: 0, stdout, stderr });

describe('zpool status, as the mirror swap reads it', () => {
  it('asks for whole, real paths and exact counts of one pool', () => {
    assert.equal(text(zpoolStatus('rpool').command), 'zpool status -P -L -p rpool');
  });

  it('reads a Proxmox mirror with a pulled disk: DEGRADED, the absent disk by GUID and its last path', () => {
    const status = parsePoolStatus(read('zpool-status-rpool-unavail-2.1.txt'));
    assert.equal(status.pool, 'rpool');
    assert.equal(status.state, 'DEGRADED');
    assert.match(status.status ?? '', /^One or more devices could not be used .* degraded state\.$/);
    assert.equal(status.action, "Replace the device using 'zpool replace'.");
    assert.deepEqual(status.scan, {
      kind: 'scrub',
      state: 'finished',
      processedBytes: 0,
      durationSeconds: 12 * 3600 + 17 * 60 + 31,
      errors: 0,
      endedAt: 'Sun Dec 11 12:41:32 2022',
      text: 'scrub repaired 0B in 12:17:31 with 0 errors on Sun Dec 11 12:41:32 2022',
    });
    const [mirror] = status.root.children;
    assert.equal(mirror?.type, 'mirror');
    assert.equal(mirror?.state, 'DEGRADED');
    assert.deepEqual(
      mirror?.children.map((leaf) => [leaf.name, leaf.type, leaf.state, leaf.was, leaf.errors]),
      [
        ['14568071368226837248', 'disk', 'UNAVAIL', '/dev/nvme0n1p3', { read: 0, write: 0, checksum: 0 }],
        [
          'ata-PNY_CS900_240GB_SSD_PNY22092203030100C65-part3',
          'disk',
          'ONLINE',
          null,
          { read: 0, write: 0, checksum: 0 },
        ],
      ],
    );
    assert.equal(status.errors, null, 'this capture ends with the config');
    const gone = leafOf(status, ['/dev/nvme0n1p3', '/dev/disk/by-id/nvme-OLD-part3']);
    assert.equal(gone?.name, '14568071368226837248', 'an absent disk is found by the path it had');
    assert.equal(topVdevOf(status, gone!), mirror);
  });

  it('reads a resilver of 0.8 to 2.1: bytes, rate, percent and time to go, and the leaf being written', () => {
    const status = parsePoolStatus(read('zpool-status-rpool-resilvering-2.1.txt'));
    const { scan } = status;
    assert.equal(scan.kind, 'resilver');
    assert.ok(scan.kind === 'resilver' && scan.state === 'in-progress');
    assert.equal(scan.since, 'Mon Jan 16 14:37:35 2023');
    assert.equal(scan.processedBytes, 631 * 1024 ** 2);
    assert.equal(scan.totalBytes, Math.round(5.42 * 1024 ** 3));
    assert.equal(scan.bytesPerSecond, 151 * 1024 ** 2, 'the issue rate: what is written');
    assert.equal(scan.percentDone, 10.9);
    assert.equal(scan.secondsToGo, 32);
    assert.deepEqual(
      leavesOf(status.root).map((leaf) => [leaf.name, leaf.resilvering, leaf.note]),
      [
        ['ata-PNY_CS900_240GB_SSD_PNY22092203030100C65-part3', false, ''],
        ['nvme-TEAM_TM8FP6256G_TPBF2207080020101623-part3', true, '(resilvering)'],
      ],
    );
  });

  it('reads the resilver finished', () => {
    const { scan, state } = parsePoolStatus(read('zpool-status-rpool-resilvered-2.1.txt'));
    assert.equal(state, 'ONLINE');
    assert.ok(scan.kind === 'resilver' && scan.state === 'finished');
    assert.equal(scan.processedBytes, Math.round(5.61 * 1024 ** 3));
    assert.equal(scan.durationSeconds, 30);
    assert.equal(scan.errors, 0);
  });

  it('reads 2.2 (Proxmox VE 8): a FAULTED side with its errors, the scrub\'s "X / Y scanned" line', () => {
    const faulted = parsePoolStatus(read('zpool-status-rpool-faulted-2.2.txt'));
    const bad = leavesOf(faulted.root).find((leaf) => leaf.state === 'FAULTED');
    assert.deepEqual(bad?.errors, { read: 6, write: 0, checksum: 0 });
    assert.equal(bad?.note, 'too many errors');
    assert.equal(faulted.errors, 'No known data errors');
    const { scan } = parsePoolStatus(read('zpool-status-rpool-scrubbing-2.2.txt'));
    assert.ok(scan.kind === 'scrub' && scan.state === 'in-progress');
    assert.equal(scan.totalBytes, Math.round(3.2 * 1024 ** 3));
    assert.equal(scan.bytesPerSecond, Math.round(33.8 * 1024 ** 2));
    assert.equal(scan.percentDone, 5.15);
    assert.equal(scan.secondsToGo, 92);
  });

  it('reads a replacing-N under a mirror (0.8), and the days of its time to go', () => {
    const status = parsePoolStatus(read('zpool-status-replacing-offline-0.8.txt'));
    const [mirror0, mirror1] = status.root.children;
    assert.deepEqual(
      mirror0?.children.map((vdev) => [vdev.name, vdev.type, vdev.state]),
      [
        ['replacing-0', 'replacing', 'DEGRADED'],
        ['ata-WDC_WD3001FFSX-68JNUN0_WD-WCC13HETXXKA', 'disk', 'DEGRADED'],
      ],
    );
    assert.deepEqual(
      mirror0?.children[0]?.children.map((leaf) => [leaf.name, leaf.state, leaf.resilvering]),
      [
        ['ata-WDC_WD3001FFSX-68JNUN0_WD-WCC13RYDLSH9', 'OFFLINE', false],
        ['sdh', 'ONLINE', true],
      ],
    );
    assert.equal(mirror1?.state, 'ONLINE');
    assert.ok(status.scan.kind === 'resilver' && status.scan.state === 'in-progress');
    assert.equal(status.scan.secondsToGo, 3600 + 24 * 60 + 38);
    assert.equal(status.scan.percentDone, 66.46);
  });

  it('reads 0.6 ("scanned out of", no estimate, past 100%) and a raidz2, indented with spaces', () => {
    const status = parsePoolStatus(read('zpool-status-raidz2-0.6.txt'));
    assert.equal(status.pool, 'vault_0');
    assert.equal(status.root.children[0]?.type, 'raidz2');
    assert.ok(status.scan.kind === 'resilver' && status.scan.state === 'in-progress');
    assert.equal(status.scan.percentDone, 470.2);
    assert.equal(status.scan.secondsToGo, null);
    assert.equal(status.scan.bytesPerSecond, 236 * 1024 ** 2);
    const offline = leavesOf(status.root).find((leaf) => leaf.state === 'OFFLINE');
    assert.equal(offline?.was, '/dev/sdb2');
  });

  it('reads the log and cache classes apart from the data vdevs (0.6, "0h46m to go")', () => {
    const status = parsePoolStatus(read('zpool-status-logs-cache-0.6.txt'));
    assert.deepEqual(
      status.root.children.map((vdev) => [vdev.name, vdev.type, vdev.children.length]),
      [['mirror-0', 'mirror', 2]],
    );
    assert.deepEqual(
      status.classes.map((group) => [group.class, group.vdevs.map((vdev) => [vdev.name, vdev.type])]),
      [
        ['logs', [['mirror-1', 'mirror']]],
        [
          'cache',
          [
            ['sda4', 'disk'],
            ['sdb4', 'disk'],
          ],
        ],
      ],
    );
    assert.equal(leafOf(status, ['sda3']), undefined, 'a log device is no member of the data mirrors');
    assert.ok(status.scan.kind === 'resilver' && status.scan.state === 'in-progress');
    assert.equal(status.scan.secondsToGo, 46 * 60);
    assert.equal(status.scan.processedBytes, 0);
  });

  it('reads sizes and spans as zpool rounds them, and refuses what it cannot read', () => {
    assert.equal(niceNumber('0B'), 0);
    assert.equal(niceNumber('4,43G'), Math.round(4.43 * 1024 ** 3));
    assert.equal(niceNumber('1.2K'), 1229);
    assert.equal(zpoolDuration('60h43m'), 60 * 3600 + 43 * 60);
    assert.equal(zpoolDuration('2 days 00:00:01'), 2 * 86400 + 1);
    assert.throws(() => niceNumber('lots'), OutputError);
    assert.throws(() => parsePoolStatus("cannot open 'tank': no such pool\n"), OutputError);
    assert.throws(
      () => parsePoolStatus(read('zpool-status-rpool-unavail-2.1.txt').replace('UNAVAIL ', 'BROKEN  ')),
      /unknown state "BROKEN"/,
    );
  });

  it('says why zpool status failed, in English and in French', () => {
    const failed = { code: 1, stdout: '', stderr: "cannot open 'tank': no such pool\n" };
    assert.throws(() => zpoolStatus('tank').parse(failed), /zpool status tank failed \(exit 1\): cannot open 'tank'/);
    inFrench(() =>
      assert.throws(() => zpoolStatus('tank').parse({ code: 127, stdout: '', stderr: '' }), /n'est pas installé/),
    );
  });

  it('builds the changes, a replacement with its pool, old and new named', () => {
    assert.equal(text(zpoolOffline('rpool', '/dev/sdb3')), 'zpool offline rpool /dev/sdb3');
    assert.equal(text(zpoolOnline('rpool', '/dev/sdb3')), 'zpool online rpool /dev/sdb3');
    assert.equal(
      text(zpoolReplace({ pool: 'rpool', old: '14568071368226837248', new: '/dev/disk/by-id/ata-NEW-part3' })),
      'zpool replace -f rpool 14568071368226837248 /dev/disk/by-id/ata-NEW-part3',
    );
    assert.equal(text(zpoolDetach('rpool', '/dev/sdb3')), 'zpool detach rpool /dev/sdb3');
  });
});

describe('mdadm --detail and /proc/mdstat', () => {
  it('reads mdadm 4: a RAID1 with a removed slot and the faulty member after it', () => {
    const detail = parseMdDetail(read('mdadm-detail-raid1-faulty-4.x.txt'));
    assert.equal(detail.array, '/dev/md1');
    assert.equal(detail.level, 'raid1');
    assert.equal(detail.usedDevSizeKib, 41909248);
    assert.deepEqual(detail.stateFlags, ['active', 'degraded']);
    assert.deepEqual(
      [detail.raidDevices, detail.activeDevices, detail.workingDevices, detail.failedDevices, detail.spareDevices],
      [2, 1, 1, 1, 0],
    );
    assert.equal(detail.sync, null);
    assert.deepEqual(
      detail.members.map((m) => [m.number, m.raidDevice, m.states, m.device, inSync(m)]),
      [
        [null, 0, ['removed'], null, false],
        [1, 1, ['active', 'sync'], '/dev/sdb3', true],
        [0, null, ['faulty'], '/dev/sda3', false],
      ],
    );
    assert.equal(memberOf(detail, ['/dev/sda3'])?.states[0], 'faulty');
  });

  it('reads mdadm 3: its narrower keys, a rebuild under way, the member being rebuilt', () => {
    const detail = parseMdDetail(read('mdadm-detail-raid1-rebuilding-3.x.txt'));
    assert.deepEqual(detail.stateFlags, ['clean', 'degraded', 'recovering']);
    assert.deepEqual(detail.sync, { action: 'rebuild', percent: 10 });
    assert.deepEqual(
      detail.members.map((m) => [m.device, m.states.join(' ')]),
      [
        ['/dev/sdb1', 'spare rebuilding'],
        ['/dev/sdc1', 'active sync'],
      ],
    );
    const removed = parseMdDetail(read('mdadm-detail-raid1-removed-3.x.txt'));
    assert.deepEqual(removed.members[0], {
      number: 0,
      major: 0,
      minor: 0,
      raidDevice: 0,
      states: ['removed'],
      device: null,
    });
  });

  it('reads /proc/mdstat when the kernel has it, and nothing without the md driver', () => {
    assert.equal(text(mdStatIfPresent.command), 'cat /proc/mdstat');
    const empty = 'Personalities : [raid1]\nunused devices: <none>\n';
    assert.deepEqual(mdStatIfPresent.parse({ code: 0, stdout: empty, stderr: '' }), parseMdStat(empty));
    const missing = { code: 1, stdout: '', stderr: 'cat: /proc/mdstat: No such file or directory\n' };
    assert.equal(mdStatIfPresent.parse(missing), undefined);
  });

  it('reads /proc/mdstat: members with their marks, slots, a recovery with its numbers, a resync waiting', () => {
    const { personalities, arrays } = parseMdStat(read('mdstat-procfs-fixtures.txt'));
    assert.deepEqual(personalities, ['linear', 'multipath', 'raid0', 'raid1', 'raid6', 'raid5', 'raid4', 'raid10']);
    const md6 = arrays.find((a) => a.name === 'md6');
    assert.deepEqual(md6, {
      name: 'md6',
      active: true,
      readOnly: null,
      level: 'raid1',
      members: [
        { device: 'sdb2', index: 2, flags: ['F'] },
        { device: 'sdc', index: 1, flags: ['S'] },
        { device: 'sda2', index: 0, flags: [] },
      ],
      blocks: 195310144,
      slots: { total: 2, working: 1 },
      slotMap: 'U_',
      sync: {
        action: 'recovery',
        percent: 8.5,
        doneBlocks: 16775552,
        totalBlocks: 195310144,
        finishMinutes: 17,
        kibPerSecond: 259783,
      },
      waiting: null,
    });
    assert.equal(arrays.find((a) => a.name === 'md9')?.waiting, 'resync=DELAYED');
    const md11 = arrays.find((a) => a.name === 'md11');
    assert.deepEqual([md11?.readOnly, md11?.level, md11?.waiting], ['auto-read-only', 'raid1', 'resync=PENDING']);
    const md219 = arrays.find((a) => a.name === 'md219');
    assert.deepEqual([md219?.active, md219?.level, md219?.members.length], [false, null, 3]);
    assert.equal(arrays.find((a) => a.name === 'md10')?.slots, null, 'raid0 has no slots');
    assert.equal(arrays.length, 18);
    assert.throws(() => parseMdStat('cat: /proc/mdstat: No such file or directory\n'), OutputError);
  });

  it('builds the reads and the changes', () => {
    assert.equal(text(mdadmDetail('/dev/md0').command), 'mdadm --detail /dev/md0');
    assert.equal(text(mdStat.command), 'cat /proc/mdstat');
    assert.equal(text(mdFail('/dev/md0', '/dev/sdb2')), 'mdadm --manage /dev/md0 --fail /dev/sdb2');
    assert.equal(text(mdRemove('/dev/md0', '/dev/sdb2')), 'mdadm --manage /dev/md0 --remove /dev/sdb2');
    assert.equal(text(mdAdd('/dev/md0', '/dev/sdc2')), 'mdadm --manage /dev/md0 --add /dev/sdc2');
    const gone = { code: 1, stdout: '', stderr: 'mdadm: cannot open /dev/md9: No such file or directory\n' };
    assert.throws(() => mdadmDetail('/dev/md9').parse(gone), /mdadm --detail \/dev\/md9 failed \(exit 1\)/);
  });
});

describe('partition tables, and what makes a disk boot', () => {
  it("reads sfdisk -J of the Proxmox installer's layout: BIOS boot, ESP, ZFS, by type GUID", () => {
    const table = parseSfdiskJson(read('sfdisk-J-installer-zfs.json'));
    assert.equal(table.label, 'gpt');
    assert.equal(table.id, '0C225827-1E3A-48D0-9969-7E016DC418F5');
    assert.deepEqual(
      table.partitions.map((p) => [p.path, p.number, p.start, p.sectors, p.role]),
      [
        ['/dev/loop0p1', 1, 34, 2014, 'bios-boot'],
        ['/dev/loop0p2', 2, 2048, 1048576, 'esp'],
        ['/dev/loop0p3', 3, 1050624, 3143647, 'zfs'],
      ],
    );
    const boot = bootPartitionsOf(table);
    assert.deepEqual([boot.biosBoot?.path, boot.esp?.path], ['/dev/loop0p1', '/dev/loop0p2']);
    const md = parseSfdiskJson(read('sfdisk-J-md-raid.json'));
    assert.deepEqual(
      md.partitions.map((p) => p.role),
      ['bios-boot', 'linux-raid'],
    );
    assert.equal(bootPartitionsOf(md).esp, null);
  });

  it('reads sgdisk -p: the same layout by gdisk code; a blank disk is a table made in memory, empty', () => {
    const print = parseSgdiskPrint(read('sgdisk-p-installer-zfs.txt'));
    assert.equal(print.hasTable, true);
    assert.deepEqual([print.device, print.sectors, print.sectorSize], ['/dev/loop0', 4194304, 512]);
    assert.deepEqual(
      print.partitions.map((p) => [p.number, p.start, p.sectors, p.type, p.role]),
      [
        [1, 34, 2014, 'EF02', 'bios-boot'],
        [2, 2048, 1048576, 'EF00', 'esp'],
        [3, 1050624, 3143647, 'BF01', 'zfs'],
      ],
    );
    const blank = parseSgdiskPrint(read('sgdisk-p-blank.txt'));
    assert.deepEqual([blank.hasTable, blank.partitions], [false, []]);
    assert.deepEqual(
      parseSgdiskPrint(read('sgdisk-p-md-raid.txt')).partitions.map((p) => p.role),
      ['bios-boot', 'linux-raid'],
    );
  });

  it('the copy made by sgdisk -R then -G: the same partitions, other GUIDs', () => {
    const healthy = parseSfdiskJson(read('sfdisk-J-installer-zfs.json'));
    const copy = parseSfdiskJson(read('sfdisk-J-replicated.json'));
    const layout = (t: typeof healthy) => t.partitions.map((p) => [p.number, p.start, p.sectors, p.type]);
    assert.deepEqual(layout(copy), layout(healthy));
    assert.notEqual(copy.id, healthy.id);
    assert.ok(copy.partitions.every((p, i) => p.uuid !== healthy.partitions[i]?.uuid));
    assert.deepEqual(
      parseSgdiskPrint(read('sgdisk-p-replicated.txt')).partitions,
      parseSgdiskPrint(read('sgdisk-p-installer-zfs.txt')).partitions,
    );
  });

  it('copies FROM the healthy disk TO the new one, named, and never onto the same disk', () => {
    const [replicate, randomize] = copyPartitionTable({ to: '/dev/sdb', from: '/dev/sda' });
    assert.equal(text(replicate), 'sgdisk /dev/sda -R /dev/sdb');
    assert.equal(text(randomize), 'sgdisk -G /dev/sdb');
    assert.throws(() => copyPartitionTable({ from: '/dev/sda', to: '/dev/sda' }), TypeError);
  });

  it('takes a blank disk from sfdisk for no table, and says why it failed otherwise', () => {
    const blank = { code: 1, stdout: '', stderr: read('sfdisk-J-blank.stderr.txt') };
    assert.equal(partitionTable('/dev/loop1').parse(blank), null);
    assert.equal(text(partitionTable('/dev/sdb').command), 'sfdisk -J /dev/sdb');
    const missing = {
      code: 1,
      stdout: '',
      stderr: 'sfdisk: cannot open /dev/nonexistent: No such file or directory\n',
    };
    assert.throws(() => partitionTable('/dev/nonexistent').parse(missing), /sfdisk -J \/dev\/nonexistent failed/);
    const cannot = { code: 2, stdout: read('sgdisk-p-nonexistent.txt'), stderr: '' };
    assert.equal(text(sgdiskPrint('/dev/sdb').command), 'sgdisk -p /dev/sdb');
    assert.throws(() => sgdiskPrint('/dev/nonexistent').parse(cannot), /Problem opening \/dev\/nonexistent/);
  });

  it('reads proxmox-boot-tool status: the ESPs it keeps, one whose disk was pulled, one it cannot mount', () => {
    assert.equal(text(bootToolStatus.command), 'proxmox-boot-tool status');
    const uefi = parseBootToolStatus(ok(read('proxmox-boot-tool-status-uefi.txt')));
    assert.equal(uefi.bootedWith, 'uefi');
    assert.deepEqual(
      uefi.esps.map((esp) => [esp.uuid, esp.loaders, esp.kernels.length]),
      [
        ['6D31-87F4', ['uefi'], 3],
        ['CE07-78FC', ['uefi'], 3],
      ],
    );
    const pulled = parseBootToolStatus(ok(read('proxmox-boot-tool-status-missing-esp.txt')));
    assert.deepEqual(pulled.missing, ['CE07-1118']);
    const grub = parseBootToolStatus(ok(read('proxmox-boot-tool-status-grub-mount-failed.txt')));
    assert.deepEqual(
      [grub.bootedWith, grub.esps.map((esp) => esp.loaders), grub.unreadable],
      ['legacy bios', [['grub']], ['1FDE-91BC']],
    );
    const none = parseBootToolStatus({
      code: 2,
      stdout: '',
      stderr: 'E: /etc/kernel/proxmox-boot-uuids does not exist.\n',
    });
    assert.deepEqual([none.installed, none.managing], [true, false]);
    assert.deepEqual(parseBootToolStatus({ code: 127, stdout: '', stderr: '' }).installed, false);
  });

  it('builds the boot commands, and reads an ESP filesystem UUID', () => {
    assert.equal(text(bootToolFormat('/dev/sdb2')), 'proxmox-boot-tool format /dev/sdb2');
    assert.equal(text(bootToolFormat('/dev/sdb2', { force: true })), 'proxmox-boot-tool format /dev/sdb2 --force');
    assert.equal(text(bootToolInit('/dev/sdb2')), 'proxmox-boot-tool init /dev/sdb2');
    assert.equal(text(bootToolInit('/dev/sdb2', 'grub')), 'proxmox-boot-tool init /dev/sdb2 grub');
    assert.equal(text(grubInstall('/dev/sdb')), 'grub-install /dev/sdb');
    assert.equal(text(bootToolClean), 'proxmox-boot-tool clean');
    const uuid = filesystemUuid('/dev/sdb2');
    assert.equal(text(uuid.command), 'blkid -o value -s UUID /dev/sdb2');
    assert.equal(uuid.parse(ok('6D31-87F4\n')), '6D31-87F4');
    assert.equal(uuid.parse({ code: 2, stdout: '', stderr: '' }), null);
  });
});

describe("a mirror swap's preflight", () => {
  const FAULTED_SIDE = '/dev/disk/by-id/ata-ST9500325AS_5VE0S1MT-part3';
  /** The disk's partition as chaton names it (a by-id link), and as this capture (without -P) shows it. */
  const FAULTED_NAMES = [FAULTED_SIDE, 'ata-ST9500325AS_5VE0S1MT-part3'];
  const HEALTHY_SIDE = 'ata-APPLE_HDD_HTS547550A9E384_J2250055GMJ83C-part3';
  const faulted = () => parsePoolStatus(read('zpool-status-rpool-faulted-2.2.txt'));
  const codes = (facts: MirrorFacts, device: string, opts = {}) =>
    judgeMirrorSwap(facts, device, opts).map((r) => r.code);

  it('lets the failing side of a ZFS mirror go when the other side is ONLINE and nothing runs', () => {
    const facts = zfsMirrorFacts(faulted(), FAULTED_NAMES);
    assert.equal(facts.old?.state, 'FAULTED (too many errors)');
    assert.deepEqual(facts.others, [{ device: HEALTHY_SIDE, state: 'ONLINE', healthy: true }]);
    assert.deepEqual(codes(facts, FAULTED_SIDE), []);
    const pulled = zfsMirrorFacts(parsePoolStatus(read('zpool-status-rpool-unavail-2.1.txt')), ['/dev/nvme0n1p3']);
    assert.deepEqual(codes(pulled, '/dev/nvme0n1p3'), [], 'a pulled disk, named by the path it had');
  });

  it('refuses the healthy side: the other is FAULTED, with its state in the sentence, in both languages', () => {
    const facts = zfsMirrorFacts(faulted(), [HEALTHY_SIDE]);
    const [refusal, ...more] = judgeMirrorSwap(facts, HEALTHY_SIDE);
    assert.deepEqual(more, []);
    assert.equal(refusal?.code, 'other-side-unhealthy');
    assert.match(
      refusal?.said.en ?? '',
      /pool rpool is not healthy \(ata-ST9500325AS_5VE0S1MT-part3 FAULTED \(too many/,
    );
    const french = inFrench(() => judgeMirrorSwap(zfsMirrorFacts(faulted(), [HEALTHY_SIDE]), HEALTHY_SIDE));
    assert.match(french[0]?.said.text ?? '', /l'autre côté du miroir dans pool rpool n'est pas sain/);
    assert.equal(french[0]?.said.en, refusal?.said.en, 'JSON stays English');
  });

  it('refuses during a resilver, with how far it is', () => {
    const status = parsePoolStatus(read('zpool-status-rpool-resilvering-2.1.txt'));
    const old = 'ata-PNY_CS900_240GB_SSD_PNY22092203030100C65-part3';
    const refusals = judgeMirrorSwap(zfsMirrorFacts(status, [old]), old);
    assert.deepEqual(
      refusals.map((r) => r.code),
      ['other-side-unhealthy', 'sync-running'],
    );
    assert.match(refusals[1]?.said.en ?? '', /pool rpool is rebuilding \(resilver, 10\.90% done\)/);
  });

  it('refuses when the other side is healthy but SMART says it is failing; unknown SMART refuses nothing', () => {
    const facts = zfsMirrorFacts(faulted(), FAULTED_NAMES);
    assert.deepEqual(codes(facts, FAULTED_SIDE, { otherSmart: new Map([[HEALTHY_SIDE, false]]) }), [
      'other-side-failing',
    ]);
    assert.deepEqual(codes(facts, FAULTED_SIDE, { otherSmart: new Map([[HEALTHY_SIDE, null]]) }), []);
  });

  it('refuses a disk of another vdev while a mirror elsewhere is degraded, and a disk of no mirror', () => {
    const status = parsePoolStatus(read('zpool-status-replacing-offline-0.8.txt'));
    const mirror1 = 'ata-WDC_WD3001FFSX-68JNUN0_WD-WCC13L905UN2';
    assert.deepEqual(codes(zfsMirrorFacts(status, [mirror1]), mirror1), ['sync-running', 'degraded-elsewhere']);
    const raidz = parsePoolStatus(read('zpool-status-raidz2-0.6.txt'));
    const disk = 'ata-WDC_WD20EFRX-68EUZN0_WD-WCC4M0RT69DA';
    const refusals = judgeMirrorSwap(zfsMirrorFacts(raidz, [disk]), disk);
    assert.deepEqual(
      refusals.map((r) => r.code),
      ['not-a-mirror'],
    );
    assert.match(refusals[0]?.said.en ?? '', /is in a raidz2 of pool vault_0, not a mirror/);
  });

  it('refuses a disk that is not in the pool, naming its members', () => {
    const refusals = judgeMirrorSwap(zfsMirrorFacts(faulted(), ['/dev/sdz3']), '/dev/sdz');
    assert.deepEqual(
      refusals.map((r) => r.code),
      ['not-a-member'],
    );
    assert.match(refusals[0]?.said.en ?? '', /\/dev\/sdz is not a member of pool rpool \(its members: ata-APPLE/);
  });

  it('refuses a new disk smaller than the healthy side', () => {
    const facts = zfsMirrorFacts(faulted(), FAULTED_NAMES);
    const small = { newDisk: { path: '/dev/sdc', sizeBytes: 1024 ** 3 }, neededBytes: 2 * 1024 ** 3 };
    const [refusal] = judgeMirrorSwap(facts, FAULTED_SIDE, small);
    assert.equal(refusal?.code, 'too-small');
    assert.match(refusal?.said.en ?? '', /\/dev\/sdc is 1G, smaller than the 2G needed/);
  });

  it('md: lets the faulty member go while the other is active sync; refuses during a rebuild', () => {
    const degraded = parseMdDetail(read('mdadm-detail-raid1-faulty-4.x.txt'));
    const facts = mdMirrorFacts(degraded, ['/dev/sda3']);
    assert.equal(facts.layout, 'mirror');
    assert.deepEqual(
      facts.others.map((m) => [m.device, m.state, m.healthy]),
      [
        ['slot 0', 'removed', false],
        ['/dev/sdb3', 'active sync', true],
      ],
    );
    assert.deepEqual(codes(facts, '/dev/sda3'), []);
    assert.deepEqual(codes(mdMirrorFacts(degraded, ['/dev/sdb3']), '/dev/sdb3'), ['other-side-unhealthy']);
    const rebuilding = parseMdDetail(read('mdadm-detail-raid1-rebuilding-3.x.txt'));
    const refusals = judgeMirrorSwap(mdMirrorFacts(rebuilding, ['/dev/sdc1']), '/dev/sdc1');
    assert.deepEqual(
      refusals.map((r) => r.code),
      ['other-side-unhealthy', 'sync-running'],
    );
    assert.match(refusals[1]?.said.en ?? '', /array \/dev\/md127 is rebuilding \(rebuild, 10% done\)/);
    const french = inFrench(() => judgeMirrorSwap(mdMirrorFacts(rebuilding, ['/dev/sdc1']), '/dev/sdc1'));
    assert.match(french[1]?.said.text ?? '', /grappe \/dev\/md127 est en reconstruction \(rebuild, 10 % fait\)/);
  });

  it('md: a resync waiting its turn in /proc/mdstat refuses too; a check does not', () => {
    const detail = parseMdDetail(read('mdadm-detail-raid1-faulty-4.x.txt'));
    const { arrays } = parseMdStat(read('mdstat-procfs-fixtures.txt'));
    const delayed = arrays.find((a) => a.name === 'md9');
    assert.deepEqual(codes(mdMirrorFacts(detail, ['/dev/sda3'], delayed), '/dev/sda3'), ['sync-running']);
    const check = arrays.find((a) => a.name === 'md201');
    assert.deepEqual(codes(mdMirrorFacts(detail, ['/dev/sda3'], check), '/dev/sda3'), []);
  });

  it('refuses to take out the only disk whose ESP proxmox-boot-tool keeps', () => {
    const tool = parseBootToolStatus(ok(read('proxmox-boot-tool-status-missing-esp.txt')));
    const table = bootPartitionsOf(parseSfdiskJson(read('sfdisk-J-installer-zfs.json')));
    const old = { ...table, espUuid: '6D31-87F4' };
    const facts = zfsMirrorFacts(faulted(), FAULTED_NAMES);
    const unregistered = { device: '/dev/sda', role: { ...table, espUuid: 'AAAA-0000' } };
    const refusals = judgeMirrorSwap(facts, FAULTED_SIDE, { boot: { tool, old, others: [unregistered] } });
    assert.deepEqual(
      refusals.map((r) => r.code),
      ['other-side-not-bootable'],
    );
    assert.match(refusals[0]?.said.en ?? '', /its ESP 6D31-87F4 is kept by proxmox-boot-tool\) and \/dev\/sda has/);
    const registered = { device: '/dev/sda', role: { ...table, espUuid: 'CE07-78FC' } };
    assert.deepEqual(codes(facts, FAULTED_SIDE, { boot: { tool, old, others: [registered] } }), []);
    assert.equal(espRegistered({ ...table, espUuid: 'CE07-1118' }, tool), true, 'a pulled ESP is still listed');
  });
});

describe("the rebuild's progress, and the member's names", () => {
  it('follows a ZFS resilver to a whole mirror; a replacing-N or an absent disk is not whole', () => {
    const running = zfsSyncProgress(parsePoolStatus(read('zpool-status-rpool-resilvering-2.1.txt')));
    assert.deepEqual(running, {
      running: true,
      percent: 10.9,
      secondsToGo: 32,
      bytesPerSecond: 151 * 1024 ** 2,
      whole: false,
      errors: 0,
    });
    const done = zfsSyncProgress(parsePoolStatus(read('zpool-status-rpool-resilvered-2.1.txt')));
    assert.deepEqual([done.running, done.whole, done.errors], [false, true, 0]);
    const replacing = zfsSyncProgress(parsePoolStatus(read('zpool-status-replacing-offline-0.8.txt')));
    assert.deepEqual([replacing.running, replacing.whole], [true, false]);
    assert.equal(zfsSyncProgress(parsePoolStatus(read('zpool-status-rpool-unavail-2.1.txt'))).whole, false);
  });

  it("follows an md rebuild with /proc/mdstat's rate and time left", () => {
    const rebuilding = parseMdDetail(read('mdadm-detail-raid1-rebuilding-3.x.txt'));
    // Two captures of two systems: each number is taken from the fact that has it.
    const md6 = parseMdStat(read('mdstat-procfs-fixtures.txt')).arrays.find((a) => a.name === 'md6');
    assert.deepEqual(mdSyncProgress(rebuilding, md6), {
      running: true,
      percent: 8.5,
      secondsToGo: 17 * 60,
      bytesPerSecond: 259783 * 1024,
      whole: false,
      errors: 0,
    });
    assert.deepEqual(mdSyncProgress(rebuilding).percent, 10, 'mdadm alone says how far, not how fast');
    const degraded = mdSyncProgress(parseMdDetail(read('mdadm-detail-raid1-faulty-4.x.txt')));
    assert.deepEqual([degraded.running, degraded.whole], [false, false]);
  });

  it("names a disk's members by its and its partitions' paths and by-id links", () => {
    const loop8 = parseBlockDevices(read('lsblk-loops-udev.json')).find((d) => d.name === 'loop8');
    assert.ok(loop8);
    assert.deepEqual(memberPaths(loop8, new Map()), ['/dev/loop8', '/dev/loop8p1', '/dev/loop8p2']);
    const lab = parseBlockDevices(read('lsblk-lab-pve1.json')).find((d) => d.serial === 'CL00D0001');
    assert.ok(lab);
    assert.deepEqual(memberPaths(lab, parseDiskLinks(read('by-id-lab-pve1.txt'))).sort(), [
      '/dev/disk/by-id/ata-LAB_SSD_2G_CL00D0001',
      '/dev/disk/by-id/wwn-0x5cafe00000000001',
      '/dev/loop0',
    ]);
  });
});
