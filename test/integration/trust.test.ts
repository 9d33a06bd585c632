// Host keys on the lab: a changed key stops the run with both fingerprints and runs nothing;
// an unknown key is refused unless --accept-new; hashed known_hosts work like plain ones.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { agentOnlyInventory, chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

const run = promisify(execFile);
let lab: Lab;
let env: NodeJS.ProcessEnv;

before(async () => {
  lab = await freshLab('it-trust', 2);
  env = await sandboxEnv();
});
after(async () => {
  await lab?.down();
});

/** The lab's inventory pointing at a private copy of its known_hosts, edited by `edit`. */
async function withKnownHosts(edit: (lines: string[]) => string[]): Promise<{ inventory: string; knownHosts: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-kh-'));
  const knownHosts = path.join(dir, 'known_hosts');
  const lines = (await readFile(lab.knownHostsPath, 'utf8')).trim().split('\n');
  await writeFile(knownHosts, `${edit(lines).join('\n')}\n`);
  const inventory = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['ssh', 'known_hosts'], [knownHosts]));
  return { inventory, knownHosts };
}

const address = (host: string) => lab.hosts.find((h) => h.name === host)!.address;
const fingerprintOf = async (line: string) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-fp-'));
  await writeFile(path.join(dir, 'k'), `${line}\n`);
  return (await run('ssh-keygen', ['-lf', path.join(dir, 'k')])).stdout.split(' ')[1]!;
};

describe('host keys', () => {
  it('an unknown key is refused (exit 5, nothing run), and accepted with --accept-new', async () => {
    const { inventory, knownHosts } = await withKnownHosts((lines) =>
      lines.filter((l) => !l.startsWith(`${address('pve2')} `)),
    );
    const refused = await chaton(['-i', inventory, 'exec', 'pve2', '--', 'touch /root/unknown-key-marker'], { env });
    assert.equal(refused.code, 5);
    assert.match(
      refused.stdout + refused.stderr,
      /pve2 \(198\.18\.\d+\.12:22\) offered ED25519 key SHA256:\S+, which is not in/,
    );
    assert.match(refused.stdout + refused.stderr, /--accept-new/);
    assert.notEqual((await lab.run('pve2', ['test', '-e', '/root/unknown-key-marker'])).exitCode, 0);

    const accepted = await chaton(['-i', inventory, '--accept-new', 'hosts', 'check', 'pve2'], { env });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stderr, /added ED25519 key SHA256:\S+ of pve2/);
    assert.match(
      await readFile(knownHosts, 'utf8'),
      new RegExp(`^${address('pve2').replaceAll('.', '\\.')} ssh-ed25519 `, 'm'),
    );

    const again = await chaton(['-i', inventory, 'hosts', 'check', 'pve2'], { env });
    assert.equal(again.code, 0, again.stderr);
  });

  it('works the same with a hashed known_hosts (ssh-keygen -H)', async () => {
    const { inventory, knownHosts } = await withKnownHosts((lines) => lines);
    await run('ssh-keygen', ['-H', '-f', knownHosts]);
    assert.match(await readFile(knownHosts, 'utf8'), /^\|1\|/m);
    const check = await chaton(['-i', inventory, 'hosts', 'check', 'all'], { env });
    assert.equal(check.code, 0, check.stderr);
  });

  it('a revoked key is refused even though it is the host key', async () => {
    const { inventory } = await withKnownHosts((lines) => {
      const line = lines.find((l) => l.startsWith(`${address('pve3')} `))!;
      return [...lines, `@revoked * ${line.split(' ').slice(1).join(' ')}`];
    });
    const check = await chaton(['-i', inventory, 'hosts', 'check', 'pve3'], { env });
    assert.equal(check.code, 5);
    assert.match(check.stdout + check.stderr, /@revoked/);
  });

  it('a changed key stops the run with both fingerprints and the file; --accept-new does not replace it', async () => {
    const { inventory, knownHosts } = await withKnownHosts((lines) => lines);
    const oldLine = (await readFile(knownHosts, 'utf8')).split('\n').find((l) => l.startsWith(`${address('pve1')} `))!;
    const oldFingerprint = await fingerprintOf(oldLine);
    const newFingerprint = await lab.rekey('pve1');
    for (const extra of [[], ['--accept-new']]) {
      const check = await chaton(
        ['-i', inventory, ...extra, 'exec', 'pve1,gw', '-y', '--', 'touch /root/changed-key-marker'],
        { env },
      );
      assert.equal(check.code, 5);
      const said = check.stdout + check.stderr;
      assert.match(said, /HOST KEY CHANGED for pve1/);
      assert.ok(said.includes(newFingerprint), `new fingerprint ${newFingerprint} not in: ${said}`);
      assert.ok(said.includes(oldFingerprint), `old fingerprint ${oldFingerprint} not in: ${said}`);
      assert.ok(said.includes(knownHosts));
      assert.notEqual((await lab.run('pve1', ['test', '-e', '/root/changed-key-marker'])).exitCode, 0);
    }
    assert.equal(
      (await readFile(knownHosts, 'utf8')).split('\n').find((l) => l.startsWith(`${address('pve1')} `)),
      oldLine,
    );
  });
});

describe('identities', () => {
  it('uses the keys of a running ssh-agent', async () => {
    // The only identity file is a key no host knows: the login can only come from the agent.
    // (host002: the host-key tests above give pve1 a new key.)
    const { socket, inventory, stop } = await agentOnlyInventory(lab);
    try {
      const withAgent = await chaton(['-i', inventory, 'hosts', 'check', 'host002'], {
        env: { ...env, SSH_AUTH_SOCK: socket },
      });
      assert.equal(withAgent.code, 0, withAgent.stderr);
      const without = await chaton(['-i', inventory, 'hosts', 'check', 'host002'], { env });
      assert.equal(without.code, 5);
      assert.match(without.stdout + without.stderr, /sshd refused every key offered for user root/);
    } finally {
      stop();
    }
  });

  it('uses an encrypted key with the passphrase from the environment variable the inventory names', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-key-'));
    const key = path.join(dir, 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', key]);
    await copyFile(`${key}.pub`, path.join(dir, 'pub'));
    const added = await lab.run('host001', ['sh', '-c', 'cat >> /root/.ssh/authorized_keys'], {
      input: await readFile(`${key}.pub`),
    });
    assert.equal(added.exitCode, 0);
    const inventory = await variantInventory(lab.inventoryPath, (doc) => {
      doc.setIn(['hosts', 'host001', 'ssh', 'identity_files'], [key]);
      doc.setIn(['hosts', 'host001', 'ssh', 'identity_passphrase_env'], 'TEST_KEY_PASSPHRASE');
    });
    const ok = await chaton(['-i', inventory, 'hosts', 'check', 'host001'], {
      env: { ...env, TEST_KEY_PASSPHRASE: 'correct horse' },
    });
    assert.equal(ok.code, 0, ok.stderr);
    // Without it the key is skipped, and host001 has no other: stopped here, before connecting.
    const noPassphrase = await chaton(['-i', inventory, 'hosts', 'check', 'host001'], { env });
    assert.equal(noPassphrase.code, 2);
    assert.match(noPassphrase.stderr, /encrypted and no passphrase/);
    assert.match(noPassphrase.stderr, /no SSH key to offer to host001: /);
  });
});
