// Reading what a tool printed as JSON (ceph -f json, lsblk -J, smartctl -j): each reader checks one
// field's type and, when it is not what the tool documents, says which field and what was expected,
// so that a changed output format fails with a sentence instead of a TypeError deep in a judgement.
import { messages } from './messages.js';

/** What a tool printed could not be read: the command's words or the field, and why. */
export class OutputError extends Error {}

export type JsonObject = Record<string, unknown>;

/** Any JSON value; white space around it (a leading newline: ceph safe-to-destroy) is allowed. */
export function parseJson(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    throw new OutputError(messages.notJson(what, stdout.trim().slice(0, 80)));
  }
}

export function object(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OutputError(messages.notAnObject(what));
  }
  return value as JsonObject;
}

export function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new OutputError(messages.notAList(what));
  return value;
}

export function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new OutputError(messages.notAString(what));
  return value;
}

export function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new OutputError(messages.notANumber(what));
  return value;
}

export function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new OutputError(messages.notABoolean(what));
  return value;
}
