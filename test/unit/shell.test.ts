// The one renderer: golden command lines, and hostile words proven by a real POSIX sh giving
// back exactly the bytes that went in.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  asRoot,
  brief,
  command,
  display,
  killProcessGroup,
  quote,
  render,
  Secret,
  sessionCommand,
  withStdin,
  type Script,
  type Word,
} from '../../src/lib/remote/shell.js';

const HOSTILE: Word[] = [
  '',
  ' ',
  "it's",
  "''",
  '"double" quotes',
  '$(touch /tmp/chaton-pwned)',
  '`id`',
  '${HOME}',
  '$HOME',
  'a\nb',
  '\n',
  'tab\there',
  '*',
  '/etc/*',
  '?',
  '[a-z]',
  '-rf',
  '--',
  '--flag=value',
  'FOO=bar',
  '~',
  '~root',
  '#not a comment',
  'a;b',
  'a&&b',
  'a|b',
  '<in >out',
  '!',
  '\\',
  '\\n',
  'trailing backslash\\',
  'é ü 日本 🐈',
  'x'.repeat(10_000),
  Uint8Array.from([0xff, 0xfe, 0x80, 0x27, 0x0a]),
  Uint8Array.from([0x2d, 0xc3]),
];

/**
 * The POSIX shells chaton must work with: dash is Debian's /bin/sh (and `sh` under sudo), bash a
 * common login shell, busybox sh that of small gateways. npm test installs them (debian-packages.txt).
 */
const SHELLS = [['/bin/sh'], ['/bin/dash'], ['/bin/bash', '--posix'], ['/bin/busybox', 'sh']];

/** Runs a script on a real shell's stdin, returns the words printf gave back (NUL-separated). */
function wordsBack(shell: string[], script: Buffer): Buffer[] {
  const result = spawnSync(shell[0]!, shell.slice(1), { input: script });
  assert.equal(result.status, 0, `${shell.join(' ')} failed: ${result.stderr}`);
  const out = result.stdout;
  const words: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0) {
      words.push(out.subarray(start, i));
      start = i + 1;
    }
  }
  return words;
}

describe('render: golden command lines', () => {
  it('leaves plain words alone', () => {
    assert.equal(render(command('uname', '-sr')).toString(), 'uname -sr');
    assert.equal(
      render(command('qm', 'set', '101', '--ipconfig0', 'ip=10.0.0.5/24,gw=10.0.0.1')).toString(),
      "qm set 101 --ipconfig0 'ip=10.0.0.5/24,gw=10.0.0.1'",
    );
    assert.equal(render(command('ls', '/var/lib/vz/dump')).toString(), 'ls /var/lib/vz/dump');
  });

  it('single-quotes everything else, escaping quotes the POSIX way', () => {
    assert.equal(render(command('echo', "it's")).toString(), "echo 'it'\\''s'");
    assert.equal(render(command('echo', '')).toString(), "echo ''");
    assert.equal(render(command('echo', '$(id)')).toString(), "echo '$(id)'");
    assert.equal(render(command('echo', '~')).toString(), "echo '~'");
  });

  it('wraps a command for sudo as one quoted sh -c argument', () => {
    assert.equal(
      render(asRoot(command('cat', "/etc/it's"))).toString(),
      "sudo -n -- sh -c 'cat '\\''/etc/it'\\''\\'\\'''\\''s'\\'''",
    );
    assert.equal(render(asRoot({ shellText: 'df -h | tail -1' })).toString(), "sudo -n -- sh -c 'df -h | tail -1'");
  });

  it('sends shell text unchanged, as ssh does', () => {
    assert.equal(render({ shellText: 'uptime; ls *.conf | wc -l' }).toString(), 'uptime; ls *.conf | wc -l');
  });

  it('refuses NUL bytes and empty commands', () => {
    assert.throws(() => quote('a\0b'), /NUL/);
    assert.throws(() => render(command()), /at least one word/);
  });
});

describe('render: hostile words through a real sh', () => {
  for (const shell of SHELLS) {
    it(`${shell.join(' ')} gives back every word byte for byte`, () => {
      const script = Buffer.concat([render(command('printf', '%s\\0', ...HOSTILE)), Buffer.from('\n')]);
      const back = wordsBack(shell, script);
      assert.equal(back.length, HOSTILE.length);
      HOSTILE.forEach((word, i) =>
        assert.deepEqual(back[i], Buffer.from(word), `word ${i}: ${inspect(word).slice(0, 60)}`),
      );
    });

    it(`${shell.join(' ')} keeps them intact through a second shell (the sudo path)`, () => {
      const inner = render(command('printf', '%s\\0', ...HOSTILE));
      const script = Buffer.concat([render(command('sh', '-c', inner)), Buffer.from('\n')]);
      const back = wordsBack(shell, script);
      HOSTILE.forEach((word, i) => assert.deepEqual(back[i], Buffer.from(word), `word ${i}`));
    });
  }

  it('finds every shell it tests with', () => {
    for (const [path] of SHELLS) assert.ok(existsSync(path!), `${path} is missing: apt-get install busybox bash dash`);
  });
});

/**
 * Runs a session as sshd does (`<login shell> -c <line>`, stdin fed), through `shell`; the line
 * from a file, since an argument would reach the shell as UTF-8 and the line is bytes.
 */
function runSession(shell: string[], script: Script, after?: Word[]) {
  const session = sessionCommand(script, undefined, after && command(...after));
  const input = session.stdin instanceof Secret ? session.stdin.reveal() : session.stdin;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'chaton-session-')), 'line');
  writeFileSync(file, session.line);
  try {
    return spawnSync(shell[0]!, [...shell.slice(1), '-c', '. "$0"', file], { input, maxBuffer: 1 << 24 });
  } finally {
    rmSync(path.dirname(file), { recursive: true });
  }
}

/** Whether no live process is left in the group (zombies waiting for init do not count), within 5 s. */
async function groupGone(processGroup: number): Promise<boolean> {
  for (let tries = 0; tries < 50; tries++) {
    const live = readdirSync('/proc').filter((pid) => {
      if (!/^\d+$/.test(pid)) return false;
      try {
        // Fields after the command name: state, ppid, pgrp.
        const [state, , pgrp] = readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ');
        return Number(pgrp) === processGroup && state !== 'Z';
      } catch {
        return false; // ended meanwhile
      }
    });
    if (live.length === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('sessionCommand: what the executor sends', () => {
  const after = ['printf', 'after %s\\n'];
  const cases: [text: string, stdout: string, status: number][] = [
    ['echo one', 'one\nafter 0\n', 0],
    ['exit 3', 'after 3\n', 3],
    ['exec false', 'after 1\n', 1],
    ["trap 'echo own trap' EXIT; true", 'own trap\nafter 0\n', 0],
    ['echo two # a comment at the end', 'two\nafter 0\n', 0],
    // Hostile texts that would close a subshell written around them on the same line.
    ['echo X); exit 0; (true', 'after 2\n', 2],
    ['echo \')\'; echo "("', ')\n(\nafter 0\n', 0],
    // The shell runs what it parsed before the syntax error, as `sh -c` would.
    ['echo A\n); exit 7; (\necho B', 'A\nafter 2\n', 2],
    ['cat; echo read-nothing', 'read-nothing\nafter 0\n', 0],
    ['echo "${chaton_status-unset}"', 'unset\nafter 0\n', 0],
  ];
  for (const shell of SHELLS) {
    it(`${shell.join(' ')}: neither exit, exec, a trap, a comment nor a stray ) skips what follows`, () => {
      for (const [text, stdout, status] of cases) {
        const result = runSession(shell, { shellText: text }, after);
        assert.equal(result.stdout.toString(), stdout, text);
        assert.equal(result.status, status, text);
      }
    });

    it(`${shell.join(' ')}: the first stderr line gives the process group; the command's stderr follows`, () => {
      const result = runSession(shell, { shellText: 'echo oops >&2' });
      const [first, rest] = result.stderr.toString().split(/\n(.*)/s);
      assert.match(first!, /^chaton-process-group \d+$/);
      assert.equal(rest, 'oops\n');
    });

    it(`${shell.join(' ')}: texts of 100 KB (in the request) and 300 KB (on stdin: over sshd's 128 KiB) run`, () => {
      for (const size of [100_000, 300_000]) {
        const big = 'x'.repeat(size);
        const result = runSession(shell, { shellText: `echo ${big} | wc -c` }, after);
        assert.equal(result.stdout.toString().replace(/^ +/, ''), `${size + 1}\nafter 0\n`);
        const session = sessionCommand({ shellText: big }, undefined);
        assert.equal(session.stdin === undefined, size === 100_000);
      }
    });

    it(`${shell.join(' ')}: hostile words of a command come back byte for byte`, () => {
      const result = runSession(shell, command('printf', '%s\\0', ...HOSTILE));
      const back = result.stdout.toString('latin1').split('\0').slice(0, -1);
      assert.deepEqual(
        back,
        HOSTILE.map((word) => Buffer.from(word).toString('latin1')),
      );
    });

    it(`${shell.join(' ')}: a command with its own stdin gets it`, () => {
      const result = runSession(shell, withStdin(command('cat'), new Secret('from stdin\n')), after);
      assert.equal(result.stdout.toString(), 'from stdin\nafter 0\n');
    });

    it(`${shell.join(' ')}: killProcessGroup kills a whole process group`, async () => {
      // A process group of its own, as sshd gives each session: a shell and its child.
      const group = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
      const ended = new Promise<NodeJS.Signals | null>((resolve) =>
        group.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const kill = spawnSync(shell[0]!, [...shell.slice(1), '-c', render(killProcessGroup(group.pid!)).toString()]);
      assert.equal(kill.status, 0, kill.stderr.toString());
      assert.equal(await ended, 'SIGKILL');
      assert.ok(await groupGone(group.pid!), 'the sleep in the group survived');
    });
  }

  it('sends a command under sudo as one quoted word, as sudo logs it; a long one on stdin', () => {
    const short = sessionCommand({ shellText: "df -h | tail -1 # it's" }, 'sudo', command('logger', 'x'));
    assert.equal(
      short.line.toString(),
      `echo chaton-process-group $$ >&2; sudo -n -- sh -c 'df -h | tail -1 # it'\\''s'` +
        '; chaton_status=$?; logger x "$chaton_status"; exit "$chaton_status"',
    );
    assert.equal(short.stdin, undefined);
    const long = sessionCommand({ shellText: `: ${'x'.repeat(130_000)}` }, 'sudo');
    assert.equal(
      long.line.toString(),
      `echo chaton-process-group $$ >&2; sudo -n -- sh -c '(eval "$(cat)" </dev/null)'`,
    );
    assert.equal(String(long.stdin).length, 130_002);
  });

  it('runs a command in the login shell as one quoted word in a subshell', () => {
    const session = sessionCommand(command('ls', "/etc/it's"), undefined);
    assert.equal(
      session.line.toString(),
      `echo chaton-process-group $$ >&2; (eval 'ls '\\''/etc/it'\\''\\'\\'''\\''s'\\''')`,
    );
  });

  it('keeps a Secret on stdin, never in the line', () => {
    const session = sessionCommand(withStdin(command('chpasswd'), new Secret('hunter2')), 'sudo');
    assert.equal(session.line.toString(), 'echo chaton-process-group $$ >&2; sudo -n -- sh -c chpasswd');
    assert.ok(session.stdin instanceof Secret);
  });
});

describe('brief: long texts in progress lines', () => {
  it('keeps a short text and cuts a long one, saying its size', () => {
    assert.equal(brief('uptime'), 'uptime');
    assert.equal(brief('é'.repeat(300), 10), `${'é'.repeat(10)}… (600 bytes)`);
    assert.equal(brief(`${'a'.repeat(9)}🐈tail`, 10), `${'a'.repeat(9)}… (17 bytes)`);
  });
});

describe('Secret', () => {
  it('never shows its value in strings, JSON, inspect or display', () => {
    const secret = new Secret('hunter2');
    assert.equal(String(secret), '***');
    assert.equal(JSON.stringify({ secret }), '{"secret":"***"}');
    assert.doesNotMatch(inspect(secret), /hunter2/);
    const cmd = withStdin(command('restic', 'snapshots'), secret);
    assert.equal(display(cmd), 'restic snapshots <secret on stdin>');
    assert.doesNotMatch(render(cmd).toString(), /hunter2/);
    assert.equal(secret.reveal().toString(), 'hunter2');
  });

  it('keeps stdin when a command is wrapped for sudo', () => {
    const cmd = asRoot(withStdin(command('chpasswd'), new Secret('x')));
    assert.ok('stdin' in cmd && cmd.stdin instanceof Secret);
  });
});
