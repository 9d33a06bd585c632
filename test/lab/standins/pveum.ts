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
// - pve-common: src/PVE/CLIHandler.pm (command resolution, "ERROR: ..." usage, exit(-1)),
//   src/PVE/RESTHandler.pm (cli_handler, usage line), src/PVE/JSONSchema.pm (get_options,
//   validation messages), src/PVE/Exception.pm (how a 400 error prints), src/PVE/CLIFormatter.pm
//   (json, json-pretty and text output), src/PVE/Tools.pm (encode_text, split_list, EMAIL_RE).
// Every error leaves through Perl's die (message on stderr, exit 255) as in the real tool.
import { realpathSync } from 'node:fs';
import { mkdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Where pmxcfs mounts the cluster configuration. */
export const PVE_CONFIG_DIR = '/etc/pve';
/** Perl's die without an errno, and CLIHandler's exit(-1). */
const ERROR_EXIT = 255;

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

/** Perl's idea of a true string: defined, not empty, not "0". */
function truthy(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '0';
}

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

/** Tools.pm split_list: commas, semicolons and blanks separate. */
function splitList(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .replace(/[,;]/g, ' ')
    .trimStart()
    .split(/\s+/)
    .filter((item) => item !== '');
}

/** AccessControl.pm normalize_path: undefined when the path cannot be one. */
function normalizePath(text: string | undefined): string | undefined {
  if (!truthy(text)) return undefined;
  let path = text.replace(/\/+/g, '/').replace(/\/$/, '');
  if (!truthy(path)) path = '/';
  if (!path.startsWith('/')) path = `/${path}`;
  return new RegExp(`^[\\p{L}\\p{N}.\\-_/]+$`, 'u').test(path) ? path : undefined;
}

/** Tools.pm encode_text: UTF-8, then every control, high-bit byte and ':' as %XX. */
function encodeText(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      byte >= 0x20 && byte <= 0x7e && byte !== 0x3a
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function decodeText(data: string): string {
  const pieces = data
    .split(/(%[0-9A-Fa-f]{2})/)
    .map((piece) =>
      /^%[0-9A-Fa-f]{2}$/.test(piece) ? Buffer.from([parseInt(piece.slice(1), 16)]) : Buffer.from(piece, 'utf8'),
    );
  return Buffer.concat(pieces).toString('utf8');
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

function sorted<T>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
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
      data += `token:${userid}!${name}:${Math.trunc(token.expire)}:${token.privsep ? 1 : 0}:${encoded(token.comment)}:\n`;
    }
  }
  data += '\n';
  for (const name of sorted(config.groups.keys())) {
    const group = config.groups.get(name) as Group;
    data += `group:${name}:${sorted(group.users).join(',')}:${truthy(group.comment) ? encodeText(group.comment) : ''}:\n`;
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

// ---------------------------------------------------------------------------------------------
// The cluster-wide lock (Cluster.pm cfs_lock): pmxcfs makes mkdir of a directory under
// priv/lock atomic across nodes, and releases a lock that is older than 120 s.

const LOCK_ID = 'file-user_cfg';
const LOCK_TIMEOUT_S = 10;
const LOCK_EXPIRY_MS = 120_000;

/** A plain Perl die: its message is printed as it is. */
class Die extends Error {}

async function acquireLock(configDir: string, io: Io): Promise<string> {
  const lockDir = join(configDir, 'priv', 'lock');
  const lockPath = join(lockDir, LOCK_ID);
  await mkdir(lockDir).catch(() => {});
  if (
    !(await stat(lockDir).then(
      (info) => info.isDirectory(),
      () => false,
    ))
  ) {
    throw new Die('pve cluster filesystem not online.\n');
  }
  let sleptMs = 0;
  for (;;) {
    const created = await mkdir(lockPath).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return false;
        throw error;
      },
    );
    if (created) return lockPath;
    const remainingS = Math.max(LOCK_TIMEOUT_S - Math.floor(sleptMs / 1000), 1);
    const sleepMs = Math.min(remainingS, 10) * 100;
    const nextSleptS = Math.floor((sleptMs + sleepMs) / 1000);
    if (nextSleptS >= LOCK_TIMEOUT_S) throw new Die('got lock request timeout\n');
    if (nextSleptS > Math.floor(sleptMs / 1000)) io.err(`trying to acquire cfs lock '${LOCK_ID}' ...\n`);
    // cfs_lock's utime(0, 0) asks pmxcfs to drop an expired lock: done here directly.
    const age = await stat(lockPath).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > LOCK_EXPIRY_MS) await rmdir(lockPath).catch(() => {});
    await sleep(sleepMs);
    sleptMs += sleepMs;
  }
}

/** lock_user_config: `work` under the lock; any failure dies as "<errmsg>: <error>". */
async function lockUserConfig(configDir: string, io: Io, errmsg: string, work: () => Promise<void>): Promise<void> {
  let lockPath: string;
  try {
    lockPath = await acquireLock(configDir, io);
  } catch (error) {
    throw new Die(`${errmsg}: cfs-lock '${LOCK_ID}' error: ${messageOf(error)}`);
  }
  try {
    await work();
  } catch (error) {
    throw new Die(`${errmsg}: ${messageOf(error)}`);
  } finally {
    await rmdir(lockPath).catch(() => {});
  }
}

function messageOf(error: unknown): string {
  if (error instanceof ParamError) return error.stringify();
  if (error instanceof Error) return error.message.endsWith('\n') ? error.message : `${error.message}\n`;
  return `${String(error)}\n`;
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
  const path = join(configDir, 'user.cfg');
  const temporary = `${path}.tmp.${process.pid}`;
  await writeFile(temporary, writeUserConfig(config));
  await rename(temporary, path);
}

// ---------------------------------------------------------------------------------------------
// Output (CLIFormatter.pm print_api_result): json (canonical, one line), json-pretty (JSON::XS
// pretty: three-space indent, " : "), text (a table; empty lists print nothing).

type Json = string | number | null | Json[] | { [key: string]: Json };

interface Column {
  type: 'string' | 'integer' | 'boolean' | 'array';
  optional?: boolean;
  maxLength?: number;
}

interface Listing {
  rows: { [key: string]: Json }[];
  columns: Record<string, Column>;
}

interface OutputOptions {
  'output-format'?: string;
  noheader?: number;
  noborder?: number;
  quiet?: number;
}

function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(sorted(Object.keys(value)).map((key) => [key, canonical(value[key] as Json)]));
  }
  return value;
}

function prettyJson(value: Json, indent = ''): string {
  const inner = `${indent}   `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + prettyJson(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = sorted(Object.keys(value));
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((key) => `${inner}${JSON.stringify(key)} : ${prettyJson(value[key] as Json, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function cellText(value: Json | undefined, column: Column | undefined): string {
  if (value === undefined || value === null) return '';
  if (column?.type === 'boolean') return value ? '1' : '0';
  if (typeof value === 'object') return JSON.stringify(canonical(value));
  return String(value);
}

/** print_text_table: required columns, then optional ones, each by name; rows by the first column. */
function textTable({ rows, columns }: Listing, options: OutputOptions, io: Io): string {
  const names = [
    ...sorted(Object.keys(columns).filter((name) => !columns[name]?.optional)),
    ...sorted(Object.keys(columns).filter((name) => columns[name]?.optional)),
  ];
  const [first = ''] = names;
  const numeric = (name: string): boolean => columns[name]?.type === 'integer';
  const ordered = [...rows].sort((a, b) => {
    if (numeric(first)) return Number(a[first] ?? 0) - Number(b[first] ?? 0);
    const [x, y] = [cellText(a[first], columns[first]), cellText(b[first], columns[first])];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const cells = ordered.map((row) => names.map((name) => cellText(row[name], columns[name]).split('\n')));
  const widths = names.map((name, index) => {
    const longest = Math.max(name.length, ...cells.flatMap((row) => (row[index] ?? []).map((line) => line.length)));
    return Math.min(columns[name]?.maxLength ?? longest, longest);
  });
  const border = !options.noborder;
  const pad = (text: string, index: number): string => {
    const width = widths[index] ?? 0;
    const cut = text.slice(0, width);
    return numeric(names[index] ?? '') ? cut.padStart(width) : cut.padEnd(width);
  };
  const line = (texts: string[]): string => {
    if (!border)
      return texts
        .map((text, index) => (index === texts.length - 1 ? text.slice(0, widths[index]) : pad(text, index)))
        .join(' ');
    const bar = io.utf8 ? '│' : '|';
    return `${bar} ${texts.map(pad).join(` ${bar} `)} ${bar}`;
  };
  // UTF-8 frames as pveum prints them on a UTF-8 locale; otherwise ASCII ones.
  const rule = ([left, fill, joint, right]: string[]): string =>
    `${left}${fill}${widths.map((width) => (fill ?? '').repeat(width)).join(`${fill}${joint}${fill}`)}${fill}${right}`;
  const [top, header, bottom] = io.utf8
    ? [rule(['┌', '─', '┬', '┐']), rule(['╞', '═', '╪', '╡']), rule(['└', '─', '┴', '┘'])]
    : [rule(['+', '-', '+', '+']), rule(['+', '-', '+', '+']), rule(['+', '-', '+', '+'])];
  const out: string[] = [];
  if (border) out.push(top);
  if (!options.noheader) {
    out.push(line(names));
    if (border) out.push(header);
  }
  for (const row of cells) {
    const height = Math.max(1, ...row.map((lines) => lines.length));
    for (let index = 0; index < height; index++) out.push(line(row.map((lines) => lines[index] ?? '')));
  }
  if (border) out.push(bottom);
  const columnsLimit = io.terminalColumns;
  return out.map((text) => `${columnsLimit ? text.slice(0, columnsLimit) : text}\n`).join('');
}

function render(listing: Listing, options: OutputOptions, io: Io): string {
  const format = options['output-format'] ?? 'text';
  if (format === 'json') return `${JSON.stringify(canonical(listing.rows))}\n`;
  if (format === 'json-pretty') return `${prettyJson(listing.rows)}\n`;
  if (format === 'text') return listing.rows.length === 0 ? '' : textTable(listing, options, io);
  if (format === 'yaml') throw new Die('pveum (chaton lab stand-in): --output-format yaml is not implemented\n');
  throw new Die('internal error: unknown output format\n'); // output-format is never validated
}

// ---------------------------------------------------------------------------------------------
// Command-line parsing: JSONSchema.pm get_options (Getopt::Long with prefixes - and --, unique
// abbreviations, any case, options and arguments in any order), then validate().

interface Format {
  verify: (value: string) => string;
  /** "-list": each item of a comma/space list is checked. */
  list?: boolean;
  /** "-opt": an empty (false) value is not checked. */
  opt?: boolean;
}

interface Param {
  type: 'string' | 'boolean' | 'integer';
  optional?: boolean;
  format?: Format;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  pattern?: RegExp;
  /** This parameter needs that one. */
  requires?: string;
}

type Params = Record<string, string | number | undefined>;

/** A PVE::Exception with code 400: printed as "400 <message>", its errors, and the command's usage. */
class ParamError extends Error {
  constructor(
    message: string,
    readonly errors: Record<string, string> = {},
  ) {
    super(message);
  }

  stringify(): string {
    return `400 ${this.message}${sorted(Object.keys(this.errors))
      .map((key) => `${key}: ${this.errors[key]}\n`)
      .join('')}`;
  }
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
/** RESTHandler.pm $standard_output_options, taken by the list commands. */
const OUTPUT_PARAMS: Record<string, Param> = {
  'output-format': { type: 'string', optional: true },
  noheader: { type: 'boolean', optional: true },
  noborder: { type: 'boolean', optional: true },
  quiet: { type: 'boolean', optional: true },
  'human-readable': { type: 'boolean', optional: true },
};

/** JSONSchema.pm check_prop for one present or missing value; the error message, if any. */
function checkParam(value: Params[string], param: Param): string | undefined {
  if (value === undefined) return param.optional ? undefined : 'property is missing and it is not optional';
  const text = String(value);
  if (param.type === 'integer' && !/^[+-]?\d+$/.test(text)) return `type check ('integer') failed - got '${text}'`;
  if (param.format && !(param.format.opt && !truthy(text))) {
    try {
      for (const item of param.format.list ? splitList(text) : [text]) param.format.verify(item);
    } catch (error) {
      return `invalid format - ${(error as Error).message}`;
    }
  }
  if (param.pattern && !param.pattern.test(text)) return 'value does not match the regex pattern';
  if (param.maxLength !== undefined && text.length > param.maxLength)
    return `value may only be ${param.maxLength} characters long`;
  if (param.minLength !== undefined && text.length < param.minLength)
    return `value must be at least ${param.minLength} characters long`;
  if (param.minimum !== undefined && /^[+-]?\d+$/.test(text) && Number(text) < param.minimum) {
    return `value must have a minimum value of ${param.minimum}`;
  }
  return undefined;
}

interface Command {
  /** Words after `pveum`. */
  words: string[];
  /** Positional parameters, in order. */
  argParams: string[];
  params: Record<string, Param>;
  /** Set by the command itself, not the caller (acl modify/delete). */
  fixed?: Params;
  /** Takes the standard output options and prints a list. */
  lists?: boolean;
  run(params: Params, context: Context): Promise<Listing | void>;
}

interface Context {
  configDir: string;
  io: Io;
}

/** Getopt::Long's lookup: exact name, any case, else a unique abbreviation. */
function findOption(typed: string, options: string[], io: Io): string | undefined {
  const wanted = typed.toLowerCase();
  if (options.includes(wanted)) return wanted;
  const hits = options.filter((option) => option.startsWith(wanted));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) io.err(`Option ${typed} is ambiguous (${hits.join(', ')})\n`);
  else io.err(`Unknown option: ${typed}\n`);
  return undefined;
}

/** get_options: the command's parameters from its arguments, booleans as 0/1, lists joined. */
function getOptions(command: Command, args: string[], io: Io): Params {
  const params = { ...command.params, ...(command.lists ? OUTPUT_PARAMS : {}) };
  const options = Object.keys(params).filter((name) => command.fixed?.[name] === undefined);
  const values: Record<string, string | string[]> = {};
  const positionals: string[] = [];
  let failed = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      positionals.push(...args.slice(index + 1));
      break;
    }
    const match = /^--?(.+)$/s.exec(arg);
    if (!match) {
      positionals.push(arg);
      continue;
    }
    const [, spec = ''] = match;
    const equals = spec.indexOf('=');
    const typed = equals < 0 ? spec : spec.slice(0, equals);
    const name = findOption(typed, options, io);
    const inline = equals < 0 ? undefined : spec.slice(equals + 1);
    if (name === undefined) {
      failed = true;
      continue;
    }
    const param = params[name] as Param;
    let value: string;
    if (param.type === 'boolean') {
      // "name:s": an optional value, not taken when the next word looks like an option.
      const next = args[index + 1];
      if (inline !== undefined) value = inline;
      else if (next !== undefined && next !== '--' && !/^--?./s.test(next)) value = args[++index] as string;
      else value = '';
    } else {
      // "name=s": a mandatory value, whatever it looks like, but not an empty "--name=".
      const taken = inline ?? args[++index];
      if (taken === undefined || inline === '') {
        io.err(`Option ${typed} requires an argument\n`);
        failed = true;
        continue;
      }
      value = taken;
    }
    if (param.format?.list) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  if (failed) throw new ParamError('unable to parse option\n');

  const positional: Params = {};
  for (const [index, name] of command.argParams.entries()) {
    const value = positionals.shift();
    if (value === undefined) {
      if (command.argParams.slice(index).some((rest) => !params[rest]?.optional))
        throw new ParamError('not enough arguments\n');
      break;
    }
    positional[name] = value;
  }
  if (positionals.length > 0) throw new ParamError('too many arguments\n');
  const result: Params = {};
  for (const [name, value] of Object.entries(values)) {
    if (params[name]?.type === 'boolean') {
      const given = value as string;
      if (given === '' || /^(1|on|yes|true)$/i.test(given)) result[name] = 1;
      else if (/^(0|off|no|false)$/i.test(given)) result[name] = 0;
      else throw new ParamError('unable to parse boolean option\n');
    } else {
      result[name] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  return { ...result, ...positional, ...command.fixed };
}

/** JSONSchema.pm validate() of the method's own parameters (not the output options). */
function validate(command: Command, params: Params): void {
  const errors: Record<string, string> = {};
  for (const [name, param] of Object.entries(command.params)) {
    const error = checkParam(params[name], param);
    if (error !== undefined) errors[name] = error;
    if (param.requires && params[name] !== undefined && params[param.requires] === undefined) {
      errors[param.requires] = `missing property - '${name}' requires this property`;
    }
  }
  if (Object.keys(errors).length > 0) throw new ParamError('Parameter verification failed.\n', errors);
}

// ---------------------------------------------------------------------------------------------
// Commands (PVE/API2/*.pm, as pveum.pm maps them). The CLI runs them as root@pam, without
// permission checks.

function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined ? undefined : String(value);
}

function flagParam(params: Params, name: string): Propagate | undefined {
  const value = params[name];
  return value === undefined ? undefined : value ? 1 : 0;
}

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

// ---------------------------------------------------------------------------------------------
// Command resolution and usage (CLIHandler.pm).

/** RESTHandler.pm getopt_usage, short form. */
function usageLine(command: Command): string {
  const args = command.argParams.map((name) => {
    const param = command.params[name];
    if (param?.format?.list) return `{<${name}>}`;
    return param?.optional ? `[<${name}>]` : `<${name}>`;
  });
  const others = sorted(Object.keys(command.params)).filter(
    (name) => !command.argParams.includes(name) && command.fixed?.[name] === undefined,
  );
  for (const name of others) {
    const param = command.params[name] as Param;
    if (!param.optional) args.push(`--${name} <${param.type}>`);
  }
  return `pveum ${command.words.join(' ')} ${args.join(' ')}${others.length > 0 ? ' [OPTIONS]' : ''}${command.lists ? ' [FORMAT_OPTIONS]' : ''}\n`;
}

/** The usage lines of every command, or of those under `prefix`; each group followed by `separator`. */
function usageListing(prefix: string[], separator: string): string {
  const groups = sorted(
    new Set(
      COMMANDS.filter((command) => prefix.every((word, index) => command.words[index] === word)).map(
        (command) => command.words[prefix.length] ?? '',
      ),
    ),
  );
  return groups
    .map(
      (group) =>
        COMMANDS.filter((command) => [...prefix, group].every((word, index) => command.words[index] === word))
          .sort((a, b) => (a.words.join(' ') < b.words.join(' ') ? -1 : 1))
          .map((command) => `       ${usageLine(command)}`)
          .join('') + separator,
    )
    .join('');
}

/** print_usage_short on stderr, before exit(-1). */
function abort(reason: string, prefix?: string[]): string {
  return `ERROR: ${reason}\nUSAGE: pveum <COMMAND> [ARGS] [OPTIONS]\n\n${prefix ? usageListing(prefix, '') : usageListing([], '\n')}`;
}

type Resolution = { command: Command; args: string[] } | { abort: string };

/** resolve_cmd: words, each exact or a unique prefix, down to a command; aliases replaced once. */
function resolve(argv: string[]): Resolution {
  const words: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] as string;
    const alias = index === 0 ? ALIASES[word] : undefined;
    if (alias) return resolve([...alias, ...argv.slice(1)]);
    const choices = new Set(
      COMMANDS.filter((command) => words.every((known, at) => command.words[at] === known)).map(
        (command) => command.words[index] ?? '',
      ),
    );
    const expanded = choices.has(word) ? [word] : [...choices].filter((choice) => choice.startsWith(word));
    const chosen = expanded.length === 1 ? (expanded[0] as string) : word;
    words.push(chosen);
    if (!choices.has(chosen)) return { abort: abort(`unknown command 'pveum ${words.join(' ')}'`) };
    const command = COMMANDS.find((candidate) => candidate.words.join(' ') === words.join(' '));
    if (command) return { command, args: argv.slice(index + 1) };
  }
  if (words.length === 0) return { abort: abort('no command specified') };
  return { abort: abort(`incomplete command 'pveum ${words.join(' ')}'`, words) };
}

// ---------------------------------------------------------------------------------------------

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Output lines are cut to this width (stdout is a terminal). */
  terminalColumns?: number;
  /** The locale's character set is UTF-8: tables get line-drawing frames. */
  utf8: boolean;
}

/** Runs one pveum command line against the configuration in `configDir`; returns its exit code. */
export async function run(argv: string[], configDir: string, io: Io): Promise<number> {
  const resolution = resolve(argv);
  if ('abort' in resolution) {
    io.err(resolution.abort);
    return ERROR_EXIT;
  }
  const { command, args } = resolution;
  try {
    const params = getOptions(command, args, io);
    validate(command, params);
    const listing = await command.run(params, { configDir, io });
    if (listing && !params['quiet']) io.out(render(listing, params as OutputOptions, io));
    return 0;
  } catch (error) {
    if (error instanceof ParamError) io.err(error.stringify() + usageLine(command));
    else if (error instanceof Die) io.err(error.message);
    else throw error;
    return ERROR_EXIT;
  }
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMainModule()) {
  const locale = process.env['LC_ALL'] || process.env['LC_CTYPE'] || process.env['LANG'] || '';
  process.exitCode = await run(process.argv.slice(2), PVE_CONFIG_DIR, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    terminalColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
    utf8: /utf-?8/i.test(locale),
  });
}
