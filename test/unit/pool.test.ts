// The connection pool against an in-process SSH server (ssh2's own): one connection per route, a
// lost one opened again for the next command, a forgotten one closed and opened anew, jump hosts
// listed once, someone else's login.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import type { Endpoint, SshSettings } from '../../src/lib/inventory/types.js';
import type { Reachable } from '../../src/lib/ssh/endpoint.js';
import { Identities } from '../../src/lib/ssh/identities.js';
import { ConnectionPool } from '../../src/lib/ssh/pool.js';

const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
const operatorKey = ssh2.utils.generateKeyPairSync('ed25519');
const newcomerKey = ssh2.utils.generateKeyPairSync('ed25519');

/** Who logged in, in order, and the server side of every connection (to cut them). */
const logins: string[] = [];
const clients: ssh2.Connection[] = [];
let server: ssh2.Server;
let target: Reachable;
let dir: string;

/** Accepts a user's own key only: the operator's for `root`, the newcomer's for `newcomer`. */
function accepts(ctx: ssh2.AuthContext): boolean {
  if (ctx.method !== 'publickey') return false;
  const wanted = ssh2.utils.parseKey(ctx.username === 'root' ? operatorKey.public : newcomerKey.public);
  return !(wanted instanceof Error) && !Array.isArray(wanted) && ctx.key.data.equals(wanted.getPublicSSH());
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-pool-'));
  await writeFile(path.join(dir, 'operator'), operatorKey.private, { mode: 0o600 });
  await writeFile(path.join(dir, 'newcomer'), newcomerKey.private, { mode: 0o600 });
  server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.push(client);
    client.on('authentication', (ctx) => {
      if (!accepts(ctx)) return ctx.reject(['publickey']);
      // Without a signature, the client only asks whether the key would do (RFC 4252 §7).
      if (ctx.method === 'publickey' && ctx.signature) logins.push(ctx.username);
      ctx.accept();
    });
    client.on('session', (accept) =>
      accept().on('exec', (acceptExec) => {
        const channel = acceptExec();
        channel.exit(0);
        channel.end();
      }),
    );
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey.public.split(' ').slice(0, 2).join(' ')}\n`);
  const ssh: SshSettings = {
    identityFiles: [path.join(dir, 'operator')],
    identityFilesExplicit: true,
    agent: false,
    knownHosts: [knownHosts],
    connectTimeoutMs: 5000,
    commandTimeoutMs: 5000,
    keepaliveIntervalMs: 0,
    keepaliveCountMax: 3,
    maxSessions: 4,
  };
  target = { name: 'h1', address: '127.0.0.1', port, user: 'root', ssh, via: [] };
});
after(() => {
  for (const client of clients) client.end();
  server.close();
});

function pool(): ConnectionPool {
  return new ConnectionPool({ identities: new Identities(), env: {}, acceptNew: false, notice: () => {} });
}

describe('ConnectionPool', () => {
  it('opens one connection per route, and opens a lost one again for the next command', async () => {
    const connections = pool();
    await connections.loadKeys([target], async () => undefined);
    const first = await connections.connect(target);
    assert.equal(await connections.connect(target), first);
    clients.at(-1)!.end();
    for (let tries = 0; tries < 100 && !first.lost; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(first.lost, 'the pool did not notice');
    const second = await connections.connect(target);
    assert.notEqual(second, first);
    assert.equal(second.lost, undefined);
    connections.closeAll();
  });

  it('forgets a route: its connection is closed, and the next connect opens a new one', async () => {
    const connections = pool();
    await connections.loadKeys([target], async () => undefined);
    const first = await connections.connect(target);
    connections.forget(target);
    const second = await connections.connect(target);
    assert.notEqual(second, first);
    for (let tries = 0; tries < 100 && !first.lost; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(first.lost, 'the forgotten connection is still open');
    assert.equal(second.lost, undefined);
    connections.closeAll();
  });

  it('logs in as someone else with their key only, through the same known_hosts', async () => {
    const operator = pool();
    const before = logins.length;
    const newcomer = await operator.as({ user: 'newcomer', keyFile: path.join(dir, 'newcomer') });
    const connection = await newcomer.connect(target);
    assert.equal(connection.endpoint.user, 'newcomer');
    assert.deepEqual(logins.slice(before), ['newcomer']);
    newcomer.closeAll();
  });

  it('asks sshd about a key line without its private key, and says when it cannot ask', async () => {
    const connections = pool();
    await connections.loadKeys([target], async () => undefined);
    assert.equal(await connections.acceptsKey(target, 'newcomer', newcomerKey.public), true);
    assert.equal(await connections.acceptsKey(target, 'newcomer', operatorKey.public), false);
    const securityKey = 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA== x';
    assert.equal(await connections.acceptsKey(target, 'newcomer', securityKey), undefined);
    connections.closeAll();
  });

  it('tells -vv how a connection is made: kex, the known_hosts line of the host key, the key accepted', async () => {
    const events: string[] = [];
    const connections = new ConnectionPool({
      identities: new Identities(),
      env: {},
      acceptNew: false,
      notice: () => {},
      debug: (endpoint, event) => events.push(`${endpoint.name}: ${event}`),
    });
    await connections.loadKeys([target], async () => undefined);
    await connections.connect(target);
    connections.closeAll();
    const ms = '\\d+ ms';
    const operator = `${path.join(dir, 'operator')} \\(ssh-ed25519\\)`;
    const expected = [
      `h1: reached: TCP connection in ${ms}`,
      `h1: host key ED25519 key SHA256:\\S+ matches ${path.join(dir, 'known_hosts')}:1`,
      `h1: key exchange \\S+, host key algorithm ssh-ed25519, cipher \\S+: handshake in ${ms}`,
      `h1: offering ${operator} for user root`,
      `h1: accepted ${operator}: authenticated in ${ms}, connected in ${ms}`,
    ];
    assert.equal(events.length, expected.length, events.join('\n'));
    events.forEach((event, i) => assert.match(event, new RegExp(`^${expected[i]}$`)));
    assert.doesNotMatch(events.join('\n'), /PRIVATE|AAAA/, 'no key material');
  });

  it('lists the jump hosts before a set of hosts once each, a chain in order', () => {
    const jump = (name: string): Endpoint => ({ ...target, name, address: `10.0.0.${name.length}` });
    const [outer, inner] = [jump('outer'), jump('inner-jump')];
    const hosts: Reachable[] = [
      { ...target, name: 'a', via: [outer, inner] },
      { ...target, name: 'b', via: [outer] },
      { ...target, name: 'c', via: [outer, inner] },
    ];
    const jumps = pool().jumpsFor(hosts);
    assert.deepEqual(
      jumps.map((j) => [j.name, j.via.map((v) => v.name)]),
      [
        ['outer', []],
        ['inner-jump', ['outer']],
      ],
    );
  });
});
