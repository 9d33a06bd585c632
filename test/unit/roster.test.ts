// The roster writer on real files: only the list under `sysadmins:` changes, comments stay,
// nothing is written when nothing changes, and concurrent saves both land.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchFiles } from './scratch-files.js';
import { UsageError } from '../../src/lib/run/errors.js';
import { sysadminsOf } from '../../src/lib/access/inventory.js';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { loadInventory } from '../../src/lib/inventory/load.js';
import { registerSections } from '../../src/lib/inventory/sections.js';
import { removeSysadmin, type RosterEntry, saveSysadmin } from '../../src/lib/access/roster.js';

// Compiled to dist/test/unit: the example stays in the source tree.
const EXAMPLE = fileURLToPath(new URL('../../../inventory.example.yaml', import.meta.url));

// The roster is saved in an inventory read with every domain's sections, as the chaton command reads it.
registerSections(INVENTORY_SECTIONS);

const ALICE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIInAK5GX0Du3o4JinW8NIu6LRAKSvEgZxiDPIVAkI81J alice@laptop';
const BOB_KEY =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJZIr7fHeholuY0z72zW2HYzJm4MDxZikyHCP2HuM2nieHq65qnIFwwhbYw/P1zvhO7iDYYb9RkWFkOTVEIJc+Q= bob@desk';
const CAROL_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtyAY4txLuqtsa5ekXqJwC/k6suOWOYbTvRnGXV7W8T carol@phone';

/** A key line as long as a 4096-bit RSA one: type, exponent and modulus, each length-prefixed. */
function longRsaKey(comment: string): string {
  const field = (bytes: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const modulus = Buffer.concat([Buffer.from([0]), randomBytes(512)]);
  return `ssh-rsa ${Buffer.concat([field(Buffer.from('ssh-rsa')), field(Buffer.from([1, 0, 1])), field(modulus)]).toString('base64')} ${comment}`;
}

const SITE = `# The site.
hosts:
  pve1: { address: 10.0.0.11, direct: true } # flow, padded: stays as written

# Who administers it.
sysadmins: # the roster
  # founders first
  - login: alice # since 2019
    name: Alice
    keys:
      - ${ALICE_KEY} # her laptop
    sudo: true

  # then the others
  - login: bob
    keys: [${BOB_KEY}]
    sudo: false
  # end of the roster

# Rotated when someone leaves.
secrets:
  restic-passphrase: in the password manager
`;

const CAROL: RosterEntry = {
  login: 'carol',
  name: 'Carol',
  keys: [CAROL_KEY],
  sudo: false,
  groups: ['adm', 'backup'],
  expires: '2027-01-31',
};
const CAROL_TEXT = `  - login: carol
    name: Carol
    keys:
      - ${CAROL_KEY}
    sudo: false
    groups: [adm, backup]
    expires: 2027-01-31
`;

describe('saveSysadmin and removeSysadmin', () => {
  const scratch = scratchFiles('chaton-roster-');
  const inventoryFile = (text: string) => scratch.file(text);

  it('adds a sysadmin to the example and changes nothing else, comments and layout included', async () => {
    const file = path.join(scratch.directory, 'example.yaml');
    await copyFile(EXAMPLE, file);
    const original = await readFile(file, 'utf8');
    const entry: RosterEntry = {
      login: 'bob',
      email: 'bob@example.org',
      keys: [BOB_KEY],
      sudo: false,
      groups: [],
      proxmoxRole: 'PVEAuditor',
    };
    assert.equal(await saveSysadmin(file, entry), 'added');
    const bobText = `  - login: bob\n    email: bob@example.org\n    keys:\n      - ${BOB_KEY}\n    sudo: false\n    proxmox_role: PVEAuditor\n`;
    const lastLineOfCamille = '    expires: 2026-12-31\n';
    assert.equal(await readFile(file, 'utf8'), original.replace(lastLineOfCamille, `${lastLineOfCamille}${bobText}`));
    const [camille, bob] = sysadminsOf(await loadInventory(file));
    assert.deepEqual(camille?.keys, sysadminsOf(await loadInventory(EXAMPLE))[0]?.keys);
    assert.deepEqual(bob, { ...entry, source: bob?.source });
  });

  it('keeps the comments in and around the list when adding and updating', async () => {
    const file = await inventoryFile(SITE);
    assert.equal(await saveSysadmin(file, CAROL), 'added');
    const withCarol = SITE.replace('    sudo: false\n  # end', `    sudo: false\n${CAROL_TEXT}  # end`);
    assert.equal(await readFile(file, 'utf8'), withCarol);

    const alice = { login: 'alice', name: 'Alice Martin', keys: [ALICE_KEY, CAROL_KEY], sudo: true, groups: [] };
    assert.equal(await saveSysadmin(file, alice), 'updated');
    const updated = withCarol
      .replace('    name: Alice\n', '    name: Alice Martin\n')
      .replace(`      - ${ALICE_KEY} # her laptop\n`, `      - ${ALICE_KEY} # her laptop\n      - ${CAROL_KEY}\n`);
    assert.equal(await readFile(file, 'utf8'), updated);
  });

  it('replaces an entry in place, in the order and style of the example', async () => {
    const file = await inventoryFile(SITE);
    const bob = {
      login: 'bob',
      name: 'Bob',
      keys: [BOB_KEY],
      sudo: true,
      groups: ['adm'],
      proxmoxRole: 'PVEAdmin',
      expires: '2026-06-30',
    };
    assert.equal(await saveSysadmin(file, bob), 'updated');
    const text = await readFile(file, 'utf8');
    assert.ok(
      text.includes(
        `  - login: bob\n    name: Bob\n    keys: [${BOB_KEY}]\n    sudo: true\n    groups: [adm]\n    proxmox_role: PVEAdmin\n    expires: 2026-06-30\n  # end of the roster\n`,
      ),
      text,
    );
    assert.deepEqual(
      sysadminsOf(await loadInventory(file)).map((sysadmin) => sysadmin.login),
      ['alice', 'bob'],
    );
  });

  it('writes nothing when the entry is already there as given', async () => {
    const file = await inventoryFile(SITE);
    const { ino, mtimeMs } = await stat(file);
    // bob is written without the default sudo, and a key read from a .pub file ends with a line
    // break: the same entry, nothing to write.
    assert.equal(
      await saveSysadmin(file, { login: 'bob', keys: [`${BOB_KEY}\n`], sudo: false, groups: [] }),
      'unchanged',
    );
    assert.equal(await readFile(file, 'utf8'), SITE);
    assert.deepEqual(await stat(file).then((after) => [after.ino, after.mtimeMs]), [ino, mtimeMs]);
  });

  it('keeps the comment above a removed entry, and the empty line above it', async () => {
    const file = await inventoryFile(SITE);
    const bobLines = `  - login: bob\n    keys: [${BOB_KEY}]\n    sudo: false\n`;
    await saveSysadmin(file, CAROL);
    assert.equal(await removeSysadmin(file, 'bob'), 'removed');
    assert.equal(await readFile(file, 'utf8'), SITE.replace(bobLines, CAROL_TEXT));
    assert.equal(await removeSysadmin(file, 'carol'), 'removed');
    assert.equal(await readFile(file, 'utf8'), SITE.replace(bobLines, ''));
  });

  it('removes an entry and keeps the others and every comment', async () => {
    const file = await inventoryFile(SITE);
    assert.equal(await removeSysadmin(file, 'alice'), 'removed');
    const withoutAlice = SITE.replace(
      `  - login: alice # since 2019\n    name: Alice\n    keys:\n      - ${ALICE_KEY} # her laptop\n    sudo: true\n`,
      '',
    );
    assert.equal(await readFile(file, 'utf8'), withoutAlice);

    assert.equal(await removeSysadmin(file, 'alice'), 'absent');
    assert.equal(await readFile(file, 'utf8'), withoutAlice);
    assert.equal(await removeSysadmin(file, 'bob'), 'removed');
    const empty = withoutAlice.replace(`  - login: bob\n    keys: [${BOB_KEY}]\n    sudo: false\n`, '');
    assert.equal(await readFile(file, 'utf8'), empty);
    assert.deepEqual(sysadminsOf(await loadInventory(file)), []);

    assert.equal(await saveSysadmin(file, CAROL), 'added');
    assert.equal(
      await readFile(file, 'utf8'),
      empty.replace('sysadmins: # the roster\n', `sysadmins: # the roster\n${CAROL_TEXT}`),
    );
  });

  it('creates the section at the end of a file without one', async () => {
    const file = await inventoryFile('hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n');
    assert.equal(await saveSysadmin(file, CAROL), 'added');
    assert.equal(
      await readFile(file, 'utf8'),
      `hosts:\n  pve1: { address: 10.0.0.11, direct: true }\n\nsysadmins:\n${CAROL_TEXT}`,
    );
  });

  it('fills `sysadmins: []` and keeps its comment on the key line', async () => {
    const file = await inventoryFile(
      'hosts:\n  pve1: { address: 10.0.0.11, direct: true }\nsysadmins: [] # nobody yet\nsecrets: {}\n',
    );
    assert.equal(await saveSysadmin(file, CAROL), 'added');
    assert.equal(
      await readFile(file, 'utf8'),
      `hosts:\n  pve1: { address: 10.0.0.11, direct: true }\nsysadmins: # nobody yet\n${CAROL_TEXT}secrets: {}\n`,
    );
  });

  it('lets concurrent saves of two sysadmins both land', async () => {
    const file = await inventoryFile(SITE);
    const dave = { ...CAROL, login: 'dave' };
    assert.deepEqual(
      await Promise.all([saveSysadmin(file, CAROL), saveSysadmin(file, dave), removeSysadmin(file, 'bob')]),
      ['added', 'added', 'removed'],
    );
    const logins = sysadminsOf(await loadInventory(file)).map((sysadmin) => sysadmin.login);
    assert.deepEqual([...logins].sort(), ['alice', 'carol', 'dave']);
    assert.deepEqual(
      (await readdir(scratch.directory)).filter((name) => name.endsWith('.lock') || name.endsWith('.tmp')),
      [],
    );
  });

  it('never folds a long key line', async () => {
    const file = await inventoryFile(SITE);
    const longKey = longRsaKey('carol@an-old-laptop-with-a-long-host-name.example.org');
    assert.ok(longKey.length > 700);
    await saveSysadmin(file, { ...CAROL, keys: [longKey] });
    assert.ok((await readFile(file, 'utf8')).includes(`\n      - ${longKey}\n`));
    assert.deepEqual(sysadminsOf(await loadInventory(file)).find((sysadmin) => sysadmin.login === 'carol')?.keys, [
      longKey,
    ]);
  });

  it('keeps the mode of the file', async () => {
    const file = await inventoryFile(SITE);
    await chmod(file, 0o640);
    await saveSysadmin(file, CAROL);
    assert.equal((await stat(file)).mode & 0o7777, 0o640);
  });

  it('refuses a file that no longer parses, and writes nothing', async () => {
    const broken = `${SITE}hosts: [\n`;
    const file = await inventoryFile(broken);
    await assert.rejects(
      saveSysadmin(file, CAROL),
      (error: unknown) => error instanceof UsageError && error.message.includes(`${file}:`) && Boolean(error.hint),
    );
    assert.equal(await readFile(file, 'utf8'), broken);
  });

  it('refuses an entry the inventory would not accept, and writes nothing', async () => {
    const file = await inventoryFile(SITE);
    await assert.rejects(saveSysadmin(file, { ...CAROL, login: 'Carol.M' }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /sysadmins\[2\]\.login: must be a Unix user name, got "Carol\.M"/);
      assert.match(error.hint ?? '', /nothing was written/);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), SITE);
  });
});
