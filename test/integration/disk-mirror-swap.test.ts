// `chaton disk swap <host> --zfs <pool> | --md <array> --device <old>` on the lab's mirrors
// (test/lab/README.md, Disks, ZFS and mdadm): pve1-3 boot from a ZFS mirror rpool made as the
// Proxmox installer makes it, the backup host from an md RAID1 with GRUB on both disks. The disks
// are real images behind loop devices, their tables written by the real sgdisk; zpool, mdadm,
// proxmox-boot-tool and grub-install are stand-ins keeping state (no ZFS or md in this kernel).
// Each swap ends with the mirror whole on the new disk; the healthy disk's partition table is
// byte for byte what it was. Refusals change nothing. Needs root.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { mdMemberRemoved, swapWhenOut, zfsMemberOffline } from '../lab/mirror-swap.js';
import { waitUntil } from '../lab/parallel.js';
import { chaton, freshLab, sandboxEnv, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;

interface SwapJson {
  exitCode: number;
  error: { message: string; hint: string | null } | null;
  swap: {
    host: string;
    kind: string;
    pool: string | null;
    array: string | null;
    outcome: string;
    oldDisk: { serial: string | null } | null;
    newDisk: { serial: string | null } | null;
  };
  phases: { phase: string; outcome: string; detail: string }[];
  problems: string[];
}

function diskSwap(args: string[], opts: { onSpawn?: Parameters<typeof chaton>[1]['onSpawn'] } = {}): Promise<Run> {
  return chaton(['-i', lab.inventoryPath, '--json', 'disk', 'swap', ...args], { env, ...opts });
}

function parsed(run: Run): SwapJson {
  try {
    return JSON.parse(run.stdout) as SwapJson;
  } catch {
    assert.fail(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

async function inHost(host: string, argv: string[]): Promise<string> {
  const result = await lab.run(host, argv);
  assert.equal(result.exitCode, 0, `${argv.join(' ')} on ${host}: ${result.stderr}`);
  return result.stdout;
}

/** The serials of the disks in `host` now, in insertion order. */
async function serials(host: string): Promise<string[]> {
  return (await lab.disks()).filter((d) => d.host === host && d.state === 'inserted').map((d) => d.serial);
}

/** What a refusal must leave as it was: the pool or array as its tool prints it, the journals, the disks. */
async function mirrorState(host: string, tool: string[]) {
  const journals = await lab.run(host, ['sh', '-c', 'ls /var/lib/chaton/journals 2>/dev/null || true']);
  return { tool: await inHost(host, tool), journals: journals.stdout, disks: await serials(host) };
}

/** The partition table's bytes of a disk image: the MBR and primary GPT (LBA 0-33), the backup GPT (last 33). */
async function tableBytes(serial: string): Promise<string> {
  const file = await open(lab.diskImage(serial), 'r');
  try {
    const { size } = await file.stat();
    const head = Buffer.alloc(34 * 512);
    const tail = Buffer.alloc(33 * 512);
    await file.read(head, 0, head.length, 0);
    await file.read(tail, 0, tail.length, size - tail.length);
    return createHash('sha256').update(head).update(tail).digest('hex');
  } finally {
    await file.close();
  }
}

/** sfdisk's view of a disk's partitions (number, start, size, type), and its GPT's own GUID. */
async function layout(host: string, serial: string): Promise<{ parts: string; id: string }> {
  const disk = (await lab.disks()).find((d) => d.serial === serial && d.host === host && d.state === 'inserted');
  assert.ok(disk?.device, `${serial} is not in ${host}`);
  const json = JSON.parse(await inHost(host, ['sfdisk', '-J', `/dev/${disk.device}`])) as {
    partitiontable: { id: string; partitions: { start: number; size: number; type: string }[] };
  };
  const table = json.partitiontable;
  return { parts: table.partitions.map((p) => `${p.start}+${p.size}:${p.type}`).join(' '), id: table.id };
}

/**
 * A swap run with the operator's hands alongside: once the old disk is out of its pool or array,
 * it is pulled and `insert` goes in (a new serial, or the old one put back).
 */
async function swapWithHands(
  args: string[],
  hands: Parameters<typeof swapWhenOut>[1],
): Promise<{ run: SwapJson; swapped: boolean }> {
  const ended = new AbortController();
  const swapped = swapWhenOut(lab, hands, ended.signal);
  const run = parsed(await diskSwap(args));
  ended.abort();
  return { run, swapped: await swapped };
}

async function zpoolStatus(host: string): Promise<string> {
  return inHost(host, ['zpool', 'status', '-P', '-L', 'rpool']);
}

async function mdDetail(): Promise<string> {
  return inHost('backup', ['mdadm', '--detail', '/dev/md0']);
}

before(async () => {
  lab = await freshLab('disk-mirror-swap', 0, { disks: true });
  env = await sandboxEnv();
  // Fast enough for a test, slow enough to see it run.
  await lab.setStorageRates({ resilverBytesPerSecond: 256 * 1024 ** 2, syncBytesPerSecond: 256 * 1024 ** 2 });
});

after(async () => {
  await lab?.down();
});

describe('disk swap --zfs and --md', { timeout: 15 * 60_000 }, () => {
  it('refuses, changing nothing: the other side offline, a resync running, a smaller disk, no --new-device', async () => {
    const [a, b] = await serials('pve2');
    const before = await mirrorState('pve2', ['zpool', 'status', '-P', '-L', 'rpool']);
    const bDisk = (await lab.disks()).find((d) => d.serial === b);
    await inHost('pve2', ['zpool', 'offline', 'rpool', `/dev/${bDisk?.device}p3`]);
    const degraded = await mirrorState('pve2', ['zpool', 'status', '-P', '-L', 'rpool']);
    let run = parsed(await diskSwap(['-y', 'pve2', '--zfs', 'rpool', '--device', a!, '--new-device', 'NOPE']));
    assert.equal(run.exitCode, 3, JSON.stringify(run));
    assert.equal(run.swap.outcome, 'refused');
    assert.match(run.problems.join('\n'), /no healthy|not healthy|OFFLINE/);
    assert.deepEqual(await mirrorState('pve2', ['zpool', 'status', '-P', '-L', 'rpool']), degraded);
    await inHost('pve2', ['zpool', 'online', 'rpool', `/dev/${bDisk?.device}p3`]);
    await waitUntil(async () => !/resilver in progress/.test(await zpoolStatus('pve2')), 60_000, 300);

    // A new disk smaller than the healthy side: refused before anything is taken out.
    const small = await lab.diskInsert('pve2', { sizeGiB: 4 });
    run = parsed(await diskSwap(['-y', 'pve2', '--zfs', 'rpool', '--device', a!, '--new-device', small]));
    assert.equal(run.exitCode, 3, JSON.stringify(run));
    assert.match(run.problems.join('\n'), /smaller than/);
    await lab.diskPull('pve2', small);
    assert.deepEqual((await mirrorState('pve2', ['zpool', 'status', '-P', '-L', 'rpool'])).tool, before.tool);

    // Without a terminal: the new disk and --yes must be on the command line.
    run = parsed(await diskSwap(['pve2', '--zfs', 'rpool', '--device', a!]));
    assert.equal(run.exitCode, 2, JSON.stringify(run));

    // md: a member rebuilding; the other one may not be taken out.
    const [m1, m2] = await serials('backup');
    await lab.setStorageRates({ syncBytesPerSecond: 8 * 1024 ** 2 });
    const m2Disk = (await lab.disks()).find((d) => d.serial === m2);
    const member = `/dev/${m2Disk?.device}p2`;
    await inHost('backup', ['mdadm', '--manage', '/dev/md0', '--fail', member]);
    await inHost('backup', ['mdadm', '--manage', '/dev/md0', '--remove', member]);
    await inHost('backup', ['mdadm', '--manage', '/dev/md0', '--add', member]);
    const rebuilding = await mirrorState('backup', ['mdadm', '--detail', '/dev/md0']);
    assert.match(rebuilding.tool, /recovering|Rebuild Status/);
    run = parsed(await diskSwap(['-y', 'backup', '--md', 'md0', '--device', m1!, '--new-device', 'NOPE']));
    assert.equal(run.exitCode, 3, JSON.stringify(run));
    assert.equal(run.swap.outcome, 'refused');
    assert.deepEqual((await mirrorState('backup', ['mdadm', '--detail', '/dev/md0'])).journals, rebuilding.journals);
    await lab.setStorageRates({ syncBytesPerSecond: 256 * 1024 ** 2 });
    assert.ok(await waitUntil(async () => /State : clean\s*$/m.test(await mdDetail()), 60_000, 300));
  });

  it('--dry-run prints the plan, FROM the healthy disk TO the new one, and changes nothing', async () => {
    const [a, b] = await serials('pve3');
    const before = await mirrorState('pve3', ['zpool', 'status', '-P', '-L', 'rpool']);
    const run = await chaton(
      ['-i', lab.inventoryPath, '--dry-run', 'disk', 'swap', 'pve3', '--zfs', 'rpool', '--device', a!],
      { env },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const bLinks = (await lab.disks()).find((d) => d.serial === b)?.byId ?? [];
    const printed = run.stdout + run.stderr;
    assert.match(printed, /zpool offline rpool \/dev\/loop\d+p3\n/);
    assert.ok(
      bLinks.some((link) => printed.includes(`sgdisk /dev/disk/by-id/${link} -R`)),
      `the copy must read the healthy disk ${b}:\n${printed}`,
    );
    assert.match(printed, /sgdisk -G /);
    // The old member, the new disk's partition 3 (its by-id link, named by the serial to come).
    assert.match(printed, /zpool replace -f rpool \/dev\/loop\d+p3 /);
    assert.match(printed, /proxmox-boot-tool format /);
    assert.deepEqual(await mirrorState('pve3', ['zpool', 'status', '-P', '-L', 'rpool']), before);
  });

  it('swaps a boot disk of rpool: the table copied the right way, ESP made, resilvered; then unchanged', async () => {
    const [old, healthy] = await serials('pve1');
    const healthyTable = await tableBytes(healthy!);
    const bootBefore = await inHost('pve1', ['proxmox-boot-tool', 'status']);
    const args = ['-y', 'pve1', '--zfs', 'rpool', '--device', old!, '--new-device', 'NEWZ0001'];
    const out = () => zfsMemberOffline(lab, 'pve1', old!);
    const { run, swapped } = await swapWithHands(args, {
      host: 'pve1',
      oldSerial: old!,
      insert: { serial: 'NEWZ0001', sizeGiB: 8 },
      out,
    });
    assert.equal(run.exitCode, 0, JSON.stringify(run));
    assert.ok(swapped);
    assert.equal(run.swap.outcome, 'swapped');
    assert.equal(run.swap.kind, 'zfs');
    assert.equal(run.swap.newDisk?.serial, 'NEWZ0001');
    assert.deepEqual(
      run.phases.map((p) => p.phase),
      ['identify', 'preflight', 'takeout', 'swap', 'partition', 'attach', 'boot', 'rebuild'],
    );
    // The healthy disk's table, byte for byte; the new one has its layout and GUIDs of its own.
    assert.equal(await tableBytes(healthy!), healthyTable);
    const source = await layout('pve1', healthy!);
    const copy = await layout('pve1', 'NEWZ0001');
    assert.equal(copy.parts, source.parts);
    assert.notEqual(copy.id, source.id);
    const status = await zpoolStatus('pve1');
    assert.match(status, /state: ONLINE/);
    const newDisk = (await lab.disks()).find((d) => d.serial === 'NEWZ0001');
    assert.match(status, new RegExp(`/dev/${newDisk?.device}p3\\s+ONLINE`));
    // Two ESPs kept in sync again, the new one among them; the old one's UUID forgotten.
    const boot = await inHost('pve1', ['proxmox-boot-tool', 'status']);
    assert.equal(boot.match(/ is configured with: /g)?.length, 2, boot);
    assert.notEqual(boot, bootBefore);
    assert.doesNotMatch(boot, /does not exist/);

    const again = parsed(
      await diskSwap(['-y', 'pve1', '--zfs', 'rpool', '--device', old!, '--new-device', 'NEWZ0001']),
    );
    assert.equal(again.exitCode, 0, JSON.stringify(again));
    assert.equal(again.swap.outcome, 'unchanged');
  });

  it('waits a bounded time, refuses the old disk put back; Ctrl-C during the resilver; the same command finishes', async () => {
    const [old] = await serials('pve2');
    const oldTable = await tableBytes(old!);
    // The new disk has not come: taken out, the pool waits on its healthy side (exit 3, nothing lost).
    // Meanwhile a second run of the same swap is refused: the first one holds the pool's lock.
    const waiting = diskSwap([
      '-y',
      'pve2',
      '--zfs',
      'rpool',
      '--device',
      old!,
      '--new-device',
      'NOT-YET',
      '--swap-timeout',
      '15s',
    ]);
    assert.ok(await waitUntil(() => zfsMemberOffline(lab, 'pve2', old!), 60_000, 300), 'never taken out');
    const second = parsed(
      await diskSwap(['-y', 'pve2', '--zfs', 'rpool', '--device', old!, '--new-device', 'NOT-YET']),
    );
    assert.equal(second.exitCode, 3, JSON.stringify(second));
    assert.match(second.error?.message ?? '', /disk-swap-zfs-rpool/);
    const waited = parsed(await waiting);
    assert.equal(waited.exitCode, 3, JSON.stringify(waited));
    assert.match(waited.error?.message ?? '', /waiting for disk NOT-YET in pve2/);
    assert.ok(await zfsMemberOffline(lab, 'pve2', old!));
    // The operator pulls the old disk and puts it back: refused as the new one, and not written to.
    await lab.diskPull('pve2', old!);
    await lab.diskInsert('pve2', { serial: old! });
    const putBack = parsed(await diskSwap(['-y', 'pve2', '--zfs', 'rpool', '--device', old!, '--new-device', old!]));
    assert.equal(putBack.exitCode, 3, JSON.stringify(putBack));
    assert.match(putBack.problems.join('\n'), new RegExp(old!));
    assert.equal(await tableBytes(old!), oldTable);

    await lab.diskPull('pve2', old!);
    await lab.diskInsert('pve2', { serial: 'NEWZ0002', sizeGiB: 8 });
    await lab.setStorageRates({ resilverBytesPerSecond: 16 * 1024 ** 2 });
    const swapArgs = ['-y', 'pve2', '--zfs', 'rpool', '--device', old!, '--new-device', 'NEWZ0002'];
    let child: ChildProcess | undefined;
    const interrupted = diskSwap(swapArgs, { onSpawn: (spawned) => (child = spawned) });
    // Once the new ESP is kept by proxmox-boot-tool (the boot step done), during the resilver.
    const resilvering = async () =>
      /resilver in progress/.test(await zpoolStatus('pve2')) &&
      !/does not exist/.test(await inHost('pve2', ['proxmox-boot-tool', 'status']));
    assert.ok(await waitUntil(resilvering, 120_000, 300), 'the resilver never started');
    child?.kill('SIGINT');
    const stopped = parsed(await interrupted);
    assert.equal(stopped.exitCode, 130, JSON.stringify(stopped));
    assert.equal(stopped.swap.outcome, 'interrupted');
    await lab.setStorageRates({ resilverBytesPerSecond: 256 * 1024 ** 2 });
    const resumed = parsed(await diskSwap(swapArgs));
    assert.equal(resumed.exitCode, 0, JSON.stringify(resumed));
    assert.equal(resumed.swap.outcome, 'resumed');
    assert.equal(resumed.phases.find((p) => p.phase === 'partition')?.outcome, 'earlier');
    assert.match(await zpoolStatus('pve2'), /state: ONLINE/);
  });

  it('swaps a member of md0 with GRUB on it', async () => {
    const [old] = await serials('backup');
    const args = ['-y', 'backup', '--md', 'md0', '--device', old!, '--new-device', 'NEWMD001'];
    const out = () => mdMemberRemoved(lab, 'backup', old!);
    const { run, swapped } = await swapWithHands(args, {
      host: 'backup',
      oldSerial: old!,
      insert: { serial: 'NEWMD001', sizeGiB: 4 },
      out,
    });
    assert.equal(run.exitCode, 0, JSON.stringify(run));
    assert.ok(swapped);
    assert.equal(run.swap.outcome, 'swapped');
    assert.equal(run.swap.array, '/dev/md0');
    assert.match(run.phases.find((p) => p.phase === 'boot')?.detail ?? '', /GRUB installed/);
    const detail = await mdDetail();
    const newDisk = (await lab.disks()).find((d) => d.serial === 'NEWMD001');
    assert.match(detail, /State : clean\s*$/m);
    assert.match(detail, new RegExp(`active sync\\s+/dev/${newDisk?.device}p2`));
  });
});
