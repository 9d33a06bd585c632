// `npm run build` runs this after tsc: writes dist/chaton.1, the man page npm installs
// (package.json "man"), from the program as built; or the file given as its argument.
//
// The man page is English, whatever the locale of the machine that builds it: messages are read
// in the language of LC_ALL/LC_MESSAGES/LANG (lib/run/catalogue.ts), so the build sets LC_ALL=C
// (which LANGUAGE does not override) before anything is loaded, since a module may compute a
// text as it loads, and only then loads the program.
process.env.LC_ALL = 'C';

const { writeFileSync } = await import('node:fs');
const { buildProgram } = await import('./cli.js');
const { manPage } = await import('./lib/man.js');

writeFileSync(process.argv[2] ?? new URL('../chaton.1', import.meta.url), manPage(buildProgram()));
