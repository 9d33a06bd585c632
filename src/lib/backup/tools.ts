// What the backup tools' probes share: their output as the executor returns it, the outcome a
// run ends with in the judgement's terms, and how a secret reaches a tool (never in argv).
import type { SecretRef } from './inventory.js';
import { command, type RemoteCommand, Secret, type Word, withStdin } from '../remote/shell.js';

/** A tool's run, as the executor returns it (run with `check: false`). */
export interface ToolOutput {
  /** null: killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A read-only probe whose exit code says as much as its output: parse takes both. */
export interface Probe<T> {
  readonly command: RemoteCommand;
  parse(output: ToolOutput): T;
}

/**
 * How a read or a check ended:
 * - ok; warning: it ran, with a warning (borg's rc 1 on a listing, gzip's trailing garbage);
 * - failed: the check ran and found damage;
 * - busy: a lock is held by a running backup (retry later; chaton never unlocks);
 * - no-repository: nothing where the inventory says (a missing directory, no repository);
 * - wrong-password: the secret the inventory names does not open the repository;
 * - secret-unreadable: the file or variable holding the secret could not be read;
 * - missing-tool: the tool is not installed on that host;
 * - unreachable: the host could not be reached (the command sets it: probes never see it);
 * - interrupted: stopped (Ctrl-C, a signal) before its end;
 * - error: anything else; the tool's own words are in `detail`.
 */
export type OutcomeKind =
  | 'ok'
  | 'warning'
  | 'failed'
  | 'busy'
  | 'no-repository'
  | 'wrong-password'
  | 'secret-unreadable'
  | 'missing-tool'
  | 'unreachable'
  | 'interrupted'
  | 'error';

export interface Outcome {
  kind: OutcomeKind;
  /** What the tool said (its last meaningful line), for the report. */
  detail?: string;
}

export const OK: Outcome = { kind: 'ok' };

export function outcome(kind: OutcomeKind, detail?: string): Outcome {
  return detail ? { kind, detail } : { kind };
}

/** The last non-empty line of a tool's output. */
export function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .pop();
}

/** Exit status of SECRET_SCRIPT when it cannot read the secret. */
const SECRET_UNREADABLE = 125;

/** What any probe's exit says before the tool's own codes: killed, missing tool, unreadable secret. */
export function commonOutcome(output: ToolOutput): Outcome | undefined {
  const detail = lastLine(output.stderr);
  if (output.code === null) return outcome('interrupted', detail);
  if (output.code === 127) return outcome('missing-tool', detail);
  if (output.code === SECRET_UNREADABLE) return outcome('secret-unreadable', detail);
  return undefined;
}

/**
 * Puts a secret in the environment variable `$1` of the command that follows, then runs it: read
 * from the file `$2` on the host, or, when `$2` is empty, from the first line of stdin (where
 * chaton sends the value of an operator's environment variable). Trailing newlines are dropped,
 * as `$(cat)` drops them.
 */
const SECRET_SCRIPT = `name=$1 file=$2
shift 2
if [ -n "$file" ]; then
  value=$(cat -- "$file") || exit ${SECRET_UNREADABLE}
else
  IFS= read -r value || [ -n "$value" ] || { echo 'chaton: no secret on stdin' >&2; exit ${SECRET_UNREADABLE}; }
fi
export "$name=$value"
exec "$@"`;

/** A secret as a probe takes it: a file on the host, or a value from the operator's environment. */
export type SecretInput = { file: string } | { value: Secret };

/** The secret a target names, from `env` (the operator's environment) when it names a variable. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): SecretInput | { unset: string } {
  if ('file' in ref) return { file: ref.file };
  const value = env[ref.env];
  return value === undefined || value === '' ? { unset: ref.env } : { value: new Secret(value) };
}

/** `argv` run with the secret in `variable`: the file is read on the host, a value travels on stdin. */
export function withSecretIn(variable: string, secret: SecretInput, argv: Word[]): RemoteCommand {
  const run = command('sh', '-c', SECRET_SCRIPT, 'sh', variable, 'file' in secret ? secret.file : '', ...argv);
  return 'file' in secret ? run : withStdin(run, new Secret(Buffer.concat([secret.value.reveal(), Buffer.from('\n')])));
}
