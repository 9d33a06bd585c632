// inventory init's imports: an OpenSSH client config and Ansible inventories, shaped as real
// ones are (wildcard blocks, Match, Include, nested groups, host ranges), become inventories
// that load.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INVENTORY_SECTIONS } from '../../src/lib/domains.js';
import { expandHostRange, importAnsible } from '../../src/lib/inventory/import-ansible.js';
import { importSshConfig, readSshConfigFiles, sshConfigLines } from '../../src/lib/inventory/import-ssh-config.js';
import { importedInventory } from '../../src/lib/inventory/import-write.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import { UsageError } from '../../src/lib/run/errors.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/import/', import.meta.url));
const HOME = path.join(FIXTURES, 'home');
const load = (text: string) => parseInventory(text, path.join(FIXTURES, 'written.yaml'), INVENTORY_SECTIONS);

describe('--from-ssh-config', () => {
  it('literal Host blocks become hosts, with the values ssh would use; Include is followed', async () => {
    const site = importSshConfig(await readSshConfigFiles(path.join(HOME, '.ssh/config'), HOME));
    const hosts = site.hosts.map(({ name, address, user, port }) => ({ name, address, user, port }));
    assert.deepEqual(hosts, [
      { name: 'vm-web', address: '10.0.1.10', user: 'sysop', port: undefined },
      { name: 'vm-web.lan', address: '10.0.1.10', user: 'admin', port: undefined },
      { name: 'vm-mail.lan', address: '10.0.1.11', user: 'admin', port: undefined },
      { name: 'bastion', address: '203.0.113.10', user: 'chaton', port: 2222 },
      { name: 'pve1', address: '10.0.0.11', user: 'sysop', port: undefined },
      { name: 'pve2', address: '10.0.0.12', user: 'root', port: undefined },
      { name: 'offsite', address: 'backup.example.org', user: 'borg', port: 2222 },
    ]);
    assert.deepEqual(site.defaults, { user: 'sysop' });
    assert.match(site.notes.join('\n'), /Match host \*\.example\.org .*:23\): skipped/);
    assert.match(site.notes.join('\n'), /Host \*\.lan .*not a host/);
  });

  it('writes the bastion most hosts jump through, direct hosts, comments; the result loads', async () => {
    const text = importedInventory(importSshConfig(await readSshConfigFiles(path.join(HOME, '.ssh/config'), HOME)));
    assert.match(
      text,
      new RegExp(
        '^bastion:\n {2}# Guessed: the ProxyJump most hosts use\\.\n {2}name: bastion\n' +
          ' {2}address: 203\\.0\\.113\\.10\n {2}port: 2222',
        'm',
      ),
    );
    assert.match(text, /# no ProxyJump: reached directly\n {2}offsite:\n(.*\n){3} {4}direct: true/);
    assert.match(text, /# vm-web\.lan left out: same address and port as vm-web/);
    const inventory = load(text);
    assert.deepEqual(
      inventory.hosts.map((h) => [h.name, h.user, h.via.map((v) => v.name)]),
      [
        ['vm-web', 'sysop', ['bastion']],
        ['vm-mail.lan', 'admin', ['bastion']],
        ['pve1', 'sysop', ['bastion']],
        ['pve2', 'root', ['bastion']],
        ['offsite', 'borg', []],
      ],
    );
  });

  it('takes a [ in a Host pattern literally, and `Host * !x` is not every host', () => {
    const text = 'Host * !legacy\n  User sysop\nHost web[1]\n  HostName 10.0.0.1\nHost legacy\n  HostName 10.0.0.2\n';
    const lines = new Map([['/x/config', sshConfigLines(text, '/x/config')]]);
    const site = importSshConfig({ main: '/x/config', lines, included: new Map() });
    assert.deepEqual(
      site.hosts.map(({ name, user }) => [name, user]),
      [
        ['web[1]', 'sysop'],
        ['legacy', undefined],
      ],
    );
    assert.deepEqual(site.defaults, {});
  });

  it('a bad Port is an error at its file:line:col', () => {
    const lines = sshConfigLines('Host a\n  Port 99999\n', '/x/config');
    const files = { main: '/x/config', lines: new Map([['/x/config', lines]]), included: new Map() };
    assert.throws(
      () => importSshConfig(files),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.message, '/x/config:2:3: Port 99999');
        return true;
      },
    );
  });
});

describe('--from-ansible', () => {
  const fixture = (name: string) => {
    const file = path.join(FIXTURES, name);
    return importAnsible(readFileSync(file, 'utf8'), file);
  };

  it('expands host ranges: numbers with their width, letters, steps', () => {
    const fail = (message: string) => new Error(message);
    assert.deepEqual(expandHostRange('web[01:03].lan', fail), ['web01.lan', 'web02.lan', 'web03.lan']);
    assert.deepEqual(expandHostRange('db-[a:c]', fail), ['db-a', 'db-b', 'db-c']);
    assert.deepEqual(expandHostRange('n[0:6:3]', fail), ['n0', 'n3', 'n6']);
    assert.throws(() => expandHostRange('n[5:1]', fail), /host range \[5:1\] is not one/);
  });

  it('INI: groups, [group:children], vars by depth, host:port, become; the result loads', () => {
    const site = fixture('hosts.ini');
    assert.deepEqual(site.groups.find((g) => g.name === 'infrastructure')?.children, ['hypervisors', 'vms']);
    const inventory = load(importedInventory(site));
    assert.deepEqual(
      inventory.bastions.map((b) => [b.name, ...b.addresses, b.user]),
      [['bastion.example.org', '203.0.113.10', 'chaton']],
    );
    const hosts = inventory.hosts.map((h) => [h.name, ...h.addresses, h.port, h.user, h.become]);
    assert.deepEqual(hosts, [
      ['pve1', 'pve1', 22, 'root', null],
      ['pve2', 'pve2', 22, 'root', null],
      ['pve3', 'pve3', 22, 'root', null],
      ['web01.lan', 'web01.lan', 22, 'admin', 'sudo'],
      ['web02.lan', 'web02.lan', 22, 'admin', 'sudo'],
      ['mail.lan', '10.0.1.11', 2222, 'admin', 'sudo'],
    ]);
    assert.deepEqual(
      inventory.groups.get('infrastructure'),
      hosts.map((h) => h[0]),
    );
  });

  it('YAML: nested children, -J in ansible_ssh_common_args; the result loads', () => {
    const inventory = load(importedInventory(fixture('hosts.yaml')));
    assert.deepEqual(
      inventory.bastions.map((b) => [b.name, ...b.addresses]),
      [['jump', '203.0.113.10']],
    );
    assert.deepEqual(
      inventory.hosts.map((h) => [h.name, h.via.length]),
      [
        ['pve1', 1],
        ['pve2', 1],
        ['offsite', 0],
      ],
    );
  });

  it('--bastion replaces the guessed bastion; the jump host guessed stays a host', () => {
    const inventory = load(importedInventory(fixture('hosts.yaml'), '198.51.100.7'));
    assert.deepEqual(
      inventory.bastions.map((b) => [b.name, ...b.addresses]),
      [['bastion', '198.51.100.7']],
    );
    assert.ok(inventory.hosts.some((h) => h.name === 'jump' && h.addresses[0] === '203.0.113.10'));
  });

  it('INI: a [gw] group holding only the jump host gw is left out, with a note; the result loads', () => {
    const ini = [
      '[gw]',
      'gw ansible_host=203.0.113.1',
      '[web]',
      'web1 ansible_host=10.0.0.1',
      'web2 ansible_host=10.0.0.2',
      '[web:vars]',
      "ansible_ssh_common_args='-o ProxyJump=gw'",
      '',
    ].join('\n');
    const text = importedInventory(importAnsible(ini, '/x/hosts'));
    const inventory = load(text);
    assert.match(text, /^# group gw left out: it holds only the bastion gw, and a bastion is in no group/m);
    assert.deepEqual(
      inventory.bastions.map((b) => [b.name, ...b.addresses]),
      [['gw', '203.0.113.1']],
    );
    assert.deepEqual([...inventory.groups], [['web', ['web1', 'web2']]]);
  });

  it('YAML: a bastion group holding only the jump host bastion is left out, with a note; the result loads', () => {
    const yaml = [
      'all:',
      '  children:',
      '    bastion:',
      '      hosts:',
      '        bastion: { ansible_host: 203.0.113.10 }',
      '    pve:',
      '      vars: { ansible_ssh_common_args: -o ProxyJump=bastion }',
      '      hosts:',
      '        pve1: { ansible_host: 10.0.0.11 }',
      '        pve2: { ansible_host: 10.0.0.12 }',
      '',
    ].join('\n');
    const text = importedInventory(importAnsible(yaml, '/x/hosts.yaml'));
    const inventory = load(text);
    assert.match(text, /^# group bastion left out: it holds only the bastion bastion/m);
    assert.deepEqual(
      inventory.bastions.map((b) => b.name),
      ['bastion'],
    );
    assert.deepEqual([...inventory.groups], [['pve', ['pve1', 'pve2']]]);
  });

  it('a group left with only a group left out is left out too; its parents keep their other members', () => {
    const ini =
      '[gw]\ngw\n[edge:children]\ngw\n[dmz:children]\nedge\nweb\n[web]\nweb1 ansible_ssh_common_args="-J gw"\n';
    const text = importedInventory(importAnsible(ini, '/x/hosts'));
    assert.match(text, /^# group edge left out: it holds only the bastion gw/m);
    assert.deepEqual(
      [...load(text).groups],
      [
        ['web', ['web1']],
        ['dmz', ['web1']],
      ],
    );
  });

  it('INI: a group named as the bastion or a host becomes <name>-group, with a comment, and keeps its members', () => {
    const ini = [
      '[bastion]',
      'bastion ansible_host=203.0.113.1',
      "backup ansible_host=203.0.113.2 ansible_ssh_common_args=''",
      '[web]',
      'web ansible_host=10.0.0.1',
      'web2 ansible_host=10.0.0.2',
      '[front:children]',
      'web',
      'bastion',
      '[all:vars]',
      "ansible_ssh_common_args='-o ProxyJump=bastion'",
      '',
    ].join('\n');
    const text = importedInventory(importAnsible(ini, '/x/hosts'));
    const comments = [
      '  # group bastion in the source, renamed: bastion is already the name of the bastion ' +
        '(hosts, groups and bastions share one set of names)',
      '  # the bastion bastion left out of this group: a bastion is in no group (target it by name)',
      '  bastion-group: [backup]',
      '  # group web in the source, renamed: web is already the name of the host ' +
        '(hosts, groups and bastions share one set of names)',
      '  web-group: [web, web2]',
      '  front: [web-group, bastion-group]',
    ];
    assert.ok(text.includes(comments.join('\n')), text);
    const inventory = load(text);
    assert.deepEqual(
      inventory.bastions.map((b) => b.name),
      ['bastion'],
    );
    assert.deepEqual(inventory.groups.get('front'), ['backup', 'web', 'web2']);
  });

  it('--bastion: the jump host bastion stays a host, its group is renamed, the bastion named bastion-2', () => {
    const ini = '[bastion]\nbastion ansible_host=203.0.113.1\n[pve]\npve1 ansible_ssh_common_args="-J bastion"\n';
    const text = importedInventory(importAnsible(ini, '/x/hosts'), '198.51.100.7');
    const inventory = load(text);
    assert.match(text, /^ {2}# named bastion-2: bastion is already the name of the host\n {2}name: bastion-2$/m);
    assert.deepEqual(
      inventory.bastions.map((b) => [b.name, ...b.addresses]),
      [['bastion-2', '198.51.100.7']],
    );
    assert.deepEqual(inventory.groups.get('bastion-group'), ['bastion']);
  });

  it('INI: a # outside quotes starts a comment, as in Ansible', () => {
    const site = importAnsible("[web]\nweb1 ansible_host=10.0.0.1  # primary\nweb2 ansible_user='a # b'\n", '/x/hosts');
    assert.deepEqual(
      site.hosts.map(({ name, address, user }) => [name, address, user]),
      [
        ['web1', '10.0.0.1', undefined],
        ['web2', 'web2', 'a # b'],
      ],
    );
  });

  it('a host reached through a ProxyCommand is never written as reached directly', () => {
    const proxied = `[web]\nweb1 ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p gw"'\n`;
    const [web1] = importAnsible(proxied, '/x/hosts').hosts;
    assert.equal(web1!.jumps, undefined);
    assert.doesNotMatch(importedInventory(importAnsible(proxied, '/x/hosts')), /direct: true/);
  });

  it('a bad line is an error at its file:line:col', () => {
    assert.throws(
      () => importAnsible('[web]\nweb1\n[web:vars]\njunk\n', '/x/hosts'),
      /^UsageError: \/x\/hosts:4:1: "junk" is not a key=value/,
    );
  });
});
