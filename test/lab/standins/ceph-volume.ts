// ceph-volume for a Ceph lab's hosts, where LVM cannot make volumes (no device-mapper): `lvm create`
// and `lvm list` do what the real ones do with the real `ceph-volume raw` underneath, so that the OSD
// they make is a real BlueStore OSD on the whole disk; `lvm zap` is the real one told that the lab's
// loop devices are disks; everything else (`raw`, `inventory`...) is the real ceph-volume's. Like the
// real one, every line it prints goes to stderr (terminal.py's _Write writes to sys.stderr); only
// `lvm list`'s report goes to stdout.
//
// - `lvm create --data <dev> [--osd-id N] [--bluestore] [--crush-device-class C] [--no-systemd]`:
//   `raw prepare` (which registers the OSD, with `osd new <uuid> N` when given an id, makes
//   BlueStore, and rolls back with `osd purge-new` when it fails, as lvm prepare does), `raw
//   activate --no-systemd`, then, as lvm activate does, `systemctl start ceph-osd@N` (the unit
//   enabling lines are printed, there is nothing to enable); "ceph-volume lvm create successful
//   for: <dev>". When the activation fails (raw activate or the start), lvm create's rollback:
//   "Was unable to complete a new OSD, will rollback changes", `osd purge-new osd.N
//   --yes-i-really-mean-it` for real (a destroyed id given back by `osd new` is purged: its CRUSH
//   entry, class and flags go), the data directory unmounted and the device zapped (the real one
//   zaps the OSD's LV), then the activation's exception, exit 1. The lab's fault
//   `cephVolumeFailActivate` (a counter in CEPH_LAB_FAULTS, see ceph-lab.ts) makes the next N
//   creates fail so, in raw activate (activateRaw). Other options (filestore, dmcrypt, db and wal
//   devices) go to the real one, which refuses a lab disk.
// - `lvm list [--format json|pretty] [<dev>|<osd id>]`: the OSDs `raw list` finds on this host's
//   disks, as LVM OSDs look: a `ceph-<uuid>` volume group and an `osd-block-<osd fsid>` volume per
//   OSD (names derived from the OSD's fsid, the same at every call: the paths do not exist), its
//   tags (ceph.osd_id, ceph.osd_fsid, ceph.cluster_fsid, ceph.type block...) and `devices`.
// - `lvm zap ...`: the real one with CEPH_VOLUME_ALLOW_LOOP_DEVICES=1: without it, a loop device is
//   no device to ceph-volume (util/disk.py AllowLoopDevices, is_device), Zap.zap skips
//   zap_raw_device and says "Zapping successful" having wiped nothing. A zapped lab disk's
//   partitions are then mapped again (none left), as wipefs's re-read of the table does.
//
// Sources (github.com/ceph/ceph, v16.2.15, also in /usr/lib/python3/dist-packages/ceph_volume):
// devices/lvm/create.py (Create.create: prepare, activate, rollback_osd and re-raise, the success
// line), devices/lvm/common.py (rollback_osd: the error line, purge-new with the bootstrap-osd key,
// Zap --destroy --osd-id), devices/lvm/zap.py (Zap.unmount_lv, zap_raw_device, "Zapping successful
// for"), devices/raw/activate.py (Activate.activate: RuntimeError('did not find any matching OSD to
// activate')), decorators.py (catches, make_exception_message: "-->  RuntimeError: ..."),
// process.py (run: "Running command:", " stdout: "/" stderr: " lines, RuntimeError('command
// returned non-zero exit status: N')), terminal.py (the "--> " arrows), devices/lvm/activate.py
// (activate_bluestore: systemctl enable ceph-volume@lvm-N-<fsid>, enable --runtime and start
// ceph-osd@N, "ceph-volume lvm activate successful for osd ID: N"), devices/lvm/listing.py
// (List.list: json.dumps(report, indent=4, sort_keys=True), "No valid Ceph lvm devices found"),
// api/lvm.py (Volume.as_dict, LV_FIELDS), devices/lvm/prepare.py (the tags).
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { CEPH_LAB_FAULTS } from './ceph-lab.js';
import { diskLabRequest, hostDisks, readDisks } from './disk-lab.js';
import { takeFaultCounter } from './faults-file.js';

const REAL = '/usr/sbin/ceph-volume';
/** What LVM keeps of a physical volume for its metadata: the volume is that much smaller. */
const PV_METADATA_BYTES = 4 * 1024 * 1024;

interface RawOsd {
  ceph_fsid: string;
  device: string;
  osd_id: number;
  osd_uuid: string;
  type: string;
}

function real(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  return spawnSync(REAL, args, { stdio: 'inherit', env }).status ?? 1;
}

/** A UUID-shaped name derived from `seed`: the same volume group for the same OSD at every call. */
function derivedUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An LVM UUID (6-4-4-4-4-4-6 of [A-Za-z0-9]), derived from `seed`. */
function lvmUuid(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = createHash('sha256').update(seed).digest();
  const chars = [...bytes.subarray(0, 32)].map((byte) => alphabet[byte % alphabet.length]).join('');
  const sizes = [6, 4, 4, 4, 4, 4, 6];
  let at = 0;
  return sizes.map((size) => chars.slice(at, (at += size))).join('-');
}

/** Sorted keys all the way down, as Python's json.dumps(sort_keys=True). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => [key, sortKeys(inner)]),
  );
}

async function listReport(filter: string | undefined): Promise<Record<string, unknown[]>> {
  const raw = spawnSync(REAL, ['raw', 'list', '--format', 'json'], { encoding: 'utf8' });
  const osds = Object.values(JSON.parse(raw.stdout || '{}') as Record<string, RawOsd>);
  const sizes = new Map((await readDisks()).map((disk) => [`/dev/${disk.device}`, disk.sizeBytes]));
  const report: Record<string, unknown[]> = {};
  for (const osd of osds.sort((a, b) => a.osd_id - b.osd_id)) {
    if (filter !== undefined && filter !== String(osd.osd_id) && filter !== osd.device) continue;
    const vg = `ceph-${derivedUuid(`vg ${osd.osd_uuid}`)}`;
    const lv = `osd-block-${osd.osd_uuid}`;
    const path = `/dev/${vg}/${lv}`;
    const lvUuid = lvmUuid(`lv ${osd.osd_uuid}`);
    const tags: Record<string, string> = {
      'ceph.block_device': path,
      'ceph.block_uuid': lvUuid,
      'ceph.cephx_lockbox_secret': '',
      'ceph.cluster_fsid': osd.ceph_fsid,
      'ceph.cluster_name': 'ceph',
      'ceph.crush_device_class': '',
      'ceph.encrypted': '0',
      'ceph.osd_fsid': osd.osd_uuid,
      'ceph.osd_id': String(osd.osd_id),
      'ceph.osdspec_affinity': '',
      'ceph.type': 'block',
      'ceph.vdo': '0',
    };
    const size = (sizes.get(osd.device) ?? PV_METADATA_BYTES) - PV_METADATA_BYTES;
    (report[String(osd.osd_id)] ??= []).push({
      devices: [osd.device],
      lv_name: lv,
      lv_path: path,
      lv_size: String(size),
      lv_tags: Object.entries(tags)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
      lv_uuid: lvUuid,
      name: lv,
      path,
      tags,
      type: 'block',
      vg_name: vg,
    });
  }
  return report;
}

interface LvmVolume {
  type: string;
  path: string;
  tags: Record<string, string>;
  devices: string[];
}

function prettyReport(report: Record<string, unknown[]>): string {
  const lines: string[] = [];
  for (const [id, volumes] of Object.entries(report).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const title = ` osd.${id} `; // Python's "{:=^20}": centred, the odd filler on the right
    lines.push(`\n\n${title.padStart(title.length + Math.floor((20 - title.length) / 2), '=').padEnd(20, '=')}`);
    for (const volume of volumes as LvmVolume[]) {
      lines.push(`\n  ${`[${volume.type}]`.padEnd(13)} ${volume.path}\n`);
      for (const [tag, value] of Object.entries(volume.tags).sort()) {
        lines.push(`\n      ${tag.split('.').at(-1)!.replaceAll('_', ' ').padEnd(25)} ${value}`);
      }
      lines.push(`\n      ${'devices'.padEnd(25)} ${volume.devices.join(',')}`);
    }
  }
  return `${lines.join('')}\n`;
}

async function list(args: string[]): Promise<number> {
  const formatAt = args.findIndex((arg) => arg === '--format' || arg.startsWith('--format='));
  const format = formatAt < 0 ? 'pretty' : (args[formatAt]!.split('=')[1] ?? args[formatAt + 1]);
  const rest = args.filter((arg, index) => !arg.startsWith('--') && index !== formatAt + 1);
  const report = await listReport(rest[0]);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(sortKeys(report), null, 4)}\n`);
    return 0;
  }
  if (Object.keys(report).length === 0) {
    process.stderr.write('No valid Ceph lvm devices found\n');
    return 1;
  }
  process.stdout.write(prettyReport(report));
  return 0;
}

/** ceph-volume's terminal lines (terminal.py _Write), its own and the commands', all go to stderr. */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * process.run: "Running command: <argv>", then what the command printed as " stdout: "/" stderr: "
 * lines (the real one prefixes each chunk it reads, here each line). The command is found on PATH,
 * as which() does (the lab's systemctl is the stand-in); `path` is where a real host has it.
 */
function runLogged(path: string, args: string[]): number {
  say(`Running command: ${[path, ...args].join(' ')}`);
  const result = spawnSync(basename(path), args, { encoding: 'utf8' });
  for (const [name, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    for (const line of text.split('\n').filter((line) => line.trim() !== '')) say(` ${name}: ${line}`);
  }
  return result.status ?? 1;
}

/**
 * The real `raw activate` of the prepared OSD; with the lab's fault cephVolumeFailActivate, the real
 * one asked for another OSD fsid than the one on the device, so that it finds nothing to activate, as
 * when the device's label cannot be read back: Activate.activate's real "RuntimeError: did not find
 * any matching OSD to activate", exit 1. Its lines but the final exception, and that exception, apart:
 * create prints the exception after its rollback.
 */
async function activateRaw(device: string): Promise<{ status: number; lines: string[]; exception?: string }> {
  const fail = await takeFaultCounter(CEPH_LAB_FAULTS, 'cephVolumeFailActivate');
  const args = ['raw', 'activate', '--device', device, '--no-systemd', ...(fail ? ['--osd-uuid', randomUUID()] : [])];
  const result = spawnSync(REAL, args, { encoding: 'utf8' });
  process.stdout.write(result.stdout);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  const last = lines.at(-1);
  // decorators.py make_exception_message: "-->  <class>: <message>" (the red arrow and a space).
  const exception = result.status !== 0 && last?.startsWith('-->  ') ? lines.pop() : undefined;
  return { status: result.status ?? 1, lines, ...(exception ? { exception } : {}) };
}

/**
 * lvm create's rollback_osd: the new id is given back to the monitors with `osd purge-new` (run for
 * real: a destroyed id whose `osd new` ran is purged, CRUSH entry, class and all), then the OSD's
 * volumes are zapped (the real zap of the device here: there is no LV), after unmounting its data
 * directory as zap_lv does.
 */
function rollback(osdId: number, device: string): void {
  say('--> Was unable to complete a new OSD, will rollback changes');
  const keyring = '/var/lib/ceph/bootstrap-osd/ceph.keyring';
  runLogged('/usr/bin/ceph', [
    ...['--cluster', 'ceph', '--name', 'client.bootstrap-osd', '--keyring', keyring],
    ...['osd', 'purge-new', `osd.${osdId}`, '--yes-i-really-mean-it'],
  ]);
  const osdPath = `/var/lib/ceph/osd/ceph-${osdId}`;
  if (spawnSync('mountpoint', ['-q', osdPath]).status === 0) {
    say(`--> Unmounting ${osdPath}`);
    runLogged('/usr/bin/umount', ['-v', osdPath]);
  }
  zap(['--destroy', device]);
}

/**
 * The real `lvm zap`. A lab disk is a loop device, which ceph-volume takes for a disk only when told
 * so (util/disk.py, AllowLoopDevices): else `lvm zap` calls it "<Unknown>", erases nothing and exits 0.
 */
function zap(args: string[]): number {
  return real(['lvm', 'zap', ...args], { ...process.env, CEPH_VOLUME_ALLOW_LOOP_DEVICES: '1' });
}

/**
 * What the kernel does after `lvm zap` of a whole disk: zap_raw_device's `wipefs --all` asks it to
 * re-read the emptied table (BLKRRPART), so the disk's partitions go; the lab maps them again.
 */
async function rescanZapped(args: string[]): Promise<void> {
  const named = args
    .filter((arg) => arg.startsWith('/dev/'))
    .flatMap((arg) => {
      try {
        return [basename(realpathSync(arg))];
      } catch {
        return [];
      }
    });
  for (const disk of await hostDisks()) {
    if (disk.device && named.includes(disk.device) && disk.partitions.length > 0) {
      await diskLabRequest({ op: 'disk-rescan', host: hostname(), serial: disk.serial });
    }
  }
}

async function create(args: string[]): Promise<number> {
  const value = (name: string) => {
    const at = args.indexOf(name);
    return at < 0 ? undefined : args[at + 1];
  };
  const data = value('--data')!;
  // raw activate cannot follow a link (a /dev/disk/by-id path): the device itself.
  const device = realpathSync(data);
  const osdId = value('--osd-id');
  const deviceClass = value('--crush-device-class');
  const prepared = real([
    'raw',
    'prepare',
    '--bluestore',
    '--data',
    device,
    ...(osdId ? ['--osd-id', osdId] : []),
    ...(deviceClass ? ['--crush-device-class', deviceClass] : []),
  ]);
  if (prepared !== 0) return prepared;
  const listed = spawnSync(REAL, ['raw', 'list', device, '--format', 'json'], { encoding: 'utf8' });
  const osd = Object.values(JSON.parse(listed.stdout || '{}') as Record<string, RawOsd>)[0];
  if (!osd) {
    say(`-->  RuntimeError: no OSD found on ${device} after its preparation`);
    return 1;
  }
  const activated = await activateRaw(device);
  activated.lines.forEach(say);
  let failure = activated.status === 0 ? undefined : (activated.exception ?? '-->  RuntimeError');
  if (!failure && !args.includes('--no-systemd')) {
    // lvm activate's systemd steps; there is nothing to enable without systemd: printed only.
    say(`Running command: /usr/bin/systemctl enable ceph-volume@lvm-${osd.osd_id}-${osd.osd_uuid}`);
    say(`Running command: /usr/bin/systemctl enable --runtime ceph-osd@${osd.osd_id}`);
    const started = runLogged('/usr/bin/systemctl', ['start', `ceph-osd@${osd.osd_id}`]);
    if (started !== 0) failure = `-->  RuntimeError: command returned non-zero exit status: ${started}`;
  }
  if (failure) {
    rollback(osd.osd_id, device);
    say(failure);
    return 1;
  }
  say(`--> ceph-volume lvm activate successful for osd ID: ${osd.osd_id}`);
  say(`--> ceph-volume lvm create successful for: ${data}`);
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [group, command, ...rest] = args;
  if (group !== 'lvm') return real(args);
  if (command === 'list') return list(rest);
  if (command === 'zap') {
    const zapped = zap(rest);
    if (zapped === 0) await rescanZapped(rest);
    return zapped;
  }
  const unsupported = ['--filestore', '--dmcrypt', '--block.db', '--block.wal', '--journal'];
  if (command === 'create' && rest.includes('--data') && !rest.some((arg) => unsupported.includes(arg))) {
    return create(rest);
  }
  return real(args);
}

process.exitCode = await main(process.argv.slice(2));
