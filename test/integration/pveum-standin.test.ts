// The lab's pveum stand-in on pve1-pve3: one /etc/pve for the three (as pmxcfs shares it), the
// real file format, messages and exit codes, the cluster lock under concurrent changes, and a
// real SSH session finding it. Needs root (npm test refuses to run without it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv } from './chaton.js';

interface ListedUser {
  userid: string;
  enable: number;
  expire?: number;
  comment?: string;
  email?: string;
  'realm-type'?: string;
}

describe('pveum stand-in', () => {
  let lab: Lab;

  before(async () => {
    lab = await freshLab('it-pveum', 0);
  });
  after(async () => {
    const stateDir = lab?.stateDir;
    await lab?.down();
    if (stateDir) assert.ok(!existsSync(stateDir), `${stateDir} survived down`);
  });

  async function pveum(host: string, ...args: string[]) {
    return lab.run(host, ['pveum', ...args]);
  }

  async function users(host: string): Promise<ListedUser[]> {
    const { exitCode, stdout, stderr } = await pveum(host, 'user', 'list', '--output-format', 'json');
    assert.equal(exitCode, 0, stderr);
    return JSON.parse(stdout) as ListedUser[];
  }

  it('starts as a fresh installation: root@pam only, no ACL, on pve hosts only', async () => {
    assert.deepEqual(await users('pve3'), [
      { userid: 'root@pam', enable: 1, expire: 0, email: 'root@localhost', 'realm-type': 'pam' },
    ]);
    assert.equal((await pveum('pve1', 'acl', 'list', '--output-format', 'json')).stdout, '[]\n');
    const gw = await lab.run('gw', ['sh', '-c', 'command -v pveum || ls /etc/pve']);
    assert.notEqual(gw.exitCode, 0, 'gw is no Proxmox node');
  });

  it('shares users across nodes: added on pve1, listed on pve2', async () => {
    const add = await pveum(
      'pve1',
      'user',
      'add',
      'alice@pam',
      '--comment',
      'Alice Martin',
      '--email',
      'alice@example.org',
    );
    assert.deepEqual([add.exitCode, add.stdout, add.stderr], [0, '', '']);
    const alice = (await users('pve2')).find((user) => user.userid === 'alice@pam');
    assert.deepEqual(alice, {
      userid: 'alice@pam',
      enable: 1,
      expire: 0,
      comment: 'Alice Martin',
      email: 'alice@example.org',
      'realm-type': 'pam',
    });
    const cfg = await lab.run('pve3', ['cat', '/etc/pve/user.cfg']);
    assert.match(cfg.stdout, /^user:alice@pam:1:0:::alice@example\.org:Alice Martin::$/m);
  });

  it('refuses to add a user twice, with the real message and exit code', async () => {
    const again = await pveum('pve2', 'user', 'add', 'alice@pam');
    assert.deepEqual(
      [again.exitCode, again.stdout, again.stderr],
      [255, '', "create user failed: user 'alice@pam' already exists\n"],
    );
  });

  it('disables a user everywhere with modify --enable 0', async () => {
    assert.equal((await pveum('pve3', 'user', 'modify', 'alice@pam', '--enable', '0')).exitCode, 0);
    assert.equal((await users('pve1')).find((user) => user.userid === 'alice@pam')?.enable, 0);
    assert.deepEqual(
      (await users('pve1')).filter((user) => user.enable === 1).map((user) => user.userid),
      ['root@pam'],
    );
  });

  it('grants a known role on / and lists it; refuses an unknown role', async () => {
    const grant = await pveum('pve1', 'acl', 'modify', '/', '--users', 'alice@pam', '--roles', 'Administrator');
    assert.equal(grant.exitCode, 0, grant.stderr);
    assert.deepEqual(JSON.parse((await pveum('pve2', 'acl', 'list', '--output-format', 'json')).stdout), [
      { path: '/', type: 'user', ugid: 'alice@pam', roleid: 'Administrator', propagate: 1 },
    ]);
    const unknown = await pveum('pve2', 'acl', 'modify', '/', '--users', 'alice@pam', '--roles', 'Admin');
    assert.deepEqual([unknown.exitCode, unknown.stderr], [255, "ACL update failed: role 'Admin' does not exist\n"]);
    assert.match((await lab.run('pve3', ['cat', '/etc/pve/user.cfg'])).stdout, /^acl:1:\/:alice@pam:Administrator:$/m);
  });

  it('keeps every change when nodes write at once: the cluster lock serialises them', async () => {
    const names = ['pve1', 'pve2'].flatMap((host) => [1, 2, 3].map((n) => ({ host, userid: `${host}-racer${n}@pve` })));
    const runs = await Promise.all(names.map(({ host, userid }) => pveum(host, 'user', 'add', userid)));
    for (const [index, result] of runs.entries())
      assert.equal(result.exitCode, 0, `${names[index]?.userid}: ${result.stderr}`);
    const listed = (await users('pve3')).map((user) => user.userid);
    for (const { userid } of names) assert.ok(listed.includes(userid), `${userid} was lost`);
    assert.equal((await lab.run('pve1', ['ls', '/etc/pve/priv/lock'])).stdout, '', 'a lock was left behind');
  });

  it('is found by a command sent over SSH', async () => {
    const run = await chaton(
      ['-i', lab.inventoryPath, '--json', 'exec', 'pve2', '--', 'pveum role list --output-format json'],
      { env: await sandboxEnv() },
    );
    assert.equal(run.code, 0, run.stderr);
    const [host] = JSON.parse(run.stdout).hosts as { stdout: string }[];
    const roles = JSON.parse(host?.stdout ?? '[]') as { roleid: string; special: number }[];
    assert.ok(roles.some((role) => role.roleid === 'PVEAuditor' && role.special === 1));
  });
});
