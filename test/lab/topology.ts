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
/** Extra hosts take .31 upwards in a /24. */
const MAX_EXTRA_HOSTS = 224;
/** RFC 2544 benchmarking range, blackholed in the root namespace while a lab is up. */
export const LAB_RANGE = '198.18.0.0/15';
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
}

export interface LabConfig {
  name: string;
  index: number;
  extraHosts: number;
}

export interface LabPlan extends LabConfig {
  paths: LabPaths;
  switchNetns: string;
  /** The root namespace's end of the link to the bastion. */
  rootVeth: string;
  rootAddress: string;
  bastion: PlannedHost;
  /** Every host but the bastion, in inventory order. */
  hosts: PlannedHost[];
}

/** state.json: written by the supervisor once the lab is up, rewritten when an sshd starts or stops. */
export interface LabState extends LabConfig {
  supervisorPid: number;
  bastion: HostState;
  hosts: HostState[];
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
  };
}

export function namespacePrefix(index: number): string {
  return `cl${index}-`;
}

export function rootVethName(index: number): string {
  return `chl${index}`;
}

/** The LAN of lab `index`, a /24. */
export function lanSubnet(index: number): string {
  return `198.18.${index}.0/24`;
}

function lanAddress(index: number, lastOctet: number): string {
  return `198.18.${index}.${lastOctet}`;
}

/** The /30 between the root namespace (.1) and the bastion (.2). */
function outsideAddress(index: number, lastOctet: 1 | 2): string {
  return `198.19.${index}.${lastOctet}`;
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
const FIXED_HOSTS: HostSpec[] = [
  { name: 'pve1', lastOctet: 11, roles: ['pve', 'ceph'] },
  { name: 'pve2', lastOctet: 12, roles: ['pve', 'ceph'] },
  { name: 'pve3', lastOctet: 13, roles: ['pve', 'ceph'] },
  { name: 'gw', lastOctet: 2, roles: ['gateway'] },
  { name: 'backup', lastOctet: 20, roles: ['backup'] },
];
const FIRST_EXTRA_OCTET = 31;

export function labPlan({ name, index, extraHosts }: LabConfig): LabPlan {
  const paths = labPaths(name);
  const plan = (spec: HostSpec, port: number): PlannedHost => {
    const lan = lanAddress(index, spec.lastOctet);
    return {
      name: spec.name,
      address: spec === BASTION ? outsideAddress(index, 2) : lan,
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
    paths,
    switchNetns: `${namespacePrefix(index)}sw`,
    rootVeth: rootVethName(index),
    rootAddress: outsideAddress(index, 1),
    bastion: plan(BASTION, 0),
    hosts: [...FIXED_HOSTS, ...extras].map((spec, i) => plan(spec, i + 1)),
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

/** `nsenter` arguments that run `argv` inside a host (its network, mounts and hostname), from /root. */
export function enterHostArgs(holderPid: number, argv: string[]): string[] {
  return ['-t', String(holderPid), '-m', '-u', '-n', '-p', '--wd=/root', '--', ...argv];
}
