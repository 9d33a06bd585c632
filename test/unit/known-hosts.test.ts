// known_hosts support, checked against OpenSSH itself: keys made by ssh-keygen, matching compared with
// `ssh-keygen -F`, hashing done by `ssh-keygen -H`, fingerprints by `ssh-keygen -l`, and verdicts by
// ssh(1) connecting to a local ssh2 server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { ChatonError, HostKeyError } from '../../src/lib/run/errors.js';
import { fingerprint, keyTypeOfBlob } from '../../src/lib/ssh/key-blob.js';
import {
  checkHostKey,
  describeKey,
  entryMatchesHost,
  hostLookupName,
  KnownHostsStore,
  parseHostPublicKey,
  parseKnownHosts,
  PublicKeyLineError,
  recordHostKey,
  type HostKeyVerdict,
  type KnownHostsEntry,
} from '../../src/lib/ssh/known-hosts.js';

interface TestKey {
  privateKeyFile: string;
  publicKeyFile: string;
  /** `type base64`, as in a known_hosts line. */
  text: string;
  blob: Buffer;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

let dir: string;
const keys = {} as Record<'alphaEd' | 'alphaEc' | 'rsa' | 'ec384' | 'intruder' | 'revoked' | 'ca521', TestKey>;

async function generateKey(name: string, type: string, bits?: number): Promise<TestKey> {
  const privateKeyFile = join(dir, name);
  const { code, stderr } = await run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    '',
    '-C',
    name,
    '-f',
    privateKeyFile,
  ]);
  assert.equal(code, 0, stderr);
  const [keyType, base64] = (await readFile(`${privateKeyFile}.pub`, 'utf8')).split(' ');
  return {
    privateKeyFile,
    publicKeyFile: `${privateKeyFile}.pub`,
    text: `${keyType} ${base64}`,
    blob: Buffer.from(base64!, 'base64'),
  };
}

// Line numbers below are the ones the tests expect.
function knownHostsText(): string {
  return [
    /*  1 */ '# chaton test file',
    /*  2 */ `alpha.example.org ${keys.alphaEd.text} alpha's ed25519 key`,
    /*  3 */ `alpha.example.org ${keys.alphaEc.text}`, // as ssh-keyscan prints it: no comment
    /*  4 */ `[alpha.example.org]:2222 ${keys.intruder.text}`,
    /*  5 */ `Beta.Example.ORG,192.0.2.7 ${keys.rsa.text}`,
    /*  6 */ '',
    /*  7 */ `*.lan,!vault.lan ${keys.intruder.text}`,
    /*  8 */ `build-?.example.org ${keys.ec384.text}`,
    /*  9 */ `@revoked * ${keys.revoked.text}`,
    /* 10 */ `stolen.example.org ${keys.revoked.text}`,
    /* 11 */ `@cert-authority *.example.org ${keys.ca521.text}`,
    /* 12 */ ' \t # an indented comment',
    /* 13 */ `@revoked zeta.example.org ${keys.alphaEc.text}`,
    /* 14 */ `zeta.example.org ${keys.alphaEc.text}`,
    /* 15 */ `[zeta.example.org]:2200 ${keys.alphaEc.text}`,
    '',
  ].join('\n');
}

let plainFile: string;
let hashedFile: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaton-known-hosts-'));
  [keys.alphaEd, keys.alphaEc, keys.rsa, keys.ec384, keys.intruder, keys.revoked, keys.ca521] = await Promise.all([
    generateKey('alpha-ed25519', 'ed25519'),
    generateKey('alpha-ecdsa', 'ecdsa', 256),
    generateKey('beta-rsa', 'rsa', 2048),
    generateKey('build-ecdsa384', 'ecdsa', 384),
    generateKey('intruder', 'ed25519'),
    generateKey('revoked', 'ed25519'),
    generateKey('ca', 'ecdsa', 521),
  ]);
  plainFile = join(dir, 'known_hosts');
  hashedFile = join(dir, 'known_hosts.hashed');
  await writeFile(plainFile, knownHostsText());
  await writeFile(hashedFile, knownHostsText());
  const hashing = await run('ssh-keygen', ['-H', '-f', hashedFile]);
  assert.equal(hashing.code, 0, hashing.stderr);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What a verdict says, with line numbers instead of whole entries. */
function summary(verdict: HostKeyVerdict): string {
  switch (verdict.status) {
    case 'trusted':
    case 'revoked':
      return `${verdict.status} ${verdict.entry.line}`;
    case 'changed':
      return `changed ${verdict.known.map((entry) => entry.line).join(',')}`;
    case 'unknown':
      return 'unknown';
  }
}

/** What a verdict says, with the keys of its entries. */
function keysOf(verdict: HostKeyVerdict): string {
  const entries = verdict.status === 'changed' ? verdict.known : verdict.status === 'unknown' ? [] : [verdict.entry];
  return `${verdict.status} ${entries.map((entry) => `${entry.marker ?? 'plain'} ${fingerprint(entry.key)}`).join(', ')}`;
}

/** [address, port, key, expected summary] */
function verdictCases(): [string, number, TestKey, string][] {
  return [
    ['alpha.example.org', 22, keys.alphaEd, 'trusted 2'],
    ['alpha.example.org', 22, keys.alphaEc, 'trusted 3'],
    ['ALPHA.example.org', 22, keys.alphaEd, 'trusted 2'],
    ['alpha.example.org', 22, keys.intruder, 'changed 2,3'],
    // A type not known for the host is a change too, as for ssh: else an intruder would just pick one.
    ['alpha.example.org', 22, keys.rsa, 'changed 2,3'],
    // A host with a line of its own is judged by it alone, even if its bare name has the key.
    ['alpha.example.org', 2222, keys.alphaEd, 'changed 4'],
    // Without one, ssh also looks up its bare name: that key is trusted, another leaves it unknown.
    ['alpha.example.org', 2223, keys.alphaEd, 'trusted 2'],
    ['alpha.example.org', 2223, keys.alphaEc, 'trusted 3'],
    ['alpha.example.org', 2223, keys.intruder, 'unknown'],
    ['alpha.example.org', 2223, keys.rsa, 'unknown'],
    ['beta.example.org', 2200, keys.rsa, 'trusted 5'],
    ['printer.lan', 2222, keys.intruder, 'trusted 7'],
    ['vault.lan', 2222, keys.intruder, 'unknown'],
    ['build-7.example.org', 2222, keys.ec384, 'trusted 8'],
    ['beta.example.org', 22, keys.rsa, 'trusted 5'],
    ['192.0.2.7', 22, keys.rsa, 'trusted 5'],
    ['printer.lan', 22, keys.intruder, 'trusted 7'],
    ['vault.lan', 22, keys.intruder, 'unknown'],
    ['build-7.example.org', 22, keys.ec384, 'trusted 8'],
    ['build-77.example.org', 22, keys.ec384, 'unknown'],
    // Revoked wins over line 10, which would trust it.
    ['stolen.example.org', 22, keys.revoked, 'revoked 9'],
    ['anything.example.net', 22, keys.revoked, 'revoked 9'],
    ['stolen.example.org', 2222, keys.revoked, 'revoked 9'],
    // Revoked for the bare name only: that wins over the bare name's own line, not over the host's.
    ['zeta.example.org', 22, keys.alphaEc, 'revoked 13'],
    ['zeta.example.org', 2222, keys.alphaEc, 'revoked 13'],
    ['zeta.example.org', 2200, keys.alphaEc, 'trusted 15'],
    // Only @cert-authority (and @revoked) lines match: they say nothing about a plain key.
    ['gamma.example.org', 22, keys.alphaEd, 'unknown'],
    ['gamma.example.org', 22, keys.ca521, 'unknown'],
  ];
}

describe('parseKnownHosts', () => {
  it('reads every kind of line, with its file and line number', async () => {
    const { entries, problems } = parseKnownHosts(await readFile(plainFile, 'utf8'), plainFile);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map(({ file, line, marker, hosts, keyType }) => ({ file, line, marker, hosts, keyType })),
      [
        { file: plainFile, line: 2, marker: null, hosts: 'alpha.example.org', keyType: 'ssh-ed25519' },
        { file: plainFile, line: 3, marker: null, hosts: 'alpha.example.org', keyType: 'ecdsa-sha2-nistp256' },
        { file: plainFile, line: 4, marker: null, hosts: '[alpha.example.org]:2222', keyType: 'ssh-ed25519' },
        { file: plainFile, line: 5, marker: null, hosts: 'Beta.Example.ORG,192.0.2.7', keyType: 'ssh-rsa' },
        { file: plainFile, line: 7, marker: null, hosts: '*.lan,!vault.lan', keyType: 'ssh-ed25519' },
        { file: plainFile, line: 8, marker: null, hosts: 'build-?.example.org', keyType: 'ecdsa-sha2-nistp384' },
        { file: plainFile, line: 9, marker: 'revoked', hosts: '*', keyType: 'ssh-ed25519' },
        { file: plainFile, line: 10, marker: null, hosts: 'stolen.example.org', keyType: 'ssh-ed25519' },
        { file: plainFile, line: 11, marker: 'cert-authority', hosts: '*.example.org', keyType: 'ecdsa-sha2-nistp521' },
        { file: plainFile, line: 13, marker: 'revoked', hosts: 'zeta.example.org', keyType: 'ecdsa-sha2-nistp256' },
        { file: plainFile, line: 14, marker: null, hosts: 'zeta.example.org', keyType: 'ecdsa-sha2-nistp256' },
        { file: plainFile, line: 15, marker: null, hosts: '[zeta.example.org]:2200', keyType: 'ecdsa-sha2-nistp256' },
      ],
    );
    assert.deepEqual(entries[0]!.key, keys.alphaEd.blob);
    assert.deepEqual(entries[3]!.key, keys.rsa.blob);
  });

  it('reads hashed host names, tabs and CRLF line ends', async () => {
    const hashedLine = (await readFile(hashedFile, 'utf8')).split('\n')[1]!;
    assert.match(hashedLine, /^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 /);
    const text = `${hashedLine}\r\n\t[alpha.example.org]:2222\t${keys.alphaEd.text.replace(' ', '\t\t')}\r\n`;
    const { entries, problems } = parseKnownHosts(text, 'kh');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map(({ line, hosts, key }) => ({ line, hosts, key })),
      [
        { line: 1, hosts: hashedLine.split(' ')[0], key: keys.alphaEd.blob },
        { line: 2, hosts: '[alpha.example.org]:2222', key: keys.alphaEd.blob },
      ],
    );
  });

  it('reports each malformed line, as ssh would skip it, and keeps the others', () => {
    const ed25519 = keys.alphaEd.text.split(' ')[1]!;
    const ecdsa = keys.alphaEc.text.split(' ')[1]!;
    assert.ok(ecdsa.endsWith('='), 'the ECDSA key must need padding for the unpadded case');
    const [rsaType, exponent, modulus] = sshStrings(keys.rsa.blob);
    const [, curve, point] = sshStrings(keys.alphaEc.blob);
    const base64 = (...fields: (string | Buffer)[]) => sshBlob(...fields).toString('base64');
    const lines: [string, string | null][] = [
      [`good.example.org ${keys.alphaEd.text}`, null],
      [`@bogus host.example.org ${keys.alphaEd.text}`, 'unknown marker @bogus'],
      [`@revoked @cert-authority host.example.org ${keys.alphaEd.text}`, 'only one marker is allowed'],
      ['@revoked', 'no key type after the host names'],
      ['lonely.example.org', 'no key type after the host names'],
      [`host.example.org #${keys.alphaEd.text}`, 'no key type after the host names'],
      ['host.example.org ssh-ed25519', 'no key after the key type'],
      [`|1|abc|def ${keys.alphaEd.text}`, 'malformed hashed host name'],
      [`|1|${'A'.repeat(27)}=|${'A'.repeat(26)}= ${keys.alphaEd.text}`, 'malformed hashed host name'],
      [`host.example.org ssh-foo ${ed25519}`, 'unsupported key type ssh-foo'],
      ['host.example.org 2048 35 1234567', 'unsupported key type 2048'], // SSH-1 RSA
      [`host.example.org ecdsa-sha2-nistp256 ${ecdsa.slice(0, -1)}`, 'the key is not valid base64'],
      [`host.example.org ssh-ed25519 ${ed25519}#glued`, 'the key is not valid base64'],
      [`host.example.org ecdsa-sha2-nistp256 ${withStrayLowBit(ecdsa)}`, 'the key is not valid base64'],
      [`host.example.org ecdsa-sha2-nistp256 ${ed25519}`, 'the key is not of type ecdsa-sha2-nistp256'],
      [`host.example.org ssh-ed25519 ${keys.alphaEd.blob.subarray(0, -1).toString('base64')}`, 'the key is cut short'],
      [`host.example.org ssh-ed25519 ${base64('ssh-ed25519', Buffer.alloc(32), 'extra')}`, 'malformed ssh-ed25519 key'],
      [
        `host.example.org ecdsa-sha2-nistp384 ${base64('ecdsa-sha2-nistp384', 'nistp384', point!)}`,
        'malformed ecdsa-sha2-nistp384 key',
      ],
      [
        `host.example.org ecdsa-sha2-nistp256 ${base64('ecdsa-sha2-nistp256', 'nistp384', point!)}`,
        'malformed ecdsa-sha2-nistp256 key',
      ],
      [
        `host.example.org ecdsa-sha2-nistp256 ${base64('ecdsa-sha2-nistp256', curve!, Buffer.from([0x02, ...point!.subarray(1)]))}`,
        'malformed ecdsa-sha2-nistp256 key',
      ],
      [`host.example.org ssh-dss ${base64('ssh-dss', ...dsaFields().slice(0, 3))}`, 'malformed ssh-dss key'],
      [`host.example.org ssh-rsa ${base64(rsaType!, exponent!, modulus!.subarray(0, 65))}`, 'malformed ssh-rsa key'], // 512 bits
      [`last.example.org ${keys.alphaEc.text} the end`, null],
    ];
    const { entries, problems } = parseKnownHosts(lines.map(([line]) => line).join('\n'), 'kh');
    const expectedProblems = lines.flatMap(([, message], index) =>
      message === null ? [] : [{ file: 'kh', line: index + 1, message }],
    );
    assert.deepEqual(problems, expectedProblems);
    assert.deepEqual(
      entries.map((entry) => entry.line),
      [1, lines.length],
    );
  });
});

describe('host matching', () => {
  const names = [
    'alpha.example.org',
    '[alpha.example.org]:2222',
    '[alpha.example.org]:2223',
    'beta.example.org',
    '192.0.2.7',
    'printer.lan',
    'vault.lan',
    'build-7.example.org',
    'build-77.example.org',
    'stolen.example.org',
    'zeta.example.org',
    '[zeta.example.org]:2200',
    'gamma.example.org',
    'example.org',
  ];

  async function linesFoundBySshKeygen(file: string, name: string): Promise<number[]> {
    const { stdout } = await run('ssh-keygen', ['-F', name, '-f', file]);
    return [...stdout.matchAll(/^# Host \S+ found: line (\d+)/gm)].map((match) => Number(match[1]));
  }

  for (const [label, file] of [
    ['plain', () => plainFile],
    ['hashed by ssh-keygen -H', () => hashedFile],
  ] as const) {
    it(`finds the lines ssh-keygen -F finds (${label})`, async () => {
      const { entries } = parseKnownHosts(await readFile(file(), 'utf8'), file());
      for (const name of names) {
        const ours = entries.filter((entry) => entryMatchesHost(entry, name)).map((entry) => entry.line);
        assert.deepEqual(ours, await linesFoundBySshKeygen(file(), name), name);
      }
    });
  }

  // ssh lowercases the name before hashing it; `ssh-keygen -F` does not, so it is only asked in lowercase.
  it('ignores case, in plain and hashed names, as ssh does', async () => {
    for (const file of [plainFile, hashedFile]) {
      const { entries } = parseKnownHosts(await readFile(file, 'utf8'), file);
      const linesFor = (name: string) =>
        entries.filter((entry) => entryMatchesHost(entry, name)).map((entry) => entry.line);
      for (const [name, lowercased] of [
        ['BETA.example.org', 'beta.example.org'],
        ['[Alpha.Example.Org]:2222', '[alpha.example.org]:2222'],
      ] as const) {
        assert.ok(
          entries.some((entry) => entry.marker === null && entryMatchesHost(entry, name)),
          `${name} in ${file}`,
        );
        assert.deepEqual(linesFor(name), linesFor(lowercased), `${name} in ${file}`);
      }
    }
  });

  it('lets a negated pattern rule a line out wherever it stands', () => {
    const entry = (hosts: string): KnownHostsEntry => ({
      file: 'kh',
      line: 1,
      marker: null,
      hosts,
      keyType: 'ssh-ed25519',
      key: keys.alphaEd.blob,
    });
    assert.equal(entryMatchesHost(entry('*.lan,!vault.lan'), 'vault.lan'), false);
    assert.equal(entryMatchesHost(entry('!vault.lan,*.lan'), 'vault.lan'), false);
    assert.equal(entryMatchesHost(entry('!vault.lan,*.lan'), 'printer.lan'), true);
    assert.equal(entryMatchesHost(entry('!vault.lan'), 'printer.lan'), false);
    assert.equal(entryMatchesHost(entry('a.lan,b.lan'), 'b.lan'), true);
    assert.equal(entryMatchesHost(entry('*.lan'), 'lan'), false);
    assert.equal(entryMatchesHost(entry('a.b'), 'axb'), false); // `.` is no wildcard
  });
});

describe('hostLookupName', () => {
  it('is the lowercased address on port 22, [address]:port elsewhere', () => {
    assert.equal(hostLookupName('alpha.example.org', 22), 'alpha.example.org');
    assert.equal(hostLookupName('Alpha.Example.ORG', 22), 'alpha.example.org');
    assert.equal(hostLookupName('alpha.example.org', 2222), '[alpha.example.org]:2222');
    assert.equal(hostLookupName('2001:db8::1', 2222), '[2001:db8::1]:2222');
  });
});

describe('keys', () => {
  it('fingerprints and names keys exactly as ssh-keygen -l does', async () => {
    for (const key of Object.values(keys)) {
      const { stdout, code, stderr } = await run('ssh-keygen', ['-l', '-f', key.publicKeyFile]);
      assert.equal(code, 0, stderr);
      const [, sshKeygenFingerprint, label] = /^\d+ (SHA256:\S+) .* \((\w+)\)$/.exec(stdout.trim())!;
      assert.equal(fingerprint(key.blob), sshKeygenFingerprint);
      assert.equal(describeKey(key.blob), `${label} key ${sshKeygenFingerprint}`);
    }
  });

  // OpenSSH 10 dropped DSA, so ssh-keygen cannot be relied on to make one: a made-up blob will do.
  it('names a DSA key as OpenSSH does', () => {
    assert.equal(describeKey(dsaBlob()), `DSA key ${fingerprint(dsaBlob())}`);
  });

  it('reads the key type from the blob', () => {
    for (const key of Object.values(keys)) assert.equal(keyTypeOfBlob(key.blob), key.text.split(' ')[0]);
    assert.throws(() => keyTypeOfBlob(Buffer.from([0, 0, 0, 11, 0x73])), /not an SSH public key/);
    assert.throws(() => keyTypeOfBlob(Buffer.from([0, 0])), /not an SSH public key/);
  });
});

describe('checkHostKey', () => {
  it('gives revoked, trusted, changed and unknown like OpenSSH', async () => {
    const store = await KnownHostsStore.load([plainFile]);
    for (const [address, port, key, expected] of verdictCases()) {
      assert.equal(
        summary(store.check([address], port, key.blob)),
        expected,
        `${address}:${port} ${describeKey(key.blob)}`,
      );
    }
  });

  // `ssh-keygen -H` gives each name of a line its own line, so entries are compared by key, not line.
  it('gives the same verdicts on a copy hashed by ssh-keygen -H', async () => {
    const hashed = await KnownHostsStore.load([hashedFile]);
    assert.equal((await readFile(hashedFile, 'utf8')).match(/^\|1\|/gm)?.length, 8);
    const plain = await KnownHostsStore.load([plainFile]);
    for (const [address, port, key] of verdictCases()) {
      const verdicts = [plain, hashed].map((store) => keysOf(store.check([address], port, key.blob)));
      assert.equal(verdicts[1], verdicts[0], `${address}:${port} ${describeKey(key.blob)}`);
    }
  });

  it('names the known entries of a changed key', async () => {
    const { entries } = parseKnownHosts(knownHostsText(), plainFile);
    const verdict = checkHostKey(entries, ['alpha.example.org'], keys.intruder.blob);
    assert.equal(verdict.status, 'changed');
    assert.deepEqual(
      verdict.status === 'changed' && verdict.known.map((entry) => [entry.file, entry.line, describeKey(entry.key)]),
      [
        [plainFile, 2, describeKey(keys.alphaEd.blob)],
        [plainFile, 3, describeKey(keys.alphaEc.blob)],
      ],
    );
  });

  it('agrees with ssh(1) connecting to a server that offers the key', async () => {
    const store = await KnownHostsStore.load([plainFile]);
    const servers = new Map<TestKey, { port: number; close: () => void }>();
    try {
      for (const key of new Set(verdictCases().map(([, , key]) => key))) servers.set(key, await startServer(key));
      for (const [address, port, key] of verdictCases()) {
        const status = await sshVerdict(plainFile, address, port, servers.get(key)!.port);
        assert.equal(
          store.check([address], port, key.blob).status,
          status,
          `${address}:${port} ${describeKey(key.blob)}`,
        );
      }
    } finally {
      for (const server of servers.values()) server.close();
    }
  });
});

describe('KnownHostsStore', () => {
  it('puts the algorithms of the key types known for the host first', async () => {
    const store = await KnownHostsStore.load([plainFile]);
    const defaults = [
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
    ];
    assert.deepEqual(store.preferredHostKeyAlgorithms(['unknown.example.net'], 22), defaults);
    // Only a @cert-authority (ECDSA P-521) line and the @revoked line match: no plain key is known.
    assert.deepEqual(store.preferredHostKeyAlgorithms(['gamma.example.org'], 22), defaults);
    assert.deepEqual(store.preferredHostKeyAlgorithms(['beta.example.org'], 22), [
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
    ]);
    assert.deepEqual(store.preferredHostKeyAlgorithms(['build-1.example.org'], 22), [
      'ecdsa-sha2-nistp384',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
    ]);
    const legacy = await KnownHostsStore.load([
      await writeKnownHosts('dsa', `legacy.example.org ssh-dss ${dsaBlob().toString('base64')}\n`),
    ]);
    assert.deepEqual(legacy.preferredHostKeyAlgorithms(['legacy.example.org'], 22), ['ssh-dss', ...defaults]);
    const twoKeys = await KnownHostsStore.load([
      await writeKnownHosts('two-keys', `[delta]:2200 ${keys.ec384.text}\n[delta]:2200 ${keys.rsa.text}\n`),
    ]);
    assert.deepEqual(twoKeys.preferredHostKeyAlgorithms(['delta'], 2200), [
      'ecdsa-sha2-nistp384',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp521',
    ]);
  });

  it('reads several files, treats missing ones as empty and keeps their problems', async () => {
    const broken = await writeKnownHosts(
      'broken',
      `delta.example.org ${keys.alphaEd.text}\ndelta.example.org ssh-ed25519\n`,
    );
    const store = await KnownHostsStore.load([join(dir, 'missing', 'known_hosts'), broken, plainFile]);
    assert.deepEqual(store.files, [join(dir, 'missing', 'known_hosts'), broken, plainFile]);
    assert.deepEqual(store.problems, [{ file: broken, line: 2, message: 'no key after the key type' }]);
    assert.equal(summary(store.check(['delta.example.org'], 22, keys.alphaEd.blob)), 'trusted 1');
    assert.equal(summary(store.check(['alpha.example.org'], 22, keys.alphaEd.blob)), 'trusted 2');
  });

  it('fails on a file it cannot read, naming it', async () => {
    const notAFile = join(dir, 'a-directory');
    await mkdir(notAFile, { recursive: true });
    await assert.rejects(KnownHostsStore.load([plainFile, notAFile]), (error: unknown) => {
      assert.ok(error instanceof ChatonError);
      assert.match(error.message, new RegExp(`${notAFile}.*EISDIR`));
      return true;
    });
  });

  it('accepts a new key: creates the directory (0700) and file (0600), and a new load trusts it', async () => {
    const file = join(dir, 'fresh', 'nested', '.ssh', 'known_hosts');
    const store = await KnownHostsStore.load([file, plainFile]);
    assert.equal(store.check(['new.example.org'], 22, keys.alphaEd.blob).status, 'unknown');

    const accepted = await store.accept('New.Example.org', 22, keys.alphaEd.blob);
    assert.deepEqual(accepted, { file, line: `new.example.org ${keys.alphaEd.text}` });
    for (const created of ['fresh', 'fresh/nested', 'fresh/nested/.ssh'])
      assert.equal((await stat(join(dir, created))).mode & 0o777, 0o700, created);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), `new.example.org ${keys.alphaEd.text}\n`);
    assert.deepEqual(store.check(['new.example.org'], 22, keys.alphaEd.blob), {
      status: 'trusted',
      entry: { file, line: 1, marker: null, hosts: 'new.example.org', keyType: 'ssh-ed25519', key: keys.alphaEd.blob },
    });

    await store.accept('new.example.org', 2222, keys.alphaEc.blob);
    assert.equal(
      await readFile(file, 'utf8'),
      `new.example.org ${keys.alphaEd.text}\n[new.example.org]:2222 ${keys.alphaEc.text}\n`,
    );

    const reloaded = await KnownHostsStore.load([file]);
    assert.equal(summary(reloaded.check(['new.example.org'], 22, keys.alphaEd.blob)), 'trusted 1');
    assert.equal(summary(reloaded.check(['new.example.org'], 2222, keys.alphaEc.blob)), 'trusted 2');
    assert.equal(summary(reloaded.check(['new.example.org'], 22, keys.intruder.blob)), 'changed 1');
  });

  it('records a host on another port as [address]:port, unless its bare name already has the key', async () => {
    const file = await writeKnownHosts('bare-names', knownHostsText());
    const store = await KnownHostsStore.load([file]);
    assert.deepEqual(await store.accept('alpha.example.org', 2223, keys.alphaEd.blob), {
      file,
      line: `alpha.example.org ${keys.alphaEd.text}`,
    });
    assert.equal(await readFile(file, 'utf8'), knownHostsText());
    // Another key under the bare name is no change: the host's own line is added, and rules from then on.
    await store.accept('alpha.example.org', 2223, keys.intruder.blob);
    assert.equal(await readFile(file, 'utf8'), `${knownHostsText()}[alpha.example.org]:2223 ${keys.intruder.text}\n`);
    assert.equal(summary(store.check(['alpha.example.org'], 2223, keys.intruder.blob)), 'trusted 16');
    assert.equal(summary(store.check(['alpha.example.org'], 2223, keys.alphaEd.blob)), 'changed 16');
    await assert.rejects(store.accept('zeta.example.org', 2222, keys.alphaEc.blob), (error: unknown) => {
      assert.ok(error instanceof HostKeyError);
      assert.match(error.message, new RegExp(`^\\[zeta\\.example\\.org\\]:2222: .*revoked in ${file}:13`));
      return true;
    });
  });

  it("orders host key algorithms by the host's own lines, not by its bare name", async () => {
    const store = await KnownHostsStore.load([plainFile]);
    // ssh asks for the type it knows under [address]:port only: a bare name's ECDSA key is not asked for.
    assert.equal(store.preferredHostKeyAlgorithms(['alpha.example.org'], 2223)[0], 'ssh-ed25519');
    assert.equal(store.preferredHostKeyAlgorithms(['beta.example.org'], 2200)[0], 'ssh-ed25519');
    assert.equal(store.preferredHostKeyAlgorithms(['beta.example.org'], 22)[0], 'rsa-sha2-512');
  });

  it('appends after a last line that lacks its newline, and never rewrites it', async () => {
    const before = `# kept as is\r\nold.example.org ${keys.alphaEc.text}`;
    const file = await writeKnownHosts('no-final-newline', before);
    const store = await KnownHostsStore.load([file]);
    await store.accept('new.example.org', 22, keys.alphaEd.blob);
    assert.equal(await readFile(file, 'utf8'), `${before}\nnew.example.org ${keys.alphaEd.text}\n`);
    assert.equal(summary(store.check(['new.example.org'], 22, keys.alphaEd.blob)), 'trusted 3');
    assert.equal(
      summary((await KnownHostsStore.load([file])).check(['new.example.org'], 22, keys.alphaEd.blob)),
      'trusted 3',
    );
  });

  it('refuses a changed or revoked key and leaves the file alone', async () => {
    const file = await writeKnownHosts('refusals', knownHostsText());
    const store = await KnownHostsStore.load([file]);
    await assert.rejects(store.accept('alpha.example.org', 22, keys.intruder.blob), (error: unknown) => {
      assert.ok(error instanceof HostKeyError);
      assert.equal(error.host, 'alpha.example.org');
      assert.match(error.message, new RegExp(`changed.*${file}:2.*${file}:3`));
      return true;
    });
    await assert.rejects(store.accept('alpha.example.org', 22, keys.rsa.blob), HostKeyError);
    await assert.rejects(store.accept('stolen.example.org', 22, keys.revoked.blob), (error: unknown) => {
      assert.ok(error instanceof HostKeyError);
      assert.match(error.message, new RegExp(`revoked in ${file}:9`));
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), knownHostsText());
  });

  it('refuses a name that would read as patterns, and leaves the file alone', async () => {
    const file = await writeKnownHosts('patterns', '');
    const store = await KnownHostsStore.load([file]);
    for (const address of ['*', 'a.example.org,b.example.org', '!a.example.org', 'a b']) {
      await assert.rejects(store.accept(address, 22, keys.alphaEd.blob), HostKeyError, address);
    }
    assert.equal(await readFile(file, 'utf8'), '');
  });

  it('does not duplicate a key it already trusts', async () => {
    const file = await writeKnownHosts('already', knownHostsText());
    const store = await KnownHostsStore.load([file]);
    assert.deepEqual(await store.accept('printer.lan', 22, keys.intruder.blob), {
      file,
      line: `*.lan,!vault.lan ${keys.intruder.text}`,
    });
    assert.equal(await readFile(file, 'utf8'), knownHostsText());
  });

  it('serialises concurrent accepts: one line per host, none interleaved', async () => {
    const file = join(dir, 'concurrent', 'known_hosts');
    const store = await KnownHostsStore.load([file]);
    const hosts = Array.from({ length: 20 }, (_, index) => `host-${index}.example.org`);
    await Promise.all([...hosts, ...hosts].map((host) => store.accept(host, 22, keys.alphaEd.blob)));
    const { entries, problems } = parseKnownHosts(await readFile(file, 'utf8'), file);
    assert.deepEqual(problems, []);
    assert.deepEqual(entries.map((entry) => entry.hosts).sort(), [...hosts].sort());
  });
});

async function writeKnownHosts(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

// Before one `=` of padding, the last character has two bits that must be zero; sets the lowest.
function withStrayLowBit(paddedBase64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const last = alphabet.indexOf(paddedBase64.at(-2)!);
  return `${paddedBase64.slice(0, -2)}${alphabet[last | 1]}=`;
}

function dsaFields(): Buffer[] {
  return [Buffer.alloc(128, 0xb1), Buffer.alloc(20, 0x71), Buffer.alloc(128, 0x61), Buffer.alloc(128, 0x79)];
}

function dsaBlob(): Buffer {
  return sshBlob('ssh-dss', ...dsaFields());
}

function sshStrings(blob: Buffer): Buffer[] {
  const strings: Buffer[] = [];
  for (let offset = 0; offset < blob.length; offset += 4 + blob.readUInt32BE(offset)) {
    strings.push(blob.subarray(offset + 4, offset + 4 + blob.readUInt32BE(offset)));
  }
  return strings;
}

function sshBlob(...fields: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    fields.flatMap((field) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(field));
      return [length, Buffer.from(field)];
    }),
  );
}

/** An SSH server on 127.0.0.1 offering only `key`, refusing every login. */
async function startServer(key: TestKey): Promise<{ port: number; close: () => void }> {
  const server = new ssh2.Server({ hostKeys: [await readFile(key.privateKeyFile)] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (context) => context.reject());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/**
 * What ssh(1) makes of the key of the server on `serverPort` when it takes it for `address:port`:
 * a ProxyCommand reaches the server, so that ssh looks the host up under its own name and port
 * (a HostKeyAlias would keep it from falling back on the bare name).
 */
async function sshVerdict(
  knownHostsFile: string,
  address: string,
  port: number,
  serverPort: number,
): Promise<HostKeyVerdict['status']> {
  const relay =
    `require('node:net').connect(${serverPort}, '127.0.0.1', function () { ` +
    'process.stdin.pipe(this).pipe(process.stdout); })';
  const options = {
    BatchMode: 'yes',
    StrictHostKeyChecking: 'yes',
    UserKnownHostsFile: knownHostsFile,
    GlobalKnownHostsFile: '/dev/null',
    ProxyCommand: `'${process.execPath}' -e "${relay}"`,
    CheckHostIP: 'no',
    UpdateHostKeys: 'no',
    PreferredAuthentications: 'none',
    ConnectTimeout: '10',
  };
  const optionArgs = Object.entries(options).flatMap(([option, value]) => ['-o', `${option}=${value}`]);
  const args = ['-F', '/dev/null', ...optionArgs, '-p', String(port), `chaton@${address}`, 'true'];
  const { stderr } = await run('ssh', args);
  if (/Permission denied/.test(stderr)) return 'trusted';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) return 'changed';
  if (/marked as revoked/.test(stderr)) return 'revoked';
  if (/No \S+ host key is known/.test(stderr)) return 'unknown';
  throw new Error(`unexpected ssh output: ${stderr}`);
}

describe('KnownHostsStore: one host at several addresses', () => {
  // Line numbers below are the ones the tests expect.
  const text = () =>
    [
      /* 1 */ `198.51.100.7 ${keys.alphaEd.text}`,
      /* 2 */ `[198.51.100.7]:2222 ${keys.alphaEd.text}`,
      /* 3 */ `203.0.113.10 ${keys.intruder.text}`,
      /* 4 */ `192.0.2.20 ${keys.alphaEc.text}`,
      /* 5 */ `[192.0.2.21]:2222 ${keys.alphaEd.text}`,
      /* 6 */ `@revoked 192.0.2.30 ${keys.revoked.text}`,
      '',
    ].join('\n');
  const load = async (name: string, hashed = false) => {
    const file = await writeKnownHosts(name, text());
    if (hashed) assert.equal((await run('ssh-keygen', ['-H', '-f', file])).code, 0);
    return { file, store: await KnownHostsStore.load([file]) };
  };

  for (const hashed of [false, true]) {
    it(`trusts a key known for any of its addresses, and refuses any other (${hashed ? 'hashed' : 'plain'})`, async () => {
      const { store } = await load(`several-${hashed}`, hashed);
      // Unknown at 192.0.2.99: known for 198.51.100.7, which the inventory says is the same machine.
      assert.equal(store.check(['192.0.2.99', '198.51.100.7'], 22, keys.alphaEd.blob).status, 'trusted');
      assert.equal(store.check(['192.0.2.99', '198.51.100.7'], 22, keys.intruder.blob).status, 'changed');
      assert.equal(store.check(['192.0.2.99', '192.0.2.98'], 22, keys.alphaEd.blob).status, 'unknown');
      // Keys of other types count, as for one address: a new type is not a new host.
      assert.equal(store.check(['198.51.100.7', '192.0.2.20'], 22, keys.alphaEc.blob).status, 'trusted');
      assert.equal(store.check(['192.0.2.30', '198.51.100.7'], 22, keys.revoked.blob).status, 'revoked');
      // On another port, [address]:port lines, then the bare addresses, as OpenSSH falls back on them.
      assert.equal(store.check(['192.0.2.99', '198.51.100.7'], 2222, keys.alphaEd.blob).status, 'trusted');
      assert.equal(store.check(['192.0.2.99', '192.0.2.21'], 2222, keys.alphaEd.blob).status, 'trusted');
      assert.equal(store.check(['192.0.2.99', '192.0.2.20'], 2222, keys.alphaEc.blob).status, 'trusted');
      assert.equal(store.check(['192.0.2.99', '192.0.2.20'], 2222, keys.intruder.blob).status, 'unknown');
      assert.ok(store.knows(['192.0.2.99', '198.51.100.7'], 22));
      assert.ok(!store.knows(['192.0.2.99', '192.0.2.98'], 22));
      assert.equal(store.preferredHostKeyAlgorithms(['192.0.2.99', '192.0.2.20'], 22)[0], 'ecdsa-sha2-nistp256');
    });
  }

  it('finds two addresses given different keys of one type, naming both lines', async () => {
    const { file, store } = await load('disagreeing');
    const lines = (found: ReturnType<KnownHostsStore['disagreement']>) =>
      found?.map(({ address, entry }) => `${address} ${entry.file}:${entry.line}`);
    assert.deepEqual(lines(store.disagreement(['198.51.100.7', '203.0.113.10'], 22)), [
      `198.51.100.7 ${file}:1`,
      `203.0.113.10 ${file}:3`,
    ]);
    // Keys of different types, or one address unknown: nothing to disagree about.
    assert.equal(store.disagreement(['198.51.100.7', '192.0.2.20', '192.0.2.99'], 22), undefined);
    // A bare-address line of a host on another port only vouches: it does not disagree.
    assert.equal(store.disagreement(['198.51.100.7', '203.0.113.10'], 2222), undefined);
  });

  it('--accept-new records the address the key was offered at; a key known for another address is left', async () => {
    const { file, store } = await load('accepting');
    const before = await readFile(file, 'utf8');
    assert.deepEqual(await store.accept('192.0.2.99', 22, keys.alphaEd.blob, ['198.51.100.7', '192.0.2.99']), {
      file,
      line: `198.51.100.7 ${keys.alphaEd.text}`,
    });
    await assert.rejects(
      store.accept('192.0.2.99', 22, keys.intruder.blob, ['198.51.100.7', '192.0.2.99']),
      HostKeyError,
    );
    assert.equal(await readFile(file, 'utf8'), before);
    await store.accept('192.0.2.99', 22, keys.intruder.blob, ['192.0.2.98', '192.0.2.99']);
    assert.equal(await readFile(file, 'utf8'), `${before}192.0.2.99 ${keys.intruder.text}\n`);
  });
});

describe('recordHostKey', () => {
  it('creates the directory (0700) and the file (0600), then leaves a key it already holds', async () => {
    const file = join(dir, 'recorded', '.ssh', 'known_hosts');
    assert.equal(await recordHostKey(file, ['198.18.3.240'], 22, keys.alphaEd.blob), 'added');
    assert.equal((await stat(join(dir, 'recorded', '.ssh'))).mode & 0o777, 0o700);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), `198.18.3.240 ${keys.alphaEd.text}\n`);
    assert.equal(await recordHostKey(file, ['198.18.3.240'], 22, keys.alphaEd.blob), 'unchanged');
    assert.equal(await readFile(file, 'utf8'), `198.18.3.240 ${keys.alphaEd.text}\n`);
  });

  it("replaces the host's own lines, keeps every other line, and ssh(1) then trusts the new key", async () => {
    const file = await writeKnownHosts('record-replace', knownHostsText());
    assert.equal(await recordHostKey(file, ['Alpha.example.org'], 22, keys.intruder.blob), 'replaced');
    const lines = knownHostsText().split('\n');
    // Lines 2 and 3 were alpha's own; [alpha.example.org]:2222 is another host for ssh.
    const expected = [...lines.slice(0, 1), ...lines.slice(3, -1), `alpha.example.org ${keys.intruder.text}`, ''];
    assert.equal(await readFile(file, 'utf8'), expected.join('\n'));
    const server = await startServer(keys.intruder);
    try {
      assert.equal(await sshVerdict(file, 'alpha.example.org', 22, server.port), 'trusted');
    } finally {
      server.close();
    }
  });

  it('takes only its names out of a line that lists other hosts too', async () => {
    const file = await writeKnownHosts('record-shared-line', knownHostsText());
    assert.equal(await recordHostKey(file, ['192.0.2.7'], 22, keys.intruder.blob), 'replaced');
    const text = await readFile(file, 'utf8');
    assert.ok(text.includes(`\nBeta.Example.ORG ${keys.rsa.text}\n`));
    assert.ok(text.endsWith(`\n192.0.2.7 ${keys.intruder.text}\n`));
    const store = await KnownHostsStore.load([file]);
    assert.equal(store.check(['beta.example.org'], 22, keys.rsa.blob).status, 'trusted');
    assert.equal(store.check(['192.0.2.7'], 22, keys.intruder.blob).status, 'trusted');
    assert.equal(store.check(['192.0.2.7'], 22, keys.rsa.blob).status, 'changed');
  });

  it('replaces hashed lines for its names too', async () => {
    const file = await writeKnownHosts('record-hashed', await readFile(hashedFile, 'utf8'));
    const before = parseKnownHosts(await readFile(hashedFile, 'utf8'), file).entries;
    assert.equal(await recordHostKey(file, ['alpha.example.org'], 22, keys.rsa.blob), 'replaced');
    const after = parseKnownHosts(await readFile(file, 'utf8'), file).entries;
    // alpha's two hashed lines went; one plain line came.
    assert.equal(after.length, before.length - 1);
    assert.equal(summary(checkHostKey(after, ['alpha.example.org'], keys.rsa.blob)), `trusted ${after.at(-1)!.line}`);
    assert.equal(checkHostKey(after, ['alpha.example.org'], keys.alphaEd.blob).status, 'changed');
    assert.equal(checkHostKey(after, ['beta.example.org'], keys.rsa.blob).status, 'trusted');
  });

  it('records every address of the host on its port, and adds only the names that lack the key', async () => {
    const file = await writeKnownHosts('record-addresses', `[198.18.3.241]:2222 ${keys.alphaEd.text}\n`);
    const addresses = ['198.18.3.240', '198.18.3.241'];
    assert.equal(await recordHostKey(file, addresses, 2222, keys.alphaEd.blob), 'added');
    assert.equal(
      await readFile(file, 'utf8'),
      `[198.18.3.241]:2222 ${keys.alphaEd.text}\n[198.18.3.240]:2222 ${keys.alphaEd.text}\n`,
    );
    assert.equal(await recordHostKey(file, addresses, 2222, keys.alphaEd.blob), 'unchanged');
  });

  it('refuses a key revoked for the host, and a name that would read as patterns; the file stays', async () => {
    const file = await writeKnownHosts('record-refused', knownHostsText());
    await assert.rejects(recordHostKey(file, ['stolen.example.org'], 22, keys.revoked.blob), (error: unknown) => {
      assert.ok(error instanceof HostKeyError);
      assert.match(error.message, new RegExp(`revoked in ${file}:9`));
      return true;
    });
    await assert.rejects(recordHostKey(file, ['*.example.org'], 22, keys.alphaEd.blob), HostKeyError);
    assert.equal(await readFile(file, 'utf8'), knownHostsText());
  });
});

describe('parseHostPublicKey', () => {
  it('reads the key of a .pub file as ssh-keygen writes it, comment and all', async () => {
    for (const key of Object.values(keys)) {
      assert.deepEqual(parseHostPublicKey(await readFile(key.publicKeyFile, 'utf8')), key.blob);
    }
    assert.deepEqual(parseHostPublicKey(`# host key\n${keys.alphaEd.text} root@vm\r\n`), keys.alphaEd.blob);
  });

  it('refuses anything else, saying what is wrong', () => {
    const ed25519 = keys.alphaEd.text.split(' ')[1]!;
    const cases: [string, RegExp][] = [
      ['', /0 key lines/],
      [`${keys.alphaEd.text}\n${keys.alphaEc.text}\n`, /2 key lines/],
      ['hello world', /unsupported key type hello/],
      ['ssh-ed25519', /no key after the key type/],
      [`ssh-ed25519 ${ed25519.slice(0, 40)}`, /not valid base64|cut short/],
      [`ecdsa-sha2-nistp256 ${ed25519}`, /the key is not of type ecdsa-sha2-nistp256/],
      ['-----BEGIN OPENSSH PRIVATE KEY-----', /unsupported key type/],
    ];
    for (const [text, expected] of cases) {
      assert.throws(
        () => parseHostPublicKey(text),
        (error: unknown) => error instanceof PublicKeyLineError && expected.test(error.message),
        text,
      );
    }
  });
});
