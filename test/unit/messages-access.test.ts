// The access domain in French: what onboard and offboard would change, their refusals, the
// inventory's roster problems, the lock's waiting line and the report. The commands a change
// carries are the same in both languages: only what a person reads is translated.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAccount } from '../../src/lib/access/account.js';
import { offboardChanges, onboardChanges, type WantedAccount } from '../../src/lib/access/account-changes.js';
import { readPublicKeys } from '../../src/lib/access/public-keys.js';
import { saveSysadmin } from '../../src/lib/access/roster.js';
import { hostChangesTable, hostEntries, LoginLocks, summarise } from '../../src/lib/access/sysadmins.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError } from '../../src/lib/inventory/reader.js';
import { registerSections } from '../../src/lib/inventory/sections.js';
import type { Host } from '../../src/lib/inventory/types.js';
import { proxmoxOffboardChanges, proxmoxOnboardChanges } from '../../src/lib/proxmox/pveum.js';
import type { Change } from '../../src/lib/remote/changes.js';
import { render } from '../../src/lib/remote/shell.js';
import type { RunContext } from '../../src/lib/run/context.js';
import { RefusedError, UsageError } from '../../src/lib/run/errors.js';
import { inFrenchAsync } from './in-french.js';

registerSections(INVENTORY_SECTIONS);

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtyAY4txLuqtsa5ekXqJwC/k6suOWOYbTvRnGXV7W8T lea@laptop';
const LEA: WantedAccount = {
  login: 'lea',
  name: 'Léa Martin',
  keys: [
    { line: KEY, type: 'ssh-ed25519', blob: KEY.split(' ')[1]!, fingerprint: 'SHA256:x', kind: 'ED25519', bits: 256 },
  ],
  sudo: 'ALL',
  groups: ['adm'],
  expires: '2099-12-31',
  exclusive: false,
  forwardingOnly: false,
};
const TODAY = Math.floor(Date.now() / 86_400_000);
/** lea's account as the probe sees it on a host where she has everything onboard gave her. */
const ONBOARDED = parseAccount(
  [
    'sudoers lea ALL=(ALL:ALL) NOPASSWD: ALL',
    'passwd lea:x:1001:1001:Léa Martin:/home/lea:/bin/bash',
    'shadow lea:*:20000:0:99999:7:::',
    'groups lea adm',
    'home 755 lea directory',
    'ssh-dir 700 lea directory',
    'keys-file 600 lea regular file',
    `authorized_keys ${KEY}`,
    'processes 2',
  ].join('\n'),
);

const described = (changes: Change[]) => changes.map((change) => change.what);
const commands = (changes: Change[]) => changes.map((change) => render(change.command).toString());

describe('the access messages in French', () => {
  it('say what onboard would change, with the same commands as in English', async () => {
    const fresh = parseAccount('');
    const english = onboardChanges('pve1', fresh, LEA, TODAY);
    const french = await inFrenchAsync(() => onboardChanges('pve1', fresh, LEA, TODAY));
    assert.deepEqual(described(french), [
      'créer le compte lea (connexion par clé seulement)',
      'écrire ~/.ssh/authorized_keys (1 clé ajoutée)',
      "autoriser sudo : /etc/sudoers.d/chaton-lea (vérifié d'abord avec visudo)",
    ]);
    assert.deepEqual(commands(french), commands(english));
    assert.equal(described(english)[0], 'create the account lea (key-only)');
  });

  it('say why an account is updated, and what offboard does', async () => {
    const locked = { ...ONBOARDED, password: '!*', groups: [] };
    const update = await inFrenchAsync(() => onboardChanges('pve1', locked, LEA, TODAY));
    const reasons = 'déverrouillage pour la connexion par clé, expire le 2099-12-31, groupes +adm';
    assert.equal(update[0]!.what, `mettre à jour le compte lea : ${reasons}`);
    const offboard = await inFrenchAsync(() => offboardChanges('pve1', ONBOARDED, 'lea', true));
    assert.deepEqual(described(offboard), [
      'verrouiller lea (mot de passe verrouillé, compte expiré)',
      'terminer les 2 processus et sessions du compte lea',
      'supprimer les clés du compte lea',
      'retirer sudo : /etc/sudoers.d/chaton-lea',
      'supprimer le répertoire personnel /home/lea du compte lea',
    ]);
  });

  it('say what the Proxmox user gets, with the same pveum commands', async () => {
    const absent = { rootRoles: [], roles: ['PVEAdmin'] };
    const wanted = { login: 'lea', role: 'PVEAdmin', expire: 0 };
    const french = await inFrenchAsync(() => proxmoxOnboardChanges(absent, wanted));
    assert.deepEqual(described(french), [
      "créer l'utilisateur Proxmox lea@pam",
      'donner à lea@pam le rôle PVEAdmin sur /',
    ]);
    assert.deepEqual(commands(french), commands(proxmoxOnboardChanges(absent, wanted)));
    const enabled = { ...absent, user: { enable: true, expire: 0, comment: '', email: '' } };
    const disable = await inFrenchAsync(() => proxmoxOffboardChanges(enabled, 'lea'));
    assert.deepEqual(described(disable), ["désactiver l'utilisateur Proxmox lea@pam"]);
  });

  it('refuse in French, with the next step', async () => {
    const system = parseAccount('passwd lea:x:999:999::/var/lib/lea:/usr/sbin/nologin');
    await inFrenchAsync(() =>
      assert.throws(
        () => onboardChanges('pve1', system, LEA, TODAY),
        (error: unknown) =>
          error instanceof RefusedError &&
          error.message === "pve1 : lea est un compte système sur cet hôte (uid 999) : chaton n'y touche pas" &&
          error.hint === 'choisissez un autre nom de compte',
      ),
    );
    await inFrenchAsync(() =>
      assert.rejects(readPublicKeys([]), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.message, 'aucune clé donnée');
        assert.match(error.hint ?? '', /^donnez la clé publique de la personne à intégrer avec --key FICHIER/);
        return true;
      }),
    );
  });

  it("tell the roster's problems in French, and in English again once the language is back", async () => {
    const roster = `hosts:
  pve1: { address: 10.0.0.11, direct: true }
sysadmins:
  - login: bob
    keys: ["${KEY}"]
  - login: bob
    email: bob.example.org
    keys: ["${KEY}"]
`;
    const problems = () => {
      try {
        parseInventory(roster, '/srv/chaton.yaml');
      } catch (error) {
        if (error instanceof InventoryError) return error.problems.map(({ message, hint }) => ({ message, hint }));
        throw error;
      }
      return assert.fail('the roster loaded');
    };
    const french = await inFrenchAsync(problems);
    assert.ok(french.some(({ message }) => message === '"bob" est déjà le nom de compte du sysadmin de la ligne 4'));
    const email = french.find(({ message }) => message.includes('une adresse e-mail'));
    assert.match(email?.hint ?? '', /^un seul "@" entre un nom et un domaine/);
    assert.ok(problems().some(({ message }) => message === '"bob" is already the login of the sysadmin on line 4'));
  });

  it('refuse to save a roster entry that would not load, in French', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'chaton-fr-')), 'inventory.yaml');
    await writeFile(file, 'hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n');
    const entry = { login: 'lea', keys: [KEY], sudo: false, groups: [], expires: '2026-02-30' };
    await inFrenchAsync(() =>
      assert.rejects(saveSysadmin(file, entry), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(
          error.message,
          /^impossible d'enregistrer la liste des sysadmins dans .* :\nsysadmins\[0\]\.expires : /,
        );
        assert.equal(error.hint, "rien n'a été écrit : corrigez ces valeurs et enregistrez de nouveau");
        return true;
      }),
    );
  });

  it('name who holds the lock while waiting for it', async () => {
    let held = true;
    const pve1 = { name: 'pve1' } as Host;
    const ctx = {
      operator: 'alice@laptop',
      options: { dryRun: false },
      signal: new AbortController().signal,
      notices: [],
      executor: {
        run: async () => {
          const stdout = held ? 'bob@desk pid 4242 since 2026-11-30T11:03:11.000Z\n' : '';
          const code = held ? 75 : 0;
          held = false;
          return { code, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) };
        },
      },
    } as unknown as RunContext;
    const said: string[] = [];
    const step = await inFrenchAsync(() => new LoginLocks(ctx, 'lea').step([pve1])!);
    assert.equal(step.title, 'Prendre le verrou du sysadmin lea sur pve1');
    await inFrenchAsync(() => step.run((text) => said.push(text), false));
    assert.match(
      said[0]!,
      /^pve1 : en attente du verrou du sysadmin lea, tenu par bob@desk \(pid 4242\) depuis 2026-11-/,
    );
  });

  it("give each host's result in French: headings, changes, or unchanged", async () => {
    const outcomes = [
      { host: { name: 'pve1' } as Host, ok: true as const, value: { changes: ['x'], verified: [], dryRun: true } },
      { host: { name: 'pve2' } as Host, ok: true as const, value: { changes: [], verified: [], dryRun: true } },
    ];
    const table = await inFrenchAsync(() => hostChangesTable(outcomes, hostEntries(outcomes)));
    assert.deepEqual(table.columns, ['HÔTE', 'RÉSULTAT', 'VÉRIFIÉ']);
    assert.deepEqual(table.rows, [
      ['pve1', 'modifierait :\nx', '-'],
      ['pve2', 'inchangé', '-'],
    ]);
    assert.deepEqual(await inFrenchAsync(() => outcomes.map((o) => summarise(o.value))), [
      'modifierait (1)',
      'inchangé',
    ]);
  });
});
