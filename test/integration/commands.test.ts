// How commands travel and stop, on the lab: stopped under every login shell, as root and through
// sudo; texts longer than sshd's one argument; hostile texts that must not skip the audit line;
// a link that drops while a command runs; one very long output line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { addUser, chaton, freshLab, sandboxEnv, variantInventory, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
/** Each host reached a different way: [host, login shell, user, become]. */
const WAYS = [
  ['pve1', '/bin/bash', 'root', 'none'],
  ['pve2', '/bin/sh', 'root', 'none'],
  ['pve3', '/usr/local/bin/ash', 'root', 'none'],
  ['host001', '/bin/sh', 'jane', 'sudo'],
  ['host002', '/bin/bash', 'jane', 'sudo'],
  // busybox also as `sh` under sudo (sudo finds /usr/local/bin first), as on a small gateway.
  ['host003', '/usr/local/bin/ash', 'jane', 'sudo'],
] as const;
const HOSTS = WAYS.map(([host]) => host);
let ways: string;

before(async () => {
  lab = await freshLab('it-commands', 3);
  env = await sandboxEnv();
  for (const [host, shell, user] of WAYS) {
    if (user !== 'root') await addUser(lab, host, user, `${user} ALL=(ALL) NOPASSWD: ALL`);
    // busybox runs as ash when called by that name, which is how sshd calls a login shell.
    const setUp = await lab.run(host, [
      'sh',
      '-c',
      'ln -sf /bin/busybox /usr/local/bin/ash && usermod -s "$1" "$2"',
      'sh',
      shell,
      user,
    ]);
    assert.equal(setUp.exitCode, 0, setUp.stderr);
  }
  const sh = await lab.run('host003', ['ln', '-sf', '/bin/busybox', '/usr/local/bin/sh']);
  assert.equal(sh.exitCode, 0, sh.stderr);
  ways = await variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['ssh', 'command_timeout'], 2);
    for (const [host, , user, become] of WAYS) {
      doc.setIn(['hosts', host, 'user'], user);
      if (become === 'sudo') doc.setIn(['hosts', host, 'become'], 'sudo');
    }
  });
});
after(async () => {
  await lab?.down();
});

/** The hosts where a process whose command line matches `pattern` still runs. */
async function stillRunning(pattern: string): Promise<string[]> {
  const left = await Promise.all(
    HOSTS.map(async (host) => ((await lab.run(host, ['pgrep', '-f', pattern])).exitCode === 0 ? [host] : [])),
  );
  return left.flat();
}

/** Runs chaton and sends it SIGINT once every host printed `started`. */
function interruptedOnceStarted(args: string[], hosts: number): Promise<Run> {
  return chaton(args, {
    env,
    onSpawn: (child) => {
      let started = 0;
      const interrupt = (chunk: Buffer) => {
        started += chunk.toString().split('| started').length - 1;
        if (started < hosts) return;
        child.stdout!.off('data', interrupt);
        child.kill('SIGINT');
      };
      child.stdout!.on('data', interrupt);
    },
  });
}

describe('stopping a command', () => {
  it('command_timeout stops it under bash, dash and busybox, as root and through sudo', async () => {
    const run = await chaton(['-i', ways, '-y', 'exec', HOSTS.join(','), '--', 'sleep 271'], { env });
    assert.equal(run.code, 1, run.stderr);
    for (const host of HOSTS)
      assert.match(run.stderr, new RegExp(`${host}: \`[^\`]*sleep 271'?\` did not finish within 2 s and was stopped`));
    assert.deepEqual(await stillRunning('sleep 271'), []);
  });

  it('Ctrl-C stops it everywhere too, and a stop through sudo never meets dash refusing `--`', async () => {
    const run = await interruptedOnceStarted(
      ['-i', ways, '-y', 'exec', HOSTS.join(','), '--', 'echo started; sleep 272'],
      HOSTS.length,
    );
    assert.equal(run.code, 130, run.stderr);
    assert.doesNotMatch(run.stderr, /could not be stopped|Illegal number/);
    assert.match(run.stdout, /exit codes: interrupted on 6 hosts/);
    assert.deepEqual(await stillRunning('sleep 272'), []);
  });
});

describe('long commands', () => {
  // Words of 35,000: one argument of chaton's own is capped at 128 KiB too; exec joins its words.
  for (const words of [2, 6, 30]) {
    const size = words * 35_000;
    it(`runs a command of ${size} characters as root and through sudo, and shows it shortened`, async () => {
      const text = ['echo', ...Array.from({ length: words }, () => 'x'.repeat(35_000)), '| tr -d " " | wc -c'];
      const run = await chaton(['-i', ways, '-y', 'exec', 'pve1,host001', '--', ...text], { env });
      assert.equal(run.code, 0, run.stderr.slice(0, 2000));
      assert.match(run.stdout, new RegExp(`^pve1 +\\| ${size + 1}$`, 'm'));
      assert.match(run.stdout, new RegExp(`^host001 +\\| ${size + 1}$`, 'm'));
      // Shown shortened: the progress lines and the report do not repeat the whole text.
      assert.ok(
        run.stdout.length + run.stderr.length < 4000,
        `output of ${run.stdout.length + run.stderr.length} bytes`,
      );
      assert.match(run.stderr, new RegExp(`Run \`echo x+… \\(${text.join(' ').length} bytes\\)\``));
      // The host's audit line carries the command shortened too.
      const audit = new RegExp(
        `outcome=ok command: chaton -i \\S+ -y exec pve1,host001 -- echo x+… \\(\\d+ bytes\\)$`,
        'm',
      );
      assert.match(await lab.syslog('pve1'), audit);
    });
  }
});

describe('the audit line cannot be skipped by the command text', () => {
  const hostile: [text: string, outcome: string][] = [
    ['echo X); exit 0; (true', 'failed'],
    ['echo ")"; exit 0', 'ok'],
    ["trap '' EXIT HUP; exec >&- 2>&-; exit 0", 'ok'],
    ['logger() { :; }; exit 0', 'ok'],
    // The session's own shell killed: the line is then written in a session of its own.
    ['kill -KILL $$', 'failed'],
  ];
  for (const [text, outcome] of hostile) {
    it(`\`${text}\`: pve1 and host001 log it, outcome=${outcome}`, async () => {
      const marker = `hostile-${Math.random().toString(36).slice(2)}`;
      const run = await chaton(['-i', ways, '-y', 'exec', 'pve1,host001', '--', `: ${marker}; ${text}`], { env });
      assert.ok(run.code !== null, run.stderr);
      for (const host of ['pve1', 'host001']) {
        const lines = (await lab.syslog(host)).split('\n').filter((l) => l.includes(marker));
        const line = lines.find((l) => l.includes(' chaton: '));
        assert.ok(line, `${host}: no chaton line in syslog for ${marker}\n${run.stderr}`);
        assert.match(line, new RegExp(`chaton: operator=\\S+ outcome=${outcome} command: `));
      }
      // sudo's own log line shows the command as it ran.
      const sudoLog = (await lab.syslog('host001'))
        .split('\n')
        .find((l) => l.includes(marker) && l.includes(' sudo: '));
      assert.ok(sudoLog?.includes(`COMMAND=/usr/bin/sh -c ': ${marker};`), sudoLog);
    });
  }
});

describe('a link that drops while a command runs', () => {
  it('is reported as lost while running, outcome unknown, never as unreachable', async () => {
    const keepalive = await variantInventory(lab.inventoryPath, (doc) => {
      doc.setIn(['ssh', 'keepalive_interval'], 1);
      doc.setIn(['ssh', 'keepalive_count_max'], 2);
    });
    const marker = `lost-${Math.random().toString(36).slice(2)}`;
    try {
      // --verbose: with --json, remote output is shown only then, on stderr.
      const run = await chaton(
        ['-i', keepalive, '--json', '-v', 'exec', 'host002', '--', `echo started; sleep 4; : ${marker}`],
        {
          env,
          onSpawn: (child) => {
            const cut = (chunk: Buffer) => {
              if (!chunk.toString().includes('| started')) return;
              child.stderr!.off('data', cut);
              void lab.linkDown('host002');
            };
            child.stderr!.on('data', cut);
          },
        },
      );
      assert.equal(run.code, 1, run.stderr);
      const [report] = JSON.parse(run.stdout).hosts as { state: string; error: { message: string } }[];
      assert.equal(report!.state, 'lost');
      assert.match(report!.error.message, /connection lost while it ran .*: its outcome is unknown/);
      assert.doesNotMatch(run.stderr, /unreachable/);
    } finally {
      await lab.linkUp('host002');
    }
    // It was only the link: the command ran to its end there and logged it (it prints nothing
    // after the cut: a write to the session closed since then would kill it).
    let logged = false;
    for (let tries = 0; tries < 50 && !logged; tries++) {
      logged = (await lab.syslog('host002'))
        .split('\n')
        .some((line) => line.includes(marker) && line.includes('outcome=ok'));
      if (!logged) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(logged, 'the command did not log its end on host002');
  });
});

describe('a very long output line', () => {
  it('is shown whole, with the host name at real line starts only, beside another host', async () => {
    const run = await chaton(
      ['-i', ways, '-y', 'exec', 'pve1,pve2', '--', 'head -c 300000 /dev/zero | tr "\\0" x; echo; echo end'],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n').filter((line) => !line.startsWith('exit codes') && line !== '');
    for (const line of lines) assert.match(line, /^pve[12] +\| /, `a line without a prefix: ${line.slice(0, 80)}`);
    for (const host of ['pve1', 'pve2']) {
      const own = lines.filter((line) => line.startsWith(`${host} `)).map((line) => line.replace(/^\S+ +\| /, ''));
      assert.equal(own.join('').replaceAll('x', '').replace('end', ''), '', `${host}: unexpected text`);
      assert.equal(own.join('').split('x').length - 1, 300_000);
      assert.equal(own.at(-1), 'end');
    }
    // Alone, the line comes out as one line.
    const alone = await chaton(['-i', ways, 'exec', 'pve1', '--', 'head -c 300000 /dev/zero | tr "\\0" x; echo'], {
      env,
    });
    assert.equal(alone.code, 0, alone.stderr);
    assert.equal(alone.stdout.split('\n')[0], `pve1 | ${'x'.repeat(300_000)}`);
  });
});
