// `chaton-lab-pbs`: the lab's own tool on host `backup` (no real counterpart) to put Proxmox Backup
// Server snapshots into a datastore and to mark them verified or failed, writing what a backup and
// a verify job write (see pbs-datastore.ts). Tests and the lab's fixtures run it over `Lab.run`.
//
//   chaton-lab-pbs snapshot add <store> <type>/<id>/<RFC 3339 time> [--config FILE|--config-text TEXT] [--notes TEXT]
//                  [--protected] [--verify ok|failed] [--size BYTES]
//   chaton-lab-pbs snapshot add <store> -   (stdin: one JSON array of those arguments a line)
//   chaton-lab-pbs verify <store> <type>/<id>/<RFC 3339 time> ok|failed|none
//   chaton-lab-pbs path <store>
//
// <store> is a datastore of /etc/proxmox-backup/datastore.cfg. Exit 0, or 2 with a message.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import {
  BACKUP_ID,
  BACKUP_TIME,
  BACKUP_TYPES,
  type BackupType,
  parseBackupTime,
  setVerifyState,
  type SnapshotRef,
  verifyUpid,
  writeSnapshot,
} from './pbs-datastore.js';
import { isMainModule } from './pve-cli.js';
import { DATASTORE_CFG } from './proxmox-backup-client.js';

class UsageError extends Error {}

async function datastorePath(store: string, datastoreCfg: string): Promise<string> {
  const raw = await readFile(datastoreCfg, 'utf8').catch(() => '');
  let current: string | undefined;
  for (const line of raw.split('\n')) {
    const header = /^datastore:\s*(\S+)\s*$/.exec(line);
    if (header) current = header[1];
    const path = /^\s+path\s+(\S+)\s*$/.exec(line);
    if (path && current === store) return path[1] as string;
  }
  throw new UsageError(`no such datastore '${store}' in ${datastoreCfg}`);
}

function parseSnapshot(text: string | undefined): SnapshotRef {
  const [type, id, time] = (text ?? '').split('/');
  if (!BACKUP_TYPES.includes(type as BackupType) || !id || !BACKUP_ID.test(id) || !time || !BACKUP_TIME.test(time)) {
    throw new UsageError(`not a snapshot path (vm/100/2024-06-05T19:00:02Z): '${text ?? ''}'`);
  }
  return { type: type as BackupType, id, time: parseBackupTime(time) };
}

export async function run(argv: string[], datastoreCfg = DATASTORE_CFG): Promise<string> {
  const [command, sub] = argv;
  if (command === 'path' && sub) return `${await datastorePath(sub, datastoreCfg)}\n`;
  if (command === 'verify') {
    const [, store, snapshotText, state] = argv;
    if (!store || !['ok', 'failed', 'none'].includes(state ?? '')) {
      throw new UsageError('usage: chaton-lab-pbs verify <store> <snapshot> ok|failed|none');
    }
    const datastore = await datastorePath(store, datastoreCfg);
    const upid = verifyUpid(hostname(), store, Math.floor(Date.now() / 1000));
    await setVerifyState(datastore, parseSnapshot(snapshotText), state === 'none' ? undefined : (state as 'ok'), upid);
    return '';
  }
  if (command === 'snapshot' && sub === 'add') {
    const [, , store, snapshotText, ...options] = argv;
    if (!store) throw new UsageError('usage: chaton-lab-pbs snapshot add <store> <snapshot> [options]');
    const datastore = await datastorePath(store, datastoreCfg);
    if (snapshotText !== '-') return addSnapshot(datastore, snapshotText, options);
    // `-`: one snapshot a line on stdin, its arguments as a JSON array (a site of hundreds of guests).
    const lines = (await readStdin()).split('\n').filter((line) => line.trim());
    let out = '';
    for (const line of lines) {
      const [text, ...more] = JSON.parse(line) as string[];
      out += await addSnapshot(datastore, text, more);
    }
    return out;
  }
  throw new UsageError('usage: chaton-lab-pbs snapshot add|verify|path ...');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function addSnapshot(datastore: string, snapshotText: string | undefined, options: string[]): Promise<string> {
  const snapshot = parseSnapshot(snapshotText);
  const spec: Parameters<typeof writeSnapshot>[1] = { ...snapshot };
  for (let index = 0; index < options.length; index++) {
    const option = options[index];
    const value = (): string => {
      const next = options[++index];
      if (next === undefined) throw new UsageError(`${option} takes a value`);
      return next;
    };
    if (option === '--config') spec.config = await readFile(value(), 'utf8');
    else if (option === '--config-text') spec.config = value();
    else if (option === '--notes') spec.notes = value();
    else if (option === '--protected') spec.protected = true;
    else if (option === '--verify') {
      const state = value();
      if (state !== 'ok' && state !== 'failed') throw new UsageError('--verify takes ok or failed');
      spec.verifyState = state;
    } else if (option === '--size') {
      const size = Number(value());
      const name = snapshot.type === 'vm' ? 'drive-scsi0.img.fidx' : 'root.pxar.didx';
      spec.sizes = { [name]: size };
    } else throw new UsageError(`unknown option ${option}`);
  }
  return `${await writeSnapshot(datastore, spec)}\n`;
}

if (isMainModule(import.meta.url)) {
  try {
    process.stdout.write(await run(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`chaton-lab-pbs: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
