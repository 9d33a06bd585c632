// The storage domain on real outputs (test/unit/fixtures/storage/README.md says where each comes
// from): lsblk's tree, the by-id links, SMART's identity and health, which disk a spec names, the
// judgement of a new device on the shapes a disk really comes with, and the ledctl commands.
import assert from 'node:assert/strict';
import { OutputError } from '../../src/lib/remote/json-output.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  blockDevices,
  type BlockDevice,
  describeDisk,
  identityOf,
  type Disk,
  diskLinks,
  disksOf,
  identify,
  parseBlockDevices,
  parseDiskLinks,
  parseSmartHealth,
  smartHealth,
} from '../../src/lib/storage/disks.js';
import { judgeNewDevice, newDevices } from '../../src/lib/storage/judge.js';
import { ledctlPresent, locateOff, locateOn } from '../../src/lib/storage/led.js';
import { render } from '../../src/lib/remote/shell.js';
import { inFrench } from './in-french.js';

const DIR = fileURLToPath(new URL('../../../test/unit/fixtures/storage/', import.meta.url));
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');

const labDisks = (): Disk[] =>
  disksOf(parseBlockDevices(read('lsblk-lab-pve1.json')), parseDiskLinks(read('by-id-lab-pve1.txt')));
const labDisk = (serial: string): Disk => {
  const disk = labDisks().find((candidate) => candidate.serial === serial);
  assert.ok(disk, `no disk ${serial} in the lab's capture`);
  return disk;
};
/** A device of this machine's capture (loop devices: the judgement does not look at the type). */
const machineDevice = (name: string): Disk => {
  const device = parseBlockDevices(read('lsblk-loops-udev.json')).find((candidate) => candidate.name === name);
  assert.ok(device, `no ${name} in the machine's capture`);
  return { ...device, byId: [] };
};
const GIB = 1024 ** 3;

describe('lsblk, as the storage domain reads it', () => {
  it('asks for the columns it reads, in bytes, as JSON', () => {
    assert.equal(
      render(blockDevices.command).toString(),
      'lsblk -J -b -o NAME,KNAME,PATH,TYPE,SIZE,SERIAL,WWN,MODEL,FSTYPE,MOUNTPOINTS,PTTYPE',
    );
  });

  it("reads a real tree: partitions as children, udev's signatures, mountpoints without lsblk's nulls", () => {
    const devices = parseBlockDevices(read('lsblk-loops-udev.json'));
    assert.deepEqual(
      devices.map((device) => [device.name, device.type, device.fstype, device.pttype, device.mountpoints]),
      [
        ['loop7', 'loop', null, null, []],
        ['loop8', 'loop', null, 'gpt', []],
        ['loop9', 'loop', 'LVM2_member', null, []],
        ['loop10', 'loop', 'ext4', null, []],
        ['loop11', 'loop', 'ext4', null, ['/tmp/hs-cap/mnt']],
        ['loop12', 'loop', null, 'gpt', []],
      ],
    );
    const gpt = devices[1]!;
    assert.deepEqual(
      gpt.children.map((part) => [part.name, part.path, part.type, part.sizeBytes, part.fstype, part.pttype]),
      [
        ['loop8p1', '/dev/loop8p1', 'part', 104857600, null, 'gpt'],
        ['loop8p2', '/dev/loop8p2', 'part', 967818752, null, 'gpt'],
      ],
    );
    assert.equal(devices[5]!.children[0]!.fstype, 'ext4');
    assert.deepEqual([gpt.sizeBytes, gpt.serial, gpt.wwn, gpt.model], [GIB, null, null, null]);
  });

  it('takes whole disks only, each with its by-id links, the ones with the serial first', () => {
    const disks = labDisks();
    assert.deepEqual(
      disks.map((disk) => [disk.name, disk.serial]),
      [
        ['loop0', 'CL00D0001'],
        ['loop5', 'CL00D0006'],
        ['loop12', 'CL00D0007'],
        ['loop13', 'CL00D0008'],
        ['loop14', 'CL00D0009'],
        ['loop15', 'CL00D0010'],
        ['loop16', 'CL00D0011'],
        ['zram0', null],
        ['vda', null],
      ],
    );
    const first = disks[0]!;
    assert.deepEqual(
      [first.wwn, first.model, first.sizeBytes, first.fstype],
      ['0x5cafe00000000001', 'LAB SSD 2G', 2 * GIB, 'ceph_bluestore'],
    );
    assert.deepEqual(first.byId, [
      '/dev/disk/by-id/ata-LAB_SSD_2G_CL00D0001',
      '/dev/disk/by-id/wwn-0x5cafe00000000001',
    ]);
    assert.deepEqual(disks.at(-1)!.byId, []);
    // A SAS disk holding an LVM physical volume, as udev names it: the link with its serial first.
    const sas = disksOf(
      parseBlockDevices('{"blockdevices": [{"name": "sdc", "type": "disk", "size": 1, "serial": "Z1Z2ABCD"}]}'),
      parseDiskLinks(
        'wwn-0x5000c5008e4b1a2b ../../sdc\nlvm-pv-uuid-Xc3d4e-aaaa ../../sdc\n' +
          'scsi-35000c5008e4b1a2b ../../sdc\nscsi-SSEAGATE_ST4000NM0023_Z1Z2ABCD ../../sdc\n',
      ),
    );
    assert.deepEqual(sas[0]!.byId, [
      '/dev/disk/by-id/scsi-SSEAGATE_ST4000NM0023_Z1Z2ABCD',
      '/dev/disk/by-id/scsi-35000c5008e4b1a2b',
      '/dev/disk/by-id/lvm-pv-uuid-Xc3d4e-aaaa',
      '/dev/disk/by-id/wwn-0x5000c5008e4b1a2b',
    ]);
    // Loop devices of a machine are no disks.
    assert.deepEqual(disksOf(parseBlockDevices(read('lsblk-loops-udev.json')), new Map()), []);
  });

  it('reads sizes written as strings (util-linux before 2.33) and trims padded models', () => {
    const [device] = parseBlockDevices(
      JSON.stringify({
        blockdevices: [{ name: 'sda', type: 'disk', size: '500107862016', model: 'WDC WD5000  ', serial: '' }],
      }),
    );
    assert.deepEqual(
      [device!.sizeBytes, device!.model, device!.serial, device!.path, device!.kname, device!.mountpoints],
      [500107862016, 'WDC WD5000', null, '/dev/sda', 'sda', []],
    );
  });

  it('names what it cannot read', () => {
    assert.throws(() => parseBlockDevices('lsblk: unknown column: MOUNTPOINTS'), OutputError);
    assert.throws(
      () => parseBlockDevices('{"blockdevices": [{"name": "sda", "type": "disk", "size": -1}]}'),
      /lsblk sda size: a size in bytes was expected/,
    );
    assert.throws(() => parseBlockDevices('{"blockdevices": {}}'), /lsblk blockdevices: a list was expected/);
  });
});

describe('/dev/disk/by-id', () => {
  it('lists each link with its target, and says nothing on a host without the directory', () => {
    assert.match(render(diskLinks.command).toString(), /^sh -c .*find \/dev\/disk\/by-id -maxdepth 1 -type l/s);
    const links = parseDiskLinks(read('by-id-lab-pve1.txt'));
    assert.equal(links.size, 7);
    assert.deepEqual(links.get('loop16'), [
      '/dev/disk/by-id/wwn-0x5cafe0000000000b',
      '/dev/disk/by-id/ata-LAB_SSD_1G_CL00D0011',
    ]);
    assert.deepEqual(parseDiskLinks(''), new Map());
    // A partition's links go to the partition, not to its disk.
    const real = parseDiskLinks('ata-ST4000_Z1 ../../sdc\nata-ST4000_Z1-part1 ../../sdc1\n');
    assert.deepEqual([...real.keys()], ['sdc', 'sdc1']);
    assert.throws(() => parseDiskLinks('no-target\n'), OutputError);
  });
});

describe('identify', () => {
  const disks = labDisks();
  const serialOf = (spec: string) => identify(disks, spec)?.serial;

  it('finds a disk by by-id path or link name, device path or kernel name, serial or WWN', () => {
    assert.equal(serialOf('/dev/disk/by-id/ata-LAB_SSD_1G_CL00D0008'), 'CL00D0008');
    assert.equal(serialOf('wwn-0x5cafe00000000009'), 'CL00D0009');
    assert.equal(serialOf('/dev/loop15'), 'CL00D0010');
    assert.equal(serialOf('loop16'), 'CL00D0011');
    assert.equal(serialOf('CL00D0007'), 'CL00D0007');
    assert.equal(serialOf('0x5CAFE00000000006'), 'CL00D0006');
    assert.equal(serialOf(' CL00D0001 '), 'CL00D0001');
  });

  it('finds nothing for an unknown spec, nor when two disks answer to it (two paths to one disk)', () => {
    assert.equal(identify(disks, 'CL00D9999'), undefined);
    assert.equal(identify(disks, '/dev/disk/by-id/ata-LAB_SSD_1G_CL00D9999'), undefined);
    const twice = [...disks, { ...disks[2]!, name: 'sdz', kname: 'sdz', path: '/dev/sdz', byId: [] }];
    assert.equal(identify(twice, 'CL00D0007'), undefined);
    assert.equal(identify(twice, 'sdz')?.serial, 'CL00D0007');
  });
});

describe('SMART', () => {
  const probe = (file: string, code: number) => parseSmartHealth('/dev/sdx', { code, stdout: read(file), stderr: '' });

  it('asks smartctl for the identity and the health, as JSON', () => {
    assert.equal(
      render(smartHealth('/dev/disk/by-id/ata-X').command).toString(),
      'smartctl -i -H -j /dev/disk/by-id/ata-X',
    );
  });

  it("reads a passing disk's identity, its WWN written as lsblk writes it", () => {
    assert.deepEqual(probe('smartctl-lab-passed.json', 0), {
      passed: true,
      model: 'LAB SSD 2G',
      serial: 'CL00D0001',
      wwn: labDisk('CL00D0001').wwn,
      capacityBytes: 2 * GIB,
      exitStatus: 0,
      unavailable: null,
    });
  });

  it('reads a failing disk: FAILED with exit bit 3, alone or with the attribute and log bits', () => {
    const lab = probe('smartctl-lab-failing.json', 8);
    assert.deepEqual([lab.passed, lab.exitStatus, lab.serial], [false, 8, 'CL00D0006']);
    const real = probe('smartctl-ata-failing.json', 216);
    assert.deepEqual(
      [real.passed, real.exitStatus, real.serial, real.model, real.wwn, real.capacityBytes],
      [false, 216, 'MSK423Y20S3HBC', 'Hitachi HDS721050DLE630', '0x5000cca37fca81a8', 500107862016],
    );
  });

  it('reads an NVMe drive: its capacity, no WWN, no health asked', () => {
    const nvme = probe('smartctl-nvme-info.json', 0);
    assert.deepEqual(
      [nvme.passed, nvme.serial, nvme.model, nvme.wwn, nvme.capacityBytes, nvme.unavailable],
      [null, '61Q0A05UT7B8', 'KCD61LUL3T84', null, 3840755982336, null],
    );
  });

  it('says why SMART says nothing: a device it cannot read, smartctl not installed', () => {
    const virtio = probe('smartctl-virtio-unknown-type.json', 1);
    assert.deepEqual([virtio.passed, virtio.exitStatus], [null, 1]);
    assert.equal(
      virtio.unavailable?.en,
      'smartctl cannot read /dev/sdx (exit status 1): /dev/vda: Unable to detect device type',
    );
    const missing = parseSmartHealth('/dev/sdx', { code: 127, stdout: '', stderr: 'sh: 1: smartctl: not found' });
    assert.equal(missing.unavailable?.en, 'smartctl is not installed (Debian package smartmontools)');
    assert.throws(
      () => parseSmartHealth('/dev/sdx', { code: null, stdout: '', stderr: '' }),
      /smartctl \/dev\/sdx printed no JSON \(exit signal\)/,
    );
  });
});

describe('a new device', () => {
  const judge = (disk: Disk, minBytes?: number) =>
    judgeNewDevice(disk, { oldSerial: 'CL00D0006', ...(minBytes === undefined ? {} : { minBytes }) });
  const codes = (disk: Disk, minBytes?: number) => judge(disk, minBytes).refusals.map((refusal) => refusal.code);

  it('is the disk that was not there before, by serial: a new disk may get the old one its name', () => {
    const now = labDisks();
    const before = now.filter((disk) => disk.serial !== 'CL00D0007');
    const reused = { ...now[2]!, name: 'loop5', kname: 'loop5', path: '/dev/loop5' };
    assert.deepEqual(
      newDevices(before, now).map((disk) => disk.serial),
      ['CL00D0007'],
    );
    assert.deepEqual(
      newDevices(now.slice(0, 2), [now[0]!, reused]).map((disk) => disk.serial),
      ['CL00D0007'],
    );
    assert.deepEqual(newDevices(now, now), []);
  });

  it('may be used as it is when blank', () => {
    assert.deepEqual(judge(labDisk('CL00D0007')), { refusals: [], wipe: false });
    assert.deepEqual(judge(machineDevice('loop7')), { refusals: [], wipe: false });
  });

  it('is zapped first when it holds a partition table without filesystems, or old LVM metadata', () => {
    assert.deepEqual(judge(labDisk('CL00D0008')), { refusals: [], wipe: true });
    assert.deepEqual(judge(machineDevice('loop8')), { refusals: [], wipe: true });
    assert.deepEqual(judge(labDisk('CL00D0009')), { refusals: [], wipe: true });
    assert.deepEqual(judge(machineDevice('loop9')), { refusals: [], wipe: true });
  });

  it('is refused for a mirror when it holds a partition table or LVM metadata: the copy would erase them', () => {
    const mirror = (disk: Disk) =>
      judgeNewDevice(disk, { oldSerial: 'CL00D0006', blankOnly: true }).refusals.map((refusal) => refusal.code);
    assert.deepEqual(mirror(labDisk('CL00D0007')), []);
    assert.deepEqual(mirror(labDisk('CL00D0008')), ['partitioned']);
    assert.deepEqual(mirror(labDisk('CL00D0009')), ['partitioned']);
    const said = judgeNewDevice(labDisk('CL00D0008'), { oldSerial: null, blankOnly: true }).refusals[0]!.said;
    assert.match(said.en, /^\/dev\/loop\d+ holds a gpt label: it may hold data; wipe it on purpose first/);
    // A filesystem is refused for what it is, not twice.
    assert.deepEqual(mirror(labDisk('CL00D0010')), ['filesystem']);
  });

  it('is refused when it holds a filesystem, on the disk or on a partition, naming each', () => {
    const ext4 = judge(labDisk('CL00D0010'));
    assert.deepEqual(ext4.refusals, [
      {
        code: 'filesystem',
        said: {
          en:
            '/dev/loop15 holds data (ext4 on /dev/loop15): chaton does not erase a filesystem; if it is ' +
            'unwanted, erase it by hand (wipefs --all) and run again',
          text:
            '/dev/loop15 holds data (ext4 on /dev/loop15): chaton does not erase a filesystem; if it is ' +
            'unwanted, erase it by hand (wipefs --all) and run again',
        },
      },
    ]);
    const partition = judge(machineDevice('loop12'));
    assert.deepEqual(
      partition.refusals.map((refusal) => refusal.code),
      ['filesystem'],
    );
    assert.match(partition.refusals[0]!.said.en, /^\/dev\/loop12 holds data \(ext4 on \/dev\/loop12p1\)/);
    assert.equal(partition.wipe, true);
    assert.deepEqual(codes(machineDevice('loop10')), ['filesystem']);
  });

  it('is refused when mounted, saying where, in the reader language and in English', () => {
    const mounted = inFrench(() => judge(labDisk('CL00D0011')));
    assert.deepEqual(
      mounted.refusals.map((refusal) => refusal.code),
      ['mounted', 'filesystem'],
    );
    assert.deepEqual(mounted.refusals[0]!.said, {
      en:
        '/dev/loop16 is mounted (/dev/loop16 on /mnt/old): it is in use on this host; unmount it or choose ' +
        'another device',
      text:
        '/dev/loop16 est monté (/dev/loop16 sur /mnt/old) : il est utilisé sur cet hôte ; démontez-le ou ' +
        'choisissez un autre périphérique',
    });
    assert.match(mounted.refusals[1]!.said.text, /^\/dev\/loop16 contient des données \(ext4 sur \/dev\/loop16\)/);
    assert.deepEqual(codes(machineDevice('loop11')), ['mounted', 'filesystem']);
  });

  it("is refused when it holds another OSD's BlueStore, or is the old disk put back", () => {
    assert.deepEqual(judge(labDisk('CL00D0001')).refusals, [
      {
        code: 'osd',
        said: {
          en: "/dev/loop0 holds a Ceph OSD (ceph_bluestore on /dev/loop0): another OSD's data; choose another device",
          text: "/dev/loop0 holds a Ceph OSD (ceph_bluestore on /dev/loop0): another OSD's data; choose another device",
        },
      },
    ]);
    const old = judge(labDisk('CL00D0006'));
    assert.deepEqual(
      old.refusals.map((refusal) => refusal.code),
      ['old-disk', 'osd'],
    );
    assert.equal(
      old.refusals[0]!.said.en,
      '/dev/loop5 is the old disk (serial CL00D0006) put back: insert the new disk instead',
    );
  });

  it('is refused when smaller than needed, with both sizes', () => {
    const small = judge(labDisk('CL00D0007'), 2 * GIB);
    assert.deepEqual(small.refusals, [
      {
        code: 'too-small',
        said: {
          en: '/dev/loop12 is 1G, smaller than the 2G needed',
          text: '/dev/loop12 is 1G, smaller than the 2G needed',
        },
      },
    ]);
    assert.deepEqual(codes(labDisk('CL00D0007'), GIB), []);
  });

  it('is refused when something is built on it (active LVM, an open LUKS mapping, RAID)', () => {
    // lsblk's shape of an active volume on an old PV: no device-mapper here to capture one.
    const pv = machineDevice('loop9');
    const volume: BlockDevice = {
      ...pv,
      name: 'old-data',
      kname: 'dm-3',
      path: '/dev/mapper/old-data',
      type: 'lvm',
      fstype: 'xfs',
      children: [],
    };
    const active = judge({ ...pv, children: [volume] });
    assert.deepEqual(
      active.refusals.map((refusal) => refusal.code),
      ['in-use', 'filesystem'],
    );
    assert.equal(
      active.refusals[0]!.said.en,
      '/dev/loop9 is in use: /dev/mapper/old-data (lvm) sit on it (active LVM, encryption or RAID); ' +
        'stop them or choose another device',
    );
  });
});

describe('which disk to pull, for people', () => {
  let saved: string | undefined;
  before(() => {
    saved = process.env['LC_ALL'];
    process.env['LC_ALL'] = 'C.UTF-8';
  });
  after(() => {
    if (saved === undefined) delete process.env['LC_ALL'];
    else process.env['LC_ALL'] = saved;
  });

  it('gives host, device, serial, WWN, model, size, SMART health and by-id path, aligned', () => {
    const smart = parseSmartHealth('/dev/loop5', { code: 8, stdout: read('smartctl-lab-failing.json'), stderr: '' });
    const lines = describeDisk('pve1', identityOf(labDisk('CL00D0006'), smart));
    assert.deepEqual(
      lines.map((line) => line.text),
      [
        'host:         pve1',
        'device:       /dev/loop5',
        'serial:       CL00D0006',
        'WWN:          0x5cafe00000000006',
        'model:        LAB SSD 2G',
        'size:         2G (2147483648 bytes)',
        'SMART health: FAILED: the disk itself predicts its failure',
        'by-id path:   /dev/disk/by-id/ata-LAB_SSD_2G_CL00D0006',
      ],
    );
    const french = inFrench(() => describeDisk('pve1', identityOf(labDisk('CL00D0006'), smart)));
    assert.equal(french[2]!.text, 'n° de série :  CL00D0006');
    assert.equal(french[6]!.text, 'santé SMART :  FAILED : le disque prévoit lui-même sa panne');
    assert.equal(french[6]!.en, lines[6]!.en);
  });

  it('takes the identity from SMART where lsblk has none, and says why SMART says nothing', () => {
    const vda = labDisks().find((disk) => disk.name === 'vda')!;
    const nvme = parseSmartHealth('/dev/vda', { code: 0, stdout: read('smartctl-nvme-info.json'), stderr: '' });
    const lines = describeDisk('pve1', identityOf(vda, nvme)).map((line) => line.text);
    assert.deepEqual(lines.slice(2, 5), [
      'serial:       61Q0A05UT7B8',
      'WWN:          unknown',
      'model:        KCD61LUL3T84',
    ]);
    assert.equal(lines[6], 'SMART health: no health status reported');
    assert.equal(lines[7], 'by-id path:   unknown');
    const virtio = parseSmartHealth('/dev/vda', {
      code: 1,
      stdout: read('smartctl-virtio-unknown-type.json'),
      stderr: '',
    });
    assert.equal(
      describeDisk('pve1', identityOf(vda, virtio))[6]!.text,
      'SMART health: not available (smartctl cannot read /dev/vda (exit status 1): ' +
        '/dev/vda: Unable to detect device type)',
    );
  });
});

describe('the locate LED', () => {
  it('lights and puts out the LED of the listed device only (ledctl --listed-only)', () => {
    assert.equal(render(locateOn('/dev/sdc')).toString(), "ledctl --listed-only 'locate=/dev/sdc'");
    assert.equal(
      render(locateOff('/dev/disk/by-id/ata-X')).toString(),
      "ledctl --listed-only 'locate_off=/dev/disk/by-id/ata-X'",
    );
  });

  it('knows whether the host has ledctl', () => {
    assert.equal(render(ledctlPresent.command).toString(), "sh -c 'command -v ledctl || true'");
    assert.equal(ledctlPresent.parse('/usr/sbin/ledctl\n'), true);
    assert.equal(ledctlPresent.parse(''), false);
  });
});
