// The failover watchdog (`chaton failover watchdog`), mwan3-like: when the main link dies at night
// nobody's laptop is there to run `failover to`, so the gateway decides by itself. cron starts a
// round every minute; a round probes both links as `failover status` does (the same ping, through
// each link), counts main's bad and good rounds in a row, and moves the default route to backup
// after `down` bad ones (only if backup is up), back after `up` good ones; a switch starts both
// counts again, so the route never flaps. Then, as `failover to` does: the old link's flows out
// of conntrack, the DNS names moved. Every round is a syslog line and a line of its own log.
// Three files are installed: the script (a constant), its settings (a `set --` line written by
// the ONE renderer: the very commands of routing.ts, conntrack.ts, dns.ts and probes.ts) and the
// cron entry. Builders only, no I/O.
import type { Fact } from '../remote/facts.js';
import { lockDirectory } from '../remote/host-lock.js';
import { command, render, type RemoteCommand } from '../remote/shell.js';
import { flushLinkFlows } from './conntrack.js';
import { dnsUpdate } from './dns.js';
import { type FailoverSection, LINK_NAMES, type LinkName } from './inventory.js';
import { linkPing } from './probes.js';
import { switchDefaultRoute } from './routing.js';
import { FAILOVER_LOCK } from './switch.js';

export const WATCHDOG_SCRIPT_PATH = '/usr/local/sbin/chaton-failover-watchdog';
export const WATCHDOG_SETTINGS_PATH = '/etc/chaton/failover-watchdog.conf';
/** No dot in the name: cron skips such files in /etc/cron.d (so it skips the temporary ones too). */
export const WATCHDOG_CRON_PATH = '/etc/cron.d/chaton-failover-watchdog';
/** `.state` and `.log` are made by adding to it. */
export const WATCHDOG_STATE_BASE = '/var/lib/chaton/failover-watchdog';

/** The syslog tag of the rounds' lines. */
export const WATCHDOG_TAG = 'chaton-failover-watchdog';

/** Lines of the watchdog's own log kept on the gateway: 100 rounds, more than an hour. */
const LOG_LINES = 100;

/**
 * One round. `$1`: the settings file, which sets the arguments again: the state's base path,
 * the lock, down, up, reliability, the targets (space-separated), then for main and for backup: its ping
 * without the target, how `ip route` names it (`via <next hop> dev <interface>`), the command
 * that switches to it, the conntrack flush of the other link and nsupdate with its update
 * ('' when not configured). Exit 1 when a switch failed or the round could not run.
 */
export const WATCHDOG_SCRIPT = `#!/bin/sh
# chaton failover watchdog: one round (cron starts one a minute). Installed by chaton from the
# inventory's failover: section; its settings are in the file named by cron's line.
set -f
. "$1" || exit 1
base=$1 lock=$2 down=$3 up=$4 reliability=$5 targets=$6
main_ping=$7 main_route=$8 main_switch=$9 main_flush=\${10} main_dns=\${11} main_dns_update=\${12}
backup_ping=\${13} backup_route=\${14} backup_switch=\${15} backup_flush=\${16} backup_dns=\${17}
backup_dns_update=\${18}
state=$base.state log=$base.log

say() {
  logger -t ${WATCHDOG_TAG} "$1" 2>/dev/null
  echo "$(date +%s) $1" >>"$log"
  tail -n ${LOG_LINES} "$log" >"$log.tmp" && mv -f "$log.tmp" "$log"
}

# One switcher at a time: the gateway's failover lock, which \`chaton failover to\` takes too (its
# owner line says who holds it). The lock of a round that died is taken over, no one else's.
mkdir -p "\${base%/*}" || exit 1
mkdir -p -m 0700 "\${lock%/*}" || exit 1
if ! mkdir "$lock" 2>/dev/null; then
  read -r holder _ pid _ 2>/dev/null <"$lock/owner"
  if [ "$holder" != ${WATCHDOG_TAG} ] || kill -0 "$pid" 2>/dev/null; then
    say "decision=skipped holder=\${holder:-unknown}"
    exit 0
  fi
  rm -rf "$lock"
  mkdir "$lock" || exit 1
fi
echo "${WATCHDOG_TAG} pid $$ since $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$lock/owner"
dir=$(mktemp -d) || { rm -rf "$lock"; exit 1; }
trap 'rm -rf "$lock" "$dir"' EXIT
trap 'exit 1' HUP INT TERM

# Every target through both links at once: a round lasts as long as the slowest ping.
for target in $targets; do
  { eval "$main_ping $target" >/dev/null 2>&1 && : >"$dir/main.$target"; } &
  { eval "$backup_ping $target" >/dev/null 2>&1 && : >"$dir/backup.$target"; } &
done
wait
answered() {
  set +f
  set -- "$dir/$1".*
  set -f
  if [ -e "$1" ]; then echo "$#"; else echo 0; fi
}
main=$(answered main) backup=$(answered backup)
set -- $targets
total=$#

route=$(ip route show table main default 2>/dev/null | head -n 1)
case "$route " in
*" $main_route "*) active=main ;;
*" $backup_route "*) active=backup ;;
*) active=other ;;
esac

bad=0 good=0 switched=none switched_at=0
if [ -r "$state" ]; then
  while IFS='=' read -r key value; do
    case $value in '' | *[!0-9a-z-]*) continue ;; esac
    case $key in bad | good) case $value in *[!0-9]*) continue ;; esac ;; esac
    case $key in bad | good | switched | switched_at) eval "$key=\\$value" ;; esac
  done <"$state"
fi
if [ "$main" -ge "$reliability" ]; then good=$((good + 1)) bad=0; else bad=$((bad + 1)) good=0; fi

# The route first, then what \`chaton failover to\` does after it: the old link's flows, the DNS names.
extra=
switch() {
  eval "to_switch=\\$$1_switch to_flush=\\$$1_flush to_dns=\\$$1_dns to_update=\\$$1_dns_update"
  if ! eval "$to_switch" >/dev/null 2>&1; then
    decision=failed-to-$1
    return
  fi
  active=$1 decision=to-$1 bad=0 good=0 switched=to-$1 switched_at=$(date +%s)
  if [ -n "$to_flush" ]; then
    eval "$to_flush" >/dev/null 2>&1
    extra="$extra conntrack=$?"
  fi
  if [ -n "$to_dns" ]; then
    printf '%s' "$to_update" | eval "$to_dns" >/dev/null 2>&1
    extra="$extra dns=$?"
  fi
}

# Main whenever it is up; off main (no default route, or through neither link) once it is not.
decision=stay
if [ "$active" != main ] && [ "$good" -ge "$up" ]; then
  switch main
elif [ "$active" != backup ] && [ "$bad" -ge "$down" ]; then
  if [ "$backup" -ge "$reliability" ]; then switch backup; else decision=stay-backup-down; fi
fi

printf 'active=%s\\nbad=%s\\ngood=%s\\ndecision=%s\\nat=%s\\nswitched=%s\\nswitched_at=%s\\n' \\
  "$active" "$bad" "$good" "$decision" "$(date +%s)" "$switched" "$switched_at" >"$state.tmp" &&
  mv -f "$state.tmp" "$state"
say "decision=$decision active=$active main=$main/$total backup=$backup/$total bad=$bad good=$good$extra"
case $decision in failed-*) exit 1 ;; esac
exit 0
`;

/** A file the watchdog is made of, as it must be on the gateway. */
export interface WatchdogFile {
  path: string;
  /** Octal, for chmod. */
  mode: string;
  content: string;
}

/** The commands of a switch to `link`, rendered: the script runs them with eval. */
function switchWords(failover: FailoverSection, name: LinkName): string[] {
  const link = failover.links[name];
  const other = failover.links[name === 'main' ? 'backup' : 'main'];
  const update = failover.dns ? dnsUpdate(failover.dns, link.publicAddress) : undefined;
  return [
    render(command(...linkPing(link, failover.probes))).toString(),
    `via ${link.nextHop} dev ${link.interface}`,
    render(switchDefaultRoute(link)).toString(),
    failover.conntrackFlush ? render(flushLinkFlows(other).command).toString() : '',
    update ? render(command(...update.argv)).toString() : '',
    typeof update?.stdin === 'string' ? update.stdin : '',
  ];
}

/** Where a round keeps its state and which lock it takes; tests give their own. */
export interface WatchdogPlaces {
  stateBase: string;
  lock: string;
}

const GATEWAY_PLACES: WatchdogPlaces = { stateBase: WATCHDOG_STATE_BASE, lock: lockDirectory(FAILOVER_LOCK) };

/** The settings file: one `set --` line giving the script its arguments (see WATCHDOG_SCRIPT). */
export function watchdogSettings(failover: FailoverSection, places = GATEWAY_PLACES): string {
  const { probes, watchdog } = failover;
  const words = [
    places.stateBase,
    places.lock,
    String(watchdog.down),
    String(watchdog.up),
    String(probes.reliability),
    probes.targets.join(' '),
    ...LINK_NAMES.flatMap((name) => switchWords(failover, name)),
  ];
  const header = `# Written by chaton failover watchdog install: the arguments of ${WATCHDOG_SCRIPT_PATH}.`;
  return `${header}\n${render(command('set', '--', ...words)).toString()}\n`;
}

/** The three files, in the order they are written: the cron entry last, once what it runs is there. */
export function watchdogFiles(failover: FailoverSection): WatchdogFile[] {
  const cron = [
    `# Written by chaton failover watchdog install: one round a minute (see ${WATCHDOG_SCRIPT_PATH}).`,
    `* * * * * root ${WATCHDOG_SCRIPT_PATH} ${WATCHDOG_SETTINGS_PATH}`,
  ];
  return [
    { path: WATCHDOG_SCRIPT_PATH, mode: '0755', content: WATCHDOG_SCRIPT },
    { path: WATCHDOG_SETTINGS_PATH, mode: '0644', content: watchdogSettings(failover) },
    { path: WATCHDOG_CRON_PATH, mode: '0644', content: `${cron.join('\n')}\n` },
  ];
}

/**
 * `check`: each file said `same`, `differs` or `missing`; `write`: each one not the same is
 * written whole (a temporary file beside it, then mv) and said `written`. Then, `present`:
 * `present <path>` for each path that exists; `remove`: each removed and said `removed`.
 * Arguments: the action, then (path, mode, content) triples, or paths.
 */
const FILES_SCRIPT = `action=$1
shift
case $action in
check | write)
  while [ "$#" -ge 3 ]; do
    file=$1 mode=$2 content=$3
    shift 3
    if [ -f "$file" ] && printf '%s' "$content" | cmp -s - "$file"; then
      echo "same $file"
    elif [ "$action" = check ]; then
      if [ -e "$file" ]; then echo "differs $file"; else echo "missing $file"; fi
    else
      mkdir -p "\${file%/*}" || exit 1
      tmp=$(mktemp "$file.chaton-XXXXXX") || exit 1
      if printf '%s' "$content" >"$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$file"; then
        echo "written $file"
      else
        rm -f "$tmp"
        exit 1
      fi
    fi
  done
  ;;
present | remove)
  for file; do
    [ -e "$file" ] || continue
    if [ "$action" = present ]; then echo "present $file"; else rm -rf "$file" && echo "removed $file" || exit 1; fi
  done
  ;;
esac`;

export type FileState = 'same' | 'differs' | 'missing' | 'written' | 'present' | 'removed';

/** Each path's word, as the script said it. */
export function parseFileStates(stdout: string): Map<string, FileState> {
  return new Map(
    stdout.split('\n').flatMap((line) => {
      const said = /^(same|differs|missing|written|present|removed) (.+)$/.exec(line);
      return said ? [[said[2]!, said[1] as FileState] as const] : [];
    }),
  );
}

function filesCommand(action: 'check' | 'write', files: readonly WatchdogFile[]): RemoteCommand {
  return command(
    'sh',
    '-c',
    FILES_SCRIPT,
    'sh',
    action,
    ...files.flatMap((file) => [file.path, file.mode, file.content]),
  );
}

/** Whether each file on the gateway is the one the inventory makes. */
export function watchdogFilesFact(files: readonly WatchdogFile[]): Fact<Map<string, FileState>> {
  return { command: filesCommand('check', files), parse: parseFileStates };
}

/** Writes those that differ or are missing, each whole (idempotent). */
export function installWatchdog(files: readonly WatchdogFile[]): RemoteCommand {
  return filesCommand('write', files);
}

/**
 * What remove takes away: the cron entry first, so that no round starts while the rest goes. Not
 * the lock: it may be `failover to`'s; a round's own goes with the round.
 */
export const WATCHDOG_PATHS = [
  WATCHDOG_CRON_PATH,
  WATCHDOG_SCRIPT_PATH,
  WATCHDOG_SETTINGS_PATH,
  ...['state', 'log'].map((suffix) => `${WATCHDOG_STATE_BASE}.${suffix}`),
];

export const watchdogPresentFact: Fact<Map<string, FileState>> = {
  command: command('sh', '-c', FILES_SCRIPT, 'sh', 'present', ...WATCHDOG_PATHS),
  parse: parseFileStates,
};

/** Removes what is there of the watchdog (idempotent). */
export const removeWatchdog: RemoteCommand = command('sh', '-c', FILES_SCRIPT, 'sh', 'remove', ...WATCHDOG_PATHS);

/** The installed files compared with the inventory's: current, stale (some differ or lack) or absent. */
export function installedVersion(states: ReadonlyMap<string, FileState>): 'current' | 'stale' | 'absent' {
  const words = [...states.values()];
  if (words.every((word) => word === 'missing')) return 'absent';
  return words.every((word) => word === 'same') ? 'current' : 'stale';
}

/** One round as the watchdog logged it: when (Unix seconds) and its `key=value` words. */
export interface WatchdogRound {
  at: number;
  words: Record<string, string>;
}

/** The state file's keys (active, bad, good, decision, at, switched, switched_at) and the last rounds. */
export interface WatchdogState {
  state: Record<string, string>;
  rounds: WatchdogRound[];
}

/** `$1`: the state's base path; `$2`: how many of the last rounds. */
const STATE_SCRIPT = `if [ -r "$1.state" ]; then sed 's/^/state /' "$1.state"; fi
if [ -r "$1.log" ]; then tail -n "$2" "$1.log" | sed 's/^/round /'; fi
exit 0`;

export function watchdogStateFact(rounds: number, stateBase = WATCHDOG_STATE_BASE): Fact<WatchdogState> {
  return { command: command('sh', '-c', STATE_SCRIPT, 'sh', stateBase, String(rounds)), parse: parseWatchdogState };
}

export function parseWatchdogState(stdout: string): WatchdogState {
  const state: Record<string, string> = {};
  const rounds: WatchdogRound[] = [];
  for (const line of stdout.split('\n')) {
    const kept = /^state ([a-z_]+)=(.*)$/.exec(line);
    if (kept) state[kept[1]!] = kept[2]!;
    const round = /^round (\d+) (.*)$/.exec(line);
    if (round) rounds.push({ at: Number(round[1]), words: wordsOf(round[2]!) });
  }
  return { state, rounds };
}

/** `decision=stay active=main ...` as an object. */
export function wordsOf(line: string): Record<string, string> {
  return Object.fromEntries(
    line.split(' ').flatMap((word) => {
      const at = word.indexOf('=');
      return at > 0 ? [[word.slice(0, at), word.slice(at + 1)]] : [];
    }),
  );
}
