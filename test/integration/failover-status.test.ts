// `chaton failover status` on a wan lab (test/lab/README.md, WAN mode): the real gateway (busybox
// sh as root's shell, nftables, per-link tables and rules), ISP links cut upstream, the operator
// reaching the bastion by whichever public address works. A healthy site, the backup link cut,
// the main link cut while it carries the default route, a probe that could leave by the other
// link, the gateway out of reach, and bad input refused before anything runs. Needs root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, type Run, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;

before(async () => {
  lab = await freshLab('it-failover', 1, { wan: true });
  env = await sandboxEnv();
});
after(() => lab?.down());

const status = (...args: string[]) => chaton(['-i', lab.inventoryPath, ...args, 'failover', 'status'], { env });
const nagios = () => chaton(['-i', lab.inventoryPath, 'failover', 'status', '--format', 'nagios'], { env });

/** The JSON report of a run, after checking the envelope's exit code against the process's. */
function report(run: Run): Record<string, any> {
  const parsed = JSON.parse(run.stdout) as Record<string, any>;
  assert.equal(parsed.exitCode, run.code, run.stderr);
  assert.equal(parsed.command, 'failover status');
  return parsed;
}

/** Each link as `name state [active]`. */
function links(json: Record<string, any>): string[] {
  return json.links.map((link: any) => `${link.name} ${link.state}${link.active ? ' active' : ''}`);
}

/** The gateway's main table and rules, to show that a run changed nothing there. */
async function gatewayRouting(): Promise<string> {
  const routes = await lab.run('gw', ['ip', 'route', 'show', 'table', 'main']);
  const rules = await lab.run('gw', ['ip', 'rule', 'show']);
  return routes.stdout + rules.stdout;
}

describe('chaton failover status', () => {
  it('says OK on a healthy site: on main, both links up, every target answered through each', async () => {
    const before = await gatewayRouting();
    const table = await status();
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^LINK +STATE +PATH +TARGET +LOSS +RTT\n/);
    assert.match(
      table.stdout,
      /\nmain +up +wan1 via 198\.19\.\d+\.65 +192\.0\.2\.1 +0% +[\d.]+ ms\n\(active\) +table 101 /,
    );
    assert.match(table.stdout, /\n\nOK: on main; main up, backup up\n$/);
    for (const line of table.stdout.split('\n')) assert.ok(line.length <= 80, line);

    const json = report(await status('--json'));
    assert.deepEqual([json.state, json.active, json.exitCode], ['ok', 'main', 0]);
    assert.deepEqual(links(json), ['main up active', 'backup up']);
    assert.deepEqual(json.findings, []);
    assert.ok(
      json.links.every((link: any) => link.answered === 3 && link.targets.every((t: any) => t.outcome === 'answered')),
    );
    assert.equal(json.defaultRoute.dev, 'wan1');
    assert.deepEqual(json.hosts, [{ host: 'gw', ok: true, error: null }]);
    // One session for the interfaces, the routes, the rules, and one per link's probes.
    assert.equal(json.checks.length, 5);

    const plugin = await nagios();
    assert.equal(plugin.code, 0);
    assert.match(plugin.stdout, /^FAILOVER OK - on main; main up, backup up \| 'main answered'=3;;;0;3 /);
    assert.equal(await gatewayRouting(), before);
  });

  it('says WARNING when the backup link is cut: the site still has internet, and no fallback', async () => {
    await lab.ispDown('backup');
    try {
      const json = report(await status('--json'));
      assert.deepEqual([json.state, json.exitCode], ['warning', 0]);
      assert.deepEqual(links(json), ['main up active', 'backup down']);
      assert.equal(json.links[1].reason, '0 of 3 targets answered, 2 needed');
      assert.deepEqual(
        json.findings.map((found: any) => found.code),
        ['link-down'],
      );
      const plugin = await nagios();
      assert.equal(plugin.code, 1);
      assert.match(plugin.stdout, /^FAILOVER WARNING - on main; main up, backup down \| /);
      assert.match(plugin.stdout, /\nWARNING: backup is down: the site has no fallback if main fails/);
      // Cron: a warning is printed under -q, exit 0.
      const quiet = await status('-q');
      assert.equal(quiet.code, 0);
      assert.match(quiet.stdout, /WARNING: on main; main up, backup down/);
    } finally {
      await lab.ispUp('backup');
    }
  });

  it('says CRITICAL when main is cut while it carries the default route: the site has no internet', async () => {
    // The OK is "on main with both links up" only; here main still carries the default
    // route and nothing answers through it: the site is offline though backup is up. Not a
    // warning: the next step (failover to backup) is urgent. The bastion is reached on its backup
    // address, the main one being cut too.
    await lab.ispDown('main');
    try {
      const json = report(await status('--json'));
      assert.deepEqual([json.state, json.exitCode], ['critical', 1]);
      assert.deepEqual(links(json), ['main down active', 'backup up']);
      assert.equal(json.findings[0].code, 'active-link-down');
      assert.match(json.findings[0].message, /the site has no internet \(chaton failover to backup\)$/);
      const plugin = await nagios();
      assert.equal(plugin.code, 2);
      assert.match(
        plugin.stdout,
        /^FAILOVER CRITICAL - on main; main down, backup up \| .*'main 192\.0\.2\.1 loss'=100%/,
      );
    } finally {
      await lab.ispUp('main');
    }
  });

  it('believes no probe that could leave by the other link: main cut, its rule gone, on backup', async () => {
    const { main, backup } = lab.wan!.links;
    const ip = (...argv: string[]) => lab.run('gw', ['ip', ...argv]);
    await lab.ispDown('main');
    await ip('route', 'replace', 'default', 'via', backup.nextHop, 'dev', backup.interface);
    await ip('rule', 'del', 'from', main.publicAddress, 'lookup', String(main.table));
    try {
      // The trap itself: from main's address, the targets answer (through backup).
      const trap = await lab.run('gw', ['ping', '-c', '1', '-W', '1', '-I', main.publicAddress, '192.0.2.1']);
      assert.equal(trap.exitCode, 0);
      const json = report(await status('--json'));
      assert.deepEqual(links(json), ['main unknown', 'backup up active']);
      assert.match(json.links[0].reason, /^no rule sends 198\.19\.\d+\.66 to table 101: .*\(ip rule add from /);
      assert.equal(json.state, 'warning');
    } finally {
      await ip('rule', 'add', 'from', main.publicAddress, 'lookup', String(main.table));
      await ip('route', 'replace', 'default', 'via', main.nextHop, 'dev', main.interface);
      await lab.ispUp('main');
    }
  });

  it('says UNKNOWN (exit 3) when the gateway cannot be reached, and exit 5 for a person or a program', async () => {
    await lab.stopSshd('gw');
    try {
      const plugin = await nagios();
      assert.equal(plugin.code, 3);
      assert.match(plugin.stdout, /^FAILOVER UNKNOWN - gw could not be read: .*gw.*\n→ check that gw is up/);
      const json = report(await status('--json'));
      assert.deepEqual([json.state, json.exitCode, json.active], ['unknown', 5, 'unknown']);
      assert.equal(json.hosts[0].ok, false);
      assert.match(json.hosts[0].error.message, /gw/);
      const table = await status();
      assert.equal(table.code, 5);
      assert.match(table.stdout, /^UNKNOWN: gw could not be read: /);
    } finally {
      await lab.startSshd('gw');
    }
  });

  it('refuses bad input at its line before anything runs: a gateway that is not a host, no probes', async () => {
    const notAHost = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['failover', 'gateway'], 'gw1'));
    const run = await chaton(['-i', notAHost, 'failover', 'status'], { env });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /inventory\.yaml:\d+:\d+: failover\.gateway: "gw1" is not a host of the inventory \(did you mean "gw"\?\)/,
    );
    assert.doesNotMatch(run.stderr, /Connect to bastion/);
    const plugin = await chaton(['-i', notAHost, 'failover', 'status', '--format', 'nagios'], { env });
    assert.equal(plugin.code, 3);
    assert.match(plugin.stdout, /^FAILOVER UNKNOWN - .*failover\.gateway: "gw1" is not a host/);

    const noProbes = await variantInventory(lab.inventoryPath, (doc) =>
      doc.setIn(['failover', 'probes', 'targets'], doc.createNode([])),
    );
    const empty = await chaton(['-i', noProbes, 'failover', 'status'], { env });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /inventory\.yaml:\d+:\d+: failover\.probes\.targets: lists no target/);
  });

  it('refuses a link on an interface the gateway lacks, at the line that names it, and changes nothing', async () => {
    const before = await gatewayRouting();
    const wrong = await variantInventory(lab.inventoryPath, (doc) =>
      doc.setIn(['failover', 'links', 'backup', 'interface'], 'wan9'),
    );
    const run = await chaton(['--json', '-i', wrong, 'failover', 'status'], { env });
    const json = report(run);
    assert.equal(json.exitCode, 2);
    assert.match(
      json.error.message,
      new RegExp(
        'inventory\\.yaml:\\d+:\\d+: failover\\.links\\.backup\\.interface: gw has no interface wan9 ' +
          '\\(its interfaces: .*wan1, wan2.*; nothing was changed\\)',
      ),
    );
    assert.equal(await gatewayRouting(), before);
  });
});
