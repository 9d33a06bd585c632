// smartctl for a lab's disk hosts: a lab disk is a loop device, which has no SMART, so its identity
// and health come from the lab's registry (disk-lab.ts; `lab.diskSmart` makes a disk fail). Options:
// -i/--info, -H/--health, -a/--all, -x/--xall (information and health only: no attributes, logs
// or self-tests), -j/--json; the device by its /dev name or a /dev/disk/by-id link.
//
// Sources (github.com/smartmontools/smartmontools, 7.3, Debian 12's): smartctl.cpp (the banner,
// the exit status bits: 1 command line, 2 device open failed, 8 "disk failing"), ataprint.cpp
// (print_drive_info: "Device Model", "Serial Number", "LU WWN Device Id", "User Capacity",
// "Sector Sizes", "Rotation Rate"; the overall-health line and its FAILED! text), and its JSON
// output (json_format_version, smartctl.exit_status, device, model_name, serial_number, wwn
// {naa, oui, id}, user_capacity, smart_support, smart_status.passed).
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { release } from 'node:os';
import { basename } from 'node:path';
import type { LabDisk } from '../control.js';
import { hostDisks } from './disk-lab.js';

const EXIT_COMMAND_LINE = 1;
const EXIT_OPEN_FAILED = 2;
const EXIT_DISK_FAILING = 8;
const SECTOR = 512;
const PHYSICAL_SECTOR = 4096;
const FIRMWARE = 'LAB1';

const BANNER =
  `smartctl 7.3 2022-02-28 r5338 [x86_64-linux-${release()}] (local build)\n` +
  'Copyright (C) 2002-22, Bruce Allen, Christian Franke, www.smartmontools.org\n\n';

/** "0x5cafe00001000003": NAA (1 hex digit), OUI (6), vendor id (9). */
function wwnParts(wwn: string): { naa: number; oui: number; id: number } {
  const hex = wwn.replace(/^0x/, '');
  return { naa: parseInt(hex.slice(0, 1), 16), oui: parseInt(hex.slice(1, 7), 16), id: parseInt(hex.slice(7), 16) };
}

function localTime(): string {
  return spawnSync('date', ['+%a %b %e %H:%M:%S %Y %Z'], { encoding: 'utf8' }).stdout.trim();
}

/** "2,147,483,648 bytes [2.14 GB]": the size in decimal units, as smartctl's format_capacity. */
function capacity(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  let value = bytes;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${bytes.toLocaleString('en-US')} bytes [${value.toFixed(2)} ${units[unit]}]`;
}

function infoText(disk: LabDisk): string {
  const { naa, oui, id } = wwnParts(disk.wwn);
  return [
    '=== START OF INFORMATION SECTION ===',
    `Device Model:     ${disk.model}`,
    `Serial Number:    ${disk.serial}`,
    `LU WWN Device Id: ${naa.toString(16)} ${oui.toString(16).padStart(6, '0')} ${id.toString(16).padStart(9, '0')}`,
    `Firmware Version: ${FIRMWARE}`,
    `User Capacity:    ${capacity(disk.sizeBytes)}`,
    `Sector Sizes:     ${SECTOR} bytes logical, ${PHYSICAL_SECTOR} bytes physical`,
    'Rotation Rate:    Solid State Device',
    'Device is:        Not in smartctl database 7.3/5319',
    `Local Time is:    ${localTime()}`,
    'SMART support is: Available - device has SMART capability.',
    'SMART support is: Enabled',
    '',
  ].join('\n');
}

function healthText(disk: LabDisk): string {
  const lines = ['=== START OF READ SMART DATA SECTION ==='];
  if (disk.smartPassed) lines.push('SMART overall-health self-assessment test result: PASSED');
  else {
    lines.push(
      'SMART overall-health self-assessment test result: FAILED!',
      'Drive failure expected in less than 24 hours. SAVE ALL DATA.',
      'See vendor-specific Attribute list for failed Attributes.',
    );
  }
  return `${lines.join('\n')}\n\n`;
}

/** What every JSON answer starts with: the format, smartctl's own record (`more` in it), the time. */
function jsonHead(args: string[], exitStatus: number, more: Record<string, unknown>) {
  return {
    json_format_version: [1, 0],
    smartctl: {
      version: [7, 3],
      svn_revision: '5338',
      platform_info: `x86_64-linux-${release()}`,
      build_info: '(local build)',
      argv: ['smartctl', ...args],
      ...more,
      exit_status: exitStatus,
    },
    local_time: { time_t: Math.floor(Date.now() / 1000), asctime: localTime() },
  };
}

async function main(args: string[]): Promise<number> {
  const json = args.some((arg) => arg === '-j' || arg.startsWith('--json'));
  const info = args.some((arg) => ['-i', '--info', '-a', '--all', '-x', '--xall'].includes(arg));
  const health = args.some((arg) => ['-H', '--health', '-a', '--all', '-x', '--xall'].includes(arg));
  const paths = args.filter((arg) => !arg.startsWith('-'));
  const path = paths[0];
  if (paths.length !== 1 || !path) {
    process.stderr.write(`${BANNER}ERROR: smartctl requires a device name as the final command-line argument.\n`);
    return EXIT_COMMAND_LINE;
  }
  let device: string;
  /** An error, as text, or with -j as the real one prints it (captured: test/unit/fixtures/storage/). */
  const failed = (message: string, more: string, exitStatus: number) => {
    if (!json) {
      process.stdout.write(`${BANNER}${message}\n${more}`);
      return exitStatus;
    }
    const output = jsonHead(args, exitStatus, { messages: [{ string: message, severity: 'error' }] });
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return exitStatus;
  };
  try {
    device = realpathSync(path);
  } catch {
    return failed(`Smartctl open device: ${path} failed: No such device`, '', EXIT_OPEN_FAILED);
  }
  const disk = (await hostDisks()).find((candidate) => candidate.device === basename(device));
  if (!disk) {
    const more = 'Please specify device type with the -d option.\n';
    return failed(`${path}: Unable to detect device type`, more, EXIT_COMMAND_LINE);
  }
  const exitStatus = health && !disk.smartPassed ? EXIT_DISK_FAILING : 0;
  if (!json) {
    process.stdout.write(BANNER + (info ? infoText(disk) : '') + (health ? healthText(disk) : ''));
    return exitStatus;
  }
  const output = {
    ...jsonHead(args, exitStatus, { drive_database_version: { string: '7.3/5319' } }),
    device: { name: path, info_name: `${path} [SAT]`, type: 'sat', protocol: 'ATA' },
    ...(info && {
      model_name: disk.model,
      serial_number: disk.serial,
      wwn: wwnParts(disk.wwn),
      firmware_version: FIRMWARE,
      user_capacity: { blocks: disk.sizeBytes / SECTOR, bytes: disk.sizeBytes },
      logical_block_size: SECTOR,
      physical_block_size: PHYSICAL_SECTOR,
      rotation_rate: 0,
      in_smartctl_database: false,
      smart_support: { available: true, enabled: true },
    }),
    ...(health && { smart_status: { passed: disk.smartPassed } }),
  };
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return exitStatus;
}

process.exitCode = await main(process.argv.slice(2));
