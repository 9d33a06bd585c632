#!/usr/bin/env -S node --max-semi-space-size=2
// Launcher: the compiled program is one file, dist/src/chaton.cjs (npm run build, or `prepare` on
// install), compiled here with V8's code cache the build made for it (see src/bundle.ts).
// A small young generation: streaming a command's large output allocates fast, and V8's default
// (16 MB semi-spaces) lets the heap balloon by ~50 MB for no gain in speed (measured, bench/).
// Default imports only: a named import that an older Node.js lacks fails before the check below
// can say why (vm.constants is from Node.js 20.12).
import fs from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';
import url from 'node:url';
import vm from 'node:vm';

// Checked before anything else runs: on an older Node.js, chaton's dependencies fail with a
// stack trace that says nothing of the cause. Debian 12 ships Node.js 18.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  process.stderr.write(
    `chaton: Node.js 20 or newer is needed, found ${process.versions.node}\n` +
      '  → Debian 13 ships Node.js 20; on Debian 12, install Node.js 20 or newer from another source (see the README)\n',
  );
  process.exit(2);
}

const bundle = url.fileURLToPath(new URL('../dist/src/chaton.cjs', import.meta.url));
const cacheFile = `${bundle}.cache`;
const source = fs.readFileSync(bundle, 'utf8');
// The bundle's first line names its build; the cache starts with the line of the build it is for.
const id = Buffer.from(source.slice(0, source.indexOf('\n') + 1));
let cachedData;
try {
  const cache = fs.readFileSync(cacheFile);
  if (cache.subarray(0, id.length).equals(id)) cachedData = cache.subarray(id.length);
} catch {
  // No cache (not built yet, or not shipped): compiled from the source alone, only slower.
}
// Another Node.js or other V8 flags than the cache's: V8 refuses it (cachedDataRejected), same.
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: bundle,
  cachedData,
  // The build refuses a bundle that would import() at run time; this is for what slips through.
  importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (process.env.CHATON_WRITE_CODE_CACHE) {
  // The build's training runs: each one's compiled functions join the cache it started with.
  process.on('exit', () => fs.writeFileSync(cacheFile, Buffer.concat([id, script.createCachedData()])));
}
const module = { exports: {} };
script.runInThisContext()(module.exports, nodeModule.createRequire(bundle), module, bundle, path.dirname(bundle));
await module.exports.main(process.argv);
