// What a Linux software RAID (md) array says of itself (issue 15's mirror swap): `mdadm --detail`
// and /proc/mdstat with their pure parsers, and the commands that fail, remove and add a member.
// Tested on real outputs (test/unit/fixtures/storage/README.md). The texts come from mdadm
// Detail.c (Detail: "State : clean, degraded, recovering", "Rebuild Status : 10% complete", the
// member table) and the kernel's drivers/md/md.c (md_seq_show, status_resync). Their traps:
// - mdadm 4 aligns its keys on a wider column than mdadm 3 ("             State :" against
//   "          State :"): keys are read trimmed;
// - a member that left the array entirely is a row "-  0  0  <slot>  removed" with no device, a
//   failed one "faulty" with its device and no slot ("-"), after a blank line;
// - the member being rebuilt is "spare rebuilding" while /proc/mdstat shows "recovery"; a resync
//   waiting for another array on the same disks is "resync=DELAYED" with no percentage;
// - /proc/mdstat names members by kernel name ("sdb2[1]") with (F) faulty, (S) spare, (W)
//   write-mostly, (J) journal, (R) replacement after the slot, and "[2/1] [U_]" for slots in use.
import type { Fact, Probe, ProbeOutput } from '../remote/facts.js';
import { OutputError } from '../remote/json-output.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import { messages } from './messages.js';

export interface MdMember {
  /** mdadm's number for the member; null for "-" (a removed slot, a failed member of mdadm 4). */
  number: number | null;
  major: number;
  minor: number;
  /** Its slot in the array; null for "-" (faulty, or a spare not yet given a slot). */
  raidDevice: number | null;
  /** Detail.c's words: ["active", "sync"], ["spare", "rebuilding"], ["faulty"], ["removed"], ["spare"]. */
  states: string[];
  /** "/dev/sdb3"; null when the slot is empty (removed) or the device is gone ("missing"). */
  device: string | null;
}

export type SyncAction = 'rebuild' | 'resync' | 'reshape' | 'check';

export interface MdDetail {
  /** "/dev/md1", as the first line names it. */
  array: string;
  /** "raid1". */
  level: string | null;
  /** The array's size in KiB ("Array Size : 41909248 (39.97 GiB 42.92 GB)"). */
  arraySizeKib: number | null;
  /** What each member must hold, KiB. */
  usedDevSizeKib: number | null;
  raidDevices: number;
  totalDevices: number;
  /** "active, degraded", as printed. */
  state: string;
  /** Its words one by one: ["clean", "degraded", "recovering"]. */
  stateFlags: string[];
  activeDevices: number;
  workingDevices: number;
  failedDevices: number;
  spareDevices: number;
  /** "Rebuild Status : 10% complete": what runs, and how far; null when nothing runs. */
  sync: { action: SyncAction; percent: number } | null;
  uuid: string | null;
  members: MdMember[];
}

/** Detail.c's "%-18s : value" lines, the key right-aligned. */
const DETAIL_KEY = /^\s*([A-Z][A-Za-z ]*?) : ?(.*)$/;
const MEMBER = /^\s*(-|\d+)\s+(\d+)\s+(\d+)\s+(-|\d+)\s+(.*?)\s*$/;

function int(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+/.test(value.trim()))
    throw new OutputError(messages.mdNotANumber(what, value ?? ''));
  return Number.parseInt(value.trim(), 10);
}

function optional(value: string | undefined): number | null {
  return value === undefined || !/^\d+/.test(value.trim()) ? null : Number.parseInt(value.trim(), 10);
}

/** `mdadm --detail /dev/mdX`. */
export function parseMdDetail(stdout: string): MdDetail {
  const lines = stdout.split('\n');
  const array = /^(\/\S+):\s*$/.exec(lines[0] ?? '')?.[1];
  if (array === undefined) throw new OutputError(messages.mdNotDetail((lines[0] ?? '').slice(0, 80)));
  const fields = new Map<string, string>();
  const members: MdMember[] = [];
  let table = false;
  for (const line of lines.slice(1)) {
    if (/^\s*Number\s+Major\s+Minor\s+RaidDevice/.test(line)) {
      table = true;
      continue;
    }
    if (table) {
      if (line.trim() !== '') members.push(member(line));
      continue;
    }
    const field = DETAIL_KEY.exec(line);
    if (field) fields.set(field[1] ?? '', (field[2] ?? '').trim());
  }
  const count = (key: string) => int(fields.get(key), `mdadm --detail ${array}: ${key}`);
  const state = fields.get('State') ?? '';
  const status = [...fields].find(([key]) => / Status$/.test(key) && key !== 'Persistence');
  const percent = status ? /^(\d+)% complete/.exec(status[1]) : null;
  return {
    array,
    level: fields.get('Raid Level') ?? null,
    arraySizeKib: optional(fields.get('Array Size')),
    usedDevSizeKib: optional(fields.get('Used Dev Size')),
    raidDevices: count('Raid Devices'),
    totalDevices: count('Total Devices'),
    state,
    stateFlags: state
      .split(',')
      .map((word) => word.trim())
      .filter(Boolean),
    activeDevices: count('Active Devices'),
    workingDevices: count('Working Devices'),
    failedDevices: count('Failed Devices'),
    spareDevices: count('Spare Devices'),
    sync:
      status && percent
        ? { action: status[0].replace(/ Status$/, '').toLowerCase() as SyncAction, percent: Number(percent[1]) }
        : null,
    uuid: fields.get('UUID') ?? null,
    members,
  };
}

function member(line: string): MdMember {
  const match = MEMBER.exec(line);
  if (!match) throw new OutputError(messages.mdBadMember(line.trim()));
  const [, number = '', major = '', minor = '', slot = '', rest = ''] = match;
  const words = rest.split(/\s+/).filter(Boolean);
  const last = words.at(-1);
  const device = last !== undefined && last.startsWith('/') ? last : null;
  const states = words.slice(0, device !== null || last === 'missing' ? -1 : undefined);
  return {
    number: number === '-' ? null : Number(number),
    major: Number(major),
    minor: Number(minor),
    raidDevice: slot === '-' ? null : Number(slot),
    states,
    device,
  };
}

/** Whether a member holds a full copy of the data ("active sync"). */
export function inSync(member: MdMember): boolean {
  return member.states.includes('active') && member.states.includes('sync') && !member.states.includes('faulty');
}

/** The member whose device is one of `paths` (a partition's /dev path, its by-id links). */
export function memberOf(detail: MdDetail, paths: string[]): MdMember | undefined {
  const wanted = new Set(paths);
  return detail.members.find((m) => m.device !== null && wanted.has(m.device));
}

const EXIT_NOT_FOUND = 127;

/** `mdadm --detail /dev/mdX`: exit 1 with "mdadm: cannot open /dev/mdX: No such file or directory". */
export function mdadmDetail(array: string): Probe<MdDetail> {
  return {
    command: command('mdadm', '--detail', array),
    parse: (output: ProbeOutput) => {
      if (output.code !== 0) {
        const why = output.code === EXIT_NOT_FOUND ? messages.mdadmNotInstalled : output.stderr.trim();
        throw new OutputError(messages.mdadmFailed(array, output.code ?? 'signal', why));
      }
      return parseMdDetail(output.stdout);
    },
  };
}

// --- /proc/mdstat --------------------------------------------------------------------------------

export interface MdStatMember {
  /** The kernel's name: "sdb2". */
  device: string;
  /** Its index in the array's superblock ("sdb2[2]"), not its slot. */
  index: number;
  /** md.c's marks: F faulty, S spare, W write-mostly, J journal, R replacement. */
  flags: string[];
}

export interface MdStatArray {
  /** "md0". */
  name: string;
  active: boolean;
  /** "read-only", "auto-read-only"; null when writable. */
  readOnly: string | null;
  /** "raid1"; null for an inactive array that names none. */
  level: string | null;
  members: MdStatMember[];
  /** Its size in 1 KiB blocks. */
  blocks: number | null;
  /** "[2/1]": slots, and slots holding a working member; null for levels without (raid0). */
  slots: { total: number; working: number } | null;
  /** "[U_]": each slot up (U) or missing (_). */
  slotMap: string | null;
  /** "recovery =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec". */
  sync: {
    action: string;
    percent: number;
    doneBlocks: number;
    totalBlocks: number;
    finishMinutes: number;
    kibPerSecond: number;
  } | null;
  /** "resync=DELAYED" or "resync=PENDING": a sync waiting its turn. */
  waiting: string | null;
}

export interface MdStat {
  personalities: string[];
  arrays: MdStatArray[];
}

const ARRAY_LINE = /^(md\S+) : (active|inactive)(?: \(([a-z-]+)\))?(.*)$/;
const MEMBER_WORD = /^(\S+)\[(\d+)\]((?:\([A-Z]\))*)$/;
const SYNC_LINE =
  /(recovery|resync|reshape|check|repair) =\s*([\d.]+)% \((\d+)\/(\d+)\) finish=([\d.]+)min speed=(\d+)K\/sec/;

/** /proc/mdstat, as md.c's md_seq_show prints it. */
export function parseMdStat(text: string): MdStat {
  const lines = text.split('\n');
  const personalities = [...(/^Personalities :(.*)$/.exec(lines[0] ?? '')?.[1] ?? '').matchAll(/\[(\w+)\]/g)].map(
    (found) => found[1] ?? '',
  );
  if (!/^Personalities :/.test(lines[0] ?? '')) throw new OutputError(messages.mdstatNotMdstat);
  const arrays: MdStatArray[] = [];
  for (const line of lines.slice(1)) {
    const head = ARRAY_LINE.exec(line);
    if (head) {
      const [, name = '', active = '', readOnly, rest = ''] = head;
      const words = rest.split(' ').filter(Boolean);
      arrays.push({
        name,
        active: active === 'active',
        readOnly: readOnly ?? null,
        level: words.find((word) => !MEMBER_WORD.test(word)) ?? null,
        members: words.flatMap((word) => {
          const [, device = '', index = '', flags = ''] = MEMBER_WORD.exec(word) ?? [];
          if (device === '') return [];
          return [{ device, index: Number(index), flags: [...flags.matchAll(/\(([A-Z])\)/g)].map((f) => f[1] ?? '') }];
        }),
        blocks: null,
        slots: null,
        slotMap: null,
        sync: null,
        waiting: null,
      });
      continue;
    }
    const array = arrays.at(-1);
    if (array === undefined || !/^\s/.test(line)) continue;
    const blocks = /^\s+(\d+) blocks/.exec(line);
    if (blocks) {
      array.blocks = Number(blocks[1]);
      const slots = /\[(\d+)\/(\d+)\] \[([U_]+)\]/.exec(line);
      if (slots) {
        array.slots = { total: Number(slots[1]), working: Number(slots[2]) };
        array.slotMap = slots[3] ?? null;
      }
    }
    const sync = SYNC_LINE.exec(line);
    if (sync) {
      const [, action = '', percent = '', done = '', total = '', finish = '', speed = ''] = sync;
      array.sync = {
        action,
        percent: Number(percent),
        doneBlocks: Number(done),
        totalBlocks: Number(total),
        finishMinutes: Number(finish),
        kibPerSecond: Number(speed),
      };
    }
    const waiting = /^\s+(resync|recovery|reshape|check)=(DELAYED|PENDING|REMOTE)/.exec(line);
    if (waiting) array.waiting = `${waiting[1]}=${waiting[2]}`;
  }
  return { personalities, arrays };
}

export const mdStat: Fact<MdStat> = {
  command: command('cat', '/proc/mdstat'),
  parse: parseMdStat,
};

/**
 * /proc/mdstat when the kernel has it (undefined without the md driver): the rate and time left of
 * a rebuild, and a resync waiting its turn (DELAYED), which mdadm --detail does not show.
 */
export const mdStatIfPresent: Probe<MdStat | undefined> = {
  command: command('cat', '/proc/mdstat'),
  parse: (output: ProbeOutput) => (output.code === 0 ? parseMdStat(output.stdout) : undefined),
};

// --- Changes -------------------------------------------------------------------------------------

/** Marks `member` faulty: the array stops using it (mdadm Manage.c: "set <dev> faulty in <array>"). */
export function mdFail(array: string, member: string): RemoteCommand {
  return command('mdadm', '--manage', array, '--fail', member);
}

/** Takes a failed (or spare) `member` out of the array: it can then be pulled. */
export function mdRemove(array: string, member: string): RemoteCommand {
  return command('mdadm', '--manage', array, '--remove', member);
}

/** Adds `member` to the array: it becomes a spare that the array rebuilds onto at once when degraded. */
export function mdAdd(array: string, member: string): RemoteCommand {
  return command('mdadm', '--manage', array, '--add', member);
}
