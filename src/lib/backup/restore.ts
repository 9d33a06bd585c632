// Restore tests (`backup verify --restore-test`): a guest's newest copy really restored, then
// compared or started, then removed, and the result recorded on the target's host.
// - restic, borg: restored into a fresh directory under restore_test.scratch_dir (`restic restore
//   <id> --target DIR`; `borg extract` run in DIR), each file compared with the copy's own listing
//   (sizes: `restic ls --json`, `borg list --json-lines`), the canaries' checksums compared with
//   the copy's bytes (`restic dump`, `borg extract --stdout`), the directory removed.
// - vzdump, PBS: `qmrestore <archive> <spare VMID> --unique 1 --storage S` (`pct restore` for a
//   container) on restore_test.node, its network removed (`qm set --delete net0,...`), started,
//   awaited until `status: running`, destroyed (`qm destroy --purge --skiplock
//   --destroy-unreferenced-disks`). The VMID is one of restore_test.vmids that
//   `/cluster/resources` does not list right before; qmrestore's own refusal of a VMID in use
//   ("unable to restore VM <vmid> - VM <vmid> already exists") is the guard against a race: a VMID
//   it refused is never touched.
// The archive must be readable on the node: the node reads the target's dump directory at
// restore_test.dump_path (an NFS storage the nodes mount), or at the target's own path when the
// target's host IS the node; nothing is copied (a 100 GB archive streamed through the bastion
// would be a test of the network). Refused when the storage or the scratch directory has less
// than restore_test.min_free free (`pvesh get /nodes/<node>/storage/<id>/status`, `df`).
// Cleaned up on failure and on Ctrl-C: the cleanup runs even after the interruption.
// Sources: restic docs 050_restore.rst, 075_scripting.rst (ls --json), restic-dump(1);
// borg docs usage/extract.rst, usage/list.rst (--json-lines); qemu-server src/PVE/CLI/qmrestore.pm,
// src/PVE/API2/Qemu.pm (create_vm: "unable to restore VM <vmid> -", update_vm's delete,
// destroy_vm's purge, skiplock, destroy-unreferenced-disks); pve-container src/PVE/API2/LXC.pm
// (the same for `pct`); pve-storage src/PVE/API2/Storage/Status.pm (read_status: avail, bytes),
// src/PVE/Storage/PBSPlugin.pm (volume names backup/<type>/<id>/<time>).
import type { Host } from '../inventory/types.js';
import type { Executor } from '../remote/executor.js';
import { command, display, type RemoteCommand, type Word } from '../remote/shell.js';
import { formatError, InterruptedError } from '../run/errors.js';
import { duration, waitUntil } from '../run/wait.js';
import { borg, borgOutcome } from './borg.js';
import type { Copy } from './copies.js';
import { formatSize } from '../inventory/sizes.js';
import { type Guest, guestKey } from './guests.js';
import type { BackupTarget, RestoreTestSettings, VmidRange } from './inventory.js';
import type { RestoreTest } from './judge.js';
import { type Said, said } from './messages.js';
import { restic, resticOutcome } from './restic.js';
import {
  commonOutcome,
  lastLine,
  type Outcome,
  type Probe,
  resolveSecret,
  type SecretInput,
  type ToolOutput,
} from './tools.js';

// ---------------------------------------------------------------------------------------------
// How the steps run: through the executor, or a test's stand-in.

export interface StepOptions {
  /** Changes something on the host (dry-run would not send it). */
  change: boolean;
  /** The step's own bound (a restore is long); default: the host's command_timeout. */
  timeoutMs?: number;
  /** Cleanup: runs even after Ctrl-C, and is never cut short by it. */
  cleanup?: boolean;
  /** Reads what a change before it made (or is only worth running after one): dry-run plans it too. */
  afterChange?: boolean;
}

export interface StepOutput extends ToolOutput {
  durationMs: number;
  /** Not sent (dry-run): the step went into the plan, and the test goes on as if it passed. */
  planned?: boolean;
}

/**
 * Runs one command on an inventory host. Resolves whatever the exit code; rejects when the
 * command could not run or end (host unreachable, timeout, Ctrl-C: an InterruptedError).
 */
export interface RestoreRunner {
  run(host: string, command: RemoteCommand, options: StepOptions): Promise<StepOutput>;
  /** Ctrl-C. */
  readonly signal: AbortSignal;
  /** Tells the person watching what is awaited (the VM to run). */
  progress(text: string): void;
  /** A terminal: the waiting line is redrawn; otherwise a line now and then. */
  readonly live: boolean;
}

/** The runner of a run: chaton's executor on the inventory's hosts. */
export function executorRunner(
  executor: Executor,
  hostNamed: (name: string) => Host,
  view: Pick<RestoreRunner, 'signal' | 'progress' | 'live'>,
): RestoreRunner {
  return {
    ...view,
    async run(host, script, options) {
      const result = await executor.run(hostNamed(host), script, {
        kind: options.change || options.afterChange ? 'change' : 'probe',
        check: false,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.cleanup ? { afterInterrupt: true } : { onInterrupt: 'cancel' }),
        // A listing of a large copy is long: kept whole, as it is compared file by file.
        captureBytes: LISTING_BYTES,
      });
      const text = (bytes: Buffer) => bytes.toString('utf8');
      return {
        code: result.code,
        stdout: text(result.stdout),
        stderr: text(result.stderr),
        durationMs: result.durationMs,
        ...(result.dryRun ? { planned: true } : {}),
      };
    },
  };
}

/** What a listing may take in memory: some million files. */
const LISTING_BYTES = 256 * 1024 * 1024;
/** A restore's own bound: long, but not forever (a hung NFS mount). */
const RESTORE_TIMEOUT_MS = 12 * 3_600_000;
/** How long a restored VM may take to run, and how often it is asked. */
const RUNNING_BOUND_MS = 120_000;
const RUNNING_INTERVAL_MS = 1_000;

// ---------------------------------------------------------------------------------------------
// The result, and its record on the target's host.

/** Why a test failed (the copy does not restore) or was refused (it proves nothing either way). */
export type RestoreProblem =
  | 'restore-failed'
  | 'listing-differs'
  | 'canary-differs'
  | 'canary-not-in-copy'
  | 'canary-not-restored'
  | 'offline-failed'
  | 'start-failed'
  | 'not-running'
  | 'not-configured'
  | 'space-short'
  | 'no-spare-vmid'
  | 'vmid-taken'
  | 'archive-elsewhere'
  | 'archive-unreadable'
  | 'interrupted'
  | 'error';

/** These say nothing of the copy: never recorded as a failed test. */
const REFUSALS: ReadonlySet<RestoreProblem> = new Set([
  'not-configured',
  'space-short',
  'no-spare-vmid',
  'vmid-taken',
  'archive-elsewhere',
  'archive-unreadable',
  'interrupted',
  'error',
]);

export interface RestoreStep {
  name: string;
  host: string;
  /** As shown to people (-v). */
  command: string;
  durationMs?: number;
  code?: number | null;
  /** Why it could not run or end. */
  error?: string;
  /** Dry-run: in the plan, not run. */
  planned?: boolean;
}

export interface RestoreResult {
  guest: Guest;
  /** guestKey(): the key of restore-test records and of the judgement. */
  key: string;
  target: string;
  /** The copy restored: snapshot id, archive name or path. */
  location: string;
  ok: boolean;
  problem?: RestoreProblem;
  reason?: Said;
  /** Milliseconds since the epoch. */
  started: number;
  /** The measured restore: the restore itself, and for a VM until it runs (what a real restore takes). */
  restoreMs?: number;
  totalMs: number;
  /** The scratch directory or the VMID used. */
  where?: string;
  /** What was restored was removed (or nothing was made). */
  cleanedUp: boolean;
  /** Written to RESTORE_RECORDS on the target's host. */
  recorded: boolean;
  /** Dry-run: its changes were planned, not made (the commands are in the executor's plan). */
  planned?: boolean;
  steps: RestoreStep[];
}

/** Where each target's host keeps the restore tests run on its copies: one JSON line per test. */
export const RESTORE_RECORDS = '/var/lib/chaton/restore-tests.jsonl';

/** One line of RESTORE_RECORDS. */
export interface RestoreRecord {
  guest: string;
  target: string;
  location: string;
  ok: boolean;
  /** RFC 3339, UTC. */
  time: string;
  restoreMs?: number;
  problem?: RestoreProblem;
  /** In English: read by programs and by whoever opens the file. */
  reason?: string;
}

export function restoreRecord(result: RestoreResult): RestoreRecord {
  return {
    guest: result.key,
    target: result.target,
    location: result.location,
    ok: result.ok,
    time: new Date(result.started).toISOString(),
    ...(result.restoreMs === undefined ? {} : { restoreMs: Math.round(result.restoreMs) }),
    ...(result.problem ? { problem: result.problem } : {}),
    ...(result.reason ? { reason: result.reason.en } : {}),
  };
}

/** Appends the line `$2` to the file `$1`, its directory made first (root's only). */
const APPEND_SCRIPT = `file=$1 line=$2
dir=$(dirname -- "$file")
mkdir -p -m 700 -- "$dir" && printf '%s\\n' "$line" >> "$file"`;

export function appendRecordCommand(record: RestoreRecord, file = RESTORE_RECORDS): RemoteCommand {
  return command('sh', '-c', APPEND_SCRIPT, 'sh', file, JSON.stringify(record));
}

/** The last lines of `$1`; nothing when the file is not there (no test ran yet). */
const READ_RECORDS_SCRIPT = `[ -e "$1" ] || exit 0
exec tail -n "$2" -- "$1"`;
const RECORDS_READ = 10_000;

/** The restore tests recorded on a target's host (those of `targets` only, when given). */
export function restoreRecordsProbe(targets?: readonly string[], file = RESTORE_RECORDS): Probe<RestoreTest[]> {
  return {
    command: command('sh', '-c', READ_RECORDS_SCRIPT, 'sh', file, String(RECORDS_READ)),
    parse: (output) => {
      if (output.code !== 0) throw new Error(lastLine(output.stderr) ?? `exit ${output.code}`);
      return parseRestoreRecords(output.stdout, targets);
    },
  };
}

/** Lines that do not read as records (cut by a full disk, written by hand) are skipped. */
export function parseRestoreRecords(text: string, targets?: readonly string[]): RestoreTest[] {
  return text.split('\n').flatMap((line) => {
    let record: Partial<RestoreRecord>;
    try {
      record = JSON.parse(line) as Partial<RestoreRecord>;
    } catch {
      return [];
    }
    const time = typeof record?.time === 'string' ? Date.parse(record.time) : NaN;
    if (typeof record.guest !== 'string' || typeof record.ok !== 'boolean' || Number.isNaN(time)) return [];
    if (targets && (typeof record.target !== 'string' || !targets.includes(record.target))) return [];
    const test: RestoreTest = { guest: record.guest, time, ok: record.ok };
    if (typeof record.target === 'string') test.target = record.target;
    if (typeof record.restoreMs === 'number') test.durationMs = record.restoreMs;
    return [test];
  });
}

// ---------------------------------------------------------------------------------------------
// Builders: restic and borg into a scratch directory.

/** The scratch directory's name, as mktemp makes it. */
const SCRATCH_TEMPLATE = 'chaton-restore.XXXXXX';

/** Exit statuses of the scripts below. */
const SHORT = 4;
const MISSING = 5;
const NOT_IN_COPY = 6;
const NOT_OURS = 7;

/**
 * A fresh directory under `$1` (made if need be) when at least `$2` KiB are free there: prints
 * `free <KiB>` then `dir <path>`; exits SHORT after `free` when space is short. df -P: POSIX
 * columns, 1024-byte blocks; the 4th is what an unprivileged writer may use.
 */
const PREPARE_SCRATCH_SCRIPT = `parent=$1 need=$2
mkdir -p -- "$parent" || exit 3
free=$(df -Pk -- "$parent" | awk 'NR == 2 { print $4 }')
[ -n "$free" ] || exit 3
printf 'free %s\\n' "$free"
[ "$free" -ge "$need" ] || exit ${SHORT}
dir=$(mktemp -d -- "$parent/${SCRATCH_TEMPLATE}") || exit 3
printf 'dir %s\\n' "$dir"`;

export function prepareScratchCommand(parent: string, minFree: number): RemoteCommand {
  return command('sh', '-c', PREPARE_SCRATCH_SCRIPT, 'sh', parent, String(Math.ceil(minFree / 1024)));
}

export type Prepared = { dir: string; free: number } | { short: number } | { error: string };

export function parsePrepared(output: ToolOutput): Prepared {
  const free = Number(/^free (\d+)$/m.exec(output.stdout)?.[1] ?? NaN) * 1024;
  const dir = /^dir (\/.+)$/m.exec(output.stdout)?.[1];
  if (output.code === SHORT && !Number.isNaN(free)) return { short: free };
  if (output.code === 0 && dir && !Number.isNaN(free)) return { dir, free };
  return { error: lastLine(output.stderr) ?? `exit ${output.code}` };
}

/**
 * Removes `$2` with what is in it, only if it is a directory chaton made under `$1` (the name
 * PREPARE_SCRATCH_SCRIPT gives), never crossing into another file system mounted below it.
 */
const REMOVE_SCRATCH_SCRIPT = `parent=$1 dir=$2
case $dir in "$parent"/chaton-restore.*) ;; *) exit ${NOT_OURS} ;; esac
case $dir in */../*|*/..) exit ${NOT_OURS} ;; esac
[ -d "$dir" ] || exit 0
exec rm -rf --one-file-system -- "$dir"`;

export function removeScratchCommand(parent: string, dir: string): RemoteCommand {
  return command('sh', '-c', REMOVE_SCRATCH_SCRIPT, 'sh', parent, dir);
}

/** Runs the command that follows in the directory `$1`. */
const IN_DIRECTORY_SCRIPT = `cd -- "$1" || exit 3
shift
exec "$@"`;

/** `cmd` run by a script that takes it as its last words: its stdin (a secret) goes along. */
function wrapped(script: string, args: Word[], cmd: RemoteCommand): RemoteCommand {
  const run = command('sh', '-c', script, 'sh', ...args, ...cmd.argv);
  return cmd.stdin === undefined ? run : { ...run, stdin: cmd.stdin };
}

/** A restic or borg target with what opens it. */
export type FileTarget =
  | { type: 'restic'; repository: string; secret: SecretInput }
  | { type: 'borg'; repository: string; secret?: SecretInput };

function borgArchive(target: FileTarget, archive: string): string {
  return `${target.repository}::${archive}`;
}

/** Restores the copy `location` into `dir`. */
export function fileRestoreCommand(target: FileTarget, location: string, dir: string): RemoteCommand {
  if (target.type === 'restic') return restic(target.repository, target.secret, ['restore', location, '--target', dir]);
  return wrapped(IN_DIRECTORY_SCRIPT, [dir], borg(target.secret, ['extract', '--', borgArchive(target, location)]));
}

/** The copy's own listing: every entry with its type and size. */
export function copyListingCommand(target: FileTarget, location: string): RemoteCommand {
  if (target.type === 'restic') return restic(target.repository, target.secret, ['ls', '--json', location]);
  return borg(target.secret, ['list', '--json-lines', '--', borgArchive(target, location)]);
}

/** A file of a copy, by its path relative to the restore's root ("srv/guests/mail/canary.txt"). */
export interface ListedFile {
  path: string;
  size: number;
}

/** `restic ls --json` (a snapshot line, then one node per line) or `borg list --json-lines`: the regular files. */
export function parseCopyListing(type: FileTarget['type'], stdout: string): ListedFile[] {
  return stdout.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    const entry = JSON.parse(line) as Record<string, unknown>;
    const regular = type === 'restic' ? entry.struct_type === 'node' && entry.type === 'file' : entry.type === '-';
    if (!regular || typeof entry.path !== 'string' || typeof entry.size !== 'number') return [];
    return [{ path: entry.path.replace(/^\/+/, ''), size: entry.size }];
  });
}

/** The regular files under `$1`: size, tab, path relative to it, each ended by NUL. */
const RESTORED_FILES_SCRIPT = `cd -- "$1" || exit 3
exec find . -type f -printf '%s\\t%P\\0'`;

export function restoredFilesCommand(dir: string): RemoteCommand {
  return command('sh', '-c', RESTORED_FILES_SCRIPT, 'sh', dir);
}

export function parseRestoredFiles(stdout: string): Map<string, number> {
  const files = new Map<string, number>();
  for (const record of stdout.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab > 0) files.set(record.slice(tab + 1), Number(record.slice(0, tab)));
  }
  return files;
}

/** What was restored against what the copy lists: each listed file there, with its size. */
export function compareListing(listed: readonly ListedFile[], restored: ReadonlyMap<string, number>): Said[] {
  return listed.flatMap(({ path, size }) => {
    const got = restored.get(path);
    if (got === undefined) return [said('restoreFileMissing', path)];
    return got === size ? [] : [said('restoreFileSize', path, got, size)];
  });
}

/**
 * A canary: `$1` the restored file, `$2` where to put the copy's own bytes; the command that
 * prints them follows. Prints both SHA-256 sums (restored first), or exits NOT_IN_COPY (the copy
 * has no such file) or MISSING (the copy has it, the restore did not make it).
 */
const CANARY_SCRIPT = `restored=$1 copy=$2
shift 2
"$@" > "$copy" || exit ${NOT_IN_COPY}
[ -f "$restored" ] || exit ${MISSING}
sha256sum -- "$restored" "$copy"`;

/** Where the copy's canary bytes go: in the scratch directory, where the restored paths are all absolute ones. */
const CANARY_COPY = '.chaton-canary';

/** The canary `path` (as backed up, absolute) restored in `dir`, checked against the copy's bytes. */
export function canaryCommand(target: FileTarget, location: string, dir: string, path: string): RemoteCommand {
  const relative = path.replace(/^\/+/, '');
  const dump =
    target.type === 'restic'
      ? restic(target.repository, target.secret, ['dump', location, path])
      : borg(target.secret, ['extract', '--stdout', '--', borgArchive(target, location), relative]);
  return wrapped(CANARY_SCRIPT, [`${dir}/${relative}`, `${dir}/${CANARY_COPY}`], dump);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export type CanaryCheck = 'same' | 'differs' | 'not-restored' | { notInCopy: string };

export function parseCanary(output: ToolOutput): CanaryCheck {
  if (output.code === NOT_IN_COPY) return { notInCopy: lastLine(output.stderr) ?? `exit ${output.code}` };
  if (output.code === MISSING) return 'not-restored';
  const sums = output.stdout
    .split('\n')
    .map((line) => /^\\?([0-9a-f]{64}) /.exec(line)?.[1])
    .filter(Boolean);
  if (output.code !== 0 || sums.length !== 2) throw new Error(lastLine(output.stderr) ?? `exit ${output.code}`);
  return sums[0] === sums[1] ? 'same' : 'differs';
}

/** The guest's canaries: its own list (by name, then VMID), else the default one; `{name}` replaced. */
export function canariesOf(guest: Guest, canaries: ReadonlyMap<string, readonly string[]>): string[] {
  const list =
    canaries.get(guest.name) ??
    (guest.vmid === undefined ? undefined : canaries.get(String(guest.vmid))) ??
    canaries.get('default') ??
    [];
  return list.map((path) => path.replaceAll('{name}', guest.name));
}

// ---------------------------------------------------------------------------------------------
// Builders: a VM or a container into a spare VMID.

export type GuestTool = 'qm' | 'pct';

export function toolOf(guest: Guest): GuestTool {
  return guest.type === 'lxc' ? 'pct' : 'qm';
}

/** The VMIDs in use (templates too) and the storage's free bytes, in one session on the node. */
const VM_PREFLIGHT_SCRIPT = `node=$1 storage=$2
pvesh get /cluster/resources --type vm --output-format json || exit
echo
exec pvesh get "/nodes/$node/storage/$storage/status" --output-format json`;

export function vmPreflightCommand(node: string, storage: string): RemoteCommand {
  return command('sh', '-c', VM_PREFLIGHT_SCRIPT, 'sh', node, storage);
}

export interface VmPreflight {
  used: Set<number>;
  /** Bytes; undefined when the storage does not say (inactive). */
  free?: number;
}

export function parseVmPreflight(stdout: string): VmPreflight {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const [resources, status] = lines;
  if (lines.length !== 2 || !resources || !status)
    throw new Error(`pvesh: ${lines.length} JSON lines where 2 were expected`);
  const guests: unknown = JSON.parse(resources);
  if (!Array.isArray(guests)) throw new Error('/cluster/resources: a JSON array was expected');
  const used = new Set(
    guests.flatMap((guest: { vmid?: unknown }) => {
      const vmid = Number(guest?.vmid);
      return Number.isInteger(vmid) && vmid > 0 ? [vmid] : [];
    }),
  );
  const avail = Number((JSON.parse(status) as { avail?: unknown })?.avail);
  return { used, ...(Number.isFinite(avail) ? { free: avail } : {}) };
}

/** The first VMID of the range that no guest (nor template) uses. */
export function spareVmid(range: VmidRange, used: ReadonlySet<number>): number | undefined {
  for (let vmid = range.first; vmid <= range.last; vmid++) if (!used.has(vmid)) return vmid;
  return undefined;
}

/** Reads the archive's first bytes on the node: proves it is there and readable, before any VMID is taken. */
export function archiveReadableCommand(archive: string): RemoteCommand {
  return command('head', '-c', '1', '--', archive);
}

export function vmRestoreCommand(tool: GuestTool, archive: string, vmid: number, storage: string): RemoteCommand {
  const unique = ['--unique', '1', '--storage', storage];
  return tool === 'qm'
    ? command('qmrestore', archive, String(vmid), ...unique)
    : command('pct', 'restore', String(vmid), archive, ...unique);
}

/** qmrestore and pct refused before creating anything: the VMID is someone else's, or locked by them. */
export function refusedVmid(output: ToolOutput, vmid: number): boolean {
  return new RegExp(`unable to restore (VM|CT) ${vmid} -`).test(output.stderr);
}

/** Every network device out of the configuration (`$1` qm or pct, `$2` the VMID); fails if one is left. */
const OFFLINE_SCRIPT = `tool=$1 vmid=$2
nets=$("$tool" config "$vmid" | sed -n 's/^\\(net[0-9][0-9]*\\):.*/\\1/p' | paste -sd, -)
[ -z "$nets" ] || "$tool" set "$vmid" --delete "$nets" || exit
! "$tool" config "$vmid" | grep -q '^net[0-9]*:'`;

export function offlineCommand(tool: GuestTool, vmid: number): RemoteCommand {
  return command('sh', '-c', OFFLINE_SCRIPT, 'sh', tool, String(vmid));
}

export function startCommand(tool: GuestTool, vmid: number): RemoteCommand {
  return command(tool, 'start', String(vmid));
}

export function statusCommand(tool: GuestTool, vmid: number): RemoteCommand {
  return command(tool, 'status', String(vmid));
}

/** `qm status` / `pct status`: "status: running". */
export function parseStatus(stdout: string): string | undefined {
  return /^status: (\S+)/m.exec(stdout)?.[1];
}

/**
 * The restored copy gone (`$1` qm or pct, `$2` the VMID): stopped if it runs, destroyed with its
 * disks, out of any job; nothing to do when there is no such guest on this node. --skiplock: a
 * restore killed by Ctrl-C leaves its `lock: create`.
 */
const DESTROY_SCRIPT = `tool=$1 vmid=$2
"$tool" config "$vmid" >/dev/null 2>&1 || exit 0
if [ "$tool" = qm ]; then "$tool" stop "$vmid" --skiplock 1 >/dev/null; else "$tool" stop "$vmid" >/dev/null 2>&1; fi
if [ "$tool" = qm ]; then set -- --skiplock 1; else set --; fi
exec "$tool" destroy "$vmid" --purge 1 --destroy-unreferenced-disks 1 "$@"`;

export function destroyCommand(tool: GuestTool, vmid: number): RemoteCommand {
  return command('sh', '-c', DESTROY_SCRIPT, 'sh', tool, String(vmid));
}

/**
 * Why qmrestore or pct restore failed: the client's own `Error: ...` line when a PBS client call
 * failed (run_command then ends with "command '...' failed: exit code 255", which says less).
 */
export function restoreError(output: ToolOutput): string | undefined {
  const errors = output.stderr.split('\n').filter((line) => line.startsWith('Error: '));
  return errors.at(-1)?.slice('Error: '.length) ?? lastLine(output.stderr);
}

/** The archive as the node reads it: the target's path on the node itself, or under dump_path. */
export function archiveOnNode(
  target: BackupTarget,
  copy: Pick<Copy, 'location'>,
  settings: Pick<RestoreTestSettings, 'node' | 'dumpPath' | 'pbsStorage'>,
): string | { problem: 'archive-elsewhere'; reason: Said } {
  if (target.type === 'pbs') {
    if (!settings.pbsStorage) return { problem: 'archive-elsewhere', reason: said('restorePbsStorageMissing') };
    return `${settings.pbsStorage}:backup/${copy.location}`;
  }
  if (settings.dumpPath) return `${settings.dumpPath.replace(/\/+$/, '')}/${basename(copy.location)}`;
  if (target.host === settings.node) return copy.location;
  return { problem: 'archive-elsewhere', reason: said('restoreArchiveElsewhere', target.name, settings.node ?? '') };
}

// ---------------------------------------------------------------------------------------------
// The test.

export interface RestoreTestInput {
  guest: Guest;
  target: BackupTarget;
  /** The copy to restore: the guest's newest on that target. */
  copy: Copy;
  settings: RestoreTestSettings;
  /** The repository's secret; default: the one the target names, a variable read from `env`. */
  secret?: SecretInput;
  env?: NodeJS.ProcessEnv;
  /** Write the result on the target's host (default true). */
  record?: boolean;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

/** A failure the steps below end with: the result's problem and reason. */
class Stop extends Error {
  constructor(
    readonly problem: RestoreProblem,
    readonly reason: Said,
  ) {
    super(reason.en);
  }
}

/** Restores the copy, checks it, removes it, records the result; never rejects but for a bug. */
export async function restoreTest(runner: RestoreRunner, input: RestoreTestInput): Promise<RestoreResult> {
  const now = input.now ?? Date.now;
  const started = now();
  const clock = performance.now();
  const result: RestoreResult = {
    guest: input.guest,
    key: guestKey(input.guest),
    target: input.target.name,
    location: input.copy.location,
    ok: false,
    started,
    totalMs: 0,
    cleanedUp: true,
    recorded: false,
    steps: [],
  };
  try {
    const target = input.target;
    if (target.type === 'restic' || target.type === 'borg') await fileTest(runner, input, result);
    else await vmTest(runner, input, result);
    result.ok = true;
  } catch (error) {
    const stop =
      error instanceof Stop
        ? error
        : error instanceof InterruptedError || runner.signal.aborted
          ? new Stop('interrupted', said('restoreInterrupted'))
          : new Stop('error', said('restoreError', formatError(error)));
    result.problem = stop.problem;
    result.reason = stop.reason;
  }
  result.totalMs = performance.now() - clock;
  if (input.record !== false && !(result.problem && REFUSALS.has(result.problem))) {
    const appended = await step(
      runner,
      result,
      'record',
      input.target.host,
      appendRecordCommand(restoreRecord(result)),
      {
        change: true,
        cleanup: true,
      },
    ).catch(() => undefined);
    result.recorded = appended?.code === 0 && !appended.planned;
  }
  if (result.steps.some((kept) => kept.planned)) result.planned = true;
  return result;
}

/** Runs one step and keeps it in the result (for -v and JSON). */
async function step(
  runner: RestoreRunner,
  result: RestoreResult,
  name: string,
  host: string,
  script: RemoteCommand,
  options: StepOptions,
): Promise<StepOutput> {
  const kept: RestoreStep = { name, host, command: display(script) };
  result.steps.push(kept);
  try {
    const output = await runner.run(host, script, options);
    if (output.planned) {
      kept.planned = true;
      return output;
    }
    kept.durationMs = output.durationMs;
    kept.code = output.code;
    return output;
  } catch (error) {
    kept.error = formatError(error);
    throw error;
  }
}

function outcomeOf(target: FileTarget, output: ToolOutput): Outcome {
  return target.type === 'restic' ? resticOutcome(output) : borgOutcome(output, false);
}

function detailOf(outcome: Outcome, output: ToolOutput): string {
  return outcome.detail ?? lastLine(output.stderr) ?? `exit ${output.code}`;
}

function notConfigured(input: RestoreTestInput): Stop {
  return new Stop('not-configured', said('restoreNotConfigured', input.target.type));
}

async function fileTest(runner: RestoreRunner, input: RestoreTestInput, result: RestoreResult): Promise<void> {
  const { settings, copy } = input;
  const source = input.target;
  if (source.type !== 'restic' && source.type !== 'borg') throw notConfigured(input);
  const parent = settings.scratchDir;
  if (!parent) throw notConfigured(input);
  const ref = source.type === 'restic' ? source.password : source.passphrase;
  const resolved = input.secret ?? (ref ? resolveSecret(ref, input.env ?? process.env) : undefined);
  if (resolved && 'unset' in resolved) throw new Stop('error', said('restoreSecretUnset', resolved.unset));
  const target: FileTarget =
    source.type === 'restic'
      ? { type: 'restic', repository: source.repository, secret: resolved! }
      : { type: 'borg', repository: source.repository, ...(resolved ? { secret: resolved } : {}) };
  const host = settings.host ?? source.host;
  const preparing = await step(runner, result, 'prepare', host, prepareScratchCommand(parent, settings.minFree), {
    change: true,
  });
  // Dry-run: the directory mktemp would make, by its template.
  const prepared = preparing.planned ? { dir: `${parent}/${SCRATCH_TEMPLATE}`, free: 0 } : parsePrepared(preparing);
  if ('short' in prepared) {
    const where = `${host}:${parent}`;
    throw new Stop(
      'space-short',
      said('restoreSpaceShort', where, formatSize(prepared.short), formatSize(settings.minFree)),
    );
  }
  if ('error' in prepared) throw new Stop('error', said('restoreError', prepared.error));
  const dir = prepared.dir;
  result.where = dir;
  result.cleanedUp = false;
  try {
    const restoring = await step(runner, result, 'restore', host, fileRestoreCommand(target, copy.location, dir), {
      change: true,
      timeoutMs: RESTORE_TIMEOUT_MS,
    });
    if (!restoring.planned) result.restoreMs = restoring.durationMs;
    const restored = outcomeOf(target, restoring);
    if (restored.kind !== 'ok') throw new Stop('restore-failed', said('restoreFailed', detailOf(restored, restoring)));
    await compareWithListing(runner, result, host, target, copy.location, dir);
    for (const path of canariesOf(input.guest, settings.canaries)) {
      await checkCanary(runner, result, host, target, copy.location, dir, path);
    }
  } finally {
    const removed = await step(runner, result, 'cleanup', host, removeScratchCommand(parent, dir), {
      change: true,
      cleanup: true,
    }).catch(() => undefined);
    result.cleanedUp = removed?.code === 0;
  }
}

async function compareWithListing(
  runner: RestoreRunner,
  result: RestoreResult,
  host: string,
  target: FileTarget,
  location: string,
  dir: string,
): Promise<void> {
  const listing = await step(runner, result, 'listing', host, copyListingCommand(target, location), {
    change: false,
    afterChange: true,
    timeoutMs: RESTORE_TIMEOUT_MS,
  });
  const read = outcomeOf(target, listing);
  if (read.kind !== 'ok' && read.kind !== 'warning') {
    throw new Stop('restore-failed', said('restoreFailed', detailOf(read, listing)));
  }
  const files = await step(runner, result, 'restored-files', host, restoredFilesCommand(dir), {
    change: false,
    afterChange: true,
  });
  if (files.planned) return;
  if (files.code !== 0) throw new Stop('error', said('restoreError', lastLine(files.stderr) ?? `exit ${files.code}`));
  const differences = compareListing(parseCopyListing(target.type, listing.stdout), parseRestoredFiles(files.stdout));
  if (differences[0]) {
    throw new Stop('listing-differs', said('restoreListingDiffers', differences.length, differences[0].en));
  }
}

async function checkCanary(
  runner: RestoreRunner,
  result: RestoreResult,
  host: string,
  target: FileTarget,
  location: string,
  dir: string,
  path: string,
): Promise<void> {
  const output = await step(runner, result, 'canary', host, canaryCommand(target, location, dir, path), {
    change: true,
    timeoutMs: RESTORE_TIMEOUT_MS,
  });
  if (output.planned) return;
  const common = commonOutcome(output);
  if (common) throw new Stop('error', said('restoreError', detailOf(common, output)));
  const checked = parseCanary(output);
  if (checked === 'differs') throw new Stop('canary-differs', said('restoreCanaryDiffers', path));
  if (checked === 'not-restored') throw new Stop('canary-not-restored', said('restoreCanaryNotRestored', path));
  if (typeof checked === 'object')
    throw new Stop('canary-not-in-copy', said('restoreCanaryNotInCopy', path, checked.notInCopy));
}

async function vmTest(runner: RestoreRunner, input: RestoreTestInput, result: RestoreResult): Promise<void> {
  const { settings, guest } = input;
  const { node, storage, vmids } = settings;
  if (!node || !storage || !vmids || guest.type === 'host') throw notConfigured(input);
  const archive = archiveOnNode(input.target, input.copy, settings);
  if (typeof archive !== 'string') throw new Stop(archive.problem, archive.reason);
  const tool = toolOf(guest);
  if (input.target.type === 'vzdump') {
    const readable = await step(runner, result, 'archive', node, archiveReadableCommand(archive), { change: false });
    if (readable.code !== 0) {
      throw new Stop(
        'archive-unreadable',
        said('restoreArchiveUnreadable', node, lastLine(readable.stderr) ?? archive),
      );
    }
  }
  const preflight = await step(runner, result, 'preflight', node, vmPreflightCommand(node, storage), { change: false });
  if (preflight.code !== 0)
    throw new Stop('error', said('restoreError', lastLine(preflight.stderr) ?? `exit ${preflight.code}`));
  const { used, free } = parseVmPreflight(preflight.stdout);
  if (free === undefined || free < settings.minFree) {
    const where = `${node}:${storage}`;
    throw new Stop(
      'space-short',
      said('restoreSpaceShort', where, formatSize(free ?? 0), formatSize(settings.minFree)),
    );
  }
  const vmid = spareVmid(vmids, used);
  if (vmid === undefined) throw new Stop('no-spare-vmid', said('restoreNoSpareVmid', `${vmids.first}-${vmids.last}`));
  result.where = String(vmid);
  const clock = performance.now();
  // From here on, a guest of that VMID may be ours: destroyed whatever happens, unless refused.
  let ours = true;
  result.cleanedUp = false;
  try {
    const restoring = await step(runner, result, 'restore', node, vmRestoreCommand(tool, archive, vmid, storage), {
      change: true,
      timeoutMs: RESTORE_TIMEOUT_MS,
    });
    if (restoring.code !== 0 && refusedVmid(restoring, vmid)) {
      ours = false;
      throw new Stop('vmid-taken', said('restoreVmidTaken', vmid));
    }
    if (restoring.code !== 0) {
      throw new Stop('restore-failed', said('restoreFailed', restoreError(restoring) ?? `exit ${restoring.code}`));
    }
    const offline = await step(runner, result, 'offline', node, offlineCommand(tool, vmid), { change: true });
    if (offline.code !== 0) {
      throw new Stop(
        'offline-failed',
        said('restoreOfflineFailed', vmid, lastLine(offline.stderr) ?? `exit ${offline.code}`),
      );
    }
    const start = await step(runner, result, 'start', node, startCommand(tool, vmid), { change: true });
    if (start.code !== 0) {
      throw new Stop('start-failed', said('restoreStartFailed', vmid, lastLine(start.stderr) ?? `exit ${start.code}`));
    }
    await untilRunning(runner, result, node, tool, vmid);
    if (!restoring.planned) result.restoreMs = performance.now() - clock;
  } finally {
    if (ours) {
      const destroyed = await step(runner, result, 'cleanup', node, destroyCommand(tool, vmid), {
        change: true,
        cleanup: true,
      }).catch(() => undefined);
      result.cleanedUp = destroyed?.code === 0;
    } else result.cleanedUp = true;
  }
}

/** The shared wait: `qm status` until it says running, bounded, ended by Ctrl-C. */
async function untilRunning(
  runner: RestoreRunner,
  result: RestoreResult,
  node: string,
  tool: GuestTool,
  vmid: number,
): Promise<void> {
  const waiting = said('restoreWaitRunning', vmid).text;
  let last = '';
  try {
    await waitUntil<void>({
      poll: async () => {
        const output = await step(runner, result, 'status', node, statusCommand(tool, vmid), {
          change: false,
          afterChange: true,
        });
        if (output.planned) return { done: true, value: undefined };
        last = parseStatus(output.stdout) ?? lastLine(output.stderr) ?? `exit ${output.code}`;
        return last === 'running' ? { done: true, value: undefined } : { done: false, waiting };
      },
      boundMs: RUNNING_BOUND_MS,
      intervalMs: RUNNING_INTERVAL_MS,
      signal: runner.signal,
      progress: (text) => runner.progress(text),
      live: runner.live,
      timedOut: () =>
        new Stop('not-running', said('restoreNotRunning', vmid, `${last}, ${duration(RUNNING_BOUND_MS)}`)),
      interrupted: () => new InterruptedError(),
    });
  } finally {
    // Each poll is a step: only the last one says something worth keeping.
    const polls = result.steps.filter((kept) => kept.name === 'status');
    result.steps = result.steps.filter((kept) => kept.name !== 'status' || kept === polls.at(-1));
  }
}
