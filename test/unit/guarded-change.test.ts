// The host lock refused at once, naming its holder, and the dry-run of a guarded change (every
// command that would run, the revert included, none sent), against a fake executor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInventory } from '../../src/lib/inventory/load.js';
import type { Host } from '../../src/lib/inventory/types.js';
import type { RunResult } from '../../src/lib/remote/executor.js';
import type { Fact } from '../../src/lib/remote/facts.js';
import { command, render, type Script } from '../../src/lib/remote/shell.js';
import type { RunContext } from '../../src/lib/run/context.js';
import { ExitCode, LockHeldError } from '../../src/lib/run/errors.js';
import { guardedChangeError, runGuardedChange } from '../../src/lib/run/guarded-change.js';
import { HostLock } from '../../src/lib/run/host-lock.js';

const [gw] = parseInventory('hosts:\n  gw: { address: 10.0.0.2, direct: true }\n', '/tmp/guard-test.yaml').hosts as [
  Host,
];

/** Each command run (its kind too), and what the host answers: exit code and stdout, per command text. */
function fakeContext(dryRun: boolean, answer: (text: string) => { code: number; stdout?: string }) {
  const ran: { text: string; kind: string }[] = [];
  const run = async (_host: Host, script: Script, opts: { kind: string }): Promise<RunResult> => {
    const text = render(script).toString();
    ran.push({ text, kind: opts.kind });
    const { code, stdout = '' } = dryRun && opts.kind === 'change' ? { code: 0 } : answer(text);
    const result = { host: 'gw', command: text, code, signal: null, stdout: Buffer.from(stdout) };
    return { ...result, stderr: Buffer.alloc(0), truncated: false, durationMs: 1, dryRun };
  };
  const ctx = {
    operator: 'alice@laptop',
    options: { dryRun },
    signal: new AbortController().signal,
    notices: [] as string[],
    executor: {
      run,
      fact: async <T>(host: Host, fact: Fact<T>) =>
        fact.parse((await run(host, fact.command, { kind: 'probe' })).stdout.toString()),
    },
  };
  return { ctx: ctx as unknown as RunContext, ran };
}

describe('HostLock', () => {
  it('refuses a held lock at once, naming who holds it and since when: exit 3, with the next step', async () => {
    const holder = 'bob@desk pid 4242 since 2026-11-30T11:03:11.000Z';
    const { ctx, ran } = fakeContext(false, () => ({ code: 75, stdout: `${holder}\n` }));
    const error = await new HostLock(ctx, gw, 'failover').take().then(
      () => assert.fail('taken'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof LockHeldError);
    assert.equal(error.exitCode, ExitCode.refused);
    assert.match(error.message, /^gw: the lock failover is held by bob@desk \(pid 4242\) since 2026-11-30T/);
    assert.match(error.hint!, /remove \/run\/chaton\/failover\.lock on gw/);
    assert.deepEqual(error.holderOwner, { operator: 'bob@desk', pid: 4242, since: new Date('2026-11-30T11:03:11Z') });
    assert.equal(ran.length, 1);
  });
});

describe('runGuardedChange', () => {
  it('in dry-run, plans every command in order, the revert listed after its arm, and sends none', async () => {
    const { ctx, ran } = fakeContext(true, () => ({ code: 0, stdout: '' }));
    const revert = command('ip', 'route', 'replace', 'default', 'via', '198.19.1.65');
    const change = command('ip', 'route', 'replace', 'default', 'via', '198.19.1.73');
    const result = await runGuardedChange(
      ctx,
      {
        host: gw,
        name: 'failover',
        change,
        revert,
        revertAfterSeconds: 60,
        comeBackWithinMs: 30_000,
        prove: async () => undefined,
      },
      () => {},
      false,
    );
    assert.equal(result.outcome, 'planned');
    assert.ok(result.outcome === 'planned');
    assert.deepEqual(
      result.commands.map((c) => c.step),
      ['lock', 'arm', 'revert', 'apply', 'disarm', 'release'],
    );
    assert.equal(result.commands[2]!.command, revert);
    // The only command sent is the probe that picks the revert's timer; the others are planned.
    assert.deepEqual(
      ran.map((r) => r.kind),
      ['probe', 'change', 'change', 'change', 'change', 'change'],
    );
    assert.match(ran[0]!.text, /\/run\/systemd\/system/);
    assert.match(ran[2]!.text, /setsid sh -c/);
    assert.ok(ran[2]!.text.includes(render(revert).toString()));
    assert.ok(ran[3]!.text.includes(render(change).toString()));
    assert.equal(guardedChangeError('gw', result), undefined);
  });
});
