// `npm run build` runs this after tsc: writes dist/chaton.1, the man page npm installs
// (package.json "man"), from the program as built.
import { writeFileSync } from 'node:fs';
import { buildProgram } from './cli.js';
import { manPage } from './lib/man.js';

writeFileSync(new URL('../chaton.1', import.meta.url), manPage(buildProgram()));
