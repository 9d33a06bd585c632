// The kinds of values the core sections hold (names, users, addresses, ports, seconds, file
// paths...), each with what it must be and how to write it; domains build theirs from these.
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Scalar } from 'yaml';
import { hasUnprintable } from '../run/printable.js';
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

export const nameKind: ScalarKind<string> = {
  expected: 'a valid name',
  hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63 characters',
  parse: matching(NAME_PATTERN),
};

export function posixNameKind(what: 'user' | 'group'): ScalarKind<string> {
  return {
    expected: `a Unix ${what} name`,
    hint:
      'use lowercase letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters: ' +
      'no dots, no capitals',
    parse: matching(POSIX_NAME),
  };
}

export const userKind = posixNameKind('user');

export const addressKind: ScalarKind<string> = {
  expected: 'an IP address or a DNS name',
  hint: 'for example 10.0.0.11, 2001:db8::11 or pve1.example.org',
  parse: ({ value }) => (typeof value === 'string' && (isIP(value) !== 0 || isDnsName(value)) ? value : undefined),
};

export const portKind: ScalarKind<number> = {
  expected: 'a port number from 1 to 65535',
  hint: 'the port sshd listens on, usually 22, written without quotes',
  parse: wholeNumber(1, 65535),
};

export const becomeKind: ScalarKind<'sudo' | 'none'> = {
  expected: '"sudo" or "none"',
  hint: '"sudo" runs commands through `sudo -n` when the user is not root',
  parse: ({ value }) => (value === 'sudo' || value === 'none' ? value : undefined),
};

export const booleanKind: ScalarKind<boolean> = {
  expected: 'true or false',
  hint: 'write true or false without quotes',
  parse: ({ value }) => (typeof value === 'boolean' ? value : undefined),
};

export const envVarNameKind: ScalarKind<string> = {
  expected: 'the name of an environment variable',
  hint: 'use letters, digits and "_", not starting with a digit, e.g. CHATON_KEY_PASSPHRASE',
  parse: matching(ENV_NAME_PATTERN),
};

export function textKind(expected: string, hint: string, accepts = (_text: string) => true): ScalarKind<string> {
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

export const sysadminAccessKind: ScalarKind<'shell' | 'forwarding'> = {
  expected: '"shell" or "forwarding"',
  hint: '"forwarding": the sysadmins get no shell on this jump host, only the port forwarding ProxyJump needs',
  parse: ({ value }) => (value === 'shell' || value === 'forwarding' ? value : undefined),
};

/** Seconds in the file, milliseconds in SshSettings. */
export function secondsKind(expected: string, isAllowed: (value: number) => boolean): ScalarKind<number> {
  return {
    expected,
    hint: 'a number of seconds, written without quotes',
    parse: ({ value }) =>
      typeof value === 'number' && Number.isFinite(value) && isAllowed(value) ? Math.round(value * 1000) : undefined,
  };
}

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
  const readPaths = oneOrMore(filePathKind, 'a file path or a list of file paths', `for example [${example}]`);
  return (reader, field) => readPaths(reader, field)?.map((file) => resolvePath(file, reader.baseDir));
}
