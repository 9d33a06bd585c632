// A sysadmin account on a host, as one read-only probe sees it: passwd, shadow, groups, ~/.ssh
// and its modes, authorized_keys, chaton's sudoers drop-in, processes. The probe is a constant
// script: every value reaches it as a quoted positional argument ("$1"...), never in its text.
import type { Fact } from '../remote/facts.js';
import { command } from '../remote/shell.js';
import { KEY_TYPES } from './public-keys.js';
import { sudoersFile } from './sudo.js';

/** Where /etc/shadow's "never" and the lab's own tools put a login shell that refuses logins. */
export const NO_SHELL = '/usr/sbin/nologin';
export const LOGIN_SHELL = '/bin/bash';
/**
 * Accounts outside Debian's FIRST_UID..LAST_UID (60000 and up are Debian's; nobody is 65534)
 * belong to the system: never touched.
 */
export const FIRST_UID = 1000;
export const LAST_UID = 59999;

interface FileState {
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
        state.account = {
          uid: Number(uid),
          name: (gecos ?? '').split(',')[0] ?? '',
          home: home ?? '',
          shell: shell ?? '',
        };
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

/** The key on an authorized_keys line, after any options: `type base64`, if it has one. */
export function keyOfLine(line: string): { type: string; blob: string; key: string } | undefined {
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((w) => KEY_TYPES.includes(w));
  const blob = at >= 0 ? words[at + 1] : undefined;
  return blob ? { type: words[at]!, blob, key: `${words[at]} ${blob}` } : undefined;
}

export function keyBlob(line: string): string | undefined {
  return keyOfLine(line)?.blob;
}
