// The commands in French on the lab (LANG=fr_FR.UTF-8): what a person reads is French, while the
// JSON and the exit codes are those of a run in English.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, unwrapped, variantInventory } from './chaton.js';

let lab: Lab;
let english: NodeJS.ProcessEnv;
let french: NodeJS.ProcessEnv;

before(async () => {
  lab = await freshLab('it-messages-commands', 1);
  english = await sandboxEnv();
  french = { ...english, LANG: 'fr_FR.UTF-8' };
});
after(async () => {
  await lab?.down();
});

const inv = () => ['-i', lab.inventoryPath];

/** A JSON report without what differs from one run to the next (timings). */
async function json(env: NodeJS.ProcessEnv, args: string[]): Promise<unknown> {
  const run = await chaton([...inv(), '--json', ...args], { env });
  const timing = /^(connectMs|latencyMs|durationMs)$/;
  return JSON.parse(run.stdout, (key, value: unknown) => (timing.test(key) ? 0 : value));
}

describe('the commands in French, on the lab', () => {
  it('hosts check: the table and the step in French, the same JSON as in English', async () => {
    const run = await chaton([...inv(), 'hosts', 'check', 'pve1,gw'], { env: french });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^HÔTE +ADRESSE +VIA +CONNEXION +LATENCE +OS$/m);
    assert.match(run.stdout, /^pve1 +\S+ +bastion +\d+ ms +\d+ ms +Linux /m);
    assert.match(run.stderr, /Vérifier/);
    const args = ['hosts', 'check', 'pve1,gw'];
    assert.deepEqual(await json(french, args), await json(english, args));
  });

  it('exec: the summary of exit codes in French, each count in its number; JSON as in English', async () => {
    const run = await chaton([...inv(), '--yes', 'exec', 'pve1,pve2,gw', '--', 'test "$(hostname)" != gw'], {
      env: french,
    });
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stdout, /^codes de sortie : code 0 sur 2 hôtes \(pve1, pve2\) ; code 1 sur 1 hôte \(gw\)$/m);
    const args = ['--yes', 'exec', 'pve1,gw', '--', 'exit 3'];
    assert.deepEqual(await json(french, args), await json(english, args));
  });

  it('onboard and offboard sysadmin: errors, proofs and the roster in French', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-fr-'));
    const key = path.join(dir, 'alice');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', key]);
    const inventory = await variantInventory(lab.inventoryPath, () => {});
    const file = ['-i', inventory];

    const early = ['onboard', 'sysadmin', 'alice', '--key', `${key}.pub`, '--expires', '2001-01-01'];
    const refused = await chaton([...file, ...early], { env: french });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--expires : "2001-01-01" n'est pas une date à venir\n.*donnez le jour/);

    const onboard = ['onboard', 'sysadmin', 'alice', '--key', `${key}.pub`, '--sudo', '--save'];
    const onboarded = await chaton([...file, '--json', '--yes', ...onboard], { env: french });
    assert.equal(onboarded.code, 0, onboarded.stderr);
    const report = JSON.parse(onboarded.stdout) as { roster: string; hosts: { verified: string[] }[] };
    assert.equal(report.roster, 'added');
    assert.ok(
      report.hosts.every((host) => host.verified.includes('sshd accepte la clé')),
      onboarded.stdout,
    );
    assert.match(await readFile(inventory, 'utf8'), /^ {2}- login: alice$/m);

    // Again, unchanged: the report as a person reads it.
    const again = await chaton([...file, '--yes', ...onboard], { env: french });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^# ~\/\.ssh\/config de alice$/m);
    assert.match(again.stdout, new RegExp(`^liste des sysadmins : alice inchangé dans ${inventory}$`, 'm'));

    const offboarded = await chaton([...file, '--yes', 'offboard', 'sysadmin', 'alice', '--save'], { env: french });
    assert.equal(offboarded.code, 0, offboarded.stderr);
    assert.match(unwrapped(offboarded.stdout), /sshd refuse l'ancienne clé/);
    assert.match(offboarded.stdout, /^(Secrets partagés que alice a pu voir : changez-les maintenant|Aucun secret)/m);
    assert.match(offboarded.stdout, new RegExp(`^liste des sysadmins : alice retiré de ${inventory}$`, 'm'));
  });

  it('doctor --reach: each reach in French in the table, the English check names in JSON', async () => {
    const run = await chaton([...inv(), 'doctor', '--reach'], { env: french });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^VÉRIFICATION +SUR +RÉSULTAT$/m);
    assert.match(
      unwrapped(run.stdout),
      /^connexion +pve1 +OK : ED25519 key SHA256:.+, connecté en \d+ ms à 198\.18\.\d+\.11$/m,
    );
    const checks = async (env: NodeJS.ProcessEnv) =>
      ((await json(env, ['doctor', '--reach'])) as { checks: { check: string; subject: string }[] }).checks.map(
        ({ check, subject }) => `${check} ${subject}`,
      );
    assert.deepEqual(await checks(french), await checks(english));
  });
});
