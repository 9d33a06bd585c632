// Warm connections (ssh.persist, --persist): the keeper that holds them between runs, on the lab.
// Each test has a runtime directory of its own (XDG_RUNTIME_DIR), so its keeper is its alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, chmod, mkdtemp, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ssh2, { type ParsedKey } from 'ssh2';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { closeKeepers, listKeepers, type KeeperState } from '../../src/lib/ssh/keeper/control.js';
import { agentOnlyInventory, chaton, freshLab, type Run, sandboxEnv, variantInventory } from './chaton.js';

const run = promisify(execFile);
let lab: Lab;

before(async () => {
  lab = await freshLab('it-keeper', 3);
});
after(async () => {
  await lab?.down();
});

/** A sandbox whose runs keep their connections for `persist`, in a runtime directory of its own. */
async function warmEnv(persist = '10m'): Promise<NodeJS.ProcessEnv> {
  const env = await sandboxEnv();
  const runtime = await mkdtemp(path.join(os.tmpdir(), 'chaton-runtime-'));
  await chmod(runtime, 0o700);
  return { ...env, XDG_RUNTIME_DIR: runtime, CHATON_PERSIST: persist };
}

/** The inventory with a known_hosts file of its own, to edit while a keeper holds connections. */
async function ownKnownHosts(): Promise<{ inventory: string; knownHosts: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-kh-'));
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, await readFile(lab.knownHostsPath));
  const inventory = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['ssh', 'known_hosts'], [knownHosts]));
  return { inventory, knownHosts };
}

async function keepers(env: NodeJS.ProcessEnv): Promise<KeeperState[]> {
  return (await listKeepers(env)).keepers;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (at most `seconds`) for a process to be gone; says whether it went. */
async function gone(pid: number, seconds: number): Promise<boolean> {
  for (let waited = 0; waited < seconds * 10; waited++) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !alive(pid);
}

/** Which of `needles` are in the readable memory of process `pid` (root reads any). */
async function foundInMemory(pid: number, needles: string[]): Promise<string[]> {
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
  const memory = await open(`/proc/${pid}/mem`, 'r');
  const found = new Set<string>();
  try {
    for (const line of maps.trim().split('\n')) {
      const [range, perms, , , , name] = line.split(/\s+/);
      if (!perms?.startsWith('r') || name === '[vvar]' || name === '[vsyscall]') continue;
      const [start, end] = range!.split('-').map((hex) => BigInt(`0x${hex}`));
      const length = Number(end! - start!);
      if (length > 512 * 1024 * 1024) continue;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await memory.read(buffer, 0, length, Number(start!)).catch(() => ({ bytesRead: 0 }));
      const text = buffer.subarray(0, bytesRead).toString('latin1');
      for (const needle of needles) if (text.includes(needle)) found.add(needle);
    }
  } finally {
    await memory.close();
  }
  return [...found];
}

const address = (host: string) => lab.hosts.find((h) => h.name === host)!.address;

describe('the keeper', () => {
  it('holds the connections of a run for the next one, which re-checks their host keys', async () => {
    const env = await warmEnv();
    const first = await chaton(['-i', lab.inventoryPath, 'hosts', 'check', 'pve1,pve2'], { env });
    assert.equal(first.code, 0, first.stderr);
    const [keeper] = await keepers(env);
    assert.ok(keeper, 'a keeper is left after the first run');
    assert.deepEqual(keeper.connections.map((c) => c.host).sort(), ['bastion', 'pve1', 'pve2']);
    const pve1 = keeper.connections.find((c) => c.host === 'pve1')!;
    assert.deepEqual(pve1.via, ['bastion']);
    assert.equal(pve1.address, address('pve1'));
    assert.match(pve1.keyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const operatorKey = (await run('ssh-keygen', ['-lf', `${lab.operatorKeyPath}.pub`])).stdout.split(' ')[1];
    assert.equal(pve1.keyFingerprint, operatorKey);

    const second = await chaton(['-i', lab.inventoryPath, '-vv', 'hosts', 'check', 'pve1,pve2'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      /pve1 \(198\.18\.\d+\.11:22\) via bastion: kept connection, held since .*checked again/,
    );
    assert.doesNotMatch(second.stderr, /key exchange/i);
    const [still] = await keepers(env);
    assert.equal(still?.pid, keeper.pid);
    // The private key never reaches the keeper: its memory holds neither the file nor the parsed key.
    const file = await readFile(lab.operatorKeyPath, 'utf8');
    const parsed = ssh2.utils.parseKey(file) as ParsedKey;
    const needles = [file.split('\n')[1]!, parsed.getPrivatePEM().split('\n')[1]!];
    assert.deepEqual(await foundInMemory(keeper.pid, needles), []);
    // The check itself finds what a process does hold: this one read the key.
    assert.equal((await foundInMemory(process.pid, needles)).length, 2);
  });

  it('refuses a held connection whose host key was replaced or revoked in known_hosts (exit 5, as cold)', async () => {
    const env = await warmEnv();
    const { inventory, knownHosts } = await ownKnownHosts();
    const warmUp = await chaton(['-i', inventory, 'hosts', 'check', 'pve2,pve3'], { env });
    assert.equal(warmUp.code, 0, warmUp.stderr);
    const original = await readFile(knownHosts, 'utf8');
    const lineOf = (host: string) => original.split('\n').find((l) => l.startsWith(`${address(host)} `))!;

    // Replaced: pve2's line names another key (the one of a key pair made for the purpose).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-other-key-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
    const otherKey = (await readFile(path.join(dir, 'k.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, original.replace(lineOf('pve2'), `${address('pve2')} ${otherKey}`));
    const replaced = await chaton(['-i', inventory, 'exec', 'pve2', '-y', '--', 'touch /root/keeper-marker'], { env });
    const cold = await chaton(['-i', inventory, 'exec', 'pve2', '-y', '--', 'touch /root/keeper-marker'], {
      env: { ...env, CHATON_PERSIST: 'off' },
    });
    assert.equal(replaced.code, 5);
    assert.equal(cold.code, 5);
    assert.match(replaced.stderr, /HOST KEY CHANGED for pve2/);
    const errorLine = (said: string) => said.split('\n').find((l) => l.startsWith('error:'));
    assert.equal(errorLine(replaced.stderr), errorLine(cold.stderr));
    assert.notEqual((await lab.run('pve2', ['test', '-e', '/root/keeper-marker'])).exitCode, 0);

    // Revoked: pve3's own key marked @revoked.
    await writeFile(knownHosts, `${original}@revoked * ${lineOf('pve3').split(' ').slice(1).join(' ')}\n`);
    const revoked = await chaton(['-i', inventory, 'hosts', 'check', 'pve3'], { env });
    assert.equal(revoked.code, 5);
    assert.match(revoked.stderr, /@revoked/);
    const [keeper] = await keepers(env);
    assert.ok(!keeper?.connections.some((c) => c.host === 'pve3' || c.host === 'pve2'));
  });

  it('lends a connection only to a run that would log in with the same key', async () => {
    const env = await warmEnv();
    // Its only identity file is a key no host knows: the login comes from the agent, when there is one.
    const { socket, inventory, stop } = await agentOnlyInventory(lab);
    try {
      const withAgent = await chaton(['-i', inventory, 'hosts', 'check', 'pve1'], {
        env: { ...env, SSH_AUTH_SOCK: socket },
      });
      assert.equal(withAgent.code, 0, withAgent.stderr);
      // Without the agent, the run would offer only the stranger: the kept login is not its to use.
      const without = await chaton(['-i', inventory, 'hosts', 'check', 'pve1'], { env });
      assert.equal(without.code, 5);
      assert.match(without.stderr, /sshd refused every key offered for user root/);
    } finally {
      stop();
    }
  });

  it('is out of reach of another user: its directory 0700, its socket 0600', async () => {
    const env = await warmEnv();
    const first = await chaton(['-i', lab.inventoryPath, 'hosts', 'check', 'pve1'], { env });
    assert.equal(first.code, 0, first.stderr);
    const directory = path.join(env.XDG_RUNTIME_DIR!, 'chaton');
    const [socketName] = (await readdir(directory)).filter((name) => name.endsWith('.sock'));
    assert.ok(socketName);
    const socket = path.join(directory, socketName);
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    assert.equal((await stat(socket)).mode & 0o777, 0o600);
    // A second user of this machine tries the socket.
    await run('sh', ['-c', 'id chaton-other >/dev/null 2>&1 || useradd -M -s /bin/sh chaton-other']);
    await chmod(env.XDG_RUNTIME_DIR!, 0o755);
    // Says `connected`, or the error's code.
    const connect = [
      `require('net').connect(${JSON.stringify(socket)})`,
      `.on('connect', () => { console.log('connected'); process.exit(0); })`,
      `.on('error', (e) => { console.log(e.code); process.exit(1); })`,
    ].join('');
    const tried = await run('runuser', ['-u', 'chaton-other', '--', process.execPath, '-e', connect]).catch(
      (error: { stdout: string }) => error,
    );
    assert.equal(tried.stdout.trim(), 'EACCES');
    // Even with its directory open, the socket itself lets nobody else connect.
    await chmod(directory, 0o755);
    const again = await run('runuser', ['-u', 'chaton-other', '--', process.execPath, '-e', connect]).catch(
      (error: { stdout: string }) => error,
    );
    assert.equal(again.stdout.trim(), 'EACCES');
  });

  it('starts nothing after Ctrl-C for a command that waits in the keeper for a session (as cold)', async () => {
    const env = await warmEnv();
    const inventory = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['ssh', 'max_sessions'], 1));
    const marker = `/tmp/chaton-queued-${process.pid}`;
    // The first run takes pve1's only session for 3 s.
    let first: Promise<Run> | undefined;
    await new Promise<void>((going) => {
      first = chaton(['-i', inventory, 'exec', 'pve1', '--', 'echo going; sleep 3'], {
        env,
        onSpawn: (child) => child.stdout!.on('data', (chunk: Buffer) => chunk.includes('going') && going()),
      });
    });
    // The second one's command waits for it in the keeper, and is interrupted there.
    let interrupted = false;
    const queued = await chaton(['-i', inventory, '-vv', 'exec', 'pve1', '--', `touch ${marker}`], {
      env,
      onSpawn: (child) =>
        child.stderr!.on('data', (chunk: Buffer) => {
          if (interrupted || !chunk.includes('kept connection')) return;
          interrupted = true;
          setTimeout(() => child.kill('SIGINT'), 300);
        }),
    });
    const ran = await first!;
    assert.equal(ran.code, 0, ran.stderr);
    assert.ok(interrupted, queued.stderr);
    assert.equal(queued.code, 130, queued.stderr);
    assert.match(queued.stderr, /pve1: not started/);
    assert.notEqual((await lab.run('pve1', ['test', '-e', marker])).exitCode, 0, 'the queued command never ran');
  });

  it('a killed keeper costs one cold run, said with -v; the run after is warm again', async () => {
    const env = await warmEnv();
    assert.equal((await chaton(['-i', lab.inventoryPath, 'hosts', 'check', 'pve1'], { env })).code, 0);
    const [keeper] = await keepers(env);
    process.kill(keeper!.pid, 'SIGKILL');
    assert.ok(await gone(keeper!.pid, 10));
    const after = await chaton(['-i', lab.inventoryPath, '-v', 'hosts', 'check', 'pve1'], { env });
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stderr, /the keeper at \S+ does not answer .*: its socket is removed, a new keeper starts/);
    const [next] = await keepers(env);
    assert.ok(next && next.pid !== keeper!.pid);
    const warm = await chaton(['-i', lab.inventoryPath, '-vv', 'hosts', 'check', 'pve1'], { env });
    assert.equal(warm.code, 0, warm.stderr);
    assert.match(warm.stderr, /kept connection/);
  });

  it('a hung keeper (SIGSTOP) or a socket that answers garbage costs one cold run, said with -v', async () => {
    const env = await warmEnv();
    assert.equal((await chaton(['-i', lab.inventoryPath, 'hosts', 'check', 'pve1'], { env })).code, 0);
    const [hung] = await keepers(env);
    process.kill(hung!.pid, 'SIGSTOP');
    const afterHung = await chaton(['-i', lab.inventoryPath, '-v', 'hosts', 'check', 'pve1'], { env });
    assert.equal(afterHung.code, 0, afterHung.stderr);
    assert.match(afterHung.stderr, /the keeper at (\S+) does not answer \(no answer in 2 s\)/);
    assert.ok(await gone(hung!.pid, 10), 'the hung keeper is killed');

    // Something else listens on the keeper's socket, and answers what no keeper says.
    const [keeper] = await keepers(env);
    const directory = path.join(env.XDG_RUNTIME_DIR!, 'chaton');
    const [socketName] = (await readdir(directory)).filter((name) => name.endsWith('.sock'));
    const socket = path.join(directory, socketName!);
    await closeKeepers(env);
    assert.ok(await gone(keeper!.pid, 10));
    const impostor = net.createServer((sock) => sock.end('SSH-2.0-OpenSSH_9.2\r\n'));
    await new Promise<void>((resolve) => impostor.listen(socket, resolve));
    try {
      const afterGarbage = await chaton(['-i', lab.inventoryPath, '-v', 'hosts', 'check', 'pve1'], { env });
      assert.equal(afterGarbage.code, 0, afterGarbage.stderr);
      assert.match(afterGarbage.stderr, /the keeper at \S+ does not answer \(.*\): its socket is removed/);
      const [fresh] = await keepers(env);
      assert.ok(fresh, 'a new keeper serves the next runs');
    } finally {
      impostor.close();
    }
  });

  it('retires when its inventory file is edited', async () => {
    const env = await warmEnv();
    const inventory = await variantInventory(lab.inventoryPath, () => {});
    assert.equal((await chaton(['-i', inventory, 'hosts', 'check', 'pve1'], { env })).code, 0);
    const [keeper] = await keepers(env);
    await appendFile(inventory, '# edited\n');
    assert.ok(await gone(keeper!.pid, 20), 'the keeper exits when its inventory changes');
    assert.deepEqual(await keepers(env), []);
  });

  it('exits on its own once its connections have been idle for the persist time', async () => {
    const env = await warmEnv('2s');
    assert.equal((await chaton(['-i', lab.inventoryPath, 'hosts', 'check', 'pve1'], { env })).code, 0);
    const [keeper] = await keepers(env);
    assert.ok(keeper);
    assert.ok(await gone(keeper.pid, 60), 'the keeper exits once idle');
    assert.deepEqual(await keepers(env), []);
  });
});
