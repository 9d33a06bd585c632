// A lock per login on every host, so that onboard and offboard of the same person never
// interleave. mkdir is atomic; /run is emptied at boot, so a crash leaves no lock for ever; and
// only root can create /run/chaton, so the person being offboarded cannot take the lock first.
import { command, type RemoteCommand } from '../remote/shell.js';

export function lockDirectory(login: string): string {
  return `/run/chaton/sysadmin-${login}.lock`;
}

/** Exit code of takeLock when another run holds the lock (EX_TEMPFAIL); it prints the holder. */
export const LOCK_HELD = 75;

const TAKE_LOCK = `mkdir -p -m 0700 /run/chaton || exit 1
if mkdir -- "$1" 2> /dev/null; then
  printf '%s\\n' "$2" > "$1/owner" || { rm -rf -- "$1"; exit 1; }
  exit 0
fi
if [ -d "$1" ]; then cat -- "$1/owner" 2> /dev/null; exit 75; fi
# Released in between, or mkdir cannot work here: its error says which; held is retried.
mkdir -- "$1" && rmdir -- "$1" && exit 75
exit 1`;

export function takeLock(login: string, owner: string): RemoteCommand {
  return command('sh', '-c', TAKE_LOCK, 'sh', lockDirectory(login), owner);
}

/** Removes the lock only if this run holds it. */
export function releaseLock(login: string, owner: string): RemoteCommand {
  return command(
    'sh',
    '-c',
    'if [ "$(cat -- "$1/owner" 2> /dev/null)" = "$2" ]; then rm -rf -- "$1"; fi',
    'sh',
    lockDirectory(login),
    owner,
  );
}
