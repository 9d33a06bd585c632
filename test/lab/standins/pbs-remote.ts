// A Proxmox VE node's view of a Proxmox Backup Server, for the stand-ins that restore from a `pbs`
// storage (qmrestore, pct restore): what PVE::Storage::PBSPlugin's client calls would fetch over
// the network. The lab has no PBS daemon: the node reads the server's datastore through a
// read-only bind of it (PBS_SERVER_MOUNT), after the checks the server would make, with the
// client's own errors: the storage's fingerprint against the server's certificate, then its
// password (/etc/pve/priv/storage/<id>.pw) against the user's.
//
// /etc/chaton-lab/pbs-servers.json on each pve node, written when the lab comes up:
// {"<server address>": {"fingerprint": "...", "passwords": {"root@pam": "..."},
//   "datastores": {"store1": "/var/lib/chaton-lab/pbs-server/store1"}}}
//
// Sources (github.com/proxmox): pve-storage src/PVE/Storage/PBSPlugin.pm (parse_volname's
// backup/<type>/<id>/<time>, the password file, do_raw_client_cmd's environment and its
// run_command failure "command '...' failed: exit code 255"), pve-common src/PVE/PBSClient.pm
// (get_repository: <user>@<server>:<datastore>), qemu-server src/PVE/QemuServer.pm
// (restore_proxmox_backup_archive: index.json, qemu-server.conf, pbs-restore per drive).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBlob, type Manifest, readManifest } from './pbs-datastore.js';
import { Die } from './pve-cli.js';
import type { Storage } from './pve-cluster.js';

export const LAB_PBS_SERVERS = '/etc/chaton-lab/pbs-servers.json';
/** Where a pve node sees the lab's PBS server's datastores (the backup host's /srv/backup/pbs). */
export const PBS_SERVER_MOUNT = '/var/lib/chaton-lab/pbs-server';

export type PbsServers = Record<
  string,
  { fingerprint: string; passwords: Record<string, string>; datastores: Record<string, string> }
>;

/** A snapshot of a PBS storage, read as the client would fetch it. */
export interface PbsSnapshot {
  /** `vm/100/2024-06-05T19:00:02Z`, PBSPlugin's backup name. */
  name: string;
  type: 'vm' | 'ct' | 'host';
  repository: string;
  manifest: Manifest;
  /** A blob of the snapshot (`qemu-server.conf.blob`), decoded; undefined when it has none. */
  blob(name: string): Promise<Buffer | undefined>;
}

const VOLNAME = /^backup\/([^\s_]+)\/([^\s_]+)\/([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$/;

/** The client's failure, as run_command reports it to qmrestore and pct. */
function clientFailed(command: string[], error: string): Die {
  return new Die(`Error: ${error}\ncommand '${command.join(' ')}' failed: exit code 255\n`);
}

/**
 * Opens `volname` (backup/<type>/<id>/<time>) of a pbs storage, as `proxmox-backup-client
 * restore <name> index.json` would: connects, logs in, reads the manifest.
 */
export async function openPbsSnapshot(
  storage: Storage,
  volname: string,
  files: { configDir: string; root: string },
): Promise<PbsSnapshot> {
  const parsed = VOLNAME.exec(volname);
  if (!parsed) throw new Die(`unable to parse PBS volume name '${volname}'\n`);
  const [, type = '', id = '', time = ''] = parsed;
  const name = `${type}/${id}/${time}`;
  const server = storage.properties.get('server') ?? '';
  const datastore = storage.properties.get('datastore') ?? '';
  const user = storage.properties.get('username') ?? 'root@pam';
  const repository = `${user}@${server}:${datastore}`;
  const command = ['/usr/bin/proxmox-backup-client', 'restore', name, 'index.json', '-', '--repository', repository];
  const servers = JSON.parse(await readFile(join(files.root, LAB_PBS_SERVERS), 'utf8').catch(() => '{}')) as PbsServers;
  const known = servers[server];
  if (!known)
    throw clientFailed(command, 'error trying to connect: tcp connect error: Connection refused (os error 111)');
  if (storage.properties.get('fingerprint')?.toLowerCase() !== known.fingerprint.toLowerCase()) {
    throw clientFailed(
      command,
      'error trying to connect: error:0A000086:SSL routines:tls_post_process_server_certificate:' +
        'certificate verify failed:../ssl/statem/statem_clnt.c:2092:',
    );
  }
  const password = await readFile(join(files.configDir, 'priv', 'storage', `${storage.id}.pw`), 'utf8').catch(
    () => undefined,
  );
  if (password === undefined || password.split(/\r?\n/)[0] !== known.passwords[user]) {
    throw clientFailed(command, 'permission check failed.');
  }
  const store = known.datastores[datastore];
  if (!store) throw clientFailed(command, `datastore '${datastore}' does not exist`);
  const dir = join(files.root, store, type, id, time);
  // A snapshot that is not there: the stand-in's own words (the server's were not looked up).
  const manifest = await readManifest(dir).catch((error: NodeJS.ErrnoException) => {
    throw clientFailed(command, error.code === 'ENOENT' ? `unable to open snapshot - not found` : error.message);
  });
  return {
    name,
    type: type as PbsSnapshot['type'],
    repository,
    manifest: manifest.manifest,
    blob: async (blobName) =>
      readFile(join(dir, blobName)).then(decodeBlob, (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      }),
  };
}
