// Records what a Ceph lab host prints for the storage domain (issue 14) into
// test/unit/fixtures/storage/ (its README.md says what each file is): lsblk's tree with the OSDs'
// disks and new disks carrying what a disk from another machine carries (nothing, a GPT, an LVM
// physical volume, ext4, ext4 mounted), the /dev/disk/by-id links, and smartctl's JSON for a
// passing and a failing disk. The serials carry the lab's index (CL<index>D<n>) and the loop
// devices are the machine's next free ones: the unit tests name those of the capture committed.
// This machine's own captures (loop devices with udev's database) are made by hand (README).
//   npm run build && node dist/test/lab/capture-storage-fixtures.js [--name LAB]
// Needs root; brings its Ceph lab up and down (default name: $CHATON_LAB_PREFIX + "storage-capture").
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DiskMetadata } from './control.js';
import { labDown, labUp, type Lab } from './lab.js';

const OUT = fileURLToPath(new URL('../../../test/unit/fixtures/storage/', import.meta.url));
const HOST = 'pve1';
const LSBLK_COLUMNS = 'NAME,KNAME,PATH,TYPE,SIZE,SERIAL,WWN,MODEL,FSTYPE,MOUNTPOINTS,PTTYPE';

/** The command's stdout, once it exited as expected. */
async function output(lab: Lab, argv: string[], exitCode = 0): Promise<string> {
  const result = await lab.run(HOST, argv);
  if (result.exitCode !== exitCode) {
    throw new Error(`${argv.join(' ')}: exit ${result.exitCode}, not ${exitCode}: ${result.stderr}`);
  }
  return result.stdout;
}

async function capture(lab: Lab): Promise<void> {
  const kinds: (DiskMetadata | undefined)[] = [undefined, 'gpt', 'lvm', 'ext4', 'ext4'];
  const serials: string[] = [];
  for (const metadata of kinds) {
    serials.push(await lab.diskInsert(HOST, { sizeGiB: 1, ...(metadata ? { metadata } : {}) }));
  }
  const disks = await lab.disks();
  const device = (serial: string | undefined) => `/dev/${disks.find((disk) => disk.serial === serial)?.device}`;
  await output(lab, ['sh', '-ec', 'mkdir -p /mnt/old && mount "$1" /mnt/old', 'sh', device(serials.at(-1))]);
  const [first, second] = disks.filter((disk) => disk.host === HOST);
  if (!first || !second) throw new Error(`${HOST} has not its two OSD disks`);
  await lab.diskSmart(HOST, second.serial, false);
  const files: [string, string][] = [
    ['lsblk-lab-pve1.json', await output(lab, ['lsblk', '-J', '-b', '-o', LSBLK_COLUMNS])],
    [
      'by-id-lab-pve1.txt',
      await output(lab, ['find', '/dev/disk/by-id', '-maxdepth', '1', '-type', 'l', '-printf', '%f %l\n']),
    ],
    ['smartctl-lab-passed.json', await output(lab, ['smartctl', '-i', '-H', '-j', `/dev/disk/by-id/${first.byId[0]}`])],
    ['smartctl-lab-failing.json', await output(lab, ['smartctl', '-i', '-H', '-j', `/dev/${second.device}`], 8)],
  ];
  for (const [file, text] of files) await writeFile(join(OUT, file), text);
}

const { values } = parseArgs({ options: { name: { type: 'string' } } });
const name = values.name ?? `${process.env['CHATON_LAB_PREFIX'] ?? ''}storage-capture`;
await labDown(name);
const lab = await labUp({ name, hosts: 0, ceph: true });
try {
  await capture(lab);
} finally {
  await lab.down();
}
