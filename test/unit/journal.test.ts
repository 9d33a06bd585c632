// The journal of a long operation against a fake host that keeps its journal files as the remote
// scripts would: resumed after each step without repeating one or skipping one, a step found
// started checked before anything is redone, another operation under the same id refused, the
// host's record followed over the local one, the local copy written whole and private, and the
// exact commands sent to the host.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseInventory } from '../../src/lib/inventory/load.js';
import type { Host } from '../../src/lib/inventory/types.js';
import type { RunResult } from '../../src/lib/remote/executor.js';
import type { Fact } from '../../src/lib/remote/facts.js';
import { journalPath, journalText, journalTexts, writeJournal } from '../../src/lib/remote/journal.js';
import { render, type RemoteCommand } from '../../src/lib/remote/shell.js';
import type { RunContext } from '../../src/lib/run/context.js';
import { ExitCode, RefusedError } from '../../src/lib/run/errors.js';
import { Journal, localJournalPath, type JournalSpec, type Json } from '../../src/lib/run/journal.js';

const [pve2] = parseInventory('hosts:\n  pve2: { address: 10.0.0.12, direct: true }\n', '/tmp/journal-test.yaml')
  .hosts as [Host];

const SPEC: JournalSpec = {
  kind: 'disk-swap',
  id: 'disk-swap-ceph-osd.3',
  params: { osd: 3, host: 'pve2', newDevice: null },
  steps: ['identify', 'drain', 'destroy', 'swap', 'create'],
};

/** The host's files, written and read only through the journal's commands, as sh would run them. */
class FakeHost {
  readonly files = new Map<string, string>();
  readonly sent: { text: string; kind: string; stdin?: string }[] = [];

  async run(_host: Host, script: RemoteCommand, opts: { kind: string }, dryRun: boolean): Promise<RunResult> {
    const text = render(script).toString();
    const stdin = script.stdin === undefined ? undefined : String(script.stdin);
    this.sent.push({ text, kind: opts.kind, ...(stdin === undefined ? {} : { stdin }) });
    const [, , body = '', , ...args] = script.argv.map(String);
    let stdout = '';
    if (opts.kind === 'change' && dryRun) stdout = '';
    else if (body.includes('mktemp')) this.files.set(`${args[0]}/${args[1]}.json`, stdin!);
    else if (body.startsWith('for f in')) {
      stdout = [...this.files]
        .filter(([file]) => file.startsWith(`${args[0]}/`))
        .map(([, content]) => content)
        .join('');
    } else if (body.startsWith('if [ -f')) stdout = this.files.get(args[0]!) ?? '';
    else assert.fail(`unexpected command ${text}`);
    const result = { host: 'pve2', command: text, code: 0, signal: null, stdout: Buffer.from(stdout) };
    return { ...result, stderr: Buffer.alloc(0), truncated: false, durationMs: 1, dryRun };
  }
}

let stateHome: string;
before(async () => {
  stateHome = await mkdtemp(path.join(os.tmpdir(), 'chaton-journal-'));
});
after(() => rm(stateHome, { recursive: true, force: true }));

/** One run of chaton on one laptop (its own state directory) against `host`. */
function laptop(host: FakeHost, name: string, dryRun = false) {
  const env = { XDG_STATE_HOME: path.join(stateHome, name) };
  const ctx = {
    operator: `alice@${name}`,
    options: { dryRun },
    env,
    notices: [] as string[],
    executor: {
      run: (h: Host, script: RemoteCommand, opts: { kind: string }) => host.run(h, script, opts, dryRun),
      fact: async <T>(h: Host, fact: Fact<T>) =>
        fact.parse((await host.run(h, fact.command, { kind: 'probe' }, dryRun)).stdout.toString()),
    },
  };
  return { ctx: ctx as unknown as RunContext, env, notices: ctx.notices };
}

/** Work for each step that counts its applies and checks; `interruptAt` throws in that step's apply. */
function operation(options: { interruptAt?: string; doneOnCheck?: boolean } = {}) {
  const applied: string[] = [];
  const checked: string[] = [];
  const work = (name: string) => ({
    check: async () => {
      checked.push(name);
      return options.doneOnCheck ? { done: true as const, result: `${name} seen` } : { done: false as const };
    },
    apply: async (): Promise<Json> => {
      if (name === options.interruptAt) throw new Error(`${name} cut`);
      applied.push(name);
      return { step: name };
    },
  });
  return { applied, checked, work };
}

/** Runs every step of SPEC in order, then finishes. */
async function runAll(journal: Journal, work: (name: string) => Parameters<Journal['run']>[1]): Promise<Json[]> {
  const results: Json[] = [];
  for (const step of SPEC.steps) results.push(await journal.run(step, work(step)));
  await journal.finish();
  return results;
}

function hostRecord(host: FakeHost) {
  return JSON.parse(host.files.get(journalPath(SPEC.id))!);
}

describe('Journal', () => {
  it('records each step started then done, locally and on the host, and the finish', async () => {
    const host = new FakeHost();
    const { ctx, env } = laptop(host, 'fresh');
    const journal = await Journal.open(ctx, pve2, SPEC);
    assert.equal(journal.resumed, false);
    assert.deepEqual(journal.pending(), SPEC.steps);
    const { applied, work } = operation();
    await runAll(journal, work);
    assert.deepEqual(applied, SPEC.steps);
    const record = hostRecord(host);
    assert.equal(record.state, 'finished');
    assert.equal(record.operator, 'alice@fresh');
    assert.deepEqual(
      record.steps.map((step: { state: string }) => step.state),
      SPEC.steps.map(() => 'done'),
    );
    assert.deepEqual(record.steps[1].result, { step: 'drain' });
    const local = await readFile(localJournalPath(env, 'pve2', SPEC.id), 'utf8');
    assert.equal(local, host.files.get(journalPath(SPEC.id)));
    // Open, then each step's start (with the previous step's end), then the last end with the finish.
    assert.equal(host.sent.filter((sent) => sent.kind === 'change').length, 1 + SPEC.steps.length + 1);
  });

  for (let stopped = 0; stopped <= SPEC.steps.length; stopped++) {
    it(`resumed after ${stopped} step(s) done: none repeated, none skipped, results kept`, async () => {
      const host = new FakeHost();
      const first = operation({ interruptAt: SPEC.steps[stopped] });
      const journal = await Journal.open(laptop(host, `stop-${stopped}`).ctx, pve2, SPEC);
      for (const step of SPEC.steps.slice(0, stopped)) await journal.run(step, first.work(step));
      await journal.flush(); // the end of that run
      const again = operation();
      const resumed = await Journal.open(laptop(host, `stop-${stopped}`).ctx, pve2, SPEC);
      assert.equal(resumed.resumed, true);
      assert.deepEqual(resumed.pending(), SPEC.steps.slice(stopped));
      const results = await runAll(resumed, again.work);
      assert.deepEqual(again.applied, SPEC.steps.slice(stopped));
      assert.deepEqual(again.checked, []);
      assert.deepEqual(
        results,
        SPEC.steps.map((step) => ({ step })),
      );
    });
  }

  it('checks a step found started: done on the host, it is only recorded, with the checked result', async () => {
    const host = new FakeHost();
    const first = operation({ interruptAt: 'destroy' });
    const journal = await Journal.open(laptop(host, 'started').ctx, pve2, SPEC);
    for (const step of ['identify', 'drain']) await journal.run(step, first.work(step));
    await assert.rejects(journal.run('destroy', first.work('destroy')), /destroy cut/);
    assert.equal(hostRecord(host).steps[2].state, 'started');

    const again = operation({ doneOnCheck: true });
    const resumed = await Journal.open(laptop(host, 'started').ctx, pve2, SPEC);
    assert.equal(await resumed.run('destroy', again.work('destroy')), 'destroy seen');
    assert.deepEqual(again.checked, ['destroy']);
    assert.deepEqual(again.applied, []);
    await resumed.flush();
    assert.equal(hostRecord(host).steps[2].state, 'done');
  });

  it('checks a step found started: not done on the host, it is applied again', async () => {
    const host = new FakeHost();
    const journal = await Journal.open(laptop(host, 'redo').ctx, pve2, SPEC);
    await assert.rejects(journal.run('identify', operation({ interruptAt: 'identify' }).work('identify')));
    const again = operation();
    const resumed = await Journal.open(laptop(host, 'redo').ctx, pve2, SPEC);
    assert.deepEqual(await resumed.run('identify', again.work('identify')), { step: 'identify' });
    assert.deepEqual(again.checked, ['identify']);
    assert.deepEqual(again.applied, ['identify']);
  });

  it('refuses another operation under the same id, naming the running one; nothing written', async () => {
    const host = new FakeHost();
    await Journal.open(laptop(host, 'other').ctx, pve2, SPEC);
    const before = host.files.get(journalPath(SPEC.id));
    const writes = host.sent.length;
    const other = { ...SPEC, params: { ...SPEC.params, newDevice: 'WD-123' } };
    const error = await Journal.open(laptop(host, 'other').ctx, pve2, other).then(
      () => assert.fail('opened'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof RefusedError);
    assert.equal(error.exitCode, ExitCode.refused);
    assert.equal(
      error.message,
      'pve2: another disk-swap is in progress as disk-swap-ceph-osd.3 ' +
        '(osd=3 host=pve2 newDevice=null, started by alice@other): nothing was changed',
    );
    assert.match(error.hint!, /remove \/var\/lib\/chaton\/journals\/disk-swap-ceph-osd\.3\.json on pve2/);
    assert.equal(host.files.get(journalPath(SPEC.id)), before);
    assert.equal(host.sent.length, writes + 1, 'only the read');
    // The same parameters in another key order are the same operation.
    const reordered = { ...SPEC, params: { newDevice: null, host: 'pve2', osd: 3 } };
    assert.equal((await Journal.open(laptop(host, 'other').ctx, pve2, reordered)).resumed, true);
  });

  it('resumes from another laptop with the host record alone', async () => {
    const host = new FakeHost();
    const journal = await Journal.open(laptop(host, 'laptop-a').ctx, pve2, SPEC);
    const first = operation();
    for (const step of ['identify', 'drain']) await journal.run(step, first.work(step));
    await journal.flush();
    const b = laptop(host, 'laptop-b');
    const again = operation();
    await runAll(await Journal.open(b.ctx, pve2, SPEC), again.work);
    assert.deepEqual(again.applied, ['destroy', 'swap', 'create']);
    assert.deepEqual(b.notices, []);
  });

  it("follows the host's record where the local one says otherwise, and says so", async () => {
    const host = new FakeHost();
    const a = laptop(host, 'disagree');
    const journal = await Journal.open(a.ctx, pve2, SPEC);
    await journal.run('identify', operation().work('identify'));
    await assert.rejects(journal.run('drain', operation({ interruptAt: 'drain' }).work('drain')));
    // The local copy claims the drain done (written by hand, or by a run whose host write was lost).
    const file = localJournalPath(a.env, 'pve2', SPEC.id);
    const local = JSON.parse(await readFile(file, 'utf8'));
    local.steps[1].state = 'done';
    await writeFile(file, JSON.stringify(local));
    const again = laptop(host, 'disagree');
    const resumed = await Journal.open(again.ctx, pve2, SPEC);
    assert.deepEqual(resumed.pending(), ['drain', 'destroy', 'swap', 'create']);
    assert.deepEqual(again.notices, [
      "pve2: the journal disk-swap-ceph-osd.3 there and the local one differ on drain: the host's record is followed",
    ]);
    // Both copies agree again.
    assert.equal(await readFile(file, 'utf8'), host.files.get(journalPath(SPEC.id)));
  });

  it('follows the local record when the host has none, says so, and writes it back there', async () => {
    const host = new FakeHost();
    const a = laptop(host, 'lost');
    const journal = await Journal.open(a.ctx, pve2, SPEC);
    await journal.run('identify', operation().work('identify'));
    await journal.flush();
    host.files.clear();
    const again = laptop(host, 'lost');
    const resumed = await Journal.open(again.ctx, pve2, SPEC);
    assert.deepEqual(resumed.pending(), SPEC.steps.slice(1));
    assert.match(again.notices[0]!, /^pve2: has no journal disk-swap-ceph-osd\.3; the local one \(.*\) is followed/);
    assert.equal(hostRecord(host).steps[0].state, 'done');
  });

  it('starts anew after a finished one', async () => {
    const host = new FakeHost();
    await runAll(await Journal.open(laptop(host, 'twice').ctx, pve2, SPEC), operation().work);
    const again = operation();
    const journal = await Journal.open(laptop(host, 'twice').ctx, pve2, SPEC);
    assert.equal(journal.resumed, false);
    await runAll(journal, again.work);
    assert.deepEqual(again.applied, SPEC.steps);
  });

  it('refuses to run a step before an earlier one is done, or one it does not have (bugs in chaton)', async () => {
    const journal = await Journal.open(laptop(new FakeHost(), 'order').ctx, pve2, SPEC);
    await assert.rejects(journal.run('drain', operation().work('drain')), /step drain before identify is done/);
    await assert.rejects(journal.run('reboot', operation().work('reboot')), TypeError);
    await assert.rejects(journal.finish(), /finished before identify, drain, destroy, swap, create/);
    const large = { check: async () => ({ done: false as const }), apply: async () => 'x'.repeat(5000) };
    await assert.rejects(journal.run('identify', large), /step identify's result is 5002 bytes/);
  });

  it('in dry-run writes nothing, here or there, and lists what is left', async () => {
    const host = new FakeHost();
    const wet = await Journal.open(laptop(host, 'dry').ctx, pve2, SPEC);
    await wet.run('identify', operation().work('identify'));
    await wet.flush();
    const dry = laptop(host, 'dry-run', true);
    const journal = await Journal.open(dry.ctx, pve2, SPEC);
    assert.deepEqual(journal.pending(), SPEC.steps.slice(1));
    const before = host.files.get(journalPath(SPEC.id));
    await journal.run('drain', operation().work('drain'));
    assert.equal(host.files.get(journalPath(SPEC.id)), before);
    await assert.rejects(stat(localJournalPath(dry.env, 'pve2', SPEC.id)), { code: 'ENOENT' });
  });

  it('writes the local copy whole and private: 0600 in a 0700 directory, no temporary file left', async () => {
    const host = new FakeHost();
    const a = laptop(host, 'atomic');
    await runAll(await Journal.open(a.ctx, pve2, SPEC), operation().work);
    const file = localJournalPath(a.env, 'pve2', SPEC.id);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(path.dirname(file)), ['disk-swap-ceph-osd.3.json']);
    assert.equal(JSON.parse(await readFile(file, 'utf8')).state, 'finished');
  });

  it('lists the journals of a host, and refuses one it cannot read, naming it', async () => {
    const host = new FakeHost();
    await Journal.open(laptop(host, 'list').ctx, pve2, SPEC);
    await Journal.open(laptop(host, 'list').ctx, pve2, { ...SPEC, id: 'disk-swap-zfs-rpool' });
    const listed = await Journal.list(laptop(host, 'list').ctx, pve2);
    assert.deepEqual(listed.map((record) => [record.id, record.state]).sort(), [
      ['disk-swap-ceph-osd.3', 'running'],
      ['disk-swap-zfs-rpool', 'running'],
    ]);
    host.files.set(journalPath(SPEC.id), '{"version":2}\n');
    await assert.rejects(Journal.open(laptop(host, 'list').ctx, pve2, SPEC), {
      message:
        'pve2:/var/lib/chaton/journals/disk-swap-ceph-osd.3.json is not a journal chaton can read: ' +
        'nothing was changed',
    });
  });
});

describe('the remote journal commands', () => {
  it('write through a temporary file renamed over the old one, the text on stdin only', () => {
    const text = '{"version":1,"id":"disk-swap-ceph-osd.3"}\n';
    const write = writeJournal('disk-swap-ceph-osd.3', text);
    assert.equal(
      render(write).toString(),
      `sh -c 'umask 077
mkdir -p -- "$1" || exit 1
tmp=$(mktemp -- "$1/.$2.XXXXXX") || exit 1
if cat > "$tmp" && sync -- "$tmp" && mv -f -- "$tmp" "$1/$2.json"; then sync -- "$1"; exit 0; fi
rm -f -- "$tmp"
exit 1' sh /var/lib/chaton/journals disk-swap-ceph-osd.3`,
    );
    assert.equal(write.stdin, text);
  });

  it('read one journal, or all of a host', () => {
    assert.equal(
      render(journalText('disk-swap-ceph-osd.3').command).toString(),
      `sh -c 'if [ -f "$1" ]; then cat -- "$1"; fi' sh /var/lib/chaton/journals/disk-swap-ceph-osd.3.json`,
    );
    assert.equal(journalText('x').parse(''), undefined);
    assert.equal(
      render(journalTexts.command).toString(),
      `sh -c 'for f in "$1"/*.json; do if [ -f "$f" ]; then cat -- "$f" || exit 1; fi; done' ` +
        'sh /var/lib/chaton/journals',
    );
  });

  it('refuse an id that is not a plain file name (a bug in chaton)', () => {
    assert.throws(() => writeJournal('../etc/passwd', '{}'), TypeError);
    assert.throws(() => journalPath('a b'), TypeError);
  });
});
