// Faults on the lab: a host down, sshd stopped, the bastion down, a command that hangs, Ctrl-C.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
let inventory: string;

before(async () => {
  lab = await freshLab('it-faults', 3);
  env = await sandboxEnv();
  // Short timeouts keep the test quick; the behaviour is the same with the defaults.
  inventory = await variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['ssh', 'connect_timeout'], 2);
    doc.setIn(['ssh', 'command_timeout'], 2);
  });
});
after(async () => {
  await lab?.down();
});

describe('faults', () => {
  it('a host that does not answer fails alone: the others are done, exit 4', async () => {
    await lab.linkDown('host002');
    await lab.stopSshd('host003');
    try {
      const run = await chaton(['-i', inventory, '--json', 'hosts', 'check', 'all'], { env });
      assert.equal(run.code, 4, run.stderr);
      const hosts = JSON.parse(run.stdout).hosts as { host: string; ok: boolean; error: { message: string } | null }[];
      const byName = new Map(hosts.map((h) => [h.host, h]));
      assert.match(
        byName.get('host002')!.error!.message,
        /host002 \(198\.18\.\d+\.32:22\): no answer through bastion within 2 s/,
      );
      assert.match(byName.get('host003')!.error!.message, /bastion could not reach host003 .*refused/i);
      assert.equal(hosts.filter((h) => h.ok).length, hosts.length - 2);
    } finally {
      await lab.linkUp('host002');
      await lab.startSshd('host003');
    }
  });

  it('with --quiet, a failing host prints the report and why, on one plain line per event', async () => {
    await lab.stopSshd('host003');
    try {
      const run = await chaton(['-i', inventory, '--quiet', 'hosts', 'check', 'pve1,host003'], { env });
      assert.equal(run.code, 4);
      assert.match(run.stdout, /^HOST .*\n(.*\n)*host003: [^]*refused/i);
      // Progress is only the failure, a single line: its hint is joined, not left on a line of its own.
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, /^\S+ \[FAILED\] .*host003.* → check .*\]$/);
    } finally {
      await lab.startSshd('host003');
    }
  });

  it('a single unreachable target is a connection failure, exit 5', async () => {
    await lab.stopSshd('host001');
    try {
      const run = await chaton(['-i', inventory, 'hosts', 'check', 'host001'], { env });
      assert.equal(run.code, 5);
    } finally {
      await lab.startSshd('host001');
    }
  });

  it('the bastion down stops everything at once with exit 5, naming the bastion', async () => {
    await lab.stopSshd('bastion');
    try {
      const run = await chaton(['-i', inventory, '-y', 'exec', 'all', '--', 'true'], { env });
      assert.equal(run.code, 5);
      assert.match(run.stderr, /bastion \(198\.19\.\d+\.2:22\): connection refused/);
      assert.doesNotMatch(run.stdout, /exit codes/);
    } finally {
      await lab.startSshd('bastion');
    }
  });

  it('a command that outlives command_timeout is stopped on the host and reported', async () => {
    const run = await chaton(['-i', inventory, 'exec', 'pve1', '--', 'sleep 300'], { env });
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, /did not finish within 2 s and was stopped/);
    const left = await lab.run('pve1', ['pgrep', '-f', 'sleep 300']);
    assert.notEqual(left.exitCode, 0, `sleep still running: ${left.stdout}`);
  });

  it('Ctrl-C stops the running commands on the hosts, reports, audits and exits 130', async () => {
    const run = await chaton(
      ['-i', inventory, '-y', 'exec', 'hypervisors', '--', 'echo started; sleep 280; echo slept'],
      {
        env: { ...env },
        onSpawn: (child) => {
          // One Ctrl-C, once every host has started: a second one means "quit now".
          let started = 0;
          const interrupt = (chunk: Buffer) => {
            started += chunk.toString().split('| started').length - 1;
            if (started < 3) return;
            child.stdout!.off('data', interrupt);
            child.kill('SIGINT');
          };
          child.stdout!.on('data', interrupt);
        },
      },
    );
    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /interrupting/);
    assert.match(run.stdout, /exit codes: interrupted on 3 hosts/);
    for (const host of ['pve1', 'pve2', 'pve3']) {
      const left = await lab.run(host, ['pgrep', '-f', 'sleep 280']);
      assert.notEqual(left.exitCode, 0, `${host}: sleep still running`);
      assert.match(await lab.syslog(host), /chaton: operator=\S+ outcome=interrupted command: /);
    }
    const records = (await readFile(path.join(env.XDG_STATE_HOME!, 'chaton', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    assert.equal(JSON.parse(records.at(-1)!).outcome, 'interrupted');
  });
});
