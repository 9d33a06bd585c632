import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { secretsOf, sysadminsOf } from '../../src/lib/access/inventory.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { UsageError } from '../../src/lib/run/errors.js';
import { findInventory } from '../../src/lib/inventory/discover.js';
import { defaultInitFile } from '../../src/lib/inventory/init.js';
import { readRegularFile, UnreadableFileError } from '../../src/lib/run/files.js';
import { loadInventory, parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError, type InventoryProblem } from '../../src/lib/inventory/reader.js';
import { registerSections } from '../../src/lib/inventory/sections.js';
import { resolveTargets } from '../../src/lib/inventory/targets.js';
import type { Inventory } from '../../src/lib/inventory/types.js';
import { parse as parseYaml } from 'yaml';
import { quoted } from '../../src/lib/run/printable.js';
import { suggest } from '../../src/lib/inventory/suggest.js';

// Compiled to dist/test/unit: the fixtures and the example stay in the source tree.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = path.join(REPO, 'test/unit/fixtures/inventories');
const EXAMPLE = path.join(REPO, 'inventory.example.yaml');

// Read with every domain's sections, as the chaton command reads it.
registerSections(INVENTORY_SECTIONS);

interface ExpectedProblem {
  line: number;
  col: number;
  path: string;
  messageIncludes: string;
}

/** Every problem of each broken inventory, in file order. */
const BROKEN_INVENTORIES: Record<string, ExpectedProblem[]> = {
  'syntax-error.yaml': [
    { line: 8, col: 3, path: '', messageIncludes: 'Flow sequence' },
    // Only the syntax: what the checks would say of pve3's address follows from it.
    { line: 11, col: 14, path: '', messageIncludes: 'Nested mappings are not allowed' },
    { line: 14, col: 1, path: '', messageIncludes: 'Missing closing "quote' },
  ],
  'tab-indent.yaml': [{ line: 4, col: 1, path: '', messageIncludes: 'Tabs are not allowed as indentation' }],
  'not-a-mapping.yaml': [
    { line: 2, col: 1, path: '', messageIncludes: 'must be a mapping (key: value lines), got a list' },
  ],
  'empty.yaml': [{ line: 1, col: 1, path: '', messageIncludes: 'the inventory is empty' }],
  'no-hosts.yaml': [
    { line: 2, col: 1, path: '', messageIncludes: 'there is no `hosts:` section' },
    { line: 4, col: 1, path: 'hostss', messageIncludes: 'unknown key "hostss"' },
  ],
  'unknown-keys.yaml': [
    { line: 3, col: 3, path: 'ssh.conect_timeout', messageIncludes: 'unknown key "conect_timeout"' },
    { line: 4, col: 3, path: 'ssh.compression', messageIncludes: 'unknown key "compression"' },
    { line: 7, col: 3, path: 'bastion.usr', messageIncludes: 'unknown key "usr"' },
    { line: 11, col: 5, path: 'hosts.pve1.rols', messageIncludes: 'unknown key "rols"' },
    { line: 12, col: 1, path: 'group', messageIncludes: 'unknown key "group"' },
  ],
  'wrong-types.yaml': [
    { line: 3, col: 10, path: 'ssh.agent', messageIncludes: 'must be true or false, got "yes"' },
    { line: 4, col: 20, path: 'ssh.connect_timeout', messageIncludes: 'greater than 0, got "10"' },
    { line: 5, col: 20, path: 'ssh.command_timeout', messageIncludes: '0 or more (0 = no limit), got -1' },
    { line: 6, col: 17, path: 'ssh.max_sessions', messageIncludes: 'from 1 to 64, got 100' },
    { line: 7, col: 24, path: 'ssh.keepalive_count_max', messageIncludes: '1 or more, got 0' },
    { line: 8, col: 19, path: 'ssh.identity_files', messageIncludes: 'must be a file path, got 3' },
    { line: 9, col: 16, path: 'ssh.known_hosts', messageIncludes: 'got an empty list' },
    {
      line: 10,
      col: 28,
      path: 'ssh.identity_passphrase_env',
      messageIncludes: 'environment variable, got "MY-PASSPHRASE"',
    },
    { line: 11, col: 11, path: 'defaults', messageIncludes: 'must be a mapping (key: value lines), got a list' },
    { line: 12, col: 10, path: 'bastion', messageIncludes: 'or a list of mappings' },
    { line: 16, col: 12, path: 'hosts.pve1.roles', messageIncludes: 'must be a list of role names, got "pve"' },
    { line: 17, col: 13, path: 'hosts.pve1.direct', messageIncludes: 'must be true or false, got 1' },
    { line: 18, col: 13, path: 'hosts.pve1.become', messageIncludes: 'must be "sudo" or "none", got "root"' },
    { line: 19, col: 9, path: 'hosts.pve2', messageIncludes: 'must be a mapping (key: value lines), got "10.0.0.12"' },
    { line: 21, col: 8, path: 'groups.web', messageIncludes: 'must be a list of host or group names, got "pve1"' },
  ],
  'invalid-names.yaml': [
    { line: 3, col: 9, path: 'bastion.name', messageIncludes: 'must be a valid name, got "$(reboot)"' },
    { line: 6, col: 3, path: 'hosts."web server"', messageIncludes: 'must be a valid name, got "web server"' },
    { line: 8, col: 3, path: 'hosts.-pve2', messageIncludes: 'must be a valid name, got "-pve2"' },
    { line: 10, col: 3, path: 'hosts."pve3;reboot"', messageIncludes: 'must be a valid name, got "pve3;reboot"' },
    { line: 12, col: 3, path: 'hosts.all', messageIncludes: '"all" is reserved' },
    { line: 16, col: 18, path: 'hosts.pve5.roles[1]', messageIncludes: 'must be a valid name, got "ceph osd"' },
    { line: 16, col: 30, path: 'hosts.pve5.roles[2]', messageIncludes: 'must be a valid name, got "-x"' },
    { line: 18, col: 3, path: 'groups."bad$group"', messageIncludes: 'must be a valid name, got "bad$group"' },
    { line: 19, col: 3, path: 'groups.all', messageIncludes: '"all" is reserved' },
  ],
  'invalid-ports.yaml': [
    { line: 3, col: 9, path: 'defaults.port', messageIncludes: 'from 1 to 65535, got 0' },
    { line: 9, col: 11, path: 'hosts.pve1.port', messageIncludes: 'from 1 to 65535, got 70000' },
    { line: 12, col: 11, path: 'hosts.pve2.port', messageIncludes: 'from 1 to 65535, got "22a"' },
    { line: 15, col: 11, path: 'hosts.pve3.port', messageIncludes: 'from 1 to 65535, got 22.5' },
    { line: 18, col: 11, path: 'hosts.pve4.port', messageIncludes: 'from 1 to 65535, got "22"' },
    { line: 21, col: 5, path: 'hosts.pve5.port', messageIncludes: 'from 1 to 65535, got nothing' },
  ],
  'invalid-addresses.yaml': [
    {
      line: 3,
      col: 12,
      path: 'bastion.address',
      messageIncludes: 'IP address or a DNS name, got "-bastion.example.org"',
    },
    { line: 4, col: 9, path: 'bastion.user', messageIncludes: 'must be a Unix user name, got "Chaton"' },
    { line: 7, col: 14, path: 'hosts.pve1.address', messageIncludes: 'got "10.0.0.1 2"' },
    { line: 9, col: 14, path: 'hosts.pve2.address', messageIncludes: 'got "pve2;reboot"' },
    { line: 11, col: 14, path: 'hosts.pve3.address', messageIncludes: 'got "pve3..example.org"' },
    { line: 14, col: 11, path: 'hosts.pve4.user', messageIncludes: 'got "root user"' },
    { line: 17, col: 11, path: 'hosts.pve5.user', messageIncludes: 'got "-admin"' },
    { line: 18, col: 3, path: 'hosts.pve6', messageIncludes: 'has no address' },
  ],
  'duplicate-hosts.yaml': [
    { line: 9, col: 3, path: 'hosts.pve1', messageIncludes: 'is written twice (first on line 5)' },
    { line: 13, col: 3, path: 'groups.hypervisors', messageIncludes: 'is written twice (first on line 12)' },
  ],
  'duplicate-endpoints.yaml': [
    {
      line: 9,
      col: 14,
      path: 'hosts.gw.address',
      messageIncludes: 'already the address of the bastion "inner" on line 6',
    },
    {
      line: 14,
      col: 14,
      path: 'hosts.pve2.address',
      messageIncludes: '10.0.0.11, port 2222, is already the address of the host "pve1"',
    },
    {
      line: 22,
      col: 14,
      path: 'hosts.www.address',
      messageIncludes: 'already the address of the host "web" on line 19',
    },
  ],
  'groups.yaml': [
    { line: 10, col: 29, path: 'groups.hypervisors[2]', messageIncludes: '"pve4" is not a host or a group' },
    { line: 11, col: 16, path: 'groups.everything[0]', messageIncludes: '"hypervisor" is not a host or a group' },
    { line: 11, col: 28, path: 'groups.everything[1]', messageIncludes: '"bastion" is a bastion' },
    { line: 13, col: 12, path: 'groups.loop-b[0]', messageIncludes: 'loop-a → loop-b → loop-a' },
    { line: 14, col: 13, path: 'groups.selfish[0]', messageIncludes: 'selfish → selfish' },
    { line: 15, col: 3, path: 'groups.pve2', messageIncludes: '"pve2" is already the name of the host on line 7' },
    { line: 16, col: 19, path: 'groups.nothing-alike[0]', messageIncludes: '"zzzzzz" is not a host or a group' },
  ],
  'hostile-keys.yaml': [
    {
      line: 5,
      col: 3,
      path: 'bastion."user\\x1b]0;pwned\\x07"',
      messageIncludes: 'unknown key "user\\x1b]0;pwned\\x07"',
    },
    {
      line: 7,
      col: 3,
      path: 'hosts."pve1\\n/etc/chaton.yaml:1:1: hosts.pve1: all good"',
      messageIncludes: 'must be a valid name, got "pve1\\n/etc/chaton.yaml:1:1: hosts.pve1: all good"',
    },
    { line: 11, col: 5, path: 'hosts.pve2."\\x1b[2J"', messageIncludes: 'unknown key "\\x1b[2J"' },
    { line: 12, col: 13, path: 'hosts.pve2.become', messageIncludes: 'got "sudo\\x1b[8m"' },
    { line: 13, col: 3, path: 'hosts."backup\\u202e"', messageIncludes: 'got "backup\\u202e"' },
    { line: 16, col: 3, path: 'groups."web\\x9b31m"', messageIncludes: 'got "web\\x9b31m"' },
    { line: 16, col: 18, path: 'groups."web\\x9b31m"[0]', messageIncludes: '"backup" is not a host or a group' },
    { line: 17, col: 3, path: 'groups."web\\x9b31m"', messageIncludes: 'is written twice' },
    { line: 18, col: 3, path: 'groups."quote\\"back\\\\slash"', messageIncludes: 'got "quote\\"back\\\\slash"' },
    { line: 20, col: 16, path: 'ssh.known_hosts', messageIncludes: 'got "~/.ssh/known_hosts\\x1b[8m"' },
  ],
  'no-bastion.yaml': [
    { line: 3, col: 3, path: 'hosts.pve1', messageIncludes: 'has no bastion' },
    { line: 8, col: 3, path: 'hosts.pve2', messageIncludes: 'has no bastion' },
  ],
  'several-problems.yaml': [
    { line: 4, col: 11, path: 'defaults.become', messageIncludes: 'got "yes"' },
    { line: 11, col: 26, path: 'hosts.pve1.ssh.max_sessions', messageIncludes: 'got 0' },
    { line: 11, col: 29, path: 'hosts.pve1.ssh.conect_timeout', messageIncludes: 'unknown key' },
    { line: 12, col: 3, path: 'hosts.pve1', messageIncludes: 'written twice' },
    { line: 15, col: 14, path: 'hosts.pve2.address', messageIncludes: 'already the address of the bastion "bastion"' },
    { line: 16, col: 3, path: 'hosts."vm web"', messageIncludes: 'must be a valid name' },
    { line: 19, col: 9, path: 'groups.web[0]', messageIncludes: '"vm-web" is not a host or a group' },
    { line: 20, col: 1, path: '', messageIncludes: 'more than one YAML document' },
  ],
};

/** Hints that must accompany some problems: the did-you-mean ones above all. */
const EXPECTED_HINTS: Record<string, Record<string, string>> = {
  'unknown-keys.yaml': {
    'ssh.conect_timeout': 'did you mean "connect_timeout"?',
    'ssh.compression': 'known keys here: identity_files,',
    'bastion.usr': 'did you mean "user"?',
    'hosts.pve1.rols': 'did you mean "roles"?',
    group: 'did you mean "groups"?',
  },
  'no-hosts.yaml': { hostss: 'did you mean "hosts"?' },
  'groups.yaml': {
    'groups.hypervisors[2]': 'did you mean "pve1"?',
    'groups.everything[0]': 'did you mean "hypervisors"?',
    'groups.everything[1]': 'role:bastion',
    'groups.nothing-alike[0]': 'define it under `hosts:` or `groups:`',
  },
  'hostile-keys.yaml': { 'groups."web\\x9b31m"[0]': 'did you mean "backup\\u202e"?' },
  'no-bastion.yaml': { 'hosts.pve1': 'add a `bastion:` section, or mark the host `direct: true`' },
};

function fixturePath(name: string): string {
  return path.join(FIXTURES, name);
}

async function problemsOf(name: string): Promise<InventoryProblem[]> {
  const error = await loadInventory(fixturePath(name)).then(
    () => assert.fail(`${name} loaded without problems`),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof InventoryError, `${name}: ${String(error)}`);
  return error.problems;
}

describe('parseInventory: broken inventories', () => {
  it('has a case for every fixture file', () => {
    const files = readdirSync(FIXTURES).filter((file) => file.endsWith('.yaml'));
    assert.deepEqual(files.sort(), Object.keys(BROKEN_INVENTORIES).sort());
  });

  for (const [name, expected] of Object.entries(BROKEN_INVENTORIES)) {
    it(`${name}: reports every problem at its line and column`, async () => {
      const problems = await problemsOf(name);
      const actual = problems.map(
        ({ position, path: problemPath }) => `${position.line}:${position.col} ${problemPath}`,
      );
      assert.deepEqual(
        actual,
        expected.map(({ line, col, path: problemPath }) => `${line}:${col} ${problemPath}`),
      );
      problems.forEach((problem, index) => {
        const { messageIncludes } = expected[index]!;
        assert.ok(problem.message.includes(messageIncludes), `${problem.message} should include ${messageIncludes}`);
        assert.equal(problem.position.file, fixturePath(name));
        assert.ok(problem.hint, `${problem.path}: ${problem.message} has no hint`);
      });
      for (const [problemPath, hint] of Object.entries(EXPECTED_HINTS[name] ?? {})) {
        const problem = problems.find((candidate) => candidate.path === problemPath);
        assert.ok(problem?.hint?.includes(hint), `${problemPath}: hint ${problem?.hint} should include ${hint}`);
      }
    });
  }

  it('formats all problems in one message, one per line, with the way forward', async () => {
    const error = await loadInventory(fixturePath('duplicate-hosts.yaml')).catch((thrown: unknown) => thrown);
    assert.ok(error instanceof InventoryError);
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 2);
    const file = fixturePath('duplicate-hosts.yaml');
    assert.equal(
      error.message,
      [
        `${file}:9:3: hosts.pve1: is written twice (first on line 5) (keep one of them: YAML would silently use only one)`,
        `${file}:13:3: groups.hypervisors: is written twice (first on line 12) (keep one of them: YAML would silently use only one)`,
      ].join('\n'),
    );
    assert.equal(error.hint, `fix these 2 problems; ${EXAMPLE} documents every key`);
  });

  it('escapes keys and values: a hostile inventory can neither act on the terminal nor fake a line', async () => {
    const error = await loadInventory(fixturePath('hostile-keys.yaml')).catch((thrown: unknown) => thrown);
    assert.ok(error instanceof InventoryError);
    const lines = error.message.split('\n');
    assert.equal(lines.length, error.problems.length);
    for (const line of [...lines, error.hint ?? '']) {
      assert.ok(line.startsWith(`${fixturePath('hostile-keys.yaml')}:`) || line === error.hint, line);
      assert.doesNotMatch(line, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u, JSON.stringify(line));
    }
  });

  it('escapes the source text that a YAML syntax error quotes', () => {
    assert.throws(
      () => parseInventory('hosts: |2\x1b[2J\n  pve1\n', 'inventory.yaml'),
      (error: unknown) =>
        error instanceof InventoryError &&
        /YAML syntax: Block scalar header includes extra characters: \|2\\x1b\[2J \(/.test(error.message),
    );
  });

  it('sorts problems by position, whatever order they were found in', () => {
    const at = (line: number, col: number): InventoryProblem => ({
      position: { file: 'f', line, col },
      path: 'p',
      message: `${line}:${col}`,
    });
    const error = new InventoryError([at(3, 1), at(1, 9), at(1, 2)]);
    assert.deepEqual(
      error.problems.map((problem) => problem.message),
      ['1:2', '1:9', '3:1'],
    );
    assert.equal(new InventoryError([at(1, 1)]).hint, `fix this problem; ${EXAMPLE} documents every key`);
  });

  it('says when the file cannot be read, as a usage error', async () => {
    const error = await loadInventory(fixturePath('missing.yaml')).catch((thrown: unknown) => thrown);
    assert.ok(error instanceof UsageError && !(error instanceof InventoryError));
    assert.match(error.message, /^the inventory .*missing\.yaml does not exist$/);
  });
});

describe('loadInventory: only a regular file, of at most 5 MiB', () => {
  const LIMIT = 5 * 1024 * 1024;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'chaton-read-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A valid inventory, padded with a comment to `bytes`. */
  const padded = async (name: string, bytes: number): Promise<string> => {
    const inventory = 'hosts:\n  pve1:\n    address: 10.0.0.11\n    direct: true\n# ';
    const file = path.join(dir, name);
    await writeFile(file, `${inventory}${'x'.repeat(bytes - inventory.length - 1)}\n`);
    return file;
  };

  it('reads an inventory of exactly the limit', async () => {
    const inventory = await loadInventory(await padded('limit.yaml', LIMIT));
    assert.deepEqual(
      inventory.hosts.map((host) => host.name),
      ['pve1'],
    );
  });

  it('refuses one byte more, with its size, the limit and what to check', async () => {
    const file = await padded('over.yaml', LIMIT + 1);
    await assert.rejects(loadInventory(file), (error: unknown) => {
      assert.ok(error instanceof UsageError && !(error instanceof InventoryError), String(error));
      assert.equal(error.message, `the inventory ${file} is larger than 5 MiB`);
      assert.match(error.hint ?? '', /is this really the inventory\?/);
      return true;
    });
  });

  it('reads no more than the limit and one byte, whatever size the file claims', async () => {
    // Files of /proc claim a size of 0 and hold more.
    await assert.rejects(readRegularFile('/proc/self/status', 16), (error: unknown) => {
      assert.ok(error instanceof UnreadableFileError && error.tooLarge);
      assert.equal(error.message, '/proc/self/status is larger than 16 bytes');
      return true;
    });
  });

  it('refuses a named pipe, a directory or a device, without waiting for a writer', async () => {
    const fifo = path.join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const cases: [string, string][] = [
      [fifo, 'a FIFO (named pipe)'],
      [dir, 'a directory'],
      ['/dev/null', 'a character device'],
    ];
    for (const [file, kind] of cases) {
      await assert.rejects(loadInventory(file), (error: unknown) => {
        assert.ok(error instanceof UsageError && !(error instanceof InventoryError), String(error));
        assert.equal(error.message, `the inventory ${file} is ${kind}, not a regular file`);
        return true;
      });
    }
  });
});

describe('parseInventory: YAML anchors and aliases', () => {
  const FILE = '/srv/chaton/inventory.yaml';

  it('reads the values an alias stands for, as often as it is used', () => {
    const hosts = [1, 2, 3].map((index) => `  pve${index}: {address: 10.0.0.1${index}, ssh: *slow}`);
    const bastion = 'bastion:\n  address: 203.0.113.10\n  ssh: &slow {connect_timeout: 30, max_sessions: 2}';
    const inventory = parseInventory(`${bastion}\nhosts:\n${hosts.join('\n')}\n`, FILE);
    assert.deepEqual(
      [...inventory.bastions, ...inventory.hosts].map((host) => [host.ssh.connectTimeoutMs, host.ssh.maxSessions]),
      [
        [30_000, 2],
        [30_000, 2],
        [30_000, 2],
        [30_000, 2],
      ],
    );
  });

  it('stops at the alias that has chaton read more than 100,000 values again, with one problem', () => {
    // 400 hosts share one mapping of 400 unknown keys: 160,000 problems, the same 400 over and over.
    const keys = Array.from({ length: 400 }, (_, index) => `    key${index}: 1`).join('\n');
    const others = Array.from({ length: 399 }, (_, index) => `  h${index + 1}: *many`).join('\n');
    const text = `hosts:\n  h0: &many\n${keys}\n${others}\n`;
    assert.throws(
      () => parseInventory(text, FILE),
      (error: unknown) => {
        assert.ok(error instanceof InventoryError);
        const repeated = error.problems.filter((problem) => problem.message.includes('through aliases'));
        assert.equal(repeated.length, 1, error.message.slice(0, 500));
        assert.ok(error.problems.length < 101_000, `${error.problems.length} problems`);
        // h0 reads its keys; the aliases of h1 to h250 repeat 400 values each, the one of h251 goes over.
        assert.deepEqual(repeated[0]!.position, { file: FILE, line: 653, col: 9 });
        assert.equal(repeated[0]!.path, 'hosts.h251');
        assert.match(repeated[0]!.message, /^\*many here has chaton read more than 100000 values again/);
        return true;
      },
    );
  });

  it('reports an alias without an anchor before it, which would otherwise read as nothing', () => {
    const text = 'hosts:\n  pve1:\n    address: 10.0.0.11\n    direct: true\n    ssh: *slow\n';
    assert.throws(
      () => parseInventory(text, FILE),
      (error: unknown) => {
        assert.ok(error instanceof InventoryError);
        const [problem, ...others] = error.problems;
        assert.deepEqual(others, []);
        assert.deepEqual([problem?.position.line, problem?.position.col, problem?.path], [5, 10, 'hosts.pve1.ssh']);
        assert.equal(problem?.message, 'the alias *slow has no anchor &slow before it');
        return true;
      },
    );
  });

  it('reads a "billion laughs" in bounded work: each alias is read once, not expanded', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level += 1) {
      const name = String.fromCharCode(97 + level);
      levels.push(
        `${name}: &${name} [${Array(10)
          .fill(`*${String.fromCharCode(96 + level)}`)
          .join(', ')}]`,
      );
    }
    const groups = levels.map((line) => `  ${line}`).join('\n');
    const text = `hosts:\n  h: {address: 10.0.0.1, direct: true, roles: *i}\ngroups:\n${groups}\n`;
    assert.throws(
      () => parseInventory(text, FILE),
      (error: unknown) => {
        assert.ok(error instanceof InventoryError);
        // A list of aliases is a list of wrong values, each reported once; nothing is read deeper.
        assert.ok(error.problems.length < 100, `${error.problems.length} problems`);
        assert.ok(!error.message.includes('through aliases'), error.message);
        return true;
      },
    );
  });
});

describe('parseInventory: valid inventories', () => {
  const home = homedir();

  it('loads inventory.example.yaml without problems, as documented', async () => {
    const inventory = await loadInventory(EXAMPLE);
    assert.equal(inventory.file, EXAMPLE);
    assert.deepEqual(
      inventory.hosts.map((host) => host.name),
      ['pve1', 'pve2', 'pve3', 'gw', 'pbs', 'vm-web', 'vm-mail', 'offsite'],
    );
    const [bastion] = inventory.bastions;
    assert.ok(bastion);
    assert.deepEqual(
      { name: bastion.name, roles: bastion.roles, groups: bastion.groups, via: bastion.via, become: bastion.become },
      { name: 'bastion', roles: ['bastion'], groups: [], via: [], become: null },
    );
    assert.equal(bastion.ssh.connectTimeoutMs, 15_000);
    const byName = new Map(inventory.hosts.map((host) => [host.name, host]));
    assert.deepEqual(
      byName.get('gw')?.via.map((jump) => jump.name),
      ['bastion'],
    );
    assert.deepEqual(byName.get('offsite')?.via, []);
    assert.equal(byName.get('pve1')?.ssh.commandTimeoutMs, 1_800_000);
    assert.equal(byName.get('pve2')?.ssh.commandTimeoutMs, 600_000);
    assert.deepEqual(byName.get('pve1')?.ssh.identityFiles, [path.join(home, '.ssh/id_ed25519')]);
    assert.equal(byName.get('pve1')?.ssh.identityPassphraseEnv, 'CHATON_KEY_PASSPHRASE');
    assert.deepEqual([byName.get('gw')?.user, byName.get('gw')?.become], ['admin', 'sudo']);
    assert.deepEqual(
      [...inventory.groups],
      [
        ['hypervisors', ['pve1', 'pve2', 'pve3']],
        ['vms', ['vm-web', 'vm-mail']],
        ['backups', ['pbs', 'offsite']],
        ['infrastructure', ['pve1', 'pve2', 'pve3', 'gw', 'pbs', 'offsite']],
      ],
    );
    assert.equal(bastion.sysadminAccess, 'forwarding');
    assert.ok(inventory.hosts.every((host) => host.sysadminAccess === 'shell'));
    const [camille] = sysadminsOf(inventory);
    assert.equal(sysadminsOf(inventory).length, 1);
    assert.deepEqual(
      { ...camille, keys: camille?.keys.map((key) => key.split(' ')[2]) },
      {
        login: 'camille',
        name: 'Camille Martin',
        email: 'camille@example.org',
        keys: ['camille@laptop', 'camille@phone'],
        sudo: true,
        groups: ['adm'],
        proxmoxRole: 'PVEAdmin',
        expires: '2026-12-31',
        source: camille?.source,
      },
    );
    assert.equal(camille?.source.file, EXAMPLE);
    assert.deepEqual(
      secretsOf(inventory).map((secret) => secret.name),
      ['restic-passphrase', 'pbs-api-token'],
    );
  });

  it('documents every key it accepts', async () => {
    const example = await readFile(EXAMPLE, 'utf8');
    const keys = [
      'ssh',
      'identity_files',
      'identity_passphrase_env',
      'agent',
      'known_hosts',
      'connect_timeout',
      'command_timeout',
      'keepalive_interval',
      'keepalive_count_max',
      'max_sessions',
      'persist',
      'defaults',
      'user',
      'port',
      'become',
      'bastion',
      'name',
      'address',
      'hosts',
      'roles',
      'direct',
      'groups',
      'sysadmin_access',
      'sysadmins',
      'login',
      'email',
      'keys',
      'sudo',
      'proxmox_role',
      'expires',
      'secrets',
    ];
    for (const key of keys) assert.match(example, new RegExp(`^\\s*(- )?${key}:`, 'm'), `${key} is not in the example`);
  });

  const COLLECTIVE = `
ssh:
  identity_files: ~/.ssh/chaton_ed25519
defaults:
  user: admin
  port: 2222
  become: sudo
bastion:
  - address: 203.0.113.10
  - address: 10.0.0.2
    user: jump
    ssh: { connect_timeout: 3 }
hosts:
  pve1:
    address: 10.0.0.11
    roles: [pve, ceph, pve]
  101:
    address: 10.0.1.101
    user: root
    become: none
  nas:
    address: nas.home.example.org
    direct: true
    ssh:
      identity_files: [keys/nas_ed25519, /etc/chaton/nas_rsa]
      known_hosts: [~/known_hosts, ./known_hosts]
      agent: false
      connect_timeout: 2.5
      command_timeout: 0
      keepalive_interval: 0
      keepalive_count_max: 5
      max_sessions: 2
      identity_passphrase_env: NAS_PASSPHRASE
groups:
  cluster: [pve1, '101']
  home: [nas]
  everything: [cluster, home]
  nothing: []
`;

  it('applies defaults, resolves paths and builds the bastion chain', () => {
    const inventory = parseInventory(COLLECTIVE, '/srv/collective/chaton.yaml');
    const [entry, inner] = inventory.bastions;
    const [pve1, vm101, nas] = inventory.hosts;
    assert.ok(entry && inner && pve1 && vm101 && nas);

    const baseSsh = {
      identityFiles: [path.join(home, '.ssh/chaton_ed25519')],
      identityFilesExplicit: true,
      agent: true,
      knownHosts: [path.join(home, '.ssh/known_hosts'), '/etc/ssh/ssh_known_hosts'],
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 600_000,
      keepaliveIntervalMs: 15_000,
      keepaliveCountMax: 3,
      maxSessions: 8,
      persistMs: 0,
    };
    const entryEndpoint = { name: 'bastion1', addresses: ['203.0.113.10'], port: 22, user: 'admin', ssh: baseSsh };
    const innerEndpoint = {
      name: 'bastion2',
      addresses: ['10.0.0.2'],
      port: 22,
      user: 'jump',
      ssh: { ...baseSsh, connectTimeoutMs: 3000 },
    };
    assert.deepEqual(entry, {
      ...entryEndpoint,
      roles: ['bastion'],
      groups: [],
      become: null,
      via: [],
      sysadminAccess: 'shell',
      source: { file: '/srv/collective/chaton.yaml', line: 9, col: 5 },
    });
    assert.deepEqual(inner.via, [entryEndpoint]);

    assert.deepEqual(pve1, {
      name: 'pve1',
      addresses: ['10.0.0.11'],
      port: 2222,
      user: 'admin',
      ssh: baseSsh,
      roles: ['pve', 'ceph'],
      groups: ['cluster', 'everything'],
      become: 'sudo',
      via: [entryEndpoint, innerEndpoint],
      sysadminAccess: 'shell',
      source: { file: '/srv/collective/chaton.yaml', line: 14, col: 3 },
    });
    assert.deepEqual([vm101.name, vm101.user, vm101.become, vm101.roles], ['101', 'root', null, []]);

    assert.deepEqual(nas.via, []);
    assert.deepEqual(nas.ssh, {
      identityFiles: ['/srv/collective/keys/nas_ed25519', '/etc/chaton/nas_rsa'],
      identityFilesExplicit: true,
      identityPassphraseEnv: 'NAS_PASSPHRASE',
      agent: false,
      knownHosts: [path.join(home, 'known_hosts'), '/srv/collective/known_hosts'],
      connectTimeoutMs: 2500,
      commandTimeoutMs: 0,
      keepaliveIntervalMs: 0,
      keepaliveCountMax: 5,
      maxSessions: 2,
      persistMs: 0,
    });

    assert.deepEqual(
      [...inventory.groups],
      [
        ['cluster', ['pve1', '101']],
        ['home', ['nas']],
        ['everything', ['pve1', '101', 'nas']],
        ['nothing', []],
      ],
    );
  });

  it('uses the default SSH settings when there is no ssh: section', () => {
    const inventory = parseInventory('hosts:\n  nas:\n    address: 192.168.1.5\n    direct: true\n', 'chaton.yaml');
    const [nas] = inventory.hosts;
    assert.equal(inventory.file, path.resolve('chaton.yaml'));
    assert.deepEqual(nas?.ssh, {
      identityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((key) => path.join(home, '.ssh', key)),
      identityFilesExplicit: false,
      agent: true,
      knownHosts: [path.join(home, '.ssh/known_hosts'), '/etc/ssh/ssh_known_hosts'],
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 600_000,
      keepaliveIntervalMs: 15_000,
      keepaliveCountMax: 3,
      maxSessions: 8,
      persistMs: 0,
    });
    assert.deepEqual([nas?.user, nas?.port, nas?.become, nas?.roles, nas?.groups], ['root', 22, null, [], []]);
    assert.deepEqual(inventory.bastions, []);
  });

  it('reads ssh.persist at every level: a duration up to a day, or off', () => {
    const text = `
ssh: { persist: 5m }
bastion:
  address: 203.0.113.10
  ssh: { persist: 'off' }
hosts:
  pve1: { address: 10.0.0.11 }
  pve2: { address: 10.0.0.12, ssh: { persist: 90s } }
  pve3: { address: 10.0.0.13, ssh: { persist: 1d } }
  pve4: { address: 10.0.0.14, ssh: { persist: off } }
`;
    const inventory = parseInventory(text, '/x/chaton.yaml');
    assert.deepEqual(
      [...inventory.bastions, ...inventory.hosts].map((machine) => [machine.name, machine.ssh.persistMs]),
      [
        ['bastion', 0],
        ['pve1', 300_000],
        ['pve2', 90_000],
        ['pve3', 86_400_000],
        ['pve4', 0],
      ],
    );
    assert.deepEqual(
      inventory.hosts[0]?.via.map((jump) => jump.ssh.persistMs),
      [0],
    );
  });

  it('refuses an ssh.persist that is not a duration up to a day nor off, at its line and column', () => {
    const text = `
ssh: { persist: 0 }
bastion:
  address: 203.0.113.10
  ssh: { persist: 2d }
hosts:
  pve1: { address: 10.0.0.11, ssh: { persist: 5 min } }
  pve2: { address: 10.0.0.12, ssh: { persist: 'on' } }
  pve3: { address: 10.0.0.13, ssh: { persist: false } }
`;
    assert.throws(
      () => parseInventory(text, '/x/chaton.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof InventoryError);
        assert.deepEqual(
          error.problems.map(({ position, path: problemPath, message }) => [
            `${position.line}:${position.col}`,
            problemPath,
            message,
          ]),
          [
            ['2:17', 'ssh.persist', 'must be a duration from 1s to 1d (such as 90s, 5m or 1h), or off, got 0'],
            [
              '5:19',
              'bastion.ssh.persist',
              'must be a duration from 1s to 1d (such as 90s, 5m or 1h), or off, got "2d"',
            ],
            [
              '7:47',
              'hosts.pve1.ssh.persist',
              'must be a duration from 1s to 1d (such as 90s, 5m or 1h), or off, got "5 min"',
            ],
            [
              '8:47',
              'hosts.pve2.ssh.persist',
              'must be a duration from 1s to 1d (such as 90s, 5m or 1h), or off, got "on"',
            ],
            [
              '9:47',
              'hosts.pve3.ssh.persist',
              'must be a duration from 1s to 1d (such as 90s, 5m or 1h), or off, got false',
            ],
          ],
        );
        assert.match(error.problems[0]!.hint ?? '', /^how long a background keeper holds the connections/);
        return true;
      },
    );
  });

  it('names a single bastion "bastion" and gives it the default user, not the default port', () => {
    const text =
      'defaults: { user: ops, port: 2200 }\nbastion: { address: jump.example.org }\nhosts: { pve1: { address: 10.0.0.11 } }\n';
    const [bastion] = parseInventory(text, '/x/chaton.yaml').bastions;
    assert.deepEqual([bastion?.name, bastion?.user, bastion?.port], ['bastion', 'ops', 22]);
  });
});

describe('parseInventory: sysadmins and secrets', () => {
  const FILE = '/srv/collective/chaton.yaml';
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtyAY4txLuqtsa5ekXqJwC/k6suOWOYbTvRnGXV7W8T bob@phone';
  const PRIVATE_KEY_LINES = [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
    '-----END OPENSSH PRIVATE KEY-----',
  ];
  const BROKEN_ROSTER = `bastion:
  address: 203.0.113.10
  sysadmin_access: none
hosts:
  pve1: { address: 10.0.0.11, sysadmin_access: forwarding }
sysadmins:
  - login: Camille.Martin
    name: "Camille: treasurer"
    email: camille.example.org
    keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIInAK5GX0Du3o4JinW8NIu6LRAKSvEgZxiDPIVAk camille@cut
      - ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIInAK5GX0Du3o4JinW8NIu6LRAKSvEgZxiDPIVAkI81J camille@mixed-up
      - ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIInAK5GX0Du3o4JinW8NIu6LRAKSvEgZxiDPIVAkI81J
      - |
${PRIVATE_KEY_LINES.map((line) => `        ${line}`).join('\n')}
    sudo: yes
    groups: [adm, Wheel]
    proxmox_role: PVE Admin
    expires: 2026-02-30
    shell: /bin/zsh
  - name: Nobody
  - login: bob
    keys: []
  - login: bob
    keys: [${KEY}]
    expire: 2026-12-31
  - login: dave
    keys: "-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA -----END RSA PRIVATE KEY-----"
  - login: eve
    keys: [${KEY}]
    expires: 2026-1-5
secrets:
  restic-passphrase: ""
  bad name: the key of something
  pbs-api-token:
sysadmin: []
`;

  it('reports every bad value at its line and column, with its path', () => {
    const error = (() => {
      try {
        parseInventory(BROKEN_ROSTER, FILE);
      } catch (thrown) {
        return thrown;
      }
      return assert.fail('the broken roster loaded');
    })();
    assert.ok(error instanceof InventoryError);
    const expected: [string, string][] = [
      ['3:20 bastion.sysadmin_access', 'must be "shell" or "forwarding", got "none"'],
      ['5:31 hosts.pve1.sysadmin_access', 'unknown key "sysadmin_access"'],
      ['7:12 sysadmins[0].login', 'must be a Unix user name, got "Camille.Martin"'],
      ['8:11 sysadmins[0].name', 'must be a name on one line, without ":"'],
      ['9:12 sysadmins[0].email', 'must be an email address, got "camille.example.org"'],
      ['11:9 sysadmins[0].keys[0]', 'must be an OpenSSH public key line'],
      ['12:9 sysadmins[0].keys[1]', 'must be an OpenSSH public key line'],
      ['13:9 sysadmins[0].keys[2]', 'must be an OpenSSH public key line'],
      ['14:9 sysadmins[0].keys[3]', 'a private key was pasted here'],
      ['18:11 sysadmins[0].sudo', 'must be true or false, got "yes"'],
      ['19:19 sysadmins[0].groups[1]', 'must be a Unix group name, got "Wheel"'],
      ['20:19 sysadmins[0].proxmox_role', 'must be a Proxmox role name, got "PVE Admin"'],
      ['21:14 sysadmins[0].expires', 'must be a date written YYYY-MM-DD, got "2026-02-30"'],
      ['22:5 sysadmins[0].shell', 'unknown key "shell"'],
      ['23:5 sysadmins[1]', 'has no login'],
      ['23:5 sysadmins[1]', 'has no keys'],
      ['25:11 sysadmins[2].keys', 'must be a list of SSH public keys, got an empty list'],
      ['26:12 sysadmins[3].login', '"bob" is already the login of the sysadmin on line 24'],
      ['28:5 sysadmins[3].expire', 'unknown key "expire"'],
      ['30:11 sysadmins[4].keys', 'a private key was pasted here'],
      ['33:14 sysadmins[5].expires', 'got "2026-1-5"'],
      ['35:22 secrets.restic-passphrase', 'must be a description of the secret, got ""'],
      ['36:3 secrets."bad name"', 'must be a valid name, got "bad name"'],
      ['37:3 secrets.pbs-api-token', 'must be a description of the secret, got nothing'],
      ['38:1 sysadmin', 'unknown key "sysadmin"'],
    ];
    const problems = error.problems.map((problem) => ({
      at: `${problem.position.line}:${problem.position.col} ${problem.path}`,
      ...problem,
    }));
    assert.deepEqual(
      problems.map((problem) => problem.at),
      expected.map(([at]) => at),
    );
    problems.forEach((problem, index) => {
      const [at, messageIncludes] = expected[index]!;
      assert.ok(
        problem.message.includes(messageIncludes),
        `${at}: ${problem.message} should include ${messageIncludes}`,
      );
      assert.equal(problem.position.file, FILE);
      assert.ok(problem.hint, `${at}: ${problem.message} has no hint`);
    });
    assert.ok(error.message.split('\n').every((line) => line.startsWith(`${FILE}:`)));
    const hintOf = (at: string): string => problems.find((problem) => problem.at === at)?.hint ?? '';
    assert.match(hintOf('7:12 sysadmins[0].login'), /no dots, no capitals/);
    assert.match(hintOf('28:5 sysadmins[3].expire'), /did you mean "expires"\?/);
    assert.match(hintOf('38:1 sysadmin'), /did you mean "sysadmins"\?/);
    assert.match(hintOf('14:9 sysadmins[0].keys[3]'), /public key/);
    for (const secretText of [...PRIVATE_KEY_LINES, 'MIIEowIBAAKCAQEA', 'BEGIN']) {
      assert.ok(!error.message.includes(secretText), `the private key is repeated: ${secretText}`);
    }
  });

  it('reads a sysadmin with the defaults, and empty sections', () => {
    const hosts = 'hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n';
    const inventory = parseInventory(
      `${hosts}sysadmins:\n  - login: _bob-2\n    keys: ["${KEY}"]\nsecrets:\n  pbs-api-token: >\n    the token of the nodes\n`,
      FILE,
    );
    assert.deepEqual(sysadminsOf(inventory), [
      { login: '_bob-2', keys: [KEY], sudo: false, groups: [], source: { file: FILE, line: 4, col: 5 } },
    ]);
    assert.deepEqual(secretsOf(inventory), [
      { name: 'pbs-api-token', description: 'the token of the nodes\n', source: { file: FILE, line: 7, col: 3 } },
    ]);
    const limited = parseInventory(
      `${hosts}sysadmins:\n  - login: carol\n    keys: ["${KEY}"]\n    sudo: true\n    sudo_commands: /usr/sbin/qm, /usr/bin/pvesh\n`,
      FILE,
    );
    assert.equal(sysadminsOf(limited)[0]?.sudoCommands, '/usr/sbin/qm, /usr/bin/pvesh');
    assert.throws(
      () =>
        parseInventory(
          `${hosts}sysadmins:\n  - login: carol\n    keys: ["${KEY}"]\n    sudo_commands: /usr/sbin/qm\n`,
          FILE,
        ),
      /chaton\.yaml:6:20: sysadmins\[0\]\.sudo_commands: sudo_commands needs sudo: true/,
    );
    const empty = parseInventory(`${hosts}sysadmins:\nsecrets:\n`, FILE);
    assert.deepEqual([sysadminsOf(empty), secretsOf(empty)], [[], []]);
    assert.equal(empty.hosts[0]?.sysadminAccess, 'shell');
  });

  it('accepts each type of key OpenSSH puts in authorized_keys, whole, and a login of 32 characters', () => {
    /** A key line whose base64 part holds `fields` length-prefixed fields, the type name first. */
    const keyLine = (type: string, fields: number): string => {
      const field = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
      const values = Array.from({ length: fields - 1 }, () => field(Buffer.alloc(32, 7)));
      return `${type} ${Buffer.concat([field(Buffer.from(type)), ...values]).toString('base64')} someone@somewhere`;
    };
    const fieldsByType: [string, number][] = [
      ['ssh-ed25519', 2],
      ['ecdsa-sha2-nistp256', 3],
      ['ecdsa-sha2-nistp384', 3],
      ['ecdsa-sha2-nistp521', 3],
      ['sk-ssh-ed25519@openssh.com', 3],
      ['sk-ecdsa-sha2-nistp256@openssh.com', 4],
      ['ssh-rsa', 3],
      ['ssh-dss', 5],
    ];
    const login = 'a'.repeat(32);
    const roster = (keys: string[], name = login): string =>
      `hosts:\n  pve1: { address: 10.0.0.11, direct: true }\nsysadmins:\n  - login: ${name}\n    keys:\n${keys.map((key) => `      - ${key}\n`).join('')}`;
    const keys = [KEY, ...fieldsByType.map(([type, fields]) => keyLine(type, fields))];
    assert.deepEqual(sysadminsOf(parseInventory(roster(keys), FILE))[0]?.keys, keys);
    for (const [type, fields] of fieldsByType) {
      assert.throws(
        () => parseInventory(roster([keyLine(type, fields - 1)]), FILE),
        /keys\[0\]: must be an OpenSSH public key line/,
        type,
      );
    }
    assert.throws(() => parseInventory(roster([KEY], `${login}a`), FILE), /must be a Unix user name/);
  });
});

describe('resolveTargets', () => {
  let inventory: Inventory;
  before(async () => {
    inventory = await loadInventory(EXAMPLE);
  });
  const names = (spec: string): string[] => resolveTargets(inventory, spec).map((host) => host.name);

  it('resolves "all" to every host, without the bastion', () => {
    assert.deepEqual(names('all'), ['pve1', 'pve2', 'pve3', 'gw', 'pbs', 'vm-web', 'vm-mail', 'offsite']);
  });

  it('resolves host, bastion and group names, through nested groups', () => {
    assert.deepEqual(names('gw'), ['gw']);
    assert.deepEqual(names('bastion'), ['bastion']);
    assert.deepEqual(names('backups'), ['pbs', 'offsite']);
    assert.deepEqual(names('infrastructure'), ['pve1', 'pve2', 'pve3', 'gw', 'pbs', 'offsite']);
  });

  it('resolves roles on hosts and bastions', () => {
    assert.deepEqual(names('role:ceph'), ['pve1', 'pve2', 'pve3']);
    assert.deepEqual(names('role:backup'), ['pbs', 'offsite']);
    assert.deepEqual(names('role:bastion'), ['bastion']);
  });

  it('returns each host once, in inventory order, bastions first', () => {
    assert.deepEqual(names('vm-mail, pve3,hypervisors,bastion,role:pve'), [
      'bastion',
      'pve1',
      'pve2',
      'pve3',
      'vm-mail',
    ]);
    const [first, second] = resolveTargets(inventory, 'pve1,pve1');
    assert.equal(first, inventory.hosts[0]);
    assert.equal(second, undefined);
  });

  it('names every unknown item in one error, each with a suggestion', () => {
    assert.throws(
      () => resolveTargets(inventory, 'pve1,pve4,hypervisor,role:cephh,PBS,nothing-like-this'),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(
          error.message,
          'unknown targets "pve4" (did you mean "pve1"?), "hypervisor" (did you mean "hypervisors"?), ' +
            '"role:cephh" (did you mean "role:ceph"?), "PBS" (did you mean "pbs"?), "nothing-like-this"',
        );
        assert.match(error.hint ?? '', /chaton inventory show/);
        return true;
      },
    );
    assert.throws(() => resolveTargets(inventory, 'role:nobody'), /unknown target "role:nobody"/);
  });

  it('refuses an empty spec and empty items', () => {
    assert.throws(
      () => resolveTargets(inventory, ''),
      (error: unknown) => error instanceof UsageError && /no target given/.test(error.message),
    );
    assert.throws(() => resolveTargets(inventory, 'pve1,,pve2'), /empty target in "pve1,,pve2"/);
    assert.throws(() => resolveTargets(inventory, 'pve1,'), /empty target/);
  });

  it('refuses a spec that names no host at all (an empty group)', () => {
    const withEmptyGroup = parseInventory(
      'hosts:\n  a: { address: 10.0.0.1, direct: true }\ngroups:\n  empty: []\n',
      '/tmp/empty-group.yaml',
    );
    assert.deepEqual(
      resolveTargets(withEmptyGroup, 'a,empty').map((host) => host.name),
      ['a'],
    );
    assert.throws(() => resolveTargets(withEmptyGroup, 'empty'), /"empty" names no host/);
  });
});

describe('quoted: inventory text in messages', () => {
  it('escapes every character that could drive a terminal or break a line, as YAML writes it', () => {
    const hostile = 'a\nb\r\tc\x1b[31m\x07\x7f\x9b\u2028\u202e\u{e0041}';
    assert.equal(quoted(hostile), '"a\\nb\\r\\tc\\x1b[31m\\x07\\x7f\\x9b\\u2028\\u202e\\U000e0041"');
    assert.equal(parseYaml(quoted(hostile)), hostile);
    assert.equal(quoted('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
    assert.equal(parseYaml(quoted('say "hi" \\o/')), 'say "hi" \\o/');
    assert.equal(quoted('pve1.example.org été'), '"pve1.example.org été"');
  });
});

describe('suggest', () => {
  const keys = ['connect_timeout', 'command_timeout', 'hosts', 'groups', 'user'];

  it('finds typos: a letter missing, extra, wrong or swapped', () => {
    assert.equal(suggest('conect_timeout', keys), 'connect_timeout');
    assert.equal(suggest('hostss', keys), 'hosts');
    assert.equal(suggest('usr', keys), 'user');
    assert.equal(suggest('gruops', keys), 'groups');
    assert.equal(suggest('commnad_timeout', keys), 'command_timeout');
  });

  it('ignores case and accepts the beginning of a name', () => {
    assert.equal(suggest('HOSTS', keys), 'hosts');
    assert.equal(suggest('hyper', ['pve1', 'hypervisors']), 'hypervisors');
  });

  it('suggests nothing when nothing is close', () => {
    assert.equal(suggest('compression', keys), undefined);
    assert.equal(suggest('pve9', ['gw', 'pbs']), undefined);
    assert.equal(suggest('', keys), undefined);
  });
});

describe('findInventory', () => {
  let root: string;
  let deep: string;
  const noEnv = {};
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chaton-find-'));
    deep = path.join(root, 'a', 'b', 'c');
    await mkdir(deep, { recursive: true });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const put = async (file: string, text = 'hosts: {}\n'): Promise<string> => {
    const absolute = path.join(root, file);
    await mkdir(path.dirname(absolute), { recursive: true });
    await writeFile(absolute, text);
    return absolute;
  };

  it('reports a missing inventory with the ways to give one, and where the example is', async () => {
    const places = { home: path.join(root, 'home'), systemFile: path.join(root, 'etc/chaton/inventory.yaml') };
    await assert.rejects(findInventory({ env: noEnv, cwd: deep, ...places }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      const user = path.join(root, 'home/.config/chaton/inventory.yaml');
      assert.equal(
        error.message,
        `no inventory found in ${deep} or its parent directories, nor ${user} nor ${places.systemFile}`,
      );
      assert.equal(error.hint, `run \`chaton inventory init\`, pass -i FILE or set CHATON_INVENTORY; see ${EXAMPLE}`);
      return true;
    });
  });

  it('then the config directory ($XDG_CONFIG_HOME if absolute, else ~/.config), then /etc/chaton', async () => {
    const place = await mkdtemp(path.join(root, 'global-'));
    const home = path.join(place, 'home');
    const systemFile = path.join(place, 'etc/chaton/inventory.yaml');
    const find = (env: NodeJS.ProcessEnv) => findInventory({ env, cwd: place, home, systemFile });
    await put(`${path.basename(place)}/xdg/chaton/config.yaml`);
    await assert.rejects(find({ XDG_CONFIG_HOME: path.join(place, 'xdg') }), /no inventory found/);
    await put(`${path.basename(place)}/etc/chaton/inventory.yaml`);
    assert.deepEqual(await find({}), { path: systemFile, source: 'system' });
    const dotConfig = await put(`${path.basename(place)}/home/.config/chaton/inventory.yaml`);
    assert.deepEqual(await find({}), { path: dotConfig, source: 'config' });
    assert.deepEqual(await find({ XDG_CONFIG_HOME: 'xdg' }), { path: dotConfig, source: 'config' });
    const xdg = await put(`${path.basename(place)}/xdg/chaton/inventory.yaml`);
    assert.deepEqual(await find({ XDG_CONFIG_HOME: path.join(place, 'xdg') }), { path: xdg, source: 'config' });
    const nearest = await put(`${path.basename(place)}/chaton.yaml`);
    assert.deepEqual(await find({ XDG_CONFIG_HOME: path.join(place, 'xdg') }), { path: nearest, source: 'search' });
  });

  it('inventory init writes where this search finds it: root for the machine, others for themselves', () => {
    assert.equal(defaultInitFile({}, '/home/ana', 0), '/etc/chaton/inventory.yaml');
    assert.equal(defaultInitFile({}, '/home/ana', 1000), '/home/ana/.config/chaton/inventory.yaml');
    assert.equal(defaultInitFile({ XDG_CONFIG_HOME: '/cfg' }, '/home/ana', 1000), '/cfg/chaton/inventory.yaml');
  });

  it('finds a named pipe in the config directory without reading it', async () => {
    const place = await mkdtemp(path.join(root, 'fifo-home-'));
    const fifo = path.join(place, '.config/chaton/inventory.yaml');
    await mkdir(path.dirname(fifo), { recursive: true });
    execFileSync('mkfifo', [fifo]);
    const found = await findInventory({ env: {}, cwd: place, home: place, systemFile: '/nonexistent' });
    assert.deepEqual(found, { path: fifo, source: 'config' });
  });

  it('searches from the current directory up, even an empty file', async () => {
    const far = await put('a/chaton.yaml', '');
    assert.deepEqual(await findInventory({ env: noEnv, cwd: deep }), { path: far, source: 'search' });
    const near = await put('a/b/.config/chaton.yml');
    assert.deepEqual(await findInventory({ env: noEnv, cwd: deep }), { path: near, source: 'search' });
    const rc = await put('a/b/.chatonrc.yaml');
    assert.deepEqual(await findInventory({ env: noEnv, cwd: deep }), { path: rc, source: 'search' });
    const named = await put('a/b/chaton.yml');
    assert.deepEqual(await findInventory({ env: noEnv, cwd: deep }), { path: named, source: 'search' });
  });

  it('finds a named pipe or a directory without reading it, and loading it then refuses it', async () => {
    const place = await mkdtemp(path.join(root, 'odd-'));
    const fifo = path.join(place, 'chaton.yaml');
    execFileSync('mkfifo', [fifo]);
    assert.deepEqual(await findInventory({ env: noEnv, cwd: place }), { path: fifo, source: 'search' });
    await assert.rejects(loadInventory(fifo), /is a FIFO \(named pipe\), not a regular file/);
    await rm(fifo);
    await mkdir(fifo);
    assert.deepEqual(await findInventory({ env: noEnv, cwd: place }), { path: fifo, source: 'search' });
  });

  it('prefers --inventory, then CHATON_INVENTORY, relative to the current directory', async () => {
    const fromEnv = await put('env.yaml');
    const fromFlag = await put('a/flag.yaml');
    const env = { CHATON_INVENTORY: '../../../env.yaml' };
    assert.deepEqual(await findInventory({ env, cwd: deep }), { path: fromEnv, source: 'env' });
    assert.deepEqual(await findInventory({ flag: '../../flag.yaml', env, cwd: deep }), {
      path: fromFlag,
      source: 'flag',
    });
  });

  it('refuses a named inventory that does not exist or is not a file', async () => {
    const hint = /pass -i FILE or set CHATON_INVENTORY/;
    await assert.rejects(findInventory({ flag: 'nope.yaml', env: noEnv, cwd: root }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /cannot read the inventory .*nope\.yaml \(from --inventory\)/);
      assert.match(error.hint ?? '', hint);
      return true;
    });
    await assert.rejects(findInventory({ env: { CHATON_INVENTORY: root }, cwd: root }), /is not a file/);
  });
});

describe('parseInventory: several addresses for one machine', () => {
  const problemsOf = (text: string): string[] => {
    try {
      parseInventory(text, '/x/chaton.yaml');
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error;
      return error.problems.map(
        ({ position, path: at, message }) => `${position.line}:${position.col} ${at}: ${message}`,
      );
    }
    assert.fail('no problem reported');
  };

  it('reads a list in the order written, and a single address as a list of one', () => {
    const text = [
      'bastion: { address: [198.19.1.66, 198.19.1.74] }',
      'hosts:',
      '  pve1: { address: 10.0.0.11 }',
      '  nas: { address: [nas.example.org, 192.0.2.7], direct: true }',
      '',
    ].join('\n');
    const inventory = parseInventory(text, '/x/chaton.yaml');
    assert.deepEqual(inventory.bastions[0]?.addresses, ['198.19.1.66', '198.19.1.74']);
    const [pve1, nas] = inventory.hosts;
    assert.deepEqual(pve1?.addresses, ['10.0.0.11']);
    assert.deepEqual(
      pve1?.via.map((jump) => jump.addresses),
      [['198.19.1.66', '198.19.1.74']],
    );
    assert.deepEqual(nas?.addresses, ['nas.example.org', '192.0.2.7']);
  });

  it('reads a list behind the bastion too: the bastion tries them in order', () => {
    const text = 'bastion: { address: 203.0.113.10 }\nhosts:\n  pve1: { address: [10.0.0.11, 10.0.1.11] }\n';
    assert.deepEqual(parseInventory(text, '/x/chaton.yaml').hosts[0]?.addresses, ['10.0.0.11', '10.0.1.11']);
  });

  it('reports an empty list, an item that is no address, and an address twice, each at its line and column', () => {
    const text = [
      'bastion:',
      '  address: []',
      'hosts:',
      '  pve1:',
      '    address: [10.0.0.11, "10.0.0.12; reboot", {a: 1}]',
      '  pve2:',
      '    address:',
      '      - 10.0.0.21',
      '      - 10.0.0.22',
      '      - 10.0.0.21',
      '',
    ].join('\n');
    assert.deepEqual(problemsOf(text), [
      '2:12 bastion.address: must be an IP address or a DNS name, or a list of them, got an empty list',
      '5:26 hosts.pve1.address[1]: must be an IP address or a DNS name, got "10.0.0.12; reboot"',
      '5:47 hosts.pve1.address[2]: must be an IP address or a DNS name, got a mapping',
      '10:9 hosts.pve2.address[2]: this address is already in the list, on line 8',
    ]);
  });

  it("reports an address of a list that is already another machine's on the same port", () => {
    const text = [
      'bastion: { address: [198.19.1.66, 10.0.0.11] }',
      'hosts:',
      '  pve1: { address: 10.0.0.11 }',
      '  pve2: { address: [10.0.0.12, 198.19.1.66], port: 2222 }',
      '',
    ].join('\n');
    assert.deepEqual(problemsOf(text), [
      '3:20 hosts.pve1.address: 10.0.0.11, port 22, is already the address of the bastion "bastion" on line 1',
    ]);
  });
});
