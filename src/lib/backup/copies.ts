// What a target holds, whatever its type: copies (an archive, a snapshot), each naming its guest
// the way that target can (a VMID, a host name, an archive name to match against a pattern), and
// what interrupted runs left behind.
import type { Outcome } from './tools.js';

/** How a copy names its guest: the judgement finds the guest (see attribute() in judge.ts). */
export type CopyKey = { vmid: number } | { name: string } | { archive: string };

/** The compressors vzdump uses, by extension; each tests its own stored checksum with -t. */
export type Compression = 'zst' | 'gz' | 'lzo';

export interface Copy {
  key: CopyKey;
  /** When it was made, milliseconds since the epoch (UTC). */
  time: number;
  /** Where it is: a path on the target host, or a snapshot or archive id. */
  location: string;
  /** Bytes, when the target says. */
  size?: number;
  /** vzdump: the compressor whose -t tests the archive; null when it is not compressed. */
  compression?: Compression | null;
  /** PBS: the last verification of this snapshot, 'never' when it was never verified. */
  verification?: { state: 'ok' | 'failed'; time?: number } | 'never';
}

/** What an interrupted (or running) dump leaves: a `.dat` file, a `.tmp` directory. */
export interface Leftover {
  location: string;
  /** When its name says which guest. */
  vmid?: number;
  /** Last modified, milliseconds since the epoch. */
  time: number;
}

/** A target's listing: how the read ended, and what it found (empty unless it ended well). */
export interface Listing {
  outcome: Outcome;
  copies: Copy[];
  leftovers: Leftover[];
}

export function emptyListing(outcome: Outcome): Listing {
  return { outcome, copies: [], leftovers: [] };
}

/**
 * The copies a tool listed, read from its output; output that does not read as the tool's
 * (a wrapper's text, a new format) is an error of the read, reported, never a crash.
 */
export function listed(ended: Outcome, parse: () => Copy[]): Listing {
  try {
    return { outcome: ended, copies: parse(), leftovers: [] };
  } catch (error) {
    const detail = `unexpected output: ${error instanceof Error ? error.message : String(error)}`;
    return emptyListing({ kind: 'error', detail });
  }
}

/** A repository's own check (restic check, borg check): how it ended, and what it named wrong. */
export interface RepositoryCheck {
  outcome: Outcome;
  /** The first lines where the tool names what it found wrong. */
  problems: string[];
}
