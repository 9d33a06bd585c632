// Key files are read by one reader that never waits on them: a FIFO, a device or a directory
// given as a key is refused at once (exit 2), a file too large to be a key is refused, and a
// second Ctrl-C quits even while a worker thread is stuck in a blocking read.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_KEY_FILE_BYTES, readKeyFile, UnreadableFileError } from '../../src/lib/run/files.js';
import type { Endpoint } from '../../src/lib/inventory/types.js';
import { Identities } from '../../src/lib/ssh/identities.js';
import { openSshPublicHalf } from '../../src/lib/ssh/key-blob.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
/** A run that hangs is killed after this, so that it fails its test instead of blocking the suite. */
const HANG_GUARD_MS = 30_000;

let dir: string;
let fifo: string;
let publicKey: string;
let privateKey: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-key-files-'));
  fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  privateKey = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'newcomer@laptop', '-f', privateKey]);
  publicKey = `${privateKey}.pub`;
});

/** An inventory of one host that is never reached: every refusal here comes before any connection. */
async function inventory(identityFile: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(dir, 'inventory-')), 'chaton.yaml');
  const knownHosts = path.join(path.dirname(file), 'known_hosts');
  await writeFile(knownHosts, '');
  await writeFile(
    file,
    `ssh:\n  identity_files: [${identityFile}]\n  agent: false\n  known_hosts: [${knownHosts}]\n` +
      'hosts:\n  pve1: { address: 192.0.2.11, direct: true }\n',
  );
  return file;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

type Watcher = (soFar: string, child: ReturnType<typeof spawn>) => void;

/** Runs node with `args`, without a terminal; `onStderr` sees stderr as it comes. */
function node(args: string[], onStderr: Watcher = () => {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: path.join(dir, 'state') };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stderr });
    });
  });
}

describe('readKeyFile', () => {
  it('reads a regular file', async () => {
    assert.equal((await readKeyFile(publicKey)).toString(), await readFile(publicKey, 'utf8'));
  });

  it('refuses a FIFO, a directory and a device without reading them, naming what they are', async () => {
    const cases: [string, RegExp][] = [
      [fifo, /fifo is a FIFO \(named pipe\), not a regular file$/],
      [dir, /is a directory, not a regular file$/],
      ['/dev/zero', /^\/dev\/zero is a character device, not a regular file$/],
      [path.join(dir, 'absent'), /absent does not exist$/],
      // A path that would drive the terminal is shown escaped.
      [path.join(dir, 'bad\x1b[2J\nname'), /bad\\x1b\[2J\\nname does not exist$/],
    ];
    for (const [file, message] of cases) {
      const refused = (error: unknown) => error instanceof UnreadableFileError && message.test(error.message);
      await assert.rejects(readKeyFile(file), refused, file);
    }
  });

  it('reads at most 64 KiB: a larger file is not a key', async () => {
    const largest = path.join(dir, 'largest');
    await writeFile(largest, Buffer.alloc(MAX_KEY_FILE_BYTES, 'a'));
    assert.equal((await readKeyFile(largest)).length, MAX_KEY_FILE_BYTES);
    const larger = path.join(dir, 'larger');
    await writeFile(larger, Buffer.alloc(MAX_KEY_FILE_BYTES + 1, 'a'));
    await assert.rejects(readKeyFile(larger), /larger is larger than 64 KiB$/);
  });
});

describe('the public half of a private key, read without ssh2', () => {
  /** A key as ssh-keygen writes it, and the public key it writes beside it. */
  async function keygen(name: string, ...options: string[]): Promise<{ file: Buffer; type: string; blob: Buffer }> {
    const file = path.join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-C', 'jdupont@laptop', '-f', file, ...options]);
    const [type, blob] = (await readFile(`${file}.pub`, 'utf8')).split(' ');
    return { file: await readFile(file), type: type!, blob: Buffer.from(blob!, 'base64') };
  }
  const armour = (data: Buffer) =>
    Buffer.from(`-----BEGIN OPENSSH PRIVATE KEY-----\n${data.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`);
  const body = (file: Buffer) => Buffer.from(file.toString().split('\n').slice(1, -2).join(''), 'base64');

  it('is the public key ssh-keygen writes beside it, for each type ssh2 can sign with', async () => {
    const kinds = [
      ['-t', 'ed25519'],
      ['-t', 'rsa', '-b', '2048'],
      ...[256, 384, 521].map((b) => ['-t', 'ecdsa', '-b', `${b}`]),
    ];
    for (const [i, kind] of kinds.entries()) {
      const { file, type, blob } = await keygen(`plain-${i}`, '-N', '', ...kind);
      assert.deepEqual(openSshPublicHalf(file), { type, blob }, kind.join(' '));
    }
  });

  it('is parsed once when several connections ask for the private key at once (hosts opened together)', async () => {
    await keygen('asked-at-once', '-t', 'ed25519', '-N', '');
    const file = path.join(dir, 'asked-at-once');
    const identities = new Identities();
    await identities.load([{ identityFiles: [file], identityFilesExplicit: true }], {}, async () => undefined);
    const endpoint = { ssh: { agent: false, identityFiles: [file] } } as unknown as Endpoint;
    const [offer] = identities.offers(endpoint, {});
    assert.ok(offer && 'key' in offer && offer.key.parsed === undefined, 'not parsed until asked');
    const keys = await Promise.all([1, 2, 3].map(() => identities.privateKey(file)));
    assert.ok(keys.every((key) => key === keys[0] && key.type === 'ssh-ed25519'));
  });

  it('is left to ssh2 for an encrypted key, a PEM key, and a key whose fields do not add up', async () => {
    const encrypted = await keygen('encrypted', '-t', 'ed25519', '-N', 'a passphrase');
    const pem = await keygen('pem', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '');
    const { file } = await keygen('to-damage', '-t', 'ed25519', '-N', '');
    const other = await keygen('other', '-t', 'ed25519', '-N', '');
    assert.ok(openSshPublicHalf(file));
    const data = body(file);
    const [checkFlipped, paddingChanged] = [Buffer.from(data), Buffer.from(data)];
    // In the private list (the last field): the first check number, before the key's type; the last padding byte.
    checkFlipped[data.lastIndexOf(Buffer.from('ssh-ed25519')) - 12]! ^= 0xff;
    paddingChanged[data.length - 1] = 0xee;
    // Another key's public half outside, this key inside: OpenSSH refuses that file.
    const otherOutside = Buffer.from(data);
    other.blob.copy(otherOutside, data.indexOf(Buffer.from('ssh-ed25519')) - 4);
    for (const [what, bytes] of [
      ['encrypted', encrypted.file],
      ['PEM', pem.file],
      ['check numbers differ', armour(checkFlipped)],
      ['padding', armour(paddingChanged)],
      ["another key's public half", armour(otherOutside)],
      ['truncated', armour(data.subarray(0, data.length - 20))],
      ['not base64 inside', Buffer.from(file.toString().replace(/\n[A-Za-z]/, '\n*'))],
    ] as const) {
      assert.equal(openSshPublicHalf(bytes), undefined, what);
    }
  });
});

describe('a key that is not a regular file is refused before any host is touched (exit 2)', () => {
  it('--key, --verify-with and ssh.identity_files', async () => {
    const onboard = ['-i', await inventory(privateKey), 'onboard', 'sysadmin', 'newcomer'];
    const large = path.join(dir, 'large.pub');
    await writeFile(large, `${await readFile(publicKey, 'utf8')}${'#'.repeat(MAX_KEY_FILE_BYTES)}\n`);
    const cases: [string[], RegExp][] = [
      [[...onboard, '--key', fifo], /--key 1 \(.*\): .*fifo is a FIFO \(named pipe\), not a regular file/],
      [[...onboard, '--key', '/dev/zero'], /\/dev\/zero is a character device, not a regular file/],
      [[...onboard, '--key', large], /large\.pub is larger than 64 KiB/],
      [
        [...onboard, '--key', publicKey, '--verify-with', fifo],
        /--verify-with: identity file .*fifo is a FIFO \(named pipe\).*\n.*→ give the newcomer's private key file/,
      ],
      [
        ['-i', await inventory(fifo), 'hosts', 'check', 'pve1'],
        /identity file .*fifo is a FIFO \(named pipe\).*\n.*→ fix ssh.identity_files/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await node([CHATON, ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.signal ?? ''} ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});

describe('a second Ctrl-C', () => {
  it('quits at once even while a worker thread is stuck in a blocking read (a shell sees 130)', async () => {
    // A command whose own work waits for good on a FIFO nobody writes to, under runRemote.
    const script = `
      import { readFile } from 'node:fs/promises';
      import { Command } from ${JSON.stringify(import.meta.resolve('commander'))};
      import { runRemote } from ${JSON.stringify(new URL('../../src/lib/run/lifecycle.js', import.meta.url).href)};
      const [inventory, fifo] = process.argv.slice(1);
      const program = new Command().option('-i, --inventory <file>').action((_, cmd) =>
        runRemote(cmd, async () => {
          process.stderr.write('reading the FIFO\\n');
          await readFile(fifo);
          return { exitCode: 0, json: {} };
        }),
      );
      await program.parseAsync(['-i', inventory], { from: 'user' });`;
    let interrupts = 0;
    const args = ['--input-type=module', '-e', script, await inventory(privateKey), fifo];
    const run = await node(args, (soFar, child) => {
      // The first Ctrl-C once the read is stuck, the second once the first was taken.
      const wanted = soFar.includes('interrupting:') ? 2 : soFar.includes('reading the FIFO') ? 1 : 0;
      for (; interrupts < wanted; interrupts++) child.kill('SIGINT');
    });
    assert.match(run.stderr, /interrupted again: quitting now/);
    // Killed by SIGINT's own default action: what a shell reports as 130.
    const quit = run.code === 130 || run.signal === 'SIGINT';
    assert.ok(quit, `still running after the second Ctrl-C (code ${run.code}, ${run.signal})`);
  });
});
