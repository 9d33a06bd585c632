// The audit trail of changing runs: a JSON line on the operator's machine, and a syslog line
// (`logger -t chaton`) on every host that was changed, so the hosts' own logs tell who did what.
// A host's line is written as soon as its own work ends, with its own outcome: it does not wait
// for the slowest host, and it says what happened there. Both records stay in English whatever
// the language of messages: programs and other admins read them (see run/catalogue.ts).
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brief, command, display, type RemoteCommand } from '../remote/shell.js';
import { InterruptedError } from './errors.js';

export interface AuditRecord {
  time: string;
  operator: string;
  argv: string[];
  inventory: string;
  hosts: string[];
  outcome: 'ok' | 'partial' | 'failed' | 'interrupted';
  exitCode: number;
}

/** `$XDG_STATE_HOME/chaton`, by default `~/.local/state/chaton`. */
export function stateDirectory(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'chaton');
}

/** Who runs chaton: the login behind sudo if any, and the machine. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  return `${env.SUDO_USER || os.userInfo().username}@${os.hostname()}`;
}

/** The command line the audit records, from the process's argv: `chaton` and its words. */
export function auditedCommandLine(processArgv: string[]): string[] {
  return ['chaton', ...processArgv.slice(2)];
}

/** Synchronous, so that it can still be written on the way out of a second Ctrl-C. */
export function appendAuditRecord(env: NodeJS.ProcessEnv, record: AuditRecord): string {
  const dir = stateDirectory(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'audit.jsonl');
  appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return file;
}

/** What a run that changed hosts amounts to, from its exit code. */
export function auditOutcome(exitCode: number): AuditRecord['outcome'] {
  if (exitCode === 0) return 'ok';
  if (exitCode === 130) return 'interrupted';
  // Hosts were changed, so whatever else went wrong, something was done.
  return exitCode === 1 ? 'failed' : 'partial';
}

/** What happened on one host once its work has ended: how it failed, if it did. */
export function hostAuditOutcome(failure: { error: unknown } | undefined): AuditRecord['outcome'] {
  if (!failure) return 'ok';
  return failure.error instanceof InterruptedError ? 'interrupted' : 'failed';
}

// $3 is an outcome, or the exit status of the command just run (then 0 is ok, the rest failed).
const HOST_AUDIT = `case $3 in 0 | ok) outcome=ok ;; interrupted) outcome=interrupted ;; *) outcome=failed ;; esac
exec logger -t chaton -- "operator=$1 outcome=$outcome command: $2"`;

/** The syslog line for one changed host, with what happened on that host. */
export function hostAuditCommand(operator: string, argv: string[], outcome: AuditRecord['outcome']): RemoteCommand {
  return command(...hostAuditTrailer(operator, argv).argv, outcome);
}

/**
 * The same line, to run right after a command in its own session (see `sessionCommand`), which
 * appends the command's exit status: no second session. The command line is cut to what a
 * syslog line holds (logger's default is 1 KiB); the local record keeps it whole.
 */
export function hostAuditTrailer(operator: string, argv: string[]): RemoteCommand {
  const line = brief(display(command(...argv)), HOST_LINE_COMMAND_MAX, (bytes) => `(${bytes} bytes)`);
  return command('sh', '-c', HOST_AUDIT, 'sh', operator, line);
}

const HOST_LINE_COMMAND_MAX = 800;
