// Where a user's keepers listen: a directory only that user can enter, one socket per inventory
// (and language: a keeper's messages are those of the run that started it).
import { createHash } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { language } from '../../run/catalogue.js';
import { messages } from '../messages.js';

/** `$XDG_RUNTIME_DIR/chaton` (systemd's per-user tmpfs, gone at logout), else `/tmp/chaton-<uid>`. */
export function keeperDirectory(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) return path.join(runtime, 'chaton');
  return `/tmp/chaton-${process.getuid?.() ?? 0}`;
}

/** The socket of the keeper of this inventory file, in the language of the moment. */
export function keeperSocket(directory: string, inventoryFile: string, env: NodeJS.ProcessEnv): string {
  const id = createHash('sha256')
    .update(`${inventoryFile}\0${language(env)}`)
    .digest('hex')
    .slice(0, 16);
  return path.join(directory, `keeper-${id}.sock`);
}

/** The directory is unsafe to use: someone else could connect, or pretend to be our keeper. */
export class UnsafeKeeperPath extends Error {}

/**
 * Makes the directory (0700) if it is missing, then checks it as OpenSSH checks a ControlPath's:
 * a real directory, the user's, that nobody else may enter. In /tmp another user may have made it first.
 */
export async function safeDirectory(directory: string): Promise<void> {
  await mkdir(directory, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw new UnsafeKeeperPath(messages.keeperDirectoryUnusable(directory, error.message));
  });
  const stats = await lstat(directory);
  const uid = process.getuid?.() ?? 0;
  if (!stats.isDirectory()) throw new UnsafeKeeperPath(messages.keeperPathNotDirectory(directory));
  if (stats.uid !== uid) throw new UnsafeKeeperPath(messages.keeperPathNotOurs(directory, String(stats.uid)));
  if ((stats.mode & 0o077) !== 0) {
    throw new UnsafeKeeperPath(messages.keeperPathOpen(directory, (stats.mode & 0o777).toString(8)));
  }
}

/** The socket is one the user made: a socket, theirs. Undefined when there is none. */
export async function ownSocket(socket: string): Promise<boolean> {
  const stats = await lstat(socket).catch(() => undefined);
  if (!stats) return false;
  if (!stats.isSocket() || stats.uid !== (process.getuid?.() ?? 0)) {
    throw new UnsafeKeeperPath(messages.keeperPathNotOurs(socket, String(stats.uid)));
  }
  return true;
}
