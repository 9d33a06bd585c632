// What `chaton connections` asks the keepers of this user: what each holds, and to close. And
// how a keeper that does not answer is put away: its socket removed, its process ended.
import { readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { UsageError } from '../../run/errors.js';
import { messages } from '../messages.js';
import { keeperDirectory, ownSocket, safeDirectory, UnsafeKeeperPath } from './paths.js';
import { Frame, FrameReader, jsonFrame, parseJson } from './protocol.js';

/** One connection a keeper holds. Times are ISO 8601. */
export interface KeptConnection {
  /** The host's name in the inventory (a bastion's too). */
  host: string;
  /** The jump hosts before it, first one first (empty: reached directly). */
  via: string[];
  address: string;
  port: number;
  user: string;
  since: string;
  lastUsed: string;
  /** SHA256 fingerprint of the key that logged in (as ssh-keygen -l prints it, `SHA256:...`). */
  keyFingerprint: string;
  /** SHA256 fingerprint of the host key it was verified with. */
  hostKeyFingerprint: string;
}

/** One keeper: its process, the inventory it serves, and when it goes away if unused. */
export interface KeeperState {
  inventory: string;
  pid: number;
  startedAt: string;
  /** When it exits if nothing uses it before (never later than the persist time after its last use). */
  expiresAt: string;
  connections: KeptConnection[];
}

/** A keeper that has not answered in this time is hung. */
const ANSWER_TIMEOUT_MS = 2000;

/** The keeper's pid file, beside its socket. */
export function pidFile(socket: string): string {
  return socket.replace(/\.sock$/, '.pid');
}

/**
 * Puts away the keeper of `socket` that does not answer: its socket and pid file removed (the
 * next run starts a new one), its process killed if it is still a keeper of this user's (its
 * command line names this socket).
 */
export async function retireKeeper(socket: string): Promise<void> {
  const pid = Number((await readFile(pidFile(socket), 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0').includes(socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
  await Promise.all([rm(socket, { force: true }), rm(pidFile(socket), { force: true })]);
}

/** One request on a unix connection of its own, and the keeper's one answer. */
export function askKeeper(socket: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socket);
    const timer = setTimeout(
      () => sock.destroy(new Error(messages.keeperSilent(ANSWER_TIMEOUT_MS / 1000))),
      ANSWER_TIMEOUT_MS,
    );
    const reader = new FrameReader((type, payload) => {
      if (type !== Frame.json) return;
      clearTimeout(timer);
      resolve(parseJson(payload));
      sock.end();
    });
    sock.on('connect', () => sock.write(jsonFrame(request)));
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        sock.destroy(error as Error);
      }
    });
    sock.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      reject(new Error(messages.keeperClosed));
    });
  });
}

/** The keepers' sockets of this user, their directory checked first; none when it does not exist. */
async function keeperSockets(env: NodeJS.ProcessEnv): Promise<string[]> {
  const directory = keeperDirectory(env);
  const names = await readdir(directory).catch(() => undefined);
  if (!names) return [];
  try {
    await safeDirectory(directory);
    const sockets = names.filter((name) => /^keeper-[0-9a-f]+\.sock$/.test(name)).map((n) => path.join(directory, n));
    for (const socket of sockets) await ownSocket(socket);
    return sockets;
  } catch (error) {
    if (error instanceof UnsafeKeeperPath) throw new UsageError(error.message, messages.keeperPathHint(directory));
    throw error;
  }
}

/** Asks each keeper; one that does not answer is retired and named in `stale`. */
async function eachKeeper(
  env: NodeJS.ProcessEnv,
  request: Record<string, unknown>,
): Promise<{ keepers: KeeperState[]; stale: string[] }> {
  const keepers: KeeperState[] = [];
  const stale: string[] = [];
  for (const socket of await keeperSockets(env)) {
    try {
      keepers.push((await askKeeper(socket, request)).state as KeeperState);
    } catch {
      await retireKeeper(socket);
      stale.push(socket);
    }
  }
  return { keepers, stale };
}

/**
 * Every keeper of this user that answers (its socket directory checked to be the user's). A socket
 * whose keeper is dead or does not answer is removed, and said in `stale` (its path).
 */
export function listKeepers(env: NodeJS.ProcessEnv): Promise<{ keepers: KeeperState[]; stale: string[] }> {
  return eachKeeper(env, { op: 'list' });
}

/** Asks every keeper of this user to close its connections and exit; resolves with those that did. */
export async function closeKeepers(env: NodeJS.ProcessEnv): Promise<KeeperState[]> {
  return (await eachKeeper(env, { op: 'close' })).keepers;
}
