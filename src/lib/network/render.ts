// The judgement of `failover status` for whoever reads it, from the one report model
// (src/lib/run/report.ts): a table for a person (80 columns), the command's JSON fields, the
// Nagios plugin output. Pure: the command prints them. JSON and Nagios are English whatever the
// language.
import { ExitCode } from '../run/errors.js';
import type { Cell } from '../run/output.js';
import type { Block } from '../run/report.js';
import { wrap } from '../run/text.js';
import type { Finding, Judgement, LinkJudgement, LinkState, State } from './judge.js';
import { messages } from './messages.js';
import type { TargetProbe } from './probes.js';

/**
 * chaton's exit code for a person or a program (README's table): 0 OK or a warning, 1 critical,
 * 4 unknown (something could not be proven), 5 the gateway could not be reached.
 */
export function exitCodeOf(judgement: Judgement): ExitCode {
  if (!judgement.reached) return ExitCode.connection;
  if (judgement.state === 'critical') return ExitCode.failed;
  return judgement.state === 'unknown' ? ExitCode.partial : ExitCode.ok;
}

/** The Monitoring Plugins' codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
const NAGIOS_CODE: Record<State, 0 | 1 | 2 | 3> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

// ---------------------------------------------------------------------------------------------
// For a person

function stateWord(state: State): string {
  return {
    ok: messages.stateOk,
    warning: messages.stateWarning,
    critical: messages.stateCritical,
    unknown: messages.stateUnknown,
  }[state];
}

const NONE = '-';

function linkStateWord(state: LinkState): string {
  return { up: messages.linkUp, down: messages.linkDown, unknown: messages.linkUnknown }[state];
}

/** Milliseconds as ping shows them, to two decimals under 10 ms. */
function rtt(probe: TargetProbe): string {
  const avg = probe.rttMs?.avg;
  return avg === undefined ? NONE : `${avg < 10 ? avg.toFixed(2) : Math.round(avg)} ms`;
}

function loss(probe: TargetProbe): string {
  return probe.outcome === 'error' ? messages.probeError : `${probe.lossPercent}%`;
}

function linkCells(judged: LinkJudgement): Cell[] {
  const { link } = judged;
  const state = linkStateWord(judged.state);
  const path = [`${link.interface} via ${link.nextHop}`, link.table === undefined ? '' : `table ${link.table}`];
  const lines = (of: (probe: TargetProbe) => string) => judged.probes.map(of).join('\n') || NONE;
  return [
    judged.active ? `${link.name}\n${messages.activeMark}` : link.name,
    judged.state === 'up' ? state : { text: state, failed: true },
    path.filter(Boolean).join('\n'),
    lines((probe) => probe.target),
    lines(loss),
    lines(rtt),
  ];
}

/** What a person reads: one row per link, why a link is not up, the findings, the verdict. */
export function reportView(judgement: Judgement, width: number): Block[] {
  const blocks: Block[] = [];
  if (judgement.reached) {
    const columns = [
      messages.columnLink,
      messages.columnState,
      messages.columnPath,
      messages.columnTarget,
      messages.columnLoss,
      messages.columnRtt,
    ];
    blocks.push({ columns, rows: judgement.links.map(linkCells), failures: [] });
  }
  const indented = (text: string) => wrap(text, width - 2, '    ').map((line) => `  ${line}`);
  const reasons = judgement.links.flatMap((judged) =>
    judged.reason
      ? indented(messages.linkReason(judged.link.name, linkStateWord(judged.state), judged.reason.text))
      : [],
  );
  const findings = judgement.findings.flatMap((found) =>
    indented(messages.stateLine(stateWord(found.state), found.message.text)),
  );
  if (reasons.length + findings.length > 0) blocks.push({ text: [...reasons, ...findings].join('\n') });
  const verdict = wrap(messages.stateLine(stateWord(judgement.state), judgement.verdict.text), width, '  ');
  const hint = judgement.hint ? wrap(`→ ${judgement.hint}`, width - 2, '  ').map((line) => `  ${line}`) : [];
  blocks.push({ text: [...verdict, ...hint].join('\n') });
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// JSON

function findingJson(found: Finding): Record<string, unknown> {
  return { state: found.state, code: found.code, link: found.link ?? null, message: found.message.en };
}

function probeJson(probe: TargetProbe): Record<string, unknown> {
  return {
    target: probe.target,
    outcome: probe.outcome,
    sent: probe.sent ?? null,
    received: probe.received,
    lossPercent: probe.lossPercent,
    // Not `...Ms`: those are chaton's own timings, in whole milliseconds; these keep ping's decimals.
    rtt: probe.rttMs ?? null,
    detail: probe.detail ?? null,
  };
}

function linkJson(judged: LinkJudgement): Record<string, unknown> {
  const { link } = judged;
  return {
    name: link.name,
    state: judged.state,
    active: judged.active,
    interface: link.interface,
    nextHop: link.nextHop,
    source: link.source,
    publicAddress: link.publicAddress,
    table: link.table ?? null,
    answered: judged.answered,
    reason: judged.reason?.en ?? null,
    targets: judged.probes.map(probeJson),
  };
}

/** The command's own fields in the JSON envelope. */
export function reportFields(judgement: Judgement): Record<string, unknown> {
  const route = judgement.defaultRoute;
  return {
    state: judgement.state,
    verdict: judgement.verdict.en,
    time: new Date(judgement.now).toISOString(),
    gateway: judgement.gateway,
    active: judgement.active,
    defaultRoute: route
      ? {
          via: route.via ?? null,
          dev: route.dev,
          src: route.src ?? null,
          metric: route.metric,
          protocol: route.protocol ?? 'boot',
        }
      : null,
    reliability: judgement.reliability,
    links: judgement.links.map(linkJson),
    findings: judgement.findings.map(findingJson),
  };
}

// ---------------------------------------------------------------------------------------------
// Nagios

/** A perfdata label: in single quotes, a quote doubled; `=` is not allowed in it. */
function perfLabel(text: string): string {
  return `'${text.replace(/=/g, '_').replace(/'/g, "''")}'`;
}

/**
 * The plugin output: `FAILOVER <STATE> - <verdict> | <perfdata>` (per link, the targets that
 * answered; per target, its loss in % and its average round trip in ms), then one line per
 * finding and per link that is not up. Exit code as the Monitoring Plugins say.
 */
export function nagiosReport(judgement: Judgement): { text: string; exitCode: 0 | 1 | 2 | 3 } {
  // A link not probed (the gateway not read, its probes failed) has no values: none rather than zeros.
  const probed = judgement.links.filter((judged) => judged.probes.length > 0);
  const perfdata = probed.flatMap((judged) => {
    const name = judged.link.name;
    return [
      `${perfLabel(`${name} answered`)}=${judged.answered};;;0;${judged.probes.length}`,
      ...judged.probes.flatMap((probe) => [
        `${perfLabel(`${name} ${probe.target} loss`)}=${probe.outcome === 'error' ? 'U' : `${probe.lossPercent}%`}` +
          ';;;0;100',
        `${perfLabel(`${name} ${probe.target} rtt`)}=${probe.rttMs ? `${probe.rttMs.avg}ms` : 'U'};;;0;`,
      ]),
    ];
  });
  // A | would end the text: the rest would be read as perfdata.
  const noPipe = (text: string) => text.replace(/\|/g, '/');
  const summary = noPipe(judgement.verdict.en);
  const status = `FAILOVER ${judgement.state.toUpperCase()} - ${summary}`;
  const first = perfdata.length > 0 ? `${status} | ${perfdata.join(' ')}` : status;
  const details = [
    ...judgement.findings.map((found) => `${found.state.toUpperCase()}: ${found.message.en}`),
    ...(judgement.hint ? [`→ ${judgement.hint}`] : []),
    ...judgement.links.flatMap((judged) =>
      judged.reason ? [`${judged.link.name} ${judged.state}: ${judged.reason.en}`] : [],
    ),
  ].map(noPipe);
  return { text: [first, ...details].join('\n'), exitCode: NAGIOS_CODE[judgement.state] };
}
