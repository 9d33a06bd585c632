// zpool (OpenZFS 2.2, Proxmox VE 8's) for a disk lab's pve hosts: this machine has no ZFS, so the
// pools are a state file of the host (STORAGE: zfs.json), their members lab disks' partitions by
// (serial, partition number) (lab-disk-map.ts). A member whose disk is not in the host is missing
// (UNAVAIL, named by its GUID, "was <path>"), as after the kernel lost it. Commands:
// `create [-f] [-o k=v]... [-O k=v]... <pool> mirror <dev> <dev>`, `status [-x] [-P] [-L] [-p] [-v]
// [pool]`, `offline [-f] [-t] <pool> <dev>`, `online <pool> <dev>`, `replace [-f] <pool> <old>
// [<new>]`, `detach <pool> <dev>`, `scrub [-s] <pool>`, `list` (the names only). A device is named as
// zpool takes it: its path, a by-id link, a shorthand ("loop3p3", "ata-...-part3"), what status
// prints for it, its GUID.
//
// A resilver or a scrub goes through the pool's allocated bytes (ALLOCATED_BYTES, at most half the
// pool) at the lab's resilverBytesPerSecond (storage-state.ts), from the time it started: each run
// computes where it stands; a resilver that is through detaches the replaced device (the end of a
// replacing-N), as the kernel does. A new member (create, replace) gets ZFS's labels on its partition
// (zfsLabels: their nvlist and uberblocks, no pool data), what blkid and lsblk read as `zfs_member`.
//
// Sources (github.com/openzfs/zfs, zfs-2.2.9): cmd/zpool/zpool_main.c (status_callback: "  pool:",
// " state:", the status/action texts of ZPOOL_STATUS_MISSING_DEV_R, OFFLINE_DEV and RESILVERING,
// "   see:", "config:", "errors: No known data errors"; print_status_config: "\t%*s%-*s  %-8s" and
// " %5s" counts, "  was <path>", "  (resilvering)"; max_width; print_scan_scrub_resilver_status:
// "resilver in progress since", "\t%s / %s scanned at %s/s, %s / %s issued at %s/s", "\t%s
// resilvered, %.2f%% done, %s to go" or "no estimated completion time" under 10 MiB/s,
// "resilvered %s in %s with %llu errors on %s", secs_to_dhms; zpool_do_offline/online/replace/
// detach/scrub: their usage errors, exit 2), cmd/zpool/zpool_vdev.c (vdev_error: "invalid vdev
// specification", "use '-f' to override the following errors:", "%s is part of active pool '%s'";
// make_leaf_vdev: "cannot open '%s': no such device in /dev"), lib/libzfs/libzfs_pool.c
// (zpool_vdev_offline, _attach, _detach: "cannot offline %s", "cannot replace %s with %s", "cannot
// detach %s", EZFS_NODEVICE "no such device in pool", EZFS_NOREPLICAS "no valid replicas", EOVERFLOW
// "device is too small"), lib/libzfs/libzfs_status.c (the status order: resilvering, missing,
// offline; ZFS-8000-2Q), lib/libzutil/zutil_nicenum.c (zfs_nicenum_format), lib/libzutil/os/linux/
// zutil_device_path_os.c (zfs_strip_path: the default search paths cut off a name),
// module/zfs/vdev_label.c (the four labels, their nvlist and uberblock ring), module/nvpair/
// nvpair.c (nvs_xdr: the XDR nvlist), include/sys/uberblock_impl.h (UBERBLOCK_MAGIC).
// Not reproduced: raidz, spares, logs, cache, whole-disk vdevs (a disk is used as it is, never
// partitioned), -g, -T, intervals, `online` resilvering what an offline device missed.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  deviceOf,
  devicePath,
  type DiskRef,
  hostDisks,
  realpathOrUndefined,
  refOf,
  resolveDevice,
  sameRef,
  sizeBytes,
} from './lab-disk-map.js';
import { isMainModule } from './pve-cli.js';
import {
  ctime,
  readRates,
  type SyncingWorld,
  ToolError,
  type ToolOutput,
  withState,
  ZFS_STATE,
} from './storage-state.js';

/** What a Proxmox VE root pool holds after installation, about. */
export const ALLOCATED_BYTES = Math.round(1.2 * 1024 ** 3);

export interface ZfsLeaf {
  type: 'disk';
  guid: string;
  /** The path it was given as (what status prints, stripped, and "was" when it is missing). */
  path: string;
  member: DiskRef;
  offline: boolean;
  sizeBytes: number;
}

export interface ZfsGroup {
  type: 'mirror' | 'replacing';
  guid: string;
  children: ZfsVdev[];
}

export type ZfsVdev = ZfsLeaf | ZfsGroup;

export interface ZfsScan {
  func: 'resilver' | 'scrub';
  state: 'scanning' | 'finished' | 'canceled';
  /** ms since the epoch. */
  start: number;
  end: number | null;
  /** What it goes through, bytes. */
  toExamine: number;
}

export interface ZfsPool {
  name: string;
  guid: string;
  createdAt: number;
  allocatedBytes: number;
  vdevs: ZfsVdev[];
  scan: ZfsScan | null;
}

export interface ZfsState {
  pools: ZfsPool[];
}

export interface ZpoolWorld extends SyncingWorld {
  newGuid: () => string;
}

const EXIT_ERROR = 1;
const EXIT_USAGE = 2;

type VdevState = 'ONLINE' | 'DEGRADED' | 'OFFLINE' | 'UNAVAIL';

// --- Where a scan stands -------------------------------------------------------------------------

function rate(world: ZpoolWorld): number {
  return world.rates.resilverBytesPerSecond;
}

/** Bytes issued so far by the scan running now. */
function issuedBytes(scan: ZfsScan, world: ZpoolWorld): number {
  return Math.min(scan.toExamine, Math.floor(((world.now - scan.start) / 1000) * rate(world)));
}

/** Brings a running scan to where the time says: a resilver that is through ends its replacing-Ns. */
export function advance(pool: ZfsPool, world: ZpoolWorld): void {
  const scan = pool.scan;
  if (scan?.state !== 'scanning' || issuedBytes(scan, world) < scan.toExamine) return;
  scan.state = 'finished';
  scan.end = scan.start + Math.ceil((scan.toExamine / rate(world)) * 1000);
  if (scan.func === 'resilver') pool.vdevs = pool.vdevs.map(replaced);
}

/** A replacing-N whose resilver is through: the new device, last, stays. */
function replaced(vdev: ZfsVdev): ZfsVdev {
  if (vdev.type === 'disk') return vdev;
  const children = vdev.children.map(replaced);
  if (vdev.type === 'replacing') return children.at(-1) ?? vdev;
  return { ...vdev, children };
}

// --- States --------------------------------------------------------------------------------------

function leafPresent(leaf: ZfsLeaf, world: ZpoolWorld): boolean {
  return deviceOf(world.disks, leaf.member) !== undefined;
}

function leafState(leaf: ZfsLeaf, world: ZpoolWorld): VdevState {
  if (leaf.offline) return 'OFFLINE';
  return leafPresent(leaf, world) ? 'ONLINE' : 'UNAVAIL';
}

/** A mirror or a replacing-N: ONLINE when all of it is, UNAVAIL when none of it works, else DEGRADED. */
function vdevState(vdev: ZfsVdev, world: ZpoolWorld): VdevState {
  if (vdev.type === 'disk') return leafState(vdev, world);
  const states = vdev.children.map((child) => vdevState(child, world));
  if (states.every((state) => state === 'ONLINE')) return 'ONLINE';
  return states.some((state) => state === 'ONLINE' || state === 'DEGRADED') ? 'DEGRADED' : 'UNAVAIL';
}

function poolState(pool: ZfsPool, world: ZpoolWorld): VdevState {
  const states = pool.vdevs.map((vdev) => vdevState(vdev, world));
  if (states.some((state) => state === 'UNAVAIL' || state === 'OFFLINE')) return 'UNAVAIL';
  return states.every((state) => state === 'ONLINE') ? 'ONLINE' : 'DEGRADED';
}

function leavesOf(vdev: ZfsVdev): ZfsLeaf[] {
  return vdev.type === 'disk' ? [vdev] : vdev.children.flatMap(leavesOf);
}

function poolLeaves(pool: ZfsPool): ZfsLeaf[] {
  return pool.vdevs.flatMap(leavesOf);
}

// --- Numbers as zpool prints them ----------------------------------------------------------------

/** zfs_nicenum_format: 1024 steps, at most 5 characters, no decimals for an exact multiple. */
export function nicenum(value: number, bytes = false): string {
  const units = bytes ? ['B', 'K', 'M', 'G', 'T', 'P', 'E'] : ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let n = value;
  let index = 0;
  while (n >= 1024 && index < 6) {
    n = Math.floor(n / 1024);
    index++;
  }
  const unit = units[index] ?? '';
  if (index === 0 || value % 1024 ** index === 0) return `${n}${unit}`;
  let text = '';
  for (let digits = 2; digits >= 0; digits--) {
    text = `${(value / 1024 ** index).toFixed(digits)}${unit}`;
    if (text.length <= 5) break;
  }
  return text;
}

/** secs_to_dhms: "00:01:32", "2 days 01:02:03". */
export function dhms(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86400);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(Math.floor(total / 3600) % 24)}:${two(Math.floor(total / 60) % 60)}:${two(total % 60)}`;
  return days > 0 ? `${days} days ${time}` : time;
}

// --- zpool status --------------------------------------------------------------------------------

/** zfs_strip_path: the default search paths (zpool_default_search_paths) are cut off a name. */
const SEARCH_PATHS = [
  '/dev/disk/by-vdev',
  '/dev/mapper',
  '/dev/disk/by-partlabel',
  '/dev/disk/by-partuuid',
  '/dev/disk/by-label',
  '/dev/disk/by-uuid',
  '/dev/disk/by-id',
  '/dev/disk/by-path',
  '/dev',
];

function stripPath(path: string): string {
  const dir = SEARCH_PATHS.find((prefix) => path.startsWith(`${prefix}/`));
  return dir === undefined ? path : path.slice(dir.length + 1);
}

export interface StatusOptions {
  /** -P: whole paths. */
  fullPaths: boolean;
  /** -L: the real /dev path behind a link. */
  followLinks: boolean;
}

/** The name status prints for a leaf (zpool_vdev_name). */
function leafName(leaf: ZfsLeaf, world: ZpoolWorld, options: StatusOptions): string {
  // An offline device keeps its name (fixture zpool-status-replacing-offline-0.8.txt), pulled or not.
  if (!leaf.offline && !leafPresent(leaf, world)) return leaf.guid;
  const device = deviceOf(world.disks, leaf.member);
  const path = options.followLinks && device ? devicePath(device) : leaf.path;
  return options.fullPaths ? path : stripPath(path);
}

interface Row {
  depth: number;
  name: string;
  state: VdevState;
  note: string;
}

function rows(pool: ZfsPool, world: ZpoolWorld, options: StatusOptions): Row[] {
  const scanning = pool.scan?.state === 'scanning' && pool.scan.func === 'resilver';
  const out: Row[] = [{ depth: 0, name: pool.name, state: poolState(pool, world), note: '' }];
  const walk = (vdev: ZfsVdev, index: number, depth: number): void => {
    if (vdev.type === 'disk') {
      const state = leafState(vdev, world);
      const present = leafPresent(vdev, world);
      // The leaf a resilver writes: the new side of a replacing-N, while it runs.
      const writing = scanning && state === 'ONLINE' && isResilvering(pool, vdev);
      const note = !present && !vdev.offline ? `  was ${vdev.path}` : writing ? '  (resilvering)' : '';
      out.push({ depth, name: leafName(vdev, world, options), state, note });
      return;
    }
    out.push({ depth, name: `${vdev.type}-${index}`, state: vdevState(vdev, world), note: '' });
    vdev.children.forEach((child, childIndex) => walk(child, childIndex, depth + 2));
  };
  pool.vdevs.forEach((vdev, index) => walk(vdev, index, 2));
  return out;
}

function isResilvering(pool: ZfsPool, leaf: ZfsLeaf): boolean {
  const inReplacing = (vdev: ZfsVdev): boolean =>
    vdev.type !== 'disk' &&
    ((vdev.type === 'replacing' && vdev.children.at(-1) === leaf) || vdev.children.some(inReplacing));
  return pool.vdevs.some(inReplacing);
}

function scanLines(pool: ZfsPool, world: ZpoolWorld): string {
  const scan = pool.scan;
  if (scan === null) return '  scan: none requested\n';
  const what = scan.func === 'resilver' ? 'resilver' : 'scrub';
  if (scan.state === 'canceled') return `  scan: ${what} canceled on ${ctime(scan.end ?? world.now)}\n`;
  if (scan.state === 'finished') {
    const end = scan.end ?? world.now;
    const took = dhms((end - scan.start) / 1000);
    const done = scan.func === 'resilver' ? `resilvered ${nicenum(scan.toExamine, true)}` : 'scrub repaired 0B';
    return `  scan: ${done} in ${took} with 0 errors on ${ctime(end)}\n`;
  }
  const issued = issuedBytes(scan, world);
  const elapsed = Math.max(1, Math.floor((world.now - scan.start) / 1000));
  // The metadata scan of a pool this small is through at once: all of it is scanned.
  const total = nicenum(scan.toExamine, true);
  const scanRate = Math.floor(scan.toExamine / elapsed);
  const issueRate = Math.floor(issued / elapsed);
  const processed = scan.func === 'resilver' ? issued : 0;
  let second = `\t${total} / ${total} scanned at ${nicenum(scanRate, true)}/s, ${nicenum(issued, true)} / ${total} issued`;
  if (issueRate > 0) second += ` at ${nicenum(issueRate, true)}/s`;
  const percent = ((100 * issued) / scan.toExamine).toFixed(2);
  let third = `\t${nicenum(processed, true)} ${scan.func === 'resilver' ? 'resilvered' : 'repaired'}, ${percent}% done`;
  const estimable = scan.func === 'resilver' ? processed > 0 : issued > 0;
  if (issueRate >= 10 * 1024 * 1024 && estimable) third += `, ${dhms((scan.toExamine - issued) / issueRate)} to go`;
  else third += ', no estimated completion time';
  return `  scan: ${what} in progress since ${ctime(scan.start)}\n${second}\n${third}\n`;
}

const STATUS_TEXT = {
  resilvering: {
    status:
      'One or more devices is currently being resilvered.  The pool will\n\tcontinue to function, possibly in a degraded state.',
    action: 'Wait for the resilver to complete.',
    see: null,
  },
  missing: {
    status:
      'One or more devices could not be opened.  Sufficient replicas exist for\n\tthe pool to continue functioning in a degraded state.',
    action: "Attach the missing device and online it using 'zpool online'.",
    see: 'ZFS-8000-2Q',
  },
  offline: {
    status:
      'One or more devices has been taken offline by the administrator.\n\tSufficient replicas exist for the pool to continue functioning in a\n\tdegraded state.',
    action: "Online the device using 'zpool online' or replace the device with\n\t'zpool replace'.",
    see: null,
  },
} as const;

/** libzfs_status.c's order: a resilver first, then a missing device, then an offline one. */
function statusReason(pool: ZfsPool, world: ZpoolWorld): keyof typeof STATUS_TEXT | null {
  if (pool.scan?.state === 'scanning' && pool.scan.func === 'resilver') return 'resilvering';
  const leaves = poolLeaves(pool);
  if (leaves.some((leaf) => !leaf.offline && !leafPresent(leaf, world))) return 'missing';
  if (leaves.some((leaf) => leaf.offline)) return 'offline';
  return null;
}

/** One pool's `zpool status`. */
export function renderStatus(pool: ZfsPool, world: ZpoolWorld, options: StatusOptions): string {
  let out = `  pool: ${pool.name}\n state: ${poolState(pool, world)}\n`;
  const reason = statusReason(pool, world);
  if (reason !== null) {
    const text = STATUS_TEXT[reason];
    out += `status: ${text.status}\naction: ${text.action}\n`;
    if (text.see !== null) out += `   see: https://openzfs.github.io/openzfs-docs/msg/${text.see}\n`;
  }
  out += scanLines(pool, world);
  const table = rows(pool, world, options);
  const width = Math.max(10, ...table.map((row) => row.name.length + row.depth));
  // No lab device ever fails a read, a write or a checksum: -p's exact counts are nicenum's.
  const counts = [0, 0, 0].map((count) => ` ${nicenum(count).padStart(5)}`).join('');
  out += `config:\n\n\t${'NAME'.padEnd(width)}  ${'STATE'.padEnd(8)} ${'READ'.padStart(5)} ${'WRITE'.padStart(5)} ${'CKSUM'.padStart(5)}\n`;
  for (const row of table) {
    out += `\t${' '.repeat(row.depth)}${row.name.padEnd(width - row.depth)}  ${row.state.padEnd(8)}${counts}${row.note}\n`;
  }
  return `${out}\nerrors: No known data errors\n`;
}

// --- Finding devices -----------------------------------------------------------------------------

/** The leaf `name` means: its GUID, its path, its name in status, its device now, or the same member. */
function findLeaf(pool: ZfsPool, name: string, world: ZpoolWorld): ZfsLeaf | undefined {
  const resolved = resolveDevice(world.disks, name, world.realpath);
  return poolLeaves(pool).find((leaf) => {
    if (leaf.guid === name || leaf.path === name || stripPath(leaf.path) === name) return true;
    return resolved !== undefined && sameRef(leaf.member, refOf(resolved));
  });
}

function findPool(state: ZfsState, name: string): ZfsPool {
  const pool = state.pools.find((candidate) => candidate.name === name);
  if (!pool) throw new ToolError(`cannot open '${name}': no such pool\n`, EXIT_ERROR);
  return pool;
}

/** A new device for create or replace: a lab disk's partition (or whole disk) in this host, in no pool. */
function newLeaf(state: ZfsState, name: string, force: boolean, world: ZpoolWorld): ZfsLeaf {
  const device = resolveDevice(world.disks, name, world.realpath);
  if (!device) {
    throw new ToolError(
      `cannot open '${name}': no such device in /dev\nmust be a full path or shorthand device name\n`,
      EXIT_ERROR,
    );
  }
  const member = refOf(device);
  const owner = state.pools.find((pool) => poolLeaves(pool).some((leaf) => sameRef(leaf.member, member)));
  if (owner) {
    const how = force
      ? 'the following errors must be manually repaired:'
      : "use '-f' to override the following errors:";
    throw new ToolError(
      `invalid vdev specification\n${how}\n${devicePath(device)} is part of active pool '${owner.name}'\n`,
      EXIT_ERROR,
    );
  }
  // zpool keeps the name it was given, made whole: a shorthand is looked for under /dev, then by-id.
  const inDev = resolveDevice(world.disks, `/dev/${name}`, world.realpath) !== undefined;
  return {
    type: 'disk',
    guid: world.newGuid(),
    path: name.startsWith('/') ? name : inDev ? `/dev/${name}` : `/dev/disk/by-id/${name}`,
    member,
    offline: false,
    sizeBytes: sizeBytes(device),
  };
}

// --- The commands --------------------------------------------------------------------------------

const USAGE: Record<string, string> = {
  create:
    '\tcreate [-fnd] [-o property=value] ... \n\t    [-O file-system-property=value] ... \n\t    [-m mountpoint] [-R root] <pool> <vdev> ...\n',
  status: '\tstatus [-c [script1,script2,...]] [-igLpPstvxD]  [-T d|u] [pool] ... \n\t    [interval [count]]\n',
  offline: '\toffline [-f] [-t] <pool> <device> ...\n',
  online: '\tonline [-e] <pool> <device> ...\n',
  replace: '\treplace [-fsw] [-o property=value] <pool> <device> [new-device]\n',
  detach: '\tdetach <pool> <device>\n',
  scrub: '\tscrub [-s | -p] [-w] [-e] <pool> ...\n',
};

function usage(command: string, why: string): ToolError {
  return new ToolError(`${why}\nusage:\n${USAGE[command] ?? ''}`, EXIT_USAGE);
}

/** Splits `-PLp`-style flags (and -o k=v) from the operands. */
function options(args: string[], withValue: string[] = []): { flags: Set<string>; values: string[]; rest: string[] } {
  const flags = new Set<string>();
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-' || rest.length > 0) {
      rest.push(arg);
      continue;
    }
    for (const [position, flag] of [...arg.slice(1)].entries()) {
      if (withValue.includes(flag)) {
        const attached = arg.slice(position + 2);
        values.push(attached || (args[++i] ?? ''));
        break;
      }
      flags.add(flag);
    }
  }
  return { flags, values, rest };
}

function create(state: ZfsState, args: string[], world: ZpoolWorld): string {
  const { flags, rest } = options(args, ['o', 'O', 'm', 'R']);
  const [name, type, ...devices] = rest;
  if (name === undefined) throw usage('create', 'missing pool name argument');
  if (type === undefined) throw usage('create', 'missing vdev specification');
  if (state.pools.some((pool) => pool.name === name)) {
    throw new ToolError(`cannot create '${name}': pool already exists\n`, EXIT_ERROR);
  }
  const names = type === 'mirror' ? devices : [type, ...devices];
  if (type === 'mirror' && devices.length < 2) {
    throw new ToolError('invalid vdev specification: mirror requires at least 2 devices\n', EXIT_ERROR);
  }
  const leaves = names.map((device) => newLeaf(state, device, flags.has('f'), world));
  const vdevs: ZfsVdev[] = type === 'mirror' ? [{ type: 'mirror', guid: world.newGuid(), children: leaves }] : leaves;
  const smallest = Math.min(...leaves.map((leaf) => leaf.sizeBytes));
  state.pools.push({
    name,
    guid: world.newGuid(),
    createdAt: world.now,
    allocatedBytes: Math.min(ALLOCATED_BYTES, Math.floor(smallest / 2)),
    vdevs,
    scan: null,
  });
  return '';
}

function status(state: ZfsState, args: string[], world: ZpoolWorld): string {
  const { flags, rest } = options(args, ['c', 'T']);
  const opts = { fullPaths: flags.has('P'), followLinks: flags.has('L') };
  const pools = rest.length === 0 ? state.pools : rest.map((name) => findPool(state, name));
  if (pools.length === 0) return 'no pools available\n';
  if (flags.has('x')) {
    const sick = pools.filter((pool) => statusReason(pool, world) !== null || poolState(pool, world) !== 'ONLINE');
    if (sick.length === 0) {
      return rest.length === 0
        ? 'all pools are healthy\n'
        : pools.map((pool) => `pool '${pool.name}' is healthy\n`).join('');
    }
    return sick.map((pool) => renderStatus(pool, world, opts)).join('\n');
  }
  return pools.map((pool) => renderStatus(pool, world, opts)).join('\n');
}

function poolAndDevice(command: string, args: string[], flagsWithValue: string[] = []) {
  const { flags, rest } = options(args, flagsWithValue);
  const [pool, device, ...more] = rest;
  if (pool === undefined)
    throw usage(command, command === 'replace' ? 'missing pool name argument' : 'missing pool name');
  if (device === undefined) {
    throw usage(command, command === 'replace' ? 'missing source device' : 'missing device name');
  }
  return { flags, pool, device, more };
}

/** Whether the pool keeps a whole copy of its data without `leaf` (another side ONLINE in its mirror). */
function hasOtherReplica(pool: ZfsPool, leaf: ZfsLeaf, world: ZpoolWorld): boolean {
  const top = pool.vdevs.find((vdev) => leavesOf(vdev).includes(leaf));
  if (!top || top.type === 'disk') return false;
  const others = top.children.filter((child) => !leavesOf(child).includes(leaf));
  return others.some((child) => vdevState(child, world) === 'ONLINE');
}

function offline(state: ZfsState, args: string[], world: ZpoolWorld): string {
  const { pool: name, device } = poolAndDevice('offline', args);
  const pool = findPool(state, name);
  const leaf = findLeaf(pool, device, world);
  if (!leaf) throw new ToolError(`cannot offline ${device}: no such device in pool\n`, EXIT_ERROR);
  if (!hasOtherReplica(pool, leaf, world)) {
    throw new ToolError(`cannot offline ${device}: no valid replicas\n`, EXIT_ERROR);
  }
  leaf.offline = true;
  return '';
}

function online(state: ZfsState, args: string[], world: ZpoolWorld): string {
  const { pool: name, device } = poolAndDevice('online', args);
  const pool = findPool(state, name);
  const leaf = findLeaf(pool, device, world);
  if (!leaf) throw new ToolError(`cannot online ${device}: no such device in pool\n`, EXIT_ERROR);
  leaf.offline = false;
  if (leafPresent(leaf, world)) return '';
  return `warning: device '${device}' onlined, but remains in faulted state\nuse 'zpool replace' to replace devices that are no longer present\n`;
}

function replace(state: ZfsState, args: string[], world: ZpoolWorld): void {
  const { flags, pool: name, device: oldName, more } = poolAndDevice('replace', args, ['o']);
  const newName = more[0] ?? oldName;
  const pool = findPool(state, name);
  const old = findLeaf(pool, oldName, world);
  const cannot = `cannot replace ${oldName} with ${newName}`;
  if (!old) throw new ToolError(`${cannot}: no such device in pool\n`, EXIT_ERROR);
  if (isResilvering(pool, old) || pool.vdevs.some((vdev) => inReplacingAsOld(vdev, old))) {
    throw new ToolError(`${cannot}: cannot replace a replacing device\n`, EXIT_ERROR);
  }
  const leaf = newLeaf(state, newName, flags.has('f'), world);
  if (leaf.sizeBytes < old.sizeBytes) throw new ToolError(`${cannot}: device is too small\n`, EXIT_ERROR);
  const swap = (vdev: ZfsVdev): ZfsVdev => {
    if (vdev === old) return { type: 'replacing', guid: world.newGuid(), children: [old, leaf] };
    return vdev.type === 'disk' ? vdev : { ...vdev, children: vdev.children.map(swap) };
  };
  pool.vdevs = pool.vdevs.map(swap);
  pool.scan = { func: 'resilver', state: 'scanning', start: world.now, end: null, toExamine: pool.allocatedBytes };
}

function inReplacingAsOld(vdev: ZfsVdev, leaf: ZfsLeaf): boolean {
  if (vdev.type === 'disk') return false;
  if (vdev.type === 'replacing' && vdev.children.slice(0, -1).includes(leaf)) return true;
  return vdev.children.some((child) => inReplacingAsOld(child, leaf));
}

function detach(state: ZfsState, args: string[], world: ZpoolWorld): void {
  const { pool: name, device } = poolAndDevice('detach', args);
  const pool = findPool(state, name);
  const leaf = findLeaf(pool, device, world);
  if (!leaf) throw new ToolError(`cannot detach ${device}: no such device in pool\n`, EXIT_ERROR);
  const parentOf = (vdevs: ZfsVdev[]): ZfsGroup | undefined => {
    for (const vdev of vdevs) {
      if (vdev.type === 'disk') continue;
      if (vdev.children.includes(leaf)) return vdev;
      const found = parentOf(vdev.children);
      if (found) return found;
    }
    return undefined;
  };
  const parent = parentOf(pool.vdevs);
  if (!parent) {
    throw new ToolError(`cannot detach ${device}: only applicable to mirror and replacing vdevs\n`, EXIT_ERROR);
  }
  const others = parent.children.filter((child) => child !== leaf);
  if (!others.some((child) => vdevState(child, world) === 'ONLINE' || vdevState(child, world) === 'DEGRADED')) {
    throw new ToolError(`cannot detach ${device}: no valid replicas\n`, EXIT_ERROR);
  }
  parent.children = others;
  // A mirror or a replacing-N left with one device is that device.
  const collapse = (vdev: ZfsVdev): ZfsVdev => {
    if (vdev.type === 'disk') return vdev;
    const children = vdev.children.map(collapse);
    return children.length === 1 && children[0] ? children[0] : { ...vdev, children };
  };
  pool.vdevs = pool.vdevs.map(collapse);
  if (pool.scan?.state === 'scanning' && pool.scan.func === 'resilver' && !pool.vdevs.some(hasReplacing)) {
    pool.scan = { ...pool.scan, state: 'finished', end: world.now, toExamine: issuedBytes(pool.scan, world) };
  }
}

function hasReplacing(vdev: ZfsVdev): boolean {
  return vdev.type !== 'disk' && (vdev.type === 'replacing' || vdev.children.some(hasReplacing));
}

function scrub(state: ZfsState, args: string[], world: ZpoolWorld): void {
  const { flags, rest } = options(args);
  const [name] = rest;
  if (name === undefined) throw usage('scrub', 'missing pool name argument');
  const pool = findPool(state, name);
  const running = pool.scan?.state === 'scanning' ? pool.scan : null;
  if (flags.has('s')) {
    if (running?.func !== 'scrub')
      throw new ToolError(`cannot cancel scrubbing ${name}: there is no active scrub\n`, EXIT_ERROR);
    pool.scan = { ...running, state: 'canceled', end: world.now };
    return;
  }
  if (running?.func === 'resilver') throw new ToolError(`cannot scrub ${name}: currently resilvering\n`, EXIT_ERROR);
  if (running?.func === 'scrub') {
    throw new ToolError(
      `cannot scrub ${name}: currently scrubbing; use 'zpool scrub -s' to cancel scrub\n`,
      EXIT_ERROR,
    );
  }
  pool.scan = { func: 'scrub', state: 'scanning', start: world.now, end: null, toExamine: pool.allocatedBytes };
}

function list(state: ZfsState): string {
  return state.pools.map((pool) => `${pool.name}\n`).join('');
}

/** One run of zpool on `state` (changed in place): what it prints, its exit status. */
export function zpool(state: ZfsState, argv: string[], world: ZpoolWorld): ToolOutput {
  state.pools.forEach((pool) => advance(pool, world));
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'create':
        return { stdout: create(state, args, world), stderr: '', code: 0 };
      case 'status':
        return { stdout: status(state, args, world), stderr: '', code: 0 };
      case 'offline':
        return { stdout: offline(state, args, world), stderr: '', code: 0 };
      case 'online':
        return { stdout: online(state, args, world), stderr: '', code: 0 };
      case 'replace':
        replace(state, args, world);
        return { stdout: '', stderr: '', code: 0 };
      case 'detach':
        detach(state, args, world);
        return { stdout: '', stderr: '', code: 0 };
      case 'scrub':
        scrub(state, args, world);
        return { stdout: '', stderr: '', code: 0 };
      case 'list':
        return { stdout: list(state), stderr: '', code: 0 };
      case undefined:
        return { stdout: '', stderr: 'usage: zpool command args ...\n', code: EXIT_USAGE };
      default:
        return { stdout: '', stderr: `unrecognized command '${command}'\n`, code: EXIT_USAGE };
    }
  } catch (error) {
    if (error instanceof ToolError) return { stdout: '', stderr: error.stderr, code: error.code };
    throw error;
  }
}

// --- A member's labels -----------------------------------------------------------------------------

const LABEL_SIZE = 256 * 1024;
const LABEL_NVLIST = 16 * 1024;
const LABEL_UBERBLOCKS = 128 * 1024;
const UBERBLOCK_MAGIC = 0x00bab10cn;
const SPA_VERSION = 5000n;
/** ashift 12: an uberblock slot is 4 KiB; the first four are written. */
const UBERBLOCK_SLOT = 4096;
const DATA_TYPE_UINT64 = 8;
const DATA_TYPE_STRING = 9;

/** One XDR nvpair (libnvpair's nvs_xdr: encoded size, decoded size, name, type, count, value). */
function nvpair(name: string, value: bigint | string): Buffer {
  const padded = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const out = Buffer.alloc(4 + Math.ceil(bytes.length / 4) * 4);
    out.writeUInt32BE(bytes.length, 0);
    bytes.copy(out, 4);
    return out;
  };
  const head = Buffer.alloc(8);
  head.writeUInt32BE(typeof value === 'string' ? DATA_TYPE_STRING : DATA_TYPE_UINT64, 0);
  head.writeUInt32BE(1, 4);
  const data = typeof value === 'string' ? padded(value) : Buffer.alloc(8);
  if (typeof value !== 'string') data.writeBigUInt64BE(value, 0);
  const body = Buffer.concat([padded(name), head, data]);
  const sizes = Buffer.alloc(8);
  sizes.writeUInt32BE(body.length + 8, 0);
  sizes.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([sizes, body]);
}

/**
 * The parts of the four labels ZFS writes on a member (vdev_label.c: two at its start, two at its
 * end, 256 KiB each, on 256 KiB boundaries) that say what it is: the label's XDR nvlist (version,
 * name, state, txg, pool_guid, guid) at 16 KiB and uberblocks (magic 0x00bab10c) at 128 KiB, what
 * blkid reads as `zfs_member` of the pool. Offsets from the member's first byte.
 */
export function zfsLabels(pool: ZfsPool, leaf: ZfsLeaf, sizeBytes: number): { offset: number; bytes: Buffer }[] {
  const header = Buffer.from([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const pairs = [
    nvpair('version', SPA_VERSION),
    nvpair('name', pool.name),
    nvpair('state', 0n),
    nvpair('txg', 4n),
    nvpair('pool_guid', BigInt(pool.guid)),
    nvpair('guid', BigInt(leaf.guid)),
  ];
  const nvlist = Buffer.concat([header, ...pairs, Buffer.alloc(8)]);
  const uberblocks = Buffer.alloc(4 * UBERBLOCK_SLOT);
  for (let slot = 0; slot < 4; slot++) {
    const at = slot * UBERBLOCK_SLOT;
    uberblocks.writeBigUInt64LE(UBERBLOCK_MAGIC, at);
    uberblocks.writeBigUInt64LE(SPA_VERSION, at + 8);
    uberblocks.writeBigUInt64LE(BigInt(slot + 1), at + 16);
    uberblocks.writeBigUInt64LE(BigInt(Math.floor(pool.createdAt / 1000)), at + 32);
  }
  const end = sizeBytes - (sizeBytes % LABEL_SIZE);
  return [0, LABEL_SIZE, end - 2 * LABEL_SIZE, end - LABEL_SIZE].flatMap((label) => [
    { offset: label + LABEL_NVLIST, bytes: nvlist },
    { offset: label + LABEL_UBERBLOCKS, bytes: uberblocks },
  ]);
}

/** A GUID as ZFS draws them: 64 random bits, printed in decimal. */
export function randomGuid(): string {
  return randomBytes(8).readBigUInt64BE().toString();
}

/** What zpool writes on a new member (create, replace): its labels. */
function writeLabels(state: ZfsState, known: Set<string>, world: ZpoolWorld): void {
  for (const pool of state.pools) {
    for (const leaf of poolLeaves(pool)) {
      const device = deviceOf(world.disks, leaf.member);
      if (known.has(leaf.guid) || !device) continue;
      const fd = openSync(devicePath(device), 'r+');
      try {
        for (const { offset, bytes } of zfsLabels(pool, leaf, sizeBytes(device)))
          writeSync(fd, bytes, 0, undefined, offset);
      } finally {
        closeSync(fd);
      }
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const world: ZpoolWorld = {
    now: Date.now(),
    disks: await hostDisks(),
    rates: readRates(),
    realpath: realpathOrUndefined,
    newGuid: randomGuid,
  };
  const { state, known, output } = withState<ZfsState, { state: ZfsState; known: Set<string>; output: ToolOutput }>(
    ZFS_STATE,
    { pools: [] },
    (state) => {
      const known = new Set(state.pools.flatMap(poolLeaves).map((leaf) => leaf.guid));
      return { state, known, output: zpool(state, argv, world) };
    },
  );
  writeLabels(state, known, world);
  process.stdout.write(output.stdout);
  process.stderr.write(output.stderr);
  return output.code;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
