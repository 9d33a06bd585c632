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
  persistKind,
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
  oneOrMoreItems,
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
import { messages } from './messages.js';
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
    const hint = error.tooLarge ? messages.inventoryTooLargeHint : messages.inventoryUnreadableHint;
    throw new UsageError(messages.inventoryUnreadable(error.message), hint);
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

// The readers that are given texts are made at each read, so that those are in the language of
// the moment; the others are made once.

function sshReaders() {
  return {
    identity_files: filePaths('~/.ssh/id_ed25519'),
    identity_passphrase_env: scalar(envVarNameKind),
    agent: scalar(booleanKind),
    known_hosts: filePaths('~/.ssh/known_hosts'),
    connect_timeout: scalar(secondsKind(messages.secondsAboveZero, (value) => value > 0)),
    command_timeout: scalar(secondsKind(messages.secondsOrNoLimit, (value) => value >= 0)),
    keepalive_interval: scalar(secondsKind(messages.secondsOrOff, (value) => value >= 0)),
    keepalive_count_max: scalar(
      wholeNumberKind(messages.keepaliveCountExpected, messages.keepaliveCountHint, 1, Number.MAX_SAFE_INTEGER),
    ),
    max_sessions: scalar(wholeNumberKind(messages.maxSessionsExpected, messages.maxSessionsHint, 1, 64)),
    persist: scalar(persistKind),
  };
}
type SshValues = SectionValues<ReturnType<typeof sshReaders>>;

const readSsh: ReadField<SshValues> = (reader, field) => readSection(reader, field, sshReaders())?.values;

const defaultsReaders = { user: scalar(userKind), port: scalar(portKind), become: scalar(becomeKind) };

/** An address as written, and where: the checks across machines point at it. */
interface WrittenAddress {
  address: string;
  field: Field;
}

/** `address:` is one address, or a list of them tried in order (one per internet link of a site). */
const readAddresses: ReadField<WrittenAddress[]> = (reader, field) => {
  const items = oneOrMoreItems(reader, field, messages.addressesExpected, messages.addressesHint);
  const written = items?.flatMap((item) => {
    const address = readScalar(reader, item, addressKind);
    return address === undefined ? [] : [{ address, field: item }];
  });
  // A bad address alone leaves nothing to reach; in a list, the others are still read.
  return written?.length === 0 ? undefined : written;
};

function hostReaders() {
  return {
    address: readAddresses,
    port: scalar(portKind),
    user: scalar(userKind),
    roles: list(nameKind, messages.roleNamesExpected, messages.forExample('roles: [pve, ceph]')),
    become: scalar(becomeKind),
    direct: scalar(booleanKind),
    ssh: readSsh,
  };
}

const bastionReaders = {
  name: scalar(nameKind),
  address: readAddresses,
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
    persistMs: 0,
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
    persistMs: values.persist ?? base.persistMs,
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
  address?: WrittenAddress[];
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
  addresses: WrittenAddress[];
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
  if (read) requireKey(reader, section, read.fields, 'address', messages.addressMissingHint);
  const addresses = values.address ?? [];
  const machine: Machine = { kind, name, nameField, addresses, direct: values.direct ?? false };
  // A wrong value (already reported) would fall back to its default and cause confusing problems.
  const hasWrongValue = [...(read?.fields.keys() ?? [])].some((key) => !(key in values));
  if (values.address === undefined || hasWrongValue) return machine;
  const host: Host = {
    name,
    addresses: values.address.map((written) => written.address),
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
    report(reader, where(field), field.path, messages.reservedName(RESERVED_NAME), messages.reservedNameHint);
  }
}

/** `bastion:` is one jump host, or a list of them reached one after the other. */
function readBastions(reader: Reader, field: Field, defaults: MachineDefaults): Machine[] {
  if (isEmpty(field.value)) return [];
  let sections: { field: Field; defaultName: string }[];
  if (isMap(field.value)) {
    sections = [{ field, defaultName: 'bastion' }];
  } else {
    const items = listItems(reader, field, messages.bastionExpected, messages.bastionHint(EXAMPLE_FILE));
    if (items?.length === 0) {
      report(reader, where(field), field.path, messages.noJumpHost, messages.noJumpHostHint);
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
  const hint = messages.hostsHint(EXAMPLE_FILE);
  if (!field) {
    report(reader, reader.doc.contents, '', messages.noHostsSection, hint);
    return [];
  }
  const entries = readEntries(reader, field, messages.hostsExpected, hint);
  if (entries?.length === 0) report(reader, field.key ?? where(field), field.path, messages.noHost, hint);
  const readers = hostReaders();
  return (entries ?? []).map((entry) => {
    const nameField = { value: entry.key, path: entry.path };
    checkName(reader, nameField);
    const identity = { kind: 'host' as const, name: entry.name, nameField, section: entry };
    return toMachine(reader, identity, readSection(reader, entry, readers), defaults);
  });
}

interface GroupDraft {
  name: string;
  nameField: Field;
  members: { name: string; field: Field }[];
}

function readGroups(reader: Reader, field: Field): GroupDraft[] {
  const example = messages.forExample('web: [vm-web1, vm-web2]');
  const entries = readEntries(reader, field, messages.groupsExpected, example);
  return (entries ?? []).map((entry) => {
    const nameField = { value: entry.key, path: entry.path };
    checkName(reader, nameField);
    const hint = messages.groupMembersHint(shownKey(entry.name));
    const items = listItems(reader, entry, messages.groupMembersExpected, hint);
    const members = (items ?? []).flatMap((item) => {
      const member = readScalar(reader, item, nameKind);
      return member === undefined ? [] : [{ name: member, field: item }];
    });
    return { name: entry.name, nameField, members };
  });
}

// ---------------------------------------------------------------------------------------------
// Checks across sections

/** "of the host", "of the bastion", "of the group": what holds a name or an address first. */
function ofThe(kind: Machine['kind'] | 'group'): string {
  return { host: messages.ofTheHost, bastion: messages.ofTheBastion, group: messages.ofTheGroup }[kind];
}

/** Hosts, groups and bastions share one set of names: the targets of every command. */
function checkNameClashes(
  reader: Reader,
  named: { kind: Machine['kind'] | 'group'; name: string; nameField: Field }[],
): void {
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
      messages.nameTaken(quoted(item.name), ofThe(first.kind), lineOf(reader, where(first.nameField))),
      messages.nameTakenHint,
    );
  }
}

/**
 * Two entries for one machine would give it two names and two sets of settings; one address
 * twice in a machine's list would only be tried twice.
 */
function checkDuplicateEndpoints(reader: Reader, machines: Machine[]): void {
  const placed = machines.flatMap(({ kind, name, host, addresses }) =>
    host ? addresses.map(({ address, field }) => ({ kind, name, port: host.port, address, field })) : [],
  );
  const firstByEndpoint = new Map<string, (typeof placed)[number]>();
  for (const entry of placed.sort((a, b) => offsetOf(a.field.value) - offsetOf(b.field.value))) {
    const { address, port, field } = entry;
    const endpoint = `${address.toLowerCase()}:${port}`;
    const first = firstByEndpoint.get(endpoint);
    if (!first) {
      firstByEndpoint.set(endpoint, entry);
      continue;
    }
    const firstLine = lineOf(reader, first.field.value);
    if (first.kind === entry.kind && first.name === entry.name) {
      report(reader, field.value, field.path, messages.addressListedTwice(firstLine), messages.addressListedTwiceHint);
      continue;
    }
    const message = messages.addressTaken(address, port, ofThe(first.kind), quoted(first.name), firstLine);
    report(reader, field.value, field.path, message, messages.addressTakenHint);
  }
}

function checkReachable(reader: Reader, hosts: Machine[]): void {
  for (const host of hosts.filter((machine) => !machine.direct)) {
    report(
      reader,
      where(host.nameField),
      host.nameField.path,
      messages.noBastionToReach,
      messages.noBastionToReachHint,
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
      const message = messages.memberIsBastion(quoted(member.name));
      report(reader, member.field.value, member.field.path, message, messages.memberIsBastionHint);
      return;
    }
    const guess = suggest(member.name, [...hostNames, ...groupsByName.keys()]);
    report(
      reader,
      member.field.value,
      member.field.path,
      messages.unknownMember(quoted(member.name)),
      guess ? messages.didYouMean(quoted(guess)) : messages.unknownMemberHint,
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
        const message = messages.groupCycle(cycle);
        report(reader, member.field.value, member.field.path, message, messages.groupCycleHint);
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

function toEndpoint({ name, addresses, port, user, ssh }: Endpoint): Endpoint {
  return { name, addresses, port, user, ssh };
}

function readInventory(reader: Reader, domainSections: readonly InventorySection<unknown>[]): Inventory | undefined {
  const root: Field = { value: reader.doc.contents, path: '' };
  if (isEmpty(root.value)) {
    report(reader, null, '', messages.emptyInventory, messages.emptyInventoryHint(EXAMPLE_FILE));
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

  checkNameClashes(reader, [...bastions, ...hosts, ...groups.map((group) => ({ kind: 'group' as const, ...group }))]);
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
