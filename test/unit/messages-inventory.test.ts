// The inventory's messages in French: its problems keep their `file:line:col:` and positions, the
// kinds of values say what they must be in the language of the moment, and the comments of a
// written inventory are French while its keys stay chaton's.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { nameKind, posixNameKind } from '../../src/lib/inventory/kinds.js';
import { importAnsible } from '../../src/lib/inventory/import-ansible.js';
import { sshConfigLines } from '../../src/lib/inventory/import-ssh-config.js';
import { importedInventory } from '../../src/lib/inventory/import-write.js';
import { starterInventory } from '../../src/lib/inventory/init.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import { InventoryError } from '../../src/lib/inventory/reader.js';
import { resolveTargets } from '../../src/lib/inventory/targets.js';
import { UsageError } from '../../src/lib/run/errors.js';

const BROKEN = [
  'ssh:',
  '  agent: yes',
  '  conect_timeout: 5',
  'bastion: { address: 203.0.113.10 }',
  'hosts:',
  '  pve1:',
  '    address: 10.0.0.11',
  '    port: 99999',
  '  pve2:',
  '    port: 22',
  'groups:',
  '  web: [pve1, pve3]',
  '',
].join('\n');

/** The error parseInventory throws on `text`, read without any domain's section. */
function inventoryError(text: string): InventoryError {
  try {
    parseInventory(text, '/srv/chaton/inventory.yaml', []);
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  assert.fail('the inventory was read without a problem');
}

/** The UsageError `action` throws. */
function usageError(action: () => unknown): UsageError {
  try {
    action();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  assert.fail('no UsageError was thrown');
}

describe('the inventory in French', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['LC_ALL'];
    process.env['LC_ALL'] = 'fr_FR.UTF-8';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['LC_ALL'];
    else process.env['LC_ALL'] = saved;
  });

  it('says every problem in French, at the same file:line:col, with what to do', () => {
    const error = inventoryError(BROKEN);
    assert.deepEqual(error.message.split('\n'), [
      '/srv/chaton/inventory.yaml:2:10: ssh.agent : doit être true ou false, trouvé : "yes" ' +
        '(écrivez true ou false sans guillemets)',
      '/srv/chaton/inventory.yaml:3:3: ssh.conect_timeout : clé inconnue "conect_timeout" ' +
        '(vouliez-vous dire "connect_timeout" ?)',
      '/srv/chaton/inventory.yaml:8:11: hosts.pve1.port : doit être un numéro de port de 1 à 65535, trouvé : 99999 ' +
        '(le port où écoute sshd, en général 22, écrit sans guillemets)',
      '/srv/chaton/inventory.yaml:9:3: hosts.pve2 : il manque la clé address ' +
        '(ajoutez `address:` avec son adresse IP ou son nom DNS)',
      '/srv/chaton/inventory.yaml:12:15: groups.web[1] : "pve3" n\'est ni un hôte ni un groupe ' +
        '(vouliez-vous dire "pve1" ?)',
    ]);
    assert.match(error.hint ?? '', /^corrigez ces 5 problèmes ; \S+inventory\.example\.yaml documente chaque clé$/);
  });

  it('finds the same problems at the same places as in English', () => {
    const french = inventoryError(BROKEN).problems;
    process.env['LC_ALL'] = 'C.UTF-8';
    const english = inventoryError(BROKEN).problems;
    assert.equal(english[0]?.message, 'must be true or false, got "yes"');
    const where = (problems: typeof french) => problems.map(({ position, path }) => ({ position, path }));
    assert.deepEqual(where(french), where(english));
  });

  it('reads the texts of a kind when a problem is reported, not when the kind was made', () => {
    assert.equal(nameKind.expected, 'un nom valide');
    assert.equal(posixNameKind('group').expected, 'un nom de groupe Unix');
    process.env['LC_ALL'] = 'C';
    assert.equal(nameKind.expected, 'a valid name');
  });

  it('says a wrong name on two machines, or at two addresses, with the right article', () => {
    const text = [
      'bastion: { name: gw, address: 10.0.0.1 }',
      'hosts:',
      '  pve1: { address: 10.0.0.1 }',
      '  gw: { address: 10.0.0.2, direct: true }',
      '',
    ].join('\n');
    const messages = inventoryError(text).problems.map((problem) => problem.message);
    assert.deepEqual(messages, [
      '10.0.0.1, port 22, est déjà l\'adresse du bastion "gw" à la ligne 1',
      '"gw" est déjà le nom du bastion à la ligne 1',
    ]);
  });

  it('says an unknown target, with a suggestion, in French', () => {
    const inventory = parseInventory('hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n', '/x/inv.yaml', []);
    const error = usageError(() => resolveTargets(inventory, 'pve1,pve2,zzz'));
    assert.equal(error.message, 'cibles inconnues "pve2" (vouliez-vous dire "pve1" ?), "zzz"');
    assert.equal(error.hint, '`chaton inventory show` liste les hôtes, bastions, groupes et rôles');
  });

  it('keeps the file:line:col of a problem in a file read for an import', () => {
    const error = usageError(() => sshConfigLines('Host a\n  = 2\n', '/x/config'));
    assert.equal(error.message, '/x/config:2:3: pas une ligne `MotClé valeur`');
    assert.equal(error.hint, "telle que l'écrit ssh_config(5)");
  });

  it('writes the comments of an imported inventory in French, its keys as they are; it loads', () => {
    const site = importAnsible(
      "[pve]\npve1 ansible_host=10.0.0.11 ansible_ssh_common_args='-J gw'\npve2\n[jump]\ngw ansible_host=203.0.113.10\n",
      '/x/hosts',
    );
    const text = importedInventory(site);
    assert.match(text, /^# Écrit par `chaton inventory init` à partir de \/x\/hosts\.\n# Deviné, à vérifier : /);
    assert.match(text, /^bastion:\n {2}# Deviné : le ProxyJump qu'utilisent la plupart des hôtes\.\n {2}name: gw$/m);
    const pve2 = [
      "  # pas d'ansible_host : son nom est son adresse",
      '  # pas de ProxyJump : joint directement',
      '  pve2:',
      '    address: pve2',
      '    direct: true',
    ];
    assert.ok(text.includes(pve2.join('\n')), text);
    const inventory = parseInventory(text, '/x/imported.yaml', []);
    assert.deepEqual(
      inventory.hosts.map((host) => host.name),
      ['pve1', 'pve2'],
    );
  });

  it('heads a starter inventory with French comments', () => {
    const text = starterInventory('bastion:\n  address: 192.0.2.1\nhosts: {}\n', '/usr/share/example.yaml', undefined);
    assert.equal(
      text,
      [
        '# Écrit par `chaton inventory init` à partir de /usr/share/example.yaml.',
        "# Les hôtes, groupes, sysadmins et secrets ci-dessous sont ceux de l'exemple : remplacez-les par les vôtres.",
        '# Remplissez bastion.address : `chaton inventory check` montre ce qui reste.',
        'bastion:',
        '  address: ',
        'hosts: {}',
        '',
      ].join('\n'),
    );
  });
});
