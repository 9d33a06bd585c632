// Whether a device just put in a host may become the new disk (issue 14's swap, issue 15's ZFS and
// mdadm swaps), pure, on lsblk's tree (disks.ts). Every refusal says why with the device's names and
// numbers, in a Said (English for JSON, the reader's language on a terminal).
//
// The choice: chaton erases only what a disk swap is known to leave behind, never data.
// - Refused: the old disk put back (its serial); anything mounted (an active swap too); anything
//   sitting on it (an active LVM volume, an open LUKS mapping, a RAID array: lsblk shows them as its
//   children); any other signature on it or on a partition (ext4, xfs, btrfs, vfat, ntfs, swap,
//   zfs_member, linux_raid_member, crypto_LUKS...: blkid's names), which may be someone's data; a
//   BlueStore signature, another OSD's data; and a disk smaller than needed.
// - Allowed, to be zapped first (`wipe`): a partition table whose partitions carry no signature,
//   and LVM metadata (LVM2_member) with nothing active on it, as a disk taken from another machine
//   or a failed `ceph-volume` run leaves it: `ceph-volume lvm zap --destroy` removes both.
// The signatures are udev's (lsblk reads them from its database, disks.ts): on a host without
// udevd every device would look blank. Proxmox VE runs it, and it probes a disk when it comes in
// and again when a writer closes it.
import { formatSize } from '../inventory/sizes.js';
import type { BlockDevice, Disk } from './disks.js';
import { messages, type Said, said } from './messages.js';

export type NewDeviceRefusalCode = 'old-disk' | 'mounted' | 'in-use' | 'filesystem' | 'osd' | 'too-small';

export interface NewDeviceRefusal {
  code: NewDeviceRefusalCode;
  said: Said;
}

export interface NewDeviceJudgement {
  /** Empty: the device may be used. */
  refusals: NewDeviceRefusal[];
  /** It carries a partition table or LVM metadata: zap it before creating anything on it. */
  wipe: boolean;
}

/** What blkid calls LVM's physical volume signature: old metadata, zapped. */
const LVM_MEMBER = 'LVM2_member';
/** BlueStore's label, as blkid names it: an OSD's data. */
const BLUESTORE = 'ceph_bluestore';
/** Children that are devices built on the disk, open while they exist (lsblk's TYPE). */
const HOLDER_TYPES = /^(lvm|crypt|dm|mpath|md|raid\d*|linear|multipath)$/;

/** The disk's descendants, depth first: partitions, then what sits on them. */
function descendants(device: BlockDevice): BlockDevice[] {
  return device.children.flatMap((child) => [child, ...descendants(child)]);
}

function list(items: string[]): string {
  return items.join(messages.listSeparator);
}

/** A message built from messages: its English from their English, its reader's text from theirs. */
function composed(parts: Said[], build: (texts: string[]) => Said): Said {
  return { en: build(parts.map((part) => part.en)).en, text: build(parts.map((part) => part.text)).text };
}

/**
 * The disks of `now` that were not there `before`, told apart by serial: a new disk may get the
 * kernel name the old one had. A disk without a serial (behind some RAID controllers) by its name.
 */
export function newDevices(before: Disk[], now: Disk[]): Disk[] {
  const known = new Set(before.map((disk) => disk.serial ?? disk.kname));
  return now.filter((disk) => !known.has(disk.serial ?? disk.kname));
}

/** May `disk` become the new disk? `oldSerial`: the disk it replaces; `minBytes`: the least it must hold. */
export function judgeNewDevice(disk: Disk, opts: { oldSerial: string | null; minBytes?: number }): NewDeviceJudgement {
  const name = disk.path;
  const all = [disk, ...descendants(disk)];
  const refusals: NewDeviceRefusal[] = [];
  if (opts.oldSerial !== null && disk.serial !== null && disk.serial === opts.oldSerial.trim()) {
    refusals.push({ code: 'old-disk', said: said('oldDisk', name, disk.serial) });
  }
  const mounted = all.filter((device) => device.mountpoints.length > 0);
  if (mounted.length > 0) {
    const where = mounted.map((device) => said('mountedOn', device.path, device.mountpoints.join(' ')));
    refusals.push({ code: 'mounted', said: composed(where, (texts) => said('mounted', name, list(texts))) });
  }
  const holders = descendants(disk).filter((device) => HOLDER_TYPES.test(device.type));
  if (holders.length > 0) {
    const named = list(holders.map((device) => said('holder', device.path, device.type).en));
    refusals.push({ code: 'in-use', said: said('inUse', name, named) });
  }
  const marked = all.filter((device) => device.fstype !== null && device.fstype !== LVM_MEMBER);
  const osds = marked.filter((device) => device.fstype === BLUESTORE);
  const filesystems = marked.filter((device) => device.fstype !== BLUESTORE);
  const signed = (devices: BlockDevice[], key: 'osd' | 'filesystem') =>
    composed(
      devices.map((device) => said('signature', device.path, device.fstype ?? '')),
      (texts) => said(key, name, list(texts)),
    );
  if (osds.length > 0) refusals.push({ code: 'osd', said: signed(osds, 'osd') });
  if (filesystems.length > 0) refusals.push({ code: 'filesystem', said: signed(filesystems, 'filesystem') });
  if (opts.minBytes !== undefined && disk.sizeBytes < opts.minBytes) {
    refusals.push({
      code: 'too-small',
      said: said('tooSmall', name, formatSize(disk.sizeBytes), formatSize(opts.minBytes)),
    });
  }
  const wipe = disk.pttype !== null || all.some((device) => device.fstype === LVM_MEMBER);
  return { refusals, wipe };
}
