// The storage domain on a Ceph lab's hosts (test/lab/README.md, Ceph): a new disk carrying what a
// disk taken from another machine carries (a GPT, an LVM physical volume, an ext4 filesystem,
// written by the real tools in the host) is judged from lsblk as chaton reads it, and the REAL
// `ceph-volume lvm zap --destroy` leaves it blank; SMART's identity matches lsblk's; the ledctl
// stand-in lights and puts out the locate LED of the disk chaton names. Needs root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DiskMetadata } from '../lab/control.js';
import type { Lab } from '../lab/lab.js';
import type { RemoteCommand } from '../../src/lib/remote/shell.js';
import {
  blockDevices,
  diskLinks,
  disksOf,
  identify,
  parseSmartHealth,
  smartHealth,
  type Disk,
} from '../../src/lib/storage/disks.js';
import { judgeNewDevice } from '../../src/lib/storage/judge.js';
import { ledctlPresent, locateOff, locateOn } from '../../src/lib/storage/led.js';
import { freshLab } from './chaton.js';

let lab: Lab;

/** A command chaton builds, run as root in the host; its exit code, output and errors. */
async function run(host: string, command: RemoteCommand) {
  return lab.run(
    host,
    command.argv.map((word) => (typeof word === 'string' ? word : Buffer.from(word).toString())),
  );
}

/** The host's disks as chaton reads them: lsblk's tree and the by-id links. */
async function disks(host: string): Promise<Disk[]> {
  const [devices, links] = await Promise.all([run(host, blockDevices.command), run(host, diskLinks.command)]);
  assert.equal(devices.exitCode, 0, devices.stderr);
  assert.equal(links.exitCode, 0, links.stderr);
  return disksOf(blockDevices.parse(devices.stdout), diskLinks.parse(links.stdout));
}

async function disk(host: string, serial: string): Promise<Disk> {
  const found = identify(await disks(host), serial);
  assert.ok(found, `no disk ${serial} on ${host}`);
  return found;
}

describe('the storage domain on a Ceph lab', { timeout: 600_000 }, () => {
  before(async () => {
    lab = await freshLab('storage-lab', 0, { ceph: true });
  });
  after(async () => {
    await lab?.down();
  });

  const expected: Record<DiskMetadata, { codes: string[]; wipe: boolean; signature: string }> = {
    gpt: { codes: [], wipe: true, signature: 'PTTYPE=gpt' },
    lvm: { codes: [], wipe: true, signature: 'TYPE=LVM2_member' },
    ext4: { codes: ['filesystem'], wipe: false, signature: 'TYPE=ext4' },
  };
  for (const [metadata, { codes, wipe, signature }] of Object.entries(expected) as [
    DiskMetadata,
    (typeof expected)[DiskMetadata],
  ][]) {
    it(`judges a new disk carrying ${metadata}, and the real ceph-volume lvm zap --destroy blanks it`, async () => {
      const serial = await lab.diskInsert('pve2', { sizeGiB: 1, metadata });
      const inserted = await disk('pve2', serial);
      // A GPT's partitions as the kernel reads them when the disk comes in; gone once zapped.
      assert.equal(inserted.children.length, metadata === 'gpt' ? 2 : 0);
      const probe = await lab.run('pve2', ['blkid', '-p', '-o', 'export', inserted.path]);
      assert.match(probe.stdout, new RegExp(`^${signature}$`, 'm'));
      const judged = judgeNewDevice(inserted, { oldSerial: 'CL00D0004' });
      assert.deepEqual([judged.refusals.map((refusal) => refusal.code), judged.wipe], [codes, wipe]);

      const zap = await lab.run('pve2', ['ceph-volume', 'lvm', 'zap', '--destroy', inserted.path]);
      assert.equal(zap.exitCode, 0, zap.stderr);
      assert.match(zap.stderr, /Zapping successful for: <Raw Device: \/dev\/loop\d+>/);
      const blank = await lab.run('pve2', ['blkid', '-p', inserted.path]);
      assert.equal(blank.exitCode, 2, blank.stdout); // blkid: nothing found
      const zapped = await disk('pve2', serial);
      assert.deepEqual(zapped.children, []);
      assert.deepEqual(judgeNewDevice(zapped, { oldSerial: 'CL00D0004' }), {
        refusals: [],
        wipe: false,
      });
      if (metadata === 'lvm') {
        const pvs = await lab.run('pve2', ['pvs', '--noheadings', '-o', 'pv_name']);
        assert.equal(pvs.stdout.trim(), '', 'the physical volume is gone');
      }
    });
  }

  it('refuses a mounted disk and the OSD disks in place, naming them', async () => {
    const serial = await lab.diskInsert('pve3', { sizeGiB: 1, metadata: 'ext4' });
    const { path } = await disk('pve3', serial);
    const mount = await lab.run('pve3', ['sh', '-ec', 'mkdir -p /mnt/old && mount "$1" /mnt/old', 'sh', path]);
    assert.equal(mount.exitCode, 0, mount.stderr);
    const mounted = judgeNewDevice(await disk('pve3', serial), { oldSerial: null });
    assert.deepEqual(
      mounted.refusals.map((refusal) => refusal.code),
      ['mounted', 'filesystem'],
    );
    assert.match(mounted.refusals[0]!.said.en, new RegExp(`^${path} is mounted \\(${path} on /mnt/old\\)`));
    const [osdDisk] = (await lab.disks()).filter((candidate) => candidate.host === 'pve3');
    assert.ok(osdDisk);
    const old = judgeNewDevice(await disk('pve3', osdDisk.serial), { oldSerial: osdDisk.serial });
    assert.deepEqual(
      old.refusals.map((refusal) => refusal.code),
      ['old-disk', 'osd'],
    );
  });

  it("reads SMART's identity and health, the same disk as lsblk's", async () => {
    const [first] = (await lab.disks()).filter((candidate) => candidate.host === 'pve1');
    assert.ok(first);
    const inLsblk = await disk('pve1', first.serial);
    const byId = inLsblk.byId[0];
    assert.ok(byId);
    await lab.diskSmart('pve1', first.serial, false);
    const probe = smartHealth(byId);
    const output = await run('pve1', probe.command);
    const smart = probe.parse({ code: output.exitCode, stdout: output.stdout, stderr: output.stderr });
    assert.deepEqual(
      [smart.passed, smart.serial, smart.wwn, smart.model, smart.capacityBytes, smart.exitStatus],
      [false, inLsblk.serial, inLsblk.wwn, inLsblk.model, inLsblk.sizeBytes, 8],
    );
    const other = await run('pve1', smartHealth('/dev/null').command);
    const unknown = parseSmartHealth('/dev/null', { code: other.exitCode, stdout: other.stdout, stderr: '' });
    assert.match(unknown.unavailable?.en ?? '', /Unable to detect device type/);
  });

  it('lights the locate LED of the disk named, and of no other, then puts it out', async () => {
    const present = await run('pve1', ledctlPresent.command);
    assert.equal(ledctlPresent.parse(present.stdout), true);
    const pve1 = (await lab.disks()).filter((candidate) => candidate.host === 'pve1');
    const [first, second] = pve1;
    assert.ok(first && second);
    const [firstById, secondById] = [
      (await disk('pve1', first.serial)).byId[0]!,
      (await disk('pve1', second.serial)).path,
    ];
    assert.equal((await run('pve1', locateOn(firstById))).exitCode, 0);
    assert.equal((await run('pve1', locateOn(secondById))).exitCode, 0);
    const lit = await lab.diskLeds();
    assert.deepEqual([lit[first.serial], lit[second.serial]], [true, true]);
    assert.equal((await run('pve1', locateOff(firstById))).exitCode, 0);
    const after = await lab.diskLeds();
    assert.deepEqual([after[first.serial], after[second.serial]], [false, true]);
    const missing = await run('pve1', locateOn('/dev/disk/by-id/ata-NOT_THERE'));
    assert.deepEqual(
      [missing.exitCode, missing.stderr],
      [8, 'ledctl: IBPI LOCATE: missing block device(s)... pattern ignored.\n'],
    );
  });
});
