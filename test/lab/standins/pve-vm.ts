// What `chaton vm create` asks of a Proxmox VE node about one VM, shared by the qm and pvesh stand-ins
// (one implementation, two front-ends): clone a template, set its configuration (cloud-init user,
// keys, address, DNS, tags...), resize its disk, and ask its guest agent. Self-contained (node:
// builtins only, plus flock(1) and ssh-keygen(1) as the real code runs them).
//
// Sources (github.com/proxmox):
// - qemu-server: src/PVE/API2/Qemu.pm clone_vm ($load_and_check before the fork and again in the
//   worker under a shared lock of the source and a full lock of the new VMID, each with a 1 s
//   timeout; "unable to create VM N: config file already exists"; "can't clone VM to node 'x' (VM
//   uses local storage)"; "creating a clone of VM 9000 with ID N"; the temporary config "# qmclone
//   temporary file"; MAC addresses always new, template dropped, smbios1 uuid and vmgenid new, name
//   or "Copy-of-VM-<name>"; "clone failed: ..." after cleaning up), update_vm_api (sshkeys
//   URL-decoded then validated, "no options specified", "checksum mismatch (file change by other
//   user?)", tags through get_unique_tags), resize_vm (task 'resize', "disk 'x' does not exist",
//   "you can't resize a cdrom", "shrinking disks is not supported", the size as format_size);
//   src/PVE/QemuServer.pm clone_disk ("create full clone of drive scsi0 (...)", "allocated target
//   volume '...'", the cloud-init drive vm-N-cloudinit.<format> allocated, not copied);
//   src/PVE/QemuServer/QemuImage.pm convert ("transferred 0.0 B of 2.0 GiB (0.00%)");
//   src/PVE/QemuServer/Agent.pm assert_agent_available ("No QEMU guest agent configured", "VM N is
//   not running", "QEMU guest agent is not running"), check_agent_error ("Agent error: ...");
//   src/PVE/API2/Qemu/Agent.pm (the commands and their methods, `{result: ...}`, file-read's
//   content, bytes-read and truncated); src/PVE/CLI/qm.pm (qm clone and start exit through
//   $upid_exit, qm disk resize prints nothing, qm guest cmd|exec print the result as pretty JSON,
//   qm set's sshkeys is a file, URL-encoded).
// - pve-common: src/PVE/JSONSchema.pm (pve_verify_urlencoded "invalid urlencoded string",
//   dns-name, pve-tag "invalid characters in tag", pve-ipv4-config, address, format_size),
//   src/PVE/Tools.pm (validate_ssh_public_keys: ssh-keygen -l per line, "SSH public key validation
//   error"; random_ether_addr), src/PVE/Format.pm (render_bytes), src/PVE/File.pm
//   (file_set_contents).
// - pve-guest-common: src/PVE/GuestHelpers.pm get_unique_tags (sorted, lowercase, unique, ";").
// - pve-cluster: src/PVE/Cluster.pm check_node_exists ("no such cluster node 'x'"); pmxcfs refuses a
//   configuration whose VMID another node has (file_set_contents' "close (rename) atomic file ...
//   failed: File exists").
// Not reproduced: linked clones, clones of snapshots or into a pool, the agent's other commands.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { VmAgentCommand } from '../control.js';
import { Die, type Json, type Param, ParamError, type Params, sorted, splitList } from './pve-cli.js';
import {
  cfsConfigPath,
  clusterNodes,
  type GuestConfig,
  guestConfigDigest,
  parsePropertyString,
  readStorageConfig,
  readVmList,
  saveGuestConfig,
  type Storage,
  storageEnabledOn,
  writeGuestConfig,
} from './pve-cluster.js';
import {
  loadConfig,
  lockGuestConfig,
  type NodeContext,
  randomMac,
  runningPid,
  type TaskOutcome,
  type TaskRunner,
  withFileLock,
  configLockPath,
  flockHolder,
} from './pve-guests.js';
import { currentFaults, imposeWait, readVmLab, takeFault, vmLabRequest, vmSpecOf } from './pve-lab-vm.js';
import { allocateImage, volumePath } from './pve-storage.js';

// ---------------------------------------------------------------------------------------------
// Parameter formats (JSONSchema.pm) and the VM options that `vm create` sets.

function verifier(test: (value: string) => boolean, message: (value: string) => string): Param['format'] {
  return {
    verify: (value) => {
      if (!test(value)) throw new Error(message(value));
      return value;
    },
  };
}

/** pve-vmid. */
export const VMID_PARAM: Param = {
  type: 'integer',
  minimum: 100,
  maximum: 999_999_999,
  format: verifier(
    (value) => /^[1-9][0-9]{2,8}$/.test(value),
    () => 'value does not look like a valid VM ID\n',
  ),
};

/** pve-node. */
export const NODE_PARAM: Param = {
  type: 'string',
  format: verifier(
    (value) => /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(value),
    () => 'value does not look like a valid node name\n',
  ),
};

/** pve-storage-id. */
export const STORAGE_ID_PARAM: Param = {
  type: 'string',
  format: verifier(
    (value) => /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value),
    (value) => `storage ID '${value}' contains illegal characters\n`,
  ),
};

const IPV4 = String.raw`(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)`;
const IPV4_RE = new RegExp(`^${IPV4}$`);
const CIDRV4_RE = new RegExp(`^${IPV4}/(?:3[0-2]|[12]?\\d)$`);
const DNS_NAME_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

export const DNS_NAME: Param = {
  type: 'string',
  format: verifier(
    (value) => DNS_NAME_RE.test(value),
    () => 'value does not look like a valid DNS name\n',
  ),
};

/** pve-qm-ipconfig: ip (dhcp, manual or an IPv4 CIDR) and gw (IPv4); IPv6 keys kept as given. */
const IPCONFIG: Param = {
  type: 'string',
  optional: true,
  format: verifier(
    (value) => {
      const properties = parsePropertyString(value, 'ip');
      const ip = properties.get('ip');
      const gw = properties.get('gw');
      const known = [...properties.keys()].every((key) => ['ip', 'gw', 'ip6', 'gw6'].includes(key));
      return (
        known && (ip === undefined || /^(dhcp|manual)$/.test(ip) || CIDRV4_RE.test(ip)) && (!gw || IPV4_RE.test(gw))
      );
    },
    () => 'value does not look like a valid ipv4 network configuration\n',
  ),
};

const URLENCODED: Param = {
  type: 'string',
  optional: true,
  format: verifier(
    (value) => /^[-%a-zA-Z0-9_.!~*'()]*$/.test(value),
    (value) => `invalid urlencoded string: ${value}\n`,
  ),
};

/** The VM options `qm set` and PUT .../config take here (the real ones take every option of qm.conf). */
export const VM_OPTIONS: Record<string, Param> = {
  agent: { type: 'string', optional: true },
  boot: { type: 'string', optional: true },
  ciuser: { type: 'string', optional: true },
  cores: { type: 'integer', optional: true, minimum: 1 },
  description: { type: 'string', optional: true, maxLength: 8192 },
  memory: { type: 'string', optional: true, pattern: /^(current=)?\d+$/ },
  name: { ...DNS_NAME, optional: true },
  nameserver: {
    type: 'string',
    optional: true,
    format: {
      list: true,
      verify: (value) => {
        if (!IPV4_RE.test(value) && !/^[0-9a-f:]+$/i.test(value))
          throw new Error(`value does not look like a valid address: ${value}\n`);
        return value;
      },
    },
  },
  net0: { type: 'string', optional: true },
  net1: { type: 'string', optional: true },
  onboot: { type: 'boolean', optional: true },
  protection: { type: 'boolean', optional: true },
  ipconfig0: IPCONFIG,
  ipconfig1: IPCONFIG,
  searchdomain: { type: 'string', optional: true },
  sockets: { type: 'integer', optional: true, minimum: 1 },
  sshkeys: URLENCODED,
  tags: {
    type: 'string',
    optional: true,
    format: {
      list: true,
      verify: (value) => {
        if (!TAG_RE.test(value)) throw new Error('invalid characters in tag\n');
        return value;
      },
    },
  },
};

/** Tools.pm validate_ssh_public_keys: every line that is not blank must be a key `ssh-keygen -l -f` reads. */
async function validateSshKeys(keys: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pve-sshkey-'));
  try {
    for (const line of keys.split('\n')) {
      if (/^\s*$/.test(line)) continue;
      await writeFile(join(dir, 'key'), `${line}\n`);
      const valid = await new Promise<boolean>((resolve) => {
        const child = spawn('ssh-keygen', ['-l', '-f', join(dir, 'key')], { stdio: 'ignore' });
        child.on('error', () => resolve(false));
        child.on('close', (code) => resolve(code === 0));
      });
      if (!valid) throw new Die('SSH public key validation error\n');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** update_vm_api's preparation of the values: keys checked, tags made unique, a NIC without MAC given one. */
export async function prepareVmValues(set: Map<string, string>): Promise<void> {
  const keys = set.get('sshkeys');
  if (keys !== undefined) await validateSshKeys(decodeURIComponent(keys));
  const tags = set.get('tags');
  if (tags !== undefined)
    set.set('tags', [...new Set(sorted(splitList(tags).map((tag) => tag.toLowerCase())))].join(';'));
  for (const [key, value] of set) {
    if (!/^net\d+$/.test(key)) continue;
    const [model = '', ...rest] = value.split(',');
    if (!model.includes('=')) set.set(key, [`${model}=${randomMac()}`, ...rest].join(','));
  }
}

// ---------------------------------------------------------------------------------------------
// Drives.

const DRIVE_KEY = /^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$/;

function isCdrom(value: string): boolean {
  const properties = parsePropertyString(value, 'file');
  return properties.get('media') === 'cdrom' && !/vm-\d+-cloudinit/.test(properties.get('file') ?? '');
}

function isCloudinit(value: string): boolean {
  return /vm-\d+-cloudinit/.test(parsePropertyString(value, 'file').get('file') ?? '');
}

/** JSONSchema.pm format_size: the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (unit < 4 && value % 1024 === 0 && value > 0) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

/** Format.pm render_bytes with one decimal, as QemuImage.pm convert reports progress. */
function renderBytes1(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  const unit = value > 1023 ? Math.floor(Math.log(value) / Math.log(1024)) : 0;
  return `${(value / 1024 ** unit).toFixed(1)} ${units[unit]}`;
}

interface Volume {
  storage: Storage;
  volname: string;
  /** The file on this node. */
  path: string;
}

async function findVolume(ctx: NodeContext, volid: string): Promise<Volume> {
  const [id = '', volname = ''] = volid.split(/:(.*)/s);
  const storage = (await readStorageConfig(ctx.configDir)).find((candidate) => candidate.id === id);
  if (!storage) throw new Die(`storage '${id}' does not exist\n`);
  if (!storage.path) throw new Die(`(chaton lab stand-in) storage type '${storage.type}' is not implemented\n`);
  return { storage, volname, path: volumePath({ ...storage, path: join(ctx.root, storage.path) }, volname) };
}

/** A drive's value with another volume and size, its other options kept in their order. */
function withVolume(value: string, volid: string, size: number | undefined): string {
  const parts = value
    .split(',')
    .slice(1)
    .filter((part) => !part.startsWith('size='));
  return [volid, ...parts, ...(size === undefined ? [] : [`size=${formatSize(size)}`])].join(',');
}

// ---------------------------------------------------------------------------------------------
// Clone (clone_vm).

export interface CloneRequest {
  vmid: number;
  newid: number;
  name?: string;
  description?: string;
  pool?: string;
  storage?: string;
  format?: string;
  full?: boolean;
  target?: string;
  snapname?: string;
}

/** clone_vm's parameters besides the node and the VMIDs. */
export const CLONE_OPTIONS: Record<string, Param> = {
  name: { ...DNS_NAME, optional: true },
  description: { type: 'string', optional: true },
  pool: { type: 'string', optional: true },
  snapname: { type: 'string', optional: true, maxLength: 40 },
  storage: { ...STORAGE_ID_PARAM, optional: true },
  format: { type: 'string', optional: true, enum: ['raw', 'qcow2', 'vmdk'] },
  full: { type: 'boolean', optional: true },
  target: { ...NODE_PARAM, optional: true },
  bwlimit: { type: 'integer', optional: true, minimum: 0 },
};

export function cloneRequest(params: Params): CloneRequest {
  const request: CloneRequest = { vmid: Number(params['vmid']), newid: Number(params['newid']) };
  for (const key of ['name', 'description', 'pool', 'storage', 'format', 'target', 'snapname'] as const) {
    if (params[key] !== undefined) request[key] = String(params[key]);
  }
  if (params['full'] !== undefined) request.full = Boolean(params['full']);
  return request;
}

interface ClonePlan {
  conffile: string;
  newconf: Map<string, string>;
  description?: string;
  /** Drives to copy (cloud-init ones are allocated anew), by key. */
  drives: Map<string, string>;
}

/** $load_and_check: what the clone refuses before doing anything, and the new configuration. */
async function loadAndCheck(ctx: NodeContext, request: CloneRequest, target: string | undefined): Promise<ClonePlan> {
  const { vmid, newid } = request;
  if (target && !(await clusterNodes(ctx.configDir, ctx.node)).some((node) => node.name === target)) {
    throw new Die(`no such cluster node '${target}'\n`);
  }
  const storages = await readStorageConfig(ctx.configDir);
  if (request.storage) {
    const storage = storages.find((candidate) => candidate.id === request.storage);
    if (!storage) throw new Die(`storage '${request.storage}' does not exist\n`);
    if (!storageEnabledOn(storage, ctx.node)) {
      throw new Die(`storage '${storage.id}' is not available on node '${ctx.node}'\n`);
    }
    if (!storage.content.has('images')) {
      throw new ParamError('Parameter verification failed.\n', {
        storage: `storage '${storage.id}' does not support vm images`,
      });
    }
    if (target && !storageEnabledOn(storage, target)) {
      throw new Die(`storage '${storage.id}' is not available on node '${target}'\n`);
    }
    if (target && !storage.shared) throw new Die(`can't clone to non-shared storage '${storage.id}'\n`);
  }
  const config = await loadConfig(ctx, 'qemu', vmid);
  const lock = config.values.get('lock');
  if (lock) throw new Die(`VM is locked (${lock})\n`);
  if (request.snapname) throw new Die(`snapshot '${request.snapname}' does not exist\n`);
  const full = request.full ?? config.values.get('template') !== '1';
  if (!full) throw new Die('(chaton lab stand-in) linked clones are not implemented, use --full 1\n');
  const newconf = new Map<string, string>([['lock', 'clone']]);
  const drives = new Map<string, string>();
  let shared = true;
  for (const key of sorted(config.values.keys())) {
    const value = config.values.get(key) as string;
    if (['parent', 'snaptime', 'vmstate', 'snapstate', 'runningcpu', 'runningmachine'].includes(key)) continue;
    if (/^unused\d+$/.test(key)) continue;
    if (/^net\d+$/.test(key)) {
      const [model = '', ...rest] = value.split(',');
      newconf.set(key, [`${model.split('=')[0]}=${randomMac()}`, ...rest].join(','));
    } else if (DRIVE_KEY.test(key)) {
      if (isCdrom(value)) {
        newconf.set(key, value);
        continue;
      }
      const volid = parsePropertyString(value, 'file').get('file') ?? '';
      const storage = storages.find((candidate) => candidate.id === volid.split(':')[0]);
      if (!storage?.shared) shared = false;
      drives.set(key, value);
    } else newconf.set(key, value);
  }
  if (target && !shared) throw new Die(`can't clone VM to node '${target}' (VM uses local storage)\n`);
  const conffile = join(ctx.configDir, cfsConfigPath(ctx.node, 'qemu', newid));
  const exists = await stat(conffile).then(
    (info) => info.isFile(),
    () => false,
  );
  if (exists) throw new Die(`unable to create VM ${newid}: config file already exists\n`);
  return { conffile, newconf, description: config.description, drives };
}

/** What a VMID race leaves: another VM, made by someone else, where the clone was about to go. */
async function intruder(ctx: NodeContext, newid: number): Promise<void> {
  const raw =
    `boot: order=scsi0\ncores: 1\nmemory: 512\nname: intruder-${newid}\n` +
    `net0: virtio=${randomMac()},bridge=vmbr0\nostype: l26\nscsihw: virtio-scsi-single\n` +
    `smbios1: uuid=${randomUUID()}\n`;
  await writeFile(join(ctx.configDir, cfsConfigPath(ctx.node, 'qemu', newid)), raw, { mode: 0o640 });
}

/** The disks copied (full clone) or allocated (cloud-init), each as clone_disk prints it. */
async function cloneDrives(ctx: NodeContext, request: CloneRequest, plan: ClonePlan, made: Volume[]): Promise<void> {
  const lab = await readVmLab(ctx.root);
  const delay = (await currentFaults(lab)).cloneDelayMs;
  for (const [key, value] of plan.drives) {
    const volid = parsePropertyString(value, 'file').get('file') ?? '';
    ctx.io.out(`create full clone of drive ${key} (${volid})\n`);
    const source = await findVolume(ctx, volid);
    const storageId = request.storage ?? source.storage.id;
    const storage = (await readStorageConfig(ctx.configDir)).find((candidate) => candidate.id === storageId);
    if (!storage?.path) throw new Die(`(chaton lab stand-in) storage '${storageId}' is not a file storage\n`);
    const local = { ...storage, path: join(ctx.root, storage.path) };
    const cloudinit = isCloudinit(value);
    const format = /\.(raw|qcow2|vmdk)$/.exec(source.volname)?.[1] ?? 'raw';
    const size = cloudinit ? 4 * 1024 ** 2 : (await stat(source.path)).size;
    const name = cloudinit ? `vm-${request.newid}-cloudinit.${format}` : undefined;
    const newvolid = await allocateImage(local, request.newid, size, format, name);
    const volname = newvolid.split(':')[1] ?? '';
    made.push({ storage, volname, path: volumePath(local, volname) });
    ctx.io.out(
      `Formatting '${volumePath(storage, volname)}', fmt=${format} size=${size} preallocation=off\n` +
        `allocated target volume '${newvolid}'\n`,
    );
    if (!cloudinit) {
      ctx.io.out(`transferred 0.0 B of ${renderBytes1(size)} (0.00%)\n`);
      await imposeWait(lab, 'clone', delay);
      ctx.io.out(`transferred ${renderBytes1(size)} of ${renderBytes1(size)} (100.00%)\n`);
    }
    plan.newconf.set(key, withVolume(value, newvolid, size));
    await writeFile(plan.conffile, configText(plan.newconf, plan.description));
  }
}

function configText(values: Map<string, string>, description?: string): string {
  const config: GuestConfig = { values, lxc: [], sections: '' };
  if (description !== undefined) config.description = description;
  return writeGuestConfig(config);
}

/** clone_vm: checks, then the task; `runner` decides how its failure ends (qm exits, pvesh returns). */
export async function cloneVm(ctx: NodeContext, request: CloneRequest, runner: TaskRunner): Promise<TaskOutcome> {
  const { vmid, newid } = request;
  const target = request.target === ctx.node || request.target === 'localhost' ? undefined : request.target;
  if (request.pool) throw new Die('(chaton lab stand-in) clone --pool is not implemented\n');
  await loadAndCheck(ctx, request, target);
  const lab = await readVmLab(ctx.root);
  return runner(ctx, 'qmclone', String(vmid), async (io) => {
    const task = { ...ctx, io };
    const sourceLock = join(ctx.root, configLockPath('qemu', vmid));
    // A clone that finds the template busy (a backup, another clone): its config lock is held.
    const busy = (await takeFault(lab, 'cloneLockTimeouts', io)) ? await flockHolder(sourceLock) : undefined;
    try {
      await withFileLock(
        sourceLock,
        1,
        io,
        () => lockGuestConfig(task, 'qemu', newid, 1, () => clone(task, request, target, lab)),
        true,
      );
    } finally {
      await busy?.release();
    }
  });
}

async function clone(
  ctx: NodeContext,
  request: CloneRequest,
  target: string | undefined,
  lab: Awaited<ReturnType<typeof readVmLab>>,
): Promise<void> {
  const { vmid, newid } = request;
  if (await takeFault(lab, 'cloneVmidTaken', ctx.io)) await intruder(ctx, newid);
  const plan = await loadAndCheck(ctx, request, target);
  ctx.io.out(`creating a clone of VM ${vmid} with ID ${newid}\n`);
  const { newconf } = plan;
  const smbios = parsePropertyString(newconf.get('smbios1') ?? '', 'uuid');
  smbios.set('uuid', randomUUID());
  newconf.set('smbios1', [...smbios].map(([key, value]) => `${key}=${value}`).join(','));
  if (newconf.get('vmgenid')) newconf.set('vmgenid', randomUUID());
  newconf.delete('template');
  newconf.set('name', request.name ?? `Copy-of-VM-${newconf.get('name') ?? vmid}`);
  if (request.description) plan.description = request.description;
  // file_set_contents: pmxcfs refuses a VMID that another node has.
  const list = await readVmList(ctx.configDir);
  const other = list.get(newid);
  if (other && other.node !== ctx.node) {
    throw new Die(
      `close (rename) atomic file '/etc/pve/${cfsConfigPath(ctx.node, 'qemu', newid)}' failed: File exists\n`,
    );
  }
  await writeFile(plan.conffile, '# qmclone temporary file\nlock: clone\n', { mode: 0o640 });
  const firewall = join(ctx.configDir, 'firewall');
  await copyFile(join(firewall, `${vmid}.fw`), join(firewall, `${newid}.fw`)).catch(() => {});
  const made: Volume[] = [];
  try {
    await cloneDrives(ctx, request, plan, made);
    newconf.delete('lock');
    await writeFile(plan.conffile, configText(newconf, plan.description));
    if (target) {
      try {
        await rename(plan.conffile, join(ctx.configDir, cfsConfigPath(target, 'qemu', newid)));
      } catch (error) {
        throw new Die(`Failed to move config to node '${target}' - rename failed: ${(error as Error).message}\n`);
      }
    }
  } catch (error) {
    for (const volume of made) await unlink(volume.path).catch(() => {});
    await unlink(join(firewall, `${newid}.fw`)).catch(() => {});
    await unlink(plan.conffile).catch(() => {});
    throw new Die(`clone failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Resize (resize_vm).

const SIZE_RE = /^(\+)?(\d+(\.\d+)?)([KMGT])?$/;

/** resize_vm's parameters besides the node and the VMID. */
export const RESIZE_OPTIONS: Record<string, Param> = {
  disk: {
    type: 'string',
    enum: [
      ...Array.from({ length: 4 }, (_, index) => `ide${index}`),
      ...Array.from({ length: 31 }, (_, index) => `scsi${index}`),
      ...Array.from({ length: 16 }, (_, index) => `virtio${index}`),
      ...Array.from({ length: 6 }, (_, index) => `sata${index}`),
      'efidisk0',
      'tpmstate0',
    ],
  },
  size: { type: 'string', pattern: /^\+?\d+(\.\d+)?[KMGT]?$/ },
  digest: { type: 'string', optional: true, maxLength: 40 },
  skiplock: { type: 'boolean', optional: true },
};

export async function resizeVm(
  ctx: NodeContext,
  vmid: number,
  disk: string,
  size: string,
  options: { digest?: string; skiplock?: boolean },
  runner: TaskRunner,
): Promise<TaskOutcome> {
  return runner(ctx, 'resize', String(vmid), (io) =>
    lockGuestConfig({ ...ctx, io }, 'qemu', vmid, 10, async () => {
      const task = { ...ctx, io };
      const config = await loadConfig(task, 'qemu', vmid);
      const entry = { vmid, type: 'qemu' as const, node: ctx.node };
      if (options.digest && options.digest !== (await guestConfigDigest(ctx.configDir, entry))) {
        throw new Die('checksum mismatch (file change by other user?)\n');
      }
      const lock = config.values.get('lock');
      if (lock && !options.skiplock) throw new Die(`VM is locked (${lock})\n`);
      const value = config.values.get(disk);
      if (!value) throw new Die(`disk '${disk}' does not exist\n`);
      const volid = parsePropertyString(value, 'file').get('file');
      if (!volid) throw new Die(`disk '${disk}' has no associated volume\n`);
      if (parsePropertyString(value, 'file').get('media') === 'cdrom') throw new Die("you can't resize a cdrom\n");
      const volume = await findVolume(task, volid);
      const current = (await stat(volume.path).catch(() => undefined))?.size;
      if (current === undefined) throw new Die(`Could not determine current size of volume '${volid}'\n`);
      const [, plus, number = '0', , unit] = SIZE_RE.exec(size) ?? [];
      const factor = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit as 'K'] ?? 1;
      const wanted = Math.floor(Number(number) * factor + (plus ? current : 0));
      if (wanted < current) throw new Die('shrinking disks is not supported\n');
      if (wanted === current) return;
      await truncate(volume.path, wanted);
      config.values.set(disk, withVolume(value, volid, wanted));
      await saveGuestConfig(ctx.configDir, entry, config);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The guest agent (Agent.pm): the lab's supervisor answers for the VM host's agent.

/** Agent.pm $guest_agent_commands: what `qm guest cmd` and the API's agent endpoint accept. */
export const GUEST_AGENT_COMMANDS = sorted([
  ...['ping', 'get-time', 'info', 'fsfreeze-status', 'fsfreeze-freeze', 'fsfreeze-thaw', 'fstrim'],
  ...['network-get-interfaces', 'get-vcpus', 'get-fsinfo', 'get-memory-blocks', 'get-memory-block-info'],
  ...['suspend-hybrid', 'suspend-ram', 'suspend-disk', 'shutdown', 'get-host-name', 'get-osinfo', 'get-users'],
  'get-timezone',
]);

/** The commands of the API's agent endpoints that the lab answers, and their HTTP methods. */
export const AGENT_COMMANDS: Record<string, 'GET' | 'POST'> = {
  ping: 'POST',
  'network-get-interfaces': 'GET',
};

/** mon_cmd(vmid, "guest-<command>") after assert_agent_available; the agent's result. */
export async function agentCommand(
  ctx: NodeContext,
  vmid: number,
  execute: VmAgentCommand,
  args: { path?: string; argv?: string[] } = {},
): Promise<Json> {
  const config = await loadConfig(ctx, 'qemu', vmid);
  if (!config.values.has('agent')) throw new Die('No QEMU guest agent configured\n');
  if (!(await runningPid(ctx, 'qemu', vmid))) throw new Die(`VM ${vmid} is not running\n`);
  // Only a VM that became a lab host has an agent that may answer; the other guests are processes.
  const host = vmSpecOf(vmid, ctx.node, config);
  const request = { op: 'vm-agent' as const, vmid, execute, ...args };
  const answer = host ? await vmLabRequest(await readVmLab(ctx.root), request) : undefined;
  if (!answer || (answer.ok && answer.agent === 'not-running')) throw new Die('QEMU guest agent is not running\n');
  if (!answer.ok) throw new Die(`Agent error: ${answer.error}\n`);
  return (answer.result ?? {}) as Json;
}

/** file-read: the file through guest-file-read, decoded; truncated when the agent did not reach its end. */
export async function agentFileRead(ctx: NodeContext, vmid: number, file: string): Promise<{ [key: string]: Json }> {
  const read = (await agentCommand(ctx, vmid, 'guest-file-read', { path: file })) as {
    count?: number;
    'buf-b64'?: string;
    eof?: boolean;
  };
  const result: { [key: string]: Json } = {
    content: Buffer.from(read['buf-b64'] ?? '', 'base64').toString('utf8'),
    'bytes-read': read.count ?? 0,
  };
  if (!read.eof) result['truncated'] = 1;
  return result;
}
