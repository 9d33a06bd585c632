// The judgement of `failover status`: which link carries the default route, each link's state,
// the findings and the verdict, from what the capture's gateway read (see network-scenario.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GatewayRead, type GatewayUnread, judge, type Judgement } from '../../src/lib/network/judge.js';
import { FAILOVER, healthy, NOW, ON_BACKUP, probeOf, probesOf, routedBy } from './network-scenario.js';

const judged = (gateway: GatewayRead | GatewayUnread, failover = FAILOVER): Judgement =>
  judge({ failover, gateway, now: NOW });

/** What a test compares: the state, each link's state, the findings' codes, the verdict. */
function summary(judgement: Judgement) {
  return {
    state: judgement.state,
    active: judgement.active,
    links: judgement.links.map((link) => `${link.link.name} ${link.state}${link.active ? ' active' : ''}`),
    findings: judgement.findings.map((found) => `${found.state} ${found.code} ${found.link ?? '-'}`),
    verdict: judgement.verdict.en,
  };
}

describe('the judgement of failover status', () => {
  it('is OK on main with both links up', () => {
    const judgement = judged(healthy());
    assert.deepEqual(summary(judgement), {
      state: 'ok',
      active: 'main',
      links: ['main up active', 'backup up'],
      findings: [],
      verdict: 'on main; main up, backup up',
    });
    assert.deepEqual(judgement.defaultRoute, { via: '198.19.250.65', dev: 'wan1', metric: 0, onlink: false });
    assert.deepEqual(
      judgement.links.map((link) => link.answered),
      [3, 3],
    );
  });

  it('is WARNING with the backup link down: the site has no fallback', () => {
    const judgement = judged(healthy({ probes: { main: probesOf('iputils-ok'), backup: probesOf('busybox-lost') } }));
    assert.deepEqual(summary(judgement), {
      state: 'warning',
      active: 'main',
      links: ['main up active', 'backup down'],
      findings: ['warning link-down backup'],
      verdict: 'on main; main up, backup down',
    });
    assert.equal(judgement.links[1]!.reason?.en, '0 of 3 targets answered, 2 needed');
    assert.match(judgement.findings[0]!.message.en, /no fallback if main fails/);
  });

  it('is WARNING on backup, and says to go back when main is up again', () => {
    const back = judged(healthy({ routes: routedBy(ON_BACKUP) }));
    assert.deepEqual(summary(back), {
      state: 'warning',
      active: 'backup',
      links: ['main up', 'backup up active'],
      findings: ['warning on-backup backup'],
      verdict: 'on backup; main up, backup up',
    });
    assert.match(back.findings[0]!.message.en, /chaton failover to main/);
    const mainDown = judged(
      healthy({
        routes: routedBy(ON_BACKUP),
        probes: { main: probesOf('iputils-lost'), backup: probesOf('busybox-ok') },
      }),
    );
    assert.deepEqual(summary(mainDown).findings, ['warning on-backup backup', 'warning link-down main']);
    assert.equal(mainDown.state, 'warning');
  });

  it('is CRITICAL when the link that carries the default route is down: the site has no internet', () => {
    // Chosen: the OK is only "on main with both links up"; main down while it carries the
    // default route leaves the site offline even though backup is up, which is worse than a warning.
    const judgement = judged(healthy({ probes: { main: probesOf('iputils-lost'), backup: probesOf('busybox-ok') } }));
    assert.deepEqual(summary(judgement), {
      state: 'critical',
      active: 'main',
      links: ['main down active', 'backup up'],
      findings: ['critical active-link-down main'],
      verdict: 'on main; main down, backup up',
    });
    assert.match(judgement.findings[0]!.message.en, /the site has no internet \(chaton failover to backup\)$/);
  });

  it('is CRITICAL with no link up, and with no default route', () => {
    const none = judged(healthy({ probes: { main: probesOf('iputils-lost'), backup: probesOf('busybox-lost') } }));
    assert.deepEqual(summary(none).findings, ['critical active-link-down main', 'warning link-down backup']);
    assert.match(none.findings[0]!.message.en, /no link is up/);
    assert.equal(none.state, 'critical');
    const noRoute = judged(healthy({ routes: routedBy([]) }));
    assert.deepEqual(summary(noRoute), {
      state: 'critical',
      active: 'none',
      links: ['main up', 'backup up'],
      findings: ['critical no-default-route -'],
      verdict: 'no default route; main up, backup up',
    });
    assert.match(noRoute.findings[0]!.message.en, /chaton failover to main\)$/);
  });

  it('is WARNING when the default route goes through neither link, CRITICAL if no link is up either', () => {
    const elsewhere = routedBy([{ via: '198.19.250.70', dev: 'wan1', metric: 0, onlink: false }]);
    const judgement = judged(healthy({ routes: elsewhere }));
    assert.equal(judgement.state, 'warning');
    assert.equal(judgement.active, 'other');
    assert.equal(judgement.verdict.en, 'default route via 198.19.250.70 dev wan1; main up, backup up');
    const lost = { main: probesOf('iputils-lost'), backup: probesOf('busybox-lost') };
    assert.deepEqual(summary(judged(healthy({ routes: elsewhere, probes: lost }))).findings, [
      'critical no-link-up -',
      'warning default-route-elsewhere -',
      'warning link-down main',
      'warning link-down backup',
    ]);
  });

  it('is UNKNOWN when the gateway cannot be reached or read', () => {
    const unreachable = judged({ error: 'gw: connection refused', reached: false });
    assert.deepEqual(summary(unreachable), {
      state: 'unknown',
      active: 'unknown',
      links: ['main unknown', 'backup unknown'],
      findings: [],
      verdict: 'gw could not be read: gw: connection refused',
    });
    assert.equal(unreachable.reached, false);
    assert.equal(judged({ error: 'ip: not found', reached: true }).reached, true);
  });

  it('believes no probe that could have left by the other link: no rule, no route in the table', () => {
    const noRule = judged(healthy({ rules: healthy().rules.filter((rule) => rule.table !== '101') }));
    assert.deepEqual(summary(noRule), {
      state: 'unknown',
      active: 'main',
      links: ['main unknown active', 'backup up'],
      findings: ['unknown active-link-unproven main'],
      verdict: 'on main; main unknown, backup up',
    });
    assert.match(noRule.links[0]!.reason!.en, /ip rule add from 198\.19\.250\.66 lookup 101\)$/);
    const routes = new Map(healthy().routes);
    routes.set(102, []);
    const noTableRoute = judged(healthy({ routes }));
    assert.deepEqual(summary(noTableRoute).findings, ['warning link-unproven backup']);
    assert.match(noTableRoute.links[1]!.reason!.en, /^table 102 has no default route via 198\.19\.250\.73 dev wan2/);
  });

  it('takes a link whose interface is down or has no carrier for down, whatever its probes said', () => {
    const interfaces = new Map(healthy().interfaces);
    interfaces.set('wan2', { up: true, carrier: false });
    const noCarrier = judged(healthy({ interfaces }));
    assert.deepEqual(summary(noCarrier).links, ['main up active', 'backup down']);
    assert.match(noCarrier.links[1]!.reason!.en, /^wan2 has no carrier/);
    interfaces.set('wan1', { up: false, carrier: false });
    const down = judged(healthy({ interfaces }));
    assert.equal(down.state, 'critical');
    assert.equal(down.links[0]!.reason!.en, 'wan1 is down (ip link set wan1 up)');
  });

  it('counts the targets that answered against reliability; probes that did not run prove nothing', () => {
    const answered = probeOf('iputils-ok', '192.0.2.1');
    const lost = probeOf('iputils-lost', '198.51.100.1');
    const error = probeOf('iputils-no-interface', '203.0.113.1');
    const withBackup = (backup: GatewayRead['probes']['backup']) =>
      judged(healthy({ probes: { main: probesOf('iputils-ok'), backup } })).links[1]!;
    assert.equal(withBackup([answered, probeOf('busybox-partial', '198.51.100.1'), lost]).state, 'up');
    assert.equal(withBackup([answered, lost, lost]).state, 'down');
    const unsure = withBackup([answered, error, lost]);
    assert.equal(unsure.state, 'unknown');
    assert.equal(
      unsure.reason?.en,
      '1 probe did not run to the end: 203.0.113.1: ping: SO_BINDTODEVICE wan9: No such device',
    );
    const failed = withBackup({ error: 'gw: the command timed out' });
    assert.deepEqual(
      [failed.state, failed.reason?.en],
      ['unknown', 'its probes could not run: gw: the command timed out'],
    );
  });

  it("speaks the reader's language in `text`, English in `en`", () => {
    const before = process.env.LC_ALL;
    process.env.LC_ALL = 'fr_FR.UTF-8';
    try {
      const backupDown = { main: probesOf('iputils-ok'), backup: probesOf('busybox-lost') };
      const judgement = judged(healthy({ probes: backupDown }));
      assert.equal(judgement.verdict.text, 'sur main ; main en service, backup en panne');
      assert.equal(judgement.verdict.en, 'on main; main up, backup down');
      assert.match(judgement.findings[0]!.message.text, /^backup est en panne/);
    } finally {
      if (before === undefined) delete process.env.LC_ALL;
      else process.env.LC_ALL = before;
    }
  });
});
