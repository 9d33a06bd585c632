// The VM faults file (README: VM hosts): a JSON object the lab API merges settings into and the
// supervisor (the agent) and the Proxmox stand-in (clones, boots, counters they consume) read.
// Every reader and writer holds flock(2) on the file itself and writes it in place, never by
// rename: a lock taken on a replaced file would protect nothing.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, open, writeFile } from 'node:fs/promises';

export interface VmFaults {
  /** The next N clones find their new VMID taken just before they create it (the stand-in's). */
  cloneVmidTaken?: number;
  /** The next N clones time out on the template's config lock (the stand-in's). */
  cloneLockTimeouts?: number;
  cloneDelayMs?: number;
  bootDelayMs?: number;
  /** How long after a VM host's sshd is up its guest agent starts answering. */
  agentDelayMs?: number;
  /** The guest agent never answers. */
  agentNever?: boolean;
  /** The agent's file read of /etc/ssh/ssh_host_*_key.pub returns another valid key than sshd's. */
  agentWrongHostKey?: boolean;
  /** Each node's total memory in bytes (the stand-in's). */
  nodeMemory?: Record<string, number>;
}

export const DEFAULT_AGENT_DELAY_MS = 1000;

/**
 * Runs `work` holding flock(2) on `path` (created if absent). flock(1) locks the descriptor it
 * inherits, an open file description this process shares: the lock lasts until it is closed.
 */
async function withFileLock<T>(path: string, mode: 'shared' | 'exclusive', work: () => Promise<T>): Promise<T> {
  const handle = await open(path, 'a');
  try {
    const flock = spawn('flock', [mode === 'shared' ? '--shared' : '--exclusive', '3'], {
      stdio: ['ignore', 'ignore', 'inherit', handle.fd],
    });
    const [code] = (await once(flock, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`flock ${path} failed (exit ${code})`);
    return await work();
  } finally {
    await handle.close();
  }
}

function parseFaults(text: string): VmFaults {
  return text.trim() ? (JSON.parse(text) as VmFaults) : {};
}

async function readUnlocked(path: string): Promise<VmFaults> {
  const handle = await open(path, 'r');
  try {
    return parseFaults(await handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

export function readVmFaults(path: string): Promise<VmFaults> {
  return withFileLock(path, 'shared', () => readUnlocked(path));
}

/** Merges `partial` into the file (a key set to null is removed); returns the faults now in force. */
export function mergeVmFaults(path: string, partial: Record<string, unknown>): Promise<VmFaults> {
  return withFileLock(path, 'exclusive', async () => {
    const merged: Record<string, unknown> = { ...(await readUnlocked(path)), ...partial };
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    await writeFile(path, JSON.stringify(merged, null, 2) + '\n'); // in place: truncated, same inode
    return merged as VmFaults;
  });
}

/** One line of the waits log, for a wait the lab imposes: `<ISO time> <kind> <ms>`. */
export function recordWait(path: string, kind: 'clone' | 'boot' | 'agent', ms: number): Promise<void> {
  return appendFile(path, `${new Date().toISOString()} ${kind} ${ms}\n`);
}
