// Finding and ending the lab's processes by reading /proc: PID 1 is no real init here and a
// crashed supervisor leaves no parent behind, so the lab cannot rely on process trees.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { waitUntil } from './parallel.js';

const SUPERVISOR_SCRIPT_NAME = 'supervisor.js';
/** How long processes get to exit on SIGTERM before SIGKILL. */
const TERM_GRACE_MS = 1000;
const KILL_TIMEOUT_MS = 5000;

async function readProc(pid: number, file: string): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
}

async function allPids(): Promise<number[]> {
  return (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** A zombie has no command line: it counts as gone. */
async function commandLine(pid: number): Promise<string[] | undefined> {
  const text = await readProc(pid, 'cmdline');
  return text ? text.replace(/\0$/, '').split('\0') : undefined;
}

/** Whether `pid` is the supervisor of the lab whose state directory is `stateDir`. */
export async function isSupervisorOf(pid: number, stateDir: string): Promise<boolean> {
  const argv = await commandLine(pid);
  return argv !== undefined && basename(argv[1] ?? '') === SUPERVISOR_SCRIPT_NAME && argv[2] === stateDir;
}

/** The running supervisor of that lab, found even when state.json was never written. */
export async function findSupervisor(stateDir: string): Promise<number | undefined> {
  for (const pid of await allPids()) {
    if (await isSupervisorOf(pid, stateDir)) return pid;
  }
  return undefined;
}

export async function isRunningSshd(pid: number): Promise<boolean> {
  return (await readProc(pid, 'comm')) === 'sshd\n' && (await commandLine(pid)) !== undefined;
}

/** Inode numbers of the named network namespaces (as `ip netns` mounts them under /run/netns). */
async function namespaceInodes(netnsPaths: string[]): Promise<Set<number>> {
  return new Set(await Promise.all(netnsPaths.map(async (path) => (await stat(path)).ino)));
}

/** What `ip netns pids` prints, for several namespaces in one pass over /proc. */
async function pidsInNamespaces(inodes: Set<number>): Promise<number[]> {
  const found = await Promise.all(
    (await allPids()).map(async (pid) => {
      const link = await readlink(`/proc/${pid}/ns/net`).catch(() => undefined);
      const inode = link && /^net:\[(\d+)\]$/.exec(link)?.[1];
      return inode && inodes.has(Number(inode)) ? pid : undefined;
    }),
  );
  return found.filter((pid) => pid !== undefined);
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM every process in those namespaces, SIGKILL what is left after a grace period. */
export async function killNamespaceProcesses(netnsPaths: string[]): Promise<void> {
  const inodes = await namespaceInodes(netnsPaths);
  const killFrom = Date.now() + TERM_GRACE_MS;
  let survivors: number[] = [];
  const allGone = await waitUntil(async () => {
    survivors = await pidsInNamespaces(inodes);
    // Signalled again on every round: sshd may have forked a new session meanwhile.
    const signal = Date.now() < killFrom ? 'SIGTERM' : 'SIGKILL';
    for (const pid of survivors) signalProcess(pid, signal);
    return survivors.length === 0;
  }, TERM_GRACE_MS + KILL_TIMEOUT_MS);
  if (!allGone) throw new Error(`processes ${survivors.join(' ')} survived SIGKILL in ${netnsPaths.join(' ')}`);
}

/** Waits until `pid` is gone (or a zombie); tells whether it went within the time. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  return waitUntil(async () => (await commandLine(pid)) === undefined, timeoutMs);
}

/** The one child of a process that forked once (nsenter entering a pid namespace). */
export async function childOf(pid: number): Promise<number | undefined> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const first = Number(children.trim().split(' ')[0]);
  return Number.isInteger(first) && first > 0 ? first : undefined;
}
