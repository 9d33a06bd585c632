// The commands in French (LANG=fr_FR.UTF-8): their help, reports, questions and errors, while
// the example command lines, the JSON and the exit codes stay those of English.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { messages } from '../../src/commands/messages.js';
import { inFrench } from './in-french.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../inventory.example.yaml', import.meta.url));
const FRENCH = 'fr_FR.UTF-8';
const ENGLISH = 'C.UTF-8';

/** Every command with examples in its --help. */
const COMMANDS = [
  [],
  ['inventory', 'init'],
  ['inventory', 'check'],
  ['inventory', 'show'],
  ['hosts', 'check'],
  ['exec'],
  ['onboard', 'sysadmin'],
  ['offboard', 'sysadmin'],
  ['doctor'],
  ['connections', 'list'],
  ['connections', 'close'],
  ['completion'],
];

let home: string;
before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'chaton-fr-'));
});

/** chaton in a language, in an empty HOME (no key, no known_hosts, no inventory of its own). */
function chaton(lang: string, args: string[]) {
  const run = spawnSync(process.execPath, [CHATON, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: home, LANG: lang },
    encoding: 'utf8',
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The lines of a --help's examples block, after its heading: [command line, comment]. */
function examples(help: string, heading: string): [string, string][] {
  const block = help.split(`\n${heading}\n`)[1]?.split(/\n\s*\n/)[0];
  assert.ok(block, `no "${heading}" block in:\n${help}`);
  return block.split('\n').map((line) => {
    const [command, comment = ''] = line.trim().split(/\s+# /);
    return [command!, comment];
  });
}

describe('the commands in French', () => {
  it('show the same example command lines under "Exemples :", their comments in French', () => {
    for (const words of COMMANDS) {
      const english = chaton(ENGLISH, [...words, '--help']);
      const french = chaton(FRENCH, [...words, '--help']);
      assert.equal(french.code, 0, french.stderr);
      const lines = (help: string, heading: string) => examples(help, heading).map(([command]) => command);
      assert.deepEqual(lines(french.stdout, 'Exemples :'), lines(english.stdout, 'Examples:'), words.join(' '));
    }
    const comments = (words: string[]) => examples(chaton(FRENCH, [...words, '--help']).stdout, 'Exemples :');
    assert.ok(comments(['hosts', 'check']).some(([, comment]) => comment === 'depuis cron'));
    assert.ok(comments(['completion']).some(([, comment]) => comment === 'avec fpath+=(~/.zfunc) avant compinit'));
  });

  it('describe themselves, their arguments and options in French', () => {
    const exec = chaton(FRENCH, ['exec', '--help']).stdout;
    assert.match(exec, /^lancer une commande sur chaque cible en parallèle ;/m);
    assert.match(exec, /^ {2}targets +quels hôtes \(voir ci-dessous\)$/m);
    assert.match(exec, /^Cibles : un nom d'hôte, un nom de groupe, role:<rôle>/m);
    const onboard = chaton(FRENCH, ['onboard', 'sysadmin', '--help']).stdout;
    assert.match(onboard, /^ {2}--sudo +autoriser sudo \(sans mot de passe :/m);
    assert.match(onboard, /^Chaque hôte reçoit : le compte/m);
  });

  it('report an inventory in French, with the same JSON as in English', () => {
    const check = chaton(FRENCH, ['-i', EXAMPLE, 'inventory', 'check']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /\(donné par --inventory\) : OK : \d+ hôtes, \d+ groupes, bastion : bastion$/m);
    const show = chaton(FRENCH, ['-i', EXAMPLE, 'inventory', 'show']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^HÔTE +ADRESSE +UTILISATEUR +SUDO +RÔLES +GROUPES +VIA$/m);
    assert.match(show.stdout, /^SYSADMIN +NOM +SUDO +RÔLE PROXMOX +CLÉS$/m);
    assert.match(show.stdout, /^camille +Camille Martin +oui /m);
    assert.match(show.stdout, /^secrets partagés : /m);
    for (const command of [
      ['inventory', 'check'],
      ['inventory', 'show'],
    ]) {
      const json = (lang: string) => chaton(lang, ['-i', EXAMPLE, '--json', ...command]).stdout;
      assert.equal(json(FRENCH), json(ENGLISH), command.join(' '));
    }
  });

  it('write a starter inventory, and refuse two imports, in French', () => {
    const file = path.join(home, 'site.yaml');
    const dryRun = chaton(FRENCH, ['--dry-run', 'inventory', 'init', '--file', file]);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.ok(dryRun.stdout.startsWith(`# simulation : rien n'a été écrit ; ${file} contiendrait :\n`));
    assert.match(dryRun.stdout, /^reste à remplir, comme `chaton inventory check` le signale :$/m);
    const both = chaton(FRENCH, ['inventory', 'init', '--from-ssh-config', '--from-ansible', 'hosts.ini']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--from-ssh-config et --from-ansible ne peuvent pas être utilisés ensemble\n.*importez/);
  });

  it("show the doctor's table in French; the checks keep their English names in JSON", () => {
    const doctor = chaton(FRENCH, ['-i', EXAMPLE, 'doctor']);
    assert.equal(doctor.code, 2, doctor.stderr);
    assert.match(doctor.stdout, /^VÉRIFICATION +SUR +RÉSULTAT$/m);
    assert.match(doctor.stdout, /^fichier d'identité +\S+id_ed25519 /m);
    assert.match(doctor.stdout, /^fichier known_hosts +\S+known_hosts +ATTENTION \(voir\b/m);
    const checks = (lang: string) => {
      const report = JSON.parse(chaton(lang, ['-i', EXAMPLE, '--json', 'doctor']).stdout) as {
        checks: { check: string; subject: string; status: string }[];
      };
      return report.checks.map(({ check, status }) => [check, status]);
    };
    assert.deepEqual(checks(FRENCH), checks(ENGLISH));
  });

  it("say exec's summary and offboard's question in French, each count in its number", () => {
    const summary = () =>
      messages.execSummary(
        [
          messages.execOnHosts(messages.execExited('0'), 2, 'pve1, pve2'),
          messages.execOnHosts(messages.execKilled('SIGTERM'), 1, 'gw'),
        ].join(messages.separator),
      );
    assert.equal(summary(), 'exit codes: exit 0 on 2 hosts (pve1, pve2); killed by SIGTERM on 1 host (gw)');
    assert.equal(
      inFrench(summary),
      'codes de sortie : code 0 sur 2 hôtes (pve1, pve2) ; tuée par SIGTERM sur 1 hôte (gw)',
    );
    assert.equal(
      inFrench(() => messages.offboardQuestion('alice', 1, 'pve1', messages.alreadyLockedOnAll, '')),
      'Verrouiller alice et mettre fin à ses sessions sur 1 hôte où le compte existe (pve1 ; déjà verrouillé sur tous) ?',
    );
    assert.equal(
      inFrench(() => messages.removeKeysQuestion(2, 'alice', 3, 'pve1, pve2, gw')),
      'Retirer 2 clés non données du fichier authorized_keys de alice, sur 3 hôtes (pve1, pve2, gw) ?',
    );
  });
});
