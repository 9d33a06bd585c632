// The network domain's facts and changes: each command as it is rendered (golden), and each parser
// on real output captured by test/unit/fixtures/network/capture.sh (its README names every
// capture). The scripts chaton sends run here under dash and busybox sh (the gateway's shell may
// be busybox), with stand-ins for ip and ping that say how they were called.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { conntrackCount, flushLinkFlows, linkFlowsFact, parseConntrack } from '../../src/lib/network/conntrack.js';
import { dnsAnswersFact, dnsUpdate, nsupdateFailure, parseDig } from '../../src/lib/network/dns.js';
import { eachAtOnce, parseEach } from '../../src/lib/network/each.js';
import type { DnsSettings, FailoverLink, ProbeSettings } from '../../src/lib/network/inventory.js';
import { interfacesFact, parseInterfaces } from '../../src/lib/network/links.js';
import { linkProbesFact, parsePing } from '../../src/lib/network/probes.js';
import {
  activeLink,
  type DefaultRoute,
  defaultRoutesFact,
  parseDefaultRoutes,
  parseRules,
  restoreDefaultRoutes,
  type RouteTable,
  rulesFact,
  switchDefaultRoute,
  unprovenPath,
} from '../../src/lib/network/routing.js';
import { display, render, type RemoteCommand } from '../../src/lib/remote/shell.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/network/', import.meta.url));
const CODES = new Map(
  readFileSync(path.join(FIXTURES, 'codes.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' ') as [string, string])
    .map(([name, code]) => [name, Number(code)]),
);

/** A capture: its exit code, and its streams ('' when silent). */
function captured(name: string): { code: number; stdout: string; stderr: string } {
  const code = CODES.get(name);
  assert.ok(code !== undefined, `${name} is not in codes.txt`);
  const read = (stream: string) => {
    try {
      return readFileSync(path.join(FIXTURES, `${name}.${stream}.txt`), 'utf8');
    } catch {
      return '';
    }
  };
  return { code, stdout: read('stdout'), stderr: read('stderr') };
}

/** As the each-script would have got it: stdout and stderr in one file. */
const pingOf = (name: string) => {
  const run = captured(name);
  return parsePing('192.0.2.1', run.code, run.stdout + run.stderr);
};

const K = 250;
const MAIN: FailoverLink = {
  name: 'main',
  interface: 'wan1',
  nextHop: `198.19.${K}.65`,
  source: `198.19.${K}.66`,
  publicAddress: `198.19.${K}.66`,
  table: 101,
  interfaceAt: { position: { file: '/site.yaml', line: 5, col: 18 }, path: 'failover.links.main.interface' },
};
const BACKUP: FailoverLink = {
  ...MAIN,
  name: 'backup',
  interface: 'wan2',
  nextHop: `198.19.${K}.73`,
  source: `198.19.${K}.74`,
  publicAddress: `198.19.${K}.74`,
  table: 102,
};
const PROBES: ProbeSettings = {
  targets: ['192.0.2.1', '198.51.100.1', '203.0.113.1'],
  count: 3,
  timeout: 1,
  reliability: 2,
};
const FAILOVER = {
  gateway: 'gw',
  links: { main: MAIN, backup: BACKUP },
  probes: PROBES,
  revertAfter: 120,
  conntrackFlush: true,
  watchdog: { down: 3, up: 2 },
  source: { file: '/site.yaml', line: 1, col: 1 },
};
const DNS: DnsSettings = {
  server: '192.0.2.53',
  zone: 'site.test',
  names: ['www.site.test', 'mail.site.test'],
  ttl: 60,
  keyFile: '/etc/chaton/failover.key',
};

const work = mkdtempSync(path.join(tmpdir(), 'chaton-network-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A stand-in on PATH that prints its name and arguments, one a line, then `output`, and exits with `code`. */
function standIn(name: string, output = '', code = 0): void {
  const file = path.join(work, name);
  writeFileSync(
    file,
    `#!/bin/sh\necho "${name}"\nfor a; do echo "[$a]"; done\nprintf '%s' '${output}'\nexit ${code}\n`,
  );
  chmodSync(file, 0o755);
}

/** The POSIX shells of a gateway: dash (Debian's sh) and busybox sh. */
const SHELLS = [['/bin/dash'], ['/bin/busybox', 'sh']] as const;

function runIn(shell: readonly string[], cmd: RemoteCommand): { code: number | null; stdout: string } {
  const [program, ...args] = shell;
  const run = spawnSync(program!, [...args, '-c', render(cmd).toString()], {
    encoding: 'utf8',
    input: typeof cmd.stdin === 'string' ? cmd.stdin : undefined,
    env: { ...process.env, PATH: `${work}:${process.env.PATH}` },
  });
  return { code: run.status, stdout: run.stdout };
}

describe('one command for each value at once (each.ts)', () => {
  it('runs the command once per value, all at once, and prints each output after its status line', () => {
    standIn('probe-me', 'said\n', 1);
    for (const shell of SHELLS) {
      const run = runIn(shell, eachAtOnce(['192.0.2.1', '198.51.100.1'], ['probe-me', '-q', 'two words']));
      assert.equal(run.code, 0, shell.join(' '));
      assert.equal(
        run.stdout,
        'chaton-each 192.0.2.1 1\nprobe-me\n[-q]\n[two words]\n[192.0.2.1]\nsaid\n' +
          'chaton-each 198.51.100.1 1\nprobe-me\n[-q]\n[two words]\n[198.51.100.1]\nsaid\n',
      );
      const runs = parseEach(run.stdout);
      assert.deepEqual([...runs.keys()], ['192.0.2.1', '198.51.100.1']);
      assert.deepEqual(runs.get('198.51.100.1'), {
        code: 1,
        output: 'probe-me\n[-q]\n[two words]\n[198.51.100.1]\nsaid\n',
      });
    }
  });

  it('takes as long as the slowest run, not the sum of all', () => {
    const file = path.join(work, 'slow');
    writeFileSync(file, '#!/bin/sh\nsleep 1\necho "$1"\n');
    chmodSync(file, 0o755);
    for (const shell of SHELLS) {
      const started = Date.now();
      const run = runIn(shell, eachAtOnce(['a', 'b', 'c', 'd'], ['slow']));
      assert.deepEqual(
        [...parseEach(run.stdout)].map(([value, each]) => [value, each.output.trim()]),
        [
          ['a', 'a'],
          ['b', 'b'],
          ['c', 'c'],
          ['d', 'd'],
        ],
      );
      assert.ok(Date.now() - started < 3500, `${shell.join(' ')}: the four runs were not at once`);
    }
  });
});

describe('probes through a link (probes.ts)', () => {
  it('pings every target through the link, by its source address when it has a table, else by interface', () => {
    const byTable = render(linkProbesFact(MAIN, PROBES).command).toString();
    assert.match(
      byTable,
      / '192\.0\.2\.1 198\.51\.100\.1 203\.0\.113\.1' ping -q -c 3 -i 0\.2 -W 1 -I 198\.19\.250\.66$/,
    );
    const { table: _table, ...noTable } = BACKUP;
    const byInterface = render(linkProbesFact(noTable, PROBES).command).toString();
    assert.match(byInterface, / ping -q -c 3 -i 0\.2 -W 1 -I wan2$/);
  });

  it('reads iputils and busybox ping alike: all answered, with the round trips', () => {
    assert.deepEqual(pingOf('iputils-ok'), {
      target: '192.0.2.1',
      outcome: 'answered',
      sent: 3,
      received: 3,
      lossPercent: 0,
      rttMs: { min: 0.061, avg: 0.093, max: 0.138 },
    });
    const busybox = pingOf('busybox-ok');
    assert.deepEqual([busybox.outcome, busybox.sent, busybox.received, busybox.lossPercent], ['answered', 3, 3, 0]);
    assert.ok(busybox.rttMs && busybox.rttMs.avg > 0);
  });

  it('reads a partial loss as answered, with its loss', () => {
    for (const name of ['iputils-partial', 'busybox-partial']) {
      const probe = pingOf(name);
      assert.deepEqual([probe.outcome, probe.sent, probe.received, probe.lossPercent], ['answered', 4, 2, 50], name);
    }
  });

  it('reads nothing back as lost (exit 1), errors from the ISP box or not', () => {
    for (const name of ['iputils-lost', 'busybox-lost', 'iputils-interface-no-route', 'busybox-interface-no-route']) {
      const probe = pingOf(name);
      assert.equal(CODES.get(name), 1);
      assert.deepEqual([probe.outcome, probe.received, probe.lossPercent], ['lost', 0, 100], name);
      assert.equal(probe.rttMs, undefined);
    }
  });

  it('reads no route out as lost: busybox stops at its first request, without statistics', () => {
    assert.deepEqual(pingOf('busybox-unreachable'), {
      target: '192.0.2.1',
      outcome: 'lost',
      received: 0,
      lossPercent: 100,
      detail: 'ping: sendto: Network is unreachable',
    });
    assert.equal(pingOf('iputils-unreachable').outcome, 'lost');
  });

  it('reads a ping that could not run (no such interface, no ping) as an error that proves nothing', () => {
    assert.deepEqual(pingOf('iputils-no-interface'), {
      target: '192.0.2.1',
      outcome: 'error',
      received: 0,
      lossPercent: 100,
      detail: 'ping: SO_BINDTODEVICE wan9: No such device',
    });
    assert.equal(pingOf('busybox-no-interface').detail, "ping: bad address 'wan9'");
    assert.deepEqual(parsePing('192.0.2.1', 127, 'sh: 1: ping: not found\n').outcome, 'error');
  });

  it('shows the trap: without its rule, a probe from main answers through the backup link', () => {
    // Why unprovenPath exists: this answer says nothing of main.
    assert.equal(pingOf('iputils-trap').outcome, 'answered');
    assert.equal(pingOf('busybox-trap').outcome, 'answered');
  });

  it('parses the probes of a link from the script, a target it never got to as an error', () => {
    const ok = captured('iputils-ok').stdout;
    const lost = captured('busybox-lost').stdout;
    const stdout = `chaton-each 192.0.2.1 0\n${ok}chaton-each 198.51.100.1 1\n${lost}`;
    const probes = linkProbesFact(MAIN, PROBES).parse(stdout);
    assert.deepEqual(
      probes.map((probe) => [probe.target, probe.outcome]),
      [
        ['192.0.2.1', 'answered'],
        ['198.51.100.1', 'lost'],
        ['203.0.113.1', 'error'],
      ],
    );
  });
});

describe('interfaces (links.ts)', () => {
  it('asks ip -j link show, and reads whether each interface is up and has a carrier', () => {
    assert.equal(display(interfacesFact.command), 'ip -j link show');
    const down = parseInterfaces(captured('ip-link-wan3-down').stdout);
    assert.deepEqual([...down.keys()], ['lo', 'wan1', 'wan2', 'eth0', 'wan3-peer', 'wan3']);
    assert.deepEqual(down.get('wan1'), { up: true, carrier: true });
    assert.deepEqual(down.get('wan3'), { up: false, carrier: false });
    const noCarrier = parseInterfaces(captured('ip-link-wan1-no-carrier').stdout);
    assert.deepEqual(noCarrier.get('wan1'), { up: true, carrier: false });
  });
});

describe('routes and rules (routing.ts)', () => {
  const main = parseDefaultRoutes(captured('ip-route-main').stdout);

  it('reads the default routes of a table as ip shows them, nothing more', () => {
    assert.deepEqual(main, [{ via: '198.19.250.65', dev: 'wan1', metric: 0, onlink: false }]);
    assert.deepEqual(parseDefaultRoutes(captured('ip-route-main-metrics').stdout), [
      { via: '198.19.250.65', dev: 'wan1', metric: 10, protocol: 'static', onlink: false },
      { via: '198.19.250.73', dev: 'wan2', src: '198.19.250.74', metric: 20, protocol: 'static', onlink: false },
    ]);
    assert.deepEqual(parseDefaultRoutes(captured('ip-route-main-no-default').stdout), []);
  });

  it('asks every table at once, and reads a table that does not exist as empty', () => {
    const fact = defaultRoutesFact(['main', 101, 103]);
    assert.match(render(fact.command).toString(), /' sh 'main 101 103' ip -j route show table$/);
    const empty = captured('ip-route-table-empty');
    const stdout =
      `chaton-each main 0\n${captured('ip-route-main').stdout}\n` +
      `chaton-each 101 0\n${captured('ip-route-table-101').stdout}\n` +
      `chaton-each 103 ${empty.code}\n${empty.stdout}${empty.stderr}`;
    const routes = fact.parse(stdout);
    assert.deepEqual([...routes.keys()], ['main', 101, 103]);
    assert.deepEqual(routes.get(101), [{ via: '198.19.250.65', dev: 'wan1', metric: 0, onlink: false }]);
    assert.deepEqual(routes.get(103), []);
    assert.throws(() => fact.parse('chaton-each main 0\n[]\nchaton-each 101 2\nip: not found\n'), /table 101/);
  });

  it('tells which link carries the default route, by its interface and next hop', () => {
    assert.equal(activeLink(FAILOVER, main), 'main');
    assert.equal(activeLink(FAILOVER, parseDefaultRoutes(captured('ip-route-main-backup').stdout)), 'backup');
    assert.equal(activeLink(FAILOVER, parseDefaultRoutes(captured('ip-route-main-metrics').stdout)), 'main');
    assert.equal(activeLink(FAILOVER, []), 'none');
    assert.equal(activeLink(FAILOVER, [{ via: '198.19.250.70', dev: 'wan1', metric: 0, onlink: false }]), 'other');
  });

  it('reads the rules with numeric tables, and proves a link only when its probes leave by it', () => {
    assert.equal(display(rulesFact.command), 'ip -N -j rule show');
    const rules = parseRules(captured('ip-rule').stdout);
    assert.deepEqual(rules[1], { priority: 32764, src: '198.19.250.74', table: '102', narrower: false });
    const tables = new Map<RouteTable, DefaultRoute[]>([
      ['main', main],
      [101, parseDefaultRoutes(captured('ip-route-table-101').stdout)],
    ]);
    assert.equal(unprovenPath(MAIN, tables, rules), undefined);
    assert.equal(
      unprovenPath(
        MAIN,
        tables,
        rules.filter((rule) => rule.table !== '101'),
      ),
      'no-rule',
    );
    assert.equal(unprovenPath(MAIN, new Map([['main', main]]), rules), 'no-table-route');
    assert.equal(unprovenPath(BACKUP, tables, rules), 'no-table-route');
    const { table: _table, ...byInterface } = BACKUP;
    const metrics = new Map<RouteTable, DefaultRoute[]>([
      ['main', parseDefaultRoutes(captured('ip-route-main-metrics').stdout)],
    ]);
    assert.equal(unprovenPath(byInterface, metrics, []), undefined);
    assert.equal(unprovenPath(byInterface, tables, []), 'no-main-route');
    const marked = parseRules('[{"priority":100,"src":"198.19.250.66","fwmark":"0x1","table":"101"}]');
    assert.equal(unprovenPath(MAIN, tables, marked), 'no-rule');
  });

  it('switches the default route to a link in one replace', () => {
    assert.equal(
      display(switchDefaultRoute(BACKUP)),
      'ip route replace default via 198.19.250.73 dev wan2 src 198.19.250.74',
    );
  });

  it('restores the default routes exactly as read: all removed, then each added with what ip showed', () => {
    const routes = parseDefaultRoutes(captured('ip-route-main-metrics').stdout);
    const restore = restoreDefaultRoutes([...routes, { dev: 'ppp0', metric: 30, onlink: true }]);
    assert.match(
      display(restore),
      new RegExp(
        " sh 198\\.19\\.250\\.65 wan1 '' 10 static '' 198\\.19\\.250\\.73 wan2 198\\.19\\.250\\.74 20 static '' " +
          "'' ppp0 '' 30 '' onlink$",
      ),
    );
    standIn('ip');
    for (const shell of SHELLS) {
      const run = runIn(shell, restore);
      assert.equal(run.code, 0, shell.join(' '));
      const calls = run.stdout
        .split('ip\n')
        .filter(Boolean)
        .map((call) =>
          call
            .trim()
            .replace(/^\[|\]$/g, '')
            .split(/\]\n\[/)
            .join(' '),
        );
      assert.deepEqual(calls, [
        'route flush table main exact 0.0.0.0/0',
        'route add default via 198.19.250.65 dev wan1 metric 10 proto static',
        'route add default via 198.19.250.73 dev wan2 src 198.19.250.74 metric 20 proto static',
        'route add default dev ppp0 metric 30 onlink',
      ]);
    }
  });
});

describe('connection tracking (conntrack.ts)', () => {
  it('deletes only the flows whose replies go to the old link: conntrack -D -q <source>, none left is fine', () => {
    const flush = flushLinkFlows(MAIN);
    assert.equal(display(flush.command), 'conntrack -D -q 198.19.250.66');
    assert.deepEqual(flush.okCodes, [0, 1]);
    assert.equal(CODES.get('conntrack-delete-none'), 1);
    const deleted = captured('conntrack-delete-reply-dst');
    assert.equal(conntrackCount(deleted.stderr), parseConntrack(deleted.stdout).length);
    assert.equal(conntrackCount(captured('conntrack-delete-none').stderr), 0);
  });

  it('lists those flows, each with its original and reply tuples', () => {
    assert.equal(display(linkFlowsFact(MAIN).command), 'conntrack -L -q 198.19.250.66');
    const listed = captured('conntrack-list-reply-dst');
    const flows = parseConntrack(listed.stdout);
    assert.equal(flows.length, conntrackCount(listed.stderr));
    // The LAN host's ping, NATed to main's address: its reply goes there.
    assert.deepEqual(
      flows.find((flow) => flow.original.src === '198.18.250.31' && flow.original.dst === '192.0.2.1'),
      {
        protocol: 'icmp',
        original: { src: '198.18.250.31', dst: '192.0.2.1' },
        reply: { src: '192.0.2.1', dst: '198.19.250.66' },
      },
    );
    assert.ok(flows.every((flow) => flow.reply.dst === MAIN.source));
    assert.deepEqual(parseConntrack(captured('conntrack-list-none').stdout), []);
  });
});

describe('DNS (dns.ts)', () => {
  it('sends the update on stdin, signed with the key file on the gateway, never the key', () => {
    const update = dnsUpdate(DNS, '198.19.250.74');
    assert.equal(display(update).split(' ').slice(0, 5).join(' '), 'nsupdate -t 10 -k /etc/chaton/failover.key');
    assert.equal(
      update.stdin,
      'server 192.0.2.53\nzone site.test.\n' +
        'update delete www.site.test. A\nupdate add www.site.test. 60 A 198.19.250.74\n' +
        'update delete mail.site.test. A\nupdate add mail.site.test. 60 A 198.19.250.74\nsend\n',
    );
  });

  it('says why nsupdate failed, in its own words', () => {
    const failure = (name: string) => nsupdateFailure(captured(name).code, captured(name).stderr);
    assert.equal(failure('nsupdate-ok'), undefined);
    assert.equal(failure('nsupdate-wrong-key'), 'update failed: NOTAUTH(BADSIG)');
    assert.equal(failure('nsupdate-no-key-file'), 'update failed: REFUSED');
    assert.equal(failure('nsupdate-no-server'), '; Communication with 192.0.2.53#53 failed: connection refused');
  });

  it('asks the authoritative server for every name at once, and reads its answers', () => {
    assert.match(
      render(dnsAnswersFact(DNS).command).toString(),
      / sh 'www\.site\.test mail\.site\.test' dig \+short '\+time=2' '\+tries=1' @192\.0\.2\.53 -t A$/,
    );
    const dig = (name: string) => parseDig(captured(name).code, captured(name).stdout);
    assert.deepEqual(dig('dig-answer'), { addresses: ['198.19.250.66'] });
    assert.deepEqual(dig('dig-after-update'), { addresses: ['198.19.250.74'] });
    assert.deepEqual(dig('dig-nxdomain'), { addresses: [] });
    assert.deepEqual(dig('dig-no-server'), { error: ';; communications error to 192.0.2.53#53: connection refused' });
  });
});
