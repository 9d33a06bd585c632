// The locate LED of a disk's bay, so that the one who pulls a disk pulls the right one: ledmon's
// `ledctl` (Debian package ledmon), when the host has it. Builders only: the command runs them.
//
// Sources: ledctl(8) of ledmon 0.95 (Debian 12's): `ledctl locate=/dev/sda`, `ledctl
// locate_off=/dev/sda`; without --listed-only (-x), ledctl also turns off the locate LED of every
// device it did not list, which could put out another operator's. Its exit status is its status_t
// (github.com/intel/ledmon, v0.95, src/status.h; src/ledctl.c, _ibpi_state_add_block and main):
// 0 done, 8 STATUS_INVALID_PATH (no such device), 33 STATUS_NOT_SUPPORTED (no LED management for that
// device's controller or enclosure: "ledctl: /dev/sdc: device not supported" on stderr).
import type { Fact } from '../remote/facts.js';
import { command, type RemoteCommand } from '../remote/shell.js';

/** ledctl's exit status when the device has no LED it can drive (the usual case without a backplane). */
export const LEDCTL_NOT_SUPPORTED = 33;

/** Lights the locate LED of `devicePath`'s bay, and no other LED. */
export function locateOn(devicePath: string): RemoteCommand {
  return command('ledctl', '--listed-only', `locate=${devicePath}`);
}

/** Puts out the locate LED of `devicePath`'s bay. */
export function locateOff(devicePath: string): RemoteCommand {
  return command('ledctl', '--listed-only', `locate_off=${devicePath}`);
}

export const ledctlPresent: Fact<boolean> = {
  // command -v is POSIX sh's builtin; `|| true` so that its absence is an answer, not a failure.
  command: command('sh', '-c', 'command -v ledctl || true'),
  parse: (stdout) => stdout.trim() !== '',
};
