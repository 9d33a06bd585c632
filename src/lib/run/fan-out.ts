// Task chains: the listr2 side of chaton. Commands describe their work per host; this module
// runs it with the right progress display, asks questions only through listr2's prompt
// adapter, and turns every host's fate into an outcome.
import {
  Listr,
  ListrLogger,
  ListrLogLevels,
  ProcessOutput,
  type ListrTask,
  type ListrTaskWrapper,
  type LoggerFieldOptions,
} from 'listr2';
import type { RunContext } from './context.js';
import { ConnectionError, ExitCode, formatError, HostKeyError, InterruptedError, RefusedError } from './errors.js';
import type { Host } from '../inventory/types.js';
import { paint, plural, timestamp, type OutputMode } from './output.js';

/** What a host's work may do with its progress line. */
export interface HostTask {
  /**
   * Lines of remote output, each prefixed with the host's name: remote stderr goes to
   * chaton's stderr, as ssh does it, the rest to stdout. With `endsLine` false the text is a
   * piece of a long line: its rest follows without a prefix.
   */
  output(lines: string, stream?: 'stdout' | 'stderr', endsLine?: boolean): boolean;
  /** A step of the host's work, for the person watching: under its line, or on stderr. */
  progress(text: string): void;
  /** Pass as `onLines` to show a remote command's output with --verbose; undefined otherwise. */
  verboseLines: ((stream: 'stdout' | 'stderr', lines: string, endsLine: boolean) => boolean) | undefined;
  /** Resolves when chaton's output can take more (after `output` returned false). */
  drained(): Promise<void>;
}

export type HostOutcome<T> = { host: Host; ok: true; value: T } | { host: Host; ok: false; error: unknown };

export interface FanOut<T> {
  /** The parent line, e.g. "Check 26 hosts". */
  title: string;
  hosts: Host[];
  /** 'live': redrawn task list on a terminal; 'lines': one line per event (for streamed output). */
  style: 'live' | 'lines';
  /** Ask this before starting (on a terminal), or refuse without --yes (no terminal). */
  confirm?: string;
  /** Nothing will be sent (a dry-run without probes): no keys to load, no bastion to reach. */
  offline?: boolean;
  /** A shared step once connected, before any host's work (e.g. taking locks in order); its failure stops the run. */
  prepare?: { title: string; run(progress: (text: string) => void): Promise<void> };
  work(host: Host, task: HostTask): Promise<T>;
  /** Shown after the host's name when its work is done. */
  summary?(value: T): string | undefined;
  /** Work that ran to its end but failed (e.g. a non-zero exit code): shown and counted as failed. */
  failed?(value: T): boolean;
}

type Wrapper = ListrTaskWrapper<unknown, any, any>;

/** Marks a task output line that came from a remote stderr (see ChatonLogger). */
const STDERR_LINE = '\u0000stderr\u0000';
/** Marks task output that does not end its line: a piece of a long one (see ChatonLogger). */
const UNENDED = '\u0000unended\u0000';

/**
 * Which host's line is left unended on each of chaton's output streams, while a long line comes
 * in pieces: only that host continues it; anything else first ends it, so lines never merge.
 */
class UnendedLines {
  readonly #owner = new Map<NodeJS.WriteStream, string>();

  /** What to write before `writer`'s text (a line break, or nothing), and whether it continues its own line. */
  before(stream: NodeJS.WriteStream, writer?: string): { lead: string; continues: boolean } {
    const owner = this.#owner.get(stream);
    if (owner === undefined) return { lead: '', continues: false };
    if (owner === writer) return { lead: '', continues: true };
    this.#owner.delete(stream);
    return { lead: '\n', continues: false };
  }

  after(stream: NodeJS.WriteStream, writer: string, endsLine: boolean): void {
    if (endsLine) this.#owner.delete(stream);
    else this.#owner.set(stream, writer);
  }
}

/** Runs `work` on every host in parallel (at most --concurrency at once), after the shared steps. */
export async function fanOut<T>(ctx: RunContext, spec: FanOut<T>): Promise<HostOutcome<T>[]> {
  const outcomes = new Map<string, HostOutcome<T>>();
  const width = Math.max(...spec.hosts.map((h) => h.name.length));
  const live = showsLive(ctx.mode, spec.style);
  const unended = new UnendedLines();
  const hostTasks: ListrTask<unknown, any, any>[] = spec.hosts.map((host) => ({
    title: host.name,
    task: async (_, task: Wrapper) => {
      if (ctx.signal.aborted) {
        outcomes.set(host.name, { host, ok: false, error: new InterruptedError(`${host.name}: not started: interrupted`) });
        task.skip(`${host.name}: not started (interrupted)`);
        return;
      }
      const prefix = `${paint.cyan(host.name.padEnd(width))} | `;
      const output = (lines: string, stream: 'stdout' | 'stderr' = 'stdout', endsLine = true, shown = stream === 'stderr' ? paint.red(lines) : lines) => {
        const destination = stream === 'stderr' || ctx.mode.json ? process.stderr : process.stdout;
        // Lines of all hosts interleave, except under each host's own line in the live view.
        if (live) {
          task.output = shown;
          return true;
        }
        const { lead, continues } = unended.before(destination, host.name);
        unended.after(destination, host.name, endsLine);
        const marks = `${stream === 'stderr' ? STDERR_LINE : ''}${endsLine ? '' : UNENDED}`;
        task.output = `${marks}${lead}${continues ? '' : prefix}${shown.replaceAll('\n', `\n${prefix}`)}`;
        return !destination.writableNeedDrain;
      };
      let outcome: HostOutcome<T>;
      try {
        const value = await spec.work(host, {
          output,
          progress: (text) => {
            if (!ctx.mode.quiet) output(text, 'stderr', true, text);
          },
          verboseLines: ctx.mode.verbose ? (stream, lines, endsLine) => output(lines, stream, endsLine) : undefined,
          drained,
        });
        outcome = { host, ok: true, value };
      } catch (error) {
        outcome = { host, ok: false, error };
      }
      outcomes.set(host.name, outcome);
      const failed = !outcome.ok || spec.failed?.(outcome.value) === true;
      await ctx.auditHost(host, !outcome.ok && outcome.error instanceof InterruptedError ? 'interrupted' : failed ? 'failed' : 'ok');
      if (!outcome.ok) throw new Error(formatError(outcome.error));
      const summary = spec.summary?.(outcome.value);
      if (failed) throw new Error(`${host.name}: ${summary ?? 'failed'}`);
      if (summary) task.title = `${host.name}: ${summary}`;
    },
  }));

  const steps: ListrTask<unknown, any, any>[] = [];
  if (spec.confirm && !ctx.options.dryRun) steps.push(confirmStep(ctx, spec.confirm));
  if (!spec.offline) steps.push(...connectionSteps(ctx, spec.hosts));
  const prepare = spec.prepare;
  if (prepare) {
    steps.push({
      title: prepare.title,
      // Its progress goes where a host's goes: under its line, or on stderr; not with --quiet.
      task: (_, task: Wrapper) =>
        prepare.run((text) => {
          if (!ctx.mode.quiet) task.output = live ? text : `${STDERR_LINE}${text}`;
        }),
    });
  }
  steps.push({
    title: `${spec.title} (${plural(spec.hosts.length, 'host')})`,
    task: (_, task: Wrapper) => task.newListr(hostTasks, { concurrent: ctx.options.concurrency, exitOnError: false }),
  });

  const list = new Listr<unknown, any, any>(steps, {
    ...rendererFor(ctx.mode, live, unended),
    exitOnError: true,
    registerSignalListeners: false,
  });
  // A shared step that fails (no confirmation, bastion unreachable) rejects here: no host was touched.
  await list.run();
  return spec.hosts.map((host) => outcomes.get(host.name) ?? { host, ok: false, error: new InterruptedError() });
}

/**
 * Resolves once stdout and stderr have written out what they hold, or can no longer be written
 * (the reader went away): a paused command must never wait for a drain that will not come.
 */
function drained(): Promise<void> {
  const full = [process.stdout, process.stderr].filter((stream) => stream.writableNeedDrain && !stream.destroyed);
  return Promise.all(
    full.map(
      (stream) =>
        new Promise<void>((resolve) => {
          const done = () => {
            for (const event of ['drain', 'close', 'error']) stream.off(event, done);
            resolve();
          };
          for (const event of ['drain', 'close', 'error']) stream.once(event, done);
        }),
    ),
  ).then(() => {});
}

/** Load the keys (asking for passphrases), then reach each bastion once: a dead bastion stops everything. */
function connectionSteps(ctx: RunContext, hosts: Host[]): ListrTask<unknown, any, any>[] {
  const steps: ListrTask<unknown, any, any>[] = [
    {
      title: 'Load SSH keys',
      task: (_, task: Wrapper) => ctx.pool.loadKeys(hosts, (file, retry) => askPassphrase(ctx.mode, task, file, retry)),
    },
  ];
  for (const jump of ctx.pool.jumpsFor(hosts)) {
    steps.push({
      title: `Connect to ${jump.name} (${jump.user}@${jump.address})`,
      task: async () => {
        await ctx.pool.connect(jump);
      },
    });
  }
  return steps;
}

/**
 * The exit code for a fan-out: trust problems and unreachable fleets are connection failures
 * (5), a mixed result is partial (4), all refused by safety checks is 3, all failed is 1.
 */
export function exitCodeFor<T>(outcomes: HostOutcome<T>[], signal: AbortSignal, failed: (value: T) => boolean = () => false): ExitCode {
  if (signal.aborted) return ExitCode.interrupted;
  const failures = outcomes.flatMap((o) => (!o.ok ? [o.error] : failed(o.value) ? [o.value] : []));
  if (failures.some((e) => e instanceof HostKeyError)) return ExitCode.connection;
  if (failures.length === 0) return ExitCode.ok;
  if (failures.length < outcomes.length) return ExitCode.partial;
  if (failures.every((e) => e instanceof ConnectionError)) return ExitCode.connection;
  // Every host said no before changing anything: the run changed nothing.
  return failures.every((e) => e instanceof RefusedError) ? ExitCode.refused : ExitCode.failed;
}

function confirmStep(ctx: RunContext, question: string): ListrTask<unknown, any, any> {
  return {
    title: 'Confirm',
    task: async (_, task: Wrapper) => {
      if (ctx.options.yes) {
        task.title = 'Confirmed by --yes';
        return;
      }
      if (!ctx.mode.interactive) {
        throw new RefusedError(`${question} Nobody can answer here (no terminal), so nothing was done.`, 'add --yes to confirm on the command line');
      }
      const { confirm } = await import('@inquirer/prompts');
      const yes = await ask(task, confirm, { message: question, default: false });
      if (!yes) throw new RefusedError('not confirmed: nothing was done');
    },
  };
}

async function askPassphrase(mode: OutputMode, task: Wrapper, file: string, retry: boolean): Promise<string | undefined> {
  if (!mode.interactive) return undefined;
  const { password } = await import('@inquirer/prompts');
  return ask(task, password, { message: `${retry ? 'Wrong passphrase. ' : ''}Passphrase for ${file}`, mask: true });
}

/** A question through listr2's prompt adapter; Ctrl-C at the question is an interruption. */
async function ask<Config, Answer>(task: Wrapper, prompt: (config: Config) => Promise<Answer>, config: Config): Promise<Answer> {
  const { ListrInquirerPromptAdapter } = await import('@listr2/prompt-adapter-inquirer');
  try {
    // The adapter's typing wants inquirer's own Prompt type; ours is the same function, narrower.
    const adapter = task.prompt(ListrInquirerPromptAdapter) as unknown as { run(prompt: unknown, config: unknown): Promise<Answer> };
    return await adapter.run(prompt, config);
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError') throw new InterruptedError('interrupted at the question: nothing was done');
    throw error;
  }
}

/**
 * Progress lines go to stderr; remote output (the OUTPUT level) to stdout as it is, except
 * with --json. Without a terminal, progress lines start with a timestamp and name their level
 * in words ([COMPLETED], [FAILED]) rather than with symbols.
 */
class ChatonLogger extends ListrLogger {
  constructor(
    private readonly shown: (level: ListrLogLevels) => boolean,
    private readonly plain: boolean,
    stdout: NodeJS.WriteStream,
    private readonly unended: UnendedLines,
  ) {
    super({ processOutput: new ProcessOutput(stdout, process.stderr), useIcons: !plain });
  }

  override log(level: ListrLogLevels, message: string | any[], options?: LoggerFieldOptions): void {
    if (!this.shown(level)) return;
    if (level === ListrLogLevels.OUTPUT) {
      let text = typeof message === 'string' ? message : message.join(' ');
      const toStderr = text.startsWith(STDERR_LINE);
      if (toStderr) text = text.slice(STDERR_LINE.length);
      const endsLine = !text.startsWith(UNENDED);
      if (!endsLine) text = text.slice(UNENDED.length);
      if (toStderr) this.process.toStderr(text, endsLine);
      else this.process.toStdout(text, endsLine);
      return;
    }
    const line = this.format(level, message, options);
    const { lead } = this.unended.before(process.stderr);
    this.process.toStderr(lead + (this.plain ? line.replace(/^/gm, `${timestamp()} `) : line));
  }
}

/** The redrawn task list: for a person at a terminal, and only where output is not the point. */
function showsLive(mode: OutputMode, style: FanOut<unknown>['style']): boolean {
  return style === 'live' && mode.interactive && process.stdout.isTTY === true && !mode.json && !mode.quiet;
}

function rendererFor(mode: OutputMode, live: boolean, unended: UnendedLines) {
  const shown = (level: ListrLogLevels) => {
    if (level === ListrLogLevels.OUTPUT) return !mode.json || mode.verbose;
    return !mode.quiet || level === ListrLogLevels.FAILED;
  };
  if (live) {
    const logger = new ChatonLogger(shown, false, process.stderr, unended);
    return { renderer: 'default' as const, rendererOptions: { logger, collapseSubtasks: false, collapseErrors: false, showErrorMessage: true, formatOutput: 'wrap' as const } };
  }
  const logger = new ChatonLogger(shown, !mode.interactive, mode.json ? process.stderr : process.stdout, unended);
  return { renderer: 'simple' as const, rendererOptions: { logger } };
}
