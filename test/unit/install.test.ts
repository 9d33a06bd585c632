// What installing chaton gives: a launcher that says which Node.js it needs, and a lean package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
    // Faking the version cannot catch a named import that Node.js 18 lacks: it fails before any
    // code runs. The launcher imports no names.
    assert.doesNotMatch(readFileSync(CHATON, 'utf8'), /^import .*\{/m);
  });

  it('runs the bundle the build made with the code cache made for it, or without one', () => {
    const bundle = readFileSync(path.join(ROOT, 'dist/src/chaton.cjs'));
    const firstLine = bundle.subarray(0, bundle.indexOf('\n') + 1);
    assert.match(firstLine.toString(), /^\/\/ chaton bundle [0-9a-f]{16}\n$/);
    // Strict, as the ES modules it is made of: its first statement says so.
    assert.equal(bundle.subarray(firstLine.length, bundle.indexOf('\n', firstLine.length)).toString(), '"use strict";');
    assert.ok(
      readFileSync(path.join(ROOT, 'dist/src/chaton.cjs.cache')).subarray(0, firstLine.length).equals(firstLine),
    );
    // A copy of the package, whose cache is missing, damaged, or another build's: V8 and the
    // launcher refuse what is not this build's, and the run is only slower.
    const copy = mkdtempSync(path.join(tmpdir(), 'chaton-package-'));
    try {
      mkdirSync(path.join(copy, 'bin'));
      mkdirSync(path.join(copy, 'dist/src'), { recursive: true });
      for (const file of ['package.json', 'bin/chaton.js', 'dist/src/chaton.cjs']) {
        copyFileSync(path.join(ROOT, file), path.join(copy, file));
      }
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
      const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
        .version;
      const damaged = Buffer.alloc(4096, 0x5a);
      const caches = [
        undefined,
        Buffer.concat([firstLine, damaged]),
        Buffer.concat([Buffer.from('// chaton bundle 0\n'), damaged]),
      ];
      for (const cache of caches) {
        if (cache) writeFileSync(path.join(copy, 'dist/src/chaton.cjs.cache'), cache);
        const run = spawnSync(process.execPath, [path.join(copy, 'bin/chaton.js'), '--version'], { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, `${version}\n`);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('the package', () => {
  it('ships the program, its bundle and code cache, the example, the README and the licence; no source maps', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(pack.status, 0, pack.stderr);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
    // The code cache too: the README packs where it installs, so the same Node.js reads it.
    const program = ['bin/chaton.js', 'dist/src/chaton.cjs', 'dist/src/chaton.cjs.cache', 'dist/src/cli.js'];
    for (const wanted of [...program, 'inventory.example.yaml', 'README.md', 'LICENSE']) {
      assert.ok(files.includes(wanted), `${wanted} is not in the package`);
    }
    assert.deepEqual(
      // The build step needs esbuild, a dev dependency.
      files.filter((file) => file.endsWith('.map') || file === 'dist/src/bundle.js' || file.startsWith('dist/test/')),
      [],
    );
  });
});
