// failover to's decision and proof (src/lib/network/switch.ts), on the captured gateway of
// network-scenario.ts: real ip and ping outputs, judged as failover status judges them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, type GatewayRead } from '../../src/lib/network/judge.js';
import { decideSwitch, switchUnproven } from '../../src/lib/network/switch.js';
import { FAILOVER, healthy, NOW, ON_BACKUP, probesOf, routedBy } from './network-scenario.js';

const judged = (gateway: GatewayRead) => judge({ failover: FAILOVER, gateway, now: NOW });
const backupLost = healthy({ probes: { main: probesOf('iputils-ok'), backup: probesOf('busybox-lost') } });

describe('failover to: the decision', () => {
  it('already on the link: unchanged; the other link up: switch, from where the site is', () => {
    assert.deepEqual(decideSwitch(judged(healthy()), 'main', false), { kind: 'unchanged' });
    assert.deepEqual(decideSwitch(judged(healthy()), 'backup', false), { kind: 'switch', from: 'main', forced: false });
    const onBackup = judged(healthy({ routes: routedBy(ON_BACKUP) }));
    assert.deepEqual(decideSwitch(onBackup, 'backup', false), { kind: 'unchanged' });
    assert.deepEqual(decideSwitch(onBackup, 'main', false), { kind: 'switch', from: 'backup', forced: false });
  });

  it('the link not up: refused with why, unless forced', () => {
    const refused = decideSwitch(judged(backupLost), 'backup', false);
    assert.equal(refused.kind, 'refused');
    assert.match(
      refused.kind === 'refused' ? refused.reason : '',
      /^backup is not up \(0 of 3 targets answered, 2 needed\): switching to it would cut the site off; nothing/,
    );
    assert.deepEqual(decideSwitch(judged(backupLost), 'backup', true), { kind: 'switch', from: 'main', forced: true });
  });
});

describe('failover to: the proof', () => {
  const answering = { host: 'host001', probes: probesOf('iputils-ok') };

  it('holds with the route through the link, the link up, and the targets answering from inside', () => {
    const after = judged(healthy({ routes: routedBy(ON_BACKUP) }));
    assert.equal(switchUnproven(after, 'backup', answering), undefined);
    assert.equal(switchUnproven(after, 'backup'), undefined, 'no prove_from: the gateway alone');
  });

  it('fails when the route is elsewhere, the link down, or the targets silent from inside', () => {
    assert.match(switchUnproven(judged(healthy()), 'backup') ?? '', /^the default route does not go through backup: /);
    const dead = judged({ ...backupLost, routes: routedBy(ON_BACKUP) });
    assert.match(switchUnproven(dead, 'backup') ?? '', /^backup does not carry traffic from gw \(0 of 3 targets/);
    const silent = { host: 'host001', probes: probesOf('busybox-lost') };
    assert.equal(
      switchUnproven(judged(healthy({ routes: routedBy(ON_BACKUP) })), 'backup', silent),
      'from host001, 0 of 3 targets answered through the gateway, 2 needed',
    );
  });
});
