// A stand-in for `pveum`, the user manager of Proxmox VE 8, on lab hosts with the pve role: real
// Proxmox cannot run here. Self-contained (node: builtins only): the compiled file is copied into
// each host as /usr/local/lib/chaton-lab/pveum.js, run by the /usr/local/sbin/pveum wrapper.
//
// State lives in /etc/pve/user.cfg, in the real file format, under the real cluster-wide lock
// (mkdir of /etc/pve/priv/lock/file-user_cfg); the lab binds one directory over /etc/pve of every
// pve host, as pmxcfs shares it. Covered: user add|modify|delete|list, group add|modify|delete|list,
// role list, acl modify|delete|list, their old aliases, and the CLI's option parsing, usage errors,
// error lines and exit codes.
//
// Sources (github.com/proxmox):
// - pve-access-control: src/PVE/API2/{User,Group,Role,ACL}.pm (parameters, messages, results),
//   src/PVE/AccessControl.pm (privileges and built-in roles, parse_user_config,
//   write_user_config, lock_user_config, normalize_path, check_path), src/PVE/Auth/Plugin.pm
//   (user and realm names, domains.cfg defaults), src/PVE/CLI/pveum.pm (command tree),
//   debian/changelog (8.1.2: Sys.AccessNetwork; 8.1.4: ACL lines sorted by path).
// - pve-cluster: src/PVE/Cluster.pm cfs_lock (lock directory, 10 s timeout, retry and messages).
// - pve-common: src/PVE/Tools.pm (EMAIL_RE); the command-line machinery every Proxmox tool shares
//   (options, validation, usage, output formats, cfs_lock) is in pve-cli.ts, with its sources.
// Every error leaves through Perl's die (message on stderr, exit 255) as in the real tool.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cfsLock,
  replaceFile,
  decodeText,
  Die,
  encodeText,
  flagParam,
  isMainModule,
  ParamError,
  processIo,
  PVE_CONFIG_DIR,
  runCommandLine,
  sorted,
  splitList,
  stringParam,
  truthy,
  type Column,
  type Command as PveCommand,
  type Io,
  type Listing,
  type Param,
  type Tool,
} from './pve-cli.js';

export { PVE_CONFIG_DIR } from './pve-cli.js';

// ---------------------------------------------------------------------------------------------
// Privileges and built-in roles (AccessControl.pm $privgroups and create_roles, version 8.2).

interface PrivilegeGroup {
  /** Only Administrator (and root@pam) has these. */
  root: string[];
  admin: string[];
  user: string[];
  audit: string[];
}

const PRIVILEGE_GROUPS: Record<string, PrivilegeGroup> = {
  VM: {
    root: [],
    admin: [
      'VM.Config.Disk',
      'VM.Config.CPU',
      'VM.Config.Memory',
      'VM.Config.Network',
      'VM.Config.HWType',
      'VM.Config.Options',
      'VM.Allocate',
      'VM.Clone',
      'VM.Migrate',
      'VM.Monitor',
      'VM.Snapshot',
      'VM.Snapshot.Rollback',
    ],
    user: ['VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.Console', 'VM.Backup', 'VM.PowerMgmt'],
    audit: ['VM.Audit'],
  },
  Sys: {
    root: ['Sys.PowerMgmt', 'Sys.Modify', 'Sys.Incoming', 'Sys.AccessNetwork'],
    admin: ['Sys.Console', 'Sys.Syslog'],
    user: [],
    audit: ['Sys.Audit'],
  },
  Datastore: {
    root: [],
    admin: ['Datastore.Allocate', 'Datastore.AllocateTemplate'],
    user: ['Datastore.AllocateSpace'],
    audit: ['Datastore.Audit'],
  },
  SDN: { root: [], admin: ['SDN.Allocate', 'SDN.Audit'], user: ['SDN.Use'], audit: ['SDN.Audit'] },
  User: {
    root: ['Realm.Allocate'],
    admin: ['User.Modify', 'Group.Allocate', 'Realm.AllocateUser'],
    user: [],
    audit: [],
  },
  Pool: { root: [], admin: ['Pool.Allocate'], user: ['Pool.Audit'], audit: ['Pool.Audit'] },
  Mapping: { root: [], admin: ['Mapping.Modify'], user: ['Mapping.Use'], audit: ['Mapping.Audit'] },
};

/** create_roles: NoAccess, Administrator (every privilege) and the PVE* roles derived from the groups. */
function builtInRoles(): Map<string, ReadonlySet<string>> {
  const valid = new Set(['Permissions.Modify']); // in no group: Administrator only
  const roles = new Map<string, Set<string>>([
    ['NoAccess', new Set()],
    ['Administrator', valid],
  ]);
  const grant = (role: string, privileges: string[]): void => {
    const held = roles.get(role) ?? new Set<string>();
    for (const privilege of privileges) held.add(privilege);
    roles.set(role, held);
  };
  for (const [category, { root, admin, user, audit }] of Object.entries(PRIVILEGE_GROUPS)) {
    grant('Administrator', [...root, ...admin, ...user, ...audit]);
    grant(`PVE${category}Admin`, [...admin, ...user, ...audit]);
    grant('PVEAdmin', [...admin, ...user, ...audit]);
    if (user.length > 0) grant(`PVE${category}User`, [...user, ...audit]);
    grant('PVEAuditor', audit);
  }
  roles.get('PVEAdmin')?.delete('Mapping.Modify');
  roles.set('PVETemplateUser', new Set(['VM.Clone', 'VM.Audit']));
  return roles;
}

export const BUILT_IN_ROLES: ReadonlyMap<string, ReadonlySet<string>> = builtInRoles();
const VALID_PRIVILEGES = BUILT_IN_ROLES.get('Administrator') ?? new Set<string>();

// ---------------------------------------------------------------------------------------------
// Names and formats (Auth/Plugin.pm, AccessControl.pm, JSONSchema.pm, Tools.pm). A verifier
// throws the message its Perl counterpart dies with, final newline included.

const USER_RE = String.raw`[^\s:/]+`;
const REALM_RE = String.raw`[A-Za-z][A-Za-z0-9.\-_]+`;
const USERID = new RegExp(`^(${USER_RE})@(${REALM_RE})$`);
const TOKENID = new RegExp(`^((${USER_RE})@(${REALM_RE}))!(${REALM_RE})$`);
const NAME = /^[A-Za-z0-9.\-_]+$/;
/** Pools nest up to three levels since 8.0.7. */
const POOL = /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/;
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
/** Tools.pm $EMAIL_RE; Perl's \w on decoded text is any word character. */
const EMAIL = /^[\p{L}\p{M}\p{N}\p{Pc}+\-~]+(\.[\p{L}\p{M}\p{N}\p{Pc}+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/u;
const ALNUM = String.raw`[\p{L}\p{N}.\-_]+`;
/** check_path: the ACL paths one may grant on. */
const ACL_PATH = new RegExp(
  `^(/|/access|/access/groups|/access/groups/${ALNUM}|/access/realm|/access/realm/${ALNUM}` +
    `|/nodes|/nodes/${ALNUM}|/pool|/pool/${ALNUM}(?:/${ALNUM}){0,2}` +
    `|/sdn|/sdn/zones|/sdn/zones/${ALNUM}|/sdn/zones/${ALNUM}/${ALNUM}|/sdn/zones/${ALNUM}/${ALNUM}/[1-9][0-9]{0,3}` +
    `|/storage|/storage/${ALNUM}|/vms|/vms/[1-9][0-9]{2,}|/mapping|/mapping/${ALNUM}|/mapping/${ALNUM}/${ALNUM})$`,
  'u',
);

function verifyUsername(name: string): string {
  if (name.length < 3) throw new Error(`user name '${name}' is too short\n`);
  if (name.length > 64) throw new Error(`user name '${name}' is too long (${name.length} > 64)\n`);
  if (!USERID.test(name)) throw new Error(`value '${name}' does not look like a valid user name\n`);
  return name;
}

function isUsername(name: string): boolean {
  return name.length >= 3 && name.length <= 64 && USERID.test(name);
}

function verifyGroupname(name: string): string {
  if (!NAME.test(name)) throw new Error(`group name '${name}' contains invalid characters\n`);
  return name;
}

function verifyRolename(name: string): string {
  if (!NAME.test(name)) throw new Error(`role name '${name}' contains invalid characters\n`);
  return name;
}

function verifyTokenid(id: string): string {
  if (!TOKENID.test(id)) throw new Error(`value '${id}' does not look like a valid token ID\n`);
  return id;
}

function verifyEmail(email: string): string {
  if (!EMAIL.test(email)) throw new Error('value does not look like a valid email address\n');
  return email;
}

/** AccessControl.pm normalize_path: undefined when the path cannot be one. */
function normalizePath(text: string | undefined): string | undefined {
  if (!truthy(text)) return undefined;
  let path = text.replace(/\/+/g, '/').replace(/\/$/, '');
  if (!truthy(path)) path = '/';
  if (!path.startsWith('/')) path = `/${path}`;
  return new RegExp(`^[\\p{L}\\p{N}.\\-_/]+$`, 'u').test(path) ? path : undefined;
}

// ---------------------------------------------------------------------------------------------
// user.cfg: parse_user_config and write_user_config.

type Propagate = 0 | 1;

export interface User {
  enable: Propagate;
  /** Absent only for root@pam when user.cfg does not list it. */
  expire?: number;
  firstname?: string;
  lastname?: string;
  /** '' when a later field of the line is set: Perl's split keeps inner empty fields only. */
  email?: string;
  comment?: string;
  keys?: string;
  groups: Set<string>;
  tokens: Map<string, Token>;
}

export interface Token {
  expire: number;
  privsep: Propagate;
  comment?: string;
}

export interface Group {
  users: Set<string>;
  comment?: string;
}

export interface Pool {
  vms: Set<number>;
  storage: Set<string>;
  comment?: string;
}

/** Member (user id, group name or token id) to role to propagate flag. */
type Grants = Map<string, Map<string, Propagate>>;

export interface AclNode {
  users: Grants;
  groups: Grants;
  tokens: Grants;
  children: Map<string, AclNode>;
}

export interface UserConfig {
  users: Map<string, User>;
  groups: Map<string, Group>;
  pools: Map<string, Pool>;
  /** Built-in and custom roles, by name. */
  roles: Map<string, ReadonlySet<string>>;
  acl: AclNode;
}

const ACL_MEMBER_TYPES = ['users', 'groups', 'tokens'] as const;

function newAclNode(): AclNode {
  return { users: new Map(), groups: new Map(), tokens: new Map(), children: new Map() };
}

function newUser(enable: Propagate): User {
  return { enable, groups: new Set(), tokens: new Map() };
}

/** find_acl_tree_node: the node of a normalized path, created with its parents if missing. */
function aclNode(root: AclNode, path: string): AclNode {
  let node = root;
  for (const part of path.split('/').filter((part) => part !== '')) {
    const child = node.children.get(part) ?? newAclNode();
    node.children.set(part, child);
    node = child;
  }
  return node;
}

/** iterate_acl_tree, children in name order (as user.cfg is written since 8.1.4). */
function* aclNodes(path: string, node: AclNode): Generator<[string, AclNode]> {
  yield [path, node];
  for (const name of [...node.children.keys()].sort()) {
    const child = node.children.get(name);
    if (child) yield* aclNodes(`${path === '/' ? '' : path}/${name}`, child);
  }
}

function grant(grants: Grants, member: string, role: string, propagate: Propagate): void {
  const roles = grants.get(member) ?? new Map<string, Propagate>();
  roles.set(role, propagate);
  grants.set(member, roles);
}

/** userconfig_force_defaults: built-in roles, root@pam, the ACL root. */
function forceDefaults(config: UserConfig): void {
  for (const [role, privileges] of BUILT_IN_ROLES) config.roles.set(role, privileges);
  if (!config.users.has('root@pam')) config.users.set('root@pam', newUser(1));
}

function tokenOf(config: UserConfig, tokenid: string): Token | undefined {
  const [, userid, , , token] = TOKENID.exec(tokenid) ?? [];
  return userid === undefined || token === undefined ? undefined : config.users.get(userid)?.tokens.get(token);
}

/** Perl's split(/:/, $line): trailing empty fields dropped, then each field trimmed. */
function splitFields(line: string): string[] {
  const fields = line.split(':');
  while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop();
  return fields.map((field) => field.trim());
}

/** parse_user_config. `warn` gets the lines real pveum prints on stderr for entries it ignores. */
export function parseUserConfig(raw: string, warn: (message: string) => void = () => {}): UserConfig {
  const config: UserConfig = {
    users: new Map(),
    groups: new Map(),
    pools: new Map(),
    roles: new Map(),
    acl: newAclNode(),
  };
  forceDefaults(config);
  const poolOfVm = new Map<number, string>();
  for (const line of raw
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text !== '')) {
    const [type, ...data] = splitFields(line);
    if (type === 'user') {
      const [userid = '', enable, expireText, firstname, lastname, email, comment, keys] = data;
      if (!isUsername(userid)) {
        warn(`user config - ignore user '${userid}' - invalid user name\n`);
        continue;
      }
      const expire = truthy(expireText) ? expireText : '0';
      if (!/^\d+$/.test(expire)) {
        warn(`user config - ignore user '${userid}' - (illegal characters in expire '${expire}')\n`);
        continue;
      }
      const user: User = { ...newUser(truthy(enable) ? 1 : 0), expire: Number(expire) };
      if (truthy(firstname)) user.firstname = decodeText(firstname);
      if (truthy(lastname)) user.lastname = decodeText(lastname);
      if (email !== undefined) user.email = email;
      if (truthy(comment)) user.comment = decodeText(comment);
      if (truthy(keys)) user.keys = keys;
      config.users.set(userid, user);
    } else if (type === 'group') {
      const [name = '', members, comment] = data;
      if (!NAME.test(name)) {
        warn(`user config - ignore group '${name}' - invalid characters in group name\n`);
        continue;
      }
      const group = config.groups.get(name) ?? { users: new Set<string>() };
      config.groups.set(name, group);
      if (truthy(comment)) group.comment = decodeText(comment);
      for (const userid of splitList(members)) {
        if (!isUsername(userid)) {
          warn(`user config - ignore invalid group member '${userid}'\n`);
          continue;
        }
        const user = config.users.get(userid);
        if (user) user.groups.add(name);
        else warn(`user config - ignore invalid group member '${userid}'\n`);
        group.users.add(userid); // kept even when unknown, as the real parser does
      }
    } else if (type === 'role') {
      const [name = '', privileges] = data;
      if (!NAME.test(name)) {
        warn(`user config - ignore role '${name}' - invalid characters in role name\n`);
        continue;
      }
      if (BUILT_IN_ROLES.has(name)) continue; // the built-in definition wins
      const role = new Set(config.roles.get(name));
      for (const privilege of splitList(privileges)) {
        if (VALID_PRIVILEGES.has(privilege)) role.add(privilege);
        else warn(`user config - ignore invalid privilege '${privilege}'\n`);
      }
      config.roles.set(name, role);
    } else if (type === 'acl') {
      const [propagateText, pathText = '', members, roles] = data;
      const propagate: Propagate = truthy(propagateText) ? 1 : 0;
      const path = normalizePath(pathText);
      if (!path) {
        warn(`user config - ignore invalid path in acl '${pathText}'\n`);
        continue;
      }
      for (const role of splitList(roles)) {
        if (!NAME.test(role)) {
          warn(`user config - ignore invalid role name '${role}' in acl\n`);
          continue;
        }
        if (!config.roles.has(role)) {
          warn(`user config - ignore invalid acl role '${role}'\n`);
          continue;
        }
        for (const member of splitList(members)) {
          const group = /^@(\S+)$/.exec(member)?.[1];
          if (group !== undefined && NAME.test(group)) {
            if (!config.groups.has(group)) warn(`user config - ignore invalid acl group '${group}'\n`);
            grant(aclNode(config.acl, path).groups, group, role, propagate);
          } else if (isUsername(member)) {
            if (!config.users.has(member)) warn(`user config - ignore invalid acl member '${member}'\n`);
            grant(aclNode(config.acl, path).users, member, role, propagate);
          } else if (TOKENID.test(member)) {
            if (tokenOf(config, member)) grant(aclNode(config.acl, path).tokens, member, role, propagate);
            else warn(`user config - ignore invalid acl token '${member}'\n`);
          } else {
            warn(`user config - invalid user/group '${member}' in acl\n`);
          }
        }
      }
    } else if (type === 'pool') {
      const [name = '', comment, vmids, storages] = data;
      if (!POOL.test(name)) {
        warn(`user config - ignore pool '${name}' - invalid characters in pool name\n`);
        continue;
      }
      const pool = config.pools.get(name) ?? { vms: new Set<number>(), storage: new Set<string>() };
      config.pools.set(name, pool);
      if (truthy(comment)) pool.comment = decodeText(comment);
      for (const vmidText of splitList(vmids)) {
        if (!/^\d+$/.test(vmidText)) {
          warn(`user config - ignore invalid vmid '${vmidText}' in pool '${name}'\n`);
          continue;
        }
        const vmid = Number(vmidText);
        if (poolOfVm.has(vmid)) {
          warn(`user config - ignore duplicate vmid '${vmid}' in pool '${name}'\n`);
          continue;
        }
        pool.vms.add(vmid);
        poolOfVm.set(vmid, name);
      }
      for (const storage of splitList(storages)) {
        if (STORAGE_ID.test(storage)) pool.storage.add(storage);
        else warn(`user config - ignore invalid storage '${storage}' in pool '${name}'\n`);
      }
    } else if (type === 'token') {
      const [tokenid = '', expireText, privsep, comment] = data;
      const [, userid, , , name] = TOKENID.exec(tokenid) ?? [];
      if (userid === undefined || name === undefined) {
        warn(`user config - ignore invalid tokenid '${tokenid}'\n`);
        continue;
      }
      const expire = truthy(expireText) ? expireText : '0';
      if (!/^\d+$/.test(expire)) {
        warn(`user config - ignore token '${tokenid}' - (illegal characters in expire '${expire}')\n`);
        continue;
      }
      const user = config.users.get(userid);
      if (!user) {
        warn(`user config - ignore token '${tokenid}' - user does not exist\n`);
        continue;
      }
      const token: Token = { privsep: truthy(privsep) ? 1 : 0, expire: Number(expire) };
      if (truthy(comment)) token.comment = decodeText(comment);
      user.tokens.set(name, token);
    } else {
      warn(`user config - ignore config line: ${line}\n`);
    }
  }
  forceDefaults(config);
  return config;
}

/** write_user_config: users with their tokens, groups, pools, custom roles, then ACL lines. */
export function writeUserConfig(config: UserConfig): string {
  let data = '';
  for (const userid of sorted(config.users.keys())) {
    const user = config.users.get(userid) as User;
    const encoded = (value: string | undefined): string => (truthy(value) ? encodeText(value) : '');
    data +=
      `user:${userid}:${user.enable ? 1 : 0}:${Math.trunc(user.expire ?? 0)}:${encoded(user.firstname)}:` +
      `${encoded(user.lastname)}:${user.email || ''}:${encoded(user.comment)}:${user.keys || ''}:\n`;
    for (const name of sorted(user.tokens.keys())) {
      const token = user.tokens.get(name) as Token;
      const flags = `${Math.trunc(token.expire)}:${token.privsep ? 1 : 0}`;
      data += `token:${userid}!${name}:${flags}:${encoded(token.comment)}:\n`;
    }
  }
  data += '\n';
  for (const name of sorted(config.groups.keys())) {
    const group = config.groups.get(name) as Group;
    const comment = truthy(group.comment) ? encodeText(group.comment) : '';
    data += `group:${name}:${sorted(group.users).join(',')}:${comment}:\n`;
  }
  data += '\n';
  for (const name of sorted(config.pools.keys())) {
    const pool = config.pools.get(name) as Pool;
    const comment = truthy(pool.comment) ? encodeText(pool.comment) : '';
    data += `pool:${name}:${comment}:${sorted(pool.vms).join(',')}:${sorted(pool.storage).join(',')}:\n`;
  }
  data += '\n';
  for (const name of sorted(config.roles.keys())) {
    if (BUILT_IN_ROLES.has(name)) continue;
    data += `role:${name}:${sorted(config.roles.get(name) ?? []).join(',')}:\n`;
  }
  data += '\n';
  for (const [path, node] of aclNodes('/', config.acl)) {
    // By propagate flag, then role list: the members holding exactly those roles.
    const lines: Record<Propagate, Map<string, string[]>> = { 0: new Map(), 1: new Map() };
    const collect = (grants: Grants, prefix: string, excluded?: string): void => {
      for (const [member, roles] of grants) {
        if (member === excluded) continue;
        for (const propagate of [0, 1] as const) {
          const list = sorted([...roles].filter(([, flag]) => flag === propagate).map(([role]) => role)).join(',');
          if (list) lines[propagate].set(list, [...(lines[propagate].get(list) ?? []), `${prefix}${member}`]);
        }
      }
    };
    collect(node.groups, '@');
    collect(node.users, '', 'root@pam'); // root@pam is always Administrator: never saved
    collect(node.tokens, '');
    for (const propagate of [0, 1] as const) {
      for (const roles of sorted(lines[propagate].keys())) {
        data += `acl:${propagate}:${path}:${sorted(lines[propagate].get(roles) ?? []).join(',')}:${roles}:\n`;
      }
    }
  }
  return data;
}

/** A fresh installation's user.cfg: root@pam with the e-mail address given to the installer. */
export const INSTALLED_USER_CFG = writeUserConfig(parseUserConfig('user:root@pam:1:0:::root@localhost:::\n'));

/** Realm to realm type, from domains.cfg section headers; pam and pve always exist (Auth/Plugin.pm). */
async function realmTypes(configDir: string): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  const raw = await readFile(join(configDir, 'domains.cfg'), 'utf8').catch(() => '');
  for (const [, type, realm] of raw.matchAll(/^(\S+):\s*(\S+)\s*$/gm)) {
    if (type && realm) types.set(realm, type.toLowerCase());
  }
  types.set('pve', 'pve');
  types.set('pam', 'pam');
  return types;
}

async function readUserConfig(configDir: string, io: Io): Promise<UserConfig> {
  const raw = await readFile(join(configDir, 'user.cfg'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return parseUserConfig(raw, io.err);
}

/** cfs_write_file through PVE::Tools::file_set_contents: a temporary file renamed into place. */
async function saveUserConfig(configDir: string, config: UserConfig): Promise<void> {
  await replaceFile(join(configDir, 'user.cfg'), writeUserConfig(config));
}

/** lock_user_config: `work` under the cluster lock of user.cfg. */
function lockUserConfig(configDir: string, io: Io, errmsg: string, work: () => Promise<void>): Promise<void> {
  return cfsLock(configDir, 'file-user_cfg', io, errmsg, work);
}

const USERID_PARAM: Param = { type: 'string', format: { verify: verifyUsername }, maxLength: 64 };
const USER_PARAMS: Record<string, Param> = {
  userid: USERID_PARAM,
  enable: { type: 'boolean', optional: true },
  expire: { type: 'integer', optional: true, minimum: 0 },
  firstname: { type: 'string', optional: true, maxLength: 1024 },
  lastname: { type: 'string', optional: true, maxLength: 1024 },
  email: { type: 'string', optional: true, format: { verify: verifyEmail, opt: true }, maxLength: 254 },
  comment: { type: 'string', optional: true, maxLength: 2048 },
  keys: { type: 'string', optional: true, pattern: /^[0-9a-zA-Z!=]{0,4096}$/ },
  groups: { type: 'string', optional: true, format: { verify: verifyGroupname, list: true } },
};
const GROUP_PARAMS: Record<string, Param> = {
  groupid: { type: 'string', format: { verify: verifyGroupname } },
  comment: { type: 'string', optional: true },
};
const ACL_PARAMS: Record<string, Param> = {
  propagate: { type: 'boolean', optional: true },
  path: { type: 'string' },
  users: { type: 'string', optional: true, format: { verify: verifyUsername, list: true } },
  groups: { type: 'string', optional: true, format: { verify: verifyGroupname, list: true } },
  tokens: { type: 'string', optional: true, format: { verify: verifyTokenid, list: true } },
  roles: { type: 'string', format: { verify: verifyRolename, list: true } },
  delete: { type: 'boolean', optional: true },
};

interface Context {
  configDir: string;
  io: Io;
}

type Command = PveCommand<Context>;

// ---------------------------------------------------------------------------------------------
// Commands (PVE/API2/*.pm, as pveum.pm maps them). The CLI runs them as root@pam, without
// permission checks.

function addToGroups(config: UserConfig, userid: string, user: User, groups: string | undefined): void {
  for (const name of splitList(groups)) {
    const group = config.groups.get(name);
    if (!group) throw new Die(`no such group '${name}'\n`);
    user.groups.add(name);
    group.users.add(userid);
  }
}

function removeFromGroups(config: UserConfig, userid: string, user?: User): void {
  for (const group of config.groups.values()) group.users.delete(userid);
  user?.groups.clear();
}

const PASSWORDS_UNSUPPORTED = 'pveum (chaton lab stand-in): --password is not implemented\n';

const USER_LIST_COLUMNS: Record<string, Column> = {
  userid: { type: 'string' },
  enable: { type: 'boolean', optional: true },
  expire: { type: 'integer', optional: true },
  firstname: { type: 'string', optional: true, maxLength: 1024 },
  lastname: { type: 'string', optional: true, maxLength: 1024 },
  email: { type: 'string', optional: true, maxLength: 254 },
  comment: { type: 'string', optional: true, maxLength: 2048 },
  keys: { type: 'string', optional: true },
  groups: { type: 'string', optional: true },
  tokens: { type: 'array', optional: true },
  'realm-type': { type: 'string', optional: true },
  'totp-locked': { type: 'boolean', optional: true },
  'tfa-locked-until': { type: 'integer', optional: true },
};

const COMMANDS: Command[] = [
  {
    words: ['user', 'add'],
    argParams: ['userid'],
    params: { ...USER_PARAMS, password: { type: 'string', optional: true, minLength: 8, maxLength: 64 } },
    async run(params, { configDir, io }) {
      const userid = String(params['userid']);
      await lockUserConfig(configDir, io, 'create user failed', async () => {
        const config = await readUserConfig(configDir, io);
        if (config.users.has(userid)) throw new Die(`user '${userid}' already exists\n`);
        if (params['password'] !== undefined) throw new Die(PASSWORDS_UNSUPPORTED);
        const user = newUser(flagParam(params, 'enable') ?? 1);
        if (truthy(stringParam(params, 'expire'))) user.expire = Number(params['expire']);
        config.users.set(userid, user);
        addToGroups(config, userid, user, stringParam(params, 'groups'));
        // Only true values are kept, as create_user does.
        for (const field of ['firstname', 'lastname', 'email', 'comment', 'keys'] as const) {
          const value = stringParam(params, field);
          if (truthy(value)) user[field] = value;
        }
        await saveUserConfig(configDir, config);
      });
    },
  },
  {
    words: ['user', 'modify'],
    argParams: ['userid'],
    params: { ...USER_PARAMS, append: { type: 'boolean', optional: true, requires: 'groups' } },
    async run(params, { configDir, io }) {
      const userid = String(params['userid']);
      await lockUserConfig(configDir, io, 'update user failed', async () => {
        const config = await readUserConfig(configDir, io);
        const user = config.users.get(userid);
        if (!user) throw new Die(`no such user ('${userid}')\n`);
        user.enable = flagParam(params, 'enable') ?? user.enable;
        if (params['expire'] !== undefined) user.expire = Number(params['expire']);
        if (!params['append'] && params['groups'] !== undefined) removeFromGroups(config, userid, user);
        addToGroups(config, userid, user, stringParam(params, 'groups'));
        for (const field of ['firstname', 'lastname', 'email', 'comment', 'keys'] as const) {
          user[field] = stringParam(params, field) ?? user[field];
        }
        await saveUserConfig(configDir, config);
      });
    },
  },
  {
    words: ['user', 'delete'],
    argParams: ['userid'],
    params: { userid: USERID_PARAM },
    // delete_user has no existence check: deleting an unknown user succeeds.
    async run(params, { configDir, io }) {
      const userid = String(params['userid']);
      await lockUserConfig(configDir, io, 'delete user failed', async () => {
        const config = await readUserConfig(configDir, io);
        config.users.delete(userid);
        removeFromGroups(config, userid);
        for (const [, node] of aclNodes('/', config.acl)) node.users.delete(userid);
        await saveUserConfig(configDir, config);
      });
    },
  },
  {
    words: ['user', 'list'],
    argParams: [],
    params: { enabled: { type: 'boolean', optional: true }, full: { type: 'boolean', optional: true } },
    lists: true,
    async run(params, { configDir, io }) {
      const config = await readUserConfig(configDir, io);
      const realms = await realmTypes(configDir);
      const rows: Listing['rows'] = [];
      for (const userid of sorted(config.users.keys())) {
        const user = config.users.get(userid) as User;
        const enabled = flagParam(params, 'enabled');
        if (enabled !== undefined && enabled !== user.enable) continue;
        const row: Listing['rows'][number] = { userid, enable: user.enable };
        for (const field of ['expire', 'firstname', 'lastname', 'email', 'comment', 'keys'] as const) {
          const value = user[field];
          if (value !== undefined) row[field] = value;
        }
        if (params['full']) {
          row['groups'] = sorted(user.groups).join(',');
          row['tokens'] =
            user.tokens.size === 0
              ? null
              : sorted(user.tokens.keys()).map((tokenid) => ({ tokenid, ...(user.tokens.get(tokenid) as Token) }));
        }
        const realm = /([A-Za-z][A-Za-z0-9.\-_]+)$/.exec(userid)?.[1];
        const type = realm === undefined ? undefined : realms.get(realm);
        if (type !== undefined) row['realm-type'] = type;
        rows.push(row);
      }
      return { rows, columns: USER_LIST_COLUMNS };
    },
  },
  {
    words: ['group', 'add'],
    argParams: ['groupid'],
    params: GROUP_PARAMS,
    async run(params, { configDir, io }) {
      const name = String(params['groupid']);
      await lockUserConfig(configDir, io, 'create group failed', async () => {
        const config = await readUserConfig(configDir, io);
        if (config.groups.has(name)) throw new Die(`group '${name}' already exists\n`);
        const comment = stringParam(params, 'comment');
        config.groups.set(name, truthy(comment) ? { users: new Set(), comment } : { users: new Set() });
        await saveUserConfig(configDir, config);
      });
    },
  },
  {
    words: ['group', 'modify'],
    argParams: ['groupid'],
    params: GROUP_PARAMS,
    async run(params, { configDir, io }) {
      const name = String(params['groupid']);
      await lockUserConfig(configDir, io, 'update group failed', async () => {
        const config = await readUserConfig(configDir, io);
        const group = config.groups.get(name);
        if (!group) throw new Die(`group '${name}' does not exist\n`);
        group.comment = stringParam(params, 'comment') ?? group.comment;
        await saveUserConfig(configDir, config);
      });
    },
  },
  {
    words: ['group', 'delete'],
    argParams: ['groupid'],
    params: { groupid: GROUP_PARAMS['groupid'] as Param },
    async run(params, { configDir, io }) {
      const name = String(params['groupid']);
      await lockUserConfig(configDir, io, 'delete group failed', async () => {
        const config = await readUserConfig(configDir, io);
        if (!config.groups.delete(name)) throw new Die(`group '${name}' does not exist\n`);
        for (const [, node] of aclNodes('/', config.acl)) node.groups.delete(name);
        await saveUserConfig(configDir, config);
      });
    },
  },
  {
    words: ['group', 'list'],
    argParams: [],
    params: {},
    lists: true,
    async run(_params, { configDir, io }) {
      const config = await readUserConfig(configDir, io);
      const rows = sorted(config.groups.keys()).map((groupid) => {
        const group = config.groups.get(groupid) as Group;
        const row: Listing['rows'][number] = { groupid, users: sorted(group.users).join(',') };
        if (group.comment !== undefined) row['comment'] = group.comment;
        return row;
      });
      return {
        rows,
        columns: {
          groupid: { type: 'string' },
          comment: { type: 'string', optional: true },
          users: { type: 'string', optional: true },
        },
      };
    },
  },
  {
    words: ['role', 'list'],
    argParams: [],
    params: {},
    lists: true,
    async run(_params, { configDir, io }) {
      const config = await readUserConfig(configDir, io);
      const rows = sorted(config.roles.keys()).map((roleid) => ({
        roleid,
        privs: sorted(config.roles.get(roleid) ?? []).join(','),
        special: BUILT_IN_ROLES.has(roleid) ? 1 : 0,
      }));
      return {
        rows,
        columns: {
          roleid: { type: 'string' },
          privs: { type: 'string', optional: true },
          special: { type: 'boolean', optional: true },
        },
      };
    },
  },
  ...(['modify', 'delete'] as const).map((verb): Command => ({
    words: ['acl', verb],
    argParams: ['path'],
    params: ACL_PARAMS,
    fixed: { delete: verb === 'delete' ? 1 : 0 },
    async run(params, { configDir, io }) {
      const [users, groups, tokens] = [
        stringParam(params, 'users'),
        stringParam(params, 'groups'),
        stringParam(params, 'tokens'),
      ];
      if (!truthy(users) && !truthy(groups) && !truthy(tokens)) {
        const required = "either 'users', 'groups' or 'tokens' is required.";
        throw new ParamError('Parameter verification failed.\n', {
          users: required,
          groups: required,
          tokens: required,
        });
      }
      const pathText = stringParam(params, 'path');
      const path = normalizePath(pathText);
      const remove = Boolean(params['delete']);
      if (!path || (!remove && !ACL_PATH.test(path))) {
        throw new ParamError('Parameter verification failed.\n', { path: `invalid ACL path '${pathText}'` });
      }
      const propagate: Propagate = flagParam(params, 'propagate') ?? 1;
      await lockUserConfig(configDir, io, 'ACL update failed', async () => {
        const config = await readUserConfig(configDir, io);
        const node = aclNode(config.acl, path);
        const apply = (grants: Grants, member: string, role: string): void => {
          if (remove) grants.get(member)?.delete(role);
          else grant(grants, member, role, propagate);
        };
        for (const role of splitList(stringParam(params, 'roles'))) {
          if (!config.roles.has(role)) throw new Die(`role '${role}' does not exist\n`);
          for (const group of splitList(groups)) {
            if (!config.groups.has(group)) throw new Die(`group '${group}' does not exist\n`);
            apply(node.groups, group, role);
          }
          for (const userid of splitList(users)) {
            if (!config.users.has(userid)) throw new Die(`user '${userid}' does not exist\n`);
            apply(node.users, userid, role);
          }
          for (const tokenid of splitList(tokens)) {
            const [, userid = '', , , name = ''] = TOKENID.exec(tokenid) ?? [];
            if (!config.users.has(userid)) throw new Die(`no such user ('${userid}')\n`);
            if (!tokenOf(config, tokenid)) throw new Die(`no such token '${name}' for user '${userid}'\n`);
            apply(node.tokens, tokenid, role);
          }
        }
        await saveUserConfig(configDir, config);
      });
    },
  })),
  {
    words: ['acl', 'list'],
    argParams: [],
    params: {},
    lists: true,
    async run(_params, { configDir, io }) {
      const config = await readUserConfig(configDir, io);
      const rows: Listing['rows'] = [];
      for (const [path, node] of aclNodes('/', config.acl)) {
        for (const type of ACL_MEMBER_TYPES) {
          for (const ugid of sorted(node[type].keys())) {
            const roles = node[type].get(ugid) ?? new Map<string, Propagate>();
            for (const roleid of sorted(roles.keys())) {
              rows.push({ path, type: type.slice(0, -1), ugid, roleid, propagate: roles.get(roleid) ?? 1 });
            }
          }
        }
      }
      return {
        rows,
        columns: {
          propagate: { type: 'boolean', optional: true },
          path: { type: 'string' },
          type: { type: 'string' },
          ugid: { type: 'string' },
          roleid: { type: 'string' },
        },
      };
    },
  },
];

/** pveum.pm's old command names. */
const ALIASES: Record<string, string[]> = {
  useradd: ['user', 'add'],
  usermod: ['user', 'modify'],
  userdel: ['user', 'delete'],
  groupadd: ['group', 'add'],
  groupmod: ['group', 'modify'],
  groupdel: ['group', 'delete'],
  aclmod: ['acl', 'modify'],
  acldel: ['acl', 'delete'],
};

const PVEUM: Tool<Context> = { name: 'pveum', commands: COMMANDS, aliases: ALIASES };

/** Runs one pveum command line against the configuration in `configDir`; returns its exit code. */
export async function run(argv: string[], configDir: string, io: Io): Promise<number> {
  return runCommandLine(PVEUM, argv, io, { configDir, io });
}

if (isMainModule(import.meta.url)) {
  process.exitCode = await run(process.argv.slice(2), PVE_CONFIG_DIR, processIo());
}
