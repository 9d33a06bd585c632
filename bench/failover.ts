// `npm run bench`, failover part (issue 12, Performance), on a wan lab (real routes, NAT,
// conntrack, BIND): switches to backup and back, each while host001 sends a probe stream every
// 20 ms through the gateway to a target on the lab's internet. Two figures per switch: the
// traffic interruption (probes lost x 20 ms), and the time from `chaton failover to` to the
// confirmed switch, minus the probes' own waits (a round of `count` echo requests 0.2 s apart
// waits (count - 1) x 0.2 s even when every reply is instant; a switch probes twice: before, and
// to prove it, the gateway and host001 at once). Figures and the bars are printed,
// never asserted. `npm run bench -- failover` runs this part alone.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/lab/lab.js';
import { columns, median } from './measure.js';

const CHATON = fileURLToPath(new URL('../../bin/chaton.js', import.meta.url));
/** The bars. */
const INTERRUPTION_BAR_MS = 100;
const SWITCH_BAR_MS = 2000;
const PROBE_EVERY_MS = 20;
/** Probe rounds in one switch: the preflight, then the proof (the gateway and inside, at once). */
const PROBE_ROUNDS = 2;
const STREAM_TARGET = '198.51.100.1';

export interface SwitchFigure {
  to: 'main' | 'backup';
  totalMs: number;
  /** totalMs minus the probes' own waits. */
  withoutProbesMs: number;
  probesSent: number;
  probesLost: number;
  interruptionMs: number;
  steps: Record<string, number>;
}

export interface FailoverBench {
  switches: SwitchFigure[];
  probeWaitMs: number;
}

/** One switch under a probe stream from host001: what chaton says it took, and what was lost. */
async function measuredSwitch(lab: Lab, env: NodeJS.ProcessEnv, to: 'main' | 'backup', probeWaitMs: number) {
  // ping stops at SIGINT and prints its statistics; -i 0.02 needs root, which the lab's is.
  const stream = lab.run('host001', ['ping', '-q', '-i', String(PROBE_EVERY_MS / 1000), '-W', '1', STREAM_TARGET]);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the stream flows before the switch
  const started = performance.now();
  const run = spawnSync(process.execPath, [CHATON, '-i', lab.inventoryPath, '--json', '-y', 'failover', 'to', to], {
    encoding: 'utf8',
    env,
  });
  // From the command line to the confirmed switch (and its DNS update): Node's start-up included.
  const totalMs = Math.round(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await lab.run('host001', ['pkill', '-INT', '-x', 'ping']);
  const { stdout } = await stream;
  if (run.status !== 0) throw new Error(`chaton failover to ${to} exited ${run.status}: ${run.stderr.slice(-500)}`);
  const report = JSON.parse(run.stdout) as { steps: { step: string; durationMs: number }[] };
  const stats = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  const sent = Number(stats?.[1] ?? NaN);
  const lost = sent - Number(stats?.[2] ?? NaN);
  return {
    to,
    totalMs,
    withoutProbesMs: totalMs - PROBE_ROUNDS * probeWaitMs,
    probesSent: sent,
    probesLost: lost,
    interruptionMs: lost * PROBE_EVERY_MS,
    steps: Object.fromEntries(report.steps.map((step) => [step.step, step.durationMs])),
  };
}

/** `rounds` switches each way on a wan lab that has host001 (its inventory's prove_from). */
export async function failoverBench(lab: Lab, env: NodeJS.ProcessEnv, rounds: number): Promise<FailoverBench> {
  const count = 3; // the lab inventory's probes.count
  const probeWaitMs = (count - 1) * 200;
  const switches: SwitchFigure[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const to of ['backup', 'main'] as const) {
      const figure = await measuredSwitch(lab, env, to, probeWaitMs);
      process.stderr.write(
        `  failover to ${to.padEnd(6)} ${String(figure.totalMs).padStart(5)} ms, ` +
          `${figure.probesLost} of ${figure.probesSent} probes lost\n`,
      );
      switches.push(figure);
    }
  }
  return { switches, probeWaitMs };
}

export function failoverReport(bench: FailoverBench): string[] {
  const of = (pick: (figure: SwitchFigure) => number) => {
    const values = bench.switches.map(pick);
    return `${median(values)} (${Math.min(...values)}-${Math.max(...values)})`;
  };
  const interruption = median(bench.switches.map((figure) => figure.interruptionMs));
  const withoutProbes = median(bench.switches.map((figure) => figure.withoutProbesMs));
  const steps = [...new Set(bench.switches.flatMap((figure) => Object.keys(figure.steps)))];
  return [
    `failover (wan lab: ${bench.switches.length} switches, to backup and back; probe stream every ` +
      `${PROBE_EVERY_MS} ms from host001)`,
    ...columns([
      ['figure', 'median (min-max)', 'bar'],
      ['traffic interrupted, ms', of((figure) => figure.interruptionMs), `<= ${INTERRUPTION_BAR_MS}`],
      ['switch, whole run, ms', of((figure) => figure.totalMs), ''],
      [
        `switch minus probe waits (${PROBE_ROUNDS} x ${bench.probeWaitMs} ms), ms`,
        of((figure) => figure.withoutProbesMs),
        `<= ${SWITCH_BAR_MS}`,
      ],
      ...steps.map((step) => [`  step ${step}, ms`, of((figure) => figure.steps[step] ?? 0), '']),
    ]),
    `interruption ${interruption <= INTERRUPTION_BAR_MS ? 'within' : 'OVER'} its bar; ` +
      `switch time ${withoutProbes <= SWITCH_BAR_MS ? 'within' : 'OVER'} its bar`,
  ];
}
