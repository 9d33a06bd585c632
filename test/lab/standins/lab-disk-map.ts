// Which lab disk, and which of its partitions, a device name means to the storage stand-ins (zpool,
// mdadm, proxmox-boot-tool, grub-install, sgdisk): a pool or an array records its members by
// (serial, partition number), never by /dev name alone, as a loop device's number is reused after a
// pull; a member whose disk is not in this host is missing, as the real kernel sees it. No tool's
// source here: this is the lab's side, over its disk registry (disk-lab.ts: disks.json, whose
// LabDisk.partitions the lab writes when it maps a disk's partitions as devices of their own).
import { realpathSync } from 'node:fs';
import type { LabDisk, LabPartition } from '../control.js';

export { DISK_LAB_MOUNT, DISK_LAB_SOCKET, hostDisks } from './disk-lab.js';

/** A member of a pool or an array: a partition of a lab disk (null: the whole disk). */
export interface DiskRef {
  serial: string;
  partition: number | null;
}

export interface ResolvedDevice {
  disk: LabDisk;
  /** null: the whole disk. */
  partition: LabPartition | null;
}

const BY_ID = '/dev/disk/by-id/';
const PART_SUFFIX = /^(.*)-part(\d+)$/;

/** The device a name means among `disks` (this host's), by its /dev path or a by-id link; no link followed. */
function byName(disks: LabDisk[], name: string): ResolvedDevice | undefined {
  if (name.startsWith(BY_ID)) {
    const link = name.slice(BY_ID.length);
    const part = PART_SUFFIX.exec(link);
    const diskLink = part ? (part[1] ?? '') : link;
    const disk = disks.find((candidate) => candidate.byId.includes(diskLink));
    if (!disk) return undefined;
    if (!part) return { disk, partition: null };
    const partition = disk.partitions.find((candidate) => candidate.number === Number(part[2]));
    return partition ? { disk, partition } : undefined;
  }
  if (!name.startsWith('/dev/')) return undefined;
  const kname = name.slice('/dev/'.length);
  for (const disk of disks) {
    if (disk.device === kname) return { disk, partition: null };
    const partition = disk.partitions.find((candidate) => candidate.device === kname);
    if (partition) return { disk, partition };
  }
  return undefined;
}

/**
 * The lab device `name` is in this host: a /dev path, a by-id link (or the shorthand the tools
 * take: "loop3p2", "ata-LAB_SSD_8G_CL00D0001-part3"), or any other link to one (by-uuid,
 * by-partuuid), followed by `realpath`.
 */
export function resolveDevice(
  disks: LabDisk[],
  name: string,
  realpath: (path: string) => string | undefined = realpathOrUndefined,
): ResolvedDevice | undefined {
  const candidates = name.startsWith('/') ? [name] : [`/dev/${name}`, `${BY_ID}${name}`];
  for (const candidate of candidates) {
    const found = byName(disks, candidate);
    if (found) return found;
    const real = realpath(candidate);
    const followed = real === undefined || real === candidate ? undefined : byName(disks, real);
    if (followed) return followed;
  }
  return undefined;
}

export function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

export function refOf(device: ResolvedDevice): DiskRef {
  return { serial: device.disk.serial, partition: device.partition?.number ?? null };
}

export function sameRef(a: DiskRef, b: DiskRef): boolean {
  return a.serial === b.serial && a.partition === b.partition;
}

/** The member's device now, when its disk (and that partition) is in this host. */
export function deviceOf(disks: LabDisk[], ref: DiskRef): ResolvedDevice | undefined {
  const disk = disks.find((candidate) => candidate.serial === ref.serial && candidate.device !== null);
  if (!disk) return undefined;
  if (ref.partition === null) return { disk, partition: null };
  const partition = disk.partitions.find((candidate) => candidate.number === ref.partition);
  return partition ? { disk, partition } : undefined;
}

/** "/dev/loop3p2" (or "/dev/loop3" for a whole disk). */
export function devicePath(device: ResolvedDevice): string {
  return `/dev/${device.partition?.device ?? device.disk.device ?? ''}`;
}

const SECTOR = 512;

export function sizeBytes(device: ResolvedDevice): number {
  return device.partition ? device.partition.sectors * SECTOR : device.disk.sizeBytes;
}
