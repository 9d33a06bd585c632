// One report model per run, rendered for whoever reads it. A command hands back its result
// (hosts, its own fields, how a person reads it); a renderer turns it into text for a terminal
// or one JSON document, or the one line of a monitoring plugin (`--format nagios`). The node_exporter
// textfile (`--prom-file`) is a file the command writes, not what it prints.
import type { Command } from 'commander';
import { ChatonError, type ExitCode } from './errors.js';
import { messages } from './messages.js';
import { milliseconds, paint, table, type Cell } from './output.js';
import { wrap } from './text.js';

/** The version of the JSON envelope: raised when a field changes meaning or goes away, not when one is added. */
const SCHEMA_VERSION = 1;

/** An error as JSON: what went wrong, and the next step for the operator (null when there is none). */
export interface ErrorReport {
  message: string;
  hint: string | null;
}

export function errorReport(error: unknown): ErrorReport {
  if (error instanceof ChatonError) return { message: error.message, hint: error.hint ?? null };
  return { message: error instanceof Error ? error.message : String(error), hint: null };
}

/** One host's entry in every report: its name, why it failed (null when it did not), the command's fields. */
export interface HostEntry {
  host: string;
  error: ErrorReport | null;
  [field: string]: unknown;
}

/** A failure told in full under a table or at the end of a report: `about: message`, then `→ hint`. */
export interface FailureBlock {
  failure: string;
  error: ErrorReport;
}

/** A table whose failing hosts' errors are told in full under it (their cells say FAILED). */
export interface TableBlock {
  columns: string[];
  rows: Cell[][];
  failures: FailureBlock[];
}

/**
 * How a person reads a report: tables, failures, and text shown as it is (a config file, a
 * status line that names a file: wrapping it would break the name that one copies or greps).
 */
export type Block = TableBlock | FailureBlock | { text: string };

/** What a command hands back. */
export interface CommandResult {
  exitCode: ExitCode;
  hosts: HostEntry[];
  /** The command's own fields in the JSON envelope. */
  fields?: Record<string, unknown>;
  /** What stopped the command as a whole (told on stderr too): null when nothing did. */
  error?: unknown;
  /** Printed on stdout after the progress, unless --json. */
  view?: Block[];
  /**
   * Worth printing under --quiet even with exit 0: warnings cron should mail (a backup that
   * needs a look, while the run itself succeeded).
   */
  alert?: boolean;
  /** What a monitoring plugin prints (`--format nagios`), and the exit code the Monitoring Plugins use. */
  plugin?: PluginOutput;
}

/**
 * A monitoring plugin's output: its status line (and details), and its exit code: 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN.
 */
export interface PluginOutput {
  text: string;
  exitCode: 0 | 1 | 2 | 3;
}

/** A result and the command that made it ("noun verb", as typed). */
export interface Report extends CommandResult {
  command: string;
}

/** A subcommand's name as typed, "noun verb" (e.g. "hosts check", "exec"); "" for the program itself. */
export function commandName(cmd: Command): string {
  const names: string[] = [];
  for (let at: Command | null = cmd; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

export interface Renderer {
  /** What goes on stdout, if anything. */
  render(report: Report): string | undefined;
  /** The exit code, when this renderer's reader expects its own (a monitoring plugin's); else the report's. */
  exitCode?(report: Report): number;
}

/** The one JSON document: the same envelope for every command, then the command's own fields. */
export const jsonRenderer: Renderer = {
  render: (report) =>
    JSON.stringify(
      {
        chaton: SCHEMA_VERSION,
        command: report.command,
        exitCode: report.exitCode,
        error: report.error === undefined || report.error === null ? null : errorReport(report.error),
        hosts: report.hosts,
        ...report.fields,
      },
      null,
      2,
    ),
};

/** For a person: tables and failures fitted to `width` columns, blocks apart by a blank line. */
function textRenderer(width: number): Renderer {
  return {
    render: (report) =>
      report.view?.length ? report.view.map((block) => renderBlock(block, width)).join('\n\n') : undefined,
  };
}

/** The Monitoring Plugins' UNKNOWN state, for a run that ended before its judgement. */
const PLUGIN_UNKNOWN = 3;

/**
 * `--format nagios`: the command's plugin output and its exit code (0-3, as the Monitoring
 * Plugins guidelines say); a run stopped before it (a usage error, the bastion down, a bug) is
 * `<NOUN> UNKNOWN - <why>`, exit 3, on one line: never a crash the monitoring cannot read.
 */
export const pluginRenderer: Renderer = {
  render: (report) => report.plugin?.text ?? unknownPluginLine(report.command, report.error),
  exitCode: (report) => report.plugin?.exitCode ?? PLUGIN_UNKNOWN,
};

/** `BACKUP UNKNOWN - <message>`: the service is the command's noun. */
export function unknownPluginLine(command: string, error: unknown): string {
  const service = (command.split(' ')[0] || 'chaton').toUpperCase();
  const why = error === undefined || error === null ? messages.noReport : errorReport(error).message;
  // One line, and no `|`: what follows it would be read as performance data.
  return `${service} UNKNOWN - ${why.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '/')}`;
}

/**
 * With --quiet, a run that succeeded prints nothing at all (cron mails whatever a job prints),
 * unless its report asks to be told (`alert`: warnings); a failed one prints its report, for the
 * mail to say what failed and why.
 */
export function rendererFor(options: { json: boolean; quiet: boolean; format?: 'nagios' }, width: number): Renderer {
  if (options.json) return jsonRenderer;
  if (options.format === 'nagios') return pluginRenderer;
  const text = textRenderer(width);
  return options.quiet
    ? { render: (report) => (report.exitCode === 0 && !report.alert ? undefined : text.render(report)) }
    : text;
}

function renderBlock(block: Block, width: number): string {
  if ('columns' in block) {
    return [table(block.columns, block.rows, width), ...block.failures.map((f) => renderFailure(f, width))].join('\n');
  }
  if ('failure' in block) return renderFailure(block, width);
  return block.text.trimEnd();
}

function renderFailure({ failure, error }: FailureBlock, width: number): string {
  // Messages about a host often start with its name already (`pve1: ` or, in French, `pve1 : `):
  // it is not said twice.
  const named = [`${failure}: `, `${failure} : `].some((start) => error.message.startsWith(start));
  const text = named ? error.message : messages.about(failure, error.message);
  const lines = wrap(text, width, '  ');
  // The name and its colon in red.
  const red = lines[0]!.indexOf(':', failure.length) + 1 || failure.length;
  lines[0] = paint.red(lines[0]!.slice(0, red)) + lines[0]!.slice(red);
  if (error.hint) lines.push(...wrap(`→ ${error.hint}`, width - 2, '  ').map((line) => `  ${line}`));
  return lines.join('\n');
}

/** The table block of per-host results: a failed host's cell says FAILED, its error follows the table. */
export function hostTable(columns: string[], hosts: HostEntry[], rows: Cell[][]): TableBlock {
  return {
    columns,
    rows,
    failures: hosts.flatMap((entry) => (entry.error ? [{ failure: entry.host, error: entry.error }] : [])),
  };
}

/** The cell of a failed host; its error is told under the table. Its text is read when the table is drawn. */
export const FAILED: Cell = {
  get text() {
    return messages.failedCell;
  },
  failed: true,
};

/** One step of a long command, as its report keeps it: its name, how it ended, how long, what it did. */
export interface TimedStep {
  name: string;
  /** "failed" shows as FAILED, in red; the others as `resultOf` words them. */
  outcome: string;
  durationMs: number;
  detail: string;
}

/** A long command's steps as a table (vm create, disk swap). */
export function timedStepsTable(
  firstColumn: string,
  steps: TimedStep[],
  resultOf: (outcome: string) => string,
): TableBlock {
  return {
    columns: [firstColumn, messages.columnResult, messages.columnDuration, messages.columnDetail],
    rows: steps.map((step) => [
      step.name,
      step.outcome === 'failed' ? { text: messages.stepFailed, failed: true } : resultOf(step.outcome),
      milliseconds(step.durationMs),
      step.detail,
    ]),
    failures: [],
  };
}
