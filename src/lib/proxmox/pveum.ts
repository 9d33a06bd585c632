// Proxmox VE users through `pveum` on a node: facts and changes for a sysadmin's `<login>@pam`.
// User and ACL configuration is cluster-wide (/etc/pve/user.cfg on pmxcfs): running these on one
// node is enough, and on another node the facts then say "already done".
// Sources: pve-docs pveum.1 and "User Management"; pve-access-control PVE/API2/User.pm, ACL.pm.
import type { Change } from '../remote/changes.js';
import type { Fact } from '../remote/facts.js';
import { command } from '../remote/shell.js';
import { messages } from './messages.js';

export interface ProxmoxState {
  /** The user, if it exists; `enable` is 0 or 1 (absent means 1). */
  user?: { enable: boolean; expire: number; comment: string; email: string };
  /** Roles given to the user on `/`. */
  rootRoles: string[];
  /** Every role the cluster knows. */
  roles: string[];
}

const JSON_FORMAT = ['--output-format', 'json'];

/** The three lists, in one session: users, ACLs and roles (pveum prints one JSON array each). */
export function proxmoxFact(login: string): Fact<ProxmoxState> {
  const userid = proxmoxUser(login);
  return {
    command: command(
      'sh',
      '-c',
      'pveum user list "$@" && echo && pveum acl list "$@" && echo && pveum role list "$@"',
      'sh',
      ...JSON_FORMAT,
    ),
    parse: (stdout) => {
      const [users, acl, roles] = stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>[]);
      const user = (users ?? []).find((u) => u.userid === userid);
      return {
        user: user && {
          enable: user.enable === undefined || Number(user.enable) === 1,
          expire: Number(user.expire ?? 0),
          comment: String(user.comment ?? ''),
          email: String(user.email ?? ''),
        },
        rootRoles: (acl ?? [])
          .filter((a) => a.path === '/' && a.type === 'user' && a.ugid === userid)
          .map((a) => String(a.roleid)),
        roles: (roles ?? []).map((r) => String(r.roleid)),
      };
    },
  };
}

export function proxmoxUser(login: string): string {
  return `${login}@pam`;
}

export interface WantedProxmoxUser {
  login: string;
  role: string;
  name?: string;
  email?: string;
  /** Epoch seconds from which the user is expired; 0: never. */
  expire: number;
}

/** The `pveum` commands that give `<login>@pam` the role on `/`, enabled; empty when done. */
export function proxmoxOnboardChanges(state: ProxmoxState, wanted: WantedProxmoxUser): Change[] {
  const userid = proxmoxUser(wanted.login);
  const details = [
    ...(wanted.name !== undefined ? ['--comment', wanted.name] : []),
    ...(wanted.email !== undefined ? ['--email', wanted.email] : []),
    '--expire',
    String(wanted.expire),
  ];
  const changes: Change[] = [];
  if (!state.user) {
    changes.push({
      what: messages.createUser(userid),
      command: command('pveum', 'user', 'add', userid, ...details, '--enable', '1'),
    });
  } else if (
    !state.user.enable ||
    state.user.expire !== wanted.expire ||
    (wanted.name !== undefined && state.user.comment !== wanted.name) ||
    (wanted.email !== undefined && state.user.email !== wanted.email)
  ) {
    changes.push({
      what: state.user.enable ? messages.updateUser(userid) : messages.updateAndEnableUser(userid),
      command: command('pveum', 'user', 'modify', userid, ...details, '--enable', '1'),
    });
  }
  if (!state.rootRoles.includes(wanted.role)) {
    changes.push({
      what: messages.giveRole(userid, wanted.role),
      command: command('pveum', 'acl', 'modify', '/', '--users', userid, '--roles', wanted.role),
    });
  }
  return changes;
}

/** Disables `<login>@pam` (its API tokens with it); its web sessions live on until they expire. */
export function proxmoxOffboardChanges(state: ProxmoxState, login: string): Change[] {
  if (!state.user || !state.user.enable) return [];
  const userid = proxmoxUser(login);
  return [
    {
      what: messages.disableUser(userid),
      command: command('pveum', 'user', 'modify', userid, '--enable', '0'),
    },
  ];
}
