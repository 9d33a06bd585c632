// The Ceph lab's plan without a lab: which hosts get the Ceph side (its bind and stand-ins) and only
// in a Ceph lab, and the cluster's ceph.conf (its monitors' addresses, the options HEALTH_OK needs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cephConf } from '../lab/ceph.js';
import { hostFstab } from '../lab/lab-files.js';
import { STANDIN_TOOLS } from '../lab/pve-lab.js';
import { CEPH_LAB_MOUNT } from '../lab/standins/ceph-lab.js';
import { DISK_LAB_MOUNT } from '../lab/standins/disk-lab.js';
import { activeRoles, labPlan } from '../lab/topology.js';

describe('the Ceph lab', () => {
  const plain = labPlan({ name: 'unit', index: 4, extraHosts: 1 });
  const ceph = labPlan({ name: 'unit', index: 4, extraHosts: 1, ceph: true });

  it('gives the Ceph side to pve1-3 of a Ceph lab only', () => {
    const cephHosts = (plan: typeof ceph) =>
      plan.hosts.filter((host) => activeRoles(plan, host).includes('ceph')).map((host) => host.name);
    assert.deepEqual(cephHosts(ceph), ['pve1', 'pve2', 'pve3']);
    assert.deepEqual(cephHosts(plain), []);
    const fstab = (plan: typeof ceph, name: string) => {
      const host = plan.hosts.find((candidate) => candidate.name === name)!;
      return hostFstab(host, plan.paths, activeRoles(plan, host));
    };
    assert.match(fstab(ceph, 'pve2'), new RegExp(`^${ceph.paths.cephLab.dir} ${CEPH_LAB_MOUNT} none bind`, 'm'));
    assert.ok(!fstab(plain, 'pve2').includes(CEPH_LAB_MOUNT));
    assert.ok(!fstab(ceph, 'backup').includes(CEPH_LAB_MOUNT));
    assert.deepEqual(
      STANDIN_TOOLS['ceph']?.map((tool) => tool.name),
      ['systemctl', 'ceph-volume'],
    );
  });

  it('gives the disk registry to pve1-3 and backup of a lab with Ceph or disks only', () => {
    const disks = labPlan({ name: 'unit', index: 4, extraHosts: 1, disks: true });
    const diskHosts = (plan: typeof ceph) =>
      plan.hosts.filter((host) => activeRoles(plan, host).includes('disks')).map((host) => host.name);
    assert.deepEqual(diskHosts(ceph), ['pve1', 'pve2', 'pve3', 'backup']);
    assert.deepEqual(diskHosts(disks), ['pve1', 'pve2', 'pve3', 'backup']);
    assert.deepEqual(diskHosts(plain), []);
    const backup = disks.hosts.find((host) => host.name === 'backup')!;
    const fstab = hostFstab(backup, disks.paths, activeRoles(disks, backup));
    assert.match(fstab, new RegExp(`^${disks.paths.diskLab.dir} ${DISK_LAB_MOUNT} none bind`, 'm'));
    assert.ok(!fstab.includes(CEPH_LAB_MOUNT));
    assert.ok(STANDIN_TOOLS['disks']?.some((tool) => tool.name === 'lsblk'));
  });

  it("writes a ceph.conf with the three monitors' msgr2 and legacy addresses", () => {
    const cephHosts = ceph.hosts.filter((host) => host.roles.includes('ceph'));
    const conf = cephConf('0d187abe-5e23-471c-acd8-940bb1315b7e', ceph, cephHosts);
    assert.match(conf, /^fsid = 0d187abe-5e23-471c-acd8-940bb1315b7e$/m);
    assert.match(conf, /^mon_initial_members = pve1, pve2, pve3$/m);
    const monHost = conf.split('\n').find((line) => line.startsWith('mon_host = '));
    assert.equal(
      monHost,
      'mon_host = [v2:198.18.4.11:3300,v1:198.18.4.11:6789],[v2:198.18.4.12:3300,v1:198.18.4.12:6789],' +
        '[v2:198.18.4.13:3300,v1:198.18.4.13:6789]',
    );
    assert.match(conf, /^public_network = 198\.18\.4\.0\/24$/m);
    // Without it, a fresh Pacific cluster warns that mons allow insecure global_id reclaim.
    assert.match(conf, /^auth_allow_insecure_global_id_reclaim = false$/m);
    assert.match(conf, /^\[mon\]\nkeyring = \$mon_data\/keyring$/m);
  });
});
