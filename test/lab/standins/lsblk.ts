// lsblk for a Ceph lab's hosts: the real /usr/bin/lsblk runs with the same arguments, and its JSON
// output (-J, --json) gets what udev's database would give a real disk: a lab disk is a loop device,
// which has no serial, WWN or model of its own, and a lab host runs no udevd, so the real lsblk
// finds no FSTYPE, PTTYPE, LABEL, UUID... either (util-linux misc-utils/lsblk-properties.c,
// get_properties_by_udev: libudev knows the device from sysfs, its properties are then empty, and
// lsblk does not probe the device itself). The stand-in gives each lab disk (TYPE "disk", as a
// real disk) and what lsblk shows under it the identity from the lab's registry (ceph-lab.ts) and
// the signatures `blkid -p` finds now, as udevd's builtin blkid stores them on a real host (systemd
// src/udev/udev-builtin-blkid.c: ID_FS_TYPE from TYPE, ID_PART_TABLE_TYPE from PTTYPE, and for a
// partition its table's scheme; udevd probes again when a writer closes the disk). The machine's
// loop devices that are no disk of this host (other hosts', other labs', the machine's own) are
// left out, as a real machine has no such devices; its other devices (the system disk) stay.
// Other output formats are the real tool's, untouched.
//
// Sources (github.com/util-linux/util-linux, v2.38.1, Debian 12's): misc-utils/lsblk.c (the
// columns, `-b` sizes in bytes as JSON numbers, null for a missing value), libsmartcols/src/print.c
// (the JSON layout: three-space indent, objects of a list joined by "},{", "children" lists, a
// multi-value column such as MOUNTPOINTS as a list of strings or null on one line, four spaces in).
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import type { LabDisk } from '../control.js';
import { hostDisks } from './ceph-lab.js';

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

/** A device's identity from the registry, in the columns the output has; other loops dropped. */
function withIdentity(devices: Device[], disks: Map<string, LabDisk>): Device[] {
  return devices.flatMap((device) => {
    const name = typeof device['name'] === 'string' ? basename(device['name']) : undefined;
    const children = device['children'];
    const kept = isDeviceList(children) ? { ...device, children: withIdentity(children, disks) } : device;
    if (name === undefined || !/^loop\d+$/.test(name)) return [kept];
    const disk = disks.get(name);
    if (!disk) return [];
    const [probed = device] = withUdev([device]);
    return [known(probed, { serial: disk.serial, wwn: disk.wwn, model: disk.model, type: 'disk' })];
  });
}

const args = process.argv.slice(2);
const json = args.some((arg) => arg === '--json' || /^-[a-zA-Z]*J/.test(arg));
const real = spawnSync(REAL_LSBLK, args, { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] });
if (!json || real.status !== 0) {
  process.stdout.write(real.stdout ?? '');
  process.exitCode = real.status ?? 1;
} else {
  const disks = new Map((await hostDisks()).map((disk) => [disk.device ?? '', disk]));
  const output = JSON.parse(real.stdout) as Record<string, Device[]>;
  const [key = 'blockdevices', devices = []] = Object.entries(output)[0] ?? [];
  const shown = withIdentity(devices, disks);
  const list = shown.length > 0 ? `${printJson(shown, 2)}\n` : '';
  process.stdout.write(`{\n   ${JSON.stringify(key)}: [\n${list}   ]\n}\n`);
}
