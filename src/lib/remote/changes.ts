// Changes: what an operation yields after comparing facts with the wanted state. Each says what
// it does in words and carries the command that does it; dry-run prints them, a run sends them.
import type { RemoteCommand } from './shell.js';

export interface Change {
  what: string;
  command: RemoteCommand;
  /** Exit codes that still mean done (default [0]). */
  okCodes?: number[];
}
