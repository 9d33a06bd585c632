// Build step (npm run build): the whole program in one CommonJS file, dist/src/chaton.cjs, and
// V8's code cache for it. Node.js 20 loads and compiles each of some 200 ES modules on every run
// and has no compile cache of its own; bin/chaton.js compiles this one file with the cache
// instead, which takes a warm `exec` on 20 hosts from 0.36 s to 0.26 s (measured, bench/warm.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { packageFile } from './lib/run/package.js';

/** What bin/chaton.js runs, and the code cache it reads (named there too). */
const BUNDLE = packageFile('dist', 'src', 'chaton.cjs');
const CODE_CACHE = `${BUNDLE}.cache`;
/** Tells bin/chaton.js to write its code cache as it exits: for this build step only. */
const WRITE_CODE_CACHE = 'CHATON_WRITE_CODE_CACHE';

/**
 * Runs whose compiled functions the code cache keeps, each adding to the last one's: what a run
 * compiles and the cache lacks is compiled again on every start. Offline: the annotated example.
 */
const TRAINING_RUNS = [
  ['--help'],
  ['-i', 'inventory.example.yaml', 'inventory', 'check'],
  ['-i', 'inventory.example.yaml', '--dry-run', '-y', 'exec', 'all', '--', 'uptime'],
];

/**
 * A native addon (ssh2's crypto binding) cannot be bundled: it is required from where it was
 * installed, by its path inside node_modules, resolved from the bundle as any package would be.
 */
const nativeAddons: Plugin = {
  name: 'native-addons',
  setup(bundler) {
    bundler.onResolve({ filter: /\.node$/ }, ({ path: file, resolveDir }) => {
      const absolute = path.resolve(resolveDir, file);
      const installed = `node_modules${path.sep}`;
      return { path: absolute.slice(absolute.lastIndexOf(installed) + installed.length), external: true };
    });
  },
};

const result = await build({
  entryPoints: [packageFile('dist', 'src', 'cli.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // cpu-features is a native addon of its own (ssh2 asks it which ciphers the CPU speeds up).
  external: ['cpu-features'],
  plugins: [nativeAddons],
  // The modules' own import.meta.url, in one file: the bundle's (see lib/run/package.ts). Strict
  // mode first, as the ES modules are: esbuild's own "use strict" comes after the banner.
  banner: { js: `"use strict";\nconst bundleUrl = require('node:url').pathToFileURL(__filename).href;` },
  define: { 'import.meta.url': 'bundleUrl' },
  write: false,
  metafile: true,
  logLevel: 'warning',
});
// A module left to import() at run time would need a loader the bundle does not have.
for (const output of Object.values(result.metafile.outputs)) {
  const left = output.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path);
  if (left.length) throw new Error(`the bundle would import() ${left.join(', ')} at run time: import it statically`);
}
const code = result.outputFiles[0]!.contents;
// Its first line names this build: a code cache made for another one is never used (V8 checks
// only the source's length).
const id = `// chaton bundle ${createHash('sha256').update(code).digest('hex').slice(0, 16)}\n`;
rmSync(CODE_CACHE, { force: true });
writeFileSync(BUNDLE, Buffer.concat([Buffer.from(id), code]));

const home = mkdtempSync(path.join(tmpdir(), 'chaton-build-'));
try {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LC_ALL: 'C.UTF-8', [WRITE_CODE_CACHE]: '1' };
  for (const words of TRAINING_RUNS) {
    const run = spawnSync(packageFile('bin', 'chaton.js'), words, { cwd: packageFile(), env, encoding: 'utf8' });
    if (run.status !== 0) {
      throw new Error(`chaton ${words.join(' ')}: ${run.error?.message ?? `exit ${run.status}`}\n${run.stderr}`);
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
