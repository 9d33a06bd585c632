// The `proxmox:` section of the inventory: what `chaton vm create` builds a new VM from (templates,
// storage, bridge, default sizes, networks and the range chaton allocates addresses from, the
// firewall security group of each role, the backup job new VMs join, chaton's VMID range) and the
// VMs declared ahead. Read through the core reader, so that every problem is reported at
// file:line:col with a next step; src/lib/domains.ts registers it. Addresses are IPv4.
//
// A template's `node` is the cluster's name for the node (`pvecm nodes`, the API's /nodes/{node}),
// checked here only as a valid node name, NOT as an inventory host: the inventory names hosts the
// way the sysadmin reaches them (pve1.site, hv-a), the cluster names them as they were installed,
// and chaton may reach the whole cluster through one node. Whether the node exists and is online
// is the cluster's answer, which `vm create` asks before anything is made.
import { isIPv4 } from 'node:net';
import { isMap, isScalar } from 'yaml';
import { ipv4Kind, matching, nameKind, scalarKind, storageIdKind } from '../inventory/kinds.js';
import {
  type Field,
  isEmpty,
  list,
  positionOf,
  type Reader,
  readEntries,
  readScalar,
  readSection,
  report,
  requireKey,
  scalar,
  scalarText,
  type ScalarKind,
  where,
} from '../inventory/reader.js';
import { type InventorySection, sectionOf } from '../inventory/sections.js';
import { parseSize } from '../inventory/sizes.js';
import { suggest } from '../inventory/suggest.js';
import type { Inventory, SourcePosition } from '../inventory/types.js';
import { quoted } from '../run/printable.js';
import { inventoryMessages as messages } from './messages.js';

export interface ProxmoxTemplate {
  name: string;
  vmid: number;
  /** The cluster's name for the node that holds the template. */
  node: string;
  source: SourcePosition;
}

/** Cores, and memory and disk in bytes. */
export interface VmSizes {
  cores: number;
  memory: number;
  disk: number;
}

/** An IPv4 range, both ends included. */
export interface AddressRange {
  first: string;
  last: string;
}

export interface ProxmoxNetwork {
  name: string;
  /** As written: `10.0.0.0/24`. */
  cidr: string;
  /** The network's address, `10.0.0.0`. */
  address: string;
  prefix: number;
  gateway?: string;
  dns: string[];
  /** The addresses chaton may give new VMs. */
  allocate?: AddressRange;
  source: SourcePosition;
}

export interface ProxmoxRole {
  name: string;
  /** A security group of the cluster's firewall (its existence is the cluster's to say). */
  securityGroup?: string;
  /** A network of `networks:`. */
  network?: string;
  source: SourcePosition;
}

/** A VM declared ahead: `vm create <name>` takes these, flags override them. */
export interface DeclaredVm {
  name: string;
  template?: string;
  role?: string;
  cores?: number;
  memory?: number;
  disk?: number;
  /** The address and its prefix length, as written: `10.0.0.15/24`. */
  ip?: { address: string; prefix: number };
  tags: string[];
  source: SourcePosition;
}

export interface VmidRange {
  first: number;
  last: number;
}

export interface ProxmoxSection {
  templates: Map<string, ProxmoxTemplate>;
  storage?: string;
  bridge?: string;
  /** What a new VM gets when neither `vms:` nor a flag says. */
  defaults: VmSizes;
  networks: Map<string, ProxmoxNetwork>;
  roles: Map<string, ProxmoxRole>;
  backupJob?: string;
  vmids?: VmidRange;
  vms: Map<string, DeclaredVm>;
  source: SourcePosition;
}

/** The `proxmox:` section, undefined when the inventory has none. */
export function proxmoxOf(inventory: Inventory): ProxmoxSection | undefined {
  return sectionOf(inventory, PROXMOX_SECTION);
}

/** Without `defaults:`: a small server (one core, 2G of memory, a 32G disk). */
const DEFAULT_SIZES: VmSizes = { cores: 1, memory: 2 * 1024 ** 3, disk: 32 * 1024 ** 3 };
const MIN_VMID = 100;
const MAX_VMID = 999_999_999;

// ---------------------------------------------------------------------------------------------
// IPv4 arithmetic

export function ipToNumber(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

export function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function networkOf(address: string, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return Math.floor(ipToNumber(address) / size) * size;
}

export function inNetwork(address: string, network: ProxmoxNetwork): boolean {
  return networkOf(address, network.prefix) === ipToNumber(network.address);
}

// ---------------------------------------------------------------------------------------------
// Kinds of values

function textOf<T>(parse: (text: string) => T | undefined): ScalarKind<T>['parse'] {
  return (value) => {
    const text = scalarText(value);
    return text === undefined ? undefined : parse(text);
  };
}

/** A DNS label, lowercase: the name Proxmox gives the VM, and its host name. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const vmidKind = scalarKind(
  () => messages.vmidExpected,
  () => messages.vmidHint,
  ({ value }) =>
    typeof value === 'number' && Number.isInteger(value) && value >= MIN_VMID && value <= MAX_VMID ? value : undefined,
);

/** pve-node: a host name without its domain. */
const nodeKind = scalarKind(
  () => messages.nodeExpected,
  () => messages.nodeHint,
  matching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/),
);

/** A Linux interface name: at most 15 characters. */
const bridgeKind = scalarKind(
  () => messages.bridgeExpected,
  () => messages.bridgeHint,
  matching(/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/),
);

const coresKind = scalarKind(
  () => messages.coresExpected,
  () => messages.coresHint,
  ({ value }) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 512 ? value : undefined,
);

/** pve-firewall's security group names. */
const securityGroupKind = scalarKind(
  () => messages.securityGroupExpected,
  () => messages.securityGroupHint,
  matching(/^[A-Za-z][A-Za-z0-9_-]{1,17}$/),
);

/** A job id of /cluster/backup (`backup-5c6b1e2a-8d41`, or one an admin named). */
const backupJobKind = scalarKind(
  () => messages.backupJobExpected,
  () => messages.backupJobHint,
  matching(/^[A-Za-z][A-Za-z0-9_-]{1,63}$/),
);

/** pve-tag, as pve-common checks it. */
const tagKind = scalarKind(
  () => messages.tagExpected,
  () => messages.tagHint,
  matching(/^[a-z0-9_][a-z0-9_\-+.]*$/i),
);

/** `4G`; `4 GB`, `4GB` or `4g` are refused with the size to write. */
function readSize(reader: Reader, field: Field): number | undefined {
  const text = isScalar(field.value) ? scalarText(field.value) : undefined;
  const size = text === undefined ? undefined : parseSize(text);
  if (size !== undefined) return size;
  report(
    reader,
    where(field),
    field.path,
    messages.sizeInvalid(text === undefined ? '' : quoted(text)),
    sizeHint(text),
  );
  return undefined;
}

/** What to write instead of a size that is not one: `4 GB`, `4GB` or `4g` get `4G`. */
export function sizeHint(text: string | undefined): string {
  const [, number, unit] = /^\s*([1-9][0-9]*)\s*([kmgt])(?:i?b)?\s*$/i.exec(text ?? '') ?? [];
  return number && unit ? messages.sizeSuggest(`${number}${unit.toUpperCase()}`) : messages.sizeHint;
}

/** `a.b.c.d/n`; an address with host bits set is refused with its network. */
function readCidr(reader: Reader, field: Field): { address: string; prefix: number } | undefined {
  const cidr = readScalar(reader, field, cidrKind);
  if (!cidr) return undefined;
  const network = numberToIp(networkOf(cidr.address, cidr.prefix));
  if (network === cidr.address) return cidr;
  const text = `${cidr.address}/${cidr.prefix}`;
  report(
    reader,
    where(field),
    field.path,
    messages.cidrHostBits(text),
    messages.cidrHostBitsHint(`${network}/${cidr.prefix}`),
  );
  return undefined;
}

export function parseAddressWithPrefix(text: string): { address: string; prefix: number } | undefined {
  const [, address, prefix] = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text) ?? [];
  if (!address || !isIPv4(address) || Number(prefix) > 32) return undefined;
  return { address, prefix: Number(prefix) };
}

const cidrKind = scalarKind(
  () => messages.cidrExpected,
  () => messages.cidrHint,
  textOf(parseAddressWithPrefix),
);
const vmIpKind = scalarKind(
  () => messages.vmIpExpected,
  () => messages.vmIpHint,
  textOf(parseAddressWithPrefix),
);

const addressRangeKind = scalarKind<AddressRange>(
  () => messages.rangeExpected,
  () => messages.rangeHint,
  textOf((text) => {
    const [, first, last] = /^([0-9.]+)-([0-9.]+)$/.exec(text) ?? [];
    return first && last && isIPv4(first) && isIPv4(last) ? { first, last } : undefined;
  }),
);

const vmidsKind = scalarKind<VmidRange>(
  () => messages.vmidsExpected,
  () => messages.vmidsHint,
  textOf((text) => {
    const [, first, last] = /^([0-9]{1,9})-([0-9]{1,9})$/.exec(text) ?? [];
    return first && last ? { first: Number(first), last: Number(last) } : undefined;
  }),
);

/** A range whose ends are the wrong way round, reported with the range to write. */
function isBackwards(reader: Reader, field: Field, first: string, last: string, backwards: boolean): boolean {
  if (backwards) {
    report(
      reader,
      where(field),
      field.path,
      messages.rangeBackwards(first, last),
      messages.rangeBackwardsHint(`${last}-${first}`),
    );
  }
  return backwards;
}

/**
 * A name that must be a key of another part of the section: of those written there, well or not
 * (a network with a problem of its own is reported once, not again by each role naming it).
 */
function isKnown(
  reader: Reader,
  field: Field,
  name: string,
  defined: Set<string>,
  key: string,
  message: string,
): boolean {
  if (defined.has(name)) return true;
  const guess = suggest(name, defined);
  const hint = guess
    ? messages.didYouMean(quoted(guess))
    : defined.size
      ? messages.oneOf([...defined].join(', '))
      : messages.noneDefined(key);
  report(reader, where(field), field.path, message, hint);
  return false;
}

/** The names written under a part of the section, for the checks of the names that refer to them. */
function namesIn(field: Field): Set<string> {
  return new Set(
    isMap(field.value)
      ? field.value.items.flatMap((pair) => {
          const text = isScalar(pair.key) ? scalarText(pair.key) : undefined;
          return text === undefined ? [] : [text];
        })
      : [],
  );
}

// ---------------------------------------------------------------------------------------------
// The parts of the section

function readTemplates(reader: Reader, field: Field): Map<string, ProxmoxTemplate> {
  const templates = new Map<string, ProxmoxTemplate>();
  for (const entry of readEntries(reader, field, messages.templatesExpected, messages.templatesHint) ?? []) {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    const read = readSection(reader, entry, { vmid: scalar(vmidKind), node: scalar(nodeKind) });
    if (!read) continue;
    requireKey(reader, entry, read.fields, 'vmid', messages.templateKeysHint);
    requireKey(reader, entry, read.fields, 'node', messages.templateKeysHint);
    const { vmid, node } = read.values;
    if (name === undefined || vmid === undefined || node === undefined) continue;
    templates.set(name, { name, vmid, node, source: positionOf(reader, entry.key) });
  }
  return templates;
}

const networkReaders = {
  cidr: readCidr,
  gateway: scalar(ipv4Kind),
  dns: list(ipv4Kind, messages.dnsExpected, ipv4Kind.hint),
  allocate: scalar(addressRangeKind),
};

function readNetworks(reader: Reader, field: Field): Map<string, ProxmoxNetwork> {
  const networks = new Map<string, ProxmoxNetwork>();
  for (const entry of readEntries(reader, field, messages.networksExpected, messages.networksHint) ?? []) {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    const read = readSection(reader, entry, networkReaders);
    if (!read) continue;
    requireKey(reader, entry, read.fields, 'cidr', messages.cidrHint);
    const { cidr, gateway, dns, allocate } = read.values;
    if (name === undefined || cidr === undefined) continue;
    const network: ProxmoxNetwork = {
      name,
      cidr: `${cidr.address}/${cidr.prefix}`,
      ...cidr,
      dns: dns ?? [],
      source: positionOf(reader, entry.key),
    };
    let valid = true;
    const outside = (key: string, address: string) => {
      if (inNetwork(address, network)) return;
      const at = read.fields.get(key)!;
      report(reader, where(at), at.path, messages.outsideNetwork(address, network.cidr), messages.outsideNetworkHint);
      valid = false;
    };
    if (gateway !== undefined) outside('gateway', gateway);
    if (allocate) {
      const at = read.fields.get('allocate')!;
      const backwards = ipToNumber(allocate.first) > ipToNumber(allocate.last);
      if (isBackwards(reader, at, allocate.first, allocate.last, backwards)) valid = false;
      else {
        outside('allocate', allocate.first);
        if (valid) outside('allocate', allocate.last);
      }
    }
    if (valid) {
      networks.set(name, {
        ...network,
        ...(gateway === undefined ? {} : { gateway }),
        ...(allocate ? { allocate } : {}),
      });
    }
  }
  return networks;
}

function readRoles(reader: Reader, field: Field, networks: Set<string>): Map<string, ProxmoxRole> {
  const roles = new Map<string, ProxmoxRole>();
  const readers = { security_group: scalar(securityGroupKind), network: scalar(nameKind) };
  for (const entry of readEntries(reader, field, messages.rolesExpected, messages.rolesHint) ?? []) {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    const read = readSection(reader, entry, readers);
    if (!read || name === undefined) continue;
    const { security_group: securityGroup, network } = read.values;
    const networkField = read.fields.get('network');
    if (network !== undefined && networkField) {
      if (!isKnown(reader, networkField, network, networks, 'networks', messages.unknownNetwork(quoted(network))))
        continue;
    }
    roles.set(name, {
      name,
      ...(securityGroup === undefined ? {} : { securityGroup }),
      ...(network === undefined ? {} : { network }),
      source: positionOf(reader, entry.key),
    });
  }
  return roles;
}

const vmReaders = {
  template: scalar(nameKind),
  role: scalar(nameKind),
  cores: scalar(coresKind),
  memory: readSize,
  disk: readSize,
  ip: scalar(vmIpKind),
  tags: list(tagKind, messages.tagExpected, messages.tagHint),
};

/** The names each part defines, and the networks and roles read well. */
interface Known {
  templates: Set<string>;
  roles: Set<string>;
  networks: Map<string, ProxmoxNetwork>;
  roleValues: Map<string, ProxmoxRole>;
}

type Entry = Field & { name: string; key: NonNullable<Field['key']> };

/** The VM read well, and where its ip is written. */
function readVm(reader: Reader, entry: Entry, known: Known): { vm: DeclaredVm; ipField?: Field } | undefined {
  let valid = true;
  if (!DNS_LABEL.test(entry.name)) {
    report(reader, entry.key, entry.path, messages.vmNameInvalid(quoted(entry.name)), messages.vmNameHint);
    valid = false;
  }
  const read = readSection(reader, entry, vmReaders);
  if (!read) return undefined;
  const { fields, values } = read;
  const { template, role, ip } = values;
  if (template !== undefined) {
    const message = messages.unknownTemplate(quoted(template));
    valid = isKnown(reader, fields.get('template')!, template, known.templates, 'templates', message) && valid;
  }
  if (role !== undefined) {
    valid =
      isKnown(reader, fields.get('role')!, role, known.roles, 'roles', messages.unknownRole(quoted(role))) && valid;
  }
  if (ip) {
    const ipField = fields.get('ip')!;
    const networkName = role === undefined ? undefined : known.roleValues.get(role)?.network;
    const network = networkName === undefined ? undefined : known.networks.get(networkName);
    const text = `${ip.address}/${ip.prefix}`;
    if (role === undefined) {
      report(reader, where(ipField), ipField.path, messages.vmIpNoRole, messages.vmIpNoRoleHint);
      valid = false;
    } else if (network && !inNetwork(ip.address, network)) {
      report(
        reader,
        where(ipField),
        ipField.path,
        messages.outsideNetwork(ip.address, network.cidr),
        messages.outsideNetworkHint,
      );
      valid = false;
    } else if (network && ip.prefix !== network.prefix) {
      report(
        reader,
        where(ipField),
        ipField.path,
        messages.vmIpPrefix(text, network.cidr),
        messages.vmIpPrefixHint(`${ip.address}/${network.prefix}`),
      );
      valid = false;
    }
  }
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!valid || hasWrongValue) return undefined;
  const vm: DeclaredVm = {
    name: entry.name,
    ...(template === undefined ? {} : { template }),
    ...(role === undefined ? {} : { role }),
    ...(values.cores === undefined ? {} : { cores: values.cores }),
    ...(values.memory === undefined ? {} : { memory: values.memory }),
    ...(values.disk === undefined ? {} : { disk: values.disk }),
    ...(ip ? { ip } : {}),
    tags: values.tags ?? [],
    source: positionOf(reader, entry.key),
  };
  const ipField = fields.get('ip');
  return ipField ? { vm, ipField } : { vm };
}

function readVms(reader: Reader, field: Field, known: Known): Map<string, DeclaredVm> {
  const vms = new Map<string, DeclaredVm>();
  const byAddress = new Map<string, string>();
  for (const entry of readEntries(reader, field, messages.vmsExpected, messages.vmsHint) ?? []) {
    const read = readVm(reader, entry, known);
    if (!read) continue;
    const { vm, ipField: at } = read;
    if (vm.ip && at) {
      const other = byAddress.get(vm.ip.address);
      if (other !== undefined) {
        report(reader, where(at), at.path, messages.vmIpTaken(vm.ip.address, other), messages.vmIpTakenHint);
        continue;
      }
      byAddress.set(vm.ip.address, vm.name);
    }
    vms.set(vm.name, vm);
  }
  return vms;
}

const sectionReaders = {
  templates: (_reader: Reader, field: Field) => field,
  storage: scalar(storageIdKind),
  bridge: scalar(bridgeKind),
  defaults: (reader: Reader, field: Field) =>
    readSection(reader, field, { cores: scalar(coresKind), memory: readSize, disk: readSize })?.values,
  networks: (_reader: Reader, field: Field) => field,
  roles: (_reader: Reader, field: Field) => field,
  backup_job: scalar(backupJobKind),
  vmids: scalar(vmidsKind),
  vms: (_reader: Reader, field: Field) => field,
};

function readVmids(reader: Reader, field: Field, range: VmidRange): VmidRange | undefined {
  const { first, last } = range;
  if (first < MIN_VMID) {
    report(reader, where(field), field.path, messages.vmidsTooLow(first), messages.vmidsHint);
    return undefined;
  }
  return isBackwards(reader, field, String(first), String(last), first > last) ? undefined : range;
}

function readProxmox(reader: Reader, field: Field): ProxmoxSection | undefined {
  if (isEmpty(field.value) && !field.key) return undefined;
  const read = readSection(reader, field, sectionReaders);
  if (!read) return undefined;
  const { values, fields } = read;
  const empty = (key: string): Field => ({ value: null, path: `proxmox.${key}` });
  const templates = readTemplates(reader, values.templates ?? empty('templates'));
  const networks = readNetworks(reader, values.networks ?? empty('networks'));
  const roles = readRoles(reader, values.roles ?? empty('roles'), namesIn(values.networks ?? empty('networks')));
  const known = {
    templates: namesIn(values.templates ?? empty('templates')),
    roles: namesIn(values.roles ?? empty('roles')),
    networks,
    roleValues: roles,
  };
  const vms = readVms(reader, values.vms ?? empty('vms'), known);
  const vmidsField = fields.get('vmids');
  const vmids = values.vmids && vmidsField ? readVmids(reader, vmidsField, values.vmids) : undefined;
  return {
    templates,
    ...(values.storage === undefined ? {} : { storage: values.storage }),
    ...(values.bridge === undefined ? {} : { bridge: values.bridge }),
    defaults: { ...DEFAULT_SIZES, ...values.defaults },
    networks,
    roles,
    ...(values.backup_job === undefined ? {} : { backupJob: values.backup_job }),
    ...(vmids ? { vmids } : {}),
    vms,
    source: positionOf(reader, field.key ?? where(field)),
  };
}

const PROXMOX_SECTION: InventorySection<ProxmoxSection | undefined> = { key: 'proxmox', read: readProxmox };

export const PROXMOX_SECTIONS = [PROXMOX_SECTION] as const;
