// Proves the lab itself: isolation of hosts, reachability, syslog, the supervisor's controls, and
// that `down` leaves nothing behind, after a crash too. Needs root (npm test refuses to run without it).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { labAttach, labDown, labUp, type Lab } from '../lab/lab.js';
import { waitUntil } from '../lab/parallel.js';
import { INDEX_DIR, namespacePrefix, rootVethName, type LabState } from '../lab/topology.js';

/** Where the bastion keeps the operator's key and the lab's known_hosts (its /run hides the lab's). */
const BASTION_KEY = '/root/.ssh/lab_operator_key';
const BASTION_KNOWN_HOSTS = '/root/.ssh/lab_known_hosts';

/** Whether a TCP connection from the root namespace opens, is refused, or gets no answer. */
function tcpProbe(address: string, port = 22, timeoutMs = 1000): Promise<'open' | 'refused' | 'unreachable'> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: timeoutMs });
    const settle = (result: 'open' | 'refused' | 'unreachable'): void => {
      socket.destroy();
      resolve(result);
    };
    socket.on('connect', () => settle('open'));
    socket.on('timeout', () => settle('unreachable'));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      settle(error.code === 'ECONNREFUSED' ? 'refused' : 'unreachable'),
    );
  });
}

function addressOf(lab: Lab, host: string): string {
  const found = lab.hosts.find((candidate) => candidate.name === host);
  assert.ok(found, `no host ${host}`);
  return found.address;
}

async function sshFromBastion(lab: Lab, address: string, command: string) {
  return lab.run('bastion', [
    ...['ssh', '-i', BASTION_KEY, '-o', `UserKnownHostsFile=${BASTION_KNOWN_HOSTS}`],
    ...['-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2'],
    `root@${address}`,
    command,
  ]);
}

/** From inside the bastion: does the host's port 22 accept, refuse, or not answer? */
async function probeFromBastion(lab: Lab, address: string): Promise<string> {
  const { exitCode, stderr } = await lab.run('bastion', [
    'timeout',
    '1',
    'bash',
    '-c',
    'exec 3<>"/dev/tcp/$1/22"',
    'bash',
    address,
  ]);
  if (exitCode === 0) return 'open';
  return /refused/i.test(stderr) ? 'refused' : 'no answer';
}

/** What `down` must remove. */
interface LabFootprint {
  name: string;
  index: number;
  stateDir: string;
  pids: number[];
}

async function footprint(lab: Lab): Promise<LabFootprint> {
  const state = JSON.parse(await readFile(`${lab.stateDir}/state.json`, 'utf8')) as LabState;
  const hosts = [state.bastion, ...state.hosts];
  return {
    name: lab.name,
    index: lab.index,
    stateDir: lab.stateDir,
    pids: [state.supervisorPid, ...hosts.map((host) => host.holderPid), ...hosts.flatMap((host) => host.sshdPid ?? [])],
  };
}

async function isAlive(pid: number): Promise<boolean> {
  return Boolean(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')); // zombies have none
}

async function assertGone(lab: LabFootprint): Promise<void> {
  const namespaces = (await readdir('/run/netns')).filter((name) => name.startsWith(namespacePrefix(lab.index)));
  const rootVeth = rootVethName(lab.index);
  const rootVethLeft = existsSync(`/sys/class/net/${rootVeth}`);
  // Read after them: a lab running in parallel may have taken the freed index (and its names) since.
  const indexOwner = await readlink(`${INDEX_DIR}/${lab.index}`).catch(() => undefined);
  if (indexOwner === undefined || indexOwner === lab.name) {
    assert.deepEqual(namespaces, [], 'namespaces survived');
    assert.ok(!rootVethLeft, `${rootVeth} survived`);
  }
  for (const pid of lab.pids) assert.ok(!(await isAlive(pid)), `process ${pid} survived`);
  const mountTables = await Promise.all(
    (await readdir('/proc'))
      .filter((entry) => /^\d+$/.test(entry))
      .map((pid) => readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '')),
  );
  const mounted = mountTables.some((table) => table.includes(`${lab.stateDir} `) || table.includes(`${lab.stateDir}/`));
  assert.ok(!mounted, `a mount of ${lab.stateDir} survived`);
  assert.ok(!existsSync(lab.stateDir), `${lab.stateDir} survived`);
}

async function killSupervisor(lab: Lab): Promise<void> {
  const { supervisorPid } = JSON.parse(await readFile(`${lab.stateDir}/state.json`, 'utf8')) as LabState;
  process.kill(supervisorPid, 'SIGKILL');
  assert.ok(await waitUntil(async () => !(await isAlive(supervisorPid)), 5000), 'the supervisor survived SIGKILL');
}

describe('the lab', () => {
  const name = `it-lab-${process.pid}`;
  let lab: Lab;

  before(async () => {
    lab = await labUp({ name, hosts: 3 });
    await lab.run('bastion', ['sh', '-c', 'umask 077 && cat > "$1"', 'sh', BASTION_KEY], {
      input: await readFile(lab.operatorKeyPath),
    });
    await lab.run('bastion', ['sh', '-c', 'cat > "$1"', 'sh', BASTION_KNOWN_HOSTS], {
      input: await readFile(lab.knownHostsPath),
    });
  });
  after(() => labDown(name));

  test('the inventory and known_hosts list every host', async () => {
    const inventory = parse(await readFile(lab.inventoryPath, 'utf8')) as {
      bastion: { address: string };
      hosts: Record<string, { address: string; roles: string[] }>;
      groups: Record<string, string[]>;
    };
    assert.deepEqual(Object.keys(inventory.hosts), [
      'pve1',
      'pve2',
      'pve3',
      'gw',
      'backup',
      'host001',
      'host002',
      'host003',
    ]);
    assert.equal(inventory.bastion.address, `198.19.${lab.index}.2`);
    assert.equal(inventory.hosts['host003']?.address, `198.18.${lab.index}.33`);
    assert.deepEqual(inventory.groups['extras'], ['host001', 'host002', 'host003']);
    const knownHosts = await readFile(lab.knownHostsPath, 'utf8');
    for (const host of [lab.bastion, ...lab.hosts]) {
      assert.match(knownHosts, new RegExp(`^${host.address.replaceAll('.', '\\.')} ssh-ed25519 AAAA`, 'm'));
    }
    assert.deepEqual(await labAttach(name).then((attached) => attached.hosts), lab.hosts);
  });

  test("every host's sshd answers from inside the bastion, with the host's own name", async () => {
    const answers = await Promise.all(lab.hosts.map((host) => sshFromBastion(lab, host.address, 'hostname')));
    assert.deepEqual(
      answers.map(({ stdout, exitCode }) => [stdout.trim(), exitCode]),
      lab.hosts.map((host) => [host.name, 0]),
    );
    const bastion = await sshFromBastion(lab, `198.18.${lab.index}.1`, 'hostname');
    assert.equal(bastion.stdout.trim(), 'bastion');
  });

  test('the root namespace reaches the bastion only', async () => {
    assert.equal(await tcpProbe(lab.bastion.address), 'open');
    assert.equal(await tcpProbe(addressOf(lab, 'pve1')), 'unreachable');
    const { stdout: route } = await execa('ip', ['route', 'show', '198.18.0.0/15']);
    assert.match(route, /^unreachable 198\.18\.0\.0\/15/m, 'no lab packet may leave the machine');
  });

  test('a user added on one host exists nowhere else', async () => {
    const user = 'chaton-lab-probe';
    assert.equal((await lab.run('pve1', ['useradd', '--create-home', user])).exitCode, 0);
    assert.equal((await lab.run('pve1', ['id', user])).exitCode, 0);
    assert.equal((await lab.run('pve1', ['test', '-d', `/home/${user}`])).exitCode, 0);
    assert.notEqual((await lab.run('pve2', ['id', user])).exitCode, 0);
    assert.notEqual((await lab.run('pve2', ['test', '-d', `/home/${user}`])).exitCode, 0);
    assert.doesNotMatch(await readFile('/etc/passwd', 'utf8'), new RegExp(`^${user}:`, 'm'));
  });

  test("a host does not see the machine's own host keys through its /etc", async () => {
    const machineKeys = (await readdir('/etc/ssh')).filter((name) => /^ssh_host_(?!ed25519_)\w+_key/.test(name));
    // Debian's openssh-server makes RSA and ECDSA keys besides ed25519: the check has something to hide.
    assert.ok(machineKeys.length > 0, 'this machine has no other host keys to hide');
    for (const name of machineKeys) {
      const seen = await lab.run('pve1', ['test', '-e', `/etc/ssh/${name}`]);
      assert.notEqual(seen.exitCode, 0, `pve1 sees /etc/ssh/${name}`);
    }
    assert.equal((await lab.run('pve1', ['test', '-s', '/etc/ssh/ssh_host_ed25519_key'])).exitCode, 0);
  });

  test('a process on one host is seen and killed there only (each host has its own pid namespace)', async () => {
    const marker = 'sleep 31337';
    // Values reach the shell as positional parameters, never spliced into its text.
    assert.equal((await lab.run('pve1', ['sh', '-c', 'sleep "$1" > /dev/null 2>&1 &', 'sh', '31337'])).exitCode, 0);
    assert.equal((await lab.run('pve1', ['pgrep', '-f', marker])).exitCode, 0);
    assert.equal((await lab.run('pve2', ['pgrep', '-f', marker])).exitCode, 1);
    assert.equal((await lab.run('pve2', ['pkill', '-f', marker])).exitCode, 1);
    assert.equal((await lab.run('pve1', ['pkill', '-f', marker])).exitCode, 0);
  });

  test("logger in a host lands in that host's syslog only", async () => {
    const marker = `lab-test-${process.pid}-${Date.now()}`;
    assert.equal((await lab.run('pve1', ['logger', '-t', 'chaton', marker])).exitCode, 0);
    assert.ok(await waitUntil(async () => (await lab.syslog('pve1')).includes(marker), 2000), 'not in pve1 syslog');
    assert.match(await lab.syslog('pve1'), new RegExp(`^\\S+ pve1 .*chaton: ${marker}$`, 'm'));
    assert.doesNotMatch(await lab.syslog('pve2'), new RegExp(marker));
    assert.equal((await lab.run('pve1', ['grep', '-c', marker, '/var/log/syslog'])).stdout, '1\n');
  });

  test('stopSshd: connection refused; startSshd: back', async () => {
    const address = addressOf(lab, 'pve2');
    await lab.stopSshd('pve2');
    assert.equal(await probeFromBastion(lab, address), 'refused');
    assert.equal((await lab.run('pve2', ['hostname'])).stdout, 'pve2\n'); // the host itself lives on
    await lab.startSshd('pve2');
    assert.equal((await sshFromBastion(lab, address, 'hostname')).stdout, 'pve2\n');
  });

  test('linkDown: no answer; linkUp: back', async () => {
    const address = addressOf(lab, 'pve3');
    await lab.linkDown('pve3');
    assert.equal(await probeFromBastion(lab, address), 'no answer');
    await lab.linkUp('pve3');
    assert.equal(await probeFromBastion(lab, address), 'open');
  });

  test('rekey: a new host key that known_hosts does not know', async () => {
    const fingerprintOf = async () =>
      (await lab.run('gw', ['ssh-keygen', '-l', '-f', '/etc/ssh/ssh_host_ed25519_key.pub'])).stdout.split(' ')[1];
    const before = await fingerprintOf();
    const after = await lab.rekey('gw');
    assert.match(after, /^SHA256:/);
    assert.notEqual(after, before);
    assert.equal(await fingerprintOf(), after);
    const refused = await sshFromBastion(lab, addressOf(lab, 'gw'), 'true');
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });

  test('down removes namespaces, the root veth, mounts, processes and state', async () => {
    const left = await footprint(lab);
    await lab.down();
    await assertGone(left);
  });
});

describe('a crashed lab (supervisor killed -9)', () => {
  const name = `it-crash-${process.pid}`;
  after(() => labDown(name));

  test('is cleaned by down', async () => {
    const lab = await labUp({ name, hosts: 0 });
    const left = await footprint(lab);
    await killSupervisor(lab);
    await assert.rejects(labAttach(name), /supervisor is gone/);
    await labDown(name);
    await assertGone(left);
  });

  test('is cleaned by up of the same name', async () => {
    const crashed = await labUp({ name, hosts: 0 });
    const left = await footprint(crashed);
    await killSupervisor(crashed);
    const lab = await labUp({ name, hosts: 0 });
    assert.equal((await lab.run('pve1', ['hostname'])).stdout, 'pve1\n');
    for (const pid of left.pids) assert.ok(!(await isAlive(pid)), `process ${pid} of the crashed lab survived`);
    await lab.down();
  });
});
