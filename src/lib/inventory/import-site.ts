// What an import (an OpenSSH client config, an Ansible inventory) found, in one shape for the one
// writer of chaton YAML; and what the importers share: where a problem is, a jump hop.
import { UsageError } from '../run/errors.js';
import { escapeUnprintable } from '../run/printable.js';

/** A machine as the source names it: `name` is how it is written there, if it is a host of it. */
export interface ImportedEndpoint {
  name?: string;
  address: string;
  port?: number;
  user?: string;
}

export interface ImportedHost extends ImportedEndpoint {
  name: string;
  become?: boolean;
  /** The jump hosts the source reaches it through, first reached first; [] directly; undefined: not known. */
  jumps: ImportedEndpoint[] | undefined;
  /** What the source said that chaton does not take, or what was guessed: comments on the host. */
  notes: string[];
}

export interface ImportedSite {
  /** The file read, for the header comment. */
  source: string;
  /** What the source says for every host (an OpenSSH `Host *` block, Ansible's `all` vars). */
  defaults: { user?: string; port?: number };
  hosts: ImportedHost[];
  /**
   * Each group's hosts and child groups by their names in the source, kept apart: a host and a
   * group may share a name there (Ansible warns), never in chaton (the writer sorts it out).
   */
  groups: { name: string; hosts: string[]; children: string[] }[];
  /** What was skipped or guessed about the file as a whole: comments at the top. */
  notes: string[];
}

/** A problem in a file read for an import: exit 2, at its place, nothing written. */
export function importError(file: string, line: number, col: number, message: string, hint: string): UsageError {
  return new UsageError(`${escapeUnprintable(file)}:${line}:${col}: ${escapeUnprintable(message)}`, hint);
}

/** A port as text: a whole number from 1 to 65535, else undefined. */
export function portOf(text: string): number | undefined {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** One hop of a ProxyJump (`[user@]host[:port]`, or `ssh://[user@]host[:port]`); undefined if it is not one. */
export function parseHop(text: string): { user?: string; host: string; port?: number } | undefined {
  const match = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s/]+)(?::([0-9]+))?\/?$/.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? undefined : portOf(match[3]);
  if (match[3] !== undefined && port === undefined) return undefined;
  return {
    ...(match[1] === undefined ? {} : { user: match[1] }),
    host: match[2]!.replace(/^\[(.*)\]$/, '$1'),
    ...(port === undefined ? {} : { port }),
  };
}
