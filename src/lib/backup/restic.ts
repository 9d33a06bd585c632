// A restic repository: its snapshots (`restic snapshots --json`: time in RFC 3339 with the
// offset of the machine that made it, id, hostname, tags...) and `restic check`, which reads the
// structure, and part of the data with --read-data-subset. Exit codes (restic 0.17 and later):
// 0 ok, 1 failed, 10 no repository, 11 lock failed, 12 wrong password, 130 interrupted; a code
// not in this list MUST be a failure. Older releases (Debian 12 has 0.14) exit 1 for all of
// these: their messages tell them apart (captured in test/unit/fixtures/backup/restic-0.14-*).
// Sources: restic docs 075_scripting.rst (Exit codes), restic-check(1), real-tools.md (Backups).
import type { Copy, Listing, RepositoryCheck } from './copies.js';
import { emptyListing, listed } from './copies.js';
import { subsetArgument } from './durations.js';
import type { ResticTarget } from './inventory.js';
import {
  commonOutcome,
  lastLine,
  OK,
  type Outcome,
  outcome,
  type Probe,
  type SecretInput,
  type ToolOutput,
  withSecretIn,
} from './tools.js';
import { command, type RemoteCommand, type Word } from '../remote/shell.js';

/** restic with the repository and its password: a file read by restic, or a value through stdin. */
export function restic(repository: string, secret: SecretInput, args: Word[]): RemoteCommand {
  const base = ['restic', '--repo', repository];
  if ('file' in secret) return command(...base, '--password-file', secret.file, ...args);
  return withSecretIn('RESTIC_PASSWORD', secret, [...base, ...args]);
}

/** Messages of restic before 0.17, which exits 1 for what later releases give codes to. */
const LOCKED = /repository is already locked|unable to create lock|failed to lock/i;
const WRONG_PASSWORD = /wrong password or no key found/i;
const NO_REPOSITORY = /Is there a repository at the following location\?|repository does not exist/i;
const PASSWORD_UNREADABLE = /Resolving password failed|reading password file|Opening password file failed/i;

export function resticOutcome(output: ToolOutput): Outcome {
  const common = commonOutcome(output);
  if (common) return common;
  const text = output.stderr;
  // "Fatal: ..." says what went wrong; the lines after it are advice ("Is there a repository...").
  const detail =
    text
      .split('\n')
      .find((line) => line.startsWith('Fatal: '))
      ?.trim() ?? lastLine(text);
  switch (output.code) {
    case 0:
      return OK;
    case 10:
      return outcome('no-repository', detail);
    case 11:
      return outcome('busy', detail);
    case 12:
      return outcome('wrong-password', detail);
    case 130:
      return outcome('interrupted', detail);
    case 1:
      if (WRONG_PASSWORD.test(text)) return outcome('wrong-password', detail);
      if (NO_REPOSITORY.test(text)) return outcome('no-repository', detail);
      if (LOCKED.test(text)) return outcome('busy', lineMatching(text, LOCKED) ?? detail);
      if (PASSWORD_UNREADABLE.test(text)) return outcome('secret-unreadable', detail);
      return outcome('failed', detail);
    default:
      return outcome('error', detail);
  }
}

function lineMatching(text: string, pattern: RegExp): string | undefined {
  return text
    .split('\n')
    .find((line) => pattern.test(line) && !/^Is there/.test(line))
    ?.trim();
}

/** Where a snapshot's guest comes from: its host name, or a tag `<prefix><VMID>`. */
export function resticSnapshotsProbe(
  target: Pick<ResticTarget, 'repository' | 'guestFrom'>,
  secret: SecretInput,
): Probe<Listing> {
  return {
    // --no-lock: a listing must not wait for, nor block, a backup or a check.
    command: restic(target.repository, secret, ['snapshots', '--json', '--no-lock']),
    parse: (output) => {
      const ended = resticOutcome(output);
      // Exit 1 from `snapshots` is a failure to list: nothing was checked, so it proves nothing.
      const read = ended.kind === 'failed' ? outcome('error', ended.detail) : ended;
      if (read.kind !== 'ok') return emptyListing(read);
      return listed(OK, () => parseResticSnapshots(output.stdout, target.guestFrom));
    },
  };
}

/** RFC 3339 with up to nanoseconds: Date.parse takes milliseconds. */
function instantOfRfc3339(text: string): number {
  return Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
}

function parseResticSnapshots(stdout: string, guestFrom: ResticTarget['guestFrom']): Copy[] {
  const value: unknown = JSON.parse(stdout);
  // restic prints `null` for a repository without snapshots.
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error('restic snapshots: a JSON array was expected');
  return value.flatMap((snapshot: Record<string, unknown>) => {
    const time = typeof snapshot.time === 'string' ? instantOfRfc3339(snapshot.time) : NaN;
    const id = snapshot.id;
    const hostname = snapshot.hostname;
    if (Number.isNaN(time) || typeof id !== 'string') return [];
    const tags = Array.isArray(snapshot.tags)
      ? snapshot.tags.filter((tag): tag is string => typeof tag === 'string')
      : [];
    const tagged =
      'tagPrefix' in guestFrom
        ? tags.find(
            (tag) => tag.startsWith(guestFrom.tagPrefix) && /^[0-9]+$/.test(tag.slice(guestFrom.tagPrefix.length)),
          )
        : undefined;
    const prefixLength = 'tagPrefix' in guestFrom ? guestFrom.tagPrefix.length : 0;
    // In tag mode, a snapshot without the tag is a host outside Proxmox's, by its host name.
    const key = tagged
      ? { vmid: Number(tagged.slice(prefixLength)) }
      : typeof hostname === 'string'
        ? { name: hostname }
        : undefined;
    return key ? [{ key, time, location: id }] : [];
  });
}

/** What restic check says it found ("Pack ID does not match", "error for tree ..."), on either stream. */
const RESTIC_PROBLEM = /error|does not match|not found|damaged|missing|invalid|unexpected/i;
const NOT_A_PROBLEM = /^(Fatal:|no errors were found|unable to create lock|the `unlock` command)/i;

/** The lines naming a problem, each with its continuation ("error for tree 816bd750:" then the reason). */
function problemLines(text: string): string[] {
  const lines = text.split('\n');
  return lines
    .flatMap((line, i) => {
      const trimmed = line.trim();
      if (!RESTIC_PROBLEM.test(trimmed) || NOT_A_PROBLEM.test(trimmed) || /^\s/.test(line)) return [];
      const next = lines[i + 1];
      return [trimmed.endsWith(':') && next && /^\s/.test(next) ? `${trimmed} ${next.trim()}` : trimmed];
    })
    .slice(0, 5);
}

/** `restic check`, reading the target's data subset when the inventory gives one. */
export function resticCheckProbe(
  target: Pick<ResticTarget, 'repository' | 'checkSubset'>,
  secret: SecretInput,
): Probe<RepositoryCheck> {
  const subset = target.checkSubset ? [`--read-data-subset=${subsetArgument(target.checkSubset)}`] : [];
  return {
    command: restic(target.repository, secret, ['check', ...subset]),
    parse: (output) => {
      const ended = resticOutcome(output);
      const problems = problemLines(`${output.stdout}\n${output.stderr}`);
      return { outcome: ended.kind === 'failed' && problems[0] ? outcome('failed', problems[0]) : ended, problems };
    },
  };
}
