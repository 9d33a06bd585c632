// The lab's Proxmox VE cluster and Proxmox Backup Server as they stand when a lab comes up: the
// files of /etc/pve (corosync.conf, storage.cfg, jobs.cfg, user.cfg's pool, the guests'
// configurations), each pve node's local storage, the PBS server's configuration on `backup`, and
// the stand-in tools each host gets. Used by the supervisor at build time and by the test helpers
// (proxmox.ts) that add or remove guests and jobs.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import {
  BACKUP_NFS_PATH,
  BACKUP_NFS_STORAGE,
  LAB_BACKUP_JOB_ID,
  PBS_STORAGE,
  STANDIN_LIB_DIR,
  standinWrapper,
} from './lab-files.js';
import { corosyncConf, type GuestType, writeJobsConfig, type BackupJob } from './standins/pve-cluster.js';
import { INSTALLED_USER_CFG, parseUserConfig, writeUserConfig } from './standins/pveum.js';
import { LAB_PBS_CONFIG } from './standins/proxmox-backup-client.js';
import { LAB_PBS_SERVERS, PBS_SERVER_MOUNT, type PbsServers } from './standins/pbs-remote.js';
import { hostPaths, overlayLayers, type LabPlan, type PlannedHost } from './topology.js';

const STANDINS_DIR = fileURLToPath(new URL('./standins/', import.meta.url));

/** The stand-in tools of each host role: name, where the real one is, its module. */
export const STANDIN_TOOLS: Record<string, { name: string; dir: 'bin' | 'sbin'; module: string }[]> = {
  pve: [
    { name: 'pveum', dir: 'sbin', module: 'pveum.js' },
    { name: 'pvesh', dir: 'bin', module: 'pvesh.js' },
    { name: 'qm', dir: 'sbin', module: 'qm.js' },
    { name: 'qmrestore', dir: 'sbin', module: 'qmrestore.js' },
    { name: 'pct', dir: 'sbin', module: 'pct.js' },
  ],
  ceph: [
    { name: 'systemctl', dir: 'bin', module: 'systemctl.js' },
    { name: 'ceph-volume', dir: 'sbin', module: 'ceph-volume.js' },
  ],
  // The disk tools of a lab with disks (pve1-3 and backup): every storage tool on each, as a host
  // may hold a pool or an array either way.
  disks: [
    { name: 'lsblk', dir: 'bin', module: 'lsblk.js' },
    { name: 'smartctl', dir: 'sbin', module: 'smartctl.js' },
    { name: 'ledctl', dir: 'sbin', module: 'ledctl.js' },
    { name: 'zpool', dir: 'sbin', module: 'zpool.js' },
    { name: 'mdadm', dir: 'sbin', module: 'mdadm.js' },
    { name: 'proxmox-boot-tool', dir: 'sbin', module: 'proxmox-boot-tool.js' },
    { name: 'grub-install', dir: 'sbin', module: 'grub-install.js' },
    { name: 'sgdisk', dir: 'sbin', module: 'sgdisk.js' },
    // For /proc/mdstat only (cat.ts): the real cat for everything else.
    { name: 'cat', dir: 'bin', module: 'cat.js' },
  ],
  backup: [
    { name: 'proxmox-backup-client', dir: 'bin', module: 'proxmox-backup-client.js' },
    { name: 'chaton-lab-pbs', dir: 'sbin', module: 'chaton-lab-pbs.js' },
  ],
};

/** Host-private in every lab host (see hostFstab): a Node.js there cannot run the stand-ins. */
const HOST_PRIVATE_DIRS = ['/root/', '/home/', '/tmp/', '/run/', '/dev/'];

/**
 * The stand-ins of the host's roles in its own /usr/local: every compiled module of standins/
 * in lib/chaton-lab (they import each other), and one wrapper per tool.
 */
export async function installStandins(usrLocalUpper: string, roles: string[]): Promise<void> {
  const tools = roles.flatMap((role) => STANDIN_TOOLS[role] ?? []);
  if (tools.length === 0) return;
  if (HOST_PRIVATE_DIRS.some((dir) => process.execPath.startsWith(dir))) {
    throw new Error(
      `lab hosts cannot see ${process.execPath}, the Node.js that runs the stand-ins: install Node.js elsewhere`,
    );
  }
  const libDir = join(usrLocalUpper, STANDIN_LIB_DIR.slice('/usr/local/'.length));
  await Promise.all([mkdir(libDir, { recursive: true }), mkdir(join(usrLocalUpper, 'sbin'), { recursive: true })]);
  await mkdir(join(usrLocalUpper, 'bin'), { recursive: true });
  const modules = (await readdir(STANDINS_DIR)).filter((name) => name.endsWith('.js'));
  await Promise.all([
    ...modules.map((name) => copyFile(join(STANDINS_DIR, name), join(libDir, name))),
    writeFile(join(libDir, 'package.json'), '{ "type": "module" }\n'),
    ...tools.map((tool) =>
      writeFile(join(usrLocalUpper, tool.dir, tool.name), standinWrapper(process.execPath, tool.module), {
        mode: 0o755,
      }),
    ),
  ]);
}

// ---------------------------------------------------------------------------------------------
// The cluster's guests (issue 11's design).

export interface LabGuest {
  vmid: number;
  name: string;
  type: GuestType;
  node: string;
  /** Proxmox's tag list, ";"-separated. */
  tags?: string;
  pool?: string;
  template?: boolean;
  /** Started when its node boots (onboot 1), so running once the lab is up. */
  onboot?: boolean;
  cores?: number;
  memory?: number;
  /** The root disk's size: "32G". */
  disk?: string;
  /** More keys of the configuration, or ones to replace. */
  extra?: Record<string, string>;
  /** The storage of its disk: the node's own `local` unless said. */
  storage?: string;
}

/** The cluster's shared storage for VM disks (an NFS export every node mounts): a clone may go to any node. */
export const VM_STORAGE = 'vmdata';
export const VM_STORAGE_PATH = `/mnt/pve/${VM_STORAGE}`;

export const LAB_GUESTS: LabGuest[] = [
  { vmid: 100, name: 'web', type: 'qemu', node: 'pve1', tags: 'prod', pool: 'prod', onboot: true, memory: 2048 },
  { vmid: 101, name: 'mail', type: 'qemu', node: 'pve1', tags: 'prod', onboot: true, memory: 4096 },
  { vmid: 102, name: 'db', type: 'qemu', node: 'pve2', tags: 'prod;db', onboot: true, memory: 8192, cores: 4 },
  { vmid: 103, name: 'dev', type: 'qemu', node: 'pve2', tags: 'dev', memory: 2048 },
  { vmid: 104, name: 'dns', type: 'lxc', node: 'pve3', tags: 'prod', onboot: true, memory: 512, disk: '8G' },
  { vmid: 105, name: 'scratch', type: 'qemu', node: 'pve3', memory: 1024, disk: '16G' },
  {
    vmid: 9000,
    name: 'debian-12',
    type: 'qemu',
    node: 'pve1',
    template: true,
    memory: 1024,
    cores: 1,
    disk: '2G',
    storage: VM_STORAGE,
    // A cloud image made a template as Proxmox's cloud-init guide does: its cloud-init drive, a serial console.
    extra: { ide2: `${VM_STORAGE}:9000/vm-9000-cloudinit.qcow2,media=cdrom`, serial0: 'socket', vga: 'serial0' },
  },
];

/** The backup job of the lab: every guest but 105 (and the template), to the nodes' local storage. */
export const LAB_BACKUP_JOBS: BackupJob[] = [
  {
    id: LAB_BACKUP_JOB_ID,
    properties: new Map([
      ['comment', 'nightly, kept a week and a month'],
      ['schedule', '21:00'],
      ['compress', 'zstd'],
      ['enabled', '1'],
      ['mode', 'snapshot'],
      ['notes-template', '{{guestname}}'],
      ['prune-backups', 'keep-daily=7,keep-weekly=4'],
      ['storage', 'local'],
      ['vmid', '100,101,102,103,104'],
    ]),
  },
];

/** A MAC address of the guest, stable: BC:24:11 (Proxmox's prefix) then its VMID. */
export function guestMac(vmid: number): string {
  const hex = vmid.toString(16).padStart(6, '0').toUpperCase();
  return `BC:24:11:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

function uuidOf(seed: string): string {
  const hex = Buffer.from(seed.padEnd(16, '-').slice(0, 16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The disk volume of a guest on its storage (`local`, a directory storage, unless said). */
export function guestDiskVolume(guest: LabGuest): string {
  const prefix = guest.template ? 'base' : 'vm';
  return `${guest.storage ?? 'local'}:${guest.vmid}/${prefix}-${guest.vmid}-disk-0.raw`;
}

/** The guest's configuration file, as Proxmox VE 8 writes it after a create (keys sorted). */
export function guestConfigText(guest: LabGuest): string {
  const values = new Map<string, string>();
  const disk = `${guestDiskVolume(guest)},size=${guest.disk ?? '32G'}`;
  if (guest.type === 'qemu') {
    values.set('agent', '1');
    values.set('boot', 'order=scsi0;net0');
    values.set('cores', String(guest.cores ?? 2));
    values.set('cpu', 'x86-64-v2-AES');
    values.set('memory', String(guest.memory ?? 2048));
    values.set('meta', 'creation-qemu=8.1.5,ctime=1717243200');
    values.set('name', guest.name);
    values.set('net0', `virtio=${guestMac(guest.vmid)},bridge=vmbr0,firewall=1`);
    values.set('numa', '0');
    values.set('ostype', 'l26');
    values.set('scsi0', `${disk},iothread=1`);
    values.set('scsihw', 'virtio-scsi-single');
    values.set('smbios1', `uuid=${uuidOf(`smbios${guest.vmid}`)}`);
    values.set('sockets', '1');
    values.set('vmgenid', uuidOf(`vmgenid${guest.vmid}`));
  } else {
    values.set('arch', 'amd64');
    values.set('cores', String(guest.cores ?? 1));
    values.set('features', 'nesting=1');
    values.set('hostname', guest.name);
    values.set('memory', String(guest.memory ?? 512));
    values.set('net0', `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${guestMac(guest.vmid)},ip=dhcp,type=veth`);
    values.set('ostype', 'debian');
    values.set('rootfs', disk);
    values.set('swap', '512');
    values.set('unprivileged', '1');
  }
  if (guest.onboot) values.set('onboot', '1');
  if (guest.tags) values.set('tags', guest.tags);
  if (guest.template) values.set('template', '1');
  for (const [key, value] of Object.entries(guest.extra ?? {})) values.set(key, value);
  return [...values.keys()]
    .sort()
    .map((key) => `${key}: ${values.get(key)}\n`)
    .join('');
}

/**
 * The nodes' own `local`, the backup host's /srv/backup as the NFS storage they mount
 * (pve-storage's NFSPlugin: export, server, path /mnt/pve/<id>): its dump/ is the site's, and the
 * shared `vmdata` for VM disks (the lab binds one directory on every node, as NFS would share it).
 */
export function labStorageCfg(backupAddress: string, pbsFingerprint: string): string {
  return `dir: local
\tpath /var/lib/vz
\tcontent backup,images,iso,rootdir,vztmpl
\tprune-backups keep-all=1
\tshared 0

nfs: ${BACKUP_NFS_STORAGE}
\texport /srv/backup
\tpath ${BACKUP_NFS_PATH}
\tserver ${backupAddress}
\tcontent backup
\tprune-backups keep-all=1

nfs: ${VM_STORAGE}
\texport /srv/${VM_STORAGE}
\tpath ${VM_STORAGE_PATH}
\tserver ${backupAddress}
\tcontent images
\tprune-backups keep-all=1

pbs: ${PBS_STORAGE}
\tdatastore ${PBS_DATASTORE}
\tserver ${backupAddress}
\tcontent backup
\tfingerprint ${pbsFingerprint}
\tprune-backups keep-all=1
\tusername root@pam

`;
}

/** user.cfg with the design's pools: the fresh installation's root@pam, pool prod holding 100. */
export function labUserCfg(guests: LabGuest[]): string {
  const config = parseUserConfig(INSTALLED_USER_CFG);
  for (const guest of guests) {
    if (!guest.pool) continue;
    const pool = config.pools.get(guest.pool) ?? { vms: new Set<number>(), storage: new Set<string>() };
    pool.vms.add(guest.vmid);
    config.pools.set(guest.pool, pool);
  }
  return writeUserConfig(config);
}

/** The cluster's files of /etc/pve at build, relative paths to contents. */
export function clusterFiles(
  plan: LabPlan,
  pbs: PbsServerSecrets,
  guests: LabGuest[] = LAB_GUESTS,
): Map<string, string> {
  const pveHosts = plan.hosts.filter((host) => host.roles.includes('pve'));
  const files = new Map<string, string>();
  const nodes = pveHosts.map((host, index) => ({ name: host.name, nodeid: index + 1, address: host.lanAddress }));
  files.set('corosync.conf', corosyncConf('chaton-lab', nodes));
  files.set('storage.cfg', labStorageCfg(backupAddress(plan), pbs.fingerprint));
  // pvesm add pbs --password keeps it there, for qmrestore and vzdump to hand to the client.
  files.set(`priv/storage/${PBS_STORAGE}.pw`, `${pbs.password}\n`);
  files.set('jobs.cfg', writeJobsConfig(LAB_BACKUP_JOBS));
  files.set('user.cfg', labUserCfg(guests));
  files.set('datacenter.cfg', 'keyboard: en-us\n');
  files.set('firewall/cluster.fw', labClusterFirewall(plan));
  for (const guest of guests) {
    if (!pveHosts.some((host) => host.name === guest.node)) continue;
    files.set(
      `nodes/${guest.node}/${guest.type === 'qemu' ? 'qemu-server' : 'lxc'}/${guest.vmid}.conf`,
      guestConfigText(guest),
    );
  }
  return files;
}

/**
 * The cluster's firewall (pve-firewall's cluster.fw): on, with the security groups chaton's roles
 * name: `base` (SSH from the bastion, ping) and `web` (HTTP, HTTPS). Nothing enforces them.
 */
export function labClusterFirewall(plan: LabPlan): string {
  return `[OPTIONS]

enable: 1

[group base] # every VM: SSH from the bastion, ping

IN ACCEPT -source ${plan.bastion.lanAddress} -p tcp -dport 22
IN ACCEPT -p icmp

[group web] # web servers

IN ACCEPT -p tcp -dport 80
IN ACCEPT -p tcp -dport 443

`;
}

/**
 * Writes /etc/pve of a fresh lab: pmxcfs's root-only priv/, the node directories, the files; and
 * the disks of the guests on the shared VM storage, in `vmData` (what the nodes mount there).
 */
export async function writeClusterFiles(
  pveCluster: string,
  plan: LabPlan,
  pbs: PbsServerSecrets,
  vmData: string,
): Promise<void> {
  await mkdir(join(pveCluster, 'priv', 'lock'), { recursive: true });
  await chmod(join(pveCluster, 'priv'), 0o700);
  for (const host of plan.hosts.filter((candidate) => candidate.roles.includes('pve'))) {
    for (const dir of ['qemu-server', 'lxc'])
      await mkdir(join(pveCluster, 'nodes', host.name, dir), { recursive: true });
  }
  for (const [path, content] of clusterFiles(plan, pbs)) {
    await mkdir(join(pveCluster, path, '..'), { recursive: true });
    await writeFile(join(pveCluster, path), content, { mode: 0o640 });
  }
  for (const guest of LAB_GUESTS.filter((candidate) => candidate.storage === VM_STORAGE)) {
    const [, volname = ''] = guestDiskVolume(guest).split(':');
    await sparseFile(join(vmData, 'images', volname), guest.disk ?? '32G');
    const cloudinit = /^[^:]+:(\S+?),/.exec(guest.extra?.['ide2'] ?? '')?.[1];
    if (cloudinit) await sparseFile(join(vmData, 'images', cloudinit), '4M');
  }
}

/**
 * Root SSH between the nodes, as a cluster's nodes have it (pve-cluster Cluster/Setup.pm:
 * setup_rootsshconfig, ssh_merge_keys, ssh_create_node_known_hosts): each node's root key, all of
 * them with root's own authorized keys in /etc/pve/priv/authorized_keys (0600), root's
 * ~/.ssh/authorized_keys a link to it, and each node's host key in
 * /etc/pve/nodes/<node>/ssh_known_hosts ("<node> <key>", what pvesh's proxy checks, by
 * HostKeyAlias) and /etc/pve/priv/known_hosts (by name and address). The lab's keys are ed25519
 * (a real node's are RSA: one key type makes no difference to what chaton sees).
 * Run once every host's files are prepared.
 */
export async function joinClusterSsh(pveCluster: string, plan: LabPlan): Promise<void> {
  const nodes = plan.hosts.filter((host) => host.roles.includes('pve'));
  const keys = await Promise.all(
    nodes.map(async (host) => {
      const files = hostPaths(host.dir);
      const rootKey = join(files.root, '.ssh', 'id_ed25519');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${host.name}`, '-f', rootKey]);
      const [rootPublic, hostPublic, own] = await Promise.all([
        readFile(`${rootKey}.pub`, 'utf8'),
        readFile(`${files.hostKey}.pub`, 'utf8'),
        readFile(join(files.root, '.ssh', 'authorized_keys'), 'utf8'),
      ]);
      const hostKey = hostPublic.trim().split(/\s+/).slice(0, 2).join(' ');
      await writeFile(join(pveCluster, 'nodes', host.name, 'ssh_known_hosts'), `${host.name} ${hostKey}\n`, {
        mode: 0o640,
      });
      return { host, rootPublic, hostKey, own };
    }),
  );
  const authorized = new Set(keys.flatMap(({ own, rootPublic }) => [...own.split('\n'), rootPublic.trim()]));
  authorized.delete('');
  await writeFile(join(pveCluster, 'priv', 'authorized_keys'), [...authorized].map((line) => `${line}\n`).join(''), {
    mode: 0o600,
  });
  const known = keys.flatMap(({ host, hostKey }) => [`${host.name} ${hostKey}`, `${host.lanAddress} ${hostKey}`]);
  await writeFile(join(pveCluster, 'priv', 'known_hosts'), known.map((line) => `${line}\n`).join(''), {
    mode: 0o600,
  });
  await Promise.all(
    keys.map(async ({ host }) => {
      const link = join(hostPaths(host.dir).root, '.ssh', 'authorized_keys');
      await rm(link);
      await symlink('/etc/pve/priv/authorized_keys', link);
    }),
  );
}

/** A sparse file of `size` (e.g. "32G") bytes, as a raw disk image without data. */
export async function sparseFile(path: string, size: string): Promise<void> {
  const units: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  const match = /^(\d+)([KMGT]?)$/.exec(size);
  const bytes = match ? Number(match[1]) * (units[match[2] ?? ''] ?? 1) : 0;
  await mkdir(join(path, '..'), { recursive: true });
  const handle = await open(path, 'w');
  await handle.truncate(bytes);
  await handle.close();
}

/** A pve host's own files before it starts: /var/lib/vz and its guests' disks. */
export async function preparePveHost(
  host: PlannedHost,
  plan: LabPlan,
  pbs: PbsServerSecrets,
  guests: LabGuest[] = LAB_GUESTS,
): Promise<void> {
  const vz = join(overlayLayers(host.dir, '/var').upper, 'lib', 'vz');
  const servers: PbsServers = {
    [backupAddress(plan)]: {
      fingerprint: pbs.fingerprint,
      passwords: { 'root@pam': pbs.password },
      datastores: { [PBS_DATASTORE]: `${PBS_SERVER_MOUNT}/${PBS_DATASTORE}` },
    },
  };
  const etc = hostPaths(host.dir).etcUpper;
  await mkdir(join(etc, 'chaton-lab'), { recursive: true });
  await writeFile(join(etc, LAB_PBS_SERVERS.slice('/etc/'.length)), `${JSON.stringify(servers, null, 2)}\n`);
  await Promise.all(
    ['dump', 'images', 'template/iso', 'template/cache', 'snippets'].map((dir) =>
      mkdir(join(vz, dir), { recursive: true }),
    ),
  );
  for (const guest of guests.filter((candidate) => candidate.node === host.name && !candidate.storage)) {
    const [, volname = ''] = guestDiskVolume(guest).split(':');
    await sparseFile(join(vz, 'images', volname), guest.disk ?? '32G');
  }
}

// ---------------------------------------------------------------------------------------------
// Proxmox Backup Server on host `backup`.

export const PBS_DATASTORE = 'store1';
export const PBS_DATASTORE_PATH = '/srv/backup/pbs/store1';
export const PBS_PASSWORD_FILE = '/root/pbs.pass';

/** What the lab's PBS server decides from, made once per lab: root@pam's password, its certificate. */
export interface PbsServerSecrets {
  password: string;
  fingerprint: string;
}

export function newPbsServerSecrets(): PbsServerSecrets {
  return { password: randomBytes(18).toString('base64url'), fingerprint: newFingerprint() };
}

function backupAddress(plan: LabPlan): string {
  return plan.hosts.find((host) => host.roles.includes('backup'))!.lanAddress;
}

/** The server's certificate fingerprint, as PBS prints it: 32 colon-separated hex bytes. */
export function newFingerprint(): string {
  return [...randomBytes(32)].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/**
 * `backup`'s PBS configuration, its root password file and its empty datastore (in the lab's
 * backup export, which is its /srv/backup).
 */
export async function preparePbsHost(host: PlannedHost, backupExport: string, pbs: PbsServerSecrets): Promise<void> {
  const etc = hostPaths(host.dir).etcUpper;
  await mkdir(join(etc, 'proxmox-backup'), { recursive: true });
  await mkdir(join(etc, 'chaton-lab'), { recursive: true });
  await writeFile(
    join(etc, 'proxmox-backup', 'datastore.cfg'),
    `datastore: ${PBS_DATASTORE}\n\tcomment lab datastore\n\tgc-schedule daily\n\tpath ${PBS_DATASTORE_PATH}\n\n`,
  );
  await writeFile(join(hostPaths(host.dir).root, PBS_PASSWORD_FILE.slice('/root/'.length)), `${pbs.password}\n`, {
    mode: 0o600,
  });
  const labConfig = { fingerprint: pbs.fingerprint, passwords: { 'root@pam': PBS_PASSWORD_FILE } };
  await writeFile(join(etc, LAB_PBS_CONFIG.slice('/etc/'.length)), `${JSON.stringify(labConfig, null, 2)}\n`);
  // root's client has confirmed the server's certificate once, as the real client asks and then
  // remembers (~/.config/proxmox-backup/fingerprints): `backup verify` on the lab needs no
  // fingerprint in the inventory.
  const clientConfig = join(hostPaths(host.dir).root, '.config', 'proxmox-backup');
  await mkdir(clientConfig, { recursive: true });
  await writeFile(join(clientConfig, 'fingerprints'), `localhost ${labConfig.fingerprint}\n`);
  const store = join(backupExport, PBS_DATASTORE_PATH.slice('/srv/backup/'.length));
  await mkdir(join(store, '.chunks'), { recursive: true });
  await writeFile(join(store, '.lock'), '');
}
