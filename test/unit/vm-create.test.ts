// vm create's pure parts: the parsers of what pvesh prints (the REAL formats, sources named at each
// sample), the commands it sends (golden lines), the batch of questions in one session (run here
// by dash), the VM wanted from the inventory and flags (bad input refused), the preflight
// judgement, the differences and the configuration changes, and the report.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import {
  cloneRetryable,
  decodeSshKeys,
  encodeSshKeys,
  jobIncludes,
  parseAgentAddresses,
  parseClusterGroups,
  parseConfFile,
  parseJobsCfg,
  parseVmFirewall,
  parseFileRead,
  parseQemuConfigs,
  parseNextId,
  parseNic,
  parseNotBackedUp,
  parseResources,
  parseTaskStatus,
  parseUpid,
  pingCommand,
  qemuConfigsCommand,
  pvesh,
  taskStatusCommand,
  taskSucceeded,
  vmPath,
} from '../../src/lib/proxmox/api.js';
import { proxmoxOf, type ProxmoxSection } from '../../src/lib/proxmox/inventory.js';
import { vmReportFields, vmReportView, type VmReport } from '../../src/lib/proxmox/render.js';
import {
  chooseAddress,
  type ClusterFacts,
  configChanges,
  differences,
  headroom,
  preflight,
  reservedAddresses,
  wantedVm,
  type VmState,
} from '../../src/lib/proxmox/vm.js';
import { atOnceCommand, parseAtOnce } from '../../src/lib/remote/at-once.js';
import { render } from '../../src/lib/remote/shell.js';
import { UsageError } from '../../src/lib/run/errors.js';

const G = 1024 ** 3;
const M = 1024 ** 2;

const INVENTORY = `hosts:
  pve1: { address: 198.18.3.11, roles: [pve], direct: true }
  web1: { address: 198.18.3.240, direct: true }
proxmox:
  templates:
    debian-12: { vmid: 9000, node: pve1 }
    debian-13: { vmid: 9001, node: pve1 }
  storage: vmdata
  bridge: vmbr0
  defaults: { cores: 1, memory: 1G, disk: 8G }
  networks:
    lan: { cidr: 198.18.3.0/24, gateway: 198.18.3.2, dns: [198.18.3.2], allocate: 198.18.3.240-198.18.3.250 }
  roles:
    vm: { security_group: web, network: lan }
    db: { security_group: base, network: lan }
  backup_job: backup-lab
  vmids: 5000-5099
  vms:
    web2: { template: debian-12, role: vm, cores: 2, memory: 2G, disk: 16G, ip: 198.18.3.245/24, tags: [prod] }
`;

function section(): ProxmoxSection {
  return proxmoxOf(parseInventory(INVENTORY, 'inline.yaml', INVENTORY_SECTIONS))!;
}

function usageError(work: () => unknown): { message: string; hint: string | undefined } {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return { message: error.message, hint: error.hint };
  }
  assert.fail('no usage error');
}

// pve-manager PVE/API2/Cluster.pm resources (fields of PVE/API2Tools.pm extract_vm_stats and
// extract_node_stats), as `pvesh get /cluster/resources --output-format json` prints them: one line.
const RESOURCES = JSON.stringify([
  {
    id: 'node/pve1',
    type: 'node',
    node: 'pve1',
    status: 'online',
    level: '',
    cpu: 0.021,
    maxcpu: 4,
    mem: 2 * G,
    maxmem: 16 * G,
    disk: 3 * G,
    maxdisk: 30 * G,
    uptime: 3600,
    cgroup_mode: 2,
  },
  { id: 'node/pve2', type: 'node', node: 'pve2', status: 'online', mem: 1 * G, maxmem: 16 * G, uptime: 3600 },
  { id: 'node/pve3', type: 'node', node: 'pve3', status: 'offline' },
  {
    id: 'qemu/9000',
    type: 'qemu',
    vmid: 9000,
    name: 'debian-12',
    node: 'pve1',
    status: 'stopped',
    template: 1,
    maxmem: 1 * G,
    mem: 0,
    maxcpu: 1,
    cpu: 0,
    disk: 0,
    maxdisk: 8 * G,
    uptime: 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  },
  {
    id: 'qemu/100',
    type: 'qemu',
    vmid: 100,
    name: 'mail',
    node: 'pve2',
    status: 'running',
    template: 0,
    maxmem: 12 * G,
  },
  {
    id: 'qemu/101',
    type: 'qemu',
    vmid: 101,
    node: 'pve1',
    status: 'stopped',
    template: 0,
    maxmem: 1 * G,
    lock: 'clone',
  },
  { id: 'lxc/102', type: 'lxc', vmid: 102, name: 'dns', node: 'pve1', status: 'running', maxmem: 512 * M, tags: 'a;b' },
  { id: 'storage/pve1/vmdata', type: 'storage', node: 'pve1', storage: 'vmdata', status: 'available', shared: 1 },
]);

// A config file as qemu-server writes it (src/PVE/QemuServer.pm write_vm_config): keys sorted, the
// description first as `#` lines (URL-encoded by PVE::Tools::encode_text), a snapshot section last.
const TEMPLATE_CONF = `#debian 12, cloud-init and qemu-guest-agent
agent: 1
boot: order=scsi0;ide2;net0
cores: 1
ide2: vmdata:vm-9000-cloudinit,media=cdrom
memory: 1024
meta: creation-qemu=8.1.5,ctime=1717243200
name: debian-12
net0: virtio=BC:24:11:5E:2A:01,bridge=vmbr0
ostype: l26
scsi0: vmdata:base-9000-disk-0,size=8G
scsihw: virtio-scsi-single
template: 1

[before-cloud-init]
memory: 4096
name: debian-12-old
`;

/** A config file of these keys and values, as qemu-server writes one. */
function conf(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}: ${value}\n`)
    .join('');
}

function facts(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    resources: parseResources(RESOURCES),
    configs: [
      { vmid: 9000, node: 'pve1', name: 'debian-12', memory: G, template: true, addresses: [] },
      { vmid: 100, node: 'pve2', name: 'mail', memory: 12 * G, template: false, addresses: [] },
      { vmid: 101, node: 'pve1', memory: G, template: false, addresses: [] },
    ],
    pings: new Map(),
    groups: ['web', 'base'],
    job: { id: 'backup-lab', vmids: [100], all: false, exclude: [] },
    template: parseConfFile(TEMPLATE_CONF),
    ...overrides,
  };
}

describe('what pvesh prints, parsed', () => {
  it('/cluster/resources: VMs (a clone under way has no name yet) and nodes in one call', () => {
    const { vms, nodes } = parseResources(RESOURCES);
    assert.deepEqual(
      nodes.map((n) => [n.node, n.status, n.mem, n.maxmem]),
      [
        ['pve1', 'online', 2 * G, 16 * G],
        ['pve2', 'online', 1 * G, 16 * G],
        ['pve3', 'offline', 0, 0],
      ],
    );
    assert.deepEqual(
      vms.map((vm) => [vm.vmid, vm.type, vm.name ?? null, vm.node, vm.template, vm.lock ?? null]),
      [
        [9000, 'qemu', 'debian-12', 'pve1', true, null],
        [100, 'qemu', 'mail', 'pve2', false, null],
        [101, 'qemu', null, 'pve1', false, 'clone'],
        [102, 'lxc', 'dns', 'pve1', false, null],
      ],
    );
  });

  it('/cluster/nextid: 101 or "101" (Cluster.pm returns an integer; older pvesh printed it quoted)', () => {
    assert.equal(parseNextId('5000\n'), 5000);
    assert.equal(parseNextId('"5000"\n'), 5000);
    assert.throws(() => parseNextId('null'));
  });

  it('a task from the CLI: its log lines, then the UPID as a JSON string (RESTEnvironment fork_worker)', () => {
    const stdout =
      'create full clone of drive scsi0 (vmdata:base-9000-disk-0)\n' +
      'transferred 0.0 B of 8.0 GiB (0.00%)\ntransferred 8.0 GiB of 8.0 GiB (100.00%)\n' +
      '"UPID:pve1:0001E2A4:0006B0F1:674D8C2E:qmclone:9000:root@pam:"\n';
    const upid = parseUpid(stdout)!;
    assert.equal(upid, 'UPID:pve1:0001E2A4:0006B0F1:674D8C2E:qmclone:9000:root@pam:');
    assert.equal(parseUpid('unable to create VM 5000: config file already exists\n'), undefined);
    assert.equal(
      render(taskStatusCommand(upid)).toString(),
      'pvesh get /nodes/pve1/tasks/UPID:pve1:0001E2A4:0006B0F1:674D8C2E:qmclone:9000:root@pam:/status ' +
        '--output-format json',
    );
  });

  it('a task status (Tasks.pm read_task_status): OK and WARNINGS end well, an error does not', () => {
    const stopped = (exitstatus: string) =>
      parseTaskStatus(JSON.stringify({ status: 'stopped', exitstatus, type: 'qmclone', id: '9000', pid: 1 }));
    assert.equal(taskSucceeded(stopped('OK')), true);
    assert.equal(taskSucceeded(stopped('WARNINGS: 2')), true);
    const failed = stopped("can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout");
    assert.equal(taskSucceeded(failed), false);
    assert.equal(taskSucceeded(parseTaskStatus('{"status":"running","pid":1}')), false);
  });

  it('a clone is tried again on "already exists" and on a lock timeout, on nothing else', () => {
    assert.equal(cloneRetryable('unable to create VM 5000: config file already exists'), 'vmid-taken');
    const otherNode = "close (rename) atomic file '/etc/pve/nodes/pve1/qemu-server/5000.conf' failed: File exists";
    assert.equal(cloneRetryable(otherNode), 'vmid-taken');
    assert.equal(
      cloneRetryable("can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout"),
      'lock-timeout',
    );
    assert.equal(cloneRetryable("storage 'vmdata' does not exist"), undefined);
  });

  it("a VM's config: memory as a property string, keys URL-decoded, the boot disk's size, the NIC", () => {
    const config = parseConfFile(
      '#chaton vm create%3A not finished (alice@laptop, 2026-12-02T06%3A00%3A00.000Z)\n' +
        conf({
          name: 'web3',
          memory: 'current=2048',
          cores: '2',
          ciuser: 'root',
          sshkeys: 'ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIB%2Bx%20chaton%0Assh-ed25519%20AAAAC3Nz%20alice%0A',
          ipconfig0: 'ip=198.18.3.240/24,gw=198.18.3.2',
          tags: 'prod;Web',
          onboot: 1,
          agent: 'enabled=1,fstrim_cloned_disks=1',
          net0: 'virtio=BC:24:11:5E:2A:99,bridge=vmbr0,firewall=1',
          scsi0: 'vmdata:vm-5000-disk-0,iothread=1,size=34359738368',
          ide2: 'vmdata:vm-5000-cloudinit,media=cdrom,size=4M',
          boot: 'order=scsi0;ide2;net0',
        }),
    );
    assert.equal(config.description, 'chaton vm create: not finished (alice@laptop, 2026-12-02T06:00:00.000Z)\n');
    assert.equal(config.memory, 2048);
    assert.equal(config.cores, 2);
    assert.deepEqual(config.sshkeys, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+x chaton', 'ssh-ed25519 AAAAC3Nz alice']);
    assert.deepEqual(config.tags, ['prod', 'web']);
    assert.equal(config.onboot, true);
    assert.equal(config.agent, true);
    assert.deepEqual(config.disk, { key: 'scsi0', size: 32 * G });
    assert.deepEqual(parseNic(config.net0!), {
      model: 'virtio',
      mac: 'BC:24:11:5E:2A:99',
      bridge: 'vmbr0',
      firewall: true,
    });
    const template = parseConfFile(TEMPLATE_CONF);
    assert.equal(template.template, true);
    assert.equal(template.name, 'debian-12');
    assert.equal(template.memory, 1024);
    assert.deepEqual(template.disk, { key: 'scsi0', size: 8 * G });
    assert.equal(template.onboot, false);
  });

  it('sshkeys are encoded as Perl uri_escape does, and read back', () => {
    const keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+x/y= chaton (lab)'];
    const encoded = encodeSshKeys(keys);
    assert.equal(encoded, 'ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIB%2Bx%2Fy%3D%20chaton%20%28lab%29%0A');
    assert.deepEqual(decodeSshKeys(encoded), keys);
  });

  it("every VM's name, memory and addresses read from /etc/pve in one grep (/cluster/resources lags)", () => {
    assert.equal(
      render(qemuConfigsCommand).toString(),
      "sh -c 'grep -H -E '\\''^(\\[|name:|memory:|template:|ipconfig[0-9]+:)'\\'' " +
        "/etc/pve/nodes/*/qemu-server/*.conf; [ $? -le 1 ]'",
    );
    const vms = parseQemuConfigs(
      '/etc/pve/nodes/pve1/qemu-server/100.conf:ipconfig0: ip=198.18.3.241/24,gw=198.18.3.2\n' +
        '/etc/pve/nodes/pve1/qemu-server/100.conf:memory: current=2048\n' +
        '/etc/pve/nodes/pve1/qemu-server/100.conf:name: mail\n' +
        '/etc/pve/nodes/pve1/qemu-server/100.conf:[before-upgrade]\n' +
        '/etc/pve/nodes/pve1/qemu-server/100.conf:ipconfig0: ip=198.18.3.249/24\n' +
        '/etc/pve/nodes/pve1/qemu-server/100.conf:memory: 4096\n' +
        '/etc/pve/nodes/pve1/qemu-server/100.conf:name: old-mail\n' +
        '/etc/pve/nodes/pve2/qemu-server/101.conf:ipconfig0: ip=dhcp\n' +
        '/etc/pve/nodes/pve2/qemu-server/102.conf:ipconfig1: gw=198.18.3.2,ip=198.18.3.242/24\n' +
        '/etc/pve/nodes/pve2/qemu-server/102.conf:name: web3\n' +
        '/etc/pve/nodes/pve1/qemu-server/9000.conf:name: debian-12\n' +
        '/etc/pve/nodes/pve1/qemu-server/9000.conf:template: 1\n',
    );
    assert.deepEqual(vms, [
      {
        vmid: 100,
        node: 'pve1',
        name: 'mail',
        memory: 2 * G,
        template: false,
        addresses: ['198.18.3.241', '198.18.3.249'],
      },
      { vmid: 101, node: 'pve2', memory: 512 * M, template: false, addresses: [] },
      { vmid: 102, node: 'pve2', name: 'web3', memory: 512 * M, template: false, addresses: ['198.18.3.242'] },
      { vmid: 9000, node: 'pve1', name: 'debian-12', memory: 512 * M, template: true, addresses: [] },
    ]);
  });

  it('the backup job in jobs.cfg (PVE/Jobs/VZDump.pm): a vmid list, all with exclusions, or a pool', () => {
    const jobs =
      'vzdump: backup-lab\n\tcomment nightly\n\tschedule 21:00\n\tenabled 1\n\tstorage local\n\tvmid 100,101\n\n' +
      'vzdump: daily\n\tall 1\n\texclude 105\n\tschedule daily\n\n' +
      'vzdump: p\n\tpool prod\n\n' +
      'realm-sync: sync-ldap\n\tschedule daily\n';
    const listed = parseJobsCfg(jobs, 'backup-lab')!;
    assert.deepEqual(listed, { id: 'backup-lab', vmids: [100, 101], all: false, exclude: [] });
    assert.equal(jobIncludes(listed, 101), true);
    assert.equal(jobIncludes(listed, 5000), false);
    const all = parseJobsCfg(jobs, 'daily')!;
    assert.equal(jobIncludes(all, 5000), true);
    assert.equal(jobIncludes(all, 105), false);
    assert.equal(jobIncludes(parseJobsCfg(jobs, 'p')!, 5000), false);
    assert.equal(parseJobsCfg(jobs, 'sync-ldap'), undefined);
    assert.equal(parseJobsCfg(jobs, 'backup'), undefined);
    assert.deepEqual(parseNotBackedUp('[{"vmid":5000,"name":"web3","type":"qemu"}]'), [5000]);
  });

  it("the firewall's files (pve-firewall Firewall.pm): cluster.fw's groups, a VM's options and rules", () => {
    const cluster = '[OPTIONS]\n\nenable: 1\n\n[group base] # every VM\n\nIN ACCEPT -p icmp\n\n[group web] # web\n';
    assert.deepEqual(parseClusterGroups(cluster), ['base', 'web']);
    const vm =
      '[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web -i net0\n|GROUP base # off for now\nIN ACCEPT -p tcp -dport 80\n';
    assert.deepEqual(parseVmFirewall(vm), {
      enabled: true,
      rules: [
        { type: 'group', action: 'web', iface: 'net0', enable: true },
        { type: 'group', action: 'base', enable: false },
        { type: 'in', action: 'ACCEPT', enable: true },
      ],
    });
    assert.deepEqual(parseVmFirewall(''), { enabled: false, rules: [] });
  });

  it('the agent (Agent.pm): {"result": [...]} without loopback and link-local; file-read {"content": ...}', () => {
    const interfaces = {
      result: [
        {
          name: 'lo',
          'hardware-address': '00:00:00:00:00:00',
          'ip-addresses': [
            { 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 },
            { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 },
          ],
          statistics: { 'rx-bytes': 0 },
        },
        {
          name: 'eth0',
          'hardware-address': 'bc:24:11:5e:2a:99',
          'ip-addresses': [
            { 'ip-address-type': 'ipv4', 'ip-address': '198.18.3.240', prefix: 24 },
            { 'ip-address-type': 'ipv6', 'ip-address': 'fe80::be24:11ff:fe5e:2a99', prefix: 64 },
          ],
        },
      ],
    };
    assert.deepEqual(parseAgentAddresses(JSON.stringify(interfaces)), ['198.18.3.240']);
    assert.equal(parseFileRead('{"content":"ssh-ed25519 AAAAC3Nz root@web3\\n"}'), 'ssh-ed25519 AAAAC3Nz root@web3\n');
    assert.throws(() => parseFileRead('{"result":{}}'));
  });
});

describe('the commands sent (golden lines)', () => {
  it('clone, config, resize, firewall, backup job, start, delete', () => {
    const lines = [
      pvesh(
        'create',
        vmPath('pve1', 9000, '/clone'),
        '--newid',
        '5000',
        '--name',
        'web3',
        '--full',
        '1',
        '--target',
        'pve2',
      ),
      pvesh('set', vmPath('pve2', 5000, '/resize'), '--disk', 'scsi0', '--size', '32G'),
      pvesh('create', vmPath('pve2', 5000, '/firewall/rules'), '--type', 'group', '--action', 'web', '--iface', 'net0'),
      pvesh('delete', vmPath('pve2', 5000), '--purge', '1', '--destroy-unreferenced-disks', '1'),
      pingCommand('198.18.3.240'),
    ].map((c) => render(c).toString());
    assert.deepEqual(lines, [
      'pvesh create /nodes/pve1/qemu/9000/clone --newid 5000 --name web3 --full 1 --target pve2 --output-format json',
      'pvesh set /nodes/pve2/qemu/5000/resize --disk scsi0 --size 32G --output-format json',
      'pvesh create /nodes/pve2/qemu/5000/firewall/rules --type group --action web --iface net0 --output-format json',
      'pvesh delete /nodes/pve2/qemu/5000 --purge 1 --destroy-unreferenced-disks 1 --output-format json',
      'ping -c 1 -W 0.1 -q 198.18.3.240',
    ]);
  });

  it("a fresh clone's config changes: everything that differs from the template, the NIC keeping its MAC", () => {
    const wanted = wantedVm(section(), 'web3', {
      template: 'debian-12',
      role: 'vm',
      memory: '4G',
      disk: '32G',
      tags: 'prod,web',
    });
    const guest = { address: '198.18.3.240', prefix: 24, user: 'root', sshKeys: ['ssh-ed25519 AAAA chaton'] };
    const changes = configChanges(parseConfFile(TEMPLATE_CONF), wanted, guest);
    assert.deepEqual(changes, {
      set: [
        '--memory',
        '4096',
        '--ciuser',
        'root',
        '--sshkeys',
        'ssh-ed25519%20AAAA%20chaton%0A',
        '--ipconfig0',
        'ip=198.18.3.240/24,gw=198.18.3.2',
        '--nameserver',
        '198.18.3.2',
        '--tags',
        'prod;web',
        '--onboot',
        '1',
        '--net0',
        'virtio=BC:24:11:5E:2A:01,bridge=vmbr0,firewall=1',
      ],
      resize: { disk: 'scsi0', size: '32G' },
    });
    // Once made, nothing is left to change.
    const made = parseConfFile(
      conf({
        boot: 'order=scsi0;ide2;net0',
        cores: 1,
        agent: 1,
        memory: 4096,
        ciuser: 'root',
        sshkeys: 'ssh-ed25519%20AAAA%20chaton%0A',
        ipconfig0: 'ip=198.18.3.240/24,gw=198.18.3.2',
        nameserver: '198.18.3.2',
        tags: 'prod;web',
        onboot: 1,
        net0: 'virtio=BC:24:11:5E:2A:01,bridge=vmbr0,firewall=1',
        scsi0: 'vmdata:vm-5000-disk-0,size=32G',
      }),
    );
    assert.deepEqual(configChanges(made, wanted, guest), { set: [] });
  });
});

describe('several questions in one session', () => {
  it('runs every command at once, each with its exit status, stdout and stderr, under dash, bash and busybox', () => {
    const batch = atOnceCommand([
      { argv: ['echo', 'one'] },
      { argv: ['sh', '-c', 'echo out; echo oops >&2; exit 3'] },
      { argv: ['printf', '%s', 'no newline'] },
    ]);
    const [, ...args] = batch.argv.map(String);
    // The shells a node's root may have: dash (Debian's sh), bash, busybox.
    for (const shell of [['dash'], ['bash'], ['busybox', 'sh']]) {
      const stdout = execFileSync(shell[0]!, [...shell.slice(1), ...args], { encoding: 'utf8' });
      assert.deepEqual(parseAtOnce(stdout, 3), [
        { code: 0, stdout: 'one', stderr: '' },
        { code: 3, stdout: 'out', stderr: 'oops' },
        { code: 0, stdout: 'no newline', stderr: '' },
      ]);
    }
    assert.throws(() => parseAtOnce('chaton-part 1 0\nx\nchaton-stderr 1\n', 2), /2 commands .* 1 answered/);
  });
});

describe('the VM wanted: the inventory, the VM declared there, then the flags', () => {
  it('takes the declared VM, flags overriding it, the defaults for the rest', () => {
    const declared = wantedVm(section(), 'web2', {});
    assert.equal(declared.template.name, 'debian-12');
    assert.equal(declared.role?.name, 'vm');
    assert.equal(declared.securityGroup, 'web');
    assert.deepEqual([declared.cores, declared.memory, declared.disk], [2, 2 * G, 16 * G]);
    assert.deepEqual(declared.ip, { address: '198.18.3.245', prefix: 24 });
    assert.deepEqual(declared.tags, ['prod']);
    const flags = wantedVm(section(), 'web2', { cores: '4', memory: '512M', ip: 'auto', tags: 'a,b', node: 'pve2' });
    assert.deepEqual(
      [flags.cores, flags.memory, flags.ip, flags.tags, flags.node],
      [4, 512 * M, 'auto', ['a', 'b'], 'pve2'],
    );
    const fresh = wantedVm(section(), 'web3', { template: 'debian-13', role: 'db' });
    assert.deepEqual([fresh.cores, fresh.memory, fresh.disk, fresh.node, fresh.ip], [1, G, 8 * G, 'auto', 'auto']);
    assert.equal(fresh.securityGroup, 'base');
    assert.equal(fresh.backupJob, 'backup-lab');
  });

  it('refuses bad input with what to write instead (exit 2, nothing made)', () => {
    assert.match(usageError(() => wantedVm(section(), 'web.lab', {})).message, /"web.lab" is not a valid VM name/);
    assert.match(usageError(() => wantedVm(section(), 'Web3', {})).message, /"Web3" is not a valid VM name/);
    const memory = usageError(() => wantedVm(section(), 'web3', { template: 'debian-12', memory: '4 GB' }));
    assert.match(memory.message, /--memory must be a size such as 4G, got "4 GB"/);
    assert.match(memory.hint!, /write 4G/);
    const template = usageError(() => wantedVm(section(), 'web3', { template: 'debian12' }));
    assert.match(template.message, /unknown template "debian12"/);
    assert.match(template.hint!, /did you mean "debian-12"/);
    const role = usageError(() => wantedVm(section(), 'web3', { template: 'debian-12', role: 'nope' }));
    assert.match(role.message, /unknown role "nope"/);
    assert.match(role.hint!, /one of: vm, db/);
    assert.match(usageError(() => wantedVm(section(), 'web3', {})).message, /which template/);
    const outside = usageError(() => wantedVm(section(), 'web3', { template: 'debian-12', ip: '10.0.0.5/24' }));
    assert.match(outside.message, /10.0.0.5\/24 is not an address of the network lan/);
    assert.match(
      usageError(() => wantedVm(section(), 'web3', { template: 'debian-12', cores: '0' })).message,
      /--cores/,
    );
    assert.match(usageError(() => wantedVm(section(), 'web3', { template: 'debian-12', tags: 'a b' })).message, /tag/);
  });
});

describe('the preflight judgement', () => {
  const wanted = (flags: Parameters<typeof wantedVm>[2] = {}) =>
    wantedVm(section(), 'web3', { template: 'debian-12', role: 'vm', ...flags });
  const reserved = () => reservedAddresses(section().networks.get('lan'), ['198.18.3.11', '198.18.3.240']);

  it('counts the memory given to VMs, not only the memory used', () => {
    const { nodes } = parseResources(RESOURCES);
    // pve1: 16G, used 2G, given 1.5G (the template does not count); pve2: 16G, used 1G, given 12G.
    assert.deepEqual(
      nodes.slice(0, 2).map((node) => headroom(node, facts())),
      [14 * G, 4 * G],
    );
  });

  it('first asks the network about the free addresses, then picks the first that did not answer', () => {
    const first = preflight(wanted(), section(), facts(), reserved());
    assert.deepEqual(first, {
      kind: 'ping',
      addresses: ['198.18.3.241', '198.18.3.242', '198.18.3.243', '198.18.3.244', '198.18.3.245', '198.18.3.246'],
    });
    const pings = new Map([
      ['198.18.3.241', true],
      ['198.18.3.243', false],
    ]);
    const configs = [
      ...facts().configs,
      { vmid: 102, node: 'pve1', memory: G, template: false, addresses: ['198.18.3.242'] },
    ];
    assert.deepEqual(preflight(wanted(), section(), facts({ pings, configs }), reserved()), {
      kind: 'create',
      node: 'pve1',
      address: '198.18.3.243',
      prefix: 24,
      firstVmid: 5000,
    });
  });

  it('refuses an address taken, a full node, a missing group or template, a disk smaller than the template', () => {
    const taken = preflight(wanted({ ip: '198.18.3.240/24' }), section(), facts(), reserved());
    assert.equal(taken.kind, 'refused');
    const answering = preflight(
      wanted({ ip: '198.18.3.247/24' }),
      section(),
      facts({ pings: new Map([['198.18.3.247', true]]) }),
      reserved(),
    );
    const ofVm = preflight(
      wanted({ ip: '198.18.3.248/24' }),
      section(),
      facts({
        configs: [
          ...facts().configs,
          { vmid: 103, node: 'pve2', memory: G, template: false, addresses: ['198.18.3.248'] },
        ],
      }),
      reserved(),
    );
    const full = preflight(
      wanted({ ip: '198.18.3.249/24', node: 'pve2', memory: '8G' }),
      section(),
      facts({ pings: new Map([['198.18.3.249', false]]) }),
      reserved(),
    );
    const broken = preflight(
      wanted({ ip: '198.18.3.249/24', disk: '4G' }),
      section(),
      facts({ pings: new Map([['198.18.3.249', false]]), groups: ['base'] }),
      reserved(),
    );
    const said = (judged: ReturnType<typeof preflight>) =>
      judged.kind === 'refused' ? judged.problems.map((p) => p.en) : [];
    assert.deepEqual(said(taken), [
      "198.18.3.240 is taken: a host of the inventory, or the network's gateway or DNS server",
    ]);
    assert.deepEqual(said(answering), ['198.18.3.247 is taken: something answers there on the network']);
    assert.deepEqual(said(ofVm), ['198.18.3.248 is taken: VM 103 is configured with it']);
    assert.deepEqual(said(full), [
      'node pve2 has 4G of memory left for VMs, 8G asked (--node auto picks the node with the most)',
    ]);
    assert.deepEqual(said(broken), [
      "a 4G disk is smaller than the template debian-12's (8G): disks only grow",
      "the cluster's firewall has no security group web (it has base)",
    ]);
    const noTemplate = preflight(
      wanted({ ip: '198.18.3.249/24' }),
      section(),
      facts({ pings: new Map([['198.18.3.249', false]]), template: undefined }),
      reserved(),
    );
    assert.deepEqual(said(noTemplate), ['the template debian-12 (VM 9000) is not on the cluster']);
  });

  it('auto: another node when one is full; every node full: refused', () => {
    const pings = new Map([['198.18.3.249', false]]);
    const auto = preflight(wanted({ ip: '198.18.3.249/24', memory: '8G' }), section(), facts({ pings }), reserved());
    assert.equal(auto.kind === 'create' && auto.node, 'pve1');
    const huge = preflight(wanted({ ip: '198.18.3.249/24', memory: '64G' }), section(), facts({ pings }), reserved());
    assert.deepEqual(huge.kind === 'refused' && huge.problems.map((p) => p.en), [
      'no node has 64G of memory left for VMs (the most: pve1, 14G)',
    ]);
  });

  it('a VM of that name is found in the configs (then its own state decides); two of them are refused', () => {
    // Cloned a moment ago: /cluster/resources lists it without its name yet.
    const web3 = { vmid: 5000, node: 'pve2', name: 'web3', memory: G, template: false, addresses: [] };
    const found = preflight(wanted(), section(), facts({ configs: [...facts().configs, web3] }), reserved());
    assert.deepEqual(found.kind === 'found' && [found.vm.vmid, found.vm.node, found.vm.status], [
      5000,
      'pve2',
      'unknown',
    ]);
    const twice = [...facts().configs, web3, { ...web3, vmid: 5001, node: 'pve1' }];
    const refused = preflight(wanted(), section(), facts({ configs: twice }), reserved());
    assert.deepEqual(refused.kind === 'refused' && refused.problems.map((p) => p.en), [
      'the cluster has several VMs named web3 (5000, 5001): rename all but one',
    ]);
  });

  it('a VM being continued keeps the address its config has', () => {
    const config = parseConfFile('ipconfig0: ip=198.18.3.244/24,gw=198.18.3.2\n');
    const configs = [{ vmid: 5000, node: 'pve1', memory: G, template: false, addresses: ['198.18.3.244'] }];
    assert.deepEqual(chooseAddress(wanted(), facts({ configs }), reserved(), { vmid: 5000, config }), {
      address: '198.18.3.244',
      prefix: 24,
    });
  });
});

describe('a VM of that name: unchanged or different', () => {
  const state = (config: Record<string, string | number>, extra: Partial<VmState> = {}): VmState => ({
    vm: { vmid: 5000, type: 'qemu', name: 'web3', node: 'pve1', status: 'running', template: false, maxmem: G },
    config: parseConfFile(conf(config)),
    firewall: true,
    rules: [{ type: 'group', action: 'web', iface: 'net0', enable: true }],
    inJob: true,
    ...extra,
  });
  const made = {
    cores: 1,
    memory: 1024,
    ipconfig0: 'ip=198.18.3.241/24,gw=198.18.3.2',
    onboot: 1,
    agent: '1',
    net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1',
    scsi0: 'vmdata:vm-5000-disk-0,size=8G',
  };

  it('the same settings: no difference', () => {
    const wanted = wantedVm(section(), 'web3', { template: 'debian-12', role: 'vm' });
    assert.deepEqual(differences(state(made), wanted), []);
  });

  it('each setting that differs, with what was asked and what the cluster has', () => {
    const wanted = wantedVm(section(), 'web3', {
      template: 'debian-12',
      role: 'vm',
      memory: '2G',
      ip: '198.18.3.242/24',
    });
    assert.deepEqual(differences(state(made, { firewall: false, inJob: false }), wanted), [
      { setting: 'memory', wanted: '2G', actual: '1G' },
      { setting: 'address', wanted: '198.18.3.242', actual: '198.18.3.241' },
      { setting: 'firewall', wanted: 'on', actual: 'off' },
      { setting: 'backup job', wanted: 'backup-lab', actual: '-' },
    ]);
  });
});

describe('the report', () => {
  const report: VmReport = {
    name: 'web3',
    outcome: 'created',
    vmid: 5001,
    node: 'pve1',
    address: '198.18.3.240',
    fingerprint: 'SHA256:abc',
    hostname: 'web3',
    differences: [],
    problems: [],
    attempts: [{ vmid: 5000, error: 'unable to create VM 5000: config file already exists' }],
    steps: [
      { step: 'preflight', outcome: 'done', durationMs: 120.4 as number, detail: 'node pve1' },
      { step: 'clone', outcome: 'done', durationMs: 800, detail: 'debian-12 cloned into VM 5001 on pve1' },
    ],
    failure: null,
    totalMs: 2100,
  };

  it('JSON: the VM, each step with its duration, the refused attempts', () => {
    const fields = vmReportFields(report) as { vm: Record<string, unknown>; steps: unknown[]; attempts: unknown[] };
    assert.deepEqual(fields.vm, {
      name: 'web3',
      outcome: 'created',
      vmid: 5001,
      node: 'pve1',
      address: '198.18.3.240',
      fingerprint: 'SHA256:abc',
      hostname: 'web3',
    });
    assert.equal(fields.steps.length, 2);
    assert.deepEqual(fields.attempts, report.attempts);
  });

  it('for people: the VM, the steps table, the attempts and the verdict', () => {
    const blocks = vmReportView(report);
    const texts = blocks.flatMap((block) => ('text' in block ? [block.text] : []));
    assert.match(texts[0]!, /VMID +5001\nnode +pve1\naddress +198.18.3.240\nhost key +SHA256:abc\nhost name +web3/);
    assert.ok(blocks.some((block) => 'columns' in block && block.columns.join() === 'STEP,RESULT,DURATION,DETAIL'));
    assert.match(texts.at(-2)!, /VMID 5000 refused: unable to create VM 5000/);
    assert.equal(texts.at(-1), 'web3 created: VM 5001 on pve1, 198.18.3.240 (2100 ms)');
  });

  it("a failure's next step follows the table", () => {
    const failed: VmReport = {
      ...report,
      outcome: 'destroyed',
      failure: { message: 'the guest agent of VM 5001 did not answer within 3 s', hint: 'install qemu-guest-agent' },
    };
    const texts = vmReportView(failed).flatMap((block) => ('text' in block ? [block.text] : []));
    assert.ok(texts.includes('→ install qemu-guest-agent'));
    assert.equal(texts.at(-1), 'web3 failed: VM 5001 was destroyed, nothing is left (2100 ms)');
  });
});
