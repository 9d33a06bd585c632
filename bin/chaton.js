#!/usr/bin/env -S node --max-semi-space-size=2
// Launcher: the compiled program lives in dist/ (npm run build).
// A small young generation: streaming a command's large output allocates fast, and V8's default
// (16 MB semi-spaces) lets the heap balloon by ~50 MB for no gain in speed (measured, bench/).
import { main } from '../dist/src/cli.js';

await main(process.argv);
