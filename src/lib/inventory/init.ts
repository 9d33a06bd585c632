// `inventory init`: a starter inventory, written where discovery finds it, whole or not at all,
// and never over an existing file unless the operator says so.
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { isScalar, parseDocument, Scalar } from 'yaml';
import { RefusedError, UsageError } from '../run/errors.js';
import { writeFileAtomically } from '../run/files.js';
import { quoted } from '../run/printable.js';
import { SYSTEM_INVENTORY_FILE, userInventoryFile } from './discover.js';
import { addressKind } from './kinds.js';
import { parseInventory } from './load.js';
import { messages } from './messages.js';
import { InventoryError, type InventoryProblem } from './reader.js';

/**
 * Root's inventory is the machine's, in /etc/chaton, found by every user's chaton (cron jobs, a
 * shared admin host); anyone else's is their own, in their config directory.
 */
export function defaultInitFile(env: NodeJS.ProcessEnv, home: string, uid: number): string {
  return uid === 0 ? SYSTEM_INVENTORY_FILE : userInventoryFile(env, home);
}

/**
 * The inventory holds no secret, but it maps the collective's machines: the machine's is
 * readable by a group the operator chooses (chgrp), one's own only by oneself.
 */
export function initMode(file: string): number {
  return file === SYSTEM_INVENTORY_FILE ? 0o640 : 0o600;
}

/** /etc/chaton is the machine's, as /etc is; a config directory is one's own (the XDG spec's 0700). */
export function directoryMode(file: string): number {
  return file === SYSTEM_INVENTORY_FILE ? 0o755 : 0o700;
}

/** A bastion address given on the command line, checked as the inventory would check it. */
export function checkedAddress(value: string, flag: string): string {
  const address = addressKind.parse(new Scalar(value));
  if (address === undefined) {
    throw new UsageError(`${flag} ${messages.mustBe(addressKind.expected, quoted(value))}`, addressKind.hint);
  }
  return address;
}

/**
 * The annotated example, byte for byte, with its bastion's address replaced by `bastion` or
 * left empty for the operator to fill in (`inventory check` then points at it).
 */
export function starterInventory(exampleText: string, exampleFile: string, bastion: string | undefined): string {
  const address = parseDocument(exampleText).getIn(['bastion', 'address'], true);
  if (!isScalar(address) || !address.range) throw new Error(messages.exampleWithoutBastionAddress(exampleFile));
  const [start, end] = address.range;
  const header = [
    messages.writtenBy(exampleFile),
    messages.starterReplace,
    bastion === undefined ? messages.starterFillIn : '',
  ]
    .filter(Boolean)
    .map((line) => `# ${line}`);
  return `${header.join('\n')}\n${exampleText.slice(0, start)}${bastion ?? ''}${exampleText.slice(end)}`;
}

/** What `inventory check` would report on `text` once written to `file`: what is left to fill in. */
export function leftToFill(text: string, file: string): InventoryProblem[] {
  try {
    parseInventory(text, file);
    return [];
  } catch (error) {
    if (error instanceof InventoryError) return error.problems;
    throw error;
  }
}

/**
 * Writes a new inventory atomically with `mode`. An existing file is refused (exit 3) unless
 * `force`, and even then only a regular file is replaced (keeping its mode and owner). The
 * directories of the default place are created with `directoryMode`; a --file (no
 * directoryMode) must name a directory that exists.
 */
export async function writeInventory(
  file: string,
  text: string,
  opts: { force: boolean; mode: number; directoryMode?: number },
): Promise<void> {
  const existing = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new UsageError(messages.cannotLookAt(file, error.message), messages.cannotLookAtHint);
  });
  if (existing && !existing.isFile()) {
    throw new UsageError(messages.notARegularFile(file), messages.notARegularFileHint);
  }
  if (existing && !opts.force) {
    throw new RefusedError(messages.notOverwritten(file), messages.notOverwrittenHint);
  }
  try {
    const { directoryMode } = opts;
    if (directoryMode !== undefined) await mkdir(path.dirname(file), { recursive: true, mode: directoryMode });
    await writeFileAtomically(file, text, opts.mode);
  } catch (error) {
    throw new UsageError(messages.cannotWrite(file, (error as Error).message), messages.cannotWriteHint);
  }
}
