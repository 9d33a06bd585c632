// `npm test`: the unit tests, then the integration tests on lab networks. Needs root (network
// namespaces, mounts); installs the lab's Debian packages first if some are missing.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCephPackages, ensureLabPackages } from './lab/packages.js';

if (process.getuid?.() !== 0) {
  process.stderr.write('npm test needs root: the integration tests build labs of network namespaces (sudo npm test)\n');
  process.exit(2);
}
await ensureLabPackages();
// Before the test files run in parallel: ceph-lab.test.ts's lab would otherwise install them itself.
await ensureCephPackages();

const here = (dir: string) => fileURLToPath(new URL(dir, import.meta.url));

/** Runs node's test runner on these files or directories; resolves with its exit code. */
function nodeTest(paths: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // Test files run two at a time: each integration file brings up its own small lab.
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...paths], { stdio: 'inherit', env });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/**
 * The integration tests that run chaton itself (the others drive the lab alone): they run a second
 * time with every run keeping its connections (CHATON_PERSIST), and must pass the same.
 */
async function filesRunningChaton(): Promise<string[]> {
  const dir = here('./integration/');
  const files = (await readdir(dir)).filter((name) => name.endsWith('.test.js')).sort();
  const runsChaton = /import \{[^}]*\bchaton\b[^}]*\} from '\.\/chaton\.js'/;
  const texts = await Promise.all(files.map((name) => readFile(path.join(dir, name), 'utf8')));
  return files.filter((_, i) => runsChaton.test(texts[i]!)).map((name) => path.join(dir, name));
}

// Messages are asserted in English unless a test asks for French (LC_ALL wins over LANG).
const env = { ...process.env, LC_ALL: 'C.UTF-8' };
const cold = await nodeTest([here('./unit/'), here('./integration/')], env);
process.stdout.write(
  '\n# the same integration tests again, warm: every run keeps its connections (CHATON_PERSIST=10m)\n',
);
const warm = await nodeTest(await filesRunningChaton(), { ...env, CHATON_PERSIST: '10m' });
// The keepers of the warm pass live in each test's runtime directory (see sandboxEnv), and exit
// with their labs: when an inventory file changes or goes, its keeper exits.
process.exit(cold || warm);
