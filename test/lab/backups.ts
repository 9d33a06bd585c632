// The lab's backup site, made on host `backup` by the REAL tools (restic, borg, zstd, gzip, lzop,
// tar), and the faults a backup site really has, injected as they really happen. Tests build it on
// demand (most tests never need it): `await backupSite(lab)` once, `await resetBackupSite(lab)`
// after each fault. See README.md (Backup site) for what it holds.
import { readFile } from 'node:fs/promises';
import type { Lab } from './lab.js';
import { backedUpVmConfig, LAB_GUESTS, PBS_DATASTORE_PATH, pbsAddSnapshots, vzdumpArchiveContent } from './proxmox.js';
import { guestConfigText, type LabGuest } from './pve-lab.js';
import { resticPasswordFrom, weakenResticKey } from './restic-key.js';

export const BACKUP_HOST = 'backup';

/** Where things are on host `backup`. */
export const SITE_PATHS = {
  /** vzdump's dump directory (a PVE "dir" storage's dump/, e.g. exported to the nodes over NFS). */
  dump: '/srv/backup/dump',
  restic: '/srv/backup/restic',
  resticPasswordFile: '/root/restic.pass',
  borg: '/srv/backup/borg',
  borgPassphraseFile: '/root/borg.pass',
  /** The PBS datastore store1 (package B's stand-in reads it): the site adds its snapshots. */
  pbs: PBS_DATASTORE_PATH,
  /** The guests' files that restic and borg back up (a few files each; canary.txt never changes). */
  guestData: '/srv/guests',
  /** Kept out of /srv/backup: the pristine site (for resets) and the empty restic repository. */
  pristine: '/var/lib/chaton-lab/backup-site',
  /** State of the processes that hold a repository's lock (lockRepository). */
  run: '/run/chaton-lab-backup',
} as const;

export const RESTIC_PASSWORD = 'lab restic password: correct horse battery staple';
export const BORG_PASSPHRASE = 'lab borg passphrase: tr0ub4dor&3';
/** How borg gets its passphrase on host `backup` (as the design's inventory says). */
export const BORG_PASSCOMMAND = `cat ${SITE_PATHS.borgPassphraseFile}`;
/** A login that is not root, for the unreadable-target fault (root reads any directory). */
export const CHECK_USER = 'backupcheck';

export type TargetKind = 'vzdump' | 'pbs' | 'restic' | 'borg';
export type Compression = 'zst' | 'gz' | 'lzo';

export interface SiteGuest {
  name: string;
  /** Proxmox guests only: www-legacy is a host outside Proxmox. */
  vmid?: number;
  type?: 'qemu' | 'lxc';
  /** The compression of its vzdump archives. */
  compression?: Compression;
}

/** The cluster's guests as the design lists them (B's stand-ins create the same), and www-legacy. */
export const SITE_GUESTS: readonly SiteGuest[] = [
  { name: 'web', vmid: 100, type: 'qemu', compression: 'zst' },
  { name: 'mail', vmid: 101, type: 'qemu', compression: 'gz' },
  { name: 'db', vmid: 102, type: 'qemu', compression: 'lzo' },
  { name: 'dev', vmid: 103, type: 'qemu', compression: 'zst' },
  { name: 'dns', vmid: 104, type: 'lxc', compression: 'zst' },
  { name: 'scratch', vmid: 105, type: 'qemu' },
  { name: 'www-legacy' },
];

/** Which guests each target holds on a healthy site. 105 `scratch` is in no backup job: nowhere. */
export const TARGET_GUESTS: Readonly<Record<TargetKind, readonly string[]>> = {
  vzdump: ['web', 'mail', 'db', 'dev', 'dns'],
  pbs: ['web', 'mail', 'db', 'dev', 'dns'],
  restic: ['web', 'mail', 'db', 'www-legacy'],
  borg: ['mail', 'db'],
};

export interface BackupSiteOptions {
  /** The site's present: copies are dated back from it. Default: now. */
  now?: Date;
  /** Copies per guest and target. Default 8 (the design's policy wants 7 over 6 days). */
  copies?: number;
  /** Age of the newest copies, in ms. Default 3 h. */
  newestAge?: number;
  /** Between two copies of a guest, in ms. Default 24 h. */
  interval?: number;
  /** The guests (default SITE_GUESTS) and which targets hold each (default TARGET_GUESTS): a bigger site. */
  guests?: readonly SiteGuest[];
  targetGuests?: Readonly<Record<TargetKind, readonly string[]>>;
}

export interface BackupCopy {
  target: TargetKind;
  guest: string;
  /** When the backup started: vzdump's name, restic's `--time`, borg's `--timestamp`. */
  time: Date;
}

export interface BackupSite {
  now: Date;
  copies: BackupCopy[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
/** Within a backup round: vzdump first, then restic, then borg, then PBS, guests one after the other. */
const TARGET_OFFSET: Record<TargetKind, number> = {
  vzdump: 0,
  restic: 10 * MINUTE,
  borg: 20 * MINUTE,
  pbs: 30 * MINUTE,
};

export function siteGuest(guest: string | number, guests: readonly SiteGuest[] = SITE_GUESTS): SiteGuest {
  const found = guests.find((g) => g.name === guest || g.vmid === guest);
  if (!found) throw new Error(`no guest ${guest} on the lab's backup site`);
  return found;
}

/**
 * The copies of a healthy site: round k (0 = newest) starts at now - newestAge - k * interval;
 * within it each target's guests follow each other a minute apart. Whole seconds.
 */
export function backupSitePlan(options: BackupSiteOptions = {}): BackupCopy[] {
  const now = options.now ?? new Date();
  const { copies = 8, newestAge = 3 * HOUR, interval = DAY, targetGuests = TARGET_GUESTS } = options;
  const plan: BackupCopy[] = [];
  for (let k = copies - 1; k >= 0; k--) {
    const round = now.getTime() - newestAge - k * interval;
    for (const target of Object.keys(targetGuests) as TargetKind[]) {
      targetGuests[target].forEach((guest, i) => {
        const time = round + TARGET_OFFSET[target] + i * MINUTE;
        plan.push({ target, guest, time: new Date(Math.floor(time / 1000) * 1000) });
      });
    }
  }
  return plan;
}

export interface HostRunError extends Error {
  exitCode: number;
  stderr: string;
}

/** What a session on `backup` needs to run restic and borg on the site (exported by the scripts). */
const TOOL_ENV = `
export RESTIC_REPOSITORY=${SITE_PATHS.restic} RESTIC_PASSWORD_FILE=${SITE_PATHS.resticPasswordFile}
export BORG_REPO=${SITE_PATHS.borg} BORG_PASSCOMMAND='${BORG_PASSCOMMAND}'
`;

/**
 * Runs a bash script on `backup` ($1... = args) in a root session with the site's tools set up
 * (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE, BORG_REPO, BORG_PASSCOMMAND exported): its result,
 * whatever its exit code.
 */
export function backupShell(lab: Lab, script: string, args: (string | number)[] = [], input?: string) {
  return lab.run(
    BACKUP_HOST,
    ['bash', '-c', `${TOOL_ENV}\n${script}`, 'lab-backup', ...args.map(String)],
    input === undefined ? {} : { input },
  );
}

/** Runs a bash script on `backup` (set -euo pipefail); its stdout, or an error with its stderr. */
async function onBackup(lab: Lab, script: string, args: (string | number)[] = [], input?: string): Promise<string> {
  const result = await backupShell(lab, `set -euo pipefail\n${script}`, args, input);
  if (result.exitCode !== 0) {
    const error = new Error(
      `on ${BACKUP_HOST}: exit ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`,
    ) as HostRunError;
    error.exitCode = result.exitCode;
    error.stderr = result.stderr;
    throw error;
  }
  return result.stdout;
}

const epoch = (time: Date): number => Math.floor(time.getTime() / 1000);

/**
 * A fixed-offset zone with the host's offset at instant $1 (Etc/GMT-1 is UTC+1): restic parses
 * `--time` in the local zone, which cannot tell apart the two 02:30 of the night DST ends.
 */
const RESTIC_ZONE_FUNCTION = `
restic_zone() {
  local offset hours
  offset=$(date -d "@$1" +%z)
  hours=$((10#\${offset:1:2}))
  if [ "\${offset:3:2}" != 00 ] || [ "$hours" = 0 ]; then echo UTC
  elif [ "\${offset:0:1}" = + ]; then echo "Etc/GMT-$hours"
  else echo "Etc/GMT+$hours"; fi
}
`;

/** Clears the site (PBS's store keeps its configuration and chunk store) and writes the secrets and the guests' files. */
const PREPARE_SCRIPT = `
rm -rf ${SITE_PATHS.pbs}/vm ${SITE_PATHS.pbs}/ct ${SITE_PATHS.pbs}/host
rm -rf ${SITE_PATHS.dump} ${SITE_PATHS.restic} ${SITE_PATHS.borg} ${SITE_PATHS.guestData} \\
  /root/.cache/restic /root/.cache/borg /root/.config/borg
mkdir -p ${SITE_PATHS.dump} ${SITE_PATHS.pristine}
chmod 755 /srv/backup
umask 077
printf '%s\\n' "$1" > ${SITE_PATHS.resticPasswordFile}
printf '%s\\n' "$2" > ${SITE_PATHS.borgPassphraseFile}
umask 022
shift 2
for name; do
  dir=${SITE_PATHS.guestData}/$name
  mkdir -p "$dir/etc" "$dir/var/lib/$name"
  printf '%s\\n' "$name" > "$dir/etc/hostname"
  printf 'chaton canary of %s: restore me and compare my checksum\\n' "$name" > "$dir/canary.txt"
  head -c 6144 /dev/urandom > "$dir/var/lib/$name/data.bin"
done
`;

/**
 * Reads "vmid type name compression epoch head" lines: one vzdump archive each, named in the
 * host's local time as vzdump does, its .log and .notes beside it, all three dated as vzdump left
 * them. `head` (base64) is what vzdump writes first and qmrestore or pct read back: a VM's VMA
 * header (its configuration and disks), a container's ./etc/vzdump/pct.conf.
 */
const DUMP_SCRIPT = `
dir=${SITE_PATHS.dump}
while read -r vmid type name compression start head; do
  base=vzdump-$type-$vmid-$(date -d "@$start" +%Y_%m_%d-%H_%M_%S)
  case $type in qemu) inner=vma ;; lxc) inner=tar ;; esac
  case $compression in zst) compress=(zstd -q -c) ;; gz) compress=(gzip -c) ;; lzo) compress=(lzop -c) ;; esac
  archive=$dir/$base.$inner.$compression
  if [ "$type" = lxc ]; then
    conf=$(mktemp -d)
    mkdir -p "$conf/etc/vzdump"
    printf '%s' "$head" | base64 -d > "$conf/etc/vzdump/pct.conf"
    tar -cf - -C "$conf" ./etc/vzdump/pct.conf -C ${SITE_PATHS.guestData}/$name . | "\${compress[@]}" > "$archive"
    rm -rf "$conf"
  else
    # The header, then data that differs from copy to copy (no real extents).
    { printf '%s' "$head" | base64 -d; printf 'guest %s, backup of %s\\n' "$name" "$start"; seq 1 400
      cat ${SITE_PATHS.guestData}/$name/var/lib/$name/data.bin; } | "\${compress[@]}" > "$archive"
  fi
  end=$((start + 4))
  t0=$(date -d "@$start" '+%F %T'); t1=$(date -d "@$end" '+%F %T')
  case $type in qemu) label="VM Name" ;; lxc) label="CT Name" ;; esac
  {
    echo "$t0 INFO: Starting Backup of VM $vmid ($type)"
    echo "$t0 INFO: status = running"
    echo "$t0 INFO: $label: $name"
    echo "$t0 INFO: backup mode: snapshot"
    echo "$t0 INFO: ionice priority: 7"
    echo "$t0 INFO: creating vzdump archive '$archive'"
    # PVE/VZDump.pm's format_size: whole KB below 1 MiB.
    echo "$t1 INFO: archive file size: $(($(stat -c %s "$archive") / 1024))KB"
    echo "$t1 INFO: adding notes to backup"
    echo "$t1 INFO: Finished Backup of VM $vmid (00:00:04)"
  } > "$dir/$base.log"
  printf '%s' "$name" > "$archive.notes"
  touch -d "@$end" "$archive" "$archive.notes" "$dir/$base.log"
done
`;

/**
 * Reads "name vmid epoch" lines: one `restic backup` each; guests in parallel (8 at a time: a
 * site of hundreds of guests must not start hundreds of restic at once), each in time order.
 */
const RESTIC_SCRIPT = `
${RESTIC_ZONE_FUNCTION}
times=$(mktemp -d)
trap 'rm -rf "$times"' EXIT
while read -r name vmid start; do echo "$vmid $start" >> "$times/$name"; done
backup_guest() {
  local name=$1 vmid start tags
  while read -r vmid start; do
    tags=()
    if [ "$vmid" != - ]; then tags=(--tag "vmid=$vmid"); fi
    TZ=$(restic_zone "$start") restic backup -q --host "$name" "\${tags[@]}" \\
      --time "$(TZ=$(restic_zone "$start") date -d "@$start" '+%F %T')" ${SITE_PATHS.guestData}/$name
  done < "$times/$1"
}
export -f backup_guest restic_zone
export times
# xargs exits 123 when one of them failed.
ls "$times" | xargs -P 8 -I{} bash -c 'set -euo pipefail; backup_guest "$1"' lab-restic {}
`;

/**
 * Reads "name epoch" lines: one `borg create` each, named <guest>-<local time> as borg's {now}
 * would, dated with --timestamp (which borg 1.2 reads as UTC). The archives are made by borg's own
 * command code (`Archiver().run()`, what /usr/bin/borg runs) in one Python process: Python's
 * start-up is half of a `borg create` of a few files, and borg takes them one at a time.
 */
const BORG_SCRIPT = `
# Its notice about repokey (back up the key) goes to stderr: kept only when init fails.
notice=$(borg init -e repokey 2>&1) || { echo "$notice" >&2; exit 1; }
while read -r name start; do
  echo "create --timestamp $(date -u -d "@$start" +%Y-%m-%dT%H:%M:%S)" \\
    "::$name-$(date -d "@$start" +%Y-%m-%dT%H:%M:%S) ${SITE_PATHS.guestData}/$name"
done | /usr/bin/python3 -c '
import sys
from borg.archiver import Archiver
for line in sys.stdin:
    archiver = Archiver()
    exit_code = archiver.run(archiver.get_args(["borg"] + line.split(), None))
    if exit_code != 0:
        sys.exit(f"borg {line.strip()}: exit {exit_code}")
'
`;

/** What a reset puts back: the repositories, the secrets and borg's own view of its repository. */
const SAVED = [
  SITE_PATHS.dump,
  SITE_PATHS.pbs,
  SITE_PATHS.restic,
  SITE_PATHS.borg,
  SITE_PATHS.resticPasswordFile,
  SITE_PATHS.borgPassphraseFile,
  '/root/.cache/borg',
  '/root/.config/borg',
];

const SAVE_SCRIPT = `
rm -rf ${SITE_PATHS.pristine}/site
mkdir -p ${SITE_PATHS.pristine}/site
for path in ${SAVED.join(' ')}; do
  mkdir -p "${SITE_PATHS.pristine}/site$(dirname "$path")"
  cp -a "$path" "${SITE_PATHS.pristine}/site$path"
done
`;

/** The repository made by `restic init` once per lab, its key made cheaper (see restic-key.ts). */
async function emptyResticRepository(lab: Lab): Promise<string> {
  const empty = `${SITE_PATHS.pristine}/restic-empty`;
  const made = await onBackup(lab, `if [ -f ${empty}/config ]; then echo yes; fi`);
  if (made.trim() === 'yes') return empty;
  const keyText = await onBackup(
    lab,
    `rm -rf ${empty}.new
restic init -q -r ${empty}.new --password-file ${SITE_PATHS.resticPasswordFile} > /dev/null
cat ${empty}.new/keys/*`,
  );
  const password = resticPasswordFrom(await onBackup(lab, `cat ${SITE_PATHS.resticPasswordFile}`));
  const key = weakenResticKey(keyText, password);
  await onBackup(
    lab,
    `umask 077
rm ${empty}.new/keys/*
cat > ${empty}.new/keys/$1
chmod 400 ${empty}.new/keys/$1
mv ${empty}.new ${empty}`,
    [key.name],
    key.text,
  );
  return empty;
}

async function buildRestic(lab: Lab, plan: BackupCopy[], guests: readonly SiteGuest[]): Promise<void> {
  const empty = await emptyResticRepository(lab);
  await onBackup(lab, `cp -a ${empty} ${SITE_PATHS.restic}`);
  await addResticCopies(lab, plan, guests);
}

async function addResticCopies(lab: Lab, copies: BackupCopy[], guests = SITE_GUESTS): Promise<void> {
  const lines = copies.map(({ guest, time }) => `${guest} ${siteGuest(guest, guests).vmid ?? '-'} ${epoch(time)}\n`);
  await onBackup(lab, RESTIC_SCRIPT, [], lines.join(''));
}

/** A site guest as the cluster has it: the lab's guest of that VMID, or a VM of that name on pve1. */
function clusterGuest(vmid: number, name: string, type: 'qemu' | 'lxc'): LabGuest {
  return LAB_GUESTS.find((candidate) => candidate.vmid === vmid) ?? { vmid, name, type, node: 'pve1' };
}

async function addDumpCopies(lab: Lab, copies: BackupCopy[], guests = SITE_GUESTS): Promise<void> {
  const lines = copies.map(({ guest, time }) => {
    const { vmid, type, compression } = siteGuest(guest, guests);
    if (vmid === undefined || !type || !compression) throw new Error(`${guest} is no Proxmox guest: no vzdump copy`);
    const labGuest = clusterGuest(vmid, guest, type);
    const config = guestConfigText(labGuest);
    // A container's archive is the tar DUMP_SCRIPT makes: its head is the configuration alone.
    const head = type === 'lxc' ? Buffer.from(config) : vzdumpArchiveContent(labGuest, epoch(time), config);
    return `${vmid} ${type} ${guest} ${compression} ${epoch(time)} ${head.toString('base64')}\n`;
  });
  await onBackup(lab, DUMP_SCRIPT, [], lines.join(''));
}

/**
 * One PBS snapshot each, written into store1 by the stand-in's own tool in one run
 * (pbsAddSnapshots): a vm or ct snapshot of the guest, verified by a verify job (state ok, its
 * UPID dated now).
 */
async function addPbsCopies(lab: Lab, copies: BackupCopy[], guests = SITE_GUESTS): Promise<void> {
  const snapshots = copies.map(({ guest, time }) => {
    const { vmid, type, name } = siteGuest(guest, guests);
    if (vmid === undefined || !type) throw new Error(`${guest} is no Proxmox guest: no PBS snapshot`);
    const snapshot = { type: type === 'lxc' ? 'ct' : 'vm', id: String(vmid), time: epoch(time) } as const;
    const config = guestConfigText(clusterGuest(vmid, name, type));
    const backedUp = type === 'lxc' ? config : backedUpVmConfig(config).text;
    return { ...snapshot, notes: name, verify: 'ok' as const, config: backedUp };
  });
  await pbsAddSnapshots(lab, snapshots);
}

async function addBorgCopies(lab: Lab, copies: BackupCopy[], init: boolean): Promise<void> {
  const script = init ? BORG_SCRIPT : BORG_SCRIPT.replace(/^notice=.*\n/m, '');
  await onBackup(lab, script, [], copies.map(({ guest, time }) => `${guest} ${epoch(time)}\n`).join(''));
}

/**
 * Builds the backup site anew on host `backup` (the vzdump directory, the restic and borg
 * repositories, their secrets) with the copies of backupSitePlan(options), and keeps a pristine
 * copy of it for resetBackupSite. PBS's store is B's and stays as it is.
 */
export async function backupSite(lab: Lab, options: BackupSiteOptions = {}): Promise<BackupSite> {
  const now = options.now ?? new Date();
  const copies = backupSitePlan({ ...options, now });
  const { guests = SITE_GUESTS, targetGuests = TARGET_GUESTS } = options;
  await releaseLocks(lab);
  const names = [...new Set(Object.values(targetGuests).flat())];
  await onBackup(lab, PREPARE_SCRIPT, [RESTIC_PASSWORD, BORG_PASSPHRASE, ...names]);
  const of = (target: TargetKind) => copies.filter((copy) => copy.target === target);
  await Promise.all([
    addDumpCopies(lab, of('vzdump'), guests),
    addPbsCopies(lab, of('pbs'), guests),
    buildRestic(lab, of('restic'), guests),
    addBorgCopies(lab, of('borg'), true),
  ]);
  await onBackup(lab, SAVE_SCRIPT);
  return { now, copies };
}

/** Puts the site back as backupSite left it (after a fault), ending the lock holders first. */
export async function resetBackupSite(lab: Lab): Promise<void> {
  await releaseLocks(lab);
  await onBackup(
    lab,
    `[ -d ${SITE_PATHS.pristine}/site ] || { echo 'no backup site to reset: call backupSite first' >&2; exit 1; }
for path in ${SAVED.join(' ')}; do
  rm -rf "$path"
  if [ -e "${SITE_PATHS.pristine}/site$path" ]; then cp -a "${SITE_PATHS.pristine}/site$path" "$path"; fi
done`,
  );
}

/** One more copy on a target, made as the site's own (e.g. to place one just before a DST change). */
export async function addCopy(lab: Lab, copy: BackupCopy): Promise<void> {
  if (copy.target === 'vzdump') await addDumpCopies(lab, [copy]);
  else if (copy.target === 'pbs') await addPbsCopies(lab, [copy]);
  else if (copy.target === 'restic') await addResticCopies(lab, [copy]);
  else await addBorgCopies(lab, [copy], false);
}

// ---------------------------------------------------------------------------------------------
// What a site's listing looks like from the tools themselves (for the faults and the tests).

export interface ResticSnapshot {
  id: string;
  short_id: string;
  time: string;
  hostname: string;
  tags?: string[];
  paths: string[];
}

export async function resticSnapshots(lab: Lab, host?: string): Promise<ResticSnapshot[]> {
  const filter = host === undefined ? [] : ['--host', host];
  const stdout = await onBackup(lab, `restic --no-lock snapshots --json "$@"`, filter);
  return JSON.parse(stdout) as ResticSnapshot[];
}

export interface BorgArchive {
  name: string;
  /** As borg prints it (local time, no zone); read with TZ=UTC by this module, so UTC here. */
  start: string;
}

/** The borg archives, their start in UTC (borg run with TZ=UTC prints UTC local times). */
export async function borgArchives(lab: Lab): Promise<BorgArchive[]> {
  const stdout = await onBackup(lab, `TZ=UTC borg list --json`);
  return (JSON.parse(stdout) as { archives: BorgArchive[] }).archives;
}

export interface DumpFile {
  path: string;
  vmid: number;
  /** Its modification time. */
  mtime: Date;
  size: number;
}

/** The vzdump archives of a guest (not their .log and .notes), oldest first. */
export async function dumpArchives(lab: Lab, vmid: number): Promise<DumpFile[]> {
  const stdout = await onBackup(
    lab,
    `find ${SITE_PATHS.dump} -maxdepth 1 -type f -name "vzdump-*-$1-*" \\
  \\( -name '*.vma*' -o -name '*.tar*' \\) ! -name '*.notes' ! -name '*.dat' -printf '%T@ %s %p\\n'`,
    [vmid],
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mtime, size, path] = line.split(' ') as [string, string, string];
      return { path, vmid, mtime: new Date(Number(mtime) * 1000), size: Number(size) };
    })
    .sort((a, b) => a.mtime.getTime() - b.mtime.getTime());
}

async function newestArchive(lab: Lab, vmid: number): Promise<DumpFile> {
  const archive = (await dumpArchives(lab, vmid)).at(-1);
  if (!archive) throw new Error(`no vzdump archive of ${vmid} in ${SITE_PATHS.dump}`);
  return archive;
}

// ---------------------------------------------------------------------------------------------
// Faults.

/** Guest by name or VMID, and the targets that hold it (all by default). */
function targetsOf(guest: SiteGuest, targets?: TargetKind[]): TargetKind[] {
  return (targets ?? (Object.keys(TARGET_GUESTS) as TargetKind[])).filter((target) =>
    TARGET_GUESTS[target].includes(guest.name),
  );
}

/**
 * Removes a guest's copies made after `before` from the targets, as if its backups had stopped
 * then: vzdump files deleted, restic snapshots forgotten (`restic forget`), borg archives deleted
 * (`borg delete`). Without `before`, every copy goes (a guest with no copy).
 */
export async function removeCopies(
  lab: Lab,
  guestRef: string | number,
  options: { before?: Date; targets?: TargetKind[] } = {},
): Promise<void> {
  const guest = siteGuest(guestRef);
  const after = options.before?.getTime() ?? -Infinity;
  for (const target of targetsOf(guest, options.targets)) {
    if (target === 'vzdump') {
      const archives = (await dumpArchives(lab, guest.vmid!)).filter((a) => a.mtime.getTime() >= after);
      if (archives.length === 0) continue;
      const paths = archives.flatMap(({ path }) => [
        path,
        `${path}.notes`,
        `${path.replace(/\.(vma|tar)\..*$/, '')}.log`,
      ]);
      await onBackup(lab, 'rm -f -- "$@"', paths);
    } else if (target === 'pbs') {
      // The snapshot directories (vm/<id>/<RFC 3339 time>/) from `before` on, as a prune removes them.
      await onBackup(
        lab,
        `for dir in "$1"/*/; do
  [ -d "$dir" ] || continue
  [ "$(date -d "$(basename "$dir")" +%s)" -ge "$2" ] && rm -rf -- "$dir"
done
true`,
        [`${SITE_PATHS.pbs}/${guest.type === 'lxc' ? 'ct' : 'vm'}/${guest.vmid}`, Math.max(0, Math.ceil(after / 1000))],
      );
    } else if (target === 'restic') {
      const ids = (await resticSnapshots(lab, guest.name))
        .filter((s) => new Date(s.time).getTime() >= after)
        .map((s) => s.id);
      if (ids.length > 0) await onBackup(lab, `restic forget -q "$@"`, ids);
    } else {
      const names = (await borgArchives(lab))
        .filter((a) => a.name.startsWith(`${guest.name}-`) && new Date(`${a.start}Z`).getTime() >= after)
        .map((a) => a.name);
      // Never without a name: `borg delete REPO` alone deletes the whole repository.
      if (names.length > 0) await onBackup(lab, `[ $# -gt 0 ]\nborg delete "$BORG_REPO" "$@"`, names);
    }
  }
}

/** A stale guest: its backups stopped `age` ago (default 3 days): only older copies are left. */
export async function makeStale(
  lab: Lab,
  guest: string | number,
  options: { age?: number; now?: Date; targets?: TargetKind[] } = {},
): Promise<void> {
  const now = options.now ?? new Date();
  const before = new Date(now.getTime() - (options.age ?? 3 * DAY));
  await removeCopies(lab, guest, { before, targets: options.targets });
}

/** The newest vzdump archive of a guest cut to half its size (a copy interrupted by a full disk). */
export async function truncateArchive(lab: Lab, vmid: number): Promise<DumpFile> {
  const archive = await newestArchive(lab, vmid);
  await onBackup(lab, 'touch -r "$1" "$1.mtime"; truncate -s "$2" "$1"; touch -r "$1.mtime" "$1"; rm "$1.mtime"', [
    archive.path,
    Math.floor(archive.size / 2),
  ]);
  return { ...archive, size: Math.floor(archive.size / 2) };
}

/**
 * Bit rot: one byte of the newest vzdump archive of a guest inverted, in the middle of the
 * compressed data (past the header, before the trailer), its size and mtime unchanged.
 */
export async function flipArchiveByte(lab: Lab, vmid: number): Promise<{ path: string; offset: number }> {
  const archive = await newestArchive(lab, vmid);
  const offset = Math.floor(archive.size / 2);
  await flipBytes(lab, archive.path, offset, 1);
  return { path: archive.path, offset };
}

/** Inverts `count` bytes of a file from `offset`, keeping its mtime (as bit rot does). */
async function flipBytes(lab: Lab, path: string, offset: number, count: number): Promise<void> {
  await onBackup(
    lab,
    `python3 - "$@" <<'EOF'
import os, sys
path, offset, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
stat = os.stat(path)
with open(path, 'r+b') as f:
    f.seek(offset)
    data = f.read(count)
    if len(data) != count:
        sys.exit(f'{path} has no {count} bytes at {offset}')
    f.seek(offset)
    f.write(bytes(b ^ 0xff for b in data))
os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
EOF`,
    [path, offset, count],
  );
}

interface ResticIndex {
  packs: { id: string; blobs: { id: string; type: 'tree' | 'data'; offset: number; length: number }[] }[];
}

/**
 * A restic pack file under data/ with bytes inverted inside its first blob. A `tree` pack (the
 * default) breaks the snapshots' structure: plain `restic check` sees it. A `data` pack holds
 * file contents: only `restic check --read-data` (or a subset that reads it) and a restore see it.
 */
export async function corruptResticPack(
  lab: Lab,
  options: { type?: 'tree' | 'data' } = {},
): Promise<{ path: string; pack: string }> {
  const type = options.type ?? 'tree';
  const stdout = await onBackup(
    lab,
    `for id in $(restic --no-lock list index); do restic --no-lock cat index "$id"; echo '\f'; done`,
  );
  const packs = stdout
    .split('\f')
    .filter((text) => text.trim())
    .flatMap((text) => (JSON.parse(text) as ResticIndex).packs)
    .sort((a, b) => a.id.localeCompare(b.id));
  const pack = packs.find((p) => p.blobs.every((blob) => blob.type === type));
  if (!pack) throw new Error(`no ${type} pack in ${SITE_PATHS.restic}`);
  const blob = [...pack.blobs].sort((a, b) => a.offset - b.offset)[0]!;
  const path = `${SITE_PATHS.restic}/data/${pack.id.slice(0, 2)}/${pack.id}`;
  // Past the blob's IV (16 bytes): the ciphertext, whose MAC then fails.
  await flipBytes(lab, path, blob.offset + 16, Math.min(8, blob.length - 32));
  return { path, pack: pack.id };
}

/**
 * A borg segment file under data/ with bytes inverted in its middle (a disk's bad sector):
 * `borg check` verifies every segment entry's CRC and reports it.
 */
export async function damageBorgSegment(lab: Lab): Promise<{ path: string; offset: number }> {
  // The largest segment holds the archives' chunks.
  const stdout = await onBackup(lab, `find ${SITE_PATHS.borg}/data -type f -printf '%s %p\\n' | sort -n | tail -1`);
  const [size, path] = stdout.trim().split(' ') as [string, string];
  const offset = Math.floor(Number(size) / 2);
  await flipBytes(lab, path, offset, 16);
  return { path, offset };
}

/** The restic password file holds another password (rotated on one side only, say). */
export async function wrongResticPassword(lab: Lab): Promise<void> {
  await onBackup(lab, `printf 'not the password any more\\n' > ${SITE_PATHS.resticPasswordFile}`);
}

/**
 * What a vzdump run killed mid-way (node crash, kill -9) leaves in the dump directory: the
 * archive being written as `<name>.<vma|tar>.dat`, the `<name>.tmp` directory, and a log that
 * stops at "creating vzdump archive" (PVE/VZDump.pm removes the first two on a normal failure).
 */
export async function leftoverDump(
  lab: Lab,
  vmid: number,
  options: { at?: Date } = {},
): Promise<{ dat: string; tmpDir: string; log: string }> {
  const guest = siteGuest(vmid);
  if (!guest.type || !guest.compression) throw new Error(`${vmid} is no Proxmox guest`);
  const start = epoch(options.at ?? new Date(Date.now() - HOUR));
  const stdout = await onBackup(
    lab,
    `dir=${SITE_PATHS.dump} vmid=$1 type=$2 name=$3 start=$4
base=vzdump-$type-$vmid-$(date -d "@$start" +%Y_%m_%d-%H_%M_%S)
case $type in qemu) inner=vma ;; lxc) inner=tar ;; esac
t0=$(date -d "@$start" '+%F %T')
mkdir "$dir/$base.tmp"
if [ "$type" = qemu ]; then printf 'name: %s\\nmemory: 2048\\n' "$name" > "$dir/$base.tmp/qemu-server.conf"
else printf 'hostname: %s\\nmemory: 512\\n' "$name" > "$dir/$base.tmp/pct.conf"; fi
case $5 in zst) compress=(zstd -q -c) ;; gz) compress=(gzip -c) ;; lzo) compress=(lzop -c) ;; esac
# The compressed stream as far as it got: cut in the middle.
{ printf 'VMA\\0'; seq 1 400; cat ${SITE_PATHS.guestData}/$name/var/lib/$name/data.bin; } | "\${compress[@]}" \\
  > "$dir/$base.$inner.dat"
truncate -s 3000 "$dir/$base.$inner.dat"
{
  echo "$t0 INFO: Starting Backup of VM $vmid ($type)"
  echo "$t0 INFO: status = running"
  echo "$t0 INFO: backup mode: snapshot"
  echo "$t0 INFO: creating vzdump archive '$dir/$base.$inner.$5'"
} > "$dir/$base.log"
touch -d "@$((start + 2))" "$dir/$base.tmp" "$dir/$base.$inner.dat" "$dir/$base.log"
echo "$dir/$base"`,
    [vmid, guest.type, guest.name, start, guest.compression],
  );
  const base = stdout.trim();
  const inner = guest.type === 'qemu' ? 'vma' : 'tar';
  return { dat: `${base}.${inner}.dat`, tmpDir: `${base}.tmp`, log: `${base}.log` };
}

export interface RepositoryLock {
  target: 'restic' | 'borg';
  /** The lock holder's pid in host `backup`. */
  pid: number;
  /** Ends the holder as an operator would (Ctrl-C); the tool removes its lock. */
  release(): Promise<void>;
}

/** The lock files of a repository (restic: locks/*; borg: lock.exclusive), '' when unlocked. */
async function lockFiles(lab: Lab, target: 'restic' | 'borg'): Promise<string> {
  const dir = target === 'restic' ? `${SITE_PATHS.restic}/locks` : SITE_PATHS.borg;
  const pattern = target === 'restic' ? '*' : 'lock.exclusive';
  return onBackup(lab, `find ${dir} -mindepth 1 -maxdepth 1 -name '${pattern}'`);
}

async function waitForLock(lab: Lab, target: 'restic' | 'borg', locked: boolean): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (((await lockFiles(lab, target)).trim() !== '') === locked) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the ${target} repository is ${locked ? 'still not locked' : 'still locked'}`);
}

/**
 * A repository locked by a backup that is running: restic, a real `restic backup --stdin` of
 * host `web` reading a FIFO nobody writes to (its non-exclusive lock makes `restic check`
 * fail, `restic snapshots` still works); borg, `borg with-lock` running a command that does not
 * end (an exclusive lock: every other borg command waits, then fails). Resolves once the lock
 * file is there.
 */
export async function lockRepository(lab: Lab, target: 'restic' | 'borg'): Promise<RepositoryLock> {
  const holder =
    target === 'restic'
      ? `rm -f $run/restic.fifo; mkfifo $run/restic.fifo
# The writer that never writes: restic's stdin never ends.
setsid sleep 86400 > $run/restic.fifo 2> /dev/null < /dev/null &
echo $! > $run/restic-writer.pid
setsid restic backup --host web --tag vmid=100 --stdin --stdin-filename web.img \\
  < $run/restic.fifo > $run/restic.log 2>&1 &
echo $! | tee $run/restic.pid`
      : `setsid borg with-lock ${SITE_PATHS.borg} sleep 86400 < /dev/null > $run/borg.log 2>&1 &
echo $! | tee $run/borg.pid`;
  const stdout = await onBackup(lab, `run=${SITE_PATHS.run}; mkdir -p $run\n${holder}`);
  const pid = Number(stdout.trim());
  await waitForLock(lab, target, true);
  return {
    target,
    pid,
    release: async () => {
      await releaseLock(lab, target);
    },
  };
}

/**
 * Ends a lock holder started by lockRepository: restic gets SIGINT (Ctrl-C: it removes its lock
 * and exits 130); borg's command ends, and borg with-lock then releases its lock.
 */
async function releaseLock(lab: Lab, target: 'restic' | 'borg'): Promise<void> {
  const stopped = await onBackup(
    lab,
    `run=${SITE_PATHS.run}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2> /dev/null; }
if [ $1 = restic ]; then
  if alive $run/restic.pid; then kill -INT "$(cat $run/restic.pid)"; echo stopped; fi
  if alive $run/restic-writer.pid; then kill "$(cat $run/restic-writer.pid)"; fi
  rm -f $run/restic.pid $run/restic-writer.pid $run/restic.fifo
elif alive $run/borg.pid; then
  # Its command (sleep, a child of borg): borg then unlocks and exits.
  for child in $(cat /proc/$(cat $run/borg.pid)/task/*/children); do kill "$child"; done
  echo stopped
  rm -f $run/borg.pid
fi`,
    [target],
  );
  if (stopped.trim() === 'stopped') await waitForLock(lab, target, false);
}

/**
 * A stale lock: the lock holder of lockRepository killed with SIGKILL (an OOM kill, a reboot of a
 * container...): the tool had no chance to remove its lock. restic leaves locks/<id> naming a
 * dead PID on this host; borg leaves lock.exclusive and lock.roster (borg 1.2 removes a lock of
 * its own host whose process is gone, at its next command: "Killed stale lock").
 */
export async function staleLock(lab: Lab, target: 'restic' | 'borg'): Promise<void> {
  const lock = await lockRepository(lab, target);
  await onBackup(
    lab,
    `run=${SITE_PATHS.run}
if [ $1 = restic ]; then
  kill -KILL "$(cat $run/restic.pid)"; kill "$(cat $run/restic-writer.pid)"
  rm -f $run/restic.pid $run/restic-writer.pid $run/restic.fifo
else
  # borg takes its lock, then starts its command: wait for the command, so that it dies too.
  children=
  for try in $(seq 50); do
    children=$(cat /proc/$2/task/*/children)
    [ -z "$children" ] || break
    sleep 0.1
  done
  kill -KILL "$2"; [ -z "$children" ] || kill $children
  rm -f $run/borg.pid
fi`,
    [target, lock.pid],
  );
}

async function releaseLocks(lab: Lab): Promise<void> {
  await releaseLock(lab, 'restic');
  await releaseLock(lab, 'borg');
}

/**
 * A target directory its checker cannot read. Root reads any local directory whatever its mode
 * (CAP_DAC_OVERRIDE; the root-proof cases, an NFS export with root_squash or another user's FUSE
 * mount, need servers the lab has not): the directory gets mode 000 and the check must log in as
 * CHECK_USER, a key-only login on `backup` made here (with the operator's key).
 */
export async function makeTargetUnreadable(lab: Lab, target: TargetKind): Promise<{ path: string; user: string }> {
  const path = SITE_PATHS[target === 'vzdump' ? 'dump' : target];
  // The stand-in reads PBS's store as root whatever the login: its mode says nothing there.
  if (target === 'pbs') throw new Error('makeTargetUnreadable: the PBS stand-in reads its store as its server does');
  const publicKey = await readFile(`${lab.operatorKeyPath}.pub`, 'utf8');
  await onBackup(
    lab,
    `id "$1" > /dev/null 2>&1 || useradd -m -s /bin/sh "$1"
usermod -p '*' "$1"
install -d -m 700 -o "$1" -g "$1" "/home/$1/.ssh"
cat > "/home/$1/.ssh/authorized_keys"
chown "$1:" "/home/$1/.ssh/authorized_keys"
chmod 000 "$2"`,
    [CHECK_USER, path],
    publicKey,
  );
  return { path, user: CHECK_USER };
}
