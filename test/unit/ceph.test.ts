// The Ceph facts and the disk swap's judgements (src/lib/ceph/), on the real outputs recorded by
// test/lab/capture-ceph-fixtures.ts in test/unit/fixtures/ceph/ (Debian 12's Ceph 16.2.15).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  bucketOf,
  clusterStatus,
  configKey,
  healthDetail,
  okToStop,
  osdDf,
  osdDump,
  osdMetadata,
  osdTree,
  parseStatus,
  pgStat,
  pgsBrief,
  safeToDestroy,
} from '../../src/lib/ceph/facts.js';
import type { ProbeOutput } from '../../src/lib/remote/facts.js';
import { OutputError } from '../../src/lib/remote/json-output.js';
import {
  backfilled,
  drained,
  drainProgress,
  pgClean,
  pgsOnOsd,
  preflight,
  type PreflightFacts,
  readyToDestroy,
} from '../../src/lib/ceph/judge.js';
import {
  addNoout,
  createOsd,
  destroyedEntry,
  destroyOsd,
  judgeLock,
  markIn,
  markOut,
  osdNode,
  parseLock,
  removeLock,
  removeNoout,
  restoreEntry,
  setLock,
  stopDaemon,
  zapDevice,
} from '../../src/lib/ceph/operations.js';
import { render, type RemoteCommand } from '../../src/lib/remote/shell.js';

const DIR = fileURLToPath(new URL('../../../test/unit/fixtures/ceph/', import.meta.url));

interface Capture {
  name: string;
  state: string;
  command: string;
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
}

const INDEX = JSON.parse(readFileSync(join(DIR, 'captures.json'), 'utf8')) as {
  version: string;
  captures: Capture[];
};

/** A capture as the executor would return it. */
function output(name: string): ProbeOutput {
  const capture = INDEX.captures.find((c) => c.name === name);
  assert.ok(capture, `no capture ${name}`);
  const read = (file: string | null) => (file === null ? '' : readFileSync(join(DIR, file), 'utf8'));
  return { code: capture.exitCode, stdout: read(capture.stdout), stderr: read(capture.stderr) };
}

/** The preflight's facts of a captured state. */
function facts(state: string, osd: number, host: string): PreflightFacts {
  return {
    osd,
    host,
    tree: osdTree.parse(output(`${state}-osd-tree`)),
    usage: osdDf.parse(output(`${state}-osd-df`)),
    dump: osdDump.parse(output(`${state}-osd-dump`)),
    health: healthDetail.parse(output(`${state}-health-detail`)),
    pgs: pgStat.parse(output(`${state}-pg-stat`)),
  };
}

const codes = (result: { refusals: { code: string }[] }) => result.refusals.map((r) => r.code);

describe('ceph fixtures', () => {
  it('index every file of the folder, and come from Pacific', () => {
    const listed = INDEX.captures.flatMap((c) => [c.stdout, c.stderr]).filter((file) => file !== null);
    const present = readdirSync(DIR).filter((file) => file !== 'captures.json' && file !== 'README.md');
    assert.deepEqual([...listed].sort(), present.sort());
    assert.match(INDEX.version, /^ceph version 16\.2\.\d+ .* pacific \(stable\)$/);
  });

  it('show the traps: safe-to-destroy exits 0 when unsafe, its JSON after a newline; the text form exits 16', () => {
    const unsafe = output('healthy-safe-to-destroy-1');
    assert.equal(unsafe.code, 0);
    assert.ok(unsafe.stdout.startsWith('\n{'));
    assert.deepEqual(safeToDestroy(1).parse(unsafe), { safe: [], active: [1], missingStats: [], storedPgs: [] });
    const text = output('healthy-safe-to-destroy-1-text');
    assert.equal(text.code, 16);
    assert.match(text.stderr, /^Error EBUSY: OSD\(s\) 1 have \d+ pgs currently mapped to them\./);
  });
});

describe('ceph facts', () => {
  it('read ceph status, leaving the recovery fields at 0 when Ceph omits them', () => {
    const healthy = clusterStatus.parse(output('healthy-status'));
    assert.equal(healthy.health.status, 'HEALTH_OK');
    assert.deepEqual(healthy.osds, { total: 6, up: 6, in: 6, remappedPgs: 0 });
    assert.deepEqual(healthy.pgs.byState, [{ state: 'active+clean', count: 33 }]);
    assert.deepEqual(Object.values(healthy.recovery), [0, 0, 0, 0, 0, 0]);
    const draining = clusterStatus.parse(output('draining-status'));
    assert.equal(draining.osds.in, 5);
    assert.equal(draining.recovery.misplacedObjects, 2);
    assert.equal(draining.recovery.misplacedTotal, 48);
    assert.ok(draining.recovery.degradedObjects > 0);
    assert.equal(draining.health.status, 'HEALTH_WARN');
  });

  it('read the osdmap counts nested one level deeper, as before Octopus', () => {
    const flat = JSON.parse(output('healthy-status').stdout) as { osdmap: unknown };
    const nested = JSON.stringify({ ...flat, osdmap: { osdmap: flat.osdmap } });
    assert.deepEqual(parseStatus(nested).osds, { total: 6, up: 6, in: 6, remappedPgs: 0 });
  });

  it('read health detail: each check with its lines', () => {
    const health = healthDetail.parse(output('osd4-down-health-detail'));
    const down = health.checks.find((c) => c.code === 'OSD_DOWN');
    assert.deepEqual(down, {
      code: 'OSD_DOWN',
      severity: 'HEALTH_WARN',
      message: '1 osds down',
      count: 1,
      detail: ['osd.4 (root=default,host=pve3) is down'],
      muted: false,
    });
  });

  it('read the tree: hosts, and a stopped or destroyed OSD keeping its CRUSH slot', () => {
    const healthy = osdTree.parse(output('healthy-osd-tree'));
    assert.equal(bucketOf(healthy, 1)?.name, 'pve1');
    assert.equal(bucketOf(healthy, 4)?.name, 'pve3');
    assert.equal(bucketOf(healthy, 9), undefined);
    const down = osdTree.parse(output('osd4-down-osd-tree'));
    assert.equal(down.nodes.find((n) => n.id === 4)?.status, 'down');
    const destroyed = osdTree.parse(output('destroyed-osd-tree'));
    const one = destroyed.nodes.find((n) => n.id === 1);
    assert.equal(one?.status, 'destroyed');
    assert.equal(one?.deviceClass, 'ssd');
    assert.equal(bucketOf(destroyed, 1)?.name, 'pve1');
  });

  it('read osd df: an out OSD counts 0 KiB, its data split from BlueStore metadata', () => {
    const healthy = osdDf.parse(output('healthy-osd-df'));
    const one = healthy.find((u) => u.id === 1);
    assert.equal(one?.kb, 2097152);
    assert.ok(one !== undefined && one.kbUsedData > 0 && one.kbUsedData < one.kbUsed);
    const drained = osdDf.parse(output('drained-osd-df')).find((u) => u.id === 1);
    assert.deepEqual([drained?.kb, drained?.reweight, drained?.pgs], [0, 0, 0]);
  });

  it('read osd dump: ratios, flags, and noout scoped to one OSD', () => {
    const dump = osdDump.parse(output('draining-osd-dump'));
    assert.equal(dump.nearfullRatio.toFixed(2), '0.85');
    assert.ok(dump.flags.includes('sortbitwise'));
    assert.ok(!dump.flags.includes('noout'));
    assert.deepEqual(
      dump.osds.find((o) => o.id === 1),
      { id: 1, up: true, in: false, state: ['exists', 'noout', 'up'] },
    );
    assert.deepEqual(dump.groupFlags, {});
    const destroyed = osdDump.parse(output('destroyed-osd-dump')).osds.find((o) => o.id === 1);
    assert.deepEqual(destroyed?.state, ['destroyed', 'exists', 'noout']);
  });

  it('read ok-to-stop: exit 16 with its JSON when not ok', () => {
    assert.equal(okToStop(1).parse(output('healthy-ok-to-stop-1')).ok, true);
    const notOk = output('osd4-down-ok-to-stop-2');
    assert.equal(notOk.code, 16);
    const answer = okToStop(2).parse(notOk);
    assert.equal(answer.ok, false);
    assert.equal(answer.notOkPgs, answer.becomeInactive.length);
    assert.throws(() => okToStop(2).parse({ ...notOk, code: 1 }), OutputError);
  });

  it('read osd metadata: the host, and a loop device without identity; kept after destroy', () => {
    const meta = osdMetadata(1).parse(output('healthy-osd-metadata-1'));
    assert.equal(meta?.hostname, 'pve1');
    assert.match(meta?.devices.join() ?? '', /^loop\d+$/);
    assert.deepEqual(meta?.deviceIds, []);
    assert.equal(osdMetadata(1).parse(output('destroyed-osd-metadata-1'))?.hostname, 'pve1');
  });

  it('read a config-key: absent is exit 2 and ENOENT, not an error', () => {
    const absent = output('healthy-config-key-get-absent');
    assert.deepEqual([absent.code, absent.stderr], [2, 'Error ENOENT: \n']);
    assert.equal(configKey('chaton/disk-swap/lock').parse(absent), undefined);
    const value = configKey('chaton/disk-swap/lock').parse(output('healthy-config-key-get'));
    assert.deepEqual(JSON.parse(value ?? ''), { owner: 'alice@laptop', startedAt: '2026-12-02T07:00:00Z', osd: 1 });
  });

  it('refuse what is not JSON, naming the command', () => {
    assert.throws(() => pgStat.parse({ code: 0, stdout: 'oops', stderr: '' }), /ceph pg stat: not JSON/);
    assert.throws(() => pgStat.parse({ code: 1, stdout: '', stderr: 'Error EACCES: denied\n' }), /exit 1/);
  });
});

describe('ceph preflight', () => {
  it('lets a healthy cluster drain osd.1 of pve1, its data going to osd.0, its host mate', () => {
    const result = preflight(facts('healthy', 1, 'pve1'));
    assert.deepEqual(result.refusals, []);
    assert.deepEqual(
      result.projections.map((p) => p.osd),
      [0],
    );
    const [projection] = result.projections;
    assert.ok(projection !== undefined && projection.after > projection.now);
  });

  it('refuses an unknown OSD, or one on another host', () => {
    assert.deepEqual(
      preflight(facts('healthy', 9, 'pve1')).refusals[0]?.said.en.startsWith('osd.9 does not exist'),
      true,
    );
    const other = preflight(facts('healthy', 1, 'pve2'));
    assert.deepEqual(codes(other), ['other-host']);
    assert.equal(other.refusals[0]?.said.en, 'osd.1 lives on pve1, not on pve2: check the host and the OSD id');
  });

  it('refuses when the drain would pass the nearfull ratio, with the numbers', () => {
    const tight = facts('healthy', 1, 'pve1');
    tight.dump = { ...tight.dump, nearfullRatio: 0.16 };
    const result = preflight(tight);
    assert.deepEqual(codes(result), ['nearfull']);
    assert.match(
      result.refusals[0]?.said.en ?? '',
      /^draining osd\.1 moves 36\.\dM: osd\.0 from 15\.5% to 17\.\d% would pass the nearfull ratio 16\.0%/,
    );
  });

  it('refuses another OSD down, PGs not active, and flags on another OSD', () => {
    const result = preflight(facts('osd4-down', 2, 'pve2'));
    assert.deepEqual(codes(result), ['other-osds-down', 'pgs-inactive', 'pgs-not-clean', 'other-osd-flags']);
    assert.match(result.refusals[0]?.said.en ?? '', /\(osd\.4 down\)/);
    assert.match(
      result.refusals[1]?.said.en ?? '',
      /^8 of 33 PGs are inactive, damaged or with unfound objects \(8 peering\)/,
    );
    assert.match(result.refusals[3]?.said.en ?? '', /\(osd\.1 noout\)/);
  });

  it('accepts what its own drain causes: its noout, degraded PGs while it is out', () => {
    assert.deepEqual(preflight(facts('draining', 1, 'pve1')).refusals, []);
    const other = preflight(facts('draining', 0, 'pve1'));
    assert.deepEqual(codes(other), ['pgs-not-clean', 'other-osd-flags']);
  });

  it('counts a scrubbing PG as clean: a real cluster deep-scrubs all the time (captured during one)', () => {
    const scrubbing = facts('scrubbing', 3, 'pve2');
    assert.deepEqual(scrubbing.pgs.byState, [
      { state: 'active+clean+scrubbing+deep', count: 2 },
      { state: 'active+clean', count: 31 },
    ]);
    assert.deepEqual(preflight(scrubbing).refusals, []);
    assert.equal(drainProgress(clusterStatus.parse(output('scrubbing-status'))).pgsNotClean, 0);
    const brief = pgsBrief.parse(output('scrubbing-pgs-brief'));
    assert.deepEqual(pgsOnOsd(brief, 3), { onOsd: 17, notClean: 0, total: 33 });
    // A PG recovering beside them is not clean: the swap waits.
    const recovering = {
      ...scrubbing,
      pgs: {
        total: 33,
        byState: [
          { state: 'active+clean+scrubbing+deep', count: 2 },
          { state: 'active+recovering+degraded', count: 1 },
          { state: 'active+clean', count: 30 },
        ],
      },
    };
    assert.deepEqual(codes(preflight(recovering)), ['pgs-not-clean']);
    assert.match(preflight(recovering).refusals[0]?.said.en ?? '', /^1 of 33 PGs are not active\+clean/);
  });

  it('clean: active and clean beside scrubs and snapshot trims only', () => {
    const clean = [
      'active+clean',
      'active+clean+scrubbing',
      'active+clean+scrubbing+deep',
      'active+clean+snaptrim',
      'active+clean+snaptrim_wait',
    ];
    for (const state of clean) assert.equal(pgClean(state), true, state);
    const not = [
      'active+clean+laggy',
      'active+clean+wait',
      'active+clean+remapped',
      'active+clean+inconsistent',
      'active+clean+scrubbing+deep+repair',
      'active+clean+scrubbing+deep+inconsistent+repair',
      'active+recovery_unfound+degraded',
      'active+undersized+degraded',
      'active+remapped+backfill_wait',
      'clean',
      'active+clean+premerge',
    ];
    for (const state of not) assert.equal(pgClean(state), false, state);
  });

  it('refuses PGs with unfound objects, muted or not, and the OSD out, once (from the PG states)', () => {
    // Out already (by the operator, before chaton): degraded PGs are its doing, unfound objects never.
    const lost = facts('draining', 1, 'pve1');
    lost.pgs = {
      total: 33,
      byState: [
        { state: 'active+recovery_unfound+degraded', count: 1 },
        { state: 'active+clean', count: 32 },
      ],
    };
    const check = {
      code: 'OBJECT_UNFOUND',
      severity: 'HEALTH_WARN' as const,
      message: '1/16 objects unfound',
      count: 1,
    };
    for (const muted of [false, true]) {
      lost.health = { status: muted ? 'HEALTH_OK' : 'HEALTH_WARN', checks: [{ ...check, detail: [], muted }] };
      assert.deepEqual(codes(preflight(lost)), ['pgs-inactive'], `muted: ${muted}`);
    }
  });

  it('refuses a health error even muted, and offers no mute for it', () => {
    const full = facts('healthy', 1, 'pve1');
    const check = { code: 'OSD_FULL', severity: 'HEALTH_ERR' as const, message: '1 full osd(s)', count: 1 };
    for (const muted of [false, true]) {
      full.health = { status: 'HEALTH_ERR', checks: [{ ...check, detail: [], muted }] };
      const result = preflight(full);
      assert.deepEqual(codes(result), ['health'], `muted: ${muted}`);
      assert.equal(
        result.refusals[0]?.said.en,
        'OSD_FULL (HEALTH_ERR): 1 full osd(s); not caused by this OSD: resolve it first',
      );
    }
  });

  it('refuses an OSD already destroyed, cluster-wide flags and other health checks', () => {
    assert.deepEqual(codes(preflight(facts('destroyed', 1, 'pve1'))), ['osd-destroyed']);
    const flagged = facts('healthy', 1, 'pve1');
    flagged.dump = { ...flagged.dump, flags: [...flagged.dump.flags, 'norecover'] };
    const check = { code: 'MON_DOWN', severity: 'HEALTH_WARN' as const, message: '1/3 mons down', count: 1 };
    flagged.health = { status: 'HEALTH_WARN', checks: [{ ...check, detail: [], muted: false }] };
    const result = preflight(flagged);
    assert.deepEqual(codes(result), ['health', 'cluster-flags']);
    assert.equal(result.refusals[1]?.said.en.startsWith('cluster-wide flags set (norecover)'), true);
  });
});

describe('ceph drain', () => {
  it('reads progress, the time left from the byte rate (Ceph says 0 objects/s for 4 MiB objects)', () => {
    const status = clusterStatus.parse(output('recovering-status'));
    assert.equal(status.recovery.recoveringObjectsPerSec, 0);
    const progress = drainProgress(status);
    const left = progress.misplacedObjects + progress.degradedObjects;
    assert.ok(left > 0 && progress.bytesPerSec > 0 && progress.pgsNotClean > 0);
    assert.equal(progress.etaSeconds, (left * 4 * 1024 ** 2) / progress.bytesPerSec);
    assert.match(progress.said.en, /^misplaced \d+\/48 objects, degraded \d+\/48 objects, [\d.]+K\/s, about .+ left$/);
  });

  it("says the line in English for JSON and in the reader's language, each from its own parts", () => {
    const saved = process.env['LC_ALL'];
    process.env['LC_ALL'] = 'fr_FR.UTF-8';
    try {
      const { said } = drainProgress(clusterStatus.parse(output('draining-status')));
      assert.equal(said.en, 'misplaced 2/48 objects, degraded 2/48 objects, no recovery rate yet, time left unknown');
      assert.equal(
        said.text,
        'mal placés 2/48 objets, dégradés 2/48 objets, pas encore de débit de récupération, temps restant inconnu',
      );
    } finally {
      if (saved === undefined) delete process.env['LC_ALL'];
      else process.env['LC_ALL'] = saved;
    }
  });

  it('says when there is no rate yet, and 0 s left once nothing moves', () => {
    const early = drainProgress(clusterStatus.parse(output('draining-status')));
    assert.equal(early.etaSeconds, undefined);
    assert.equal(
      early.said.en,
      'misplaced 2/48 objects, degraded 2/48 objects, no recovery rate yet, time left unknown',
    );
    assert.equal(drainProgress(clusterStatus.parse(output('drained-status'))).etaSeconds, 0);
  });

  it('waits for safe-to-destroy AND every PG active+clean: Ceph said safe while PGs were degraded', () => {
    const unsafe = safeToDestroy(1).parse(output('draining-safe-to-destroy-1'));
    assert.equal(readyToDestroy(1, unsafe, pgStat.parse(output('draining-pg-stat'))).reasons.length, 2);
    const safe = safeToDestroy(1).parse(output('safe-not-clean-safe-to-destroy-1'));
    assert.deepEqual(safe.safe, [1]);
    const early = readyToDestroy(1, safe, pgStat.parse(output('safe-not-clean-pg-stat')));
    assert.deepEqual(
      early.reasons.map((r) => r.en),
      [
        '8 of 33 PGs are not active+clean yet ' +
          '(2 active+recovering+degraded, 5 active+recovery_wait+degraded, 1 active+recovering)',
      ],
    );
    const healthy = readyToDestroy(1, safeToDestroy(1).parse(output('healthy-safe-to-destroy-1')), {
      total: 33,
      byState: [{ state: 'active+clean', count: 33 }],
    });
    assert.deepEqual(
      healthy.reasons.map((r) => r.en),
      ['osd.1 is not safe to destroy yet: PGs are still mapped to it or stored on it'],
    );
    const drained = safeToDestroy(1).parse(output('drained-safe-to-destroy-1'));
    const clean = pgStat.parse(output('drained-pg-stat'));
    assert.deepEqual(readyToDestroy(1, drained, clean), { ready: true, reasons: [] });
    // A scrub does not hold the destroy back.
    assert.deepEqual(readyToDestroy(1, drained, pgStat.parse(output('scrubbing-pg-stat'))), {
      ready: true,
      reasons: [],
    });
  });
});

describe('ceph swap operations', () => {
  const line = (c: RemoteCommand) => render(c).toString();

  it('render the swap commands as a runbook would write them (golden)', () => {
    assert.deepEqual(
      [
        addNoout(3),
        markOut(3),
        stopDaemon(3),
        destroyOsd(3),
        zapDevice('/dev/disk/by-id/ata-LAB_1'),
        createOsd(3, '/dev/disk/by-id/ata-LAB_1'),
        markIn(3),
        removeNoout(3),
        removeLock(),
      ].map(line),
      [
        'ceph osd add-noout osd.3',
        'ceph osd out 3',
        'systemctl stop ceph-osd@3',
        'ceph osd destroy osd.3 --yes-i-really-mean-it',
        'ceph-volume lvm zap --destroy /dev/disk/by-id/ata-LAB_1',
        'ceph-volume lvm create --bluestore --osd-id 3 --data /dev/disk/by-id/ata-LAB_1',
        'ceph osd in 3',
        'ceph osd rm-noout osd.3',
        'ceph config-key rm chaton/disk-swap/lock',
      ],
    );
  });

  it('keeps a destroyed entry from the real tree, and puts it back where it was after a purge', () => {
    const tree = osdTree.parse(output('destroyed-osd-tree'));
    const entry = destroyedEntry(tree, 1);
    assert.deepEqual(entry, { osd: 1, host: 'pve1', crushWeight: 0.0019989013671875, deviceClass: 'ssd' });
    assert.equal(osdNode(tree, 1)?.status, 'destroyed');
    assert.deepEqual(restoreEntry(entry!, '11111111-2222-3333-4444-555555555555').map(line), [
      'ceph osd new 11111111-2222-3333-4444-555555555555 1',
      'ceph osd out 1',
      "ceph osd crush add osd.1 0.0019989013671875 'host=pve1'",
      'ceph osd crush set-device-class ssd osd.1',
      'ceph osd add-noout osd.1',
      'ceph osd destroy osd.1 --yes-i-really-mean-it',
    ]);
    assert.equal(destroyedEntry(tree, 42), undefined);
  });

  it('quotes a lock value that holds spaces and quotes, as data', () => {
    const lock = { owner: 'alice@laptop pid 12 since 2026-12-02T07:00:00.000Z', host: 'pve1', osd: 1, operation: 'x' };
    const rendered = line(setLock(lock));
    assert.ok(rendered.startsWith("ceph config-key set chaton/disk-swap/lock '{"));
    assert.deepEqual(parseLock(JSON.stringify(lock)), lock);
  });
});

describe('ceph swap lock', () => {
  const owner = 'alice@laptop pid 4242 since 2026-12-02T07:00:00.000Z';
  const held = { owner, host: 'pve1', osd: 1, operation: '2026-12-02T07:00:00.000Z' };
  const mine = { host: 'pve1', osd: 1, operation: '2026-12-02T07:00:00.000Z' };
  const alive = { resume: false, gone: () => false };

  it('is taken when free, or when its run of the same swap is gone (Ctrl-C, the same laptop)', () => {
    assert.deepEqual(judgeLock(undefined, mine, alive), { take: true });
    assert.deepEqual(judgeLock(held, mine, { resume: false, gone: () => true }), { take: true });
  });

  it('of the same swap held from elsewhere: only --resume takes it over', () => {
    const refused = judgeLock(held, mine, alive);
    assert.equal(refused.take, false);
    assert.match(!refused.take ? refused.said.en : '', /held by alice@laptop \(pid 4242\).*--resume/);
    assert.deepEqual(judgeLock(held, mine, { resume: true, gone: () => false }), { take: true });
  });

  it('of another swap, or a value not of chaton: never taken, even with --resume, and says how to clear it', () => {
    const other = judgeLock({ ...held, osd: 4, host: 'pve3' }, mine, { resume: true, gone: () => true });
    assert.equal(other.take, false);
    assert.match(!other.take ? other.said.en : '', /osd\.4 on pve3.*ceph config-key rm chaton\/disk-swap\/lock/);
    const newRun = judgeLock(held, { ...mine, operation: '' }, { resume: true, gone: () => true });
    assert.equal(newRun.take, false);
    const foreign = judgeLock(parseLock('locked by bob'), mine, { resume: true, gone: () => true });
    assert.match(!foreign.take ? foreign.said.en : '', /holds "locked by bob", which chaton did not write/);
  });
});

describe('ceph PGs one by one', () => {
  it('reads pg dump pgs_brief (its JSON after a newline) and sees what status cannot right after out', () => {
    const healthy = pgsOnOsd(pgsBrief.parse(output('healthy-pgs-brief')), 1);
    assert.deepEqual(healthy, { onOsd: 16, notClean: 0, total: 33 });
    // The PG map before the out reached it: all clean, but osd.1 still in its 16 PGs: not drained.
    const stale = pgsOnOsd(pgsBrief.parse(output('out-stale-pgs-brief')), 1);
    assert.deepEqual(stale, { onOsd: 16, notClean: 0, total: 33 });
    assert.equal(drained(stale), false);
    const moving = pgsOnOsd(pgsBrief.parse(output('draining-pgs-brief')), 1);
    assert.deepEqual(moving, { onOsd: 14, notClean: 2, total: 33 });
    assert.equal(drained(moving), false);
    assert.equal(drained({ onOsd: 0, notClean: 0, total: 33 }), true);
  });

  it('counts a backfill over once the OSD holds its PGs again, all clean', () => {
    const healthy = pgsOnOsd(pgsBrief.parse(output('healthy-pgs-brief')), 1);
    assert.equal(backfilled(healthy, 16), true);
    // Clean with 2 of its 16: the PG map has not caught up with the boot yet.
    assert.equal(backfilled({ onOsd: 2, notClean: 0, total: 33 }, 16), false);
    assert.equal(backfilled({ onOsd: 16, notClean: 3, total: 33 }, 16), false);
    assert.throws(() => pgsBrief.parse({ code: 0, stdout: '{"pg_ready":true}', stderr: '' }), OutputError);
  });
});
