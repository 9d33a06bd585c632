// `chaton connections` and `connections close` without a keeper: hand-made keeper states rendered
// as a person reads them and as JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closedReport, keepersReport } from '../../src/commands/connections-view.js';
import type { CommandResult } from '../../src/lib/run/context.js';
import { jsonRenderer, rendererFor } from '../../src/lib/run/report.js';
import type { KeeperState } from '../../src/lib/ssh/keeper/control.js';
import { inFrench } from './in-french.js';

/** A local time of the day the tests say is today (the table shows local times). */
const at = (hours: number, minutes: number, seconds: number, day = 2) =>
  new Date(2026, 11, day, hours, minutes, seconds).toISOString();
const NOW = new Date(2026, 11, 2, 14, 8, 0);

const HOST_KEY = 'SHA256:uMVrjgrFVUYgmN3LMWvBhtqUnTdu4IaBWaiGwXQ0yRQ';
const LOGIN_KEY = 'SHA256:3V7QJ0SOz4BAyT9wLb3dLQ2gSmRpYvH9q3lCFP5Wy3A';

const SITE: KeeperState = {
  inventory: '/home/me/site/chaton.yaml',
  pid: 4242,
  startedAt: at(13, 55, 2),
  expiresAt: at(14, 12, 40),
  connections: [
    {
      host: 'bastion',
      via: [],
      address: '203.0.113.10',
      port: 22,
      user: 'admin',
      since: at(13, 55, 2),
      lastUsed: at(14, 7, 40),
      keyFingerprint: LOGIN_KEY,
      hostKeyFingerprint: HOST_KEY,
    },
    {
      host: 'pve1',
      via: ['bastion', 'inner'],
      address: '10.0.0.11',
      port: 2222,
      user: 'root',
      since: at(23, 59, 59, 1),
      lastUsed: at(14, 7, 41),
      keyFingerprint: LOGIN_KEY,
      hostKeyFingerprint: HOST_KEY,
    },
  ],
};
const IDLE: KeeperState = {
  inventory: '/etc/chaton/inventory.yaml',
  pid: 77,
  startedAt: at(14, 0, 0),
  expiresAt: at(14, 5, 0),
  connections: [],
};

function text(result: CommandResult): string {
  return rendererFor({ json: false, quiet: false }, 200).render({ ...result, command: 'connections list' }) ?? '';
}

function json(result: CommandResult, command: string): Record<string, unknown> {
  return JSON.parse(jsonRenderer.render({ ...result, command })!) as Record<string, unknown>;
}

describe('chaton connections', () => {
  it('shows each keeper, then a row per connection it holds: local times, the day when not today', () => {
    const result = keepersReport([SITE, IDLE], [], NOW);
    assert.equal(result.exitCode, 0);
    const lines = text(result).split('\n');
    assert.deepEqual(lines.slice(0, 2), [
      '/home/me/site/chaton.yaml: keeper process 4242, since 13:55:02, exits at 14:12:40 unless used',
      '',
    ]);
    assert.match(lines[2]!, /^HOST +VIA +ADDRESS +USER +SINCE +LAST USED +KEY$/);
    assert.deepEqual(
      lines.slice(3, 5).map((line) => line.split(/ {2,}/)),
      [
        ['bastion', 'direct', '203.0.113.10:22', 'admin', '13:55:02', '14:07:40', LOGIN_KEY],
        ['pve1', 'bastion > inner', '10.0.0.11:2222', 'root', '2026-12-01 23:59:59', '14:07:41', LOGIN_KEY],
      ],
    );
    assert.deepEqual(lines.slice(5), [
      '',
      '/etc/chaton/inventory.yaml: keeper process 77, since 14:00:00, exits at 14:05:00 unless used',
      '  it holds no connection',
    ]);
  });

  it('says plainly when nothing is kept', () => {
    assert.equal(
      text(keepersReport([], ['/run/user/1000/chaton/keeper-0a1b.sock'], NOW)),
      'no connection kept: no keeper is running (a run with --persist or ssh.persist leaves one)',
    );
  });

  it('gives the keepers as they are in JSON, with the stale sockets removed', () => {
    const stale = ['/run/user/1000/chaton/keeper-0a1b.sock'];
    const report = json(keepersReport([SITE], stale, NOW), 'connections list');
    assert.deepEqual([report.command, report.exitCode, report.error, report.hosts], ['connections list', 0, null, []]);
    assert.deepEqual(report.keepers, [SITE]);
    assert.deepEqual(report.stale, stale);
  });

  it('speaks French under a French locale', () => {
    const shown = inFrench(() => text(keepersReport([SITE, IDLE], [], NOW)));
    assert.match(
      shown,
      /^\/home\/me\/site\/chaton\.yaml : processus gardien 4242, depuis 13:55:02, s'arrête à 14:12:40/,
    );
    assert.match(shown, /^HÔTE +VIA +ADRESSE +UTILISATEUR +DEPUIS +DERNIER USAGE +CLÉ$/m);
    assert.match(shown, /^ {2}il ne tient aucune connexion$/m);
    assert.match(shown, /^bastion +direct /m);
  });
});

describe('chaton connections close', () => {
  it('names each keeper closed, with how many connections it held', () => {
    const result = closedReport([SITE, IDLE], false);
    assert.equal(result.exitCode, 0);
    assert.equal(
      text(result),
      'closed the keeper of /home/me/site/chaton.yaml (process 4242): 2 connections\n' +
        'closed the keeper of /etc/chaton/inventory.yaml (process 77): 0 connections',
    );
    const report = json(result, 'connections close');
    assert.deepEqual([report.dryRun, report.keepers], [false, [SITE, IDLE]]);
  });

  it('with --dry-run, says which it would close and that nothing was', () => {
    assert.equal(
      text(closedReport([SITE], true)),
      'would close the keeper of /home/me/site/chaton.yaml (process 4242): 2 connections\n' +
        'nothing was closed (dry-run)',
    );
  });

  it('says when there was nothing to close', () => {
    assert.equal(text(closedReport([], false)), 'no keeper was running: nothing to close');
    assert.equal(text(closedReport([], true)), 'no keeper was running: nothing to close');
  });
});
