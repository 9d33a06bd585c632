// Plain text laid out for a width: no colour here, so that `chaton --help` can use it too.

/**
 * Text wrapped at spaces to `width` columns (a longer word is broken after a comma, or cut);
 * each of its own lines is wrapped apart, and lines after the first of each start with `indent`.
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  return glued(text)
    .split('\n')
    .flatMap((line) => wrapLine(line, width, indent).map(unglued));
}

function wrapLine(line: string, width: number, indent: string): string[] {
  const out: string[] = [];
  const room = () => Math.max(width - (out.length ? indent.length : 0), 1);
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length <= room()) {
      current += ` ${word}`;
      continue;
    }
    if (current) out.push(current);
    current = word;
    while (current.length > room()) {
      // A comma list breaks after a comma when it can, else the word is cut.
      const cut = current.lastIndexOf(',', room() - 1) + 1 || room();
      out.push(current.slice(0, cut));
      current = current.slice(cut);
    }
  }
  out.push(current);
  return out.map((piece, i) => (i === 0 ? piece : indent + piece));
}

/** Stands for a space that a line must not break at, as long as one (a wrapper measures it). */
const GLUE = '\uE000';

/**
 * The text with its spaces before a French `:`, `;`, `?` or `!` made unbreakable, for a wrapper
 * that breaks at any space: a line never starts with the colon of the one before. unglued()
 * gives the spaces back once the text is wrapped.
 */
export function glued(text: string): string {
  return text.replace(/ (?=[:;?!](\s|$))/g, GLUE);
}

export function unglued(text: string): string {
  return text.replaceAll(GLUE, ' ');
}

/** The width of stdout: the terminal's, or 80 when it is not a terminal (a pipe, a file, cron's mail). */
export function outputWidth(stdout: NodeJS.WriteStream = process.stdout): number {
  return stdout.isTTY && stdout.columns ? stdout.columns : 80;
}

/**
 * Help as commander writes it, with its prose reflowed to `width`: a paragraph's unindented lines
 * are joined and wrapped again; indented lines (options, examples to copy, tables) stay as they are.
 */
export function reflowHelp(text: string, width: number): string {
  const out: string[] = [];
  let prose: string[] = [];
  const flush = () => {
    if (prose.length) out.push(...wrap(prose.join(' '), width));
    prose = [];
  };
  for (const line of text.split('\n')) {
    if (line === '' || /^\s/.test(line)) {
      flush();
      out.push(line);
    } else prose.push(line);
  }
  flush();
  return out.join('\n');
}
