// A lab faults file (README: VM hosts, Ceph): a JSON object the lab API merges settings into and
// the supervisor and the stand-ins read, with counters a stand-in consumes one by one. Every
// reader and writer holds flock(2) on the file itself and writes it in place, never by rename: a
// lock taken on a replaced file would protect nothing. Here rather than in test/lab because the
// stand-ins, which only have their own directory in a host, consume the counters.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';

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

async function readUnlocked<Faults extends object>(path: string): Promise<Faults> {
  const handle = await open(path, 'r');
  try {
    const text = await handle.readFile('utf8');
    return (text.trim() ? JSON.parse(text) : {}) as Faults;
  } finally {
    await handle.close();
  }
}

export function readFaultsFile<Faults extends object>(path: string): Promise<Faults> {
  return withFileLock(path, 'shared', () => readUnlocked<Faults>(path));
}

/** Merges `partial` into the file (a key set to null is removed); returns the faults now in force. */
export function mergeFaultsFile<Faults extends object>(
  path: string,
  partial: Record<string, unknown>,
): Promise<Faults> {
  return withFileLock(path, 'exclusive', async () => {
    const merged: Record<string, unknown> = { ...(await readUnlocked(path)), ...partial };
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    await writeFile(path, JSON.stringify(merged, null, 2) + '\n'); // in place: truncated, same inode
    return merged as Faults;
  });
}

/** Consumes one of the counter `key`; true when there was one left. No file (not such a lab): none. */
export async function takeFaultCounter(path: string, key: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  return withFileLock(path, 'exclusive', async () => {
    const faults = await readUnlocked<Record<string, unknown>>(path);
    const left = faults[key];
    if (typeof left !== 'number' || left <= 0) return false;
    faults[key] = left - 1;
    await writeFile(path, JSON.stringify(faults, null, 2) + '\n');
    return true;
  });
}
