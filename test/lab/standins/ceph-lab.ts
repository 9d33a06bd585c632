// What the lab adds to a Ceph host for the stand-ins of tools that cannot run here (systemctl,
// lsblk's disk identities, ledctl): the supervisor that runs the Ceph daemons in the foreground, as
// systemd would, and the registry of the lab's disks. No Ceph or systemd source here: this is the
// lab's side of the stand-ins (systemctl.ts, lsblk.ts and ceph-volume.ts use it).
//
// The supervisor binds its directory at CEPH_LAB_MOUNT on the Ceph hosts of a Ceph lab: its
// control socket; disks.json, the list of every disk of the lab (LabDisk, control.ts), which
// the supervisor alone rewrites (by rename: a reader never sees half of it); leds/, the locate
// LEDs the ledctl stand-in lights; and ceph-faults.json, the faults file (faults-file.ts) of
// CephFaults, set by the lab API, consumed by the stand-ins.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { CephRequest, ControlResponse, LabDisk } from '../control.js';
import { labRequest } from './lab-socket.js';

export const CEPH_LAB_MOUNT = '/var/lib/chaton-lab/ceph-lab';
export const CEPH_LAB_SOCKET = `${CEPH_LAB_MOUNT}/control.sock`;
export const CEPH_LAB_DISKS = `${CEPH_LAB_MOUNT}/disks.json`;
export const CEPH_LAB_FAULTS = `${CEPH_LAB_MOUNT}/ceph-faults.json`;

/** What a Ceph lab's stand-ins get wrong on purpose (`lab.setCephFaults`, CLI `ceph-faults`). */
export interface CephFaults {
  /**
   * The next N `ceph-volume lvm create` runs, on any host, fail in `raw activate` after `raw prepare`
   * registered the OSD, so that lvm create's rollback (`osd purge-new`) runs (ceph-volume.ts).
   */
  cephVolumeFailActivate?: number;
}
/** The ledctl stand-in's locate LEDs: a file per lit disk, named after its serial. */
export const CEPH_LAB_LEDS = `${CEPH_LAB_MOUNT}/leds`;

/** The lab's disks; none outside a Ceph lab. */
export async function readDisks(file = CEPH_LAB_DISKS): Promise<LabDisk[]> {
  const raw = await readFile(file, 'utf8').catch(() => undefined);
  return raw === undefined ? [] : (JSON.parse(raw) as LabDisk[]);
}

/** The disks in this host now. */
export async function hostDisks(): Promise<LabDisk[]> {
  const host = hostname();
  return (await readDisks()).filter((disk) => disk.host === host && disk.state === 'inserted');
}

/** One request to the supervisor; undefined when this host has none to ask (no Ceph lab). */
export function cephLabRequest(request: CephRequest): Promise<ControlResponse | undefined> {
  return labRequest(CEPH_LAB_SOCKET, request);
}
