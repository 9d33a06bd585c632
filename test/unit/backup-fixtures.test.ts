// The recorded outputs of the real backup tools (test/unit/fixtures/backup/, written by
// test/lab/capture-backup-fixtures.ts): the index names every file there and only those (the
// captures' streams, and the few files written by hand, each with its source), and the captures
// say what their README says of the tools.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const DIR = fileURLToPath(new URL('../../../test/unit/fixtures/backup/', import.meta.url));

interface Capture {
  name: string;
  command: string;
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
}

interface Written {
  file: string;
  what: string;
  source: string;
}

interface Index {
  capturedAt: string;
  captures: Capture[];
  written: Written[];
}

async function index(): Promise<Index> {
  return JSON.parse(await readFile(join(DIR, 'captures.json'), 'utf8')) as Index;
}

async function stream(name: string, which: 'stdout' | 'stderr'): Promise<string> {
  const capture = (await index()).captures.find((c) => c.name === name);
  assert.ok(capture, `no capture ${name}`);
  const file = capture[which];
  return file === null ? '' : readFile(join(DIR, file), 'utf8');
}

describe('backup fixtures', () => {
  it('index every file of the folder, and only those', async () => {
    const { captures, written } = await index();
    const listed = captures.flatMap((c) => [c.stdout, c.stderr]).filter((file) => file !== null);
    listed.push(...written.map((w) => w.file));
    const present = (await readdir(DIR)).filter((file) => file !== 'captures.json' && file !== 'README.md');
    assert.deepEqual([...listed].sort(), present.sort());
    assert.equal(new Set(listed).size, listed.length, 'no file is listed twice');
    assert.equal(new Set(captures.map((c) => c.name)).size, captures.length, 'names are unique');
    for (const { file, what, source } of written) assert.ok(what.trim() && source.trim(), `${file}: what and source`);
  });

  it('hold restic snapshots with offsets, hosts and vmid tags, and borg archives in local time', async () => {
    const snapshots = JSON.parse(await stream('restic-0.14-snapshots', 'stdout')) as {
      time: string;
      hostname: string;
      tags?: string[];
    }[];
    assert.ok(snapshots.length >= 28);
    assert.ok(snapshots.every((s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/.test(s.time)));
    assert.deepEqual(snapshots.find((s) => s.hostname === 'web')?.tags, ['vmid=100'], 'web is tagged with its VMID');
    const local = JSON.parse(await stream('borg-1.2-list', 'stdout')) as {
      archives: { name: string; start: string }[];
    };
    const utc = JSON.parse(await stream('borg-1.2-list-utc', 'stdout')) as { archives: { start: string }[] };
    const first = local.archives[0]!;
    assert.equal(first.start.slice(0, 19), first.name.replace(/^[a-z-]+?-(?=\d)/, ''), 'start is the local time');
    assert.notEqual(first.start, utc.archives[0]!.start, 'TZ=UTC prints another time');
  });

  it('record the exit codes the tools really give', async () => {
    const codes = Object.fromEntries((await index()).captures.map((c) => [c.name, c.exitCode]));
    assert.equal(codes['restic-0.14-check'], 0);
    for (const name of ['wrong-password', 'locked', 'stale-lock', 'tree-pack-corrupted']) {
      assert.equal(codes[`restic-0.14-check-${name}`], 1, name);
    }
    assert.equal(codes['restic-0.14-check-data-pack-corrupted'], 0, 'a data pack is only seen by --read-data');
    assert.equal(codes['borg-1.2-check-damaged-segment'], 1);
    assert.equal(codes['restic-0.14-snapshots-password-file-missing'], 1);
    for (const name of ['locked', 'wrong-passphrase', 'no-repository', 'passcommand-failed']) {
      assert.equal(codes[`borg-1.2-list-${name}`], 2, name);
      assert.equal(codes[`borg-1.2-log-json-list-${name}`], 2, `${name} (--log-json)`);
    }
    for (const tool of ['zstd-1.5', 'gzip-1.12', 'lzop-1.04']) {
      assert.equal(codes[`${tool}-test-ok`], 0);
      assert.equal(codes[`${tool}-test-truncated`], 1);
      assert.equal(codes[`${tool}-test-flipped-byte`], 1);
    }
    assert.match(await stream('restic-0.14-check-locked', 'stderr'), /repository is already locked by PID \d+/);
  });
});
