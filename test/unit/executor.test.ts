// The executor against a scripted connection: what it sends, what it keeps of the output, how
// it stops a command, and how the fates of hosts become one exit code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeFor } from '../../src/lib/run/fan-out.js';
import type { HostOutcome } from '../../src/lib/run/phases.js';
import {
  ConnectionError,
  ExitCode,
  HostKeyError,
  InterruptedError,
  LostWhileRunningError,
  RemoteCommandError,
} from '../../src/lib/run/errors.js';
import { Executor, type RunOptions } from '../../src/lib/remote/executor.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import type { Host } from '../../src/lib/inventory/types.js';
import { command, Secret, withStdin } from '../../src/lib/remote/shell.js';
import type { ConnectionPool, ExecHandle, ExecOptions, ExecStreams } from '../../src/lib/ssh/pool.js';

const inventory = parseInventory(
  `ssh: { command_timeout: 0.2 }
hosts:
  pve1: { address: 10.0.0.11, direct: true }
  vm1: { address: 10.0.1.1, user: ops, become: sudo, direct: true }
`,
  '/tmp/executor-test.yaml',
);
const [pve1, vm1] = inventory.hosts as [Host, Host];

/** What the scripted host does with one command: output chunks, then an exit (or never). */
interface Behaviour {
  stdout?: string[];
  stderr?: string[];
  exit?: { code: number | null; signal?: string | null };
  /** The exit comes this much later than the output (by default at once). */
  exitAfterMs?: number;
  /** An exit status sent while something the command left keeps its output open: the close's. */
  status?: number;
}

/** A connection that records what it was sent and plays a behaviour per command. */
class ScriptedConnection {
  readonly sent: { line: string; stdin?: string; urgent: boolean }[] = [];
  closed = 0;
  lost: ConnectionError | undefined;
  constructor(private readonly behaviours: ((line: string) => Behaviour)[]) {}

  async exec(line: Buffer, streams: ExecStreams, options: ExecOptions = {}): Promise<ExecHandle> {
    this.sent.push({
      line: line.toString(),
      stdin: streams.stdin && Buffer.from(streams.stdin).toString(),
      urgent: options.urgent ?? false,
    });
    const behaviour: Behaviour = (this.behaviours.shift() ?? (() => ({ exit: { code: 0 } })))(line.toString());
    let finish: (ended: { code: number | null; signal: string | null }) => void = () => {};
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve) => (finish = resolve));
    setImmediate(() => {
      for (const chunk of behaviour.stderr ?? []) streams.onStderr(Buffer.from(chunk));
      for (const chunk of behaviour.stdout ?? []) streams.onStdout(Buffer.from(chunk));
      const { exit } = behaviour;
      if (exit) setTimeout(() => finish({ code: exit.code, signal: exit.signal ?? null }), behaviour.exitAfterMs ?? 0);
    });
    return {
      done,
      close: () => {
        this.closed++;
        finish({ code: behaviour.status ?? null, signal: null });
      },
    };
  }
}

function executorFor(connection: ScriptedConnection, options: { dryRun?: boolean; signal?: AbortSignal } = {}) {
  const pool = { connect: async () => connection } as unknown as ConnectionPool;
  return new Executor(pool, {
    dryRun: options.dryRun ?? false,
    signal: options.signal ?? new AbortController().signal,
  });
}

const marker = (group: number) => `chaton-process-group ${group}\n`;

describe('Executor.run', () => {
  it('sends the rendered command after the process-group line, and keeps that line out of stderr', async () => {
    const connection = new ScriptedConnection([
      () => ({ stderr: ['chaton-process', '-group 4242\nwarn', 'ing\n'], stdout: ['out\n'], exit: { code: 0 } }),
    ]);
    const result = await executorFor(connection).run(pve1, command('ls', "/etc/it's"), { kind: 'probe' });
    assert.equal(
      connection.sent[0]!.line,
      "echo chaton-process-group $$ >&2; (eval 'ls '\\''/etc/it'\\''\\'\\'''\\''s'\\''')",
    );
    assert.equal(connection.sent[0]!.stdin, undefined);
    assert.equal(result.command, "ls '/etc/it'\\''s'");
    assert.equal(result.stderr.toString(), 'warning\n');
    assert.equal(result.stdout.toString(), 'out\n');
  });

  it('finds the process-group line after a line the login shell left without its end', async () => {
    const connection = new ScriptedConnection([
      () => ({ stderr: ['motd without newline', marker(8), 'real error\n'], exit: { code: 0 } }),
    ]);
    const result = await executorFor(connection).run(pve1, command('true'), { kind: 'probe' });
    assert.equal(result.stderr.toString(), 'motd without newline\nreal error\n');
  });

  it('passes on what a noisy login shell prints before the process-group line', async () => {
    const connection = new ScriptedConnection([
      () => ({ stderr: ['bashrc says hi\n', marker(7), 'real error\n'], exit: { code: 0 } }),
    ]);
    const result = await executorFor(connection).run(pve1, command('true'), { kind: 'probe' });
    assert.equal(result.stderr.toString(), 'bashrc says hi\nreal error\n');
  });

  it('wraps commands in sudo -n for become hosts, and feeds secrets on stdin only', async () => {
    const connection = new ScriptedConnection([]);
    await executorFor(connection).run(vm1, withStdin(command('chpasswd'), new Secret('alice:hunter2')), {
      kind: 'change',
    });
    assert.equal(connection.sent[0]!.line, 'echo chaton-process-group $$ >&2; sudo -n -- sh -c chpasswd');
    assert.equal(connection.sent[0]!.stdin, 'alice:hunter2');
  });

  it('recognises sudo asking for a password even when no output is kept, in English and French', async () => {
    // As sudo 1.9.13 (Debian 12) prints it under LANG=C and LANG=fr_FR.UTF-8.
    for (const said of ['sudo: a password is required\n', 'sudo: il est nécessaire de saisir un mot de passe\n']) {
      const connection = new ScriptedConnection([() => ({ stderr: [marker(9), said], exit: { code: 1 } })]);
      await assert.rejects(
        executorFor(connection).run(vm1, { shellText: 'id -u' }, { kind: 'change', check: false, captureBytes: 0 }),
        (error: unknown) =>
          error instanceof RemoteCommandError &&
          /sudo asks ops for a password/.test(error.message) &&
          /NOPASSWD/.test(error.hint ?? ''),
      );
    }
  });

  it('throws a RemoteCommandError with the exit code and stderr on failure, unless told not to', async () => {
    const fails = () => ({ stderr: [marker(1), 'no such file\n'], exit: { code: 2 } });
    await assert.rejects(
      executorFor(new ScriptedConnection([fails])).run(pve1, command('cat', 'x'), { kind: 'probe' }),
      (error: unknown) => {
        assert.ok(error instanceof RemoteCommandError);
        assert.equal(error.code, 2);
        assert.equal(error.message, 'pve1: `cat x` exited with 2: no such file');
        return true;
      },
    );
    const result = await executorFor(new ScriptedConnection([fails])).run(pve1, command('cat', 'x'), {
      kind: 'probe',
      check: false,
    });
    assert.equal(result.code, 2);
  });

  it('in dry-run sends no change, records it exactly, and still runs probes', async () => {
    const connection = new ScriptedConnection([]);
    const executor = executorFor(connection, { dryRun: true });
    const change = await executor.run(vm1, withStdin(command('touch', '/x'), new Secret('s')), { kind: 'change' });
    assert.equal(change.dryRun, true);
    await executor.run(pve1, command('uname'), { kind: 'probe' });
    assert.deepEqual(
      connection.sent.map((s) => s.line),
      ['echo chaton-process-group $$ >&2; (eval uname)'],
    );
    assert.deepEqual(
      executor.planned.map((p) => [p.host.name, p.line.toString(), p.stdin]),
      [['vm1', "sudo -n -- sh -c 'touch /x'", 'secret']],
    );
    assert.equal(executor.changedHosts.size, 0);
  });

  it('stops a command that outlives command_timeout by killing its process group, as root through sudo', async () => {
    const connection = new ScriptedConnection([() => ({ stderr: [marker(777)] }), () => ({ exit: { code: 0 } })]);
    await assert.rejects(
      executorFor(connection).run(vm1, command('sleep', '300'), { kind: 'change' }),
      (error: unknown) =>
        error instanceof RemoteCommandError && /did not finish within 0.2 s and was stopped/.test(error.message),
    );
    assert.deepEqual(connection.sent[1], {
      line: "sudo -n -- sh -c 'kill -KILL -777'",
      stdin: undefined,
      urgent: true,
    });
    assert.equal(connection.closed, 1);
  });

  it('says so when a timed-out command could not be stopped', async () => {
    const connection = new ScriptedConnection([() => ({ stderr: [marker(5)] }), () => ({ exit: { code: 1 } })]);
    await assert.rejects(
      executorFor(connection).run(pve1, command('sleep', '300'), { kind: 'probe' }),
      /could not be stopped: it may still be running there/,
    );
  });

  /** Runs a command on a scripted connection, and presses Ctrl-C 20 ms later, as it runs. */
  function ctrlCWhileRunning(behaviours: ((line: string) => Behaviour)[], options: Partial<RunOptions> = {}) {
    const abort = new AbortController();
    const connection = new ScriptedConnection(behaviours);
    const running = executorFor(connection, { signal: abort.signal }).run(pve1, command('sleep', '300'), {
      kind: 'probe',
      ...options,
    });
    setTimeout(() => abort.abort(), 20);
    return { connection, running };
  }
  const wasStopped = (error: unknown) =>
    error instanceof InterruptedError && /interrupted: it was stopped$/.test(error.message);

  it('keeps the result of a command that ends on its own as it is being stopped: not said to run still', async () => {
    let ran = 0;
    const { connection, running } = ctrlCWhileRunning(
      [
        // Its exit status comes after Ctrl-C, before the kill's answer (no such process group: 1).
        () => ({ stderr: [marker(12)], stdout: ['done\n'], exit: { code: 0 }, exitAfterMs: 40 }),
        () => ({ exit: { code: 1 }, exitAfterMs: 80 }),
      ],
      { kind: 'change', onInterrupt: 'cancel', then: { command: command('true'), ran: () => ran++ } },
    );
    const result = await running;
    assert.equal(result.code, 0);
    assert.equal(result.stdout.toString(), 'done\n');
    assert.equal(connection.sent[1]!.line, 'kill -KILL -12');
    assert.equal(ran, 1, 'the audit line after it ran with it');
  });

  it('says a command whose exit status came while what it left still ran was stopped, not that it ended', async () => {
    // The kill works: something of it was still running (`daemon &` holding its output).
    const { running } = ctrlCWhileRunning([() => ({ stderr: [marker(14)], status: 0 }), () => ({ exit: { code: 0 } })]);
    await assert.rejects(running, wasStopped);
  });

  it('says it may still run when its exit status came, its output is still held and its kill failed', async () => {
    const { running } = ctrlCWhileRunning([
      () => ({ stderr: [marker(15)], status: 0 }),
      () => {
        throw new ConnectionError('pve1', 'the kill could not start');
      },
    ]);
    await assert.rejects(running, /interrupted: it could not be stopped: it may still be running there/);
  });

  it('says a command ended by a signal was stopped, even when its kill failed', async () => {
    const { running } = ctrlCWhileRunning([
      () => ({ stderr: [marker(13)], exit: { code: null, signal: 'KILL' }, exitAfterMs: 40 }),
      () => ({ exit: { code: 1 }, exitAfterMs: 80 }),
    ]);
    await assert.rejects(running, wasStopped);
  });

  it("stops a command at the bound its step set, shorter than the host's, and says the step set it", async () => {
    const inventoryWithout = parseInventory(
      'hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n',
      '/tmp/executor-test.yaml',
    );
    const unbounded = inventoryWithout.hosts[0]!;
    const connection = new ScriptedConnection([() => ({ stderr: [marker(31)] }), () => ({ exit: { code: 0 } })]);
    await assert.rejects(
      executorFor(connection).run(unbounded, command('pvesh', 'get', '/nodes/pve1/qemu'), {
        kind: 'probe',
        timeoutMs: 50,
      }),
      (error: unknown) =>
        error instanceof RemoteCommandError &&
        /did not finish within 0.05 s and was stopped/.test(error.message) &&
        !/command_timeout/.test(error.hint ?? ''),
    );
    assert.equal(connection.sent[1]!.line, 'kill -KILL -31');
  });

  it("lets a step's longer bound (here none) override the host's command_timeout", async () => {
    const abort = new AbortController();
    const connection = new ScriptedConnection([() => ({ stderr: [marker(32)] }), () => ({ exit: { code: 0 } })]);
    const running = executorFor(connection, { signal: abort.signal }).run(pve1, command('restic', 'check'), {
      kind: 'probe',
      timeoutMs: 0,
    });
    // Well past pve1's 0.2 s: only Ctrl-C ends it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    abort.abort();
    await assert.rejects(running, InterruptedError);
  });

  it('on Ctrl-C stops commands that may be cancelled, lets changes finish, and starts nothing new', async () => {
    const abort = new AbortController();
    const connection = new ScriptedConnection([() => ({ stderr: [marker(11)] }), () => ({ exit: { code: 0 } })]);
    const executor = executorFor(connection, { signal: abort.signal });
    const running = executor.run(pve1, { shellText: 'sleep 300' }, { kind: 'change', onInterrupt: 'cancel' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    abort.abort();
    await assert.rejects(
      running,
      (error: unknown) => error instanceof InterruptedError && /was stopped/.test(error.message),
    );
    assert.equal(connection.sent[1]!.line, 'kill -KILL -11');
    await assert.rejects(executor.run(pve1, command('true'), { kind: 'probe' }), InterruptedError);
    const audit = await executor.run(pve1, command('logger', 'x'), { kind: 'change', afterInterrupt: true });
    assert.equal(audit.code, 0);
  });

  it('lets bookkeeping started after Ctrl-C run to its end, even a probe', async () => {
    const abort = new AbortController();
    abort.abort();
    const connection = new ScriptedConnection([() => ({ stderr: [marker(12)] })]);
    const executor = executorFor(connection, { signal: abort.signal });
    const release = executor.run(pve1, command('rmdir', '/run/chaton/x'), { kind: 'probe', afterInterrupt: true });
    const settled = await Promise.race([
      release.then(
        () => 'ended',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('running'), 50)),
    ]);
    assert.equal(settled, 'running');
    assert.equal(connection.sent.length, 1, 'a kill was sent');
  });

  it('reports a connection dropped while the command ran as an unknown outcome, not as unreachable', async () => {
    const connection = new ScriptedConnection([() => ({ stderr: [marker(3)], exit: { code: null } })]);
    connection.lost = new ConnectionError('pve1', 'pve1 (10.0.0.11:22): connection lost: Keepalive timeout');
    await assert.rejects(executorFor(connection).run(pve1, command('true'), { kind: 'probe' }), (error: unknown) => {
      assert.ok(error instanceof LostWhileRunningError && !(error instanceof ConnectionError));
      assert.match(
        error.message,
        /^pve1: `true`: connection lost while it ran \(.*Keepalive timeout\): its outcome is unknown$/,
      );
      return true;
    });
  });

  it('shows a long command shortened in its messages', async () => {
    const fails = () => ({ stderr: [marker(1)], exit: { code: 2 } });
    const text = `echo ${'x'.repeat(70_000)}`;
    await assert.rejects(
      executorFor(new ScriptedConnection([fails])).run(pve1, { shellText: text }, { kind: 'probe' }),
      (error: unknown) => {
        assert.ok(error instanceof RemoteCommandError);
        assert.ok(error.message.length < 300, error.message);
        assert.match(error.message, /… \(70005 bytes\)` exited with 2$/);
        return true;
      },
    );
  });
});

describe('exitCodeFor', () => {
  const ok = (host: Host): HostOutcome<number> => ({ host, ok: true, value: 0 });
  const bad = (host: Host, error: unknown): HostOutcome<number> => ({ host, ok: false, error });
  const live = new AbortController().signal;

  it('follows the documented precedence', () => {
    const unreachable = new ConnectionError('vm1', 'no answer');
    assert.equal(exitCodeFor([ok(pve1), ok(vm1)], live), ExitCode.ok);
    assert.equal(exitCodeFor([ok(pve1), bad(vm1, new Error('x'))], live), ExitCode.partial);
    assert.equal(exitCodeFor([ok(pve1), bad(vm1, unreachable)], live), ExitCode.partial);
    assert.equal(exitCodeFor([bad(pve1, new Error('x')), bad(vm1, unreachable)], live), ExitCode.failed);
    assert.equal(exitCodeFor([bad(pve1, unreachable), bad(vm1, unreachable)], live), ExitCode.connection);
    assert.equal(exitCodeFor([ok(pve1), bad(vm1, new HostKeyError('vm1', 'changed'))], live), ExitCode.connection);
    const aborted = new AbortController();
    aborted.abort();
    assert.equal(
      exitCodeFor([ok(pve1), bad(vm1, new HostKeyError('vm1', 'changed'))], aborted.signal),
      ExitCode.interrupted,
    );
  });

  it('counts work that ran but failed by the given rule', () => {
    const exited = (host: Host, code: number): HostOutcome<number> => ({ host, ok: true, value: code });
    assert.equal(
      exitCodeFor([exited(pve1, 0), exited(vm1, 3)], live, (code) => code !== 0),
      ExitCode.partial,
    );
    assert.equal(
      exitCodeFor([exited(pve1, 1), exited(vm1, 3)], live, (code) => code !== 0),
      ExitCode.failed,
    );
  });
});
