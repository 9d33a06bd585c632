// `chaton failover watchdog` on the wan lab (test/lab/README.md, WAN mode): installed on the
// gateway, its rounds move the real default route, conntrack and the DNS names of BIND. The lab
// has no cron daemon: the test runs each round by hand, as cron's line would (the script with its
// settings file), so no timing is asserted, only what a number of rounds does. Needs root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { askDns, wanOf } from '../lab/wan.js';
import { chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
/** The lab's inventory with a watchdog that acts after 2 rounds: fewer rounds to run by hand. */
let inventory: string;

before(async () => {
  lab = await freshLab('it-watchdog', 1, { wan: true });
  env = await sandboxEnv();
  inventory = await variantInventory(lab.inventoryPath, (doc) =>
    doc.setIn(['failover', 'watchdog'], { down: 2, up: 2 }),
  );
});
after(async () => {
  await lab?.down();
});

const chatonOn = (...args: string[]) => chaton(['-i', inventory, ...args], { env });

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

/**
 * One round, as cron's line runs it (the gateway's /bin/sh reads the script's #! line), or under
 * the gateway's busybox sh (root's login shell there).
 */
async function round(shell: string[] = []): Promise<void> {
  const script = ['/usr/local/sbin/chaton-failover-watchdog', '/etc/chaton/failover-watchdog.conf'];
  const ran = await lab.run('gw', [...shell, ...script]);
  assert.equal(ran.exitCode, 0, ran.stderr);
}

async function defaultRoute(): Promise<string> {
  return (await lab.run('gw', ['ip', 'route', 'show', 'table', 'main', 'default'])).stdout.trim();
}

const exists = async (file: string) => (await lab.run('gw', ['test', '-e', file])).exitCode === 0;

const FILES = [
  '/usr/local/sbin/chaton-failover-watchdog',
  '/etc/chaton/failover-watchdog.conf',
  '/etc/cron.d/chaton-failover-watchdog',
];

describe('failover watchdog', () => {
  it('installs, moves to backup when main dies and back when it returns, shows it, and is removed', async () => {
    const { links } = wanOf(lab);
    const planned = await chatonOn('--dry-run', 'failover', 'watchdog', 'install');
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /sh write \/usr\/local\/sbin\/chaton-failover-watchdog 0755/);
    for (const file of FILES) assert.ok(!(await exists(file)), `dry-run wrote nothing: ${file}`);

    const installed = await chatonOn('--json', '-y', 'failover', 'watchdog', 'install');
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(json(installed.stdout)['outcome'], 'changed');
    for (const file of FILES) assert.ok(await exists(file), file);
    const cron = (await lab.run('gw', ['cat', '/etc/cron.d/chaton-failover-watchdog'])).stdout;
    assert.match(
      cron,
      /^\* \* \* \* \* root \/usr\/local\/sbin\/chaton-failover-watchdog \/etc\/chaton\/failover-watchdog\.conf$/m,
    );
    const again = await chatonOn('-y', 'failover', 'watchdog', 'install');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^unchanged: the watchdog on gw is the one the inventory makes$/m);

    await round(['/usr/local/lib/busybox/sh']);
    assert.match(await defaultRoute(), /dev wan1/);
    await lab.ispDown('main');
    try {
      await round();
      assert.match(await defaultRoute(), /dev wan1/, 'one bad round is not enough');
      await round();
      assert.match(await defaultRoute(), new RegExp(`via ${links.backup.nextHop} dev wan2`));
      assert.deepEqual(await askDns(lab, 'www.site.test'), [links.backup.publicAddress]);

      const status = await chatonOn('--json', 'failover', 'status');
      const watchdog = json(status.stdout)['watchdog'] as Record<string, unknown>;
      assert.deepEqual(
        [watchdog['installed'], watchdog['active'], watchdog['decision']],
        ['current', 'backup', 'to-backup'],
      );
      const shown = await chatonOn('failover', 'status');
      assert.match(shown.stdout, /^watchdog: current, on backup, last round to-backup \(.*\), main bad 0 good 0/m);
    } finally {
      await lab.ispUp('main');
    }
    await round();
    assert.match(await defaultRoute(), /dev wan2/, 'one good round is not enough');
    await round();
    assert.match(await defaultRoute(), new RegExp(`via ${links.main.nextHop} dev wan1`));
    assert.deepEqual(await askDns(lab, 'www.site.test'), [links.main.publicAddress]);

    const status = await chatonOn('--json', 'failover', 'watchdog', 'status');
    assert.equal(status.code, 0, status.stderr);
    const report = json(status.stdout)['watchdog'] as {
      state: Record<string, string>;
      rounds: { words: { decision: string } }[];
    };
    assert.deepEqual(
      report.rounds.map((r) => r.words.decision),
      ['stay', 'stay', 'to-backup', 'stay', 'to-main'],
    );
    assert.equal(report.state['switched'], 'to-main');
    const edited = await variantInventory(inventory, (doc) => doc.setIn(['failover', 'watchdog', 'up'], 3));
    const stale = await chaton(['-i', edited, '--json', 'failover', 'watchdog', 'status'], { env });
    assert.equal((json(stale.stdout)['watchdog'] as { installed: string }).installed, 'stale');

    // A round holding the gateway's failover lock (pid 1 lives): failover to is refused, naming it,
    // and the next round skips.
    const owner = 'chaton-failover-watchdog pid 1 since 2026-12-02T04:00:00Z';
    const hold = `mkdir -p /run/chaton/failover.lock && echo '${owner}' > /run/chaton/failover.lock/owner`;
    assert.equal((await lab.run('gw', ['sh', '-c', hold])).exitCode, 0);
    try {
      const refused = await chatonOn('-y', 'failover', 'to', 'backup');
      assert.equal(refused.code, 3, refused.stderr);
      assert.match(refused.stderr, /held by chaton-failover-watchdog \(pid 1\)/);
      await round();
      const skipped = json((await chatonOn('--json', 'failover', 'watchdog', 'status')).stdout)['watchdog'] as {
        rounds: { words: Record<string, string> }[];
      };
      assert.deepEqual(skipped.rounds.at(-1)!.words, { decision: 'skipped', holder: 'chaton-failover-watchdog' });
    } finally {
      await lab.run('gw', ['rm', '-rf', '/run/chaton/failover.lock']);
    }

    const removed = await chatonOn('-y', 'failover', 'watchdog', 'remove');
    assert.equal(removed.code, 0, removed.stderr);
    for (const file of [...FILES, '/var/lib/chaton/failover-watchdog.state']) assert.ok(!(await exists(file)), file);
    const removedAgain = await chatonOn('-y', 'failover', 'watchdog', 'remove');
    assert.match(removedAgain.stdout, /^unchanged: no watchdog on gw$/m);
    const gone = await chatonOn('--json', 'failover', 'status');
    assert.equal(json(gone.stdout)['watchdog'], null);
  });
});
