// chaton on a lab of 25 hosts behind a bastion: fan-out, exec, output for cron and programs,
// dry-run, confirmation, sudo, and the audit trail.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { command, render } from '../../src/lib/remote/shell.js';
import type { Lab } from '../lab/lab.js';
import { waitUntil } from '../lab/parallel.js';
import { addUser, ANSI, CHATON, chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;

before(async () => {
  lab = await freshLab('it-remote', 20);
  env = await sandboxEnv();
});
after(async () => {
  await lab?.down();
});

const inv = () => ['-i', lab.inventoryPath];

describe('hosts check', () => {
  it('reaches all 25 hosts through the bastion, each with its OS and latency', async () => {
    const run = await chaton([...inv(), 'hosts', 'check', 'all'], { env });
    assert.equal(run.code, 0, run.stderr);
    const rows = run.stdout.trim().split('\n').slice(1);
    assert.equal(rows.length, 25);
    for (const host of lab.hosts) {
      const row = rows.find((r) => r.startsWith(`${host.name} `));
      assert.ok(row, `no row for ${host.name}`);
      assert.match(
        row,
        new RegExp(`${host.address.replaceAll('.', '\\.')}\\s+bastion\\s+[\\d.]+ ms\\s+[\\d.]+ ms\\s+Linux \\d`),
      );
    }
  });

  it('prints one JSON document with --json, progress on stderr only', async () => {
    const run = await chaton([...inv(), '--json', 'hosts', 'check', 'hypervisors,gw'], { env });
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(
      doc.hosts.map((h: { host: string }) => h.host),
      ['pve1', 'pve2', 'pve3', 'gw'],
    );
    for (const host of doc.hosts) {
      assert.equal(host.ok, true);
      assert.match(host.os, /^Linux /);
      assert.match(host.kex, /^curve25519-sha256(@libssh\.org)?$/);
      assert.match(host.hostKey, /^ED25519 key SHA256:/);
      assert.deepEqual(host.via, ['bastion']);
    }
    assert.match(run.stderr, /Check/);
  });

  it('writes plain timestamped lines without a terminal, and no ANSI codes', async () => {
    const run = await chaton([...inv(), 'hosts', 'check', 'all'], { env });
    assert.doesNotMatch(run.stdout, ANSI);
    assert.doesNotMatch(run.stderr, ANSI);
    const progress = run.stderr.trim().split('\n');
    assert.ok(progress.length > 25);
    for (const line of progress)
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \[(STARTED|COMPLETED)\] /);
    assert.match(run.stderr, / \[COMPLETED\] pve1: Linux /);
  });

  it('shows the remote output lines with --verbose, prefixed by host', async () => {
    const run = await chaton([...inv(), '--verbose', 'hosts', 'check', 'pve1,gw'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^pve1 \| Linux \S+$/m);
    assert.match(run.stdout, /^gw {3}\| Linux \S+$/m);
    const plain = await chaton([...inv(), 'hosts', 'check', 'pve1,gw'], { env });
    assert.doesNotMatch(plain.stdout, /\| Linux/);
  });

  it('tells with -vv how each SSH connection is made, as ssh -v does, and -v does not', async () => {
    const log = path.join(env.HOME!, 'vv.log');
    // How a connection is made: by a run that makes its own (a kept one is reused: keeper.test.ts).
    const cold = { ...env, CHATON_PERSIST: 'off' };
    const run = await chaton([...inv(), '-vv', '--log-file', log, 'hosts', 'check', 'pve1'], { env: cold });
    assert.equal(run.code, 0, run.stderr);
    const pve1 = lab.hosts.find((h) => h.name === 'pve1')!;
    const known = (await readFile(lab.knownHostsPath, 'utf8')).split('\n');
    const quoted = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const ms = '\\d+ ms';
    const key = `${quoted(lab.operatorKeyPath)} \\(ssh-ed25519\\)`;
    for (const [prefix, address, reached] of [
      ['bastion', lab.bastion.address, 'TCP connection'],
      ['pve1', pve1.address, 'forwarded by bastion'],
    ] as const) {
      const line = known.findIndex((text) => text.startsWith(`${address} `)) + 1;
      assert.ok(line > 0, `${address} is not in ${lab.knownHostsPath}`);
      const via = prefix === 'pve1' ? ' via bastion' : '';
      const start = `^\\d{4}-\\d\\d-\\d\\dT\\S+ ssh: ${prefix} \\(${quoted(address)}:22\\)${via}: `;
      for (const event of [
        `reached: ${reached} in ${ms}`,
        `host key ED25519 key SHA256:\\S+ matches ${quoted(lab.knownHostsPath)}:${line}`,
        `key exchange curve25519-sha256(@libssh\\.org)?, host key algorithm ssh-ed25519, cipher \\S+: handshake in ${ms}`,
        `offering ${key} for user root`,
        `accepted ${key}: authenticated in ${ms}, connected in ${ms}`,
      ])
        assert.match(run.stderr, new RegExp(`${start}${event}$`, 'm'));
    }
    assert.match(await readFile(log, 'utf8'), /^\S+ ssh: pve1 \(\S+\) via bastion: accepted /m);
    const verbose = await chaton([...inv(), '-v', 'hosts', 'check', 'pve1'], { env });
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stdout, /^pve1 \| Linux /m);
    assert.doesNotMatch(verbose.stderr, /ssh: /);
  });

  it('prints nothing at all with --quiet when every host is fine (cron mails what a job prints)', async () => {
    const run = await chaton([...inv(), '--quiet', 'hosts', 'check', 'pve1,gw'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, '');
  });

  it('with --log-file, appends every step in plain timestamped words, whatever the terminal shows', async () => {
    const log = path.join(env.HOME!, 'night.log');
    await writeFile(log, 'an earlier line\n');
    const run = await chaton([...inv(), '--quiet', '--log-file', log, 'hosts', 'check', 'pve1,gw'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout + run.stderr, '');
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], 'an earlier line');
    const stamp = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}[+-]\\d{2}:\\d{2}';
    assert.match(lines[1]!, new RegExp(`^${stamp} start: chaton .*--log-file .* hosts check pve1,gw$`));
    assert.ok(
      lines.some((line) => new RegExp(`^${stamp} \\[COMPLETED\\] pve1: Linux`).test(line)),
      lines.join('\n'),
    );
    assert.match(lines.at(-1)!, new RegExp(`^${stamp} exit 0$`));
  });

  it('checks the bastion itself when named', async () => {
    const run = await chaton([...inv(), '--json', 'hosts', 'check', 'bastion'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).hosts[0].via, []);
  });

  it('goes through a chain of two jump hosts the same way', async () => {
    const gw = lab.hosts.find((h) => h.name === 'gw')!;
    const file = await variantInventory(lab.inventoryPath, (doc) => {
      doc.set('bastion', [doc.get('bastion'), { name: 'inner', address: gw.address }]);
      doc.deleteIn(['hosts', 'gw']);
    });
    const run = await chaton(['-i', file, '--json', 'hosts', 'check', 'pve1,inner'], { env });
    assert.equal(run.code, 0, run.stderr);
    const hosts = JSON.parse(run.stdout).hosts;
    assert.deepEqual(
      hosts.map((h: { host: string; via: string[] }) => [h.host, h.via]),
      [
        ['inner', ['bastion']],
        ['pve1', ['bastion', 'inner']],
      ],
    );
    assert.match(run.stderr, /Connect to inner \(root@198\.18\.\d+\.2\)/);
  });

  it('reaches a direct host without any bastion', async () => {
    const file = await variantInventory(lab.inventoryPath, (doc) => {
      const bastion = doc.get('bastion') as { get(key: string): unknown };
      doc.delete('bastion');
      doc.delete('groups');
      // Its backup targets are on hosts this inventory no longer has.
      doc.delete('backups');
      doc.set('hosts', { edge: { address: bastion.get('address'), direct: true } });
    });
    const run = await chaton(['-i', file, '--json', 'hosts', 'check', 'all'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      JSON.parse(run.stdout).hosts.map((h: { host: string; via: string[] }) => [h.host, h.via]),
      [['edge', []]],
    );
    assert.doesNotMatch(run.stderr, /Connect to/);
  });

  it('refuses an unknown target with a suggestion, exit 2', async () => {
    const run = await chaton([...inv(), 'hosts', 'check', 'pve9,hypervisor'], { env });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /pve9/);
    assert.match(run.stderr, /hypervisors/);
  });
});

describe('exec', () => {
  it('runs everywhere in parallel, output prefixed by host name, with a summary', async () => {
    const run = await chaton([...inv(), '-y', 'exec', 'all', '--', 'hostname'], { env });
    assert.equal(run.code, 0, run.stderr);
    for (const host of lab.hosts) assert.match(run.stdout, new RegExp(`^${host.name}\\s+\\| ${host.name}$`, 'm'));
    assert.match(run.stdout, /exit codes: exit 0 on 25 hosts/);
  });

  it('hands the words to the remote shell as ssh does: pipes and quotes work', async () => {
    const run = await chaton([...inv(), 'exec', 'pve1', '--', 'printf', "'%s\\n'", "'a b'", 'c', '|', 'wc', '-l'], {
      env,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^pve1 \| 2$/m);
  });

  it('exits 4 when some hosts fail and 1 when all do', async () => {
    const some = await chaton([...inv(), '-y', 'exec', 'pve1,pve2', '--', 'test "$(hostname)" = pve1'], { env });
    assert.equal(some.code, 4);
    assert.match(some.stdout, /exit 0 on 1 host \(pve1\); exit 1 on 1 host \(pve2\)/);
    // Each host's syslog says what happened there.
    assert.match(await lab.syslog('pve1'), /outcome=ok command: chaton .*exec pve1,pve2 /);
    assert.match(await lab.syslog('pve2'), /outcome=failed command: chaton .*exec pve1,pve2 /);
    const all = await chaton([...inv(), '-y', 'exec', 'pve1,pve2', '--', 'exit 3'], { env });
    assert.equal(all.code, 1);
  });

  it('sees at once a host whose sshd goes away behind the bastion: lost while running, not a timeout', async () => {
    const marker = 'sleep 31.5';
    const running = chaton([...inv(), '-y', 'exec', 'pve3', '--', marker], { env });
    assert.ok(
      await waitUntil(async () => (await lab.run('pve3', ['pgrep', '-f', marker])).exitCode === 0, 20_000, 100),
    );
    // Its sshd session killed: pve3 closes the TCP connection, the bastion says EOF on its channel.
    assert.equal((await lab.run('pve3', ['pkill', '-f', '^sshd: root@notty'])).exitCode, 0);
    const run = await running;
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout + run.stderr, /connection lost while it ran .*closed by the other end/);
    assert.doesNotMatch(run.stdout + run.stderr, /did not finish within/);
  });

  it('returns each host output and exit code in --json', async () => {
    const run = await chaton([...inv(), '--json', '-y', 'exec', 'pve1,gw', '--', 'echo out; echo err >&2; exit 2'], {
      env,
    });
    assert.equal(run.code, 1);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(
      doc.hosts.map((h: { host: string; code: number; stdout: string; stderr: string }) => [
        h.host,
        h.code,
        h.stdout,
        h.stderr,
      ]),
      [
        ['pve1', 2, 'out\n', 'err\n'],
        ['gw', 2, 'out\n', 'err\n'],
      ],
    );
  });

  it('streams large output completely, each line prefixed, host by host', async () => {
    const run = await chaton([...inv(), '-y', 'exec', 'pve1,pve2', '--', 'seq 1 300000'], { env });
    assert.equal(run.code, 0, run.stderr);
    for (const host of ['pve1', 'pve2']) {
      const lines = run.stdout.split('\n').filter((line) => line.startsWith(`${host} | `));
      assert.equal(lines.length, 300000);
      assert.equal(lines.at(-1), `${host} | 300000`);
    }
  });

  it('prefixes only at line starts: carriage returns stay inside their line', async () => {
    const run = await chaton([...inv(), 'exec', 'pve1', '--', "printf 'a\\r\\nb\\rc\\n'"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.stdout.startsWith('pve1 | a\r\npve1 | b\rc\n'), JSON.stringify(run.stdout));
  });

  /** Runs chaton, reads `atLeast` characters of its output, then goes away, as `| head` does. */
  const readThenGoAway = (args: string[], atLeast: number) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CHATON, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < atLeast) stdout += chunk.toString();
        else child.stdout.destroy();
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('stops the remote command and exits 130, without crashing, when its reader goes away', async () => {
    const run = await readThenGoAway([...inv(), 'exec', 'pve1', '--', 'seq 1 100000000'], 1000);
    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stdout, /^pve1 \| 1\npve1 \| 2\n/);
    assert.doesNotMatch(run.stderr, /EPIPE|Unhandled|bug in chaton/);
    assert.notEqual((await lab.run('pve1', ['pgrep', '-f', 'seq 1 100000000'])).exitCode, 0);
  });

  it('when its reader goes away, gives the results of commands that had ended, not "may still run"', async () => {
    // Quick commands everywhere: when the first line is read, most have ended, their exit status on
    // its way. pve1, if it starts before the pipe is found closed, writes on until stopped: chaton
    // surely meets the closed pipe while commands run.
    const line = 'seq 3; if [ "$(hostname)" = pve1 ]; then while sleep 0.1; do echo more; done; fi';
    const run = await readThenGoAway([...inv(), '-y', 'exec', 'all', '--', line], 1);
    assert.equal(run.code, 130, run.stderr);
    assert.doesNotMatch(run.stderr, /could not be stopped|may still be running/);
    assert.match(run.stderr, /\[COMPLETED\] \S+: exit 0/);
  });

  it('keeps at most 1 MiB per stream in --json, and says so, whatever the host prints', async () => {
    const run = await chaton([...inv(), '--json', 'exec', 'pve1', '--', 'head -c 20000000 /dev/zero | tr "\\0" x'], {
      env,
    });
    assert.equal(run.code, 0, run.stderr);
    const [host] = JSON.parse(run.stdout).hosts;
    assert.equal(host.stdout.length, 1024 * 1024);
    assert.equal(host.truncated, true);
  });

  it('on a terminal asks before running on several hosts, in colour, and takes no for an answer', async () => {
    const yes = await onTerminal([...inv(), 'exec', 'pve1,pve2', '--', 'hostname'], [['(y/N)', 'y\r']]);
    assert.equal(yes.code, 0, yes.output);
    assert.match(yes.output, /Run `hostname` on 2 hosts \(pve1, pve2\)\?/);
    assert.match(yes.output, ANSI);
    assert.match(yes.output, /pve2\S* \| pve2/);
    const no = await onTerminal(
      [...inv(), 'exec', 'pve1,pve2', '--', 'touch /root/declined-marker'],
      [['(y/N)', 'n\r']],
    );
    assert.equal(no.code, 3, no.output);
    assert.match(no.output, /not confirmed: nothing was done/);
    // In French: asked with (o/N), and oui is yes.
    const oui = await onTerminal([...inv(), 'exec', 'pve1,pve2', '--', 'hostname'], [['(o/N)', 'oui\r']], {
      LANG: 'fr_FR.UTF-8',
    });
    assert.equal(oui.code, 0, oui.output);
    assert.match(oui.output, /Lancer `hostname` sur 2 hôtes \(pve1, pve2\) \?/);
    for (const host of ['pve1', 'pve2'])
      assert.notEqual((await lab.run(host, ['test', '-e', '/root/declined-marker'])).exitCode, 0);
  });

  it('on a terminal asks for the passphrase of an encrypted key, again when it is wrong', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-tty-key-'));
    const key = path.join(dir, 'id_ed25519');
    const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', key]);
    assert.equal(keygen.status, 0);
    assert.equal(
      (
        await lab.run('host003', ['sh', '-c', 'cat >> /root/.ssh/authorized_keys'], {
          input: await readFile(`${key}.pub`),
        })
      ).exitCode,
      0,
    );
    const file = await variantInventory(lab.inventoryPath, (doc) =>
      doc.setIn(['hosts', 'host003', 'ssh', 'identity_files'], [key]),
    );
    const run = await onTerminal(
      ['-i', file, 'hosts', 'check', 'host003'],
      [
        ['Passphrase for', 'wrong\r'],
        ['Wrong passphrase', 'correct horse\r'],
      ],
    );
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Linux/);
  });

  it('without a terminal refuses to run on several hosts unless --yes, and changes nothing', async () => {
    const run = await chaton([...inv(), 'exec', 'pve1,pve2', '--', 'touch /root/should-not-exist'], { env });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /--yes/);
    for (const host of ['pve1', 'pve2'])
      assert.notEqual((await lab.run(host, ['test', '-e', '/root/should-not-exist'])).exitCode, 0);
  });

  it('--dry-run prints the exact command per host and sends nothing', async () => {
    const run = await chaton([...inv(), '--dry-run', 'exec', 'pve1,pve2', '--', 'touch /root/dry-run-marker'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /# pve1 \(root@198\.18\.\d+\.11\)\ntouch \/root\/dry-run-marker\n# pve2/);
    assert.match(run.stderr, /pve1: not sent \(dry-run\)/);
    assert.doesNotMatch(run.stdout, /exit codes/);
    for (const host of ['pve1', 'pve2'])
      assert.notEqual((await lab.run(host, ['test', '-e', '/root/dry-run-marker'])).exitCode, 0);
  });

  it('audits a changing run: a JSON line locally and a syslog line on each changed host', async () => {
    const run = await chaton([...inv(), '-y', 'exec', 'pve3,backup', '--', 'true'], { env });
    assert.equal(run.code, 0, run.stderr);
    const records = (await readFile(path.join(env.XDG_STATE_HOME!, 'chaton', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const record = records.at(-1);
    assert.deepEqual(record.hosts, ['pve3', 'backup']);
    assert.equal(record.outcome, 'ok');
    assert.deepEqual(record.argv.slice(-4), ['exec', 'pve3,backup', '--', 'true']);
    for (const host of ['pve3', 'backup'])
      assert.match(
        await lab.syslog(host),
        /chaton: operator=\S+ outcome=ok command: chaton .*exec pve3,backup -- true/,
      );
    assert.doesNotMatch(await lab.syslog('pve2'), /exec pve3,backup/);
  });

  it('runs through sudo -n for a host with become: sudo', async () => {
    await addUser(lab, 'host001', 'ops', 'ops ALL=(ALL) NOPASSWD: ALL');
    await addUser(lab, 'host002', 'ops', null);
    const file = await variantInventory(lab.inventoryPath, (doc) => {
      for (const name of ['host001', 'host002']) {
        doc.setIn(['hosts', name, 'user'], 'ops');
        doc.setIn(['hosts', name, 'become'], 'sudo');
      }
    });
    const ok = await chaton(['-i', file, 'exec', 'host001', '--', 'id -u; whoami'], { env });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^host001 \| 0\nhost001 \| root$/m);
    const dry = await chaton(['-i', file, '--dry-run', 'exec', 'host001', '--', 'id -u'], { env });
    assert.match(dry.stdout, /^sudo -n -- sh -c 'id -u'$/m);
    const refused = await chaton(['-i', file, 'exec', 'host002', '--', 'id -u'], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stdout + refused.stderr, /sudo asks ops for a password/);
  });
});

/**
 * Runs chaton on a terminal (script(1) gives it a pty) and answers its questions in order, each
 * once its text has appeared.
 */
function onTerminal(
  args: string[],
  dialogue: [question: string, answer: string][],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; output: string }> {
  const line = render(
    command('sh', '-c', 'stty cols 120 rows 40; exec "$0" "$@"', process.execPath, CHATON, ...args),
  ).toString();
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', line, '/dev/null'], {
      env: { ...env, ...extraEnv, TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    let answered = 0;
    let from = 0; // where the next question is looked for: after the last one answered
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const next = dialogue[answered];
      const at = next ? output.indexOf(next[0], from) : -1;
      if (!next || at === -1) return;
      child.stdin.write(next[1]);
      answered++;
      from = at + next[0].length;
    });
    // A question that never comes must fail the test, not hang it.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      child.stdin.end();
      resolve({ code, output });
    });
  });
}
