// What the lab adds to a Ceph host for the stand-ins of tools that cannot run here (systemctl,
// lsblk's disk identities): the supervisor that runs the Ceph daemons in the foreground, as
// systemd would, and the registry of the lab's disks. No Ceph or systemd source here: this is the
// lab's side of the stand-ins (systemctl.ts and lsblk.ts use it).
//
// The supervisor binds its directory at CEPH_LAB_MOUNT on the Ceph hosts of a Ceph lab: its
// control socket, and disks.json, the list of every disk of the lab (LabDisk, control.ts), which
// the supervisor alone rewrites (by rename: a reader never sees half of it).
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import type { CephRequest, ControlResponse, LabDisk } from '../control.js';

export const CEPH_LAB_MOUNT = '/var/lib/chaton-lab/ceph-lab';
export const CEPH_LAB_SOCKET = `${CEPH_LAB_MOUNT}/control.sock`;
export const CEPH_LAB_DISKS = `${CEPH_LAB_MOUNT}/disks.json`;

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
export async function cephLabRequest(request: CephRequest): Promise<ControlResponse | undefined> {
  const socket = createConnection(CEPH_LAB_SOCKET).setEncoding('utf8');
  try {
    await Promise.race([once(socket, 'connect'), once(socket, 'error').then(([error]) => Promise.reject(error))]);
  } catch {
    socket.destroy();
    return undefined;
  }
  socket.end(`${JSON.stringify(request)}\n`);
  let answer = '';
  for await (const chunk of socket) answer += chunk;
  const [line] = answer.split('\n');
  if (!line) throw new Error(`lab supervisor: no answer to ${request.op}`);
  return JSON.parse(line) as ControlResponse;
}
