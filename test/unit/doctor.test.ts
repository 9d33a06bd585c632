// `chaton doctor`'s local checks on real files in a temp directory (keys, modes, known_hosts, a
// real ssh-agent), and a run with no key at all stopped before any connection (exit 2).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseInventory } from '../../src/lib/inventory/load.js';
import { localChecks, type Check } from '../../src/lib/ssh/doctor.js';
import { Identities } from '../../src/lib/ssh/identities.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
const noPassphrase = async () => undefined;

let dir: string;
let key: string;
let hostKeyLine: string;
const agents: number[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-doctor-'));
  key = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  // Any valid public key will do as a host key line.
  hostKeyLine = (await readFile(`${key}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
});
after(() => {
  for (const pid of agents) process.kill(pid);
});

interface Site {
  /** null: none listed, OpenSSH's defaults (in HOME/.ssh). */
  identity?: string | null;
  agent?: boolean;
  /** Lines of the one known_hosts file; undefined: the file does not exist. */
  knownHosts?: string[];
  /** The bastion's address and pve1's, or their lists, as YAML writes them. */
  bastion?: string;
  pve1?: string;
}

/** An inventory of a bastion (203.0.113.10) and two hosts behind it, with these ssh settings. */
async function inventory(site: Site) {
  const sub = await mkdtemp(path.join(dir, 'site-'));
  const knownHosts = path.join(sub, 'known_hosts');
  if (site.knownHosts) await writeFile(knownHosts, site.knownHosts.map((l) => `${l}\n`).join(''));
  const text =
    `ssh:\n${site.identity === null ? '' : `  identity_files: [${site.identity ?? key}]\n`}` +
    `  agent: ${site.agent ?? false}\n` +
    `  known_hosts: [${knownHosts}]\n` +
    `bastion: { name: bastion, address: ${site.bastion ?? '203.0.113.10'} }\n` +
    `hosts:\n  pve1: { address: ${site.pve1 ?? '10.0.0.11'} }\n  pve2: { address: 10.0.0.12, port: 2222 }\n`;
  const file = path.join(sub, 'chaton.yaml');
  await writeFile(file, text);
  return { inventory: parseInventory(text, file, []), knownHosts, file };
}

function byName(checks: Check[]): Map<string, Check> {
  return new Map(checks.map((c) => [`${c.check} ${c.subject}`, c]));
}

/** known_hosts lines for the bastion and both hosts. */
const allKnown = () => [`203.0.113.10 ${hostKeyLine}`, `10.0.0.11 ${hostKeyLine}`, `[10.0.0.12]:2222 ${hostKeyLine}`];

describe('doctor: local checks', () => {
  it('all OK: a protected key, known_hosts vouching for the bastion and every host', async () => {
    const { inventory: inv, knownHosts } = await inventory({ knownHosts: allKnown() });
    const checks = await localChecks(inv, {}, new Identities(), noPassphrase);
    assert.deepEqual(
      checks.map((c) => [c.check, c.subject, c.status, c.detail]),
      [
        ['identity file', key, 'OK', 'ssh-ed25519 key'],
        ['keys', 'every machine', 'OK', 'a key for each'],
        ['known_hosts file', knownHosts, 'OK', '3 keys'],
        ['host key', 'bastion', 'OK', 'recorded for 203.0.113.10'],
        ['host keys', 'every host', 'OK', 'all recorded'],
      ],
    );
  });

  it('a key others can read: FAIL with chmod 600, as ssh refuses it; then no key at all', async () => {
    const open = path.join(dir, 'open_key');
    await writeFile(open, await readFile(key));
    await chmod(open, 0o644);
    const { inventory: inv } = await inventory({ identity: open, knownHosts: allKnown() });
    const checks = byName(await localChecks(inv, {}, new Identities(), noPassphrase));
    const file = checks.get(`identity file ${open}`)!;
    assert.equal(file.status, 'FAIL');
    assert.match(file.detail, /has permissions 0644: others can read this private key/);
    assert.match(file.fix!, new RegExp(`^chmod 600 ${open} `));
    const keys = checks.get('keys bastion, pve1, pve2')!;
    assert.equal(keys.status, 'FAIL');
    assert.match(keys.detail, /no identity file could be used .* and ssh\.agent is false/);
  });

  it('an OpenSSH default key others can read is skipped with a warning, as ssh skips it', async () => {
    const open = path.join(dir, 'default_key');
    await writeFile(open, await readFile(key), { mode: 0o640 });
    const identities = new Identities();
    await identities.load([{ identityFiles: [open], identityFilesExplicit: false }], {}, noPassphrase);
    assert.equal(identities.loaded(open), undefined);
    assert.match(identities.warnings[0]!.message, /permissions 0640: .*: skipped$/);
  });

  it('a listed key that does not exist, and no ssh-agent', async () => {
    const absent = path.join(dir, 'absent');
    const { inventory: inv } = await inventory({ identity: absent, agent: true, knownHosts: allKnown() });
    const checks = byName(await localChecks(inv, {}, new Identities(), noPassphrase));
    assert.equal(checks.get(`identity file ${absent}`)?.status, 'FAIL');
    assert.deepEqual(checks.get('ssh-agent SSH_AUTH_SOCK')?.status, 'OK');
    assert.match(checks.get('keys bastion, pve1, pve2')!.detail, /no ssh-agent runs \(SSH_AUTH_SOCK is not set\)/);
  });

  it('an ssh-agent: dead (WARN), alive without a key (WARN), with a key (OK, enough without a file)', async () => {
    const absent = path.join(dir, 'absent');
    const { inventory: inv } = await inventory({ identity: absent, agent: true, knownHosts: allKnown() });
    const agentOf = async (env: NodeJS.ProcessEnv) =>
      byName(await localChecks(inv, env, new Identities(), noPassphrase));

    const dead = path.join(dir, 'dead.sock');
    const deadChecks = await agentOf({ SSH_AUTH_SOCK: dead });
    assert.equal(deadChecks.get(`ssh-agent ${dead}`)?.status, 'WARN');
    assert.match(deadChecks.get(`ssh-agent ${dead}`)!.detail, /cannot be reached \(no such socket\)/);

    const socket = path.join(dir, 'agent.sock');
    await startAgent(socket);
    const empty = await agentOf({ SSH_AUTH_SOCK: socket });
    assert.equal(empty.get(`ssh-agent ${socket}`)?.detail, 'it holds no key');
    assert.equal(empty.get('keys bastion, pve1, pve2')?.status, 'FAIL');

    execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
    const loaded = await agentOf({ SSH_AUTH_SOCK: socket });
    const agent = loaded.get(`ssh-agent ${socket}`);
    assert.deepEqual([agent?.status, agent?.detail], ['OK', '1 key']);
    assert.equal(loaded.get('keys every machine')?.status, 'OK');
  });

  it('known_hosts: missing, a line ssh ignores, the bastion unknown, hosts counted', async () => {
    const missing = await inventory({});
    const none = byName(await localChecks(missing.inventory, {}, new Identities(), noPassphrase));
    assert.equal(none.get(`known_hosts file ${missing.knownHosts}`)?.status, 'WARN');
    assert.equal(none.get('host key bastion')?.status, 'FAIL');
    assert.match(none.get('host key bastion')!.fix!, /chaton --accept-new hosts check bastion$/);
    assert.match(none.get('host keys every host')!.detail, /^2 not recorded \(pve1, pve2\)/);

    // pve2 on port 2222 is also known by its bare address, as ssh looks it up.
    const partly = await inventory({ knownHosts: [`10.0.0.12 ${hostKeyLine}`, 'garbage'] });
    const some = byName(await localChecks(partly.inventory, {}, new Identities(), noPassphrase));
    assert.match(some.get(`known_hosts file ${partly.knownHosts}`)!.detail, /^1 line\(s\) ssh ignores, e\.g\. .*:2: /);
    const hosts = some.get('host keys every host')!;
    assert.deepEqual([hosts.status, hosts.detail], ['FAIL', '1 not recorded (pve1): a run fails on them']);
    assert.match(hosts.fix!, /chaton --accept-new hosts check pve1$/);
  });
});

describe('doctor: a bastion at several addresses', () => {
  it('OK with a key recorded for any address; FAIL when two are given different keys, naming both', async () => {
    const bastion = '[203.0.113.10, 198.51.100.7]';
    const second = await inventory({ bastion, knownHosts: [`198.51.100.7 ${hostKeyLine}`] });
    const recorded = byName(await localChecks(second.inventory, {}, new Identities(), noPassphrase));
    const check = recorded.get('host key bastion')!;
    assert.deepEqual([check.status, check.detail], ['OK', 'recorded for 203.0.113.10,198.51.100.7']);

    const other = path.join(dir, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherLine = (await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const lines = [`203.0.113.10 ${hostKeyLine}`, `198.51.100.7 ${otherLine}`];
    const differing = await inventory({ bastion, knownHosts: lines });
    const checks = byName(await localChecks(differing.inventory, {}, new Identities(), noPassphrase));
    const failed = checks.get('host key bastion')!;
    assert.equal(failed.status, 'FAIL');
    const at = (address: string, line: number) =>
      `ED25519 key SHA256:\\S+ at ${address.replaceAll('.', '\\.')} \\(${differing.knownHosts}:${line}\\)`;
    const both = `${at('203.0.113.10', 1)}, but ${at('198.51.100.7', 2)}`;
    assert.match(failed.detail, new RegExp(`^known_hosts gives the addresses of bastion different keys: ${both}`));
    assert.match(failed.fix!, /remove the wrong line/);

    // A host too, in a check of its own.
    const hostLines = [`10.0.0.11 ${hostKeyLine}`, `10.0.1.11 ${otherLine}`, `10.0.0.12 ${hostKeyLine}`];
    const host = await inventory({ knownHosts: hostLines, pve1: '[10.0.0.11, 10.0.1.11]' });
    const hostChecks = byName(await localChecks(host.inventory, {}, new Identities(), noPassphrase));
    assert.equal(hostChecks.get('host keys every host')?.status, 'OK');
    assert.equal(hostChecks.get('host key pve1')?.status, 'FAIL');
    assert.match(hostChecks.get('host key pve1')!.detail, /^known_hosts gives the addresses of pve1 different keys/);
  });
});

describe('chaton doctor', () => {
  it('exit 0 when all is OK, 2 with a FAIL; the checks in the JSON envelope', async () => {
    const good = await inventory({ knownHosts: allKnown() });
    const ok = chaton(['-i', good.file, 'doctor']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^CHECK +ON +RESULT\nidentity file +\S+ +OK:/);
    assert.doesNotMatch(ok.stdout, /FAIL|WARN/);

    const bad = await inventory({});
    const json = chaton(['-i', bad.file, '--json', 'doctor']);
    assert.equal(json.status, 2, json.stderr);
    const report = JSON.parse(json.stdout) as { command: string; exitCode: number; reach: boolean; checks: Check[] };
    assert.deepEqual([report.command, report.exitCode, report.reach], ['doctor', 2, false]);
    assert.ok(report.checks.some((c) => c.check === 'host key' && c.status === 'FAIL'));
  });
});

describe('a run with no SSH key at all', () => {
  it('stops before connecting, exit 2, saying why and what to do', async () => {
    // OpenSSH's default keys, none of which is in chaton's HOME; no ssh-agent either.
    const { file: inv } = await inventory({ identity: null, agent: true, knownHosts: allKnown() });
    // pve1 is behind a bastion nobody answers for: a connection attempt would end in exit 5.
    const run = chaton(['-i', inv, 'hosts', 'check', 'pve1']);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /no SSH key to offer to bastion, pve1: no identity file could be used \(ssh\./);
    assert.match(run.stderr, /and no ssh-agent runs \(SSH_AUTH_SOCK is not set\)/);
    assert.match(run.stderr, /→ create a key \(ssh-keygen -t ed25519\).*chaton doctor checks all this/);
    assert.doesNotMatch(run.stderr, /Connect to bastion/);
  });
});

function chaton(args: string[]) {
  const env = { PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: path.join(dir, 'state') };
  return spawnSync(process.execPath, [CHATON, ...args], { env, encoding: 'utf8' });
}

function startAgent(socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    agents.push(agent.pid!);
    // In the foreground (-D), it prints its variables once the socket listens.
    agent.stdout.once('data', () => resolve());
    agent.on('error', reject);
  });
}
