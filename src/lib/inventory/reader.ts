// Reading the values of an inventory file with their positions. Every problem is kept, at its
// exact line and column with a next step, so that a volunteer fixes the whole file in one pass.
// The core sections and each domain's own read the file through this one API.
import path from 'node:path';
import {
  type Alias,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Node as YamlNode,
  type Scalar,
  visit,
} from 'yaml';
import { UsageError } from '../run/errors.js';
import { escapeUnprintable, PRIVATE_KEY, quoted } from '../run/printable.js';
import { EXAMPLE_FILE } from './example.js';
import { messages } from './messages.js';
import { suggest } from './suggest.js';
import type { SectionContext } from './sections.js';
import type { SourcePosition } from './types.js';

export interface InventoryProblem {
  position: SourcePosition;
  /** YAML path of the key or value, like "hosts.pve1.port" or "groups.web[2]"; empty for the whole file. */
  path: string;
  message: string;
  hint?: string;
}

/** Everything wrong with an inventory file, sorted by position, one problem per line. */
export class InventoryError extends UsageError {
  readonly problems: InventoryProblem[];

  constructor(problems: InventoryProblem[]) {
    const sorted = [...problems].sort(byPosition);
    super(sorted.map(formatProblem).join('\n'), messages.fixProblems(sorted.length, EXAMPLE_FILE));
    this.problems = sorted;
  }
}

/** One parse: where the text came from, and the problems found so far. */
export interface Reader {
  file: string;
  baseDir: string;
  doc: Document;
  lines: LineCounter;
  /** What each alias stands for, found in one pass: yaml's resolve() walks the whole document per call. */
  aliasTargets: Map<Alias, YamlNode>;
  /** Items of mappings and lists read once more through an alias, against ALIASED_VALUES_LIMIT. */
  valuesReadAgain: number;
  problems: InventoryProblem[];
  /** The text does not parse: the checks would only report what follows from it (see reportYamlErrors). */
  syntaxBroken: boolean;
}

/** A value in the file and its YAML path; `key` is pointed at when the value is empty. */
export interface Field {
  value: YamlNode | null;
  key?: YamlNode;
  path: string;
}

/** A key of a mapping and its value. */
interface Entry extends Field {
  name: string;
  key: YamlNode;
}

export type ReadField<T> = (reader: Reader, field: Field) => T | undefined;
export type SectionValues<Readers> = { [K in keyof Readers]?: Readers[K] extends ReadField<infer T> ? T : never };

/** What a scalar must be: `expected` completes "must be ...", `hint` gives the rule. */
export interface ScalarKind<T> {
  expected: string;
  hint: string;
  /** The value, or undefined when the scalar does not qualify. */
  parse(scalar: Scalar): T | undefined;
}

/** Parses the text of `file` (which locates problems and relative paths); YAML syntax errors are its first problems. */
export function openReader(text: string, file: string): Reader {
  const absoluteFile = path.resolve(file);
  const lines = new LineCounter();
  // Duplicate keys are found by readEntries: the yaml package places them after the previous value.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const reader: Reader = {
    file: absoluteFile,
    baseDir: path.dirname(absoluteFile),
    doc,
    lines,
    aliasTargets: aliasTargets(doc),
    valuesReadAgain: 0,
    problems: [],
    syntaxBroken: false,
  };
  reportYamlErrors(reader);
  return reader;
}

/**
 * A file that does not parse gets only its syntax problems: what the checks would say of the
 * rest (a host "without an address" whose address line is tab-indented) follows from them. On a
 * line indented with a tab, the tab is the problem; yaml's other complaints there follow from it.
 */
function reportYamlErrors(reader: Reader): void {
  const tabLines = new Set(
    reader.doc.errors.filter((error) => error.code === 'TAB_AS_INDENT').map((error) => lineAt(reader, error.pos[0])),
  );
  for (const error of reader.doc.errors) {
    const [offset] = error.pos;
    if (error.code !== 'TAB_AS_INDENT' && tabLines.has(lineAt(reader, offset))) continue;
    // A second document leaves the first one whole: its checks still run.
    if (error.code !== 'MULTIPLE_DOCS') reader.syntaxBroken = true;
    if (error.code === 'MULTIPLE_DOCS') {
      reportAt(reader, offset, '', messages.severalDocuments, messages.severalDocumentsHint);
    } else {
      const message = messages.yamlSyntax(escapeUnprintable(error.message));
      reportAt(reader, offset, '', message, messages.yamlSyntaxHint);
    }
  }
}

/** Every problem comes with what to do about it. */
export function report(
  reader: Reader,
  node: YamlNode | null | undefined,
  problemPath: string,
  message: string,
  hint: string,
): void {
  reportAt(reader, offsetOf(node), problemPath, message, hint);
}

function reportAt(reader: Reader, offset: number, problemPath: string, message: string, hint: string): void {
  reader.problems.push({ position: positionAt(reader, offset), path: problemPath, message, hint });
}

function lineAt(reader: Reader, offset: number): number {
  return reader.lines.linePos(offset).line;
}

function positionAt(reader: Reader, offset: number): SourcePosition {
  const { line, col } = reader.lines.linePos(offset);
  return { file: reader.file, line, col };
}

/** Where a node is in the file, for the `source` of what is read from it. */
export function positionOf(reader: Reader, node: YamlNode | null): SourcePosition {
  return positionAt(reader, offsetOf(node));
}

export function lineOf(reader: Reader, node: YamlNode | null): number {
  return positionOf(reader, node).line;
}

/** Nodes without a position (the empty document) are at the start of the file. */
export function offsetOf(node: YamlNode | null | undefined): number {
  return node?.range?.[0] ?? 0;
}

export function isEmpty(node: YamlNode | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** Where to point for a problem with a value: the value, or its key when there is no value. */
export function where(field: Field): YamlNode | null {
  return isEmpty(field.value) ? (field.key ?? field.value) : field.value;
}

function childPath(parent: string, key: string): string {
  return parent === '' ? shownKey(key) : `${parent}.${shownKey(key)}`;
}

/** A key of only these characters is shown as it is in paths and examples; any other, quoted. */
const PLAIN_KEY = /^[A-Za-z0-9._-]+$/;

export function shownKey(key: string): string {
  return PLAIN_KEY.test(key) ? key : quoted(key);
}

/**
 * The values chaton may read again through aliases: far more than an inventory repeats (an ssh:
 * section shared by a thousand hosts), far fewer than the "billion laughs" has it read and report.
 */
const ALIASED_VALUES_LIMIT = 100_000;

/** Each alias and the node it stands for: the last one anchored with its name before it. */
function aliasTargets(doc: Document): Map<Alias, YamlNode> {
  const anchored = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchored.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) {
        anchored.set(node.anchor, node);
      }
    },
  });
  return targets;
}

/** The node itself, or the one an alias stands for; `nodePath` locates a problem with an alias. */
function deref(reader: Reader, node: unknown, nodePath: string): YamlNode | null {
  if (!isAlias(node)) return (node as YamlNode | null) ?? null;
  const target = reader.aliasTargets.get(node) ?? null;
  const name = escapeUnprintable(node.source);
  if (!target) {
    report(reader, node, nodePath, messages.aliasWithoutAnchor(name), messages.aliasWithoutAnchorHint(name));
  } else if (isCollection(target)) {
    reader.valuesReadAgain += target.items.length;
    if (reader.valuesReadAgain > ALIASED_VALUES_LIMIT) {
      const message = messages.tooManyAliasedValues(name, ALIASED_VALUES_LIMIT);
      report(reader, node, nodePath, message, messages.tooManyAliasedValuesHint);
      // Stop reading: what is left would only repeat the same values, and the same problems.
      throw new InventoryError(reader.problems);
    }
  }
  return target;
}

/** Pasted by mistake, anywhere in the file: such a value is never repeated in messages. */
export function isPrivateKey(node: YamlNode | null): boolean {
  return isScalar(node) && typeof node.value === 'string' && PRIVATE_KEY.test(node.value);
}

/** How a value looks in the file, for "got ..." in messages. */
function describe(node: YamlNode | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return messages.gotNothing;
  if (isPrivateKey(node)) return messages.gotPrivateKey;
  if (isMap(node)) return messages.gotMapping;
  if (isSeq(node)) return messages.gotList;
  if (isScalar(node)) return typeof node.value === 'string' ? quoted(node.value) : (scalarText(node) ?? '?');
  return messages.gotSomethingElse;
}

/** A scalar as the operator wrote it: names like 101 are numbers to YAML, text to chaton. */
export function scalarText(scalar: Scalar): string | undefined {
  if (typeof scalar.value === 'string') return scalar.value;
  if (scalar.value === null || scalar.value === undefined) return undefined;
  return scalar.source ?? String(scalar.value);
}

export function readScalar<T>(reader: Reader, field: Field, kind: ScalarKind<T>): T | undefined {
  const value = isScalar(field.value) ? kind.parse(field.value) : undefined;
  if (value === undefined) {
    report(reader, where(field), field.path, messages.mustBe(kind.expected, describe(field.value)), kind.hint);
  }
  return value;
}

export function scalar<T>(kind: ScalarKind<T>): ReadField<T> {
  return (reader, field) => readScalar(reader, field, kind);
}

/** The items of a list, each with its path ("groups.web[2]"). */
export function listItems(reader: Reader, field: Field, expected: string, hint: string): Field[] | undefined {
  if (!isSeq(field.value)) {
    report(reader, where(field), field.path, messages.mustBe(expected, describe(field.value)), hint);
    return undefined;
  }
  return field.value.items.map((item, index) => {
    const itemPath = `${field.path}[${index}]`;
    return { value: deref(reader, item, itemPath), path: itemPath };
  });
}

/** The valid items of a list; each bad item is reported. */
export function list<T>(kind: ScalarKind<T>, expected: string, hint: string): ReadField<T[]> {
  return (reader, field) =>
    listItems(reader, field, expected, hint)?.flatMap((item) => {
      const value = readScalar(reader, item, kind);
      return value === undefined ? [] : [value];
    });
}

/** The fields of a single value (itself) or of a non-empty list of them (its items). */
export function oneOrMoreItems(reader: Reader, field: Field, expected: string, hint: string): Field[] | undefined {
  if (isScalar(field.value) && !isEmpty(field.value)) return [field];
  const items = listItems(reader, field, expected, hint);
  if (items?.length === 0) {
    report(reader, where(field), field.path, messages.mustBe(expected, messages.gotEmptyList), hint);
  }
  return items;
}

/** The valid values of a single value or a non-empty list of them; a bad single value gives undefined. */
export function oneOrMore<T>(kind: ScalarKind<T>, expected: string, hint: string): ReadField<T[]> {
  return (reader, field) => {
    const values = oneOrMoreItems(reader, field, expected, hint)?.flatMap((item) => {
      const value = readScalar(reader, item, kind);
      return value === undefined ? [] : [value];
    });
    return isScalar(field.value) && values?.length === 0 ? undefined : values;
  };
}

/** The keys of a mapping with their values; reports keys that are not text, and duplicates. */
export function readEntries(reader: Reader, field: Field, expected: string, hint: string): Entry[] | undefined {
  if (isEmpty(field.value)) return [];
  if (!isMap(field.value)) {
    report(reader, where(field), field.path, messages.mustBe(expected, describe(field.value)), hint);
    return undefined;
  }
  const firstKeys = new Map<string, YamlNode>();
  const entries: Entry[] = [];
  for (const pair of field.value.items) {
    const key = deref(reader, pair.key, field.path);
    const name = key && isScalar(key) ? scalarText(key) : undefined;
    if (key === null || name === undefined) {
      report(reader, key ?? where(field), field.path, messages.keyNotPlainName(describe(key)), hint);
      continue;
    }
    const entryPath = childPath(field.path, name);
    const firstKey = firstKeys.get(name);
    if (firstKey) {
      const message = messages.keyWrittenTwice(lineOf(reader, firstKey));
      report(reader, key, entryPath, message, messages.keyWrittenTwiceHint);
      continue;
    }
    firstKeys.set(name, key);
    entries.push({ name, key, value: deref(reader, pair.value, entryPath), path: entryPath });
  }
  return entries;
}

/** The known keys of a mapping; unknown ones are reported with a "did you mean". */
export function readKnownKeys(
  reader: Reader,
  field: Field,
  knownKeys: readonly string[],
): Map<string, Field> | undefined {
  const knownList = messages.knownKeys(knownKeys.join(', '));
  const entries = readEntries(reader, field, messages.aMapping, knownList);
  if (!entries) return undefined;
  const fields = new Map<string, Field>();
  for (const entry of entries) {
    if (knownKeys.includes(entry.name)) {
      fields.set(entry.name, entry);
      continue;
    }
    const guess = suggest(entry.name, knownKeys);
    const hint = guess ? messages.didYouMean(quoted(guess)) : knownList;
    report(reader, entry.key, entry.path, messages.unknownKey(quoted(entry.name)), hint);
  }
  return fields;
}

/**
 * Whether `name`, read from `field`, is a host of `hosts:`; if not, reported with the closest
 * name, else with `hint` (what the section does on that host).
 */
export function isInventoryHost(
  reader: Reader,
  field: Field,
  name: string,
  context: SectionContext,
  hint: string,
): boolean {
  if (context.hostNames.includes(name)) return true;
  const guess = suggest(name, context.hostNames);
  report(
    reader,
    where(field),
    field.path,
    messages.notAHost(quoted(name)),
    guess ? messages.didYouMean(quoted(guess)) : hint,
  );
  return false;
}

/** A key a section cannot do without, reported at the section's key (or its first line). */
export function requireKey(
  reader: Reader,
  section: Field,
  fields: Map<string, Field>,
  key: string,
  hint: string,
): void {
  if (!fields.has(key)) report(reader, section.key ?? where(section), section.path, messages.missingKey(key), hint);
}

/** A mapping with a fixed set of keys, each read by its own reader. */
export function readSection<Readers extends Record<string, ReadField<unknown>>>(
  reader: Reader,
  field: Field,
  readers: Readers,
): { values: SectionValues<Readers>; fields: Map<string, Field> } | undefined {
  const fields = readKnownKeys(reader, field, Object.keys(readers));
  if (!fields) return undefined;
  const values: Record<string, unknown> = {};
  for (const [key, keyField] of fields) {
    const value = readers[key]?.(reader, keyField);
    if (value !== undefined) values[key] = value;
  }
  return { values: values as SectionValues<Readers>, fields };
}

// ---------------------------------------------------------------------------------------------
// Messages

function byPosition(a: InventoryProblem, b: InventoryProblem): number {
  return a.position.line - b.position.line || a.position.col - b.position.col;
}

function formatProblem({ position, path: problemPath, message, hint }: InventoryProblem): string {
  // The same `file:line:col: ` in every language: editors and terminals jump to it.
  const location = `${position.file}:${position.line}:${position.col}: `;
  return `${location}${problemPath ? messages.atPath(problemPath) : ''}${message}${hint ? ` (${hint})` : ''}`;
}
