// What installing chaton gives: a launcher that says which Node.js it needs, and a lean package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));

describe('the launcher', () => {
  it('on Node.js 18 (Debian 12) says what it needs and exits 2, before loading anything', () => {
    // The version as Debian 12's nodejs reports it, set before the launcher runs.
    const older = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"18.19.0"})';
    const run = spawnSync(process.execPath, ['--import', older, CHATON, '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^chaton: Node\.js 20 or newer is needed, found 18\.19\.0\n {2}→ .*Debian 12/);
  });
});

describe('the package', () => {
  it('ships the program, the example, the README and the licence, and no source maps', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(pack.status, 0, pack.stderr);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
    for (const wanted of ['bin/chaton.js', 'dist/src/cli.js', 'inventory.example.yaml', 'README.md', 'LICENSE']) {
      assert.ok(files.includes(wanted), `${wanted} is not in the package`);
    }
    assert.deepEqual(
      files.filter((file) => file.endsWith('.map') || file.startsWith('dist/test/')),
      [],
    );
  });
});
