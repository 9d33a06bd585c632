#!/usr/bin/env node
// Launcher: the compiled program lives in dist/ (npm run build).
import { main } from '../dist/src/cli.js';

await main(process.argv);
