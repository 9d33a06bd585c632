// A Proxmox Backup Server datastore as it lies on disk, for the lab's proxmox-backup-client stand-in
// and for the lab helpers that make and verify snapshots: the layout, the data blobs, the
// manifests and the verify state a verify job writes into them. Self-contained (node: builtins
// only; a zstd-compressed blob is read with the real zstd).
//
// Layout: <datastore>/<type>/<id>/owner ("root@pam\n"), and one directory per snapshot
// <datastore>/<type>/<id>/<RFC 3339 UTC time>/ holding index.json.blob (the manifest), the
// archives it lists (*.blob, *.fidx, *.didx), client.log.blob, and .protected when protected.
// The lab writes no chunks (.chunks/ stays empty): the index files are only named, with sizes.
//
// Sources (github.com/proxmox/proxmox-backup, 3.2):
// - pbs-datastore/src/file_formats.rs (blob magics; header = magic, CRC32 little-endian),
//   data_blob.rs (encode: compressed only when smaller; the CRC over the data after the header),
//   manifest.rs (BackupManifest and FileInfo fields, MANIFEST_BLOB_NAME, CLIENT_LOG_BLOB_NAME),
//   backup_info.rs (list_backups, list_backup_files matching *.(f|d)idx and *.blob, the
//   .protected file, update_manifest: serde_json::to_value then to_string_pretty, so keys
//   sorted, two-space indent), datastore.rs (the group's owner file).
// - pbs-api-types/src/lib.rs and datastore.rs (BACKUP_TYPE_RE, BACKUP_ID_RE, BACKUP_TIME_RE,
//   SnapshotListItem, BackupContent, SnapshotVerifyState, VerifyState).
// - src/api2/admin/datastore.rs (list_snapshots: comment = first line of unprotected.notes,
//   verification from unprotected.verify_state, size = sum of the files' sizes, the manifest's
//   own entry appended, files not in the manifest listed without size).
// - src/backup/verify.rs (verify_backup_dir_with_lock: unprotected.verify_state = {state, upid}).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_BLOB_NAME = 'index.json.blob';
export const CLIENT_LOG_BLOB_NAME = 'client.log.blob';

/** openssl::sha::sha256(b"Proxmox Backup uncompressed blob v1.0")[0..8] */
export const UNCOMPRESSED_BLOB_MAGIC = Buffer.from([66, 171, 56, 7, 190, 131, 112, 161]);
/** openssl::sha::sha256(b"Proxmox Backup zstd compressed blob v1.0")[0..8] */
export const COMPRESSED_BLOB_MAGIC = Buffer.from([49, 185, 88, 66, 111, 182, 163, 127]);

export const BACKUP_TYPES = ['vm', 'ct', 'host'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];
export const BACKUP_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export const BACKUP_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
const BACKUP_FILE = /^.*\.([fd]idx|blob)$/;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** crc32fast, as DataBlob computes it. */
export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** DataBlob::encode without compression (what PBS writes when compressing does not help). */
export function encodeBlob(data: Buffer): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(data));
  return Buffer.concat([UNCOMPRESSED_BLOB_MAGIC, crc, data]);
}

/** The real zstd, reading `input` and writing to stdout. */
function zstdDecompress(input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('zstd', ['-q', '-d', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(stderr.trim()))));
    child.stdin.end(input);
  });
}

/** DataBlob::load_from_reader and decode: the blob's data, its CRC checked. */
export async function decodeBlob(raw: Buffer): Promise<Buffer> {
  if (raw.length < 12) throw new Error('blob too small');
  const magic = raw.subarray(0, 8);
  const data = raw.subarray(12);
  if (crc32(data) !== raw.readUInt32LE(8)) throw new Error('Data blob has wrong CRC checksum.');
  if (magic.equals(UNCOMPRESSED_BLOB_MAGIC)) return Buffer.from(data);
  if (magic.equals(COMPRESSED_BLOB_MAGIC)) return zstdDecompress(data);
  throw new Error('unable to decode encrypted blob without key');
}

/** BackupDir's path: "2024-06-05T14:24:36Z" for an epoch. */
export function backupTimeText(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseBackupTime(text: string): number {
  return Math.floor(Date.parse(text) / 1000);
}

/** serde_json::to_string_pretty: two-space indent, "key": value. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** serde_json::Value keeps object keys sorted (a BTreeMap): so does everything PBS re-serialises. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .map((key) => [key, sortKeys(object[key])]),
    );
  }
  return value;
}

export interface ManifestFile {
  filename: string;
  'crypt-mode': 'none' | 'encrypt' | 'sign-only';
  size: number;
  /** SHA-256 of the archive, hex. */
  csum: string;
}

export interface Manifest {
  'backup-type': BackupType;
  'backup-id': string;
  'backup-time': number;
  files: ManifestFile[];
  unprotected: Record<string, unknown>;
  signature: string | null;
}

export interface SnapshotRef {
  type: BackupType;
  id: string;
  time: number;
}

export function snapshotDir(datastore: string, snapshot: SnapshotRef): string {
  return join(datastore, snapshot.type, snapshot.id, backupTimeText(snapshot.time));
}

/** "vm/100/2024-06-05T14:24:36Z", BackupDir's Display. */
export function snapshotPath(snapshot: SnapshotRef): string {
  return `${snapshot.type}/${snapshot.id}/${backupTimeText(snapshot.time)}`;
}

/** The manifest blob of a snapshot, as update_manifest writes it. */
export function manifestBlob(manifest: Manifest): Buffer {
  return encodeBlob(Buffer.from(prettyJson(sortKeys(manifest))));
}

export async function readManifest(dir: string): Promise<{ manifest: Manifest; rawSize: number }> {
  const raw = await readFile(join(dir, MANIFEST_BLOB_NAME));
  const data = await decodeBlob(raw).catch((error: Error) => {
    throw new Error(`decode backup manifest blob failed - ${error.message}`);
  });
  return { manifest: JSON.parse(data.toString('utf8')) as Manifest, rawSize: raw.length };
}

/** replace_file: a temporary file renamed into place. */
async function replaceFile(path: string, data: Buffer | string): Promise<void> {
  const temporary = `${path}.tmp_${process.pid}`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/** The archives of a guest's backup, as vzdump writes them to PBS. */
function defaultArchives(type: BackupType, config: string): Map<string, Buffer> {
  const archives = new Map<string, Buffer>();
  if (type === 'vm') {
    archives.set('qemu-server.conf.blob', encodeBlob(Buffer.from(config)));
    archives.set('drive-scsi0.img.fidx', Buffer.alloc(4096));
  } else if (type === 'ct') {
    archives.set('pct.conf.blob', encodeBlob(Buffer.from(config)));
    archives.set('root.pxar.didx', Buffer.alloc(4096));
    archives.set('catalog.pcat1.didx', Buffer.alloc(4096));
  } else {
    archives.set('root.pxar.didx', Buffer.alloc(4096));
  }
  return archives;
}

export interface NewSnapshot extends SnapshotRef {
  /** Archive file name to its bytes; by default what vzdump stores for the type. */
  archives?: Map<string, Buffer>;
  /** The guest configuration kept in qemu-server.conf.blob / pct.conf.blob. */
  config?: string;
  notes?: string;
  protected?: boolean;
  owner?: string;
  verifyState?: 'ok' | 'failed';
  /** The archives' sizes in the manifest (the real index covers the whole disk). */
  sizes?: Record<string, number>;
}

/** A finished backup snapshot in the datastore (what a backup writes, then optionally a verify). */
export async function writeSnapshot(datastore: string, snapshot: NewSnapshot): Promise<string> {
  const dir = snapshotDir(datastore, snapshot);
  await mkdir(dir, { recursive: true });
  const ownerFile = join(datastore, snapshot.type, snapshot.id, 'owner');
  if (
    !(await stat(ownerFile).then(
      () => true,
      () => false,
    ))
  ) {
    await writeFile(ownerFile, `${snapshot.owner ?? 'root@pam'}\n`);
  }
  const archives = snapshot.archives ?? defaultArchives(snapshot.type, snapshot.config ?? '');
  const files: ManifestFile[] = [];
  for (const [filename, data] of archives) {
    await writeFile(join(dir, filename), data);
    files.push({
      filename,
      'crypt-mode': 'none',
      size: snapshot.sizes?.[filename] ?? data.length,
      csum: createHash('sha256').update(data).digest('hex'),
    });
  }
  const unprotected: Record<string, unknown> = {
    chunk_upload_stats: { compressed_size: 0, count: 0, duplicates: 0, size: 0 },
  };
  if (snapshot.notes !== undefined) unprotected['notes'] = snapshot.notes;
  const manifest: Manifest = {
    'backup-type': snapshot.type,
    'backup-id': snapshot.id,
    'backup-time': snapshot.time,
    files,
    unprotected,
    signature: null,
  };
  await replaceFile(join(dir, MANIFEST_BLOB_NAME), manifestBlob(manifest));
  await writeFile(join(dir, CLIENT_LOG_BLOB_NAME), encodeBlob(Buffer.from('backup finished\n')));
  if (snapshot.protected) await writeFile(join(dir, '.protected'), '');
  if (snapshot.verifyState) await setVerifyState(datastore, snapshot, snapshot.verifyState);
  return dir;
}

/** A PBS UPID as proxmox-rest-server writes it, for a verification job of `store`. */
export function verifyUpid(node: string, store: string, time: number): string {
  const hex = (value: number): string => value.toString(16).toUpperCase().padStart(8, '0');
  const job = createHash('sha256').update(`${store}${time}`).digest('hex').slice(0, 8);
  const id = `${store}\\x3av\\x2d${job}`;
  const task = `${hex(process.pid)}:${hex(time & 0xffffff)}:00000000:${hex(time)}`;
  return `UPID:${node}:${task}:verificationjob:${id}:root@pam:`;
}

/**
 * What a verify job writes: `unprotected.verify_state` of the manifest, or no verify state at all
 * (undefined: as a snapshot that was never verified).
 */
export async function setVerifyState(
  datastore: string,
  snapshot: SnapshotRef,
  state: 'ok' | 'failed' | undefined,
  upid = verifyUpid('backup', datastore.split('/').pop() ?? 'store', Math.floor(Date.now() / 1000)),
): Promise<void> {
  const dir = snapshotDir(datastore, snapshot);
  const { manifest } = await readManifest(dir);
  if (state === undefined) delete manifest.unprotected['verify_state'];
  else manifest.unprotected['verify_state'] = { state, upid };
  await replaceFile(join(dir, MANIFEST_BLOB_NAME), manifestBlob(manifest));
}

/** BackupContent of the listing. */
export interface BackupContent {
  filename: string;
  'crypt-mode'?: string;
  size?: number;
}

/** SnapshotListItem, as the API returns it (keys then sorted by serde_json). */
export interface SnapshotListItem {
  'backup-type': BackupType;
  'backup-id': string;
  'backup-time': number;
  comment?: string;
  verification?: { state: string; upid: string };
  fingerprint?: string;
  files: BackupContent[];
  size?: number;
  owner?: string;
  protected: boolean;
}

/** list_snapshots_blocking for one datastore: every group of every type, each snapshot directory. */
export async function listSnapshots(
  datastore: string,
  filter: { type?: BackupType; id?: string } = {},
  warn: (message: string) => void = () => {},
): Promise<SnapshotListItem[]> {
  const items: SnapshotListItem[] = [];
  for (const type of BACKUP_TYPES) {
    if (filter.type && filter.type !== type) continue;
    const ids = (await readdir(join(datastore, type)).catch(() => [] as string[])).filter((id) => BACKUP_ID.test(id));
    for (const id of ids.sort()) {
      if (filter.id !== undefined && filter.id !== id) continue;
      const groupDir = join(datastore, type, id);
      const owner = await readFile(join(groupDir, 'owner'), 'utf8').then(
        (text) => text.split('\n')[0]?.trimEnd(),
        () => undefined,
      );
      if (owner === undefined) {
        warn(
          `Failed to get owner of group '${type}/${id}' in datastore '${datastore}' - ` +
            'No such file or directory (os error 2)\n',
        );
        continue;
      }
      const times = (await readdir(groupDir, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && BACKUP_TIME.test(entry.name))
        .map((entry) => entry.name)
        .sort();
      for (const timeText of times) {
        const dir = join(groupDir, timeText);
        const names = (await readdir(dir, { withFileTypes: true }))
          .filter((entry) => entry.isFile() && BACKUP_FILE.test(entry.name))
          .map((entry) => entry.name);
        const item: SnapshotListItem = {
          'backup-type': type,
          'backup-id': id,
          'backup-time': parseBackupTime(timeText),
          files: [],
          protected: await stat(join(dir, '.protected')).then(
            () => true,
            () => false,
          ),
        };
        try {
          const { manifest, rawSize } = await readManifest(dir);
          const files: BackupContent[] = manifest.files.map((file) => ({
            filename: file.filename,
            'crypt-mode': file['crypt-mode'] ?? 'none',
            size: file.size,
          }));
          files.push({
            filename: MANIFEST_BLOB_NAME,
            'crypt-mode': manifest.signature ? 'sign-only' : 'none',
            size: rawSize,
          });
          for (const name of names) if (!files.some((file) => file.filename === name)) files.push({ filename: name });
          const notes = manifest.unprotected['notes'];
          if (typeof notes === 'string') item.comment = notes.split('\n')[0] ?? '';
          const verify = manifest.unprotected['verify_state'] as SnapshotListItem['verification'] | undefined;
          if (verify && typeof verify.state === 'string' && typeof verify.upid === 'string') item.verification = verify;
          const fingerprint = manifest.unprotected['key-fingerprint'];
          if (typeof fingerprint === 'string') item.fingerprint = fingerprint;
          item.files = files;
          item.size = files.reduce((sum, file) => sum + (file.size ?? 0), 0);
        } catch (error) {
          warn(`error during snapshot file listing: '${(error as Error).message}'\n`);
          item.files = names.map((filename) => ({ filename }));
        }
        item.owner = owner;
        items.push(item);
      }
    }
  }
  return items;
}
