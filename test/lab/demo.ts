// `npm run demo`: chaton's main job on the built-in lab, from nothing to nothing. Brings a lab
// up, runs chaton against it as an operator would, and takes the lab down again (also on
// failure or Ctrl-C). Later subcommands join the steps as they land; the last one swaps a failing
// disk of pve1's ZFS mirror rpool. `npm run demo -- --ceph`: a failing disk of a Ceph lab swapped
// (its own lab: a real cluster takes memory).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { backupSite, flipArchiveByte, resetBackupSite } from './backups.js';
import { NEW_DISK_SERIAL, osdDisk, swapWhenDestroyed } from './ceph-swap.js';
import { labDown, labUp, type Lab } from './lab.js';
import { swapWhenOut, zfsMemberOffline } from './mirror-swap.js';
import { LAB_BACKUP_JOB_ID } from './lab-files.js';
import { ispCounters } from './wan.js';

const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));
/** Apart from the labs of a checkout that tests meanwhile (CHATON_LAB_PREFIX, as the tests). */
const CEPH = process.argv.includes('--ceph');
const DEMO_LAB = `${process.env.CHATON_LAB_PREFIX ?? ''}${CEPH ? 'demo-ceph' : 'demo'}`;
const execFileAsync = promisify(execFile);

/** One step of the demo: a command line shown before it runs, and the exit code it should end with. */
interface Step {
  argv: string[];
  /** How the line is shown (chaton's own path is left out). */
  shown: string;
  expect: number;
  /** What the operator's hands do while the command runs, until it ends (`signal`). */
  alongside?: (signal: AbortSignal) => Promise<unknown>;
}

/** What the demo does to the lab itself between two steps (as a fault or a repair would), said first. */
interface LabAction {
  said: string;
  act: () => Promise<unknown>;
}

/** A word as a sysadmin would type it into sh: quoted when it holds spaces or shell characters. */
const shownWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

const chatonStep = (args: string[], expect = 0): Step => ({
  argv: [process.execPath, CHATON, ...args],
  shown: `chaton ${args.map(shownWord).join(' ')}`,
  expect,
});

/** The demo's steps: chaton command lines, a newcomer's own logins with OpenSSH, the backup site's faults. */
async function steps(lab: Lab, dir: string): Promise<(Step | LabAction)[]> {
  const inventory = ['-i', lab.inventoryPath];
  // A newcomer's key pair, and the OpenSSH config onboard writes for them; the demo's copy points
  // at the files in its own directory (the written one names ~/.ssh/chaton_known_hosts).
  const key = path.join(dir, 'jdupont');
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jdupont@laptop', '-f', key]);
  const config = path.join(dir, 'jdupont.ssh_config');
  const localConfig = `${config}.demo`;
  const login = (expect: number): Step => ({
    argv: [
      'sh',
      '-c',
      'sed "s#~/.ssh/chaton_known_hosts#$1.known_hosts#" "$1" > "$2" && printf "Host *\\n  IdentityFile %s\\n  IdentitiesOnly yes\\n  BatchMode yes\\n" "$3" >> "$2" && exec ssh -F "$2" pve1 "id; sudo -n true && echo sudo works"',
      'sh',
      config,
      localConfig,
      key,
    ],
    shown: `ssh -F ${localConfig} pve1 'id; sudo -n true && echo sudo works'    # as jdupont, through the bastion, with the config onboard wrote (its key and known_hosts paths filled in)`,
    expect,
  });
  return [
    chatonStep([...inventory, 'inventory', 'check']),
    chatonStep([...inventory, 'inventory', 'show', 'hypervisors,gw,backup']),
    chatonStep([...inventory, 'hosts', 'check', 'all']),
    chatonStep([...inventory, '--yes', 'exec', 'all', '--', 'uptime']),
    chatonStep([...inventory, '--dry-run', 'exec', 'hypervisors', '--', 'systemctl restart pveproxy']),
    // Warm: the first run leaves its connections with a keeper, the second uses them; the keeper
    // exits when the inventory changes (vm create --save below) or the lab goes.
    chatonStep([...inventory, '--persist', '5m', 'hosts', 'check', 'all']),
    chatonStep([...inventory, '--persist', '5m', '--yes', 'exec', 'all', '--', 'uptime']),
    chatonStep(['connections']),
    chatonStep([
      ...inventory,
      'onboard',
      'sysadmin',
      'jdupont',
      '--name',
      'Jeanne Dupont',
      '--key',
      `${key}.pub`,
      '--sudo',
      '--proxmox-role',
      'PVEAdmin',
      '--on',
      'bastion,hypervisors',
      '--verify-with',
      key,
      '--write-ssh-config',
      config,
    ]),
    login(0),
    chatonStep([...inventory, '--yes', 'offboard', 'sysadmin', 'jdupont', '--on', 'bastion,hypervisors']),
    // The same login now fails: sshd refuses the key (ssh exits 255).
    login(255),
    ...backupSteps(lab),
    ...vmSteps(lab),
    ...failoverSteps(lab),
  ];
}

/**
 * A new VM from the cluster's template: the plan, the creation (cloned, configured, firewalled, in
 * the backup job, started, its host key read through the hypervisor), saved into the inventory, then
 * reached through the bastion like any host, seen in the backup job, and a second run that changes
 * nothing.
 */
function vmSteps(lab: Lab): Step[] {
  const chaton = (args: string[], expect = 0) => chatonStep(['-i', lab.inventoryPath, ...args], expect);
  return [
    chaton(['--dry-run', 'vm', 'create', 'web1', '--role', 'vm', '--memory', '2G']),
    chaton(['-y', 'vm', 'create', 'web1', '--role', 'vm', '--memory', '2G', '--save']),
    chaton(['-y', 'exec', 'web1', '--', 'hostname; ip -4 -brief address show eth0']),
    chaton(['-y', 'exec', 'pve1', '--', `pvesh get /cluster/backup/${LAB_BACKUP_JOB_ID} --output-format json-pretty`]),
    chaton(['-y', 'vm', 'create', 'web1', '--role', 'vm', '--memory', '2G']),
  ];
}

/**
 * The site's internet links (the lab is up with --wan: an internet, two ISPs, the gateway's NAT;
 * the operator reaches the bastion through the gateway's port forwards): the status, a switch to
 * the backup link with traffic seen crossing the backup ISP, and the way back.
 */
function failoverSteps(lab: Lab): (Step | LabAction)[] {
  const failover = (args: string[]) => chatonStep(['-i', lab.inventoryPath, 'failover', ...args], 0);
  return [
    failover(['status']),
    failover(['to', 'backup', '--dry-run']),
    chatonStep(['-i', lab.inventoryPath, '-y', 'failover', 'to', 'backup']),
    {
      said: 'host001 pings the internet: its packets now cross the backup ISP, not the main one',
      act: async () => {
        const before = { main: await ispCounters(lab, 'main'), backup: await ispCounters(lab, 'backup') };
        await lab.run('host001', ['ping', '-q', '-c', '5', '-i', '0.2', '198.51.100.1']);
        for (const link of ['main', 'backup'] as const) {
          const sent = (await ispCounters(lab, link)).toInternet.packets - before[link].toInternet.packets;
          process.stdout.write(`  ${link} ISP: ${sent} packets forwarded to the internet\n`);
        }
      },
    },
    failover(['status']),
    chatonStep(['-i', lab.inventoryPath, '-y', 'failover', 'to', 'main']),
  ];
}

/**
 * Could every guest be restored today? The site on host `backup` (real zstd, gzip, lzop, restic,
 * borg; PBS's stand-in), verified; one archive rotted, caught by the table and the Nagios line;
 * the site repaired, OK again.
 */
function backupSteps(lab: Lab): (Step | LabAction)[] {
  const verify = (args: string[], expect: number) =>
    chatonStep(['-i', lab.inventoryPath, 'backup', 'verify', ...args], expect);
  return [
    {
      said: 'the backup site on host backup: vzdump archives, PBS snapshots, a restic and a borg repository',
      act: () => backupSite(lab),
    },
    verify([], 0),
    verify(['--no-integrity'], 0),
    {
      said: 'bit rot: one byte flipped in the middle of the newest vzdump archive of 101 mail',
      act: () => flipArchiveByte(lab, 101),
    },
    // The table says CRITICAL and what to do (exit 1); the Nagios line CRITICAL (exit 2).
    verify([], 1),
    verify(['--format', 'nagios'], 2),
    { said: 'repaired: the archive as it was (a new backup, in real life)', act: () => resetBackupSite(lab) },
    verify(['--format', 'nagios'], 0),
  ];
}

/**
 * A failing disk on a live Ceph cluster: osd.1 of pve1 says FAILED! in SMART; the plan (dry run),
 * then the swap as a runbook would run it (the new disk's serial read off its label, --new-device
 * and -y), the operator swapping the disks once chaton has destroyed the OSD; the cluster after it,
 * and the objects written when the lab came up read back with their checksums.
 */
async function cephSteps(lab: Lab): Promise<(Step | LabAction)[]> {
  const chaton = (args: string[], expect = 0) => chatonStep(['-i', lab.inventoryPath, ...args], expect);
  const old = await osdDisk(lab, 'pve1', 1);
  const newSerial = NEW_DISK_SERIAL;
  const swap = ['disk', 'swap', 'pve1', '--osd', '1', '--new-device', newSerial];
  const cluster = chaton(['-y', 'exec', 'pve1', '--', 'ceph osd tree; ceph -s']);
  const hands = { host: 'pve1', osd: 1, oldSerial: old.serial, newSerial };
  return [
    cluster,
    {
      said: `osd.1's disk on pve1 (${old.serial}) is failing: smartctl now says FAILED!`,
      act: () => lab.diskSmart('pve1', old.serial, false),
    },
    { said: `a new disk arrives; its label says serial ${newSerial}`, act: async () => undefined },
    chaton(['--dry-run', ...swap]),
    {
      ...chaton(['-y', ...swap]),
      // The operator pulls the old disk and inserts the new one once chaton has destroyed the OSD.
      alongside: async (signal) => {
        if (await swapWhenDestroyed(lab, hands, signal)) {
          process.stdout.write(`\n# osd.1 destroyed: ${old.serial} pulled out of pve1, ${newSerial} inserted\n`);
        }
      },
    },
    cluster,
    {
      said: 'the objects written before the swap, read back: the same checksums',
      act: async () => {
        const objects = await lab.cephObjects();
        const script = 'for name; do rados -p rbd get "$name" - | sha256sum | cut -d" " -f1; done';
        const read = await lab.run('pve1', ['sh', '-c', script, 'sh', ...objects.map((object) => object.name)]);
        const same = read.stdout
          .trim()
          .split('\n')
          .filter((sum, at) => sum === objects[at]?.sha256).length;
        process.stdout.write(`  ${same} of ${objects.length} objects read back intact\n`);
      },
    },
  ];
}

/**
 * A failing disk of pve1's ZFS mirror rpool (the Proxmox installer's RAID1, boot disks both): the
 * pool and the boot tool's view, the plan, then the swap as a runbook runs it, the operator
 * swapping the disks once chaton has taken the old one out; the pool and the ESPs after it.
 */
async function mirrorSteps(lab: Lab): Promise<(Step | LabAction)[]> {
  const chaton = (args: string[], expect = 0) => chatonStep(['-i', lab.inventoryPath, ...args], expect);
  const [old] = (await lab.disks()).filter((d) => d.host === 'pve1' && d.state === 'inserted');
  if (!old) throw new Error('pve1 has no rpool disk: the lab was not brought up with disks');
  const swap = ['disk', 'swap', 'pve1', '--zfs', 'rpool', '--device', old.serial, '--new-device', MIRROR_NEW_SERIAL];
  const pool = chaton(['-y', 'exec', 'pve1', '--', 'zpool status rpool; proxmox-boot-tool status']);
  const out = () => zfsMemberOffline(lab, 'pve1', old.serial);
  const hands = { host: 'pve1', oldSerial: old.serial, insert: { serial: MIRROR_NEW_SERIAL, sizeGiB: 8 }, out };
  return [
    pool,
    {
      said: `rpool's disk ${old.serial} in pve1 is failing: smartctl now says FAILED!`,
      act: () => lab.diskSmart('pve1', old.serial, false),
    },
    chaton(['--dry-run', ...swap]),
    {
      ...chaton(['-y', ...swap]),
      alongside: async (signal) => {
        if (await swapWhenOut(lab, hands, signal)) {
          process.stdout.write(`\n# ${old.serial} offline: pulled out of pve1, ${MIRROR_NEW_SERIAL} inserted\n`);
        }
      },
    },
    pool,
  ];
}

/** The new disk of the mirror swap, as its label says. */
const MIRROR_NEW_SERIAL = 'WD-WX77A1B2C3D4';

async function runStep(step: Step): Promise<number> {
  process.stdout.write(`\n$ ${step.shown}\n`);
  const ended = new AbortController();
  const alongside = step.alongside?.(ended.signal);
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(step.argv[0]!, step.argv.slice(1), { stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
  } finally {
    ended.abort();
    await alongside;
  }
}

await labDown(DEMO_LAB); // leftovers of an interrupted demo
let failed = 0;
try {
  process.stdout.write(
    CEPH
      ? 'Bringing up a Ceph lab: a real Ceph Pacific cluster on pve1-3 (3 monitors, 6 OSDs, a pool with data)...\n'
      : 'Bringing up the lab: a bastion, pve1-3, gw, backup and 20 hosts, each with its own sshd, behind a\n' +
          'gateway on two ISPs (the operator reaches the bastion through its port forwards); pve1-3 boot from\n' +
          'a ZFS mirror and backup from an md RAID1, on lab disks...\n',
  );
  const lab = await labUp(
    CEPH ? { name: DEMO_LAB, hosts: 0, ceph: true } : { name: DEMO_LAB, hosts: 20, wan: true, disks: true },
  );
  // Ctrl-C reaches the running chaton too; the demo then stops and takes the lab down.
  let interrupted = false;
  process.on('SIGINT', () => (interrupted = true));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-demo-'));
  const all = CEPH ? await cephSteps(lab) : [...(await steps(lab, dir)), ...(await mirrorSteps(lab))];
  for (const step of all) {
    if (interrupted) break;
    if ('act' in step) {
      process.stdout.write(`\n# ${step.said}\n`);
      await step.act();
      continue;
    }
    const code = await runStep(step);
    process.stdout.write(`(exit code ${code}${code === step.expect ? '' : `, expected ${step.expect}`})\n`);
    if (code !== step.expect) failed = code || 1;
  }
} finally {
  await labDown(DEMO_LAB);
  process.stdout.write('\nThe lab is down.\n');
}
process.exitCode = failed;
