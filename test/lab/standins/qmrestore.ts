// A stand-in for `qmrestore`, Proxmox VE's restore of a vzdump VM backup, on lab hosts with the pve
// role: `qmrestore <archive> <vmid> [--storage S] [--unique 1] [--pool P] [--start 1]` from a
// vzdump .vma archive (plain or compressed), given as a path or as a backup volume of a storage.
// Self-contained (node: builtins only, plus the real decompressors); run by /usr/local/sbin/qmrestore.
//
// It reads the archive's VMA header (see pve-storage.ts: the lab's archives have a real header
// and no data), allocates each disk as a sparse raw file on the target storage (file-based
// storages only), and writes the restored configuration; the task output is the real one's main
// lines. A used VMID is refused with the real message, and the new VM is created under its real
// config lock (/var/lock/qemu-server/lock-<vmid>.conf, 5 s, then 1 s for the restore itself).
//
// Sources (github.com/proxmox):
// - qemu-server: src/PVE/CLI/qmrestore.pm (parameters, <archive> <vmid>, the UPID exit),
//   src/PVE/API2/Qemu.pm (create_vm's restore path: "can't find file", "unable to restore VM
//   <vmid> -", create_and_lock_config, the worker's cleanup warnings), src/PVE/QemuServer.pm
//   (restore_file_archive, restore_vma_archive's "restore vma archive:" and "map '...' to '...'"
//   lines, parse_backup_hints and its #qmdump#map lines, restore_allocate_devices' "new volume ID
//   is", restore_update_config_line).
// - pve-guest-common: src/PVE/AbstractConfig.pm (create_and_lock_config, remove_lock).
// - pve-storage: src/PVE/Storage.pm (abs_filesystem_path, archive_info, parse_volume_id).
// - qemu (github.com/proxmox/qemu): vma.c (vma extract -v: the CFG, DEV and CTIME lines).
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Die, type Command, type Tool, cfsLock, replaceFile } from './pve-cli.js';
import {
  type GuestConfig,
  parseGuestConfig,
  readStorageConfig,
  readGuestConfig,
  saveGuestConfig,
  type Storage,
  storageEnabledOn,
} from './pve-cluster.js';
import {
  checkVmidUnused,
  lockGuestConfig,
  type NodeContext,
  randomMac,
  runTask,
  startGuest,
  nodeTool,
} from './pve-guests.js';
import { allocateImage, archiveInfo, readVmaArchive, storageSubdir, volumePath } from './pve-storage.js';
import { openPbsSnapshot, type PbsSnapshot } from './pbs-remote.js';
import { VMID_PARAM } from './qm.js';
import { parseUserConfig, writeUserConfig } from './pveum.js';

const STORAGE_ID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;

/** What create_vm restores from: a vzdump file, or a snapshot of a pbs storage. */
export type RestoreSource = { path: string } | { pbs: PbsSnapshot };

/** create_vm's archive classification: a storage's backup volume, or a file. */
export async function resolveArchive(ctx: NodeContext, archive: string): Promise<RestoreSource> {
  const volume = STORAGE_ID.exec(archive);
  let path = archive.startsWith('/') ? archive : join(process.cwd(), archive);
  if (volume) {
    const [, id = '', volname = ''] = volume;
    const storage = (await readStorageConfig(ctx.configDir)).find((candidate) => candidate.id === id);
    if (!storage) throw new Die(`storage '${id}' does not exist\n`);
    if (storage.type === 'pbs') return { pbs: await openPbsSnapshot(storage, volname, ctx) };
    if (!storage.path)
      throw new Die(`qmrestore (chaton lab stand-in): storage type '${storage.type}' is not implemented\n`);
    path = join(ctx.root, volumePath(storage, volname));
  }
  if (
    !(await stat(path).then(
      (info) => info.isFile(),
      () => false,
    ))
  )
    throw new Die(`can't find file '${archive}'\n`);
  return { path };
}

/** ctime(3), as vma prints the archive's creation time. */
function ctimeText(epoch: number): string {
  const date = new Date(epoch * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getDay()];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getMonth()];
  const time = [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0'));
  return `${day} ${month} ${String(date.getDate()).padStart(2)} ${time.join(':')} ${date.getFullYear()}`;
}

/** restore_update_config_line: one line of the backed-up configuration, as restored. */
export function restoreConfigLine(line: string, map: Map<string, string>, unique: boolean): string {
  if (/^#qmdump#|^#vzdump#|^lock:|^unused\d+:|^parent:/.test(line)) return '';
  const net = /^(net\d+):\s*(\S+)\s*$/.exec(line);
  if (net && unique) {
    const value = (net[2] as string).replace(
      /(^|,)((?:[a-z0-9]+=)?)([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?=,|$)/,
      `$1$2${randomMac()}`,
    );
    return `${net[1]}: ${value}\n`;
  }
  const disk = /^((?:ide|scsi|virtio|sata|efidisk|tpmstate)\d+):\s*(\S+)\s*$/.exec(line);
  if (disk) {
    const [, virtdev = '', value = ''] = disk;
    const parts = value.split(',');
    if (parts.includes('backup=0')) return `#${line}`;
    const volid = map.get(virtdev);
    if (volid !== undefined) {
      const kept = parts.slice(1).filter((part) => !part.startsWith('format='));
      return `${virtdev}: ${[volid, ...kept].join(',')}\n`;
    }
    return line;
  }
  if (/^vmgenid: (.*)/.test(line)) {
    const value = /^vmgenid: (.*)/.exec(line)?.[1];
    return `vmgenid: ${value === '0' ? '0' : randomUUID()}\n`;
  }
  const smbios = /^(smbios1: )(.*)/.exec(line);
  if (smbios && unique) return `${smbios[1]}${(smbios[2] as string).replace(/uuid=[^,]*/, `uuid=${randomUUID()}`)}\n`;
  return line;
}

async function addToPool(ctx: NodeContext, vmid: number, pool: string): Promise<void> {
  const path = join(ctx.configDir, 'user.cfg');
  await cfsLock(ctx.configDir, 'file-user_cfg', ctx.io, 'add VM to pool failed', async () => {
    const config = parseUserConfig(await readFile(path, 'utf8').catch(() => ''));
    const entry = config.pools.get(pool);
    if (!entry) throw new Die(`pool '${pool}' does not exist\n`);
    for (const other of config.pools.values()) other.vms.delete(vmid);
    entry.vms.add(vmid);
    await replaceFile(path, writeUserConfig(config), 0o640);
  });
}

interface RestoreOptions {
  storage?: string;
  unique: boolean;
  pool?: string;
  start: boolean;
}

/** The backed-up configuration and disks (devname to size), as the restore reads them. */
interface BackedUpVm {
  config: Buffer | undefined;
  devices: Map<string, number>;
}

/** restore_vma_archive's reading of the archive: vma extract's CFG, DEV and CTIME lines. */
async function readVma(io: NodeContext['io'], archive: string): Promise<BackedUpVm> {
  const info = archiveInfo(archive);
  if (info.format !== 'vma') {
    throw new Die(`qmrestore (chaton lab stand-in): ${info.format} archives of VMs are not implemented\n`);
  }
  const tmp = `/var/tmp/vzdumptmp${process.pid}`;
  const source = info.decompressor ? `${info.decompressor.join(' ')} ${archive} | ` : '';
  const readFrom = info.decompressor ? '-' : archive;
  io.out(`restore vma archive: ${source}vma extract -v -r ${tmp}.fifo ${readFrom} ${tmp}\n`);
  const vma = await readVmaArchive(archive, info);
  for (const [name, data] of vma.configs) io.out(`CFG: size: ${data.length} name: ${name}\n`);
  for (const [id, device] of vma.devices) io.out(`DEV: dev_id=${id} size: ${device.size} devname: ${device.name}\n`);
  io.out(`CTIME: ${ctimeText(vma.ctime)}\n`);
  const devices = new Map([...vma.devices.values()].map((device) => [device.name, device.size]));
  return { config: vma.configs.get('qemu-server.conf'), devices };
}

/** restore_proxmox_backup_archive's reading: index.json's drive-*.img.fidx sizes, qemu-server.conf. */
async function readPbsVm(snapshot: PbsSnapshot): Promise<BackedUpVm> {
  if (snapshot.type !== 'vm') throw new Die(`got unexpected backup format 'pbs-${snapshot.type}'\n`);
  const files = snapshot.manifest.files;
  const devices = new Map<string, number>();
  for (const file of files) {
    const drive = /^(drive-\S+)\.img\.fidx$/.exec(file.filename);
    if (drive) devices.set(drive[1]!, file.size);
  }
  if (!files.some((file) => file.filename === 'qemu-server.conf.blob')) {
    throw new Die("backup does not look like a qemu-server backup (missing 'qemu-server.conf' file)\n");
  }
  return { config: await snapshot.blob('qemu-server.conf.blob'), devices };
}

/** restore_vma_archive and restore_proxmox_backup_archive: the worker's part, under the config lock. */
async function restoreVm(
  ctx: NodeContext,
  source: RestoreSource,
  vmid: number,
  options: RestoreOptions,
): Promise<void> {
  const { io } = ctx;
  const backup = 'pbs' in source ? await readPbsVm(source.pbs) : await readVma(io, source.path);
  const conf = backup.config;
  if (!conf) throw new Die('unable to read qemu-server.conf - No such file or directory\n');
  const lines = conf.toString('utf8').split(/(?<=\n)/);
  const storages = await readStorageConfig(ctx.configDir);
  const targets = new Map<string, { devname: string; size: number; storage: Storage }>();
  for (const line of lines) {
    const map = /^#qmdump#map:(\S+):(\S+):(\S*):(\S*):$/.exec(line.trimEnd());
    if (!map) continue;
    const [, virtdev = '', devname = '', storeHint = ''] = map;
    const size = backup.devices.get(devname);
    if (size === undefined) throw new Die(`archive does not contain data for drive '${virtdev}'\n`);
    const id = options.storage !== undefined ? options.storage || 'local' : storeHint || 'local';
    const storage = storages.find((candidate) => candidate.id === id);
    if (!storage) throw new Die(`storage '${id}' does not exist\n`);
    if (!storage.content.has('images')) throw new Die(`Content type 'images' is not available on storage '${id}'\n`);
    if (!storageEnabledOn(storage, ctx.node)) throw new Die(`storage '${id}' is not available on node '${ctx.node}'\n`);
    if (!storage.path) {
      throw new Die(`qmrestore (chaton lab stand-in): storage type '${storage.type}' is not implemented\n`);
    }
    targets.set(virtdev, { devname, size, storage });
  }
  for (const devname of backup.devices.keys()) {
    if (![...targets.values()].some((target) => target.devname === devname)) {
      throw new Die(`found no device mapping information for device '${devname}'\n`);
    }
  }
  const map = new Map<string, string>();
  for (const virtdev of [...targets.keys()].sort()) {
    const target = targets.get(virtdev)!;
    const local = { ...target.storage, path: join(ctx.root, target.storage.path!) };
    const size = Math.ceil(target.size / 1024) * 1024;
    const volid = await allocateImage(local, vmid, size);
    io.err(`new volume ID is '${volid}'\n`);
    map.set(virtdev, volid);
    const path = join(storageSubdir(target.storage, 'images'), volid.split(':')[1] ?? '');
    if ('pbs' in source) {
      const { repository, name } = source.pbs;
      const restore = `/usr/bin/pbs-restore --repository ${repository} ${name} ${target.devname}.img.fidx ${path}`;
      io.out(`restore proxmox backup image: ${restore} --verbose --format raw --skip-zero\n`);
    } else io.out(`map '${target.devname}' to '${path}' (write zeros = 0)\n`);
  }
  if (!('pbs' in source)) {
    const total = [...targets.values()].reduce((sum, target) => sum + target.size, 0);
    io.out(`progress 100% (read ${total} bytes, duration 0 sec)\n`);
    io.out(`total bytes read ${total}, sparse bytes ${total} (100%)\n`);
    io.out('space reduction due to 4K zero blocks 100%\n');
  }
  io.out('rescan volumes...\n');
  let restored = '';
  for (const line of lines) restored += restoreConfigLine(line, map, options.unique);
  const config: GuestConfig = parseGuestConfig(restored);
  await saveGuestConfig(ctx.configDir, { vmid, type: 'qemu', node: ctx.node }, config);
}

/** create_vm with an archive: the whole restore, as qmrestore runs it. */
export async function restore(
  ctx: NodeContext,
  archiveArg: string,
  vmid: number,
  options: RestoreOptions,
): Promise<void> {
  const entry = { vmid, type: 'qemu' as const, node: ctx.node };
  const archive = await resolveArchive(ctx, archiveArg);
  const emsg = `unable to restore VM ${vmid} -`;
  try {
    await lockGuestConfig(ctx, 'qemu', vmid, 5, async () => {
      await checkVmidUnused(ctx.configDir, vmid);
      await saveGuestConfig(ctx.configDir, entry, { values: new Map([['lock', 'create']]), lxc: [], sections: '' });
    });
  } catch (error) {
    throw new Die(`${emsg} ${(error as Error).message}`);
  }
  await runTask(ctx, 'qmrestore', String(vmid), async (io) => {
    const task = { ...ctx, io };
    try {
      await lockGuestConfig(task, 'qemu', vmid, 1, () => restoreVm(task, archive, vmid, options));
    } catch (error) {
      const left = await readGuestConfig(ctx.configDir, entry);
      if (left?.values.get('lock') === 'create') {
        left.values.delete('lock');
        await saveGuestConfig(ctx.configDir, entry, left);
      }
      io.err(
        'error before or during data restore, some or all disks were not completely restored. ' +
          `VM ${vmid} state is NOT cleaned up.\n`,
      );
      throw error;
    }
    if (options.pool) await addToPool(task, vmid, options.pool);
  });
  if (options.start) {
    ctx.io.out('Execute autostart\n');
    await startGuest(ctx, 'qemu', vmid);
  }
}

const COMMANDS: Command<NodeContext>[] = [
  {
    words: [],
    argParams: ['archive', 'vmid'],
    params: {
      vmid: VMID_PARAM,
      archive: { type: 'string', maxLength: 255 },
      storage: {
        type: 'string',
        optional: true,
        format: {
          verify: (value) => {
            if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value))
              throw new Error(`storage ID '${value}' contains illegal characters\n`);
            return value;
          },
        },
      },
      force: { type: 'boolean', optional: true },
      unique: { type: 'boolean', optional: true },
      pool: { type: 'string', optional: true },
      bwlimit: { type: 'number', optional: true, minimum: 0 },
      'live-restore': { type: 'boolean', optional: true },
      start: { type: 'boolean', optional: true },
      'ha-managed': { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      for (const unsupported of ['force', 'live-restore', 'ha-managed'] as const) {
        if (params[unsupported])
          throw new Die(`qmrestore (chaton lab stand-in): --${unsupported} is not implemented\n`);
      }
      if (params['archive'] === '-')
        throw new Die('qmrestore (chaton lab stand-in): reading stdin is not implemented\n');
      const options: RestoreOptions = { unique: Boolean(params['unique']), start: Boolean(params['start']) };
      if (params['storage'] !== undefined) options.storage = String(params['storage']);
      if (params['pool'] !== undefined) options.pool = String(params['pool']);
      await restore(ctx, String(params['archive']), Number(params['vmid']), options);
    },
  },
];

export const QMRESTORE: Tool<NodeContext> = { name: 'qmrestore', commands: COMMANDS };

export const { run, main } = nodeTool(QMRESTORE, import.meta.url);
