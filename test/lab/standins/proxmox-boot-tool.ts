// proxmox-boot-tool (proxmox-kernel-helper 8.1, Proxmox VE 8's) for a disk lab's pve hosts: the
// ESPs kept in sync are the real list, /etc/kernel/proxmox-boot-uuids; what an ESP holds (its boot
// loader, its kernels) is the host's boot.json (storage-state.ts), as the lab mounts no FAT. Commands:
// `status [--quiet]`, `format <partition> [--force]` (the real checks, then the REAL `mkfs.vfat -F 32`,
// then udev's /dev/disk/by-uuid/<UUID> link, which the stand-in makes), `init <partition> [grub]`,
// `clean [--dry-run]`. The partition's UUID and filesystem are the REAL `blkid -p`'s, its type the
// REAL `sgdisk -i`'s; its size and parent disk the lab's registry (lab-disk-map.ts). The firmware is
// the machine's (/sys/firmware/efi), as the real script asks: without it, `init` installs GRUB for
// i386-pc and status says "legacy bios".
//
// Sources (proxmox-kernel-helper, read at github.com/jiangcuo/proxmox-kernel-helper 7007b33, 8.1.0):
// src/bin/proxmox-boot-tool (_get_partition_info: its lsblk --pairs line and errors "E: '%s' does not
// exist!", "has children!", "cannot determine parent device", "is too small (<256M)."; format:
// "contains a filesystem ('%s') - exiting (use --force to override)", "Setting partition type",
// "Formatting '%s' as vfat..", "Done."; init_bootloader: "has wrong partition type", "has wrong
// filesystem", "Mounting", "Installing systemd-boot..", "Installing grub i386-pc target..",
// "Unmounting", "Adding '%s' to list of synced ESPs.."; _status_detail: "WARN: %s does not exist -
// clean '%s'! - skipping", "%s is configured with: %s (versions: %s)"; status: exit 2 without the
// list; clean, usage, the main case's exits), src/proxmox-boot/functions (ESP_LIST, ESPTYPE, warn()
// to stderr, reexec_in_mountns's "Re-executing '%s' in new private mount namespace..",
// loop_esp_list) and src/proxmox-boot/zz-proxmox-boot ("Copying and configuring kernels on ...").
// Not reproduced: reinit, refresh's real copies, kernel pin/add/remove/list, a mounted partition.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { devicePath, hostDisks, realpathOrUndefined, resolveDevice, sizeBytes } from './lab-disk-map.js';
import { isMainModule } from './pve-cli.js';
import { BOOT_STATE, type StorageWorld, type ToolOutput, withState } from './storage-state.js';

export const ESP_LIST = '/etc/kernel/proxmox-boot-uuids';
export const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
/** $0 of the real script, as a Proxmox VE host runs it. */
const TOOL = '/usr/sbin/proxmox-boot-tool';
/** The kernels a Proxmox VE 8 host keeps on its ESPs (the fixture's). */
export const LAB_KERNELS = ['6.8.12-1-pve', '6.8.4-3-pve'];
const MIN_SIZE = 268435456;

/** What init put on an ESP (by its filesystem's UUID): its loader and kernels. */
export interface BootState {
  esps: Record<string, { loader: 'uefi' | 'grub'; kernels: string[] }>;
  /** Disks grub-install wrote its core image to (grub-install.ts). */
  grub: { serial: string; installedAt: number }[];
}

export const EMPTY_BOOT_STATE: BootState = { esps: {}, grub: [] };

/** The host around the tool: files, the real tools it calls, the firmware. */
export interface BootHost {
  world: StorageWorld;
  efi: boolean;
  /** The ESP list's lines; null when the file does not exist. */
  readEspList: () => string[] | null;
  writeEspList: (uuids: string[]) => void;
  /** `blkid -p`: the filesystem's type and UUID on a device, when it holds one. */
  blkid: (path: string) => { type?: string; uuid?: string };
  /** `sgdisk -i N disk`'s "Partition GUID code", lower case; null when it has none. */
  partType: (disk: string, number: number) => string | null;
  /** Runs a real tool, its output passed through into the tool's own. */
  run: (argv: string[]) => ToolOutput;
  /** What udev does after a new filesystem: /dev/disk/by-uuid/<uuid> to the device. */
  linkByUuid: (uuid: string, device: string) => void;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface Io {
  stdout: string;
  stderr: string;
}

function warn(io: Io, ...lines: string[]): void {
  io.stderr += lines.map((line) => `${line}\n`).join('');
}

function echo(io: Io, ...lines: string[]): void {
  io.stdout += lines.map((line) => `${line}\n`).join('');
}

function usage(io: Io, command?: string): void {
  const lines: Record<string, string[]> = {
    format: [`  ${TOOL} format <partition> [--force]`],
    init: [`  ${TOOL} init <partition> [grub]`],
    reinit: [`  ${TOOL} reinit`],
    clean: [`  ${TOOL} clean [--dry-run]`],
    refresh: [`  ${TOOL} refresh [--hook <name>]`],
    kernel: [
      `  ${TOOL} kernel <add|remove> <kernel-version>`,
      `  ${TOOL} kernel pin <kernel-version> [--next-boot]`,
      `  ${TOOL} kernel unpin [--next-boot]`,
      `  ${TOOL} kernel list`,
    ],
    status: [`  ${TOOL} status [--quiet]`],
    help: [`  ${TOOL} help`],
  };
  if (command === undefined) warn(io, `USAGE: ${TOOL} <commands> [ARGS]`, '');
  for (const [name, text] of Object.entries(lines)) if (command === undefined || command === name) warn(io, ...text);
}

interface PartitionInfo {
  uuid: string;
  fstype: string;
  parttype: string;
  pkname: string;
  device: string;
}

/** _get_partition_info: what lsblk says of it, printed, and the real script's refusals. */
function partitionInfo(io: Io, host: BootHost, part: string): PartitionInfo {
  const real = host.world.realpath(part);
  const device = resolveDevice(host.world.disks, part, host.world.realpath);
  if (real === undefined && device === undefined) {
    warn(io, `E: '${part}' does not exist!`);
    throw new Exit(1);
  }
  if (!device) {
    warn(io, `E: '${real}' is not a block device!`);
    throw new Exit(1);
  }
  const path = devicePath(device);
  const { type = '', uuid = '' } = host.blkid(path);
  // udev's link for the filesystem found there (a disk put back under another loop number gets it again).
  if (uuid !== '') host.linkByUuid(uuid, path);
  const size = sizeBytes(device);
  const parttype = device.partition ? (host.partType(`/dev/${device.disk.device}`, device.partition.number) ?? '') : '';
  const pkname = device.partition ? (device.disk.device ?? '') : '';
  const line = `UUID="${uuid}" SIZE="${size}" FSTYPE="${type}" PARTTYPE="${parttype}" PKNAME="${pkname}" MOUNTPOINT=""`;
  if (!device.partition && (device.disk.partitions?.length ?? 0) > 0) {
    echo(io, line, ...(device.disk.partitions ?? []).map(() => line));
    warn(io, `E: block device '${part}' has children!`);
    throw new Exit(1);
  }
  echo(io, line);
  if (pkname === '') {
    warn(io, `E: cannot determine parent device of '${part}' - please provide a partition, not a full disk.`);
    throw new Exit(1);
  }
  if (size < MIN_SIZE) {
    warn(io, `E: '${part}' is too small (<256M).`);
    throw new Exit(1);
  }
  return { uuid, fstype: type, parttype, pkname, device: path };
}

function format(io: Io, host: BootHost, part: string, force: string | undefined): void {
  const info = partitionInfo(io, host, part);
  if (info.fstype !== '' && force !== '--force') {
    warn(io, `E: '${part}' contains a filesystem ('${info.fstype}') - exiting (use --force to override)`);
    throw new Exit(1);
  }
  if (info.parttype !== ESP_TYPE) {
    echo(io, `Setting partition type of '${part}' to '${ESP_TYPE}'..`);
    const number = /p(\d+)$/.exec(info.device)?.[1] ?? '';
    passThrough(io, host.run(['sgdisk', `-t${number}:${ESP_TYPE}`, `/dev/${info.pkname}`]));
    echo(io, "Calling 'udevadm settle'..");
  }
  echo(io, `Formatting '${part}' as vfat..`);
  passThrough(io, host.run(['mkfs.vfat', '-F', '32', part]));
  // What udev does on the new filesystem's event.
  const { uuid } = host.blkid(info.device);
  if (uuid) host.linkByUuid(uuid, info.device);
  echo(io, 'Done.');
}

/** The real tool's output in ours; `set -e`: its failure is ours. */
function passThrough(io: Io, output: ToolOutput): void {
  io.stdout += output.stdout;
  io.stderr += output.stderr;
  if (output.code !== 0) throw new Exit(output.code);
}

function init(io: Io, host: BootHost, state: BootState, part: string, mode: string | undefined): void {
  const info = partitionInfo(io, host, part);
  if (info.parttype !== ESP_TYPE) {
    warn(io, `E: '${part}' has wrong partition type (!= ${ESP_TYPE}).`);
    throw new Exit(1);
  }
  if (info.fstype !== 'vfat') {
    warn(io, `E: '${part}' has wrong filesystem (!= vfat).`);
    throw new Exit(1);
  }
  if (info.uuid === '') {
    warn(io, `E: '${part}' has no UUID set, required for mounting.`);
    throw new Exit(1);
  }
  echo(io, `Mounting '${part}' on '/var/tmp/espmounts/${info.uuid}'.`);
  const loader = host.efi && mode !== 'grub' ? 'uefi' : 'grub';
  if (!host.efi) {
    echo(io, 'Installing grub i386-pc target..');
    warn(io, 'Installing for i386-pc platform.', 'Installation finished. No error reported.');
  } else if (loader === 'grub')
    echo(io, 'Installing grub x86_64 target..', 'Installing grub x86_64 target (removable)..');
  else echo(io, 'Installing systemd-boot..', 'Configuring systemd-boot..');
  echo(io, `Unmounting '${part}'.`, `Adding '${part}' to list of synced ESPs..`);
  host.writeEspList([...new Set([...(host.readEspList() ?? []), info.uuid])].sort());
  state.esps[info.uuid] = { loader, kernels: [] };
  echo(io, 'Refreshing kernels and initrds..', "Running hook script 'proxmox-auto-removal'..");
  echo(io, "Running hook script 'zz-proxmox-boot'..");
  // zz-proxmox-boot copies the kernels to every ESP of the list that is there.
  for (const uuid of host.readEspList() ?? []) {
    const esp = state.esps[uuid];
    if (!esp || host.world.realpath(`/dev/disk/by-uuid/${uuid}`) === undefined) continue;
    echo(io, `Copying and configuring kernels on /dev/disk/by-uuid/${uuid}`);
    for (const kernel of LAB_KERNELS) echo(io, `\tCopying kernel and creating boot-entry for ${kernel}`);
    esp.kernels = [...LAB_KERNELS];
  }
}

const VFAT_UUID = /[0-9a-fA-F]{4}-[0-9a-fA-F]{4}/;

function status(io: Io, host: BootHost, state: BootState, quiet: boolean): void {
  const list = host.readEspList();
  if (list === null) {
    if (!quiet) warn(io, `E: ${ESP_LIST} does not exist.`);
    throw new Exit(2);
  }
  if (quiet) return;
  echo(io, `Re-executing '${TOOL}' in new private mount namespace..`);
  echo(io, `System currently booted with ${host.efi ? 'uefi' : 'legacy bios'}`);
  for (const uuid of list.filter(Boolean)) {
    if (!VFAT_UUID.test(uuid)) {
      warn(io, `WARN: ${uuid} read from ${ESP_LIST} does not look like a VFAT-UUID - skipping`);
      continue;
    }
    const path = `/dev/disk/by-uuid/${uuid}`;
    if (host.world.realpath(path) === undefined) {
      warn(io, `WARN: ${path} does not exist - clean '${ESP_LIST}'! - skipping`);
      continue;
    }
    const esp = state.esps[uuid];
    const result = esp ? `${esp.loader} (versions: ${esp.kernels.join(', ')})` : '';
    echo(io, `${uuid} is configured with: ${result}`);
  }
}

function clean(io: Io, host: BootHost, dryRun: boolean): void {
  const list = host.readEspList();
  if (list === null) {
    warn(io, `E: ${ESP_LIST} does not exist.`);
    throw new Exit(1);
  }
  const kept: string[] = [];
  for (const uuid of list.filter(Boolean)) {
    const found = host.world.realpath(`/dev/disk/by-uuid/${uuid}`) !== undefined;
    io.stdout += `Checking whether ESP '${uuid}' exists.. ${found ? 'Found!' : 'Not found!'}\n`;
    if (found || dryRun) kept.push(uuid);
  }
  echo(io, 'Sorting and removing duplicate ESPs..');
  host.writeEspList([...new Set(kept)].sort());
}

/** One run of proxmox-boot-tool on `state` (changed in place). */
export function proxmoxBootTool(state: BootState, argv: string[], host: BootHost): ToolOutput {
  const io: Io = { stdout: '', stderr: '' };
  const [command, ...args] = argv;
  const code = (() => {
    try {
      switch (command) {
        case undefined:
          usage(io);
          return 0;
        case 'format':
        case 'init':
          if (command === 'init') echo(io, `Re-executing '${TOOL}' in new private mount namespace..`);
          if (args[0] === undefined) {
            warn(io, 'E: <partition> is mandatory.', '');
            usage(io, command);
            return 1;
          }
          if (command === 'format') format(io, host, args[0], args[1]);
          else init(io, host, state, args[0], args[1]);
          return 0;
        case 'status':
          if (args.length > 1 || (args.length === 1 && args[0] !== '--quiet')) {
            usage(io, 'status');
            return 1;
          }
          status(io, host, state, args[0] === '--quiet');
          return 0;
        case 'clean':
          clean(io, host, args[0] === '--dry-run');
          return 0;
        default:
          warn(io, `Invalid/unknown command '${command}'.`, '');
          usage(io);
          return 1;
      }
    } catch (error) {
      if (error instanceof Exit) return error.code;
      throw error;
    }
  })();
  return { ...io, code };
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function realHost(world: StorageWorld): BootHost {
  const tool = (argv: string[]): ToolOutput => {
    const [file = '', ...args] = argv;
    const run = spawnSync(file, args, { encoding: 'utf8' });
    return { stdout: run.stdout ?? '', stderr: run.stderr ?? '', code: run.status ?? 1 };
  };
  return {
    world,
    efi: existsSync('/sys/firmware/efi'),
    readEspList: () => (existsSync(ESP_LIST) ? readFileSync(ESP_LIST, 'utf8').split('\n').filter(Boolean) : null),
    writeEspList: (uuids) => {
      mkdirSync(dirname(ESP_LIST), { recursive: true });
      writeFileSync(ESP_LIST, uuids.map((uuid) => `${uuid}\n`).join(''));
    },
    blkid: (path) => {
      const found = tool(['blkid', '-p', '-o', 'export', path]).stdout;
      const field = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(found)?.[1];
      const [type, uuid] = [field('TYPE'), field('UUID')];
      return { ...(type ? { type } : {}), ...(uuid ? { uuid } : {}) };
    },
    partType: (disk, number) =>
      /^Partition GUID code: (\S+)/m.exec(tool(['sgdisk', '-i', String(number), disk]).stdout)?.[1]?.toLowerCase() ??
      null,
    run: tool,
    linkByUuid: (uuid, device) => {
      const dir = '/dev/disk/by-uuid';
      const target = `../../${device.slice('/dev/'.length)}`;
      mkdirSync(dir, { recursive: true });
      // The device's former filesystem's link goes, as udev's does.
      for (const name of readdirSync(dir)) {
        if (name !== uuid && readlinkOrUndefined(`${dir}/${name}`) === target) rmSync(`${dir}/${name}`);
      }
      rmSync(`${dir}/${uuid}`, { force: true });
      symlinkSync(target, `${dir}/${uuid}`);
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const world: StorageWorld = { now: Date.now(), disks: await hostDisks(), realpath: realpathOrUndefined };
  const output = withState(BOOT_STATE, EMPTY_BOOT_STATE, (state) => proxmoxBootTool(state, argv, realHost(world)));
  process.stdout.write(output.stdout);
  process.stderr.write(output.stderr);
  return output.code;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
