// What the storage stand-ins (zpool, mdadm, proxmox-boot-tool, grub-install) share: their state files
// in the host's own /var (its overlay: each host has its pools and arrays), the rates a resilver and
// a resync go at (set by the lab, `lab.setStorageRates`), and the C library's ctime, which both
// zpool and mdadm print. No tool's source here but glibc's ctime format ("%a %b %e %H:%M:%S %Y").
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabDisk } from '../control.js';
import { DISK_LAB_MOUNT } from './lab-disk-map.js';

export const STORAGE_STATE_DIR = '/var/lib/chaton-lab/storage';
export const ZFS_STATE = `${STORAGE_STATE_DIR}/zfs.json`;
export const MD_STATE = `${STORAGE_STATE_DIR}/md.json`;
export const BOOT_STATE = `${STORAGE_STATE_DIR}/boot.json`;
export const STORAGE_RATES = `${DISK_LAB_MOUNT}/storage-rates.json`;

/** How fast a resilver (zpool) and a resync or recovery (md) write, bytes per second. */
export interface StorageRates {
  resilverBytesPerSecond: number;
  syncBytesPerSecond: number;
}

const DEFAULT_RATE = 64 * 1024 * 1024;

export function readRates(file = STORAGE_RATES): StorageRates {
  const set = readJson<Partial<StorageRates>>(file, {});
  return {
    resilverBytesPerSecond: set.resilverBytesPerSecond ?? DEFAULT_RATE,
    syncBytesPerSecond: set.syncBytesPerSecond ?? DEFAULT_RATE,
  };
}

/** The JSON in `file`, or a copy of `empty` when there is none yet. */
export function readJson<T>(file: string, empty: T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return structuredClone(empty);
  }
  return JSON.parse(text) as T;
}

/** By rename: a reader never sees half of it. */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.new`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.new`, file);
}

/** What a stand-in's run printed, and its exit status. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A refusal: what the real tool prints on stderr, and its exit status. */
export class ToolError extends Error {
  constructor(
    readonly stderr: string,
    readonly code: number,
  ) {
    super(stderr);
  }
}

const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a run that was killed (a run holds it for well under a second). */
const STALE_LOCK_MS = 30_000;

/**
 * Runs `change` on the state in `file` under its lock (a directory beside it: a status polled while
 * a replace runs must not write back what it read before the replace), and writes the state back
 * when it changed.
 */
export function withState<T, R>(file: string, empty: T, change: (state: T) => R): R {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock}: held for more than ${LOCK_WAIT_MS / 1000} s`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    const state = readJson(file, empty);
    const before = JSON.stringify(state);
    const result = change(state);
    if (JSON.stringify(state) !== before) writeJson(file, state);
    return result;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** What a run of a stand-in's logic sees of the world: the time, this host's disks. */
export interface StorageWorld {
  /** ms since the epoch. */
  now: number;
  /** The lab disks in this host now. */
  disks: LabDisk[];
  /** Follows a link (by-uuid, by-partuuid...): undefined when nothing is there. */
  realpath: (path: string) => string | undefined;
}

/** The world of a tool whose resilver or resync goes on over time. */
export interface SyncingWorld extends StorageWorld {
  rates: StorageRates;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) without its newline, in the host's time zone: "Mon Jan 16 14:37:35 2023". */
export function ctime(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${date.getFullYear()}`
  );
}
