// sgdisk for a disk lab's hosts: the REAL sgdisk (gptfdisk, /usr/sbin/sgdisk) with the same arguments,
// its output and exit status as they are; then, when it wrote a partition table, what the kernel and
// udev do after it on a real machine (sgdisk's BLKRRPART, which a lab loop device does not honour):
// the lab maps the disk's partitions again (a `disk-rescan` request to the lab supervisor, by serial),
// so that /dev/loop3p2 and the by-id `-partN` links follow the new table. The disk written is the
// device named, except for `-R` (`sgdisk A -R B` reads A and writes B) when nothing else changes A.
//
// Sources (github.com/samangh/gptfdisk, a mirror of Rod Smith's gptfdisk): gptcl.cc
// (GPTDataCL::DoOptions: the popt table, which options take a value, which set saveData (a write)
// and which only show (-p, -i, -v, -O, -D, -E, -f, -F, -L, -V, -b to a file), -P pretend, -R
// replicate onto outDevice, "the first non-option argument is the device").
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { DISK_LAB_SOCKET, hostDisks, realpathOrUndefined, resolveDevice } from './lab-disk-map.js';
import { labRequest } from './lab-socket.js';
import { isMainModule } from './pve-cli.js';

const REAL_SGDISK = '/usr/sbin/sgdisk';

/** popt's table: the short options that take a value, and their long names. */
const WITH_VALUE: Record<string, string> = {
  A: 'attributes',
  a: 'set-alignment',
  b: 'backup',
  c: 'change-name',
  d: 'delete',
  h: 'hybrid',
  i: 'info',
  j: 'move-main-table',
  l: 'load-backup',
  m: 'gpttombr',
  n: 'new',
  N: 'largest-new',
  r: 'transpose',
  R: 'replicate',
  S: 'resize-table',
  t: 'typecode',
  T: 'transform-bsd',
  u: 'partition-guid',
  U: 'disk-guid',
};
const NO_VALUE: Record<string, string> = {
  C: 'recompute-chs',
  D: 'display-alignment',
  e: 'move-second-header',
  E: 'end-of-largest',
  f: 'first-in-largest',
  F: 'first-aligned-in-largest',
  g: 'mbrtogpt',
  G: 'randomize-guids',
  L: 'list-types',
  o: 'clear',
  O: 'print-mbr',
  p: 'print',
  P: 'pretend',
  s: 'sort',
  v: 'verify',
  V: 'version',
  z: 'zap',
  Z: 'zap-all',
};
/** The options that change the device's table (DoOptions sets saveData, or writes at once). */
const WRITES = new Set([
  'A',
  'c',
  'C',
  'd',
  'e',
  'g',
  'G',
  'h',
  'j',
  'l',
  'm',
  'n',
  'N',
  'o',
  'r',
  's',
  'S',
  't',
  'T',
  'u',
  'U',
  'z',
  'Z',
]);

function shortOf(long: string): string | undefined {
  return Object.entries({ ...WITH_VALUE, ...NO_VALUE }).find(([, name]) => name === long)?.[0];
}

/** The options given (short letters, with their values) and the device: the first operand. */
function parseSgdisk(args: string[]): { options: { option: string; value?: string }[]; device?: string } {
  const options: { option: string; value?: string }[] = [];
  let device: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg.startsWith('--')) {
      const [long = '', attached] = arg.slice(2).split(/=(.*)/s);
      const option = shortOf(long);
      if (option === undefined) continue;
      const value = option in WITH_VALUE ? (attached ?? args[++i]) : undefined;
      options.push(value === undefined ? { option } : { option, value });
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let at = 1; at < arg.length; at++) {
        const option = arg[at] ?? '';
        if (!(option in WITH_VALUE)) {
          options.push({ option });
          continue;
        }
        const value = at + 1 < arg.length ? arg.slice(at + 1) : args[++i];
        options.push(value === undefined ? { option } : { option, value });
        break;
      }
    } else device ??= arg;
  }
  return device === undefined ? { options } : { options, device };
}

/** The devices whose table this run writes (none under -P). */
export function writtenDevices(args: string[]): string[] {
  const { options, device } = parseSgdisk(args);
  if (options.some(({ option }) => option === 'P')) return [];
  const written = new Set<string>();
  for (const { option, value } of options) {
    if (option === 'R' && value !== undefined) written.add(value);
    else if (WRITES.has(option) && !(option === 'A' && value === 'list') && device !== undefined) written.add(device);
  }
  return [...written];
}

async function main(args: string[]): Promise<number> {
  const run = spawnSync(REAL_SGDISK, args, { stdio: 'inherit' });
  const code = run.status ?? 1;
  if (code !== 0) return code;
  const disks = await hostDisks();
  for (const path of writtenDevices(args)) {
    const device = resolveDevice(disks, path, realpathOrUndefined);
    if (!device || device.partition !== null) continue;
    const rescan = { op: 'disk-rescan', host: hostname(), serial: device.disk.serial };
    const answer = await labRequest(DISK_LAB_SOCKET, rescan);
    if (answer && !answer.ok) {
      process.stderr.write(`sgdisk (lab): the partitions of ${path} were not mapped again: ${answer.error}\n`);
      return 1;
    }
  }
  return code;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
