// Proves the lab's WAN mode with the real tools (README: WAN mode): NAT and routing through the ISP
// of the main link or the backup one, connection tracking, policy routing per link when a link is
// cut, the operator's SSH through each public address, TSIG-signed DNS updates, and that nothing
// of the lab's "internet" is reachable from the machine. Needs root.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { labDown, type Lab } from '../lab/lab.js';
import { LAB_ROOT, type LabConfig, type WanLayout } from '../lab/topology.js';
import { askDns, gatewayConntrack, ispCounters, runInWan, type IspCounters } from '../lab/wan.js';
import { freshLab } from './chaton.js';

/** OpenSSH from the root namespace with the lab's operator key and known_hosts, nothing else. */
function sshOptions(lab: Lab): string[] {
  return [
    ...['-i', lab.operatorKeyPath, '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-F', 'none'],
    ...['-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2'],
  ];
}

function sshFromRoot(lab: Lab, address: string, command: string, extra: string[] = []) {
  return execa('ssh', [...sshOptions(lab), ...extra, `root@${address}`, command], { reject: false });
}

/** Echo requests from `host` to every probe target; how many answered. */
async function pingTargets(lab: Lab, host: string, wan: WanLayout): Promise<number> {
  const answers = await Promise.all(
    wan.probeTargets.map(async (target) => {
      const { stdout } = await lab.run(host, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', target]);
      return Number(/(\d+) received/.exec(stdout)?.[1] ?? 0);
    }),
  );
  return answers.reduce((sum, count) => sum + count, 0);
}

function forwarded(before: IspCounters, after: IspCounters) {
  return {
    toInternet: after.toInternet.packets - before.toInternet.packets,
    fromInternet: after.fromInternet.packets - before.fromInternet.packets,
  };
}

/** One echo request from the gateway with that source address: does it come back? */
async function pingFrom(lab: Lab, source: string, target: string): Promise<boolean> {
  return (await lab.run('gw', ['ping', '-n', '-c', '1', '-W', '1', '-I', source, target])).exitCode === 0;
}

/** Whether another wan lab is up on this machine (then the documentation ranges stay blackholed). */
async function otherWanLab(name: string): Promise<boolean> {
  const labs = (await readdir(LAB_ROOT)).filter((entry) => entry !== name && !entry.startsWith('.'));
  const configs = await Promise.all(
    labs.map((entry) => readFile(`${LAB_ROOT}/${entry}/lab.json`, 'utf8').catch(() => '{}')),
  );
  // An empty configuration is being written.
  return configs.some((config) => (JSON.parse(config || '{}') as Partial<LabConfig>).wan === true);
}

describe('the wan lab', () => {
  let lab: Lab;
  let wan: WanLayout;
  let upSeconds: number;

  before(async () => {
    const started = performance.now();
    lab = await freshLab('wan-lab', 1, { wan: true });
    upSeconds = (performance.now() - started) / 1000;
    assert.ok(lab.wan, 'a wan lab has its layout');
    wan = lab.wan;
  });
  after(() => labDown(lab.name));

  test('its inventory gives the bastion both public addresses and the failover section', async (t) => {
    t.diagnostic(`up --wan (1 extra host) took ${upSeconds.toFixed(1)} s`);
    const k = lab.index;
    const inventory = parse(await readFile(lab.inventoryPath, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(inventory['bastion'], {
      name: 'bastion',
      address: [`198.19.${k}.66`, `198.19.${k}.74`],
      user: 'root',
    });
    assert.deepEqual(inventory['failover'], {
      gateway: 'gw',
      links: {
        main: {
          interface: 'wan1',
          next_hop: `198.19.${k}.65`,
          source: `198.19.${k}.66`,
          public_address: `198.19.${k}.66`,
          table: 101,
        },
        backup: {
          interface: 'wan2',
          next_hop: `198.19.${k}.73`,
          source: `198.19.${k}.74`,
          public_address: `198.19.${k}.74`,
          table: 102,
        },
      },
      probes: { targets: ['192.0.2.1', '198.51.100.1', '203.0.113.1'], count: 3, timeout: 1, reliability: 2 },
      revert_after: 60,
      conntrack_flush: true,
      prove_from: 'host001',
      dns: {
        server: '192.0.2.53',
        zone: 'site.test',
        names: ['www.site.test', 'mail.site.test'],
        ttl: 60,
        key_file: '/etc/chaton/failover.key',
      },
    });
    const bastionAddresses = [`198.19.${k}.66`, `198.19.${k}.74`, `198.18.${k}.1`];
    const keys = (await readFile(lab.knownHostsPath, 'utf8'))
      .split('\n')
      .filter((line) => bastionAddresses.includes(line.split(' ')[0] ?? ''))
      .map((line) => line.split(' ').slice(1).join(' '));
    assert.equal(keys.length, 3, 'the bastion by both public addresses and its LAN address');
    assert.equal(new Set(keys).size, 1, 'one key');
  });

  test('the operator reaches the bastion by ssh on each public address', async () => {
    for (const link of [wan.links.main, wan.links.backup]) {
      const { stdout, exitCode, stderr } = await sshFromRoot(lab, link.publicAddress, 'hostname');
      assert.equal(exitCode, 0, stderr);
      assert.equal(stdout, 'bastion');
    }
  });

  test("the gateway's root login shell is busybox sh, and sshd runs commands with it", async () => {
    const proxy = `ProxyCommand=ssh ${sshOptions(lab).join(' ')} -W %h:%p root@${wan.links.main.publicAddress}`;
    const gateway = lab.hosts.find((host) => host.name === 'gw')!.address;
    // In a command substitution: the last command of `sh -c` replaces the shell (exec).
    const shell = 'echo "$0"; echo "$(readlink /proc/$$/exe)"';
    const { stdout, exitCode, stderr } = await sshFromRoot(lab, gateway, shell, ['-o', proxy]);
    assert.equal(exitCode, 0, stderr);
    assert.match(stdout, /^sh\n\/(usr\/)?bin\/busybox$/);
  });

  test('an inner host reaches the internet through the main ISP, then through the backup one', async () => {
    const [main, backup] = [await ispCounters(lab, 'main'), await ispCounters(lab, 'backup')];
    assert.equal(await pingTargets(lab, 'host001', wan), 9);
    const [mainAfter, backupAfter] = [await ispCounters(lab, 'main'), await ispCounters(lab, 'backup')];
    assert.deepEqual(forwarded(main, mainAfter), { toInternet: 9, fromInternet: 9 });
    assert.deepEqual(forwarded(backup, backupAfter), { toInternet: 0, fromInternet: 0 });
    const { backup: link } = wan.links;
    const toBackup = ['ip', 'route', 'replace', 'default', 'via', link.nextHop, 'dev', link.interface];
    assert.equal((await lab.run('gw', toBackup)).exitCode, 0);
    try {
      assert.equal(await pingTargets(lab, 'host001', wan), 9);
      const [mainLast, backupLast] = [await ispCounters(lab, 'main'), await ispCounters(lab, 'backup')];
      assert.deepEqual(forwarded(mainAfter, mainLast), { toInternet: 0, fromInternet: 0 });
      assert.deepEqual(forwarded(backupAfter, backupLast), { toInternet: 9, fromInternet: 9 });
      // Masqueraded to the backup public address, as conntrack shows.
      const host001 = lab.hosts.find((host) => host.name === 'host001')!.address;
      const tracked = await gatewayConntrack(lab);
      const icmp = new RegExp(
        `^icmp .* src=${host001} dst=192\\.0\\.2\\.1 .* src=192\\.0\\.2\\.1 dst=${link.publicAddress} `,
      );
      assert.ok(
        tracked.some((line) => icmp.test(line)),
        tracked.join('\n'),
      );
    } finally {
      const { main: mainLink } = wan.links;
      await lab.run('gw', ['ip', 'route', 'replace', 'default', 'via', mainLink.nextHop, 'dev', mainLink.interface]);
    }
  });

  test('a cut main link: its ISP box answers, nothing beyond; the backup link and address still work', async () => {
    const { main, backup } = wan.links;
    const [target] = wan.probeTargets as [string];
    assert.ok(await pingFrom(lab, main.publicAddress, target), 'main works before the cut');
    await lab.ispDown('main');
    try {
      assert.ok(await pingFrom(lab, main.publicAddress, main.nextHop), "the main ISP's box answers");
      assert.ok(!(await pingFrom(lab, main.publicAddress, target)), 'nothing beyond it does');
      assert.ok(await pingFrom(lab, backup.publicAddress, target), 'a probe from the backup address leaves by backup');
      assert.equal(await pingTargets(lab, 'host001', wan), 0, 'the site, still routed to main, is cut off');
      assert.notEqual((await sshFromRoot(lab, main.publicAddress, 'hostname')).exitCode, 0);
      assert.equal((await sshFromRoot(lab, backup.publicAddress, 'hostname')).stdout, 'bastion');
    } finally {
      await lab.ispUp('main');
    }
    assert.ok(await pingFrom(lab, main.publicAddress, target), 'main works again');
    assert.equal((await sshFromRoot(lab, main.publicAddress, 'hostname')).stdout, 'bastion');
  });

  test("a LAN host's link taken down and up again comes back with its default route", async () => {
    await lab.linkDown('host001');
    assert.equal(await pingTargets(lab, 'host001', wan), 0);
    await lab.linkUp('host001');
    assert.equal(await pingTargets(lab, 'host001', wan), 9);
  });

  test("an nsupdate signed with the gateway's key changes the zone; unsigned, it is refused", async () => {
    const { dns } = wan;
    const { backup } = wan.links;
    assert.deepEqual(await askDns(lab, 'www.site.test'), [wan.links.main.publicAddress]);
    const update = [
      `server ${dns.server}`,
      `zone ${dns.zone}`,
      'update delete www.site.test A',
      `update add www.site.test ${dns.ttl} A ${backup.publicAddress}`,
      'send',
      '',
    ].join('\n');
    const unsigned = await lab.run('gw', ['nsupdate'], { input: update });
    assert.notEqual(unsigned.exitCode, 0);
    assert.match(unsigned.stderr, /REFUSED/);
    const signed = await lab.run('gw', ['nsupdate', '-k', dns.keyFile], { input: update });
    assert.equal(signed.exitCode, 0, signed.stderr);
    assert.deepEqual(await askDns(lab, 'www.site.test'), [backup.publicAddress]);
    assert.deepEqual(await askDns(lab, 'mail.site.test'), [wan.links.main.publicAddress]);
    const fromInnerHost = await lab.run('host001', ['dig', `@${dns.server}`, '+short', 'www.site.test']);
    assert.equal(fromInnerHost.stdout, `${backup.publicAddress}\n`);
  });

  test("nothing of the lab's internet is reachable from the root namespace", async () => {
    const { stdout: routes } = await execa('ip', ['route', 'show']);
    for (const address of [...wan.probeTargets, wan.dns.server]) {
      const route = await execa('ip', ['route', 'get', address], { reject: false });
      assert.doesNotMatch(route.stdout, new RegExp(`dev ${wan.rootVeth}\\b`), `${address} is routed to the lab`);
      // Unless the machine lives in that range itself (192.0.2.0/24 here), it is blackholed.
      if (route.exitCode !== 0) assert.match(route.stderr, /No route to host/);
    }
    assert.match(routes, /^unreachable 198\.51\.100\.0\/24/m);
    assert.match(routes, /^unreachable 203\.0\.113\.0\/24/m);
    const dig = await execa('dig', [`@${wan.dns.server}`, '+short', '+time=1', '+tries=1', 'www.site.test'], {
      reject: false,
    });
    assert.notEqual(dig.exitCode, 0, 'the lab DNS server answered the root namespace');
    assert.equal(
      (await runInWan(lab, 'internet', ['ping', '-c', '1', '-W', '1', wan.links.main.publicAddress])).exitCode,
      0,
    );
  });

  test('down leaves no wan namespace, link, process or route behind', async () => {
    const named = Number(await readFile(`${wan.dns.dir}/named.pid`, 'utf8'));
    await labDown(lab.name);
    const namespaces = await readdir('/run/netns');
    for (const netns of [wan.internetNetns, wan.links.main.ispNetns, wan.links.backup.ispNetns]) {
      assert.ok(!namespaces.includes(netns), `${netns} survived`);
    }
    assert.ok(!(await readdir('/sys/class/net')).includes(wan.rootVeth), `${wan.rootVeth} survived`);
    assert.equal(await readFile(`/proc/${named}/cmdline`, 'utf8').catch(() => ''), '', 'named survived');
    const { stdout: routes } = await execa('ip', ['route', 'show']);
    assert.doesNotMatch(routes, new RegExp(`^${wan.publicRange.replaceAll('.', '\\.')}`, 'm'));
    if (!(await otherWanLab(lab.name))) assert.doesNotMatch(routes, /^unreachable (198\.51\.100|203\.0\.113)\./m);
  });
});
