// Which disk is which on a host (issue 14, shared with the ZFS and mdadm swaps of issue 15): the
// block devices lsblk sees, their /dev/disk/by-id links, what SMART says of a disk, and the disk an
// operator means by a by-id path, a serial or a kernel name. Each fact is a command and the pure
// parser of what it prints, tested on the real outputs of test/unit/fixtures/storage/.
// Traps, met there:
// - lsblk takes FSTYPE, PTTYPE, SERIAL, WWN and MODEL from udev's database (util-linux
//   misc-utils/lsblk-properties.c, get_properties_by_udev: ID_FS_TYPE, ID_PART_TABLE_TYPE...) and
//   probes the disk itself only when libudev knows no such device: on a host without udevd they
//   are all null. Proxmox VE runs udevd, which probes a disk again when a writer closes it.
// - MOUNTPOINTS (util-linux 2.37 and later: Debian 12, Proxmox VE 8) lists `null` for an unmounted
//   device, and every mountpoint of a device mounted twice.
// - a partition carries its disk's PTTYPE too (udev's ID_PART_TABLE_TYPE of the parent).
// - `smartctl -j` prints JSON even when it fails, its status bits in `smartctl.exit_status` (man
//   smartctl, EXIT STATUS: bit 0 command line, bit 1 device open failed, bit 3 "DISK FAILING",
//   bits 4-7 attributes and logs), so it is a Probe: its exit code is no failure of the command.
import type { Fact, Probe, ProbeOutput } from '../remote/facts.js';
import { type JsonObject, list, object, OutputError, parseJson, str } from '../remote/json-output.js';
import { command } from '../remote/shell.js';
import { formatSize } from '../inventory/sizes.js';
import { messages, type Said, said } from './messages.js';

/** One device of lsblk's tree: a disk, and below it its partitions and what sits on them. */
export interface BlockDevice {
  /** lsblk's NAME: "sdc", "sdc1", "pve-root" for a device-mapper device. */
  name: string;
  /** The kernel's name ("dm-0" for "pve-root"): what /dev/disk/by-id links point to. */
  kname: string;
  /** "/dev/sdc", "/dev/mapper/pve-root". */
  path: string;
  /** disk, part, lvm, crypt, raid1, mpath, loop, rom... */
  type: string;
  sizeBytes: number;
  serial: string | null;
  /** "0x5000c500a1b2c3d4", as udev's ID_WWN_WITH_EXTENSION (or ID_WWN) gives it. */
  wwn: string | null;
  model: string | null;
  /** A signature as blkid names it: ext4, xfs, LVM2_member, ceph_bluestore, zfs_member, swap... */
  fstype: string | null;
  /** gpt, dos... ; on a partition, its disk's. */
  pttype: string | null;
  /** Where it is mounted; [SWAP] for an active swap. */
  mountpoints: string[];
  children: BlockDevice[];
}

/** A whole disk, with its /dev/disk/by-id links. */
export interface Disk extends BlockDevice {
  /** Absolute paths, "/dev/disk/by-id/ata-WDC_..._WD-WX12", those with its serial first. */
  byId: string[];
}

/** A text column: trimmed (older lsblk padded MODEL with spaces), null when empty or absent. */
function text(value: unknown, what: string): string | null {
  if (value === null || value === undefined) return null;
  return str(value, what).trim() || null;
}

/** A text column that must have a value: an empty one is refused as a missing string. */
function required(value: unknown, what: string): string {
  return text(value, what) ?? str(undefined, what);
}

/** `-b` sizes: JSON numbers since util-linux 2.33's JSON rework, strings of digits before. */
function bytes(value: unknown, what: string): number {
  const size = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new OutputError(messages.notASize(what));
  }
  return size;
}

function blockDevice(value: unknown): BlockDevice {
  const device = object(value, 'lsblk blockdevices');
  const name = required(device.name, 'lsblk name');
  const field = (column: string) => `lsblk ${name} ${column}`;
  const mountpoints = device.mountpoints === undefined ? [] : list(device.mountpoints, field('mountpoints'));
  return {
    name,
    kname: text(device.kname, field('kname')) ?? name,
    path: text(device.path, field('path')) ?? `/dev/${name}`,
    type: required(device.type, field('type')),
    sizeBytes: bytes(device.size, field('size')),
    serial: text(device.serial, field('serial')),
    wwn: text(device.wwn, field('wwn')),
    model: text(device.model, field('model')),
    fstype: text(device.fstype, field('fstype')),
    pttype: text(device.pttype, field('pttype')),
    mountpoints: mountpoints.flatMap((point) => text(point, field('mountpoints')) ?? []),
    children: device.children === undefined ? [] : list(device.children, field('children')).map(blockDevice),
  };
}

/** `lsblk -J -b -o ...`: `{"blockdevices": [{...columns in lower case, "children": [...]}]}`. */
export function parseBlockDevices(stdout: string): BlockDevice[] {
  const output = object(parseJson(stdout, 'lsblk'), 'lsblk');
  return list(output.blockdevices, 'lsblk blockdevices').map(blockDevice);
}

/** The columns BlockDevice holds, in lsblk's names (MOUNTPOINTS needs util-linux 2.37). */
const LSBLK_COLUMNS = 'NAME,KNAME,PATH,TYPE,SIZE,SERIAL,WWN,MODEL,FSTYPE,MOUNTPOINTS,PTTYPE';

export const blockDevices: Fact<BlockDevice[]> = {
  command: command('lsblk', '-J', '-b', '-o', LSBLK_COLUMNS),
  parse: parseBlockDevices,
};

/** Each link of /dev/disk/by-id and its target, "<name> ../../sdc"; nothing on a host without one. */
const BY_ID_SCRIPT = `
[ -d /dev/disk/by-id ] || exit 0
find /dev/disk/by-id -maxdepth 1 -type l -printf '%f %l\\n'
`;
const BY_ID = '/dev/disk/by-id';

/**
 * The links a person reads best first: those with the disk's serial (ata-<model>_<serial>,
 * scsi-S<vendor>_<model>_<serial>), then the others, then those naming it by a number alone (its
 * WWN, its NVMe EUI, the LVM physical volume's UUID).
 */
function byIdOrder(serial: string | null): (a: string, b: string) => number {
  const rank = (link: string) => {
    if (serial !== null && link.includes(serial)) return 0;
    return /\/(wwn-|nvme-eui\.|lvm-pv-uuid-)/.test(link) ? 2 : 1;
  };
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

/** `find -printf '%f %l\n'`: the kernel name each link points to, and its links, absolute, as listed. */
export function parseDiskLinks(stdout: string): Map<string, string[]> {
  const links = new Map<string, string[]>();
  for (const line of stdout.split('\n').filter((l) => l.trim() !== '')) {
    const match = /^(\S+) (\S+)$/.exec(line.trim());
    if (!match) throw new OutputError(messages.badLinkLine(line));
    const [, link = '', target = ''] = match;
    const kname = target.slice(target.lastIndexOf('/') + 1);
    links.set(kname, [...(links.get(kname) ?? []), `${BY_ID}/${link}`]);
  }
  return links;
}

export const diskLinks: Fact<Map<string, string[]>> = {
  command: command('sh', '-c', BY_ID_SCRIPT),
  parse: parseDiskLinks,
};

/** The whole disks of lsblk's tree, each with its by-id links. */
export function disksOf(devices: BlockDevice[], links: Map<string, string[]>): Disk[] {
  return devices
    .filter((device) => device.type === 'disk')
    .map((device) => ({
      ...device,
      byId: [...(links.get(device.kname) ?? [])].sort(byIdOrder(device.serial)),
    }));
}

/**
 * The disk `spec` names: a by-id link (its path or its name), a device path or kernel name
 * ("/dev/sdc", "sdc"), a serial or a WWN. Undefined when none does, or when two do (two paths to
 * one disk, multipath: the operator must then name it by path).
 */
export function identify(disks: Disk[], spec: string): Disk | undefined {
  const wanted = spec.trim();
  const link = wanted.startsWith(`${BY_ID}/`) ? wanted : `${BY_ID}/${wanted}`;
  const kname = wanted.replace(/^\/dev\//, '');
  const ways: ((disk: Disk) => boolean)[] = [
    (disk) => disk.byId.includes(link),
    (disk) => disk.path === wanted || disk.name === kname || disk.kname === kname,
    (disk) => disk.serial === wanted,
    (disk) => disk.wwn !== null && disk.wwn.toLowerCase() === wanted.toLowerCase(),
  ];
  for (const way of ways) {
    const found = disks.filter(way);
    if (found.length > 0) return found.length === 1 ? found[0] : undefined;
  }
  return undefined;
}

// --- SMART -------------------------------------------------------------------------------------

/** smartctl's exit status bits (man smartctl, EXIT STATUS). */
const SMART_COMMAND_LINE = 1;
const SMART_OPEN_FAILED = 2;
const SMART_DISK_FAILING = 8;
/** What sh answers for a command it cannot find. */
const EXIT_NOT_FOUND = 127;

export interface SmartHealth {
  /** The overall-health self-assessment: false when the disk predicts its failure, null when unknown. */
  passed: boolean | null;
  model: string | null;
  serial: string | null;
  /** "0x5000cca..." (NAA, OUI, vendor id), as lsblk prints a WWN. */
  wwn: string | null;
  capacityBytes: number | null;
  /** smartctl's status bits (0: all fine). */
  exitStatus: number;
  /** Why SMART says nothing of this device (not installed, no SMART, cannot open it); null when it does. */
  unavailable: Said | null;
}

/** smartctl's `wwn: {naa, oui, id}` as the one hex number lsblk shows: 1, 6 and 9 hex digits. */
function wwnOf(value: unknown): string | null {
  if (value === undefined) return null;
  const { naa, oui, id } = object(value, 'smartctl wwn');
  if (typeof naa !== 'number' || typeof oui !== 'number' || typeof id !== 'number') return null;
  const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');
  return `0x${hex(naa, 1)}${hex(oui, 6)}${hex(id, 9)}`;
}

function capacityOf(report: JsonObject): number | null {
  if (typeof report.nvme_total_capacity === 'number') return report.nvme_total_capacity;
  if (report.user_capacity === undefined) return null;
  const capacity = object(report.user_capacity, 'smartctl user_capacity').bytes;
  return typeof capacity === 'number' ? capacity : null;
}

/** `smartctl -i -H -j <device>`, whatever its exit status: JSON, unless smartctl could not run. */
export function parseSmartHealth(device: string, output: ProbeOutput): SmartHealth {
  const none = { passed: null, model: null, serial: null, wwn: null, capacityBytes: null };
  if (output.code === EXIT_NOT_FOUND && output.stdout.trim() === '') {
    return { ...none, exitStatus: EXIT_NOT_FOUND, unavailable: said('smartNotInstalled') };
  }
  if (output.stdout.trim() === '') {
    throw new OutputError(messages.smartFailed(device, output.code ?? 'signal', output.stderr.trim()));
  }
  const report = object(parseJson(output.stdout, `smartctl ${device}`), `smartctl ${device}`);
  const smartctl = object(report.smartctl, 'smartctl.smartctl');
  const exitStatus = typeof smartctl.exit_status === 'number' ? smartctl.exit_status : (output.code ?? 0);
  if (exitStatus & (SMART_COMMAND_LINE | SMART_OPEN_FAILED)) {
    const notes = (smartctl.messages === undefined ? [] : list(smartctl.messages, 'smartctl.messages')).map(
      (note) => text(object(note, 'smartctl.messages').string, 'smartctl.messages.string') ?? '',
    );
    const why = notes.filter(Boolean).join('; ') || output.stderr.trim();
    return { ...none, exitStatus, unavailable: said('smartUnreadable', device, exitStatus, why) };
  }
  const status = report.smart_status === undefined ? undefined : object(report.smart_status, 'smart_status');
  const assessed = typeof status?.passed === 'boolean' ? status.passed : null;
  return {
    passed: exitStatus & SMART_DISK_FAILING ? false : assessed,
    model: text(report.model_name ?? report.scsi_model_name, 'smartctl model_name'),
    serial: text(report.serial_number, 'smartctl serial_number'),
    wwn: wwnOf(report.wwn),
    capacityBytes: capacityOf(report),
    exitStatus,
    unavailable: null,
  };
}

/** The identity and overall health SMART gives of `devicePath` (a /dev name or a by-id link). */
export function smartHealth(devicePath: string): Probe<SmartHealth> {
  return {
    command: command('smartctl', '-i', '-H', '-j', devicePath),
    parse: (output) => parseSmartHealth(devicePath, output),
  };
}

// --- For people --------------------------------------------------------------------------------

/**
 * A disk as the operator must recognise it, as a report and a journal keep it: lsblk's identity,
 * SMART's where lsblk has none (a virtio or NVMe disk), and SMART's verdict.
 */
export interface DiskIdentity extends Pick<Disk, 'path' | 'serial' | 'wwn' | 'model' | 'sizeBytes' | 'byId'> {
  /** The overall-health self-assessment: false when the disk predicts its failure, null when unknown. */
  smartPassed: boolean | null;
  /** Why SMART says nothing of it (not installed, no SMART, cannot open it); null when it does. */
  smartUnavailable: Said | null;
}

export function identityOf(disk: Disk, smart?: SmartHealth): DiskIdentity {
  return {
    path: disk.path,
    serial: disk.serial ?? smart?.serial ?? null,
    wwn: disk.wwn ?? smart?.wwn ?? null,
    model: disk.model ?? smart?.model ?? null,
    sizeBytes: disk.sizeBytes,
    byId: disk.byId,
    smartPassed: smart?.passed ?? null,
    smartUnavailable: smart === undefined ? said('smartNotAsked') : smart.unavailable,
  };
}

/** What SMART says of the disk's health, for people; why it says nothing when it does not. */
function healthOf(disk: DiskIdentity): Said {
  const why = disk.smartUnavailable;
  if (why) return { en: said('smartNone', why.en).en, text: said('smartNone', why.text).text };
  if (disk.smartPassed === null) return said('smartNoStatus');
  return said(disk.smartPassed ? 'smartPassed' : 'smartFailing');
}

/**
 * The lines that tell a person which disk this is, for the one who pulls it: host, device, serial,
 * WWN, model, size, SMART health, by-id path. The values are aligned after the labels, in each
 * language.
 */
export function describeDisk(host: string, disk: DiskIdentity): Said[] {
  const unknown = said('unknown');
  const value = (found: string | null | undefined): Said => (found ? { en: found, text: found } : unknown);
  const size = said('sizeInBytes', formatSize(disk.sizeBytes), disk.sizeBytes);
  const lines: [Said, Said][] = [
    [said('labelHost'), value(host)],
    [said('labelDevice'), value(disk.path)],
    [said('labelSerial'), value(disk.serial)],
    [said('labelWwn'), value(disk.wwn)],
    [said('labelModel'), value(disk.model)],
    [said('labelSize'), size],
    [said('labelSmart'), healthOf(disk)],
    [said('labelById'), value(disk.byId[0])],
  ];
  const width = (pick: (s: Said) => string) => Math.max(...lines.map(([label]) => pick(label).length));
  const enWidth = width((s) => s.en);
  const textWidth = width((s) => s.text);
  return lines.map(([label, line]) => ({
    en: `${label.en.padEnd(enWidth)} ${line.en}`,
    text: `${label.text.padEnd(textWidth)} ${line.text}`,
  }));
}
