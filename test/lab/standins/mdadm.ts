// mdadm (4.2, Debian 12's) for a disk lab's backup host: this machine's kernel has no md, so the
// arrays are md-array.ts's state, members lab disks' partitions. Commands: `--create /dev/mdN
// --level=1 --raid-devices=2 [--metadata=1.2] [--assume-clean] [--run] [--force] [--homehost=H]
// <dev>...` (without --assume-clean a resync runs), `--detail /dev/mdN`, `[--manage] /dev/mdN`
// followed by `--fail|-f`, `--remove|-r`, `--add|-a` each with its devices (or `failed`, `detached`
// for --remove), done in order as Manage_subdevs does (the first refusal stops the rest), and
// `--action=check|idle /dev/mdN` (a check, md's scrub). An added member is a spare that the array
// rebuilds onto at once when a slot is empty (a recovery at the lab's syncBytesPerSecond).
//
// Sources (github.com/md-raid-utilities/mdadm, tag mdadm-4.2): Manage.c (Manage_subdevs: "set %s
// faulty in %s", "set device faulty failed for %s:  %s" and exit 2 when the kernel said EBUSY (the
// last working member of a RAID1), "hot removed %s from %s", "hot remove failed for %s: %s" (EBUSY
// for a member still working), "added %s", "%s not large enough to join array", "Cannot open %s:
// %s" (a device in use), `return !test && busy ? 2 : 1`), util.c (stat_is_blkdev: "stat failed for
// %s: %s"), Create.c ("array %s started."), mdadm.c (pr_err's "mdadm: " prefix, --action), and the
// kernel's drivers/md/md.c (hot_remove_disk: ENXIO, EBUSY; raid1_error: the last in-sync member not
// failed). A new member (created or added) gets mdadm's 1.2 superblock, written on the partition
// (md-array.ts superblock), so that blkid and lsblk see a `linux_raid_member`; later changes (events,
// roles) are not written back. Not reproduced: --examine, --assemble, --grow, --re-add, bitmaps, the
// prompts of --create.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  advance,
  componentSectorsOf,
  hostMdWorld,
  type MdArrayState,
  type MdMemberState,
  type MdState,
  type MdWorld,
  EMPTY_MD_STATE,
  renderDetail,
  startRecovery,
  superblock,
  SUPERBLOCK_OFFSET,
} from './md-array.js';
import { deviceOf, devicePath, refOf, resolveDevice, sameRef, type ResolvedDevice } from './lab-disk-map.js';
import { isMainModule } from './pve-cli.js';
import { MD_STATE, ToolError, type ToolOutput, withState } from './storage-state.js';

export interface MdadmWorld extends MdWorld {
  newUuid: () => string;
}

const EXIT_ERROR = 1;
const EXIT_BUSY = 2;
const EXIT_USAGE = 2;
const ENOENT = 'No such file or directory';
const EBUSY = 'Device or resource busy';

function fail(message: string, code = EXIT_ERROR): ToolError {
  return new ToolError(`mdadm: ${message}\n`, code);
}

function findArray(state: MdState, device: string): MdArrayState {
  const name = device.replace(/^\/dev\/(md\/)?/, '');
  const array = state.arrays.find((candidate) => candidate.name === name || `md${candidate.name}` === name);
  if (!array) throw fail(`cannot open ${device}: ${ENOENT}`);
  return array;
}

function memberIn(array: MdArrayState, device: ResolvedDevice): MdMemberState | undefined {
  const ref = refOf(device);
  return array.members.find((member) => sameRef(member.member, ref));
}

function existing(world: MdadmWorld, name: string): ResolvedDevice {
  const device = resolveDevice(world.disks, name, world.realpath);
  if (!device) throw fail(`stat failed for ${name}: ${ENOENT}`);
  return device;
}

function inAnyArray(state: MdState, device: ResolvedDevice): boolean {
  return state.arrays.some((array) => memberIn(array, device) !== undefined);
}

// --- --create ------------------------------------------------------------------------------------

/** --create's options that take a value (long name: its short letter, if any). */
const CREATE_VALUES: Record<string, string | undefined> = {
  level: 'l',
  'raid-devices': 'n',
  metadata: 'e',
  homehost: undefined,
};
/** Its options taken without a value, long and short. */
const CREATE_FLAGS = new Set(['assume-clean', 'run', 'R', 'force', 'f', 'verbose', 'v']);

/** `--key=v`, `--key v`, `-kv`, `-k v` and flags, apart from the devices. */
function createOptions(args: string[]): { values: Map<string, string>; flags: Set<string>; devices: string[] } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const devices: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const short = long ? undefined : /^-(.)(.*)$/s.exec(arg);
    const byLetter = (letter: string) => Object.keys(CREATE_VALUES).find((name) => CREATE_VALUES[name] === letter);
    const key = long ? long[1] : short ? byLetter(short[1] ?? '') : undefined;
    const attached = long ? long[2] : short?.[2] || undefined;
    if (key !== undefined && key in CREATE_VALUES) values.set(key, attached ?? args[++i] ?? '');
    else if (long || short) {
      const flag = long?.[1] ?? short?.[1] ?? '';
      if (!CREATE_FLAGS.has(flag)) throw fail(`unrecognized option '${arg}'`, EXIT_USAGE);
      flags.add(flag);
    } else devices.push(arg);
  }
  return { values, flags, devices };
}

function create(state: MdState, arrayName: string, args: string[], world: MdadmWorld): string {
  const { values, flags, devices: names } = createOptions(args);
  const level = (values.get('level') ?? '').replace(/^raid/, '');
  const raidDevices = Number(values.get('raid-devices') ?? 0);
  const metadata = values.get('metadata') ?? '1.2';
  const homehost = values.get('homehost') ?? world.hostname;
  if (metadata !== '1.2') throw fail(`unrecognised metadata identifier: ${metadata}`);
  if (level === '') throw fail('a RAID level is needed to create an array.');
  if (level !== '1') throw fail(`the lab's mdadm makes RAID1 arrays only, not level ${level}`);
  if (raidDevices === 0) throw fail('no raid-devices specified.');
  if (names.length > raidDevices) {
    throw fail(`You have listed more devices (${names.length}) than are in the array(${raidDevices})!`);
  }
  if (names.length < raidDevices) throw fail(`You haven't given enough devices (real or missing) to create this array`);
  const name = arrayName.replace(/^\/dev\//, '');
  if (state.arrays.some((array) => array.name === name)) throw fail(`cannot open ${arrayName}: ${EBUSY}`);
  const devices = names.map((device) => {
    const found = resolveDevice(world.disks, device, world.realpath);
    if (!found) throw fail(`cannot open ${device}: ${ENOENT}`);
    if (inAnyArray(state, found)) throw fail(`cannot open ${device}: ${EBUSY}`);
    return found;
  });
  const sectors = Math.min(...devices.map((device) => device.partition?.sectors ?? device.disk.sizeBytes / 512));
  const array: MdArrayState = {
    name,
    level: 'raid1',
    raidDevices,
    componentSectors: componentSectorsOf(sectors),
    setName: `${homehost}:${name.replace(/^md/, '')}`,
    homehost,
    uuid: world.newUuid(),
    createdAt: world.now,
    updatedAt: world.now,
    events: 0,
    members: devices.map((device, slot) => ({ member: refOf(device), number: slot, slot, role: 'sync' })),
    sync: flags.has('assume-clean') ? null : { action: 'resync', start: world.now },
  };
  state.arrays.push(array);
  return `mdadm: array ${arrayName} started.\n`;
}

// --- --manage ------------------------------------------------------------------------------------

function setFaulty(array: MdArrayState, arrayName: string, name: string, world: MdadmWorld): string {
  const member = memberIn(array, existing(world, name));
  if (!member) throw fail(`set device faulty failed for ${name}:  No such device`);
  const inSyncOthers = array.members.filter((other) => other !== member && other.role === 'sync');
  // raid1_error: md keeps the last member that holds the data.
  if (member.role === 'sync' && inSyncOthers.length === 0) {
    throw fail(`set device faulty failed for ${name}:  ${EBUSY}`, EXIT_BUSY);
  }
  if (member.role === 'rebuilding') array.sync = null;
  member.role = 'faulty';
  member.slot = null;
  array.events += 1;
  array.updatedAt = world.now;
  startRecovery(array, world);
  return `mdadm: set ${name} faulty in ${arrayName}\n`;
}

function hotRemove(array: MdArrayState, arrayName: string, name: string, world: MdadmWorld): string {
  const removable = (member: MdMemberState) => member.role === 'faulty' || member.role === 'spare';
  if (name === 'failed' || name === 'detached') {
    // Members whose device is gone are out already (md-array.ts advance): `detached` finds none.
    const failed = name === 'failed' ? array.members.filter((member) => member.role === 'faulty') : [];
    array.members = array.members.filter((member) => !failed.includes(member));
    return failed.map(() => `mdadm: hot removed ${name} from ${arrayName}\n`).join('');
  }
  const member = memberIn(array, existing(world, name));
  if (!member) throw fail(`hot remove failed for ${name}: No such device or address`);
  if (!removable(member)) throw fail(`hot remove failed for ${name}: ${EBUSY}`);
  array.members = array.members.filter((other) => other !== member);
  array.events += 1;
  array.updatedAt = world.now;
  return `mdadm: hot removed ${name} from ${arrayName}\n`;
}

function hotAdd(state: MdState, array: MdArrayState, name: string, world: MdadmWorld): string {
  const device = existing(world, name);
  if (inAnyArray(state, device)) throw fail(`Cannot open ${name}: ${EBUSY}`);
  const sectors = device.partition?.sectors ?? device.disk.sizeBytes / 512;
  if (componentSectorsOf(sectors) < array.componentSectors) throw fail(`${name} not large enough to join array`);
  // bind_rdev_to_array: a member added to a running array is numbered from raid_disks up.
  let number = array.raidDevices;
  while (array.members.some((member) => member.number === number)) number++;
  array.members.push({ member: refOf(device), number, slot: null, role: 'spare' });
  array.events += 1;
  array.updatedAt = world.now;
  startRecovery(array, world);
  return `mdadm: added ${name}\n`;
}

const MANAGE_OPS: Record<string, 'fail' | 'remove' | 'add'> = {
  '--fail': 'fail',
  '-f': 'fail',
  '--set-faulty': 'fail',
  '--remove': 'remove',
  '-r': 'remove',
  '--add': 'add',
  '-a': 'add',
};

function manage(state: MdState, arrayName: string, args: string[], world: MdadmWorld): string {
  const array = findArray(state, arrayName);
  let op: 'fail' | 'remove' | 'add' | undefined;
  let said = '';
  for (const arg of args) {
    const next = MANAGE_OPS[arg];
    if (next) {
      op = next;
      continue;
    }
    if (op === undefined) throw fail(`${arg} has no action to be performed on it`);
    try {
      if (op === 'fail') said += setFaulty(array, arrayName, arg, world);
      else if (op === 'remove') said += hotRemove(array, arrayName, arg, world);
      else said += hotAdd(state, array, arg, world);
    } catch (error) {
      if (error instanceof ToolError) throw new ToolError(said + error.stderr, error.code);
      throw error;
    }
  }
  return said;
}

function action(state: MdState, args: string[], value: string, world: MdadmWorld): string {
  const [arrayName] = args;
  if (arrayName === undefined) throw fail('No devices given.');
  const array = findArray(state, arrayName);
  if (value === 'idle') {
    if (array.sync?.action === 'check') array.sync = null;
    return '';
  }
  if (value !== 'check') throw fail('action must be one of idle, frozen, check, repair', EXIT_USAGE);
  // md's sync_action refuses while a recovery or resync runs (EBUSY).
  if (array.sync !== null) throw fail(`Count not set action for ${arrayName} to ${value}: ${EBUSY}`);
  array.sync = { action: 'check', start: world.now };
  return '';
}

/** One run of mdadm on `state` (changed in place): what it prints, its exit status. */
export function mdadm(state: MdState, argv: string[], world: MdadmWorld): ToolOutput {
  state.arrays.forEach((array) => advance(array, world));
  const [first, second, ...rest] = argv;
  try {
    if (first === '--create' || first === '-C') {
      if (second === undefined) throw fail('an md device must be given in this mode');
      return { stdout: '', stderr: create(state, second, rest, world), code: 0 };
    }
    if (first === '--detail' || first === '-D') {
      if (second === undefined) throw fail('No devices given.');
      const arrays = [second, ...rest].map((name) => findArray(state, name));
      return { stdout: arrays.map((array) => renderDetail(array, world)).join(''), stderr: '', code: 0 };
    }
    if (first?.startsWith('--action=')) {
      return {
        stdout: '',
        stderr: action(state, argv.slice(1), first.slice('--action='.length), world),
        code: 0,
      };
    }
    const [arrayName, ...ops] = first === '--manage' ? argv.slice(1) : argv;
    if (arrayName === undefined || !arrayName.startsWith('/dev/md')) {
      throw fail('an md device must be given in this mode');
    }
    return { stdout: '', stderr: manage(state, arrayName, ops, world), code: 0 };
  } catch (error) {
    if (error instanceof ToolError) return { stdout: '', stderr: error.stderr, code: error.code };
    throw error;
  }
}

/** An md UUID as mdadm prints it: 128 random bits, four groups of 8 hex digits. */
export function randomMdUuid(): string {
  return (randomBytes(16).toString('hex').match(/.{8}/g) ?? []).join(':');
}

/** Each member by array and number, to tell the ones a run added. */
function memberKeys(state: MdState): Set<string> {
  return new Set(
    state.arrays.flatMap((array) =>
      array.members.map((member) => `${array.name} ${member.number} ${member.member.serial}`),
    ),
  );
}

/** What mdadm writes on a new member: its superblock, 4 KiB into the partition. */
function writeSuperblocks(state: MdState, members: Set<string>, world: MdadmWorld): void {
  for (const array of state.arrays) {
    for (const member of array.members) {
      const device = deviceOf(world.disks, member.member);
      if (members.has(`${array.name} ${member.number} ${member.member.serial}`) || !device) continue;
      const sectors = device.partition?.sectors ?? device.disk.sizeBytes / 512;
      const fd = openSync(devicePath(device), 'r+');
      try {
        writeSync(fd, superblock(array, member, randomBytes(16), sectors), 0, undefined, SUPERBLOCK_OFFSET);
      } finally {
        closeSync(fd);
      }
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const world: MdadmWorld = { ...(await hostMdWorld()), newUuid: randomMdUuid };
  const { state, members, output } = withState<MdState, { state: MdState; members: Set<string>; output: ToolOutput }>(
    MD_STATE,
    EMPTY_MD_STATE,
    (state) => ({ state, members: memberKeys(state), output: mdadm(state, argv, world) }),
  );
  writeSuperblocks(state, members, world);
  process.stdout.write(output.stdout);
  process.stderr.write(output.stderr);
  return output.code;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
