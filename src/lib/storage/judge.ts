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
import { inSync, type MdDetail, type MdStatArray } from './md.js';
import { messages, type Said, said } from './messages.js';
import type { BootPartitions, BootToolStatus } from './partitions.js';
import { leavesOf, type PoolStatus, topVdevOf, type Vdev } from './zfs.js';

export type NewDeviceRefusalCode =
  'old-disk' | 'mounted' | 'in-use' | 'filesystem' | 'osd' | 'too-small' | 'partitioned';

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
/**
 * `blankOnly`: a partition table or an LVM label is refused too (a mirror's new disk gets the
 * healthy side's table copied over it: what it held would be lost without anyone choosing so).
 */
export function judgeNewDevice(
  disk: Disk,
  opts: { oldSerial: string | null; minBytes?: number; blankOnly?: boolean },
): NewDeviceJudgement {
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
  if (wipe && opts.blankOnly && refusals.length === 0) {
    refusals.push({ code: 'partitioned', said: said('partitioned', name, disk.pttype ?? LVM_MEMBER) });
  }
  return { refusals, wipe };
}

// --- A mirror swap's preflight (issue 15): a ZFS mirror's disk or an md RAID1's member -----------
//
// Whether a disk of a mirror may be taken out now, pure, on the pool's or the array's own view
// (zfs.ts, md.ts), each tool's states brought to one shape (MirrorFacts) so that one judgement
// serves both. Refused (exit 3 for the command, nothing changed):
// - the disk is not in the pool or array, or not in a mirror (a raidz, a lone disk, raid5...);
// - the other side of its mirror is not healthy, or SMART says it is failing (unknown SMART, as a
//   virtio disk gives, does not refuse: nothing says it is failing);
// - a resilver or resync runs (ZFS restarts it, md's rebuild reads the side it would keep);
// - another member elsewhere in the pool or array is not healthy;
// - the pool or array does not serve its data at all;
// - the new disk, when it is there, is smaller than the healthy side (its table is copied:
//   sgdisk refuses a partition that does not fit, and the mirror needs as much);
// - the disk boots the host through proxmox-boot-tool and the other side has no ESP it keeps.

/** One member of a mirror as its tool shows it. */
export interface MirrorMember {
  /** As the pool or array names it: "/dev/sda3", a GUID for an absent device, "/dev/sdb2". */
  device: string;
  /** The tool's words: "ONLINE", "FAULTED (too many errors)", "active sync", "faulty", "removed". */
  state: string;
  /** Holds a full, current copy of its data. */
  healthy: boolean;
}

/** What a mirror swap's preflight reads, the same for ZFS and md. */
export interface MirrorFacts {
  /** "pool rpool", "array /dev/md0", for people. */
  what: Said;
  /** Every member's name, for a disk that is none of them. */
  members: string[];
  /** The member holding the disk to replace; null when the disk is in none. */
  old: MirrorMember | null;
  /** The old member's group: "mirror", "raid1", or what else it sits in ("raidz2", "raid5", "disk"). */
  layout: string;
  /** The other members of its mirror. */
  others: MirrorMember[];
  /** Members outside its mirror that are not healthy (other vdevs of the pool). */
  elsewhere: MirrorMember[];
  /** What runs ("resilver, 10.90% done"), null when nothing does. */
  running: Said | null;
  /** The pool or array's state when it does not serve its data (a pool SUSPENDED or UNAVAIL), else null. */
  notServing: string | null;
}

function vdevMember(vdev: Vdev): MirrorMember {
  return {
    device: vdev.name,
    state: vdev.note === '' ? vdev.state : `${vdev.state} (${vdev.note})`,
    healthy: vdev.state === 'ONLINE' && !vdev.resilvering,
  };
}

/** md's sync actions that only read (a "check") or mend in place ("repair"). */
const CHECKS = new Set(['check', 'repair']);

/** A ZFS pool's view, the disk to replace being the leaf named by one of `oldPaths` (zfs.ts leafOf). */
export function zfsMirrorFacts(status: PoolStatus, oldPaths: string[]): MirrorFacts {
  const what = said('mirrorPool', status.pool);
  const all = leavesOf(status.root);
  const wanted = new Set(oldPaths);
  const leaf = all.find((l) => wanted.has(l.name) || (l.was !== null && wanted.has(l.was)));
  const top = leaf === undefined ? undefined : topVdevOf(status, leaf);
  const inTop = top === undefined ? [] : leavesOf(top);
  const scan = status.scan;
  return {
    what,
    members: all.map((l) => l.name),
    old: leaf === undefined ? null : vdevMember(leaf),
    layout: top === undefined ? 'disk' : top.type.replace(/^raidz$/, 'raidz1'),
    others: inTop.filter((l) => l !== leaf).map(vdevMember),
    elsewhere: all.filter((l) => !inTop.includes(l) && l.state !== 'ONLINE').map(vdevMember),
    running:
      scan.kind === 'resilver' && scan.state === 'in-progress'
        ? said('runningPercent', 'resilver', scan.percentDone.toFixed(2))
        : null,
    notServing: ['ONLINE', 'DEGRADED'].includes(status.state) ? null : status.state,
  };
}

/**
 * An md array's view (mdadm --detail; /proc/mdstat adds a resync that waits its turn), the disk to
 * replace being the member whose device is one of `oldPaths`.
 */
export function mdMirrorFacts(detail: MdDetail, oldPaths: string[], mdstat?: MdStatArray): MirrorFacts {
  const wanted = new Set(oldPaths);
  const toMember = (m: MdDetail['members'][number]): MirrorMember => ({
    device: m.device ?? (m.raidDevice === null ? '-' : `slot ${m.raidDevice}`),
    state: m.states.join(' '),
    healthy: inSync(m),
  });
  const old = detail.members.find((m) => m.device !== null && wanted.has(m.device));
  // A check (md's scrub) reads and stops when a member fails: like a ZFS scrub, it refuses nothing.
  const found = detail.sync ?? (mdstat?.sync ? { action: mdstat.sync.action, percent: mdstat.sync.percent } : null);
  const sync = found === null || CHECKS.has(found.action) ? null : found;
  const waiting = mdstat?.waiting ?? null;
  return {
    what: said('mirrorArray', detail.array),
    members: detail.members.flatMap((m) => (m.device === null ? [] : [m.device])),
    old: old === undefined ? null : toMember(old),
    layout: detail.level === 'raid1' ? 'mirror' : (detail.level ?? 'unknown'),
    others: detail.members.filter((m) => m !== old).map(toMember),
    elsewhere: [],
    running: sync
      ? said('runningPercent', sync.action, String(sync.percent))
      : waiting
        ? { en: waiting, text: waiting }
        : null,
    notServing: detail.stateFlags.includes('FAILED') || detail.stateFlags.includes('inactive') ? detail.state : null,
  };
}

export type MirrorRefusalCode =
  | 'not-a-member'
  | 'not-a-mirror'
  | 'no-other-side'
  | 'other-side-unhealthy'
  | 'other-side-failing'
  | 'sync-running'
  | 'degraded-elsewhere'
  | 'not-serving'
  | 'too-small'
  | 'other-side-not-bootable';

export interface MirrorRefusal {
  code: MirrorRefusalCode;
  said: Said;
}

/** A disk's boot role: its boot partitions, and the ESP's FAT UUID when it has one. */
export interface BootRole extends BootPartitions {
  espUuid: string | null;
}

/** Whether proxmox-boot-tool keeps this disk's ESP in sync (it boots the host from it). */
export function espRegistered(role: BootRole, bootTool: BootToolStatus): boolean {
  const uuid = role.espUuid;
  if (uuid === null || !bootTool.managing) return false;
  return [...bootTool.esps.map((esp) => esp.uuid), ...bootTool.missing, ...bootTool.unreadable].includes(uuid);
}

export interface MirrorSwapOptions {
  /** SMART's verdict on each other member's disk, by member device; absent or null: unknown. */
  otherSmart?: ReadonlyMap<string, boolean | null>;
  /** The new disk, when it is already in the host, and the least it must hold (the healthy side's size). */
  newDisk?: { path: string; sizeBytes: number };
  neededBytes?: number;
  /** Boot roles, when the host boots through proxmox-boot-tool: the old disk's, the other sides' disks'. */
  boot?: { tool: BootToolStatus; old: BootRole; others: { device: string; role: BootRole }[] };
}

/** May the old disk of this mirror be taken out now? Empty: yes. */
export function judgeMirrorSwap(facts: MirrorFacts, device: string, opts: MirrorSwapOptions = {}): MirrorRefusal[] {
  const refusals: MirrorRefusal[] = [];
  const refuse = (code: MirrorRefusalCode, text: Said) => refusals.push({ code, said: text });
  const what = facts.what;
  const withWhat = (build: (w: string) => Said): Said => ({ en: build(what.en).en, text: build(what.text).text });
  if (facts.notServing !== null) {
    const state = facts.notServing;
    refuse(
      'not-serving',
      withWhat((w) => said('notServing', w, state)),
    );
  }
  if (facts.old === null) {
    const members = list(facts.members);
    refuse(
      'not-a-member',
      withWhat((w) => said('notAMember', device, w, members)),
    );
    return refusals;
  }
  if (facts.layout !== 'mirror') {
    refuse(
      'not-a-mirror',
      withWhat((w) => said('notAMirror', facts.old?.device ?? device, w, facts.layout)),
    );
    return refusals;
  }
  const healthy = facts.others.filter((m) => m.healthy);
  if (facts.others.length === 0)
    refuse(
      'no-other-side',
      withWhat((w) => said('noOtherSide', device, w)),
    );
  else if (healthy.length === 0) {
    const others = list(facts.others.map((m) => said('memberState', m.device, m.state).en));
    refuse(
      'other-side-unhealthy',
      withWhat((w) => said('otherSideUnhealthy', w, others)),
    );
  }
  for (const member of healthy) {
    if (opts.otherSmart?.get(member.device) === false) {
      refuse(
        'other-side-failing',
        withWhat((w) => said('otherSideFailing', w, member.device)),
      );
    }
  }
  const running = facts.running;
  if (running !== null) {
    refusals.push({
      code: 'sync-running',
      said: {
        en: said('syncRunning', what.en, running.en).en,
        text: said('syncRunning', what.text, running.text).text,
      },
    });
  }
  if (facts.elsewhere.length > 0) {
    const members = list(facts.elsewhere.map((m) => said('memberState', m.device, m.state).en));
    refuse(
      'degraded-elsewhere',
      withWhat((w) => said('degradedElsewhere', w, members)),
    );
  }
  const { newDisk, neededBytes } = opts;
  if (newDisk !== undefined && neededBytes !== undefined && newDisk.sizeBytes < neededBytes) {
    refuse('too-small', said('tooSmall', newDisk.path, formatSize(newDisk.sizeBytes), formatSize(neededBytes)));
  }
  const boot = opts.boot;
  if (boot !== undefined && boot.old.espUuid !== null && espRegistered(boot.old, boot.tool)) {
    const bootable = boot.others.filter((other) => espRegistered(other.role, boot.tool));
    if (bootable.length === 0) {
      const others = list(boot.others.map((other) => other.device)) || messages.unknown;
      refuse('other-side-not-bootable', said('otherSideNotBootable', device, boot.old.espUuid, others));
    }
  }
  return refusals;
}

// --- The rebuild's progress, the same for both -------------------------------------------------

/** Where a resilver or an md rebuild stands, for the wait's progress lines and its end. */
export interface SyncProgress {
  running: boolean;
  /** 0-100 (a ZFS resilver can pass 100); null when nothing runs or nothing says. */
  percent: number | null;
  secondsToGo: number | null;
  bytesPerSecond: number | null;
  /** Nothing runs and every member holds a full copy: the mirror is whole again. */
  whole: boolean;
  /** The errors the last resilver counted (ZFS); 0 when none or not told. */
  errors: number;
}

/** A pool's resilver: whole once it ended and every data leaf is ONLINE, no replacing-N left. */
export function zfsSyncProgress(status: PoolStatus): SyncProgress {
  const scan = status.scan;
  const running = scan.kind === 'resilver' && scan.state === 'in-progress';
  const leaves = leavesOf(status.root);
  const replacing = (vdev: Vdev): boolean => vdev.type === 'replacing' || vdev.children.some(replacing);
  return {
    running,
    percent: running ? scan.percentDone : null,
    secondsToGo: running ? scan.secondsToGo : null,
    bytesPerSecond: running ? scan.bytesPerSecond : null,
    whole: !running && !replacing(status.root) && leaves.every((leaf) => leaf.state === 'ONLINE'),
    errors: scan.kind === 'resilver' && scan.state === 'finished' ? scan.errors : 0,
  };
}

/**
 * An md array's rebuild, from mdadm --detail and, for the rate and the time left, /proc/mdstat
 * (finish=1.2min speed=259783K/sec). Whole once every slot holds a member in sync.
 */
export function mdSyncProgress(detail: MdDetail, mdstat?: MdStatArray): SyncProgress {
  const sync = mdstat?.sync;
  const rebuilding = sync !== undefined && sync !== null && !CHECKS.has(sync.action);
  const detailRunning = detail.sync !== null && !CHECKS.has(detail.sync.action);
  const running = detailRunning || rebuilding || (mdstat?.waiting ?? null) !== null;
  const synced = detail.members.filter(inSync).length;
  return {
    running,
    percent: rebuilding ? sync.percent : detailRunning ? (detail.sync?.percent ?? null) : null,
    secondsToGo: rebuilding ? Math.round(sync.finishMinutes * 60) : null,
    bytesPerSecond: rebuilding ? sync.kibPerSecond * 1024 : null,
    whole: !running && synced === detail.raidDevices && !detail.stateFlags.includes('degraded'),
    errors: 0,
  };
}
