// onboard/offboard sysadmin on the lab: real accounts, real sudo and real OpenSSH logins through
// the bastion, with the pveum stand-in on the Proxmox nodes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { timestamp } from '../../src/lib/run/output.js';
import type { Lab } from '../lab/lab.js';
import { addUser, cell, chaton, freshLab, sandboxEnv, unwrapped, variantInventory } from './chaton.js';

const run = promisify(execFile);
let lab: Lab;
let env: NodeJS.ProcessEnv;
let inventory: string;
let dir: string;
/** Every machine onboard reaches by default: the bastion and every host. */
let machines: string[];

async function keyPair(
  name: string,
  type = 'ed25519',
  bits?: number,
): Promise<{ private: string; public: string; line: string }> {
  const file = path.join(dir, name);
  await run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    '',
    '-C',
    `${name}@laptop`,
    '-f',
    file,
  ]);
  return { private: file, public: `${file}.pub`, line: (await readFile(`${file}.pub`, 'utf8')).trim() };
}

before(async () => {
  lab = await freshLab('it-sysadmin', 2);
  env = await sandboxEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-sysadmin-'));
  // Short timeouts keep the unreachable-host test quick; the behaviour is the same with the defaults.
  inventory = await variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['ssh', 'connect_timeout'], 2);
  });
  machines = ['bastion', ...lab.hosts.map((h) => h.name)];
});
after(async () => {
  await lab?.down();
});

const inv = () => ['-i', inventory];
const passwd = async (host: string, login: string) => (await lab.run(host, ['getent', 'passwd', login])).stdout.trim();

/** Logs in with real OpenSSH, through the bastion, with the config onboard wrote; exit code and output. */
async function opensshLogin(
  config: string,
  key: string,
  host: string,
  ...command: string[]
): Promise<{ code: number; stdout: string }> {
  const written = await readFile(config, 'utf8');
  // The written config names ~/.ssh/chaton_known_hosts; the test keeps everything in its own directory.
  const local = path.join(dir, `${path.basename(config)}.local`);
  await writeFile(
    local,
    `${written.replaceAll('~/.ssh/chaton_known_hosts', `${config}.known_hosts`)}Host *\n  IdentityFile ${key}\n  IdentitiesOnly yes\n  BatchMode yes\n  ConnectTimeout 5\n`,
  );
  try {
    const { stdout } = await run('ssh', ['-F', local, host, ...command]);
    return { code: 0, stdout };
  } catch (error) {
    return { code: (error as { code: number }).code, stdout: '' };
  }
}

describe('onboard sysadmin: bad input changes nothing', () => {
  it('refuses an invalid login, a private key, a short RSA key, a duplicate key and an unknown target (exit 2)', async () => {
    const alice = await keyPair('bad-alice');
    const rsa = await keyPair('bad-rsa', 'rsa', 2048);
    const cases: [string[], RegExp][] = [
      [['onboard', 'sysadmin', 'Alice.Smith', '--key', alice.public], /invalid login "Alice\.Smith"/],
      [['onboard', 'sysadmin', 'alice', '--key', alice.private], /--key 1 \(.*\) is a PRIVATE key: it was not shown/],
      [['onboard', 'sysadmin', 'alice', '--key', await readFile(alice.private, 'utf8')], /--key 1 is a PRIVATE key/],
      [['onboard', 'sysadmin', 'alice', '--key', rsa.public], /RSA key of 2048 bits .* at least 3072/],
      [
        ['onboard', 'sysadmin', 'alice', '--key', alice.public, '--key', alice.line],
        /--key 2 is the same key as --key 1/,
      ],
      [
        ['onboard', 'sysadmin', 'alice', '--key', 'ssh-ed25519 AAAAdamaged'],
        /--key 1 is not a whole OpenSSH public key line/,
      ],
      [['onboard', 'sysadmin', 'alice', '--key', alice.public, '--on', 'pve9'], /pve9/],
      [['onboard', 'sysadmin', 'root', '--key', alice.public], /root is the account chaton itself logs in with/],
      [['onboard', 'sysadmin', 'alice', '--key', alice.public, '--expires', '2027-13-45'], /--expires/],
    ];
    const privateKey = (await readFile(alice.private, 'utf8')).split('\n')[1]!;
    for (const [args, message] of cases) {
      const result = await chaton([...inv(), '--yes', ...args], { env });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.ok(
        !result.stderr.includes(privateKey) && !result.stdout.includes(privateKey),
        'the private key is never echoed',
      );
    }
    assert.equal(await passwd('pve1', 'alice'), '');
  });
});

describe('onboard and offboard sysadmin', () => {
  let alice: Awaited<ReturnType<typeof keyPair>>;
  let config: string;
  const onboardAlice = () => [
    ...inv(),
    'onboard',
    'sysadmin',
    'alice',
    '--name',
    'Alice Martin',
    '--email',
    'alice@example.org',
    '--key',
    alice.public,
    '--sudo',
    '--proxmox-role',
    'PVEAdmin',
  ];

  before(async () => {
    alice = await keyPair('alice');
    config = path.join(dir, 'alice.ssh_config');
  });

  it('--dry-run prints, per host, exactly what would change, and changes nothing', async () => {
    const result = await chaton(['--dry-run', ...onboardAlice()], { env });
    assert.equal(result.code, 0, result.stderr);
    for (const host of machines) assert.match(result.stdout, new RegExp(`^# ${host} \\(`, 'm'));
    assert.match(
      result.stdout,
      /useradd --create-home --shell \/bin\/bash --password '\*' --comment 'Alice Martin' -- alice/,
    );
    assert.match(result.stdout, /pveum user add alice@pam/);
    assert.equal(await passwd('pve1', 'alice'), '');
  });

  it('creates the account everywhere, verified by sshd, sudo, and a real login through the bastion', async () => {
    const result = await chaton([...onboardAlice(), '--verify-with', alice.private, '--write-ssh-config', config], {
      env,
    });
    assert.equal(result.code, 0, result.stderr);
    for (const host of machines) {
      // Its changes were told as they ran and are in the table: its line only counts them.
      assert.match(result.stderr, new RegExp(`\\[COMPLETED\\] ${host}: changed \\(\\d+\\)$`, 'm'), host);
      assert.match(await passwd(host, 'alice'), /^alice:x:\d+:\d+:Alice Martin:\/home\/alice:\/bin\/bash$/, host);
      const keys = await lab.run(host, [
        'stat',
        '-c',
        '%a %U',
        '/home/alice/.ssh',
        '/home/alice/.ssh/authorized_keys',
        '/etc/sudoers.d/chaton-alice',
      ]);
      assert.equal(keys.stdout, '700 alice\n600 alice\n440 root\n', host);
      assert.equal((await lab.run(host, ['cat', '/home/alice/.ssh/authorized_keys'])).stdout, `${alice.line}\n`);
    }
    const json = JSON.parse((await lab.run('pve2', ['pveum', 'user', 'list', '--output-format', 'json'])).stdout) as {
      userid: string;
      enable?: number;
    }[];
    assert.equal(json.find((u) => u.userid === 'alice@pam')?.enable ?? 1, 1);
    const acl = JSON.parse((await lab.run('pve3', ['pveum', 'acl', 'list', '--output-format', 'json'])).stdout) as {
      ugid: string;
      roleid: string;
      path: string;
    }[];
    assert.ok(acl.some((a) => a.ugid === 'alice@pam' && a.roleid === 'PVEAdmin' && a.path === '/'));
    for (const host of machines)
      assert.match(
        cell(result.stdout, host, 'CHECKED'),
        /sshd accepts the key sudo: \(ALL : ALL\) NOPASSWD: ALL logged in as alice, sudo -n true works$/,
      );
    // The bastion's host key fingerprint is printed with the config.
    assert.match(result.stdout, /^Host bastion\n {2}# ED25519 key SHA256:\S+\n {2}HostName /m);
    // The config chaton wrote, with the known_hosts it wrote, lets OpenSSH in without trusting anything new.
    const login = await opensshLogin(config, alice.private, 'host002', 'sudo', '-n', 'id', '-un');
    assert.deepEqual(login, { code: 0, stdout: 'root\n' });
  });

  it('a second run with the same arguments changes nothing: every host "unchanged", exit 0', async () => {
    const result = await chaton(onboardAlice(), { env });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n').filter((l) => machines.some((m) => l.startsWith(`${m} `)));
    assert.equal(lines.length, machines.length, result.stdout);
    for (const line of lines) assert.match(line, /^\S+ +unchanged +\S/);
  });

  it('a rule that visudo refuses installs nothing, on any host', async () => {
    const bob = await keyPair('bob');
    const result = await chaton(
      [...inv(), 'onboard', 'sysadmin', 'bob', '--key', bob.public, '--sudo-commands', 'qm list'],
      { env },
    );
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /visudo refuses the sudo rule: .*fully-qualified/);
    for (const host of machines) assert.equal(await passwd(host, 'bob'), '', host);
  });

  it('offboard locks, removes keys and sudo, ends sessions, disables Proxmox, proves the key fails, lists secrets to rotate', async () => {
    // A live session of alice's on pve1, as she would have one.
    const session = run('ssh', ['-F', `${config}.local`, 'pve1', 'sleep', '120']).catch(() => undefined);
    await waitFor(async () => (await lab.run('pve1', ['pgrep', '-u', 'alice', 'sleep'])).exitCode === 0);
    const result = await chaton([...inv(), '--yes', 'offboard', 'sysadmin', 'alice'], { env });
    assert.equal(result.code, 0, result.stderr);
    await session;
    assert.match(
      result.stdout,
      /Shared secrets alice may have seen: rotate them now\n {2}- restic-passphrase: password of the restic repositories on backup, in the pass store\n {2}- pve-api-token: /,
    );
    for (const host of machines) assert.match(cell(result.stdout, host, 'CHECKED'), /sshd refuses the old key$/);
    for (const host of machines) {
      assert.equal((await lab.run(host, ['pgrep', '-u', 'alice'])).exitCode, 1, `${host}: no process left`);
      assert.match(
        (await lab.run(host, ['getent', 'shadow', 'alice'])).stdout,
        /^alice:!\*?[^:]*:\d*:\d*:\d*:\d*:\d*:1:/,
        host,
      );
      assert.equal((await lab.run(host, ['test', '-e', '/etc/sudoers.d/chaton-alice'])).exitCode, 1, host);
      assert.equal((await lab.run(host, ['test', '-d', '/home/alice'])).exitCode, 0, `${host}: home kept`);
      assert.equal(
        (await opensshLogin(config, alice.private, host, 'true')).code,
        255,
        `${host}: the old key no longer opens it`,
      );
    }
    const json = JSON.parse((await lab.run('pve1', ['pveum', 'user', 'list', '--output-format', 'json'])).stdout) as {
      userid: string;
      enable?: number;
    }[];
    assert.equal(json.find((u) => u.userid === 'alice@pam')?.enable, 0);
    assert.match(result.stderr, /Proxmox web sessions of alice@pam stay valid/);

    const again = await chaton([...inv(), '--yes', 'offboard', 'sysadmin', 'alice'], { env });
    assert.equal(again.code, 0, again.stderr);
    for (const line of again.stdout.split('\n').filter((l) => machines.some((m) => l.startsWith(`${m} `))))
      assert.match(line, /^\S+ +unchanged +\S/);
  });

  it('offboard without a terminal and without --yes refuses and changes nothing', async () => {
    const carol = await keyPair('carol');
    assert.equal(
      (await chaton([...inv(), 'onboard', 'sysadmin', 'carol', '--key', carol.public, '--on', 'pve1'], { env })).code,
      0,
    );
    const result = await chaton([...inv(), 'offboard', 'sysadmin', 'carol', '--on', 'pve1'], { env });
    assert.equal(result.code, 3, result.stderr);
    assert.doesNotMatch((await lab.run('pve1', ['getent', 'shadow', 'carol'])).stdout, /:!/);
  });

  it('a host unreachable mid-run fails alone (exit 4); the rerun completes it', async () => {
    const dave = await keyPair('dave');
    const args = [...inv(), 'onboard', 'sysadmin', 'dave', '--key', dave.public];
    await lab.linkDown('host002');
    let result;
    try {
      result = await chaton(args, { env });
    } finally {
      await lab.linkUp('host002');
    }
    assert.equal(result.code, 4, result.stderr);
    assert.equal(await passwd('host002', 'dave'), '');
    assert.notEqual(await passwd('host001', 'dave'), '');
    const rerun = await chaton(args, { env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(cell(rerun.stdout, 'host002', 'RESULT'), /^changed: create the account dave/);
    assert.match(rerun.stdout, /^host001 +unchanged +/m);
  });

  it('onboard and offboard of one login at once never leave a mixed state', async () => {
    const erin = await keyPair('erin');
    const onboardErin = [...inv(), 'onboard', 'sysadmin', 'erin', '--key', erin.public];
    assert.equal((await chaton(onboardErin, { env })).code, 0);
    const [offboarded, onboarded] = await Promise.all([
      chaton([...inv(), '--yes', 'offboard', 'sysadmin', 'erin'], { env }),
      chaton(onboardErin, { env }),
    ]);
    assert.equal(offboarded.code, 0, offboarded.stderr);
    assert.equal(onboarded.code, 0, onboarded.stderr);
    const locked = await Promise.all(
      machines.map(async (host) => /^erin:!/.test((await lab.run(host, ['getent', 'shadow', 'erin'])).stdout)),
    );
    assert.ok(
      locked.every((l) => l === locked[0]),
      `every host in the same state: ${locked.join(', ')}`,
    );
  });
});

describe('the bastion, the roster', () => {
  it('a forwarding-only bastion: no shell there, keys limited to forwarding, and ProxyJump still works', async () => {
    const frank = await keyPair('frank');
    const forwarding = await variantInventory(inventory, (doc) =>
      doc.setIn(['bastion', 'sysadmin_access'], 'forwarding'),
    );
    const config = path.join(dir, 'frank.ssh_config');
    const result = await chaton(
      [
        '-i',
        forwarding,
        'onboard',
        'sysadmin',
        'frank',
        '--key',
        frank.public,
        '--sudo',
        '--on',
        'bastion,pve1',
        '--verify-with',
        frank.private,
        '--write-ssh-config',
        config,
      ],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(await passwd('bastion', 'frank'), /:\/usr\/sbin\/nologin$/);
    assert.equal(
      (await lab.run('bastion', ['cat', '/home/frank/.ssh/authorized_keys'])).stdout,
      `restrict,port-forwarding ${frank.line}\n`,
    );
    assert.equal(
      (await lab.run('bastion', ['test', '-e', '/etc/sudoers.d/chaton-frank'])).exitCode,
      1,
      'no sudo on a forwarding-only bastion',
    );
    assert.match(cell(result.stdout, 'bastion', 'CHECKED'), /logged in \(forwarding only\)$/);
    assert.deepEqual(await opensshLogin(config, frank.private, 'pve1', 'id', '-un'), { code: 0, stdout: 'frank\n' });
    assert.notEqual((await opensshLogin(config, frank.private, 'bastion', 'id')).code, 0);
  });

  it('on a host reached as a sudoer (become: sudo), every step runs as root through sudo -n', async () => {
    await addUser(lab, 'host001', 'ops', 'ops ALL=(ALL) NOPASSWD: ALL');
    const viaSudo = await variantInventory(inventory, (doc) => {
      doc.setIn(['hosts', 'host001', 'user'], 'ops');
      doc.setIn(['hosts', 'host001', 'become'], 'sudo');
    });
    const heidi = await keyPair('heidi');
    const args = [
      '-i',
      viaSudo,
      'onboard',
      'sysadmin',
      'heidi',
      '--key',
      heidi.public,
      '--sudo',
      '--on',
      'bastion,host001',
      '--verify-with',
      heidi.private,
    ];
    const onboarded = await chaton(args, { env });
    assert.equal(onboarded.code, 0, onboarded.stderr);
    assert.match(cell(onboarded.stdout, 'host001', 'RESULT'), /^changed: create the account heidi/);
    assert.match(cell(onboarded.stdout, 'host001', 'CHECKED'), /logged in as heidi, sudo -n true works$/);
    assert.equal(
      (
        await lab.run('host001', [
          'stat',
          '-c',
          '%a %U',
          '/home/heidi/.ssh/authorized_keys',
          '/etc/sudoers.d/chaton-heidi',
        ])
      ).stdout,
      '600 heidi\n440 root\n',
    );
    assert.match((await chaton(args, { env })).stdout, /^host001 +unchanged /m);
    const offboarded = await chaton(
      ['-i', viaSudo, '--yes', 'offboard', 'sysadmin', 'heidi', '--on', 'bastion,host001'],
      { env },
    );
    assert.equal(offboarded.code, 0, offboarded.stderr);
    assert.match(cell(offboarded.stdout, 'host001', 'CHECKED'), /sshd refuses the old key$/);
  });

  it('--groups and --expires; other keys kept, or removed with --exclusive (asked first); offboard --remove-home', async () => {
    const ivan = await keyPair('ivan');
    const before = await keyPair('ivan-before');
    // An account of theirs from before chaton, with a key put there by hand.
    const script =
      'useradd --create-home --password "*" ivan && install -d -m 700 -o ivan -g ivan /home/ivan/.ssh && cat > /home/ivan/.ssh/authorized_keys && chown ivan: /home/ivan/.ssh/authorized_keys';
    assert.equal((await lab.run('gw', ['sh', '-c', script], { input: `${before.line}\n` })).exitCode, 0);
    const onboard = [
      ...inv(),
      'onboard',
      'sysadmin',
      'ivan',
      '--key',
      ivan.public,
      '--groups',
      'adm',
      '--expires',
      '2099-12-31',
      '--on',
      'gw',
    ];
    const added = await chaton(onboard, { env });
    assert.equal(added.code, 0, added.stderr);
    const keys = async () => (await lab.run('gw', ['cat', '/home/ivan/.ssh/authorized_keys'])).stdout;
    assert.equal(await keys(), `${before.line}\n${ivan.line}\n`);
    assert.match((await lab.run('gw', ['id', '-nG', 'ivan'])).stdout, /\badm\b/);
    const expireDay = Date.UTC(2099, 11, 31) / 86_400_000;
    assert.equal((await lab.run('gw', ['getent', 'shadow', 'ivan'])).stdout.split(':')[7], String(expireDay));

    const unconfirmed = await chaton([...onboard, '--exclusive'], { env });
    assert.equal(unconfirmed.code, 3, unconfirmed.stderr);
    assert.equal(await keys(), `${before.line}\n${ivan.line}\n`);
    const exclusive = await chaton(['--yes', ...onboard, '--exclusive'], { env });
    assert.equal(exclusive.code, 0, exclusive.stderr);
    assert.equal(await keys(), `${ivan.line}\n`);

    const offboarded = await chaton(
      [...inv(), '--yes', 'offboard', 'sysadmin', 'ivan', '--on', 'gw', '--remove-home'],
      { env },
    );
    assert.equal(offboarded.code, 0, offboarded.stderr);
    assert.equal((await lab.run('gw', ['test', '-e', '/home/ivan'])).exitCode, 1);
    assert.match((await lab.run('gw', ['getent', 'shadow', 'ivan'])).stdout, /^ivan:!/, 'the locked account stays');
  });

  it('--save records the sysadmin in the inventory, comments kept; offboard --save removes them', async () => {
    const grace = await keyPair('grace');
    const roster = path.join(dir, 'roster.yaml');
    const original = `# the lab, with a roster\n${await readFile(inventory, 'utf8')}`;
    await writeFile(roster, original);
    const onboarded = await chaton(
      [
        '-i',
        roster,
        'onboard',
        'sysadmin',
        'grace',
        '--name',
        'Grace H',
        '--key',
        grace.public,
        '--on',
        'pve1',
        '--sudo-commands',
        '/usr/bin/id, /bin/true',
        '--save',
      ],
      { env },
    );
    assert.equal(onboarded.code, 0, onboarded.stderr);
    const saved = await readFile(roster, 'utf8');
    assert.ok(saved.startsWith(original), 'the rest of the file is kept byte for byte');
    assert.match(
      saved,
      /sysadmins:\n {2}- login: grace\n {4}name: Grace H\n {4}keys:\n {6}- ssh-ed25519 \S+ grace@laptop\n {4}sudo: true\n {4}sudo_commands: \/usr\/bin\/id, \/bin\/true\n/,
    );
    assert.match(
      cell(onboarded.stdout, 'pve1', 'CHECKED'),
      /sudo: \(ALL : ALL\) NOPASSWD: \/usr\/bin\/id, \/bin\/true$/,
    );
    const show = await chaton(['-i', roster, '--json', 'inventory', 'show'], { env });
    assert.deepEqual(
      (JSON.parse(show.stdout) as { sysadmins: { login: string }[] }).sysadmins.map((s) => s.login),
      ['grace'],
    );
    const offboarded = await chaton(
      ['-i', roster, '--yes', 'offboard', 'sysadmin', 'grace', '--on', 'pve1', '--save'],
      { env },
    );
    assert.equal(offboarded.code, 0, offboarded.stderr);
    assert.doesNotMatch(await readFile(roster, 'utf8'), /grace/);
  });
});

describe('the lock per login', () => {
  const lockOf = (login: string) => `/run/chaton/sysadmin-${login}.lock`;

  it('Ctrl-C in the middle of an onboard releases every lock: the next run does not wait', async () => {
    const mia = await keyPair('mia');
    const args = [...inv(), '-j', '2', 'onboard', 'sysadmin', 'mia', '--key', mia.public];
    const interrupted = await chaton(args, {
      env,
      onSpawn: (child) => {
        // Once the first change runs, the locks are all taken and most hosts are still to do.
        let stderr = '';
        const interrupt = (chunk: Buffer) => {
          stderr += chunk.toString();
          if (!/\| create the account mia/.test(stderr)) return;
          child.stderr!.off('data', interrupt);
          child.kill('SIGINT');
        };
        child.stderr!.on('data', interrupt);
      },
    });
    assert.equal(interrupted.code, 130, interrupted.stderr);
    for (const host of machines) {
      assert.equal((await lab.run(host, ['test', '-e', lockOf('mia')])).exitCode, 1, `${host}: lock left`);
    }
    // Another operator: a lock this one left would be taken over, as left by a run that died.
    const next = await chaton(args, { env: { ...env, SUDO_USER: 'another' } });
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /waiting for the lock/);
  });

  it('a run that waits for a lock says who holds it, and goes on once it is released', async () => {
    const nina = await keyPair('nina');
    const since = '2026-11-30T11:03:11.000Z';
    const take = 'mkdir -p -m 0700 /run/chaton && mkdir "$1" && printf "%s\\n" "$2" > "$1/owner"';
    const owner = `alice@laptop pid 1234 since ${since}`;
    const taken = await lab.run('pve2', ['sh', '-c', take, 'sh', lockOf('nina'), owner]);
    assert.equal(taken.exitCode, 0, taken.stderr);
    const run = await chaton([...inv(), 'onboard', 'sysadmin', 'nina', '--key', nina.public, '--on', 'pve1,pve2'], {
      env,
      onSpawn: (child) => {
        // alice's run ends once nina's says it waits for it.
        let stderr = '';
        const release = (chunk: Buffer) => {
          stderr += chunk.toString();
          if (!stderr.includes('waiting for the lock')) return;
          child.stderr!.off('data', release);
          void lab.run('pve2', ['rm', '-r', lockOf('nina')]);
        };
        child.stderr!.on('data', release);
      },
    });
    assert.equal(run.code, 0, run.stderr);
    const held = `held by alice@laptop (pid 1234) since ${timestamp(new Date(since))}`;
    const waiting = `\npve2: waiting for the lock on sysadmin nina, ${held} (at most 2 minutes)\n`;
    assert.ok(run.stderr.includes(waiting), run.stderr);
    assert.notEqual(await passwd('pve2', 'nina'), '');
  });
});

/**
 * Runs a command (the words after it) in a mount namespace of its own, where the directory $1 is
 * a small tmpfs holding $2 as inventory.yaml: remounted read-only, or filled up. A full one still
 * takes an empty file, as the roster's lock is, but no file with content.
 */
const OWN_FILE_SYSTEM = `set -e
mount -t tmpfs -o size=1m chaton-test "$1"
cp "$2" "$1/inventory.yaml"
if [ "$3" = read-only ]; then mount -o remount,ro "$1"; else cat /dev/zero > "$1/filler" 2> /dev/null || true; fi
shift 3
exec "$@"`;

/** The inventory `source`, on a file system of its own for each chaton run: read-only, or full. */
async function inventoryOn(fileSystem: 'read-only' | 'full', source = inventory) {
  const mountPoint = await mkdtemp(path.join(dir, `${fileSystem}-`));
  const script = ['sh', '-c', OWN_FILE_SYSTEM, 'sh', mountPoint, source, fileSystem];
  const wrapper = ['unshare', '--mount', '--propagation', 'private', ...script];
  return { args: ['-i', path.join(mountPoint, 'inventory.yaml')], wrapper };
}

describe('--save when the inventory cannot be written', () => {
  const shadow = async (host: string, login: string) => (await lab.run(host, ['getent', 'shadow', login])).stdout;

  it('on a read-only file system: refused before any host is touched (exit 2), onboard and offboard', async () => {
    const kim = await keyPair('kim');
    const readOnly = await inventoryOn('read-only');
    const onboard = ['onboard', 'sysadmin', 'kim', '--key', kim.public, '--on', 'pve1'];
    const refused = await chaton([...readOnly.args, ...onboard, '--save'], { env, wrapper: readOnly.wrapper });
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(await passwd('pve1', 'kim'), '');
    const lock = /--save: cannot create the lock \S+\/inventory\.yaml\.lock: EROFS: .*; nothing was changed\n/;
    const hint = /→ writing \S+\/inventory\.yaml needs write access to its directory, or run without --save/;
    assert.match(refused.stderr, new RegExp(`${lock.source}.*${hint.source}`));

    assert.equal((await chaton([...inv(), ...onboard], { env })).code, 0);
    const offboard = ['--yes', 'offboard', 'sysadmin', 'kim', '--on', 'pve1', '--save'];
    const kept = await chaton([...readOnly.args, ...offboard], { env, wrapper: readOnly.wrapper });
    assert.equal(kept.code, 2, kept.stderr);
    assert.match(kept.stderr, /--save: cannot create the lock .*EROFS/);
    assert.doesNotMatch(await shadow('pve1', 'kim'), /^kim:!/, 'kim is not locked');
  });

  it('when writing fails after the hosts changed (file system full): the hosts are reported, exit 4', async () => {
    const lee = await keyPair('lee');
    const onboard = ['onboard', 'sysadmin', 'lee', '--key', lee.public, '--on', 'pve1', '--save'];
    const full = await inventoryOn('full');
    const onboarded = await chaton([...full.args, ...onboard], { env, wrapper: full.wrapper });
    assert.equal(onboarded.code, 4, onboarded.stderr);
    assert.match(cell(onboarded.stdout, 'pve1', 'RESULT'), /^changed: create the account lee/);
    assert.match(onboarded.stdout, /^Host pve1$/m, "lee's ssh config is printed");
    const notWritten = /NOT WRITTEN: --save, the roster in \S+: ENOSPC: .*\n {2}→ the hosts are done: .*rerun/;
    assert.match(
      unwrapped(onboarded.stdout),
      new RegExp(`${notWritten.source}.* or add lee to sysadmins: by hand$`, 'm'),
    );
    assert.notEqual(await passwd('pve1', 'lee'), '');

    // The rerun the hint asks for, with a roster that can be written; then an offboard on a full one.
    const roster = path.join(dir, 'lee.yaml');
    await writeFile(roster, await readFile(inventory, 'utf8'));
    const saved = await chaton(['-i', roster, ...onboard], { env });
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /^pve1 +unchanged /m);
    const fullWithLee = await inventoryOn('full', roster);
    const offboard = ['--yes', 'offboard', 'sysadmin', 'lee', '--on', 'pve1', '--save'];
    const offboarded = await chaton([...fullWithLee.args, ...offboard], { env, wrapper: fullWithLee.wrapper });
    assert.equal(offboarded.code, 4, offboarded.stderr);
    assert.match(cell(offboarded.stdout, 'pve1', 'CHECKED'), /sshd refuses the old key$/);
    assert.match(
      unwrapped(offboarded.stdout),
      new RegExp(`${notWritten.source}.* or remove lee from sysadmins: by hand$`, 'm'),
    );
    assert.match(await shadow('pve1', 'lee'), /^lee:!/);
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out waiting');
}
