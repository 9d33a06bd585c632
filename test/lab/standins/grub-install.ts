// grub-install (GRUB 2.06, Debian 12's, for i386-pc) for a disk lab's hosts: a lab disk has no BIOS
// to boot it, so the stand-in checks what the real one checks before it embeds its core image (a GPT
// needs a BIOS boot partition, EF02, read by the REAL `sgdisk -p`), and records the disk, by serial,
// in the host's boot.json (`grub`: what chaton's swap must do again on a new disk). The root is on
// an md array, as on the lab's backup host: embedding is the only way, no blocklists.
// `grub-install [--options...] <disk>`; the options (--target, --recheck, --no-floppy...) are taken
// and not looked at.
//
// Sources (GNU GRUB 2.06, git.savannah.gnu.org/git/grub.git): util/grub-install.c ("Installing for
// %s platform.", "Installation finished. No error reported.", "install device isn't specified",
// "failed to get canonical path of `%s'"), grub-core/partmap/gpt.c (gpt_partition_map_embed: "this
// GPT partition label contains no BIOS Boot Partition; embedding won't be possible"), util/setup.c
// (the warning "Attempting to install GRUB to a partitionless disk or to a partition.  This is a BAD
// idea.", then unable_to_embed: "embedding is not possible, but this is required for RAID and LVM
// install"), grub-core/kern/emu/misc.c (grub_util_warn, grub_util_error: "<program>: warning|error:
// <message>.", exit 1).
import { spawnSync } from 'node:child_process';
import type { LabDisk } from '../control.js';
import { hostDisks, realpathOrUndefined, resolveDevice } from './lab-disk-map.js';
import { isMainModule } from './pve-cli.js';
import { type BootState, EMPTY_BOOT_STATE } from './proxmox-boot-tool.js';
import { BOOT_STATE, type StorageWorld, type ToolOutput, withState } from './storage-state.js';

const PROGRAM = 'grub-install';
const STARTED = 'Installing for i386-pc platform.\n';
const NO_EMBEDDING = `${PROGRAM}: error: embedding is not possible, but this is required for RAID and LVM install.\n`;

/** The partition codes of `sgdisk -p`'s table ("   1   34   2047   1007.0 KiB  EF02  "); null when it has no GPT. */
export function gptCodes(print: string): string[] | null {
  if (/^Creating new GPT entries in memory\./m.test(print)) return null;
  return [...print.matchAll(/^\s+\d+\s+\d+\s+\d+\s+[\d.]+ \S+\s+([0-9A-F]{4})\b/gm)].map((found) => found[1] ?? '');
}

/** One run of grub-install on `state` (changed in place); `sgdiskPrint` reads a disk's table. */
export function grubInstall(
  state: BootState,
  argv: string[],
  world: StorageWorld,
  sgdiskPrint: (disk: LabDisk) => string,
): ToolOutput {
  const operands = argv.filter((arg) => !arg.startsWith('-'));
  const [target] = operands;
  if (target === undefined) {
    return { stdout: '', stderr: `${STARTED}${PROGRAM}: error: install device isn't specified.\n`, code: 1 };
  }
  const device = resolveDevice(world.disks, target, world.realpath);
  if (!device) {
    return {
      stdout: '',
      stderr: `${STARTED}${PROGRAM}: error: failed to get canonical path of \`${target}'.\n`,
      code: 1,
    };
  }
  const codes = device.partition ? null : gptCodes(sgdiskPrint(device.disk));
  if (codes === null) {
    const bad = `${PROGRAM}: warning: Attempting to install GRUB to a partitionless disk or to a partition.  This is a BAD idea..\n`;
    return { stdout: '', stderr: `${STARTED}${bad}${NO_EMBEDDING}`, code: 1 };
  }
  if (!codes.includes('EF02')) {
    const warning = `${PROGRAM}: warning: this GPT partition label contains no BIOS Boot Partition; embedding won't be possible.\n`;
    return { stdout: '', stderr: `${STARTED}${warning}${NO_EMBEDDING}`, code: 1 };
  }
  state.grub = [
    ...state.grub.filter((record) => record.serial !== device.disk.serial),
    { serial: device.disk.serial, installedAt: world.now },
  ];
  return { stdout: '', stderr: `${STARTED}Installation finished. No error reported.\n`, code: 0 };
}

async function main(argv: string[]): Promise<number> {
  const world: StorageWorld = { now: Date.now(), disks: await hostDisks(), realpath: realpathOrUndefined };
  const print = (disk: LabDisk) =>
    spawnSync('/usr/sbin/sgdisk', ['-p', `/dev/${disk.device ?? ''}`], { encoding: 'utf8' }).stdout ?? '';
  const output = withState(BOOT_STATE, EMPTY_BOOT_STATE, (state) => grubInstall(state, argv, world, print));
  process.stdout.write(output.stdout);
  process.stderr.write(output.stderr);
  return output.code;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
