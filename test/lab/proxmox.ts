// Test helpers for the lab's Proxmox VE cluster and Proxmox Backup Server (the stand-ins: see
// README.md, Stand-ins): add and remove guests and backup jobs, write vzdump archives the way
// vzdump names and fills them, put PBS snapshots into the datastore and mark them verified.
// Guests are started, stopped and destroyed with the stand-ins themselves (qm, pct) on their node.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import { guestConfigText, guestDiskVolume, type LabGuest, PBS_DATASTORE, PBS_PASSWORD_FILE } from './pve-lab.js';
import { backupTimeText, type BackupType } from './standins/pbs-datastore.js';
import { cfsLock, replaceFile, type Io } from './standins/pve-cli.js';
import {
  type BackupJob,
  cfsConfigPath,
  type GuestType,
  parseJobsConfig,
  readVmList,
  writeJobsConfig,
} from './standins/pve-cluster.js';
import { tarArchive, vmaHeader } from './standins/pve-storage.js';
import { parseUserConfig, writeUserConfig } from './standins/pveum.js';
import { labPaths } from './topology.js';

export type { LabGuest } from './pve-lab.js';
export { LAB_BACKUP_JOBS, LAB_GUESTS, PBS_DATASTORE, PBS_DATASTORE_PATH, PBS_PASSWORD_FILE } from './pve-lab.js';

/** The lab's /etc/pve, as pve1-pve3 see it (a plain directory on this machine). */
export function pveClusterDir(lab: Lab): string {
  return labPaths(lab.name).pveCluster;
}

const QUIET: Io = { out: () => {}, err: () => {}, utf8: true };

async function runOk(lab: Lab, host: string, argv: string[], input?: string | Buffer): Promise<string> {
  const result = await lab.run(host, argv, input === undefined ? {} : { input });
  if (result.exitCode !== 0) {
    throw new Error(`${host}: ${argv.join(' ')} exited ${result.exitCode}: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Changes user.cfg under its cluster lock, as pveum does. */
async function changeUserCfg(lab: Lab, change: (config: ReturnType<typeof parseUserConfig>) => void): Promise<void> {
  const dir = pveClusterDir(lab);
  await cfsLock(dir, 'file-user_cfg', QUIET, 'update user.cfg failed', async () => {
    const config = parseUserConfig(await readFile(join(dir, 'user.cfg'), 'utf8').catch(() => ''));
    change(config);
    await replaceFile(join(dir, 'user.cfg'), writeUserConfig(config), 0o640);
  });
}

/**
 * A new guest on its node: its configuration in /etc/pve, its disk on the node's `local`
 * storage, its pool; started when `start` (or `onboot` and not `start: false`).
 */
export async function addGuest(lab: Lab, guest: LabGuest, opts: { start?: boolean } = {}): Promise<void> {
  const dir = pveClusterDir(lab);
  if ((await readVmList(dir)).has(guest.vmid)) throw new Error(`guest ${guest.vmid} exists already`);
  const [, volname = ''] = guestDiskVolume(guest).split(':');
  const disk = `/var/lib/vz/images/${volname}`;
  await runOk(lab, guest.node, [
    'sh',
    '-c',
    'mkdir -p "${1%/*}" && truncate -s "$2" "$1"',
    'sh',
    disk,
    guest.disk ?? '32G',
  ]);
  await replaceFile(join(dir, cfsConfigPath(guest.node, guest.type, guest.vmid)), guestConfigText(guest), 0o640);
  if (guest.pool) {
    const pool = guest.pool;
    await changeUserCfg(lab, (config) => {
      const entry = config.pools.get(pool) ?? { vms: new Set<number>(), storage: new Set<string>() };
      entry.vms.add(guest.vmid);
      config.pools.set(pool, entry);
    });
  }
  if (opts.start ?? guest.onboot) await startGuest(lab, guest.vmid);
}

async function guestEntry(lab: Lab, vmid: number): Promise<{ node: string; type: GuestType }> {
  const entry = (await readVmList(pveClusterDir(lab))).get(vmid);
  if (!entry) throw new Error(`no guest ${vmid} in lab ${lab.name}`);
  return entry;
}

const TOOL: Record<GuestType, string> = { qemu: 'qm', lxc: 'pct' };

export async function startGuest(lab: Lab, vmid: number): Promise<void> {
  const { node, type } = await guestEntry(lab, vmid);
  await runOk(lab, node, [TOOL[type], 'start', String(vmid)]);
}

export async function stopGuest(lab: Lab, vmid: number): Promise<void> {
  const { node, type } = await guestEntry(lab, vmid);
  await runOk(lab, node, [TOOL[type], 'stop', String(vmid)]);
}

/** Stops the guest if it runs, then destroys it with qm/pct destroy (disks, pool, configuration). */
export async function removeGuest(lab: Lab, vmid: number): Promise<void> {
  const { node, type } = await guestEntry(lab, vmid);
  const status = await runOk(lab, node, [TOOL[type], 'status', String(vmid)]);
  if (/running/.test(status)) await runOk(lab, node, [TOOL[type], 'stop', String(vmid)]);
  await runOk(lab, node, [TOOL[type], 'destroy', String(vmid)]);
}

async function changeJobs(lab: Lab, change: (jobs: BackupJob[]) => BackupJob[]): Promise<void> {
  const dir = pveClusterDir(lab);
  await cfsLock(dir, 'file-jobs_cfg', QUIET, 'update jobs.cfg failed', async () => {
    const jobs = parseJobsConfig(await readFile(join(dir, 'jobs.cfg'), 'utf8').catch(() => ''));
    await replaceFile(join(dir, 'jobs.cfg'), writeJobsConfig(change(jobs)), 0o640);
  });
}

/** A vzdump job in jobs.cfg: `properties` as jobs.cfg writes them (vmid, pool or all, storage...). */
export async function addBackupJob(lab: Lab, id: string, properties: Record<string, string>): Promise<void> {
  const job: BackupJob = {
    id,
    properties: new Map(
      Object.entries({ schedule: '21:00', enabled: '1', mode: 'snapshot', storage: 'local', ...properties }),
    ),
  };
  await changeJobs(lab, (jobs) => {
    if (jobs.some((existing) => existing.id === id)) throw new Error(`job ${id} exists already`);
    return [...jobs, job];
  });
}

export async function removeBackupJob(lab: Lab, id: string): Promise<void> {
  await changeJobs(lab, (jobs) => jobs.filter((job) => job.id !== id));
}

// ---------------------------------------------------------------------------------------------
// vzdump archives.

export type Compression = 'zst' | 'gz' | 'lzo';
const COMPRESSORS: Record<Compression, string[]> = { zst: ['zstd', '-q'], gz: ['gzip'], lzo: ['lzop'] };

/** The name's time: local time in `timeZone`, "YYYY_MM_DD-HH_MM_SS". */
export function vzdumpTimestamp(epoch: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epoch * 1000));
  const part = (type: string): string => parts.find((candidate) => candidate.type === type)?.value ?? '00';
  return `${part('year')}_${part('month')}_${part('day')}-${part('hour')}_${part('minute')}_${part('second')}`;
}

/** vzdump-<type>-<vmid>-<local time>.(vma|tar)[.zst|.gz|.lzo] */
export function vzdumpArchiveName(
  type: GuestType,
  vmid: number,
  epoch: number,
  timeZone: string,
  compression?: Compression,
): string {
  const format = type === 'qemu' ? 'vma' : 'tar';
  return `vzdump-${type}-${vmid}-${vzdumpTimestamp(epoch, timeZone)}.${format}${compression ? `.${compression}` : ''}`;
}

/**
 * An archive's uncompressed bytes, as the lab makes them: for a VM a VMA header holding the
 * configuration (with vzdump's #qmdump#map lines) and its disks as devices, no data; for a
 * container a tar holding ./etc/vzdump/pct.conf.
 */
export function vzdumpArchiveContent(guest: LabGuest, epoch: number, config = guestConfigText(guest)): Buffer {
  if (guest.type === 'lxc') return tarArchive(new Map([['./etc/vzdump/pct.conf', Buffer.from(config)]]), epoch);
  const { text, devices } = backedUpVmConfig(config);
  return vmaHeader({ configs: new Map([['qemu-server.conf', Buffer.from(text)]]), devices, ctime: epoch });
}

/**
 * A VM's configuration as vzdump backs it up (VZDump/QemuServer.pm assemble, for VMA and PBS
 * alike): a `#qmdump#map:<virtdev>:<devname>:<storage>:<format>:` line per disk, then the
 * configuration; and the disks, as devices with their sizes.
 */
export function backedUpVmConfig(config: string): {
  text: string;
  devices: Map<number, { name: string; size: number }>;
} {
  const devices = new Map<number, { name: string; size: number }>();
  const maps: string[] = [];
  for (const [, key, value] of config.matchAll(/^((?:ide|sata|scsi|virtio|efidisk|tpmstate)\d+): (.*)$/gm)) {
    if (!key || !value || /media=cdrom/.test(value)) continue;
    const [volid = ''] = value.split(',');
    const size = /(?:^|,)size=(\d+)([KMGT]?)/.exec(value);
    const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
    const bytes = size ? Number(size[1]) * (units[size[2] ?? ''] ?? 1) : 0;
    const name = `drive-${key}`;
    devices.set(devices.size + 1, { name, size: bytes });
    maps.push(`#qmdump#map:${key}:${name}:${volid.split(':')[0] ?? ''}:raw:\n`);
  }
  return { text: `${maps.join('')}${config}`, devices };
}

/** The host's time zone: the /etc/localtime link's target, else /etc/timezone, else UTC. */
export async function hostTimeZone(lab: Lab, host: string): Promise<string> {
  const link = await lab.run(host, ['readlink', '/etc/localtime']);
  const zone = /zoneinfo\/(.+)$/.exec(link.stdout.trim())?.[1];
  if (zone) return zone;
  const file = await lab.run(host, ['cat', '/etc/timezone']);
  return file.exitCode === 0 && file.stdout.trim() ? file.stdout.trim() : 'UTC';
}

export interface VzdumpArchiveSpec {
  guest: LabGuest;
  /** When the backup ran (epoch seconds); the name carries it in the host's local time. */
  time: number;
  compression?: Compression;
  /** Notes beside it (<archive>.notes), its log (<name>.log), protection (<archive>.protected). */
  notes?: string;
  log?: string;
  protected?: boolean;
  /** The configuration kept inside; the guest's own by default. */
  config?: string;
}

/**
 * Writes a vzdump archive into `dir` of `host` with the real compressor, its times set to the
 * backup's; returns its path.
 */
export async function writeVzdumpArchive(
  lab: Lab,
  host: string,
  dir: string,
  spec: VzdumpArchiveSpec,
): Promise<string> {
  const zone = await hostTimeZone(lab, host);
  const name = vzdumpArchiveName(spec.guest.type, spec.guest.vmid, spec.time, zone, spec.compression);
  const path = `${dir}/${name}`;
  const content = vzdumpArchiveContent(spec.guest, spec.time, spec.config);
  const compress = spec.compression ? `${COMPRESSORS[spec.compression].join(' ')} -c` : 'cat';
  const stamp = `@${spec.time}`;
  await runOk(
    lab,
    host,
    ['sh', '-c', `mkdir -p "$1" && ${compress} > "$2" && touch -d "$3" "$2"`, 'sh', dir, path, stamp],
    content,
  );
  const base = path.replace(/\.(vma|tar)(\.(zst|gz|lzo))?$/, '');
  const extras: [string, string | undefined][] = [
    [`${base}.log`, spec.log],
    [`${path}.notes`, spec.notes],
    [`${path}.protected`, spec.protected ? '' : undefined],
  ];
  for (const [file, text] of extras) {
    if (text === undefined) continue;
    await runOk(lab, host, ['sh', '-c', 'cat > "$1" && touch -d "$2" "$1"', 'sh', file, stamp], text);
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// Proxmox Backup Server on `backup`.

export interface PbsSnapshotSpec {
  type: BackupType;
  id: string;
  /** Epoch seconds; the snapshot directory is its RFC 3339 UTC time. */
  time: number;
  notes?: string;
  protected?: boolean;
  /** What a verify job left in the manifest; none: never verified. */
  verify?: 'ok' | 'failed';
  /** The disk archive's size in the manifest. */
  size?: number;
  /** The backed-up configuration (qemu-server.conf.blob, pct.conf.blob), as vzdump stores it. */
  config?: string;
}

export function pbsSnapshotPath(snapshot: { type: BackupType; id: string; time: number }): string {
  return `${snapshot.type}/${snapshot.id}/${backupTimeText(snapshot.time)}`;
}

/** chaton-lab-pbs's arguments for a snapshot, after `snapshot add <store>`. */
function snapshotArgs(snapshot: PbsSnapshotSpec): string[] {
  const args = [pbsSnapshotPath(snapshot)];
  if (snapshot.notes !== undefined) args.push('--notes', snapshot.notes);
  if (snapshot.protected) args.push('--protected');
  if (snapshot.verify) args.push('--verify', snapshot.verify);
  if (snapshot.size !== undefined) args.push('--size', String(snapshot.size));
  if (snapshot.config !== undefined) args.push('--config-text', snapshot.config);
  return args;
}

/** Writes a finished snapshot into the datastore (chaton-lab-pbs on `backup`); returns its directory. */
export async function pbsAddSnapshot(lab: Lab, snapshot: PbsSnapshotSpec, store = PBS_DATASTORE): Promise<string> {
  return (await runOk(lab, 'backup', ['chaton-lab-pbs', 'snapshot', 'add', store, ...snapshotArgs(snapshot)])).trim();
}

/** Many snapshots in one run of chaton-lab-pbs (a site of hundreds of guests); their directories. */
export async function pbsAddSnapshots(
  lab: Lab,
  snapshots: readonly PbsSnapshotSpec[],
  store = PBS_DATASTORE,
): Promise<string[]> {
  if (snapshots.length === 0) return [];
  const input = snapshots.map((snapshot) => `${JSON.stringify(snapshotArgs(snapshot))}\n`).join('');
  const stdout = await runOk(lab, 'backup', ['chaton-lab-pbs', 'snapshot', 'add', store, '-'], input);
  return stdout.split('\n').filter(Boolean);
}

/** What a verify job writes: ok or failed; none removes the state (never verified). */
export async function pbsSetVerifyState(
  lab: Lab,
  snapshot: { type: BackupType; id: string; time: number },
  state: 'ok' | 'failed' | 'none',
  store = PBS_DATASTORE,
): Promise<void> {
  await runOk(lab, 'backup', ['chaton-lab-pbs', 'verify', store, pbsSnapshotPath(snapshot), state]);
}

/** The password of root@pam on the lab's PBS (first line of /root/pbs.pass on `backup`). */
export async function pbsPassword(lab: Lab): Promise<string> {
  return (await runOk(lab, 'backup', ['head', '-n1', PBS_PASSWORD_FILE])).trim();
}

/** The PBS server's certificate fingerprint (what PBS_FINGERPRINT must be). */
export async function pbsFingerprint(lab: Lab): Promise<string> {
  const config = JSON.parse(await runOk(lab, 'backup', ['cat', '/etc/chaton-lab/pbs.json'])) as { fingerprint: string };
  return config.fingerprint;
}
