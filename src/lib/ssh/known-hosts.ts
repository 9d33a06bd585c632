// OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"), read and checked the way
// ssh(1) does: chaton shares the operator's files, so it must trust exactly what ssh would trust.
import { createHmac } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ChatonError, ExitCode, HostKeyError } from '../run/errors.js';
import { fileToReplace, withFileLock, writeFileAtomically } from '../run/files.js';
import { fingerprint, keyTypeOfBlob, readSshStrings } from './key-blob.js';
import { messages } from './messages.js';

export interface KnownHostsEntry {
  file: string;
  /** 1-based, for `file:line` messages. */
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  /** The raw host field: comma-separated patterns, or one `|1|salt|hash` hashed name. */
  hosts: string;
  keyType: string;
  /** The public key blob, as the server sends it. */
  key: Buffer;
}

/** A line of known_hosts and the address of the host it vouches for. */
export interface KeyKnownAt {
  address: string;
  entry: KnownHostsEntry;
}

export interface KnownHostsProblem {
  file: string;
  line: number;
  message: string;
}

export type HostKeyVerdict =
  | { status: 'trusted'; entry: KnownHostsEntry }
  | { status: 'revoked'; entry: KnownHostsEntry }
  /**
   * Keys are known for this host and none is the offered one. Like OpenSSH (HOST_CHANGED), keys of
   * OTHER types count: otherwise a man in the middle could offer a type we do not know yet and be
   * treated as a new host. `preferredHostKeyAlgorithms` keeps honest servers on a known type.
   */
  | { status: 'changed'; known: KnownHostsEntry[] }
  | { status: 'unknown' };

interface KeyType {
  /** How OpenSSH names the type in its messages (sshkey_type). */
  label: string;
  /** The ssh2 `serverHostKey` algorithms that verify with such a key, best first. */
  algorithms: string[];
  /** Whether the blob's fields after the type name are what ssh would accept. */
  hasValidFields(fields: Buffer[]): boolean;
}

// OpenSSH refuses RSA keys below this size (SSH_RSA_MINIMUM_MODULUS_SIZE).
const MIN_RSA_MODULUS_BITS = 1024;

// The key types ssh2 can verify, in ssh2's order of preference. Layouts: RFC 4253 §6.6, RFC 5656 §3.1,
// RFC 8709 §4; like OpenSSH, ECDSA points must be uncompressed and blobs must have no trailing data.
const HOST_KEY_TYPES = new Map<string, KeyType>([
  ['ssh-ed25519', { label: 'ED25519', algorithms: ['ssh-ed25519'], hasValidFields: isEd25519PublicKey }],
  ['ecdsa-sha2-nistp256', ecdsaKeyType('nistp256', 32)],
  ['ecdsa-sha2-nistp384', ecdsaKeyType('nistp384', 48)],
  ['ecdsa-sha2-nistp521', ecdsaKeyType('nistp521', 66)],
  // An RSA key also signs with SHA-2 (RFC 8332); SHA-1 `ssh-rsa` is only offered to hosts known by one.
  [
    'ssh-rsa',
    { label: 'RSA', algorithms: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'], hasValidFields: isRsaPublicKey },
  ],
  ['ssh-dss', { label: 'DSA', algorithms: ['ssh-dss'], hasValidFields: (fields) => fields.length === 4 }],
]);

// Offered for every host: ssh2's defaults without the SHA-1 signature algorithms.
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

const MARKERS = new Map<string, KnownHostsEntry['marker']>([
  ['@revoked', 'revoked'],
  ['@cert-authority', 'cert-authority'],
]);

const HASHED_HOST_PREFIX = '|1|';
const SHA1_BYTES = 20;

// Characters that would make a host field say more than one literal name.
const HOST_FIELD_SYNTAX = /[\s,*?!#@|]/;

function ecdsaKeyType(curve: string, coordinateBytes: number): KeyType {
  return {
    label: 'ECDSA',
    algorithms: [`ecdsa-sha2-${curve}`],
    hasValidFields: ([curveName, point, ...rest]) =>
      curveName?.toString('latin1') === curve &&
      point?.length === 1 + 2 * coordinateBytes &&
      point[0] === 0x04 &&
      rest.length === 0,
  };
}

function isEd25519PublicKey([publicKey, ...rest]: Buffer[]): boolean {
  return publicKey?.length === 32 && rest.length === 0;
}

function isRsaPublicKey([exponent, modulus, ...rest]: Buffer[]): boolean {
  return (
    exponent !== undefined &&
    modulus !== undefined &&
    unsignedBits(modulus) >= MIN_RSA_MODULUS_BITS &&
    rest.length === 0
  );
}

function unsignedBits(mpint: Buffer): number {
  const first = mpint.findIndex((byte) => byte !== 0);
  return first === -1 ? 0 : (mpint.length - first - 1) * 8 + mpint.readUInt8(first).toString(2).length;
}

// Node's decoder skips what it does not understand; OpenSSH's b64_pton rejects it, as well as missing
// padding and stray low bits. Only the canonical encoding survives a round trip.
function decodeBase64Strictly(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : null;
}

function asciiLowercase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** OpenSSH's name for the type of a key blob (sshkey_type), e.g. ED25519. */
function typeLabel(blob: Buffer): string {
  const type = keyTypeOfBlob(blob);
  return HOST_KEY_TYPES.get(type)?.label ?? type;
}

/**
 * E.g. `ED25519 key SHA256:…`, with OpenSSH's name for the type: the same in every language, as
 * JSON gives a host key to programs (ConnectionInfo.hostKey). Messages say it with keyPhrase.
 */
export function describeKey(blob: Buffer): string {
  return `${typeLabel(blob)} key ${fingerprint(blob)}`;
}

/** The key as a message names it, in the language of the moment: `ED25519 key SHA256:…` in English. */
export function keyPhrase(blob: Buffer): string {
  return messages.keyPhrase(typeLabel(blob), fingerprint(blob));
}

/** The known_hosts line that vouches for `blob` as the key of the host at each of `addresses`, on `port`. */
export function knownHostsLine(addresses: readonly string[], port: number, blob: Buffer): string {
  return formatLine(lookupNames(addresses, port).join(','), blob);
}

/** The name ssh writes and looks up: lowercased, and `[address]:port` unless the port is 22. */
export function hostLookupName(address: string, port: number): string {
  const host = asciiLowercase(address);
  return port === 22 ? host : `[${host}]:${port}`;
}

function lookupNames(addresses: readonly string[], port: number): string[] {
  return addresses.map((address) => hostLookupName(address, port));
}

/** OpenSSH's host_hash: `|1|` base64(salt) `|` base64(HMAC-SHA1(salt, name)). */
function hashHostName(name: string, salt: Buffer): string {
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `${HASHED_HOST_PREFIX}${salt.toString('base64')}|${hash}`;
}

function hashedHostSalt(hosts: string): Buffer | null {
  const [empty, version, salt, hash, ...rest] = hosts.split('|');
  if (empty !== '' || version !== '1' || salt === undefined || hash === undefined || rest.length > 0) return null;
  const saltBytes = decodeBase64Strictly(salt);
  return saltBytes?.length === SHA1_BYTES && decodeBase64Strictly(hash)?.length === SHA1_BYTES ? saltBytes : null;
}

// OpenSSH's match_pattern: `*` is any run of characters, `?` any one; nothing else is special.
// Most patterns are plain names, compared as such; wildcard ones are compiled once (a fan-out
// looks every host up in every line).
function matchesPattern(name: string, pattern: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return name === pattern;
  let compiled = COMPILED_PATTERNS.get(pattern);
  if (!compiled) {
    const source = Array.from(pattern.replace(/\*+/g, '*'), (char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/, '\\$&'),
    ).join('');
    compiled = new RegExp(`^${source}$`, 's');
    COMPILED_PATTERNS.set(pattern, compiled);
  }
  return compiled.test(name);
}

const COMPILED_PATTERNS = new Map<string, RegExp>();

// OpenSSH's match_hostname: one negated pattern that matches rules the line out, whatever else matches.
function matchesPatternList(name: string, patterns: string): boolean {
  let matched = false;
  for (const pattern of asciiLowercase(patterns).split(',')) {
    const negated = pattern.startsWith('!');
    if (!matchesPattern(name, negated ? pattern.slice(1) : pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Whether the entry's host field (patterns or hashed name) covers `name`, as from `hostLookupName`. */
export function entryMatchesHost(entry: KnownHostsEntry, name: string): boolean {
  const lookupName = asciiLowercase(name);
  if (!entry.hosts.startsWith('|')) return matchesPatternList(lookupName, entry.hosts);
  const salt = hashedHostSalt(entry.hosts);
  return salt !== null && hashHostName(lookupName, salt) === entry.hosts;
}

type KeyLine = Omit<KnownHostsEntry, 'file' | 'line'>;

/** The key part of a line (`type base64`), checked as strictly as ssh does. */
function parseKey(keyType: string | undefined, keyBase64: string | undefined): Buffer | { problem: string } {
  if (keyType === undefined || keyType.startsWith('#')) return { problem: messages.noKeyType };
  const type = HOST_KEY_TYPES.get(keyType);
  if (type === undefined) return { problem: messages.unsupportedKeyType(keyType) };
  if (keyBase64 === undefined) return { problem: messages.noKeyAfterType };
  const key = decodeBase64Strictly(keyBase64);
  if (key === null) return { problem: messages.notBase64 };
  const strings = readSshStrings(key);
  if (strings === null) return { problem: messages.keyCutShort };
  const [blobType, ...fields] = strings;
  if (blobType?.toString('latin1') !== keyType) return { problem: messages.keyNotOfType(keyType) };
  if (!type.hasValidFields(fields)) return { problem: messages.malformedKey(keyType) };
  return key;
}

/** One line of a known_hosts file, checked as strictly as ssh does; null for blank and comment lines. */
function parseLine(text: string): KeyLine | { problem: string } | null {
  const content = text.replace(/^[ \t]+|[ \t]*\r?$/g, '');
  if (content === '' || content.startsWith('#')) return null;
  const words = content.split(/[ \t]+/);
  const [first = ''] = words;
  const marker = first.startsWith('@') ? MARKERS.get(first) : null;
  if (marker === undefined) return { problem: messages.unknownMarker(first) };
  const [hosts, keyType, keyBase64] = marker === null ? words : words.slice(1);
  if (hosts?.startsWith('@')) return { problem: messages.oneMarkerOnly };
  if (hosts === undefined) return { problem: messages.noKeyType };
  if (hosts.startsWith('|') && hashedHostSalt(hosts) === null) return { problem: messages.malformedHashedHost };
  const key = parseKey(keyType, keyBase64);
  return 'problem' in key ? key : { marker, hosts, keyType: keyType!, key };
}

/** Why a text is not one host public key line. */
export class PublicKeyLineError extends Error {
  constructor(readonly problem: string) {
    super(messages.notAHostPublicKey(problem));
    this.name = new.target.name;
  }
}

/**
 * The key blob of a host public key as a .pub file holds it (`ssh-ed25519 AAAA... comment`, e.g.
 * /etc/ssh/ssh_host_ed25519_key.pub), checked as strictly as a known_hosts line: a key chaton
 * records must be one ssh would read back. Throws PublicKeyLineError.
 */
export function parseHostPublicKey(text: string): Buffer {
  const lines = text.split('\n').filter((line) => !/^[ \t]*(#|\r?$)/.test(line));
  if (lines.length !== 1) throw new PublicKeyLineError(messages.keyLinesFound(lines.length));
  const [keyType, keyBase64] = lines[0]!.trim().split(/[ \t]+/);
  const key = parseKey(keyType, keyBase64);
  if ('problem' in key) throw new PublicKeyLineError(key.problem);
  return key;
}

/** Every key line of a known_hosts file; malformed lines are reported and skipped, as ssh skips them. */
export function parseKnownHosts(
  text: string,
  file: string,
): { entries: KnownHostsEntry[]; problems: KnownHostsProblem[] } {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  text.split('\n').forEach((lineText, index) => {
    const parsed = parseLine(lineText);
    if (parsed === null) return;
    if ('problem' in parsed) problems.push({ file, line: index + 1, message: parsed.problem });
    else entries.push({ file, line: index + 1, ...parsed });
  });
  return { entries, problems };
}

function matchesAny(entry: KnownHostsEntry, names: readonly string[]): boolean {
  return names.some((name) => entryMatchesHost(entry, name));
}

// @cert-authority lines vouch for host certificates only, which chaton does not support yet: plain keys
// are checked against unmarked lines, as ssh does.
function plainKeysFor(entries: readonly KnownHostsEntry[], names: readonly string[]): KnownHostsEntry[] {
  return entries.filter((entry) => entry.marker === null && matchesAny(entry, names));
}

/**
 * ssh's verdict on the key a host offered, the host being known by any of `names` (one per
 * address: the inventory says they are one machine, so the keys known for each are its keys):
 * revoked wins, then a known equal key, then any known key.
 */
export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  names: readonly string[],
  blob: Buffer,
): HostKeyVerdict {
  const revoked = entries.find(
    (entry) => entry.marker === 'revoked' && entry.key.equals(blob) && matchesAny(entry, names),
  );
  if (revoked) return { status: 'revoked', entry: revoked };
  const known = plainKeysFor(entries, names);
  const same = known.find((entry) => entry.key.equals(blob));
  if (same) return { status: 'trusted', entry: same };
  return known.length > 0 ? { status: 'changed', known } : { status: 'unknown' };
}

/**
 * ssh's verdict on the key a host offered at any of its `addresses` on `port`. A host on another
 * port than 22 with no line of its own (no key, not revoked) is looked up by its bare addresses
 * too, as OpenSSH does (sshconnect.c, check_host_key, case HOST_NEW: "checking without port
 * identifier", read-only): the key found there is trusted ("found matching key w/out port"); any
 * other key there leaves the host unknown, not changed. A key revoked there stays revoked: ssh
 * reports it and then treats the key as new, which its accept-new would record; chaton never
 * records a revoked key. (ssh skips this with a HostKeyAlias, which chaton has not.)
 */
function checkEndpointKey(
  entries: readonly KnownHostsEntry[],
  addresses: readonly string[],
  port: number,
  blob: Buffer,
): HostKeyVerdict {
  const verdict = checkHostKey(entries, lookupNames(addresses, port), blob);
  if (verdict.status !== 'unknown' || port === 22) return verdict;
  const portless = checkHostKey(entries, lookupNames(addresses, 22), blob);
  return portless.status === 'trusted' || portless.status === 'revoked' ? portless : verdict;
}

function formatLine(hosts: string, blob: Buffer): string {
  return `${hosts} ${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
}

function fileError(action: 'read' | 'write', file: string, error: unknown): ChatonError {
  const reason = (error as NodeJS.ErrnoException).code ?? String(error);
  return action === 'read'
    ? new ChatonError(messages.cannotReadKnownHosts(file, reason), ExitCode.connection, messages.makeItReadable)
    : new ChatonError(messages.cannotWriteKnownHosts(file, reason), ExitCode.connection, messages.makeItWritable);
}

async function readIfPresent(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw fileError('read', file, error);
  }
}

/** What recording a key did to the file. */
export type RecordOutcome = 'added' | 'unchanged' | 'replaced';

/** The patterns of a plain host field that are exactly one of `names` (no wildcard, no negation). */
function exactNames(entry: KnownHostsEntry, names: readonly string[]): string[] {
  if (entry.hosts.startsWith('|')) return names.filter((name) => entryMatchesHost(entry, name));
  return entry.hosts.split(',').filter((pattern) => names.includes(asciiLowercase(pattern)));
}

/**
 * The one writer of known_hosts lines, for --accept-new and for keys obtained through a trusted
 * channel: makes the file vouch for `blob` as the key of the host known by each of `names`, and
 * by no other key. Lines that give one of those exact names (plain or hashed) another key lose
 * that name, and go when none is left, as `ssh-keygen -R` removes them (hostfile.c, host_delete),
 * except that the other hosts a line names keep it, and lines that match by a pattern stay: they
 * are the operator's, and the new line makes ssh trust the key whatever they say. @revoked and
 * @cert-authority lines stay, as in host_delete. Unless `replace`, such a line is refused
 * instead. A key revoked for the host is always refused. Names without the key get one new line at
 * the end. Written whole under a lock, the file created 0600 in a directory created 0700 like ssh.
 */
async function writeHostKey(
  file: string,
  names: readonly string[],
  blob: Buffer,
  replace: boolean,
): Promise<{ outcome: RecordOutcome; entry?: KnownHostsEntry }> {
  const name = names.join(',');
  // Read back as ssh would, so that a line it would misread is never written.
  const text = formatLine(name, blob);
  const parsed = names.some((one) => one === '' || HOST_FIELD_SYNTAX.test(one))
    ? { problem: messages.notPlainHostName }
    : (parseLine(text) ?? { problem: messages.emptyLine });
  if ('problem' in parsed) throw new HostKeyError(name, messages.cannotRecord(name, keyPhrase(blob), parsed.problem));
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const target = await fileToReplace(file);
    return await withFileLock(target, async () => {
      const before = await readIfPresent(target);
      const lines = before === '' ? [] : before.replace(/\n$/, '').split('\n');
      const { entries } = parseKnownHosts(before, file);
      const verdict = checkHostKey(entries, names, blob);
      // --accept-new never replaces a key, even one recorded since the store was read.
      if (verdict.status === 'revoked' || (verdict.status === 'changed' && !replace)) {
        throw refusal(name, blob, verdict);
      }
      const covered = new Set<string>();
      const dropped = new Set<number>();
      let replaced = false;
      for (const entry of entries.filter((candidate) => candidate.marker === null)) {
        const exact = exactNames(entry, names);
        if (exact.length === 0) continue;
        if (entry.key.equals(blob)) {
          exact.forEach((one) => covered.add(asciiLowercase(one)));
          continue;
        }
        replaced = true;
        const left = entry.hosts.startsWith('|') ? [] : entry.hosts.split(',').filter((p) => !exact.includes(p));
        const index = entry.line - 1;
        if (left.length === 0) dropped.add(index);
        else lines[index] = lines[index]!.replace(entry.hosts, () => left.join(','));
      }
      const missing = names.filter((one) => !covered.has(one));
      if (!replaced && missing.length === 0) return { outcome: 'unchanged' };
      const kept = lines.filter((_, index) => !dropped.has(index));
      const added = missing.length === 0 ? [] : [formatLine(missing.join(','), blob)];
      await writeFileAtomically(target, [...kept, ...added, ''].join('\n'), 0o600);
      const entry =
        added.length === 0 ? undefined : { file, line: kept.length + 1, ...(parseLine(added[0]!) as KeyLine) };
      return { outcome: replaced ? 'replaced' : 'added', entry };
    });
  } catch (error) {
    if (error instanceof ChatonError) throw error;
    throw fileError('write', file, error);
  }
}

/**
 * Records `blob` as the key of the host at each of `addresses` on `port`, a key chaton obtained
 * through a channel it trusts (the hypervisor's guest agent reading the guest's host key): other
 * keys recorded for those exact names are replaced, other lines kept. A key marked @revoked for
 * the host is refused (HostKeyError). 'unchanged' when the file already says so.
 */
export async function recordHostKey(
  file: string,
  addresses: readonly string[],
  port: number,
  blob: Buffer,
): Promise<RecordOutcome> {
  return (await writeHostKey(file, lookupNames(addresses, port), blob, true)).outcome;
}

/** Where a line is, for messages: `file:line`. */
export function location(entry: KnownHostsEntry): string {
  return `${entry.file}:${entry.line}`;
}

function refusal(
  name: string,
  blob: Buffer,
  verdict: Extract<HostKeyVerdict, { status: 'changed' | 'revoked' }>,
): HostKeyError {
  const reason =
    verdict.status === 'revoked'
      ? messages.markedRevoked(location(verdict.entry))
      : messages.keyChanged(
          verdict.known.map((entry) => messages.keyIn(keyPhrase(entry.key), location(entry))).join(', '),
        );
  return new HostKeyError(name, messages.notRecording(name, keyPhrase(blob), reason));
}

/** The operator's known_hosts files, read once; new keys are appended to the first. */
export class KnownHostsStore {
  readonly #files: readonly string[];
  readonly #entries: KnownHostsEntry[];
  /** Lines ssh would skip too; worth a warning, never fatal. */
  readonly problems: readonly KnownHostsProblem[];
  // Accepts run one after the other, so two connections to a new host cannot both append its key.
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(files: readonly string[], entries: KnownHostsEntry[], problems: KnownHostsProblem[]) {
    this.#files = files;
    this.#entries = entries;
    this.problems = problems;
  }

  /** Missing files count as empty; unreadable ones are an error. */
  static async load(files: readonly string[]): Promise<KnownHostsStore> {
    const parsed = await Promise.all(files.map(async (file) => parseKnownHosts(await readIfPresent(file), file)));
    return new KnownHostsStore(
      [...files],
      parsed.flatMap((result) => result.entries),
      parsed.flatMap((result) => result.problems),
    );
  }

  get files(): readonly string[] {
    return this.#files;
  }

  /** How many key lines the files hold. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Whether some key is recorded for one of the host's `addresses` on `port`, by its own name or,
   * on another port than 22, by its bare address (which `check` falls back on): a host with none
   * is unknown to ssh.
   */
  knows(addresses: readonly string[], port: number): boolean {
    const names = [...lookupNames(addresses, port), ...(port === 22 ? [] : lookupNames(addresses, 22))];
    return plainKeysFor(this.#entries, names).length > 0;
  }

  check(addresses: readonly string[], port: number, blob: Buffer): HostKeyVerdict {
    return checkEndpointKey(this.#entries, addresses, port, blob);
  }

  /**
   * Two lines giving two of the host's addresses keys of one type with none in common: the
   * inventory says the addresses lead to one machine, so one of the lines is wrong (or one
   * address now leads to another machine). Lines by the bare address of a host on another port
   * do not count: `check` only trusts by them.
   */
  disagreement(addresses: readonly string[], port: number): [KeyKnownAt, KeyKnownAt] | undefined {
    const known = addresses.map((address) => ({
      address,
      keys: plainKeysFor(this.#entries, [hostLookupName(address, port)]),
    }));
    const ofType = (keys: KnownHostsEntry[], type: string) => keys.filter((entry) => entry.keyType === type);
    for (const [i, mine] of known.entries()) {
      for (const theirs of known.slice(i + 1)) {
        for (const type of new Set(mine.keys.map((entry) => entry.keyType))) {
          const [ours, other] = [ofType(mine.keys, type), ofType(theirs.keys, type)];
          const shared = ours.some((a) => other.some((b) => a.key.equals(b.key)));
          if (other.length > 0 && !shared) {
            return [
              { address: mine.address, entry: ours[0]! },
              { address: theirs.address, entry: other[0]! },
            ];
          }
        }
      }
    }
    return undefined;
  }

  /**
   * For ssh2's `algorithms.serverHostKey`: the algorithms of the key types known for this host first
   * (as ssh orders HostKeyAlgorithms), so that a server with several keys shows the one we know.
   * Only the host's own name counts, never the bare address `check` may fall back on: ssh's
   * order_hostkeyalgs (sshconnect2.c) looks up `[address]:port` alone.
   */
  preferredHostKeyAlgorithms(addresses: readonly string[], port: number): string[] {
    const knownTypes = new Set(plainKeysFor(this.#entries, lookupNames(addresses, port)).map((entry) => entry.keyType));
    const known = [...HOST_KEY_TYPES].filter(([type]) => knownTypes.has(type)).flatMap(([, type]) => type.algorithms);
    return [...known, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((algorithm) => !known.includes(algorithm))];
  }

  /**
   * Trusts the key from now on: appends `name type base64` to the first file for the `address`
   * it was offered at, never touching other lines. A key already trusted, also by another of the
   * host's `addresses`, is left where it is; a changed or revoked one is refused.
   */
  accept(
    address: string,
    port: number,
    blob: Buffer,
    addresses: readonly string[] = [address],
  ): Promise<{ file: string; line: string }> {
    const accepted = this.#writes.then(() => this.#accept(address, port, blob, addresses));
    this.#writes = accepted.catch(() => undefined);
    return accepted;
  }

  async #accept(
    address: string,
    port: number,
    blob: Buffer,
    addresses: readonly string[],
  ): Promise<{ file: string; line: string }> {
    const name = hostLookupName(address, port);
    const [file] = this.#files;
    if (file === undefined) throw new HostKeyError(name, messages.noKnownHostsFile(name));
    const verdict = checkEndpointKey(this.#entries, addresses, port, blob);
    if (verdict.status === 'trusted')
      return { file: verdict.entry.file, line: formatLine(verdict.entry.hosts, verdict.entry.key) };
    if (verdict.status !== 'unknown') throw refusal(name, blob, verdict);
    const { entry } = await writeHostKey(file, [name], blob, false);
    if (entry) this.#entries.push(entry);
    const text = formatLine(name, blob);
    return { file, line: text };
  }
}
