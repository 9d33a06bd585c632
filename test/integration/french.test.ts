// A run on the lab under a French locale, as cron runs it: the plain progress lines name their
// state in French words, the run layer's steps and the executor's errors are French, the log file
// too; LC_MESSAGES=C gives the same run in English. The audit records stay English.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
let inventory: string;
let hosts: string;

before(async () => {
  lab = await freshLab('it-french', 1);
  env = await sandboxEnv();
  inventory = await variantInventory(lab.inventoryPath, (doc) => doc.setIn(['ssh', 'command_timeout'], 2));
  hosts = lab.hosts.map((host) => host.name).join(',');
});
after(async () => {
  await lab?.down();
});

describe('a run under a French locale', () => {
  it('says its steps, their states and a command stopped by its timeout in French', async () => {
    const log = path.join(await mkdtemp(path.join(os.tmpdir(), 'chaton-fr-')), 'nuit.log');
    const args = ['-i', inventory, '--log-file', log, '-y', 'exec', hosts, '--', 'sleep 31'];
    const run = await chaton(args, { env: { ...env, LANG: 'fr_FR.UTF-8' } });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^\S+ \[DÉBUT\] Charger les clés SSH$/m);
    assert.match(run.stderr, /^\S+ \[TERMINÉ\] Charger les clés SSH$/m);
    assert.match(run.stderr, /^\S+ \[TERMINÉ\] Se connecter à \S+ \(\S+@\S+\)$/m);
    const pve1 = lab.hosts[0]!.name;
    const stopped = `${pve1} : \`sleep 31\` ne s'est pas terminée en 2 s et a été arrêtée`;
    assert.match(
      run.stderr,
      new RegExp(`^\\S+ \\[ÉCHEC\\] ${pve1} \\[ÉCHEC : ${stopped} → augmentez ssh\\.command_timeout`, 'm'),
    );
    assert.doesNotMatch(run.stderr, /\[(STARTED|COMPLETED|FAILED)/);
    const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
    assert.match(lines[0]!, /^\S+ début : chaton -i /);
    assert.ok(lines.some((line) => line.includes('[TERMINÉ] Charger les clés SSH')));
    assert.match(lines.at(-1)!, /^\S+ code de sortie 1$/);
    // The audit trail reads the same in every language.
    assert.match(await lab.syslog(pve1), /chaton: operator=\S+ outcome=failed command: chaton .*sleep 31/);
  });

  it('is English again with LC_MESSAGES=C', async () => {
    const args = ['-i', inventory, '-y', 'exec', hosts, '--', 'sleep 32'];
    const run = await chaton(args, { env: { ...env, LANG: 'fr_FR.UTF-8', LC_MESSAGES: 'C' } });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^\S+ \[COMPLETED\] Load SSH keys$/m);
    assert.match(run.stderr, /`sleep 32` did not finish within 2 s and was stopped/);
    assert.doesNotMatch(run.stderr, /TERMINÉ|ÉCHEC/);
  });
});
