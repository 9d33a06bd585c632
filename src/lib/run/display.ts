// How a task chain shows itself: listr2's renderer and logger, and the lines each host's work
// writes. A person at a terminal gets a redrawn task list; cron and pipes get plain lines.
import { stripVTControlCharacters } from 'node:util';
import {
  ListrLogger,
  ListrLogLevels,
  ProcessOutput,
  type ListrTaskWrapper,
  type LoggerFieldOptions,
  type LoggerFormatOptions,
} from 'listr2';
import type { RunContext } from './context.js';
import type { Host } from '../inventory/types.js';
import { paint, plainLine, type OutputMode } from './output.js';
import { messages } from './messages.js';

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

export type Wrapper = ListrTaskWrapper<unknown, any, any>;

/** 'live': redrawn task list on a terminal; 'lines': one line per event (for streamed output). */
export type Style = 'live' | 'lines';

/** Marks a task output line that came from a remote stderr (see ChatonLogger). */
const STDERR_LINE = '\u0000stderr\u0000';
/** Marks task output that does not end its line: a piece of a long one (see ChatonLogger). */
const UNENDED = '\u0000unended\u0000';

/**
 * Which host's line is left unended on each of chaton's output streams, while a long line comes
 * in pieces: only that host continues it; anything else first ends it, so lines never merge.
 */
export class UnendedLines {
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

/** One chain's display: its renderer options, and the writers its tasks use. */
export class Display {
  readonly live: boolean;

  constructor(
    private readonly ctx: RunContext,
    style: Style,
  ) {
    // -vv's lines are written as they come: the live view would hold them until it ends. And
    // listr2's live renderer never hands events to the logger, which writes --log-file.
    this.live = showsLive(ctx.mode, style) && !ctx.options.sshDebug && !ctx.mode.log;
  }

  /** Options for `new Listr`. */
  renderer() {
    return rendererFor(this.ctx.mode, this.live, this.ctx.unended);
  }

  /** A shared step's progress: where a host's goes (under its line, or on stderr); not with --quiet. */
  stepProgress(task: Wrapper): (text: string) => void {
    return (text) => {
      this.ctx.mode.log?.line(text);
      if (!this.ctx.mode.quiet) task.output = this.live ? text : `${STDERR_LINE}${text}`;
    };
  }

  /** The writers of one host's work, its lines prefixed with its name padded to `width`. */
  hostTask(task: Wrapper, host: Host, width: number): HostTask {
    const { ctx, live } = this;
    const { unended } = ctx;
    const prefix = `${paint.cyan(host.name.padEnd(width))} | `;
    const output = (
      lines: string,
      stream: 'stdout' | 'stderr' = 'stdout',
      endsLine = true,
      shown = stream === 'stderr' ? paint.red(lines) : lines,
    ) => {
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
    return {
      output,
      progress: (text) => {
        // What is done on the host, step by step: what the log file of a night's run is for.
        ctx.mode.log?.line(`${host.name}: ${text}`);
        if (!ctx.mode.quiet) output(text, 'stderr', true, text);
      },
      verboseLines: ctx.mode.verbose ? (stream, lines, endsLine) => output(lines, stream, endsLine) : undefined,
      drained,
    };
  }
}

/**
 * A progress line of no task (-vv's connection events): on stderr as a task's would be, with a
 * timestamp without a terminal, and into the log file.
 */
export function progressLine(mode: OutputMode, unended: UnendedLines, text: string): void {
  mode.log?.line(text);
  const { lead } = unended.before(process.stderr);
  process.stderr.write(`${lead}${mode.interactive ? text : plainLine(text)}\n`);
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

/** Each level in words, in the language of the moment: listr2 has them in English only. */
const LEVEL_WORDS: Record<string, () => string> = {
  [ListrLogLevels.STARTED]: () => messages.levelStarted,
  [ListrLogLevels.COMPLETED]: () => messages.levelCompleted,
  [ListrLogLevels.FAILED]: () => messages.levelFailed,
  [ListrLogLevels.SKIPPED]: () => messages.levelSkipped,
  [ListrLogLevels.OUTPUT]: () => messages.levelOutput,
  [ListrLogLevels.TITLE]: () => messages.levelTitle,
  [ListrLogLevels.ROLLBACK]: () => messages.levelRollback,
  [ListrLogLevels.RETRY]: () => messages.levelRetry,
  [ListrLogLevels.PROMPT]: () => messages.levelPrompt,
  [ListrLogLevels.PAUSED]: () => messages.levelPaused,
};

/**
 * A bracketed field as listr2 builds it, its level word in the language of the moment: the
 * level alone (`STARTED`), or the level and what it says (`FAILED: ...`, `RETRY:2`).
 */
export function inWords(field: string): string {
  const [, level = '', colon, rest = ''] = /^([A-Z]+)(?:(: ?)([^]*))?$/.exec(field) ?? [];
  const word = LEVEL_WORDS[level]?.();
  if (word === undefined || colon === undefined) return word ?? field;
  return colon === ': ' ? messages.about(word, rest) : `${word}${colon}${rest}`;
}

/** listr2's logger, its words in the language of the moment: `[COMPLETED]`, `[FAILED: ...]`. */
class ChatonWords extends ListrLogger {
  override wrap(message: string, options?: LoggerFormatOptions): string {
    return super.wrap(message && inWords(message), options);
  }
}

/** listr2's own line for an event, `[COMPLETED] pve1: ...`, without writing it anywhere. */
class WordsFormat extends ChatonWords {
  line(level: ListrLogLevels, message: string | any[], options?: LoggerFieldOptions): string {
    return this.format(level, message, options);
  }
}

/**
 * Progress lines go to stderr; remote output (the OUTPUT level) to stdout as it is, except
 * with --json. Without a terminal, progress lines start with a timestamp and name their level
 * in words ([COMPLETED], [FAILED]) rather than with symbols.
 */
class ChatonLogger extends ChatonWords {
  /** The log file names each level in words, whatever the terminal shows. */
  readonly #inWords = new WordsFormat({ useIcons: false });

  constructor(
    private readonly shown: (level: ListrLogLevels) => boolean,
    private readonly plain: boolean,
    stdout: NodeJS.WriteStream,
    private readonly unended: UnendedLines,
    private readonly logFile: OutputMode['log'],
  ) {
    super({ processOutput: new ProcessOutput(stdout, process.stderr), useIcons: !plain });
  }

  override log(level: ListrLogLevels, message: string | any[], options?: LoggerFieldOptions): void {
    // The log file gets every step, whatever the terminal shows; remote output stays out of it.
    if (this.logFile && level !== ListrLogLevels.OUTPUT) {
      this.logFile.line(stripVTControlCharacters(this.#inWords.line(level, message, options)));
    }
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
    // Without a terminal, one line per event: a message's own line breaks (its hint) are joined,
    // or the closing bracket of a [FAILED: ...] line would stand alone on the next one.
    this.process.toStderr(lead + (this.plain ? plainLine(line) : line));
  }
}

/** The redrawn task list: for a person at a terminal, and only where output is not the point. */
function showsLive(mode: OutputMode, style: Style): boolean {
  return style === 'live' && mode.interactive && process.stdout.isTTY === true && !mode.json && !mode.quiet;
}

function rendererFor(mode: OutputMode, live: boolean, unended: UnendedLines) {
  const shown = (level: ListrLogLevels) => {
    if (level === ListrLogLevels.OUTPUT) return !mode.json || mode.verbose;
    return !mode.quiet || level === ListrLogLevels.FAILED;
  };
  if (live) {
    const logger = new ChatonLogger(shown, false, process.stderr, unended, mode.log);
    return {
      renderer: 'default' as const,
      rendererOptions: {
        logger,
        collapseSubtasks: false,
        collapseErrors: false,
        showErrorMessage: true,
        formatOutput: 'wrap' as const,
      },
    };
  }
  const logger = new ChatonLogger(
    shown,
    !mode.interactive,
    mode.json ? process.stderr : process.stdout,
    unended,
    mode.log,
  );
  return { renderer: 'simple' as const, rendererOptions: { logger } };
}
