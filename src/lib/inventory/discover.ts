// Which inventory file to read: `--inventory`, else $CHATON_INVENTORY, else the nearest
// chaton.yaml (or a sibling name) in the current directory or one of its parents.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../run/errors.js';

export type InventorySource = 'flag' | 'env' | 'search';

/** Looked for in each directory, from the current one up to the filesystem root. */
const INVENTORY_SEARCH_PLACES = [
  'chaton.yaml',
  'chaton.yml',
  '.chatonrc.yaml',
  '.chatonrc.yml',
  '.config/chaton.yaml',
  '.config/chaton.yml',
];

const NEXT_STEP = 'pass -i FILE, set CHATON_INVENTORY, or create chaton.yaml; see inventory.example.yaml';

export async function findInventory(opts: {
  flag?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): Promise<{ path: string; source: InventorySource }> {
  if (opts.flag !== undefined) return { path: await readableFile(path.resolve(opts.cwd, opts.flag), '--inventory'), source: 'flag' };
  const fromEnv = opts.env['CHATON_INVENTORY'];
  if (fromEnv) return { path: await readableFile(path.resolve(opts.cwd, fromEnv), 'CHATON_INVENTORY'), source: 'env' };
  return { path: await searchUpwards(opts.cwd), source: 'search' };
}

async function readableFile(file: string, givenBy: string): Promise<string> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
    await access(file, constants.R_OK);
  } catch (error) {
    throw new UsageError(`cannot read the inventory ${file} (from ${givenBy}): ${(error as Error).message}`, NEXT_STEP);
  }
  if (!isFile) throw new UsageError(`the inventory ${file} (from ${givenBy}) is not a file`, NEXT_STEP);
  return file;
}

/**
 * The first search place that exists, from `cwd` up to the root. Only its name is looked at: a
 * named pipe or a directory found here is refused when read, never waited on or skipped.
 */
async function searchUpwards(cwd: string): Promise<string> {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const place of INVENTORY_SEARCH_PLACES) {
      const candidate = path.join(dir, place);
      if (await exists(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new UsageError(`no inventory found in ${cwd} or its parent directories`, NEXT_STEP);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    // A dangling link or a file in place of a directory on the way is no inventory; anything else is a problem.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new UsageError(`cannot search for the inventory: ${(error as Error).message}`, NEXT_STEP);
  }
}
