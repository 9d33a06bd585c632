// chaton(1): written by the build from the program tree, every command and option in it, and
// rendered by groff without a warning.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli.js';

const ROOT = new URL('../../../', import.meta.url);
const PACKAGE = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
  /** An array: npm links a man page into share/man only when `man` is one. */
  man: string[];
  files: string[];
  scripts: { build: string };
};
const MAN_PAGE = fileURLToPath(new URL(PACKAGE.man[0]!, ROOT));

/** Every command under `command`, as typed ("chaton hosts check"), with itself. */
function commandsOf(command: Command, names: string[] = ['chaton']): { names: string[]; command: Command }[] {
  const help = command.createHelp();
  const subs = help.visibleCommands(command).filter((sub) => command.commands.includes(sub));
  return [{ names, command }, ...subs.flatMap((sub) => commandsOf(sub, [...names, sub.name()]))];
}

/** The text of the roff source as it reads (the escapes of man.ts undone). */
const plain = (roff: string) => roff.replace(/\\-/g, '-').replace(/\\e/g, '\\');

describe('the man page', () => {
  it('is written by npm run build where package.json installs it from, and packed', () => {
    assert.match(PACKAGE.scripts.build, /&& node dist\/src\/man-page\.js( &&|$)/);
    assert.ok(PACKAGE.files.includes(PACKAGE.man[0]!.replace(/^\.\//, '')));
    execFileSync(process.execPath, [fileURLToPath(new URL('dist/src/man-page.js', ROOT))]);
    assert.match(readFileSync(MAN_PAGE, 'utf8'), /^\.TH CHATON 1 "" "chaton \d+\.\d+\.\d+" "User Commands"\n/);
  });

  it('has every command with its options and examples, and every global option', () => {
    const page = plain(readFileSync(MAN_PAGE, 'utf8'));
    for (const { names, command } of commandsOf(buildProgram())) {
      const help = command.createHelp();
      const leaf = help.visibleCommands(command).every((sub) => !command.commands.includes(sub));
      if (leaf) assert.ok(page.includes(`.SS "${names.join(' ')} `), names.join(' '));
      for (const option of command.options.filter((o) => !o.hidden)) {
        assert.ok(page.includes(`.B ${help.optionTerm(option)}\n`), `${names.join(' ')} ${option.flags}`);
      }
    }
    assert.ok(page.includes('chaton doctor --reach\n'), 'the examples of doctor --help');
    assert.match(page, /^\.SH EXIT STATUS\n\.TP\n\.B 0\n/m);
  });

  it('is rendered by groff (as man -l does) without a warning', () => {
    const run = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', MAN_PAGE], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.equal(run.stderr, '');
    const shown = spawnSync('man', ['-l', MAN_PAGE], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^ {3}chaton completion \[options\] <shell>$/m);
  });
});
