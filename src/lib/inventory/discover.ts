// Which inventory file to read: `--inventory`, else $CHATON_INVENTORY, else the nearest
// chaton.yaml (or a sibling name) in the current directory or one of its parents.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

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

async function searchUpwards(cwd: string): Promise<string> {
  // Loaded only here: most runs name their inventory, and start-up time matters.
  const { cosmiconfig, defaultLoaders } = await import('cosmiconfig');
  const rawText = (_file: string, content: string): string => content;
  const explorer = cosmiconfig('chaton', {
    searchPlaces: INVENTORY_SEARCH_PLACES,
    // 'global' walks up to stopDir; past it, it also tries ~/.config/chaton/config.*, dropped below.
    searchStrategy: 'global',
    stopDir: path.parse(path.resolve(cwd)).root,
    // Found even when empty: parsing (and reporting problems) is ours, never cosmiconfig's,
    // and no config.js is ever executed.
    ignoreEmptySearchPlaces: false,
    loaders: Object.fromEntries(Object.keys(defaultLoaders).map((extension) => [extension, rawText])),
    transform: (result) => (result && isSearchPlace(result.filepath) ? result : null),
    cache: false,
  });
  let found: string | undefined;
  try {
    found = (await explorer.search(cwd))?.filepath;
  } catch (error) {
    throw new UsageError(`cannot search for the inventory from ${cwd}: ${(error as Error).message}`, NEXT_STEP);
  }
  if (!found) throw new UsageError(`no inventory found in ${cwd} or its parent directories`, NEXT_STEP);
  return found;
}

function isSearchPlace(file: string): boolean {
  return INVENTORY_SEARCH_PLACES.some((place) => file.endsWith(`${path.sep}${path.normalize(place)}`));
}
