// The chaton binary without any host: help, usage errors, inventory check and show, and the
// promises that `chaton --help` loads neither ssh2 nor listr2, and a run ssh2 only when it must.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { persistSetting } from '../../src/lib/run/lifecycle.js';
import { UsageError } from '../../src/lib/run/errors.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../inventory.example.yaml', import.meta.url));
const BROKEN = fileURLToPath(new URL('../../../test/unit/fixtures/inventories/several-problems.yaml', import.meta.url));
const HOSTILE = fileURLToPath(new URL('../../../test/unit/fixtures/inventories/hostile-keys.yaml', import.meta.url));

function chaton(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env = options.env ?? { PATH: process.env.PATH, HOME: os.tmpdir() };
  const run = spawnSync(process.execPath, [CHATON, ...args], {
    cwd: options.cwd,
    env,
    encoding: 'utf8',
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/**
 * The modules `script` (an ES module) loads, as a resolve hook names them on stderr, in order,
 * with the lines the script writes there itself.
 */
async function modulesLoaded(script: string, args: string[]): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-hook-'));
  const hook = path.join(dir, 'trace.mjs');
  const tracer = `import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) { const r = await next(specifier, context); writeSync(2, 'LOADED ' + r.url + '\\n'); return r; }`;
  await writeFile(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(tracer)}`)});\n`,
  );
  const run = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', script, ...args], {
    env: { PATH: process.env.PATH, HOME: os.tmpdir() },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stderr.split('\n');
}

describe('chaton --help', () => {
  it('shows the options, the exit-code table and examples, exit 0', () => {
    const run = chaton(['--help']);
    assert.equal(run.code, 0);
    for (const text of [
      '--dry-run',
      '--accept-new',
      '--persist <duration>',
      '--concurrency',
      'Exit codes:',
      '130  interrupted',
      'Examples:',
      'chaton exec hypervisors -- uptime',
    ]) {
      assert.ok(run.stdout.includes(text), `--help lacks ${text}`);
    }
  });

  it('loads neither ssh2 nor listr2', async () => {
    // The program module by module (bin/chaton.js runs its bundle, where a module's code runs
    // when it is first imported, as here: what --help does not load, it does not run).
    const cli = new URL('../../src/cli.js', import.meta.url).href;
    const loaded = await modulesLoaded(`const { main } = await import('${cli}'); await main(process.argv);`, [
      'chaton',
      '--help',
    ]);
    assert.ok(
      loaded.some((line) => line.includes('/node_modules/commander/')),
      'the tracer saw nothing',
    );
    for (const heavy of ['/node_modules/ssh2/', '/node_modules/listr2/', '/node_modules/yaml/']) {
      assert.ok(!loaded.some((line) => line.includes(heavy)), `--help loaded ${heavy}`);
    }
  });

  it('a run loads ssh2 only when it must sign or shake hands: not to offer an OpenSSH key', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-key-'));
    const key = path.join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const module = (file: string) => new URL(`../../src/lib/${file}`, import.meta.url).href;
    // What a run imports before its first connection, then the key loaded and offered, then signing.
    const script = `
      for (const file of ['run/lifecycle.js', 'run/context.js', 'run/connect.js', 'run/fan-out.js']) {
        await import(new URL(file, '${module('')}').href);
      }
      const { Identities } = await import('${module('ssh/identities.js')}');
      const identities = new Identities();
      const ssh = { identityFiles: ['${key}'], identityFilesExplicit: true, identityPassphraseEnv: '', agent: false };
      await identities.load([ssh], {}, async () => undefined);
      const [offer] = identities.offers({ user: 'root', ssh }, {});
      process.stderr.write('OFFERED ' + offer.key.type + '\\n');
      await identities.privateKey('${key}');`;
    const loaded = await modulesLoaded(script, []);
    const offered = loaded.findIndex((line) => line.startsWith('OFFERED ssh-ed25519'));
    assert.ok(offered > 0, loaded.join('\n'));
    const ssh2 = loaded.findIndex((line) => line.includes('/node_modules/ssh2/'));
    assert.ok(ssh2 > offered, `ssh2 was loaded before the key was offered, or never (${ssh2})`);
  });

  it('every command has examples in its --help', () => {
    const commands = [
      ['inventory', 'init'],
      ['inventory', 'check'],
      ['inventory', 'show'],
      ['hosts', 'check'],
      ['exec'],
      ['connections', 'list'],
      ['connections', 'close'],
    ];
    for (const command of commands) {
      const run = chaton([...command, '--help']);
      assert.equal(run.code, 0);
      assert.match(run.stdout, /Examples:\n {2}chaton /, command.join(' '));
    }
  });
});

describe('usage errors exit 2', () => {
  it('an unknown command or option', () => {
    assert.equal(chaton(['frobnicate']).code, 2);
    assert.equal(chaton(['hosts', 'check', '--frobnicate']).code, 2);
  });

  it('a bad --concurrency: out of range, or not written in decimal digits', () => {
    for (const concurrency of ['0', '1001', '1e3', '0x10', '16.0', ' 16', '-5', '']) {
      const run = chaton(['-i', EXAMPLE, '-j', concurrency, 'inventory', 'show']);
      assert.equal(run.code, 2, `-j ${JSON.stringify(concurrency)}`);
      assert.match(run.stderr, /--concurrency must be an integer from 1 to 1000/);
    }
  });

  it('--quiet with -v, -vv or --verbose given twice: a usage error', () => {
    for (const verbose of [['-v'], ['-vv'], ['--verbose', '--verbose']]) {
      const run = chaton(['-i', EXAMPLE, '-q', ...verbose, 'inventory', 'show']);
      assert.equal(run.code, 2, verbose.join(' '));
      assert.match(run.stderr, /--quiet and --verbose cannot be used together/);
    }
  });

  it('a bad --persist or CHATON_PERSIST, named in the error', () => {
    const env = { PATH: process.env.PATH, HOME: os.tmpdir() };
    const flag = chaton(['-i', EXAMPLE, '--persist', '5 min', 'inventory', 'show']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(
      flag.stderr,
      /--persist must be a duration from 1s to 1d \(such as 90s, 5m or 1h\), or off, got "5 min"/,
    );
    const fromEnv = chaton(['-i', EXAMPLE, 'inventory', 'show'], { env: { ...env, CHATON_PERSIST: '2d' } });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /CHATON_PERSIST must be a duration .*, got "2d"/);
    const json = chaton(['-i', EXAMPLE, '--json', '--persist', 'on', 'inventory', 'show']);
    assert.equal(json.code, 2);
    assert.match((JSON.parse(json.stdout) as { error: { message: string } }).error.message, /^--persist must be/);
  });

  it('--concurrency takes decimal digits from 1 to 1000', () => {
    for (const concurrency of ['1', '016', '1000']) {
      const run = chaton(['-i', EXAMPLE, '-j', concurrency, 'inventory', 'check']);
      assert.equal(run.code, 0, `-j ${concurrency}: ${run.stderr}`);
    }
  });

  it('an inventory over 5 MiB, or not a regular file (a named pipe found by the search)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-odd-'));
    const big = path.join(dir, 'big.yaml');
    await writeFile(big, `hosts: {}\n#${'x'.repeat(5 * 1024 * 1024)}\n`);
    const tooBig = chaton(['-i', big, 'inventory', 'check']);
    assert.equal(tooBig.code, 2);
    assert.match(tooBig.stderr, /big\.yaml is larger than 5 MiB\n.*is this really the inventory\?/);
    assert.match(tooBig.stderr, /is this really the inventory\?/);
    execFileSync('mkfifo', [path.join(dir, 'chaton.yaml')]);
    const fifo = chaton(['inventory', 'check'], { cwd: dir });
    await rm(dir, { recursive: true });
    assert.equal(fifo.code, 2);
    assert.match(fifo.stderr, /chaton\.yaml is a FIFO \(named pipe\), not a regular file/);
  });

  it('an unknown target, with a suggestion', () => {
    const run = chaton(['-i', EXAMPLE, 'inventory', 'show', 'hypervisor']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown target "hypervisor" \(did you mean "hypervisors"\?\)/);
  });

  it('no inventory anywhere: says how to give one', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'chaton-noinv-'));
    const run = chaton(['inventory', 'check'], { cwd: empty, env: { PATH: process.env.PATH, HOME: empty } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /CHATON_INVENTORY/);
  });
});

describe('--persist and CHATON_PERSIST', () => {
  it('give milliseconds, 0 for off; the flag wins over the environment; neither: the inventory decides', () => {
    assert.equal(persistSetting('5m', {}), 300_000);
    assert.equal(persistSetting('90s', {}), 90_000);
    assert.equal(persistSetting('1d', {}), 86_400_000);
    assert.equal(persistSetting('off', {}), 0);
    assert.equal(persistSetting(undefined, { CHATON_PERSIST: '1h' }), 3_600_000);
    assert.equal(persistSetting(undefined, { CHATON_PERSIST: 'off' }), 0);
    assert.equal(persistSetting('off', { CHATON_PERSIST: '1h' }), 0);
    assert.equal(persistSetting('2m', { CHATON_PERSIST: 'nonsense' }), 120_000);
    assert.equal(persistSetting(undefined, {}), undefined);
    assert.equal(persistSetting(undefined, { CHATON_PERSIST: '' }), undefined);
  });

  it('refuse what is not a duration up to a day nor off, as a usage error naming where it came from', () => {
    for (const wrong of ['0', '5', '5 m', '1.5h', '25h', '2d', 'on', 'OFF', '']) {
      assert.throws(
        () => persistSetting(wrong, {}),
        (error: unknown) => error instanceof UsageError && error.message.startsWith('--persist must be'),
        JSON.stringify(wrong),
      );
    }
    assert.throws(
      () => persistSetting(undefined, { CHATON_PERSIST: 'forever' }),
      (error: unknown) =>
        error instanceof UsageError && error.message.startsWith('CHATON_PERSIST must be') && error.exitCode === 2,
    );
  });
});

describe('chaton connections', () => {
  it('reads no inventory: with none anywhere, lists and closes (no keeper here), exit 0', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'chaton-noinv-'));
    const env = { PATH: process.env.PATH, HOME: empty, XDG_RUNTIME_DIR: empty };
    for (const words of [['connections'], ['connections', 'list'], ['connections', 'close']]) {
      const run = chaton(words, { cwd: empty, env });
      assert.equal(run.code, 0, `${words.join(' ')}: ${run.stderr}`);
      assert.match(run.stdout, /^no (connection kept|keeper was running)/, words.join(' '));
    }
    const json = JSON.parse(chaton(['--json', 'connections'], { cwd: empty, env }).stdout) as Record<string, unknown>;
    assert.deepEqual([json.command, json.keepers, json.stale], ['connections list', [], []]);
    await rm(empty, { recursive: true });
  });
});

describe('chaton inventory check and show', () => {
  it('accepts the annotated example', () => {
    const run = chaton(['-i', EXAMPLE, 'inventory', 'check']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /OK: 8 hosts, 4 groups, bastion: bastion/);
  });

  it('finds the inventory through CHATON_INVENTORY', () => {
    const run = chaton(['inventory', 'check'], {
      env: { PATH: process.env.PATH, HOME: os.tmpdir(), CHATON_INVENTORY: EXAMPLE },
    });
    assert.equal(run.code, 0, run.stderr);
  });

  it('lists every problem with file:line:col and exits 2', () => {
    const run = chaton(['-i', BROKEN, 'inventory', 'check']);
    assert.equal(run.code, 2);
    for (const where of [
      ':4:11: defaults.become',
      ':11:29: hosts.pve1.ssh.conect_timeout',
      ':12:3: hosts.pve1',
      ':19:9: groups.web[0]',
    ]) {
      assert.ok(run.stderr.includes(`${BROKEN}${where}`), `missing ${where} in:\n${run.stderr}`);
    }
    assert.match(run.stderr, /did you mean "connect_timeout"/);
  });

  it('shows the keys and values of a hostile inventory escaped: no terminal control, no fake line', () => {
    const run = chaton(['-i', HOSTILE, 'inventory', 'check']);
    assert.equal(run.code, 2);
    assert.doesNotMatch(run.stderr, /[\x1b\x07\x9b\u202e]/);
    const lines = run.stderr.trimEnd().split('\n');
    const problemLines = lines.slice(0, -1);
    assert.ok(problemLines.length > 1, run.stderr);
    problemLines.forEach((line, index) => {
      assert.ok(line.startsWith(`${index === 0 ? 'error: ' : ''}${HOSTILE}:`), line);
    });
    assert.match(run.stderr, /hosts\."pve1\\n\/etc\/chaton\.yaml:1:1: hosts\.pve1: all good": must be a valid name/);
  });

  it('gives the problems as JSON with --json', () => {
    const run = chaton(['-i', BROKEN, '--json', 'inventory', 'check']);
    assert.equal(run.code, 2);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.error.hint, `fix these 8 problems; ${EXAMPLE} documents every key`);
    assert.equal(doc.exitCode, 2);
    assert.deepEqual(doc.problems[0].position, { file: BROKEN, line: 4, col: 11 });
    assert.equal(doc.problems.length, 8);
  });

  it('shows the resolved hosts and how each is reached', () => {
    const run = chaton(['-i', EXAMPLE, '--json', 'inventory', 'show', 'role:backup']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      JSON.parse(run.stdout).hosts.map((h: { host: string; address: string; port: number; via: string[] }) => [
        h.host,
        h.address,
        h.port,
        h.via,
      ]),
      [
        ['pbs', '10.0.0.20', 22, ['bastion']],
        ['offsite', 'backup.example.org', 2222, []],
      ],
    );
    const text = chaton(['-i', EXAMPLE, 'inventory', 'show', 'offsite']);
    // Not a terminal: 80 columns, the comma list of groups wrapped after its comma.
    assert.match(
      text.stdout,
      /^offsite\s+backup\.example\.org:2222\s+borg\s+-\s+backup\s+backups,\s+direct\n\s+infrastructure$/m,
    );
    for (const line of text.stdout.split('\n')) assert.ok(line.length <= 80, line);
  });
});

describe('help at a terminal and in a pipe', () => {
  it('ends quietly when whoever reads it goes away (`chaton --help | head -3`)', async () => {
    const child = spawn(process.execPath, [CHATON, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader is gone before chaton writes a byte.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  it('refuses an unknown command with exit 2, even with --help, and suggests the closest', () => {
    const unknown = chaton(['tape', 'swap', '--help']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, '');
    const commands =
      'inventory, hosts, exec, onboard, offboard, backup, failover, vm, disk, doctor, connections, completion';
    assert.match(unknown.stderr, new RegExp(`unknown command 'tape' \\(chaton has: ${commands}\\)`));
    const typo = chaton(['inventory', 'chek']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean chaton inventory check\?/);
  });

  it('takes `chaton help <command>`, which --help lists', () => {
    const run = chaton(['help', 'exec']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: chaton exec /);
  });

  it('lists the global options in every subcommand help, its examples use them', () => {
    const run = chaton(['inventory', 'check', '--help']);
    assert.match(run.stdout, /Global Options:\n(.*\n)*\s+-i, --inventory <file>/);
    assert.match(run.stdout, /--json/);
  });

  it('fits its prose to 80 columns when not on a terminal; command lines to copy stay whole', () => {
    for (const words of [[], ['onboard', 'sysadmin'], ['offboard', 'sysadmin'], ['exec']]) {
      const help = chaton([...words, '--help']).stdout;
      const long = help.split('\n').filter((line) => line.length > 80 && !/^ {2}chaton /.test(line));
      assert.deepEqual(long, [], `chaton ${words.join(' ')} --help`);
    }
  });
});

describe('--log-file', () => {
  it('that cannot be written stops the run before anything is done, exit 2', () => {
    const run = chaton(['-i', EXAMPLE, '--log-file', '/nonexistent/dir/chaton.log', 'hosts', 'check', 'pve1']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /cannot write the log file \/nonexistent\/dir\/chaton\.log: ENOENT/);
  });

  it('says how a run stopped before its report ended: its error, then its exit code', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-log-'));
    const log = path.join(dir, 'night.log');
    const run = chaton(['-i', path.join(dir, 'missing.yaml'), '--log-file', log, 'hosts', 'check']);
    assert.equal(run.code, 2);
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.replace(/^\S+ /, '').split(':')[0]),
      ['start', 'error', 'exit 2'],
    );
    await rm(dir, { recursive: true });
  });
});

describe('chaton inventory init', () => {
  const init = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-init-'));
    return { dir, file: path.join(dir, 'site.yaml'), env: { PATH: process.env.PATH, HOME: dir } };
  };

  it('writes the example with the bastion filled in, mode 0600; the file checks', async () => {
    const { dir, file, env } = await init();
    const run = chaton(['inventory', 'init', '--bastion', '198.51.100.7', '--file', 'site.yaml'], { cwd: dir, env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), `wrote ${file} (mode 0600) from ${EXAMPLE}`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^ {2}address: 198\.51\.100\.7$/m);
    const afterAddress = readFileSync(EXAMPLE, 'utf8').split('\n  address: 203.0.113.10\n')[1]!;
    assert.ok(text.endsWith(afterAddress), 'the rest is the example');
    const check = chaton(['-i', file, 'inventory', 'check'], { env });
    assert.equal(check.code, 0, check.stderr);
  });

  it('without --bastion, leaves the address to fill in, as inventory check says', async () => {
    const { dir, file, env } = await init();
    const run = chaton(['inventory', 'init', '--file', file], { cwd: dir, env });
    assert.equal(run.code, 0, run.stderr);
    const toFill =
      /left to fill in.*\n {2}\d+:3: bastion\.address: must be an IP address or a DNS name.*, got nothing$/m;
    assert.match(run.stdout, toFill);
    const check = chaton(['-i', file, '--json', 'inventory', 'check'], { env });
    assert.equal(check.code, 2);
    assert.deepEqual(
      JSON.parse(check.stdout).problems.map((p: { path: string }) => p.path),
      ['bastion.address'],
    );
  });

  it('never overwrites an existing file without --force (exit 3), and keeps its mode with it', async () => {
    const { dir, file, env } = await init();
    writeFileSync(file, 'mine\n', { mode: 0o640 });
    const refused = chaton(['inventory', 'init', '--file', file], { cwd: dir, env });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /site\.yaml exists: not overwritten\n.*--force/);
    assert.equal(readFileSync(file, 'utf8'), 'mine\n');
    const forced = chaton(['inventory', 'init', '--file', file, '--force', '--bastion', 'bastion.example.org'], {
      env,
    });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(readFileSync(file, 'utf8'), /address: bastion\.example\.org/);
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['site.yaml'], 'no temporary file left');
  });

  it('refuses a bad address, a directory or a missing directory with exit 2, writing nothing', async () => {
    const { dir, env } = await init();
    const bad = chaton(['inventory', 'init', '--file', 'x.yaml', '--bastion', 'foo..bar'], { cwd: dir, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--bastion must be an IP address or a DNS name, got "foo\.\.bar"/);
    const directory = chaton(['inventory', 'init', '--file', dir, '--force'], { env });
    assert.equal(directory.code, 2);
    assert.match(directory.stderr, /exists and is not a regular file/);
    const missing = chaton(['inventory', 'init', '--file', path.join(dir, 'no/such/dir.yaml')], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot write .*dir\.yaml: .*ENOENT/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('with --dry-run, prints the text and writes nothing', async () => {
    const { dir, env } = await init();
    const args = ['--dry-run', 'inventory', 'init', '--file', 'site.yaml', '--bastion', '198.51.100.7'];
    const run = chaton(args, { cwd: dir, env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^# dry-run: nothing was written;[^\n]*\n# Written by `chaton inventory init`/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('by default writes ~/.config/chaton/inventory.yaml (not as root), where discovery finds it', async () => {
    const { dir, env } = await init();
    // As root, the default is /etc/chaton: the test runs chaton as nobody, in a home of its own.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
    const spawnAs = (args: string[]) =>
      spawnSync(process.execPath, [CHATON, ...args], { cwd: dir, env, encoding: 'utf8', ...asUser });
    const run = spawnAs(['inventory', 'init', '--bastion', '198.51.100.7']);
    assert.equal(run.status, 0, run.stderr);
    const file = path.join(dir, '.config/chaton/inventory.yaml');
    assert.match(run.stdout, new RegExp(`^wrote ${file} \\(mode 0600\\)`));
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    const check = spawnAs(['inventory', 'check']);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, new RegExp(`^${file} \\(your own, in your config directory\\): OK`));
  });
});
