// `chaton vm create` on the lab (test/lab/README.md, VM hosts): the Proxmox stand-ins clone,
// configure and start a real-format VM, and a started cloud-init VM becomes a real lab host with
// its own sshd and new host key, which chaton reaches through the bastion. The lab's faults make
// the cluster misbehave as a busy one does. Needs root.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, variantInventory, type Run } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;

before(async () => {
  lab = await freshLab('vm-create', 1);
  env = await sandboxEnv();
});
after(async () => {
  await lab?.down();
});
beforeEach(async () => {
  // Each test sets the faults it wants; none is left from another.
  await lab.setVmFaults({
    agentNever: null,
    agentWrongHostKey: null,
    agentDelayMs: null,
    cloneVmidTaken: null,
    cloneLockTimeouts: null,
    cloneDelayMs: null,
    bootDelayMs: null,
    nodeMemory: null,
  });
});

interface VmJson {
  exitCode: number;
  error: { message: string; hint: string | null } | null;
  vm: {
    name: string;
    outcome: string;
    vmid: number | null;
    node: string | null;
    address: string | null;
    fingerprint: string | null;
    hostname: string | null;
  };
  attempts: { vmid: number; error: string }[];
  differences: { setting: string; wanted: string; actual: string }[];
  problems: string[];
  steps: { step: string; outcome: string; durationMs: number; detail: string }[];
}

function vmCreate(
  args: string[],
  options: { inventory?: string; onSpawn?: Parameters<typeof chaton>[1]['onSpawn'] } = {},
) {
  return chaton(['-i', options.inventory ?? lab.inventoryPath, 'vm', 'create', ...args], {
    env,
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
  });
}

async function vmCreateJson(args: string[]): Promise<{ run: Run; report: VmJson }> {
  const run = await vmCreate(['--json', ...args]);
  return { run, report: JSON.parse(run.stdout) as VmJson };
}

/** The VMs of the cluster named so, as /etc/pve holds them (what pmxcfs shows every node): their VMIDs. */
async function vmsNamed(name: string): Promise<number[]> {
  const script = 'grep -l -x -F "name: $1" /etc/pve/nodes/*/qemu-server/*.conf';
  const found = await lab.run('pve1', ['sh', '-c', script, 'sh', name]);
  return found.stdout
    .split('\n')
    .flatMap((line) => /\/(\d+)\.conf$/.exec(line)?.[1] ?? [])
    .map(Number)
    .sort();
}

/** A VM's config file, as pmxcfs shows it. */
async function confOf(vmid: number): Promise<string> {
  const found = await lab.run('pve1', ['sh', '-c', 'cat /etc/pve/nodes/*/qemu-server/"$1".conf', 'sh', String(vmid)]);
  return found.stdout;
}

async function vmRunning(vmid: number): Promise<boolean> {
  return (await lab.vms()).some((vm) => vm.vmid === vmid);
}

const LAN = () => lab.hosts.find((host) => host.name === 'pve1')!.address.replace(/\.\d+$/, '');

describe('vm create on the lab', () => {
  it('makes a VM, reaches it through the bastion with the host key read through the hypervisor', async () => {
    const { run, report } = await vmCreateJson(['web1', '--memory', '512M', '--tags', 'web,prod']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.vm.outcome, 'created');
    const vmid = report.vm.vmid!;
    assert.ok(vmid >= 5000 && vmid <= 5099, `VMID ${vmid} is in the inventory's range`);
    assert.equal(report.vm.address, `${LAN()}.240`);
    assert.equal(report.vm.hostname, 'web1');
    assert.deepEqual(
      report.steps.map((step) => step.step),
      ['preflight', 'clone', 'configure', 'backup', 'start', 'verify', 'reach', 'finish'],
    );
    for (const step of report.steps) assert.equal(typeof step.durationMs, 'number');
    assert.ok(await vmRunning(vmid), 'the VM is a running lab host');
    // Configured as asked: cloud-init, address, firewall, backup job.
    const conf = await confOf(vmid);
    assert.match(conf, /^memory: 512$/m);
    assert.match(conf, new RegExp(`^ipconfig0: ip=${LAN()}\\.240/24,gw=${LAN()}\\.2$`, 'm'));
    assert.match(conf, /^ciuser: root$/m);
    assert.match(conf, /^net0: virtio=[0-9A-F:]+,bridge=vmbr0,firewall=1$/m);
    assert.match(conf, /^onboot: 1$/m);
    assert.match(conf, /^agent: 1$/m);
    assert.match(conf, /^tags: prod;web$/m);
    assert.match(conf, /^#made by chaton vm create/m);
    const firewall = await lab.run('pve1', ['cat', `/etc/pve/firewall/${vmid}.fw`]);
    assert.match(firewall.stdout, /^enable: 1$/m);
    assert.match(firewall.stdout, /^GROUP web -i net0$/m);
    const jobs = await lab.run('pve1', ['cat', '/etc/pve/jobs.cfg']);
    assert.match(jobs.stdout, new RegExp(`^\\tvmid .*\\b${vmid}\\b`, 'm'));
    // The key recorded is the VM's real one, before the first connection was made.
    const real = await lab.vmHostKey(vmid);
    assert.equal(report.vm.fingerprint, real.fingerprint);
    const knownHosts = await readFile(lab.knownHostsPath, 'utf8');
    const [type, blob] = real.publicKey.split(/\s+/);
    assert.ok(knownHosts.split('\n').includes(`${LAN()}.240 ${type} ${blob}`), knownHosts);
    // It is a real host: the cloud-init name, address and keys.
    const inside = await lab.runInVm(vmid, ['hostname']);
    assert.equal(inside.stdout.trim(), 'web1');
  });

  it('a second run of the same command: "exists, unchanged"; other settings: exit 3 with the differences', async () => {
    const again = await vmCreate(['web1', '--memory', '512M', '--tags', 'web,prod']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^web1 exists, unchanged: VM \d+ on pve\d, [0-9.]+ /m);
    const { run, report } = await vmCreateJson(['web1', '--memory', '1G', '--tags', 'web,prod']);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(report.vm.outcome, 'differs');
    assert.deepEqual(report.differences, [{ setting: 'memory', wanted: '1G', actual: '512M' }]);
    assert.deepEqual(await vmsNamed('web1'), [report.vm.vmid]);
  });

  it('a VMID taken meanwhile: tried again with a new one', async () => {
    await lab.setVmFaults({ cloneVmidTaken: 1 });
    const { run, report } = await vmCreateJson(['taken1']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.attempts.length, 1);
    assert.match(report.attempts[0]!.error, /already exists/);
    assert.notEqual(report.vm.vmid, report.attempts[0]!.vmid);
    // The intruder that took the id is left alone.
    assert.deepEqual(await vmsNamed(`intruder-${report.attempts[0]!.vmid}`), [report.attempts[0]!.vmid]);
    assert.deepEqual(await vmsNamed('taken1'), [report.vm.vmid]);
  });

  it("the template's lock timing out: tried again, with backoff and a new id", async () => {
    await lab.setVmFaults({ cloneLockTimeouts: 2 });
    const { run, report } = await vmCreateJson(['locked1', '--no-start']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.attempts.length, 2);
    for (const attempt of report.attempts) assert.match(attempt.error, /can't lock file .* got timeout/);
    assert.equal(new Set([...report.attempts.map((a) => a.vmid), report.vm.vmid]).size, 3, 'a new id each time');
    assert.deepEqual(await vmsNamed('locked1'), [report.vm.vmid]);
    assert.equal(await vmRunning(report.vm.vmid!), false, '--no-start');
  });

  it('an agent that never answers: a bounded wait, a clear error, the VM destroyed', async () => {
    await lab.setVmFaults({ agentNever: true });
    const { run, report } = await vmCreateJson(['mute1', '--agent-timeout', '3']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(report.vm.outcome, 'destroyed');
    assert.match(report.error!.message, /the guest agent of VM \d+ did not answer within 3 s/);
    assert.match(report.error!.hint!, /qemu-guest-agent/);
    assert.deepEqual(await vmsNamed('mute1'), []);
    assert.equal(await vmRunning(report.vm.vmid!), false);
  });

  it('... or kept, stopped, with --keep-on-failure; the same command then finishes it', async () => {
    await lab.setVmFaults({ agentNever: true });
    const { run, report } = await vmCreateJson(['mute2', '--agent-timeout', '2', '--keep-on-failure']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(report.vm.outcome, 'kept');
    assert.deepEqual(await vmsNamed('mute2'), [report.vm.vmid]);
    assert.equal(await vmRunning(report.vm.vmid!), false, 'stopped');
    await lab.setVmFaults({ agentNever: null });
    const again = await vmCreateJson(['mute2']);
    assert.equal(again.run.code, 0, again.run.stderr);
    assert.equal(again.report.vm.outcome, 'resumed');
    assert.equal(again.report.vm.vmid, report.vm.vmid);
    assert.equal(again.report.vm.hostname, 'mute2');
  });

  it('an address taken is refused, nothing made: an inventory host, a VM, something answering', async () => {
    const host001 = lab.hosts.find((host) => host.name === 'host001')!.address;
    const taken = [
      [`${host001}/24`, /a host of the inventory/],
      [`${LAN()}.240/24`, /VM \d+ is configured with it/],
      [`${LAN()}.1/24`, /something answers there on the network/],
    ] as const;
    for (const [ip, why] of taken) {
      const { run, report } = await vmCreateJson(['taken2', '--ip', ip]);
      assert.equal(run.code, 3, run.stderr);
      assert.equal(report.vm.outcome, 'refused');
      assert.match(report.problems.join('\n'), why);
    }
    assert.deepEqual(await vmsNamed('taken2'), []);
  });

  it('a node without the memory is refused; auto picks another', async () => {
    await lab.setVmFaults({ nodeMemory: { pve1: 4 * 1024 ** 3 } });
    const full = await vmCreateJson(['full1', '--node', 'pve1', '--memory', '2G', '--no-start']);
    assert.equal(full.run.code, 3, full.run.stderr);
    assert.match(full.report.problems.join('\n'), /node pve1 has [0-9.]+[MG]? of memory left for VMs, 2G asked/);
    assert.deepEqual(await vmsNamed('full1'), []);
    const auto = await vmCreateJson(['full1', '--node', 'auto', '--memory', '2G', '--no-start']);
    assert.equal(auto.run.code, 0, auto.run.stderr);
    assert.notEqual(auto.report.vm.node, 'pve1');
  });

  it('a VM whose sshd shows another key than its agent read: refused with the host-key error, exit 5', async () => {
    await lab.setVmFaults({ agentWrongHostKey: true });
    const { run, report } = await vmCreateJson(['spoof1']);
    assert.equal(run.code, 5, run.stderr);
    assert.match(report.error!.message, /SHA256:/);
    assert.notEqual(report.vm.fingerprint, null);
    assert.equal(report.vm.outcome, 'destroyed');
    assert.deepEqual(await vmsNamed('spoof1'), []);
  });

  it('Ctrl-C after the clone, then the same command: one VM, finished', async () => {
    await lab.setVmFaults({ bootDelayMs: 1500 });
    const interrupted = await vmCreate(['ctrlc1'], {
      onSpawn: (child) => {
        let said = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          said += chunk.toString();
          // Once: a second Ctrl-C quits at once.
          if (!child.killed && /cloned into VM/.test(said)) child.kill('SIGINT');
        });
      },
    });
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(interrupted.stderr, /the same command continues it/);
    const [vmid] = await vmsNamed('ctrlc1');
    assert.ok(vmid, 'the clone is there');
    assert.match(await confOf(vmid), /^#chaton vm create%3A not finished/m);
    const { run, report } = await vmCreateJson(['ctrlc1']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.vm.outcome, 'resumed');
    assert.equal(report.vm.vmid, vmid);
    assert.deepEqual(await vmsNamed('ctrlc1'), [vmid]);
  });

  it('two runs of one name at once: one VM, the other says another run holds it', async () => {
    // The clone takes a while: the second run comes while the first holds the name's lock.
    await lab.setVmFaults({ cloneDelayMs: 2000 });
    const [first, second] = await Promise.all([vmCreate(['twice1', '--no-start']), vmCreate(['twice1', '--no-start'])]);
    const codes = [first.code, second.code].sort();
    assert.deepEqual(codes, [0, 3], `${first.stderr}\n${second.stderr}`);
    const refused = first.code === 3 ? first : second;
    assert.match(refused.stderr, /another run is creating twice1: \S+ \(pid \d+\) since /);
    assert.equal((await vmsNamed('twice1')).length, 1);
  });

  it('bad input: clear errors, nothing made', async () => {
    const before = await lab.run('pve1', ['sh', '-c', 'ls /etc/pve/nodes/*/qemu-server/ | sort']);
    const cases = [
      [['web.lab'], /"web.lab" is not a valid VM name/],
      [['Web9'], /"Web9" is not a valid VM name/],
      [['web9', '--memory', '4 GB'], /--memory must be a size such as 4G, got "4 GB"[\s\S]*write 4G/],
      [['web9', '--template', 'debian13'], /unknown template "debian13"/],
      [['web9', '--role', 'db'], /unknown role "db"/],
    ] as const;
    for (const [args, said] of cases) {
      const run = await vmCreate([...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, said);
    }
    const afterwards = await lab.run('pve1', ['sh', '-c', 'ls /etc/pve/nodes/*/qemu-server/ | sort']);
    assert.equal(afterwards.stdout, before.stdout);
  });

  it('--dry-run: the node, the provisional VMID, the address and every command; nothing made', async () => {
    const run = await vmCreate(['plan1', '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^would create plan1 as VM \d+ \(provisional\) on pve\d at [0-9.]+; nothing was changed/m);
    assert.match(run.stdout, /^pvesh create \/nodes\/pve1\/qemu\/9000\/clone --newid \d+ --name plan1 --full 1 /m);
    assert.match(run.stdout, /^pvesh create \/nodes\/pve\d\/qemu\/\d+\/status\/start --output-format json$/m);
    assert.deepEqual(await vmsNamed('plan1'), []);
  });

  it('--save: the VM joins the inventory, and every other command reaches it', async () => {
    const inventory = await variantInventory(lab.inventoryPath, () => undefined);
    const run = await vmCreate(['saved1', '--save'], { inventory });
    assert.equal(run.code, 0, run.stderr);
    assert.match(await readFile(inventory, 'utf8'), /^ {2}saved1: /m);
    const check = await chaton(['-i', inventory, 'hosts', 'check', 'saved1'], { env });
    assert.equal(check.code, 0, check.stderr);
    // Made before and not in this inventory: "exists, unchanged", and saved there now.
    const other = await variantInventory(lab.inventoryPath, () => undefined);
    const again = await vmCreate(['saved1', '--save'], { inventory: other });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^saved1 exists, unchanged: /m);
    assert.match(await readFile(other, 'utf8'), /^ {2}saved1: /m);
  });
});
