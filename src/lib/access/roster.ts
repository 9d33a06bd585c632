// Writes the roster (`sysadmins:`) back into the inventory, for `onboard sysadmin --save` and
// `offboard sysadmin`. The file is the collective's own, annotated by hand: only the text of the
// list under `sysadmins:` is replaced, so every other byte, comment included, stays as written.
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isScalar, isSeq, type Node as YamlNode, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import {
  checkInventoryWritable,
  editInventory,
  indented,
  lineStartOf,
  replaceInlineValue,
  STRINGIFY_OPTIONS,
  topLevelPair,
  withSectionAppended,
} from '../inventory/edit.js';
import { UsageError } from '../run/errors.js';
import { type Sysadmin, sysadminsOf } from './inventory.js';
import { messages } from './messages.js';

export type RosterEntry = Omit<Sysadmin, 'source'>;

/**
 * Adds or replaces the entry of `entry.login` in `sysadmins:`, keeping every comment and the
 * layout of the rest of the file; creates the section at the end when absent.
 */
export async function saveSysadmin(file: string, entry: RosterEntry): Promise<'added' | 'updated' | 'unchanged'> {
  const before = await changeRoster(file, (roster) => {
    const index = roster.findIndex((sysadmin) => sysadmin.login === entry.login);
    return index === -1 ? [...roster, entry] : roster.with(index, entry);
  });
  const previous = before.find((sysadmin) => sysadmin.login === entry.login);
  if (!previous) return 'added';
  return isSameEntry(previous, entry) ? 'unchanged' : 'updated';
}

/** Removes the entry of `login` from `sysadmins:`, keeping comments and layout. */
export async function removeSysadmin(file: string, login: string): Promise<'removed' | 'absent'> {
  const before = await changeRoster(file, (roster) => roster.filter((sysadmin) => sysadmin.login !== login));
  return before.some((sysadmin) => sysadmin.login === login) ? 'removed' : 'absent';
}

/**
 * Refuses, before anything is changed, an inventory whose roster could not be saved: the lock a
 * save creates next to the file is created and removed, which fails as the save would on a
 * read-only file system or in a directory without write access.
 */
export async function checkRosterWritable(file: string): Promise<void> {
  try {
    await checkInventoryWritable(file);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(messages.saveRefused(error.message), messages.saveRefusedHint(error.hint ?? ''));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading, checking and writing

/**
 * Writes `change(roster)` into the file when it differs from the roster there, and returns the
 * roster as it was. The inventory must be valid before, and is checked again before writing.
 */
function changeRoster(file: string, change: (roster: RosterEntry[]) => RosterEntry[]): Promise<RosterEntry[]> {
  let wanted: RosterEntry[] = [];
  return editInventory(
    file,
    (text, inventory) => {
      const before = sysadminsOf(inventory);
      wanted = change(before);
      if (isDeepStrictEqual(before.map(fileEntry), wanted.map(fileEntry))) return { result: before };
      return { text: withRoster(text, before, wanted), result: before };
    },
    {
      invalid: messages.rosterInvalid,
      // The text about to be written must give back exactly the roster wanted.
      readsBack: (written) => {
        if (!isDeepStrictEqual(sysadminsOf(written).map(fileEntry), wanted.map(fileEntry))) {
          throw new Error(messages.rosterReadsBackWrong(written.file));
        }
      },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Editing the text

/**
 * The entry as the file holds it: the example's key order, absent optional keys left out, key
 * lines without the line break of the .pub file they may come from (the loader trims them too).
 */
function fileEntry(entry: RosterEntry): Record<string, unknown> {
  return {
    login: entry.login,
    ...(entry.name === undefined ? {} : { name: entry.name }),
    ...(entry.email === undefined ? {} : { email: entry.email }),
    keys: entry.keys.map((key) => key.trim()),
    sudo: entry.sudo,
    ...(entry.sudoCommands === undefined ? {} : { sudo_commands: entry.sudoCommands }),
    ...(entry.groups.length === 0 ? {} : { groups: entry.groups }),
    ...(entry.proxmoxRole === undefined ? {} : { proxmox_role: entry.proxmoxRole }),
    ...(entry.expires === undefined ? {} : { expires: entry.expires }),
  };
}

function isSameEntry(a: RosterEntry, b: RosterEntry): boolean {
  return isDeepStrictEqual(fileEntry(a), fileEntry(b));
}

function entryNode(doc: Document, entry: RosterEntry): YAMLMap {
  const node = doc.createNode(fileEntry(entry)) as YAMLMap;
  const groups = node.get('groups', true);
  if (isSeq(groups)) groups.flow = true;
  return node;
}

/** The text with its `sysadmins:` list replaced by `wanted`; `before` is what the file holds. */
function withRoster(text: string, before: RosterEntry[], wanted: RosterEntry[]): string {
  const doc = parseDocument(text);
  const pair = topLevelPair(doc, 'sysadmins');
  const list = isSeq(pair?.value) ? pair.value : new YAMLSeq();
  const trailingComment = editEntries(doc, list, before, wanted);
  const block = list.items.length === 0 ? '' : renderList(list, trailingComment);
  if (!pair) return withSectionAppended(text, 'sysadmins', block);
  if (isSeq(pair.value) && !pair.value.flow) return replaceBlockList(text, pair.value, block);
  return replaceInlineValue(text, pair, block);
}

/**
 * Makes the nodes of `list` say `wanted`: entries that stay keep their place and their comments,
 * changed ones are edited in place, new ones go at the end. The comment above a removed entry
 * stays, above the next entry; returns it when no entry follows, to be written after the list.
 */
function editEntries(doc: Document, list: YAMLSeq, before: RosterEntry[], wanted: RosterEntry[]): string | undefined {
  const beforeByLogin = new Map(before.map((entry) => [entry.login, entry]));
  const wantedByLogin = new Map(wanted.map((entry) => [entry.login, entry]));
  const items: YamlNode[] = [];
  // Lines left above the next entry by removed ones; '' is an empty line.
  let orphanLines: string[] = [];
  const keep = (item: YamlNode): void => {
    if (orphanLines.length > 0) {
      const lines = [...orphanLines, ...linesAbove(item)];
      item.spaceBefore = lines[0] === '';
      item.commentBefore = lines.slice(item.spaceBefore ? 1 : 0).join('\n');
      orphanLines = [];
    }
    items.push(item);
  };
  for (const item of list.items as YamlNode[]) {
    const login = isMap(item) ? item.get('login') : undefined;
    // Not a plain entry (an alias): left as it is; the check before writing catches any conflict.
    if (!isMap(item) || typeof login !== 'string') {
      keep(item);
      continue;
    }
    const entry = wantedByLogin.get(login);
    if (!entry) {
      if (item.commentBefore) orphanLines.push(...linesAbove(item));
      continue;
    }
    wantedByLogin.delete(login);
    const previous = beforeByLogin.get(login);
    if (!previous || !isSameEntry(previous, entry)) updateEntry(item, entryNode(doc, entry));
    keep(item);
  }
  for (const entry of wantedByLogin.values()) items.push(entryNode(doc, entry));
  list.items = items;
  return orphanLines.length > 0 ? orphanLines.join('\n') : undefined;
}

/** What yaml keeps above an item: an empty line or not, then its comment. */
function linesAbove(item: YamlNode): string[] {
  return [...(item.spaceBefore ? [''] : []), ...(item.commentBefore ? [item.commentBefore] : [])];
}

/** Gives `entry` the keys and values of `fresh`, reusing the keys and values that stay, with their comments. */
function updateEntry(entry: YAMLMap, fresh: YAMLMap): void {
  entry.items = fresh.items.map((pair) => {
    const kept = entry.items.find((old) => isScalar(old.key) && isScalar(pair.key) && old.key.value === pair.key.value);
    if (!kept) return pair;
    kept.value = reuseValue(kept.value as YamlNode | null, pair.value as YamlNode);
    return kept;
  });
}

function reuseValue(old: YamlNode | null, fresh: YamlNode): YamlNode {
  if (isScalar(old) && isScalar(fresh)) {
    if (old.value === fresh.value) return old;
    fresh.comment = old.comment;
    return fresh;
  }
  if (isSeq(old) && isSeq(fresh)) {
    old.items = fresh.items.map(
      (item) =>
        old.items.find((oldItem) => isScalar(oldItem) && isScalar(item) && oldItem.value === item.value) ?? item,
    );
    return old;
  }
  return fresh;
}

/** The list alone, at indentation 0, ending with a newline. */
function renderList(list: YAMLSeq, trailingComment: string | undefined): string {
  // A new list: the comments of `list` itself sit outside the text that is replaced.
  const alone = new YAMLSeq();
  alone.items = list.items;
  alone.comment = trailingComment;
  return new Document(alone).toString(STRINGIFY_OPTIONS);
}

/** A block list: its lines, from the first "-" to the end of the last entry, are replaced. */
function replaceBlockList(text: string, list: YAMLSeq, block: string): string {
  const [start, end] = list.range ?? [0, 0];
  const lineStart = lineStartOf(text, start);
  const replacement = indented(block, start - lineStart);
  // At the end of a file without a final newline, the list has none either.
  const fitted = text.slice(start, end).endsWith('\n') ? replacement : replacement.replace(/\n$/, '');
  return text.slice(0, lineStart) + fitted + text.slice(end);
}
