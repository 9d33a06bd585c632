// The lab's Proxmox VE and PBS stand-ins on the lab: the design's cluster as the lab starts it (one
// /etc/pve for pve1-pve3, guests running on their nodes), vzdump archives of a dump directory,
// restore into a free VMID then start, status and destroy, PBS snapshots with and without a
// verification, the real errors; and the same answers through SSH. Needs root (npm test refuses to run without it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import {
  addBackupJob,
  addGuest,
  LAB_GUESTS,
  pbsAddSnapshot,
  pbsFingerprint,
  pbsSetVerifyState,
  removeBackupJob,
  removeGuest,
  writeVzdumpArchive,
} from '../lab/proxmox.js';
import { chaton, freshLab, sandboxEnv } from './chaton.js';

interface Resource {
  id: string;
  vmid: number;
  name: string;
  node: string;
  status: string;
  type: string;
  template: number;
  tags?: string;
  pool?: string;
}

describe('Proxmox VE and PBS stand-ins', () => {
  let lab: Lab;

  before(async () => {
    lab = await freshLab('it-proxmox', 0);
  });
  after(async () => {
    const stateDir = lab?.stateDir;
    await lab?.down();
    if (stateDir) assert.ok(!existsSync(stateDir), `${stateDir} survived down`);
  });

  async function json<T>(host: string, ...argv: string[]): Promise<T> {
    const { exitCode, stdout, stderr } = await lab.run(host, argv);
    assert.equal(exitCode, 0, `${argv.join(' ')}: ${stderr}`);
    return JSON.parse(stdout) as T;
  }

  const resources = (host: string) =>
    json<Resource[]>(host, 'pvesh', 'get', '/cluster/resources', '--type', 'vm', '--output-format', 'json');

  it("starts as the design's cluster: the same guests from every node, onboot ones running", async () => {
    const seen = await Promise.all(['pve1', 'pve2', 'pve3'].map(resources));
    // Uptimes move on between calls; the rest is the same from every node.
    const stable = (list: Resource[]) =>
      list.map(({ id, vmid, name, node, status, type, template, tags, pool }) => ({
        ...{ id, vmid, name, node, status, type, template, tags, pool },
      }));
    for (const list of seen) assert.deepEqual(stable(list), stable(seen[0] ?? []));
    const byId = new Map(seen[0]?.map((entry) => [entry.vmid, entry]));
    assert.deepEqual(
      [...byId.keys()],
      LAB_GUESTS.map((guest) => guest.vmid),
    );
    assert.deepEqual(
      [100, 101, 102, 103, 104, 105, 9000].map((vmid) => [vmid, byId.get(vmid)?.node, byId.get(vmid)?.status]),
      [
        [100, 'pve1', 'running'],
        [101, 'pve1', 'running'],
        [102, 'pve2', 'running'],
        [103, 'pve2', 'stopped'],
        [104, 'pve3', 'running'],
        [105, 'pve3', 'stopped'],
        [9000, 'pve1', 'stopped'],
      ],
    );
    assert.deepEqual([byId.get(100)?.pool, byId.get(102)?.tags, byId.get(104)?.type], ['prod', 'prod;db', 'lxc']);
    assert.equal(byId.get(9000)?.template, 1);
    const gw = await lab.run('gw', ['sh', '-c', 'command -v pvesh || command -v qm']);
    assert.notEqual(gw.exitCode, 0, 'gw is no Proxmox node');
  });

  it('names the guests in no backup job (105, and the template), and follows the jobs', async () => {
    const notBackedUp = () =>
      json<{ vmid: number }[]>('pve2', 'pvesh', 'get', '/cluster/backup-info/not-backed-up', '--output-format', 'json');
    assert.deepEqual(await notBackedUp(), [
      { vmid: 105, name: 'scratch', type: 'qemu' },
      { vmid: 9000, name: 'debian-12', type: 'qemu' },
    ]);
    await addBackupJob(lab, 'backup-scratch', { vmid: '105' });
    assert.deepEqual(
      (await notBackedUp()).map((entry) => entry.vmid),
      [9000],
    );
    const jobs = await json<{ id: string }[]>('pve3', 'pvesh', 'get', '/cluster/backup', '--output-format', 'json');
    assert.deepEqual(
      jobs.map((job) => job.id),
      ['backup-5c6b1e2a-8d41', 'backup-scratch'],
    );
    await removeBackupJob(lab, 'backup-scratch');
    assert.deepEqual(
      (await notBackedUp()).map((entry) => entry.vmid),
      [105, 9000],
    );
  });

  it('adds and removes a guest for a test: seen by every node, running on its own', async () => {
    await addGuest(lab, { vmid: 106, name: 'extra', type: 'qemu', node: 'pve3', tags: 'test', onboot: true });
    assert.equal((await lab.run('pve3', ['qm', 'status', '106'])).stdout, 'status: running\n');
    const added = (await resources('pve1')).find((entry) => entry.vmid === 106);
    assert.deepEqual([added?.name, added?.node, added?.status, added?.tags], ['extra', 'pve3', 'running', 'test']);
    await removeGuest(lab, 106);
    assert.equal(
      (await resources('pve2')).some((entry) => entry.vmid === 106),
      false,
    );
  });

  it('lists the archives of a dump directory as storage content, with notes and protection', async () => {
    // 21:00:02 in the names: pve2 runs in Europe/Paris, summer time (UTC+2).
    const time = Date.parse('2024-06-05T19:00:02Z') / 1000;
    const [web, , , , dns] = LAB_GUESTS;
    await writeVzdumpArchive(lab, 'pve2', '/var/lib/vz/dump', { guest: web!, time, compression: 'zst', notes: 'web' });
    await writeVzdumpArchive(lab, 'pve2', '/var/lib/vz/dump', { guest: web!, time: time + 86400, compression: 'gz' });
    await writeVzdumpArchive(lab, 'pve2', '/var/lib/vz/dump', {
      guest: dns!,
      time,
      compression: 'lzo',
      protected: true,
    });
    const content = await json<Record<string, unknown>[]>(
      'pve2',
      ...['pvesh', 'get', '/nodes/pve2/storage/local/content', '--content', 'backup', '--output-format', 'json'],
    );
    assert.deepEqual(
      content.map((volume) => [volume['volid'], volume['vmid'], volume['ctime'], volume['subtype'], volume['format']]),
      [
        ['local:backup/vzdump-lxc-104-2024_06_05-21_00_02.tar.lzo', 104, time, 'lxc', 'tar.lzo'],
        ['local:backup/vzdump-qemu-100-2024_06_05-21_00_02.vma.zst', 100, time, 'qemu', 'vma.zst'],
        ['local:backup/vzdump-qemu-100-2024_06_06-21_00_02.vma.gz', 100, time + 86400, 'qemu', 'vma.gz'],
      ],
    );
    assert.equal(content[0]?.['protected'], 1);
    assert.equal(content[1]?.['notes'], 'web');
    const test = await lab.run('pve2', ['zstd', '-t', '/var/lib/vz/dump/vzdump-qemu-100-2024_06_05-21_00_02.vma.zst']);
    assert.equal(test.exitCode, 0, test.stderr);
  });

  it('restores a VM into a free VMID, starts, reports and destroys it; refuses a used VMID', async () => {
    const archive = 'local:backup/vzdump-qemu-100-2024_06_05-21_00_02.vma.zst';
    const used = await lab.run('pve2', ['qmrestore', archive, '101']);
    assert.deepEqual(
      [used.exitCode, used.stdout, used.stderr],
      [255, '', "unable to restore VM 101 - VM 101 already exists on node 'pve1'\n"],
    );
    const restore = await lab.run('pve2', ['qmrestore', archive, '900', '--storage', 'local', '--unique', '1']);
    assert.equal(restore.exitCode, 0, restore.stderr);
    assert.match(
      restore.stdout,
      /^CFG: size: \d+ name: qemu-server\.conf\nDEV: dev_id=1 size: 34359738368 devname: drive-scsi0\n/m,
    );
    assert.match(restore.stdout, /^map 'drive-scsi0' to '\/var\/lib\/vz\/images\/900\/vm-900-disk-0\.raw'/m);
    assert.equal((await lab.run('pve2', ['qm', 'start', '900'])).exitCode, 0);
    assert.equal((await lab.run('pve2', ['qm', 'status', '900'])).stdout, 'status: running\n');
    const seen = (await resources('pve3')).find((entry) => entry.vmid === 900);
    assert.deepEqual([seen?.name, seen?.node, seen?.status], ['web', 'pve2', 'running']);
    const current = await json<{ status: string; pid: number }>(
      'pve2',
      ...['pvesh', 'get', '/nodes/pve2/qemu/900/status/current', '--output-format', 'json'],
    );
    assert.equal(current.status, 'running');
    assert.ok(current.pid > 1);
    const running = await lab.run('pve2', ['qm', 'destroy', '900']);
    assert.deepEqual([running.exitCode, running.stderr], [255, 'VM 900 is running - destroy failed\n']);
    assert.equal((await lab.run('pve2', ['qm', 'stop', '900'])).exitCode, 0);
    assert.equal((await lab.run('pve2', ['qm', 'destroy', '900'])).exitCode, 0);
    assert.equal(
      (await resources('pve1')).some((entry) => entry.vmid === 900),
      false,
    );
    assert.equal((await lab.run('pve2', ['ls', '/var/lib/vz/images/900'])).exitCode, 2, 'its disk is gone');
  });

  it('restores a container from its archive', async () => {
    const archive = 'local:backup/vzdump-lxc-104-2024_06_05-21_00_02.tar.lzo';
    const restore = await lab.run('pve2', ['pct', 'restore', '901', archive, '--unique', '1']);
    assert.equal(restore.exitCode, 0, restore.stderr);
    assert.match(
      (await lab.run('pve2', ['pct', 'config', '901'])).stdout,
      /^hostname: dns\n(.*\n)*rootfs: local:901\//m,
    );
    assert.equal((await lab.run('pve2', ['pct', 'destroy', '901'])).exitCode, 0);
  });

  it('lists PBS snapshots with and without verification, and refuses a wrong password', async () => {
    // 21:00:02 in the names: pve2 runs in Europe/Paris, summer time (UTC+2).
    const time = Date.parse('2024-06-05T19:00:02Z') / 1000;
    await pbsAddSnapshot(lab, { type: 'vm', id: '100', time, notes: 'web', verify: 'ok' });
    await pbsAddSnapshot(lab, { type: 'vm', id: '100', time: time + 86400 });
    await pbsAddSnapshot(lab, { type: 'ct', id: '104', time });
    await pbsSetVerifyState(lab, { type: 'ct', id: '104', time }, 'failed');
    const fingerprint = await pbsFingerprint(lab);
    const env = `PBS_REPOSITORY=root@pam@localhost:store1 PBS_FINGERPRINT=${fingerprint}`;
    const list = (password: string) =>
      lab.run('backup', [
        'sh',
        '-c',
        `${env} PBS_PASSWORD=${password} proxmox-backup-client snapshot list --output-format json`,
      ]);
    const listed = await list('"$(head -n1 /root/pbs.pass)"');
    assert.equal(listed.exitCode, 0, listed.stderr);
    const snapshots = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      snapshots.map((item) => [
        item['backup-type'],
        item['backup-id'],
        item['backup-time'],
        (item['verification'] as { state?: string } | undefined)?.state,
      ]),
      [
        ['vm', '100', time, 'ok'],
        ['vm', '100', time + 86400, undefined],
        ['ct', '104', time, 'failed'],
      ],
    );
    assert.equal('verification' in (snapshots[1] ?? {}), false, 'never verified: no verification at all');
    const wrong = await list('not-the-password');
    assert.deepEqual([wrong.exitCode, wrong.stdout, wrong.stderr], [255, '', 'Error: permission check failed.\n']);
  });

  it('answers the same through SSH', async () => {
    const env = await sandboxEnv();
    const exec = async (host: string, command: string): Promise<string> => {
      const run = await chaton(['-i', lab.inventoryPath, '--json', 'exec', host, '--', command], { env });
      assert.equal(run.code, 0, run.stderr);
      const [result] = JSON.parse(run.stdout).hosts as { stdout: string }[];
      return result?.stdout ?? '';
    };
    const viaSsh = JSON.parse(await exec('pve1', 'pvesh get /cluster/resources --type vm --output-format json'));
    assert.deepEqual(
      viaSsh.map((entry: Resource) => entry.vmid),
      LAB_GUESTS.map((guest) => guest.vmid),
    );
    const fingerprint = await pbsFingerprint(lab);
    const pbs = await exec(
      'backup',
      `PBS_REPOSITORY=root@pam@localhost:store1 PBS_FINGERPRINT=${fingerprint} ` +
        'PBS_PASSWORD="$(head -n1 /root/pbs.pass)" proxmox-backup-client snapshot list --output-format json',
    );
    assert.equal((JSON.parse(pbs) as unknown[]).length, 3);
  });
});
