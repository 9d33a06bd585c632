// The changes a disk swap makes to a Ceph cluster (issue 14), as builders: token lists, no I/O.
// Each is safe to run again (Ceph answers "already" with exit 0), which the journal relies on: a
// step found started is run again rather than guessed. Sources: Ceph's docs, "Replacing an OSD"
// (rados/operations/add-or-rm-osds.rst: destroy keeps the id, `ceph-volume lvm create --osd-id`),
// src/mon/OSDMonitor.cc (add-noout and rm-noout, out, destroy, new, purge-new), and
// ceph-volume's devices/lvm/zap.py (--destroy) and create.py (--osd-id, rollback_osd); real
// outputs of the lab's Pacific in test/unit/fixtures/ceph/. `osd purge-new` (the rollback) leaves
// nothing of the OSD: no CRUSH entry, class, key or noout (tried on the lab, Ceph 16.2.15).
import { parseOwnerLine } from '../remote/host-lock.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import type { CrushNode, OsdTree } from './facts.js';
import { bucketOf } from './facts.js';
import { type Said, said } from './messages.js';

const osdName = (osd: number) => `osd.${osd}`;

/** `noout` on this OSD only: the cluster's other OSDs are still marked out when they fail. */
export const addNoout = (osd: number): RemoteCommand => command('ceph', 'osd', 'add-noout', osdName(osd));
export const removeNoout = (osd: number): RemoteCommand => command('ceph', 'osd', 'rm-noout', osdName(osd));
/** Out: its data moves to the other OSDs while it still serves it (no degraded window). */
export const markOut = (osd: number): RemoteCommand => command('ceph', 'osd', 'out', String(osd));
/** In: a recreated OSD that came up out (mon_osd_auto_mark_new_in off) takes its data back. */
export const markIn = (osd: number): RemoteCommand => command('ceph', 'osd', 'in', String(osd));
/** The daemon, as Proxmox and ceph-volume name its unit. */
export const stopDaemon = (osd: number): RemoteCommand => command('systemctl', 'stop', `ceph-osd@${osd}`);
/** Destroyed, not purged: its id, CRUSH position and device class wait for the new disk. */
export const destroyOsd = (osd: number): RemoteCommand =>
  command('ceph', 'osd', 'destroy', osdName(osd), '--yes-i-really-mean-it');
/** Wipes what an old life left on the new disk: LVM volumes and groups, partitions, signatures. */
export const zapDevice = (device: string): RemoteCommand => command('ceph-volume', 'lvm', 'zap', '--destroy', device);
/**
 * A BlueStore OSD on the whole device with the destroyed OSD's id. ceph-volume, not `pveceph osd
 * create`, which never takes an id (pve-manager PVE/API2/Ceph/OSD.pm).
 */
export const createOsd = (osd: number, device: string): RemoteCommand =>
  command('ceph-volume', 'lvm', 'create', '--bluestore', '--osd-id', String(osd), '--data', device);

/**
 * What ceph-volume's rollback took (`osd purge-new` after a failed create): the OSD's entry, its
 * CRUSH position and its device class. Put back as they were, then destroyed again, so that the
 * next `lvm create --osd-id` reuses the id in the same place. Its uuid is a new one: the entry's
 * old uuid went with the old disk. (`osd new` without keys makes an entry no daemon can use.)
 */
export interface DestroyedEntry {
  osd: number;
  host: string;
  crushWeight: number;
  deviceClass: string | null;
}

/** The entry of a destroyed (or about to be destroyed) OSD, from the tree; undefined when it is not in one. */
export function destroyedEntry(tree: OsdTree, osd: number): DestroyedEntry | undefined {
  const node = tree.nodes.find((n) => n.type === 'osd' && n.id === osd);
  const host = bucketOf(tree, osd);
  if (node === undefined || host === undefined) return undefined;
  return { osd, host: host.name, crushWeight: node.crushWeight ?? 0, deviceClass: node.deviceClass ?? null };
}

/**
 * Out before its CRUSH entry: `osd new` makes it in, and an in OSD with a place in CRUSH takes PGs
 * at once (tried on the lab: a PG stayed peering 82 s). purge-new also took the swap's noout.
 */
export function restoreEntry(entry: DestroyedEntry, uuid: string): RemoteCommand[] {
  const name = osdName(entry.osd);
  return [
    command('ceph', 'osd', 'new', uuid, String(entry.osd)),
    markOut(entry.osd),
    command('ceph', 'osd', 'crush', 'add', name, String(entry.crushWeight), `host=${entry.host}`),
    ...(entry.deviceClass === null
      ? []
      : [command('ceph', 'osd', 'crush', 'set-device-class', entry.deviceClass, name)]),
    addNoout(entry.osd),
    destroyOsd(entry.osd),
  ];
}

/** The OSD's node in the tree, undefined when it has none (purged). */
export function osdNode(tree: OsdTree, osd: number): CrushNode | undefined {
  return tree.nodes.find((n) => n.type === 'osd' && n.id === osd) ?? tree.stray.find((n) => n.id === osd);
}

// --- The cluster's lock: one swap at a time -------------------------------------------------------

/** In the monitors' key store: every node of the cluster sees it, whoever runs chaton where. */
export const LOCK_KEY = 'chaton/disk-swap/lock';

export interface SwapLock {
  /** The owner line of the run that took it (operator, pid, since). */
  owner: string;
  host: string;
  osd: number;
  /** The journal's start time: the operation it protects, across runs that resume it. */
  operation: string;
}

export const setLock = (lock: SwapLock): RemoteCommand =>
  command('ceph', 'config-key', 'set', LOCK_KEY, JSON.stringify(lock));
export const removeLock = (): RemoteCommand => command('ceph', 'config-key', 'rm', LOCK_KEY);

/** The lock's value; a value that is not one of chaton's locks is still a lock, of someone else. */
export function parseLock(text: string): SwapLock | { foreign: string } {
  try {
    const value = JSON.parse(text) as Partial<SwapLock>;
    if (
      typeof value.owner === 'string' &&
      typeof value.host === 'string' &&
      typeof value.osd === 'number' &&
      typeof value.operation === 'string'
    ) {
      return { owner: value.owner, host: value.host, osd: value.osd, operation: value.operation };
    }
  } catch {
    // Not JSON: someone else's value under chaton's key, said as it is.
  }
  return { foreign: text.trim().slice(0, 200) };
}

export type LockDecision = { take: true } | { take: false; said: Said; sameOperation: boolean };

/**
 * May this run take the cluster's lock? Free, or already this operation's and its run gone: yes.
 * A run is known gone only when it was this operator's chaton on this machine (`gone`); from
 * elsewhere (another laptop, or alive) only --resume takes the lock over, and only for the same
 * operation: a lock of another OSD's swap is never taken.
 */
export function judgeLock(
  found: SwapLock | { foreign: string } | undefined,
  mine: Omit<SwapLock, 'owner'>,
  options: { resume: boolean; gone: (owner: string) => boolean },
): LockDecision {
  if (found === undefined) return { take: true };
  if ('foreign' in found)
    return { take: false, sameOperation: false, said: said('lockForeign', LOCK_KEY, found.foreign) };
  const holder = parseOwnerLine(found.owner);
  const who = holder ? `${holder.operator} (pid ${holder.pid})` : found.owner;
  const since = holder?.since.toISOString() ?? '?';
  const same = found.host === mine.host && found.osd === mine.osd && found.operation === mine.operation;
  if (same && (options.resume || options.gone(found.owner))) return { take: true };
  if (same)
    return { take: false, sameOperation: true, said: said('lockSameOperation', found.osd, found.host, who, since) };
  return {
    take: false,
    sameOperation: false,
    said: said('lockOtherSwap', found.osd, found.host, who, since, LOCK_KEY),
  };
}
