// The journal of a long operation on a lab host through the real executor: the host's copy
// written whole and private under /var/lib/chaton/journals, read back by a run from "another
// laptop" (its own state directory) that resumes where the first stopped, and listed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { freshLab, QUIET_OPTIONS } from './chaton.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { loadInventory } from '../../src/lib/inventory/load.js';
import type { Host, Inventory } from '../../src/lib/inventory/types.js';
import { journalPath } from '../../src/lib/remote/journal.js';
import { RunContext } from '../../src/lib/run/context.js';
import { Journal, type JournalSpec } from '../../src/lib/run/journal.js';

const SPEC: JournalSpec = {
  kind: 'journal-test',
  id: 'journal-test-1',
  params: { device: 'WD-1234' },
  steps: ['first', 'second', 'third'],
};

let lab: Lab;
let inventory: Inventory;
let host: Host;
let stateHome: string;
const contexts: RunContext[] = [];

/** A run of chaton on a laptop of its own: its own state directory, its own connections. */
async function laptop(name: string): Promise<RunContext> {
  const env = { ...process.env, XDG_STATE_HOME: path.join(stateHome, name) };
  const mode = { json: false, quiet: true, verbose: false, colour: false, interactive: false };
  const ctx = new RunContext(QUIET_OPTIONS, mode, inventory, new AbortController().signal, env, ['node', 'chaton']);
  await ctx.pool.loadKeys([host], async () => undefined);
  contexts.push(ctx);
  return ctx;
}

before(async () => {
  lab = await freshLab('journal', 1);
  inventory = await loadInventory(lab.inventoryPath, INVENTORY_SECTIONS);
  host = inventory.hosts[0]!;
  stateHome = await mkdtemp(path.join(os.tmpdir(), 'chaton-journal-lab-'));
});
after(async () => {
  for (const ctx of contexts) ctx.pool.closeAll();
  await lab?.down();
  if (stateHome) await rm(stateHome, { recursive: true, force: true });
});

describe('a journal on a lab host', () => {
  it("is written there whole and private, and resumed from another laptop with the host's copy", async () => {
    const applied: string[] = [];
    const work = (name: string) => ({
      check: async () => ({ done: false as const }),
      apply: async () => {
        applied.push(name);
        return { step: name };
      },
    });
    const journal = await Journal.open(await laptop('a'), host, SPEC);
    await journal.run('first', work('first'));
    await journal.flush(); // the end of that run

    const file = journalPath(SPEC.id);
    const mode = await lab.run(host.name, ['stat', '-c', '%a %U', file, path.dirname(file)]);
    assert.equal(mode.stdout, '600 root\n700 root\n', mode.stderr);
    const text = await lab.run(host.name, ['cat', file]);
    const record = JSON.parse(text.stdout);
    assert.deepEqual(
      record.steps.map((step: { name: string; state: string }) => `${step.name} ${step.state}`),
      ['first done', 'second pending', 'third pending'],
    );
    const leftovers = await lab.run(host.name, ['ls', '-A', path.dirname(file)]);
    assert.equal(leftovers.stdout, 'journal-test-1.json\n');

    const b = await laptop('b');
    const resumed = await Journal.open(b, host, SPEC);
    assert.equal(resumed.resumed, true);
    assert.deepEqual(resumed.pending(), ['second', 'third']);
    for (const step of SPEC.steps) await resumed.run(step, work(step));
    await resumed.finish();
    assert.deepEqual(applied, SPEC.steps);
    assert.deepEqual(b.notices, []);

    const listed = await Journal.list(b, host);
    assert.deepEqual(
      listed.map((entry) => [entry.id, entry.state]),
      [['journal-test-1', 'finished']],
    );
  });
});
