// What the lab adds to a Ceph host for the stand-ins of tools that cannot run here (systemctl,
// ceph-volume's faults): the supervisor that runs the Ceph daemons in the foreground, as systemd
// would. No Ceph or systemd source here: this is the lab's side of the stand-ins (systemctl.ts and
// ceph-volume.ts use it). The lab's disks are disk-lab.ts's.
//
// The supervisor binds its directory at CEPH_LAB_MOUNT on the Ceph hosts of a Ceph lab: its
// control socket, and ceph-faults.json, the faults file (faults-file.ts) of CephFaults, set by the
// lab API, consumed by the stand-ins.
import type { CephRequest, ControlResponse } from '../control.js';
import { labRequest } from './lab-socket.js';

export const CEPH_LAB_MOUNT = '/var/lib/chaton-lab/ceph-lab';
export const CEPH_LAB_SOCKET = `${CEPH_LAB_MOUNT}/control.sock`;
export const CEPH_LAB_FAULTS = `${CEPH_LAB_MOUNT}/ceph-faults.json`;

/** What a Ceph lab's stand-ins get wrong on purpose (`lab.setCephFaults`, CLI `ceph-faults`). */
export interface CephFaults {
  /**
   * The next N `ceph-volume lvm create` runs, on any host, fail in `raw activate` after `raw prepare`
   * registered the OSD, so that lvm create's rollback (`osd purge-new`) runs (ceph-volume.ts).
   */
  cephVolumeFailActivate?: number;
}

/** One request to the supervisor; undefined when this host has none to ask (no Ceph lab). */
export function cephLabRequest(request: CephRequest): Promise<ControlResponse | undefined> {
  return labRequest(CEPH_LAB_SOCKET, request);
}
