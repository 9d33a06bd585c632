// `chaton disk swap <host> --osd <id>` on the lab's REAL Ceph Pacific cluster (test/lab/README.md,
// Ceph): three swaps, each with what goes wrong on the way in a volunteer's night (a disk put back,
// old metadata on the new one, ceph-volume failing half-way, Ctrl-C during the backfill, recovery
// stalling, the laptop gone mid-drain), each ending with the cluster HEALTH_OK and every object
// written before read back with its checksum. Refusals change nothing. Needs root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Lab } from '../lab/lab.js';
import { waitUntil } from '../lab/parallel.js';
import { CHATON, chaton, freshLab, sandboxEnv, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;

interface SwapJson {
  exitCode: number;
  error: { message: string; hint: string | null } | null;
  swap: {
    host: string;
    osd: number;
    outcome: string;
    oldDisk: { device: string; serial: string | null; byId: string[]; smartPassed: boolean | null } | null;
    newDisk: { device: string; serial: string | null } | null;
  };
  phases: { phase: string; outcome: string; durationMs: number; detail: string }[];
  problems: string[];
}

function diskSwap(args: string[], options: { env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void } = {}) {
  return chaton(['-i', lab.inventoryPath, '--json', 'disk', 'swap', ...args], {
    env: options.env ?? env,
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
  });
}

function parsed(run: Run): SwapJson {
  try {
    return JSON.parse(run.stdout) as SwapJson;
  } catch {
    assert.fail(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

/**
 * A swap run at a terminal of its own (script(1)), answering its questions as a person types:
 * each answer once its question shows, in order.
 */
function atTerminal(args: string[], answers: [RegExp, string][]): Promise<{ code: number | null; screen: string }> {
  const line = [process.execPath, CHATON, '-i', lab.inventoryPath, 'disk', 'swap', ...args].join(' ');
  const argv = ['--quiet', '--flush', '--return', '--command', `stty cols 120 rows 40 && ${line}`, '/dev/null'];
  return new Promise((resolve, reject) => {
    const child = spawn('script', argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    const left = [...answers];
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      const next = left[0];
      if (next && next[0].test(screen)) {
        left.shift();
        child.stdin.write(`${next[1]}\r`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

async function ceph(args: string[], host = 'pve2'): Promise<string> {
  const result = await lab.run(host, ['ceph', ...args]);
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout;
}

async function cephJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await ceph([...args, '-f', 'json'])) as T;
}

interface OsdDumpJson {
  flags: string;
  osds: { osd: number; up: number; in: number; state: string[] }[];
}
interface TreeJson {
  nodes: { id: number; name: string; type: string; status?: string; device_class?: string; children?: number[] }[];
}

/** What a refusal must leave as it was: OSDs, their flags, the lock, the journals. */
async function clusterState() {
  const dump = await cephJson<OsdDumpJson>(['osd', 'dump']);
  const lock = await lab.run('pve1', ['ceph', 'config-key', 'get', 'chaton/disk-swap/lock']);
  const journals = await lab.run('pve1', ['sh', '-c', 'ls /var/lib/chaton/journals 2>/dev/null || true']);
  return {
    flags: dump.flags,
    osds: dump.osds.map((o) => `${o.osd} up=${o.up} in=${o.in} ${[...o.state].sort().join(',')}`),
    lock: lock.exitCode,
    journals: journals.stdout,
  };
}

async function healthy(): Promise<boolean> {
  const status = await cephJson<{
    health: { status: string };
    pgmap: { num_pgs: number; pgs_by_state: { state_name: string; count: number }[] };
  }>(['status']);
  const clean = status.pgmap.pgs_by_state.find((s) => s.state_name === 'active+clean')?.count ?? 0;
  return status.health.status === 'HEALTH_OK' && clean === status.pgmap.num_pgs;
}

/** Every object written when the lab came up, read back with the checksum it was written with. */
async function objectsIntact(): Promise<void> {
  const objects = await lab.cephObjects();
  const script = 'for o in "$@"; do rados -p rbd get "$o" - | sha256sum | cut -d" " -f1; done';
  const result = await lab.run('pve3', ['sh', '-c', script, 'sh', ...objects.map((o) => o.name)]);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.deepEqual(
    result.stdout.trim().split('\n'),
    objects.map((o) => o.sha256),
  );
}

/** How osd.5's journal writer shows in ps: `sh -c <script> sh /var/lib/chaton/journals disk-swap-ceph-osd.5`. */
const JOURNAL_WRITER = 'journals disk-swap-ceph-osd[.]5$';

/** Waits for `check` while `run` goes on: a run that ends first fails the test with what it said. */
async function untilWhile(run: Promise<Run>, what: string, check: () => Promise<boolean>): Promise<void> {
  let ended: Run | undefined;
  void run.then((result) => (ended = result));
  await until(what, async () => {
    if (ended) assert.fail(`the run ended before ${what}: exit ${ended.code}\n${ended.stdout}\n${ended.stderr}`);
    return check();
  });
}

/** When the journal on pve3 last recorded osd.5's drain as started (0: not yet). */
async function drainStartedAt(): Promise<number> {
  const read = await lab.run('pve3', ['cat', '/var/lib/chaton/journals/disk-swap-ceph-osd.5.json']);
  if (read.exitCode !== 0) return 0;
  const journal = JSON.parse(read.stdout) as { steps: { name: string; started?: string }[] };
  return Date.parse(journal.steps.find((step) => step.name === 'drain')?.started ?? '') || 0;
}

interface PgScrub {
  scrubbing: boolean;
  /** When its last deep scrub ended. */
  stamp: string;
}

/**
 * Every PG as the manager's PG map has it, the map the swap's checks read (`pg stat`, `pgs_brief`;
 * it shows a scrub seconds after the OSD does): id, objects, scrubbing, and when it was last
 * deep-scrubbed.
 */
async function pgScrubs(): Promise<({ id: string; objects: number } & PgScrub)[]> {
  const dump = await cephJson<{
    pg_stats: { pgid: string; state: string; last_deep_scrub_stamp: string; stat_sum: { num_objects: number } }[];
  }>(['pg', 'dump', 'pgs']);
  return dump.pg_stats.map((pg) => ({
    id: pg.pgid,
    objects: pg.stat_sum.num_objects,
    scrubbing: pg.state.split('+').includes('scrubbing'),
    stamp: pg.last_deep_scrub_stamp,
  }));
}

async function scrubOf(pgid: string): Promise<PgScrub> {
  const pg = (await pgScrubs()).find((candidate) => candidate.id === pgid)!;
  return { scrubbing: pg.scrubbing, stamp: pg.stamp };
}

async function osdStatus(id: number): Promise<string | undefined> {
  const tree = await cephJson<TreeJson>(['osd', 'tree']);
  return tree.nodes.find((n) => n.id === id)?.status;
}

async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  assert.ok(await waitUntil(check, ms, 500), `timed out waiting for ${what}`);
}

/** The old disk's serial of an OSD, from the lab's registry (the disk holding its data). */
async function serialOf(host: string, device: string): Promise<string> {
  const disk = (await lab.disks()).find((d) => d.host === host && d.device === device && d.state === 'inserted');
  assert.ok(disk, `no disk ${device} in ${host}`);
  return disk.serial;
}

before(async () => {
  lab = await freshLab('disk-swap', 0, { ceph: true });
  env = await sandboxEnv();
});
after(async () => {
  await lab?.down();
});

describe('disk swap: bad input and refusals change nothing', { timeout: 600_000 }, () => {
  it('refuses a bad --osd, an unknown host, a host without Ceph, no --new-device without a terminal (exit 2)', async () => {
    const before = await clusterState();
    for (const [args, pattern] of [
      [['pve1', '--osd', 'one', '--new-device', 'X', '-y'], /--osd must be an OSD id/],
      [['nosuch', '--osd', '1', '--new-device', 'X', '-y'], /no host nosuch in/],
      [['backup', '--osd', '1', '--new-device', 'X', '-y'], /backup has no role ceph/],
      [['pve1', '--osd', '1'], /without a terminal nobody can type the new serial/],
    ] as [string[], RegExp][]) {
      const run = await diskSwap(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
    }
    assert.deepEqual(await clusterState(), before);
  });

  it('refuses an OSD of another host, an unknown OSD, another OSD down and a drain past nearfull (exit 3)', async () => {
    const before = await clusterState();
    const other = parsed(await diskSwap(['pve1', '--osd', '3', '--new-device', 'X', '-y']));
    assert.equal(other.exitCode, 3);
    assert.match(other.problems.join('\n'), /osd\.3 lives on pve2, not on pve1/);
    const unknown = parsed(await diskSwap(['pve1', '--osd', '42', '--new-device', 'X', '-y']));
    assert.equal(unknown.exitCode, 3);
    assert.match(unknown.problems.join('\n'), /osd\.42 does not exist in this cluster/);

    await lab.run('pve3', ['systemctl', 'stop', 'ceph-osd@4']);
    await until('osd.4 down', async () => (await osdStatus(4)) === 'down');
    const down = parsed(await diskSwap(['pve1', '--osd', '1', '--new-device', 'X', '-y']));
    assert.equal(down.exitCode, 3);
    assert.match(down.problems.join('\n'), /other OSDs are down or destroyed \(osd\.4 down\)/);
    await lab.run('pve3', ['systemctl', 'start', 'ceph-osd@4']);
    await until('healthy again', healthy, 240_000);

    // A nearfull ratio between osd.0's use now and its use once osd.1's data joins it.
    const df = await cephJson<{ nodes: { id: number; kb: number; kb_used: number; kb_used_data: number }[] }>([
      'osd',
      'df',
    ]);
    const [osd0, osd1] = [0, 1].map((id) => df.nodes.find((n) => n.id === id)!);
    const now = osd0!.kb_used / osd0!.kb;
    const after = (osd0!.kb_used + osd1!.kb_used_data) / osd0!.kb;
    await ceph(['osd', 'set-nearfull-ratio', ((now + after) / 2).toFixed(4)]);
    const full = parsed(await diskSwap(['pve1', '--osd', '1', '--new-device', 'X', '-y']));
    await ceph(['osd', 'set-nearfull-ratio', '0.85']);
    assert.equal(full.exitCode, 3);
    assert.match(full.problems.join('\n'), /draining osd\.1 moves .*: osd\.0 from .* would pass the nearfull ratio/);
    // The test's own low ratio marked OSDs nearfull in the map; the monitors clear it a moment later.
    await until('no OSD nearfull', async () =>
      (await cephJson<OsdDumpJson>(['osd', 'dump'])).osds.every((o) => !o.state.includes('nearfull')),
    );
    const state = await clusterState();
    assert.deepEqual(state, before);
  });

  it('is not held back by a scrub: a PG deep-scrubbing is clean, and the plan passes its preflight', async () => {
    const before = await clusterState();
    // One PG's deep scrub, slowed down to outlast the plan: Ceph sleeps osd_scrub_sleep before each
    // chunk, of 3 objects at least, so a PG of 3 objects or fewer (the lab's: 16 in 32 PGs) scrubs
    // for one sleep. A real cluster deep-scrubs every PG weekly: nearly always some PG.
    const pools = await cephJson<{ pool_name: string; pool_id: number }[]>(['osd', 'pool', 'ls', 'detail']);
    const rbd = `${pools.find((p) => p.pool_name === 'rbd')!.pool_id}.`;
    const [pg] = (await pgScrubs()).filter((p) => p.id.startsWith(rbd)).sort((a, b) => b.objects - a.objects);
    const slow = { osd_scrub_sleep: '45', osd_scrub_chunk_min: '1', osd_scrub_chunk_max: '1' };
    let requested = false;
    const cleanUp = async () => {
      for (const key of Object.keys(slow)) await ceph(['config', 'rm', 'osd', key]);
      const done = async () => (await scrubOf(pg!.id)).stamp !== pg!.stamp;
      if (requested) await until(`PG ${pg!.id} deep-scrubbed`, done);
      await until('healthy again', healthy);
    };
    let plan: SwapJson;
    let during: PgScrub[];
    try {
      for (const [key, value] of Object.entries(slow)) await ceph(['config', 'set', 'osd', key, value]);
      await ceph(['pg', 'deep-scrub', pg!.id]);
      requested = true;
      await until(`PG ${pg!.id} deep-scrubbing`, async () => (await scrubOf(pg!.id)).scrubbing);
      const first = await scrubOf(pg!.id);
      plan = parsed(await diskSwap(['pve2', '--osd', '3', '--dry-run']));
      during = [first, await scrubOf(pg!.id)];
    } catch (error) {
      // The test's own error first; the clean-up's, if any, would only hide it.
      await cleanUp().catch(() => undefined);
      throw error;
    }
    await cleanUp();
    // Still the same scrub once the plan was made (a new one would have a new stamp): it saw it.
    assert.deepEqual(
      during.map((d) => d.scrubbing),
      [true, true],
    );
    assert.equal(during[1]!.stamp, during[0]!.stamp);
    assert.deepEqual(plan.problems, []);
    assert.equal(plan.exitCode, 0);
    assert.equal(plan.phases.find((p) => p.phase === 'preflight')?.outcome, 'done');
    assert.deepEqual(await clusterState(), before);
  });
});

describe(
  'disk swap: osd.1 of pve1, the old disk put back, then a new one with old LVM metadata',
  { timeout: 600_000 },
  () => {
    it('waits a bounded time for the new disk, refuses the old one put back, then swaps onto a disk with LVM', async () => {
      const meta = await cephJson<{ devices: string }>(['osd', 'metadata', '1']);
      const oldSerial = await serialOf('pve1', meta.devices);
      // The new disk has not come: drained and destroyed, the OSD waits for it (exit 3, nothing lost).
      const waited = parsed(
        await diskSwap(['pve1', '--osd', '1', '--new-device', 'NOT-YET', '-y', '--swap-timeout', '5s']),
      );
      assert.equal(waited.exitCode, 3, waited.error?.message);
      assert.match(waited.error?.message ?? '', /waiting for disk NOT-YET in pve1/);
      assert.equal(await osdStatus(1), 'destroyed');
      assert.equal(waited.swap.oldDisk?.serial, oldSerial);
      assert.equal((await lab.diskLeds())[oldSerial], true, "the old disk's locate LED is lit");
      // The operator pulls the old disk and puts it back: it is refused as the new one, and not touched.
      await lab.diskPull('pve1', oldSerial);
      await lab.diskInsert('pve1', { serial: oldSerial });
      const refused = parsed(await diskSwap(['pve1', '--osd', '1', '--new-device', oldSerial, '-y']));
      assert.equal(refused.exitCode, 3, refused.error?.message);
      assert.match(refused.problems.join('\n'), new RegExp(oldSerial));
      const label = await lab.run('pve1', [
        'blkid',
        '-p',
        '-o',
        'value',
        '-s',
        'TYPE',
        `/dev/disk/by-id/${(await lab.disks()).find((d) => d.serial === oldSerial)!.byId[0]}`,
      ]);
      assert.equal(label.stdout.trim(), 'ceph_bluestore', 'the old disk keeps its data');

      // At a terminal, the new disk (old LVM on it) must be named by the serial on its label:
      // a wrong one is refused and nothing is written to it; the right one, and the swap goes on.
      const serial = await lab.diskInsert('pve1', { metadata: 'lvm' });
      const question = /type the serial on its label to use it/;
      const wrong = await atTerminal(['pve1', '--osd', '1'], [[question, 'WRONG1']]);
      assert.equal(wrong.code, 3, wrong.screen);
      assert.match(wrong.screen, new RegExp(`typed "WRONG1", but the new disk's serial is ${serial}`));
      const byId = (await lab.disks()).find((d) => d.serial === serial)!.byId[0];
      const kept = await lab.run('pve1', ['blkid', '-p', '-o', 'value', '-s', 'TYPE', `/dev/disk/by-id/${byId}`]);
      assert.equal(kept.stdout.trim(), 'LVM2_member', 'nothing written to a disk not confirmed');
      const typed = await atTerminal(['pve1', '--osd', '1'], [[question, serial]]);
      assert.equal(typed.code, 0, typed.screen);
      assert.match(typed.screen, /osd\.1 on pve1: the swap left half-way is finished, the cluster is healthy/);
      const run = parsed(await diskSwap(['pve1', '--osd', '1', '--new-device', serial, '-y']));
      assert.equal(run.swap.outcome, 'unchanged');
      assert.equal(await osdStatus(1), 'up');
      assert.equal((await lab.diskLeds())[oldSerial], false, 'the LED is off once the new disk is in');
      const tree = await cephJson<TreeJson>(['osd', 'tree']);
      const pve1 = tree.nodes.find((n) => n.name === 'pve1');
      assert.ok(pve1?.children?.includes(1), 'osd.1 back under pve1 in CRUSH');
      assert.ok(await healthy());
      const state = await clusterState();
      assert.equal(state.lock, 2, 'the lock is released');
      assert.equal(state.flags.includes('noout'), false);
      assert.ok(state.osds.every((o) => !o.includes('noout')));
      await objectsIntact();
    });

    it('again, without naming a disk: unchanged (the OSD is on the disk the swap put in)', async () => {
      const run = parsed(await diskSwap(['pve1', '--osd', '1']));
      assert.equal(run.exitCode, 0, run.error?.message);
      assert.equal(run.swap.outcome, 'unchanged');
      assert.deepEqual(
        run.phases.map((p) => p.phase),
        ['identify'],
      );
    });
  },
);

describe(
  'disk swap: osd.3 of pve2, ceph-volume failing half-way, Ctrl-C during the backfill',
  { timeout: 600_000 },
  () => {
    it('puts back the entry the rollback purged, then the same command retries and finishes', async () => {
      const serial = await lab.diskInsert('pve2', { metadata: 'gpt' });
      await lab.setCephFaults({ cephVolumeFailActivate: 1 });
      const failed = parsed(await diskSwap(['pve2', '--osd', '3', '--new-device', serial, '-y']));
      assert.equal(failed.exitCode, 1, failed.error?.message);
      assert.match(failed.error?.message ?? '', /ceph-volume could not create osd\.3/);
      assert.match(failed.error?.hint ?? '', /its entry \(id, CRUSH place, class\) is back, destroyed/);
      const tree = await cephJson<TreeJson>(['osd', 'tree']);
      const osd3 = tree.nodes.find((n) => n.id === 3);
      assert.equal(osd3?.status, 'destroyed');
      assert.equal(osd3?.device_class, 'ssd');
      assert.ok(tree.nodes.find((n) => n.name === 'pve2')?.children?.includes(3));

      // The retry, interrupted once the backfill has started, then the same command again.
      let child: ChildProcess | undefined;
      const interrupted = diskSwap(['pve2', '--osd', '3', '--new-device', serial, '-y'], {
        onSpawn: (spawned) => (child = spawned),
      });
      await until('osd.3 up', async () => (await osdStatus(3)) === 'up', 300_000);
      child!.kill('SIGINT');
      const stopped = parsed(await interrupted);
      assert.equal(stopped.exitCode, 130);
      const run = parsed(await diskSwap(['pve2', '--osd', '3', '--new-device', serial, '-y']));
      assert.equal(run.exitCode, 0, `${run.error?.message}\n${run.error?.hint}`);
      assert.equal(run.swap.outcome, 'resumed');
      // What the first two runs did is not done again; what the interrupted one had not finished is.
      const outcome = (phase: string) => run.phases.find((p) => p.phase === phase)?.outcome;
      assert.deepEqual(['identify', 'preflight', 'drain', 'destroy', 'swap', 'backfill', 'finish'].map(outcome), [
        'earlier',
        'earlier',
        'earlier',
        'earlier',
        'earlier',
        'done',
        'done',
      ]);
      // Created by the interrupted run (or, interrupted while ceph-volume ended, checked and recorded now).
      assert.ok(['earlier', 'done'].includes(outcome('create') ?? ''));
      assert.ok(await healthy());
      await objectsIntact();
    });
  },
);

describe('disk swap: osd.5 of pve3, recovery stalled, the laptop gone mid-drain', { timeout: 600_000 }, () => {
  it('stops a drain that makes no progress (nothing destroyed), refuses a second swap meanwhile', async () => {
    // Slow recovery so that the test sees the drain start; then the flags freeze it.
    await ceph(['config', 'set', 'osd', 'osd_recovery_sleep', '1']);
    const run = diskSwap(['pve3', '--osd', '5', '--new-device', 'NOT-YET', '-y', '--stall-timeout', '10s']);
    await until('osd.5 out', async () => {
      const dump = await cephJson<OsdDumpJson>(['osd', 'dump']);
      return dump.osds.find((o) => o.osd === 5)?.in === 0;
    });
    await ceph(['osd', 'set', 'nobackfill']);
    await ceph(['osd', 'set', 'norecover']);
    const stalled = parsed(await run);
    assert.equal(stalled.exitCode, 1, stalled.error?.message);
    assert.equal(stalled.swap.outcome, 'stalled');
    assert.match(stalled.error?.message ?? '', /drain of osd\.5 made no progress for 10 s/);
    assert.match(stalled.error?.hint ?? '', /nothing is destroyed/);
    assert.equal(await osdStatus(5), 'up');

    const second = parsed(await diskSwap(['pve1', '--osd', '0', '--new-device', 'X', '-y']));
    assert.equal(second.exitCode, 3);
    assert.match(second.problems.join('\n'), /another disk swap is in progress on this cluster: osd\.5 on pve3/);
  });

  it('continues from another laptop only with --resume, after the first one died mid-drain', async () => {
    // The drain stays frozen by the previous test's nobackfill and norecover until the sessions are
    // cut: the cut must find the resumed run polling the drain. (norebalance, set once those went,
    // let moves already reserved finish: the drain could end first, and on CI the cut hit the stop.)
    // This laptop's run takes the drain up again (its start journaled on pve3), and dies there
    // (SIGKILL: no goodbye).
    let child: ChildProcess | undefined;
    const dyingFrom = Date.now();
    const dying = diskSwap(['pve3', '--osd', '5', '--new-device', 'NOT-YET', '-y'], {
      onSpawn: (spawned) => (child = spawned),
    });
    await untilWhile(dying, 'the first run in its drain', async () => (await drainStartedAt()) >= dyingFrom);
    child!.kill('SIGKILL');
    await dying;
    await ceph(['config', 'rm', 'osd', 'osd_recovery_sleep']);
    const elsewhere = { ...(await sandboxEnv()), SUDO_USER: 'bob' };
    const serial = await lab.diskInsert('pve3');
    const refused = parsed(await diskSwap(['pve3', '--osd', '5', '--new-device', serial, '-y'], { env: elsewhere }));
    assert.equal(refused.exitCode, 3);
    assert.match(refused.problems.join('\n'), /held by .* continue it with --resume/);
    // The resumed run takes the lock over in bob's name and the drain up again, then polls it; its
    // SSH sessions to pve3 are cut then (sshd's session processes killed, as a dropped link does):
    // the polls go on, the run finishes. (A cut during a change, e.g. a journal write, is another
    // story: its fate unknown, the run stops and says so.)
    const resumedFrom = Date.now();
    const resumed = diskSwap(['pve3', '--osd', '5', '--new-device', serial, '-y', '--resume'], { env: elsewhere });
    await until('the lock taken over by the resumed run', async () =>
      (await lab.run('pve1', ['ceph', 'config-key', 'get', 'chaton/disk-swap/lock'])).stdout.includes('bob'),
    );
    await untilWhile(resumed, 'the resumed run in its drain', async () => (await drainStartedAt()) >= resumedFrom);
    // The journal is in place before its writer syncs and ends: the cut waits for its end, then a
    // moment for its exit status to reach chaton (a cut before that would leave its fate unknown).
    await until(
      'the journal written',
      async () => (await lab.run('pve3', ['pgrep', '-f', JOURNAL_WRITER])).exitCode === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cut = await lab.run('pve3', ['pkill', '-f', '^sshd: root@notty']);
    assert.equal(cut.exitCode, 0, 'a session of chaton was cut');
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await ceph(['osd', 'unset', 'nobackfill']);
    await ceph(['osd', 'unset', 'norecover']);
    const run = parsed(await resumed);
    assert.equal(run.exitCode, 0, `${run.error?.message}\n${run.error?.hint}`);
    assert.equal(run.swap.outcome, 'resumed');
    assert.equal(run.phases.find((p) => p.phase === 'drain')?.outcome, 'done');
    assert.ok(await healthy());
    await objectsIntact();
  });
});
