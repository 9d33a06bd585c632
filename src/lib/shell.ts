// Remote commands are data. Builders return Commands (token lists); this module is the ONE place
// that turns them into text for a remote POSIX `sh`. Nothing else in chaton assembles shell strings.
import { inspect } from 'node:util';

/** One word of a command: text, or raw bytes (a file name need not be UTF-8). */
export type Word = string | Uint8Array;

/**
 * A value that must never be shown or put on a command line: passphrases, tokens, keys.
 * It can only travel on a command's stdin; logs, JSON and dry-run print `***`.
 */
export class Secret {
  readonly #value: Buffer;
  constructor(value: string | Uint8Array) {
    this.#value = Buffer.from(value);
  }
  reveal(): Buffer {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [inspect.custom](): string {
    return 'Secret(***)';
  }
}

/** A command built by chaton: every word is quoted by `render`. */
export interface Command {
  readonly argv: readonly Word[];
  /** Fed to the command's stdin: the only way a Secret reaches a host. */
  readonly stdin?: string | Uint8Array | Secret;
}

/**
 * The operator's own shell text, sent as `ssh host words...` sends it (words joined by spaces,
 * interpreted by the remote shell, so pipes and globs work). Only `chaton exec` makes these.
 */
export interface ShellText {
  readonly shellText: string;
}

export type Script = Command | ShellText;

export function command(...argv: Word[]): Command {
  return { argv };
}

export function withStdin(cmd: Command, stdin: Command['stdin']): Command {
  return { ...cmd, stdin };
}

export function isShellText(script: Script): script is ShellText {
  return 'shellText' in script;
}

// Bytes that never need quoting for sh. `=` is left out so that no word can read as an
// assignment, `~` and `#` so that no word can expand or start a comment.
const SAFE = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./,:@%+') SAFE[ch.charCodeAt(0)] = 1;

const QUOTE = 0x27;
const ESCAPED_QUOTE = Buffer.from(`'\\''`);

/** Quote one word for POSIX sh: the shell gives back exactly these bytes as one argument. */
export function quote(word: Word): Buffer {
  const bytes = typeof word === 'string' ? Buffer.from(word, 'utf8') : Buffer.from(word);
  if (bytes.includes(0)) throw new TypeError('a command word cannot contain a NUL byte');
  if (bytes.length > 0 && bytes.every((b) => SAFE[b] === 1)) return bytes;
  const parts: Buffer[] = [Buffer.from("'")];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== QUOTE) continue;
    parts.push(bytes.subarray(start, i), ESCAPED_QUOTE);
    start = i + 1;
  }
  parts.push(bytes.subarray(start), Buffer.from("'"));
  return Buffer.concat(parts);
}

/** The exact bytes sent to the remote shell. */
export function render(script: Script): Buffer {
  if (isShellText(script)) return Buffer.from(script.shellText, 'utf8');
  if (script.argv.length === 0) throw new TypeError('a command needs at least one word');
  const out: Buffer[] = [];
  script.argv.forEach((word, i) => {
    if (i > 0) out.push(Buffer.from(' '));
    out.push(quote(word));
  });
  return Buffer.concat(out);
}

/** The command as text for progress lines and errors (stdin is never shown, only named). */
export function display(script: Script): string {
  const text = render(script).toString('utf8');
  if (isShellText(script) || script.stdin === undefined) return text;
  return `${text} <${script.stdin instanceof Secret ? 'secret on stdin' : 'data on stdin'}>`;
}

/** Wrap a script so that it runs as root through `sudo -n` (never prompts: fails instead). */
export function asRoot(script: Script): Script {
  const wrapped = command('sudo', '-n', '--', 'sh', '-c', render(script));
  return isShellText(script) || script.stdin === undefined ? wrapped : withStdin(wrapped, script.stdin);
}

/**
 * What the executor really sends: the command, after a first line on stderr giving the process
 * id of the session's shell. sshd starts every session in a new session (setsid), so that id is
 * also the command's process group: the handle to stop it on a timeout or Ctrl-C, since sshd
 * neither stops a command when its channel closes nor takes "signal" requests for root logins.
 */
export function reportingProcessGroup(line: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`echo ${PROCESS_GROUP_MARKER} $$ >&2; `), line]);
}

export const PROCESS_GROUP_MARKER = 'chaton-process-group';

/**
 * The script, then `after` given the script's exit status as its last argument, in the same
 * shell (one session instead of two). The script runs in a subshell, so that its own `exit`,
 * `exec` or traps cannot skip `after`; the line break lets it end with a comment. The exit
 * status stays the script's.
 */
export function followedBy(line: Buffer, after: Command): Buffer {
  return Buffer.concat([Buffer.from('('), line, Buffer.from('\n); chaton_status=$?; '), render(after), Buffer.from(' "$chaton_status"; exit "$chaton_status"')]);
}

/** Stops a command started by `reportingProcessGroup`, with everything it started. */
export function killProcessGroup(processGroup: number): Command {
  return command('kill', '-KILL', '--', `-${processGroup}`);
}
