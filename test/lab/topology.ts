// What a lab is made of: its name and index, its hosts and their addresses, and where its files
// live. Pure data: nothing here touches the machine.
import { join } from 'node:path';

/** A request the lab refuses as asked (bad arguments, not root, missing packages): CLI exit 2. */
export class LabPreconditionError extends Error {
  override name = 'LabPreconditionError';
}

export const LAB_ROOT = '/run/chaton-lab';
/** One entry per running lab: a symlink named by the lab index, pointing at the lab name. */
export const INDEX_DIR = join(LAB_ROOT, '.index');
export const DEFAULT_LAB_NAME = 'default';
export const DEFAULT_EXTRA_HOSTS = 20;
export const MAX_LABS = 100;
const FIRST_EXTRA_OCTET = 31;
/** The last octets new VMs get their addresses from (the inventory's `proxmox:` allocate range). */
export const VM_ADDRESS_OCTETS = { first: 240, last: 250 };
/** Extra hosts take .31 upwards in a /24, below the new VMs' range. */
const MAX_EXTRA_HOSTS = VM_ADDRESS_OCTETS.first - FIRST_EXTRA_OCTET;
/** RFC 2544 benchmarking range, blackholed in the root namespace while a lab is up. */
export const LAB_RANGE = '198.18.0.0/15';
/** RFC 5737 documentation ranges: a wan lab's "internet", blackholed in the root namespace too. */
export const DOCUMENTATION_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'];
/** The environment of a root session on a lab host, as sshd would set it up. */
export const HOST_SESSION_ENV = {
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  SHELL: '/bin/bash',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
};

export interface LabHost {
  name: string;
  /** Where chaton reaches it: the bastion's outside address, the LAN address for the others. */
  address: string;
  netns: string;
  roles: string[];
}

export interface PlannedHost extends LabHost {
  /** Where the operator reaches it, in the order to try (address is the first). */
  addresses: string[];
  lanAddress: string;
  /** Its veth end on the switch's bridge. */
  switchPort: string;
  /** Its state directory, holding its /etc upper layer, /home, /root, /tmp, /var/log, /run. */
  dir: string;
}

export interface LabPaths {
  stateDir: string;
  /** What `up` asked for, read by the supervisor. */
  configFile: string;
  stateFile: string;
  controlSocket: string;
  supervisorLog: string;
  inventory: string;
  knownHosts: string;
  operatorKey: string;
  /** Device nodes and links copied into each host's /dev. */
  devTemplate: string;
  hostsDir: string;
  /** The lab's one /etc/pve, bound into every pve host as pmxcfs shares it across a cluster. */
  pveCluster: string;
  /**
   * The backup host's /srv/backup, bound there, and read-only into every pve host at
   * /mnt/pve/backup-nfs as the NFS export of a real site: the nodes restore from it.
   */
  backupExport: string;
  /** The VM hosts' state directories (their disks), one per VMID. */
  vmsDir: string;
  /** What the Proxmox stand-in on pve hosts needs of the supervisor, bound into them (see VM_LAB_MOUNT). */
  vmLab: VmLabPaths;
  /** The cluster's shared VM storage `vmdata`, bound into every pve host at /mnt/pve/vmdata. */
  vmData: string;
  /** A Ceph lab's side of its hosts, bound into the Ceph hosts at CEPH_LAB_MOUNT (README: Ceph). */
  cephLab: CephLabPaths;
  /** The disk registry's side of the disk hosts, bound into them at DISK_LAB_MOUNT (README: Disks). */
  diskLab: DiskLabPaths;
  /** The sparse files behind the lab's disks (`<serial>.img`): the hosts never see them. */
  disksDir: string;
}

/** What a lab's disk hosts share with the supervisor. */
export interface DiskLabPaths {
  dir: string;
  /** A listener of the control socket: the disk requests of the stand-ins (sgdisk's rescans). */
  controlSocket: string;
  /** The disk registry, a JSON list of LabDisk (control.ts), rewritten by the supervisor only. */
  disksFile: string;
  /** The locate LEDs the ledctl stand-in lit: a file per lit disk, named after its serial. */
  ledsDir: string;
  /** StorageRates (standins/storage-state.ts): its STORAGE_RATES in the hosts. */
  storageRates: string;
}

/** What a Ceph lab's hosts share with the supervisor. */
export interface CephLabPaths {
  dir: string;
  /** A third listener of the control socket: systemctl's unit requests. */
  controlSocket: string;
  /** The objects written to the pool when the lab came up: `[{name, size, sha256}]`. */
  objectsFile: string;
  /** The faults file of CephFaults (standins/ceph-lab.ts): CEPH_LAB_FAULTS in the hosts. */
  faults: string;
  /** The cluster's keys, monmap and ceph.conf, from which each host sets itself up. */
  bootstrapDir: string;
}

/** The directory bound into pve hosts: the control socket the stand-in asks for VM hosts, faults, waits. */
export interface VmLabPaths {
  dir: string;
  controlSocket: string;
  /** The faults file (README: VM hosts), a JSON object: read and written under flock(2) of the file. */
  faults: string;
  /** One line per wait the lab imposes, `<ISO time> <kind> <ms>`, so the bench can subtract it. */
  waitsLog: string;
}

export interface LabConfig {
  name: string;
  index: number;
  extraHosts: number;
  /** A site behind a gateway with two ISP links (README: WAN mode). */
  wan?: boolean;
  /** A real Ceph cluster on the hosts of role `ceph` (README: Ceph). */
  ceph?: boolean;
  /** pve1-3 on a ZFS mirror and backup on an mdadm RAID1, on lab disks (README: Disks). */
  disks?: boolean;
}

export type WanLinkName = 'main' | 'backup';

/** One ISP link of a wan lab, as the inventory's `failover.links` describes it. */
export interface WanLink {
  name: WanLinkName;
  /** The ISP's namespace: its box answers at nextHop; its `up0` leads to the internet. */
  ispNetns: string;
  /** The gateway's interface to that ISP. */
  interface: string;
  nextHop: string;
  publicAddress: string;
  /** The gateway's route table for that link, and the connection mark that selects it. */
  table: number;
  mark: number;
  /** The /29 between the ISP's box and the gateway. */
  customerSubnet: string;
  /** The ISP's end (`up0`) and the internet's end (named after the ISP) of its upstream /30. */
  upstreamAddress: string;
  internetAddress: string;
  internetInterface: string;
}

export interface WanLayout {
  internetNetns: string;
  /** The root namespace's end of its link to the internet, and the internet's end (`up0`). */
  rootVeth: string;
  rootAddress: string;
  internetAddress: string;
  /** Every ISP-side address of the lab (ISP boxes, public addresses, upstream links): via the internet. */
  publicRange: string;
  links: Record<WanLinkName, WanLink>;
  /** Addresses held by the internet namespace, beyond both ISPs. */
  probeTargets: string[];
  dns: WanDns;
}

/** The site's DNS: a real BIND in the internet namespace, authoritative for `zone`. */
export interface WanDns {
  server: string;
  zone: string;
  /** A records holding the main link's public address when the lab comes up. */
  names: string[];
  ttl: number;
  /** The TSIG key that may update the zone, written on the gateway at keyFile (tsig-keygen's format). */
  keyName: string;
  keyFile: string;
  /** BIND's own files: configuration, key, zone and its journal, pid, log. */
  dir: string;
}

export interface LabPlan extends LabConfig {
  paths: LabPaths;
  switchNetns: string;
  /** The root namespace's end of the link to the bastion (not made in a wan lab). */
  rootVeth: string;
  rootAddress: string;
  bastion: PlannedHost;
  /** Every host but the bastion, in inventory order. */
  hosts: PlannedHost[];
  wanLayout: WanLayout | undefined;
}

/** state.json: written by the supervisor once the lab is up, rewritten when an sshd or a VM starts or stops. */
export interface LabState extends LabConfig {
  supervisorPid: number;
  bastion: HostState;
  hosts: HostState[];
  /** The VM hosts running, in VMID order. */
  vms: VmState[];
}

/** A VM host: what the Proxmox stand-in started for a cloud-init VM. */
export interface VmState {
  vmid: number;
  name: string;
  /** Its cloud-init address, without the prefix length. */
  address: string;
  netns: string;
  holderPid: number;
  sshdPid: number | null;
}

export interface HostState extends LabHost {
  /** The process holding the host's mount and UTS namespaces: enter the host through it. */
  holderPid: number;
  sshdPid: number | null;
}

export function validateLabName(name: string): void {
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) {
    throw new LabPreconditionError(
      `invalid lab name "${name}": use 1-32 of a-z 0-9 _ -, starting with a letter or digit`,
    );
  }
}

export function validateExtraHosts(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_EXTRA_HOSTS) {
    throw new LabPreconditionError(`the number of extra hosts must be 0 to ${MAX_EXTRA_HOSTS}`);
  }
}

export function labPaths(name: string): LabPaths {
  const stateDir = join(LAB_ROOT, name);
  return {
    stateDir,
    configFile: join(stateDir, 'lab.json'),
    stateFile: join(stateDir, 'state.json'),
    controlSocket: join(stateDir, 'control.sock'),
    supervisorLog: join(stateDir, 'supervisor.log'),
    inventory: join(stateDir, 'inventory.yaml'),
    knownHosts: join(stateDir, 'known_hosts'),
    operatorKey: join(stateDir, 'operator', 'id_ed25519'),
    devTemplate: join(stateDir, 'dev-template'),
    hostsDir: join(stateDir, 'hosts'),
    pveCluster: join(stateDir, 'pve-cluster'),
    backupExport: join(stateDir, 'backup-export'),
    vmsDir: join(stateDir, 'vms'),
    vmLab: vmLabPaths(join(stateDir, 'vm-lab')),
    vmData: join(stateDir, 'vmdata'),
    cephLab: cephLabPaths(join(stateDir, 'ceph-lab')),
    diskLab: diskLabPaths(join(stateDir, 'disk-lab')),
    disksDir: join(stateDir, 'disks'),
  };
}

export function cephLabPaths(dir: string): CephLabPaths {
  return {
    dir,
    controlSocket: join(dir, 'control.sock'),
    objectsFile: join(dir, 'objects.json'),
    faults: join(dir, 'ceph-faults.json'),
    bootstrapDir: join(dir, 'bootstrap'),
  };
}

export function diskLabPaths(dir: string): DiskLabPaths {
  return {
    dir,
    controlSocket: join(dir, 'control.sock'),
    disksFile: join(dir, 'disks.json'),
    ledsDir: join(dir, 'leds'),
    storageRates: join(dir, 'storage-rates.json'),
  };
}

export function vmLabPaths(dir: string): VmLabPaths {
  return {
    dir,
    controlSocket: join(dir, 'control.sock'),
    faults: join(dir, 'vm-faults.json'),
    waitsLog: join(dir, 'vm-waits.log'),
  };
}

/** Where pve hosts see the lab's VmLabPaths directory. */
export const VM_LAB_MOUNT = '/var/lib/chaton-lab/vm-lab';
/** On pve hosts: `{"controlSocket", "faultsFile", "waitsLog"}`, their paths as the host sees them. */
export const VM_LAB_CONFIG = '/etc/chaton-lab/vm-lab.json';

export function namespacePrefix(index: number): string {
  return `cl${index}-`;
}

export function rootVethName(index: number): string {
  return `chl${index}`;
}

/** A wan lab's root-side link, to its internet rather than to the bastion. */
export function wanRootVethName(index: number): string {
  return `chw${index}`;
}

/** The LAN of lab `index`, a /24. */
export function lanSubnet(index: number): string {
  return `198.18.${index}.0/24`;
}

function lanAddress(index: number, lastOctet: number): string {
  return `198.18.${index}.${lastOctet}`;
}

/** 198.19.k.x: the /30 between the root namespace (.1) and the bastion (.2), and a wan lab's links. */
function outsideAddress(index: number, lastOctet: number): string {
  return `198.19.${index}.${lastOctet}`;
}

export const GATEWAY_HOST = 'gw';

/** The addresses of issue 12's design (the lab addresses table). */
export function wanLayout(index: number, prefix: string, stateDir: string): WanLayout {
  const link = (name: WanLinkName, n: 1 | 2, customerNet: number, upstreamNet: number): WanLink => ({
    name,
    ispNetns: `${prefix}isp${n}`,
    interface: `wan${n}`,
    customerSubnet: `${outsideAddress(index, customerNet)}/29`,
    nextHop: outsideAddress(index, customerNet + 1),
    publicAddress: outsideAddress(index, customerNet + 2),
    table: 100 + n,
    mark: n,
    upstreamAddress: outsideAddress(index, upstreamNet + 1),
    internetAddress: outsideAddress(index, upstreamNet + 2),
    internetInterface: `isp${n}`,
  });
  return {
    internetNetns: `${prefix}internet`,
    rootVeth: wanRootVethName(index),
    rootAddress: outsideAddress(index, 5),
    internetAddress: outsideAddress(index, 6),
    publicRange: `${outsideAddress(index, 64)}/27`,
    links: { main: link('main', 1, 64, 88), backup: link('backup', 2, 72, 92) },
    probeTargets: ['192.0.2.1', '198.51.100.1', '203.0.113.1'],
    dns: {
      server: '192.0.2.53',
      zone: 'site.test',
      names: ['www.site.test', 'mail.site.test'],
      ttl: 60,
      keyName: 'chaton-failover',
      keyFile: '/etc/chaton/failover.key',
      dir: join(stateDir, 'dns'),
    },
  };
}

function extraHostName(n: number): string {
  return `host${String(n).padStart(3, '0')}`;
}

interface HostSpec {
  name: string;
  lastOctet: number;
  roles: string[];
}

const BASTION: HostSpec = { name: 'bastion', lastOctet: 1, roles: ['bastion'] };
const GATEWAY_LAST_OCTET = 2;
const FIXED_HOSTS: HostSpec[] = [
  { name: 'pve1', lastOctet: 11, roles: ['pve', 'ceph', 'disks'] },
  { name: 'pve2', lastOctet: 12, roles: ['pve', 'ceph', 'disks'] },
  { name: 'pve3', lastOctet: 13, roles: ['pve', 'ceph', 'disks'] },
  { name: GATEWAY_HOST, lastOctet: GATEWAY_LAST_OCTET, roles: ['gateway'] },
  { name: 'backup', lastOctet: 20, roles: ['backup', 'disks'] },
];

/** The LAN hosts' default route in a wan lab. */
export function gatewayLanAddress(index: number): string {
  return lanAddress(index, GATEWAY_LAST_OCTET);
}

export function labPlan({ name, index, extraHosts, wan, ceph, disks }: LabConfig): LabPlan {
  const paths = labPaths(name);
  const layout = wan ? wanLayout(index, namespacePrefix(index), paths.stateDir) : undefined;
  // In a wan lab the operator reaches the bastion through the gateway's port forwards only.
  const bastionAddresses = layout
    ? [layout.links.main.publicAddress, layout.links.backup.publicAddress]
    : [outsideAddress(index, 2)];
  const plan = (spec: HostSpec, port: number): PlannedHost => {
    const lan = lanAddress(index, spec.lastOctet);
    const addresses = spec === BASTION ? bastionAddresses : [lan];
    return {
      name: spec.name,
      address: addresses[0] ?? lan,
      addresses,
      netns: namespacePrefix(index) + spec.name,
      roles: spec.roles,
      lanAddress: lan,
      switchPort: `p${port}`,
      dir: join(paths.hostsDir, spec.name),
    };
  };
  const extras = Array.from({ length: extraHosts }, (_, i) => ({
    name: extraHostName(i + 1),
    lastOctet: FIRST_EXTRA_OCTET + i,
    roles: ['vm'],
  }));
  return {
    name,
    index,
    extraHosts,
    ...(wan ? { wan } : {}),
    ...(ceph ? { ceph } : {}),
    ...(disks ? { disks } : {}),
    paths,
    switchNetns: `${namespacePrefix(index)}sw`,
    rootVeth: rootVethName(index),
    rootAddress: outsideAddress(index, 1),
    bastion: plan(BASTION, 0),
    hosts: [...FIXED_HOSTS, ...extras].map((spec, i) => plan(spec, i + 1)),
    wanLayout: layout,
  };
}

/** A VM host's namespace: under the lab's prefix, so that `down` finds it with the rest. */
export function vmNetns(index: number, vmid: number): string {
  return `${namespacePrefix(index)}vm${vmid}`;
}

/** A VM host's directory: its disk, kept from one start to the next, gone with the VM. */
export function vmDir(paths: LabPaths, vmid: number): string {
  return join(paths.vmsDir, String(vmid));
}

/** A started VM as a lab host: `address` is its cloud-init one, with or without its prefix length. */
export function vmHost(plan: LabPlan, vm: { vmid: number; name: string; address: string }): PlannedHost {
  const [address = ''] = vm.address.split('/');
  return {
    name: vm.name,
    address,
    addresses: [address],
    netns: vmNetns(plan.index, vm.vmid),
    roles: [],
    lanAddress: address,
    switchPort: `vm${vm.vmid}`,
    dir: vmDir(plan.paths, vm.vmid),
  };
}

/**
 * Directories each host sees through its own overlay over the machine's, so that what a test
 * installs or changes there (users, stand-in tools, backups) stays on that host.
 */
export const OVERLAID_DIRS = ['/etc', '/var', '/usr/local', '/srv', '/opt'];

export function overlayLayers(dir: string, target: string): { upper: string; work: string } {
  const slug = target.slice(1).replaceAll('/', '-');
  return { upper: join(dir, `${slug}-upper`), work: join(dir, `${slug}-work`) };
}

/** Where things are in a host's state directory. */
export function hostPaths(dir: string) {
  return {
    sshdLog: join(dir, 'sshd.log'),
    fstab: join(dir, 'fstab'),
    etcUpper: overlayLayers(dir, '/etc').upper,
    usrLocalUpper: overlayLayers(dir, '/usr/local').upper,
    hostKey: join(dir, 'etc-upper', 'ssh', 'ssh_host_ed25519_key'),
    root: join(dir, 'root'),
    log: join(dir, 'log'),
    syslog: join(dir, 'log', 'syslog'),
    run: join(dir, 'run'),
    devLogSocket: join(dir, 'run', 'systemd', 'journal', 'dev-log'),
    dev: join(dir, 'dev'),
  };
}

/**
 * `nsenter` arguments that run `argv` inside a host (its network, mounts and hostname), from /root
 * (a session's) unless told: a daemon that drops root needs one it may read, as systemd's `/`.
 */
export function enterHostArgs(holderPid: number, argv: string[], workDir = '/root'): string[] {
  return ['-t', String(holderPid), '-m', '-u', '-n', '-p', `--wd=${workDir}`, '--', ...argv];
}

/** Whether the lab has disks (its Ceph cluster's, or the mirrors of --disks): DiskLab serves them. */
export function hasDisks(plan: Pick<LabConfig, 'ceph' | 'disks'>): boolean {
  return plan.ceph === true || plan.disks === true;
}

/** The roles whose stand-ins and files a host gets: `ceph` only in a Ceph lab, `disks` in a lab with disks. */
export function activeRoles(plan: Pick<LabConfig, 'ceph' | 'disks'>, host: PlannedHost): string[] {
  return host.roles.filter((role) => (role !== 'ceph' || plan.ceph === true) && (role !== 'disks' || hasDisks(plan)));
}
