// A disk's partitions and its boot role (issue 15's mirror swap): `sfdisk -J`, `sgdisk -p`,
// `proxmox-boot-tool status`, the filesystem UUID of an ESP, with their pure parsers; and the
// commands that copy a healthy disk's partition table to a new one and make the new one bootable.
// Tested on real outputs (test/unit/fixtures/storage/README.md). Their traps:
// - `sgdisk -p` of a disk without a GPT exits 0, prints "Creating new GPT entries in memory." and
//   an empty table: a blank disk looks like a disk with no partitions, which it is;
// - `sfdisk -J` of a disk without a partition table exits 1 ("does not contain a recognized
//   partition table"): that is a blank disk, not a failure;
// - `sgdisk <from> -R <to>` writes <to>'s table from <from>'s: backwards, it destroys the healthy
//   disk's table. Onto a smaller disk it refuses (exit 8, "partition 3 is too big for the disk")
//   and writes nothing;
// - proxmox-boot-tool prints "Re-executing ... in new private mount namespace.." first, its
//   warnings ("WARN: /dev/disk/by-uuid/<uuid> does not exist") on stderr, and exits 2 with
//   "E: /etc/kernel/proxmox-boot-uuids does not exist." when it manages no ESP (a GRUB host
//   installed without it); each ESP is named by its FAT filesystem's UUID ("6D31-87F4")
//   (proxmox-kernel-helper src/bin/proxmox-boot-tool: status, _status_detail; src/proxmox-boot/functions).
import type { Probe, ProbeOutput } from '../remote/facts.js';
import { list, num, object, OutputError, parseJson, str } from '../remote/json-output.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import { messages } from './messages.js';

/** What a partition is for, from its type. */
export type PartitionRole = 'bios-boot' | 'esp' | 'zfs' | 'linux-raid' | 'lvm' | 'linux' | 'other';

/** GPT type GUIDs (sfdisk) and their gdisk codes (sgdisk), per role; MBR type bytes after. */
const ROLES: { role: PartitionRole; guid: string; code: string; mbr: string }[] = [
  { role: 'bios-boot', guid: '21686148-6449-6E6F-744E-656564454649', code: 'EF02', mbr: '' },
  { role: 'esp', guid: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', code: 'EF00', mbr: 'ef' },
  // Solaris /usr & Apple ZFS: what the Proxmox installer and `zpool create` on a whole disk use.
  { role: 'zfs', guid: '6A898CC3-1DD2-11B2-99A6-080020736631', code: 'BF01', mbr: 'bf' },
  { role: 'linux-raid', guid: 'A19D880F-05FC-4D3B-A006-743F0F84911E', code: 'FD00', mbr: 'fd' },
  { role: 'lvm', guid: 'E6D6D379-F507-44C2-A23C-238F2A3DF928', code: '8E00', mbr: '8e' },
  { role: 'linux', guid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', code: '8300', mbr: '83' },
];

function roleOf(type: string): PartitionRole {
  const upper = type.toUpperCase();
  const lower = type.toLowerCase();
  return ROLES.find((r) => r.guid === upper || r.code === upper || (r.mbr !== '' && r.mbr === lower))?.role ?? 'other';
}

export interface Partition {
  /** "/dev/sda2" (sfdisk's node); sgdisk names none: null. */
  path: string | null;
  number: number;
  /** In sectors of the table's sector size. */
  start: number;
  sectors: number;
  /** sfdisk: the type GUID (GPT) or byte (MBR); sgdisk: the gdisk code ("EF00"). */
  type: string;
  role: PartitionRole;
  /** The partition's own GUID (GPT); null for MBR, and in sgdisk -p. */
  uuid: string | null;
  name: string | null;
}

export interface PartitionTable {
  /** "gpt" or "dos". */
  label: string;
  /** The disk's GUID (GPT) or MBR id. */
  id: string;
  device: string;
  sectorSize: number;
  partitions: Partition[];
}

// --- sfdisk -J -----------------------------------------------------------------------------------

/** `sfdisk -J <disk>` (util-linux 2.38: sizes in sectors, type GUIDs upper case). */
export function parseSfdiskJson(stdout: string): PartitionTable {
  const table = object(object(parseJson(stdout, 'sfdisk -J'), 'sfdisk -J').partitiontable, 'sfdisk partitiontable');
  const label = str(table.label, 'sfdisk label');
  return {
    label,
    id: str(table.id, 'sfdisk id'),
    device: str(table.device, 'sfdisk device'),
    sectorSize: table.sectorsize === undefined ? 512 : num(table.sectorsize, 'sfdisk sectorsize'),
    partitions: (table.partitions === undefined ? [] : list(table.partitions, 'sfdisk partitions')).map((value) => {
      const part = object(value, 'sfdisk partitions');
      const node = str(part.node, 'sfdisk node');
      const type = str(part.type, `sfdisk ${node} type`);
      return {
        path: node,
        number: Number(/(\d+)$/.exec(node)?.[1] ?? Number.NaN),
        start: num(part.start, `sfdisk ${node} start`),
        sectors: num(part.size, `sfdisk ${node} size`),
        type,
        role: roleOf(type),
        uuid: part.uuid === undefined ? null : str(part.uuid, `sfdisk ${node} uuid`),
        name: part.name === undefined ? null : str(part.name, `sfdisk ${node} name`),
      };
    }),
  };
}

const EXIT_NOT_FOUND = 127;

/** A disk's partition table, or null when it has none (a blank disk: sfdisk exits 1 and says so). */
export function partitionTable(disk: string): Probe<PartitionTable | null> {
  return {
    command: command('sfdisk', '-J', disk),
    parse: (output: ProbeOutput) => {
      if (output.code === 1 && /does not contain a recognized partition table/.test(output.stderr)) return null;
      if (output.code !== 0) {
        const why = output.code === EXIT_NOT_FOUND ? messages.sfdiskNotInstalled : output.stderr.trim();
        throw new OutputError(messages.toolFailed(`sfdisk -J ${disk}`, output.code ?? 'signal', why));
      }
      return parseSfdiskJson(output.stdout);
    },
  };
}

// --- sgdisk -p -----------------------------------------------------------------------------------

export interface SgdiskPrint {
  /** False when sgdisk found no GPT and made one in memory: the disk is blank. */
  hasTable: boolean;
  device: string;
  sectors: number;
  sectorSize: number;
  /** The disk's GUID ("Disk identifier (GUID)"); a blank disk shows the one made in memory. */
  diskGuid: string;
  partitions: Partition[];
}

const SGDISK_ROW = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+ \S+)\s+([0-9A-F]{4})\s*(.*)$/;

/** `sgdisk -p <disk>` (gptfdisk 1.0.9). */
export function parseSgdiskPrint(stdout: string): SgdiskPrint {
  const disk = /^Disk (\S+): (\d+) sectors/m.exec(stdout);
  const sector = /^Sector size \(logical(?:\/physical)?\): (\d+)/m.exec(stdout);
  const guid = /^Disk identifier \(GUID\): (\S+)/m.exec(stdout);
  if (!disk || !sector || !guid) throw new OutputError(messages.sgdiskNotPrint(stdout.trim().slice(0, 80)));
  const rows = stdout
    .slice(stdout.search(/^Number\s+Start/m))
    .split('\n')
    .slice(1);
  return {
    hasTable: !/^Creating new GPT entries in memory\./m.test(stdout),
    device: disk[1] ?? '',
    sectors: Number(disk[2]),
    sectorSize: Number(sector[1]),
    diskGuid: guid[1] ?? '',
    partitions: rows
      .filter((row) => row.trim() !== '')
      .map((row) => {
        const match = SGDISK_ROW.exec(row);
        if (!match) throw new OutputError(messages.sgdiskBadRow(row.trim()));
        const [, number = '', start = '', end = '', , code = '', name = ''] = match;
        return {
          path: null,
          number: Number(number),
          start: Number(start),
          sectors: Number(end) - Number(start) + 1,
          type: code,
          role: roleOf(code),
          uuid: null,
          name: name.trim() || null,
        };
      }),
  };
}

/** `sgdisk -p <disk>`: exit 2 when it cannot open the disk ("Problem opening ... Error is 2."). */
export function sgdiskPrint(disk: string): Probe<SgdiskPrint> {
  return {
    command: command('sgdisk', '-p', disk),
    parse: (output: ProbeOutput) => {
      if (output.code !== 0) {
        const why = output.code === EXIT_NOT_FOUND ? messages.sgdiskNotInstalled : output.stdout.trim();
        throw new OutputError(messages.toolFailed(`sgdisk -p ${disk}`, output.code ?? 'signal', why));
      }
      return parseSgdiskPrint(output.stdout);
    },
  };
}

// --- Boot ----------------------------------------------------------------------------------------

/** The partitions that make a disk bootable, if it has them. */
export interface BootPartitions {
  /** GRUB's core image for BIOS booting from a GPT disk (EF02). */
  biosBoot: Partition | null;
  /** The EFI system partition (EF00): systemd-boot or GRUB for UEFI, and proxmox-boot-tool's kernels. */
  esp: Partition | null;
}

export function bootPartitionsOf(table: { partitions: Partition[] } | null): BootPartitions {
  const find = (role: PartitionRole) => table?.partitions.find((part) => part.role === role) ?? null;
  return { biosBoot: find('bios-boot'), esp: find('esp') };
}

export interface BootToolEsp {
  /** The FAT filesystem's UUID: "6D31-87F4". */
  uuid: string;
  /** "uefi" (systemd-boot), "grub", or both. */
  loaders: string[];
  /** Kernel versions on it. */
  kernels: string[];
}

export interface BootToolStatus {
  /** False: proxmox-boot-tool is not installed (not a Proxmox host). */
  installed: boolean;
  /** False: it manages no ESP (/etc/kernel/proxmox-boot-uuids does not exist; exit 2). */
  managing: boolean;
  /** "uefi" or "legacy bios", as it says the host booted. */
  bootedWith: string | null;
  /** The ESPs it manages and could read. */
  esps: BootToolEsp[];
  /** UUIDs it is told to manage whose filesystem is gone (a pulled disk): `proxmox-boot-tool clean`. */
  missing: string[];
  /** UUIDs whose filesystem it could not mount. */
  unreadable: string[];
}

/** `proxmox-boot-tool status`, its stdout and stderr together (its warnings go to stderr). */
export function parseBootToolStatus(output: ProbeOutput): BootToolStatus {
  const none = { bootedWith: null, esps: [], missing: [], unreadable: [] };
  if (output.code === EXIT_NOT_FOUND) return { installed: false, managing: false, ...none };
  if (output.code === 2) return { installed: true, managing: false, ...none };
  if (output.code !== 0) {
    const why = `${output.stdout}\n${output.stderr}`.trim();
    throw new OutputError(messages.toolFailed('proxmox-boot-tool status', output.code ?? 'signal', why));
  }
  const text = `${output.stdout}\n${output.stderr}`;
  const uuids = (pattern: RegExp) => [...text.matchAll(pattern)].map((found) => found[1] ?? '');
  const esps = [...text.matchAll(/^(\S+) is configured with: (.*)$/gm)].map(([, uuid = '', rest = '']) => {
    const loaders = [...rest.matchAll(/(\w+) \(versions: ([^)]*)\)/g)];
    return {
      uuid,
      loaders: loaders.map((found) => found[1] ?? ''),
      kernels: [...new Set(loaders.flatMap((found) => (found[2] ?? '').split(', ').filter(Boolean)))],
    };
  });
  return {
    installed: true,
    managing: true,
    bootedWith: /^System currently booted with (.+)$/m.exec(text)?.[1] ?? null,
    esps,
    missing: uuids(/^WARN: \/dev\/disk\/by-uuid\/(\S+) does not exist/gm),
    unreadable: uuids(/^mount of \/dev\/disk\/by-uuid\/(\S+) failed/gm),
  };
}

export const bootToolStatus: Probe<BootToolStatus> = {
  command: command('proxmox-boot-tool', 'status'),
  parse: parseBootToolStatus,
};

/**
 * The UUID of the filesystem on `partition` ("6D31-87F4" for an ESP's FAT, what
 * /etc/kernel/proxmox-boot-uuids lists), or null when it holds none (`blkid` exits 2).
 */
export function filesystemUuid(partition: string): Probe<string | null> {
  return {
    command: command('blkid', '-o', 'value', '-s', 'UUID', partition),
    parse: (output: ProbeOutput) => {
      if (output.code === 2) return null;
      if (output.code !== 0) {
        const why = output.stderr.trim();
        throw new OutputError(messages.toolFailed(`blkid ${partition}`, output.code ?? 'signal', why));
      }
      return output.stdout.trim() || null;
    },
  };
}

// --- Changes -------------------------------------------------------------------------------------

/**
 * Copies the partition table FROM the healthy disk TO the new one (`sgdisk <from> -R <to>`), then
 * gives the copy new GUIDs (`sgdisk -G <to>`: two disks with the same GUIDs confuse udev's by-partuuid
 * links and the firmware). The directions are named, so that no argument order can swap them;
 * the same disk both ways is chaton's own bug.
 */
export function copyPartitionTable(copy: { from: string; to: string }): readonly [RemoteCommand, RemoteCommand] {
  // A bug in chaton, reported as such (in English: see shell.ts).
  if (copy.from === copy.to) throw new TypeError(`copyPartitionTable: from = to = ${copy.to}`);
  return [command('sgdisk', copy.from, '-R', copy.to), command('sgdisk', '-G', copy.to)];
}

/** Makes a FAT filesystem on `esp` (refused by the tool when one is there, unless `force`). */
export function bootToolFormat(esp: string, opts: { force?: boolean } = {}): RemoteCommand {
  return opts.force
    ? command('proxmox-boot-tool', 'format', esp, '--force')
    : command('proxmox-boot-tool', 'format', esp);
}

/** Installs the boot loader and kernels on `esp` and adds it to the ESPs kept in sync; `grub` for a GRUB host. */
export function bootToolInit(esp: string, loader?: 'grub'): RemoteCommand {
  return loader ? command('proxmox-boot-tool', 'init', esp, loader) : command('proxmox-boot-tool', 'init', esp);
}

/**
 * Forgets the ESPs whose filesystem is gone (the old disk's): without it every kernel update warns
 * about them (proxmox-boot-tool's `clean`; `--dry-run` of it only lists them).
 */
export const bootToolClean: RemoteCommand = command('proxmox-boot-tool', 'clean');

/** Installs GRUB on `disk` (a whole disk: its BIOS boot partition, or the MBR gap). */
export function grubInstall(disk: string): RemoteCommand {
  return command('grub-install', disk);
}

/**
 * Every name a pool or an array may give a disk's member: the disk's and its partitions' /dev
 * paths and their /dev/disk/by-id links (disks.ts parseDiskLinks, by kernel name). zpool status
 * -L and mdadm --detail print /dev paths; a pool made without -L on by-id names prints those.
 */
export function memberPaths(
  disk: { kname: string; path: string; children: { kname: string; path: string }[] },
  links: ReadonlyMap<string, string[]>,
): string[] {
  return [disk, ...disk.children].flatMap((device) => [device.path, ...(links.get(device.kname) ?? [])]);
}
