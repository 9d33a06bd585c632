// The operator's hands in a disk swap on the lab's mirrors (README: Disks, ZFS and mdadm), for the
// tests and the demo that run `chaton disk swap --zfs/--md`: once the old disk is out of its pool
// or array, it is pulled and another one inserted (a new serial, or the old disk put back).
import type { Lab } from './lab.js';

/** How often the hands look whether the disk is out yet (one zpool status or mdadm --detail). */
const LOOK_MS = 300;

/** The current /dev name of a partition of a lab disk ("/dev/loop3p3"), or undefined when it is not in. */
export async function partitionPath(lab: Lab, serial: string, number: number): Promise<string | undefined> {
  const disk = (await lab.disks()).find((d) => d.serial === serial && d.state === 'inserted');
  return disk?.device ? `/dev/${disk.device}p${number}` : undefined;
}

/** Whether the disk's rpool member (partition 3, as the installer makes it) is OFFLINE. */
export async function zfsMemberOffline(lab: Lab, host: string, serial: string): Promise<boolean> {
  const member = await partitionPath(lab, serial, 3);
  const status = await lab.run(host, ['zpool', 'status', '-P', '-L', 'rpool']);
  return member !== undefined && new RegExp(`^\\s+${member}\\s+OFFLINE\\b`, 'm').test(status.stdout);
}

/** Whether md0 no longer lists the disk's member (partition 2): failed and removed. */
export async function mdMemberRemoved(lab: Lab, host: string, serial: string): Promise<boolean> {
  const member = await partitionPath(lab, serial, 2);
  const detail = await lab.run(host, ['mdadm', '--detail', '/dev/md0']);
  return member !== undefined && detail.exitCode === 0 && !detail.stdout.includes(member);
}

/**
 * Waits until `out()` says the old disk is out of its pool or array, then pulls it and inserts
 * `insert` (a new serial, of `sizeGiB`; or a pulled disk put back); true once done, false when `signal` ended the wait first.
 */
export async function swapWhenOut(
  lab: Lab,
  swap: { host: string; oldSerial: string; insert: { serial: string; sizeGiB?: number }; out: () => Promise<boolean> },
  signal: AbortSignal,
): Promise<boolean> {
  while (!signal.aborted) {
    if (await swap.out()) {
      await lab.diskPull(swap.host, swap.oldSerial);
      await lab.diskInsert(swap.host, swap.insert);
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOOK_MS));
  }
  return false;
}
