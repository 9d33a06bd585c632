// The `failover:` section: what it reads, its defaults, and every problem at its line and column
// with a next step; the annotated example documents every key. What only the gateway knows (its
// interfaces) is checked there: missingInterfaces, on its captured `ip -j link show`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { loadInventory, parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError, type InventoryProblem } from '../../src/lib/inventory/reader.js';
import { failoverOf, type FailoverSection } from '../../src/lib/network/inventory.js';
import { missingInterfaces, parseInterfaces } from '../../src/lib/network/links.js';

// Compiled to dist/test/unit: the fixtures and the example stay in the source tree.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = path.join(REPO, 'inventory.example.yaml');
const FIXTURES = path.join(REPO, 'test/unit/fixtures/network');

const HOSTS = 'hosts:\n  gw: { address: 10.0.0.1, direct: true }\n  web: { address: 10.0.0.10, direct: true }\n';
/** Line 4 on: the section. */
const SECTION = `failover:
  gateway: gw
  links:
    main: {interface: wan1, next_hop: 198.19.1.65, source: 198.19.1.66, public_address: 198.19.1.66, table: 101}
    backup: {interface: wan2, next_hop: 198.19.1.73, source: 198.19.1.74, public_address: 198.19.1.74, table: 102}
  probes:
    targets: [192.0.2.1, 198.51.100.1, 203.0.113.1]
`;

function failoverIn(yaml: string): FailoverSection | undefined {
  return failoverOf(parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS));
}

/** Each problem as `line:col path: message (hint)`, the way inventory check prints it (without the file). */
function problemsIn(yaml: string): string[] {
  try {
    parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS);
  } catch (error) {
    if (error instanceof InventoryError) return error.problems.map(shown);
    throw error;
  }
  assert.fail('the inventory was accepted');
}

const shown = (problem: InventoryProblem) =>
  `${problem.position.line}:${problem.position.col} ${problem.path}: ${problem.message} (${problem.hint})`;

describe('the failover: section', () => {
  it('reads the annotated example: the gateway, both links, the probes, the dns block', async () => {
    const failover = failoverOf(await loadInventory(EXAMPLE, INVENTORY_SECTIONS));
    assert.ok(failover);
    assert.equal(failover.gateway, 'gw');
    const { interfaceAt, ...main } = failover.links.main;
    assert.deepEqual(main, {
      name: 'main',
      interface: 'eth1',
      nextHop: '203.0.113.1',
      source: '203.0.113.2',
      publicAddress: '203.0.113.2',
      table: 101,
    });
    assert.equal(interfaceAt.path, 'failover.links.main.interface');
    assert.equal(interfaceAt.position.file, EXAMPLE);
    assert.deepEqual(failover.probes, {
      targets: ['9.9.9.9', '1.1.1.1', '8.8.8.8'],
      count: 3,
      timeout: 2,
      reliability: 2,
    });
    assert.deepEqual([failover.revertAfter, failover.conntrackFlush, failover.proveFrom], [120, true, 'vm-web']);
    assert.deepEqual(failover.dns, {
      server: '192.0.2.53',
      zone: 'example.org',
      names: ['www.example.org', 'mail.example.org'],
      ttl: 60,
      keyFile: '/etc/chaton/failover.key',
    });
    assert.deepEqual(failover.watchdog, { down: 3, up: 5 });
  });

  it('is optional, and fills in the defaults of what is left out', () => {
    assert.equal(failoverIn(''), undefined);
    const failover = failoverIn(SECTION);
    assert.ok(failover);
    assert.deepEqual(failover.probes, {
      targets: ['192.0.2.1', '198.51.100.1', '203.0.113.1'],
      count: 3,
      timeout: 2,
      reliability: 1,
    });
    assert.deepEqual(
      [failover.revertAfter, failover.conntrackFlush, failover.proveFrom, failover.dns],
      [120, true, undefined, undefined],
    );
    assert.deepEqual(failover.watchdog, { down: 5, up: 5 }, "mwan3's");
    assert.deepEqual(failoverIn(`${SECTION}  watchdog: {down: 2}\n`)?.watchdog, { down: 2, up: 5 });
    assert.deepEqual(failover.links.backup.interfaceAt.position, {
      file: path.resolve('inline.yaml'),
      line: 8,
      col: 25,
    });
    const { table: _table, ...withoutTable } = failoverIn(SECTION.replace(', table: 102}', '}'))!.links.backup;
    assert.equal('table' in withoutTable, false);
  });

  it('reports a gateway that is not an inventory host, with the closest name', () => {
    assert.deepEqual(problemsIn(SECTION.replace('gateway: gw', 'gateway: gw1')), [
      '5:12 failover.gateway: "gw1" is not a host of the inventory (did you mean "gw"?)',
    ]);
    assert.match(
      problemsIn(SECTION.replace('gateway: gw', 'gateway: router'))[0]!,
      /routes and probes the links there/,
    );
  });

  it('reports an empty probe list, and a reliability above the number of targets', () => {
    const targets = '    targets: [192.0.2.1, 198.51.100.1, 203.0.113.1]\n';
    assert.deepEqual(problemsIn(SECTION.replace(targets, '    targets: []\n')), [
      "10:14 failover.probes.targets: lists no target (addresses beyond the ISPs' own boxes that answer ping, " +
        'several of them, e.g. [192.0.2.1, 198.51.100.1, 203.0.113.1])',
    ]);
    assert.deepEqual(problemsIn(`${SECTION}    reliability: 4\n`), [
      '11:18 failover.probes.reliability: wants 4 targets to answer, and only 3 are listed: no link could ' +
        'ever be up ' +
        '(how many targets must answer through a link for it to be up: at most the number of targets)',
    ]);
    assert.match(
      problemsIn(`${SECTION}    count: 0\n`)[0]!,
      /^11:12 failover\.probes\.count: must be a whole number from 1 to 100/,
    );
    assert.match(
      problemsIn(SECTION.replace(targets, '    targets: [192.0.2.1, 192.0.2.1]\n'))[0]!,
      /lists 192\.0\.2\.1 twice/,
    );
  });

  it('reports a bad address at its column, and what an address must be', () => {
    const [problem, ...others] = problemsIn(SECTION.replace('next_hop: 198.19.1.73', 'next_hop: 198.19.1.273'));
    assert.deepEqual(others, []);
    assert.match(
      problem!,
      /^8:41 failover\.links\.backup\.next_hop: must be an IPv4 address, got "198\.19\.1\.273" \(four numbers/,
    );
    assert.match(
      problemsIn(SECTION.replace('[192.0.2.1,', '[www.example.org,'))[0]!,
      /^10:15 failover\.probes\.targets\[0\]: must be an IPv4/,
    );
    assert.match(
      problemsIn(SECTION.replace('interface: wan2', 'interface: "wan 2"'))[0]!,
      /^8:25 .*must be a network interface name/,
    );
    assert.match(problemsIn(SECTION.replace('table: 102', 'table: 254'))[0]!, /^8:111 .*must be a route table number/);
  });

  it('reports missing links and missing keys of a link', () => {
    const backup = SECTION.split('\n')[4]!;
    assert.deepEqual(problemsIn(SECTION.replace(`${backup}\n`, '')), [
      '6:3 failover.links: has no backup (failover.links needs main and backup, each {interface, next_hop, source, ' +
        'public_address, table})',
    ]);
    assert.deepEqual(problemsIn(SECTION.replace(', source: 198.19.1.74', '')), [
      '8:5 failover.links.backup: has no source (a link needs interface, next_hop, source and public_address; ' +
        'table is optional)',
    ]);
    assert.match(
      problemsIn(SECTION.replace('  links:\n', '  link:\n')).join('\n'),
      /unknown key "link" \(did you mean "links"\?\)/,
    );
  });

  it('reports two links on one interface, one address or one table', () => {
    assert.deepEqual(problemsIn(SECTION.replace('interface: wan2', 'interface: wan1')), [
      '8:25 failover.links.backup.interface: the backup link has the same interface as the main one (each link ' +
        'needs its own interface, source address and table, or one could not stand in for the other)',
    ]);
    assert.match(problemsIn(SECTION.replace('table: 102', 'table: 101'))[0]!, /^8:111 .*same table/);
  });

  it('reports a dns block without key_file, and names outside its zone', () => {
    const dns = `  dns:\n    server: 192.0.2.53\n    zone: site.test\n    names: [www.site.test, www.other.test]\n`;
    assert.deepEqual(problemsIn(SECTION + dns), [
      '11:3 failover.dns: has no key_file (the TSIG key file nsupdate -k reads on the gateway (as tsig-keygen ' +
        'writes it), e.g. /etc/chaton/failover.key)',
      '14:12 failover.dns.names: www.other.test not in the zone site.test: the server would refuse the update ' +
        '(the names of the zone that point at the link in use, e.g. [www.example.org, mail.example.org])',
    ]);
    const keyFile = '    key_file: /etc/chaton/failover.key\n';
    const good = SECTION + dns.replace('www.other.test', 'mail.site.test') + keyFile;
    assert.deepEqual(failoverIn(good)?.dns?.names, ['www.site.test', 'mail.site.test']);
    assert.match(
      problemsIn(good.replace('/etc/chaton/failover.key', 'failover.key'))[0]!,
      /must be an absolute path on the gateway/,
    );
  });

  it('reports a revert_after that is not a whole number of seconds from 10', () => {
    for (const wrong of ['0', '-5', '1.5', '2m', '5']) {
      assert.match(
        problemsIn(`${SECTION}  revert_after: ${wrong}\n`)[0]!,
        /^11:17 failover\.revert_after: must be a whole number from 10 to 86400, got .* \(seconds after which/,
        wrong,
      );
    }
  });

  it("reports a watchdog's down or up that is not a whole number of rounds from 1", () => {
    assert.match(
      problemsIn(`${SECTION}  watchdog: {down: 3, up: 0}\n`)[0]!,
      /^11:27 failover\.watchdog\.up: must be a whole number from 1 to 1000, got .* \(good rounds of main/,
    );
    assert.match(
      problemsIn(`${SECTION}  watchdog:\n    down: 2.5\n`)[0]!,
      /^12:11 failover\.watchdog\.down: must be a whole number from 1 to 1000, got .* \(bad rounds of main/,
    );
    assert.match(problemsIn(`${SECTION}  watchdog: {every: 2}\n`)[0]!, /^11:14 failover\.watchdog\.every: /);
  });

  it('reports a prove_from that is not a host, or is the gateway', () => {
    assert.match(
      problemsIn(`${SECTION}  prove_from: nobody\n`)[0]!,
      /^11:15 failover\.prove_from: "nobody" is not a host/,
    );
    assert.match(problemsIn(`${SECTION}  prove_from: gw\n`)[0]!, /^11:15 failover\.prove_from: is the gateway itself/);
    assert.equal(failoverIn(`${SECTION}  prove_from: web\n`)?.proveFrom, 'web');
  });

  it('refuses, on what the gateway says, a link on an interface it lacks: at the line that names it', () => {
    const failover = failoverIn(SECTION.replace('interface: wan2', 'interface: wan9'))!;
    const interfaces = parseInterfaces(readFileSync(path.join(FIXTURES, 'ip-link-wan3-down.stdout.txt'), 'utf8'));
    const error = missingInterfaces(failover, interfaces);
    assert.ok(error instanceof InventoryError);
    assert.deepEqual(error.problems.map(shown), [
      '8:25 failover.links.backup.interface: gw has no interface wan9 (its interfaces: lo, wan1, wan2, eth0, ' +
        'wan3-peer, wan3; nothing was changed)',
    ]);
    assert.equal(missingInterfaces(failoverIn(SECTION)!, interfaces), undefined);
  });
});
