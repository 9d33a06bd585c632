// The changes that bring a sysadmin account to what onboard or offboard wants, given what the
// probe (account.ts) saw; empty when it already is. Scripts are constants taking values as "$1".
import type { Change } from '../remote/changes.js';
import { command, withStdin, type RemoteCommand } from '../remote/shell.js';
import { RefusedError } from '../run/errors.js';
import { FIRST_UID, keyBlob, LAST_UID, LOGIN_SHELL, NO_SHELL, type AccountState } from './account.js';
import { epochDay } from './fields.js';
import { messages } from './messages.js';
import type { PublicKey } from './public-keys.js';
import { installSudoers, sudoersContent, sudoersFile } from './sudo.js';

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

/** The changes that make `state` what `wanted` says, in order; empty when it already is. */
export function onboardChanges(host: string, state: AccountState, wanted: WantedAccount, today: number): Change[] {
  const { login } = wanted;
  refuseSystemAccount(host, login, state);
  if (state.missingGroups.length) {
    throw new RefusedError(
      messages.missingGroups(host, state.missingGroups.join(', ')),
      messages.missingGroupsHint(host),
    );
  }
  for (const [file, name, hint] of [
    [state.sshDir, '~/.ssh', messages.replaceLinkByDirectory],
    [state.keysFile, '~/.ssh/authorized_keys', messages.replaceLinkByFile],
  ] as const) {
    if (file && file.type === 'symbolic link') {
      throw new RefusedError(messages.symbolicLink(host, name, login), hint(host));
    }
  }
  const shell = wanted.forwardingOnly ? NO_SHELL : LOGIN_SHELL;
  const changes: Change[] = [];
  if (!state.account) {
    changes.push({
      what: wanted.forwardingOnly ? messages.createForwardingAccount(login) : messages.createAccount(login),
      command: command(
        'useradd',
        '--create-home',
        '--shell',
        shell,
        '--password',
        '*',
        ...(wanted.name ? ['--comment', wanted.name] : []),
        ...(wanted.groups.length ? ['--groups', wanted.groups.join(',')] : []),
        ...(wanted.expires ? ['--expiredate', wanted.expires] : []),
        '--',
        login,
      ),
    });
  } else {
    const options: string[] = [];
    const reasons: string[] = [];
    if (wanted.name !== undefined && state.account.name !== wanted.name)
      (options.push('--comment', wanted.name), reasons.push(messages.updateFullName));
    const unusableShell = /(nologin|false)$/.test(state.account.shell);
    if (wanted.forwardingOnly ? state.account.shell !== NO_SHELL : unusableShell)
      (options.push('--shell', shell), reasons.push(messages.updateShell(shell)));
    // Locked (`!`) or empty: make it key-only, never restore an old password.
    if (!state.password || state.password.startsWith('!'))
      (options.push('--password', '*'), reasons.push(messages.updateUnlock));
    if (wanted.expires !== undefined && state.expireDay !== epochDay(wanted.expires))
      (options.push('--expiredate', wanted.expires), reasons.push(messages.updateExpires(wanted.expires)));
    else if (wanted.expires === undefined && state.expireDay !== undefined && state.expireDay <= today)
      (options.push('--expiredate', ''), reasons.push(messages.updateNoLongerExpired));
    const missing = wanted.groups.filter((g) => !state.groups.includes(g));
    if (missing.length)
      (options.push('--append', '--groups', missing.join(',')), reasons.push(messages.updateGroups(missing.join(','))));
    if (options.length)
      changes.push({
        what: messages.updateAccount(login, reasons.join(', ')),
        command: command('usermod', ...options, '--', login),
      });
  }

  const home = state.account?.home ?? `/home/${login}`;
  const keysWanted = authorizedKeys(state.keyLines, wanted);
  const keysOk =
    state.keysFile?.owner === login &&
    state.keysFile.mode === 0o600 &&
    state.sshDir?.owner === login &&
    (state.sshDir.mode & 0o077) === 0;
  if (keysWanted !== joinLines(state.keyLines) || !keysOk) {
    if (state.sshDir && state.sshDir.owner !== login)
      changes.push({
        what: messages.giveSshDirBack(login),
        command: command('chown', '-h', `${login}:`, '--', `${home}/.ssh`),
      });
    changes.push({
      what: messages.writeKeys(describeKeyChange(state.keyLines, wanted)),
      command: asUser(login, withStdin(command('sh', '-c', WRITE_KEYS, 'sh', `${home}/.ssh`), keysWanted)),
    });
  }

  const sudo = wanted.sudo !== undefined && !wanted.forwardingOnly ? sudoersContent(login, wanted.sudo) : undefined;
  if (sudo !== undefined && state.sudoers !== sudo) {
    changes.push({
      what: messages.allowSudo(sudoersFile(login)),
      command: installSudoers(login, sudo),
    });
  } else if (sudo === undefined && state.sudoers !== undefined) {
    changes.push({
      what: messages.removeSudo(sudoersFile(login)),
      command: command('rm', '-f', '--', sudoersFile(login)),
    });
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
      changes.push({
        what: messages.lockAccount(login),
        command: command('usermod', '--lock', '--expiredate', '1', '--', login),
      });
    }
    // A symlinked ~/.ssh is removed itself (rm never follows a link it removes): root never
    // deletes through it, and the user cannot keep a way in, or block this, with one.
    // Their sessions end before their files are touched, and the files are removed by the user
    // itself: a ~/.ssh swapped for a link in the meantime leads nowhere they could not go anyway.
    if (state.processes > 0) changes.push(endProcesses(login, state.processes));
    const keyFiles =
      state.sshDir?.type === 'symbolic link'
        ? [`${home}/.ssh`]
        : [state.keysFile && `${home}/.ssh/authorized_keys`, state.keys2File && `${home}/.ssh/authorized_keys2`].filter(
            (f): f is string => !!f,
          );
    if (keyFiles.length)
      changes.push({
        what: messages.removeKeys(login),
        command: asUser(login, command('rm', '-f', '--', ...keyFiles)),
      });
  } else if (state.processes > 0) {
    changes.push(endProcesses(login, state.processes));
  }
  if (state.sudoers !== undefined)
    changes.push({
      what: messages.removeSudo(sudoersFile(login)),
      command: command('rm', '-f', '--', sudoersFile(login)),
    });
  if (removeHome && state.account && state.home) {
    const home = state.account.home;
    if (
      !home.startsWith('/') ||
      ['/', '/root', '/home'].includes(home.replace(/\/+$/, '') || '/') ||
      state.home.owner !== login
    ) {
      throw new RefusedError(
        messages.homeNotTheirs(host, login, home, state.home.owner),
        messages.homeNotTheirsHint(host),
      );
    }
    changes.push({
      what: messages.removeHome(login, home),
      command: command('rm', '-rf', '--one-file-system', '--', home),
    });
  }
  return changes;
}

/** pkill exits 1 when nothing was left to kill: the processes may have ended on their own. */
function endProcesses(login: string, count: number): Change {
  return {
    what: messages.endProcesses(login, count),
    command: command('pkill', '-KILL', '-u', login),
    okCodes: [0, 1],
  };
}

function refuseSystemAccount(host: string, login: string, state: AccountState): void {
  if (state.account && (state.account.uid < FIRST_UID || state.account.uid > LAST_UID)) {
    throw new RefusedError(messages.systemAccount(host, login, state.account.uid), messages.chooseAnotherLogin);
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
  const parts = [added && messages.keysAdded(added), removed && messages.otherKeysRemoved(removed)].filter(Boolean);
  return parts.length ? parts.join(', ') : messages.keysOwnerOrModes;
}

function joinLines(lines: string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Runs as the account itself, so that nothing root writes can be redirected by its owner. */
function asUser(login: string, cmd: RemoteCommand): RemoteCommand {
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
