// A stand-in for `pct`, Proxmox VE's container manager, on lab hosts with the pve role: list, config,
// status, start, stop, destroy and restore of the containers of the node it runs on, with the real
// output, errors and exit codes, the real configuration files in /etc/pve and the real config lock
// (/run/lock/lxc/pve-config-<vmid>.lock). Self-contained (node: builtins only, plus the real tar
// and decompressors); run by /usr/local/sbin/pct. Run state and locks: see pve-guests.ts.
//
// `pct restore <vmid> <archive>` reads ./etc/vzdump/pct.conf from the archive with the real tar
// (the lab's container archives are real tars holding only that file, see pve-storage.ts),
// allocates the root disk as a sparse raw file on the target storage (file-based storages only;
// the file system is not made, nothing is extracted) and writes the restored configuration.
//
// Sources (github.com/proxmox):
// - pve-container: src/PVE/CLI/pct.pm (the command tree, `pct list`'s printf columns, `pct config`
//   and its lxc.* lines last, `pct status`), src/PVE/API2/LXC.pm (create_vm's restore path:
//   check_vmid_unused before the lock, "unable to restore CT <vmid> -", "recovering backed-up
//   configuration from"; destroy_vm's "unable to destroy CT <vmid> - container is running"),
//   src/PVE/API2/LXC/Status.pm ("CT <vmid> already running", "CT <vmid> not running"),
//   src/PVE/LXC/Create.pm (recover_config, the restore's messages), src/PVE/LXC.pm (vmstatus).
// - pve-storage: src/PVE/Storage.pm (extract_vzdump_config_tar).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Die, sorted, type Command, type Tool } from './pve-cli.js';
import {
  parseGuestConfig,
  parsePropertyString,
  parseSize,
  readGuestConfig,
  readStorageConfig,
  readVmList,
  saveGuestConfig,
  storageEnabledOn,
} from './pve-cluster.js';
import {
  checkVmidUnused,
  destroyGuest,
  guestStatus,
  loadConfig,
  lockGuestConfig,
  type NodeContext,
  randomMac,
  refreshNodeStatus,
  runTask,
  startGuest,
  stopGuest,
  configCommand,
  setCommand,
  nodeTool,
} from './pve-guests.js';
import { allocateImage, archiveInfo, readTarConfig, storageSubdir } from './pve-storage.js';
import { VMID_PARAM } from './qm.js';
import { resolveArchive } from './qmrestore.js';
import type { PbsSnapshot } from './pbs-remote.js';

/** Create.pm restore_configuration: the backed-up lines kept (lock, unused and parent dropped). */
export function restoredContainerConfig(raw: string, rootfs: string, unique: boolean): string {
  let out = '';
  for (const line of raw.split(/(?<=\n)/)) {
    if (/^(lock|unused\d+|parent):/.test(line) || /^#vzdump#/.test(line)) continue;
    if (/^rootfs:/.test(line)) {
      const [, ...rest] = line
        .replace(/^rootfs:\s*/, '')
        .trimEnd()
        .split(',');
      out += `rootfs: ${[rootfs, ...rest].join(',')}\n`;
    } else if (unique && /^net\d+:/.test(line)) {
      out += line.replace(/hwaddr=[0-9A-Fa-f:]{17}/, `hwaddr=${randomMac()}`);
    } else out += line;
  }
  return out;
}

/** Create.pm restore_proxmox_backup_archive's configuration: the snapshot's pct.conf. */
async function pbsContainerConfig(snapshot: PbsSnapshot): Promise<string> {
  const config = await snapshot.blob('pct.conf.blob');
  // The stand-in's own words: the real one fails in the client's call (see pbs-remote.ts).
  if (!config) throw new Die(`unable to restore '${snapshot.name}' - no pct.conf in the backup\n`);
  return config.toString('utf8');
}

async function restoreContainer(ctx: NodeContext, vmid: number, archiveArg: string, params: Record<string, unknown>) {
  const entry = { vmid, type: 'lxc' as const, node: ctx.node };
  const source = await resolveArchive(ctx, archiveArg);
  if ('path' in source) {
    const { format } = archiveInfo(source.path);
    if (format !== 'tar') throw new Die(`pct (chaton lab stand-in): ${format} archives are not implemented\n`);
  } else if (source.pbs.type !== 'ct') throw new Die(`got unexpected backup format 'pbs-${source.pbs.type}'\n`);
  await checkVmidUnused(ctx.configDir, vmid);
  const emsg = `unable to restore CT ${vmid} -`;
  try {
    await lockGuestConfig(ctx, 'lxc', vmid, 5, async () => {
      await checkVmidUnused(ctx.configDir, vmid);
      await saveGuestConfig(ctx.configDir, entry, { values: new Map([['lock', 'create']]), lxc: [], sections: '' });
    });
  } catch (error) {
    throw new Die(`${emsg} ${(error as Error).message}`);
  }
  await runTask(ctx, 'vzrestore', String(vmid), async (io) => {
    const task = { ...ctx, io };
    try {
      await lockGuestConfig(task, 'lxc', vmid, 10, async () => {
        io.out(`recovering backed-up configuration from '${archiveArg}'\n`);
        const raw = 'path' in source ? await readTarConfig(source.path) : await pbsContainerConfig(source.pbs);
        const backed = parseGuestConfig(raw);
        const rootfs = parsePropertyString(backed.values.get('rootfs') ?? '', 'volume');
        const size = parseSize(rootfs.get('size')) ?? 4 * 1024 ** 3;
        const id = params['storage'] === undefined ? 'local' : String(params['storage']);
        const storage = (await readStorageConfig(ctx.configDir)).find((candidate) => candidate.id === id);
        if (!storage) throw new Die(`storage '${id}' does not exist\n`);
        if (!storage.content.has('rootdir')) throw new Die(`storage '${id}' does not support container directories\n`);
        if (!storageEnabledOn(storage, ctx.node))
          throw new Die(`storage '${id}' is not available on node '${ctx.node}'\n`);
        if (!storage.path)
          throw new Die(`pct (chaton lab stand-in): storage type '${storage.type}' is not implemented\n`);
        const volid = await allocateImage({ ...storage, path: join(ctx.root, storage.path) }, vmid, size);
        const path = join(storageSubdir(storage, 'images'), volid.split(':')[1] ?? '');
        io.out(`Formatting '${path}', fmt=raw size=${size} preallocation=off\n`);
        io.out(`Creating filesystem with ${size / 4096} 4k blocks and ${size / 16384} inodes\n`);
        io.out(
          `Filesystem UUID: ${randomBytes(16)
            .toString('hex')
            .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}\n`,
        );
        io.out(`restoring '${archiveArg}' now..\n`);
        if ('path' in source) io.out(`extracting archive '${source.path}'\n`);
        io.out('Total bytes read: 10240 (10KiB, 10MiB/s)\n');
        io.out('merging backed-up and given configuration..\n');
        const restored = parseGuestConfig(restoredContainerConfig(raw, volid, Boolean(params['unique'])));
        restored.values.delete('template');
        await saveGuestConfig(ctx.configDir, entry, restored);
      });
    } catch (error) {
      const left = await readGuestConfig(ctx.configDir, entry);
      if (left?.values.get('lock') === 'create') {
        left.values.delete('lock');
        await saveGuestConfig(ctx.configDir, entry, left);
      }
      throw error;
    }
  });
  if (params['start']) await startGuest(ctx, 'lxc', vmid);
}

const COMMANDS: Command<NodeContext>[] = [
  {
    words: ['list'],
    argParams: [],
    params: {},
    async run(_params, ctx) {
      const statuses = await refreshNodeStatus(ctx);
      const vmlist = await readVmList(ctx.configDir);
      const containers = [...statuses.keys()].filter((vmid) => vmlist.get(vmid)?.type === 'lxc').sort((a, b) => a - b);
      if (containers.length === 0) return;
      const row = (cells: string[]): string =>
        cells.map((cell, index) => (index < 3 ? cell.padEnd(index === 2 ? 12 : 10) : cell.padEnd(20))).join(' ') + '\n';
      let text = row(['VMID', 'Status', 'Lock', 'Name']);
      for (const vmid of containers) {
        const status = statuses.get(vmid) ?? {};
        text += row([
          String(vmid),
          String(status['status']),
          String(status['lock'] ?? ''),
          String(status['name'] ?? ''),
        ]);
      }
      ctx.io.out(text);
    },
  },
  configCommand('lxc', VMID_PARAM),
  {
    words: ['status'],
    argParams: ['vmid'],
    params: { vmid: VMID_PARAM, verbose: { type: 'boolean', optional: true } },
    async run(params, ctx) {
      const vmid = Number(params['vmid']);
      const config = await loadConfig(ctx, 'lxc', vmid);
      const status = await guestStatus(ctx, { vmid, type: 'lxc', node: ctx.node }, config);
      if (!params['verbose']) {
        ctx.io.out(`status: ${status['status'] ?? 'unknown'}\n`);
        return;
      }
      ctx.io.out(
        sorted(Object.keys(status))
          .filter((key) => key !== 'cpu')
          .map((key) => `${key}: ${status[key]}\n`)
          .join(''),
      );
    },
  },
  {
    words: ['start'],
    argParams: ['vmid'],
    params: {
      vmid: VMID_PARAM,
      skiplock: { type: 'boolean', optional: true },
      debug: { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      await startGuest(ctx, 'lxc', Number(params['vmid']));
    },
  },
  {
    words: ['stop'],
    argParams: ['vmid'],
    params: {
      vmid: VMID_PARAM,
      skiplock: { type: 'boolean', optional: true },
      'overrule-shutdown': { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      await stopGuest(ctx, 'lxc', Number(params['vmid']));
    },
  },
  {
    words: ['destroy'],
    argParams: ['vmid'],
    params: {
      vmid: VMID_PARAM,
      force: { type: 'boolean', optional: true },
      purge: { type: 'boolean', optional: true },
      'destroy-unreferenced-disks': { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      if (params['force']) throw new Die('pct (chaton lab stand-in): --force is not implemented\n');
      await destroyGuest(ctx, 'lxc', Number(params['vmid']), {
        purge: Boolean(params['purge']),
        unreferencedDisks: Boolean(params['destroy-unreferenced-disks']),
      });
    },
  },
  setCommand('lxc', { vmid: VMID_PARAM }),
  {
    words: ['restore'],
    argParams: ['vmid', 'ostemplate'],
    params: {
      vmid: VMID_PARAM,
      ostemplate: { type: 'string', maxLength: 255 },
      storage: { type: 'string', optional: true },
      force: { type: 'boolean', optional: true },
      unique: { type: 'boolean', optional: true },
      pool: { type: 'string', optional: true },
      start: { type: 'boolean', optional: true },
      unprivileged: { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      for (const unsupported of ['force', 'pool'] as const) {
        if (params[unsupported]) throw new Die(`pct (chaton lab stand-in): --${unsupported} is not implemented\n`);
      }
      await restoreContainer(ctx, Number(params['vmid']), String(params['ostemplate']), params);
    },
  },
];

export const PCT: Tool<NodeContext> = { name: 'pct', commands: COMMANDS };

export const { run, main } = nodeTool(PCT, import.meta.url);
