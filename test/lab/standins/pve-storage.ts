// Storage for the lab's Proxmox VE stand-ins: volumes of the file-based storages (dir, nfs, cifs...),
// vzdump archive names as pve-storage reads them, and the archives' own formats. Self-contained
// (node: builtins only, plus the real tar and decompressors that pve-storage runs).
//
// The lab's vzdump archives: a qemu one holds a real VMA header (the guest's qemu-server.conf as
// the archive's configuration blob, and its disks as devices) but no data extents; an lxc one is a
// real tar holding ./etc/vzdump/pct.conf. Either is compressed by the real gzip, lzop or zstd.
// So restore reads a backed-up configuration with the real decompressor, as qmrestore and pct
// restore do; `vma` itself is not installed in the lab, its header is parsed here.
//
// Sources (github.com/proxmox):
// - pve-storage: src/PVE/Storage.pm (archive_info, decompressor_info, $BACKUP_EXT_RE_2,
//   extract_vzdump_config_tar and _vma, abs_filesystem_path, volume_list sorted by volid),
//   src/PVE/Storage/Plugin.pm (COMPRESSOR_RE, LOG_EXT, NOTES_EXT, $vtype_subdirs, get_subdir,
//   get_subdir_files: volid, format, ctime, subtype, vmid, notes, protected, size; list_images;
//   parse_name_dir; parse_volname), src/PVE/API2/Storage/Content.pm (the listing's fields and
//   their integer conversion).
// - qemu (github.com/proxmox/qemu): vma.h (VmaHeader: big-endian fields, 12288 bytes),
//   vma-writer.c (the blob table from offset 1, 2-byte little-endian lengths, header_size and the
//   MD5 of the header with its md5sum zeroed).
import { createHash, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Die } from './pve-cli.js';
import type { Storage } from './pve-cluster.js';

export const COMPRESSORS = ['gz', 'lzo', 'zst', 'bz2'] as const;
/** $BACKUP_EXT_RE_2: the archive extension and, inside it, the compression. */
const BACKUP_EXT = String.raw`\.(tgz|(?:tar|vma)(?:\.(${COMPRESSORS.join('|')}))?)`;
const ARCHIVE_NAME = new RegExp(`^(vzdump-(lxc|openvz|qemu)-.+${BACKUP_EXT})$`);

export interface ArchiveInfo {
  filename: string;
  type: 'lxc' | 'openvz' | 'qemu';
  /** tar, vma (tgz as tar). */
  format: string;
  compression?: string;
  /** The command that decompresses it to stdout (vma) or the tar option (tar). */
  decompressor?: string[];
  isStdName: boolean;
  vmid?: number;
  /** From the name: the node's LOCAL time (timelocal). */
  ctime?: number;
  logfilename?: string;
  notesfilename?: string;
}

const DECOMPRESSORS: Record<string, Record<string, string[]>> = {
  tar: { gz: ['tar', '-z'], lzo: ['tar', '--lzop'], zst: ['tar', '--zstd'], bz2: ['tar', '--bzip2'] },
  vma: { gz: ['zcat'], lzo: ['lzop', '-d', '-c'], zst: ['zstd', '-q', '-d', '-c'], bz2: ['bzcat', '-q'] },
};

/** Storage.pm archive_info. */
export function archiveInfo(archive: string): ArchiveInfo {
  const volid = basename(archive);
  const match = ARCHIVE_NAME.exec(volid);
  if (!match) throw new Die(`ERROR: couldn't determine archive info from '${archive}'\n`);
  const [, filename = '', type = 'qemu', extension = '', compressionText] = match;
  let format = extension.replace(/\..*/, '');
  let compression = compressionText;
  if (format === 'tgz' && compression === undefined) [format, compression] = ['tar', 'gz'];
  if (!DECOMPRESSORS[format]) throw new Die('ERROR: archive format not defined\n');
  const info: ArchiveInfo = { filename, type: type as ArchiveInfo['type'], format, isStdName: false };
  if (compression !== undefined) {
    info.compression = compression;
    info.decompressor = DECOMPRESSORS[format]?.[compression];
  }
  const escaped = extension.replace(/\./g, '\\.');
  const std = new RegExp(
    `^(vzdump-${type}-([1-9][0-9]{2,8})-(\\d{4})_(\\d{2})_(\\d{2})-(\\d{2})_(\\d{2})_(\\d{2}))\\.${escaped}$`,
  ).exec(volid);
  if (std) {
    const [, base = '', vmid, year, month, day, hour, minute, second] = std.map((part) => part ?? '');
    info.logfilename = `${base}.log`;
    info.notesfilename = `${filename}.notes`;
    info.vmid = Number(vmid);
    // Time::Local timelocal: the name's fields in the node's time zone.
    const local = new Date(+year!, +month! - 1, +day!, +hour!, +minute!, +second!);
    info.ctime = Math.floor(local.getTime() / 1000);
    info.isStdName = true;
  }
  return info;
}

export type VolumeContent = 'backup' | 'images' | 'rootdir' | 'iso' | 'vztmpl' | 'snippets';

/** Plugin.pm $vtype_subdirs. */
const SUBDIRS: Record<VolumeContent, string> = {
  images: 'images',
  rootdir: 'private',
  iso: 'template/iso',
  vztmpl: 'template/cache',
  backup: 'dump',
  snippets: 'snippets',
};

/** Plugin.pm get_subdir. */
export function storageSubdir(storage: Storage, content: VolumeContent): string {
  if (!storage.path) throw new Die('storage definition has no path\n');
  const custom = /(?:^|,)\s*(\w+)=([^,]+)/g;
  const dirs = new Map([...(storage.properties.get('content-dirs') ?? '').matchAll(custom)].map((m) => [m[1], m[2]]));
  return join(storage.path, dirs.get(content) ?? SUBDIRS[content]);
}

export interface Volume {
  volid: string;
  content: VolumeContent;
  format: string;
  size?: number;
  ctime?: number;
  vmid?: number;
  subtype?: string;
  notes?: string;
  protected?: number;
  used?: number;
  parent?: string | null;
}

/** get_subdir_files for backups: archives with their notes, protection and times. */
async function backupFiles(storage: Storage, dir: string, vmid?: number): Promise<Volume[]> {
  const volumes: Volume[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info || info.isDirectory()) continue;
    const match = new RegExp(`^([^/]+${BACKUP_EXT})$`).exec(name);
    if (!match) continue;
    const format = match[2] as string;
    if (vmid !== undefined && !new RegExp(`\\S+-${vmid}-\\S+`).test(name)) continue;
    const volume: Volume = { volid: `${storage.id}:backup/${name}`, content: 'backup', format };
    let archive: ArchiveInfo | undefined;
    try {
      archive = archiveInfo(name);
    } catch {
      archive = undefined;
    }
    if (archive?.ctime !== undefined) volume.ctime = archive.ctime;
    volume.subtype = archive?.type ?? 'unknown';
    const owner = new RegExp(`-([1-9][0-9]{2,8})-[^/]+\\.${format.replace(/\./g, '\\.')}$`).exec(name)?.[1];
    if (vmid !== undefined || owner !== undefined) volume.vmid = vmid ?? Number(owner);
    const notes = await readFile(`${path}.notes`, 'utf8').catch(() => undefined);
    if (notes !== undefined) volume.notes = notes.split('\n')[0] ?? '';
    if (
      await stat(`${path}.protected`).then(
        () => true,
        () => false,
      )
    )
      volume.protected = 1;
    volume.size = info.size;
    volume.ctime ??= Math.floor(info.ctimeMs / 1000);
    volumes.push(volume);
  }
  return volumes;
}

/** list_images: <images>/<vmid>/<name>.(raw|qcow2|vmdk). */
async function imageFiles(storage: Storage, vmid?: number): Promise<Volume[]> {
  const volumes: Volume[] = [];
  const dir = storageSubdir(storage, 'images');
  for (const owner of await readdir(dir).catch(() => [] as string[])) {
    if (!/^[0-9][0-9]+$/.test(owner) || (vmid !== undefined && Number(owner) !== vmid)) continue;
    for (const name of await readdir(join(dir, owner)).catch(() => [] as string[])) {
      const match = /^((?:vm-|base-|subvol-)\d+-[^/\s]+\.(raw|qcow2|vmdk))$/.exec(name);
      if (!match) continue;
      const info = await stat(join(dir, owner, name)).catch(() => undefined);
      if (!info) continue;
      volumes.push({
        volid: `${storage.id}:${owner}/${name}`,
        content: 'images',
        format: match[2] as string,
        size: info.size,
        used: info.blocks * 512,
        vmid: Number(owner),
        parent: null,
        ctime: Math.floor(info.ctimeMs / 1000),
      });
    }
  }
  return volumes;
}

/** get_subdir_files for iso, vztmpl and snippets. */
async function templateFiles(storage: Storage, content: 'iso' | 'vztmpl' | 'snippets'): Promise<Volume[]> {
  const volumes: Volume[] = [];
  const dir = storageSubdir(storage, content);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info || info.isDirectory()) continue;
    let format: string | undefined;
    if (content === 'iso') format = /\.(?:iso|img)$/i.test(name) ? 'iso' : undefined;
    else if (content === 'vztmpl') {
      const match = /\.(?:(tar)(?!\.)|tar\.(gz|xz|zst|bz2))$/i.exec(name);
      format = match ? (match[1] ?? `t${match[2]}`) : undefined;
    } else format = 'snippet';
    if (format === undefined) continue;
    const volume: Volume = { volid: `${storage.id}:${content}/${name}`, content, format, size: info.size };
    volume.ctime = Math.floor(info.ctimeMs / 1000);
    volumes.push(volume);
  }
  return volumes;
}

/**
 * Storage.pm volume_list: a path storage's volumes of the given content types that it holds,
 * sorted by volid (case-insensitive). `guestTypes` tells images from container volumes.
 */
export async function listVolumes(
  storage: Storage,
  contents: VolumeContent[],
  guestTypes: Map<number, string>,
  vmid?: number,
): Promise<Volume[]> {
  if (!storage.path) {
    throw new Die(`pvesh (chaton lab stand-in): storage type '${storage.type}' is not implemented\n`);
  }
  const volumes: Volume[] = [];
  for (const content of contents.filter((type) => storage.content.has(type))) {
    if (content === 'images' || content === 'rootdir') {
      for (const volume of await imageFiles(storage, vmid)) {
        volume.content = guestTypes.get(volume.vmid ?? 0) === 'lxc' ? 'rootdir' : 'images';
        if (volume.content === content) volumes.push(volume);
      }
    } else if (content === 'backup') {
      volumes.push(...(await backupFiles(storage, storageSubdir(storage, 'backup'), vmid)));
    } else if (vmid === undefined) {
      volumes.push(...(await templateFiles(storage, content)));
    }
  }
  return volumes.sort((a, b) => (a.volid.toLowerCase() < b.volid.toLowerCase() ? -1 : 1));
}

/** parse_volume_id and Plugin path: a volume of a path storage as a file. */
export function volumePath(storage: Storage, volname: string): string {
  const image = /^(\d+)\/(\S+)$/.exec(volname);
  if (image) return join(storageSubdir(storage, 'images'), image[1] as string, image[2] as string);
  const backup = /^backup\/([^/]+)$/.exec(volname);
  if (backup) return join(storageSubdir(storage, 'backup'), backup[1] as string);
  throw new Die(`unable to parse directory volume name '${volname}'\n`);
}

/**
 * vdisk_alloc on a dir storage: `name`, or the first free vm-<vmid>-disk-<n>.<format>, as a sparse
 * file (a qcow2 one without its header: nothing in the lab reads it).
 */
export async function allocateImage(
  storage: Storage,
  vmid: number,
  size: number,
  format = 'raw',
  wanted?: string,
): Promise<string> {
  const dir = join(storageSubdir(storage, 'images'), String(vmid));
  await mkdir(dir, { recursive: true });
  const taken = new Set(await readdir(dir));
  let index = 0;
  while (taken.has(`vm-${vmid}-disk-${index}.${format}`)) index++;
  const name = wanted ?? `vm-${vmid}-disk-${index}.${format}`;
  if (taken.has(name)) throw new Die(`disk image '${join(dir, name)}' already exists\n`);
  const handle = await open(join(dir, name), 'wx');
  await handle.truncate(size);
  await handle.close();
  return `${storage.id}:${vmid}/${name}`;
}

/** vdisk_free on a dir storage: the file, then its VMID directory when that is empty. */
export async function freeImage(storage: Storage, volname: string): Promise<void> {
  const path = volumePath(storage, volname);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rmdir(dirname(path)).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// VMA (qemu's vma.h): the header of a Virtual Machine Archive.

const VMA_HEADER_SIZE = 4096 + 8192;
const VMA_MAX_CONFIGS = 256;
const CONFIG_NAMES_OFFSET = 2044;
const CONFIG_DATA_OFFSET = CONFIG_NAMES_OFFSET + 4 * VMA_MAX_CONFIGS;
const DEV_INFO_OFFSET = 4096;

export interface VmaContents {
  /** Configuration blobs by name (qemu-server.conf, qemu-server.fw). */
  configs: Map<string, Buffer>;
  /** Devices by id (1-254): name (drive-scsi0) and size in bytes. */
  devices: Map<number, { name: string; size: number }>;
  ctime: number;
  uuid: string;
}

/** vma_writer_create and vma_write_header: a VMA's header (the lab writes no data extents). */
export function vmaHeader(contents: Omit<VmaContents, 'uuid'> & { uuid?: string }): Buffer {
  let table = Buffer.alloc(0);
  let position = 1; // "start at pos 1"
  const allocate = (data: Buffer): number => {
    if (data.length > 65535) throw new Error('VMA blob too large');
    if (table.length < position + data.length + 2) {
      table = Buffer.concat([table, Buffer.alloc(Math.ceil((data.length + 2) / 512) * 512)]);
    }
    const at = position;
    table[at] = data.length & 255;
    table[at + 1] = (data.length >> 8) & 255;
    data.copy(table, at + 2);
    position += data.length + 2;
    return at;
  };
  const header = Buffer.alloc(VMA_HEADER_SIZE);
  header.write('VMA\0', 0, 'latin1');
  header.writeUInt32BE(1, 4);
  Buffer.from((contents.uuid ?? randomUUID()).replace(/-/g, ''), 'hex').copy(header, 8);
  header.writeBigInt64BE(BigInt(contents.ctime), 24);
  let index = 0;
  for (const [name, data] of contents.configs) {
    header.writeUInt32BE(allocate(Buffer.from(`${name}\0`)), CONFIG_NAMES_OFFSET + 4 * index);
    header.writeUInt32BE(allocate(data), CONFIG_DATA_OFFSET + 4 * index);
    index++;
  }
  for (const [id, device] of contents.devices) {
    const at = DEV_INFO_OFFSET + 32 * id;
    header.writeUInt32BE(allocate(Buffer.from(`${device.name}\0`)), at);
    header.writeBigUInt64BE(BigInt(device.size), at + 8);
  }
  header.writeUInt32BE(VMA_HEADER_SIZE, 48);
  header.writeUInt32BE(position, 52);
  header.writeUInt32BE(VMA_HEADER_SIZE + table.length, 56);
  const whole = Buffer.concat([header, table]);
  createHash('md5').update(whole).digest().copy(whole, 32);
  return whole;
}

/** vma_reader_create: the header's configurations and devices; throws vma's own complaints. */
export function parseVmaHeader(data: Buffer): VmaContents {
  if (data.length < VMA_HEADER_SIZE || data.toString('latin1', 0, 4) !== 'VMA\0') {
    throw new Error('not a vma file - wrong magic number');
  }
  if (data.readUInt32BE(4) !== 1) throw new Error(`unknown vma version ${data.readUInt32BE(4)}`);
  const headerSize = data.readUInt32BE(56);
  if (data.length < headerSize) throw new Error('read header failed - got end of file');
  const copy = Buffer.from(data.subarray(0, headerSize));
  const md5 = Buffer.from(copy.subarray(32, 48));
  copy.fill(0, 32, 48);
  if (!createHash('md5').update(copy).digest().equals(md5)) throw new Error('wrong vma header chechsum');
  const blobOffset = data.readUInt32BE(48);
  const blob = (pointer: number): Buffer => {
    const at = blobOffset + pointer;
    const length = (data[at] ?? 0) + 256 * (data[at + 1] ?? 0);
    return data.subarray(at + 2, at + 2 + length);
  };
  const text = (pointer: number): string => blob(pointer).toString('utf8').replace(/\0$/, '');
  const configs = new Map<string, Buffer>();
  for (let index = 0; index < VMA_MAX_CONFIGS; index++) {
    const namePointer = data.readUInt32BE(CONFIG_NAMES_OFFSET + 4 * index);
    if (!namePointer) continue;
    configs.set(text(namePointer), Buffer.from(blob(data.readUInt32BE(CONFIG_DATA_OFFSET + 4 * index))));
  }
  const devices = new Map<number, { name: string; size: number }>();
  for (let id = 1; id < 255; id++) {
    const at = DEV_INFO_OFFSET + 32 * id;
    const pointer = data.readUInt32BE(at);
    if (pointer) devices.set(id, { name: text(pointer), size: Number(data.readBigUInt64BE(at + 8)) });
  }
  const uuid = data.toString('hex', 8, 24).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  return { configs, devices, ctime: Number(data.readBigInt64BE(24)), uuid };
}

// ---------------------------------------------------------------------------------------------
// tar (POSIX ustar), for the lab's container archives.

function tarHeader(name: string, size: number, mtime: number, directory: boolean): Buffer {
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number): void => {
    header.write(text, offset, length, 'latin1');
  };
  const octal = (value: number, offset: number, length: number): void =>
    field(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  field(name, 0, 100);
  octal(directory ? 0o755 : 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(mtime, 136, 12);
  field(' '.repeat(8), 148, 8);
  field(directory ? '5' : '0', 156, 1);
  field('ustar\0' + '00', 257, 8);
  field('root', 265, 32);
  field('root', 297, 32);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** A tar of `files` (path to content) with their parent directories, as vzdump's "./" paths. */
export function tarArchive(files: Map<string, Buffer>, mtime: number): Buffer {
  const blocks: Buffer[] = [];
  const seen = new Set<string>();
  for (const [path, content] of files) {
    const parts = path.replace(/^\.\//, '').split('/');
    for (let depth = 0; depth < parts.length; depth++) {
      const dir = `./${parts.slice(0, depth).join('/')}${depth > 0 ? '/' : ''}`;
      if (!seen.has(dir)) {
        seen.add(dir);
        blocks.push(tarHeader(dir, 0, mtime, true));
      }
    }
    blocks.push(tarHeader(`./${parts.join('/')}`, content.length, mtime, false));
    blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

// ---------------------------------------------------------------------------------------------
// Reading a backed-up configuration with the real tools.

export interface CommandResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** run_command: a command's output, at most `limit` bytes of stdout (the rest is not read). */
export function runCommand(argv: string[], limit = Infinity): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let length = 0;
    let stderr = '';
    let cut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (cut) return;
      chunks.push(chunk);
      length += chunk.length;
      if (length >= limit) {
        cut = true;
        child.stdout.destroy();
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: cut ? 0 : (code ?? 128 + (signal === 'SIGPIPE' ? 13 : 15)),
        stdout: Buffer.concat(chunks),
        stderr,
      }),
    );
  });
}

/** extract_vzdump_config_vma: the decompressor's output, read as far as the VMA header goes. */
export async function readVmaArchive(path: string, info: ArchiveInfo): Promise<VmaContents> {
  if (
    !(await stat(path).then(
      (s) => s.isFile(),
      () => false,
    ))
  )
    throw new Die(`ERROR: file '${path}' does not exist\n`);
  let data: Buffer;
  if (info.decompressor) {
    const { code, stdout, stderr } = await runCommand([...info.decompressor, path], 16 * 65536);
    const message = stderr.split('\n').find((line) => line.trim() !== '');
    if (message) throw new Die(`Failed to extract config from VMA archive: ${message}\n`);
    if (code !== 0 && stdout.length === 0) throw new Die(`config extraction failed with exit code ${code}\n`);
    data = stdout;
  } else {
    data = await readFile(path);
  }
  try {
    return parseVmaHeader(data);
  } catch (error) {
    throw new Die(`Failed to extract config from VMA archive: vma: ${(error as Error).message}\n`);
  }
}

/** extract_vzdump_config_tar for ./etc/vzdump/pct.conf: `tar tf`, then `tar -xpOf` of that member. */
export async function readTarConfig(path: string): Promise<string> {
  if (
    !(await stat(path).then(
      (s) => s.isFile(),
      () => false,
    ))
  )
    throw new Die(`ERROR: file '${path}' does not exist\n`);
  const listing = await runCommand(['tar', 'tf', path]);
  const member = listing.stdout
    .toString()
    .split('\n')
    .find((line) => /^\.\/etc\/vzdump\/(pct|vps)\.conf$/.test(line));
  if (!member) throw new Die('ERROR: archive contains no configuration file\n');
  const extracted = await runCommand(['tar', '-xpOf', path, member, '--occurrence']);
  if (extracted.code !== 0)
    throw new Die(`command 'tar -xpOf ${path} ${member}' failed: exit code ${extracted.code}\n`);
  return extracted.stdout.toString();
}
