// lsblk for a Ceph lab's hosts: the real /usr/bin/lsblk runs with the same arguments, and its JSON
// output (-J, --json) is given the disks' identities from the lab's registry (ceph-lab.ts): a lab
// disk is a loop device, which has no serial, WWN or model of its own. The machine's loop devices
// that are no disk of this host (other hosts', other labs', the machine's own) are left out, as a
// real machine has no such devices; its other devices (the system disk) stay. Other output formats
// are the real tool's, untouched.
//
// Sources (github.com/util-linux/util-linux, v2.38.1, Debian 12's): misc-utils/lsblk.c (the
// columns, `-b` sizes in bytes as JSON numbers, null for a missing value), libsmartcols/src/print.c
// (the JSON layout: three-space indent, objects of a list joined by "},{", "children" lists).
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import type { LabDisk } from '../control.js';
import { hostDisks } from './ceph-lab.js';

const REAL_LSBLK = '/usr/bin/lsblk';

type Value = string | number | boolean | null | Device[];
type Device = { [column: string]: Value };

/** libsmartcols's JSON printer, as lsblk -J writes it. */
function printJson(devices: Device[], depth: number): string {
  const pad = (level: number) => '   '.repeat(level);
  const objects = devices.map((device) => {
    const fields = Object.entries(device).map(([key, value]) => {
      const text = Array.isArray(value)
        ? `[\n${printJson(value, depth + 2)}\n${pad(depth + 1)}]`
        : JSON.stringify(value);
      return `${pad(depth + 1)}${JSON.stringify(key)}: ${text}`;
    });
    return `{\n${fields.join(',\n')}\n${pad(depth)}}`;
  });
  return `${pad(depth)}${objects.join(',')}`;
}

/** A device's identity from the registry, in the columns the output has; other loops dropped. */
function withIdentity(devices: Device[], disks: Map<string, LabDisk>): Device[] {
  return devices.flatMap((device) => {
    const name = typeof device['name'] === 'string' ? basename(device['name']) : undefined;
    const children = device['children'];
    const kept = Array.isArray(children) ? { ...device, children: withIdentity(children, disks) } : device;
    if (name === undefined || !/^loop\d+$/.test(name)) return [kept];
    const disk = disks.get(name);
    if (!disk) return [];
    const identity: Device = { serial: disk.serial, wwn: disk.wwn, model: disk.model };
    return [Object.fromEntries(Object.entries(kept).map(([key, value]) => [key, identity[key] ?? value]))];
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
