// `vm create`'s pure parts: the VM wanted (the inventory's `proxmox:` section, the VM declared
// under `vms:`, then the flags), the preflight judgement on what the cluster said (a VM of that
// name, the template, the node and its memory, the address, the VMIDs to try), the differences
// between a VM and the one wanted, and the configuration changes that make one into the other.
// Nothing here talks to a host: the command reads the facts (api.ts) and sends the changes.
import { UsageError } from '../run/errors.js';
import { parseSize } from '../inventory/sizes.js';
import { suggest } from '../inventory/suggest.js';
import { quoted } from '../run/printable.js';
import {
  type BackupJob,
  type ClusterNode,
  type ClusterVm,
  encodeSshKeys,
  type FirewallRule,
  ipconfigAddress,
  parseNic,
  type QemuSummary,
  type Resources,
  type VmConfig,
} from './api.js';
import {
  DNS_LABEL,
  inNetwork,
  ipToNumber,
  numberToIp,
  parseAddressWithPrefix,
  type ProxmoxNetwork,
  type ProxmoxRole,
  type ProxmoxSection,
  type ProxmoxTemplate,
  sizeHint,
} from './inventory.js';
import { type Said, said, vmMessages as messages } from './messages.js';

/** What the operator typed after `vm create <name>`. */
export interface VmFlags {
  template?: string;
  node?: string;
  cores?: string;
  memory?: string;
  disk?: string;
  ip?: string;
  role?: string;
  tags?: string;
}

/** The VM wanted, every value decided (the address and the node may still be `auto`). */
export interface WantedVm {
  name: string;
  template: ProxmoxTemplate;
  role?: ProxmoxRole;
  network?: ProxmoxNetwork;
  cores: number;
  /** Bytes, whole MiB. */
  memory: number;
  /** Bytes. */
  disk: number;
  ip: { address: string; prefix: number } | 'auto';
  node: string | 'auto';
  tags: string[];
  storage?: string;
  bridge?: string;
  backupJob?: string;
  securityGroup?: string;
}

const MIB = 1024 ** 2;
const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const NODE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** One named thing of a list the operator may choose from: refused with a suggestion. */
function chosen<T>(kind: 'template' | 'role', name: string, from: Map<string, T>): T {
  const found = from.get(name);
  if (found !== undefined) return found;
  const guess = suggest(name, from.keys());
  const hint = guess
    ? messages.didYouMean(quoted(guess))
    : from.size
      ? messages.oneOf([...from.keys()].join(', '))
      : messages.noneInSection(kind === 'template' ? 'templates' : 'roles');
  throw new UsageError(
    kind === 'template' ? messages.unknownTemplate(quoted(name)) : messages.unknownRole(quoted(name)),
    hint,
  );
}

function sizeFlag(option: '--memory' | '--disk', text: string): number {
  const size = parseSize(text);
  if (size === undefined) throw new UsageError(messages.badSize(option, quoted(text)), sizeHint(text));
  return size;
}

/**
 * The VM wanted, from the section, the VM declared there and the flags (which win). Bad input is
 * a UsageError (exit 2) naming the value and what to write instead: nothing has been done yet.
 */
export function wantedVm(section: ProxmoxSection, name: string, flags: VmFlags): WantedVm {
  if (!DNS_LABEL.test(name)) throw new UsageError(messages.badName(quoted(name)), messages.badNameHint);
  const declared = section.vms.get(name);
  const templateName =
    flags.template ??
    declared?.template ??
    (section.templates.size === 1 ? [...section.templates.keys()][0] : undefined);
  if (templateName === undefined)
    throw new UsageError(messages.noTemplate, messages.noTemplateHint([...section.templates.keys()].join(', ')));
  const template = chosen('template', templateName, section.templates);
  const roleName =
    flags.role ?? declared?.role ?? (section.roles.size === 1 ? [...section.roles.keys()][0] : undefined);
  const role = roleName === undefined ? undefined : chosen('role', roleName, section.roles);
  const network =
    role?.network !== undefined
      ? section.networks.get(role.network)
      : section.networks.size === 1
        ? [...section.networks.values()][0]
        : undefined;
  let cores = declared?.cores ?? section.defaults.cores;
  if (flags.cores !== undefined) {
    if (!/^[1-9][0-9]{0,2}$/.test(flags.cores) || Number(flags.cores) > 512)
      throw new UsageError(messages.badCores(quoted(flags.cores)), messages.badCoresHint);
    cores = Number(flags.cores);
  }
  const memory =
    flags.memory !== undefined ? sizeFlag('--memory', flags.memory) : (declared?.memory ?? section.defaults.memory);
  if (memory % MIB !== 0 || memory < 16 * MIB)
    throw new UsageError(messages.badMemory(flags.memory ?? String(memory)), messages.badMemoryHint);
  const disk = flags.disk !== undefined ? sizeFlag('--disk', flags.disk) : (declared?.disk ?? section.defaults.disk);
  const ip =
    flags.ip === undefined || flags.ip === 'auto'
      ? flags.ip === undefined
        ? declared?.ip
        : undefined
      : parseAddressWithPrefix(flags.ip);
  if (flags.ip !== undefined && flags.ip !== 'auto' && !ip)
    throw new UsageError(messages.badIp(quoted(flags.ip)), messages.badIpHint);
  if (!network) throw new UsageError(messages.noNetwork(role?.name ?? ''), messages.noNetworkHint);
  if (ip) {
    if (!inNetwork(ip.address, network) || ip.prefix !== network.prefix)
      throw new UsageError(
        messages.ipOutside(`${ip.address}/${ip.prefix}`, network.name, network.cidr),
        messages.ipOutsideHint(`${network.cidr}`),
      );
  } else if (!network.allocate) {
    throw new UsageError(messages.noAllocate(network.name), messages.noAllocateHint);
  }
  const node = flags.node ?? 'auto';
  if (node !== 'auto' && !NODE.test(node)) throw new UsageError(messages.badNode(quoted(node)), messages.badNodeHint);
  const tags =
    flags.tags !== undefined
      ? flags.tags
          .split(',')
          .map((tag) => tag.trim())
          .filter(Boolean)
      : (declared?.tags ?? []);
  const badTag = tags.find((tag) => !TAG.test(tag));
  if (badTag !== undefined) throw new UsageError(messages.badTag(quoted(badTag)), messages.badTagHint);
  return {
    name,
    template,
    ...(role ? { role } : {}),
    network,
    cores,
    memory,
    disk,
    ip: ip ?? 'auto',
    node,
    tags: [...new Set(tags.map((tag) => tag.toLowerCase()))],
    ...(section.storage ? { storage: section.storage } : {}),
    ...(section.bridge ? { bridge: section.bridge } : {}),
    ...(section.backupJob ? { backupJob: section.backupJob } : {}),
    ...(role?.securityGroup ? { securityGroup: role.securityGroup } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** Addresses pinged in one round while looking for a free one. */
const PING_ROUND = 6;

/** The range's addresses, in order, that are none of `excluded` (the inventory's, the network's own). */
function freeCandidates(network: ProxmoxNetwork, excluded: ReadonlySet<string>, count: number): string[] {
  const range = network.allocate;
  if (!range) return [];
  const found: string[] = [];
  for (let n = ipToNumber(range.first); n <= ipToNumber(range.last) && found.length < count; n++) {
    const address = numberToIp(n);
    if (!excluded.has(address)) found.push(address);
  }
  return found;
}

/** Addresses a new VM may never get: those of the inventory, the network's gateway and DNS servers. */
export function reservedAddresses(
  network: ProxmoxNetwork | undefined,
  inventoryAddresses: readonly string[],
): Set<string> {
  return new Set([...inventoryAddresses, ...(network?.gateway ? [network.gateway] : []), ...(network?.dns ?? [])]);
}

// ---------------------------------------------------------------------------------------------
// The preflight judgement

export interface ClusterFacts {
  resources: Resources;
  /** Every VM's config, read from /etc/pve: names, memory and addresses as they are now. */
  configs: QemuSummary[];
  /** Addresses pinged, and whether each answered. */
  pings: Map<string, boolean>;
  /** The cluster's security groups (undefined: not asked). */
  groups?: string[];
  job?: BackupJob;
  /** /cluster/nextid, when chaton has no VMID range of its own. */
  nextid?: number;
  /** The template's config; undefined when the cluster has no such VM. */
  template?: VmConfig;
}

export type Preflight =
  | { kind: 'refused'; problems: Said[] }
  /** A VM of that name: its state decides (unchanged, differs, or a run to resume). */
  | { kind: 'found'; vm: ClusterVm }
  /** More addresses to ask the network about before one can be chosen. */
  | { kind: 'ping'; addresses: string[] }
  | { kind: 'create'; node: string; address: string; prefix: number; firstVmid: number };

/**
 * Memory a node can still give: its total less what its guests are given (or use, if more). The
 * VMs' memory is their configs' (a VM cloned a moment ago counts), the containers' the API's.
 */
export function headroom(node: ClusterNode, facts: Pick<ClusterFacts, 'resources' | 'configs'>): number {
  const guests = [
    ...facts.configs,
    ...facts.resources.vms.filter((vm) => vm.type === 'lxc').map((vm) => ({ ...vm, memory: vm.maxmem })),
  ];
  const allocated = guests
    .filter((guest) => guest.node === node.node && !guest.template)
    .reduce((sum, guest) => sum + guest.memory, 0);
  return node.maxmem - Math.max(allocated, node.mem);
}

/** Each address named by a VM's ipconfig, and that VM. */
function configuredAddresses(configs: readonly QemuSummary[]): Map<string, number> {
  return new Map(configs.flatMap((vm) => vm.addresses.map((address) => [address, vm.vmid] as const)));
}

/** The nodes that could take the VM, most headroom first. */
function nodeChoice(wanted: WantedVm, facts: ClusterFacts): { node: string } | { problem: Said } {
  const { resources } = facts;
  const online = resources.nodes.filter((node) => node.status === 'online');
  const room = (node: ClusterNode) => headroom(node, facts);
  const size = formatBytes(wanted.memory);
  if (wanted.node !== 'auto') {
    const node = resources.nodes.find((n) => n.node === wanted.node);
    if (!node) return { problem: said('nodeUnknown', wanted.node, resources.nodes.map((n) => n.node).join(', ')) };
    if (node.status !== 'online') return { problem: said('nodeOffline', node.node, node.status) };
    if (room(node) < wanted.memory)
      return { problem: said('nodeFull', node.node, formatBytes(Math.max(0, room(node))), size) };
    return { node: node.node };
  }
  const best = [...online].sort((a, b) => room(b) - room(a) || a.node.localeCompare(b.node))[0];
  if (!best) return { problem: said('noNodeOnline') };
  if (room(best) < wanted.memory)
    return { problem: said('everyNodeFull', size, best.node, formatBytes(Math.max(0, room(best)))) };
  return { node: best.node };
}

/** Memory for people: `4G`, `1.5G`, `512M`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['T', 1024 ** 4],
    ['G', 1024 ** 3],
    ['M', MIB],
  ] as const) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit}`;
    }
  }
  return bytes > 0 ? `${Math.round(bytes / 1024)}K` : '0';
}

/** Why an address cannot be the new VM's, or undefined when it can. */
function addressTaken(
  address: string,
  facts: ClusterFacts,
  reserved: ReadonlySet<string>,
  ownVmid?: number,
): Said | undefined {
  if (reserved.has(address)) return said('addressInInventory', address);
  const vmid = configuredAddresses(facts.configs).get(address);
  if (vmid !== undefined && vmid !== ownVmid) return said('addressOfVm', address, vmid);
  if (facts.pings.get(address) === true) return said('addressAnswers', address);
  return undefined;
}

/**
 * The new VM's address: the one asked for, or the first of the network's range that nothing uses
 * (the inventory, another VM's config, an answer on the network). A VM being continued keeps the
 * address its config already has. More addresses to ping: `ping`.
 */
export function chooseAddress(
  wanted: WantedVm,
  facts: ClusterFacts,
  reserved: ReadonlySet<string>,
  own?: { vmid: number; config: VmConfig },
): { address: string; prefix: number } | { ping: string[] } | { problem: Said } {
  const current = own?.config.ipconfig0 === undefined ? undefined : ipconfigAddress(own.config.ipconfig0);
  if (current !== undefined && (wanted.ip === 'auto' || wanted.ip.address === current)) {
    // Its own address: its own VM may answer there already.
    const taken = addressTaken(current, { ...facts, pings: new Map() }, reserved, own?.vmid);
    return taken ? { problem: taken } : { address: current, prefix: wanted.network?.prefix ?? 24 };
  }
  if (wanted.ip !== 'auto') {
    const taken = addressTaken(wanted.ip.address, facts, reserved, own?.vmid);
    if (taken) return { problem: taken };
    return facts.pings.has(wanted.ip.address) ? wanted.ip : { ping: [wanted.ip.address] };
  }
  const network = wanted.network!;
  const configured = configuredAddresses(facts.configs).keys();
  const free = freeCandidates(network, new Set([...reserved, ...configured]), Number.MAX_SAFE_INTEGER);
  const pingedFree = free.find((candidate) => facts.pings.get(candidate) === false);
  if (pingedFree) return { address: pingedFree, prefix: network.prefix };
  const unpinged = free.filter((candidate) => !facts.pings.has(candidate));
  if (unpinged.length > 0) return { ping: unpinged.slice(0, PING_ROUND) };
  return { problem: said('noFreeAddress', network.name, `${network.allocate?.first}-${network.allocate?.last}`) };
}

/** The first VMID to try: the lowest free one of chaton's range, else the cluster's next free one. */
export function nextVmid(
  section: Pick<ProxmoxSection, 'vmids'>,
  used: ReadonlySet<number>,
  nextid: number | undefined,
  after = 0,
): number | undefined {
  const first = Math.max(section.vmids?.first ?? nextid ?? 100, after + 1);
  const last = section.vmids?.last ?? 999_999_999;
  for (let id = first; id <= last; id++) if (!used.has(id)) return id;
  return undefined;
}

/**
 * What the cluster says of the VM wanted, before anything is made: a VM of that name (then its
 * own state decides), or every reason it cannot be made, or where and as what it will be made.
 */
export function preflight(
  wanted: WantedVm,
  section: Pick<ProxmoxSection, 'vmids'>,
  facts: ClusterFacts,
  reserved: ReadonlySet<string>,
): Preflight {
  const named = facts.configs.filter((vm) => vm.name === wanted.name);
  if (named.length > 1)
    return { kind: 'refused', problems: [said('nameTwice', wanted.name, named.map((vm) => vm.vmid).join(', '))] };
  if (named[0]) {
    const { vmid, node, name, memory, template } = named[0];
    const listed = facts.resources.vms.find((vm) => vm.vmid === vmid);
    return {
      kind: 'found',
      vm: {
        vmid,
        type: 'qemu',
        ...(name ? { name } : {}),
        node,
        status: listed?.status ?? 'unknown',
        template,
        maxmem: memory,
      },
    };
  }

  const problems: Said[] = [];
  const template = facts.configs.find((vm) => vm.vmid === wanted.template.vmid);
  if (!template || !facts.template) problems.push(said('templateMissing', wanted.template.name, wanted.template.vmid));
  else if (!template.template) problems.push(said('templateNotTemplate', wanted.template.name, wanted.template.vmid));
  else if (facts.template.disk && facts.template.disk.size > wanted.disk)
    problems.push(
      said('diskTooSmall', formatBytes(wanted.disk), wanted.template.name, formatBytes(facts.template.disk.size)),
    );
  if (wanted.securityGroup !== undefined && facts.groups && !facts.groups.includes(wanted.securityGroup))
    problems.push(said('groupMissing', wanted.securityGroup, facts.groups.join(', ') || '-'));
  if (wanted.backupJob !== undefined && !facts.job) problems.push(said('jobMissing', wanted.backupJob));
  if (facts.job?.pool !== undefined) problems.push(said('jobByPool', facts.job.id, facts.job.pool));

  const node = nodeChoice(wanted, facts);
  if ('problem' in node) problems.push(node.problem);

  const address = chooseAddress(wanted, facts, reserved);
  if ('ping' in address) return { kind: 'ping', addresses: address.ping };
  if ('problem' in address) problems.push(address.problem);
  const used = new Set([...facts.resources.vms, ...facts.configs].map((vm) => vm.vmid));
  const firstVmid = nextVmid(section, used, facts.nextid);
  if (firstVmid === undefined) problems.push(said('noFreeVmid'));
  if (problems.length > 0 || 'problem' in node || !('address' in address) || firstVmid === undefined)
    return { kind: 'refused', problems };
  return { kind: 'create', node: node.node, address: address.address, prefix: address.prefix, firstVmid };
}

// ---------------------------------------------------------------------------------------------
// An existing VM: unchanged, different, or a run to resume

/** What chaton writes in the description of a VM it is making: a rerun resumes such a VM. */
export const NOT_FINISHED = 'chaton vm create: not finished';
export const MADE_BY = 'made by chaton vm create';

export function unfinished(config: VmConfig): boolean {
  return (config.description ?? '').startsWith(NOT_FINISHED);
}

/** What the VM is now, read on the cluster. */
export interface VmState {
  vm: ClusterVm;
  config: VmConfig;
  firewall: boolean;
  rules: FirewallRule[];
  /** Whether the backup job backs it up (undefined: no job in the inventory). */
  inJob?: boolean;
}

export interface Difference {
  setting: string;
  wanted: string;
  actual: string;
}

/**
 * The settings of `state` that are not those wanted (what `vm create` would have made): running
 * too, unless `--no-start`. The SSH keys are not compared: cloud-init applied them at the first
 * boot, and the roster changes since are onboard's and offboard's business.
 */
export function differences(state: VmState, wanted: WantedVm, started = true): Difference[] {
  const { config } = state;
  const found: Difference[] = [];
  const compare = (setting: string, want: string, actual: string | undefined) => {
    if (want !== (actual ?? '')) found.push({ setting, wanted: want, actual: actual ?? '-' });
  };
  if (wanted.node !== 'auto') compare('node', wanted.node, state.vm.node);
  if (started) compare('status', 'running', state.vm.status);
  compare('cores', String(wanted.cores), config.cores === undefined ? undefined : String(config.cores));
  compare(
    'memory',
    formatBytes(wanted.memory),
    config.memory === undefined ? undefined : formatBytes(config.memory * MIB),
  );
  compare('disk', formatBytes(wanted.disk), config.disk ? formatBytes(config.disk.size) : undefined);
  const address = config.ipconfig0 === undefined ? undefined : ipconfigAddress(config.ipconfig0);
  if (wanted.ip !== 'auto') compare('address', wanted.ip.address, address);
  else if (address === undefined) compare('address', 'auto', undefined);
  compare('tags', [...wanted.tags].sort().join(','), [...config.tags].sort().join(','));
  compare('onboot', '1', config.onboot ? '1' : '0');
  compare('agent', '1', config.agent ? '1' : '0');
  compare(
    'firewall',
    'on',
    state.firewall && config.net0 !== undefined && parseNic(config.net0).firewall ? 'on' : 'off',
  );
  if (wanted.securityGroup !== undefined)
    compare(
      'security group',
      wanted.securityGroup,
      hasGroupRule(state.rules, wanted.securityGroup) ? wanted.securityGroup : undefined,
    );
  if (wanted.backupJob !== undefined && state.inJob !== undefined)
    compare('backup job', wanted.backupJob, state.inJob ? wanted.backupJob : undefined);
  return found;
}

export function hasGroupRule(rules: readonly FirewallRule[], group: string): boolean {
  return rules.some((rule) => rule.type === 'group' && rule.action === group && rule.enable);
}

/** What the configure step sets: the cloud-init user, its keys and the address with it. */
export interface GuestSettings {
  address: string;
  prefix: number;
  user: string;
  sshKeys: string[];
}

/** Sizes for the API: `34359738368` bytes as `32G`, in the largest unit that divides them. */
export function sizeArgument(bytes: number): string {
  for (const [unit, size] of [
    ['T', 1024 ** 4],
    ['G', 1024 ** 3],
    ['M', MIB],
    ['K', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/**
 * The `pvesh set .../config` arguments that make the VM's config the one wanted (none when it is
 * already), then whether its disk must grow. The keys are compared decoded; the NIC keeps its
 * model and MAC address (made by the clone) and gets the bridge and the firewall.
 */
export function configChanges(
  config: VmConfig,
  wanted: WantedVm,
  guest: GuestSettings,
): { set: string[]; resize?: { disk: string; size: string } } {
  const set: string[] = [];
  const want = (key: string, value: string, actual: string | undefined) => {
    if (value !== actual) set.push(`--${key}`, value);
  };
  want('cores', String(wanted.cores), config.cores === undefined ? undefined : String(config.cores));
  want('memory', String(wanted.memory / MIB), config.memory === undefined ? undefined : String(config.memory));
  want('ciuser', guest.user, config.ciuser);
  if (guest.sshKeys.join('\n') !== config.sshkeys.join('\n')) set.push('--sshkeys', encodeSshKeys(guest.sshKeys));
  const gateway = wanted.network?.gateway;
  want('ipconfig0', `ip=${guest.address}/${guest.prefix}${gateway ? `,gw=${gateway}` : ''}`, config.ipconfig0);
  if (wanted.network?.dns.length) want('nameserver', wanted.network.dns.join(' '), config.nameserver);
  if ([...wanted.tags].sort().join(';') !== [...config.tags].sort().join(';') && wanted.tags.length > 0)
    set.push('--tags', wanted.tags.join(';'));
  want('onboot', '1', config.onboot ? '1' : undefined);
  want('agent', '1', config.agent ? '1' : undefined);
  const nic = parseNic(config.net0 ?? '');
  const bridge = wanted.bridge ?? nic.bridge ?? 'vmbr0';
  const model = nic.model ?? 'virtio';
  const net0 = `${model}${nic.mac ? `=${nic.mac}` : ''},bridge=${bridge},firewall=1`;
  if (!nic.firewall || nic.bridge !== bridge || nic.model === undefined) set.push('--net0', net0);
  const disk = config.disk;
  const resize = disk && disk.size < wanted.disk ? { disk: disk.key, size: sizeArgument(wanted.disk) } : undefined;
  return resize ? { set, resize } : { set };
}
