// The guards of a risky change (a route switched, a VM created, a disk swapped), as commands:
// - armRevert: a revert that runs after N seconds unless disarmed, by a systemd timer where
//   systemd runs, by a detached `setsid` sleeper otherwise;
// - applyDetached: the change itself, run detached from the SSH session, so that it ends the same
//   whether or not the session that started it survives.
// Each keeps its files in a directory of /run/chaton (emptied at boot, root's only):
//   script   the revert or the change, as chaton rendered it
//   state    one event a line, appended: see GuardState
//   output   what the script printed (stdout and stderr)
//   fire     (a revert) what its timer runs; claimed/ (a revert) made by whoever comes first of
//            the timer and a disarm: mkdir is atomic, so a revert either fires or is disarmed,
//            never both.
// POSIX sh only (a gateway's shell may be busybox sh); the values travel as $1, $2...
import type { Fact } from './facts.js';
import { runFileName } from './host-lock.js';
import { command, render, type RemoteCommand } from './shell.js';

export function revertDirectory(id: string): string {
  return `/run/chaton/revert-${runFileName(id)}`;
}

export function applyDirectory(id: string): string {
  return `/run/chaton/apply-${runFileName(id)}`;
}

/** The systemd unit (timer and service) of a revert armed by systemd. */
export function revertUnit(id: string): string {
  return `chaton-revert-${runFileName(id)}`;
}

/** Makes the directory $1 (its parent if need be) and writes the script $2 into it. */
const PREPARE = `mkdir -p -m 0700 -- "\${1%/*}" && mkdir -m 0700 -- "$1" || exit 1
printf '%s\\n' "$2" > "$1/script" || exit 1`;

/** Runs the script of the directory $1, its start (with its pid) and its end (with its status) recorded. */
const RUN_SCRIPT = `printf 'started %s %s\\n' "$(date +%s)" "$$" >> "$1/state"
sh "$1/script" < /dev/null > "$1/output" 2>&1
code=$?
printf 'ended %s %s\\n' "$(date +%s)" "$code" >> "$1/state"`;

/** What a revert's timer runs when it ends ($1: the directory): the revert, unless disarmed first. */
const FIRE = `mkdir -- "$1/claimed" 2> /dev/null || exit 0
${RUN_SCRIPT}`;

/** $3: seconds; the state says when it was armed and its deadline, before any timer exists. */
const ARM = `${PREPARE}
printf '%s\\n' "$4" > "$1/fire" || exit 1
now=$(date +%s)
printf 'armed %s %s\\n' "$now" "$((now + $3))" >> "$1/state" || exit 1`;

/** $5: the unit; the timer's line once systemd has it. */
const ARM_SYSTEMD = `${ARM}
systemd-run --quiet --collect --unit="$5" --on-active="$3s" /bin/sh "$1/fire" "$1" || exit 1
printf 'timer %s systemd %s\\n' "$(date +%s)" "$5" >> "$1/state"`;

/**
 * A sleeper in a session of its own, reading nothing from the SSH session and writing nothing to
 * it: the session's end neither stops nor hangs it. It writes its own pid (that of its process
 * group too), which a disarm kills.
 */
const ARM_SLEEPER = `${ARM}
setsid sh -c 'printf "timer %s pid %s\\n" "$(date +%s)" "$$" >> "$1/state"
sleep "$2"
exec sh "$1/fire" "$1"' sh "$1" "$3" < /dev/null > /dev/null 2>&1 &`;

const OUTPUT_MARKER = '--- output';

/** The state file, then the output's last 2000 bytes after a line of its own, if there is output. */
const READ_STATE = `[ -f "$1/state" ] || exit 0
cat -- "$1/state"
[ -f "$1/output" ] || exit 0
echo '${OUTPUT_MARKER}'
tail -c 2000 -- "$1/output"`;

/**
 * Claims the revert if its timer did not, then says how it stands. Stopping the timer only tidies
 * up: a timer that ends finds the claim taken and does nothing. Idempotent.
 */
const DISARM = `if [ -d "$1" ] && mkdir -- "$1/claimed" 2> /dev/null; then
  printf 'disarmed %s\\n' "$(date +%s)" >> "$1/state"
  while read -r event at how handle; do
    case "$event $how" in
      'timer systemd') systemctl stop -- "$handle.timer" > /dev/null 2>&1 ;;
      'timer pid') kill -TERM -"$handle" 2> /dev/null ;;
    esac
  done < "$1/state"
fi
${READ_STATE}`;

/** $3: RUN_SCRIPT, run detached as the sleeper is (see ARM_SLEEPER). */
const APPLY = `${PREPARE}
setsid sh -c "$3" sh "$1" < /dev/null > /dev/null 2>&1 &`;

/** The text of a script that runs later, on its own: a command with no stdin of its own. */
function scriptText(script: RemoteCommand): Buffer {
  if (script.stdin !== undefined) throw new TypeError('a detached or deferred script cannot have its own stdin');
  return render(script);
}

export interface RevertTimer {
  /** Names its directory and unit: unique on the host (e.g. failover-20261202T031500-4f2a). */
  id: string;
  afterSeconds: number;
  /** What restores the state before the change (e.g. the routes read before switching). */
  revert: RemoteCommand;
  /** A systemd timer (where systemd runs: see systemdRuns), else a setsid sleeper. */
  systemd: boolean;
}

/** Arms a revert: it runs in `afterSeconds` unless disarmed. */
export function armRevert(timer: RevertTimer): RemoteCommand {
  const dir = revertDirectory(timer.id);
  const seconds = String(Math.max(1, Math.ceil(timer.afterSeconds)));
  const text = scriptText(timer.revert);
  return timer.systemd
    ? command('sh', '-c', ARM_SYSTEMD, 'sh', dir, text, seconds, FIRE, revertUnit(timer.id))
    : command('sh', '-c', ARM_SLEEPER, 'sh', dir, text, seconds, FIRE);
}

/** Disarms a revert (or finds it fired, or firing): prints its state as revertState does. */
export function disarmRevert(id: string): RemoteCommand {
  return command('sh', '-c', DISARM, 'sh', revertDirectory(id));
}

/** Starts `change` detached from the session; the command ends at once (see applyState). */
export function applyDetached(id: string, change: RemoteCommand): RemoteCommand {
  return command('sh', '-c', APPLY, 'sh', applyDirectory(id), scriptText(change), RUN_SCRIPT);
}

/** Reads the state of a guard's directory (its output's tail included). */
export function readState(directory: string): RemoteCommand {
  return command('sh', '-c', READ_STATE, 'sh', directory);
}

export function revertState(id: string): Fact<GuardState> {
  return { command: readState(revertDirectory(id)), parse: parseGuardState };
}

export function applyState(id: string): Fact<GuardState> {
  return { command: readState(applyDirectory(id)), parse: parseGuardState };
}

/** Whether systemd runs the host: sd_booted()'s own test. */
export const systemdRuns: Fact<boolean> = {
  command: command('sh', '-c', 'if [ -d /run/systemd/system ]; then echo systemd; fi'),
  parse: (stdout) => stdout.trim() === 'systemd',
};

export type RevertTimerHandle = { kind: 'systemd'; unit: string } | { kind: 'pid'; pid: number };

/** What a guard's state file says, each event when it happened (seconds since the epoch, as `date +%s`). */
export interface GuardState {
  /** No state file: never armed or started here, not started yet, or the host rebooted (/run is emptied). */
  found: boolean;
  armed?: { at: number; deadline: number };
  timer?: RevertTimerHandle & { at: number };
  disarmed?: { at: number };
  started?: { at: number; pid: number };
  ended?: { at: number; code: number };
  /** The last bytes the script printed ('' before it printed anything). */
  outputTail: string;
}

/** Parses what READ_STATE printed; a line it does not know is skipped (a later chaton's). */
export function parseGuardState(stdout: string): GuardState {
  const lines = stdout.split('\n');
  const marker = lines.indexOf(OUTPUT_MARKER);
  const state: GuardState = {
    found: stdout.trim() !== '',
    outputTail: marker === -1 ? '' : lines.slice(marker + 1).join('\n'),
  };
  for (const line of marker === -1 ? lines : lines.slice(0, marker)) {
    const [event, at, ...rest] = line.trim().split(/\s+/);
    const when = Number(at);
    if (!event || !Number.isInteger(when)) continue;
    const [first = '', second = ''] = rest;
    if (event === 'armed' && isInteger(first)) state.armed = { at: when, deadline: Number(first) };
    else if (event === 'timer' && first === 'systemd' && second)
      state.timer = { kind: 'systemd', unit: second, at: when };
    else if (event === 'timer' && first === 'pid' && isInteger(second))
      state.timer = { kind: 'pid', pid: Number(second), at: when };
    else if (event === 'disarmed') state.disarmed = { at: when };
    else if (event === 'started' && isInteger(first)) state.started = { at: when, pid: Number(first) };
    else if (event === 'ended' && isInteger(first)) state.ended = { at: when, code: Number(first) };
  }
  return state;
}

function isInteger(word: string): boolean {
  return /^\d+$/.test(word);
}

/**
 * How a revert stands: armed (its timer waits), disarmed, firing (the revert runs), fired (it
 * ran, see `ended.code`), or unknown (no state: see GuardState.found).
 */
export type RevertStatus = 'unknown' | 'armed' | 'disarmed' | 'firing' | 'fired';

export function revertStatus(state: GuardState): RevertStatus {
  if (!state.found) return 'unknown';
  if (state.disarmed) return 'disarmed';
  if (state.ended) return 'fired';
  return state.started ? 'firing' : 'armed';
}

/** How a detached change stands: not started (no state yet), running, or done (see `ended.code`). */
export type ApplyStatus = 'not-started' | 'running' | 'done';

export function applyStatus(state: GuardState): ApplyStatus {
  if (state.ended) return 'done';
  return state.started ? 'running' : 'not-started';
}
