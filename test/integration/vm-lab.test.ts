// The lab's VM hosts (test/lab/README.md, VM hosts): what the Proxmox stand-in asks of the supervisor
// when it starts, stops and destroys a cloud-init VM, driven here straight through the control
// socket. A started VM is a new real host behind the bastion, with a host key of its own that its
// guest agent can read out; it keeps it across a stop and a start; down removes it, after a crash too.
// Needs root (npm test refuses to run without it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { controlRequest, type ControlAnswer, type VmAgentCommand, type VmSpec } from '../lab/control.js';
import { labDown, type Lab } from '../lab/lab.js';
import { sshThroughBastion } from '../lab/openssh.js';
import { waitUntil } from '../lab/parallel.js';
import { VM_LAB_CONFIG } from '../lab/topology.js';
import { chaton, freshLab, sandboxEnv } from './chaton.js';

let lab: Lab;
let operatorKey: string;
let dir: string;

function vmSpec(vmid: number, name: string, lastOctet: number, user: string): VmSpec {
  const lan = (octet: number) => `198.18.${lab.index}.${octet}`;
  return {
    vmid,
    node: 'pve1',
    name,
    address: `${lan(lastOctet)}/24`,
    gateway: lan(2),
    nameservers: [lan(2)],
    searchdomain: 'lab.test',
    user,
    sshKeys: [operatorKey],
  };
}

const start = (vm: VmSpec) => controlRequest(lab.controlSocketPath, { op: 'vm-start', vm });
const stop = (vmid: number) => controlRequest(lab.controlSocketPath, { op: 'vm-stop', vmid });
const destroy = (vmid: number) => controlRequest(lab.controlSocketPath, { op: 'vm-destroy', vmid });
const agent = (vmid: number, execute: VmAgentCommand, more: { path?: string; argv?: string[] } = {}) =>
  controlRequest(lab.controlSocketPath, { op: 'vm-agent', vmid, execute, ...more });

/** Asks until the agent answers (as chaton waits for it), bounded. */
async function agentUp(vmid: number): Promise<void> {
  assert.ok(await waitUntil(async () => (await agent(vmid, 'guest-ping')).agent === undefined, 10_000), 'no agent');
}

/** A file of the VM as the agent reads it out. */
async function agentFile(vmid: number, file: string): Promise<string> {
  const { result } = await agent(vmid, 'guest-file-read', { path: file });
  const read = result as { count: number; 'buf-b64': string; eof: boolean };
  assert.equal(read.eof, true);
  const content = Buffer.from(read['buf-b64'], 'base64');
  assert.equal(read.count, content.length);
  return content.toString('utf8');
}

/** A known_hosts file naming the VM's address with `publicKey`, as chaton records what the agent read. */
async function knownHostsFor(vm: VmSpec, publicKey: string): Promise<string> {
  const file = path.join(dir, `known_hosts-${vm.vmid}-${Date.now()}`);
  const [address] = vm.address.split('/');
  await writeFile(file, `${address} ${publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
  return file;
}

/** ssh(1) to the VM through the bastion, as chaton reaches it. */
async function sshVm(vm: VmSpec, user: string, knownHosts: string, command: string) {
  const [address] = vm.address.split('/');
  return execa('ssh', sshThroughBastion(lab, knownHosts, [`${user}@${address}`], command), {
    reject: false,
    timeout: 30_000,
  });
}

async function isAlive(pid: number): Promise<boolean> {
  return Boolean(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')); // zombies have none
}

const namespaces = async () => (await readdir('/run/netns')).filter((name) => name.startsWith(`cl${lab.index}-vm`));

describe('VM hosts of the lab', () => {
  const web = () => vmSpec(5000, 'web2', 240, 'debian');
  const ops = () => vmSpec(5001, 'ops1', 241, 'root');

  before(async () => {
    lab = await freshLab('it-vm-lab', 0);
    operatorKey = (await readFile(`${lab.operatorKeyPath}.pub`, 'utf8')).trim();
    dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-vm-lab-'));
  });
  after(() => labDown(lab.name));

  it('vm-start makes a new host behind the bastion: the cloud-init user with sudo, a new host key', async () => {
    const vm = web();
    const { fingerprint } = await start(vm);
    const hostKey = await lab.vmHostKey(vm.vmid);
    assert.equal(fingerprint, hostKey.fingerprint);
    assert.ok(!(await readFile(lab.knownHostsPath, 'utf8')).includes(hostKey.publicKey.split(' ')[1]!), 'not new');
    const [state] = await lab.vms();
    assert.deepEqual(
      { ...state, holderPid: 0, sshdPid: 0 },
      {
        vmid: 5000,
        name: 'web2',
        address: `198.18.${lab.index}.240`,
        netns: `cl${lab.index}-vm5000`,
        holderPid: 0,
        sshdPid: 0,
      },
    );
    await agentUp(vm.vmid);
    // The host key read through the agent is the one sshd serves: a strict login succeeds.
    const knownHosts = await knownHostsFor(vm, await agentFile(vm.vmid, '/etc/ssh/ssh_host_ed25519_key.pub'));
    const login = await sshVm(vm, 'debian', knownHosts, 'hostname; sudo -n id -u; cat /etc/resolv.conf; ip route');
    assert.equal(login.exitCode, 0, login.stderr);
    assert.equal(
      login.stdout,
      [
        'web2',
        '0',
        `nameserver 198.18.${lab.index}.2`,
        'search lab.test',
        `default via 198.18.${lab.index}.2 dev eth0 `,
        `198.18.${lab.index}.0/24 dev eth0 proto kernel scope link src 198.18.${lab.index}.240 `,
      ].join('\n'),
    );
    // root's key only says whom to log in as, as cloud-init's disable_root leaves it.
    const rootKeys = await lab.runInVm(vm.vmid, ['cat', '/root/.ssh/authorized_keys']);
    assert.match(
      rootKeys.stdout,
      /^no-port-forwarding,.*Please login as the user \\"debian\\" rather than .* ssh-ed25519 /,
    );
    // Again: the same host, whoever asks twice.
    assert.deepEqual(await Promise.all([start(vm), start(vm)]), [{ fingerprint }, { fingerprint }]);
    assert.deepEqual(await namespaces(), [`cl${lab.index}-vm5000`]);
  });

  it('a VM whose cloud-init user is root: root logs in with the keys', async () => {
    const vm = ops();
    await start(vm);
    await agentUp(vm.vmid);
    const knownHosts = await knownHostsFor(vm, (await lab.vmHostKey(vm.vmid)).publicKey);
    const login = await sshVm(vm, 'root', knownHosts, 'hostname');
    assert.equal(login.exitCode, 0, login.stderr);
    assert.equal(login.stdout, 'ops1');
  });

  it('the agent answers qemu-guest-agent JSON: interfaces as the VM has them, files, commands', async () => {
    const vm = web();
    const interfaces = (await agent(vm.vmid, 'guest-network-get-interfaces')).result as {
      name: string;
      'hardware-address': string;
      'ip-addresses': { 'ip-address-type': string; 'ip-address': string; prefix: number }[];
    }[];
    const addresses = (name: string) =>
      interfaces
        .find((entry) => entry.name === name)
        ?.['ip-addresses'].map((ip) => `${ip['ip-address-type']} ${ip['ip-address']}/${ip.prefix}`);
    assert.deepEqual(addresses('lo'), ['ipv4 127.0.0.1/8', 'ipv6 ::1/128']);
    const eth0 = addresses('eth0') ?? [];
    assert.equal(eth0[0], `ipv4 198.18.${lab.index}.240/24`);
    assert.match(eth0[1] ?? '', /^ipv6 fe80::[0-9a-f:]+\/64$/);
    // Its MAC address: the VM's, the same at every boot (the lab's hosts see the machine's /sys).
    const link = await lab.runInVm(vm.vmid, ['ip', '-brief', 'link', 'show', 'eth0']);
    const mac = interfaces.find((entry) => entry.name === 'eth0')?.['hardware-address'];
    assert.equal(mac, 'bc:24:11:00:13:88');
    assert.equal(link.stdout.split(/\s+/)[2], mac);
    assert.equal(await agentFile(vm.vmid, '/etc/hostname'), 'web2\n');
    await assert.rejects(agent(vm.vmid, 'guest-file-read', { path: '/nowhere' }), /failed to open file '\/nowhere'/);
    const exec = await agent(vm.vmid, 'guest-exec', { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.deepEqual(exec.result, {
      exited: true,
      exitcode: 3,
      'out-data': Buffer.from('out\n').toString('base64'),
      'err-data': Buffer.from('err\n').toString('base64'),
    });
  });

  it('from a pve host, through /etc/chaton-lab/vm-lab.json, as the Proxmox stand-in asks', async () => {
    const script = `
      const { readFileSync } = require('node:fs');
      const { controlSocket, faultsFile } = JSON.parse(readFileSync(process.argv[1], 'utf8'));
      const socket = require('node:net').createConnection(controlSocket);
      socket.end(JSON.stringify({ op: 'vm-agent', vmid: 5000, execute: 'guest-ping' }) + '\\n');
      socket.pipe(process.stdout);
      socket.on('end', () => console.log(readFileSync(faultsFile, 'utf8').trim()));`;
    const fromPve = await lab.run('pve1', [process.execPath, '-e', script, VM_LAB_CONFIG]);
    assert.equal(fromPve.exitCode, 0, fromPve.stderr);
    assert.equal(fromPve.stdout, '{"ok":true,"result":{}}\n{}\n');
  });

  it('agentDelayMs: no answer until then; agentNever: none at all; each wait in vm-waits.log', async () => {
    await lab.setVmFaults({ agentDelayMs: 600_000 });
    const late = vmSpec(5002, 'late', 242, 'root');
    await start(late);
    assert.deepEqual(await agent(late.vmid, 'guest-ping'), { agent: 'not-running' });
    assert.match(await readFile(lab.vmWaitsLogPath, 'utf8'), /^\S+Z agent 600000$/m);
    await destroy(late.vmid);
    await lab.setVmFaults({ agentNever: true, agentDelayMs: null });
    assert.deepEqual(await agent(5000, 'guest-ping'), { agent: 'not-running' });
    await lab.setVmFaults({ agentNever: null });
    assert.deepEqual(await agent(5000, 'guest-ping'), { result: {} });
    assert.deepEqual(await agent(4999, 'guest-ping'), { agent: 'not-running' }); // no such VM running
  });

  it('agentWrongHostKey: the agent reads out another valid key, which sshd then does not match', async () => {
    const vm = web();
    await lab.setVmFaults({ agentWrongHostKey: true });
    const read = await agentFile(vm.vmid, '/etc/ssh/ssh_host_ed25519_key.pub');
    await lab.setVmFaults({ agentWrongHostKey: null });
    const keyFile = path.join(dir, 'decoy.pub');
    await writeFile(keyFile, read);
    const { stdout } = await execa('ssh-keygen', ['-l', '-f', keyFile]);
    assert.match(stdout, /^256 SHA256:\S+ root@web2 \(ED25519\)$/);
    assert.notEqual(stdout.split(' ')[1], (await lab.vmHostKey(vm.vmid)).fingerprint);
    const login = await sshVm(vm, 'debian', await knownHostsFor(vm, read), 'true');
    assert.equal(login.exitCode, 255);
    assert.match(login.stderr, /Host key verification failed/);
  });

  it('vm-stop: processes and namespace go, the disk stays; the next start has the same key and users', async () => {
    const vm = web();
    const [running] = await lab.vms();
    const { fingerprint } = await start(vm);
    assert.deepEqual(await stop(vm.vmid), {});
    assert.deepEqual(await stop(vm.vmid), {}); // stopped already
    assert.deepEqual(
      (await lab.vms()).map((state) => state.vmid),
      [5001],
    );
    assert.deepEqual(await namespaces(), [`cl${lab.index}-vm5001`]);
    for (const pid of [running!.holderPid, running!.sshdPid!]) assert.ok(!(await isAlive(pid)), `${pid} survived`);
    assert.deepEqual(await agent(vm.vmid, 'guest-ping'), { agent: 'not-running' });
    assert.deepEqual(await start(vm), { fingerprint });
    await agentUp(vm.vmid);
    const login = await sshVm(
      vm,
      'debian',
      await knownHostsFor(vm, (await lab.vmHostKey(vm.vmid)).publicKey),
      'id -un',
    );
    assert.equal(login.exitCode, 0, login.stderr);
    assert.equal(login.stdout, 'debian');
  });

  it('vm-destroy: the disk goes too; a new VM of that id is a new host with a new key', async () => {
    const vm = web();
    const { fingerprint } = await lab.vmHostKey(vm.vmid);
    assert.deepEqual(await destroy(vm.vmid), {});
    assert.deepEqual(await destroy(vm.vmid), {}); // gone already
    await assert.rejects(lab.vmHostKey(vm.vmid), /has no disk/);
    const again: ControlAnswer = await start(vm);
    assert.notEqual(again.fingerprint, fingerprint);
  });

  it('refuses a request that is not a VM spec, and says why', async () => {
    const bad = { ...web(), vmid: 5003, address: '198.18.0.243' }; // no prefix length
    await assert.rejects(start(bad), /vm-start 5003: not a VM spec/);
    assert.deepEqual(await namespaces(), [`cl${lab.index}-vm5000`, `cl${lab.index}-vm5001`]);
  });

  it("the lab inventory's proxmox: section, accepted by inventory check", async () => {
    const inventory = parse(await readFile(lab.inventoryPath, 'utf8')) as { proxmox: Record<string, unknown> };
    assert.deepEqual(inventory.proxmox['networks'], {
      lan: {
        cidr: `198.18.${lab.index}.0/24`,
        gateway: `198.18.${lab.index}.2`,
        dns: [`198.18.${lab.index}.2`],
        allocate: `198.18.${lab.index}.240-198.18.${lab.index}.250`,
      },
    });
    const check = await chaton(['-i', lab.inventoryPath, 'inventory', 'check'], { env: await sandboxEnv() });
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it('down removes the VM hosts, after a supervisor crash too', async () => {
    const state = JSON.parse(await readFile(path.join(lab.stateDir, 'state.json'), 'utf8')) as {
      supervisorPid: number;
    };
    const pids = (await lab.vms()).flatMap((vm) => [vm.holderPid, vm.sshdPid ?? vm.holderPid]);
    process.kill(state.supervisorPid, 'SIGKILL');
    assert.ok(await waitUntil(async () => !(await isAlive(state.supervisorPid)), 5000));
    await labDown(lab.name);
    assert.deepEqual(await namespaces(), []);
    for (const pid of pids) assert.ok(!(await isAlive(pid)), `${pid} survived`);
    assert.ok(!existsSync(lab.stateDir));
  });
});
