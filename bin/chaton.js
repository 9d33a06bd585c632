#!/usr/bin/env -S node --max-semi-space-size=2
// Launcher: the compiled program lives in dist/ (npm run build, or `prepare` on install).
// A small young generation: streaming a command's large output allocates fast, and V8's default
// (16 MB semi-spaces) lets the heap balloon by ~50 MB for no gain in speed (measured, bench/).

// Checked before anything is loaded: on an older Node.js, chaton's dependencies fail with a
// stack trace that says nothing of the cause. Debian 12 ships Node.js 18.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  process.stderr.write(
    `chaton: Node.js 20 or newer is needed, found ${process.versions.node}\n` +
      '  → Debian 13 ships Node.js 20; on Debian 12, install Node.js 20 or newer from another source (see the README)\n',
  );
  process.exit(2);
}
const { main } = await import('../dist/src/cli.js');
await main(process.argv);
