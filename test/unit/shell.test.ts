// The one renderer: golden command lines, and hostile words proven by a real POSIX sh giving
// back exactly the bytes that went in.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { asRoot, command, display, followedBy, quote, render, Secret, withStdin, type Word } from '../../src/lib/shell.js';

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

/** POSIX shells present on this machine: dash is Debian's /bin/sh. */
const SHELLS = [['/bin/sh'], ['/bin/dash'], ['/bin/bash', '--posix'], ['/bin/busybox', 'sh']].filter(([path]) => existsSync(path!));

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
    assert.equal(render(command('qm', 'set', '101', '--ipconfig0', 'ip=10.0.0.5/24,gw=10.0.0.1')).toString(), "qm set 101 --ipconfig0 'ip=10.0.0.5/24,gw=10.0.0.1'");
    assert.equal(render(command('ls', '/var/lib/vz/dump')).toString(), 'ls /var/lib/vz/dump');
  });

  it('single-quotes everything else, escaping quotes the POSIX way', () => {
    assert.equal(render(command('echo', "it's")).toString(), "echo 'it'\\''s'");
    assert.equal(render(command('echo', '')).toString(), "echo ''");
    assert.equal(render(command('echo', '$(id)')).toString(), "echo '$(id)'");
    assert.equal(render(command('echo', '~')).toString(), "echo '~'");
  });

  it('wraps a command for sudo as one quoted sh -c argument', () => {
    assert.equal(render(asRoot(command('cat', "/etc/it's"))).toString(), "sudo -n -- sh -c 'cat '\\''/etc/it'\\''\\'\\'''\\''s'\\'''");
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
      HOSTILE.forEach((word, i) => assert.deepEqual(back[i], Buffer.from(word), `word ${i}: ${inspect(word).slice(0, 60)}`));
    });

    it(`${shell.join(' ')} keeps them intact through a second shell (the sudo path)`, () => {
      const inner = render(command('printf', '%s\\0', ...HOSTILE));
      const script = Buffer.concat([render(command('sh', '-c', inner)), Buffer.from('\n')]);
      const back = wordsBack(shell, script);
      HOSTILE.forEach((word, i) => assert.deepEqual(back[i], Buffer.from(word), `word ${i}`));
    });
  }

  it('found at least one POSIX shell to test with', () => {
    assert.ok(SHELLS.length >= 1);
  });
});

describe('followedBy: a command, then another in the same shell with its exit status', () => {
  const after = command('printf', 'after %s\\n');
  const cases: [text: string, stdout: string, status: number][] = [
    ['echo one', 'one\nafter 0\n', 0],
    ['exit 3', 'after 3\n', 3],
    ['exec false', 'after 1\n', 1],
    ["trap 'echo own trap' EXIT; true", 'own trap\nafter 0\n', 0],
    ['echo two # a comment at the end', 'two\nafter 0\n', 0],
  ];
  for (const shell of SHELLS) {
    it(`${shell.join(' ')}: neither exit, exec, a trap nor a comment skips it; the status is the command's`, () => {
      for (const [text, stdout, status] of cases) {
        const script = Buffer.concat([followedBy(render({ shellText: text }), after), Buffer.from('\n')]);
        const result = spawnSync(shell[0]!, shell.slice(1), { input: script });
        assert.equal(result.stdout.toString(), stdout, text);
        assert.equal(result.status, status, text);
      }
    });
  }
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
