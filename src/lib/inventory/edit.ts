// Edits of the inventory file by chaton itself (`--save`): the file is the collective's own,
// annotated by hand, so only the text of the value that changes is replaced and every other byte,
// comment included, stays as written. Each edit runs under a lock, on a file that must load
// before and after, and is written whole or not at all with the file's mode kept.
import { isDeepStrictEqual } from 'node:util';
import {
  Document,
  isCollection,
  isMap,
  isScalar,
  type Node as YamlNode,
  type Pair,
  parseDocument,
  type Scalar,
  type ToStringOptions,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { UsageError } from '../run/errors.js';
import { fileToReplace, withFileLock, writeFileAtomically } from '../run/files.js';
import { parseInventory, readInventoryText } from './load.js';
import { messages } from './messages.js';
import { InventoryError } from './reader.js';
import type { Host, Inventory } from './types.js';

/** What an edit makes of the text: the text to write (none: nothing changes) and its answer. */
export interface InventoryEdit<T> {
  text?: string;
  result: T;
}

/** What an editor says when its edit would not load, and checks once it does. */
export interface EditChecks {
  /** The refusal, given the problems of the edited text one per line. */
  invalid: (file: string, problems: string) => string;
  /** Throws when the edited inventory does not say what the edit meant: nothing is written. */
  readsBack: (written: Inventory) => void;
}

/**
 * Writes `edit(text, inventory)` into the file (the file a link points to). The inventory must
 * be valid before (its problems are thrown, each at its line), and the edited text is checked
 * again before it is written: its problems are the edit's, at YAML paths since their lines are
 * not on disk.
 */
export async function editInventory<T>(
  file: string,
  edit: (text: string, inventory: Inventory) => InventoryEdit<T>,
  checks: EditChecks,
): Promise<T> {
  const target = await fileToReplace(file);
  return withFileLock(target, async () => {
    const text = await readInventoryText(target);
    const { text: next, result } = edit(text, parseInventory(text, target));
    if (next === undefined || next === text) return result;
    checks.readsBack(parsedEdit(next, target, checks));
    await writeFileAtomically(target, next);
    return result;
  });
}

function parsedEdit(text: string, file: string, checks: EditChecks): Inventory {
  try {
    return parseInventory(text, file);
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    const problems = error.problems.map(
      ({ path, message, hint }) => `${messages.editProblem(path, message)}${hint ? ` (${hint})` : ''}`,
    );
    throw new UsageError(checks.invalid(file, problems.join('\n')), messages.editInvalidHint);
  }
}

/**
 * Refuses, before anything is changed, an inventory that could not be edited: the lock an edit
 * creates next to the file is created and removed, which fails as the edit would on a read-only
 * file system or in a directory without write access.
 */
export async function checkInventoryWritable(file: string): Promise<void> {
  await withFileLock(await fileToReplace(file), async () => {});
}

// ---------------------------------------------------------------------------------------------
// Splicing text

/** Flow lists as in the example, long lines never folded. */
export const STRINGIFY_OPTIONS: ToStringOptions = { lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false };

/** The top-level pair of `key`, if the document is a mapping that has it. */
export function topLevelPair(doc: Document, key: string): Pair<YamlNode, YamlNode | null> | undefined {
  if (!isMap(doc.contents)) return undefined;
  return doc.contents.items.find((item) => isScalar(item.key) && item.key.value === key) as
    Pair<YamlNode, YamlNode | null> | undefined;
}

/** The text with a new top-level section `key:` holding `block` (at indentation 0) at its end. */
export function withSectionAppended(text: string, key: string, block: string): string {
  return `${text}${blankLineAfter(text)}${key}:\n${indented(block, 2)}`;
}

/** What separates a new section from the end of the file: one empty line. */
function blankLineAfter(text: string): string {
  if (text.endsWith('\n\n')) return '';
  return text.endsWith('\n') ? '\n' : '\n\n';
}

export function indented(block: string, width: number): string {
  return block.replace(/^(?=.)/gm, ' '.repeat(width));
}

export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/**
 * `key:` with nothing, `~` or a flow collection on its line: the value goes, a comment after it
 * stays on the key's line, and `block` (at indentation 0) follows on the next lines.
 */
export function replaceInlineValue(text: string, pair: Pair<YamlNode, YamlNode | null>, block: string): string {
  const [keyStart, keyEnd] = pair.key.range ?? [0, 0];
  const valueEnd = pair.value?.range?.[1] ?? keyEnd;
  const newline = text.indexOf('\n', valueEnd);
  const lineEnd = newline === -1 ? text.length : newline;
  const comment = text.slice(valueEnd, lineEnd).trim();
  const keyColumn = keyStart - lineStartOf(text, keyStart);
  const body = block === '' ? '' : `\n${indented(block, keyColumn + 2).replace(/\n$/, '')}`;
  return `${text.slice(0, keyEnd)}:${comment ? ` ${comment}` : ''}${body}${text.slice(lineEnd)}`;
}

/** `value` as it reads inside a flow collection, quoted where that context needs it. */
function flowValue(value: unknown): string {
  const doc = new Document([value]);
  (doc.contents as YAMLSeq).flow = true;
  for (const item of (doc.contents as YAMLSeq).items) if (isCollection(item)) item.flow = true;
  return doc.toString(STRINGIFY_OPTIONS).trimEnd().slice(1, -1);
}

/** `{ key: value, ... }`, as the lab's inventory and hand-written ones give a host on one line. */
function flowMap(values: [string, unknown][]): string {
  return `{ ${values.map(([key, value]) => `${key}: ${flowValue(value)}`).join(', ')} }`;
}

/** Where a new line goes after `node`: past the end of its last line, comment included. */
function endOfLastLine(text: string, node: YamlNode): number {
  const end = node.range?.[1] ?? text.length;
  if (text[end - 1] === '\n') return end;
  const newline = text.indexOf('\n', end);
  return newline === -1 ? text.length : newline + 1;
}

/**
 * Adds `key: value` at the end of `map`, which has an entry at least: inside its braces when it
 * is a flow map, else as a new line at the indentation of its keys.
 */
function withPairAdded(text: string, map: YAMLMap, key: string, valueText: string): string {
  const last = map.items.at(-1) as Pair<YamlNode, YamlNode | null>;
  const lastNode = last.value ?? last.key;
  if (map.flow) {
    const end = lastNode.range?.[1] ?? 0;
    return `${text.slice(0, end)}, ${key}: ${valueText}${text.slice(end)}`;
  }
  const first = map.items[0]!.key as YamlNode;
  const start = first.range?.[0] ?? 0;
  const at = endOfLastLine(text, lastNode);
  // A block value starts on the next line: no space after the colon.
  const separator = valueText.startsWith('\n') ? '' : ' ';
  const line = `${' '.repeat(start - lineStartOf(text, start))}${key}:${separator}${valueText}\n`;
  // At the end of a file without a final newline, the line before gets one.
  return at === text.length && !text.endsWith('\n')
    ? `${text}\n${line}`
    : `${text.slice(0, at)}${line}${text.slice(at)}`;
}

/** Replaces the value of `pair` by `valueText`, keeping the comment after it. */
function withValueReplaced(text: string, pair: Pair<YamlNode, YamlNode | null>, valueText: string): string {
  const keyEnd = pair.key.range?.[1] ?? 0;
  const value = pair.value;
  if (!value?.range || (isCollection(value) && !value.flow)) {
    // No value, or a block list on its own lines: the key's line gets the flow value.
    const colon = text.indexOf(':', keyEnd);
    const end = value?.range ? value.range[1] : colon + 1;
    const newline = text[end - 1] === '\n' ? '\n' : '';
    return `${text.slice(0, colon)}: ${valueText}${newline}${text.slice(end)}`;
  }
  return `${text.slice(0, value.range[0])}${valueText}${text.slice(value.range[1])}`;
}

// ---------------------------------------------------------------------------------------------
// Hosts

/** A host as `--save` writes it under `hosts:`; keys left out are not written (nor changed when present). */
export interface SavedHost {
  name: string;
  /** One address, or several tried in order. */
  address: string | readonly string[];
  port?: number;
  user?: string;
  roles?: readonly string[];
  become?: 'sudo' | 'none';
  direct?: boolean;
}

/** The keys of a host entry in the example's order, absent ones left out. */
function hostValues(host: SavedHost): [string, unknown][] {
  const address = typeof host.address === 'string' || host.address.length !== 1 ? host.address : host.address[0];
  const values: [string, unknown][] = [
    ['address', address],
    ['port', host.port],
    ['user', host.user],
    ['roles', host.roles],
    ['become', host.become],
    ['direct', host.direct],
  ];
  return values.filter(([, value]) => value !== undefined);
}

/**
 * Adds the host to `hosts:`, or gives its entry the values given (the others it has stay), in
 * place: comments and layout are kept. A new entry takes the style of the last one (a flow map
 * `name: { address: x, roles: [a] }` or a block).
 */
export function saveHost(file: string, host: SavedHost): Promise<'added' | 'updated' | 'unchanged'> {
  return editInventory(file, (text) => withHost(text, host), {
    invalid: (target, problems) => messages.hostNotSaved(host.name, target, problems),
    readsBack: (written) => {
      const saved = written.hosts.find((candidate) => candidate.name === host.name);
      const wanted = [host.address].flat();
      const same =
        saved !== undefined &&
        isDeepStrictEqual([...saved.addresses], wanted) &&
        (host.roles === undefined || isDeepStrictEqual(saved.roles, [...new Set(host.roles)])) &&
        (host.user === undefined || saved.user === host.user) &&
        (host.port === undefined || saved.port === host.port);
      if (!same) throw new Error(messages.hostReadsBackWrong(host.name, written.file));
    },
  });
}

/** The host as saveHost would write it, read the way every command reads the inventory; nothing is written. */
export async function hostAsSaved(file: string, host: SavedHost): Promise<Host> {
  const doc = parseDocument(await readInventoryText(file));
  const { name, ...entry } = host;
  doc.setIn(['hosts', name], doc.createNode(entry));
  return parseInventory(doc.toString(), file).hosts.find((candidate) => candidate.name === name)!;
}

function withHost(text: string, host: SavedHost): InventoryEdit<'added' | 'updated' | 'unchanged'> {
  const doc = parseDocument(text);
  const values = hostValues(host);
  // The file loaded before this edit: it has a `hosts:` mapping with a host at least.
  const hosts = topLevelPair(doc, 'hosts')?.value as YAMLMap;
  const entryPair = hosts.items.find((item) => isScalar(item.key) && item.key.value === host.name) as
    Pair<Scalar, YamlNode | null> | undefined;
  if (!entryPair) {
    const last = hosts.items.at(-1)?.value;
    const block = isMap(last) && !last.flow && !hosts.flow;
    const entry = block ? blockEntry(text, hosts, values) : flowMap(values);
    return { text: withPairAdded(text, hosts, host.name, entry), result: 'added' };
  }
  const entry = entryPair.value;
  // Not a mapping: an alias, which repeats another host's address and port; the loader refused it.
  if (!isMap(entry)) return { result: 'unchanged' };
  const pairOf = (key: string) =>
    entry.items.find((item) => isScalar(item.key) && item.key.value === key) as
      Pair<YamlNode, YamlNode | null> | undefined;
  const changed = values.flatMap(([key, value]) => {
    const pair = pairOf(key);
    return pair && !isDeepStrictEqual(jsonOf(pair.value), value) ? [{ pair, value }] : [];
  });
  // From the last in the file to the first, so that the offsets of those before stay right.
  changed.sort((a, b) => (b.pair.key.range?.[0] ?? 0) - (a.pair.key.range?.[0] ?? 0));
  let edited = text;
  for (const { pair, value } of changed) edited = withValueReplaced(edited, pair, flowValue(value));
  // New keys go at the end of the entry, after every replacement (which all come before them).
  for (const [key, value] of values) {
    if (pairOf(key)) continue;
    edited = withPairAdded(edited, parsedEntry(edited, host.name), key, flowValue(value));
  }
  return edited === text ? { result: 'unchanged' } : { text: edited, result: 'updated' };
}

function jsonOf(node: YamlNode | null): unknown {
  return node === null ? null : node.toJSON();
}

/** The host's entry in `text` as it now is (its offsets after earlier edits). */
function parsedEntry(text: string, name: string): YAMLMap {
  const hosts = topLevelPair(parseDocument(text), 'hosts')?.value as unknown as YAMLMap;
  return hosts.get(name, true) as unknown as YAMLMap;
}

/** A block entry, its keys one level under the host's name, as its neighbours are written. */
function blockEntry(text: string, hosts: YAMLMap, values: [string, unknown][]): string {
  const last = hosts.items.at(-1)!.value as YAMLMap;
  const firstKey = hosts.items[0]!.key as YamlNode;
  const innerKey = last.items[0]?.key as YamlNode | undefined;
  const column = (node: YamlNode) => (node.range?.[0] ?? 0) - lineStartOf(text, node.range?.[0] ?? 0);
  const step = innerKey ? column(innerKey) - column(firstKey) : 2;
  const indent = ' '.repeat(column(firstKey) + step);
  return values.map(([key, value]) => `\n${indent}${key}: ${flowValue(value)}`).join('');
}
