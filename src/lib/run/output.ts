// How chaton speaks: to a person at a terminal (live progress, colour), to cron (plain
// timestamped lines, no ANSI codes), or to a program (--json on stdout, progress on stderr).
import { Chalk, type ChalkInstance } from 'chalk';
import { wrap } from './text.js';

export interface OutputMode {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  colour: boolean;
  /** A person is watching: live progress can redraw and questions can be asked. */
  interactive: boolean;
  /** --log-file: every progress line goes there too, plain and timestamped. */
  log?: { line(text: string): void; readonly failed: string | undefined };
}

/**
 * `--no-color` and NO_COLOR switch colour off, FORCE_COLOR on; otherwise only on a terminal that
 * is not TERM=dumb (which draws no escape codes: Emacs' shell, some serial consoles).
 */
export function wantsColour(flag: boolean, env: NodeJS.ProcessEnv, terminal: boolean): boolean {
  if (!flag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return terminal && env.TERM !== 'dumb';
}

/**
 * listr2 decides colour once, when it is loaded, from NO_COLOR/FORCE_COLOR: state our decision
 * there before loading it so that every part of the output agrees.
 */
export function announceColour(colour: boolean, env: NodeJS.ProcessEnv): void {
  if (colour) {
    delete env.NO_COLOR;
    env.FORCE_COLOR = '1';
  } else {
    delete env.FORCE_COLOR;
    env.NO_COLOR = '1';
  }
}

export let paint: ChalkInstance = new Chalk({ level: 0 });
export function setColour(colour: boolean): void {
  paint = new Chalk({ level: colour ? 2 : 0 });
}

const pad = (n: number) => String(n).padStart(2, '0');
const localDay = (date: Date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
const localClock = (date: Date) => `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;

/** Local time with offset, to the second: what a cron log reader wants. */
export function timestamp(date = new Date()): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${localDay(date)}T${localClock(date)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Local time as a table shows it: `14:07:40` on the day of `now`, `2026-12-01 14:07:40` on another. */
export function localTime(date: Date, now = new Date()): string {
  return localDay(date) === localDay(now) ? localClock(date) : `${localDay(date)} ${localClock(date)}`;
}

/** A table cell: its text (`\n` starts a new line in it), in red when it tells of a failure. */
export type Cell = string | { text: string; failed: true };

/** Two spaces between columns. */
const GAP = 2;

/**
 * A table at most `width` columns wide: when the cells do not fit, the widest columns are
 * narrowed (never below their header) and their text wrapped at spaces inside the column.
 * A table that cannot fit even so is as narrow as it can be: the terminal wraps the rest.
 */
export function table(header: string[], rows: Cell[][], width: number): string {
  const texts = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? cell : cell.text)));
  const longest = (i: number, pieces: RegExp) =>
    Math.max(...texts.flatMap((row) => (row[i] ?? '').split(pieces).map((piece) => piece.length)));
  const natural = header.map((h, i) => Math.max(h.length, longest(i, /\n/)));
  // A column is not narrowed below its header or its longest word (a comma list breaks after its
  // commas), unless the table cannot fit otherwise: an address cut in two is hard to read.
  const room = width - GAP * (header.length - 1);
  const headers = header.map((h) => h.length);
  const words = narrowed(
    natural,
    header.map((h, i) => Math.max(h.length, longest(i, /\s+|(?<=,)/))),
    room,
  );
  const widths = sum(words) <= room ? words : narrowed(natural, headers, room);
  const lines = (cells: string[], failed: boolean[]) => {
    const wrapped = cells.map((text, i) => wrap(text, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, k) =>
      wrapped
        .map((w, i) => {
          const text = w[k] ?? '';
          const shown = failed[i] ? paint.red(text) : text;
          return i === wrapped.length - 1 ? shown : shown + ' '.repeat(widths[i]! - text.length);
        })
        .join(' '.repeat(GAP))
        .trimEnd(),
    );
  };
  return [
    ...lines(header, []).map((line) => paint.bold(line)),
    ...rows.flatMap((row, r) =>
      lines(
        texts[r]!,
        row.map((cell) => typeof cell !== 'string'),
      ),
    ),
  ].join('\n');
}

function sum(numbers: number[]): number {
  return numbers.reduce((a, b) => a + b, 0);
}

/** Column widths that fit `room`: the widest are cut to one cap, none below its floor. */
function narrowed(natural: number[], floors: number[], room: number): number[] {
  const at = (cap: number) => natural.map((n, i) => Math.max(Math.min(n, cap), floors[i]!));
  let cap = Math.max(...natural);
  while (cap > 1 && sum(at(cap)) > room) cap--;
  return at(cap);
}

/**
 * One event as cron and log files read it: a timestamp, then the event on one line (its own line
 * breaks, a hint, are joined: a `[FAILED: ...]` bracket never closes alone on the next line).
 */
export function plainLine(text: string): string {
  return `${timestamp()} ${text.replace(/\s*\n\s*/g, ' ')}`;
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Timings are kept in whole milliseconds (as in JSON): the text says no more than that. */
export function milliseconds(ms: number): string {
  return `${Math.round(ms)} ms`;
}
