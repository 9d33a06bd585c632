// The `failover:` section of the inventory: the gateway that routes the site, its main and backup
// links, how each link is probed, and what a switch also does (revert timer, conntrack, DNS). Read
// through the core reader, so that every problem is reported at file:line:col with a next step;
// src/lib/domains.ts registers it. What only the gateway knows (its interfaces) is checked there,
// before anything runs (see links.ts).
import { isSeq } from 'yaml';
import { booleanKind, ipv4Kind, matching, nameKind, scalarKind } from '../inventory/kinds.js';
import {
  type Field,
  isInventoryHost,
  isEmpty,
  list,
  positionOf,
  type Reader,
  readKnownKeys,
  readSection,
  report,
  requireKey,
  scalar,
  type ScalarKind,
  where,
} from '../inventory/reader.js';
import { type InventorySection, type SectionContext, sectionOf } from '../inventory/sections.js';
import type { Inventory, SourcePosition } from '../inventory/types.js';
import { hasUnprintable } from '../run/printable.js';
import { messages } from './messages.js';

export type LinkName = 'main' | 'backup';
export const LINK_NAMES: readonly LinkName[] = ['main', 'backup'];

/** One uplink of the gateway; addresses are IPv4 (the default route it carries, the NAT behind it). */
export interface FailoverLink {
  name: LinkName;
  interface: string;
  nextHop: string;
  /** The gateway's own address on the link: probes leave from it, the gateway's NAT maps flows to it. */
  source: string;
  /** The address the world sees for the link (DNS names point there); `source` unless the ISP's box NATs. */
  publicAddress: string;
  /** The link's own route table, chosen by `ip rule from <source>`; absent, probes go out by interface. */
  table?: number;
  /** Where `interface:` is written: the gateway's lack of it is reported there. */
  interfaceAt: { position: SourcePosition; path: string };
}

export interface ProbeSettings {
  /** IPv4 addresses beyond the ISPs' own boxes. */
  targets: string[];
  /** Echo requests per target per round. */
  count: number;
  /** Seconds to wait for a reply. */
  timeout: number;
  /** Targets that must answer for a link to be up. */
  reliability: number;
}

export interface DnsSettings {
  server: string;
  /** Without the final dot, as written. */
  zone: string;
  names: string[];
  ttl: number;
  /** On the gateway: the TSIG key never leaves it. */
  keyFile: string;
}

/** The watchdog's hysteresis (`chaton failover watchdog`): rounds of main in a row before it acts. */
export interface WatchdogSettings {
  /** Bad rounds of main before the default route goes to backup. */
  down: number;
  /** Good rounds of main before it comes back. */
  up: number;
}

export interface FailoverSection {
  gateway: string;
  links: Record<LinkName, FailoverLink>;
  probes: ProbeSettings;
  /** Seconds after which an unconfirmed switch is undone. */
  revertAfter: number;
  conntrackFlush: boolean;
  /** An inner host that proves the path end to end. */
  proveFrom?: string;
  dns?: DnsSettings;
  watchdog: WatchdogSettings;
  source: SourcePosition;
}

/** The `failover:` section, undefined when the inventory has none. */
export function failoverOf(inventory: Inventory): FailoverSection | undefined {
  return sectionOf(inventory, FAILOVER_SECTION);
}

// The watchdog's down and up: OpenWrt mwan3's defaults.
const DEFAULTS = {
  count: 3,
  timeout: 2,
  reliability: 1,
  revertAfter: 120,
  conntrackFlush: true,
  ttl: 60,
  watchdog: { down: 5, up: 5 },
};

// ---------------------------------------------------------------------------------------------
// Kinds of values

/** What Linux takes as an interface name (at most 15 bytes), never read as an option. */
const interfaceKind = scalarKind(
  () => messages.interfaceExpected,
  () => messages.interfaceHint,
  matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/),
);

/** Route table ids besides those the kernel keeps for itself (0 unspec, 253 default, 254 main, 255 local). */
const tableKind = scalarKind(
  () => messages.tableExpected,
  () => messages.tableHint,
  ({ value }) =>
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 1 &&
    value < 2 ** 32 &&
    (value < 253 || value > 255)
      ? value
      : undefined,
);

function wholeNumber(min: number, max: number, hint: () => string): ScalarKind<number> {
  return scalarKind(
    () => messages.wholeNumberExpected(min, max),
    hint,
    ({ value }) =>
      typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined,
  );
}

const DNS_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const dnsNameKind = scalarKind(
  () => messages.dnsNameExpected,
  () => messages.dnsNameHint,
  ({ value }) => (typeof value === 'string' && DNS_NAME.test(value) ? value.replace(/\.$/, '') : undefined),
);

const remoteFileKind = scalarKind(
  () => messages.keyFileExpected,
  () => messages.keyFileHint,
  ({ value }) => (typeof value === 'string' && /^\/./.test(value) && !hasUnprintable(value) ? value : undefined),
);

// ---------------------------------------------------------------------------------------------
// Sections

const linkReaders = {
  interface: scalar(interfaceKind),
  next_hop: scalar(ipv4Kind),
  source: scalar(ipv4Kind),
  public_address: scalar(ipv4Kind),
  table: scalar(tableKind),
};

/** A link as read, and its fields (for problems found across both links). */
function readLink(reader: Reader, field: Field, name: LinkName): { link?: FailoverLink; fields?: Map<string, Field> } {
  const read = readSection(reader, field, linkReaders);
  if (!read) return {};
  const { fields, values } = read;
  for (const key of ['interface', 'next_hop', 'source', 'public_address'] as const) {
    requireKey(reader, field, fields, key, messages.linkKeysHint);
  }
  const interfaceField = fields.get('interface');
  const { next_hop: nextHop, source, public_address: publicAddress, table } = values;
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!interfaceField || values.interface === undefined || !nextHop || !source || !publicAddress || hasWrongValue) {
    return { fields };
  }
  const link: FailoverLink = {
    name,
    interface: values.interface,
    nextHop,
    source,
    publicAddress,
    ...(table === undefined ? {} : { table }),
    interfaceAt: { position: positionOf(reader, where(interfaceField)), path: interfaceField.path },
  };
  return { link, fields };
}

/** What two links cannot share: one interface, one address or one table cannot fail over to itself. */
const DISTINCT_KEYS = ['interface', 'source', 'table'] as const;

/** `links:` holds main and backup, each with its own interface, source address and table. */
function readLinks(reader: Reader, field: Field): Record<LinkName, FailoverLink> | undefined {
  const fields = readKnownKeys(reader, field, LINK_NAMES);
  if (!fields) return undefined;
  for (const name of LINK_NAMES) requireKey(reader, field, fields, name, messages.linksHint);
  const mainField = fields.get('main');
  const backupField = fields.get('backup');
  const main = mainField ? readLink(reader, mainField, 'main') : {};
  const backup = backupField ? readLink(reader, backupField, 'backup') : {};
  if (!main.link || !backup.link || !backup.fields) return undefined;
  const shared = DISTINCT_KEYS.filter((key) => main.link![key] !== undefined && main.link![key] === backup.link![key]);
  for (const key of shared) {
    const sharedField = backup.fields.get(key)!;
    report(reader, where(sharedField), sharedField.path, messages.linksShare(key), messages.linksShareHint);
  }
  return shared.length > 0 ? undefined : { main: main.link, backup: backup.link };
}

function probeReaders() {
  return {
    targets: list(ipv4Kind, messages.targetsExpected, messages.targetsHint),
    count: scalar(wholeNumber(1, 100, () => messages.countHint)),
    timeout: scalar(wholeNumber(1, 60, () => messages.timeoutHint)),
    reliability: scalar(wholeNumber(1, 100, () => messages.reliabilityHint)),
  };
}

function readProbes(reader: Reader, field: Field): ProbeSettings | undefined {
  const read = readSection(reader, field, probeReaders());
  if (!read) return undefined;
  const { fields, values } = read;
  requireKey(reader, field, fields, 'targets', messages.targetsHint);
  const targetsField = fields.get('targets');
  const { targets } = values;
  if (targetsField && isSeq(targetsField.value) && targetsField.value.items.length === 0) {
    report(reader, where(targetsField), targetsField.path, messages.targetsEmpty, messages.targetsHint);
    return undefined;
  }
  const duplicate = targets?.find((target, index) => targets.indexOf(target) !== index);
  if (targetsField && duplicate) {
    report(reader, where(targetsField), targetsField.path, messages.targetTwice(duplicate), messages.targetsHint);
  }
  const reliability = values.reliability ?? DEFAULTS.reliability;
  const reliabilityField = fields.get('reliability');
  if (targets && reliability > targets.length) {
    const at = reliabilityField ?? field;
    report(
      reader,
      where(at),
      at.path,
      messages.reliabilityAboveTargets(reliability, targets.length),
      messages.reliabilityHint,
    );
    return undefined;
  }
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!targets || duplicate || hasWrongValue) return undefined;
  return {
    targets,
    count: values.count ?? DEFAULTS.count,
    timeout: values.timeout ?? DEFAULTS.timeout,
    reliability,
  };
}

function dnsReaders() {
  return {
    server: scalar(ipv4Kind),
    zone: scalar(dnsNameKind),
    names: list(dnsNameKind, messages.dnsNamesExpected, messages.dnsNamesHint),
    ttl: scalar(wholeNumber(1, 86_400, () => messages.ttlHint)),
    key_file: scalar(remoteFileKind),
  };
}

/** Each name is in the zone: an update of a name outside it is refused by the server. */
function readDns(reader: Reader, field: Field): DnsSettings | undefined {
  const read = readSection(reader, field, dnsReaders());
  if (!read) return undefined;
  const { fields, values } = read;
  for (const key of ['server', 'zone', 'names', 'key_file'] as const) {
    requireKey(reader, field, fields, key, key === 'key_file' ? messages.keyFileHint : messages.dnsKeysHint);
  }
  const { server, zone, names, key_file: keyFile } = values;
  const namesField = fields.get('names');
  if (namesField && isSeq(namesField.value) && namesField.value.items.length === 0) {
    report(reader, where(namesField), namesField.path, messages.dnsNamesEmpty, messages.dnsNamesHint);
    return undefined;
  }
  const outside = zone === undefined ? [] : (names ?? []).filter((name) => !inZone(name, zone));
  if (namesField && zone !== undefined && outside.length > 0) {
    report(
      reader,
      where(namesField),
      namesField.path,
      messages.namesOutsideZone(outside.join(', '), zone),
      messages.dnsNamesHint,
    );
  }
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!server || !zone || !names || !keyFile || outside.length > 0 || hasWrongValue) return undefined;
  return { server, zone, names, ttl: values.ttl ?? DEFAULTS.ttl, keyFile };
}

function inZone(name: string, zone: string): boolean {
  const [lowerName, lowerZone] = [name.toLowerCase(), zone.toLowerCase()];
  return lowerName === lowerZone || lowerName.endsWith(`.${lowerZone}`);
}

function watchdogReaders() {
  return {
    down: scalar(wholeNumber(1, 1000, () => messages.watchdogDownHint)),
    up: scalar(wholeNumber(1, 1000, () => messages.watchdogUpHint)),
  };
}

function readWatchdog(reader: Reader, field: Field): WatchdogSettings | undefined {
  const read = readSection(reader, field, watchdogReaders());
  if (!read) return undefined;
  const { fields, values } = read;
  if ([...fields.keys()].some((key) => !(key in values))) return undefined;
  return { down: values.down ?? DEFAULTS.watchdog.down, up: values.up ?? DEFAULTS.watchdog.up };
}

function sectionReaders() {
  return {
    gateway: scalar(nameKind),
    links: readLinks,
    probes: readProbes,
    revert_after: scalar(wholeNumber(10, 86_400, () => messages.revertAfterHint)),
    conntrack_flush: scalar(booleanKind),
    prove_from: scalar(nameKind),
    dns: readDns,
    watchdog: readWatchdog,
  };
}

function readFailover(reader: Reader, field: Field, context: SectionContext): FailoverSection | undefined {
  if (isEmpty(field.value) && !field.key) return undefined;
  const read = readSection(reader, field, sectionReaders());
  if (!read) return undefined;
  const { fields, values } = read;
  for (const key of ['gateway', 'links', 'probes'] as const) {
    requireKey(reader, field, fields, key, messages.sectionKeysHint);
  }
  const { gateway, links, probes, prove_from: proveFrom, dns } = values;
  const gatewayField = fields.get('gateway');
  const gatewayKnown =
    gatewayField !== undefined &&
    gateway !== undefined &&
    isInventoryHost(reader, gatewayField, gateway, context, messages.gatewayHint);
  const proveField = fields.get('prove_from');
  const proveKnown =
    proveField === undefined ||
    (proveFrom !== undefined && isInventoryHost(reader, proveField, proveFrom, context, messages.proveFromHint));
  if (proveField && proveFrom !== undefined && proveFrom === gateway) {
    report(reader, where(proveField), proveField.path, messages.proveFromGateway, messages.proveFromHint);
    return undefined;
  }
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!gatewayKnown || !gateway || !links || !probes || !proveKnown || hasWrongValue) return undefined;
  return {
    gateway,
    links,
    probes,
    revertAfter: values.revert_after ?? DEFAULTS.revertAfter,
    conntrackFlush: values.conntrack_flush ?? DEFAULTS.conntrackFlush,
    ...(proveFrom === undefined ? {} : { proveFrom }),
    ...(dns === undefined ? {} : { dns }),
    watchdog: values.watchdog ?? DEFAULTS.watchdog,
    source: positionOf(reader, field.key ?? where(field)),
  };
}

const FAILOVER_SECTION: InventorySection<FailoverSection | undefined> = { key: 'failover', read: readFailover };

export const NETWORK_SECTIONS = [FAILOVER_SECTION] as const;
