// A host at several addresses, one per internet link, on the lab: the bastion's LAN address
// (198.18.k.1) is unreachable from this machine, a real dead first address; a lab host whose sshd
// is stopped refuses; another lab host's address leads to another machine, with another key.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv, variantInventory } from './chaton.js';

let lab: Lab;
let env: NodeJS.ProcessEnv;
/** The bastion's LAN address, which this machine cannot reach, and its outside one. */
let dead: string;
let outside: string;

before(async () => {
  lab = await freshLab('it-addresses', 3);
  env = await sandboxEnv();
  dead = `198.18.${lab.index}.1`;
  outside = lab.bastion.address;
});
after(async () => {
  await lab?.down();
});

const escaped = (text: string) => text.replaceAll('.', '\\.').replaceAll('(', '\\(').replaceAll(')', '\\)');
const addressOf = (host: string) => lab.hosts.find((h) => h.name === host)!.address;

/** The lab's inventory with the bastion at `addresses`, in that order. */
function bastionAt(...addresses: string[]): Promise<string> {
  return variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['bastion', 'address'], doc.createNode(addresses, { flow: true }));
    doc.setIn(['ssh', 'connect_timeout'], 2);
  });
}

/**
 * The lab's inventory with host002 at `addresses`, one of them host003's, as the address of
 * another link could lead to another machine: host003 is left out, and so is its known_hosts line.
 */
async function host002At(...addresses: string[]): Promise<string> {
  const knownHosts = path.join(env.HOME!, 'known_hosts.addresses');
  const lines = (await readFile(lab.knownHostsPath, 'utf8')).split('\n');
  await writeFile(knownHosts, lines.filter((line) => !line.startsWith(`${addressOf('host003')} `)).join('\n'));
  return variantInventory(lab.inventoryPath, (doc) => {
    doc.deleteIn(['hosts', 'host003']);
    doc.setIn(['groups', 'extras'], doc.createNode(['host001', 'host002'], { flow: true }));
    doc.setIn(['hosts', 'host002', 'address'], doc.createNode(addresses, { flow: true }));
    doc.setIn(['ssh', 'known_hosts'], knownHosts);
  });
}

describe('a host at several addresses', () => {
  it("leaves the bastion's dead first address for the next: hosts check works and says which answered", async () => {
    const inventory = await bastionAt(dead, outside);
    const run = await chaton(['-i', inventory, '-vv', 'hosts', 'check', 'bastion,all'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`ssh: bastion \\(${escaped(dead)}:22\\): left: .*; trying ${escaped(outside)} next`),
    );
    assert.match(run.stderr, new RegExp(`ssh: bastion \\(${escaped(outside)}:22\\): reached: TCP connection`));
    // -vv shows the hosts' output too: the row is the one in the table.
    assert.match(run.stdout, new RegExp(`^bastion +${escaped(outside)} +direct +`, 'm'));

    const json = await chaton(['-i', inventory, '--json', 'hosts', 'check', 'bastion,all'], { env });
    assert.equal(json.code, 0, json.stderr);
    const [bastion, ...hosts] = JSON.parse(json.stdout).hosts;
    assert.deepEqual(
      [bastion.address, bastion.addresses, bastion.addressUsed, bastion.ok],
      [dead, [dead, outside], outside, true],
    );
    assert.equal(hosts.length, lab.hosts.length);
    for (const host of hosts) assert.deepEqual([host.ok, host.addressUsed], [true, host.address]);

    const doctor = await chaton(['-i', inventory, '--json', 'doctor', '--reach'], { env });
    assert.equal(doctor.code, 0, doctor.stdout);
    const reached = JSON.parse(doctor.stdout).hosts.find((h: { host: string }) => h.host === 'bastion');
    assert.equal(reached.addressUsed, outside);

    const show = await chaton(['-i', inventory, '--json', 'inventory', 'show', 'bastion'], { env });
    const [shown] = JSON.parse(show.stdout).hosts;
    assert.deepEqual([shown.address, shown.addresses], [dead, [dead, outside]]);
  });

  it('leaves a first address that refuses (sshd stopped there) for the next one', async () => {
    const inventory = await host002At(addressOf('host003'), addressOf('host002'));
    await lab.stopSshd('host003');
    try {
      const run = await chaton(['-i', inventory, '-vv', '--json', 'hosts', 'check', 'host002'], { env });
      assert.equal(run.code, 0, run.stderr);
      const host003 = escaped(addressOf('host003'));
      assert.match(run.stderr, new RegExp(`ssh: host002 \\(${host003}:22\\) via bastion: left: .*refused.*; trying`));
      const [host002] = JSON.parse(run.stdout).hosts;
      assert.equal(host002.addressUsed, addressOf('host002'));
    } finally {
      await lab.startSshd('host003');
    }
  });

  it('stops at another key on the next address, naming both, and runs nothing', async () => {
    // host002's own address refuses; the next one leads to host003, another machine.
    const inventory = await host002At(addressOf('host002'), addressOf('host003'));
    await lab.stopSshd('host002');
    try {
      const marker = '/root/chaton-addresses-marker';
      const run = await chaton(['-i', inventory, '--json', '-y', 'exec', 'host002', '--', `touch ${marker}`], { env });
      assert.equal(run.code, 5, run.stderr);
      const [host002] = JSON.parse(run.stdout).hosts;
      const changed =
        /^HOST KEY CHANGED for host002 \(\S+:22\): it offered ED25519 key (\S+), but known_hosts has ED25519 key (\S+) /;
      const [, offered, known] = changed.exec(host002.error.message) ?? [];
      assert.ok(offered && known && offered !== known, host002.error.message);
      assert.match(
        host002.error.message,
        new RegExp(`^HOST KEY CHANGED for host002 \\(${escaped(addressOf('host003'))}:22`),
      );
      for (const host of ['host002', 'host003']) {
        assert.notEqual((await lab.run(host, ['test', '-e', marker])).exitCode, 0, `${host} ran the command`);
      }
    } finally {
      await lab.startSshd('host002');
    }
  });

  it('names every address tried when none answers, exit 5 before any host', async () => {
    const unused = `198.18.${lab.index}.250`;
    const run = await chaton(['-i', await bastionAt(dead, unused), 'hosts', 'check', 'all'], { env });
    assert.equal(run.code, 5, run.stderr);
    const tried = `bastion \\(${escaped(dead)}:22\\): .*; bastion \\(${escaped(unused)}:22\\): `;
    assert.match(run.stderr, new RegExp(`bastion: none of its addresses answered: ${tried}`));
    assert.doesNotMatch(run.stdout, /^host001 /m);
  });
});
