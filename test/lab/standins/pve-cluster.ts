// The state of the lab's Proxmox VE cluster, shared by the pvesh, qm, qmrestore and pct stand-ins:
// what pmxcfs holds in /etc/pve (the node list, the guests' configuration files, storage.cfg,
// jobs.cfg, the pools of user.cfg) and what it broadcasts in memory (the status pvestatd sends
// from every node). Self-contained (node: builtins only); copied with the stand-ins into each pve
// host's /usr/local/lib/chaton-lab.
//
// /etc/pve is one directory per lab, bound over /etc/pve of pve1-pve3 as pmxcfs shares it. pmxcfs
// also serves the status that pvestatd broadcasts every 10 s (`/etc/pve/.rrd`, a virtual file of
// "key:value:value..." lines); the stand-ins write that status themselves, one file per node under
// /etc/pve/.chaton-lab/rrd/<node> in the same line format, each time they run on that node.
//
// Sources (github.com/proxmox):
// - pve-cluster: src/PVE/Cluster.pm (get_vmlist, check_vmid_unused, rrd_dump and its line format,
//   get_nodelist), src/pmxcfs/status.c (the vmlist built from nodes/*/qemu-server|lxc/*.conf,
//   cfs_rrd_dump), src/PVE/Corosync.pm (corosync.conf's nodelist).
// - pve-common: src/PVE/SectionConfig.pm (parse_config, write_config: header, comment, disable,
//   required keys, then the optional ones sorted), src/PVE/Tools.pm (split_list).
// - qemu-server: src/PVE/QemuServer.pm (parse_vm_config, write_vm_config: "#" description lines,
//   sorted keys, [PENDING] and snapshot sections), src/PVE/QemuConfig.pm (cfs_config_path).
// - pve-container: src/PVE/LXC/Config.pm (parse_pct_config, write_pct_config: lxc.* keys kept in
//   order after the others).
// - pve-manager: src/PVE/VZDump.pm (get_included_guests), PVE/API2Tools.pm (get_rrd_key,
//   extract_vm_stats, extract_node_stats, extract_storage_stats), PVE/Service/pvestatd.pm (what
//   each rrd line holds).
// - pve-storage: src/PVE/Storage/Plugin.pm (storage.cfg properties, content lists).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeText, encodeText, replaceFile, sorted, splitList } from './pve-cli.js';
import { parseUserConfig } from './pveum.js';

export { PVE_CONFIG_DIR } from './pve-cli.js';

export type GuestType = 'qemu' | 'lxc';

/** The directory of a guest type's configuration files under nodes/<node>/. */
export const CONFIG_SUBDIR: Record<GuestType, string> = { qemu: 'qemu-server', lxc: 'lxc' };

/** Where the stand-ins keep what pmxcfs would hold in memory. */
export const LAB_STATE_SUBDIR = '.chaton-lab';

/** PVE::INotify::nodename: the short host name. */
export async function nodeName(): Promise<string> {
  const text = await readFile('/etc/hostname', 'utf8').catch(() => '');
  return text.trim().split('.')[0] || 'localhost';
}

// ---------------------------------------------------------------------------------------------
// Cluster members (corosync.conf's nodelist).

export interface ClusterNode {
  name: string;
  nodeid: number;
  address: string;
}

/** The nodelist of corosync.conf: name, nodeid and ring0_addr of each node block. */
export function parseCorosyncNodes(raw: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const [, body = ''] of raw.matchAll(/\bnode\s*\{([^{}]*)\}/g)) {
    const value = (key: string): string | undefined => new RegExp(`^\\s*${key}:\\s*(\\S+)\\s*$`, 'm').exec(body)?.[1];
    const name = value('name');
    if (name) nodes.push({ name, nodeid: Number(value('nodeid') ?? 0), address: value('ring0_addr') ?? name });
  }
  return nodes.sort((a, b) => a.nodeid - b.nodeid);
}

/** corosync.conf as `pvecm create` and `pvecm add` leave it. */
export function corosyncConf(clusterName: string, nodes: ClusterNode[]): string {
  const nodeBlocks = nodes
    .map(
      (node) =>
        `  node {\n    name: ${node.name}\n    nodeid: ${node.nodeid}\n    quorum_votes: 1\n` +
        `    ring0_addr: ${node.address}\n  }\n`,
    )
    .join('');
  return (
    `logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n${nodeBlocks}}\n\n` +
    `quorum {\n  provider: corosync_votequorum\n}\n\n` +
    `totem {\n  cluster_name: ${clusterName}\n  config_version: ${nodes.length}\n  interface {\n` +
    `    linknumber: 0\n  }\n  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}\n`
  );
}

/** get_nodelist: the cluster's nodes, or this node alone outside a cluster. */
export async function clusterNodes(configDir: string, localNode: string): Promise<ClusterNode[]> {
  const raw = await readFile(join(configDir, 'corosync.conf'), 'utf8').catch(() => '');
  const nodes = parseCorosyncNodes(raw);
  return nodes.length > 0 ? nodes : [{ name: localNode, nodeid: 1, address: localNode }];
}

// ---------------------------------------------------------------------------------------------
// Guests: the vmlist pmxcfs builds from the configuration files, and the files' format.

export interface VmListEntry {
  vmid: number;
  node: string;
  type: GuestType;
}

/** cfs_config_path: where a guest's configuration lives, relative to /etc/pve. */
export function cfsConfigPath(node: string, type: GuestType, vmid: number): string {
  return `nodes/${node}/${CONFIG_SUBDIR[type]}/${vmid}.conf`;
}

/** The vmlist: every guest of every node directory, by VMID. */
export async function readVmList(configDir: string): Promise<Map<number, VmListEntry>> {
  const list = new Map<number, VmListEntry>();
  const nodes = await readdir(join(configDir, 'nodes')).catch(() => [] as string[]);
  for (const node of sorted(nodes)) {
    for (const type of ['qemu', 'lxc'] as const) {
      const files = await readdir(join(configDir, 'nodes', node, CONFIG_SUBDIR[type])).catch(() => [] as string[]);
      for (const file of files) {
        const match = /^([1-9]\d{2,8})\.conf$/.exec(file);
        if (match) list.set(Number(match[1]), { vmid: Number(match[1]), node, type });
      }
    }
  }
  return new Map([...list].sort(([a], [b]) => a - b));
}

export interface GuestConfig {
  /** The main section's keys and values (description apart). */
  values: Map<string, string>;
  description?: string;
  /** lxc.* keys of a container, in their order. */
  lxc: [string, string][];
  /** [PENDING], snapshot and special sections, kept as written. */
  sections: string;
}

/** parse_vm_config / parse_pct_config of the main section; the other sections are kept verbatim. */
export function parseGuestConfig(raw: string): GuestConfig {
  const config: GuestConfig = { values: new Map(), lxc: [], sections: '' };
  const sectionStart = /^\[[^\]]*\]\s*$/m.exec(raw);
  const main = sectionStart ? raw.slice(0, sectionStart.index) : raw;
  if (sectionStart) config.sections = raw.slice(sectionStart.index);
  let description: string | undefined;
  for (const line of main.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    const comment = /^#(.*)$/.exec(line);
    if (comment) {
      description = `${description ?? ''}${decodeText(comment[1] ?? '')}\n`;
      continue;
    }
    const raw = /^(lxc\.[a-z0-9_\-.]+)(?::|\s*=)\s*(.*?)\s*$/.exec(line);
    if (raw) {
      config.lxc.push([raw[1] as string, raw[2] as string]);
      continue;
    }
    const match = /^([a-z][a-z_-]*\d*):\s*(.+?)\s*$/.exec(line);
    if (!match) continue; // "unable to parse config" is a warning only
    if (match[1] === 'description') description = `${description ?? ''}${decodeText(match[2] as string)}`;
    else config.values.set(match[1] as string, match[2] as string);
  }
  if (description !== undefined) config.description = description.replace(/\s+$/, '');
  return config;
}

/** write_vm_config / write_pct_config: the description as comments, the keys sorted, then the sections. */
export function writeGuestConfig(config: GuestConfig): string {
  let raw = '';
  if (config.description)
    raw += config.description
      .split('\n')
      .map((line) => `#${encodeText(line)}\n`)
      .join('');
  for (const key of sorted(config.values.keys())) raw += `${key}: ${config.values.get(key)}\n`;
  for (const [key, value] of config.lxc) raw += `${key}: ${value}\n`;
  if (config.sections) raw += `\n${config.sections.replace(/^\n+/, '')}`;
  return raw;
}

export async function readGuestConfig(configDir: string, entry: VmListEntry): Promise<GuestConfig | undefined> {
  const raw = await readFile(join(configDir, cfsConfigPath(entry.node, entry.type, entry.vmid)), 'utf8').catch(
    () => undefined,
  );
  return raw === undefined ? undefined : parseGuestConfig(raw);
}

/** The configuration's digest as the API gives it: the SHA-1 of the file (empty when it does not exist). */
export async function guestConfigDigest(configDir: string, entry: VmListEntry): Promise<string> {
  const raw = await readFile(join(configDir, cfsConfigPath(entry.node, entry.type, entry.vmid))).catch(() => '');
  return createHash('sha1').update(raw).digest('hex');
}

export async function saveGuestConfig(configDir: string, entry: VmListEntry, config: GuestConfig): Promise<void> {
  const path = join(configDir, cfsConfigPath(entry.node, entry.type, entry.vmid));
  await mkdir(join(path, '..'), { recursive: true });
  await replaceFile(path, writeGuestConfig(config), 0o640);
}

/** The guest's name: `name` of a VM, `hostname` of a container. */
export function guestName(type: GuestType, config: GuestConfig): string | undefined {
  return config.values.get(type === 'qemu' ? 'name' : 'hostname');
}

/** A size as the configuration writes it (32G, 512M, 4096K...), in bytes. */
export function parseSize(text: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(text ?? '');
  if (!match) return undefined;
  const factor = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[match[2] as 'K'] ?? 1;
  return Math.round(Number(match[1]) * factor);
}

/** A property string ("local:100/vm-100-disk-0.raw,size=32G") as its default value and its keys. */
export function parsePropertyString(text: string, defaultKey: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const part of text.split(',')) {
    const equals = part.indexOf('=');
    if (equals < 0) properties.set(defaultKey, part);
    else properties.set(part.slice(0, equals), part.slice(equals + 1));
  }
  return properties;
}

const DISK_KEY = /^(ide|sata|scsi|virtio)\d+$/;

/** Drive::bootdisk_size: the size of the first disk of the boot order, if any. */
export function bootDiskSize(config: GuestConfig): number | undefined {
  const order = /(?:^|,)order=([^,]+)/.exec(config.values.get('boot') ?? '')?.[1];
  const candidates = order
    ? order.split(';')
    : [config.values.get('bootdisk') ?? '', ...sorted(config.values.keys()).filter((key) => DISK_KEY.test(key))];
  for (const key of candidates) {
    const drive = config.values.get(key);
    if (!drive || !DISK_KEY.test(key)) continue;
    const properties = parsePropertyString(drive, 'file');
    if (properties.get('media') === 'cdrom') continue;
    return parseSize(properties.get('size'));
  }
  return undefined;
}

/** Drive.pm drive_is_cloudinit: the key of the drive whose volume is a cloud-init image, if any. */
export function cloudinitDrive(config: GuestConfig): string | undefined {
  return sorted(config.values.keys()).find(
    (key) => DISK_KEY.test(key) && /^[^,]*vm-\d+-cloudinit/.test(config.values.get(key) ?? ''),
  );
}

/** Memory.pm parse_memory: "2048" or "current=2048,..."; 512 MiB when unset. */
export function memoryMiB(config: GuestConfig): number {
  const value = config.values.get('memory');
  if (!value) return 512;
  return Number(parsePropertyString(value, 'current').get('current') ?? 512);
}

// ---------------------------------------------------------------------------------------------
// Section configuration files (storage.cfg, jobs.cfg).

export interface Section {
  type: string;
  id: string;
  /** Keys and values; a flag without value (disable) has ''. */
  properties: Map<string, string>;
}

/** SectionConfig parse_config: "<type>: <id>" headers and their tab-indented "key value" lines. */
export function parseSectionConfig(raw: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  for (const line of raw.split('\n')) {
    if (/^\s*(#.*)?$/.test(line)) {
      if (/^\s*$/.test(line)) current = undefined;
      continue;
    }
    const header = /^(\S+):\s*(\S+)\s*$/.exec(line);
    if (header && !/^\s/.test(line)) {
      current = { type: header[1] as string, id: header[2] as string, properties: new Map() };
      sections.push(current);
      continue;
    }
    const property = /^\s+(\S+)(?:\s+(.*?))?\s*$/.exec(line);
    if (current && property) current.properties.set(property[1] as string, property[2] ?? '');
  }
  return sections;
}

/** SectionConfig write_config: header, comment, disable, `required` keys, then the others sorted. */
export function writeSectionConfig(sections: Section[], required: Record<string, string[]> = {}): string {
  return sections
    .map((section) => {
      const { properties } = section;
      let data = `${section.type}: ${section.id}\n`;
      const done = new Set(['comment', 'disable']);
      if (properties.get('comment')) data += `\tcomment ${properties.get('comment')}\n`;
      if (properties.has('disable')) data += '\tdisable\n';
      const first = sorted((required[section.type] ?? []).filter((key) => properties.has(key)));
      for (const key of [...first, ...sorted(properties.keys())]) {
        if (done.has(key)) continue;
        done.add(key);
        data += `\t${key} ${properties.get(key)}\n`;
      }
      return `${data}\n`;
    })
    .join('');
}

export interface Storage {
  id: string;
  type: string;
  path?: string;
  content: Set<string>;
  shared: boolean;
  /** Undefined: every node. */
  nodes?: Set<string>;
  disabled: boolean;
  properties: Map<string, string>;
}

/** Storage types whose volumes are files under a path (mounted at /mnt/pve/<id> for network ones). */
const PATH_STORAGE_TYPES = new Set(['dir', 'nfs', 'cifs', 'cephfs', 'glusterfs', 'btrfs']);

export function parseStorageConfig(raw: string): Storage[] {
  return parseSectionConfig(raw).map(({ type, id, properties }) => {
    const mounted = ['nfs', 'cifs', 'cephfs', 'glusterfs'].includes(type) ? `/mnt/pve/${id}` : undefined;
    const path = properties.get('path') ?? mounted;
    const storage: Storage = {
      id,
      type,
      content: new Set(splitList(properties.get('content'))),
      shared: properties.get('shared') === '1' || ['nfs', 'cifs', 'cephfs', 'glusterfs', 'rbd'].includes(type),
      disabled: properties.has('disable'),
      properties,
    };
    if (path !== undefined && PATH_STORAGE_TYPES.has(type)) storage.path = path;
    const nodes = properties.get('nodes');
    if (nodes) storage.nodes = new Set(splitList(nodes));
    return storage;
  });
}

export async function readStorageConfig(configDir: string): Promise<Storage[]> {
  return parseStorageConfig(await readFile(join(configDir, 'storage.cfg'), 'utf8').catch(() => ''));
}

/** storage_check_enabled for a node. */
export function storageEnabledOn(storage: Storage, node: string): boolean {
  return !storage.disabled && (!storage.nodes || storage.nodes.has(node));
}

export interface BackupJob {
  id: string;
  properties: Map<string, string>;
}

/** The vzdump sections of jobs.cfg (PVE 7.1 and later). */
export function parseJobsConfig(raw: string): BackupJob[] {
  return parseSectionConfig(raw)
    .filter((section) => section.type === 'vzdump')
    .map(({ id, properties }) => ({ id, properties }));
}

/** jobs.cfg as the API writes it: schedule (required) first. */
export function writeJobsConfig(jobs: BackupJob[]): string {
  const sections = jobs.map(({ id, properties }) => ({ type: 'vzdump', id, properties }));
  return writeSectionConfig(sections, { vzdump: ['schedule'] });
}

export async function readJobsConfig(configDir: string): Promise<BackupJob[]> {
  return parseJobsConfig(await readFile(join(configDir, 'jobs.cfg'), 'utf8').catch(() => ''));
}

/** user.cfg's pools: pool name to its guests. */
export async function readPools(configDir: string): Promise<Map<string, Set<number>>> {
  const raw = await readFile(join(configDir, 'user.cfg'), 'utf8').catch(() => '');
  const pools = new Map<string, Set<number>>();
  for (const [name, pool] of parseUserConfig(raw).pools) pools.set(name, pool.vms);
  return pools;
}

/** VZDump.pm get_included_guests: the VMIDs a job backs up (pool, vmid list, or all but exclude). */
export function includedGuests(
  job: BackupJob,
  vmlist: Map<number, VmListEntry>,
  pools: Map<string, Set<number>>,
): number[] {
  const { properties } = job;
  let vmids: number[];
  if (properties.get('pool')) vmids = [...(pools.get(properties.get('pool') as string) ?? [])];
  else if (properties.get('vmid')) vmids = splitList(properties.get('vmid')).map(Number);
  else if (properties.get('all') === '1') {
    const excluded = new Set(splitList(properties.get('exclude')).map(Number));
    vmids = [...vmlist.keys()].filter((vmid) => !excluded.has(vmid));
  } else return [];
  const node = properties.get('node');
  return vmids.filter((vmid) => {
    const entry = vmlist.get(vmid);
    return !entry || node === undefined || entry.node === node;
  });
}

// ---------------------------------------------------------------------------------------------
// pvestatd's broadcast, which pmxcfs serves as /etc/pve/.rrd.

/** rrd_dump: key to values, "U" (unknown) as undefined. */
export type Rrd = Map<string, (string | undefined)[]>;

/** One line as pvestatd's generate_rrd_string makes it. */
export function rrdLine(key: string, values: (string | number | undefined)[]): string {
  return `${key}:${values.map((value) => (value === undefined ? 'U' : String(value))).join(':')}\n`;
}

function rrdDir(configDir: string): string {
  return join(configDir, LAB_STATE_SUBDIR, 'rrd');
}

export async function readRrd(configDir: string): Promise<Rrd> {
  const rrd: Rrd = new Map();
  const dir = rrdDir(configDir);
  for (const node of await readdir(dir).catch(() => [] as string[])) {
    const raw = await readFile(join(dir, node), 'utf8').catch(() => '');
    for (const line of raw.split('\n')) {
      const [key, ...values] = line.split(':');
      if (key && values.length > 1)
        rrd.set(
          key,
          values.map((value) => (value === 'U' ? undefined : value)),
        );
    }
  }
  return rrd;
}

/** Replaces what `node` broadcasts. */
export async function writeNodeRrd(configDir: string, node: string, lines: string[]): Promise<void> {
  await mkdir(rrdDir(configDir), { recursive: true });
  await replaceFile(join(rrdDir(configDir), node), lines.join(''));
}

/** API2Tools get_rrd_key: the PVE 9 key, else the older one. */
export function rrdKey(rrd: Rrd, type: 'vm' | 'node' | 'storage', id: string): string | undefined {
  for (const key of [`pve-${type}-9.0/${id}`, type === 'vm' ? `pve2.3-vm/${id}` : `pve2-${type}/${id}`]) {
    if (rrd.has(key)) return key;
  }
  return undefined;
}
