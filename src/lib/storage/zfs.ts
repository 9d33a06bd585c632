// What a ZFS pool says of itself (issue 15's mirror swap): `zpool status` and the pure parser of
// what it prints, and the commands that take a disk out of a pool and put another in. Tested on
// real outputs (test/unit/fixtures/storage/README.md) of OpenZFS 0.6 to 2.2; the text is
// printed by OpenZFS cmd/zpool/zpool_main.c (status_callback, print_status_config,
// print_scan_scrub_resilver_status). Its traps:
// - no JSON before OpenZFS 2.3 (`zpool status -j`), and Proxmox VE 8 ships 2.2: the text it is;
// - the config tree is drawn by indentation, 2 columns a level, after a TAB (or the spaces a
//   terminal copy left): the depth is measured from the NAME header's column;
// - a device that is not there is named by its GUID, its last path after "was";
// - without -p, error counts are rounded ("1.2K"); -p prints them exactly, -L the real /dev
//   path behind a by-id link, -P whole paths, so a leaf reads as lsblk's PATH of a partition;
// - the scan lines changed twice: "X scanned out of Y at R/s, 1h2m to go" (0.6, 0.7), "X scanned
//   at R/s, Y issued at R/s, Z total" (0.8 to 2.1), "X / Y scanned at R/s, Z / W issued at R/s"
//   (2.2); a time to go is "1h2m", "0 days 01:24:38" or "00:00:32"; sizes are 1024-based;
// - a resilver can pass 100% (writes during it), and names no time left when it is slow.
import type { Probe, ProbeOutput } from '../remote/facts.js';
import { OutputError } from '../remote/json-output.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import { messages } from './messages.js';

/** The states zpool prints (libzfs zpool_state_to_name, and SUSPENDED for a pool that stopped I/O). */
const STATES = [
  'ONLINE',
  'DEGRADED',
  'FAULTED',
  'OFFLINE',
  'UNAVAIL',
  'REMOVED',
  'SPLIT',
  'AVAIL',
  'INUSE',
  'SUSPENDED',
  'UNKNOWN',
] as const;
export type VdevState = (typeof STATES)[number];

/** Where a vdev sits: the pool's data, or one of the classes zpool lists after it. */
export type VdevClass = 'data' | 'logs' | 'cache' | 'spares' | 'special' | 'dedup';
const CLASSES = new Set<string>(['logs', 'cache', 'spares', 'special', 'dedup']);

export interface Vdev {
  /** As zpool prints it: "rpool", "mirror-0", "replacing-0", "/dev/sda3", a GUID for an absent device. */
  name: string;
  /** root (the pool), mirror, raidz1-3, draid, replacing, spare, or disk for a leaf. */
  type: string;
  state: VdevState;
  /** null where zpool prints none (a spare's line). */
  errors: { read: number; write: number; checksum: number } | null;
  /** What follows the counts: "was /dev/sdb2", "too many errors", "(resilvering)"...; "" when nothing. */
  note: string;
  /** The path an absent device had ("was /dev/nvme0n1p3"), else null. */
  was: string | null;
  /** A leaf being written by the resilver running now. */
  resilvering: boolean;
  children: Vdev[];
}

export type ScanKind = 'resilver' | 'scrub';

export type Scan =
  | { kind: 'none'; text: string }
  | {
      kind: ScanKind;
      state: 'in-progress';
      /** As zpool prints it (ctime, the host's local time): "Mon Jan 16 14:37:35 2023". */
      since: string;
      /** Bytes resilvered (or repaired) so far, from zpool's rounded size. */
      processedBytes: number;
      /** Bytes zpool expects to go through, when it says (rounded). */
      totalBytes: number | null;
      /** The rate it writes (issues) at, bytes per second; null when zpool gives none. */
      bytesPerSecond: number | null;
      /** 0-100 and more: a resilver can pass 100% while the pool is written to. */
      percentDone: number;
      /** null: zpool gives no estimate (too slow, or not started). */
      secondsToGo: number | null;
      /** zpool's own lines, for people. */
      text: string;
    }
  | { kind: ScanKind; state: 'paused'; since: string; percentDone: number | null; text: string }
  | {
      kind: ScanKind;
      state: 'finished';
      processedBytes: number;
      durationSeconds: number;
      errors: number;
      /** "Mon Jan 16 14:38:05 2023". */
      endedAt: string;
      text: string;
    }
  | { kind: ScanKind; state: 'canceled'; endedAt: string; text: string };

export interface PoolStatus {
  pool: string;
  state: VdevState;
  /** The "status:" and "action:" paragraphs, joined into one line each; null when absent (all fine). */
  status: string | null;
  action: string | null;
  scan: Scan;
  /** The pool and its data vdevs. */
  root: Vdev;
  /** The other classes (logs, cache, spares, special, dedup), in zpool's order. */
  classes: { class: Exclude<VdevClass, 'data'>; vdevs: Vdev[] }[];
  /** "No known data errors", or what zpool says of damaged files; null when it printed no line. */
  errors: string | null;
}

// --- Numbers as zpool prints them ----------------------------------------------------------------

const UNITS = 'BKMGTPE';

/**
 * A size by zfs_nicebytes or a count by zfs_nicenum: "5.42G", "605M", "0B", "0", "1.2K", with
 * 1024 steps; some locales print "4,43G".
 */
export function niceNumber(text: string): number {
  const match = /^(\d+(?:[.,]\d+)?)([BKMGTPE]?)$/.exec(text.trim());
  if (!match) throw new OutputError(messages.zpoolNotANumber(text));
  const [, digits = '', unit = ''] = match;
  const power = unit === '' || unit === 'B' ? 0 : UNITS.indexOf(unit);
  return Math.round(Number(digits.replace(',', '.')) * 1024 ** power);
}

/** zpool's time spans: "1h2m" (0.6, 0.7), "0 days 01:24:38" (0.8 to 2.1), "00:00:32", "3 days 01:02:03". */
export function zpoolDuration(text: string): number {
  const trimmed = text.trim();
  const old = /^(\d+)h(\d+)m$/.exec(trimmed);
  if (old) return Number(old[1]) * 3600 + Number(old[2]) * 60;
  const dhms = /^(?:(\d+) days? )?(\d+):(\d{2}):(\d{2})$/.exec(trimmed);
  if (!dhms) throw new OutputError(messages.zpoolNotADuration(text));
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = dhms;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
}

// --- The scan line -------------------------------------------------------------------------------

function scanOf(text: string): Scan {
  const [first = '', ...more] = text.split('\n').map((line) => line.trim());
  const rest = more.join('\n');
  const whole = [first, ...more].join('\n');
  if (first === 'none requested' || first === '') return { kind: 'none', text: whole };
  const kind: ScanKind = /^resilver/.test(first) ? 'resilver' : 'scrub';
  const finished =
    /^(?:thorough )?(?:scrub repaired|resilvered)(?: \(\S+\))? (\S+) in (.+?) with (\d+) errors on (.+)$/.exec(first);
  if (finished) {
    const [, processed = '', took = '', errors = '', ended = ''] = finished;
    return {
      kind,
      state: 'finished',
      processedBytes: niceNumber(processed),
      durationSeconds: zpoolDuration(took),
      errors: Number(errors),
      endedAt: ended,
      text: whole,
    };
  }
  const canceled = /canceled on (.+)$/.exec(first);
  if (canceled) return { kind, state: 'canceled', endedAt: canceled[1] ?? '', text: whole };
  const percent = /([\d.,]+)% done/.exec(rest);
  const percentDone = percent ? Number((percent[1] ?? '').replace(',', '.')) : null;
  const paused = /paused since (.+)$/.exec(first);
  if (paused) return { kind, state: 'paused', since: paused[1] ?? '', percentDone, text: whole };
  const progress = /in progress since (.+)$/.exec(first);
  if (!progress || percentDone === null) throw new OutputError(messages.zpoolBadScan(whole));
  const processed = /(\S+) (?:resilvered|repaired),/.exec(rest);
  // 2.2: "X / TOTAL scanned"; 0.8-2.1: "Z total"; 0.6-0.7: "scanned out of TOTAL".
  const total = /\/ (\S+) scanned/.exec(rest) ?? /(\S+) total/.exec(rest) ?? /scanned out of (\S+)/.exec(rest);
  const rate = /issued at (\S+)\/s/.exec(rest) ?? /scanned out of \S+ at (\S+)\/s/.exec(rest);
  const toGo = /(?:, |^)([^,\n]+) to go/m.exec(rest);
  return {
    kind,
    state: 'in-progress',
    since: progress[1] ?? '',
    processedBytes: processed ? niceNumber(processed[1] ?? '') : 0,
    totalBytes: total ? niceNumber(total[1] ?? '') : null,
    bytesPerSecond: rate ? niceNumber(rate[1] ?? '') : null,
    percentDone,
    secondsToGo: toGo ? zpoolDuration(toGo[1] ?? '') : null,
    text: whole,
  };
}

// --- The config tree -----------------------------------------------------------------------------

/** Tabs expanded to the next multiple of 8, as the terminal drew them. */
function expandTabs(line: string): string {
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

function state(word: string): VdevState {
  const found = STATES.find((known) => known === word);
  if (found === undefined) throw new OutputError(messages.zpoolUnknownState(word));
  return found;
}

/**
 * A vdev's line: name, state (any upper-case word: an unknown one is refused by name), counts (none
 * on a spare's line: "sdc  INUSE  currently in use"), note.
 */
const ROW = /^(\S+)\s+([A-Z]+)(?:\s+(\d\S*)\s+(\d\S*)\s+(\d\S*))?(?:\s+(.*))?$/;

/** The type a vdev's name tells ("mirror-0", "raidz2-1", "replacing-0", "draid1:2d:4c:0s-0"), leaves aside. */
function typeOf(name: string, children: number): string {
  if (children === 0) return 'disk';
  const match = /^(mirror|raidz[123]?|draid\d*|replacing|spare)[-:]/.exec(name);
  return match?.[1]?.replace(/^draid\d*$/, 'draid') ?? 'vdev';
}

interface Row {
  depth: number;
  vdev: Vdev;
}

function parseConfig(lines: string[]): { root: Vdev; classes: PoolStatus['classes'] } {
  const expanded = lines.map(expandTabs).filter((line) => line.trim() !== '');
  const header = expanded.findIndex((line) => /^\s*NAME\s+STATE\b/.test(line));
  if (header < 0) throw new OutputError(messages.zpoolNoConfig);
  const base = (expanded[header] ?? '').search(/\S/);
  const groups: { class: VdevClass; rows: Row[] }[] = [{ class: 'data', rows: [] }];
  for (const line of expanded.slice(header + 1)) {
    const indent = line.search(/\S/) - base;
    const text = line.trim();
    if (indent === 0 && CLASSES.has(text)) {
      groups.push({ class: text as VdevClass, rows: [] });
      continue;
    }
    const match = ROW.exec(text);
    if (!match || indent < 0 || indent % 2 !== 0) throw new OutputError(messages.zpoolBadRow(text));
    const [, name = '', word = '', read, write, checksum, note = ''] = match;
    const errors =
      read === undefined || write === undefined || checksum === undefined
        ? null
        : { read: niceNumber(read), write: niceNumber(write), checksum: niceNumber(checksum) };
    const vdev: Vdev = {
      name,
      type: 'disk',
      state: state(word),
      errors,
      note: note.trim(),
      was: /^was (\S+)/.exec(note.trim())?.[1] ?? null,
      resilvering: /\((resilvering|repairing)\)/.test(note),
      children: [],
    };
    groups.at(-1)?.rows.push({ depth: indent / 2, vdev });
  }
  const [data, ...others] = groups;
  const roots = treeOf(data?.rows ?? []);
  const root = roots[0];
  if (root === undefined || roots.length !== 1) throw new OutputError(messages.zpoolNoConfig);
  root.type = 'root';
  return {
    root,
    // A class's vdevs are drawn one level below its name, as the pool's below the pool.
    classes: others.map((group) => ({
      class: group.class as Exclude<VdevClass, 'data'>,
      vdevs: treeOf(group.rows.map((row) => ({ ...row, depth: row.depth - 1 }))),
    })),
  };
}

/** Rows by depth into trees: each row is a child of the last row one level up. */
function treeOf(rows: Row[]): Vdev[] {
  const top: Vdev[] = [];
  const path: Vdev[] = [];
  for (const { depth, vdev } of rows) {
    if (depth > path.length) throw new OutputError(messages.zpoolBadRow(vdev.name));
    path.length = depth;
    (depth === 0 ? top : (path[depth - 1]?.children ?? top)).push(vdev);
    path.push(vdev);
  }
  const typed = (vdev: Vdev): void => {
    vdev.children.forEach(typed);
    vdev.type = typeOf(vdev.name, vdev.children.length);
  };
  top.forEach(typed);
  return top;
}

// --- The whole output ----------------------------------------------------------------------------

/** The keys status_callback prints, right-aligned on the colon. */
const KEY = /^\s{0,8}(pool|id|state|status|action|see|scan|remove|checkpoint|config|errors|dedup|prune):(?: (.*))?$/;

/** `zpool status [-P -L -p] <pool>` of one pool. */
export function parsePoolStatus(stdout: string): PoolStatus {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    const key = KEY.exec(line);
    if (key && !sections.has(key[1] ?? '')) {
      current = key[2] === undefined ? [] : [key[2]];
      sections.set(key[1] ?? '', current);
    } else {
      current?.push(line);
    }
  }
  const paragraph = (key: string) => {
    const lines = sections.get(key);
    return lines === undefined
      ? null
      : lines
          .map((line) => line.trim())
          .filter(Boolean)
          .join(' ');
  };
  const pool = paragraph('pool');
  const poolState = paragraph('state');
  const config = sections.get('config');
  if (!pool || !poolState || config === undefined) throw new OutputError(messages.zpoolNotStatus(stdout));
  const { root, classes } = parseConfig(config);
  return {
    pool,
    state: state(poolState),
    status: paragraph('status'),
    action: paragraph('action'),
    scan: scanOf((sections.get('scan') ?? ['none requested']).filter((line) => line.trim() !== '').join('\n')),
    root,
    classes,
    errors: paragraph('errors'),
  };
}

/** Every leaf under `vdev` (its disks and partitions), depth first. */
export function leavesOf(vdev: Vdev): Vdev[] {
  return vdev.children.length === 0 ? [vdev] : vdev.children.flatMap(leavesOf);
}

/**
 * The leaf of the pool's data vdevs that is one of `paths` (a partition's /dev path, its by-id
 * links): by its name, or by the path it had when it is absent. Undefined when none is.
 */
export function leafOf(status: PoolStatus, paths: string[]): Vdev | undefined {
  const wanted = new Set(paths);
  return leavesOf(status.root).find((leaf) => wanted.has(leaf.name) || (leaf.was !== null && wanted.has(leaf.was)));
}

/** The top-level vdev (mirror-0, raidz1-0, or a lone disk) that holds `leaf`. */
export function topVdevOf(status: PoolStatus, leaf: Vdev): Vdev | undefined {
  return status.root.children.find((top) => leavesOf(top).includes(leaf));
}

const EXIT_NOT_FOUND = 127;

/** `zpool status -P -L -p <pool>`: 1 with "cannot open 'x': no such pool" on stderr. */
export function zpoolStatus(pool: string): Probe<PoolStatus> {
  return {
    command: command('zpool', 'status', '-P', '-L', '-p', pool),
    parse: (output: ProbeOutput) => {
      if (output.code !== 0) {
        const why = output.code === EXIT_NOT_FOUND ? messages.zpoolNotInstalled : output.stderr.trim();
        throw new OutputError(messages.zpoolFailed(pool, output.code ?? 'signal', why));
      }
      return parsePoolStatus(output.stdout);
    },
  };
}

// --- Changes -------------------------------------------------------------------------------------

/** Takes `device` out of service (the pool keeps it, and writes no more to it). */
export function zpoolOffline(pool: string, device: string): RemoteCommand {
  return command('zpool', 'offline', pool, device);
}

export function zpoolOnline(pool: string, device: string): RemoteCommand {
  return command('zpool', 'online', pool, device);
}

/**
 * Replaces `old` (its name, GUID or last path, as zpool status shows it) by `new`, and starts the
 * resilver. `-f`: the new partition may carry a stale signature the judgement allowed (an empty
 * GPT partition copied by sgdisk -R has none, but zpool checks the whole disk's).
 */
export function zpoolReplace(swap: { pool: string; old: string; new: string }): RemoteCommand {
  return command('zpool', 'replace', '-f', swap.pool, swap.old, swap.new);
}

/** Detaches `device` from its mirror (or ends a replacing-N that will not finish). */
export function zpoolDetach(pool: string, device: string): RemoteCommand {
  return command('zpool', 'detach', pool, device);
}
