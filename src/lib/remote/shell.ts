// Remote commands are data. Builders return Commands (token lists); this module is the ONE place
// that turns them into text for a remote POSIX `sh`. Nothing else in chaton assembles shell strings.
import { inspect } from 'node:util';
import { messages } from './messages.js';

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
export interface RemoteCommand {
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

export type Script = RemoteCommand | ShellText;

export function command(...argv: Word[]): RemoteCommand {
  return { argv };
}

export function withStdin(cmd: RemoteCommand, stdin: RemoteCommand['stdin']): RemoteCommand {
  return { ...cmd, stdin };
}

function isShellText(script: Script): script is ShellText {
  return 'shellText' in script;
}

// Bytes that never need quoting for sh. `=` is left out so that no word can read as an
// assignment, `~` and `#` so that no word can expand or start a comment.
const SAFE = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./,:@%+') SAFE[ch.charCodeAt(0)] = 1;

const QUOTE = 0x27;
const ESCAPED_QUOTE = Buffer.from(`'\\''`);

/**
 * Quote one word for POSIX sh: the shell gives back exactly these bytes as one argument. (The
 * TypeErrors of this module are chaton's own bugs, reported as such: in English, for the issue.)
 */
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
  return `${text} ${script.stdin instanceof Secret ? messages.secretOnStdin : messages.dataOnStdin}`;
}

/** Wrap a script so that it runs as root through `sudo -n` (never prompts: fails instead). */
export function asRoot(script: Script): Script {
  const wrapped = command('sudo', '-n', '--', 'sh', '-c', render(script));
  return isShellText(script) || script.stdin === undefined ? wrapped : withStdin(wrapped, script.stdin);
}

/** A line on stderr ahead of everything else, giving the process id of the session's shell. */
export const PROCESS_GROUP_MARKER = 'chaton-process-group';

/**
 * Reads a script from stdin and runs it in a subshell of the shell that reads this line: its
 * own `exit`, `exec`, traps or a stray `)` stay inside, and its stdin is empty, as when ssh
 * sends a command and no input (`$(cat)` is expanded before the redirection applies). `$(cat)`
 * drops only trailing newlines, which a script does not need.
 */
const RUN_FROM_STDIN = '(eval "$(cat)" </dev/null)';

/**
 * The longest command chaton puts in the session request. sshd hands the request to the login
 * shell as one argument, which Linux caps at 128 KiB; the rest of the line (the audit trailer,
 * its command line cut to 800 characters, quoted) stays under 8 KiB.
 */
const MAX_ARGV_COMMAND = 120 * 1024;

export interface SessionCommand {
  /** The session's command line, for the login shell of the account chaton logs in as. */
  line: Buffer;
  stdin: string | Uint8Array | Secret | undefined;
}

/**
 * What the executor really sends for `script`, run as root through `sudo -n` when `become` is
 * 'sudo':
 * - First, a line on stderr with the process id of the session's shell. sshd starts every
 *   session in a new session (setsid), so that id is also the command's process group: the
 *   handle to stop it on a timeout or Ctrl-C, since sshd neither stops a command when its
 *   channel closes nor takes "signal" requests for root logins.
 * - The script, as one quoted word: `sudo -n -- sh -c '<script>'`, or `(eval '<script>')` in the
 *   login shell, so that nothing in its text can reach what chaton runs after it. That is how
 *   `ps` and sudo's log show it.
 * - A script too long for the request (see MAX_ARGV_COMMAND) travels on the session's stdin
 *   instead, read by a fixed line (RUN_FROM_STDIN) in the same shell. Only a script with no
 *   stdin of its own can: those with one are Commands built by chaton, short.
 * - `after` runs next in the same session (one session instead of two), given the script's
 *   exit status as its last argument; the session's exit status stays the script's.
 */
export function sessionCommand(script: Script, become: 'sudo' | undefined, after?: RemoteCommand): SessionCommand {
  const ownStdin = !isShellText(script) && script.stdin !== undefined ? script.stdin : undefined;
  const inRequest =
    become === 'sudo'
      ? render(asRoot(script))
      : Buffer.concat([Buffer.from('(eval '), quote(render(script)), Buffer.from(')')]);
  let run = inRequest;
  let stdin = ownStdin;
  if (inRequest.length > MAX_ARGV_COMMAND) {
    if (ownStdin !== undefined)
      throw new TypeError(`a command with its own stdin must be shorter than ${MAX_ARGV_COMMAND} bytes`);
    run =
      become === 'sudo' ? render(command('sudo', '-n', '--', 'sh', '-c', RUN_FROM_STDIN)) : Buffer.from(RUN_FROM_STDIN);
    stdin = render(script);
  }
  const parts = [Buffer.from(`echo ${PROCESS_GROUP_MARKER} $$ >&2; `), run];
  if (after)
    parts.push(
      Buffer.from('; chaton_status=$?; '),
      render(after),
      Buffer.from(' "$chaton_status"; exit "$chaton_status"'),
    );
  return { line: Buffer.concat(parts), stdin };
}

/**
 * Stops a command started by `sessionCommand`, with everything it started. Not `kill -KILL --
 * -<group>`: dash and busybox sh, which are `sh` under sudo on Debian and on small gateways,
 * take `--` for a process id.
 */
export function killProcessGroup(processGroup: number): RemoteCommand {
  return command('kill', '-KILL', `-${processGroup}`);
}

/**
 * A long text for a progress line or a message: its head, then how long it is in all. Commands
 * can be hundreds of kilobytes; JSON reports and the local audit record keep them whole. `inAll`
 * says the length, in the language of the moment unless a record that stays English asks.
 */
export function brief(text: string, max = 200, inAll: (bytes: number) => string = messages.bytesInAll): string {
  if (text.length <= max) return text;
  // Never cut a character in two (a surrogate pair).
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return `${text.slice(0, end)}… ${inAll(Buffer.byteLength(text))}`;
}
