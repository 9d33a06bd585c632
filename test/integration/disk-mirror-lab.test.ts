// The --disks lab (test/lab/README.md, Disks, ZFS and mdadm): pve1 boots from a ZFS mirror as the
// Proxmox installer leaves it and backup from an mdadm RAID1, as chaton's parsers read them; a
// pulled rpool disk degrades the pool; the partition table copied with the sgdisk stand-in (the real
// sgdisk underneath) maps the new disk's partitions and leaves the healthy disk's bytes as they
// were. One lab, no extra host. Needs root.
// The lab's API for disks: lab.disks(), diskPull, diskInsert, diskImage, mdstat.
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Lab, LabDisk } from '../lab/lab.js';
import { blockDevices, diskLinks, disksOf, type Disk } from '../../src/lib/storage/disks.js';
import { parseMdDetail, parseMdStat } from '../../src/lib/storage/md.js';
import { parseBootToolStatus } from '../../src/lib/storage/partitions.js';
import { leavesOf, parsePoolStatus } from '../../src/lib/storage/zfs.js';
import { freshLab } from './chaton.js';

let lab: Lab;

/** Runs argv as root in the host; its output, after checking it exited 0. */
async function ok(host: string, argv: string[]): Promise<string> {
  const result = await lab.run(host, argv);
  assert.equal(result.exitCode, 0, `${argv.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The host's disks as chaton reads them: lsblk's tree and the by-id links. */
async function disks(host: string): Promise<Disk[]> {
  const word = (value: string | Uint8Array) => (typeof value === 'string' ? value : Buffer.from(value).toString());
  const [devices, links] = await Promise.all([
    ok(host, blockDevices.command.argv.map(word)),
    ok(host, diskLinks.command.argv.map(word)),
  ]);
  return disksOf(blockDevices.parse(devices), diskLinks.parse(links));
}

async function labDisks(host: string): Promise<LabDisk[]> {
  return (await lab.disks()).filter((disk) => disk.host === host && disk.state === 'inserted');
}

/** The first `bytes` of a disk's image on the machine. */
async function head(serial: string, bytes: number): Promise<Buffer> {
  const file = await open(lab.diskImage(serial), 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    await file.read(buffer, 0, bytes, 0);
    return buffer;
  } finally {
    await file.close();
  }
}

describe('the --disks lab', { timeout: 300_000 }, () => {
  before(async () => {
    lab = await freshLab('disk-mirror-lab', 0, { disks: true });
  });
  after(async () => {
    await lab?.down();
  });

  it("lays pve1 out as the Proxmox installer's ZFS RAID1: three partitions per disk, rpool a mirror of both", async () => {
    const [first, second] = await labDisks('pve1');
    assert.ok(first && second);
    const shown = await disks('pve1');
    for (const disk of [first, second]) {
      const found = shown.find((candidate) => candidate.serial === disk.serial);
      assert.ok(found, `lsblk shows ${disk.serial}`);
      assert.deepEqual(
        found.children.map((child) => [child.name, child.type]),
        [1, 2, 3].map((n) => [`${disk.device}p${n}`, 'part']),
      );
      assert.equal(found.children[1]?.fstype, 'vfat', 'the ESP is formatted');
    }
    const pool = parsePoolStatus(await ok('pve1', ['zpool', 'status', '-P', '-L', '-p', 'rpool']));
    assert.equal(pool.state, 'ONLINE');
    const [mirror] = pool.root.children;
    assert.equal(mirror?.type, 'mirror');
    assert.deepEqual(
      leavesOf(pool.root).map((leaf) => [leaf.name, leaf.state]),
      [first, second].map((disk) => [`/dev/${disk.device}p3`, 'ONLINE']),
    );
    const boot = await lab.run('pve1', ['proxmox-boot-tool', 'status']);
    const status = parseBootToolStatus({ code: boot.exitCode, stdout: boot.stdout, stderr: boot.stderr });
    assert.equal(status.esps.length, 2, boot.stdout);
    assert.deepEqual(status.missing, []);
  });

  it('lays backup out on md0, a clean RAID1 of both disks', async () => {
    const [first, second] = await labDisks('backup');
    assert.ok(first && second);
    const detail = parseMdDetail(await ok('backup', ['mdadm', '--detail', '/dev/md0']));
    assert.equal(detail.level, 'raid1');
    assert.deepEqual(detail.stateFlags, ['clean']);
    assert.deepEqual(
      detail.members.map((member) => [member.device, member.states]),
      [first, second].map((disk) => [`/dev/${disk.device}p2`, ['active', 'sync']]),
    );
    const [md0] = parseMdStat(await lab.mdstat('backup')).arrays;
    assert.deepEqual([md0?.name, md0?.slotMap, md0?.sync], ['md0', 'UU', null]);
  });

  it('degrades rpool when a disk is pulled (UNAVAIL), resilvers onto a new one at the rates set', async () => {
    const [, pulled] = await labDisks('pve2');
    assert.ok(pulled);
    await lab.diskPull('pve2', pulled.serial);
    const pool = parsePoolStatus((await lab.run('pve2', ['zpool', 'status', '-P', '-L', '-p', 'rpool'])).stdout);
    assert.equal(pool.state, 'DEGRADED');
    const states = leavesOf(pool.root).map((leaf) => leaf.state);
    assert.deepEqual(states, ['ONLINE', 'UNAVAIL']);

    // The rates the stand-ins read at each call: a resilver crawls, then ends at once.
    const [healthy] = await labDisks('pve2');
    const serial = await lab.diskInsert('pve2', { sizeGiB: 8 });
    const fresh = (await labDisks('pve2')).find((disk) => disk.serial === serial)!;
    await ok('pve2', ['sgdisk', `/dev/${healthy!.device}`, '-R', `/dev/${fresh.device}`]);
    await ok('pve2', ['sgdisk', '-G', `/dev/${fresh.device}`]);
    await lab.setStorageRates({ resilverBytesPerSecond: 1 });
    const old = `/dev/disk/by-id/${pulled.byId[0]}-part3`;
    await ok('pve2', ['zpool', 'replace', 'rpool', old, `/dev/disk/by-id/${fresh.byId[0]}-part3`]);
    const status = async () => parsePoolStatus(await ok('pve2', ['zpool', 'status', '-P', '-L', '-p', 'rpool']));
    const resilvering = await status();
    assert.deepEqual(
      [resilvering.scan.kind, 'state' in resilvering.scan && resilvering.scan.state],
      ['resilver', 'in-progress'],
    );
    await lab.setStorageRates({ resilverBytesPerSecond: 1024 ** 4 });
    const resilvered = await status();
    assert.deepEqual([resilvered.state, 'state' in resilvered.scan && resilvered.scan.state], ['ONLINE', 'finished']);
  });

  it("copies the healthy disk's table to a new disk with sgdisk -R then -G: its partitions mapped, the healthy disk unchanged", async () => {
    const [healthy] = await labDisks('pve3');
    assert.ok(healthy);
    const before = await head(healthy.serial, 1024 ** 2);
    const serial = await lab.diskInsert('pve3', { sizeGiB: 8, serial: 'NEW-8G-0001' });
    assert.equal(serial, 'NEW-8G-0001');
    const fresh = (await labDisks('pve3')).find((disk) => disk.serial === serial);
    assert.ok(fresh?.device);
    assert.deepEqual(fresh.partitions, []);
    await ok('pve3', ['sgdisk', `/dev/${healthy.device}`, '-R', `/dev/${fresh.device}`]);
    await ok('pve3', ['sgdisk', '-G', `/dev/${fresh.device}`]);
    const copied = (await labDisks('pve3')).find((disk) => disk.serial === serial)!;
    const layout = (disk: LabDisk) => disk.partitions.map(({ number, start, sectors }) => [number, start, sectors]);
    assert.deepEqual(layout(copied), layout(healthy));
    const nodes = await ok('pve3', [
      'sh',
      '-c',
      'ls "/dev/$1"p* && ls /dev/disk/by-id | grep -- "_$2-part"',
      'sh',
      fresh.device,
      serial,
    ]);
    assert.deepEqual(nodes.trim().split('\n'), [
      ...[1, 2, 3].map((n) => `/dev/${fresh.device}p${n}`),
      ...[1, 2, 3].map((n) => `${fresh.byId[0]}-part${n}`),
    ]);
    assert.ok((await head(healthy.serial, 1024 ** 2)).equals(before), "the healthy disk's first MiB is unchanged");
    assert.ok(!(await head(serial, 1024 ** 2)).equals(before), 'the new disk has GUIDs of its own (sgdisk -G)');
  });
});
