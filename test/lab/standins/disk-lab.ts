// What the lab adds to a host of role `disks` (pve1-3 and backup, in a lab brought up with --disks or
// --ceph) for the stand-ins of tools that read disks (lsblk, smartctl, ledctl, ceph-volume, zpool,
// mdadm...): the registry of the lab's disks and the supervisor that inserts, pulls and rescans them
// (test/lab/disks.ts). No tool's source here: this is the lab's side of the stand-ins.
//
// The supervisor binds its directory at DISK_LAB_MOUNT on those hosts: its control socket;
// disks.json, the list of every disk of the lab (LabDisk, control.ts), which the supervisor alone
// rewrites (by rename: a reader never sees half of it); leds/, the locate LEDs the ledctl stand-in
// lights; storage-rates.json, how fast a resilver or resync goes (storage-state.ts, `lab.setStorageRates`).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { ControlResponse, DiskRequest, LabDisk } from '../control.js';
import { labRequest } from './lab-socket.js';

export const DISK_LAB_MOUNT = '/var/lib/chaton-lab/disk-lab';
export const DISK_LAB_SOCKET = `${DISK_LAB_MOUNT}/control.sock`;
export const DISK_LAB_DISKS = `${DISK_LAB_MOUNT}/disks.json`;
/** The ledctl stand-in's locate LEDs: a file per lit disk, named after its serial. */
export const DISK_LAB_LEDS = `${DISK_LAB_MOUNT}/leds`;

/** The lab's disks; none outside a lab with disks. */
export async function readDisks(file = DISK_LAB_DISKS): Promise<LabDisk[]> {
  const raw = await readFile(file, 'utf8').catch(() => undefined);
  return raw === undefined ? [] : (JSON.parse(raw) as LabDisk[]);
}

/** The disks in this host now. */
export async function hostDisks(): Promise<LabDisk[]> {
  const host = hostname();
  return (await readDisks()).filter((disk) => disk.host === host && disk.state === 'inserted');
}

/** One request to the supervisor; undefined when this host has none to ask (no lab disks). */
export function diskLabRequest(request: DiskRequest): Promise<ControlResponse | undefined> {
  return labRequest(DISK_LAB_SOCKET, request);
}
