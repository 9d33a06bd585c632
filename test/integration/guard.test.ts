// The guard layer on the lab's gateway (no systemd there: the setsid sleeper runs): a revert fires
// or, disarmed, never does; a detached change ends even when the SSH session is killed; the host
// lock is refused naming its holder; a guarded change kept, and one whose proof fails, undone by
// its revert. Waits are bounded; no duration is asserted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { freshLab, QUIET_OPTIONS } from './chaton.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { loadInventory } from '../../src/lib/inventory/load.js';
import type { Host } from '../../src/lib/inventory/types.js';
import {
  applyDetached,
  applyState,
  applyStatus,
  armRevert,
  disarmRevert,
  parseGuardState,
  revertState,
  revertStatus,
  systemdRuns,
  type GuardState,
} from '../../src/lib/remote/guard.js';
import { command } from '../../src/lib/remote/shell.js';
import { RunContext } from '../../src/lib/run/context.js';
import { ExitCode, LockHeldError } from '../../src/lib/run/errors.js';
import { guardedChangeError, runGuardedChange, type GuardedChange } from '../../src/lib/run/guarded-change.js';
import { HostLock } from '../../src/lib/run/host-lock.js';

let lab: Lab;
let ctx: RunContext;
let gw: Host;

before(async () => {
  lab = await freshLab('it-guard', 0);
  const inventory = await loadInventory(lab.inventoryPath, INVENTORY_SECTIONS);
  const mode = { json: false, quiet: true, verbose: false, colour: false, interactive: false };
  ctx = new RunContext(QUIET_OPTIONS, mode, inventory, new AbortController().signal, process.env, ['node', 'chaton']);
  gw = inventory.hosts.find((host) => host.name === 'gw')!;
  await ctx.pool.loadKeys([gw], async () => undefined);
});
after(async () => {
  ctx?.pool.closeAll();
  await lab?.down();
});

/** Reads a state until `done` says so, for at most 20 s; returns the last read. */
async function until(read: () => Promise<GuardState>, done: (state: GuardState) => boolean): Promise<GuardState> {
  for (const started = Date.now(); Date.now() - started < 20_000;) {
    const state = await read();
    if (done(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return read();
}

const exists = async (file: string) => (await lab.run('gw', ['test', '-e', file])).exitCode === 0;
const writing = (file: string) => command('sh', '-c', 'echo written > "$1" && echo "wrote $1"', 'sh', file);

describe('guards on the lab gateway', () => {
  it('a revert armed for 2 s fires: its state says fired, exit 0', async () => {
    assert.equal(await ctx.executor.fact(gw, systemdRuns), false);
    await ctx.executor.run(
      gw,
      armRevert({ id: 'it-fires', afterSeconds: 2, revert: writing('/root/fired'), systemd: false }),
      {
        kind: 'change',
      },
    );
    const state = await until(
      () => ctx.executor.fact(gw, revertState('it-fires')),
      (s) => revertStatus(s) === 'fired',
    );
    assert.equal(revertStatus(state), 'fired');
    assert.equal(state.ended?.code, 0);
    assert.equal(state.outputTail, 'wrote /root/fired\n');
    assert.ok(await exists('/root/fired'));
  });

  it('a revert armed then disarmed never fires', async () => {
    const arm = armRevert({ id: 'it-disarmed', afterSeconds: 2, revert: writing('/root/disarmed'), systemd: false });
    await ctx.executor.run(gw, arm, { kind: 'change' });
    const result = await ctx.executor.run(gw, disarmRevert('it-disarmed'), { kind: 'change' });
    assert.equal(revertStatus(parseGuardState(result.stdout.toString())), 'disarmed');
    const armed = await ctx.executor.fact(gw, revertState('it-disarmed'));
    // Past its deadline, with room to spare.
    await new Promise((resolve) => setTimeout(resolve, (armed.armed!.deadline - armed.armed!.at + 2) * 1000));
    const later = await ctx.executor.fact(gw, revertState('it-disarmed'));
    assert.equal(revertStatus(later), 'disarmed');
    assert.equal(later.started, undefined);
    assert.equal(await exists('/root/disarmed'), false);
  });

  it('a detached change ends even when the SSH session that started it is killed', async () => {
    const change = command('sh', '-c', 'sleep 2 && echo done > "$1" && echo "wrote $1"', 'sh', '/root/applied');
    await ctx.executor.run(gw, applyDetached('it-killed', change), { kind: 'change' });
    // Every sshd session of gw (its own pid namespace): chaton's connection to it dies.
    const killed = await lab.run('gw', ['pkill', '-f', 'sshd: root@']);
    assert.equal(killed.exitCode, 0, killed.stderr);
    const state = await until(
      async () => {
        try {
          return await ctx.executor.fact(gw, applyState('it-killed'));
        } catch {
          return parseGuardState(''); // the connection was killed: the pool opens a new one
        }
      },
      (s) => applyStatus(s) === 'done',
    );
    assert.equal(applyStatus(state), 'done');
    assert.equal(state.ended?.code, 0);
    assert.ok(await exists('/root/applied'));
  });

  it("refuses a host's lock that another run holds, naming the holder and since when", async () => {
    const held = new HostLock(ctx, gw, 'it-lock');
    await held.take();
    try {
      const error = await new HostLock(ctx, gw, 'it-lock', 'bob@desk pid 1 since 2026-12-01T10:00:00.000Z').take().then(
        () => assert.fail('taken twice'),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof LockHeldError);
      assert.equal(error.exitCode, ExitCode.refused);
      const since = /since (\S+)$/.exec(held.owner)![1]!;
      assert.equal(error.holderOwner?.operator, ctx.operator);
      assert.equal(error.holderOwner?.since.toISOString(), since);
      assert.match(error.message, new RegExp(`held by ${ctx.operator} \\(pid ${process.pid}\\) since `));
    } finally {
      await held.release();
    }
    assert.equal(await exists('/run/chaton/it-lock.lock'), false);
  });
});

describe('a guarded change on the lab gateway', () => {
  /** A change that writes a file, undone by a revert that removes it and says so. */
  const guarded = (name: string, prove: GuardedChange['prove']): GuardedChange => ({
    host: gw,
    name,
    change: command('sh', '-c', 'echo changed > "$1"', 'sh', `/root/${name}`),
    revert: command('sh', '-c', 'rm -f -- "$1" && echo reverted > "$1.reverted"', 'sh', `/root/${name}`),
    revertAfterSeconds: 4,
    comeBackWithinMs: 3000,
    prove,
    checks: [command('ls', '-l', `/root/${name}`)],
  });

  it('is kept when proven: disarmed, the revert never runs, each step timed, the lock released', async () => {
    const spec = guarded('it-kept', async () => ((await exists('/root/it-kept')) ? undefined : 'no file'));
    const result = await runGuardedChange(ctx, spec, () => {}, false);
    assert.equal(result.outcome, 'applied', JSON.stringify(result));
    assert.ok(result.outcome === 'applied');
    assert.deepEqual(
      result.steps.map((s) => s.step),
      ['lock', 'arm', 'apply', 'reconnect', 'prove', 'disarm', 'release'],
    );
    assert.ok(result.steps.every((s) => s.ms >= 0));
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.equal(revertStatus(await ctx.executor.fact(gw, revertState(result.id))), 'disarmed');
    assert.ok(await exists('/root/it-kept'));
    assert.equal(await exists('/root/it-kept.reverted'), false);
    assert.equal(await exists('/run/chaton/it-kept.lock'), false);
  });

  it('is undone when the proof fails: chaton waits for the revert and reports it (exit 1)', async () => {
    const result = await runGuardedChange(
      ctx,
      guarded('it-undone', async () => 'the new path does not answer'),
      () => {},
      false,
    );
    assert.equal(result.outcome, 'reverted', JSON.stringify(result));
    assert.ok(result.outcome === 'reverted');
    assert.match(result.why, /the proof failed: the new path does not answer/);
    assert.equal(result.revert.ended?.code, 0);
    assert.deepEqual(
      result.steps.map((s) => s.step),
      ['lock', 'arm', 'apply', 'reconnect', 'prove', 'revert', 'release'],
    );
    assert.equal(await exists('/root/it-undone'), false);
    assert.ok(await exists('/root/it-undone.reverted'));
    const error = guardedChangeError('gw', result);
    assert.equal(error?.exitCode, ExitCode.failed);
    assert.match(error!.message, /^gw: the change was undone \(the proof failed: .*\): the revert ran and succeeded/);
    assert.equal(await exists('/run/chaton/it-undone.lock'), false);
  });

  it('is undone when the host cannot be reached again in time: chaton waits for the revert and says so', async () => {
    // sshd stops listening once the change starts (open sessions live on), and listens again
    // after the bound to come back, before the revert is due.
    const spec = {
      ...guarded('it-unreachable', async () => undefined),
      change: command('sh', '-c', 'sleep 2 && echo changed > "$1"', 'sh', '/root/it-unreachable'),
      revertAfterSeconds: 6,
      comeBackWithinMs: 3000,
    };
    let sshd: Promise<unknown> | undefined;
    const progress = (text: string) => {
      if (sshd || !/applying the change/.test(text)) return;
      sshd = lab
        .stopSshd('gw')
        .then(() => new Promise((resolve) => setTimeout(resolve, 4000)))
        .finally(() => lab.startSshd('gw'));
    };
    const result = await runGuardedChange(ctx, spec, progress, false);
    await sshd;
    assert.equal(result.outcome, 'reverted', JSON.stringify(result));
    assert.ok(result.outcome === 'reverted');
    assert.match(result.why, /^gw: cannot reach it for now \(.*\): gave up after 3 s$/);
    assert.ok(await exists('/root/it-unreachable.reverted'));
    assert.equal(await exists('/root/it-unreachable'), false);
  });
});
