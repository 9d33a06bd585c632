// The Ceph lab (test/lab/README.md, Ceph): a real Ceph Pacific cluster on pve1-3, HEALTH_OK when up
// returns, its objects readable with the checksums they were written with; the systemctl stand-in
// stops and starts an OSD through the supervisor (and fails as systemd does for an OSD that is not
// on that host); an OSD marked out drains back to active+clean; disks come and go with their
// serials in lsblk, /dev/disk/by-id and smartctl; ceph-volume lvm create makes a real OSD on a new
// disk, lvm list shows it; down leaves no daemon, loop device or file, after a crash of the
// supervisor too. Needs root (npm test refuses to run without it).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { labDown, type Lab } from '../lab/lab.js';
import { waitUntil } from '../lab/parallel.js';
import { freshLab } from './chaton.js';

let lab: Lab;

interface CephStatus {
  health: { status: string };
  quorum_names: string[];
  osdmap: { num_osds: number; num_up_osds: number; num_in_osds: number };
  pgmap: { num_pgs: number; pgs_by_state: { state_name: string; count: number }[] };
}

async function ceph(host: string, args: string[]): Promise<string> {
  const result = await lab.run(host, ['ceph', ...args]);
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout;
}

async function status(): Promise<CephStatus> {
  return JSON.parse(await ceph('pve2', ['status', '-f', 'json'])) as CephStatus;
}

/** Whether the OSD is up in the osdmap, as the monitors see it. */
async function osdUp(id: number): Promise<boolean> {
  const dump = JSON.parse(await ceph('pve1', ['osd', 'dump', '-f', 'json'])) as {
    osds: { osd: number; up: number }[];
  };
  return dump.osds.find((osd) => osd.osd === id)?.up === 1;
}

/** Every PG active+clean: what a drain or a backfill ends with. */
async function allClean(): Promise<boolean> {
  const { pgmap } = await status();
  return pgmap.pgs_by_state.length === 1 && pgmap.pgs_by_state[0]?.state_name === 'active+clean';
}

/** How many PGs the OSD holds (`ceph osd df`). */
async function osdPgs(id: number): Promise<number | undefined> {
  const df = JSON.parse(await ceph('pve1', ['osd', 'df', '-f', 'json'])) as { nodes: { id: number; pgs: number }[] };
  return df.nodes.find((node) => node.id === id)?.pgs;
}

interface TreeEntry {
  status: string;
  device_class: string;
  crush_weight: number;
  reweight: number;
  /** The CRUSH host bucket holding it. */
  host: string | undefined;
}

/** An OSD in `ceph osd tree`: its status, class, CRUSH weight and host; undefined once purged. */
async function osdTreeEntry(id: number): Promise<TreeEntry | undefined> {
  const { nodes } = JSON.parse(await ceph('pve1', ['osd', 'tree', '-f', 'json'])) as {
    nodes: (TreeEntry & { id: number; name: string; type: string; children?: number[] })[];
  };
  const osd = nodes.find((node) => node.id === id);
  if (!osd) return undefined;
  const host = nodes.find((node) => node.type === 'host' && node.children?.includes(id))?.name;
  const { status, device_class, crush_weight, reweight } = osd;
  return { status, device_class, crush_weight, reweight, host };
}

/** The real lsblk's JSON, with the lab's identities (the stand-in's). */
async function lsblk(host: string): Promise<{ name: string; serial: string | null; size: number }[]> {
  const result = await lab.run(host, ['lsblk', '-J', '-d', '-b', '-o', 'NAME,SERIAL,WWN,SIZE,MODEL']);
  assert.equal(result.exitCode, 0, result.stderr);
  return (JSON.parse(result.stdout) as { blockdevices: { name: string; serial: string | null; size: number }[] })
    .blockdevices;
}

describe('the Ceph lab', { timeout: 600_000 }, () => {
  before(async () => {
    lab = await freshLab('ceph-lab', 0, { ceph: true });
  });
  after(async () => {
    await lab?.down();
  });

  it('is HEALTH_OK with 3 monitors in quorum and 6 OSDs up and in', async () => {
    const { health, quorum_names, osdmap } = await status();
    assert.equal(health.status, 'HEALTH_OK');
    assert.deepEqual([...quorum_names].sort(), ['pve1', 'pve2', 'pve3']);
    assert.deepEqual(osdmap, { ...osdmap, num_osds: 6, num_up_osds: 6, num_in_osds: 6 });
    const tree = JSON.parse(await ceph('pve3', ['osd', 'tree', '-f', 'json'])) as {
      nodes: { name: string; type: string; children?: number[] }[];
    };
    const hosts = tree.nodes.filter((node) => node.type === 'host');
    assert.deepEqual(hosts.map((host) => [host.name, host.children?.length]).sort(), [
      ['pve1', 2],
      ['pve2', 2],
      ['pve3', 2],
    ]);
    const pool = JSON.parse(await ceph('pve1', ['osd', 'pool', 'get', 'rbd', 'all', '-f', 'json'])) as {
      size: number;
      min_size: number;
    };
    assert.equal(pool.size, 3);
    assert.equal(pool.min_size, 2);
  });

  it('gives the objects written when it came up back with their checksums', async () => {
    const objects = await lab.cephObjects();
    assert.ok(objects.length > 0);
    const script = 'for name; do printf "%s " "$name"; rados -p rbd get "$name" - | sha256sum | cut -d" " -f1; done';
    const result = await lab.run('pve3', ['sh', '-ec', script, 'sh', ...objects.map((object) => object.name)]);
    assert.equal(result.exitCode, 0, result.stderr);
    const read = result.stdout.trim().split('\n');
    assert.deepEqual(
      read,
      objects.map((object) => `${object.name} ${object.sha256}`),
    );
  });

  it('stops and starts an OSD with systemctl, and fails as systemd does for one not on that host', async () => {
    const stop = await lab.run('pve3', ['systemctl', 'stop', 'ceph-osd@5']);
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.deepEqual(await lab.run('pve3', ['systemctl', 'is-active', 'ceph-osd@5']), {
      stdout: 'inactive\n',
      stderr: '',
      exitCode: 3,
    });
    assert.ok(await waitUntil(async () => !(await osdUp(5)), 30_000, 1000), 'osd.5 still up');
    const stopped = await lab.run('pve3', ['systemctl', 'status', 'ceph-osd@5.service']);
    assert.equal(stopped.exitCode, 3);
    assert.match(stopped.stdout, /^○ ceph-osd@5\.service - Ceph object storage daemon osd\.5$/m);
    assert.match(stopped.stdout, /^ {5}Active: inactive \(dead\) since \w{3} \d{4}-\d\d-\d\d [\d:]{8} CES?T; /m);

    const start = await lab.run('pve3', ['systemctl', 'start', 'ceph-osd@5']);
    assert.equal(start.exitCode, 0, start.stderr);
    const running = await lab.run('pve3', ['systemctl', 'status', 'ceph-osd@5']);
    assert.equal(running.exitCode, 0);
    assert.match(running.stdout, /^ {5}Active: active \(running\) since /m);
    assert.match(running.stdout, /^ {3}Main PID: \d+ \(ceph-osd\)$/m);
    assert.ok(await waitUntil(() => osdUp(5), 60_000, 1000), 'osd.5 not up again');

    // osd.5 lives on pve3: its data directory is not on pve1 (ceph-osd-prestart.sh says so).
    const elsewhere = await lab.run('pve1', ['systemctl', 'start', 'ceph-osd@5']);
    assert.equal(elsewhere.exitCode, 1);
    assert.equal(
      elsewhere.stderr,
      'Job for ceph-osd@5.service failed because the control process exited with error code.\n' +
        'See "systemctl status ceph-osd@5.service" and "journalctl -xeu ceph-osd@5.service" for details.\n',
    );
    const failed = await lab.run('pve1', ['systemctl', 'status', 'ceph-osd@5']);
    assert.equal(failed.exitCode, 3);
    assert.match(failed.stdout, /^× ceph-osd@5\.service/m);
    assert.match(failed.stdout, /Active: failed \(Result: exit-code\)/);
    assert.match(failed.stdout, /OSD data directory \/var\/lib\/ceph\/osd\/ceph-5 does not exist; bailing out\./);
  });

  it('drains an OSD marked out back to active+clean, and takes it in again', async () => {
    assert.ok(await waitUntil(allClean, 60_000, 1000), 'not active+clean after osd.5 came back');
    await ceph('pve1', ['osd', 'out', '1']);
    const { osdmap } = await status();
    assert.equal(osdmap.num_in_osds, 5);
    // Right after `out`, pg stat still shows the old clean numbers: the OSD's own PG count tells.
    const drained = async () => (await osdPgs(1)) === 0 && (await allClean());
    assert.ok(await waitUntil(drained, 120_000, 1000), 'osd.1 was not drained to active+clean');
    await ceph('pve1', ['osd', 'in', '1']);
    const filled = async () => ((await osdPgs(1)) ?? 0) > 0 && (await allClean());
    assert.ok(await waitUntil(filled, 120_000, 1000), 'osd.1 got no PGs back, active+clean');
  });

  it('inserts, pulls and puts back disks with their serials in lsblk, /dev/disk/by-id and smartctl', async () => {
    const serial = await lab.diskInsert('pve2', { sizeGiB: 1 });
    const disk = (await lab.disks()).find((candidate) => candidate.serial === serial);
    assert.ok(disk?.device);
    assert.equal(disk.state, 'inserted');
    assert.deepEqual(
      (await lsblk('pve2')).find((device) => device.serial === serial),
      { name: disk.device, serial, wwn: disk.wwn, size: 1024 ** 3, model: 'LAB SSD 1G' },
    );
    assert.equal(
      (await lsblk('pve1')).find((device) => device.serial === serial),
      undefined,
    );
    for (const link of disk.byId) {
      const target = await lab.run('pve2', [
        'sh',
        '-ec',
        'test -b "$1" && readlink -f "$1"',
        'sh',
        `/dev/disk/by-id/${link}`,
      ]);
      assert.equal(target.stdout, `/dev/${disk.device}\n`, target.stderr);
    }
    const byId = `/dev/disk/by-id/${disk.byId[0]}`;
    const smart = await lab.run('pve2', ['smartctl', '-j', '-a', byId]);
    assert.equal(smart.exitCode, 0, smart.stdout);
    const report = JSON.parse(smart.stdout) as Record<string, unknown>;
    assert.deepEqual(
      [report['serial_number'], report['model_name'], report['user_capacity'], report['smart_status']],
      [serial, 'LAB SSD 1G', { blocks: 1024 ** 3 / 512, bytes: 1024 ** 3 }, { passed: true }],
    );
    await lab.diskSmart('pve2', serial, false);
    const failing = await lab.run('pve2', ['smartctl', '-H', byId]);
    assert.equal(failing.exitCode, 8); // smartctl's "disk failing" bit
    assert.match(failing.stdout, /^SMART overall-health self-assessment test result: FAILED!$/m);
    // Every OSD's disk has an identity too.
    assert.equal((await lsblk('pve1')).filter((device) => device.serial?.startsWith('CL')).length, 2);

    const mark = await lab.run('pve2', [
      'sh',
      '-ec',
      'printf lab-data | dd of="$1" conv=notrunc status=none',
      'sh',
      byId,
    ]);
    assert.equal(mark.exitCode, 0, mark.stderr);
    await lab.diskPull('pve2', serial);
    assert.equal(
      (await lsblk('pve2')).find((device) => device.serial === serial),
      undefined,
    );
    const gone = await lab.run('pve2', ['ls', `/dev/disk/by-id/${disk.byId[0]}`, `/dev/${disk.device}`]);
    assert.equal(gone.exitCode, 2);
    const pulled = (await lab.disks()).find((candidate) => candidate.serial === serial);
    assert.deepEqual({ state: pulled?.state, device: pulled?.device }, { state: 'pulled', device: null });
    await assert.rejects(lab.diskPull('pve2', serial), /no disk with serial "CL\d+D\d+" in pve2/);

    // Put back, in another host: the same disk, what it held with it.
    assert.equal(await lab.diskInsert('pve1', { serial }), serial);
    const back = await lab.run('pve1', ['head', '-c', '8', byId]);
    assert.deepEqual([back.exitCode, back.stdout], [0, 'lab-data']);
    assert.ok((await lsblk('pve1')).some((device) => device.serial === serial));
  });

  it('creates an OSD on a new disk with ceph-volume lvm create, and lists the OSDs as LVM ones', async () => {
    const serial = await lab.diskInsert('pve2');
    const disk = (await lab.disks()).find((candidate) => candidate.serial === serial)!;
    const device = `/dev/disk/by-id/${disk.byId[0]}`;
    const created = await lab.run('pve2', ['ceph-volume', 'lvm', 'create', '--osd-id', '6', '--data', device]);
    assert.equal(created.exitCode, 0, created.stderr);
    // ceph-volume prints every line on stderr.
    assert.match(created.stderr, new RegExp(`^--> ceph-volume lvm create successful for: ${device}$`, 'm'));
    assert.ok(await waitUntil(() => osdUp(6), 60_000, 1000), 'osd.6 not up');
    const list = await lab.run('pve2', ['ceph-volume', 'lvm', 'list', '--format', 'json']);
    assert.equal(list.exitCode, 0, list.stderr);
    const volumes = JSON.parse(list.stdout) as Record<string, { devices: string[]; tags: Record<string, string> }[]>;
    assert.deepEqual(Object.keys(volumes), ['2', '3', '6']);
    assert.deepEqual(volumes['6']?.[0]?.devices, [`/dev/${disk.device}`]);
    assert.equal(volumes['6']?.[0]?.tags['ceph.type'], 'block');
    const tree = JSON.parse(await ceph('pve1', ['osd', 'tree', '-f', 'json'])) as {
      nodes: { name: string; children?: number[] }[];
    };
    assert.ok(tree.nodes.find((node) => node.name === 'pve2')?.children?.includes(6));
  });

  it('rolls a failed lvm create back by purging the destroyed OSD; restored, the id is created again', async () => {
    // A swap of osd.1 on pve1 in the real order, up to the destroyed OSD.
    const oldDevice = (JSON.parse(await ceph('pve1', ['osd', 'metadata', '1', '-f', 'json'])) as { devices: string })
      .devices;
    await ceph('pve1', ['osd', 'add-noout', 'osd.1']);
    await ceph('pve1', ['osd', 'out', '1']);
    const safe = async () =>
      (
        JSON.parse(await ceph('pve1', ['osd', 'safe-to-destroy', '1', '-f', 'json'])) as { safe_to_destroy: number[] }
      ).safe_to_destroy.includes(1);
    const drained = async () => (await osdPgs(1)) === 0 && (await safe()) && (await allClean());
    assert.ok(await waitUntil(drained, 120_000, 1000), 'osd.1 was not drained');
    await ceph('pve1', ['osd', 'ok-to-stop', '1']);
    assert.equal((await lab.run('pve1', ['systemctl', 'stop', 'ceph-osd@1'])).exitCode, 0);
    await ceph('pve1', ['osd', 'destroy', '1', '--yes-i-really-mean-it']);
    const destroyed = await osdTreeEntry(1);
    assert.deepEqual(
      { status: destroyed?.status, class: destroyed?.device_class, host: destroyed?.host },
      { status: 'destroyed', class: 'ssd', host: 'pve1' },
    );
    const old = (await lab.disks()).find((disk) => disk.host === 'pve1' && disk.device === oldDevice)!;
    await lab.diskPull('pve1', old.serial);
    const serial = await lab.diskInsert('pve1');
    const disk = (await lab.disks()).find((candidate) => candidate.serial === serial)!;
    const device = `/dev/disk/by-id/${disk.byId[0]}`;

    assert.deepEqual(await lab.setCephFaults({ cephVolumeFailActivate: 1 }), { cephVolumeFailActivate: 1 });
    const failed = await lab.run('pve1', ['ceph-volume', 'lvm', 'create', '--osd-id', '1', '--data', device]);
    assert.equal(failed.exitCode, 1, failed.stderr);
    assert.equal(failed.stdout, '');
    const lines = failed.stderr.trimEnd().split('\n');
    assert.equal(lines.at(-1), '-->  RuntimeError: did not find any matching OSD to activate');
    assert.ok(lines.includes('--> Was unable to complete a new OSD, will rollback changes'), failed.stderr);
    assert.ok(lines.includes(' stderr: purged osd.1'), failed.stderr);
    assert.ok(lines.includes(`--> Zapping successful for: <Raw Device: /dev/${disk.device}>`), failed.stderr);
    assert.equal(await osdTreeEntry(1), undefined);
    assert.deepEqual(await lab.setCephFaults({}), { cephVolumeFailActivate: 0 });

    // The destroyed entry back as it was (id, CRUSH host and weight, class, out, noout), then created again.
    const restore = [
      ['osd', 'new', randomUUID(), '1'],
      ['osd', 'out', '1'],
      ['osd', 'crush', 'add', 'osd.1', String(destroyed!.crush_weight), `host=${destroyed!.host}`],
      ['osd', 'crush', 'set-device-class', destroyed!.device_class, 'osd.1'],
      ['osd', 'add-noout', 'osd.1'],
      ['osd', 'destroy', '1', '--yes-i-really-mean-it'],
    ];
    for (const args of restore) await ceph('pve1', args);
    assert.deepEqual(await osdTreeEntry(1), destroyed);
    const created = await lab.run('pve1', ['ceph-volume', 'lvm', 'create', '--osd-id', '1', '--data', device]);
    assert.equal(created.exitCode, 0, created.stderr);
    assert.ok(await waitUntil(() => osdUp(1), 60_000, 1000), 'osd.1 not up');
    await ceph('pve1', ['osd', 'rm-noout', 'osd.1']);
    const back = await osdTreeEntry(1);
    assert.deepEqual(back, { ...destroyed, status: 'up', reweight: 1 });
    const filled = async () => ((await osdPgs(1)) ?? 0) > 0 && (await allClean());
    assert.ok(await waitUntil(filled, 120_000, 1000), 'osd.1 got no PGs, active+clean');
  });

  it('leaves no daemon, loop device or file after down, even once its supervisor crashed', async () => {
    const namespaces = lab.hosts.filter((host) => host.roles.includes('ceph')).map((host) => host.netns);
    const pids = (
      await Promise.all(
        namespaces.map(async (netns) => (await execa('ip', ['netns', 'pids', netns])).stdout.split('\n')),
      )
    ).flat();
    const daemons = [];
    for (const pid of pids) {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
      if (/^ceph-(mon|mgr|osd)$/.test(comm.trim())) daemons.push(pid);
    }
    assert.equal(daemons.length, 13); // osd.6 too
    const { supervisorPid } = JSON.parse(await readFile(`${lab.stateDir}/state.json`, 'utf8')) as {
      supervisorPid: number;
    };
    process.kill(supervisorPid, 'SIGKILL');
    await labDown(lab.name);
    // A daemon killed may stay a zombie a moment (the machine's init reaps it): it has no command line.
    const running = [];
    for (const pid of daemons) if (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) running.push(pid);
    assert.deepEqual(running, []);
    const { stdout } = await execa('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE']);
    assert.ok(!stdout.includes(`${lab.stateDir}/`), stdout);
    assert.equal(existsSync(lab.stateDir), false);
  });
});
