// Everything one run of a remote command shares: options, inventory, connections, the executor.
import { operatorName } from './audit.js';
import type { ExitCode } from './errors.js';
import { Executor } from './executor.js';
import { Identities } from './identities.js';
import type { Inventory } from './inventory/types.js';
import type { OutputMode } from './output.js';
import { ConnectionPool } from './ssh.js';

export interface GlobalOptions {
  inventory?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  concurrency: number;
  color: boolean;
  acceptNew: boolean;
}

/** What a command hands back: the exit code and its report, as JSON and as text. */
export interface CommandResult {
  exitCode: ExitCode;
  json: Record<string, unknown>;
  /** Printed on stdout after the progress, unless --json. */
  text?: string;
}

export class RunContext {
  /** Things the operator must know that are not failures (e.g. a host key was added). */
  readonly notices: string[] = [];
  readonly identities = new Identities();
  readonly pool: ConnectionPool;
  readonly executor: Executor;
  /** For the audit trail: who runs chaton, and the command line as typed. */
  readonly operator: string;
  readonly commandLine: string[];

  constructor(
    readonly options: GlobalOptions,
    readonly mode: OutputMode,
    readonly inventory: Inventory,
    readonly signal: AbortSignal,
    readonly env: NodeJS.ProcessEnv,
    argv: string[],
  ) {
    this.operator = operatorName(env);
    this.commandLine = ['chaton', ...argv.slice(2)];
    this.pool = new ConnectionPool({
      identities: this.identities,
      env,
      acceptNew: options.acceptNew,
      notice: (message) => this.notices.push(message),
    });
    this.executor = new Executor(this.pool, { dryRun: options.dryRun, signal });
  }
}
