// A borg 1.x repository: its archives (`borg list --json`: {archives: [{name, id, start, time}],
// ...}, dates ISO 8601 in the LOCAL time of the borg process, without a zone) and `borg check`
// (--verify-data reads and authenticates every chunk). borg runs under TZ=UTC here, so its local
// time is UTC: no zone to learn, no hour that DST shows twice. --log-json gives each error a
// msgid (LockTimeout, PassphraseWrong, Repository.DoesNotExist, PasscommandFailure...). Exit
// codes: 0 ok, 1 warning, 2 error; but `borg check` exits 1 when it FINDS DAMAGE (borg 1.2:
// do_check returns EXIT_WARNING when the repository or archive check fails): a failed check.
// Sources: borg docs usage/general.rst (Return codes), internals/frontends.rst (--log-json,
// msgid), usage/check.rst; outputs of borg 1.2.4 captured in test/unit/fixtures/backup/borg-1.2-*.
import { command, type RemoteCommand, render, type Word } from '../remote/shell.js';
import type { Copy, Listing, RepositoryCheck } from './copies.js';
import { emptyListing, listed } from './copies.js';
import type { BorgTarget } from './inventory.js';
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

/**
 * borg with a fixed environment: UTC dates; UTF-8 JSON whatever the locale; no question a
 * non-interactive read cannot answer (a repository this user never saw, or saw elsewhere: we
 * only read). The passphrase: a file read by `cat` (BORG_PASSCOMMAND, split by borg as a shell
 * would), or a value through stdin.
 */
export function borg(secret: SecretInput | undefined, args: Word[]): RemoteCommand {
  const env = [
    'env',
    'TZ=UTC',
    'PYTHONIOENCODING=utf-8',
    'BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes',
    'BORG_RELOCATED_REPO_ACCESS_IS_OK=yes',
  ];
  const run = ['borg', '--log-json', ...args];
  if (!secret) return command(...env, ...run);
  if ('file' in secret) return command(...env, `BORG_PASSCOMMAND=${render(command('cat', '--', secret.file))}`, ...run);
  return withSecretIn('BORG_PASSPHRASE', secret, [...env, ...run]);
}

interface LogRecord {
  levelname?: string;
  message?: string;
  msgid?: string;
}

/** The JSON log records on stderr (--log-json); other lines are kept as plain messages. */
function borgLogRecords(stderr: string): LogRecord[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        const record: unknown = JSON.parse(line);
        if (typeof record === 'object' && record !== null) return record as LogRecord;
      } catch {
        // Not a record: a line some other program printed (cat, the shell).
      }
      return { message: line.trim() };
    });
}

const BY_MSGID: Record<string, Outcome['kind']> = {
  // Another borg holds the lock (it waited --lock-wait for it). LockFailed is an OS error taking
  // it (no write permission, a read-only file system): no backup is running, it is an error.
  LockTimeout: 'busy',
  LockFailed: 'error',
  PassphraseWrong: 'wrong-password',
  PasscommandFailure: 'secret-unreadable',
  'Repository.DoesNotExist': 'no-repository',
  'Repository.InvalidRepository': 'no-repository',
};

/** The same errors told by their words, for output without msgid (borg before 1.1, or without --log-json). */
function byMessage(message: string): Outcome['kind'] | undefined {
  if (/Failed to create\/acquire the lock .*\(timeout\)/.test(message)) return 'busy';
  if (/Failed to create\/acquire the lock/.test(message)) return 'error';
  if (/passphrase supplied in .* is incorrect/.test(message)) return 'wrong-password';
  if (/^Repository .* does not exist\.$/.test(message)) return 'no-repository';
  if (/passcommand supplied in BORG_PASSCOMMAND failed/.test(message)) return 'secret-unreadable';
  return undefined;
}

/** A listing: 1 is a warning (the output stands); a check: 1 is damage found. */
export function borgOutcome(output: ToolOutput, check: boolean): Outcome {
  const common = commonOutcome(output);
  if (common) return common;
  if (output.code === 0) return OK;
  const records = borgLogRecords(output.stderr);
  const errors = records.filter((record) => record.levelname === 'ERROR' || record.levelname === 'CRITICAL');
  // Without --log-json (a borg run by hand), lines have no level: the first one says the most.
  const leveled = records.some((record) => record.levelname !== undefined);
  const detail = (errors[0] ?? (leveled ? records[records.length - 1] : records[0]))?.message;
  const known =
    records.map((record) => BY_MSGID[record.msgid ?? '']).find(Boolean) ??
    records.map((record) => byMessage(record.message ?? '')).find(Boolean);
  if (known) return outcome(known, detail);
  if (output.code === 1) return check ? outcome('failed', detail) : outcome('warning', detail);
  const damage = errors.some((record) => /integrity|errors found|corrupt|checksum/i.test(record.message ?? ''));
  if (output.code === 2 && check && damage) return outcome('failed', detail);
  return outcome('error', detail ?? lastLine(output.stderr));
}

/** `start` without a zone is borg's local time: UTC under TZ=UTC; with an offset, as it says. */
export function borgInstant(text: string): number {
  const trimmed = text.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(trimmed) ? trimmed : `${trimmed}Z`);
}

export function borgListProbe(target: Pick<BorgTarget, 'repository'>, secret: SecretInput | undefined): Probe<Listing> {
  return {
    command: borg(secret, ['list', '--json', '--', target.repository]),
    parse: (output) => {
      const ended = borgOutcome(output, false);
      if (ended.kind !== 'ok' && ended.kind !== 'warning') return emptyListing(ended);
      return listed(ended, () => parseBorgArchives(output.stdout));
    },
  };
}

function parseBorgArchives(stdout: string): Copy[] {
  const value = JSON.parse(stdout) as { archives?: unknown };
  if (!Array.isArray(value?.archives)) throw new Error('borg list: {archives: [...]} was expected');
  return value.archives.flatMap((archive: Record<string, unknown>) => {
    const { name, start } = archive;
    if (typeof name !== 'string' || typeof start !== 'string') return [];
    const time = borgInstant(start);
    return Number.isNaN(time) ? [] : [{ key: { archive: name }, time, location: name }];
  });
}

export function borgCheckProbe(
  target: Pick<BorgTarget, 'repository' | 'verifyData'>,
  secret: SecretInput | undefined,
): Probe<RepositoryCheck> {
  return {
    command: borg(secret, ['check', ...(target.verifyData ? ['--verify-data'] : []), '--', target.repository]),
    parse: (output) => {
      const problems = borgLogRecords(output.stderr)
        .filter((record) => record.levelname === 'ERROR')
        .map((record) => record.message ?? '')
        .filter(Boolean)
        .slice(0, 5);
      return { outcome: borgOutcome(output, true), problems };
    },
  };
}
