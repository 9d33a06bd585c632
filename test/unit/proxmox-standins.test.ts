// The lab's Proxmox VE and PBS stand-ins without a lab: the file formats they read and write (guest
// configurations, section configs, vzdump names, VMA headers, tars, PBS blobs and manifests), their
// output formats, and their commands against a scratch /etc/pve and node root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clusterFiles, guestConfigText, LAB_GUESTS, newPbsServerSecrets } from '../lab/pve-lab.js';
import { vzdumpArchiveContent, vzdumpArchiveName, vzdumpTimestamp } from '../lab/proxmox.js';
import { decodeBlob, encodeBlob, listSnapshots, setVerifyState, writeSnapshot } from '../lab/standins/pbs-datastore.js';
import {
  includedGuests,
  parseCorosyncNodes,
  parseGuestConfig,
  parseJobsConfig,
  parseStorageConfig,
  readVmList,
  writeGuestConfig,
  writeJobsConfig,
} from '../lab/standins/pve-cluster.js';
import { archiveInfo, parseVmaHeader, readTarConfig, tarArchive, vmaHeader } from '../lab/standins/pve-storage.js';
import { humanBytes, parseRepository, run as pbsClient, snapshotTable } from '../lab/standins/proxmox-backup-client.js';
import { nextRun, run as pvesh } from '../lab/standins/pvesh.js';
import { run as qm } from '../lab/standins/qm.js';
import { run as qmrestore } from '../lab/standins/qmrestore.js';
import { labPlan } from '../lab/topology.js';
import { capture, type Result, scratchNode } from './pve-scratch.js';

describe('guest configuration files', () => {
  it('writes back what it read: description comments, sorted keys, lxc keys, snapshot sections', () => {
    const raw =
      '#Web server%3A front\n#second line\narch: amd64\nhostname: dns\nmemory: 512\n' +
      'lxc.apparmor.profile: unconfined\nlxc.cap.drop: \n\n[before-upgrade]\nhostname: dns\nsnaptime: 1717600000\n';
    const config = parseGuestConfig(raw);
    assert.equal(config.description, 'Web server: front\nsecond line');
    assert.equal(config.values.get('memory'), '512');
    assert.deepEqual(config.lxc, [
      ['lxc.apparmor.profile', 'unconfined'],
      ['lxc.cap.drop', ''],
    ]);
    assert.equal(writeGuestConfig(config), raw);
  });

  it('writes the lab guests as Proxmox writes them: keys sorted, the disk on local', () => {
    const web = guestConfigText(LAB_GUESTS[0]!);
    assert.match(web, /^agent: 1\nboot: order=scsi0;net0\n/);
    assert.match(web, /^scsi0: local:100\/vm-100-disk-0\.raw,size=32G,iothread=1$/m);
    assert.match(web, /^tags: prod$/m);
    const lines = web.trimEnd().split('\n');
    assert.deepEqual(lines, [...lines].sort());
    assert.match(guestConfigText(LAB_GUESTS.find((guest) => guest.vmid === 9000)!), /^template: 1$/m);
  });
});

describe('section configs and the cluster', () => {
  it('reads and writes jobs.cfg: the comment, the required schedule, then the other keys sorted', () => {
    const raw =
      'vzdump: backup-1\n\tcomment nightly\n\tschedule 21:00\n\tenabled 1\n\tstorage local\n\tvmid 100,101\n\n' +
      'vzdump: backup-2\n\tschedule sun 01:00\n\tall 1\n\texclude 105\n\n';
    const jobs = parseJobsConfig(raw);
    assert.deepEqual(
      jobs.map((job) => job.id),
      ['backup-1', 'backup-2'],
    );
    assert.equal(writeJobsConfig(jobs), raw);
  });

  it('finds the guests of a job as get_included_guests does: vmid lists, pools, all but exclude, node', () => {
    const vmlist = new Map(
      [100, 101, 102, 105].map((vmid) => [vmid, { vmid, type: 'qemu' as const, node: vmid < 102 ? 'pve1' : 'pve2' }]),
    );
    const pools = new Map([['prod', new Set([100, 102])]]);
    const job = (entries: Record<string, string>) => ({ id: 'j', properties: new Map(Object.entries(entries)) });
    assert.deepEqual(includedGuests(job({ vmid: '100, 101;999' }), vmlist, pools), [100, 101, 999]);
    assert.deepEqual(includedGuests(job({ pool: 'prod' }), vmlist, pools), [100, 102]);
    assert.deepEqual(includedGuests(job({ all: '1', exclude: '105' }), vmlist, pools), [100, 101, 102]);
    assert.deepEqual(includedGuests(job({ all: '1', node: 'pve2' }), vmlist, pools), [102, 105]);
    assert.deepEqual(includedGuests(job({ enabled: '1' }), vmlist, pools), []);
  });

  it('reads storage.cfg and corosync.conf', () => {
    const [local, nfs] = parseStorageConfig(
      'dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\nnfs: dumps\n\texport /srv\n\tserver backup\n' +
        '\tcontent backup\n\tnodes pve1,pve2\n\tdisable\n',
    );
    assert.deepEqual(
      [local?.path, [...(local?.content ?? [])], local?.shared],
      ['/var/lib/vz', ['iso', 'vztmpl', 'backup'], false],
    );
    assert.deepEqual(
      [nfs?.path, nfs?.shared, nfs?.disabled, [...(nfs?.nodes ?? [])]],
      ['/mnt/pve/dumps', true, true, ['pve1', 'pve2']],
    );
    const plan = labPlan({ name: 'unit', index: 7, extraHosts: 0 });
    const nodes = parseCorosyncNodes(clusterFiles(plan, newPbsServerSecrets()).get('corosync.conf') ?? '');
    assert.deepEqual(nodes, [
      { name: 'pve1', nodeid: 1, address: '198.18.7.11' },
      { name: 'pve2', nodeid: 2, address: '198.18.7.12' },
      { name: 'pve3', nodeid: 3, address: '198.18.7.13' },
    ]);
  });

  it("computes a schedule's next run in local time", () => {
    const after = new Date(2024, 5, 5, 22, 30).getTime() / 1000;
    assert.equal(nextRun('21:00', after), new Date(2024, 5, 6, 21, 0).getTime() / 1000);
    assert.equal(nextRun('sun 01:00', after), new Date(2024, 5, 9, 1, 0).getTime() / 1000);
    assert.equal(nextRun('*/15', after), new Date(2024, 5, 5, 22, 45).getTime() / 1000);
    assert.equal(
      nextRun('mon..fri 02:30', new Date(2024, 5, 7, 3, 0).getTime() / 1000),
      new Date(2024, 5, 10, 2, 30).getTime() / 1000,
    );
  });
});

describe('vzdump archives', () => {
  it("reads an archive name as pve-storage does, the time in the node's zone", () => {
    const zone = process.env['TZ'];
    process.env['TZ'] = 'Europe/Paris';
    try {
      const info = archiveInfo('/var/lib/vz/dump/vzdump-qemu-100-2024_03_31-02_30_00.vma.zst');
      assert.deepEqual(
        { ...info, ctime: undefined },
        {
          filename: 'vzdump-qemu-100-2024_03_31-02_30_00.vma.zst',
          type: 'qemu',
          format: 'vma',
          compression: 'zst',
          decompressor: ['zstd', '-q', '-d', '-c'],
          isStdName: true,
          vmid: 100,
          ctime: undefined,
          logfilename: 'vzdump-qemu-100-2024_03_31-02_30_00.log',
          notesfilename: 'vzdump-qemu-100-2024_03_31-02_30_00.vma.zst.notes',
        },
      );
      const summer = archiveInfo('vzdump-lxc-104-2024_06_05-21_00_02.tar.gz');
      assert.equal(summer.ctime, Date.parse('2024-06-05T19:00:02Z') / 1000);
      assert.deepEqual([summer.format, summer.decompressor], ['tar', ['tar', '-z']]);
      assert.deepEqual(
        [archiveInfo('vzdump-openvz-101-backup.tgz').format, archiveInfo('vzdump-openvz-101-backup.tgz').isStdName],
        ['tar', false],
      );
      assert.throws(() => archiveInfo('backup-100.vma'), /couldn't determine archive info from 'backup-100\.vma'/);
    } finally {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    }
  });

  it("names archives in the host's local time, across a DST change", () => {
    const epoch = Date.parse('2024-10-27T00:30:00Z') / 1000;
    assert.equal(vzdumpTimestamp(epoch, 'Europe/Paris'), '2024_10_27-02_30_00');
    assert.equal(vzdumpTimestamp(epoch + 3600, 'Europe/Paris'), '2024_10_27-02_30_00');
    assert.equal(vzdumpArchiveName('lxc', 104, epoch, 'UTC', 'lzo'), 'vzdump-lxc-104-2024_10_27-00_30_00.tar.lzo');
  });

  it('writes a VMA header that reads back, and refuses a damaged one', () => {
    const web = LAB_GUESTS[0]!;
    const header = vzdumpArchiveContent(web, 1717614002);
    assert.equal(header.length % 512, 0);
    const vma = parseVmaHeader(header);
    assert.equal(vma.ctime, 1717614002);
    assert.deepEqual([...vma.devices.values()], [{ name: 'drive-scsi0', size: 32 * 1024 ** 3 }]);
    const conf = vma.configs.get('qemu-server.conf')?.toString() ?? '';
    assert.match(conf, /^#qmdump#map:scsi0:drive-scsi0:local:raw:\nagent: 1\n/);
    const damaged = Buffer.from(header);
    damaged[12500] = (damaged[12500] ?? 0) ^ 1;
    assert.throws(() => parseVmaHeader(damaged), /wrong vma header chechsum/);
    assert.throws(() => parseVmaHeader(Buffer.alloc(20000)), /wrong magic number/);
    const again = vmaHeader({
      configs: new Map([['qemu-server.conf', Buffer.from('x')]]),
      devices: new Map(),
      ctime: 1,
    });
    assert.deepEqual([...parseVmaHeader(again).configs.keys()], ['qemu-server.conf']);
  });

  it('writes a container archive the real tar reads', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-tar-'));
    try {
      const file = path.join(dir, 'vzdump-lxc-104-2024_06_05-21_00_02.tar');
      await writeFile(
        file,
        tarArchive(new Map([['./etc/vzdump/pct.conf', Buffer.from('hostname: dns\n')]]), 1717614002),
      );
      assert.equal(
        execFileSync('tar', ['tf', file], { encoding: 'utf8' }),
        './\n./etc/\n./etc/vzdump/\n./etc/vzdump/pct.conf\n',
      );
      assert.equal(await readTarConfig(file), 'hostname: dns\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Proxmox VE stand-ins on a scratch node', () => {
  let scratch: string;
  let configDir: string;
  let root: string;

  before(async () => {
    ({ scratch, configDir, root } = await scratchNode('chaton-pve-'));
    await mkdir(path.join(root, 'var', 'lib', 'vz', 'dump'), { recursive: true });
  });
  after(async () => {
    await qm(['stop', '100'], { configDir, node: 'pve1', root, io: capture().io }).catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  });

  async function tool(runner: typeof qm, node: string, ...argv: string[]): Promise<Result> {
    const { io, result } = capture();
    const code = await runner(argv, { configDir, node, root, io });
    return { code, ...result() };
  }
  const onPve1 = (runner: typeof qm, ...argv: string[]) => tool(runner, 'pve1', ...argv);
  const sh = (...argv: string[]) => tool(pvesh as typeof qm, 'pve1', ...argv);

  it('starts and stops a VM, with its status as qm and the API report it', async () => {
    assert.deepEqual(await onPve1(qm, 'status', '100'), { code: 0, stdout: 'status: stopped\n', stderr: '' });
    assert.deepEqual(await onPve1(qm, 'start', '100'), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await onPve1(qm, 'start', '100'), { code: 255, stdout: '', stderr: 'VM 100 already running\n' });
    const pid = Number((await readFile(path.join(root, 'var/run/qemu-server/100.pid'), 'utf8')).trim());
    assert.match(await readFile(`/proc/${pid}/cmdline`, 'utf8'), /^\/usr\/bin\/kvm\x00.*\x00-id\x00100\x00/);
    const current = JSON.parse(
      (await sh('get', '/nodes/pve1/qemu/100/status/current', '--output-format', 'json')).stdout,
    );
    assert.equal(current.status, 'running');
    assert.equal(current.qmpstatus, 'running');
    assert.equal(current.pid, pid);
    assert.deepEqual(current.ha, { managed: 0 });
    assert.equal(current.maxmem, 2048 * 1024 * 1024);
    assert.equal((await onPve1(qm, 'stop', '100')).code, 0);
    assert.equal((await onPve1(qm, 'status', '100')).stdout, 'status: stopped\n');
    assert.equal((await onPve1(qm, 'stop', '100')).code, 0, 'stopping a stopped VM is no error');
  });

  it('refuses what the real qm refuses, with its messages', async () => {
    assert.deepEqual(await onPve1(qm, 'status', '102'), {
      code: 255,
      stdout: '',
      stderr: "Configuration file 'nodes/pve1/qemu-server/102.conf' does not exist\n",
    });
    assert.equal((await onPve1(qm, 'start', '9000')).stderr, "you can't start a vm if it's a template\n");
    assert.deepEqual(await onPve1(qm, 'status', '99'), {
      code: 255,
      stdout: '',
      stderr:
        '400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID\n\n' +
        'qm status <vmid> [OPTIONS]\n',
    });
    assert.match(
      (await onPve1(qm, 'frobnicate')).stderr,
      /^ERROR: unknown command 'qm frobnicate'\nUSAGE: qm <COMMAND>/,
    );
  });

  it('lists the guests and their config as qm list and qm config print them', async () => {
    const list = (await onPve1(qm, 'list')).stdout.split('\n');
    assert.equal(list[0], '      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       ');
    assert.equal(list[1], '       100 web                  stopped    2048              32.00 0         ');
    assert.equal(list.length, 5);
    const config = (await onPve1(qm, 'config', '100')).stdout;
    assert.equal(config, guestConfigText(LAB_GUESTS[0]!));
  });

  it('answers pvesh for the cluster: resources, not-backed-up, jobs, and the real errors', async () => {
    await sh('get', '/cluster/resources');
    const resources = JSON.parse(
      (await sh('get', '/cluster/resources', '--type', 'vm', '--output-format', 'json')).stdout,
    );
    assert.deepEqual(
      resources.map((entry: { id: string }) => entry.id),
      ['qemu/100', 'qemu/101', 'qemu/102', 'qemu/103', 'lxc/104', 'qemu/105', 'qemu/9000'],
    );
    const web = resources[0];
    assert.deepEqual(
      [web.name, web.node, web.status, web.pool, web.tags, web.template],
      ['web', 'pve1', 'stopped', 'prod', 'prod', 0],
    );
    assert.equal(resources[2].status, 'unknown', "pve2 never broadcast: its guests' status is unknown");
    assert.deepEqual(
      JSON.parse((await sh('get', '/cluster/backup-info/not-backed-up', '--output-format', 'json')).stdout),
      [
        { name: 'scratch', type: 'qemu', vmid: 105 },
        { name: 'debian-12', type: 'qemu', vmid: 9000 },
      ],
    );
    const [job] = JSON.parse((await sh('get', '/cluster/backup', '--output-format', 'json')).stdout);
    assert.equal(job.vmid, '100,101,102,103,104');
    assert.equal(job.enabled, 1);
    assert.equal(typeof job['next-run'], 'number');
    assert.deepEqual(await sh('get', '/cluster/resourcez'), {
      code: 1,
      stdout: '',
      stderr: "No 'get' handler defined for '/cluster/resourcez'\n",
    });
    assert.equal(
      (await sh('get', '/cluster/resources', '--type', 'vms')).stderr,
      "400 Parameter verification failed.\ntype: value 'vms' does not have a value in the enumeration " +
        "'vm, storage, node, sdn'\npvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n",
    );
    assert.equal((await sh('get', '/cluster/nextid')).stdout, '106\n');
    assert.equal((await sh('get', '/cluster/nextid', '--vmid', '300', '--output-format', 'json')).stdout, '"300"\n');
  });

  it('restores a VM backup into a free VMID, and refuses a used one', async () => {
    const web = LAB_GUESTS[0]!;
    const archive = path.join(root, 'var/lib/vz/dump', vzdumpArchiveName('qemu', 100, 1717614002, 'UTC', 'zst'));
    execFileSync('zstd', ['-q', '-o', archive], { input: vzdumpArchiveContent(web, 1717614002) });
    const listed = JSON.parse(
      (await sh('get', '/nodes/pve1/storage/local/content', '--content', 'backup', '--output-format', 'json')).stdout,
    );
    assert.deepEqual(listed, [
      {
        content: 'backup',
        ctime: 1717614002,
        format: 'vma.zst',
        size: (await stat(archive)).size,
        subtype: 'qemu',
        vmid: 100,
        volid: 'local:backup/vzdump-qemu-100-2024_06_05-19_00_02.vma.zst',
      },
    ]);
    const volid = String(listed[0]?.volid);
    assert.deepEqual(await onPve1(qmrestore as typeof qm, volid, '101'), {
      code: 255,
      stdout: '',
      stderr: "unable to restore VM 101 - VM 101 already exists on node 'pve1'\n",
    });
    const restored = await onPve1(qmrestore as typeof qm, volid, '900', '--unique', '1');
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restore vma archive: zstd -q -d -c \S+\.vma\.zst \| vma extract -v -r /);
    assert.match(restored.stdout, /^new volume ID is 'local:900\/vm-900-disk-0\.raw'$/m);
    const config = (await onPve1(qm, 'config', '900')).stdout;
    assert.match(config, /^scsi0: local:900\/vm-900-disk-0\.raw,size=32G,iothread=1$/m);
    assert.doesNotMatch(config, /qmdump|lock:|BC:24:11:00:00:64/);
    assert.equal((await stat(path.join(root, 'var/lib/vz/images/900/vm-900-disk-0.raw'))).size, 32 * 1024 ** 3);
    assert.equal((await onPve1(qm, 'start', '900')).code, 0);
    assert.equal((await onPve1(qm, 'destroy', '900')).stderr, 'VM 900 is running - destroy failed\n');
    assert.equal((await onPve1(qm, 'stop', '900')).code, 0);
    assert.deepEqual(await onPve1(qm, 'destroy', '900'), { code: 0, stdout: '', stderr: '' });
    assert.equal((await readVmList(configDir)).has(900), false);
    await assert.rejects(stat(path.join(root, 'var/lib/vz/images/900')), { code: 'ENOENT' });
  });

  it('times out on a held config lock with the real message', async () => {
    const lock = path.join(root, 'var/lock/qemu-server/lock-101.conf');
    await mkdir(path.dirname(lock), { recursive: true });
    const holder = execFileSync('sh', ['-c', `flock ${lock} sleep 12 > /dev/null 2>&1 & echo $!`], {
      encoding: 'utf8',
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      const result = await onPve1(qm, 'start', '101');
      assert.deepEqual(result, {
        code: 255,
        stdout: 'trying to acquire lock...\n',
        stderr: `can't lock file '${lock}' - got timeout\n`,
      });
      assert.ok(Date.now() - started >= 9000);
    } finally {
      process.kill(Number(holder.trim()));
    }
  });
});

describe('Proxmox Backup Server datastore and client', () => {
  let scratch: string;
  let store: string;
  let files: { labConfig: string; datastoreCfg: string; home: string; hostNames: string[] };
  const fingerprint = Array.from({ length: 32 }, (_, index) => index.toString(16).padStart(2, '0')).join(':');

  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'chaton-pbs-'));
    store = path.join(scratch, 'store1');
    files = {
      labConfig: path.join(scratch, 'pbs.json'),
      datastoreCfg: path.join(scratch, 'datastore.cfg'),
      home: scratch,
      hostNames: ['localhost'],
    };
    await writeFile(path.join(scratch, 'pbs.pass'), 'secret\n');
    await writeFile(
      files.labConfig,
      JSON.stringify({ fingerprint, passwords: { 'root@pam': path.join(scratch, 'pbs.pass') } }),
    );
    await writeFile(files.datastoreCfg, `datastore: store1\n\tpath ${store}\n`);
    await writeSnapshot(store, {
      type: 'vm',
      id: '100',
      time: 1717614002,
      notes: 'web\nnightly',
      sizes: { 'drive-scsi0.img.fidx': 9000 },
    });
    await writeSnapshot(store, { type: 'vm', id: '100', time: 1717700402, verifyState: 'ok' });
    await writeSnapshot(store, { type: 'ct', id: '104', time: 1717617602, protected: true, verifyState: 'failed' });
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function client(env: Record<string, string>, ...argv: string[]): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const io = {
      out: (t: string) => (stdout += t),
      err: (t: string) => (stderr += t),
      env,
      interactive: false,
      utf8: true,
    };
    const code = await pbsClient(argv, io, files);
    return { code, stdout, stderr };
  }
  const good = { PBS_REPOSITORY: 'root@pam@localhost:store1', PBS_PASSWORD: 'secret', PBS_FINGERPRINT: fingerprint };

  it('keeps blobs and manifests in the real format', async () => {
    const blob = encodeBlob(Buffer.from('hello'));
    assert.deepEqual([...blob.subarray(0, 8)], [66, 171, 56, 7, 190, 131, 112, 161]);
    assert.equal(blob.readUInt32LE(8), 0x3610a686, 'CRC-32 of "hello"');
    assert.equal((await decodeBlob(blob)).toString(), 'hello');
    const manifest = JSON.parse(
      (await decodeBlob(await readFile(path.join(store, 'vm/100/2024-06-06T19:00:02Z/index.json.blob')))).toString(),
    );
    assert.deepEqual(Object.keys(manifest), [
      'backup-id',
      'backup-time',
      'backup-type',
      'files',
      'signature',
      'unprotected',
    ]);
    assert.equal(manifest.unprotected.verify_state.state, 'ok');
    assert.match(manifest.unprotected.verify_state.upid, /^UPID:[^:]+:[0-9A-F]{8}:/);
    assert.equal(await readFile(path.join(store, 'vm/100/owner'), 'utf8'), 'root@pam\n');
  });

  it('lists snapshots as the API does: verification only when verified, comment, size, files', async () => {
    const { code, stdout, stderr } = await client(good, 'snapshot', 'list', '--output-format', 'json');
    assert.equal(code, 0, stderr);
    const items = JSON.parse(stdout) as Record<string, unknown>[];
    assert.deepEqual(
      items.map((item) => [item['backup-type'], item['backup-id'], item['backup-time'], item['verification']]),
      [
        ['vm', '100', 1717614002, undefined],
        ['vm', '100', 1717700402, { state: 'ok', upid: (items[1]?.['verification'] as { upid: string }).upid }],
        ['ct', '104', 1717617602, { state: 'failed', upid: (items[2]?.['verification'] as { upid: string }).upid }],
      ],
    );
    assert.equal(items[0]?.['comment'], 'web');
    assert.equal(items[2]?.['protected'], true);
    assert.deepEqual(Object.keys(items[0] ?? {}), [
      'backup-id',
      'backup-time',
      'backup-type',
      'comment',
      'files',
      'owner',
      'protected',
      'size',
    ]);
    const files0 = items[0]?.['files'] as { filename: string; size?: number }[];
    assert.deepEqual(
      files0.map((file) => file.filename),
      ['qemu-server.conf.blob', 'drive-scsi0.img.fidx', 'index.json.blob', 'client.log.blob'],
    );
    assert.equal(files0[3]?.size, undefined, 'a file outside the manifest has no size');
    assert.equal(
      items[0]?.['size'],
      files0.reduce((sum, file) => sum + (file.size ?? 0), 0),
    );
    await setVerifyState(store, { type: 'vm', id: '100', time: 1717614002 }, 'ok', 'UPID:test');
    const again = JSON.parse((await client(good, 'snapshots', 'vm/100', '--output-format', 'json')).stdout);
    assert.deepEqual([again.length, again[0].verification], [2, { state: 'ok', upid: 'UPID:test' }]);
    await setVerifyState(store, { type: 'vm', id: '100', time: 1717614002 }, undefined);
  });

  it('prints the text table: snapshot, human-readable size, file names', async () => {
    const items = await listSnapshots(store);
    const table = snapshotTable(items, { utf8: true, env: {} }).split('\n');
    assert.equal(table[1], `│ snapshot${' '.repeat(20)}│      size │ files${' '.repeat(50)}│`);
    assert.match(
      table[3] ?? '',
      new RegExp(
        String.raw`^│ ct/104/2024-06-05T20:00:02Z │ \d+\.\d+ KiB │ ` +
          String.raw`catalog\.pcat1 client\.log index\.json pct\.conf root\.pxar │$`,
      ),
    );
    assert.deepEqual(
      [humanBytes(987), humanBytes(1022), humanBytes(9000), humanBytes(1 << 30)],
      ['987 B', '1022 B', '8.789 KiB', '1 GiB'],
    );
  });

  it('fails as the real client does: wrong password, no repository, bad fingerprint, no password', async () => {
    assert.deepEqual(await client({ ...good, PBS_PASSWORD: 'wrong' }, 'snapshot', 'list'), {
      code: 255,
      stdout: '',
      stderr: 'Error: permission check failed.\n',
    });
    assert.deepEqual(await client({ PBS_PASSWORD: 'secret' }, 'snapshot', 'list'), {
      code: 255,
      stdout: '',
      stderr: 'Error: unable to get (default) repository\n',
    });
    const mismatch = await client({ ...good, PBS_FINGERPRINT: fingerprint.replace(/^00/, 'ff') }, 'snapshot', 'list');
    assert.equal(mismatch.code, 255);
    assert.match(
      mismatch.stderr,
      /^WARNING: certificate fingerprint does not match expected fingerprint!\nexpected: {4}ff:01:/,
    );
    assert.match(
      mismatch.stderr,
      /certificate validation failed - Certificate fingerprint was not confirmed\.\nError: error trying to connect: /,
    );
    const { PBS_PASSWORD: _, ...noPassword } = good;
    assert.equal(
      (await client(noPassword, 'snapshot', 'list')).stderr,
      'Error: error building client for repository root@pam@localhost:8007:store1 - ' +
        'no password input mechanism available\n',
    );
    assert.equal(
      (await client({ ...good, PBS_REPOSITORY: 'root@pam@elsewhere:store1' }, 'snapshot', 'list')).stderr,
      'Error: error trying to connect: tcp connect error: Connection refused (os error 111)\n',
    );
    assert.equal(
      (await client({ ...good, PBS_REPOSITORY: 'root@pam@localhost:store9' }, 'snapshot', 'list')).stderr,
      "Error: no such datastore 'store9'\n",
    );
    assert.match(
      (await client(good, 'snapshot', 'list', '--colour', 'red')).stderr,
      new RegExp(
        "^Error: parameter verification failed - 'colour': schema does not allow additional properties\\.\n" +
          String.raw`Usage: proxmox-backup-client snapshot list \[<group>\] \[OPTIONS\]\n`,
      ),
    );
  });

  it('reads the repository grammar and the password from a file', async () => {
    assert.deepEqual(parseRepository('root@pam@localhost:store1'), {
      authId: 'root@pam',
      host: 'localhost',
      store: 'store1',
    });
    assert.deepEqual(parseRepository('backup@pbs!ci@10.0.0.2:8007:store1'), {
      authId: 'backup@pbs!ci',
      host: '10.0.0.2',
      port: 8007,
      store: 'store1',
    });
    assert.deepEqual(parseRepository('store1'), { store: 'store1' });
    assert.equal(parseRepository('a b:store'), undefined);
    const { PBS_PASSWORD: _, ...noPassword } = good;
    const fromFile = await client(
      { ...noPassword, PBS_PASSWORD_FILE: path.join(scratch, 'pbs.pass') },
      'snapshot',
      'list',
      '--output-format',
      'json',
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
  });
});
