// Restore tests on the lab (src/lib/backup/restore.ts), through chaton's own connection pool and
// executor: real restic and borg restores into a scratch directory on `backup`, a qmrestore into
// the reserved VMIDs on pve1 (the stand-ins), each cleaned up, also when it fails or is
// interrupted, and each result recorded on the target's host. Needs root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backupShell, backupSite, borgArchives, resticSnapshots, SITE_PATHS } from '../lab/backups.js';
import type { Lab } from '../lab/lab.js';
import { addGuest, LAB_GUESTS, removeGuest, writeVzdumpArchive } from '../lab/proxmox.js';
import { freshLab, variantInventory } from './chaton.js';
import { backupsOf, type BackupTarget } from '../../src/lib/backup/inventory.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import {
  executorRunner,
  restoreRecordsProbe,
  restoreTest,
  type RestoreResult,
  type RestoreRunner,
  type RestoreTestInput,
} from '../../src/lib/backup/restore.js';
import type { Copy } from '../../src/lib/backup/copies.js';
import type { Guest } from '../../src/lib/backup/guests.js';
import { loadInventory } from '../../src/lib/inventory/load.js';
import type { Inventory } from '../../src/lib/inventory/types.js';
import { Executor } from '../../src/lib/remote/executor.js';
import { Identities } from '../../src/lib/ssh/identities.js';
import { ConnectionPool } from '../../src/lib/ssh/pool.js';
import type { RestoreTestSettings } from '../../src/lib/backup/inventory.js';

const SCRATCH = '/var/tmp/chaton-restore';
const NODE_DUMP = '/var/lib/vz/dump';
const RECORDS = '/var/lib/chaton/restore-tests.jsonl';

const BACKUPS = {
  targets: {
    offsite: { type: 'restic', host: 'backup', repository: SITE_PATHS.restic, password_file: '/root/restic.pass' },
    borg: { type: 'borg', host: 'backup', repository: SITE_PATHS.borg, passphrase_file: '/root/borg.pass' },
    // The nodes' own dump directory: the archives qmrestore reads on pve1 without a copy.
    local: { type: 'vzdump', host: 'pve1', path: NODE_DUMP },
  },
  restore_test: {
    node: 'pve1',
    storage: 'local',
    vmids: '9900-9901',
    min_free: '1M',
    scratch_dir: SCRATCH,
    canaries: { default: ['/srv/guests/{name}/canary.txt', '/srv/guests/{name}/etc/hostname'] },
  },
};

function guest(vmid: number): Guest {
  const lab = LAB_GUESTS.find((candidate) => candidate.vmid === vmid)!;
  return { vmid, name: lab.name, type: lab.type, node: lab.node, tags: [] };
}

describe('restore tests on the lab', () => {
  let lab: Lab;
  let inventory: Inventory;
  let pool: ConnectionPool;
  let settings: RestoreTestSettings;
  let targets: Map<string, BackupTarget>;
  let webArchive: string;

  before(async () => {
    lab = await freshLab('it-backup-restore', 0);
    await backupSite(lab);
    const file = await variantInventory(lab.inventoryPath, (doc) => doc.set('backups', BACKUPS));
    inventory = await loadInventory(file, INVENTORY_SECTIONS);
    const backups = backupsOf(inventory)!;
    settings = backups.restoreTest!;
    targets = new Map(backups.targets.map((target) => [target.name, target]));
    pool = new ConnectionPool({ identities: new Identities(), env: process.env, acceptNew: false, notice: () => {} });
    await pool.loadKeys(inventory.hosts, () => Promise.resolve(undefined));
    const web = LAB_GUESTS.find((candidate) => candidate.vmid === 100)!;
    webArchive = await writeVzdumpArchive(lab, 'pve1', NODE_DUMP, {
      guest: web,
      time: Math.floor(Date.now() / 1000) - 3600,
      compression: 'zst',
    });
  });
  after(async () => {
    pool?.closeAll();
    await lab?.down();
  });

  /** The runner of a run, with its own Ctrl-C; `around` may act before and after each step. */
  function runner(
    controller = new AbortController(),
    around?: (name: string, phase: 'before' | 'after', output?: { stdout: string }) => Promise<void> | void,
  ): RestoreRunner {
    const executor = new Executor(pool, { dryRun: false, signal: controller.signal });
    const hostNamed = (name: string) => inventory.hosts.find((host) => host.name === name)!;
    const real = executorRunner(executor, hostNamed, { signal: controller.signal, progress: () => {}, live: false });
    if (!around) return real;
    return {
      ...real,
      async run(host, script, options) {
        const name = String(script.argv[0] === 'sh' ? script.argv[2] : script.argv[0]);
        await around(name, 'before');
        const output = await real.run(host, script, options);
        await around(name, 'after', output);
        return output;
      },
    };
  }

  async function newestResticCopy(name: string): Promise<Copy> {
    const snapshot = (await resticSnapshots(lab, name)).at(-1)!;
    return { key: { name }, time: Date.parse(snapshot.time), location: snapshot.id };
  }

  async function newestBorgCopy(name: string): Promise<Copy> {
    const archive = (await borgArchives(lab)).filter((candidate) => candidate.name.startsWith(`${name}-`)).at(-1)!;
    return { key: { archive: archive.name }, time: Date.parse(`${archive.start}Z`), location: archive.name };
  }

  function input(
    target: string,
    vmid: number,
    copy: Copy,
    changes: Partial<RestoreTestSettings> = {},
  ): RestoreTestInput {
    return { guest: guest(vmid), target: targets.get(target)!, copy, settings: { ...settings, ...changes } };
  }

  async function scratchLeft(): Promise<string> {
    return (await backupShell(lab, 'ls -A "$1" 2>/dev/null || true', [SCRATCH])).stdout.trim();
  }

  async function records(host: string): Promise<string[]> {
    const result = await lab.run(host, ['sh', '-c', '[ -e "$1" ] && cat "$1" || true', 'sh', RECORDS]);
    return result.stdout.split('\n').filter(Boolean);
  }

  /** What pve1 knows of a VMID: its configuration, whether the cluster lists it, its disks. */
  async function vmidState(vmid: number): Promise<{ config: string; listed: boolean; disks: string }> {
    const script = `cat "/etc/pve/nodes/pve1/qemu-server/$1.conf" 2>/dev/null; echo ---
pvesh get /cluster/resources --type vm --output-format json; echo ---
ls -A "/var/lib/vz/images/$1" 2>/dev/null || true`;
    const out = (await lab.run('pve1', ['sh', '-c', script, 'sh', String(vmid)])).stdout.split('---\n');
    const listed = (JSON.parse(out[1]!) as { vmid: number }[]).some((entry) => entry.vmid === vmid);
    return { config: out[0]!, listed, disks: out[2]!.trim() };
  }

  function says(result: RestoreResult, words: RegExp): void {
    assert.match(result.reason?.en ?? '', words, JSON.stringify(result, null, 1));
  }

  it('restores a restic snapshot, finds its files and canaries as it holds them, removes it, records it', async () => {
    const result = await restoreTest(runner(), input('offsite', 101, await newestResticCopy('mail')));
    assert.equal(result.ok, true, JSON.stringify(result, null, 1));
    assert.ok(result.restoreMs! > 0);
    assert.deepEqual(
      result.steps.map((step) => step.name),
      ['prepare', 'restore', 'listing', 'restored-files', 'canary', 'canary', 'cleanup', 'record'],
    );
    assert.equal(result.cleanedUp, true);
    assert.equal(await scratchLeft(), '');
    assert.equal(result.recorded, true);
    const line = JSON.parse((await records('backup')).at(-1)!) as Record<string, unknown>;
    assert.equal(line.guest, '101');
    assert.equal(line.target, 'offsite');
    assert.equal(line.ok, true);
    // Read back as the judgement takes it: the last good test and its measured time.
    const host = inventory.hosts.find((candidate) => candidate.name === 'backup')!;
    const executor = new Executor(pool, { dryRun: false, signal: new AbortController().signal });
    const probe = restoreRecordsProbe(['offsite']);
    const read = await executor.run(host, probe.command, { kind: 'probe' });
    const tests = probe.parse({ code: read.code, stdout: read.stdout.toString(), stderr: read.stderr.toString() });
    const mine = tests.filter((test) => test.guest === '101').at(-1)!;
    assert.equal(mine.ok, true);
    assert.equal(mine.durationMs, Math.round(result.restoreMs!));
    process.stderr.write(
      `restic restore of mail: ${Math.round(result.restoreMs!)} ms (test ${Math.round(result.totalMs)} ms)\n`,
    );
  });

  it('fails when a restored file is not the size the snapshot lists, naming it, and still cleans up', async () => {
    const canary = '/srv/guests/web/canary.txt';
    let restored = false;
    const run = runner(undefined, async (name, phase) => {
      // A disk that gives back other bytes than restic wrote: the restored file altered after the restore.
      if (name !== 'restic' || phase !== 'after' || restored) return;
      restored = true;
      await backupShell(lab, 'for f in "$1"/chaton-restore.*"$2"; do [ -f "$f" ] && printf x >> "$f"; done; true', [
        SCRATCH,
        canary,
      ]);
    });
    const result = await restoreTest(run, input('offsite', 100, await newestResticCopy('web')));
    assert.equal(result.ok, false);
    assert.equal(result.problem, 'listing-differs');
    says(result, /srv\/guests\/web\/canary\.txt/);
    assert.equal(await scratchLeft(), '');
    assert.equal(JSON.parse((await records('backup')).at(-1)!).ok, false);
  });

  it('fails on a canary with the same size and other bytes: checksums, not sizes', async () => {
    const canary = '/srv/guests/web/canary.txt';
    let restored = false;
    const run = runner(undefined, async (name, phase) => {
      if (name !== 'restic' || phase !== 'after' || restored) return;
      restored = true;
      // One byte changed in place: the size stays.
      await backupShell(
        lab,
        'for f in "$1"/chaton-restore.*"$2"; do [ -f "$f" ] && printf X | dd of="$f" conv=notrunc 2>/dev/null; done; :',
        [SCRATCH, canary],
      );
    });
    const result = await restoreTest(run, input('offsite', 100, await newestResticCopy('web')));
    assert.equal(result.problem, 'canary-differs', JSON.stringify(result, null, 1));
    says(result, /canary \/srv\/guests\/web\/canary\.txt was restored with other bytes/);
    assert.equal(result.cleanedUp, true);
    assert.equal(await scratchLeft(), '');
  });

  it('restores the newest borg archive of a guest and checks it the same way', async () => {
    const result = await restoreTest(runner(), input('borg', 102, await newestBorgCopy('db')));
    assert.equal(result.ok, true, JSON.stringify(result, null, 1));
    assert.equal(result.steps.filter((step) => step.name === 'canary').length, 2);
    assert.equal(await scratchLeft(), '');
    assert.equal(JSON.parse((await records('backup')).at(-1)!).target, 'borg');
    process.stderr.write(
      `borg restore of db: ${Math.round(result.restoreMs!)} ms (test ${Math.round(result.totalMs)} ms)\n`,
    );
  });

  it('a canary the copy does not hold fails the test, named', async () => {
    const copy = await newestBorgCopy('mail');
    const result = await restoreTest(
      runner(),
      input('borg', 101, copy, { canaries: new Map([['default', ['/srv/guests/{name}/no-such-file']]]) }),
    );
    assert.equal(result.problem, 'canary-not-in-copy');
    says(result, /canary \/srv\/guests\/mail\/no-such-file is not in the copy/);
    assert.equal(await scratchLeft(), '');
  });

  const vzdumpCopy = (): Copy => ({ key: { vmid: 100 }, time: Date.now(), location: webArchive });

  it('restores a vzdump archive into the first spare VMID, without network, starts it, and destroys it', async () => {
    const seen: string[] = [];
    const run = runner(undefined, async (name, phase) => {
      if (phase === 'after' && name === 'qmrestore')
        seen.push((await lab.run('pve1', ['cat', '/etc/pve/nodes/pve1/qemu-server/9900.conf'])).stdout);
    });
    const result = await restoreTest(run, input('local', 100, vzdumpCopy()));
    assert.equal(result.ok, true, JSON.stringify(result, null, 1));
    assert.equal(result.where, '9900');
    assert.match(seen[0]!, /^net0: /m, 'the archive has a network device, which the test removes');
    const names = result.steps.map((step) => step.name);
    assert.deepEqual(names, ['archive', 'preflight', 'restore', 'offline', 'start', 'status', 'cleanup', 'record']);
    assert.deepEqual(await vmidState(9900), { config: '', listed: false, disks: '' });
    assert.equal(JSON.parse((await records('pve1')).at(-1)!).guest, '100');
    process.stderr.write(`qmrestore of web until running: ${Math.round(result.restoreMs!)} ms\n`);
  });

  it('never touches a VMID in use: takes the next; one taken at the last moment is refused, left alone', async () => {
    await addGuest(lab, { vmid: 9900, name: 'someone-else', type: 'qemu', node: 'pve1', memory: 512, disk: '1G' });
    try {
      const before = await vmidState(9900);
      const result = await restoreTest(runner(), input('local', 100, vzdumpCopy()));
      assert.equal(result.ok, true, JSON.stringify(result, null, 1));
      assert.equal(result.where, '9901');
      assert.deepEqual(await vmidState(9900), before);
      assert.deepEqual(await vmidState(9901), { config: '', listed: false, disks: '' });

      // 9901 taken by someone else between the check and the restore.
      const racing = runner(undefined, async (name, phase) => {
        if (name === 'qmrestore' && phase === 'before') {
          await addGuest(lab, { vmid: 9901, name: 'racer', type: 'qemu', node: 'pve1', memory: 512, disk: '1G' });
        }
      });
      const raced = await restoreTest(racing, input('local', 100, vzdumpCopy()));
      assert.equal(raced.problem, 'vmid-taken', JSON.stringify(raced, null, 1));
      assert.equal(raced.recorded, false);
      assert.ok(!raced.steps.some((step) => step.name === 'cleanup'));
      assert.match((await vmidState(9901)).config, /^name: racer$/m);
    } finally {
      await removeGuest(lab, 9901).catch(() => {});
      await removeGuest(lab, 9900);
    }
  });

  it('refuses when the scratch space or the storage has less free than min_free, leaving nothing behind', async () => {
    const huge = 1024 ** 5;
    const before = await records('backup');
    const files = await restoreTest(runner(), input('offsite', 101, await newestResticCopy('mail'), { minFree: huge }));
    assert.equal(files.problem, 'space-short');
    says(files, /^only \S+ free on backup:\/var\/tmp\/chaton-restore, the restore test wants 1024T/);
    assert.equal(await scratchLeft(), '');
    assert.deepEqual(await records('backup'), before, 'a refusal is not a failed restore test');
    const vm = await restoreTest(runner(), input('local', 100, vzdumpCopy(), { minFree: huge }));
    assert.equal(vm.problem, 'space-short');
    says(vm, /free on pve1:local/);
    assert.ok(!vm.steps.some((step) => step.name === 'restore'));
    assert.equal((await vmidState(9900)).config, '');
  });

  it('Ctrl-C mid-restore: the scratch directory is removed, the VMID freed, nothing recorded', async () => {
    for (const [target, vmid, copy, tool] of [
      ['offsite', 101, await newestResticCopy('mail'), 'restic'],
      ['local', 100, vzdumpCopy(), 'qmrestore'],
    ] as const) {
      const controller = new AbortController();
      const host = target === 'local' ? 'pve1' : 'backup';
      let watching = false;
      const run = runner(controller, (name, phase) => {
        if (name !== tool || phase !== 'before' || watching) return;
        watching = true;
        // Ctrl-C once the restore runs on the host, as a person would press it.
        void (async () => {
          const pattern = tool === 'restic' ? 'restic .*restore' : 'qmrestore';
          while (!controller.signal.aborted) {
            const seen = await lab.run(host, ['pgrep', '-f', pattern]);
            if (seen.exitCode === 0) controller.abort();
          }
        })();
      });
      const before = await records(host);
      const result = await restoreTest(run, input(target, vmid, copy));
      assert.equal(result.problem, 'interrupted', JSON.stringify(result, null, 1));
      // Stopped in the restore itself, not between two steps.
      assert.match(result.steps.find((step) => step.name === 'restore')?.error ?? '', /interrupt/i);
      assert.equal(result.cleanedUp, true);
      assert.deepEqual(await records(host), before);
      if (target === 'offsite') assert.equal(await scratchLeft(), '');
      else assert.deepEqual(await vmidState(9900), { config: '', listed: false, disks: '' });
    }
  });
});
