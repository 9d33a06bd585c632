// Local files chaton writes (the inventory's roster, a newcomer's ssh config): whole or not at all.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

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
