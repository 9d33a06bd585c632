// The md arrays of a disk lab's host (this machine's kernel has no md): the mdadm stand-in's state
// (STORAGE: md.json), what the kernel would do by itself (a member whose disk is pulled is failed
// and taken out, as md and udev's `mdadm -If` do; a recovery, resync or check goes on at the lab's
// syncBytesPerSecond and ends), and the two texts that show it: `mdadm --detail` and /proc/mdstat,
// which cannot exist here (`node md-array.js mdstat` prints it: `lab.mdstat(host)`; the `cat`
// stand-in, cat.ts, gives it to whoever reads /proc/mdstat). Members are
// lab disks' partitions by (serial, partition number) (lab-disk-map.ts).
//
// Sources: mdadm 4.2 (github.com/md-raid-utilities/mdadm, tag mdadm-4.2): Detail.c (Detail: the
// key column, "State : %s%s%s \n" with ", degraded" and ", recovering"/", resyncing"/", checking",
// "    %7s Status : %d%% complete", the member table's printf formats, "removed", "faulty", "spare
// rebuilding", the blank line before the members out of a slot), super1.c (detail_super1: Name
// "(local to host %s)", UUID, Events), util.c (human_size); the kernel's drivers/md/md.c (md_seq_show:
// "Personalities : [%s] ", "%s : active", " %s[%d]" newest first with (F) and (S), "unused devices:
// <none>"; status_resync: the 20-step bar, " %s =%3u.%u%% (%llu/%llu)", " finish=%lu.%lumin",
// " speed=%ldK/sec") and raid1.c (raid1_status: " [%d/%d] [U_]"); mdadm's super1.c again (struct
// mdp_superblock_1, calc_sb_1_csum) for the superblock a new member gets. Not reproduced: bitmaps,
// other levels, reshapes.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { deviceOf, devicePath, type DiskRef, hostDisks, realpathOrUndefined } from './lab-disk-map.js';
import { isMainModule } from './pve-cli.js';
import { ctime, MD_STATE, readJson, readRates, type SyncingWorld } from './storage-state.js';

/** A member's part in the array: in sync in its slot, being rebuilt into one, spare, or failed. */
export type MdRole = 'sync' | 'rebuilding' | 'spare' | 'faulty';

export interface MdMemberState {
  member: DiskRef;
  /** Its number in the superblock (mdadm's "Number", /proc/mdstat's "[n]"). */
  number: number;
  /** Its slot (RaidDevice); null for a spare or a failed member. */
  slot: number | null;
  role: MdRole;
}

export interface MdSync {
  /** /proc/mdstat's word: recovery (a rebuild onto an added member), resync, check. */
  action: 'recovery' | 'resync' | 'check';
  /** ms since the epoch. */
  start: number;
}

export interface MdArrayState {
  /** "md0": /dev/md0. */
  name: string;
  level: 'raid1';
  raidDevices: number;
  /** What each member holds of the array, in 512-byte sectors (the array's size for a RAID1). */
  componentSectors: number;
  /** "backup:0". */
  setName: string;
  homehost: string;
  /** "e35d52b7:6c8e6a23:9f3d188d:d519bd2b". */
  uuid: string;
  createdAt: number;
  updatedAt: number;
  events: number;
  members: MdMemberState[];
  sync: MdSync | null;
}

export interface MdState {
  arrays: MdArrayState[];
}

export interface MdWorld extends SyncingWorld {
  /** The major and minor numbers of a device node. */
  deviceNumbers: (path: string) => { major: number; minor: number };
  hostname: string;
}

const SECTOR = 512;

/** Where mdadm 1.2 puts the data on a member (a lab disk is small: mdadm's 1 MiB minimum). */
export const DATA_OFFSET_SECTORS = 2048;

/** What a member of `sectors` can hold of an array: past the data offset, in whole 64 KiB. */
export function componentSectorsOf(sectors: number): number {
  return Math.floor((sectors - DATA_OFFSET_SECTORS) / 128) * 128;
}

// --- What the kernel does by itself --------------------------------------------------------------

function present(member: MdMemberState, world: MdWorld): boolean {
  return deviceOf(world.disks, member.member) !== undefined;
}

function syncRate(world: MdWorld): number {
  return world.rates.syncBytesPerSecond;
}

/** Sectors the running sync has gone through. */
function syncedSectors(array: MdArrayState, sync: MdSync, world: MdWorld): number {
  const sectors = Math.floor((((world.now - sync.start) / 1000) * syncRate(world)) / SECTOR);
  return Math.min(array.componentSectors, Math.max(0, sectors));
}

/**
 * Brings the array to where the time and the disks say: a pulled disk's member failed and removed
 * (md fails it on its first error, udev's `mdadm -If` removes it), a sync that is through ended.
 */
export function advance(array: MdArrayState, world: MdWorld): void {
  const kept = array.members.filter((member) => present(member, world));
  if (kept.length !== array.members.length) {
    array.members = kept;
    array.events += 2;
    array.updatedAt = world.now;
    if (array.sync?.action === 'recovery' && !kept.some((member) => member.role === 'rebuilding')) array.sync = null;
    startRecovery(array, world);
  }
  const sync = array.sync;
  if (sync === null || syncedSectors(array, sync, world) < array.componentSectors) return;
  const end = sync.start + Math.ceil(((array.componentSectors * SECTOR) / syncRate(world)) * 1000);
  for (const member of array.members) if (member.role === 'rebuilding') member.role = 'sync';
  array.sync = null;
  array.events += 1;
  array.updatedAt = end;
}

/** A recovery onto a spare, when a slot is empty and nothing else runs (md_check_recovery). */
export function startRecovery(array: MdArrayState, world: MdWorld): void {
  if (array.sync !== null) return;
  const free = [...Array(array.raidDevices).keys()].find(
    (slot) => !array.members.some((member) => member.slot === slot),
  );
  const spare = array.members.find((member) => member.role === 'spare');
  if (free === undefined || !spare) return;
  spare.slot = free;
  spare.role = 'rebuilding';
  array.sync = { action: 'recovery', start: world.now };
}

// --- What they show ------------------------------------------------------------------------------

/** util.c human_size: " (39.97 GiB 42.92 GB)", " (1023.00 MiB 1072.69 MB)", "" under 5000 KiB. */
export function humanSize(bytes: number): string {
  const centi = (unit: number) => Math.floor((Math.floor((bytes * 200) / unit) + 1) / 2);
  const decimal = (unit: number) => Math.floor((Math.floor(bytes / (unit / 200)) + 1) / 2);
  const show = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
  if (bytes < 5000 * 1024) return '';
  if (bytes < 2 * 1024 ** 3) return ` (${show(centi(1024 ** 2))} MiB ${show(decimal(1e6))} MB)`;
  if (bytes < 2 * 1024 ** 4) return ` (${show(centi(1024 ** 3))} GiB ${show(decimal(1e9))} GB)`;
  return ` (${show(centi(1024 ** 4))} TiB ${show(decimal(1e12))} TB)`;
}

function inSlot(array: MdArrayState, slot: number): MdMemberState | undefined {
  return array.members.find((member) => member.slot === slot);
}

/** Per mille of the running sync, as md.c's status_resync computes it. */
function perMille(array: MdArrayState, sync: MdSync, world: MdWorld): number {
  return Math.floor((syncedSectors(array, sync, world) * 1000) / array.componentSectors);
}

const DETAIL_ACTION = { recovery: 'Rebuild', resync: 'Resync', check: 'Check' } as const;
const STATE_ACTION = { recovery: ', recovering', resync: ', resyncing', check: ', checking' } as const;

/** `mdadm --detail /dev/mdX`. */
export function renderDetail(array: MdArrayState, world: MdWorld): string {
  const sizeKib = array.componentSectors / 2;
  const size = `${sizeKib}${humanSize(sizeKib * 1024)}`;
  const active = array.members.filter((member) => member.role === 'sync').length;
  const failed = array.members.filter((member) => member.role === 'faulty').length;
  const working = array.members.length - failed;
  const degraded = active < array.raidDevices ? ', degraded' : '';
  const action = array.sync ? STATE_ACTION[array.sync.action] : '';
  const lines = [
    `/dev/${array.name}:`,
    '           Version : 1.2',
    `     Creation Time : ${ctime(array.createdAt)}`,
    `        Raid Level : ${array.level}`,
    `        Array Size : ${size}`,
    `     Used Dev Size : ${size}`,
    `      Raid Devices : ${array.raidDevices}`,
    `     Total Devices : ${array.members.length}`,
    '       Persistence : Superblock is persistent',
    '',
    `       Update Time : ${ctime(array.updatedAt)}`,
    `             State : clean${degraded}${action} `,
    `    Active Devices : ${active}`,
    ...(working > 0 ? [`   Working Devices : ${working}`] : []),
    `    Failed Devices : ${failed}`,
    `     Spare Devices : ${working - active}`,
    '',
    'Consistency Policy : resync',
    '',
  ];
  if (array.sync) {
    const percent = Math.floor(perMille(array, array.sync, world) / 10);
    lines.push(`    ${DETAIL_ACTION[array.sync.action].padStart(7)} Status : ${percent}% complete`, '');
  }
  const local = array.setName.startsWith(`${world.hostname}:`) ? `  (local to host ${world.hostname})` : '';
  lines.push(
    `              Name : ${array.setName}${local}`,
    `              UUID : ${array.uuid}`,
    `            Events : ${array.events}`,
    '',
    '    Number   Major   Minor   RaidDevice State',
  );
  const pad = (n: number | string) => String(n).padStart(5);
  const device = (member: MdMemberState) => {
    const found = deviceOf(world.disks, member.member);
    const path = found ? devicePath(found) : undefined;
    return { path, ...(path ? world.deviceNumbers(path) : { major: 0, minor: 0 }) };
  };
  for (let slot = 0; slot < array.raidDevices; slot++) {
    const member = inSlot(array, slot);
    if (!member) {
      lines.push(`       -   ${pad(0)}    ${pad(0)}    ${pad(slot)}      removed`);
      continue;
    }
    const { path, major, minor } = device(member);
    const state = member.role === 'sync' ? 'active sync' : 'spare rebuilding';
    lines.push(`   ${pad(member.number)}   ${pad(major)}    ${pad(minor)}    ${pad(slot)}      ${state}   ${path}`);
  }
  const outside = array.members.filter((member) => member.slot === null);
  if (outside.length > 0) lines.push('');
  for (const member of outside) {
    const { path, major, minor } = device(member);
    const state = member.role === 'faulty' ? 'faulty' : 'spare';
    lines.push(`   ${pad(member.number)}   ${pad(major)}    ${pad(minor)}        -      ${state}   ${path}`);
  }
  return `${lines.join('\n')}\n`;
}

const PERSONALITIES = '[raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10] ';

/** /proc/mdstat. */
export function renderMdstat(state: MdState, world: MdWorld): string {
  let out = `Personalities : ${PERSONALITIES}\n`;
  for (const array of state.arrays) {
    // The kernel lists the members newest first (bind_rdev_to_array: list_add_rcu).
    const members = [...array.members].reverse().map((member) => {
      const found = deviceOf(world.disks, member.member);
      const flag = member.role === 'faulty' ? '(F)' : member.slot === null ? '(S)' : '';
      return ` ${found ? devicePath(found).slice('/dev/'.length) : 'unknown'}[${member.number}]${flag}`;
    });
    const slots = [...Array(array.raidDevices).keys()].map((slot) =>
      inSlot(array, slot)?.role === 'sync' ? 'U' : '_',
    );
    const working = slots.filter((slot) => slot === 'U').length;
    out += `${array.name} : active ${array.level}${members.join('')}\n`;
    out += `      ${array.componentSectors / 2} blocks super 1.2 [${array.raidDevices}/${working}] [${slots.join('')}]\n`;
    if (array.sync) out += `      ${syncLine(array, array.sync, world)}\n`;
    out += '\n';
  }
  return `${out}unused devices: <none>\n`;
}

/** status_resync: "[=>...................]  recovery =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec". */
function syncLine(array: MdArrayState, sync: MdSync, world: MdWorld): string {
  const milli = perMille(array, sync, world);
  const done = Math.floor(milli / 50);
  const bar = `[${'='.repeat(done)}>${'.'.repeat(20 - done)}]`;
  const doneKib = Math.floor(syncedSectors(array, sync, world) / 2);
  const totalKib = array.componentSectors / 2;
  const speed = Math.floor(syncRate(world) / 1024);
  const left = Math.floor((totalKib - doneKib) / Math.max(1, speed));
  const percent = `${String(Math.floor(milli / 10)).padStart(3)}.${milli % 10}`;
  return (
    `${bar}  ${sync.action} =${percent}% (${doneKib}/${totalKib}) ` +
    `finish=${Math.floor(left / 60)}.${Math.floor((left % 60) / 6)}min speed=${speed}K/sec`
  );
}

// --- A member's superblock ------------------------------------------------------------------------

/** Where a 1.2 superblock is: 4 KiB into the member. */
export const SUPERBLOCK_OFFSET = 4096;
const MD_SB_MAGIC = 0xa92b4efc;
const MAX_DEV = 384;

/**
 * The md 1.2 superblock mdadm writes on a member (super1.c, struct mdp_superblock_1: 256 bytes,
 * then the role of each device, u16 each; calc_sb_1_csum), what blkid and lsblk read as
 * `linux_raid_member` with the array's UUID and name. `deviceUuid`: 16 bytes of the member's own.
 */
export function superblock(array: MdArrayState, member: MdMemberState, deviceUuid: Buffer, sectors: number): Buffer {
  const sb = Buffer.alloc(256 + MAX_DEV * 2);
  sb.writeUInt32LE(MD_SB_MAGIC, 0);
  sb.writeUInt32LE(1, 4);
  Buffer.from(array.uuid.replaceAll(':', ''), 'hex').copy(sb, 16);
  sb.write(array.setName.slice(0, 32), 32, 'utf8');
  sb.writeBigUInt64LE(BigInt(Math.floor(array.createdAt / 1000)), 64);
  sb.writeUInt32LE(1, 72);
  sb.writeBigUInt64LE(BigInt(array.componentSectors), 80);
  sb.writeUInt32LE(array.raidDevices, 92);
  sb.writeBigUInt64LE(BigInt(DATA_OFFSET_SECTORS), 128);
  sb.writeBigUInt64LE(BigInt(sectors - DATA_OFFSET_SECTORS), 136);
  sb.writeBigUInt64LE(BigInt(SUPERBLOCK_OFFSET / SECTOR), 144);
  sb.writeUInt32LE(member.number, 160);
  deviceUuid.copy(sb, 168, 0, 16);
  sb.writeBigUInt64LE(BigInt(Math.floor(array.updatedAt / 1000)), 192);
  sb.writeBigUInt64LE(BigInt(array.events), 200);
  // resync_offset: all of it in sync (MaxSector), or none yet.
  sb.writeBigUInt64LE(array.sync?.action === 'resync' ? 0n : 0xffffffffffffffffn, 208);
  sb.writeUInt32LE(MAX_DEV, 220);
  // dev_roles: 0xffff a free number, 0xfffe a failed device, else the slot.
  for (let number = 0; number < MAX_DEV; number++) sb.writeUInt16LE(0xffff, 256 + number * 2);
  for (const other of array.members) {
    sb.writeUInt16LE(other.role === 'faulty' ? 0xfffe : (other.slot ?? 0xffff), 256 + other.number * 2);
  }
  let sum = 0n;
  for (let at = 0; at + 4 <= sb.length; at += 4) sum += BigInt(sb.readUInt32LE(at));
  sb.writeUInt32LE(Number((sum & 0xffffffffn) + (sum >> 32n)) >>> 0, 216);
  return sb;
}

// --- The host's side ------------------------------------------------------------------------------

/** The device numbers of a node, from its stat (the kernel's new_encode_dev). */
function nodeNumbers(rdev: number): { major: number; minor: number } {
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

export async function hostMdWorld(): Promise<MdWorld> {
  return {
    now: Date.now(),
    disks: await hostDisks(),
    rates: readRates(),
    realpath: realpathOrUndefined,
    deviceNumbers: (path) => nodeNumbers(statSync(path).rdev),
    hostname: hostname(),
  };
}

export const EMPTY_MD_STATE: MdState = { arrays: [] };

/** /proc/mdstat's text now, the arrays' syncs advanced to this moment. */
export async function hostMdstat(): Promise<string> {
  const state = readJson(MD_STATE, EMPTY_MD_STATE);
  const world = await hostMdWorld();
  state.arrays.forEach((array) => advance(array, world));
  return renderMdstat(state, world);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] !== 'mdstat') {
    process.stderr.write('usage: md-array.js mdstat\n');
    return 2;
  }
  process.stdout.write(await hostMdstat());
  return 0;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
