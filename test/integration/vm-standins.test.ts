// The Proxmox stand-ins' side of `vm create` on the lab: the template on the shared storage, a clone
// to another node through pvesh's real SSH proxy, its configuration, disk, firewall and backup job,
// tasks and their status, start and stop, the real errors, and the faults a busy cluster shows
// (a VMID taken under the clone, a template's lock held, slow clones). Needs root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { freshLab } from './chaton.js';

describe('Proxmox stand-ins for vm create, on the lab', () => {
  let lab: Lab;

  before(async () => {
    lab = await freshLab('vm-standins', 0);
  });
  after(async () => {
    await lab?.down();
  });

  async function ok(host: string, ...argv: string[]): Promise<string> {
    const { exitCode, stdout, stderr } = await lab.run(host, argv);
    assert.equal(exitCode, 0, `${argv.join(' ')}: ${stderr}`);
    return stdout;
  }
  const json = async <T>(host: string, ...argv: string[]): Promise<T> =>
    JSON.parse(await ok(host, ...argv, '--output-format', 'json')) as T;

  /** The faults file the node reads (vm-lab.json's, or one made for the test), set to `faults`. */
  async function setFaults(faults: object): Promise<void> {
    const script =
      'f=$(sed -n \'s/.*"faultsFile": *"\\([^"]*\\)".*/\\1/p\' /etc/chaton-lab/vm-lab.json 2>/dev/null); ' +
      'if [ -z "$f" ]; then f=/root/vm-faults.json; mkdir -p /etc/chaton-lab; ' +
      'printf \'{"faultsFile": "%s"}\\n\' "$f" > /etc/chaton-lab/vm-lab.json; fi; printf "%s\\n" "$1" > "$f"';
    await ok('pve1', 'sh', '-c', script, 'sh', JSON.stringify(faults));
  }

  it('starts with the template debian-12 on the shared storage, security groups and 16 GiB nodes', async () => {
    const config = await json<Record<string, unknown>>('pve2', 'pvesh', 'get', '/nodes/pve1/qemu/9000/config');
    assert.deepEqual(
      [config['name'], config['template'], config['scsi0'], config['ide2'], config['agent']],
      [
        'debian-12',
        1,
        'vmdata:9000/base-9000-disk-0.raw,size=2G,iothread=1',
        'vmdata:9000/vm-9000-cloudinit.qcow2,media=cdrom',
        1,
      ],
    );
    const groups = await json<{ group: string }[]>('pve1', 'pvesh', 'get', '/cluster/firewall/groups');
    assert.deepEqual(
      groups.map((group) => group.group),
      ['base', 'web'],
    );
    const status = await json<{ memory: { total: number } }>('pve3', 'pvesh', 'get', '/nodes/pve2/status');
    assert.equal(status.memory.total, 16 * 1024 ** 3);
    const ssh = ['ssh', '-o', 'BatchMode=yes', '-o', 'HostKeyAlias=pve3'];
    const knownHosts = ['-o', 'UserKnownHostsFile=/etc/pve/nodes/pve3/ssh_known_hosts', 'pve3', 'hostname'];
    assert.equal((await ok('pve1', ...ssh, ...knownHosts)).trim(), 'pve3', "the cluster's root SSH");
  });

  it("proxies another node's calls over SSH: its own status, with the pid only it knows", async () => {
    const current = await json<{ pid: number; status: string }>(
      ...['pve1', 'pvesh', 'get', '/nodes/pve2/qemu/102/status/current'],
    );
    assert.equal(current.status, 'running');
    assert.ok(current.pid > 1);
    const loop = await lab.run('pve1', ['pvesh', '--noproxy', 'get', '/nodes/pve2/qemu/102/status/current']);
    assert.deepEqual([loop.exitCode, loop.stderr], [255, 'proxy loop detected - aborting\n']);
  });

  it('clones, configures, resizes, firewalls, starts, stops and destroys a VM through pvesh', async () => {
    const clone = await ok(
      ...['pve3', 'pvesh', 'create', '/nodes/pve1/qemu/9000/clone', '--newid', '5000', '--name', 'web1'],
      ...['--full', '1', '--target', 'pve2', '--storage', 'vmdata'],
    );
    assert.match(clone, /^creating a clone of VM 9000 with ID 5000\n/);
    // Proxied, the task's output and its UPID come back as one string: the UPID in quotes, as the
    // remote pvesh printed it in JSON.
    const upid = /^"(UPID:pve1:[^"]+)"$/m.exec(clone)?.[1] ?? '';
    const task = await json<Record<string, unknown>>('pve3', 'pvesh', 'get', `/nodes/pve1/tasks/${upid}/status`);
    assert.deepEqual([task['status'], task['exitstatus'], task['type']], ['stopped', 'OK', 'qmclone']);
    const key = encodeURIComponent(`${(await ok('pve1', 'cat', '/root/.ssh/id_ed25519.pub')).trim()}\n`);
    await ok(
      ...['pve1', 'pvesh', 'set', '/nodes/pve2/qemu/5000/config', '--cores', '2', '--memory', '2048'],
      ...['--ciuser', 'root', '--sshkeys', key, '--ipconfig0', 'ip=198.18.0.240/24,gw=198.18.0.2'],
      ...['--nameserver', '198.18.0.2', '--tags', 'web', '--onboot', '1', '--agent', '1'],
    );
    const resize = await ok('pve1', 'pvesh', 'set', '/nodes/pve2/qemu/5000/resize', '--disk', 'scsi0', '--size', '8G');
    assert.match(resize, /^UPID:pve2:[0-9A-F:]+:resize:5000:root@pam:\n$/);
    await ok('pve1', 'pvesh', 'set', '/nodes/pve2/qemu/5000/firewall/options', '--enable', '1');
    await ok(
      ...['pve1', 'pvesh', 'create', '/nodes/pve2/qemu/5000/firewall/rules'],
      ...['--type', 'group', '--action', 'web', '--iface', 'net0', '--enable', '1'],
    );
    assert.equal(
      await ok('pve2', 'cat', '/etc/pve/firewall/5000.fw'),
      '[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web -i net0\n\n',
    );
    const config = await ok('pve2', 'qm', 'config', '5000');
    assert.match(config, /^scsi0: vmdata:5000\/vm-5000-disk-0\.raw,iothread=1,size=8G$/m);
    assert.match(config, /^sshkeys: ssh-ed25519%20\S+%0A$/m);
    assert.match(config, /^ipconfig0: ip=198\.18\.0\.240\/24,gw=198\.18\.0\.2$/m);
    const start = await ok('pve1', 'pvesh', 'create', '/nodes/pve2/qemu/5000/status/start');
    assert.match(start, /^generating cloud-init ISO\n"UPID:pve2:\S+:qmstart:5000:root@pam:"\n\n$/);
    assert.equal(await ok('pve2', 'qm', 'status', '5000'), 'status: running\n');
    await ok('pve1', 'pvesh', 'create', '/nodes/pve2/qemu/5000/status/stop');
    const destroy = await lab.run('pve2', ['qm', 'destroy', '5000', '--purge', '1']);
    assert.equal(destroy.exitCode, 0, destroy.stderr);
    assert.equal((await lab.run('pve1', ['ls', '/mnt/pve/vmdata/images/5000'])).exitCode, 2, 'its disks are gone');
  });

  it('fails as the real tools do: a used VMID, no agent, a stopped VM, a stale digest, shrinking', async () => {
    const used = await lab.run('pve1', ['qm', 'clone', '9000', '101', '--full', '1']);
    assert.deepEqual([used.exitCode, used.stderr], [255, 'unable to create VM 101: config file already exists\n']);
    const elsewhere = await lab.run('pve1', ['qm', 'clone', '9000', '102', '--full', '1']);
    assert.deepEqual(
      [elsewhere.exitCode, elsewhere.stdout, elsewhere.stderr],
      [
        255,
        'creating a clone of VM 9000 with ID 102\n',
        "close (rename) atomic file '/etc/pve/nodes/pve1/qemu-server/102.conf' failed: File exists\n",
      ],
      'pmxcfs refuses a VMID another node has',
    );
    const nextid = await lab.run('pve1', ['pvesh', 'get', '/cluster/nextid', '--vmid', '102']);
    assert.match(nextid.stderr, /^400 Parameter verification failed\.\nvmid: VM 102 already exists\n/);
    const agent = await lab.run('pve1', ['pvesh', 'create', '/nodes/pve2/qemu/102/agent/ping']);
    assert.deepEqual([agent.exitCode, agent.stderr], [255, 'proxy handler failed: QEMU guest agent is not running\n']);
    const stopped = await lab.run('pve2', ['qm', 'guest', 'cmd', '103', 'network-get-interfaces']);
    assert.deepEqual([stopped.exitCode, stopped.stderr], [255, 'VM 103 is not running\n']);
    const digest = await lab.run('pve1', ['qm', 'set', '100', '--cores', '1', '--digest', '0'.repeat(40)]);
    assert.deepEqual([digest.exitCode, digest.stderr], [255, 'checksum mismatch (file change by other user?)\n']);
    const shrink = await lab.run('pve1', ['qm', 'resize', '100', 'scsi0', '1G']);
    assert.deepEqual([shrink.exitCode, shrink.stderr], [0, 'shrinking disks is not supported\n']);
  });

  it('adds a VM to the backup job (the API takes no digest there) and takes it out when it goes', async () => {
    const job = '/cluster/backup/backup-5c6b1e2a-8d41';
    await ok('pve1', 'pvesh', 'set', job, '--vmid', '100,101,102,103,104,105');
    assert.equal((await json<{ vmid: string }>('pve3', 'pvesh', 'get', job)).vmid, '100,101,102,103,104,105');
    const digest = await lab.run('pve1', ['pvesh', 'set', job, '--vmid', '100', '--digest', 'abc']);
    assert.deepEqual([digest.exitCode, digest.stderr.split('\n')[0]], [255, 'Unknown option: digest']);
    await ok('pve1', 'pvesh', 'set', job, '--vmid', '100,101,102,103,104');
  });

  it('reproduces a busy cluster from the faults file: a VMID taken, a held lock, slow clones', async () => {
    await setFaults({ cloneVmidTaken: 1, cloneLockTimeouts: 1, cloneDelayMs: 200, nodeMemory: { pve1: 2 ** 32 } });
    const locked = await lab.run('pve1', ['qm', 'clone', '9000', '5001', '--full', '1']);
    assert.deepEqual(
      [locked.exitCode, locked.stdout, locked.stderr],
      [255, 'trying to acquire lock...\n', "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout\n"],
    );
    const clone = ['pvesh', 'create', '/nodes/pve1/qemu/9000/clone', '--newid', '5001', '--full', '1'];
    const taken = await lab.run('pve1', clone);
    assert.equal(taken.exitCode, 0, 'pvesh returns the task: its status tells');
    assert.equal(taken.stderr, 'unable to create VM 5001: config file already exists\n');
    assert.match(await ok('pve1', 'qm', 'config', '5001'), /^name: intruder-5001$/m);
    const slow = await ok('pve1', 'qm', 'clone', '9000', '5002', '--full', '1', '--name', 'slow');
    assert.match(slow, /transferred 2\.0 GiB of 2\.0 GiB/);
    const nodes = await json<{ node: string; maxmem: number }[]>(
      'pve2',
      'pvesh',
      'get',
      '/cluster/resources',
      '--type',
      'node',
    );
    assert.equal(nodes.find((node) => node.node === 'pve1')?.maxmem, 2 ** 32);
    await ok('pve1', 'qm', 'destroy', '5001');
    await ok('pve1', 'qm', 'destroy', '5002');
    await setFaults({});
  });
});
