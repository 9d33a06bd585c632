// The kinds of values the core sections hold (names, users, addresses, ports, seconds, file
// paths...), each with what it must be and how to write it; domains build theirs from these.
// Their texts are getters: a kind is made once, its messages are read in the language of the moment.
import { isIP, isIPv4 } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Scalar } from 'yaml';
import { hasUnprintable } from '../run/printable.js';
import { parsePersist } from './durations.js';
import { messages } from './messages.js';
import { oneOrMore, type ReadField, type ScalarKind, scalarText } from './reader.js';

/** User and group names in the portable POSIX form, which every useradd and groupadd accepts. */
export const POSIX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** Scalars whose text, as written, matches `pattern`. */
export function matching(pattern: RegExp): (scalar: Scalar) => string | undefined {
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

/**
 * A kind whose texts are messages (of any catalogue), read when a problem is reported: in the
 * language of the moment. Domains make theirs with it too.
 */
export function scalarKind<T>(
  expected: () => string,
  hint: () => string,
  parse: (scalar: Scalar) => T | undefined,
): ScalarKind<T> {
  return {
    get expected() {
      return expected();
    },
    get hint() {
      return hint();
    },
    parse,
  };
}

export const nameKind: ScalarKind<string> = scalarKind(
  () => messages.nameExpected,
  () => messages.nameHint,
  matching(NAME_PATTERN),
);

/** A Proxmox storage id (pve-storage-id, as pve-common's JSONSchema.pm checks it). */
export const storageIdKind: ScalarKind<string> = scalarKind(
  () => messages.storageIdExpected,
  () => messages.storageIdHint,
  matching(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i),
);

export function posixNameKind(what: 'user' | 'group'): ScalarKind<string> {
  return scalarKind(
    () => (what === 'user' ? messages.unixUserExpected : messages.unixGroupExpected),
    () => messages.posixNameHint,
    matching(POSIX_NAME),
  );
}

export const userKind = posixNameKind('user');

export const addressKind: ScalarKind<string> = scalarKind(
  () => messages.addressExpected,
  () => messages.addressHint,
  ({ value }) => (typeof value === 'string' && (isIP(value) !== 0 || isDnsName(value)) ? value : undefined),
);

/** Gateways, next hops, DNS servers: what the routes and cloud-init chaton writes take. */
export const ipv4Kind: ScalarKind<string> = scalarKind(
  () => messages.ipv4Expected,
  () => messages.ipv4Hint,
  ({ value }) => (typeof value === 'string' && isIPv4(value) ? value : undefined),
);

export const portKind: ScalarKind<number> = scalarKind(
  () => messages.portExpected,
  () => messages.portHint,
  wholeNumber(1, 65535),
);

export const becomeKind: ScalarKind<'sudo' | 'none'> = scalarKind(
  () => messages.becomeExpected,
  () => messages.becomeHint,
  ({ value }) => (value === 'sudo' || value === 'none' ? value : undefined),
);

export const booleanKind: ScalarKind<boolean> = scalarKind(
  () => messages.booleanExpected,
  () => messages.booleanHint,
  ({ value }) => (typeof value === 'boolean' ? value : undefined),
);

export const envVarNameKind: ScalarKind<string> = scalarKind(
  () => messages.envVarNameExpected,
  () => messages.envVarNameHint,
  matching(ENV_NAME_PATTERN),
);

/** Text that is not blank, and that `accepts` takes. */
function nonBlankText(accepts: (text: string) => boolean): (scalar: Scalar) => string | undefined {
  return ({ value }) => (typeof value === 'string' && value.trim() !== '' && accepts(value) ? value : undefined);
}

export function textKind(expected: string, hint: string, accepts = (_text: string) => true): ScalarKind<string> {
  return { expected, hint, parse: nonBlankText(accepts) };
}

// Error messages show paths: no path chaton can open holds a terminal escape or a line break.
const filePathKind = scalarKind(
  () => messages.filePathExpected,
  () => messages.filePathHint,
  nonBlankText((file) => !hasUnprintable(file)),
);

export const sysadminAccessKind: ScalarKind<'shell' | 'forwarding'> = scalarKind(
  () => messages.sysadminAccessExpected,
  () => messages.sysadminAccessHint,
  ({ value }) => (value === 'shell' || value === 'forwarding' ? value : undefined),
);

/** Seconds in the file, milliseconds in SshSettings. */
export function secondsKind(expected: string, isAllowed: (value: number) => boolean): ScalarKind<number> {
  return scalarKind(
    () => expected,
    () => messages.secondsHint,
    ({ value }) =>
      typeof value === 'number' && Number.isFinite(value) && isAllowed(value) ? Math.round(value * 1000) : undefined,
  );
}

/** `ssh.persist`: a duration (`5m`) or `off`; milliseconds in SshSettings, 0 for off. */
export const persistKind: ScalarKind<number> = scalarKind(
  () => messages.persistExpected,
  () => messages.persistHint,
  (value) => {
    const text = scalarText(value);
    return text === undefined ? undefined : parsePersist(text);
  },
);

export function wholeNumberKind(expected: string, hint: string, min: number, max: number): ScalarKind<number> {
  return { expected, hint, parse: wholeNumber(min, max) };
}

/** `~` is the operator's home; other relative paths start from the inventory's directory. */
function resolvePath(file: string, baseDir: string): string {
  if (file === '~') return homedir();
  if (file.startsWith('~/')) return path.join(homedir(), file.slice(2));
  return path.resolve(baseDir, file);
}

export function filePaths(example: string): ReadField<string[]> {
  return (reader, field) => {
    const readPaths = oneOrMore(filePathKind, messages.filePathsExpected, messages.forExample(`[${example}]`));
    return readPaths(reader, field)?.map((file) => resolvePath(file, reader.baseDir));
  };
}
