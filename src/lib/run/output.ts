// How chaton speaks: to a person at a terminal (live progress, colour), to cron (plain
// timestamped lines, no ANSI codes), or to a program (--json on stdout, progress on stderr).
import { stripVTControlCharacters } from 'node:util';
import { Chalk, type ChalkInstance } from 'chalk';

export interface OutputMode {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  colour: boolean;
  /** A person is watching: live progress can redraw and questions can be asked. */
  interactive: boolean;
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

/** Local time with offset, to the second: what a cron log reader wants. */
export function timestamp(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** A plain table: columns padded to their widest cell, colour codes not counted. */
export function table(header: string[], rows: string[][]): string {
  const all = [header.map((h) => paint.bold(h)), ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => stripVTControlCharacters(row[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - stripVTControlCharacters(cell).length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export function milliseconds(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}
