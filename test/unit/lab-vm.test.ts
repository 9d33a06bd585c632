// The lab's side of VM hosts without a lab: the proxmox: section of its inventory as chaton reads it,
// extra hosts kept below the VMs' addresses, what pve hosts and VM hosts get in their files, and the
// faults file's merges under its lock.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import { proxmoxOf } from '../../src/lib/proxmox/inventory.js';
import { etcHosts, hostFstab, inventoryYaml, vmLabConfig } from '../lab/lab-files.js';
import { LAB_BACKUP_JOBS } from '../lab/pve-lab.js';
import { labPlan, validateExtraHosts, VM_LAB_MOUNT, vmHost } from '../lab/topology.js';
import { mergeVmFaults, readVmFaults } from '../lab/vm-faults.js';

describe('the lab for VM hosts', () => {
  const plan = labPlan({ name: 'unit', index: 7, extraHosts: 209 });

  it("has the proxmox: section vm create needs, read by chaton's own reader", () => {
    const proxmox = proxmoxOf(parseInventory(inventoryYaml(plan), 'inventory.yaml', INVENTORY_SECTIONS));
    assert.ok(proxmox);
    const lan = proxmox.networks.get('lan');
    assert.deepEqual(
      [lan?.cidr, lan?.gateway, lan?.dns, lan?.allocate],
      ['198.18.7.0/24', '198.18.7.2', ['198.18.7.2'], { first: '198.18.7.240', last: '198.18.7.250' }],
    );
    const template = proxmox.templates.get('debian-12');
    assert.deepEqual([template?.vmid, template?.node], [9000, 'pve1']);
    assert.deepEqual(
      [proxmox.storage, proxmox.bridge, proxmox.backupJob, proxmox.vmids],
      ['vmdata', 'vmbr0', LAB_BACKUP_JOBS[0]?.id, { first: 5000, last: 5099 }],
    );
    assert.deepEqual([proxmox.roles.get('vm')?.securityGroup, proxmox.roles.get('vm')?.network], ['web', 'lan']);
  });

  it('keeps the extra hosts below the addresses new VMs get', () => {
    assert.equal(plan.hosts.at(-1)?.address, '198.18.7.239');
    validateExtraHosts(209);
    assert.throws(() => validateExtraHosts(210), /must be 0 to 209/);
  });

  it('binds the VM side of the supervisor into pve hosts only, and names it in vm-lab.json', () => {
    const [pve1] = plan.hosts;
    assert.match(
      hostFstab(pve1!, plan.paths, pve1!.roles),
      new RegExp(`^${plan.paths.vmLab.dir} ${VM_LAB_MOUNT} none bind`, 'm'),
    );
    const vm = vmHost(plan, { vmid: 5000, name: 'web2', address: '198.18.7.240/24' });
    assert.ok(!hostFstab(vm, plan.paths, vm.roles).includes(VM_LAB_MOUNT));
    assert.deepEqual(JSON.parse(vmLabConfig()), {
      controlSocket: `${VM_LAB_MOUNT}/control.sock`,
      faultsFile: `${VM_LAB_MOUNT}/vm-faults.json`,
      waitsLog: `${VM_LAB_MOUNT}/vm-waits.log`,
    });
    assert.deepEqual(
      [vm.netns, vm.address, vm.switchPort, vm.dir],
      ['cl7-vm5000', '198.18.7.240', 'vm5000', '/run/chaton-lab/unit/vms/5000'],
    );
    // A VM host names itself as cloud-init does; a lab host is already among the lab's names.
    assert.match(etcHosts(plan, vm), /^127\.0\.1\.1\tweb2$/m);
    assert.doesNotMatch(etcHosts(plan, pve1!), /^127\.0\.1\.1/m);
  });

  it('merges faults under the lock: none lost when written at once, null removes a key', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'chaton-vm-faults-')), 'vm-faults.json');
    assert.deepEqual(await readVmFaults(file), {});
    const counters = Array.from({ length: 20 }, (_, i) => ({ [`counter${i}`]: i }));
    await Promise.all(counters.map((partial) => mergeVmFaults(file, partial)));
    assert.deepEqual(await readVmFaults(file), Object.assign({}, ...counters));
    await mergeVmFaults(file, Object.fromEntries(counters.map((_, i) => [`counter${i}`, null])));
    await mergeVmFaults(file, { agentNever: true });
    assert.equal(await readFile(file, 'utf8'), '{\n  "agentNever": true\n}\n');
  });
});
