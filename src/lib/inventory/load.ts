// Reads and validates the inventory file. Every problem is reported at once, each at its exact
// line and column with a next step, so that a volunteer fixes the whole file in one pass.
import { isIP } from 'node:net';
import { homedir } from 'node:os';
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
import { EMAIL, isCalendarDate, LOGIN, PERSON_NAME, PROXMOX_ROLE, SUDO_COMMANDS } from '../access/accounts.js';
import { UsageError } from '../run/errors.js';
import { readRegularFile, UnreadableFileError } from '../run/files.js';
import { escapeUnprintable, hasUnprintable, quoted } from '../run/printable.js';
import { KEY_TYPES, parsePublicKeyLine, PRIVATE_KEY } from '../access/public-keys.js';
import { suggest } from './suggest.js';
import type { Endpoint, Host, Inventory, SharedSecret, SourcePosition, SshSettings, Sysadmin } from './types.js';

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
    const these = sorted.length === 1 ? 'this problem' : `these ${sorted.length} problems`;
    super(sorted.map(formatProblem).join('\n'), `fix ${these}; inventory.example.yaml documents every key`);
    this.problems = sorted;
  }
}

export async function loadInventory(file: string): Promise<Inventory> {
  return parseInventory(await readInventoryText(file), file);
}

/**
 * An inventory of hundreds of hosts takes well under 1 MiB. A much larger file is not one, and
 * would take a minute and gigabytes to parse (41 MB: 55 s, 3.4 GB).
 */
const INVENTORY_MAX_BYTES = 5 * 1024 * 1024;

export async function readInventoryText(file: string): Promise<string> {
  try {
    return (await readRegularFile(file, INVENTORY_MAX_BYTES)).toString('utf8');
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    const hint = error.tooLarge
      ? 'is this really the inventory? check its path; chaton reads it whole, so it refuses a larger file'
      : 'check the path of the inventory, and that you may read it: a regular file';
    throw new UsageError(`the inventory ${error.message}`, hint);
  }
}

/** Validates the text of an inventory file; `file` locates problems and relative paths. */
export function parseInventory(text: string, file: string): Inventory {
  const absoluteFile = path.resolve(file);
  const lines = new LineCounter();
  // Duplicate keys are found below: the yaml package places them after the previous value.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const reader: Reader = {
    file: absoluteFile,
    baseDir: path.dirname(absoluteFile),
    doc,
    lines,
    aliasTargets: aliasTargets(doc),
    valuesReadAgain: 0,
    problems: [],
  };
  reportYamlErrors(reader);
  const inventory = readInventory(reader);
  if (!inventory || reader.problems.length > 0) throw new InventoryError(reader.problems);
  return inventory;
}

// ---------------------------------------------------------------------------------------------
// Reading values, with their positions

/** One parse: where the text came from, and the problems found so far. */
interface Reader {
  file: string;
  baseDir: string;
  doc: Document;
  lines: LineCounter;
  /** What each alias stands for, found in one pass: yaml's resolve() walks the whole document per call. */
  aliasTargets: Map<Alias, YamlNode>;
  /** Items of mappings and lists read once more through an alias, against ALIASED_VALUES_LIMIT. */
  valuesReadAgain: number;
  problems: InventoryProblem[];
}

/** A value in the file and its YAML path; `key` is pointed at when the value is empty. */
interface Field {
  value: YamlNode | null;
  key?: YamlNode;
  path: string;
}

/** A key of a mapping and its value. */
interface Entry extends Field {
  name: string;
  key: YamlNode;
}

type ReadField<T> = (reader: Reader, field: Field) => T | undefined;
type SectionValues<Readers> = { [K in keyof Readers]?: Readers[K] extends ReadField<infer T> ? T : never };

/** What a scalar must be: `expected` completes "must be ...", `hint` gives the rule. */
interface ScalarKind<T> {
  expected: string;
  hint: string;
  /** The value, or undefined when the scalar does not qualify. */
  parse(scalar: Scalar): T | undefined;
}

/** Every problem comes with what to do about it. */
function report(reader: Reader, node: YamlNode | null | undefined, problemPath: string, message: string, hint: string): void {
  reportAt(reader, offsetOf(node), problemPath, message, hint);
}

function reportAt(reader: Reader, offset: number, problemPath: string, message: string, hint: string): void {
  reader.problems.push({ position: positionAt(reader, offset), path: problemPath, message, hint });
}

function positionAt(reader: Reader, offset: number): SourcePosition {
  const { line, col } = reader.lines.linePos(offset);
  return { file: reader.file, line, col };
}

function lineOf(reader: Reader, node: YamlNode | null): number {
  return positionAt(reader, offsetOf(node)).line;
}

/** Nodes without a position (the empty document) are at the start of the file. */
function offsetOf(node: YamlNode | null | undefined): number {
  return node?.range?.[0] ?? 0;
}

function isEmpty(node: YamlNode | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** Where to point for a problem with a value: the value, or its key when there is no value. */
function where(field: Field): YamlNode | null {
  return isEmpty(field.value) ? (field.key ?? field.value) : field.value;
}

function childPath(parent: string, key: string): string {
  return parent === '' ? shownKey(key) : `${parent}.${shownKey(key)}`;
}

/** A key of only these characters is shown as it is in paths and examples; any other, quoted. */
const PLAIN_KEY = /^[A-Za-z0-9._-]+$/;

function shownKey(key: string): string {
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
    const hint = `mark the value to repeat with &${name} before this alias, or write the value here`;
    report(reader, node, nodePath, `the alias *${name} has no anchor &${name} before it`, hint);
  } else if (isCollection(target)) {
    reader.valuesReadAgain += target.items.length;
    if (reader.valuesReadAgain > ALIASED_VALUES_LIMIT) {
      const message = `*${name} here has chaton read more than ${ALIASED_VALUES_LIMIT} values again through aliases`;
      const hint = 'is this really an inventory? write repeated values out, or alias fewer of them';
      report(reader, node, nodePath, message, hint);
      // Stop reading: what is left would only repeat the same values, and the same problems.
      throw new InventoryError(reader.problems);
    }
  }
  return target;
}

/** How a value looks in the file, for "got ..." in messages. */
function describe(node: YamlNode | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return 'nothing';
  if (isPrivateKey(node)) return 'a private key (not shown)';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return typeof node.value === 'string' ? quoted(node.value) : scalarText(node) ?? '?';
  return 'something else';
}

/** A scalar as the operator wrote it: names like 101 are numbers to YAML, text to chaton. */
function scalarText(scalar: Scalar): string | undefined {
  if (typeof scalar.value === 'string') return scalar.value;
  if (scalar.value === null || scalar.value === undefined) return undefined;
  return scalar.source ?? String(scalar.value);
}

function readScalar<T>(reader: Reader, field: Field, kind: ScalarKind<T>): T | undefined {
  const value = isScalar(field.value) ? kind.parse(field.value) : undefined;
  if (value === undefined) {
    report(reader, where(field), field.path, `must be ${kind.expected}, got ${describe(field.value)}`, kind.hint);
  }
  return value;
}

function scalar<T>(kind: ScalarKind<T>): ReadField<T> {
  return (reader, field) => readScalar(reader, field, kind);
}

/** The items of a list, each with its path ("groups.web[2]"). */
function listItems(reader: Reader, field: Field, expected: string, hint: string): Field[] | undefined {
  if (!isSeq(field.value)) {
    report(reader, where(field), field.path, `must be ${expected}, got ${describe(field.value)}`, hint);
    return undefined;
  }
  return field.value.items.map((item, index) => {
    const itemPath = `${field.path}[${index}]`;
    return { value: deref(reader, item, itemPath), path: itemPath };
  });
}

/** The valid items of a list; each bad item is reported. */
function list<T>(kind: ScalarKind<T>, expected: string, hint: string): ReadField<T[]> {
  return (reader, field) =>
    listItems(reader, field, expected, hint)?.flatMap((item) => {
      const value = readScalar(reader, item, kind);
      return value === undefined ? [] : [value];
    });
}

/** A single value or a non-empty list of them. */
function oneOrMore<T>(kind: ScalarKind<T>, expected: string, hint: string): ReadField<T[]> {
  const readList = list(kind, expected, hint);
  return (reader, field) => {
    if (isScalar(field.value) && !isEmpty(field.value)) {
      const value = readScalar(reader, field, kind);
      return value === undefined ? undefined : [value];
    }
    const values = readList(reader, field);
    if (values?.length === 0) report(reader, where(field), field.path, `must be ${expected}, got an empty list`, hint);
    return values;
  };
}

/** The keys of a mapping with their values; reports keys that are not text, and duplicates. */
function readEntries(reader: Reader, field: Field, expected: string, hint: string): Entry[] | undefined {
  if (isEmpty(field.value)) return [];
  if (!isMap(field.value)) {
    report(reader, where(field), field.path, `must be ${expected}, got ${describe(field.value)}`, hint);
    return undefined;
  }
  const firstKeys = new Map<string, YamlNode>();
  const entries: Entry[] = [];
  for (const pair of field.value.items) {
    const key = deref(reader, pair.key, field.path);
    const name = key && isScalar(key) ? scalarText(key) : undefined;
    if (key === null || name === undefined) {
      report(reader, key ?? where(field), field.path, `a key must be a plain name, got ${describe(key)}`, hint);
      continue;
    }
    const entryPath = childPath(field.path, name);
    const firstKey = firstKeys.get(name);
    if (firstKey) {
      const message = `is written twice (first on line ${lineOf(reader, firstKey)})`;
      report(reader, key, entryPath, message, 'keep one of them: YAML would silently use only one');
      continue;
    }
    firstKeys.set(name, key);
    entries.push({ name, key, value: deref(reader, pair.value, entryPath), path: entryPath });
  }
  return entries;
}

/** The known keys of a mapping; unknown ones are reported with a "did you mean". */
function readKnownKeys(reader: Reader, field: Field, knownKeys: readonly string[]): Map<string, Field> | undefined {
  const knownList = `known keys here: ${knownKeys.join(', ')}`;
  const entries = readEntries(reader, field, 'a mapping (key: value lines)', knownList);
  if (!entries) return undefined;
  const fields = new Map<string, Field>();
  for (const entry of entries) {
    if (knownKeys.includes(entry.name)) {
      fields.set(entry.name, entry);
      continue;
    }
    const guess = suggest(entry.name, knownKeys);
    const hint = guess ? `did you mean "${guess}"?` : knownList;
    report(reader, entry.key, entry.path, `unknown key ${quoted(entry.name)}`, hint);
  }
  return fields;
}

/** A key a section cannot do without, reported at the section's key (or its first line). */
function requireKey(reader: Reader, section: Field, fields: Map<string, Field>, key: string, hint: string): void {
  if (!fields.has(key)) report(reader, section.key ?? where(section), section.path, `has no ${key}`, hint);
}

/** A mapping with a fixed set of keys, each read by its own reader. */
function readSection<Readers extends Record<string, ReadField<unknown>>>(
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
// Kinds of values

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** User and group names in the portable POSIX form, which every useradd and groupadd accepts. */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
/** The name meaning every host in target lists, so no host or group may take it. */
const RESERVED_NAME = 'all';

function matching(pattern: RegExp): (scalar: Scalar) => string | undefined {
  return (value) => {
    const text = scalarText(value);
    return text !== undefined && pattern.test(text) ? text : undefined;
  };
}

function isDnsName(text: string): boolean {
  return text.length <= 253 && text.split('.').every((label) => DNS_LABEL_PATTERN.test(label));
}

function wholeNumber(min: number, max: number): (scalar: Scalar) => number | undefined {
  return ({ value }) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

const nameKind: ScalarKind<string> = {
  expected: 'a valid name',
  hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63 characters',
  parse: matching(NAME_PATTERN),
};

function posixNameKind(what: 'user' | 'group'): ScalarKind<string> {
  return {
    expected: `a Unix ${what} name`,
    hint: 'use lowercase letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters: no dots, no capitals',
    parse: matching(LOGIN),
  };
}

const userKind = posixNameKind('user');
const groupKind = posixNameKind('group');

const addressKind: ScalarKind<string> = {
  expected: 'an IP address or a DNS name',
  hint: 'for example 10.0.0.11, 2001:db8::11 or pve1.example.org',
  parse: ({ value }) => (typeof value === 'string' && (isIP(value) !== 0 || isDnsName(value)) ? value : undefined),
};

const portKind: ScalarKind<number> = {
  expected: 'a port number from 1 to 65535',
  hint: 'the port sshd listens on, usually 22, written without quotes',
  parse: wholeNumber(1, 65535),
};

const becomeKind: ScalarKind<'sudo' | 'none'> = {
  expected: '"sudo" or "none"',
  hint: '"sudo" runs commands through `sudo -n` when the user is not root',
  parse: ({ value }) => (value === 'sudo' || value === 'none' ? value : undefined),
};

const booleanKind: ScalarKind<boolean> = {
  expected: 'true or false',
  hint: 'write true or false without quotes',
  parse: ({ value }) => (typeof value === 'boolean' ? value : undefined),
};

const envVarNameKind: ScalarKind<string> = {
  expected: 'the name of an environment variable',
  hint: 'use letters, digits and "_", not starting with a digit, e.g. CHATON_KEY_PASSPHRASE',
  parse: matching(ENV_NAME_PATTERN),
};

function textKind(expected: string, hint: string, accepts = (_text: string) => true): ScalarKind<string> {
  return {
    expected,
    hint,
    parse: ({ value }) => (typeof value === 'string' && value.trim() !== '' && accepts(value) ? value : undefined),
  };
}

// Error messages show paths: no path chaton can open holds a terminal escape or a line break.
const filePathKind = textKind(
  'a file path',
  '"~/" starts from your home directory, other relative paths from the inventory\'s directory; ' +
    'on one line, without control characters',
  (text) => !hasUnprintable(text),
);

const sysadminAccessKind: ScalarKind<'shell' | 'forwarding'> = {
  expected: '"shell" or "forwarding"',
  hint: '"forwarding": the sysadmins get no shell on this jump host, only the port forwarding ProxyJump needs',
  parse: ({ value }) => (value === 'shell' || value === 'forwarding' ? value : undefined),
};

const personNameKind: ScalarKind<string> = {
  expected: 'a name on one line, without ":" or ","',
  hint: 'the name as they like it written, for example Camille Martin',
  parse: matching(PERSON_NAME),
};

const emailKind: ScalarKind<string> = {
  expected: 'an email address',
  hint: 'one "@" between a name and a domain, no spaces, for example camille@example.org',
  parse: matching(EMAIL),
};

const proxmoxRoleKind: ScalarKind<string> = {
  expected: 'a Proxmox role name',
  hint: 'a role of Proxmox VE such as PVEAdmin or PVEAuditor, or one of your own: letters, digits, ".", "_" and "-"',
  parse: matching(PROXMOX_ROLE),
};

const sudoCommandsKind: ScalarKind<string> = {
  expected: 'a sudoers command list on one line',
  hint: "full paths separated by commas, for example '/usr/sbin/qm, /usr/bin/pvesh'",
  parse: matching(SUDO_COMMANDS),
};

// The core schema of yaml 2 reads 2026-12-31 as a string, not as a timestamp.
const dateKind: ScalarKind<string> = {
  expected: 'a date written YYYY-MM-DD',
  hint: 'the day access ends (no login from that day on, as usermod --expiredate), a real date, for example 2026-12-31',
  parse: ({ value }) => (typeof value === 'string' && isCalendarDate(value) ? value : undefined),
};

const secretDescriptionKind = textKind(
  'a description of the secret',
  'say what it is and where it is kept, for example "passphrase of the restic repositories, in the password manager"; never the secret itself',
);

const publicKeyKind: ScalarKind<string> = {
  expected: 'an OpenSSH public key line',
  hint: `one whole line of a .pub file: the type (${KEY_TYPES.join(', ')}), the base64 key, then an optional comment`,
  parse: ({ value }) => (typeof value === 'string' ? parsePublicKeyLine(value)?.line : undefined),
};

/** Pasted by mistake instead of the .pub line: such a value is never repeated in messages. */
function isPrivateKey(node: YamlNode | null): boolean {
  return isScalar(node) && typeof node.value === 'string' && PRIVATE_KEY.test(node.value);
}

function reportPrivateKey(reader: Reader, field: Field): void {
  report(
    reader,
    field.value,
    field.path,
    'a private key was pasted here (chaton does not repeat it)',
    'put the public key instead, the line `ssh-keygen -y -f KEYFILE` prints; the private key is exposed now: take it out of this file and its history, and make a new key pair',
  );
}

/** `keys:` a non-empty list of public key lines. */
const readPublicKeys: ReadField<string[]> = (reader, field) => {
  const hint = 'the lines of their .pub files, for example keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5... camille@laptop"]';
  if (isPrivateKey(field.value)) {
    reportPrivateKey(reader, field);
    return undefined;
  }
  const items = listItems(reader, field, 'a list of SSH public keys', hint);
  if (items?.length === 0) report(reader, where(field), field.path, 'must be a list of SSH public keys, got an empty list', hint);
  return items?.flatMap((item) => {
    if (isPrivateKey(item.value)) {
      reportPrivateKey(reader, item);
      return [];
    }
    const key = readScalar(reader, item, publicKeyKind);
    return key === undefined ? [] : [key];
  });
};

/** Seconds in the file, milliseconds in SshSettings. */
function secondsKind(expected: string, isAllowed: (value: number) => boolean): ScalarKind<number> {
  return {
    expected,
    hint: 'a number of seconds, written without quotes',
    parse: ({ value }) =>
      typeof value === 'number' && Number.isFinite(value) && isAllowed(value) ? Math.round(value * 1000) : undefined,
  };
}

function wholeNumberKind(expected: string, hint: string, min: number, max: number): ScalarKind<number> {
  return { expected, hint, parse: wholeNumber(min, max) };
}

/** `~` is the operator's home; other relative paths start from the inventory's directory. */
function resolvePath(file: string, baseDir: string): string {
  if (file === '~') return homedir();
  if (file.startsWith('~/')) return path.join(homedir(), file.slice(2));
  return path.resolve(baseDir, file);
}

function filePaths(example: string): ReadField<string[]> {
  const readPaths = oneOrMore(filePathKind, 'a file path or a list of file paths', `for example [${example}]`);
  return (reader, field) => readPaths(reader, field)?.map((file) => resolvePath(file, reader.baseDir));
}

// ---------------------------------------------------------------------------------------------
// Sections

const sshReaders = {
  identity_files: filePaths('~/.ssh/id_ed25519'),
  identity_passphrase_env: scalar(envVarNameKind),
  agent: scalar(booleanKind),
  known_hosts: filePaths('~/.ssh/known_hosts'),
  connect_timeout: scalar(secondsKind('a number of seconds greater than 0', (value) => value > 0)),
  command_timeout: scalar(secondsKind('a number of seconds, 0 or more (0 = no limit)', (value) => value >= 0)),
  keepalive_interval: scalar(secondsKind('a number of seconds, 0 or more (0 = off)', (value) => value >= 0)),
  keepalive_count_max: scalar(
    wholeNumberKind('a whole number, 1 or more', 'unanswered keepalives before giving up, usually 3', 1, Number.MAX_SAFE_INTEGER),
  ),
  max_sessions: scalar(
    wholeNumberKind('a whole number from 1 to 64', "at most sshd's MaxSessions, which is 10 unless changed", 1, 64),
  ),
};
type SshValues = SectionValues<typeof sshReaders>;

const readSsh: ReadField<SshValues> = (reader, field) => readSection(reader, field, sshReaders)?.values;

const defaultsReaders = { user: scalar(userKind), port: scalar(portKind), become: scalar(becomeKind) };

const hostReaders = {
  address: scalar(addressKind),
  port: scalar(portKind),
  user: scalar(userKind),
  roles: list(nameKind, 'a list of role names', 'for example roles: [pve, ceph]'),
  become: scalar(becomeKind),
  direct: scalar(booleanKind),
  ssh: readSsh,
};

const bastionReaders = {
  name: scalar(nameKind),
  address: scalar(addressKind),
  port: scalar(portKind),
  user: scalar(userKind),
  become: scalar(becomeKind),
  sysadmin_access: scalar(sysadminAccessKind),
  ssh: readSsh,
};

const sysadminReaders = {
  login: scalar(userKind),
  name: scalar(personNameKind),
  email: scalar(emailKind),
  keys: readPublicKeys,
  sudo: scalar(booleanKind),
  sudo_commands: scalar(sudoCommandsKind),
  groups: list(groupKind, 'a list of Unix group names', 'for example groups: [adm, backup]'),
  proxmox_role: scalar(proxmoxRoleKind),
  expires: scalar(dateKind),
};

function defaultSsh(): SshSettings {
  const sshDir = path.join(homedir(), '.ssh');
  return {
    // Not explicit: the connection layer offers those that exist (the parse does no file I/O).
    identityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((key) => path.join(sshDir, key)),
    identityFilesExplicit: false,
    agent: true,
    knownHosts: [path.join(sshDir, 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 600_000,
    keepaliveIntervalMs: 15_000,
    keepaliveCountMax: 3,
    maxSessions: 8,
  };
}

/** The settings of `base`, overridden key by key by those written in an `ssh:` section. */
function applySsh(base: SshSettings, values: SshValues): SshSettings {
  const passphraseEnv = values.identity_passphrase_env ?? base.identityPassphraseEnv;
  return {
    identityFiles: values.identity_files ?? base.identityFiles,
    identityFilesExplicit: values.identity_files !== undefined || base.identityFilesExplicit,
    ...(passphraseEnv === undefined ? {} : { identityPassphraseEnv: passphraseEnv }),
    agent: values.agent ?? base.agent,
    knownHosts: values.known_hosts ?? base.knownHosts,
    connectTimeoutMs: values.connect_timeout ?? base.connectTimeoutMs,
    commandTimeoutMs: values.command_timeout ?? base.commandTimeoutMs,
    keepaliveIntervalMs: values.keepalive_interval ?? base.keepaliveIntervalMs,
    keepaliveCountMax: values.keepalive_count_max ?? base.keepaliveCountMax,
    maxSessions: values.max_sessions ?? base.maxSessions,
  };
}

/** What a host or bastion gets when its own section does not say. */
interface MachineDefaults {
  user: string;
  port: number;
  become: 'sudo' | 'none';
  roles: string[];
  ssh: SshSettings;
}

/** The keys hosts and bastions have in common. */
interface MachineValues {
  address?: string;
  port?: number;
  user?: string;
  roles?: string[];
  become?: 'sudo' | 'none';
  direct?: boolean;
  sysadmin_access?: 'shell' | 'forwarding';
  ssh?: SshValues;
}

/** A host or bastion as read, before the checks that involve several of them. */
interface Machine {
  kind: 'host' | 'bastion';
  name: string;
  /** Where the name is written (or the machine's section when the name is a default). */
  nameField: Field;
  addressField: Field | undefined;
  direct: boolean;
  /** Undefined when the section has a problem (already reported). */
  host?: Host;
}

type SectionRead = { values: MachineValues; fields: Map<string, Field> };

/** `read` is undefined when the section is not a mapping (already reported). */
function toMachine(
  reader: Reader,
  identity: { kind: Machine['kind']; name: string; nameField: Field; section: Field },
  read: SectionRead | undefined,
  defaults: MachineDefaults,
): Machine {
  const { kind, name, nameField, section } = identity;
  const values = read?.values ?? {};
  const addressField = read?.fields.get('address');
  if (read) requireKey(reader, section, read.fields, 'address', 'add `address:` with its IP address or DNS name');
  const machine: Machine = { kind, name, nameField, addressField, direct: values.direct ?? false };
  // A wrong value (already reported) would fall back to its default and cause confusing problems.
  const hasWrongValue = [...(read?.fields.keys() ?? [])].some((key) => !(key in values));
  if (values.address === undefined || hasWrongValue) return machine;
  const host: Host = {
    name,
    address: values.address,
    port: values.port ?? defaults.port,
    user: values.user ?? defaults.user,
    ssh: applySsh(defaults.ssh, values.ssh ?? {}),
    roles: [...new Set(values.roles ?? defaults.roles)],
    groups: [],
    become: (values.become ?? defaults.become) === 'sudo' ? 'sudo' : null,
    via: [],
    sysadminAccess: values.sysadmin_access ?? 'shell',
    source: positionAt(reader, offsetOf(section.key ?? where(section))),
  };
  return { ...machine, host };
}

/** Names of hosts, groups and bastions: valid, and not the reserved one. */
function checkName(reader: Reader, field: Field): void {
  const checked = readScalar(reader, field, nameKind);
  if (checked !== undefined) checkNotReserved(reader, field, checked);
}

function checkNotReserved(reader: Reader, field: Field, checked: string): void {
  if (checked === RESERVED_NAME) {
    report(reader, where(field), field.path, `"${RESERVED_NAME}" is reserved: in targets it means every host`, 'choose another name');
  }
}

/** `bastion:` is one jump host, or a list of them reached one after the other. */
function readBastions(reader: Reader, field: Field, defaults: MachineDefaults): Machine[] {
  if (isEmpty(field.value)) return [];
  let sections: { field: Field; defaultName: string }[];
  if (isMap(field.value)) {
    sections = [{ field, defaultName: 'bastion' }];
  } else {
    const items = listItems(
      reader,
      field,
      'a mapping (one jump host) or a list of mappings (a chain of jumps, first reached first)',
      'see the bastion: section of inventory.example.yaml',
    );
    if (items?.length === 0) {
      report(reader, where(field), field.path, 'lists no jump host', 'describe at least one, or remove `bastion:`');
    }
    sections = (items ?? []).map((item, index) => ({ field: item, defaultName: `bastion${index + 1}` }));
  }
  return sections.map(({ field: section, defaultName }) => {
    const read = readSection(reader, section, bastionReaders);
    const nameField = read?.fields.get('name');
    const name = read?.values.name ?? defaultName;
    if (nameField) checkNotReserved(reader, nameField, name);
    const identity = { kind: 'bastion' as const, name, nameField: nameField ?? section, section };
    return toMachine(reader, identity, read, defaults);
  });
}

function readHosts(reader: Reader, field: Field | undefined, defaults: MachineDefaults): Machine[] {
  const hint = 'list your machines under `hosts:`, as in inventory.example.yaml';
  if (!field) {
    report(reader, reader.doc.contents, '', 'there is no `hosts:` section', hint);
    return [];
  }
  const entries = readEntries(reader, field, 'a mapping of host names to their settings', hint);
  if (entries?.length === 0) report(reader, field.key ?? where(field), field.path, 'lists no host', hint);
  return (entries ?? []).map((entry) => {
    const nameField = { value: entry.key, path: entry.path };
    checkName(reader, nameField);
    const identity = { kind: 'host' as const, name: entry.name, nameField, section: entry };
    return toMachine(reader, identity, readSection(reader, entry, hostReaders), defaults);
  });
}

/** `sysadmins:` is the roster: a list of volunteers, one mapping each, each login once. */
function readSysadmins(reader: Reader, field: Field): Sysadmin[] {
  if (isEmpty(field.value)) return [];
  const hint = 'one mapping per sysadmin, each starting with "- login:"; see the sysadmins: section of inventory.example.yaml';
  const items = listItems(reader, field, 'a list of sysadmins', hint);
  const firstLogins = new Map<string, Field>();
  return (items ?? []).flatMap((item) => {
    const read = readSection(reader, item, sysadminReaders);
    if (!read) return [];
    requireKey(reader, item, read.fields, 'login', 'add `login:` with the Unix user name to create for them');
    requireKey(reader, item, read.fields, 'keys', 'add `keys:` with their SSH public keys, the lines of their .pub files');
    const { login, name, email, keys, sudo, sudo_commands: sudoCommands, groups, proxmox_role: proxmoxRole, expires } = read.values;
    const loginField = read.fields.get('login');
    if (login === undefined || !loginField) return [];
    const firstLogin = firstLogins.get(login);
    if (firstLogin) {
      const firstLine = lineOf(reader, firstLogin.value);
      const message = `${quoted(login)} is already the login of the sysadmin on line ${firstLine}`;
      report(reader, loginField.value, loginField.path, message, 'list each sysadmin once, with all their keys');
      return [];
    }
    firstLogins.set(login, loginField);
    const sudoCommandsField = read.fields.get('sudo_commands');
    if (sudoCommands !== undefined && sudo !== true && sudoCommandsField) {
      report(reader, sudoCommandsField.value, sudoCommandsField.path, 'sudo_commands needs sudo: true', 'add `sudo: true`, or remove sudo_commands');
      return [];
    }
    if (keys === undefined) return [];
    const sysadmin: Sysadmin = {
      login,
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
      keys,
      sudo: sudo ?? false,
      ...(sudoCommands === undefined ? {} : { sudoCommands }),
      groups: groups ?? [],
      ...(proxmoxRole === undefined ? {} : { proxmoxRole }),
      ...(expires === undefined ? {} : { expires }),
      source: positionAt(reader, offsetOf(where(item))),
    };
    return [sysadmin];
  });
}

/** `secrets:` names the secrets the sysadmins share and says what each is: never its value. */
function readSecrets(reader: Reader, field: Field): SharedSecret[] {
  const example = 'for example restic-passphrase: passphrase of the restic repositories, in the password manager';
  const entries = readEntries(reader, field, 'a mapping of secret names to what each secret is', example);
  return (entries ?? []).flatMap((entry) => {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    const description = readScalar(reader, entry, secretDescriptionKind);
    if (name === undefined || description === undefined) return [];
    return [{ name, description, source: positionAt(reader, offsetOf(entry.key)) }];
  });
}

interface GroupDraft {
  name: string;
  nameField: Field;
  members: { name: string; field: Field }[];
}

function readGroups(reader: Reader, field: Field): GroupDraft[] {
  const entries = readEntries(reader, field, 'a mapping of group names to lists of members', 'for example web: [vm-web1, vm-web2]');
  return (entries ?? []).map((entry) => {
    const nameField = { value: entry.key, path: entry.path };
    checkName(reader, nameField);
    const example = `for example ${shownKey(entry.name)}: [pve1, pve2]; \`[]\` for an empty group`;
    const items = listItems(reader, entry, 'a list of host or group names', example);
    const members = (items ?? []).flatMap((item) => {
      const member = readScalar(reader, item, nameKind);
      return member === undefined ? [] : [{ name: member, field: item }];
    });
    return { name: entry.name, nameField, members };
  });
}

// ---------------------------------------------------------------------------------------------
// Checks across sections

/** Hosts, groups and bastions share one set of names: the targets of every command. */
function checkNameClashes(reader: Reader, named: { kind: string; name: string; nameField: Field }[]): void {
  const firstByName = new Map<string, (typeof named)[number]>();
  // The reserved name is reported on its own.
  const clashable = named.filter((item) => item.name !== RESERVED_NAME);
  for (const item of clashable.sort((a, b) => offsetOf(where(a.nameField)) - offsetOf(where(b.nameField)))) {
    const first = firstByName.get(item.name);
    if (!first) {
      firstByName.set(item.name, item);
      continue;
    }
    report(
      reader,
      where(item.nameField),
      item.nameField.path,
      `${quoted(item.name)} is already the name of the ${first.kind} on line ${lineOf(reader, where(first.nameField))}`,
      'hosts, groups and bastions share one set of names: rename one of them',
    );
  }
}

/** Two entries for one machine would give it two names and two sets of settings. */
function checkDuplicateEndpoints(reader: Reader, machines: Machine[]): void {
  const placed = machines.flatMap(({ kind, name, host, addressField }) =>
    host && addressField ? [{ kind, name, host, addressField }] : [],
  );
  const firstByEndpoint = new Map<string, (typeof placed)[number]>();
  for (const entry of placed.sort((a, b) => offsetOf(a.addressField.value) - offsetOf(b.addressField.value))) {
    const { address, port } = entry.host;
    const endpoint = `${address.toLowerCase()}:${port}`;
    const first = firstByEndpoint.get(endpoint);
    if (!first) {
      firstByEndpoint.set(endpoint, entry);
      continue;
    }
    const firstMachine = `the ${first.kind} ${quoted(first.name)} on line ${lineOf(reader, first.addressField.value)}`;
    report(
      reader,
      entry.addressField.value,
      entry.addressField.path,
      `${address}, port ${port}, is already the address of ${firstMachine}`,
      'list each machine once; two entries may share an address only with different ports',
    );
  }
}

function checkReachable(reader: Reader, hosts: Machine[]): void {
  for (const host of hosts.filter((machine) => !machine.direct)) {
    report(
      reader,
      where(host.nameField),
      host.nameField.path,
      'is reached through the bastion, but the inventory has no bastion',
      'add a `bastion:` section, or mark the host `direct: true`',
    );
  }
}

/** Group name -> member host names (in inventory order), following nested groups. */
function resolveGroups(reader: Reader, groups: GroupDraft[], hostNames: string[], bastionNames: Set<string>): Map<string, string[]> {
  const groupsByName = new Map(groups.map((group) => [group.name, group]));
  const hostNameSet = new Set(hostNames);
  const resolved = new Map<string, Set<string>>();
  const visiting: string[] = [];

  const reportMember = (member: GroupDraft['members'][number]): void => {
    if (bastionNames.has(member.name)) {
      const message = `${quoted(member.name)} is a bastion; groups list hosts and other groups`;
      report(reader, member.field.value, member.field.path, message, 'target bastions by name or with role:bastion');
      return;
    }
    const guess = suggest(member.name, [...hostNames, ...groupsByName.keys()]);
    report(
      reader,
      member.field.value,
      member.field.path,
      `${quoted(member.name)} is not a host or a group`,
      guess ? `did you mean ${quoted(guess)}?` : 'define it under `hosts:` or `groups:`, or remove it',
    );
  };

  const visit = (group: GroupDraft): Set<string> => {
    const known = resolved.get(group.name);
    if (known) return known;
    visiting.push(group.name);
    const members = new Set<string>();
    for (const member of group.members) {
      const nested = groupsByName.get(member.name);
      if (hostNameSet.has(member.name)) {
        members.add(member.name);
      } else if (!nested) {
        reportMember(member);
      } else if (visiting.includes(member.name)) {
        const cycle = [...visiting.slice(visiting.indexOf(member.name)), member.name].join(' → ');
        const hint = 'a group cannot contain itself, directly or through other groups';
        report(reader, member.field.value, member.field.path, `groups contain each other: ${cycle}`, hint);
      } else {
        for (const hostName of visit(nested)) members.add(hostName);
      }
    }
    visiting.pop();
    resolved.set(group.name, members);
    return members;
  };

  return new Map(
    groups.map((group) => {
      const members = visit(group);
      return [group.name, hostNames.filter((hostName) => members.has(hostName))];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The whole file

const TOP_LEVEL_KEYS = ['ssh', 'defaults', 'bastion', 'hosts', 'groups', 'sysadmins', 'secrets'];

function reportYamlErrors(reader: Reader): void {
  for (const error of reader.doc.errors) {
    const [offset] = error.pos;
    if (error.code === 'MULTIPLE_DOCS') {
      const hint = 'remove the `---` line: chaton reads a single document';
      reportAt(reader, offset, '', 'the file holds more than one YAML document', hint);
    } else {
      const hint = 'check the indentation (spaces, not tabs), colons and quotes here';
      reportAt(reader, offset, '', `YAML syntax: ${escapeUnprintable(error.message)}`, hint);
    }
  }
}

function toEndpoint({ name, address, port, user, ssh }: Endpoint): Endpoint {
  return { name, address, port, user, ssh };
}

function readInventory(reader: Reader): Inventory | undefined {
  const root: Field = { value: reader.doc.contents, path: '' };
  if (isEmpty(root.value)) {
    const hint = 'describe your machines under `hosts:`; inventory.example.yaml shows every key';
    report(reader, null, '', 'the inventory is empty', hint);
    return undefined;
  }
  const top = readKnownKeys(reader, root, TOP_LEVEL_KEYS);
  if (!top) return undefined;
  const section = (key: string): Field => top.get(key) ?? { value: null, path: key };

  const ssh = applySsh(defaultSsh(), readSsh(reader, section('ssh')) ?? {});
  const defaults = readSection(reader, section('defaults'), defaultsReaders)?.values ?? {};
  const bastions = readBastions(reader, section('bastion'), {
    user: defaults.user ?? 'root',
    port: 22,
    become: 'none',
    roles: ['bastion'],
    ssh,
  });
  const hosts = readHosts(reader, top.get('hosts'), {
    user: defaults.user ?? 'root',
    port: defaults.port ?? 22,
    become: defaults.become ?? 'none',
    roles: [],
    ssh,
  });
  const groups = readGroups(reader, section('groups'));
  const sysadmins = readSysadmins(reader, section('sysadmins'));
  const secrets = readSecrets(reader, section('secrets'));

  checkNameClashes(reader, [...bastions, ...hosts, ...groups.map((group) => ({ kind: 'group', ...group }))]);
  checkDuplicateEndpoints(reader, [...bastions, ...hosts]);
  if (isEmpty(section('bastion').value)) checkReachable(reader, hosts);
  const hostNames = hosts.map((host) => host.name);
  const groupMembers = resolveGroups(reader, groups, hostNames, new Set(bastions.map((bastion) => bastion.name)));

  const bastionHosts = bastions.flatMap((bastion) => (bastion.host ? [bastion.host] : []));
  const chain = bastionHosts.map(toEndpoint);
  const groupsOf = (hostName: string): string[] =>
    [...groupMembers].filter(([, members]) => members.includes(hostName)).map(([groupName]) => groupName);
  return {
    file: reader.file,
    bastions: bastionHosts.map((bastion, index) => ({ ...bastion, via: chain.slice(0, index) })),
    hosts: hosts.flatMap(({ host, direct }) =>
      host ? [{ ...host, via: direct ? [] : chain, groups: groupsOf(host.name) }] : [],
    ),
    groups: groupMembers,
    sysadmins,
    secrets,
  };
}

// ---------------------------------------------------------------------------------------------
// Messages

function byPosition(a: InventoryProblem, b: InventoryProblem): number {
  return a.position.line - b.position.line || a.position.col - b.position.col;
}

function formatProblem({ position, path: problemPath, message, hint }: InventoryProblem): string {
  const location = `${position.file}:${position.line}:${position.col}: ${problemPath ? `${problemPath}: ` : ''}`;
  return `${location}${message}${hint ? ` (${hint})` : ''}`;
}
