// Exit codes are part of chaton's interface: cron jobs and monitoring read them.
// The table is printed by `chaton --help` and copied in the README; keep the three in step.
import type { LockOwner } from '../remote/host-lock.js';
import { brief } from '../remote/shell.js';
import { messages } from './messages.js';

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  partial: 4,
  connection: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Each exit code and what it means, in the language of the moment. */
export function exitCodeTable(): [ExitCode, string][] {
  return [
    [ExitCode.ok, messages.exitOk],
    [ExitCode.failed, messages.exitFailed],
    [ExitCode.usage, messages.exitUsage],
    [ExitCode.refused, messages.exitRefused],
    [ExitCode.partial, messages.exitPartial],
    [ExitCode.connection, messages.exitConnection],
    [ExitCode.interrupted, messages.exitInterrupted],
  ];
}

/** An error meant for the operator: what went wrong, and what to do next. */
export class ChatonError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The next step for the operator, one sentence. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends ChatonError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
  }
}

export class RefusedError extends ChatonError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.refused, hint);
  }
}

/** Another run holds a host's lock (see run/host-lock.ts): refused, nothing was changed. */
export class LockHeldError extends RefusedError {
  constructor(
    readonly host: string,
    readonly lock: string,
    /** The holder for people: who, which process, since when. */
    holder: string,
    directory: string,
    /** What its owner line says, when it says it the way chaton writes it. */
    readonly holderOwner: LockOwner | undefined,
  ) {
    super(messages.lockHeld(host, lock, holder), messages.lockHeldHint(directory, host));
  }
}

/** Could not reach or trust a host (or a jump host on the way to it). */
export class ConnectionError extends ChatonError {
  constructor(
    readonly host: string,
    message: string,
    hint?: string,
  ) {
    super(message, ExitCode.connection, hint);
  }
}

/** sshd refused every key offered for the user. */
export class KeysRefusedError extends ConnectionError {}

/** The host's key is unknown, changed or revoked: a trust problem, never retried. */
export class HostKeyError extends ConnectionError {}

/** A remote command ran and failed. The command is already redacted. */
export class RemoteCommandError extends ChatonError {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
    message?: string,
    hint?: string,
  ) {
    super(message ?? describeRemoteFailure(host, command, code, stderr), ExitCode.failed, hint);
  }
}

function describeRemoteFailure(host: string, command: string, code: number | null, stderr: string): string {
  const status = code === null ? messages.wasKilled : messages.exitedWith(code);
  const lastLine = stderr.trim().split('\n').pop();
  const failed = messages.remoteCommandFailed(host, brief(command), status);
  return lastLine ? messages.about(failed, lastLine) : failed;
}

/**
 * The connection dropped while a command ran: it may have finished, failed or still be running
 * there. Not a ConnectionError: those say the host was never reached.
 */
export class LostWhileRunningError extends ChatonError {
  constructor(
    readonly host: string,
    readonly command: string,
    named: string,
    lost: ConnectionError,
  ) {
    super(messages.lostWhileRunning(named, lost.message), ExitCode.failed, messages.lostWhileRunningHint(host));
  }
}

/**
 * The work ran, but the host's own check of the result says it is not as wanted (sshd still
 * takes an old key, sudo does not grant the rule): a failure like another for the exit code,
 * reported as "verification failed" because the changes were made.
 */
export class VerificationError extends ChatonError {
  constructor(
    readonly host: string,
    readonly problems: string[],
    hint?: string,
  ) {
    super(messages.verificationFailed(host, problems.join('; ')), ExitCode.failed, hint);
  }
}

export class InterruptedError extends ChatonError {
  constructor(message = messages.interrupted) {
    super(message, ExitCode.interrupted);
  }
}

/** `what` (a host, a command on one) was never begun: Ctrl-C came first. */
export function notStarted(what: string): InterruptedError {
  return new InterruptedError(messages.notStarted(what));
}

/** One line for the operator: message, then the hint on its own line. */
/** A command's exit code: the one it chose, else 130 after Ctrl-C, else its error's, else 1. */
export function exitCodeFor(aborted: boolean, error: unknown, chosen?: ExitCode): ExitCode {
  return chosen ?? (aborted ? ExitCode.interrupted : error instanceof ChatonError ? error.exitCode : ExitCode.failed);
}

export function formatError(error: unknown): string {
  if (error instanceof ChatonError) return error.hint ? `${error.message}\n  → ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
