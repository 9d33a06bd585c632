// Waiting for a state to come: another run's lock released, and soon a node drained or a backup
// check done. Always bounded, visible while it lasts, and ended at once by Ctrl-C.
import type { Reachable } from '../ssh/endpoint.js';
import {
  ChatonError,
  ConnectionError,
  formatError,
  HostKeyError,
  LostWhileRunningError,
  RemoteCommandError,
} from './errors.js';
import { messages } from './messages.js';
import { plainLine, plural } from './output.js';

/** One look at the state: over, with a value; or what is still awaited, in words for people. */
export type Polled<T> = { done: true; value: T } | { done: false; waiting: string };

export interface Wait<T> {
  /**
   * Looks once. Never cut short by Ctrl-C: a poll may change something (take a lock) and must
   * be able to say so; it should be quick, and the wait between polls ends at once.
   */
  poll(): Promise<Polled<T>>;
  /** How long to wait at most, from the first poll. */
  boundMs: number;
  /** Between polls; a function of the polls so far for a backoff (retries of a refused request). */
  intervalMs: number | ((polls: number) => number);
  signal: AbortSignal;
  /** A line for the person watching: under its task on a terminal, or on stderr. */
  progress(text: string): void;
  /** On a terminal the line is redrawn at every poll; without one, a timestamped line every `everyMs`. */
  live: boolean;
  everyMs?: number;
  /** The error once the bound is reached, given what was last awaited. */
  timedOut(waiting: string): Error;
  /** The error on Ctrl-C, given what was last awaited (undefined before the first poll said). */
  interrupted(waiting: string | undefined): Error;
}

/** Without a terminal, how often a long wait says it still waits: a cron log shows it alive. */
const EVERY_MS = 30_000;

/**
 * Polls until the state comes, and returns what the last poll found. What is awaited is said
 * once each time it changes, with the bound: `<waiting> (at most 2 minutes)`.
 */
export async function waitUntil<T>(wait: Wait<T>): Promise<T> {
  const { signal, boundMs } = wait;
  const bound = messages.atMost(duration(boundMs));
  const started = performance.now();
  let lastLine = started;
  let waiting: string | undefined;
  let polls = 0;
  for (;;) {
    if (signal.aborted) throw wait.interrupted(waiting);
    const polled = await wait.poll();
    polls++;
    if (polled.done) return polled.value;
    const now = performance.now();
    const elapsed = now - started;
    if (signal.aborted) throw wait.interrupted(polled.waiting);
    if (elapsed >= boundMs) throw wait.timedOut(polled.waiting);
    if (polled.waiting !== waiting) {
      wait.progress(`${polled.waiting} (${bound})`);
      lastLine = now;
    } else if (wait.live) {
      wait.progress(messages.waitingSoFar(polled.waiting, duration(elapsed), bound));
    } else if (now - lastLine >= (wait.everyMs ?? EVERY_MS)) {
      wait.progress(plainLine(messages.stillWaiting(polled.waiting, duration(elapsed), bound)));
      lastLine = now;
    }
    waiting = polled.waiting;
    const interval = typeof wait.intervalMs === 'number' ? wait.intervalMs : wait.intervalMs(polls);
    await pause(Math.min(interval, boundMs - elapsed), signal);
  }
}

/**
 * A poll that survives a dropped connection to `host` (a reboot, a cut link, a route changed by the
 * wait's own change): a poll that could not ask (no connection, the session lost, the command
 * failed or printed garbage) drops the host's connections and says it cannot reach it, and the
 * next poll opens new ones. What the poll decided (Ctrl-C, a changed host key, a refusal, any other
 * error of chaton's) still ends the wait.
 */
export function throughDrops<T>(
  pool: { forget(target: Reachable): void },
  host: Reachable & { name: string },
  poll: () => Promise<Polled<T>>,
): () => Promise<Polled<T>> {
  return async () => {
    try {
      return await poll();
    } catch (error) {
      const couldNotAsk =
        !(error instanceof ChatonError) ||
        (error instanceof ConnectionError && !(error instanceof HostKeyError)) ||
        error instanceof LostWhileRunningError ||
        error instanceof RemoteCommandError;
      if (!couldNotAsk) throw error;
      pool.forget(host);
      return { done: false, waiting: messages.guardCannotReach(host.name, formatError(error).split('\n')[0] ?? '') };
    }
  };
}

/** A span for people: "2 minutes", "1 min 30 s", "45 s", written the same in French. */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? plural(minutes, 'minute') : `${minutes} min ${seconds % 60} s`;
}

/** Resolves after `ms`, or at once on Ctrl-C. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    // Ctrl-C may have come during the poll: an aborted signal fires no more events.
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
