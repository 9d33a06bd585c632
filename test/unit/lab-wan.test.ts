// The wan lab's plan and generated files without a lab: the addresses of issue 12's design table,
// the inventory's bastion address list and failover section, and the default lab left as it was.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { inventoryYaml, siteZone } from '../lab/lab-files.js';
import { labPlan } from '../lab/topology.js';
import { gatewayRuleset, gatewayWanCommands } from '../lab/wan-network.js';

describe('the wan lab plan', () => {
  const plan = labPlan({ name: 'unit', index: 7, extraHosts: 2, wan: true });
  const wan = plan.wanLayout!;

  it("has the design table's addresses", () => {
    assert.deepEqual(
      [wan.rootVeth, wan.rootAddress, wan.internetAddress, wan.publicRange],
      ['chw7', '198.19.7.5', '198.19.7.6', '198.19.7.64/27'],
    );
    const { main, backup } = wan.links;
    assert.deepEqual(
      [main.nextHop, main.publicAddress, main.upstreamAddress, main.internetAddress, main.table, main.interface],
      ['198.19.7.65', '198.19.7.66', '198.19.7.89', '198.19.7.90', 101, 'wan1'],
    );
    assert.deepEqual(
      [backup.nextHop, backup.publicAddress, backup.upstreamAddress, backup.internetAddress, backup.table],
      ['198.19.7.73', '198.19.7.74', '198.19.7.93', '198.19.7.94', 102],
    );
    assert.deepEqual(wan.probeTargets, ['192.0.2.1', '198.51.100.1', '203.0.113.1']);
    assert.equal(wan.dns.server, '192.0.2.53');
    assert.deepEqual([plan.bastion.address, plan.bastion.addresses], ['198.19.7.66', ['198.19.7.66', '198.19.7.74']]);
    assert.deepEqual([wan.internetNetns, main.ispNetns, backup.ispNetns], ['cl7-internet', 'cl7-isp1', 'cl7-isp2']);
  });

  it('routes the gateway by link: tables, source and mark rules, main as the default', () => {
    assert.deepEqual(gatewayWanCommands(wan).slice(-1), ['route add default via 198.19.7.65 dev wan1']);
    assert.ok(gatewayWanCommands(wan).includes('rule add from 198.19.7.74 lookup 102'));
    assert.ok(gatewayWanCommands(wan).includes('rule add fwmark 2 lookup 102'));
    assert.match(
      gatewayRuleset(wan, plan.bastion),
      /iifname \{ "wan1", "wan2" \} tcp dport 22 dnat to 198\.18\.7\.1$/m,
    );
  });

  it('writes the bastion with both addresses and the failover section into the inventory', () => {
    const inventory = parse(inventoryYaml(plan)) as Record<string, Record<string, unknown>>;
    assert.deepEqual(inventory['bastion']?.['address'], ['198.19.7.66', '198.19.7.74']);
    assert.equal(inventory['failover']?.['prove_from'], 'host001');
    assert.deepEqual(Object.keys(inventory['failover'] ?? {}), [
      'gateway',
      'links',
      'probes',
      'revert_after',
      'conntrack_flush',
      'prove_from',
      'dns',
    ]);
    const alone = labPlan({ name: 'unit', index: 7, extraHosts: 0, wan: true });
    assert.ok(!Object.hasOwn((parse(inventoryYaml(alone)) as { failover: object }).failover, 'prove_from'));
  });

  it("publishes the site's names on the main link's address", () => {
    assert.match(siteZone(wan), /^www\tIN\tA\t198\.19\.7\.66$/m);
    assert.match(siteZone(wan), /^mail\tIN\tA\t198\.19\.7\.66$/m);
    assert.match(siteZone(wan), /^\$TTL 60$/m);
  });
});

describe('the default lab plan', () => {
  it('has no wan layout and the bastion on its own link', () => {
    const plan = labPlan({ name: 'unit', index: 7, extraHosts: 0 });
    assert.equal(plan.wanLayout, undefined);
    assert.deepEqual(plan.bastion.addresses, ['198.19.7.2']);
    const inventory = parse(inventoryYaml(plan)) as Record<string, Record<string, unknown>>;
    assert.equal(inventory['bastion']?.['address'], '198.19.7.2');
    assert.equal(inventory['failover'], undefined);
  });
});
