// ledctl (ledmon 0.95, Debian 12's) for a lab's disk hosts: a lab disk is a loop device, which sits
// in no enclosure, so the real ledctl finds no LED to drive ("device not supported", exit 33). The
// stand-in drives the locate LED of each lab disk of this host instead: lit, a file named after
// the disk's serial in DISK_LAB_LEDS (the lab's `diskLeds()` reads them); any other device is not
// supported, as the real ledctl says of it. Its output and exit statuses are the real one's,
// captured on this machine from Debian's ledctl 0.95 on a loop device (test/unit/fixtures/storage/
// README.md):
// - stdout, every run past the options: the two lines of its configuration search (no
//   /dev/shm/ledmon.conf, no /etc/ledmon.conf);
// - `pattern=<devices>` (comma-separated, or `pattern={ dev dev }` as separate words): each device
//   resolved with realpath; none there: exit 8 (STATUS_INVALID_PATH) with no line of its own; not a
//   supported device: "ledctl: <dev>: device not supported", exit 33 (STATUS_NOT_SUPPORTED); a
//   pattern left with no device: "ledctl: IBPI LOCATE: missing block device(s)... pattern
//   ignored."; an unknown pattern: "ledctl: <name> - unknown pattern name.", exit 10
//   (STATUS_INVALID_STATE); no pattern: "ledctl: missing operand(s)... run ledctl --help for
//   details.", exit 7 (STATUS_IBPI_DETERMINE_ERROR); not root: "Only root can run this
//   application.", exit 36;
// - then every listed device gets its pattern and, without -x/--listed-only, every other device of
//   the host its locate LED off (src/ledctl.c, _ledctl_execute); exit 0, nothing more printed.
//
// Sources (github.com/intel/ledmon, v0.95): src/ledctl.c (main, _cmdline_ibpi_parse,
// _ibpi_state_add_block, _ibpi_state_determine, _ledctl_execute; _ibpi_state_get: the pattern
// names, `off` is NORMAL as `normal` is, which puts the locate LED out too; ibpi_str: the names the
// warnings print), src/status.h (the status_t values that are its exit statuses). Not reproduced:
// the log file /var/log/ledctl.log, --list-controllers, the ses_* patterns (refused as unknown),
// what patterns other than these do to the status and failure LEDs.
import { realpathSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LabDisk } from '../control.js';
import { DISK_LAB_LEDS, hostDisks } from './disk-lab.js';

const STATUS_IBPI_DETERMINE_ERROR = 7;
const STATUS_INVALID_PATH = 8;
const STATUS_INVALID_STATE = 10;
const STATUS_NOT_SUPPORTED = 33;
const STATUS_CMDLINE_ERROR = 35;
const STATUS_NOT_A_PRIVILEGED_USER = 36;

const CONFIG_LINES =
  '/dev/shm/ledmon.conf: does not exist, using global config file\n' +
  '/etc/ledmon.conf: does not exist, using built-in defaults\n';

const VERSION =
  'Intel(R) Enclosure LED Control Application 0.95 \nCopyright (C) 2009-2021 Intel Corporation.\n\n' +
  'This is free software; see the source for copying conditions. There is NO warranty;\n' +
  'not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.\n\n';

/** Each pattern name ledctl takes (_ibpi_state_get), and what ibpi2str calls it. */
const PATTERNS: Record<string, string> = {
  locate: 'LOCATE',
  locate_off: 'LOCATE_OFF',
  normal: 'NORMAL',
  off: 'NORMAL',
  ica: 'ICA',
  degraded: 'ICA',
  rebuild: 'REBUILD',
  ifa: 'IFA',
  failed_array: 'IFA',
  hotspare: 'HOTSPARE',
  pfa: 'PFA',
  failure: 'FAILURE',
  disk_failed: 'FAILURE',
};

/** What a pattern does to the locate LED: lit, out, or left as it is. */
function locateAfter(pattern: string): boolean | undefined {
  if (pattern === 'locate') return true;
  if (pattern === 'locate_off' || pattern === 'normal' || pattern === 'off') return false;
  return undefined;
}

async function setLocate(disk: LabDisk, lit: boolean): Promise<void> {
  const file = join(DISK_LAB_LEDS, disk.serial);
  if (lit) {
    await mkdir(DISK_LAB_LEDS, { recursive: true });
    await writeFile(file, 'locate\n');
  } else {
    await rm(file, { force: true });
  }
}

function error(line: string): void {
  process.stderr.write(`ledctl: ${line}\n`);
}

async function main(args: string[]): Promise<number> {
  if (args.some((arg) => arg === '-v' || arg === '--version')) {
    process.stdout.write(VERSION);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('Only root can run this application.\n');
    return STATUS_NOT_A_PRIVILEGED_USER;
  }
  const options = args.filter((arg) => arg.startsWith('-'));
  const unknown = options.find((arg) => !['-x', '--listed-only'].includes(arg) && !/^--?[a-zA-Z-]+(=|$)/.test(arg));
  if (unknown !== undefined) {
    error(`invalid option -- '${unknown.replace(/^-+/, '')}'`);
    return STATUS_CMDLINE_ERROR;
  }
  const listedOnly = options.some((arg) => arg === '-x' || arg === '--listed-only');
  process.stdout.write(CONFIG_LINES);
  const disks = await hostDisks();
  const wanted = new Map<LabDisk, string>();
  const found = new Map<string, number>();
  let status = 0;
  const operands = args.filter((arg) => !arg.startsWith('-'));
  for (let i = 0; i < operands.length; i++) {
    const operand = operands[i]!;
    const equals = operand.indexOf('=');
    if (equals < 0) continue;
    const pattern = operand.slice(0, equals);
    if (PATTERNS[pattern] === undefined) {
      error(`${pattern} - unknown pattern name.`);
      return STATUS_INVALID_STATE;
    }
    const rest = operand.slice(equals + 1);
    let devices: string[];
    if (rest.startsWith('{')) {
      const end = operands.indexOf('}', i);
      devices = operands.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? operands.length : end;
    } else {
      devices = rest.split(',').filter(Boolean);
    }
    found.set(pattern, found.get(pattern) ?? 0);
    for (const device of devices) {
      let real: string;
      try {
        real = realpathSync(device);
      } catch {
        status = STATUS_INVALID_PATH;
        continue;
      }
      const disk = disks.find((candidate) => candidate.device === basename(real));
      if (!disk) {
        error(`${device}: device not supported`);
        status = STATUS_NOT_SUPPORTED;
        continue;
      }
      wanted.set(disk, pattern);
      found.set(pattern, (found.get(pattern) ?? 0) + 1);
    }
  }
  for (const [pattern, count] of found) {
    if (count === 0) error(`IBPI ${PATTERNS[pattern]}: missing block device(s)... pattern ignored.`);
  }
  if (found.size === 0) {
    error('missing operand(s)... run ledctl --help for details.');
    return STATUS_IBPI_DETERMINE_ERROR;
  }
  if (status !== 0) return status;
  for (const disk of disks) {
    const pattern = wanted.get(disk);
    const lit = pattern === undefined ? (listedOnly ? undefined : false) : locateAfter(pattern);
    if (lit !== undefined) await setLocate(disk, lit);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
