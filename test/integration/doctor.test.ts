// `chaton doctor --reach` on the lab, through the real bastion; and a run with no key at all,
// which stops on this machine (exit 2) instead of reaching the bastion to be refused (exit 5).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
let inventory: string;

interface Report {
  exitCode: number;
  reach: boolean;
  hosts: { host: string; ok: boolean; hostKey: string | null }[];
  checks: { check: string; subject: string; status: string; detail: string }[];
}

before(async () => {
  lab = await freshLab('it-doctor', 2);
  env = await sandboxEnv();
  inventory = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['ssh', 'connect_timeout'], 2));
});
after(async () => {
  await lab?.down();
});

async function doctor(args: string[], file = inventory): Promise<{ code: number | null; report: Report }> {
  const run = await chaton(['-i', file, '--json', 'doctor', ...args], { env });
  return { code: run.code, report: JSON.parse(run.stdout) as Report };
}

describe('chaton doctor --reach', () => {
  it('reaches the bastion and every host, host keys checked: all OK, exit 0', async () => {
    const { code, report } = await doctor(['--reach']);
    assert.equal(code, 0, JSON.stringify(report.checks));
    const machines = ['bastion', ...lab.hosts.map((h) => h.name)];
    assert.deepEqual(
      report.hosts.map((h) => [h.host, h.ok]),
      machines.map((name) => [name, true]),
    );
    assert.ok(report.hosts.every((h) => /^ED25519 key SHA256:/.test(h.hostKey ?? '')));
    const reach = report.checks.filter((c) => c.check === 'reach');
    assert.deepEqual(
      reach.map((c) => [c.subject, c.status]),
      machines.map((name) => [name, 'OK']),
    );
  });

  it('a host whose sshd is down: its reach fails, exit 5 (this machine is fine)', async () => {
    await lab.stopSshd('host001');
    try {
      const { code, report } = await doctor(['--reach']);
      assert.equal(code, 5);
      const failed = report.checks.filter((c) => c.status !== 'OK');
      assert.deepEqual(
        failed.map((c) => [c.check, c.subject]),
        [['reach', 'host001']],
      );
    } finally {
      await lab.startSshd('host001');
    }
  });

  it('the bastion down: one failed reach naming it, exit 5', async () => {
    await lab.stopSshd('bastion');
    try {
      const { code, report } = await doctor(['--reach']);
      assert.equal(code, 5);
      const failed = report.checks.filter((c) => c.status !== 'OK');
      assert.deepEqual(
        failed.map((c) => [c.check, c.subject]),
        [['reach', 'bastion']],
      );
      assert.match(failed[0]!.detail, /connection refused/);
    } finally {
      await lab.startSshd('bastion');
    }
  });

  it('without a known_hosts file: exit 2, the local problem first, even if --reach fails too', async () => {
    const unknown = await variantInventory(inventory, (doc) => doc.setIn(['ssh', 'known_hosts'], ['/nonexistent/kh']));
    const { code, report } = await doctor(['--reach'], unknown);
    assert.equal(code, 2);
    const statuses = new Map(report.checks.map((c) => [`${c.check} ${c.subject}`, c.status]));
    assert.equal(statuses.get('host key bastion'), 'FAIL');
    assert.equal(statuses.get('host keys every host'), 'FAIL');
    assert.equal(statuses.get('reach bastion'), 'FAIL');
  });
});

describe('a run with no SSH key at all', () => {
  it('stops before connecting with exit 2, where it used to reach the bastion and exit 5', async () => {
    // OpenSSH's default keys, absent from the sandbox's HOME; no ssh-agent.
    const keyless = await variantInventory(inventory, (doc) => {
      doc.deleteIn(['ssh', 'identity_files']);
      doc.setIn(['ssh', 'agent'], true);
    });
    const run = await chaton(['-i', keyless, 'hosts', 'check', 'all'], { env });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /no SSH key to offer to bastion, pve1, /);
    assert.doesNotMatch(run.stderr, /Connect to bastion/);
    const { code, report } = await doctor([], keyless);
    assert.equal(code, 2);
    assert.ok(report.checks.some((c) => c.check === 'keys' && c.status === 'FAIL'));
  });
});
