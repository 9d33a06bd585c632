// `npm run bench`, disk swap part (issue 14, Performance): `chaton disk swap pve1 --osd 1` on a fresh
// Ceph lab, the new disk inserted by the bench's hands once osd.1 is destroyed. The issue bars
// chaton's overhead (the whole run minus the time Ceph itself needs) at 10 s, and its polling load
// at one `ceph` command per host per 5 s. Printed, never asserted; `npm run bench -- swap` runs this
// part alone.
//
// Ceph's own time is measured apart from chaton, in pve1, by a sampler on one librados connection
// (no process per sample) that asks every 0.5 s what `ceph pg dump pgs_brief -f json` and `ceph osd
// dump -f json` say: the PGs' states and which OSDs hold them (`pg stat` alone cannot tell: right
// after `out`, and after a new OSD's boot, it still gives the old clean numbers), and the OSD's up,
// in and destroyed states; and whether its daemon runs. Drain: from the sample the OSD is out until
// every PG is active+clean and none is on it; backfill: from the sample its new daemon runs (its
// boot: some 5 s before the monitors mark it up) until every PG is active+clean and it holds as
// many as before the swap (same id, weight and CRUSH place: the same PGs); plus the daemon's stop and `ceph-volume lvm create`, as the command's report times them;
// plus the hands' time, from the OSD destroyed until the new disk is in.
//
// Chaton's `ceph` commands are counted on the hosts: for the bench, each Ceph host's `ceph` is a
// wrapper in its /usr/local/bin (first in PATH) that logs `<epoch ms> <arguments>` and runs
// /usr/bin/ceph; the sampler and the hands (ceph-swap.ts) do not go through it, and ceph-volume's
// own calls (as client.bootstrap-osd) are left out.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NEW_DISK_SERIAL, osdDisk, swapWhenDestroyed } from '../test/lab/ceph-swap.js';
import type { Lab } from '../test/lab/lab.js';
import { columns } from './measure.js';

const CHATON = fileURLToPath(new URL('../../bin/chaton.js', import.meta.url));
const HOST = 'pve1';
const OSD = 1;
const OVERHEAD_BAR_MS = 10_000;
const POLL_BAR_PER_5S = 1;
const COMMAND_LOG = '/var/log/chaton-bench-ceph.log';
/** The report's phases that time the daemon's stop (with ok-to-stop and destroy) and ceph-volume (zap, create). */
const STOP = 'destroy';
const CREATE = 'create';
const SAMPLER_STOP = '/run/chaton-bench-sampler.stop';

/** The logging `ceph` of the Ceph hosts (see the top). */
const CEPH_WRAPPER = `#!/bin/sh
started=$(date +%s%3N)
/usr/bin/ceph "$@"
status=$?
printf '%s %s %s\\n' "$started" "$(date +%s%3N)" "$*" >> ${COMMAND_LOG}
exit $status
`;

/** chaton's changes to the OSD map: each waits for the monitors to commit a new map epoch (about 1 s). */
const MAP_CHANGE = /^osd (add-noout|rm-noout|out|in|destroy) /;

/**
 * One sample a line: `{"t", "osd": {"up", "in", "destroyed"} | null, "clean", "onOsd", "daemon"}` (or
 * `"error"`); `daemon`: the OSD's ceph-osd process runs in the host.
 */
const SAMPLER = `
import json, os, sys, time, rados
osd, stop = int(sys.argv[1]), sys.argv[2]
cluster = rados.Rados(conffile='/etc/ceph/ceph.conf', name='client.admin')
cluster.connect(timeout=10)
def daemon():
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            args = open('/proc/%s/cmdline' % pid, 'rb').read().decode().split('\\0')
        except OSError:
            continue
        if args[0].endswith('ceph-osd') and '--id' in args and args[args.index('--id') + 1] == str(osd):
            return True
    return False
def ask(send, **command):
    command['format'] = 'json'
    code, out, err = send(json.dumps(command), b'', timeout=10)
    if code != 0:
        raise RuntimeError(err)
    return json.loads(out)
while not os.path.exists(stop):
    started = time.time()
    try:
        pgs = ask(cluster.mgr_command, prefix='pg dump', dumpcontents=['pgs_brief'])
        dump = ask(cluster.mon_command, prefix='osd dump')
        stats = pgs['pg_stats'] if isinstance(pgs, dict) else pgs
        entry = next((o for o in dump['osds'] if o['osd'] == osd), None)
        sample = {
            't': int(started * 1000),
            'osd': entry and {'up': entry['up'], 'in': entry['in'], 'destroyed': 'destroyed' in entry['state']},
            'clean': all(p['state'] == 'active+clean' for p in stats),
            'onOsd': sum(1 for p in stats if osd in p['up'] or osd in p['acting']),
            'daemon': daemon(),
        }
    except Exception as error:
        sample = {'t': int(started * 1000), 'error': str(error)}
    print(json.dumps(sample), flush=True)
    time.sleep(max(0, 0.5 - (time.time() - started)))
`;

interface Sample {
  t: number;
  osd?: { up: number; in: number; destroyed: boolean } | null;
  clean?: boolean;
  onOsd?: number;
  daemon?: boolean;
  error?: string;
}

/** The fields of the command's JSON envelope the bench reads. */
interface SwapJson {
  swap?: { outcome: string };
  phases?: { phase: string; outcome: string; durationMs: number }[];
}

/** A stretch of the run, in epoch ms; its end undefined when the samples never showed it end. */
interface Window {
  from: number;
  to: number | undefined;
}

export interface DiskSwapBench {
  exitCode: number;
  outcome: string;
  wallMs: number;
  phases: Record<string, number>;
  drain: Window | undefined;
  backfill: Window | undefined;
  /** From the OSD destroyed (as sampled) until the bench's hands inserted the new disk. */
  handsMs: number | undefined;
  /** What chaton's changes to the OSD map waited for the monitors to commit them (MAP_CHANGE). */
  mapCommitsMs: number;
  cephMs: number;
  overheadMs: number;
  samples: number;
  /** Chaton's `ceph` commands per Ceph host: over the whole run, and those within drain and backfill. */
  commands: Record<string, { total: number; inWaits: { t: number; args: string }[] }>;
  /** Why the run could not be measured (the figures are then partial). */
  failed?: string;
}

/** The bench's `ceph` wrapper in every Ceph host, its log empty; the hosts' names. */
async function installWrapper(lab: Lab): Promise<string[]> {
  const hosts = lab.hosts.filter((host) => host.roles.includes('ceph')).map((host) => host.name);
  for (const host of hosts) {
    const script = `cat > /usr/local/bin/ceph && chmod 755 /usr/local/bin/ceph && : > ${COMMAND_LOG}`;
    const result = await lab.run(host, ['sh', '-ec', script], { input: CEPH_WRAPPER });
    if (result.exitCode !== 0) throw new Error(`${host}: the ceph wrapper: ${result.stderr}`);
  }
  return hosts;
}

/** Chaton's `ceph` commands a host ran, when, how long and which (ceph-volume's own left out). */
async function commandLog(lab: Lab, host: string): Promise<{ t: number; ms: number; args: string }[]> {
  const { stdout } = await lab.run(host, ['cat', COMMAND_LOG]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.includes('client.bootstrap-osd'))
    .map((line) => {
      const [started = '0', ended = '0', ...args] = line.split(' ');
      return { t: Number(started), ms: Number(ended) - Number(started), args: args.join(' ') };
    });
}

/** `chaton --json -y disk swap`, its wall time and its report. */
function runSwap(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  newSerial: string,
): Promise<{ code: number; ms: number; out: string }> {
  const args = ['-i', lab.inventoryPath, '--json', '-y', 'disk', 'swap', HOST, '--osd', String(OSD)];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHATON, ...args, '--new-device', newSerial], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) process.stderr.write(`  chaton disk swap exited ${code}: ${err.trim().slice(-500)}\n`);
      resolve({ code: code ?? 1, ms: Math.round(performance.now() - started), out });
    });
  });
}

/** The first sample from `index` on that `test` accepts. */
function firstFrom(samples: Sample[], index: number, test: (sample: Sample) => boolean): number {
  for (let at = Math.max(index, 0); at < samples.length; at++) if (test(samples[at]!)) return at;
  return -1;
}

/** Drain, the destroyed instant and backfill, as the samples show them (see the top). */
export function cephWindows(samples: Sample[]): {
  drain: Window | undefined;
  destroyedAt: number | undefined;
  backfill: Window | undefined;
} {
  const ok = samples.filter((sample) => sample.error === undefined);
  const out = firstFrom(ok, 0, (s) => s.osd?.in === 0);
  const drained = firstFrom(ok, out, (s) => s.clean === true && s.onOsd === 0);
  const destroyed = firstFrom(ok, drained, (s) => s.osd == null || s.osd.destroyed);
  const boot = firstFrom(ok, destroyed, (s) => s.daemon === true || s.osd?.up === 1);
  // Back to every PG it held: same id, weight and place, so CRUSH maps the same PGs to it. The PG
  // map fills in as they peer: a moment after the boot it said all clean with 2 of them on it.
  const held = ok[0]?.onOsd ?? 1;
  const filled = firstFrom(ok, boot, (s) => s.clean === true && (s.onOsd ?? 0) >= held);
  const at = (index: number) => (index < 0 ? undefined : ok[index]!.t);
  const window = (from: number, to: number) => (from < 0 ? undefined : { from: ok[from]!.t, to: at(to) });
  return { drain: window(out, drained), destroyedAt: at(destroyed), backfill: window(boot, filled) };
}

const length = (window: Window | undefined) => (window?.to === undefined ? 0 : window.to - window.from);

/** The whole bench: a fresh Ceph lab's osd.1 swapped once. */
export async function diskSwapBench(lab: Lab, env: NodeJS.ProcessEnv): Promise<DiskSwapBench> {
  const bench: DiskSwapBench = {
    exitCode: -1,
    outcome: 'not run',
    wallMs: 0,
    phases: {},
    drain: undefined,
    backfill: undefined,
    handsMs: undefined,
    mapCommitsMs: 0,
    cephMs: 0,
    overheadMs: 0,
    samples: 0,
    commands: {},
  };
  try {
    const hosts = await installWrapper(lab);
    const old = await osdDisk(lab, HOST, OSD);
    const newSerial = NEW_DISK_SERIAL;
    process.stderr.write(`  swapping osd.${OSD} of ${HOST}: disk ${old.serial} out, ${newSerial} in\n`);
    const sampler = lab.run(HOST, ['python3', '-c', SAMPLER, String(OSD), SAMPLER_STOP]);
    const hands = new AbortController();
    const swap = { host: HOST, osd: OSD, oldSerial: old.serial, newSerial };
    const inserted = swapWhenDestroyed(lab, swap, hands.signal);
    let run;
    try {
      run = await runSwap(lab, env, newSerial);
    } finally {
      hands.abort();
      await lab.run(HOST, ['touch', SAMPLER_STOP]);
    }
    const insertedAt = await inserted;
    const sampled = await sampler;
    const samples = sampled.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Sample);
    bench.samples = samples.length;
    bench.exitCode = run.code;
    bench.wallMs = run.ms;
    const report = JSON.parse(run.out || '{}') as SwapJson;
    bench.outcome = report.swap?.outcome ?? `no report (exit ${run.code})`;
    bench.phases = Object.fromEntries((report.phases ?? []).map((phase) => [phase.phase, phase.durationMs]));
    const { drain, destroyedAt, backfill } = cephWindows(samples);
    Object.assign(bench, { drain, backfill });
    if (destroyedAt !== undefined && insertedAt !== undefined) bench.handsMs = Math.max(0, insertedAt - destroyedAt);
    bench.cephMs = length(drain) + length(backfill) + (bench.phases[STOP] ?? 0) + (bench.phases[CREATE] ?? 0);
    bench.overheadMs = bench.wallMs - bench.cephMs - (bench.handsMs ?? 0);
    const within = (t: number, window: Window | undefined) =>
      window?.to !== undefined && t >= window.from && t <= window.to;
    for (const host of hosts) {
      const log = await commandLog(lab, host);
      const inWaits = log.filter((entry) => within(entry.t, drain) || within(entry.t, backfill));
      bench.commands[host] = { total: log.length, inWaits };
      for (const entry of log) if (MAP_CHANGE.test(entry.args)) bench.mapCommitsMs += entry.ms;
    }
    if (sampled.exitCode !== 0) bench.failed = `the sampler: ${sampled.stderr.trim().slice(-300)}`;
  } catch (error) {
    bench.failed = (error as Error).message;
  }
  return bench;
}

/**
 * chaton's own time: each change of the OSD map (noout, out, destroy, rm-noout) waits about a second
 * for the monitors to commit a new map, Ceph's time that no client can shorten.
 */
const net = (bench: DiskSwapBench) => bench.overheadMs - bench.mapCommitsMs;

/** The most commands that started within any 5 s: the bar is one per host every 5 s. */
function mostInFiveSeconds(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t, i) => sorted.slice(i).filter((u) => u < t + 5000).length));
}

export function diskSwapReport(bench: DiskSwapBench): string[] {
  const loads = Object.entries(bench.commands).map(([host, counts]) => ({
    host,
    total: counts.total,
    inWaits: counts.inWaits.length,
    rate: mostInFiveSeconds(counts.inWaits.map((entry) => entry.t)),
    which: counts.inWaits.map((entry) => entry.args),
  }));
  const worst = Math.max(0, ...loads.map((load) => load.rate));
  const ms = (value: number | undefined) => (value === undefined ? '-' : String(Math.round(value)));
  const lines = [
    `disk swap (a fresh Ceph lab: osd.${OSD} of ${HOST}, ${bench.samples} samples of Ceph's state; ` +
      `exit ${bench.exitCode}, outcome ${bench.outcome})`,
    ...columns([
      ['figure', 'value', 'bar'],
      ['whole run, ms', ms(bench.wallMs), ''],
      ['  Ceph: drain (out to active+clean, none on the OSD), ms', ms(length(bench.drain)), ''],
      [`  Ceph: daemon stop (report's ${STOP}), ms`, ms(bench.phases[STOP]), ''],
      [`  Ceph: ceph-volume zap and create (report's ${CREATE}), ms`, ms(bench.phases[CREATE]), ''],
      ['  Ceph: backfill (daemon start to its PGs back, active+clean), ms', ms(length(bench.backfill)), ''],
      ["  the bench's hands (destroyed to new disk in), ms", ms(bench.handsMs), ''],
      ['whole run - Ceph - hands, ms', ms(bench.overheadMs), ''],
      ["  of which the monitors committing chaton's OSD map changes, ms", ms(bench.mapCommitsMs), ''],
      [
        "chaton's overhead (the same, the monitors' commits counted as Ceph's), ms",
        ms(net(bench)),
        `<= ${OVERHEAD_BAR_MS}`,
      ],
      ...loads.map((load) => [
        `ceph commands on ${load.host}: whole run / most in any 5 s of drain and backfill`,
        `${load.total} / ${load.rate}`,
        `<= ${POLL_BAR_PER_5S}`,
      ]),
      ...Object.entries(bench.phases).map(([phase, duration]) => [`  phase ${phase}, ms`, ms(duration), '']),
    ]),
  ];
  for (const load of loads.filter((candidate) => candidate.inWaits > 0)) {
    lines.push(`  ${load.host}'s ceph commands in drain and backfill: ${load.which.join('; ')}`);
  }
  if (bench.failed) lines.push(`not measured in full: ${bench.failed}`);
  else {
    lines.push(
      `chaton's overhead ${net(bench) <= OVERHEAD_BAR_MS ? 'within' : 'OVER'} its bar; ` +
        `polling load ${worst <= POLL_BAR_PER_5S ? 'within' : 'OVER'} its bar (at most ${worst} per host in 5 s)`,
    );
  }
  return lines;
}
