// What onboard and offboard share, against a fake executor: the per-login locks (taken in turn,
// waited for with the holder named, a dead run's lock taken over, released everywhere a take was
// tried) and applyChanges (changes in order, the Proxmox turn taken one host at a time).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChanges, LoginLocks } from '../../src/lib/access/sysadmins.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import type { Host } from '../../src/lib/inventory/types.js';
import type { Change } from '../../src/lib/remote/changes.js';
import type { RunResult } from '../../src/lib/remote/executor.js';
import { command, render, type Script } from '../../src/lib/remote/shell.js';
import type { HostTask } from '../../src/lib/run/display.js';
import type { RunContext } from '../../src/lib/run/context.js';

const inventory = parseInventory(
  `hosts:
  pve1: { address: 10.0.0.11, direct: true }
  pve2: { address: 10.0.0.12, direct: true }
`,
  '/tmp/sysadmins-test.yaml',
);
const [pve1, pve2] = inventory.hosts as [Host, Host];

/** Each command run, and what the host answers: exit code and stdout, per command text. */
function fakeContext(answer: (host: Host, text: string) => { code: number; stdout?: string } = () => ({ code: 0 })) {
  const ran: { host: string; text: string }[] = [];
  const ctx = {
    operator: 'alice@laptop',
    options: { dryRun: false },
    signal: new AbortController().signal,
    notices: [] as string[],
    executor: {
      run: async (host: Host, script: Script): Promise<RunResult> => {
        const text = render(script).toString();
        ran.push({ host: host.name, text });
        const { code, stdout = '' } = answer(host, text);
        return {
          host: host.name,
          command: text,
          code,
          signal: null,
          stdout: Buffer.from(stdout),
          stderr: Buffer.alloc(0),
          truncated: false,
          durationMs: 1,
          dryRun: false,
        };
      },
    },
  };
  return { ctx: ctx as unknown as RunContext, ran };
}

const takes = (text: string) => text.startsWith('sh -c') && text.includes('mkdir -p -m 0700 /run/chaton');
const quietTask: HostTask = {
  output: () => true,
  progress: () => {},
  verboseLines: undefined,
  drained: async () => {},
};

describe('LoginLocks', () => {
  it('takes the lock host after host, and releases it on every host where a take was tried', async () => {
    const { ctx, ran } = fakeContext();
    const locks = new LoginLocks(ctx, 'jdupont');
    await locks.step([pve1, pve2])!.run(() => {}, false);
    await locks.releaseAll();
    assert.deepEqual(
      ran.map((r) => [r.host, takes(r.text) ? 'take' : 'release']),
      [
        ['pve1', 'take'],
        ['pve2', 'take'],
        ['pve1', 'release'],
        ['pve2', 'release'],
      ],
    );
    assert.ok(ran.every((r) => r.text.includes('/run/chaton/sysadmin-jdupont.lock')));
  });

  it('names who holds a lock while it waits, then takes it once free', async () => {
    let held = true;
    const { ctx } = fakeContext((_host, text) => {
      if (!takes(text)) return { code: 0 };
      const answer = held ? { code: 75, stdout: 'bob@desk pid 4242 since 2026-11-30T11:03:11.000Z\n' } : { code: 0 };
      held = false;
      return answer;
    });
    const said: string[] = [];
    await new LoginLocks(ctx, 'jdupont').step([pve1])!.run((text) => said.push(text), false);
    assert.equal(said.length, 1);
    assert.match(
      said[0]!,
      /^pve1: waiting for the lock on sysadmin jdupont, held by bob@desk \(pid 4242\) since 2026-11-30T/,
    );
  });

  it("takes over the lock of this operator's own run that died", async () => {
    // A pid that cannot be alive: beyond Linux's pid_max.
    const dead = 'alice@laptop pid 99999999 since 2026-11-30T11:03:11.000Z';
    let held = true;
    const { ctx, ran } = fakeContext((_host, text) => {
      if (!takes(text)) return { code: 0 };
      const answer = held ? { code: 75, stdout: `${dead}\n` } : { code: 0 };
      held = false;
      return answer;
    });
    await new LoginLocks(ctx, 'jdupont').step([pve1])!.run(() => {}, false);
    assert.deepEqual(
      ran.map((r) => (takes(r.text) ? 'take' : r.text.includes(dead) ? 'release the dead one' : 'other')),
      ['take', 'release the dead one', 'take'],
    );
  });

  it('fails only the host whose lock could not be asked for; the others are locked', async () => {
    const { ctx } = fakeContext();
    const broken = {
      ...ctx,
      executor: {
        run: async (host: Host, script: Script) => {
          if (host.name === 'pve1') throw new Error('pve1: sudo asks for a password');
          return (ctx.executor as unknown as { run: (h: Host, s: Script) => Promise<RunResult> }).run(host, script);
        },
      },
    } as unknown as RunContext;
    const locks = new LoginLocks(broken, 'jdupont');
    await locks.step([pve1, pve2])!.run(() => {}, false);
    assert.throws(() => locks.check(pve1), /sudo asks for a password/);
    assert.doesNotThrow(() => locks.check(pve2));
  });
});

describe('applyChanges', () => {
  const change = (what: string): Change => ({ what, command: command('echo', what) });

  it('runs the changes in order, the Proxmox ones last, and says what it did', async () => {
    const { ctx, ran } = fakeContext();
    const said: string[] = [];
    const task = { ...quietTask, progress: (text: string) => said.push(text) };
    const report = await applyChanges(ctx, pve1, task, [change('create'), change('keys')], async () => [
      change('pveum'),
    ]);
    assert.deepEqual(
      ran.map((r) => r.text),
      ['echo create', 'echo keys', 'echo pveum'],
    );
    assert.deepEqual(report.changes, ['create', 'keys', 'pveum']);
    assert.deepEqual(said, ['create', 'keys', 'pveum']);
  });

  it('takes the Proxmox turn one host at a time: the user configuration is cluster-wide', async () => {
    const timeline: string[] = [];
    const { ctx } = fakeContext();
    const proxmox = (host: string) => async () => {
      timeline.push(`${host} reads`);
      await new Promise((resolve) => setImmediate(resolve));
      timeline.push(`${host} done reading`);
      return [];
    };
    await Promise.all([
      applyChanges(ctx, pve1, quietTask, [], proxmox('pve1')),
      applyChanges(ctx, pve2, quietTask, [], proxmox('pve2')),
    ]);
    assert.deepEqual(timeline, ['pve1 reads', 'pve1 done reading', 'pve2 reads', 'pve2 done reading']);
  });
});
