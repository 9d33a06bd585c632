// Which labs exist. INDEX_DIR holds one symlink per lab, named by its index and pointing at its
// name: creating a symlink is atomic, so parallel `up`s never get the same index. A lab's state
// directory is created before its index and removed after it, so an index always has one.
import { mkdir, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { detachLoopDevices } from './disks.js';
import { ifExists } from './if-exists.js';
import {
  blackholeDocumentationRanges,
  blackholeLabRange,
  destroyLabNetwork,
  removeDocumentationRangeBlackholes,
  removeLabRangeBlackhole,
} from './network.js';
import { findSupervisor, signalProcess, waitForExit } from './processes.js';
import { INDEX_DIR, LAB_ROOT, LabPreconditionError, labPaths, MAX_LABS, type LabConfig } from './topology.js';

export interface LabEntry {
  index: number;
  name: string;
}

function indexLink(index: number): string {
  return join(INDEX_DIR, String(index));
}

export async function listLabs(): Promise<LabEntry[]> {
  const entries = (await ifExists(readdir(INDEX_DIR))) ?? [];
  const labs = await Promise.all(
    entries.map(async (entry) => {
      const name = await ifExists(readlink(indexLink(Number(entry)))); // gone if that lab just went down
      return name === undefined ? [] : [{ index: Number(entry), name }];
    }),
  );
  return labs.flat().sort((a, b) => a.index - b.index);
}

async function findLabIndex(name: string): Promise<number | undefined> {
  return (await listLabs()).find((lab) => lab.name === name)?.index;
}

/** The lowest free index, taken for `name`; the lab range (and a wan lab's) is blackholed from then on. */
export async function allocateIndex(name: string, wan: boolean): Promise<number> {
  await mkdir(INDEX_DIR, { recursive: true });
  for (let index = 0; index < MAX_LABS; index++) {
    try {
      await symlink(name, indexLink(index));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await blackholeLabRange();
    if (wan) await blackholeDocumentationRanges();
    return index;
  }
  throw new LabPreconditionError(`all ${MAX_LABS} lab indexes are in use (see \`status\`)`);
}

/** A lab whose configuration is not written yet (starting) may be one: its ranges stay blackholed. */
async function mayBeWanLab({ name }: LabEntry): Promise<boolean> {
  const config = await ifExists(readFile(labPaths(name).configFile, 'utf8'));
  try {
    return config === undefined || (JSON.parse(config) as LabConfig).wan === true;
  } catch {
    return true; // being written
  }
}

async function anyWanLab(): Promise<boolean> {
  return (await Promise.all((await listLabs()).map(mayBeWanLab))).some(Boolean);
}

async function releaseIndex(index: number): Promise<void> {
  await rm(indexLink(index), { force: true });
  // As for the lab range below: a wan lab that came meanwhile is seen by the second look.
  if (!(await anyWanLab())) {
    await removeDocumentationRangeBlackholes();
    if (await anyWanLab()) await blackholeDocumentationRanges();
  }
  if ((await listLabs()).length > 0) return;
  await removeLabRangeBlackhole();
  // A lab that took an index since the check above blackholed the range either before this
  // removal (and is seen now) or after it (and nothing is lost).
  if ((await listLabs()).length > 0) await blackholeLabRange();
}

/**
 * Claims the state directory of lab `name` (failing if it exists) and mounts a tmpfs on it: the
 * hosts' files are many and small, and /run is not always a tmpfs (it is on disk here, 10 times
 * slower to fill).
 */
export async function createStateDir(name: string): Promise<void> {
  const { stateDir } = labPaths(name);
  await mkdir(LAB_ROOT, { recursive: true });
  await mkdir(stateDir);
  await execa('mount', ['-t', 'tmpfs', '-o', 'mode=755', `chaton-lab-${name}`, stateDir]);
}

async function isMountPoint(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === path);
}

/** Removes the lab's processes, namespaces and root-side veth, frees its index, deletes its state. */
export async function dismantleLab(name: string, index: number | undefined): Promise<void> {
  if (index !== undefined) {
    await destroyLabNetwork(index);
    await releaseIndex(index);
  }
  const { stateDir } = labPaths(name);
  // A Ceph lab's disks: their processes are gone with the namespaces; the files they hold must
  // not keep the state directory's memory once it is unmounted.
  await detachLoopDevices(stateDir);
  // Lazily: the supervisor dismantling its own lab still writes its log there.
  if (await isMountPoint(stateDir)) await execa('umount', ['--lazy', stateDir]);
  await rm(stateDir, { recursive: true, force: true });
}

/**
 * Removes whatever lab `name` left behind, its supervisor included (crashed, killed, or stuck
 * starting up). Does nothing when there is no such lab.
 */
export async function cleanLabLeftovers(name: string): Promise<void> {
  const supervisor = await findSupervisor(labPaths(name).stateDir);
  if (supervisor !== undefined) {
    signalProcess(supervisor, 'SIGKILL');
    await waitForExit(supervisor, 5000);
  }
  await dismantleLab(name, await findLabIndex(name));
}
