// Records what the real Ceph (Debian 12's Pacific) prints on the lab's cluster, in the states a
// disk swap (issue 14) goes through, into test/unit/fixtures/ceph/ for the parsers' unit tests:
// one file per output stream that says something, an index (captures.json) with each state,
// command and exit code, and a README.md. The states, in order: healthy; osd.1 scoped noout and
// out, draining (the first status with misplaced or degraded objects), then drained; osd.4 down
// as well (its daemon stopped); osd.4 back, osd.1 stopped and destroyed.
//   npm run build && node dist/test/lab/capture-ceph-fixtures.js [--name LAB]
// Needs root; brings its Ceph lab up and down (default name: $CHATON_LAB_PREFIX + "ceph-capture").
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labDown, labUp, type Lab, type RunResult } from './lab.js';

const OUT = fileURLToPath(new URL('../../../test/unit/fixtures/ceph/', import.meta.url));
/** The host every `ceph` command runs on: any host with the admin key answers the same. */
const ADMIN_HOST = 'pve1';
const WAIT_MS = 90_000;
/** Seconds between two recovery or backfill operations of an OSD while osd.1 drains. */
const RECOVERY_SLEEP_S = 1;

interface Capture {
  /** The files' common stem, e.g. draining-status. */
  name: string;
  state: string;
  what: string;
  command: string;
  exitCode: number;
  /** File names of the streams kept (a stream that printed nothing has none). */
  stdout: string | null;
  stderr: string | null;
}

const captures: Capture[] = [];

function ceph(lab: Lab, args: string[]): Promise<RunResult> {
  return lab.run(ADMIN_HOST, ['ceph', ...args]);
}

async function json(lab: Lab, args: string[]): Promise<Record<string, unknown>> {
  const result = await ceph(lab, [...args, '-f', 'json']);
  if (result.exitCode !== 0) throw new Error(`ceph ${args.join(' ')}: exit ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** Runs `ceph <args>` and keeps its streams as `<state>-<name>`. */
async function capture(lab: Lab, state: string, name: string, what: string, args: string[]): Promise<RunResult> {
  const result = await ceph(lab, args);
  const stem = `${state}-${name}`;
  const keep = async (stream: 'stdout' | 'stderr', text: string): Promise<string | null> => {
    if (text === '') return null;
    const file = `${stem}.${stream}.${stream === 'stdout' && args.includes('json') ? 'json' : 'txt'}`;
    await writeFile(join(OUT, file), text);
    return file;
  };
  captures.push({
    name: stem,
    state,
    what,
    command: ['ceph', ...args].join(' '),
    exitCode: result.exitCode,
    stdout: await keep('stdout', result.stdout),
    stderr: await keep('stderr', result.stderr),
  });
  process.stderr.write(`${stem}: exit ${result.exitCode}\n`);
  return result;
}

/** The commands that read a state; `osd` is the OSD the swap is about. */
async function readState(lab: Lab, state: string, what: string, osd: number): Promise<void> {
  const id = String(osd);
  await capture(lab, state, 'status', what, ['status', '-f', 'json']);
  await capture(lab, state, 'health-detail', what, ['health', 'detail', '-f', 'json']);
  await capture(lab, state, 'osd-tree', what, ['osd', 'tree', '-f', 'json']);
  await capture(lab, state, 'osd-df', what, ['osd', 'df', '-f', 'json']);
  await capture(lab, state, 'pg-stat', what, ['pg', 'stat', '-f', 'json']);
  await capture(lab, state, 'osd-dump', what, ['osd', 'dump', '-f', 'json']);
  await capture(lab, state, `safe-to-destroy-${id}`, what, ['osd', 'safe-to-destroy', id, '-f', 'json']);
  await capture(lab, state, `ok-to-stop-${id}`, what, ['osd', 'ok-to-stop', id, '-f', 'json']);
}

async function until(what: string, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS} ms for ${what}`);
    await sleep(250);
  }
}

interface Pgmap {
  num_pgs: number;
  pgs_by_state: { state_name: string; count: number }[];
  misplaced_objects?: number;
  degraded_objects?: number;
}

async function pgmap(lab: Lab): Promise<Pgmap> {
  return (await json(lab, ['status'])).pgmap as Pgmap;
}

async function allClean(lab: Lab): Promise<boolean> {
  const map = await pgmap(lab);
  return map.pgs_by_state.length === 1 && map.pgs_by_state[0]?.state_name === 'active+clean';
}

async function upOsds(lab: Lab): Promise<number> {
  const status = await json(lab, ['status']);
  const osdmap = status.osdmap as { num_up_osds?: number; osdmap?: { num_up_osds: number } };
  return osdmap.num_up_osds ?? osdmap.osdmap?.num_up_osds ?? -1;
}

async function safeToDestroy(lab: Lab, osd: number): Promise<boolean> {
  const answer = await json(lab, ['osd', 'safe-to-destroy', String(osd)]);
  return (answer.safe_to_destroy as number[]).includes(osd);
}

async function captureAll(lab: Lab): Promise<string> {
  const version = (await ceph(lab, ['version'])).stdout.trim();
  await readState(lab, 'healthy', 'HEALTH_OK, 6 OSDs up and in, every PG active+clean', 1);
  await capture(lab, 'healthy', 'osd-metadata-1', 'osd.1 on pve1', ['osd', 'metadata', '1', '-f', 'json']);
  await capture(lab, 'healthy', 'safe-to-destroy-1-text', 'without -f json', ['osd', 'safe-to-destroy', '1']);
  const lock = 'chaton/disk-swap/lock';
  await capture(lab, 'healthy', 'config-key-get-absent', 'no such key', ['config-key', 'get', lock]);
  await capture(lab, 'healthy', 'config-key-exists-absent', 'no such key', ['config-key', 'exists', lock]);
  const holder = JSON.stringify({ owner: 'alice@laptop', startedAt: '2026-12-02T07:00:00Z', osd: 1 });
  await capture(lab, 'healthy', 'config-key-set', 'a lock taken', ['config-key', 'set', lock, holder]);
  await capture(lab, 'healthy', 'config-key-get', 'the lock read back', ['config-key', 'get', lock]);
  await capture(lab, 'healthy', 'config-key-rm', 'the lock released', ['config-key', 'rm', lock]);

  // Drain osd.1: noout for it alone, then out. The first status showing objects to move. The lab's
  // 64 MiB move within the manager's 5 s statistics period: a recovery sleep makes it last.
  await ceph(lab, ['config', 'set', 'osd', 'osd_recovery_sleep', String(RECOVERY_SLEEP_S)]);
  await capture(lab, 'draining', 'add-noout-osd.1', 'noout scoped to osd.1', ['osd', 'add-noout', 'osd.1']);
  await capture(lab, 'draining', 'out-1', 'osd.1 marked out', ['osd', 'out', '1']);
  await until('misplaced or degraded objects', async () => {
    const map = await pgmap(lab);
    return (map.misplaced_objects ?? 0) + (map.degraded_objects ?? 0) > 0;
  });
  await readState(lab, 'draining', 'osd.1 out (noout on it), its PGs moving: misplaced/degraded objects', 1);
  // The recovery rate needs two of the manager's samples: kept when seen before the drain ends.
  await until('a recovery rate, or the drain done', async () => {
    const status = await json(lab, ['status']);
    const map = status.pgmap as Pgmap & { recovering_bytes_per_sec?: number };
    const moving = (map.misplaced_objects ?? 0) + (map.degraded_objects ?? 0) > 0;
    if (moving && map.recovering_bytes_per_sec !== undefined) {
      await capture(lab, 'recovering', 'status', 'osd.1 draining, with a recovery rate', ['status', '-f', 'json']);
    }
    return !moving || map.recovering_bytes_per_sec !== undefined;
  });
  // The trap: safe-to-destroy may say yes while PGs still recover. Kept when seen.
  await until('osd.1 safe to destroy', () => safeToDestroy(lab, 1));
  if (!(await allClean(lab))) {
    await capture(lab, 'safe-not-clean', 'safe-to-destroy-1', 'safe while PGs are not all clean', [
      'osd',
      'safe-to-destroy',
      '1',
      '-f',
      'json',
    ]);
    await capture(lab, 'safe-not-clean', 'pg-stat', 'safe while PGs are not all clean', ['pg', 'stat', '-f', 'json']);
  }
  await until('every PG active+clean', () => allClean(lab));
  await ceph(lab, ['config', 'rm', 'osd', 'osd_recovery_sleep']);
  await readState(lab, 'drained', 'osd.1 out, safe to destroy, every PG active+clean', 1);

  // Another OSD down: osd.4's daemon stopped on pve3.
  await lab.run('pve3', ['systemctl', 'stop', 'ceph-osd@4']);
  await until('osd.4 down', async () => (await upOsds(lab)) === 5);
  // The PG statistics lag the osdmap by a few seconds: until then they still say all clean.
  await until('PGs degraded by osd.4', async () => !(await allClean(lab)));
  await readState(lab, 'osd4-down', 'osd.1 drained and out; osd.4 down (stopped), still in', 2);
  await lab.run('pve3', ['systemctl', 'start', 'ceph-osd@4']);
  await until('osd.4 up', async () => (await upOsds(lab)) === 6);
  await until('every PG active+clean', () => allClean(lab));

  // osd.1 stopped and destroyed, keeping its id.
  await lab.run('pve1', ['systemctl', 'stop', 'ceph-osd@1']);
  await until('osd.1 down', async () => (await upOsds(lab)) === 5);
  const destroy = ['osd', 'destroy', '1', '--yes-i-really-mean-it'];
  await capture(lab, 'destroyed', 'osd-destroy-1', 'osd.1 stopped, destroyed', destroy);
  await readState(lab, 'destroyed', 'osd.1 destroyed (id, CRUSH position and class kept)', 1);
  await capture(lab, 'destroyed', 'osd-metadata-1', 'osd.1 destroyed', ['osd', 'metadata', '1', '-f', 'json']);
  return version;
}

function readme(version: string, capturedAt: string): string {
  const entries = captures.map(
    (c) =>
      `- \`${c.name}\` (${c.state}: ${c.what}); exit ${c.exitCode}; ` +
      `${[c.stdout, c.stderr].filter((f) => f !== null).join(', ') || 'nothing printed'}\n  \`${c.command}\``,
  );
  return `# Ceph fixtures

Written by \`test/lab/capture-ceph-fixtures.ts\` on the lab's real Ceph cluster (test/lab/README.md,
Ceph): pve1-pve3, osd.0-1 on pve1, osd.2-3 on pve2, osd.4-5 on pve3, 2 GiB each, pool \`rbd\`
(size 3, min_size 2, 32 PGs) with 16 objects of 4 MiB. Every command ran on pve1. While osd.1
drained, \`osd_recovery_sleep\` was ${RECOVERY_SLEEP_S} s (the lab's 64 MiB would otherwise move within the
manager's statistics period: no status would show them moving).

Captured ${capturedAt} with \`${version}\`.

Each capture keeps the streams that printed something, exactly as printed; \`captures.json\` lists
them with the state, command and exit code.

${entries.join('\n')}

Worth knowing, seen here:

- \`osd safe-to-destroy N -f json\` prints a newline, then its JSON, and exits 0 when unsafe
  (\`healthy-safe-to-destroy-1\`: \`safe_to_destroy\` empty, \`active\` [1]); only its text form exits
  16 (EBUSY). It said safe while 8 PGs were still recovering (\`safe-not-clean-*\`: kept only when
  a capture sees it): wait for every PG active+clean too.
- \`osd ok-to-stop N\` exits 16 with its JSON when not ok (\`osd4-down-ok-to-stop-2\`:
  \`bad_become_inactive\`).
- \`status\` and \`pg stat\` leave \`degraded_*\`, \`misplaced_*\` and \`recovering_*\` out when 0; while
  recovering 4 MiB objects \`recovering_objects_per_sec\` read 0 with 591 KiB/s
  (\`recovering-status\`): the rate is in bytes. A rate stays a while after the end (\`drained-status\`).
- The statistics lag: right after \`up\` the status counted 0 objects; for seconds after osd.4 went
  down the PGs still read \`stale+active+clean\` and \`peering\`.
- \`osd add-noout osd.1\` shows as "noout" in that OSD's \`state\` in \`osd dump\` (the cluster's
  \`flags\` do not change) and as the health check OSD_FLAGS ("osd.1 has flags noout").
- An out OSD has \`kb\` 0, \`reweight\` 0 and 0 PGs in \`osd df\`; a destroyed one keeps its CRUSH slot
  and class (\`osd tree\` status "destroyed"), its noout, and its \`osd metadata\`.
- \`osd metadata\` of a loop device: \`devices\` "loopN", \`device_ids\` "": no serial for Ceph.
- \`config-key get\` of an absent key: exit 2, stderr "Error ENOENT: "; \`config-key set\` and \`rm\`
  speak on stderr; \`get\` prints the value without a newline.
`;
}

const { values } = parseArgs({ options: { name: { type: 'string' } } });
const name = values.name ?? `${process.env.CHATON_LAB_PREFIX ?? ''}ceph-capture`;
await labDown(name);
const lab = await labUp({ name, hosts: 0, ceph: true });
try {
  await mkdir(OUT, { recursive: true });
  for (const file of await readdir(OUT)) await rm(join(OUT, file));
  const started = Date.now();
  const version = await captureAll(lab);
  const capturedAt = new Date().toISOString();
  await writeFile(join(OUT, 'captures.json'), JSON.stringify({ capturedAt, version, captures }, null, 2) + '\n');
  await writeFile(join(OUT, 'README.md'), readme(version, capturedAt));
  process.stderr.write(`captured in ${Math.round((Date.now() - started) / 1000)} s\n`);
} finally {
  await lab.down();
}
