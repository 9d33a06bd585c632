// Local files: those chaton writes (the inventory's roster, a newcomer's ssh config), whole or
// not at all, and the small ones the operator names (keys), read without ever waiting on them.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from './errors.js';
import { messages } from './messages.js';
import { escapeUnprintable } from './printable.js';

/** A key file is a few KB: more is not a key (and all of /dev/zero would exhaust the memory). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Why a local file was not read, as the end of a sentence that starts with its name: "is a FIFO (named pipe), ...". */
export class UnreadableFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    /** Its only fault is its size: maybe the wrong file. */
    readonly tooLarge = false,
  ) {
    // The path as the operator gave it, but never able to drive the terminal.
    super(`${escapeUnprintable(file)} ${reason}`);
    this.name = new.target.name;
  }
}

/** Reads a key file (public or private): see readRegularFile. */
export function readKeyFile(file: string): Promise<Buffer> {
  return readRegularFile(file, MAX_KEY_FILE_BYTES);
}

/**
 * Reads a local file that chaton takes whole (a key, the inventory), of at most `maxBytes`. It
 * is opened without blocking and the opened file itself is checked (fstat) before anything is
 * read: a FIFO, a device or a directory is refused at once, instead of a read that waits for
 * good in a thread that not even a second Ctrl-C ends. Throws UnreadableFileError.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
  const handle = await open(file, flags).catch((error: NodeJS.ErrnoException) => {
    const reason =
      error.code === 'ENOENT' ? messages.doesNotExist : messages.cannotBeOpened(error.code ?? error.message);
    throw new UnreadableFileError(file, reason);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UnreadableFileError(file, messages.notARegularFile(kindOf(stats)));
    // Read on to one byte past the limit, whatever fstat said: a file may have grown since, and
    // those of /proc claim a size of 0.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, length);
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw new UnreadableFileError(file, messages.largerThan(size(maxBytes)), true);
    }
  } finally {
    await handle.close();
  }
}

function size(bytes: number): string {
  if (bytes % 1024 ** 2 === 0) return messages.mebibytes(bytes / 1024 ** 2);
  return bytes % 1024 === 0 ? messages.kibibytes(bytes / 1024) : messages.bytes(bytes);
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return messages.aFifo;
  if (stats.isDirectory()) return messages.aDirectory;
  if (stats.isCharacterDevice()) return messages.aCharacterDevice;
  if (stats.isBlockDevice()) return messages.aBlockDevice;
  if (stats.isSocket()) return messages.aSocket;
  return messages.anUnknownKind;
}

/**
 * A reader sees the old file or the new one, never half of it, even after a crash. The new file
 * keeps the old one's mode (and owner, as root); a file that did not exist gets `mode`. The
 * temporary file has an unguessable name and is created exclusively: no planted link is followed.
 */
export async function writeFileAtomically(file: string, text: string, mode = 0o644): Promise<void> {
  const old = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const directory = path.dirname(file);
  const temporary = path.join(directory, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const wanted = old ? old.mode & 0o7777 : mode;
  const handle = await open(temporary, 'wx', wanted);
  try {
    try {
      await handle.writeFile(text);
      // open() applies the umask; the new file must be as readable as the old one, no more.
      await handle.chmod(wanted);
      if (old && process.getuid?.() === 0) await handle.chown(old.uid, old.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const directoryHandle = await open(directory, 'r');
  await directoryHandle.sync().finally(() => directoryHandle.close());
}

const LOCK_WAIT_MS = 10_000;
const LOCK_RETRY_MS = 50;

/**
 * Runs `work` holding `<file>.lock`, exclusive among chaton processes: two read-modify-writes of
 * one file at once would each write without the other's change. Waits a while for another
 * holder, then gives up naming the lock (a crashed run leaves it behind).
 */
export async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lockPath = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lockPath, 'wx')).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UsageError(
          messages.fileLockNotCreated(lockPath, (error as Error).message),
          messages.fileLockNotCreatedHint(file),
        );
      }
      if (Date.now() >= deadline) {
        throw new UsageError(
          messages.fileLockHeld(file, LOCK_WAIT_MS / 1000, lockPath),
          messages.fileLockHeldHint(lockPath),
        );
      }
      await sleep(LOCK_RETRY_MS);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** The file a symbolic link points to is the one to replace, not the link; a missing file is itself. */
export function fileToReplace(file: string): Promise<string> {
  return realpath(file).catch(() => file);
}
