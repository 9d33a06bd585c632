// `chaton failover to` on the wan lab (test/lab/README.md, WAN mode): real routes, nftables NAT,
// conntrack and BIND; the operator reaches the bastion only through the gateway's port forwards,
// so chaton's own path depends on the links it switches. Needs root.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { askDns, gatewayConntrack, ispCounters, wanOf } from '../lab/wan.js';
import { chaton, freshLab, sandboxEnv, variantInventory, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
/** The lab's inventory with a short revert_after: a revert that must fire does within the test. */
let quick: string;
const REVERT_AFTER = 10;

before(async () => {
  lab = await freshLab('it-failover-to', 1, { wan: true });
  env = await sandboxEnv();
  quick = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['failover', 'revert_after'], REVERT_AFTER));
});
after(async () => {
  await lab?.down();
});

function failover(
  args: string[],
  options: { inventory?: string; onSpawn?: Parameters<typeof chaton>[1]['onSpawn'] } = {},
) {
  return chaton(['-i', options.inventory ?? lab.inventoryPath, ...args], {
    env,
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
  });
}

/** The gateway's main-table default route, as ip prints it. */
async function defaultRoute(): Promise<string> {
  return (await lab.run('gw', ['ip', 'route', 'show', 'table', 'main', 'default'])).stdout.trim();
}

/** What the site looks like when it runs on main: both ISPs up, the default route by wan1, no lock. */
async function backOnMain(): Promise<void> {
  const { main } = wanOf(lab).links;
  await lab.ispUp('main');
  await lab.ispUp('backup');
  const route = [
    'ip',
    'route',
    'replace',
    'default',
    'via',
    main.nextHop,
    'dev',
    main.interface,
    'src',
    main.publicAddress,
  ];
  assert.equal((await lab.run('gw', route)).exitCode, 0);
  await lab.run('gw', ['sh', '-c', 'rm -rf /run/chaton/failover.lock /run/chaton/apply-* /run/chaton/revert-*']);
}

afterEach(backOnMain);

/** Polls `check` every 50 ms until it holds or `boundMs` passed; whether it held. */
async function until(check: () => Promise<boolean>, boundMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The detached change has started on the gateway: its state directory is there. */
async function changeStarted(): Promise<boolean> {
  return (await lab.run('gw', ['sh', '-c', 'ls -d /run/chaton/apply-* 2>/dev/null'])).exitCode === 0;
}

function json(run: Run): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('failover to', () => {
  it('to backup and back: the route moves, inner traffic crosses the backup ISP, DNS and conntrack follow', async () => {
    const { links } = wanOf(lab);
    assert.match(await defaultRoute(), /dev wan1/);
    // A flow of the main link that conntrack must forget: a ping from inside, NATed to main's address.
    await lab.run('host001', ['ping', '-c', '1', '-W', '1', '192.0.2.1']);
    assert.ok((await gatewayConntrack(lab)).some((line) => line.includes(`dst=${links.main.publicAddress}`)));

    const switched = await failover(['--json', '-y', 'failover', 'to', 'backup']);
    assert.equal(switched.code, 0, switched.stderr);
    const report = json(switched);
    assert.equal(report['outcome'], 'switched');
    assert.equal(report['from'], 'main');
    assert.deepEqual(
      (report['steps'] as { step: string }[]).map((step) => step.step),
      ['arm', 'apply', 'reconnect', 'prove', 'disarm', 'conntrack', 'dns'],
    );
    assert.match(await defaultRoute(), new RegExp(`via ${links.backup.nextHop} dev wan2`));
    assert.ok(
      !(await gatewayConntrack(lab)).some(
        (line) => line.includes(`dst=${links.main.publicAddress} `) && /icmp/.test(line),
      ),
      "the main link's flows are gone",
    );
    for (const name of ['www.site.test', 'mail.site.test']) {
      assert.deepEqual(await askDns(lab, name), [links.backup.publicAddress]);
    }
    // Real traffic from inside now leaves by the backup ISP, not by main's.
    const [mainBefore, backupBefore] = [await ispCounters(lab, 'main'), await ispCounters(lab, 'backup')];
    assert.equal((await lab.run('host001', ['ping', '-c', '5', '-i', '0.2', '-W', '1', '198.51.100.1'])).exitCode, 0);
    const [mainAfter, backupAfter] = [await ispCounters(lab, 'main'), await ispCounters(lab, 'backup')];
    assert.ok(backupAfter.toInternet.packets - backupBefore.toInternet.packets >= 5);
    assert.equal(mainAfter.toInternet.packets, mainBefore.toInternet.packets);

    const again = await failover(['-y', 'failover', 'to', 'backup']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^unchanged: gw already sends the site out by backup$/m);

    const back = await failover(['-y', 'failover', 'to', 'main']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(await defaultRoute(), new RegExp(`via ${links.main.nextHop} dev wan1`));
    assert.deepEqual(await askDns(lab, 'www.site.test'), [links.main.publicAddress]);
    const [mainLast] = [await ispCounters(lab, 'main')];
    await lab.run('host001', ['ping', '-c', '3', '-i', '0.2', '-W', '1', '198.51.100.1']);
    assert.ok((await ispCounters(lab, 'main')).toInternet.packets - mainLast.toInternet.packets >= 3);
  });

  it('the backup link dead: refused, exit 3, nothing changed; --dry-run prints the plan and changes nothing', async () => {
    await lab.ispDown('backup');
    const refused = await failover(['-y', 'failover', 'to', 'backup']);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /backup is not up \(0 of 3 targets answered, 2 needed\): switching to it would cut/);
    assert.match(await defaultRoute(), /dev wan1/);
    await lab.ispUp('backup');

    const dry = await failover(['-n', 'failover', 'to', 'backup']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /ip route replace default via \S+ dev wan2 src /);
    assert.match(dry.stdout, /ip route add default/, 'the revert, inside the arming command');
    assert.match(dry.stdout, /^conntrack -D -q /m);
    assert.match(dry.stdout, /^dry-run: would switch from main to backup/m);
    assert.match(await defaultRoute(), /dev wan1/);
    assert.equal((await lab.run('gw', ['test', '-e', '/run/chaton/failover.lock'])).exitCode, 1);
  });

  it('the backup link dies right after the switch: the revert restores main, chaton says so, exit 1', async () => {
    const run = await failover(['--json', '-y', 'failover', 'to', 'backup'], {
      inventory: quick,
      onSpawn: () => {
        // As the route moves, the backup ISP loses its upstream (chaton polls the change's end
        // every 250 ms before it proves anything).
        void until(changeStarted).then(() => lab.ispDown('backup'));
      },
    });
    assert.equal(run.code, 1, run.stderr);
    const report = json(run);
    assert.equal(report['outcome'], 'reverted');
    assert.equal(report['routesBack'], true);
    assert.match(String(report['why']), /backup does not carry traffic from gw|targets answered/);
    assert.match(await defaultRoute(), /dev wan1/);
  });

  it('chaton killed during the change: the switch completes detached, and the revert it never disarmed fires', async () => {
    const run = await failover(['-y', 'failover', 'to', 'backup'], {
      inventory: quick,
      onSpawn: (child) => {
        void until(changeStarted).then(() => child.kill('SIGKILL'));
      },
    });
    assert.equal(run.signal, 'SIGKILL');
    // Never a half state: the route is switched, then put back by the revert.
    assert.ok(await until(async () => /dev wan2/.test(await defaultRoute())), 'the switch completed');
    const reverted = await until(async () => /dev wan1/.test(await defaultRoute()), (REVERT_AFTER + 10) * 1000);
    assert.ok(reverted, 'the revert put main back');
    const states = await lab.run('gw', ['sh', '-c', 'cat /run/chaton/revert-*/state']);
    assert.match(states.stdout, /^ended \d+ 0$/m, 'the revert ran and succeeded');
  });

  it('main dead before the run: the bastion is reached on its backup address and the failover works', async () => {
    await lab.ispDown('main');
    const status = await failover(['failover', 'status']);
    assert.equal(status.code, 1, status.stderr);
    const run = await failover(['--json', '-y', 'failover', 'to', 'backup']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(json(run)['outcome'], 'switched');
    assert.match(await defaultRoute(), /dev wan2/);
  });

  it("a failover while another operator's runs: refused, naming who holds the lock and since when", async () => {
    const owner = 'alice@laptop pid 4242 since 2026-12-02T03:00:00.000Z';
    const take = 'mkdir -p -m 0700 /run/chaton && mkdir /run/chaton/failover.lock && printf "%s\\n" "$1" > "$2"';
    await lab.run('gw', ['sh', '-c', take, 'sh', owner, '/run/chaton/failover.lock/owner']);
    const run = await failover(['-y', 'failover', 'to', 'backup']);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /the lock failover is held by alice@laptop \(pid 4242\) since /);
    assert.match(await defaultRoute(), /dev wan1/);
  });
});
