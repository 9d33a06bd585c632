// known_hosts, chaton against OpenSSH on the same files: a lab host reached on port 2222 through the
// bastion, and many variants of its known_hosts file. For each, `ssh -o StrictHostKeyChecking=yes`
// and `chaton hosts check` must both accept or both refuse the host, as expected.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { sshThroughBastion } from '../lab/openssh.js';
import { chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

const TARGET = 'backup';
const PORT = 2222;

type Verdict = 'accept' | 'refuse';

interface Variant {
  name: string;
  lines: string[];
  expected: Verdict;
  /** Hashed by `ssh-keygen -H`. */
  hashed?: boolean;
  crlf?: boolean;
}

let lab: Lab;
let env: NodeJS.ProcessEnv;
let dir: string;
/** `type base64` of the target's own keys, and of keys that are not its own. */
const keys = {} as Record<'ed25519' | 'ecdsa' | 'rsa' | 'otherEd25519' | 'otherEcdsa', string>;

function execute(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr });
    });
  });
}

async function generatedKey(name: string, type: string): Promise<string> {
  const file = path.join(dir, name);
  assert.equal((await execute('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file])).code, 0);
  return publicKeyText(await readFile(`${file}.pub`, 'utf8'));
}

function publicKeyText(pubFile: string): string {
  return pubFile.trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * The target's sshd answers on port 22 with its ed25519 key only. A second one, started in the
 * host like the first (the lab stops every process of its hosts when it goes down), answers on
 * PORT with ECDSA and RSA keys of its own too, so that entries of those types can name real keys.
 * (Those of /etc/ssh are the machine's, seen through the host's overlay: not used.)
 */
async function startSecondSshd(): Promise<void> {
  const keyFile = (type: string) => `/etc/ssh/port${PORT}_${type}_key`;
  const script = [
    `ssh-keygen -q -t ecdsa -N '' -f ${keyFile('ecdsa')}`,
    `ssh-keygen -q -t rsa -b 2048 -N '' -f ${keyFile('rsa')}`,
    `/usr/sbin/sshd -f /etc/ssh/sshd_config -o Port=${PORT} -o PidFile=/run/sshd-${PORT}.pid ` +
      `-o HostKey=${keyFile('ecdsa')} -o HostKey=${keyFile('rsa')}`,
  ].join(' && ');
  const started = await lab.run(TARGET, ['sh', '-ec', script]);
  assert.equal(started.exitCode, 0, started.stdout + started.stderr);
  const publicKey = async (file: string) => {
    const cat = await lab.run(TARGET, ['cat', `${file}.pub`]);
    assert.equal(cat.exitCode, 0, cat.stderr);
    return publicKeyText(cat.stdout);
  };
  [keys.ed25519, keys.ecdsa, keys.rsa] = await Promise.all([
    publicKey('/etc/ssh/ssh_host_ed25519_key'),
    publicKey(keyFile('ecdsa')),
    publicKey(keyFile('rsa')),
  ]);
}

before(async () => {
  lab = await freshLab('it-khdiff', 0);
  env = await sandboxEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-khdiff-'));
  [keys.otherEd25519, keys.otherEcdsa] = await Promise.all([
    generatedKey('other-ed25519', 'ed25519'),
    generatedKey('other-ecdsa', 'ecdsa'),
  ]);
  await startSecondSshd();
});
after(async () => {
  await lab?.down();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function targetAddress(): string {
  return lab.hosts.find((host) => host.name === TARGET)!.address;
}

function variants(): Variant[] {
  const address = targetAddress();
  const lan = address.slice(0, address.lastIndexOf('.'));
  const host = `[${address}]:${PORT}`;
  const { ed25519, ecdsa, rsa, otherEd25519, otherEcdsa } = keys;
  const [ed25519Type, ed25519Base64] = ed25519.split(' ');
  return [
    { name: '[host]:port', lines: [`${host} ${ed25519}`], expected: 'accept' },
    { name: '[host]:port, hashed', lines: [`${host} ${ed25519}`], hashed: true, expected: 'accept' },
    { name: 'port-less', lines: [`${address} ${ed25519}`], expected: 'accept' },
    { name: 'port-less, hashed', lines: [`${address} ${ed25519}`], hashed: true, expected: 'accept' },
    // Another key for the bare address leaves the host unknown: refused either way.
    { name: 'port-less, another key', lines: [`${address} ${otherEd25519}`], expected: 'refuse' },
    { name: 'port-less, another key, hashed', lines: [`${address} ${otherEd25519}`], hashed: true, expected: 'refuse' },
    // ssh asks for ed25519 (it knows no type for [host]:port), and the bare address has ECDSA only.
    { name: 'port-less, ECDSA only', lines: [`${address} ${ecdsa}`], expected: 'refuse' },
    { name: 'port-less pattern', lines: [`${lan}.* ${ed25519}`], expected: 'accept' },
    // The host's own line rules: the bare address is not looked up.
    {
      name: '[host]:port with another key, port-less right',
      lines: [`${host} ${otherEd25519}`, `${address} ${ed25519}`],
      expected: 'refuse',
    },
    {
      name: 'other ports',
      lines: [`[${address}]:22 ${ed25519}`, `[${address}]:${PORT + 1} ${ed25519}`],
      expected: 'refuse',
    },
    { name: 'wildcard *', lines: [`[${lan}.*]:${PORT} ${ed25519}`], expected: 'accept' },
    { name: 'wildcard ?', lines: [`[${address.slice(0, -1)}?]:${PORT} ${ed25519}`], expected: 'accept' },
    { name: 'wildcard ? is one character', lines: [`[${lan}.?]:${PORT} ${ed25519}`], expected: 'refuse' },
    { name: 'negated', lines: [`[${lan}.*]:${PORT},!${host} ${ed25519}`], expected: 'refuse' },
    {
      name: 'another host negated',
      lines: [`[${lan}.*]:${PORT},![${lan}.254]:${PORT} ${ed25519}`],
      expected: 'accept',
    },
    { name: 'several names per line', lines: [`gw,[${address}]:22,${host} ${ed25519}`], expected: 'accept' },
    { name: 'wrong key then right key', lines: [`${host} ${otherEd25519}`, `${host} ${ed25519}`], expected: 'accept' },
    { name: 'tabs', lines: [`\t${host}\t${ed25519Type}\t\t${ed25519Base64}\t`], expected: 'accept' },
    { name: 'CRLF', lines: ['# from Windows', `${host} ${ed25519} comment`], crlf: true, expected: 'accept' },
    {
      name: 'comments',
      lines: ['# backup', ` \t# ${host} ${otherEd25519}`, `${host} ${ed25519} root@backup`],
      expected: 'accept',
    },
    { name: 'commented out', lines: [`#${host} ${ed25519}`], expected: 'refuse' },
    { name: 'ECDSA only', lines: [`${host} ${ecdsa}`], expected: 'accept' },
    { name: 'RSA only', lines: [`${host} ${rsa}`], expected: 'accept' },
    { name: 'ECDSA only, another key', lines: [`${host} ${otherEcdsa}`], expected: 'refuse' },
    { name: '@revoked [host]:port', lines: [`${host} ${ed25519}`, `@revoked ${host} ${ed25519}`], expected: 'refuse' },
    { name: '@revoked *', lines: [`${address} ${ed25519}`, `@revoked * ${ed25519}`], expected: 'refuse' },
    {
      name: '@revoked port-less',
      lines: [`${address} ${ed25519}`, `@revoked ${address} ${ed25519}`],
      expected: 'refuse',
    },
    // ssh looks revocations up under the name it looks keys up under: the bare address is not.
    {
      name: '[host]:port, @revoked port-less',
      lines: [`${host} ${ed25519}`, `@revoked ${address} ${ed25519}`],
      expected: 'accept',
    },
    { name: '@cert-authority only', lines: [`@cert-authority ${host} ${ed25519}`], expected: 'refuse' },
    { name: 'empty', lines: [], expected: 'refuse' },
  ];
}

async function writeVariant(variant: Variant, index: number): Promise<string> {
  const file = path.join(dir, `known_hosts.${index}`);
  const newline = variant.crlf ? '\r\n' : '\n';
  await writeFile(file, variant.lines.map((line) => `${line}${newline}`).join(''));
  if (variant.hashed) {
    assert.equal((await execute('ssh-keygen', ['-H', '-f', file])).code, 0);
    assert.match(await readFile(file, 'utf8'), /^\|1\|/);
  }
  return file;
}

/** ssh(1) reaching the target as chaton does. */
async function sshVerdict(knownHosts: string): Promise<Verdict> {
  const login = ['-p', String(PORT), `root@${targetAddress()}`];
  const { code, stderr } = await execute('ssh', sshThroughBastion(lab, knownHosts, login, 'true'));
  if (code === 0) return 'accept';
  if (code === 255 && /Host key verification failed/.test(stderr)) return 'refuse';
  throw new Error(`ssh failed for another reason (exit ${code}): ${stderr}`);
}

async function chatonVerdict(knownHosts: string): Promise<Verdict> {
  const inventory = await variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['hosts', TARGET, 'port'], PORT);
    doc.setIn(['hosts', TARGET, 'ssh', 'known_hosts'], [knownHosts]);
  });
  const { code, stdout, stderr } = await chaton(['-i', inventory, 'hosts', 'check', TARGET], { env });
  if (code === 0) return 'accept';
  const hostKeyRefused = new RegExp(`${TARGET} \\(.*:${PORT}\\).*offered .* key SHA256:`);
  if (code === 5 && hostKeyRefused.test(stdout + stderr)) return 'refuse';
  throw new Error(`chaton failed for another reason (exit ${code}): ${stdout}${stderr}`);
}

describe('known_hosts, chaton against OpenSSH', () => {
  it(`both accept or both refuse a host on port ${PORT}, as expected, for every variant of the file`, async () => {
    const all = variants();
    const verdicts = await Promise.all(
      all.map(async (variant, index) => {
        const file = await writeVariant(variant, index);
        const [ssh, ours] = await Promise.all([sshVerdict(file), chatonVerdict(file)]);
        return `${variant.name}: ssh ${ssh}, chaton ${ours}`;
      }),
    );
    assert.deepEqual(
      verdicts,
      all.map((variant) => `${variant.name}: ssh ${variant.expected}, chaton ${variant.expected}`),
    );
  });
});
