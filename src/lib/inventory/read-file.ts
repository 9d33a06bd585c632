// Reads a local file that chaton takes whole, such as the inventory. A wrong path must fail at once:
// a named pipe would wait forever for a writer, a device or a huge file would eat time and memory.
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/** The content of `file`, a regular file of at most `maxBytes`; `what` names it in errors ("the inventory"). */
export async function readBoundedRegularFile(file: string, maxBytes: number, what: string): Promise<Buffer> {
  let handle: FileHandle;
  try {
    // Non-blocking: opening a named pipe must not wait for a writer. No controlling terminal taken.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const hint = `check the path of ${what}, and that you may read it`;
    throw new UsageError(`cannot read ${what} ${file}: ${(error as Error).message}`, hint);
  }
  try {
    // The opened file itself is checked (fstat): a path checked first could be swapped before the open.
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const hint = `give the path of ${what} itself, a regular file`;
      throw new UsageError(`${what} ${file} is ${fileKind(stats)}, not a regular file`, hint);
    }
    if (stats.size > maxBytes) throw tooBig(file, maxBytes, what, stats.size);
    // A file can grow after fstat, or hold more than it claims (/proc): read one byte past the limit, no more.
    const chunks: Buffer[] = [];
    for await (const chunk of handle.createReadStream({ start: 0, end: maxBytes, autoClose: false })) {
      chunks.push(chunk as Buffer);
    }
    const content = Buffer.concat(chunks);
    if (content.length > maxBytes) throw tooBig(file, maxBytes, what);
    return content;
  } finally {
    await handle.close();
  }
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return stats.isSocket() ? 'a socket' : 'a special file';
}

/** `size` is left out when the file outgrew what fstat said. */
function tooBig(file: string, maxBytes: number, what: string, size?: number): UsageError {
  const found = size === undefined ? 'is over' : `is ${bytes(size)}, over`;
  return new UsageError(
    `${what} ${file} ${found} the limit of ${bytes(maxBytes)}`,
    `is this really ${what}? check its path; chaton reads it whole, so it refuses a larger file`,
  );
}

function bytes(count: number): string {
  const mebibytes = count / 2 ** 20;
  return mebibytes < 0.1 ? `${count} bytes` : `${Number(mebibytes.toFixed(1))} MiB (${count} bytes)`;
}
