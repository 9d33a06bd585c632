// The judgement of `failover status` for each reader: the table (80 columns, both languages), the
// JSON fields, the Nagios plugin output and the exit codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GatewayRead, type GatewayUnread, judge } from '../../src/lib/network/judge.js';
import { exitCodeOf, nagiosReport, reportFields, reportView } from '../../src/lib/network/render.js';
import type { Block } from '../../src/lib/run/report.js';
import { rendererFor } from '../../src/lib/run/report.js';
import { FAILOVER, healthy, NOW, ON_BACKUP, probeOf, probesOf, routedBy } from './network-scenario.js';

const judged = (gateway: GatewayRead | GatewayUnread) => judge({ failover: FAILOVER, gateway, now: NOW });
/** The backup ISP's line cut: its targets lost. */
const backupCut = () => {
  const probes = { main: probesOf('iputils-ok'), backup: probesOf('busybox-lost') };
  return judged(healthy({ probes }));
};

/** The view as the terminal shows it, `width` columns wide. */
function shown(blocks: Block[], width = 80): string {
  const text = rendererFor({ json: false, quiet: false }, width).render({
    command: 'failover status',
    exitCode: 0,
    hosts: [],
    view: blocks,
  });
  return text ?? '';
}

describe('failover status for a person', () => {
  it('shows each link, its path and its targets in 80 columns, why a link is down, and the verdict', () => {
    const text = shown(reportView(backupCut(), 80));
    for (const line of text.split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^LINK +STATE +PATH +TARGET +LOSS +RTT$/);
    assert.match(lines[1]!, /^main +up +wan1 via 198\.19\.250\.65 +192\.0\.2\.1 +0% +\d+\.\d\d ms$/);
    assert.match(lines[2]!, /^\(active\) +table 101 +198\.51\.100\.1 +0% /);
    assert.match(text, /\nbackup +down +wan2 via 198\.19\.250\.73 +192\.0\.2\.1 +100% +-\n/);
    assert.match(
      text,
      /\n {2}backup down: 0 of 3 targets answered, 2 needed\n {2}WARNING: backup is down: the site has no fallback/,
    );
    assert.match(text, /\n\nWARNING: on main; main up, backup down$/);
  });

  it('fits 80 columns in French too, and says a probe that did not run', () => {
    const before = process.env.LC_ALL;
    process.env.LC_ALL = 'fr_FR.UTF-8';
    try {
      const error = probeOf('iputils-no-interface', '203.0.113.1');
      const gateway = healthy({
        probes: { main: probesOf('iputils-ok'), backup: [...probesOf('busybox-ok').slice(0, 2), error] },
      });
      const text = shown(reportView(judged(gateway), 80));
      for (const line of text.split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
      assert.match(text, /^LIEN +ÉTAT +CHEMIN +CIBLE +PERTE +RTT\n/);
      assert.match(text, /203\.0\.113\.1 +erreur +-/);
      assert.match(text, /\n\nOK : sur main ; main en service, backup en service$/);
    } finally {
      if (before === undefined) delete process.env.LC_ALL;
      else process.env.LC_ALL = before;
    }
  });

  it('shows only the verdict, and what to do, when the gateway could not be reached', () => {
    const unreachable = judged({ error: 'gw: connection refused', hint: 'check that gw is up', reached: false });
    assert.equal(
      shown(reportView(unreachable, 80)),
      'UNKNOWN: gw could not be read: gw: connection refused\n  → check that gw is up',
    );
    assert.deepEqual(nagiosReport(unreachable).text.split('\n'), [
      'FAILOVER UNKNOWN - gw could not be read: gw: connection refused',
      '→ check that gw is up',
    ]);
  });
});

describe('failover status for programs and the monitoring', () => {
  it('gives programs every link, its targets and the findings, in English', () => {
    const fields = reportFields(backupCut());
    assert.deepEqual(Object.keys(fields), [
      'state',
      'verdict',
      'time',
      'gateway',
      'active',
      'defaultRoute',
      'reliability',
      'links',
      'findings',
    ]);
    assert.deepEqual(
      [fields.state, fields.verdict, fields.time, fields.gateway, fields.active, fields.defaultRoute],
      [
        'warning',
        'on main; main up, backup down',
        '2026-12-02T03:00:00.000Z',
        'gw',
        'main',
        { via: '198.19.250.65', dev: 'wan1', src: null, metric: 0, protocol: 'boot' },
      ],
    );
    const [main, backup] = fields.links as Record<string, unknown>[];
    assert.deepEqual(
      { ...main, targets: undefined },
      {
        name: 'main',
        state: 'up',
        active: true,
        interface: 'wan1',
        nextHop: '198.19.250.65',
        source: '198.19.250.66',
        publicAddress: '198.19.250.66',
        table: 101,
        answered: 3,
        reason: null,
        targets: undefined,
      },
    );
    assert.deepEqual((backup!.targets as unknown[])[0], {
      target: '192.0.2.1',
      outcome: 'lost',
      sent: 3,
      received: 0,
      lossPercent: 100,
      rtt: null,
      detail: null,
    });
    assert.deepEqual(fields.findings, [
      {
        state: 'warning',
        code: 'link-down',
        link: 'backup',
        message: "backup is down: the site has no fallback if main fails (call the backup line's ISP)",
      },
    ]);
  });

  it('prints one Nagios status line with each link and target in its perfdata, then the details', () => {
    const healthyReport = nagiosReport(judged(healthy()));
    assert.equal(healthyReport.exitCode, 0);
    const [first, ...details] = healthyReport.text.split('\n');
    assert.deepEqual(details, []);
    const [status, perfdata] = first!.split(' | ');
    assert.equal(status, 'FAILOVER OK - on main; main up, backup up');
    const values = perfdata!.match(/'[^']*'=\S+/g)!;
    assert.equal(values.length, 2 * (1 + 2 * 3));
    assert.equal(values[0], "'main answered'=3;;;0;3");
    assert.equal(values[1], "'main 192.0.2.1 loss'=0%;;;0;100");
    assert.match(values[2]!, /^'main 192\.0\.2\.1 rtt'=\d+\.\d+ms;;;0;$/);

    const cut = nagiosReport(backupCut());
    assert.equal(cut.exitCode, 1);
    assert.deepEqual(cut.text.split('\n').slice(1), [
      "WARNING: backup is down: the site has no fallback if main fails (call the backup line's ISP)",
      'backup down: 0 of 3 targets answered, 2 needed',
    ]);
    assert.match(
      cut.text,
      /^FAILOVER WARNING - on main; main up, backup down \| .*'backup 192\.0\.2\.1 loss'=100%;;;0;100 /,
    );
    assert.match(cut.text, / 'backup 192\.0\.2\.1 rtt'=U;;;0; /);
  });

  it('says CRITICAL (2) with no internet, UNKNOWN (3) without the gateway, OK only on main with both up', () => {
    const mainDown = judged(healthy({ probes: { main: probesOf('iputils-lost'), backup: probesOf('busybox-ok') } }));
    assert.equal(nagiosReport(mainDown).exitCode, 2);
    assert.match(nagiosReport(mainDown).text, /^FAILOVER CRITICAL - on main; main down, backup up \| /);
    assert.equal(nagiosReport(judged(healthy({ routes: routedBy(ON_BACKUP) }))).exitCode, 1);
    const unreachable = nagiosReport(judged({ error: 'gw: connection refused | timed out', reached: false }));
    assert.deepEqual(unreachable, {
      text: 'FAILOVER UNKNOWN - gw could not be read: gw: connection refused / timed out',
      exitCode: 3,
    });
  });

  it("gives chaton's own exit codes: 0 OK or warning, 1 critical, 4 unknown, 5 gateway not reached", () => {
    assert.equal(exitCodeOf(judged(healthy())), 0);
    assert.equal(exitCodeOf(backupCut()), 0);
    assert.equal(exitCodeOf(judged(healthy({ routes: routedBy([]) }))), 1);
    assert.equal(exitCodeOf(judged({ error: 'ip: not found', reached: true })), 4);
    assert.equal(exitCodeOf(judged({ error: 'gw: connection refused', reached: false })), 5);
  });
});
