// The `proxmox:` section: what it reads from the annotated example, its defaults, and every
// problem at its line and column with a next step.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { loadInventory, parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError, type InventoryProblem } from '../../src/lib/inventory/reader.js';
import { assertProblems } from './inventory-problems.js';
import { proxmoxOf, type ProxmoxSection } from '../../src/lib/proxmox/inventory.js';

// Compiled to dist/test/unit: the fixtures and the example stay in the source tree.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = path.join(REPO, 'inventory.example.yaml');
const PROBLEMS = path.join(REPO, 'test/unit/fixtures/proxmox/proxmox-inventory-problems.yaml');

const HOSTS = 'hosts:\n  pve1: { address: 10.0.0.11, roles: [pve], direct: true }\n';
const G = 1024 ** 3;

function proxmoxIn(yaml: string): ProxmoxSection | undefined {
  return proxmoxOf(parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS));
}

function problemsIn(yaml: string): string[] {
  let problems: InventoryProblem[] = [];
  try {
    parseInventory(HOSTS + yaml, 'inline.yaml', INVENTORY_SECTIONS);
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    problems = error.problems;
  }
  assert.ok(problems.length > 0, 'the inventory was accepted');
  return problems.map(({ position, path: at, message, hint }) => {
    assert.ok(hint, `${at}: ${message} has no next step`);
    return `${path.basename(position.file)}:${position.line}:${position.col} ${at}: ${message} (${hint})`;
  });
}

describe('the proxmox: section', () => {
  it('reads the annotated example: sizes in bytes, networks parsed, declared VMs', async () => {
    const proxmox = proxmoxOf(await loadInventory(EXAMPLE, INVENTORY_SECTIONS));
    assert.ok(proxmox);
    const { source: _template, ...template } = proxmox.templates.get('debian-12')!;
    assert.deepEqual(template, { name: 'debian-12', vmid: 9000, node: 'pve1' });
    assert.equal(proxmox.storage, 'local-lvm');
    assert.equal(proxmox.bridge, 'vmbr0');
    assert.deepEqual(proxmox.defaults, { cores: 2, memory: 2 * G, disk: 32 * G });
    const { source: _network, ...network } = proxmox.networks.get('vms')!;
    assert.deepEqual(network, {
      name: 'vms',
      cidr: '10.0.1.0/24',
      address: '10.0.1.0',
      prefix: 24,
      gateway: '10.0.1.1',
      dns: ['10.0.1.1'],
      allocate: { first: '10.0.1.100', last: '10.0.1.199' },
    });
    const { source: _role, ...role } = proxmox.roles.get('web')!;
    assert.deepEqual(role, { name: 'web', securityGroup: 'web', network: 'vms' });
    assert.equal(proxmox.backupJob, 'backup-5c6b1e2a-8d41');
    assert.deepEqual(proxmox.vmids, { first: 5000, last: 5999 });
    const { source, ...vm } = proxmox.vms.get('web2')!;
    assert.deepEqual(vm, {
      name: 'web2',
      template: 'debian-12',
      role: 'web',
      cores: 4,
      memory: 4 * G,
      disk: 64 * G,
      ip: { address: '10.0.1.15', prefix: 24 },
      tags: ['prod'],
    });
    assert.equal(source.file, EXAMPLE);
  });

  it('documents every key it accepts in the example', async () => {
    const example = await readFile(EXAMPLE, 'utf8');
    const section = example.slice(example.indexOf('\nproxmox:'));
    const keys = ['templates', 'vmid', 'node', 'storage', 'bridge', 'defaults', 'cores', 'memory', 'disk', 'networks'];
    keys.push('cidr', 'gateway', 'dns', 'allocate', 'roles', 'security_group', 'network', 'backup_job', 'vmids');
    keys.push('vms', 'template', 'role', 'ip', 'tags');
    for (const key of keys) assert.match(section, new RegExp(`[\\s{,]${key}:`), `${key} is not in the example`);
  });

  it('is undefined when the inventory has none; defaults without defaults:', () => {
    assert.equal(proxmoxIn(''), undefined);
    const proxmox = proxmoxIn('proxmox:\n  storage: local\n');
    assert.deepEqual(proxmox?.defaults, { cores: 1, memory: 2 * G, disk: 32 * G });
    assert.deepEqual([proxmox?.templates.size, proxmox?.vms.size, proxmox?.vmids], [0, 0, undefined]);
  });

  it('reports every problem at its line and column, each with a next step', async () => {
    const error = await loadInventory(PROBLEMS, INVENTORY_SECTIONS).catch((thrown: unknown) => thrown);
    const { problems } = assertProblems(error, [
      '6:5 proxmox.templates.no-node: has no node',
      '7:5 proxmox.templates.no-vmid: has no vmid',
      '8:33 proxmox.templates.dotted.node: must be a Proxmox node name, got "pve1.example.org"',
      '9:22 proxmox.defaults.cores: must be a whole number of cores from 1 to 512, got 0',
      '9:33 proxmox.defaults.memory: must be a size such as 4G, got "4 GB"',
      '9:45 proxmox.defaults.disk: must be a size such as 4G, got "32g"',
      '13:16 proxmox.networks.lan.gateway: 10.0.1.1 is outside the network 10.0.0.0/24',
      '14:17 proxmox.networks.lan.allocate: the range runs backwards: 10.0.0.199 comes after 10.0.0.100',
      '16:13 proxmox.networks.dmz.cidr: 10.0.2.5/24 is an address inside a network, not the network',
      '18:13 proxmox.networks.wan.cidr: must be an IPv4 network in CIDR form, got "10.0.3.0/33"',
      '21:17 proxmox.networks.far.allocate: 10.0.5.10 is outside the network 10.0.4.0/24',
      '26:44 proxmox.roles.mail.network: "lna" is not a network of proxmox.networks',
      '27:27 proxmox.roles.db.security_group: must be a Proxmox security group name, got "1db"',
      '30:10 proxmox.vmids: the range runs backwards: 5999 comes after 5000',
      '33:5 proxmox.vms.Web3: "Web3" is not a valid VM name',
      '34:5 proxmox.vms.web.4: "web.4" is not a valid VM name',
      '35:23 proxmox.vms.web5.template: "debian-13" is not a template of proxmox.templates',
      '35:49 proxmox.vms.web5.ip: 10.0.1.5 is outside the network 10.0.9.0/24',
      '36:49 proxmox.vms.web6.ip: 10.0.0.15 is already the address of the VM web2',
      '37:53 proxmox.vms.web7.memory: must be a size such as 4G, got "4 GB"',
      '37:66 proxmox.vms.web7.cores: must be a whole number of cores from 1 to 512, got 1024',
      '38:5 proxmox.vms.-web8: "-web8" is not a valid VM name',
      '38:20 proxmox.vms.-web8.role: "cache" is not a role of proxmox.roles',
      '39:28 proxmox.vms.app1.ip: 10.0.9.10/16 does not have the prefix length of its network 10.0.9.0/24',
      '41:28 proxmox.vms.app3.ip: 10.0.9.11 is already the address of the VM app2',
    ]);
    const hints = new Map(problems.map((problem) => [problem.path, problem.hint]));
    assert.match(hints.get('proxmox.defaults.memory')!, /^write 4G:/);
    assert.match(hints.get('proxmox.defaults.disk')!, /^write 32G:/);
    assert.match(hints.get('proxmox.networks.lan.allocate')!, /lower end first: 10\.0\.0\.100-10\.0\.0\.199/);
    assert.match(hints.get('proxmox.networks.dmz.cidr')!, /write the network: 10\.0\.2\.0\/24/);
    assert.match(hints.get('proxmox.roles.mail.network')!, /did you mean "lan"\?/);
    assert.match(hints.get('proxmox.vms.web5.template')!, /did you mean "debian-12"\?/);
    assert.match(hints.get('proxmox.vms.Web3')!, /lowercase letters, digits and hyphens/);
    assert.match(hints.get('proxmox.vms.app1.ip')!, /write 10\.0\.9\.10\/24/);
    assert.match(hints.get('proxmox.vmids')!, /5000-5999/);
  });

  it('refuses a VMID range below 100, and a template VMID below 100', () => {
    assert.deepEqual(problemsIn('proxmox:\n  vmids: 50-99\n  templates: { t: { vmid: 99, node: pve1 } }\n'), [
      'inline.yaml:4:10 proxmox.vmids: 50 is below 100, the lowest VMID Proxmox gives (the VMIDs chaton may give ' +
        'new VMs, for example 5000-5999 (Proxmox VMIDs start at 100))',
      'inline.yaml:5:27 proxmox.templates.t.vmid: must be a VMID from 100 to 999999999, got 99 (the VMID of the ' +
        'template, as `qm list` shows it)',
    ]);
  });

  it('refuses an unknown security group name and a role on an unknown network, none defined', () => {
    const problems = problemsIn('proxmox:\n  roles: { web: { security_group: "web frontends", network: lan } }\n');
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^inline\.yaml:4:35 proxmox\.roles\.web\.security_group: must be a Proxmox security/);
    assert.match(problems[1]!, /^inline\.yaml:4:61 proxmox\.roles\.web\.network: "lan" is not a network .*define it/);
  });

  it('wants a role for a VM with an ip, and takes a node name that is not an inventory host', () => {
    const problems = problemsIn('proxmox:\n  vms: { db1: { ip: 10.0.0.5/24 } }\n');
    assert.deepEqual(problems, [
      'inline.yaml:4:21 proxmox.vms.db1.ip: has an ip but no role: its network is unknown (give the VM a role ' +
        'whose network holds this address)',
    ]);
    const proxmox = proxmoxIn('proxmox:\n  templates: { t: { vmid: 9000, node: hv-a } }\n');
    assert.equal(proxmox?.templates.get('t')?.node, 'hv-a');
  });
});
