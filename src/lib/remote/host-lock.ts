// A named lock on a host: `sysadmin-<login>` keeps onboard and offboard of one person apart,
// `failover` two switches of one gateway. mkdir is atomic; /run is emptied at boot, so a crash
// leaves no lock for ever; and only root can create /run/chaton, so nobody else (the person being
// offboarded) can take a lock first. The owner line says who holds it and since when.
import { command, type RemoteCommand } from './shell.js';

/** Who holds a lock: `<operator> pid <pid> since <ISO time>` in its owner file. */
export interface LockOwner {
  /** user@machine of the operator whose chaton took it. */
  operator: string;
  pid: number;
  since: Date;
}

// A name of chaton's in a directory of its own on a host (a lock, a revert, a journal) becomes a
// file name and a systemd unit name: no slash, no space, nothing to escape.
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** `name` if it may name a file of chaton's `directory`; a TypeError (a bug in chaton) otherwise. */
export function chatonFileName(name: string, directory: string): string {
  if (!RUN_NAME.test(name))
    throw new TypeError(`a name under ${directory} must match ${RUN_NAME}, got ${JSON.stringify(name)}`);
  return name;
}

/** `name` if it may name a file of /run/chaton; a TypeError (a bug in chaton) otherwise. */
export function runFileName(name: string): string {
  return chatonFileName(name, '/run/chaton');
}

export function lockDirectory(name: string): string {
  return `/run/chaton/${runFileName(name)}.lock`;
}

export function ownerLine(owner: LockOwner): string {
  return `${owner.operator} pid ${owner.pid} since ${owner.since.toISOString()}`;
}

/** What an owner line says; undefined when it is not one (written by something else). */
export function parseOwnerLine(line: string): LockOwner | undefined {
  const match = /^(\S+) pid (\d+) since (\S+)$/.exec(line.trim());
  if (!match) return undefined;
  const since = new Date(match[3]!);
  return Number.isNaN(since.getTime()) ? undefined : { operator: match[1]!, pid: Number(match[2]), since };
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

/** Takes the lock `name` for `owner` (an owner line): exit 0, or LOCK_HELD with the holder's line. */
export function takeLock(name: string, owner: string): RemoteCommand {
  return command('sh', '-c', TAKE_LOCK, 'sh', lockDirectory(name), owner);
}

/** Removes the lock only if `owner` holds it. */
export function releaseLock(name: string, owner: string): RemoteCommand {
  return command(
    'sh',
    '-c',
    'if [ "$(cat -- "$1/owner" 2> /dev/null)" = "$2" ]; then rm -rf -- "$1"; fi',
    'sh',
    lockDirectory(name),
    owner,
  );
}
