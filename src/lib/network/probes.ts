// The probes of a link: every target pinged at once, through that link only, in one session (see
// each.ts). Through the link only: with a table, `ping -I <source>` binds the link's address and
// `ip rule from <source> lookup <table>` sends it out by the link's own table. That rule is what
// makes the probe true: `ping -I <address>` only picks the source, and without the rule the
// kernel routes it by the main table, out of whichever link carries the default route, so a dead
// main link "answers" through the backup one (test/unit/fixtures/network: iputils-trap). The
// judgement checks the rule and the table (see routing.ts) before it believes a probe. Without a
// table, `ping -I <interface>` binds the interface; the main table must then hold a route by it.
import type { Fact } from '../remote/facts.js';
import { eachAtOnce, parseEach } from './each.js';
import type { FailoverLink, ProbeSettings } from './inventory.js';

/** Seconds between echo requests: a round of 3 takes 0.4 s plus the wait for the last reply. */
const INTERVAL = '0.2';

/**
 * One target's probe:
 * - answered: at least one reply came back;
 * - lost: the requests went out (or could not, "Network is unreachable"), and nothing came back;
 * - error: ping did not run to its end (no such interface, no ping): it proves nothing.
 */
export interface TargetProbe {
  target: string;
  outcome: 'answered' | 'lost' | 'error';
  sent?: number;
  received: number;
  lossPercent: number;
  /** Round-trip times of the replies, in milliseconds. */
  rttMs?: { min: number; avg: number; max: number };
  /** What ping said of a failure (its last `ping:` line). */
  detail?: string;
}

/** The probes of one link: iputils' and busybox's ping take the same options here. */
export function linkProbesFact(link: FailoverLink, probes: ProbeSettings): Fact<TargetProbe[]> {
  return probesFact(probes, linkPing(link, probes));
}

/** The ping of one target through `link`, the target left off (the watchdog's probes too). */
export function linkPing(link: FailoverLink, probes: ProbeSettings): string[] {
  return ping(probes, ['-I', link.table === undefined ? link.interface : link.source]);
}

/**
 * The probes from a host inside the site, by its own routes: through the gateway, whichever link
 * carries the default route there (failover's end-to-end proof).
 */
export function insideProbesFact(probes: ProbeSettings): Fact<TargetProbe[]> {
  return probesFact(probes, ping(probes, []));
}

function ping(probes: ProbeSettings, through: readonly string[]): string[] {
  return ['ping', '-q', '-c', String(probes.count), '-i', INTERVAL, '-W', String(probes.timeout), ...through];
}

function probesFact(probes: ProbeSettings, ping: readonly string[]): Fact<TargetProbe[]> {
  return {
    command: eachAtOnce(probes.targets, ping),
    parse: (stdout) => {
      const runs = parseEach(stdout);
      return probes.targets.map((target) => {
        const run = runs.get(target);
        return run ? parsePing(target, run.code, run.output) : { ...NOT_RUN, target };
      });
    },
  };
}

/** A target the script never got to (it stopped): nothing is proven. */
const NOT_RUN: Omit<TargetProbe, 'target'> = { outcome: 'error', received: 0, lossPercent: 100 };

// iputils: "3 packets transmitted, 3 received, +2 errors, 100% packet loss, time 407ms";
// busybox:  "3 packets transmitted, 3 packets received, 0% packet loss".
const STATISTICS = /^(\d+) packets transmitted, (\d+) (?:packets )?received,.*?([\d.]+)% packet loss/m;
// iputils: "rtt min/avg/max/mdev = 0.067/0.269/0.629/0.254 ms";
// busybox: "round-trip min/avg/max = 0.141/0.156/0.165 ms".
const ROUND_TRIP = /^(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = ([\d.]+)\/([\d.]+)\/([\d.]+)/m;

/**
 * What one ping said, from its output (stdout and stderr) and exit status: 0 a reply came, 1 none
 * (busybox: also any failure), 2 iputils' other errors, 127 no ping. Its statistics decide:
 * without them, ping stopped before its end, and the failure line says why.
 */
export function parsePing(target: string, code: number, output: string): TargetProbe {
  const failure = output
    .split('\n')
    .filter((line) => line.startsWith('ping: ') || line.includes('not found'))
    .pop();
  const detail = failure === undefined ? {} : { detail: failure };
  const statistics = STATISTICS.exec(output);
  if (!statistics || code > 1) {
    // busybox stops at the first request it cannot send: no route out, nothing went out.
    const lost = code === 1 && failure?.includes('Network is unreachable') === true;
    return { target, outcome: lost ? 'lost' : 'error', received: 0, lossPercent: 100, ...detail };
  }
  const received = Number(statistics[2]);
  const roundTrip = ROUND_TRIP.exec(output);
  return {
    target,
    outcome: received > 0 ? 'answered' : 'lost',
    sent: Number(statistics[1]),
    received,
    lossPercent: Number(statistics[3]),
    ...(roundTrip
      ? { rttMs: { min: Number(roundTrip[1]), avg: Number(roundTrip[2]), max: Number(roundTrip[3]) } }
      : {}),
    ...detail,
  };
}
