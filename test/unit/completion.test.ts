// Shell completion: the candidates for partial command lines, taken from the real program tree;
// then each shell's script run by the real shell (npm test installs zsh and fish from
// debian-packages.txt), calling back the real chaton on the annotated example inventory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../../src/cli.js';
import { candidates, completionScript, FILES, splitLine } from '../../src/lib/completion.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../inventory.example.yaml', import.meta.url));
const NAMES = ['all', 'bastion', 'pve1', 'pve2', 'gw', 'hypervisors', 'role:pve', 'role:ceph'];
const targets = { names: async () => NAMES };

const complete = (line: string) => candidates(buildProgram(), line, targets);

describe('completion candidates', () => {
  it('commands and subcommands, never the hidden __complete', async () => {
    const commands = [
      'inventory',
      'hosts',
      'exec',
      'onboard',
      'offboard',
      'backup',
      'failover',
      'vm',
      'disk',
      'doctor',
      'connections',
      'completion',
      'help',
    ];
    assert.deepEqual(await complete('chaton '), commands);
    assert.deepEqual(await complete('chaton inv'), ['inventory']);
    assert.deepEqual(await complete('chaton inventory '), ['init', 'check', 'show', 'help']);
    assert.deepEqual(await complete('chaton connections '), ['list', 'close', 'help']);
    assert.deepEqual(await complete('chaton -i site.yaml --json inventory s'), ['show']);
  });

  it("options: the command's own, --help, then the global ones", async () => {
    assert.deepEqual(await complete('chaton doctor --r'), ['--reach']);
    assert.deepEqual(await complete('chaton hosts check --ac'), ['--accept-new']);
    const onboard = await complete('chaton onboard sysadmin jdupont --');
    for (const option of ['--key', '--sudo', '--save', '--help', '--dry-run']) {
      assert.ok(onboard.includes(option), option);
    }
  });

  it('targets: names, role:, comma lists without the names already there; not after exec --', async () => {
    assert.deepEqual(await complete('chaton hosts check '), NAMES);
    assert.deepEqual(await complete('chaton hosts check role:'), ['role:pve', 'role:ceph']);
    assert.deepEqual(await complete('chaton exec -y pve1,p'), ['pve1,pve2']);
    assert.deepEqual(await complete('chaton onboard sysadmin jdupont --on h'), ['hypervisors']);
    assert.deepEqual(await complete('chaton exec all -- '), []);
    assert.deepEqual(await complete('chaton exec all -- --'), []);
  });

  it('option values and arguments: choices, files, nothing to guess', async () => {
    assert.deepEqual(await complete('chaton completion '), ['bash', 'zsh', 'fish']);
    assert.deepEqual(await complete('chaton -i '), [FILES]);
    assert.deepEqual(await complete('chaton onboard sysadmin jdupont --key '), [FILES]);
    assert.deepEqual(await complete('chaton onboard sysadmin '), []);
    assert.deepEqual(await complete('chaton -j '), []);
  });

  it('splits a line as a shell does: quotes removed, the last word possibly empty', () => {
    assert.deepEqual(splitLine(`chaton exec 'a b' "c"d `), ['chaton', 'exec', 'a b', 'cd', '']);
    assert.deepEqual(splitLine('chaton ho'), ['chaton', 'ho']);
  });
});

describe('the shells run their scripts', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-completion-'));
    // `chaton` on the PATH, as the scripts call it; the inventory found through the environment.
    await writeFile(path.join(dir, 'chaton'), `#!/bin/sh\nexec '${process.execPath}' '${CHATON}' "$@"\n`);
    await chmod(path.join(dir, 'chaton'), 0o755);
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      await writeFile(path.join(dir, shell), completionScript(shell));
    }
    env = { PATH: `${dir}:${process.env.PATH}`, HOME: dir, CHATON_INVENTORY: EXAMPLE };
  });
  const run = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { env, cwd: dir, encoding: 'utf8' });

  it('bash: registered with complete -F, and COMPREPLY for lines with role: and comma lists', () => {
    const script = `source ${dir}/bash
complete -p chaton
t() { COMP_LINE=$1; COMP_POINT=\${#1}; _chaton; echo "$1 => \${COMPREPLY[*]} (\${#COMPREPLY[@]})"; }
t 'chaton ho'
t 'chaton hosts check role:p'
t 'chaton exec pve1,pv'
t 'chaton exec all -- '
t 'chaton completion z'`;
    assert.equal(
      run(['bash', '-c', script]),
      [
        'complete -F _chaton chaton',
        'chaton ho => hosts (1)',
        // readline keeps `role:` in place (a word break in bash): only the rest is replaced.
        'chaton hosts check role:p => pve pbs (2)',
        'chaton exec pve1,pv => pve1,pve2 pve1,pve3 (2)',
        'chaton exec all --  =>  (0)',
        'chaton completion z => zsh (1)',
        '',
      ].join('\n'),
    );
  });

  it('zsh: the function with words and CURRENT, compadd and _files stood in for', () => {
    // zsh's completion widgets need a terminal: compadd and _files print what they are given.
    const script = `compdef() { print "compdef $*" }
compadd() { shift 2; print -r -- compadd "$@" }
_files() { print _files }
source ${dir}/zsh
words=(chaton hosts check role:p); CURRENT=4; _chaton
words=(chaton -i ''); CURRENT=3; _chaton
words=(chaton exec all -- ''); CURRENT=5; _chaton`;
    const expected = 'compdef _chaton chaton\ncompadd role:pve role:pbs\n_files\ncompadd\n';
    assert.equal(run(['zsh', '-f', '-c', script]), expected);
  });

  it('fish: complete -C completes through the script', () => {
    const script = `source ${dir}/fish
complete -C 'chaton hosts check role:p'
complete -C 'chaton doc'`;
    // fish sorts the candidates itself.
    assert.equal(run(['fish', '--no-config', '-c', script]), 'role:pbs\nrole:pve\ndoctor\n');
  });
});
