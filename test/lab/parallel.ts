import { availableParallelism } from 'node:os';

/** Process start-ups are CPU-bound (fork, exec, key generation): a few per core keeps them busy. */
export const SPAWN_CONCURRENCY = availableParallelism() * 4;

/**
 * Runs `task` on every item, at most `limit` at a time. After a failure or an abort no new task
 * starts; the returned promise rejects with the first error.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined && !failed; item = items[next++]) {
      signal?.throwIfAborted();
      try {
        await task(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Polls `condition` until it holds or `timeoutMs` passes; tells which. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
