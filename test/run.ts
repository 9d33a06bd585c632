// `npm test`: the unit tests, then the integration tests on lab networks. Needs root (network
// namespaces, mounts); installs the lab's Debian packages first if some are missing.
import { spawn } from 'node:child_process';
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
// Test files run two at a time: each integration file brings up its own small lab.
// Messages are asserted in English unless a test asks for French (LC_ALL wins over LANG).
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', here('./unit/'), here('./integration/')], {
  stdio: 'inherit',
  env: { ...process.env, LC_ALL: 'C.UTF-8' },
});
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
