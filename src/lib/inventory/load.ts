// Reads and validates the inventory file: its core sections (ssh, defaults, bastion, hosts,
// groups), the sections the domains register, and the checks across them. Every problem is
// reported at once (see reader.ts).
import { homedir } from 'node:os';
import path from 'node:path';
import { isMap } from 'yaml';
import { UsageError } from '../run/errors.js';
import { readRegularFile, UnreadableFileError } from '../run/files.js';
import { quoted } from '../run/printable.js';
import {
  addressKind,
  becomeKind,
  booleanKind,
  envVarNameKind,
  filePaths,
  nameKind,
  portKind,
  secondsKind,
  sysadminAccessKind,
  userKind,
  wholeNumberKind,
} from './kinds.js';
import {
  type Field,
  InventoryError,
  isEmpty,
  lineOf,
  list,
  listItems,
  offsetOf,
  openReader,
  positionOf,
  type ReadField,
  type Reader,
  readEntries,
  readKnownKeys,
  readScalar,
  readSection,
  report,
  requireKey,
  scalar,
  type SectionValues,
  shownKey,
  where,
} from './reader.js';
import { EXAMPLE_FILE } from './example.js';
import { type InventorySection, registeredSections } from './sections.js';
import { suggest } from './suggest.js';
import type { Endpoint, Host, Inventory, SshSettings } from './types.js';

/** The sections a domain registers default to those of src/lib/domains.ts, registered by src/cli.ts. */
export async function loadInventory(
  file: string,
  sections: readonly InventorySection<unknown>[] = registeredSections(),
): Promise<Inventory> {
  return parseInventory(await readInventoryText(file), file, sections);
}

/**
 * An inventory of hundreds of hosts takes well under 1 MiB. A much larger file is not one, and
 * would take a minute and gigabytes to parse (41 MB: 55 s, 3.4 GB).
 */
const INVENTORY_MAX_BYTES = 5 * 1024 * 1024;

export async function readInventoryText(file: string): Promise<string> {
  try {
    return (await readRegularFile(file, INVENTORY_MAX_BYTES)).toString('utf8');
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    const hint = error.tooLarge
      ? 'is this really the inventory? check its path; chaton reads it whole, so it refuses a larger file'
      : 'check the path of the inventory, and that you may read it: a regular file';
    throw new UsageError(`the inventory ${error.message}`, hint);
  }
}

/** Validates the text of an inventory file; `file` locates problems and relative paths. */
export function parseInventory(
  text: string,
  file: string,
  sections: readonly InventorySection<unknown>[] = registeredSections(),
): Inventory {
  const reader = openReader(text, file);
  if (reader.syntaxBroken) throw new InventoryError(reader.problems);
  const inventory = readInventory(reader, sections);
  if (!inventory || reader.problems.length > 0) throw new InventoryError(reader.problems);
  return inventory;
}

// ---------------------------------------------------------------------------------------------
// Sections

const sshReaders = {
  identity_files: filePaths('~/.ssh/id_ed25519'),
  identity_passphrase_env: scalar(envVarNameKind),
  agent: scalar(booleanKind),
  known_hosts: filePaths('~/.ssh/known_hosts'),
  connect_timeout: scalar(secondsKind('a number of seconds greater than 0', (value) => value > 0)),
  command_timeout: scalar(secondsKind('a number of seconds, 0 or more (0 = no limit)', (value) => value >= 0)),
  keepalive_interval: scalar(secondsKind('a number of seconds, 0 or more (0 = off)', (value) => value >= 0)),
  keepalive_count_max: scalar(
    wholeNumberKind(
      'a whole number, 1 or more',
      'unanswered keepalives before giving up, usually 3',
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  ),
  max_sessions: scalar(
    wholeNumberKind('a whole number from 1 to 64', "at most sshd's MaxSessions, which is 10 unless changed", 1, 64),
  ),
};
type SshValues = SectionValues<typeof sshReaders>;

const readSsh: ReadField<SshValues> = (reader, field) => readSection(reader, field, sshReaders)?.values;

const defaultsReaders = { user: scalar(userKind), port: scalar(portKind), become: scalar(becomeKind) };

const hostReaders = {
  address: scalar(addressKind),
  port: scalar(portKind),
  user: scalar(userKind),
  roles: list(nameKind, 'a list of role names', 'for example roles: [pve, ceph]'),
  become: scalar(becomeKind),
  direct: scalar(booleanKind),
  ssh: readSsh,
};

const bastionReaders = {
  name: scalar(nameKind),
  address: scalar(addressKind),
  port: scalar(portKind),
  user: scalar(userKind),
  become: scalar(becomeKind),
  sysadmin_access: scalar(sysadminAccessKind),
  ssh: readSsh,
};

function defaultSsh(): SshSettings {
  const sshDir = path.join(homedir(), '.ssh');
  return {
    // Not explicit: the connection layer offers those that exist (the parse does no file I/O).
    identityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((key) => path.join(sshDir, key)),
    identityFilesExplicit: false,
    agent: true,
    knownHosts: [path.join(sshDir, 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 600_000,
    keepaliveIntervalMs: 15_000,
    keepaliveCountMax: 3,
    maxSessions: 8,
  };
}

/** The settings of `base`, overridden key by key by those written in an `ssh:` section. */
function applySsh(base: SshSettings, values: SshValues): SshSettings {
  const passphraseEnv = values.identity_passphrase_env ?? base.identityPassphraseEnv;
  return {
    identityFiles: values.identity_files ?? base.identityFiles,
    identityFilesExplicit: values.identity_files !== undefined || base.identityFilesExplicit,
    ...(passphraseEnv === undefined ? {} : { identityPassphraseEnv: passphraseEnv }),
    agent: values.agent ?? base.agent,
    knownHosts: values.known_hosts ?? base.knownHosts,
    connectTimeoutMs: values.connect_timeout ?? base.connectTimeoutMs,
    commandTimeoutMs: values.command_timeout ?? base.commandTimeoutMs,
    keepaliveIntervalMs: values.keepalive_interval ?? base.keepaliveIntervalMs,
    keepaliveCountMax: values.keepalive_count_max ?? base.keepaliveCountMax,
    maxSessions: values.max_sessions ?? base.maxSessions,
  };
}

/** What a host or bastion gets when its own section does not say. */
interface MachineDefaults {
  user: string;
  port: number;
  become: 'sudo' | 'none';
  roles: string[];
  ssh: SshSettings;
}

/** The keys hosts and bastions have in common. */
interface MachineValues {
  address?: string;
  port?: number;
  user?: string;
  roles?: string[];
  become?: 'sudo' | 'none';
  direct?: boolean;
  sysadmin_access?: 'shell' | 'forwarding';
  ssh?: SshValues;
}

/** A host or bastion as read, before the checks that involve several of them. */
interface Machine {
  kind: 'host' | 'bastion';
  name: string;
  /** Where the name is written (or the machine's section when the name is a default). */
  nameField: Field;
  addressField: Field | undefined;
  direct: boolean;
  /** Undefined when the section has a problem (already reported). */
  host?: Host;
}

type SectionRead = { values: MachineValues; fields: Map<string, Field> };

/** `read` is undefined when the section is not a mapping (already reported). */
function toMachine(
  reader: Reader,
  identity: { kind: Machine['kind']; name: string; nameField: Field; section: Field },
  read: SectionRead | undefined,
  defaults: MachineDefaults,
): Machine {
  const { kind, name, nameField, section } = identity;
  const values = read?.values ?? {};
  const addressField = read?.fields.get('address');
  if (read) requireKey(reader, section, read.fields, 'address', 'add `address:` with its IP address or DNS name');
  const machine: Machine = { kind, name, nameField, addressField, direct: values.direct ?? false };
  // A wrong value (already reported) would fall back to its default and cause confusing problems.
  const hasWrongValue = [...(read?.fields.keys() ?? [])].some((key) => !(key in values));
  if (values.address === undefined || hasWrongValue) return machine;
  const host: Host = {
    name,
    address: values.address,
    port: values.port ?? defaults.port,
    user: values.user ?? defaults.user,
    ssh: applySsh(defaults.ssh, values.ssh ?? {}),
    roles: [...new Set(values.roles ?? defaults.roles)],
    groups: [],
    become: (values.become ?? defaults.become) === 'sudo' ? 'sudo' : null,
    via: [],
    sysadminAccess: values.sysadmin_access ?? 'shell',
    source: positionOf(reader, section.key ?? where(section)),
  };
  return { ...machine, host };
}

/** The name meaning every host in target lists, so no host or group may take it. */
const RESERVED_NAME = 'all';

/** Names of hosts, groups and bastions: valid, and not the reserved one. */
function checkName(reader: Reader, field: Field): void {
  const checked = readScalar(reader, field, nameKind);
  if (checked !== undefined) checkNotReserved(reader, field, checked);
}

function checkNotReserved(reader: Reader, field: Field, checked: string): void {
  if (checked === RESERVED_NAME) {
    const message = `"${RESERVED_NAME}" is reserved: in targets it means every host`;
    report(reader, where(field), field.path, message, 'choose another name');
  }
}

/** `bastion:` is one jump host, or a list of them reached one after the other. */
function readBastions(reader: Reader, field: Field, defaults: MachineDefaults): Machine[] {
  if (isEmpty(field.value)) return [];
  let sections: { field: Field; defaultName: string }[];
  if (isMap(field.value)) {
    sections = [{ field, defaultName: 'bastion' }];
  } else {
    const items = listItems(
      reader,
      field,
      'a mapping (one jump host) or a list of mappings (a chain of jumps, first reached first)',
      `see the bastion: section of ${EXAMPLE_FILE}`,
    );
    if (items?.length === 0) {
      report(reader, where(field), field.path, 'lists no jump host', 'describe at least one, or remove `bastion:`');
    }
    sections = (items ?? []).map((item, index) => ({ field: item, defaultName: `bastion${index + 1}` }));
  }
  return sections.map(({ field: section, defaultName }) => {
    const read = readSection(reader, section, bastionReaders);
    const nameField = read?.fields.get('name');
    const name = read?.values.name ?? defaultName;
    if (nameField) checkNotReserved(reader, nameField, name);
    const identity = { kind: 'bastion' as const, name, nameField: nameField ?? section, section };
    return toMachine(reader, identity, read, defaults);
  });
}

function readHosts(reader: Reader, field: Field | undefined, defaults: MachineDefaults): Machine[] {
  const hint = `list your machines under \`hosts:\`, as in ${EXAMPLE_FILE}`;
  if (!field) {
    report(reader, reader.doc.contents, '', 'there is no `hosts:` section', hint);
    return [];
  }
  const entries = readEntries(reader, field, 'a mapping of host names to their settings', hint);
  if (entries?.length === 0) report(reader, field.key ?? where(field), field.path, 'lists no host', hint);
  return (entries ?? []).map((entry) => {
    const nameField = { value: entry.key, path: entry.path };
    checkName(reader, nameField);
    const identity = { kind: 'host' as const, name: entry.name, nameField, section: entry };
    return toMachine(reader, identity, readSection(reader, entry, hostReaders), defaults);
  });
}

interface GroupDraft {
  name: string;
  nameField: Field;
  members: { name: string; field: Field }[];
}

function readGroups(reader: Reader, field: Field): GroupDraft[] {
  const expected = 'a mapping of group names to lists of members';
  const entries = readEntries(reader, field, expected, 'for example web: [vm-web1, vm-web2]');
  return (entries ?? []).map((entry) => {
    const nameField = { value: entry.key, path: entry.path };
    checkName(reader, nameField);
    const example = `for example ${shownKey(entry.name)}: [pve1, pve2]; \`[]\` for an empty group`;
    const items = listItems(reader, entry, 'a list of host or group names', example);
    const members = (items ?? []).flatMap((item) => {
      const member = readScalar(reader, item, nameKind);
      return member === undefined ? [] : [{ name: member, field: item }];
    });
    return { name: entry.name, nameField, members };
  });
}

// ---------------------------------------------------------------------------------------------
// Checks across sections

/** Hosts, groups and bastions share one set of names: the targets of every command. */
function checkNameClashes(reader: Reader, named: { kind: string; name: string; nameField: Field }[]): void {
  const firstByName = new Map<string, (typeof named)[number]>();
  // The reserved name is reported on its own.
  const clashable = named.filter((item) => item.name !== RESERVED_NAME);
  for (const item of clashable.sort((a, b) => offsetOf(where(a.nameField)) - offsetOf(where(b.nameField)))) {
    const first = firstByName.get(item.name);
    if (!first) {
      firstByName.set(item.name, item);
      continue;
    }
    report(
      reader,
      where(item.nameField),
      item.nameField.path,
      `${quoted(item.name)} is already the name of the ${first.kind} on line ${lineOf(reader, where(first.nameField))}`,
      'hosts, groups and bastions share one set of names: rename one of them',
    );
  }
}

/** Two entries for one machine would give it two names and two sets of settings. */
function checkDuplicateEndpoints(reader: Reader, machines: Machine[]): void {
  const placed = machines.flatMap(({ kind, name, host, addressField }) =>
    host && addressField ? [{ kind, name, host, addressField }] : [],
  );
  const firstByEndpoint = new Map<string, (typeof placed)[number]>();
  for (const entry of placed.sort((a, b) => offsetOf(a.addressField.value) - offsetOf(b.addressField.value))) {
    const { address, port } = entry.host;
    const endpoint = `${address.toLowerCase()}:${port}`;
    const first = firstByEndpoint.get(endpoint);
    if (!first) {
      firstByEndpoint.set(endpoint, entry);
      continue;
    }
    const firstMachine = `the ${first.kind} ${quoted(first.name)} on line ${lineOf(reader, first.addressField.value)}`;
    report(
      reader,
      entry.addressField.value,
      entry.addressField.path,
      `${address}, port ${port}, is already the address of ${firstMachine}`,
      'list each machine once; two entries may share an address only with different ports',
    );
  }
}

function checkReachable(reader: Reader, hosts: Machine[]): void {
  for (const host of hosts.filter((machine) => !machine.direct)) {
    report(
      reader,
      where(host.nameField),
      host.nameField.path,
      'is reached through the bastion, but the inventory has no bastion',
      'add a `bastion:` section, or mark the host `direct: true`',
    );
  }
}

/** Group name -> member host names (in inventory order), following nested groups. */
function resolveGroups(
  reader: Reader,
  groups: GroupDraft[],
  hostNames: string[],
  bastionNames: Set<string>,
): Map<string, string[]> {
  const groupsByName = new Map(groups.map((group) => [group.name, group]));
  const hostNameSet = new Set(hostNames);
  const resolved = new Map<string, Set<string>>();
  const visiting: string[] = [];

  const reportMember = (member: GroupDraft['members'][number]): void => {
    if (bastionNames.has(member.name)) {
      const message = `${quoted(member.name)} is a bastion; groups list hosts and other groups`;
      report(reader, member.field.value, member.field.path, message, 'target bastions by name or with role:bastion');
      return;
    }
    const guess = suggest(member.name, [...hostNames, ...groupsByName.keys()]);
    report(
      reader,
      member.field.value,
      member.field.path,
      `${quoted(member.name)} is not a host or a group`,
      guess ? `did you mean ${quoted(guess)}?` : 'define it under `hosts:` or `groups:`, or remove it',
    );
  };

  const visit = (group: GroupDraft): Set<string> => {
    const known = resolved.get(group.name);
    if (known) return known;
    visiting.push(group.name);
    const members = new Set<string>();
    for (const member of group.members) {
      const nested = groupsByName.get(member.name);
      if (hostNameSet.has(member.name)) {
        members.add(member.name);
      } else if (!nested) {
        reportMember(member);
      } else if (visiting.includes(member.name)) {
        const cycle = [...visiting.slice(visiting.indexOf(member.name)), member.name].join(' → ');
        const hint = 'a group cannot contain itself, directly or through other groups';
        report(reader, member.field.value, member.field.path, `groups contain each other: ${cycle}`, hint);
      } else {
        for (const hostName of visit(nested)) members.add(hostName);
      }
    }
    visiting.pop();
    resolved.set(group.name, members);
    return members;
  };

  return new Map(
    groups.map((group) => {
      const members = visit(group);
      return [group.name, hostNames.filter((hostName) => members.has(hostName))];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The whole file

/** The keys of the core sections; the domains' follow, in the order they are registered. */
const CORE_KEYS = ['ssh', 'defaults', 'bastion', 'hosts', 'groups'];

function toEndpoint({ name, address, port, user, ssh }: Endpoint): Endpoint {
  return { name, address, port, user, ssh };
}

function readInventory(reader: Reader, domainSections: readonly InventorySection<unknown>[]): Inventory | undefined {
  const root: Field = { value: reader.doc.contents, path: '' };
  if (isEmpty(root.value)) {
    const hint = `describe your machines under \`hosts:\`; ${EXAMPLE_FILE} shows every key`;
    report(reader, null, '', 'the inventory is empty', hint);
    return undefined;
  }
  const top = readKnownKeys(reader, root, [...CORE_KEYS, ...domainSections.map(({ key }) => key)]);
  if (!top) return undefined;
  const section = (key: string): Field => top.get(key) ?? { value: null, path: key };

  const ssh = applySsh(defaultSsh(), readSsh(reader, section('ssh')) ?? {});
  const defaults = readSection(reader, section('defaults'), defaultsReaders)?.values ?? {};
  const bastions = readBastions(reader, section('bastion'), {
    user: defaults.user ?? 'root',
    port: 22,
    become: 'none',
    roles: ['bastion'],
    ssh,
  });
  const hosts = readHosts(reader, top.get('hosts'), {
    user: defaults.user ?? 'root',
    port: defaults.port ?? 22,
    become: defaults.become ?? 'none',
    roles: [],
    ssh,
  });
  const groups = readGroups(reader, section('groups'));
  const context = { hostNames: hosts.map((host) => host.name) };
  const domainValues = new Map(
    domainSections.map((domain) => [domain.key, domain.read(reader, section(domain.key), context)]),
  );

  checkNameClashes(reader, [...bastions, ...hosts, ...groups.map((group) => ({ kind: 'group', ...group }))]);
  checkDuplicateEndpoints(reader, [...bastions, ...hosts]);
  if (isEmpty(section('bastion').value)) checkReachable(reader, hosts);
  const hostNames = hosts.map((host) => host.name);
  const groupMembers = resolveGroups(reader, groups, hostNames, new Set(bastions.map((bastion) => bastion.name)));

  const bastionHosts = bastions.flatMap((bastion) => (bastion.host ? [bastion.host] : []));
  const chain = bastionHosts.map(toEndpoint);
  const groupsOf = (hostName: string): string[] =>
    [...groupMembers].filter(([, members]) => members.includes(hostName)).map(([groupName]) => groupName);
  return {
    file: reader.file,
    bastions: bastionHosts.map((bastion, index) => ({ ...bastion, via: chain.slice(0, index) })),
    hosts: hosts.flatMap(({ host, direct }) =>
      host ? [{ ...host, via: direct ? [] : chain, groups: groupsOf(host.name) }] : [],
    ),
    groups: groupMembers,
    sections: domainValues,
  };
}
