// The operator's hands in a disk swap on a Ceph lab (README: Ceph), for the bench and the demo that
// run `chaton disk swap`: the new disk's serial, read off its label before it goes in (for
// --new-device), and, once the OSD is destroyed, the old disk pulled and the new one inserted.
import type { Lab, LabDisk } from './lab.js';

/** How often the hands look whether the OSD is destroyed yet (one `ceph osd tree`). */
const LOOK_MS = 1000;
/** The hands' `ceph`, by its path: a bench counts the commands of chaton's that go through PATH. */
const CEPH = '/usr/bin/ceph';

/** The lab disk under an OSD, from what the OSD itself reported (`ceph osd metadata`, its `devices`). */
export async function osdDisk(lab: Lab, host: string, osd: number): Promise<LabDisk> {
  const result = await lab.run(host, [CEPH, 'osd', 'metadata', String(osd), '-f', 'json']);
  if (result.exitCode !== 0) throw new Error(`ceph osd metadata ${osd}: ${result.stderr.trim()}`);
  const { devices } = JSON.parse(result.stdout) as { devices: string };
  const disk = (await lab.disks()).find((candidate) => candidate.host === host && candidate.device === devices);
  if (!disk) throw new Error(`osd.${osd} is on ${devices}, no lab disk of ${host}`);
  return disk;
}

/** The new disk's serial, as its label says: a serial the lab has never seen makes a new disk. */
export const NEW_DISK_SERIAL = 'S3Z9NB0K654321';

async function destroyed(lab: Lab, host: string, osd: number): Promise<boolean> {
  const result = await lab.run(host, [CEPH, 'osd', 'tree', '-f', 'json']);
  if (result.exitCode !== 0) return false;
  const { nodes } = JSON.parse(result.stdout) as { nodes: { id: number; status?: string }[] };
  return nodes.find((node) => node.id === osd)?.status === 'destroyed';
}

/**
 * Waits until `osd` is destroyed (`ceph osd tree`), then pulls the old disk and inserts the new one;
 * when the instant it was inserted (Date.now()), or undefined when `signal` ended the wait first.
 */
export async function swapWhenDestroyed(
  lab: Lab,
  swap: { host: string; osd: number; oldSerial: string; newSerial: string },
  signal: AbortSignal,
): Promise<number | undefined> {
  while (!signal.aborted) {
    if (await destroyed(lab, swap.host, swap.osd)) {
      await lab.diskPull(swap.host, swap.oldSerial);
      await lab.diskInsert(swap.host, { serial: swap.newSerial });
      return Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, LOOK_MS));
  }
  return undefined;
}
