// Every command's --json, in success and in failure, holds to the one envelope the README
// documents: checked by a small validator, on a lab.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, variantInventory, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
let inventory: string;
let key: string;
let dir: string;

before(async () => {
  lab = await freshLab('it-json', 1);
  env = await sandboxEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-json-'));
  inventory = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['ssh', 'connect_timeout'], 2));
  key = path.join(dir, 'jsonuser');
  await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jsonuser@laptop', '-f', key]);
});
after(async () => {
  await lab?.down();
});

type Doc = Record<string, unknown> & {
  hosts: Record<string, unknown>[];
  error: { message: string; hint: string | null } | null;
};

/** `error` as the README defines it: null, or exactly a message and a hint (a string or null). */
function assertError(value: unknown, where: string): void {
  if (value === null) return;
  assert.equal(typeof value, 'object', where);
  const { message, hint, ...rest } = value as Record<string, unknown>;
  assert.equal(typeof message, 'string', `${where}.message`);
  assert.ok(hint === null || typeof hint === 'string', `${where}.hint`);
  assert.deepEqual(rest, {}, `${where} has only message and hint`);
}

/** Anywhere in the document: every `error` is one, every `...Ms` a whole number of milliseconds. */
function assertFields(value: unknown, where: string): void {
  if (Array.isArray(value)) value.forEach((item, i) => assertFields(item, `${where}[${i}]`));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [name, field] of Object.entries(value)) {
    if (name === 'error') assertError(field, `${where}.error`);
    if (name.endsWith('Ms'))
      assert.ok(field === null || Number.isInteger(field), `${where}.${name} = ${String(field)}`);
    assertFields(field, `${where}.${name}`);
  }
}

/** The envelope: stdout is one JSON document with the common fields, whatever the outcome. */
function envelope(run: Run, command: string, exitCode: number, remote: boolean): Doc {
  assert.equal(run.code, exitCode, run.stderr);
  const doc = JSON.parse(run.stdout) as Doc;
  assert.equal(doc.chaton, 1);
  assert.equal(doc.command, command);
  assert.equal(doc.exitCode, exitCode);
  assert.ok('error' in doc, 'error is always there');
  assert.ok(Array.isArray(doc.hosts), 'hosts is always an array');
  for (const entry of doc.hosts) {
    assert.equal(typeof entry.host, 'string');
    assert.ok(!('name' in entry), 'a host is named by `host`');
    assert.ok('error' in entry, `${String(entry.host)} has an error field`);
    if (remote) assert.equal(typeof entry.ok, 'boolean');
  }
  // What every remote command adds once it has started (a run stopped before has no context).
  if (remote && doc.error === null) {
    assert.equal(typeof doc.dryRun, 'boolean');
    assert.ok(Array.isArray(doc.notices));
    assert.ok(doc.audit === null || typeof doc.audit === 'string');
    assert.equal(Array.isArray(doc.planned), doc.dryRun);
  }
  assertFields(doc, '$');
  return doc;
}

const inv = () => ['-i', inventory, '--json'];

describe('--json: one envelope for every command', () => {
  it('inventory check: valid, then an inventory with problems', async () => {
    const ok = envelope(await chaton([...inv(), 'inventory', 'check'], { env }), 'inventory check', 0, false);
    assert.equal(ok.error, null);
    assert.ok(ok.hosts.some((h) => h.host === 'pve1'));
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, 'hosts:\n  pve1: {adress: 10.0.0.1}\n');
    const bad = envelope(
      await chaton(['-i', broken, '--json', 'inventory', 'check'], { env }),
      'inventory check',
      2,
      false,
    );
    assert.match(bad.error!.message, /unknown key/);
    assert.ok(Array.isArray(bad.problems));
  });

  it('inventory show: the hosts, then an unknown target', async () => {
    const ok = envelope(await chaton([...inv(), 'inventory', 'show', 'pve1'], { env }), 'inventory show', 0, false);
    assert.deepEqual(
      ok.hosts.map((h) => h.host),
      ['pve1'],
    );
    const bad = envelope(
      await chaton([...inv(), 'inventory', 'show', 'nosuchhost'], { env }),
      'inventory show',
      2,
      false,
    );
    assert.match(bad.error!.message, /nosuchhost/);
  });

  it('hosts check: all reached, a host that fails (exit 4), no inventory, the bastion down', async () => {
    const ok = envelope(await chaton([...inv(), 'hosts', 'check', 'all'], { env }), 'hosts check', 0, true);
    assert.ok(ok.hosts.every((h) => h.ok === true && h.error === null && Number.isInteger(h.latencyMs)));
    const closed = await variantInventory(inventory, (doc) => doc.setIn(['hosts', 'host001', 'port'], 1));
    const partial = envelope(
      await chaton(['-i', closed, '--json', 'hosts', 'check', 'pve1,host001'], { env }),
      'hosts check',
      4,
      true,
    );
    const failed = partial.hosts.find((h) => h.host === 'host001')!;
    assert.equal(failed.ok, false);
    assert.match((failed.error as { message: string }).message, /host001/);
    const none = envelope(
      await chaton(['-i', path.join(dir, 'missing.yaml'), '--json', 'hosts', 'check'], { env }),
      'hosts check',
      2,
      true,
    );
    assert.notEqual(none.error, null);
    const down = await variantInventory(inventory, (doc) => doc.setIn(['bastion', 'port'], 1));
    const stopped = envelope(await chaton(['-i', down, '--json', 'hosts', 'check'], { env }), 'hosts check', 5, true);
    assert.match(stopped.error!.message, /bastion/);
  });

  it('exec: a run, a dry-run, a refusal without --yes, a bad flag', async () => {
    const ran = envelope(await chaton([...inv(), '-y', 'exec', 'pve1,gw', '--', 'exit 3'], { env }), 'exec', 1, true);
    assert.deepEqual(
      ran.hosts.map((h) => [h.host, h.state, h.code, h.error]),
      [
        ['pve1', 'exited', 3, null],
        ['gw', 'exited', 3, null],
      ],
    );
    const dry = envelope(await chaton([...inv(), '-n', 'exec', 'pve1', '--', 'true'], { env }), 'exec', 0, true);
    assert.deepEqual(
      dry.hosts.map((h) => h.state),
      ['not-sent'],
    );
    const refused = envelope(await chaton([...inv(), 'exec', 'pve1,gw', '--', 'true'], { env }), 'exec', 3, true);
    assert.match(refused.error!.hint!, /--yes/);
    const flag = envelope(await chaton([...inv(), 'exec', '--frob', 'pve1', '--', 'true'], { env }), 'exec', 2, true);
    assert.match(flag.error!.message, /--frob/);
  });

  it('onboard and offboard sysadmin: done, then refused before any host', async () => {
    const on = ['onboard', 'sysadmin', 'jsonuser', '--key', `${key}.pub`, '--on', 'pve1'];
    const onboarded = envelope(await chaton([...inv(), ...on], { env }), 'onboard sysadmin', 0, true);
    assert.deepEqual(
      onboarded.hosts.map((h) => [h.host, h.ok, h.error]),
      [['pve1', true, null]],
    );
    assert.deepEqual(onboarded.notWritten, []);
    const badLogin = envelope(
      await chaton([...inv(), 'onboard', 'sysadmin', 'Bad.Login', '--key', `${key}.pub`], { env }),
      'onboard sysadmin',
      2,
      true,
    );
    assert.match(badLogin.error!.message, /invalid login/);
    const off = ['offboard', 'sysadmin', 'jsonuser', '--on', 'pve1'];
    const offboarded = envelope(await chaton([...inv(), '--yes', ...off], { env }), 'offboard sysadmin', 0, true);
    assert.deepEqual(
      offboarded.hosts.map((h) => [h.host, h.ok]),
      [['pve1', true]],
    );
    const badFlag = envelope(await chaton([...inv(), '-j', '0', ...off], { env }), 'offboard sysadmin', 2, true);
    assert.match(badFlag.error!.message, /--concurrency/);
  });

  it('failover status: a judgement (no internet links here: critical), then no failover: section', async () => {
    // gw's only interfaces: eth0 (on the LAN, without a default route) and lo.
    const failover = await variantInventory(inventory, (doc) =>
      doc.set(
        'failover',
        doc.createNode({
          gateway: 'gw',
          links: {
            main: { interface: 'eth0', next_hop: '198.18.1.1', source: '198.18.1.2', public_address: '198.18.1.2' },
            backup: { interface: 'lo', next_hop: '127.0.0.2', source: '127.0.0.1', public_address: '127.0.0.1' },
          },
          probes: { targets: ['198.18.1.11'] },
        }),
      ),
    );
    const judged = envelope(
      await chaton(['-i', failover, '--json', 'failover', 'status'], { env }),
      'failover status',
      1,
      true,
    );
    assert.deepEqual([judged.state, judged.active], ['critical', 'none']);
    assert.deepEqual(
      judged.hosts.map((h) => [h.host, h.ok, h.error]),
      [['gw', true, null]],
    );
    const none = envelope(await chaton([...inv(), 'failover', 'status'], { env }), 'failover status', 2, true);
    assert.match(none.error!.message, /has no failover: section/);
  });
});
