// `npm run demo`: chaton's main job on the built-in lab, from nothing to nothing. Brings a lab
// up, runs chaton against it as an operator would, and takes the lab down again (also on
// failure or Ctrl-C). Later subcommands join the steps as they land.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labDown, labUp, type Lab } from './lab.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
const DEMO_LAB = 'demo';

/** The demo's steps: chaton command lines, each shown before it runs. */
function steps(lab: Lab): string[][] {
  const inventory = ['-i', lab.inventoryPath];
  return [
    [...inventory, 'inventory', 'check'],
    [...inventory, 'inventory', 'show', 'hypervisors,gw,backup'],
    [...inventory, 'hosts', 'check', 'all'],
    [...inventory, '--yes', 'exec', 'all', '--', 'uptime'],
    [...inventory, '--dry-run', 'exec', 'hypervisors', '--', 'systemctl restart pveproxy'],
  ];
}

function runChaton(args: string[]): Promise<number> {
  process.stdout.write(`\n$ chaton ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHATON, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

await labDown(DEMO_LAB); // leftovers of an interrupted demo
let failed = 0;
try {
  process.stdout.write('Bringing up the lab: a bastion, pve1-3, gw, backup and 20 hosts, each with its own sshd...\n');
  const lab = await labUp({ name: DEMO_LAB, hosts: 20 });
  // Ctrl-C reaches the running chaton too; the demo then stops and takes the lab down.
  let interrupted = false;
  process.on('SIGINT', () => (interrupted = true));
  for (const args of steps(lab)) {
    if (interrupted) break;
    const code = await runChaton(args);
    process.stdout.write(`(exit code ${code})\n`);
    if (code !== 0) failed = code;
  }
} finally {
  await labDown(DEMO_LAB);
  process.stdout.write('\nThe lab is down.\n');
}
process.exitCode = failed;
