// cat for a disk host of the lab, for one file only: /proc/mdstat, which this machine's kernel
// (no md driver) cannot have and a lab host cannot be given (procfs takes no new file, and an
// overlay cannot cover it), is printed from the mdadm stand-in's arrays (md-array.ts), as the
// kernel's md_seq_show would print them. Any other use is the real /bin/cat's, with the same
// arguments, streams and exit status (GNU coreutils; `cat /proc/mdstat` with other arguments too).
import { spawnSync } from 'node:child_process';
import { hostMdstat } from './md-array.js';
import { isMainModule } from './pve-cli.js';

const REAL_CAT = '/bin/cat';
export const MDSTAT = '/proc/mdstat';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === MDSTAT) {
    process.stdout.write(await hostMdstat());
    return 0;
  }
  const real = spawnSync(REAL_CAT, argv, { stdio: 'inherit' });
  return real.status ?? 1;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
