// The connection pool against an in-process SSH server (ssh2's own): one connection per route, a
// lost one opened again for the next command, a forgotten one closed and opened anew, jump hosts
// listed once, someone else's login, a host at several addresses (127.0.0.x: nothing listens on
// the others, which refuse at once).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import type { Endpoint, SshSettings } from '../../src/lib/inventory/types.js';
import { ConnectionError, ExitCode, HostKeyError } from '../../src/lib/run/errors.js';
import { type Reachable, where } from '../../src/lib/ssh/endpoint.js';
import { clientConfig } from '../../src/lib/ssh/client-config.js';
import { Identities } from '../../src/lib/ssh/identities.js';
import { ConnectionPool } from '../../src/lib/ssh/pool.js';

const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
const operatorKey = ssh2.utils.generateKeyPairSync('ed25519');
const newcomerKey = ssh2.utils.generateKeyPairSync('ed25519');
const impostorKey = ssh2.utils.generateKeyPairSync('ed25519');

/** Who logged in, in order; the address of each connection; the server side of every one (to cut them). */
const logins: string[] = [];
const reached: string[] = [];
const clients: ssh2.Connection[] = [];
let server: ssh2.Server;
let target: Reachable;
let silentSessions = false;
let dir: string;

/** Accepts a user's own key only: the operator's for `root`, the newcomer's for `newcomer`. */
function accepts(ctx: ssh2.AuthContext): boolean {
  if (ctx.method !== 'publickey') return false;
  const wanted = ssh2.utils.parseKey(ctx.username === 'root' ? operatorKey.public : newcomerKey.public);
  return !(wanted instanceof Error) && !Array.isArray(wanted) && ctx.key.data.equals(wanted.getPublicSSH());
}

/** An SSH server with `key` at `address` (on `port`, or any free one), running `exit 0` for every command. */
async function startServer(key: string, address: string, port = 0): Promise<ssh2.Server> {
  const started = new ssh2.Server({ hostKeys: [key] }, (client) => {
    clients.push(client);
    reached.push(address);
    client.on('authentication', (ctx) => {
      if (!accepts(ctx)) return ctx.reject(['publickey']);
      // Without a signature, the client only asks whether the key would do (RFC 4252 §7).
      if (ctx.method === 'publickey' && ctx.signature) logins.push(ctx.username);
      ctx.accept();
    });
    client.on('session', (accept) =>
      // A connection whose far end is dead: session requests go unanswered.
      silentSessions
        ? undefined
        : accept().on('exec', (acceptExec) => {
            const channel = acceptExec();
            channel.exit(0);
            channel.end();
          }),
    );
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => started.listen(port, address, resolve));
  return started;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-pool-'));
  await writeFile(path.join(dir, 'operator'), operatorKey.private, { mode: 0o600 });
  await writeFile(path.join(dir, 'newcomer'), newcomerKey.private, { mode: 0o600 });
  server = await startServer(hostKey.private, '127.0.0.1');
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
    persistMs: 0,
  };
  target = { name: 'h1', addresses: ['127.0.0.1'], port, user: 'root', ssh, via: [] };
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

  it('gives up a session request left unanswered after connect_timeout: the connection is lost', async () => {
    const quick = { ...target, ssh: { ...target.ssh, connectTimeoutMs: 300 } };
    const connections = pool();
    await connections.loadKeys([quick], async () => undefined);
    const first = await connections.connect(quick);
    silentSessions = true;
    try {
      const streams = { onStdout: () => true, onStderr: () => true };
      await assert.rejects(first.exec(Buffer.from('true'), streams), /no answer to a session request in 0\.3 s/);
      assert.match(first.lost?.message ?? '', /the connection is dead/);
    } finally {
      silentSessions = false;
    }
    const second = await connections.connect(quick);
    assert.notEqual(second, first, 'the next command gets a new connection');
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
    const jump = (name: string): Endpoint => ({ ...target, name, addresses: [`10.0.0.${name.length}`] });
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

describe('ConnectionPool: a host at several addresses', () => {
  const at = (...addresses: string[]): Reachable => ({ ...target, addresses });
  const until = async (done: () => boolean) => {
    for (let tries = 0; tries < 100 && !done(); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  async function keyedPool(events: string[] = []): Promise<ConnectionPool> {
    const debug = (dialed: Parameters<typeof where>[0], event: string) => events.push(`${where(dialed)}: ${event}`);
    const connections = new ConnectionPool({
      identities: new Identities(),
      env: {},
      acceptNew: false,
      notice: () => {},
      debug,
    });
    await connections.loadKeys([target], async () => undefined);
    return connections;
  }

  it('leaves an address that refuses for the next one, says so with -vv, and tells which answered', async () => {
    const events: string[] = [];
    const connections = await keyedPool(events);
    const connection = await connections.connect(at('127.0.0.2', '127.0.0.1'));
    connections.closeAll();
    assert.equal(connection.info.address, '127.0.0.1');
    const port = target.port;
    assert.match(
      events[0]!,
      new RegExp(`^h1 \\(127\\.0\\.0\\.2:${port}\\): left: connection refused .*; trying 127\\.0\\.0\\.1 next$`),
    );
    assert.match(events[1]!, new RegExp(`^h1 \\(127\\.0\\.0\\.1:${port}\\): reached: TCP connection in \\d+ ms$`));
  });

  it('leaves an address where nothing speaks SSH within the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(target.port, '127.0.0.3', resolve));
    try {
      const connections = await keyedPool();
      const quick = { ...at('127.0.0.3', '127.0.0.1'), ssh: { ...target.ssh, connectTimeoutMs: 300 } };
      assert.equal((await connections.connect(quick)).info.address, '127.0.0.1');
      assert.equal(sockets.length, 1);
      connections.closeAll();
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('names every address tried when none answers: a connection failure, exit 5', async () => {
    const connections = await keyedPool();
    await assert.rejects(connections.connect(at('127.0.0.2', '127.0.0.4')), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.exitCode, ExitCode.connection);
      const refused = (address: string) =>
        `h1 \\(${address.replaceAll('.', '\\.')}:${target.port}\\): connection refused`;
      const tried = `${refused('127.0.0.2')}.*; ${refused('127.0.0.4')}`;
      assert.match(error.message, new RegExp(`^h1: none of its addresses answered: ${tried}`));
      assert.match(error.hint ?? '', /one of its links works/);
      return true;
    });
  });

  it('stops at a host key problem without trying the next address: the key known for the others counts', async () => {
    const impostor = await startServer(impostorKey.private, '127.0.0.5', target.port);
    try {
      const connections = await keyedPool();
      const before = reached.length;
      await assert.rejects(connections.connect(at('127.0.0.5', '127.0.0.1')), (error: unknown) => {
        assert.ok(error instanceof HostKeyError);
        assert.match(error.message, /^HOST KEY CHANGED for h1 \(127\.0\.0\.5:\d+\): it offered ED25519 key SHA256:/);
        assert.match(error.message, new RegExp(`known_hosts has ED25519 key SHA256:\\S+ \\(${dir}/known_hosts:1\\)`));
        assert.match(error.hint ?? '', new RegExp(`ssh-keygen -R '\\[127\\.0\\.0\\.1\\]:${target.port}'`));
        return true;
      });
      assert.deepEqual(reached.slice(before), ['127.0.0.5']);
    } finally {
      impostor.close();
    }
  });

  it("gives a newcomer's ssh config the first address, the others in a comment, a key line for all", async () => {
    const connections = await keyedPool();
    const host = at('127.0.0.2', '127.0.0.1');
    const { config, knownHosts } = await clientConfig(connections, 'newcomer', [host], 'site_known_hosts', []);
    connections.closeAll();
    const { port } = target;
    assert.match(config, /^ {2}HostName 127\.0\.0\.2\n {2}# also at 127\.0\.0\.1: ssh -o HostName=<address> h1,/m);
    const key = hostKey.public.split(' ').slice(0, 2).join(' ');
    assert.equal(knownHosts, `[127.0.0.2]:${port},[127.0.0.1]:${port} ${key}\n`);
  });

  it('goes on at the address that answered, and tries them in order again once the connection is lost', async () => {
    const host = at('127.0.0.6', '127.0.0.1');
    const connections = await keyedPool();
    const first = await connections.connect(host);
    assert.equal(first.info.address, '127.0.0.1');
    const comeback = await startServer(hostKey.private, '127.0.0.6', target.port);
    try {
      const before = reached.length;
      assert.equal(await connections.acceptsKey(host, 'newcomer', newcomerKey.public), true);
      assert.deepEqual(reached.slice(before), ['127.0.0.1']);
      first.close();
      await until(() => first.lost !== undefined);
      assert.equal((await connections.connect(host)).info.address, '127.0.0.6');
    } finally {
      connections.closeAll();
      comeback.close();
    }
  });
});
