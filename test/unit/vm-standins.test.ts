// The Proxmox stand-ins' side of `vm create` without a lab: a scratch /etc/pve and node root, and a
// fake lab supervisor on a socket, so that a started cloud-init VM's request and the guest agent's
// answers are seen as the stand-ins send and shape them.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VmRequest, VmResponse } from '../lab/control.js';
import { sparseFile } from '../lab/pve-lab.js';
import { parseFirewallConfig, writeFirewallConfig } from '../lab/standins/pve-firewall.js';
import { vmSpecOf } from '../lab/standins/pve-lab-vm.js';
import { parseGuestConfig } from '../lab/standins/pve-cluster.js';
import { run as pvesh } from '../lab/standins/pvesh.js';
import { run as qm } from '../lab/standins/qm.js';
import { capture, type Result, scratchNode } from './pve-scratch.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@example';
const INTERFACES = [
  {
    name: 'eth0',
    'hardware-address': 'bc:24:11:00:00:01',
    'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '198.18.7.240', prefix: 24 }],
  },
];

describe('the Proxmox stand-ins for vm create, on a scratch node with a fake supervisor', () => {
  let scratch: string;
  let configDir: string;
  let root: string;
  let server: Server;
  const requests: VmRequest[] = [];
  let agent: 'up' | 'down' = 'down';

  function answer(request: VmRequest): VmResponse {
    if (request.op !== 'vm-agent') return { ok: true, fingerprint: 'SHA256:fake' };
    if (agent === 'down') return { ok: true, agent: 'not-running' };
    if (request.execute === 'guest-network-get-interfaces') return { ok: true, result: INTERFACES };
    if (request.execute === 'guest-file-read') {
      const buf = Buffer.from(`${KEY}\n`).toString('base64');
      return { ok: true, result: { count: KEY.length + 1, 'buf-b64': buf, eof: true } };
    }
    return { ok: true, result: {} };
  }

  before(async () => {
    ({ scratch, configDir, root } = await scratchNode('chaton-vm-'));
    const images = path.join(root, 'mnt/pve/vmdata/images/9000');
    await sparseFile(path.join(images, 'base-9000-disk-0.raw'), '2G');
    await sparseFile(path.join(images, 'vm-9000-cloudinit.qcow2'), '4M');
    const socket = path.join(scratch, 'control.sock');
    server = createServer((connection) => {
      let text = '';
      connection.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      connection.on('end', () => {
        const request = JSON.parse(text.trim()) as VmRequest;
        requests.push(request);
        connection.end(`${JSON.stringify(answer(request))}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    await mkdir(path.join(root, 'etc/chaton-lab'), { recursive: true });
    const faultsFile = path.join(scratch, 'vm-faults.json');
    await writeFile(
      path.join(root, 'etc/chaton-lab/vm-lab.json'),
      JSON.stringify({ controlSocket: socket, faultsFile }),
    );
    await writeFile(faultsFile, JSON.stringify({ nodeMemory: { pve1: 8 * 1024 ** 3 } }));
    await writeFile(path.join(scratch, 'key.pub'), `${KEY}\n`);
  });
  after(async () => {
    await qm(['stop', '5000'], { configDir, node: 'pve1', root, io: capture().io }).catch(() => {});
    server?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  async function tool(runner: typeof qm, ...argv: string[]): Promise<Result> {
    const { io, result } = capture();
    const code = await runner(argv, { configDir, node: 'pve1', root, io });
    return { code, ...result() };
  }
  const onQm = (...argv: string[]) => tool(qm, ...argv);
  const onPvesh = (...argv: string[]) => tool(pvesh as typeof qm, ...argv);

  it('clones the template into new volumes, a new MAC and name, no template flag; refuses a used VMID', async () => {
    const clone = await onQm('clone', '9000', '5000', '--name', 'web1', '--full', '1');
    assert.equal(clone.code, 0, clone.stderr);
    assert.match(clone.stdout, /^creating a clone of VM 9000 with ID 5000\n/);
    assert.match(clone.stdout, /^create full clone of drive scsi0 \(vmdata:9000\/base-9000-disk-0\.raw\)$/m);
    assert.match(clone.stdout, /^allocated target volume 'vmdata:5000\/vm-5000-cloudinit\.qcow2'$/m);
    assert.match(clone.stdout, /^transferred 2\.0 GiB of 2\.0 GiB \(100\.00%\)$/m);
    const config = parseGuestConfig((await onQm('config', '5000')).stdout).values;
    assert.equal(config.get('name'), 'web1');
    assert.equal(config.get('template'), undefined);
    assert.equal(config.get('scsi0'), 'vmdata:5000/vm-5000-disk-0.raw,iothread=1,size=2G');
    assert.equal(config.get('ide2'), 'vmdata:5000/vm-5000-cloudinit.qcow2,media=cdrom,size=4M');
    assert.doesNotMatch(config.get('net0') ?? '', /BC:24:11:00:23:28/);
    const again = await onQm('clone', '9000', '5000', '--full', '1');
    assert.deepEqual(again, {
      code: 255,
      stdout: '',
      stderr: 'unable to create VM 5000: config file already exists\n',
    });
  });

  it('sets cloud-init values as the API keeps them: keys URL-encoded, tags sorted; refuses a raw key', async () => {
    const set = await onQm(
      ...['set', '5000', '--sshkeys', path.join(scratch, 'key.pub'), '--ipconfig0', 'ip=198.18.7.240/24,gw=198.18.7.2'],
      ...['--nameserver', '198.18.7.2', '--tags', 'web;Prod', '--cores', '2', '--memory', '2048', '--ciuser', 'root'],
    );
    assert.deepEqual(set, { code: 0, stdout: '', stderr: '' });
    const config = parseGuestConfig((await onQm('config', '5000')).stdout).values;
    assert.equal(config.get('sshkeys'), encodeURIComponent(`${KEY}\n`));
    assert.equal(config.get('tags'), 'prod;web');
    const raw = await onPvesh('set', '/nodes/pve1/qemu/5000/config', '--sshkeys', KEY);
    assert.equal(raw.code, 255);
    assert.match(
      raw.stderr,
      /^400 Parameter verification failed\.\nsshkeys: invalid format - invalid urlencoded string: /,
    );
    const stale = await onPvesh('set', '/nodes/pve1/qemu/5000/config', '--cores', '1', '--digest', '0'.repeat(40));
    assert.deepEqual([stale.code, stale.stderr], [255, 'checksum mismatch (file change by other user?)\n']);
  });

  it('starts a cloud-init VM as a lab host, with its address, user and keys; stops and destroys it', async () => {
    const start = await onQm('start', '5000');
    assert.deepEqual(start, { code: 0, stdout: 'generating cloud-init ISO\n', stderr: '' });
    const vmStart = requests.find((request) => request.op === 'vm-start');
    assert.deepEqual(vmStart, {
      op: 'vm-start',
      vm: {
        vmid: 5000,
        node: 'pve1',
        name: 'web1',
        address: '198.18.7.240/24',
        gateway: '198.18.7.2',
        nameservers: ['198.18.7.2'],
        user: 'root',
        sshKeys: [KEY],
      },
    });
    const status = JSON.parse((await onPvesh('get', '/nodes/pve1/status', '--output-format', 'json')).stdout);
    assert.equal(status.memory.total, 8 * 1024 ** 3, "the faults file's node memory");
    assert.equal(status.memory.used, 2048 * 1024 ** 2, 'its running VM');
  });

  it("answers the guest agent's calls with the real results and errors", async () => {
    agent = 'down';
    assert.deepEqual(await onQm('guest', 'cmd', '5000', 'ping'), {
      code: 255,
      stdout: '',
      stderr: 'QEMU guest agent is not running\n',
    });
    agent = 'up';
    assert.deepEqual(await onQm('agent', '5000', 'ping'), { code: 0, stdout: '', stderr: '' });
    const interfaces = await onPvesh(
      'get',
      '/nodes/pve1/qemu/5000/agent/network-get-interfaces',
      '--output-format',
      'json',
    );
    assert.deepEqual(JSON.parse(interfaces.stdout), { result: INTERFACES });
    const read = await onPvesh(
      ...['get', '/nodes/pve1/qemu/5000/agent/file-read', '--file', '/etc/ssh/ssh_host_ed25519_key.pub'],
      ...['--output-format', 'json'],
    );
    assert.deepEqual(JSON.parse(read.stdout), { 'bytes-read': KEY.length + 1, content: `${KEY}\n` });
    assert.deepEqual(await onQm('guest', 'cmd', '101', 'ping'), {
      code: 255,
      stdout: '',
      stderr: 'VM 101 is not running\n',
    });
  });

  it('tasks leave their log and status; a stop and a destroy take the lab host away', async () => {
    const stop = await onPvesh('create', '/nodes/pve1/qemu/5000/status/stop');
    assert.equal(stop.code, 0, stop.stderr);
    const upid = stop.stdout.trim();
    assert.match(upid, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmstop:5000:root@pam:$/);
    const status = JSON.parse(
      (await onPvesh('get', `/nodes/pve1/tasks/${upid}/status`, '--output-format', 'json')).stdout,
    );
    assert.deepEqual([status.status, status.exitstatus, status.type, status.id], ['stopped', 'OK', 'qmstop', '5000']);
    const failed = await onPvesh('create', '/nodes/pve1/qemu/9000/status/start');
    assert.deepEqual([failed.code, failed.stderr], [0, "you can't start a vm if it's a template\n"]);
    const failedStatus = JSON.parse(
      (await onPvesh('get', `/nodes/pve1/tasks/${failed.stdout.trim()}/status`, '--output-format', 'json')).stdout,
    );
    assert.equal(failedStatus.exitstatus, "you can't start a vm if it's a template");
    const destroy = await onPvesh('delete', '/nodes/pve1/qemu/5000', '--purge', '1');
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.deepEqual(
      requests.filter((request) => request.op !== 'vm-start' && request.op !== 'vm-agent'),
      [
        { op: 'vm-stop', vmid: 5000 },
        { op: 'vm-destroy', vmid: 5000 },
      ],
    );
    await assert.rejects(readFile(path.join(root, 'mnt/pve/vmdata/images/5000/vm-5000-disk-0.raw')));
  });

  it('reads and writes the firewall files in their format', () => {
    const raw =
      '[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web -i net0\n|IN ACCEPT -p tcp -dport 22 # ssh\n\n' +
      '[group base] # every VM\n\nIN ACCEPT -p icmp\n\n';
    const config = parseFirewallConfig(raw);
    assert.deepEqual(config.rules[0], { enable: 1, type: 'group', action: 'web', iface: 'net0' });
    assert.equal(config.rules[1]?.['enable'], 0);
    assert.equal(writeFirewallConfig(config), raw);
    assert.equal(
      vmSpecOf(100, 'pve1', parseGuestConfig('ipconfig0: ip=10.0.0.5/24\n')),
      undefined,
      'no cloud-init drive',
    );
  });
});
