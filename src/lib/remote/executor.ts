// The ONE executor: every remote command goes through `run`. It renders the script, adds sudo
// when the host needs it, honours dry-run, timeouts and Ctrl-C, and remembers what it changed.
import { appendFileSync } from 'node:fs';
import type { Fact, Probe } from './facts.js';
import type { Host } from '../inventory/types.js';
import type { Connection, ConnectionPool, ExecHandle } from '../ssh/pool.js';
import {
  ConnectionError,
  InterruptedError,
  LostWhileRunningError,
  notStarted,
  RemoteCommandError,
} from '../run/errors.js';
import { messages } from './messages.js';
import {
  asRoot,
  brief,
  display,
  killProcessGroup,
  PROCESS_GROUP_MARKER,
  render,
  Secret,
  sessionCommand,
  type RemoteCommand,
  type Script,
} from './shell.js';

export interface RunOptions {
  /** A probe only reads state and runs even in dry-run; a change is printed there instead. */
  kind: 'probe' | 'change';
  /** Exit codes that are not failures; default [0]. Ignored with `check: false`. */
  okCodes?: number[];
  /** false: return the result whatever the exit code (the caller reports it). */
  check?: boolean;
  /** On Ctrl-C, 'finish' lets the command end (default for changes), 'cancel' stops it (never with afterInterrupt). */
  onInterrupt?: 'finish' | 'cancel';
  /** Start even after Ctrl-C: only for the bookkeeping that reports what was done (audit). */
  afterInterrupt?: boolean;
  /** Bytes of stdout and of stderr kept in the result; the rest is only streamed. */
  captureBytes?: number;
  /**
   * Called with one or more lines (joined by newlines, without the last one); returns false when
   * whoever shows them is full, and the command then waits for `drained`. `endsLine` is false for
   * a piece of a line too long to hold, whose rest comes next.
   */
  onLines?: (stream: 'stdout' | 'stderr', lines: string, endsLine: boolean) => boolean;
  drained?: () => Promise<void>;
  /**
   * Run right after, in the same session, with the exit status as last argument (see
   * sessionCommand); `ran` is called when it did (the session ended by itself with a status).
   */
  then?: { command: RemoteCommand; ran(): void };
  /**
   * How long this command may run before it is stopped, instead of the host's
   * ssh.command_timeout: a step knows its command (a drain poll is short, a `restic check`
   * long). 0: no bound.
   */
  timeoutMs?: number;
}

export interface RunResult {
  host: string;
  /** The command as shown to people (stdin never included). */
  command: string;
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Some output did not fit in `captureBytes`. */
  truncated: boolean;
  durationMs: number;
  /** Not sent: dry-run. */
  dryRun: boolean;
}

export interface PlannedCommand {
  host: Host;
  /** The command as it would run there, byte for byte (sessionCommand says how it travels). */
  line: Buffer;
  stdin: 'secret' | 'data' | null;
}

const DEFAULT_CAPTURE = 4 * 1024 * 1024;
const STDERR_HEAD = 16 * 1024;
const MAX_LINE = 64 * 1024;
/** How long a stop waits for the command's process-group line. */
const STOP_WAIT_MS = 2000;
/** At the end of a line: a login shell's rc file may have printed a line without its end before it. */
const MARKER_LINE = new RegExp(`${PROCESS_GROUP_MARKER} (\\d+)$`);
/**
 * sudo -n refusing to ask for a password, in English and in French (the words of sudo 1.9.13's
 * fr catalogues, as Debian 12 prints them under LANG=fr_FR.UTF-8: hosts speak their own locale).
 */
const SUDO_WANTS_PASSWORD = new RegExp(
  '^sudo: (a password is required|a terminal is required|' +
    'il est nécessaire de saisir un mot de passe|un terminal est requis)',
  'm',
);

export class Executor {
  /** Changes that dry-run did not send, in the order they were asked for. */
  readonly planned: PlannedCommand[] = [];
  /** Names of the hosts where a change was really sent (for the audit trail). */
  readonly changedHosts = new Set<string>();

  constructor(
    private readonly pool: ConnectionPool,
    private readonly options: { dryRun: boolean; signal: AbortSignal },
  ) {}

  async run(host: Host, script: Script, opts: RunOptions): Promise<RunResult> {
    // As it runs on the host: what dry-run prints and messages show (see sessionCommand).
    const sent = host.become === 'sudo' ? asRoot(script) : script;
    const line = render(sent);
    const shown = display(sent);
    const named = messages.commandOn(host.name, brief(shown));
    const stdin = 'stdin' in sent ? sent.stdin : undefined;
    if (this.options.signal.aborted && !opts.afterInterrupt) throw notStarted(named);
    if (opts.kind === 'change' && this.options.dryRun) {
      this.planned.push({
        host,
        line,
        stdin: stdin === undefined ? null : stdin instanceof Secret ? 'secret' : 'data',
      });
      return {
        host: host.name,
        command: shown,
        code: 0,
        signal: null,
        stdout: Buffer.alloc(0),
        stderr: Buffer.alloc(0),
        truncated: false,
        durationMs: 0,
        dryRun: true,
      };
    }

    let connection = await this.pool.connect(host);
    const stdout = new Capture(
      opts.captureBytes ?? DEFAULT_CAPTURE,
      opts.onLines && ((l, e) => opts.onLines!('stdout', l, e)),
    );
    // The head of stderr is always kept: the messages chaton recognises (sudo's) are there.
    const stderr = new Capture(
      Math.max(opts.captureBytes ?? DEFAULT_CAPTURE, STDERR_HEAD),
      opts.onLines && ((l, e) => opts.onLines!('stderr', l, e)),
    );
    const processGroup = new ProcessGroupReader((chunk) => stderr.add(chunk));
    const started = performance.now();
    const session = sessionCommand(script, host.become === 'sudo' ? 'sudo' : undefined, opts.then?.command);
    const exec = (over: Connection) =>
      over.exec(
        session.line,
        {
          stdin:
            session.stdin instanceof Secret
              ? session.stdin.reveal()
              : typeof session.stdin === 'string'
                ? Buffer.from(session.stdin)
                : session.stdin,
          onStdout: (chunk) => stdout.add(chunk),
          onStderr: (chunk) => processGroup.add(chunk),
          drained: opts.drained,
        },
        { signal: opts.afterInterrupt ? undefined : this.options.signal },
      );
    let handle: ExecHandle;
    try {
      handle = await exec(connection);
    } catch (error) {
      // A connection that dropped unseen since its last command (its far end killed) is found
      // dead as the session opens: the command never started. Once more, on a new connection.
      if (!(error instanceof ConnectionError) || connection.lost === undefined) throw error;
      connection = await this.pool.connect(host);
      handle = await exec(connection);
    }
    if (opts.kind === 'change') {
      this.changedHosts.add(host.name);
      recordSent(host, line);
    }
    const watch = this.#watch(host, opts, () => this.#stop(host, connection, handle, processGroup.known));
    const { code, signal } = await Promise.race([handle.done, watch.abandoned]);
    watch.clear();
    processGroup.end();
    stdout.end();
    stderr.end();
    const result: RunResult = {
      host: host.name,
      command: shown,
      code,
      signal,
      stdout: stdout.bytes(),
      stderr: stderr.bytes(),
      truncated: stdout.truncated || stderr.truncated,
      durationMs: performance.now() - started,
      dryRun: false,
    };
    const stop = watch.reason ? await watch.stopped : undefined;
    // A stop was on its way (Ctrl-C, the timeout, a reader gone) as the command ended: it had ended
    // on its own if its channel closed by itself (nothing left holding its output) and its kill
    // found nothing. Its result stands, and its `then` ran ("may still run" would be false).
    const endedOnItsOwn = code !== null && (!stop || (!stop.killed && stop.closedByItself));
    if (endedOnItsOwn) opts.then?.ran();
    if (watch.reason && !endedOnItsOwn) {
      // Ended by a signal, it is not running, even if the kill's own answer did not come back.
      const fate = stop?.killed || signal !== null ? messages.commandStopped : messages.commandNotStopped;
      if (watch.reason === 'interrupt') throw new InterruptedError(messages.commandInterrupted(named, fate));
      const bound = opts.timeoutMs ?? host.ssh.commandTimeoutMs;
      // A bound the step set is not the operator's to raise: the command took longer than it may.
      const hint = opts.timeoutMs === undefined ? messages.raiseCommandTimeout : messages.tookTooLong(host.name);
      throw new RemoteCommandError(
        host.name,
        shown,
        code,
        result.stderr.toString(),
        messages.commandTimedOut(named, bound / 1000, fate),
        hint,
      );
    }
    // No exit status and a dead connection: the command was sent, its fate is unknown.
    if (code === null && signal === null && connection.lost)
      throw new LostWhileRunningError(host.name, shown, named, connection.lost);
    if (host.become === 'sudo' && code === 1 && SUDO_WANTS_PASSWORD.test(result.stderr.toString())) {
      throw new RemoteCommandError(
        host.name,
        shown,
        code,
        result.stderr.toString(),
        messages.sudoWantsPassword(host.name, host.user),
        messages.sudoWantsPasswordHint(host.user, host.name),
      );
    }
    if (opts.check !== false && !(opts.okCodes ?? [0]).includes(code ?? -1)) {
      throw new RemoteCommandError(host.name, shown, code, result.stderr.toString());
    }
    return result;
  }

  /** Runs a read-only probe and parses what it printed. */
  async fact<T>(host: Host, fact: Fact<T>, opts: Omit<RunOptions, 'kind'> = {}): Promise<T> {
    const result = await this.#question(host, fact.command, { ...opts, kind: 'probe' });
    return fact.parse(result.stdout.toString('utf8'));
  }

  /** A probe read whatever its exit code: the probe's parser judges the code and both streams. */
  async probe<T>(host: Host, probe: Probe<T>, opts: Omit<RunOptions, 'kind' | 'check'> = {}): Promise<T> {
    const result = await this.#question(host, probe.command, { ...opts, kind: 'probe', check: false });
    return probe.parse({
      code: result.code,
      stdout: result.stdout.toString('utf8'),
      stderr: result.stderr.toString('utf8'),
    });
  }

  /**
   * A fact's or a probe's command: a question that only reads, so one whose connection dropped
   * while it ran is asked once more, on a new connection (a change's fate is unknown: never again).
   */
  async #question(host: Host, script: Script, opts: RunOptions): Promise<RunResult> {
    try {
      return await this.run(host, script, opts);
    } catch (error) {
      if (!(error instanceof LostWhileRunningError) || this.options.signal?.aborted) throw error;
      return this.run(host, script, opts);
    }
  }

  /**
   * Arms the command timeout and the Ctrl-C policy. Once one of them fires, the command is
   * stopped; `abandoned` resolves if its channel still does not close a while after that.
   */
  #watch(host: Host, opts: RunOptions, stop: () => Promise<StopOutcome>): Watch {
    let giveUp: (ended: { code: null; signal: null }) => void = () => {};
    const watch: Watch = {
      abandoned: new Promise((resolve) => (giveUp = resolve)),
      clear: () => {},
    };
    const stopFor = (reason: 'timeout' | 'interrupt') => {
      if (watch.reason) return;
      watch.reason = reason;
      watch.stopped = stop();
      void watch.stopped.then(() => setTimeout(() => giveUp({ code: null, signal: null }), STOP_WAIT_MS).unref());
    };
    const timeoutMs = opts.timeoutMs ?? host.ssh.commandTimeoutMs;
    const timer = timeoutMs > 0 ? setTimeout(() => stopFor('timeout'), timeoutMs) : undefined;
    const onAbort = () => stopFor('interrupt');
    // What is started after Ctrl-C on purpose (bookkeeping) must not be cancelled by it.
    const cancelOnInterrupt =
      !opts.afterInterrupt && (opts.onInterrupt ?? (opts.kind === 'change' ? 'finish' : 'cancel')) === 'cancel';
    if (cancelOnInterrupt) {
      // Ctrl-C may have come while the channel was opening: then the command stops at once.
      if (this.options.signal.aborted) onAbort();
      else this.options.signal.addEventListener('abort', onAbort, { once: true });
    }
    watch.clear = () => {
      clearTimeout(timer);
      this.options.signal.removeEventListener('abort', onAbort);
    };
    return watch;
  }

  /**
   * Kills the command's process group on the host, then closes its channel. Says whether the kill
   * is known to have worked, and whether the channel had closed by itself meanwhile.
   */
  async #stop(
    host: Host,
    connection: Connection,
    handle: ExecHandle,
    known: Promise<number | undefined>,
  ): Promise<StopOutcome> {
    const channel = { closedByItself: false };
    void handle.done.then(() => (channel.closedByItself = true));
    const killed = await this.#kill(host, connection, known).catch(() => false); // the connection may be gone
    const { closedByItself } = channel;
    handle.close();
    return { killed, closedByItself };
  }

  /** Kills a process group (through sudo when needed); never waits long for it. */
  async #kill(host: Host, connection: Connection, known: Promise<number | undefined>): Promise<boolean> {
    // sshd may send a command's first stdout before its first stderr: the id can still be on its way.
    const processGroup = await Promise.race([known, delay(STOP_WAIT_MS)]);
    if (processGroup === undefined) return false;
    const kill = killProcessGroup(processGroup);
    const killer = await connection.exec(
      render(host.become === 'sudo' ? asRoot(kill) : kill),
      { onStdout: () => true, onStderr: () => true },
      { urgent: true },
    );
    const ended = await Promise.race([killer.done, delay(STOP_WAIT_MS)]);
    // A kill that did not answer in time keeps no channel open.
    if (ended === undefined) killer.close();
    return ended?.code === 0;
  }
}

/**
 * Test instrumentation: with CHATON_RECORD_COMMANDS=<file>, each CHANGE really sent (probes are
 * not recorded) is appended to that file as one JSON line {host, command}, the command as dry-run
 * would have planned it, so that tests can hold dry-run to its promise.
 */
function recordSent(host: Host, line: Buffer): void {
  const file = process.env.CHATON_RECORD_COMMANDS;
  if (file) appendFileSync(file, `${JSON.stringify({ host: host.name, command: line.toString('utf8') })}\n`);
}

/** What stopping a command found. */
interface StopOutcome {
  /** Its process group's kill is known to have worked. */
  killed: boolean;
  /** Its channel had closed by itself (its exit status, if any, came) before the stop closed it. */
  closedByItself: boolean;
}

interface Watch {
  reason?: 'timeout' | 'interrupt';
  /** What the stop found, once a stop was started. */
  stopped?: Promise<StopOutcome>;
  abandoned: Promise<{ code: null; signal: null }>;
  clear(): void;
}

/** Takes the process-group line off the front of stderr (see sessionCommand); the rest passes on. */
class ProcessGroupReader {
  /** The process group, once its line arrived; undefined if the output ended without it. */
  readonly known: Promise<number | undefined>;
  #settle: (id: number | undefined) => void = () => {};
  /** stderr held until the marker line is seen; null once it was (or never will be). */
  #head: Buffer | null = Buffer.alloc(0);

  constructor(private readonly pass: (chunk: Buffer) => boolean) {
    this.known = new Promise((resolve) => (this.#settle = resolve));
  }

  /** False when whoever reads the rest is full (see Capture.add). */
  add(chunk: Buffer): boolean {
    if (this.#head === null) return this.pass(chunk);
    let data = this.#head.length ? Buffer.concat([this.#head, chunk]) : chunk;
    let accepted = true;
    let newline: number;
    while ((newline = data.indexOf(0x0a)) !== -1) {
      const match = MARKER_LINE.exec(data.subarray(0, newline).toString('latin1'));
      if (match) {
        this.#settle(Number(match[1]));
        this.#head = null;
        // What came before it on its line is the rc file's: passed on, with its line ended.
        const before = match.index > 0 ? this.pass(Buffer.concat([data.subarray(0, match.index), NEWLINE])) : true;
        const rest = data.length > newline + 1 ? this.pass(data.subarray(newline + 1)) : true;
        return before && rest && accepted;
      }
      // Something the login shell printed before our line (a noisy .bashrc): it is the command's.
      accepted = this.pass(data.subarray(0, newline + 1)) && accepted;
      data = data.subarray(newline + 1);
    }
    if (data.length > MAX_LINE) {
      // No marker at the start of stderr: this login shell did not run our first line.
      this.#head = null;
      this.#settle(undefined);
      return this.pass(data) && accepted;
    }
    this.#head = Buffer.from(data);
    return accepted;
  }

  end(): void {
    if (this.#head?.length) this.pass(this.#head);
    this.#head = null;
    this.#settle(undefined);
  }
}

const NEWLINE = Buffer.from('\n');

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/**
 * Keeps the head of a stream (up to a limit) and hands out its complete lines as they arrive,
 * several at a time (one call per chunk, not per line: output can be large).
 */
class Capture {
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  truncated = false;
  #partial: Buffer = Buffer.alloc(0);

  constructor(
    private readonly limit: number,
    /** Without it, lines are not split at all: only the head is kept. */
    private readonly onLines: ((lines: string, endsLine: boolean) => boolean) | undefined,
  ) {}

  /** False when the reader of the lines is full. */
  add(chunk: Buffer): boolean {
    if (this.#keptBytes < this.limit) {
      const room = this.limit - this.#keptBytes;
      // A copy: the transport may reuse the chunk's memory.
      const part = Buffer.from(chunk.subarray(0, room));
      this.#kept.push(part);
      this.#keptBytes += part.length;
      if (part.length < chunk.length) this.truncated = true;
    } else if (chunk.length > 0) this.truncated = true;
    return this.onLines ? this.#split(chunk, this.onLines) : true;
  }

  end(): void {
    if (this.#partial.length > 0) this.onLines?.(this.#partial.toString('utf8'), true);
    this.#partial = Buffer.alloc(0);
  }

  bytes(): Buffer {
    return Buffer.concat(this.#kept);
  }

  #split(chunk: Buffer, onLines: (lines: string, endsLine: boolean) => boolean): boolean {
    let data = this.#partial.length ? Buffer.concat([this.#partial, chunk]) : chunk;
    let accepted = true;
    const lastNewline = data.lastIndexOf(0x0a);
    if (lastNewline !== -1) {
      accepted = onLines(data.subarray(0, lastNewline).toString('utf8'), true);
      data = data.subarray(lastNewline + 1);
    }
    // A line without an end is still shown, in pieces, rather than held without bound.
    while (data.length > MAX_LINE) {
      const cut = utf8Boundary(data, MAX_LINE);
      accepted = onLines(data.subarray(0, cut).toString('utf8'), false) && accepted;
      data = data.subarray(cut);
    }
    this.#partial = Buffer.from(data);
    return accepted;
  }
}

/** Where to cut `data` at or before `at` without splitting a UTF-8 character (when it is UTF-8). */
function utf8Boundary(data: Buffer, at: number): number {
  let cut = at;
  // Continuation bytes are 10xxxxxx; a character has at most three of them.
  while (cut > at - 3 && (data[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}
