// Which inventory file to read: `--inventory`, else $CHATON_INVENTORY, else the nearest
// chaton.yaml (or a sibling name) in the current directory or one of its parents, else the
// operator's own (XDG config directory), else the machine's (/etc/chaton). Only names are looked
// at: a candidate is never opened here (cosmiconfig read each one whole, and hung on a FIFO).
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../run/errors.js';
import { EXAMPLE_FILE } from './example.js';
import { messages } from './messages.js';

/** How the inventory was found: `config` is the operator's config directory, `system` /etc/chaton. */
export type InventorySource = 'flag' | 'env' | 'search' | 'config' | 'system';

/** The inventory of every user of the machine (cron jobs, a shared admin host). */
export const SYSTEM_INVENTORY_FILE = '/etc/chaton/inventory.yaml';

/**
 * The operator's own inventory: $XDG_CONFIG_HOME/chaton/inventory.yaml, or under ~/.config. The
 * XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
 */
export function userInventoryFile(env: NodeJS.ProcessEnv, home: string): string {
  const configHome = env['XDG_CONFIG_HOME'];
  const base = configHome && path.isAbsolute(configHome) ? configHome : path.join(home, '.config');
  return path.join(base, 'chaton', 'inventory.yaml');
}

/** Looked for in each directory, from the current one up to the filesystem root. */
const INVENTORY_SEARCH_PLACES = [
  'chaton.yaml',
  'chaton.yml',
  '.chatonrc.yaml',
  '.chatonrc.yml',
  '.config/chaton.yaml',
  '.config/chaton.yml',
];

const nextStep = () => messages.findInventoryHint(EXAMPLE_FILE);

export async function findInventory(opts: {
  flag?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The operator's home directory; the process's by default. */
  home?: string;
  /** The machine's inventory; SYSTEM_INVENTORY_FILE but in tests. */
  systemFile?: string;
}): Promise<{ path: string; source: InventorySource }> {
  const { cwd, env } = opts;
  if (opts.flag !== undefined) {
    return { path: await readableFile(path.resolve(cwd, opts.flag), '--inventory'), source: 'flag' };
  }
  const fromEnv = env['CHATON_INVENTORY'];
  if (fromEnv) return { path: await readableFile(path.resolve(cwd, fromEnv), 'CHATON_INVENTORY'), source: 'env' };
  const nearest = await searchUpwards(cwd);
  if (nearest) return { path: nearest, source: 'search' };
  const userFile = userInventoryFile(env, opts.home ?? homedir());
  const systemFile = opts.systemFile ?? SYSTEM_INVENTORY_FILE;
  if (await exists(userFile)) return { path: userFile, source: 'config' };
  if (await exists(systemFile)) return { path: systemFile, source: 'system' };
  throw new UsageError(messages.noInventoryFound(cwd, userFile, systemFile), nextStep());
}

async function readableFile(file: string, givenBy: string): Promise<string> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
    await access(file, constants.R_OK);
  } catch (error) {
    throw new UsageError(messages.cannotReadInventory(file, givenBy, (error as Error).message), nextStep());
  }
  if (!isFile) throw new UsageError(messages.inventoryNotAFile(file, givenBy), nextStep());
  return file;
}

/**
 * The first search place that exists, from `cwd` up to the root. Only its name is looked at: a
 * named pipe or a directory found here is refused when read, never waited on or skipped.
 */
async function searchUpwards(cwd: string): Promise<string | undefined> {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const place of INVENTORY_SEARCH_PLACES) {
      const candidate = path.join(dir, place);
      if (await exists(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    // A dangling link or a file in place of a directory on the way is no inventory; anything else is a problem.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new UsageError(messages.cannotSearchInventory((error as Error).message), nextStep());
  }
}
