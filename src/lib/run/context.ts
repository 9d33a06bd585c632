// Everything one run of a remote command shares: options, inventory, connections, the executor.
import { auditedCommandLine, hostAuditCommand, hostAuditTrailer, operatorName, type AuditRecord } from './audit.js';
import type { RemoteCommand } from '../remote/shell.js';
import { formatError } from './errors.js';
import { Executor } from '../remote/executor.js';
import { Identities } from '../ssh/identities.js';
import type { Host, Inventory } from '../inventory/types.js';
import type { OutputMode } from './output.js';
import { ConnectionPool } from '../ssh/pool.js';
import { whereVia } from '../ssh/endpoint.js';
import { progressLine, UnendedLines } from './display.js';
import { messages } from './messages.js';

export interface GlobalOptions {
  inventory?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  verbose: boolean;
  /** -vv: how each SSH connection is made, one progress line per event. */
  sshDebug: boolean;
  quiet: boolean;
  concurrency: number;
  color: boolean;
  acceptNew: boolean;
  /**
   * `--persist` or CHATON_PERSIST, in ms: how long the connections are kept warm after their last
   * use (0: off). Undefined when neither is given: each machine's `ssh.persist` decides.
   */
  persistMs?: number;
  logFile?: string;
  /** `--format nagios` (a command's own option): the monitoring plugin's output and exit codes. */
  format?: 'nagios';
}

/** What a command hands back: the report model (see report.ts), rendered by the lifecycle. */
export type { CommandResult } from './report.js';

/** Whether some connection of this run is to be kept for the next runs (ssh.persist, --persist). */
function keepsConnections(inventory: Inventory, persistMs: number | undefined): boolean {
  if (persistMs !== undefined) return persistMs > 0;
  return [...inventory.hosts, ...inventory.bastions].some((host) => host.ssh.persistMs > 0);
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
  readonly #audited = new Set<string>();
  /** Which host's line is left unended on each output stream: for every task chain of the run, and -vv's lines. */
  readonly unended = new UnendedLines();

  constructor(
    readonly options: GlobalOptions,
    readonly mode: OutputMode,
    readonly inventory: Inventory,
    readonly signal: AbortSignal,
    readonly env: NodeJS.ProcessEnv,
    argv: string[],
  ) {
    this.operator = operatorName(env);
    this.commandLine = auditedCommandLine(argv);
    this.pool = new ConnectionPool({
      identities: this.identities,
      env,
      acceptNew: options.acceptNew,
      notice: (message) => this.notices.push(message),
      debug: options.sshDebug
        ? (target, event) => progressLine(mode, this.unended, `ssh: ${whereVia(target)}: ${event}`)
        : undefined,
      verbose: options.verbose ? (message) => progressLine(mode, this.unended, `ssh: ${message}`) : undefined,
      ...(options.persistMs === undefined ? {} : { persistMs: options.persistMs }),
      ...(keepsConnections(inventory, options.persistMs) ? { keeper: { inventoryFile: inventory.file } } : {}),
    });
    this.executor = new Executor(this.pool, { dryRun: options.dryRun, signal });
  }

  /** For a host's one change: its syslog line written in the same session, right after it. */
  auditTrailer(): RemoteCommand {
    return hostAuditTrailer(this.operator, this.commandLine);
  }

  /** The host's syslog line was written by the trailer: auditHost has nothing left to do. */
  audited(host: Host): void {
    this.#audited.add(host.name);
  }

  /**
   * Writes a changed host's own syslog line, once, with what happened there. Best effort: a host
   * without syslog is only a notice.
   */
  async auditHost(host: Host, outcome: AuditRecord['outcome']): Promise<void> {
    if (!this.executor.changedHosts.has(host.name) || this.#audited.has(host.name)) return;
    this.#audited.add(host.name);
    try {
      await this.executor.run(host, hostAuditCommand(this.operator, this.commandLine, outcome), {
        kind: 'change',
        afterInterrupt: true,
      });
    } catch (error) {
      this.notices.push(messages.auditLineFailed(host.name, formatError(error)));
    }
  }
}
