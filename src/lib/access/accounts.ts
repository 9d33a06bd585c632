// Sysadmin accounts on a host: one read-only probe of everything onboard and offboard look at,
// and the changes that bring an account to what is wanted. Scripts below are constants: every
// value reaches them as a quoted positional argument ("$1"...), never inside their text.
import { RefusedError } from '../run/errors.js';
import type { Change } from '../remote/changes.js';
import type { Fact } from '../remote/facts.js';
import { KEY_TYPES, type PublicKey } from './public-keys.js';
import { command, withStdin, type Command } from '../remote/shell.js';

// What a sysadmin's fields may hold, for the roster and the command line alike.
/** One line, no ":" nor ",": the name becomes the first subfield of the GECOS field. */
export const PERSON_NAME = /^(?=.*\S)[^:,\p{Cc}]+$/u;
export const EMAIL = /^[^@\s]+@[^@\s]+$/;
export const PROXMOX_ROLE = /^[A-Za-z0-9_.-]+$/;
/** One line: a line break would let a value add rules of its own; visudo judges the rest. */
export const SUDO_COMMANDS = /^(?=.*\S)[^\p{Cc}]+$/u;

/** A real YYYY-MM-DD date (Date rolls 2026-02-30 over to March: only a real one comes back unchanged). */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

/** chaton's sudoers drop-in: no dot in the name, or sudo would silently skip it. */
export function sudoersFile(login: string): string {
  return `/etc/sudoers.d/chaton-${login}`;
}

/** Where /etc/shadow's "never" and the lab's own tools put a login shell that refuses logins. */
const NO_SHELL = '/usr/sbin/nologin';
const LOGIN_SHELL = '/bin/bash';
/** Accounts outside Debian's FIRST_UID..LAST_UID (60000 and up are Debian's; nobody is 65534) belong to the system: never touched. */
const FIRST_UID = 1000;
const LAST_UID = 59999;

export interface FileState {
  mode: number;
  owner: string;
  /** As stat names it: "regular file", "directory", "symbolic link"... */
  type: string;
}

export interface AccountState {
  account?: { uid: number; name: string; home: string; shell: string };
  /** The password field of /etc/shadow: `*` for key-only, `!...` when locked. */
  password?: string;
  /** Day (since 1970-01-01) from which the account is expired; undefined: never. */
  expireDay?: number;
  groups: string[];
  missingGroups: string[];
  home?: FileState;
  sshDir?: FileState;
  keysFile?: FileState;
  keys2File?: FileState;
  /** The lines of ~/.ssh/authorized_keys, when it is a regular file reached without a symlink. */
  keyLines: string[];
  /** The same for ~/.ssh/authorized_keys2, which sshd reads too by default. */
  keyLines2: string[];
  /** chaton's sudoers drop-in for this login, if there is one. */
  sudoers?: string;
  processes: number;
}

const ACCOUNT_PROBE = `login=$1 sudoers=$2
shift 2
if [ -f "$sudoers" ]; then awk '{ print "sudoers " $0 }' "$sudoers"; fi
entry=$(getent passwd "$login") || exit 0
printf 'passwd %s\\n' "$entry"
printf 'shadow %s\\n' "$(getent shadow "$login")"
printf 'groups %s\\n' "$(id -nG "$login")"
for group in "$@"; do getent group "$group" > /dev/null || printf 'missing-group %s\\n' "$group"; done
home=$(printf '%s\\n' "$entry" | cut -d: -f6)
describe() { if [ -e "$2" ] || [ -L "$2" ]; then printf '%s %s\\n' "$1" "$(stat -c '%a %U %F' -- "$2")"; fi; }
describe home "$home"
describe ssh-dir "$home/.ssh"
describe keys-file "$home/.ssh/authorized_keys"
describe keys2-file "$home/.ssh/authorized_keys2"
for file in authorized_keys authorized_keys2; do
  if [ ! -L "$home/.ssh" ] && [ -f "$home/.ssh/$file" ] && [ ! -L "$home/.ssh/$file" ]; then
    awk -v tag="$file" '{ print tag " " $0 }' "$home/.ssh/$file"
  fi
done
printf 'processes %s\\n' "$(pgrep -c -u "$login")"`;

/** Everything about `login` on a host, with which of `groups` do not exist there. Needs root. */
export function accountFact(login: string, groups: string[]): Fact<AccountState> {
  return {
    command: command('sh', '-c', ACCOUNT_PROBE, 'sh', login, sudoersFile(login), ...groups),
    parse: parseAccount,
  };
}

export function parseAccount(stdout: string): AccountState {
  const state: AccountState = { groups: [], missingGroups: [], keyLines: [], keyLines2: [], processes: 0 };
  const sudoers: string[] = [];
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    const tag = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    switch (tag) {
      case 'sudoers':
        sudoers.push(rest);
        break;
      case 'passwd': {
        const [, , uid, , gecos, home, shell] = rest.split(':');
        state.account = { uid: Number(uid), name: (gecos ?? '').split(',')[0] ?? '', home: home ?? '', shell: shell ?? '' };
        break;
      }
      case 'shadow': {
        const fields = rest.split(':');
        state.password = fields[1];
        if (fields[7]) state.expireDay = Number(fields[7]);
        break;
      }
      case 'groups':
        state.groups = rest.split(' ').filter(Boolean);
        break;
      case 'missing-group':
        state.missingGroups.push(rest);
        break;
      case 'home':
      case 'ssh-dir':
      case 'keys-file':
      case 'keys2-file': {
        const [mode, owner, ...type] = rest.split(' ');
        const file: FileState = { mode: parseInt(mode ?? '', 8), owner: owner ?? '', type: type.join(' ') };
        if (tag === 'home') state.home = file;
        else if (tag === 'ssh-dir') state.sshDir = file;
        else if (tag === 'keys-file') state.keysFile = file;
        else state.keys2File = file;
        break;
      }
      case 'authorized_keys':
        state.keyLines.push(rest);
        break;
      case 'authorized_keys2':
        state.keyLines2.push(rest);
        break;
      case 'processes':
        state.processes = Number(rest) || 0;
        break;
    }
  }
  if (sudoers.length) state.sudoers = `${sudoers.join('\n')}\n`;
  return state;
}

/** What onboard wants on one host. */
export interface WantedAccount {
  login: string;
  name?: string;
  keys: PublicKey[];
  /** What sudo allows, as a sudoers command list (`ALL` for everything); undefined: no sudo. */
  sudo?: string;
  groups: string[];
  /** YYYY-MM-DD: the account is expired from that day on (as `usermod -e`). */
  expires?: string;
  /** Remove keys of authorized_keys that are not among `keys`. */
  exclusive: boolean;
  /** A jump host where sysadmins only forward: no shell, keys restricted to port forwarding. */
  forwardingOnly: boolean;
}

/** One change to make, and why, in words for the plan. */
/** The sudoers rule of --sudo. No password: the account has none (key-only). */
export function sudoersContent(login: string, commands: string): string {
  return `# Written by chaton onboard sysadmin: ${login} has no password, so sudo asks for none.\n${login} ALL=(ALL:ALL) NOPASSWD: ${commands}\n`;
}

/** Whether this host's sudo takes the rule (visudo reads it on stdin): checked before any change. */
export function sudoersCheck(content: string): Command {
  return withStdin(command('visudo', '-c', '-f', '-'), content);
}

/** Days since 1970-01-01 of a YYYY-MM-DD date, as /etc/shadow counts them. */
export function epochDay(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}

/** The changes that make `state` what `wanted` says, in order; empty when it already is. */
export function onboardChanges(host: string, state: AccountState, wanted: WantedAccount, today: number): Change[] {
  const { login } = wanted;
  refuseSystemAccount(host, login, state);
  if (state.missingGroups.length) {
    throw new RefusedError(`${host}: group ${state.missingGroups.join(', ')} does not exist there: nothing was changed on ${host}`, `create it on ${host}, or leave it out of --groups`);
  }
  for (const [file, what] of [
    [state.sshDir, '~/.ssh'],
    [state.keysFile, '~/.ssh/authorized_keys'],
  ] as const) {
    if (file && file.type === 'symbolic link') {
      throw new RefusedError(`${host}: ${what} of ${login} is a symbolic link: chaton will not write through it, nothing was changed on ${host}`, `replace the link by a real ${what === '~/.ssh' ? 'directory' : 'file'} on ${host}`);
    }
  }
  const shell = wanted.forwardingOnly ? NO_SHELL : LOGIN_SHELL;
  const changes: Change[] = [];
  if (!state.account) {
    changes.push({
      what: `create the account ${login} (key-only${wanted.forwardingOnly ? ', no shell' : ''})`,
      command: command(
        'useradd', '--create-home', '--shell', shell, '--password', '*',
        ...(wanted.name ? ['--comment', wanted.name] : []),
        ...(wanted.groups.length ? ['--groups', wanted.groups.join(',')] : []),
        ...(wanted.expires ? ['--expiredate', wanted.expires] : []),
        '--', login,
      ),
    });
  } else {
    const options: string[] = [];
    const reasons: string[] = [];
    if (wanted.name !== undefined && state.account.name !== wanted.name) options.push('--comment', wanted.name), reasons.push('full name');
    const unusableShell = /(nologin|false)$/.test(state.account.shell);
    if (wanted.forwardingOnly ? state.account.shell !== NO_SHELL : unusableShell) options.push('--shell', shell), reasons.push(`shell ${shell}`);
    // Locked (`!`) or empty: make it key-only, never restore an old password.
    if (!state.password || state.password.startsWith('!')) options.push('--password', '*'), reasons.push('unlock for key login');
    if (wanted.expires !== undefined && state.expireDay !== epochDay(wanted.expires)) options.push('--expiredate', wanted.expires), reasons.push(`expires ${wanted.expires}`);
    else if (wanted.expires === undefined && state.expireDay !== undefined && state.expireDay <= today) options.push('--expiredate', ''), reasons.push('no longer expired');
    const missing = wanted.groups.filter((g) => !state.groups.includes(g));
    if (missing.length) options.push('--append', '--groups', missing.join(',')), reasons.push(`groups +${missing.join(',')}`);
    if (options.length) changes.push({ what: `update the account ${login}: ${reasons.join(', ')}`, command: command('usermod', ...options, '--', login) });
  }

  const home = state.account?.home ?? `/home/${login}`;
  const keysWanted = authorizedKeys(state.keyLines, wanted);
  const keysOk = state.keysFile?.owner === login && state.keysFile.mode === 0o600 && state.sshDir?.owner === login && (state.sshDir.mode & 0o077) === 0;
  if (keysWanted !== joinLines(state.keyLines) || !keysOk) {
    if (state.sshDir && state.sshDir.owner !== login) changes.push({ what: `give ~/.ssh back to ${login}`, command: command('chown', '-h', `${login}:`, '--', `${home}/.ssh`) });
    changes.push({ what: `write ~/.ssh/authorized_keys (${describeKeyChange(state.keyLines, wanted)})`, command: asUser(login, withStdin(command('sh', '-c', WRITE_KEYS, 'sh', `${home}/.ssh`), keysWanted)) });
  }

  const sudo = wanted.sudo !== undefined && !wanted.forwardingOnly ? sudoersContent(login, wanted.sudo) : undefined;
  if (sudo !== undefined && state.sudoers !== sudo) {
    changes.push({ what: `allow sudo: ${sudoersFile(login)} (checked with visudo first)`, command: withStdin(command('sh', '-c', INSTALL_SUDOERS, 'sh', sudoersFile(login)), sudo) });
  } else if (sudo === undefined && state.sudoers !== undefined) {
    changes.push({ what: `remove sudo: ${sudoersFile(login)}`, command: command('rm', '-f', '--', sudoersFile(login)) });
  }
  return changes;
}

/** What offboard wants: no way in, no sudo, no process left; the home gone only if asked. */
export function offboardChanges(host: string, state: AccountState, login: string, removeHome: boolean): Change[] {
  const changes: Change[] = [];
  if (state.account) {
    refuseSystemAccount(host, login, state);
    const home = state.account.home;
    if (!state.password?.startsWith('!') || state.expireDay !== 1) {
      changes.push({ what: `lock ${login} (password locked, account expired)`, command: command('usermod', '--lock', '--expiredate', '1', '--', login) });
    }
    // A symlinked ~/.ssh is removed itself (rm never follows a link it removes): root never
    // deletes through it, and the user cannot keep a way in, or block this, with one.
    // Their sessions end before their files are touched, and the files are removed by the user
    // itself: a ~/.ssh swapped for a link in the meantime leads nowhere they could not go anyway.
    if (state.processes > 0) changes.push(endProcesses(login, state.processes));
    const keyFiles =
      state.sshDir?.type === 'symbolic link'
        ? [`${home}/.ssh`]
        : [state.keysFile && `${home}/.ssh/authorized_keys`, state.keys2File && `${home}/.ssh/authorized_keys2`].filter((f): f is string => !!f);
    if (keyFiles.length) changes.push({ what: `remove ${login}'s keys`, command: asUser(login, command('rm', '-f', '--', ...keyFiles)) });
  } else if (state.processes > 0) {
    changes.push(endProcesses(login, state.processes));
  }
  if (state.sudoers !== undefined) changes.push({ what: `remove sudo: ${sudoersFile(login)}`, command: command('rm', '-f', '--', sudoersFile(login)) });
  if (removeHome && state.account && state.home) {
    const home = state.account.home;
    if (!home.startsWith('/') || ['/', '/root', '/home'].includes(home.replace(/\/+$/, '') || '/') || state.home.owner !== login) {
      throw new RefusedError(`${host}: the home of ${login} is ${home} (owned by ${state.home.owner}): chaton removes only a home the user owns`, `remove it by hand on ${host} if it really is theirs`);
    }
    changes.push({ what: `remove ${login}'s home ${home}`, command: command('rm', '-rf', '--one-file-system', '--', home) });
  }
  return changes;
}

/** pkill exits 1 when nothing was left to kill: the processes may have ended on their own. */
function endProcesses(login: string, count: number): Change {
  return { what: `end ${login}'s ${count} processes and sessions`, command: command('pkill', '-KILL', '-u', login), okCodes: [0, 1] };
}

function refuseSystemAccount(host: string, login: string, state: AccountState): void {
  if (state.account && (state.account.uid < FIRST_UID || state.account.uid > LAST_UID)) {
    throw new RefusedError(`${host}: ${login} is a system account there (uid ${state.account.uid}): chaton will not touch it`, 'choose another login');
  }
}

/** The authorized_keys wanted: other lines kept (unless exclusive), each given key once, in place. */
function authorizedKeys(lines: string[], wanted: WantedAccount): string {
  const options = wanted.forwardingOnly ? 'restrict,port-forwarding ' : '';
  const ours = new Map(wanted.keys.map((k) => [k.blob, `${options}${k.line}`]));
  const out: string[] = [];
  for (const line of lines) {
    const blob = keyBlob(line);
    const mine = blob !== undefined ? ours.get(blob) : undefined;
    if (mine !== undefined) {
      out.push(mine);
      ours.delete(blob!);
    } else if (!wanted.exclusive) {
      out.push(line);
    }
  }
  out.push(...ours.values());
  return joinLines(out);
}

function describeKeyChange(lines: string[], wanted: WantedAccount): string {
  const present = new Set(lines.map(keyBlob).filter(Boolean));
  const added = wanted.keys.filter((k) => !present.has(k.blob)).length;
  const ours = new Set(wanted.keys.map((k) => k.blob));
  const removed = wanted.exclusive ? lines.filter((l) => keyBlob(l) !== undefined && !ours.has(keyBlob(l)!)).length : 0;
  const parts = [added && `${added} key${added === 1 ? '' : 's'} added`, removed && `${removed} other key${removed === 1 ? '' : 's'} removed`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'owner, modes or key options';
}

/** The key on an authorized_keys line, after any options: `type base64`, if it has one. */
export function keyOfLine(line: string): { type: string; blob: string; key: string } | undefined {
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((w) => KEY_TYPES.includes(w));
  const blob = at >= 0 ? words[at + 1] : undefined;
  return blob ? { type: words[at]!, blob, key: `${words[at]} ${blob}` } : undefined;
}

function keyBlob(line: string): string | undefined {
  return keyOfLine(line)?.blob;
}

function joinLines(lines: string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Runs as the account itself, so that nothing root writes can be redirected by its owner. */
function asUser(login: string, cmd: Command): Command {
  return withStdin(command('runuser', '-u', login, '--', ...cmd.argv), cmd.stdin);
}

// A new file next to the old one, renamed over it: readers see the old keys or the new ones.
const WRITE_KEYS = `set -eu
umask 077
dir=$1
mkdir -p -- "$dir"
chmod 700 -- "$dir"
tmp=$(mktemp "$dir/authorized_keys.chaton-XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
chmod 600 -- "$tmp"
mv -f -- "$tmp" "$dir/authorized_keys"
trap - EXIT`;

// Checked by visudo before it is renamed into place: a bad rule is never installed. The
// temporary name has a dot, so sudo ignores it even if it were left behind.
const INSTALL_SUDOERS = `set -eu
file=$1
tmp=$(mktemp "$file.chaton-XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
visudo -cf "$tmp" > /dev/null
chown root:root -- "$tmp"
chmod 0440 -- "$tmp"
mv -f -- "$tmp" "$file"
trap - EXIT`;

/**
 * What `sudo -l -U login` says the login may run, one rule per line; empty when nothing. In the
 * C locale: sudo translates its words, and a French host would say "peut utiliser les commandes".
 */
export const sudoRights = (login: string): Fact<string[]> => ({
  command: command('env', 'LC_ALL=C', 'sudo', '-n', '-l', '-U', login),
  parse: (stdout) => {
    const at = stdout.search(/may run the following commands/);
    if (at < 0) return [];
    return stdout.slice(at).split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
  },
});

// A lock per login on every host, so that onboard and offboard of the same person never
// interleave. mkdir is atomic; /run is emptied at boot, so a crash leaves no lock for ever; and
// only root can create /run/chaton, so the person being offboarded cannot take the lock first.
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

export function takeLock(login: string, owner: string): Command {
  return command('sh', '-c', TAKE_LOCK, 'sh', lockDirectory(login), owner);
}

/** Removes the lock only if this run holds it. */
export function releaseLock(login: string, owner: string): Command {
  return command('sh', '-c', 'if [ "$(cat -- "$1/owner" 2> /dev/null)" = "$2" ]; then rm -rf -- "$1"; fi', 'sh', lockDirectory(login), owner);
}
