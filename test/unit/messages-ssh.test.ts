// The connection layer in French: a connection told by -vv, a changed host key with both
// fingerprints, keys refused, a port closed; the lines of known_hosts ssh skips; the local checks
// of `chaton doctor`, whose names in JSON stay English. Against an in-process SSH server (ssh2's).
import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { parseInventory } from '../../src/lib/inventory/load.js';
import type { SshSettings } from '../../src/lib/inventory/types.js';
import { ChatonError } from '../../src/lib/run/errors.js';
import { checkTitle, subjectTitle, localChecks } from '../../src/lib/ssh/doctor.js';
import { nameList, routeOf, whereVia, type Reachable } from '../../src/lib/ssh/endpoint.js';
import { agentState, Identities } from '../../src/lib/ssh/identities.js';
import { fingerprint } from '../../src/lib/ssh/key-blob.js';
import { describeKey, parseKnownHosts } from '../../src/lib/ssh/known-hosts.js';
import { ConnectionPool } from '../../src/lib/ssh/pool.js';

const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
const otherHostKey = ssh2.utils.generateKeyPairSync('ed25519');
const operatorKey = ssh2.utils.generateKeyPairSync('ed25519');

/** The public key line of a pair, without its comment. */
const publicLine = (pair: { public: string }) => pair.public.split(' ').slice(0, 2).join(' ');
const blobOf = (pair: { public: string }) => Buffer.from(pair.public.split(' ')[1]!, 'base64');

let dir: string;
let server: ssh2.Server;
let port: number;
const clients: ssh2.Connection[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-messages-ssh-'));
  await writeFile(path.join(dir, 'operator'), operatorKey.private, { mode: 0o600 });
  const operator = ssh2.utils.parseKey(operatorKey.public);
  server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.push(client);
    client.on('authentication', (ctx) => {
      const own = ctx.method === 'publickey' && ctx.username === 'root' && !(operator instanceof Error);
      if (own && !Array.isArray(operator) && ctx.key.data.equals(operator.getPublicSSH())) ctx.accept();
      else ctx.reject(['publickey']);
    });
    // As a jump host: a direct-tcpip channel to a local port.
    client.on('tcpip', (accept, _reject, info) => {
      const channel = accept();
      const socket = net.connect(info.destPort, info.destIP);
      channel.pipe(socket).pipe(channel);
      socket.on('error', () => channel.destroy());
    });
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  for (const client of clients) client.end();
  server.close();
});

// Every message below is read in French (LC_ALL wins over LANG), then the language is restored.
const language = process.env.LC_ALL;
beforeEach(() => {
  process.env.LC_ALL = 'fr_FR.UTF-8';
});
afterEach(() => {
  if (language === undefined) delete process.env.LC_ALL;
  else process.env.LC_ALL = language;
});

/** The in-process server as `h1`, logged into as `user`, with these known_hosts lines. */
async function target(knownHostsLines: string[], user = 'root', serverPort = port): Promise<Reachable> {
  const knownHosts = path.join(await mkdtemp(path.join(dir, 'kh-')), 'known_hosts');
  await writeFile(knownHosts, knownHostsLines.map((line) => `${line}\n`).join(''));
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
  return { name: 'h1', addresses: ['127.0.0.1'], port: serverPort, user, ssh, via: [] };
}

/** Connects once; what -vv was told (each line after the host it is about), and the error if it failed. */
async function connect(to: Reachable): Promise<{ events: string[]; error?: ChatonError }> {
  const events: string[] = [];
  const pool = new ConnectionPool({
    identities: new Identities(),
    env: {},
    acceptNew: false,
    notice: () => {},
    debug: (about, event) => events.push(`${whereVia(about)}: ${event}`),
  });
  try {
    await pool.loadKeys([to], async () => undefined);
    await pool.connect(to);
    return { events };
  } catch (error) {
    if (!(error instanceof ChatonError)) throw error;
    return { events, error };
  } finally {
    pool.closeAll();
  }
}

describe('the connection layer in French', () => {
  it('tells -vv how a connection is made, and keeps the host key of JSON in English', async () => {
    const to = await target([`[127.0.0.1]:${port} ${publicLine(hostKey)}`]);
    const { events, error } = await connect(to);
    assert.equal(error, undefined);
    const ms = '\\d+ ms';
    const key = `${path.join(dir, 'operator')} \\(ssh-ed25519\\)`;
    const expected = [
      `atteint : connexion TCP en ${ms}`,
      `clé d'hôte présentée : clé ED25519 SHA256:\\S+, trouvée dans ${to.ssh.knownHosts[0]}:1`,
      `échange de clés \\S+, algorithme de clé d'hôte ssh-ed25519, chiffrement \\S+ : négociation en ${ms}`,
      `essai pour le compte root avec ${key}`,
      `accepté avec ${key} : authentifié en ${ms}, connecté en ${ms}`,
    ];
    assert.equal(events.length, expected.length, events.join('\n'));
    const h1 = `h1 \\(127\\.0\\.0\\.1:${port}\\): `;
    events.forEach((event, i) => assert.match(event, new RegExp(`^${h1}${expected[i]}$`)));
    // What a program reads is the same in every language.
    assert.equal(describeKey(blobOf(hostKey)), `ED25519 key ${fingerprint(blobOf(hostKey))}`);
  });

  it('tells -vv a host reached through a jump host, named with its route', async () => {
    const line = `[127.0.0.1]:${port} ${publicLine(hostKey)}`;
    const to = await target([line]);
    const { events, error } = await connect({ ...to, via: [{ ...to, name: 'j1' }] });
    assert.equal(error, undefined);
    const reached = events.filter((event) => event.includes(': atteint : '));
    assert.equal(reached.length, 2, events.join('\n'));
    assert.match(reached[0]!, new RegExp(`^j1 \\(127\\.0\\.0\\.1:${port}\\): atteint : connexion TCP en \\d+ ms$`));
    const via = `^h1 \\(127\\.0\\.0\\.1:${port}\\) via j1: atteint : relayé par j1 en \\d+ ms$`;
    assert.match(reached[1]!, new RegExp(via));
  });

  it('says a host that does not answer, in seconds as French writes them', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const to = await target([], 'root', (silent.address() as AddressInfo).port);
      const { error } = await connect({ ...to, ssh: { ...to.ssh, connectTimeoutMs: 500 } });
      assert.equal(error?.message, `h1 (127.0.0.1:${to.port}) : pas de réponse en 0,5 s`);
      assert.equal(
        error?.hint,
        'vérifiez que h1 est en marche et que son adresse est juste, ou augmentez ssh.connect_timeout',
      );
    } finally {
      silent.close();
    }
  });

  it('names both keys of a changed host key, and the line to remove', async () => {
    const to = await target([`[127.0.0.1]:${port} ${publicLine(otherHostKey)}`]);
    const { error } = await connect(to);
    const [offered, known] = [fingerprint(blobOf(hostKey)), fingerprint(blobOf(otherHostKey))];
    assert.equal(
      error?.message,
      `CLÉ D'HÔTE CHANGÉE pour h1 (127.0.0.1:${port}) : il a présenté la clé ED25519 ${offered}, ` +
        `mais known_hosts contient : clé ED25519 ${known} (${to.ssh.knownHosts[0]}:1). ` +
        "Quelqu'un intercepte peut-être la connexion, ou l'hôte a été réinstallé.",
    );
    assert.match(error?.hint ?? '', /^vérifiez la clé sur la console de l'hôte .* ; si elle est juste, retirez /);
    assert.match(error?.hint ?? '', /ssh-keygen -R '?\[127\.0\.0\.1\]:\d+'? -f /);
  });

  it('says that sshd refused every key, and that a closed port refused the connection', async () => {
    const refused = await connect(await target([`[127.0.0.1]:${port} ${publicLine(hostKey)}`], 'nobody'));
    assert.equal(
      refused.error?.message,
      `h1 (127.0.0.1:${port}) : sshd a refusé toutes les clés présentées pour le compte nobody ` +
        `(${path.join(dir, 'operator')})`,
    );
    assert.equal(
      refused.error?.hint,
      'installez votre clé publique dans ~nobody/.ssh/authorized_keys sur h1, ou corrigez ssh.identity_files',
    );

    const closed = await freePort();
    const { error } = await connect(await target([], 'root', closed));
    assert.equal(error?.message, `h1 (127.0.0.1:${closed}) : connexion refusée (sshd tourne-t-il ?)`);
    assert.equal(error?.hint, "vérifiez l'adresse et le port de h1 dans l'inventaire");
  });

  it('says why ssh skips a known_hosts line, and names lists and routes', async () => {
    const { problems } = parseKnownHosts(`@bogus host ${publicLine(hostKey)}\nhost ssh-ed25519 AAAA=x\n`, 'kh');
    assert.deepEqual(
      problems.map((p) => p.message),
      ['marqueur inconnu @bogus', "la clé n'est pas du base64 valide"],
    );
    assert.equal(nameList(['a', 'b', 'c'], 1), 'a et 2 autres');
    assert.equal(routeOf(await target([])), 'direct');
  });

  it('says why the ssh-agent cannot sign', async () => {
    assert.deepEqual(await agentState({}), { problem: "aucun agent SSH ne tourne (SSH_AUTH_SOCK n'est pas défini)" });
    const socket = path.join(dir, 'absent.sock');
    assert.deepEqual(await agentState({ SSH_AUTH_SOCK: socket }), {
      problem: `l'agent SSH de ${socket} est injoignable (socket inexistante)`,
    });
  });
});

describe("chaton doctor's local checks in French", () => {
  it('titles, findings and hints in French; the names of the checks in JSON stay English', async () => {
    const knownHosts = path.join(dir, 'doctor_known_hosts');
    await writeFile(knownHosts, `203.0.113.10 ${publicLine(hostKey)}\ngarbage\n`);
    const open = path.join(dir, 'open_key');
    await writeFile(open, operatorKey.private);
    await chmod(open, 0o644);
    const text =
      `ssh:\n  identity_files: [${open}]\n  agent: false\n  known_hosts: [${knownHosts}]\n` +
      'bastion: { name: bastion, address: 203.0.113.10 }\n' +
      'hosts:\n  pve1: { address: 10.0.0.11 }\n  pve2: { address: 10.0.0.12 }\n';
    const inventory = parseInventory(text, path.join(dir, 'chaton.yaml'), []);
    const checks = await localChecks(inventory, {}, new Identities(), async () => undefined);
    assert.deepEqual(
      checks.map((c) => [c.check, checkTitle(c.check), subjectTitle(c.subject), c.status]),
      [
        ['identity file', "fichier d'identité", open, 'FAIL'],
        ['keys', 'clés', 'bastion, pve1, pve2', 'FAIL'],
        ['known_hosts file', 'fichier known_hosts', knownHosts, 'WARN'],
        ['host key', "clé d'hôte", 'bastion', 'OK'],
        ['host keys', "clés d'hôte", 'tous les hôtes', 'FAIL'],
      ],
    );
    const [identityFile, keys, file, bastion, hosts] = checks;
    assert.equal(
      identityFile!.detail,
      `fichier d'identité ${open} a les droits 0644 : d'autres peuvent lire cette clé privée, ` +
        'et ssh refuse une telle clé',
    );
    assert.equal(identityFile!.fix, `chmod 600 ${open} (et créez une nouvelle clé si d'autres ont pu la copier)`);
    assert.equal(
      keys!.detail,
      `aucune clé à présenter : aucun fichier d'identité n'a pu servir (ssh.identity_files : ${open}) ` +
        'et ssh.agent vaut false',
    );
    assert.match(keys!.fix!, /^créez une clé \(ssh-keygen -t ed25519\)/);
    assert.equal(
      file!.detail,
      `1 ligne(s) que ssh ignore, par exemple ${knownHosts}:2 : pas de type de clé après les noms d'hôte`,
    );
    assert.equal(bastion!.detail, 'enregistrée pour 203.0.113.10');
    assert.equal(hosts!.detail, '2 sans clé enregistrée (pve1, pve2) : une exécution échoue sur eux');
    assert.equal(
      hosts!.fix,
      "vérifiez l'empreinte auprès de qui l'administre, puis : chaton --accept-new hosts check pve1,pve2",
    );
    assert.equal(checkTitle('reach'), 'connexion');
  });
});

/** A local port nothing listens on. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: free } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return free;
}
