// A vzdump dump directory: its archives, named in the LOCAL time of the node that made them
// (PVE/VZDump.pm: strftime("%Y_%m_%d-%H_%M_%S", localtime)), and what interrupted dumps leave
// (a `.dat` file: the archive being written; a `.tmp` directory). The integrity of an archive is
// its compressor's own test of its stored checksum (`zstd -t`, `gzip -t`, `lzop -t`): `vma verify`
// only checks the structure, and exists on Proxmox nodes only. Sources: real-tools.md (Backups),
// pve-manager PVE/VZDump.pm, zstd(1), gzip(1), lzop(1).
import { command } from '../remote/shell.js';
import type { Compression, Copy, Leftover, Listing } from './copies.js';
import { emptyListing } from './copies.js';
import type { VzdumpTarget } from './inventory.js';
import { commonOutcome, lastLine, OK, type Outcome, outcome, type Probe, type ToolOutput } from './tools.js';
import { instantOf, type WallClock } from './zone.js';

/** Exit statuses of DUMP_LIST_SCRIPT besides find's own. */
const NO_DIRECTORY = 3;
const UNREADABLE = 4;

/**
 * One record per entry, NUL-terminated: size, mtime (seconds with a fraction), type (f, d...)
 * and the name last, tab-separated: a name may hold anything but NUL and "/". GNU find (Debian).
 */
const DUMP_LIST_SCRIPT = `dir=$1
[ -d "$dir" ] || { printf 'chaton: %s is not a directory\\n' "$dir" >&2; exit ${NO_DIRECTORY}; }
cd -- "$dir" 2>/dev/null && [ -r . ] || { printf 'chaton: cannot read %s\\n' "$dir" >&2; exit ${UNREADABLE}; }
exec find . -mindepth 1 -maxdepth 1 \\( -name 'vzdump-*' -o -name '*.dat' -o -name '*.tmp' \\) \\
  -printf '%s\\t%T@\\t%y\\t%f\\0'`;

export interface DumpEntry {
  name: string;
  size: number;
  /** Milliseconds since the epoch. */
  mtime: number;
  directory: boolean;
}

export interface DumpRead {
  outcome: Outcome;
  entries: DumpEntry[];
}

/** The archives and leftovers of the dump directory, with sizes and mtimes. */
export function dumpListProbe(target: Pick<VzdumpTarget, 'path'>): Probe<DumpRead> {
  return {
    command: command('sh', '-c', DUMP_LIST_SCRIPT, 'sh', target.path),
    parse: (output) => {
      const ended = dumpListOutcome(output);
      return { outcome: ended, entries: ended.kind === 'ok' ? parseDumpEntries(output.stdout) : [] };
    },
  };
}

function dumpListOutcome(output: ToolOutput): Outcome {
  const common = commonOutcome(output);
  if (common) return common;
  const detail = lastLine(output.stderr);
  if (output.code === 0) return OK;
  if (output.code === NO_DIRECTORY) return outcome('no-repository', detail);
  return outcome('error', detail);
}

function parseDumpEntries(stdout: string): DumpEntry[] {
  return stdout.split('\0').flatMap((record) => {
    const [size, mtime, type, ...name] = record.split('\t');
    if (name.length === 0 || !size || !mtime) return [];
    return [
      { name: name.join('\t'), size: Number(size), mtime: Math.round(Number(mtime) * 1000), directory: type === 'd' },
    ];
  });
}

export interface ArchiveName {
  guestType: 'qemu' | 'lxc';
  vmid: number;
  /** When the dump started, on the node's clock. */
  wall: WallClock;
  compression: Compression | null;
}

const STAMP = '(\\d{4})_(\\d{2})_(\\d{2})-(\\d{2})_(\\d{2})_(\\d{2})';
const ARCHIVE = new RegExp(`^vzdump-(qemu|lxc)-(\\d+)-${STAMP}\\.(?:vma|tar|tgz)(?:\\.(zst|gz|lzo))?$`);
const LEFTOVER = new RegExp(`^vzdump-(?:qemu|lxc)-(\\d+)-${STAMP}(?:\\..*)?\\.(?:dat|tmp)$`);

function wallOf(fields: string[]): WallClock {
  const [year, month, day, hour, minute, second] = fields.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { year, month, day, hour, minute, second };
}

/** `vzdump-(qemu|lxc)-<vmid>-YYYY_MM_DD-HH_MM_SS.(vma|tar|tgz)[.zst|.gz|.lzo]`; not its .log nor .notes. */
export function parseArchiveName(name: string): ArchiveName | undefined {
  const match = ARCHIVE.exec(name);
  if (!match) return undefined;
  const [, guestType, vmid, ...rest] = match;
  const compression = (rest[6] as Compression | undefined) ?? (name.endsWith('.tgz') ? 'gz' : null);
  return {
    guestType: guestType as 'qemu' | 'lxc',
    vmid: Number(vmid),
    wall: wallOf(rest.slice(0, 6) as string[]),
    compression,
  };
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * The copies and leftovers of a listing. Names carry the node's local time in `zone`; the hour
 * a DST change shows twice is told apart by the file's mtime (when the dump ended).
 */
export function dumpListing(read: DumpRead, dir: string, zone: string): Listing {
  if (read.outcome.kind !== 'ok') return emptyListing(read.outcome);
  const copies: Copy[] = [];
  const leftovers: Leftover[] = [];
  for (const entry of read.entries) {
    const location = joinPath(dir, entry.name);
    const archive = entry.directory ? undefined : parseArchiveName(entry.name);
    if (archive) {
      copies.push({
        key: { vmid: archive.vmid },
        time: instantOf(archive.wall, zone, entry.mtime),
        location,
        size: entry.size,
        compression: archive.compression,
      });
    } else if (/\.(dat|tmp)$/.test(entry.name)) {
      const vmid = LEFTOVER.exec(entry.name)?.[1];
      leftovers.push({ location, time: entry.mtime, ...(vmid === undefined ? {} : { vmid: Number(vmid) }) });
    }
  }
  return { outcome: OK, copies, leftovers };
}

/** The newest compressed archive of each guest: the ones the integrity check tests. */
export function archivesToTest(copies: readonly Copy[]): string[] {
  const newest = new Map<number, Copy>();
  for (const copy of copies) {
    if (!('vmid' in copy.key)) continue;
    const known = newest.get(copy.key.vmid);
    if (!known || copy.time > known.time) newest.set(copy.key.vmid, copy);
  }
  return [...newest.values()].filter((copy) => copy.compression).map((copy) => copy.location);
}

/**
 * Each file tested by its compressor in turn, in one session; per file, in the order given, a
 * NUL-terminated record: the exit status, a tab, what the tool said.
 */
const INTEGRITY_SCRIPT = `for file do
  case $file in
    *.zst) said=$(zstd -t -q -- "$file" 2>&1 >/dev/null) ;;
    *.gz|*.tgz) said=$(gzip -t -- "$file" 2>&1 >/dev/null) ;;
    *.lzo) said=$(lzop -t -q -- "$file" 2>&1 >/dev/null) ;;
    *) said='chaton: not a compressed archive'; false ;;
  esac
  printf '%s\\t%s\\0' "$?" "$said"
done`;

/** gzip and lzop exit 2 on a warning (trailing garbage ignored): the data itself tested good. */
function archiveOutcome(location: string, status: number, said: string): Outcome {
  const detail = lastLine(said);
  if (status === 0) return OK;
  if (status === 127) return outcome('missing-tool', detail);
  if (status === 2 && !location.endsWith('.zst')) return outcome('warning', detail);
  return outcome('failed', detail);
}

/** Tests `locations` (paths on the target host); the result maps each to its outcome. */
export function integrityProbe(locations: readonly string[]): Probe<Map<string, Outcome>> {
  return {
    command: command('sh', '-c', INTEGRITY_SCRIPT, 'sh', ...locations),
    parse: (output) => {
      const records = output.stdout.split('\0');
      // A session that ended early (killed, lost) leaves the rest untested: said so, not guessed.
      const early = commonOutcome(output) ?? outcome('error', lastLine(output.stderr));
      return new Map(
        locations.map((location, i) => {
          const record = records[i];
          const tab = record?.indexOf('\t') ?? -1;
          if (record === undefined || tab < 0 || i >= records.length - 1) return [location, early];
          return [location, archiveOutcome(location, Number(record.slice(0, tab)), record.slice(tab + 1))];
        }),
      );
    },
  };
}
