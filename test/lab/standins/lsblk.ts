// lsblk for a lab's disk hosts: the real /usr/bin/lsblk runs with the same arguments, and its JSON
// output (-J, --json) gets what udev's database would give a real disk: a lab disk is a loop device,
// which has no serial, WWN or model of its own, and a lab host runs no udevd, so the real lsblk
// finds no FSTYPE, PTTYPE, LABEL, UUID... either (util-linux misc-utils/lsblk-properties.c,
// get_properties_by_udev: libudev knows the device from sysfs, its properties are then empty, and
// lsblk does not probe the device itself). The stand-in gives each lab disk (TYPE "disk", as a
// real disk) and what lsblk shows under it the identity from the lab's registry (disk-lab.ts) and
// the signatures `blkid -p` finds now, as udevd's builtin blkid stores them on a real host (systemd
// src/udev/udev-builtin-blkid.c: ID_FS_TYPE from TYPE, ID_PART_TABLE_TYPE from PTTYPE, and for a
// partition its table's scheme; udevd probes again when a writer closes the disk). The machine's
// loop devices that are no disk of this host (other hosts', other labs', the machine's own) are
// left out, as a real machine has no such devices; its other devices (the system disk) stay.
// A lab disk's partitions are loop devices of their own (disks.ts, LabDisk.partitions): each shows
// as a child of its disk (TYPE "part", its node's name loop3p2, PKNAME the disk), with its disk's
// identity and its table entry (PTTYPE, PARTTYPE, PARTUUID, PARTLABEL from `sfdisk -J` of the
// disk), never as a device of its own. Other output formats are the real tool's, untouched.
//
// Sources (github.com/util-linux/util-linux, v2.38.1, Debian 12's): misc-utils/lsblk.c (the
// columns, `-b` sizes in bytes as JSON numbers, null for a missing value), libsmartcols/src/print.c
// (the JSON layout: three-space indent, objects of a list joined by "},{", "children" lists, a
// multi-value column such as MOUNTPOINTS as a list of strings or null on one line, four spaces in).
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import type { LabDisk, LabPartition } from '../control.js';
import { hostDisks } from './disk-lab.js';

const REAL_LSBLK = '/usr/bin/lsblk';

type Value = string | number | boolean | null | (string | null)[] | Device[];
type Device = { [column: string]: Value };

/** The udev properties lsblk reads (lsblk-properties.c), by the blkid value udev takes each from. */
const BLKID_COLUMNS: Record<string, string> = {
  TYPE: 'fstype',
  VERSION: 'fsver',
  LABEL: 'label',
  UUID: 'uuid',
  PTTYPE: 'pttype',
  PTUUID: 'ptuuid',
  PART_ENTRY_SCHEME: 'pttype',
  PART_ENTRY_TYPE: 'parttype',
  PART_ENTRY_UUID: 'partuuid',
  PART_ENTRY_NAME: 'partlabel',
  PART_ENTRY_FLAGS: 'partflags',
};

function isDeviceList(value: Value | undefined): value is Device[] {
  return Array.isArray(value) && value.some((item) => typeof item === 'object' && item !== null);
}

/** libsmartcols's JSON printer, as lsblk -J writes it. */
function printJson(devices: Device[], depth: number): string {
  const pad = (level: number) => '   '.repeat(level);
  const objects = devices.map((device) => {
    const fields = Object.entries(device).map(([key, value]) => {
      const text = isDeviceList(value)
        ? `[\n${printJson(value, depth + 2)}\n${pad(depth + 1)}]`
        : Array.isArray(value)
          ? `[\n${pad(depth + 1)}    ${value.map((item) => JSON.stringify(item)).join(', ')}\n${pad(depth + 1)}]`
          : JSON.stringify(value);
      return `${pad(depth + 1)}${JSON.stringify(key)}: ${text}`;
    });
    return `{\n${fields.join(',\n')}\n${pad(depth)}}`;
  });
  return `${pad(depth)}${objects.join(',')}`;
}

/** What udev's builtin blkid would have stored of the device: `blkid -p`'s values (exit 2: none). */
function udevProperties(path: string): Device {
  const probe = spawnSync('blkid', ['-p', '-o', 'export', path], { encoding: 'utf8' });
  const found: Device = {};
  for (const line of probe.status === 0 ? probe.stdout.split('\n') : []) {
    const [key = '', ...rest] = line.split('=');
    const column = BLKID_COLUMNS[key];
    if (column && found[column] === undefined) found[column] = rest.join('=');
  }
  return found;
}

/** The columns the output has, given what the lab knows of the device. */
function known(device: Device, identity: Device): Device {
  return Object.fromEntries(Object.entries(device).map(([key, value]) => [key, identity[key] ?? value]));
}

/** A lab disk and what lsblk shows under it, each with the properties udev would have stored. */
function withUdev(devices: Device[]): Device[] {
  return devices.map((device) => {
    const name = typeof device['name'] === 'string' ? basename(device['name']) : '';
    const children = device['children'];
    const kept = isDeviceList(children) ? { ...device, children: withUdev(children) } : device;
    return known(kept, udevProperties(`/dev/${name}`));
  });
}

/** A partition's loop device of the machine, as the disk's partition the kernel would show. */
interface PartitionLoop {
  disk: LabDisk & { device: string };
  partition: LabPartition;
}

const tables = new Map<string, { label: string; partitions: SfdiskPartition[] }>();

interface SfdiskPartition {
  node: string;
  type: string;
  uuid?: string;
  name?: string;
}

/** What udev's blkid finds of a partition's table entry: `sfdisk -J` of its disk (fdisk's sfdisk). */
function tableEntry(disk: string, number: number): Device {
  let table = tables.get(disk);
  if (!table) {
    const read = spawnSync('sfdisk', ['-J', `/dev/${disk}`], { encoding: 'utf8' });
    const parsed = read.status === 0 ? (JSON.parse(read.stdout) as { partitiontable: typeof table }) : undefined;
    table = parsed?.partitiontable ?? { label: '', partitions: [] };
    tables.set(disk, table);
  }
  const entry = table.partitions.find((candidate) => new RegExp(`p?${number}$`).test(candidate.node));
  if (!entry) return {};
  return {
    pttype: table.label,
    parttype: entry.type.toLowerCase(),
    partuuid: entry.uuid?.toLowerCase() ?? null,
    partlabel: entry.name ?? null,
  };
}

/** The name, path... of the partition's own loop device, renamed as its node in this host. */
function asPartition(device: Device, { disk, partition }: PartitionLoop): Device {
  const renamed = Object.fromEntries(
    Object.entries(device).map(([key, value]) => {
      const own = typeof value === 'string' && ['name', 'kname', 'path'].includes(key);
      return [key, own ? value.replace(partition.loop, partition.device) : value];
    }),
  );
  // A partition's udev properties hold its disk's identity (60-persistent-storage.rules, IMPORT{parent})
  // and its table entry (udev-builtin-blkid.c probes the partition within its disk's table).
  const [probed = renamed] = withUdev([renamed]);
  const pkname = String(device['name']).startsWith('/') ? `/dev/${disk.device}` : disk.device;
  const { serial, wwn, model } = disk;
  return known(probed, {
    serial,
    wwn,
    model,
    type: 'part',
    pkname,
    partn: partition.number,
    ...tableEntry(disk.device, partition.number),
  });
}

/**
 * A device's identity from the registry, in the columns the output has, a disk's partitions as its
 * children (`partitions`: each partition loop's real lsblk entry); other loops dropped, a partition's
 * loop shown as that partition when its disk is not in the output (as `lsblk /dev/sda2` shows it).
 */
function withIdentity(
  devices: Device[],
  disks: Map<string, LabDisk & { device: string }>,
  partitions: Map<string, PartitionLoop>,
  entries: Map<string, Device>,
  nodeps: boolean,
): Device[] {
  const shownDisks = new Set(devices.map((device) => basename(String(device['name']))).filter((n) => disks.has(n)));
  return devices.flatMap((device) => {
    const name = typeof device['name'] === 'string' ? basename(device['name']) : undefined;
    const children = device['children'];
    const kept = isDeviceList(children)
      ? { ...device, children: withIdentity(children, disks, partitions, entries, nodeps) }
      : device;
    if (name === undefined || !/^loop\d+$/.test(name)) return [kept];
    const partition = partitions.get(name);
    if (partition) return shownDisks.has(partition.disk.device) ? [] : [asPartition(device, partition)];
    const disk = disks.get(name);
    if (!disk) return [];
    const parts = nodeps
      ? []
      : disk.partitions.flatMap((part) => {
          const entry = entries.get(part.loop);
          return entry ? [asPartition(entry, { disk, partition: part })] : [];
        });
    const [probed = device] = withUdev([device]);
    const withParts = parts.length > 0 ? { ...probed, children: parts } : probed;
    return [known(withParts, { serial: disk.serial, wwn: disk.wwn, model: disk.model, type: 'disk' })];
  });
}

/** The real lsblk's JSON output: its list's key and devices. */
function devicesOf(stdout: string): { key: string; devices: Device[] } {
  const [key = 'blockdevices', devices = []] = Object.entries(JSON.parse(stdout) as Record<string, Device[]>)[0] ?? [];
  return { key, devices };
}

const args = process.argv.slice(2);
const json = args.some((arg) => arg === '--json' || /^-[a-zA-Z]*J/.test(arg));
const real = spawnSync(REAL_LSBLK, args, { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] });
if (!json || real.status !== 0) {
  process.stdout.write(real.stdout ?? '');
  process.exitCode = real.status ?? 1;
} else {
  const inserted = (await hostDisks()).filter((disk): disk is LabDisk & { device: string } => disk.device !== null);
  const disks = new Map(inserted.map((disk) => [disk.device, disk]));
  const partitions = new Map(
    inserted.flatMap((disk) => disk.partitions.map((partition) => [partition.loop, { disk, partition }] as const)),
  );
  // The partitions' loops, asked of the real lsblk with the same options (the devices asked left out).
  const options = args.filter((arg) => !arg.startsWith('/dev/'));
  // By their nodes here (the host's /dev has no node of the loop's own name): lsblk names them by sysfs.
  const loops = [...partitions.values()].map(({ partition }) => `/dev/${partition.device}`);
  const partitionLoops = loops.length > 0 ? spawnSync(REAL_LSBLK, [...options, '--nodeps', ...loops]) : undefined;
  const entries = new Map(
    (partitionLoops?.status === 0 ? devicesOf(partitionLoops.stdout.toString()).devices : []).map((device) => [
      basename(String(device['name'])),
      device,
    ]),
  );
  const nodeps = args.some((arg) => arg === '--nodeps' || /^-[a-zA-Z]*d/.test(arg));
  const { key, devices } = devicesOf(real.stdout);
  const shown = withIdentity(devices, disks, partitions, entries, nodeps);
  const list = shown.length > 0 ? `${printJson(shown, 2)}\n` : '';
  process.stdout.write(`{\n   ${JSON.stringify(key)}: [\n${list}   ]\n}\n`);
}
