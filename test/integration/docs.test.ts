// The docs are runbooks: every `chaton ...` command line of README.md and of every --help's
// examples runs on a lab, as pasted, so that no documented line drifts from what works.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { backupSite } from '../lab/backups.js';
import type { Lab } from '../lab/lab.js';
import { CHATON, chaton, freshLab, sandboxEnv } from './chaton.js';

/** Where a documented line runs: the site directory, its inventory and the lab behind it. */
interface Site {
  lab: Lab;
  /** The cwd of `chaton` lines: chaton.yaml (the lab's inventory) and the files lines name. */
  dir: string;
  inventory: string;
  env: NodeJS.ProcessEnv;
}

interface LineRun {
  code: number | null;
  /** stdout, or everything the terminal showed for a line run at a terminal. */
  stdout: string;
  stderr: string;
  /** A confirmation was asked (and answered yes). */
  asked: boolean;
}

interface DocumentedLine {
  line: string;
  /** The exit code that means it worked; 0 unless `why` says otherwise. */
  exit?: number;
  why?: string;
  /** The line asks first and has no --yes: run at a terminal, where its question is answered yes. */
  atTerminal?: true;
  /** Named in prose, not a line to run: it must name a command (its --help exits 0). */
  mention?: true;
  /** What the line reads, put in place first (the site's files, its HOME). */
  prepare?: (site: Site) => Promise<void>;
  /** What else shows that it worked. */
  check?: (site: Site, run: LineRun) => Promise<void>;
}

/**
 * Every documented line, in the order they run (onboard before offboard, a dry-run before what it
 * plans). A line documented in several places is one entry. The test fails for a documented line
 * missing here, and for an entry no longer documented.
 */
const DOCUMENTED: DocumentedLine[] = [
  { line: 'chaton --help' },
  { line: 'chaton inventory check' },
  { line: 'chaton -i /etc/chaton/site.yaml inventory check --json', check: jsonExitCode(0) },
  {
    line: 'chaton inventory init --bastion 203.0.113.10 --file site.yaml',
    check: async ({ dir, env }) => {
      const file = path.join(dir, 'site.yaml');
      assert.match(await readFile(file, 'utf8'), /^ {2}address: 203\.0\.113\.10$/m);
      const check = await chaton(['-i', file, 'inventory', 'check'], { env });
      assert.equal(check.code, 0, check.stderr);
    },
  },
  {
    line: 'chaton inventory init --from-ssh-config --file from-ssh.yaml',
    prepare: async ({ env }) => {
      await mkdir(path.join(env.HOME!, '.ssh'), { recursive: true });
      const config = 'Host bastion\n  HostName 203.0.113.10\nHost pve1\n  HostName 10.0.0.11\n  ProxyJump bastion\n';
      await writeFile(path.join(env.HOME!, '.ssh', 'config'), config);
    },
    check: checkWritten('from-ssh.yaml', /^ {2}pve1:\n {4}address: 10\.0\.0\.11$/m),
  },
  {
    line: 'chaton inventory init --from-ansible hosts.ini --file site.yaml --force',
    prepare: async ({ dir }) => {
      const ini = "[pve]\npve[1:2]\n[all:vars]\nansible_ssh_common_args='-J 203.0.113.10'\n";
      await writeFile(path.join(dir, 'hosts.ini'), ini);
    },
    check: checkWritten('site.yaml', /^groups:\n {2}pve: \[pve1, pve2\]$/m),
  },
  { line: 'chaton inventory show' },
  { line: 'chaton inventory show role:pve' },
  { line: 'chaton inventory show role:pve --json', check: jsonExitCode(0) },
  { line: 'chaton hosts check' },
  { line: 'chaton hosts check all' },
  { line: 'chaton hosts check hypervisors,gw' },
  { line: 'chaton --json hosts check all', check: jsonExitCode(0) },
  { line: 'chaton --json hosts check all > check.json', check: checkJson(() => true) },
  { line: 'chaton --json hosts check role:ceph > check.json', check: checkJson((roles) => roles.includes('ceph')) },
  { line: 'bin/chaton.js -i /run/chaton-lab/default/inventory.yaml hosts check all' },
  {
    line: 'chaton backup verify',
    // The lab's inventory describes its backup site, built on demand.
    prepare: async ({ lab }) => {
      await backupSite(lab);
    },
    check: async (_, run) => assert.match(run.stdout, /^OK: all 6 guests could be restored/m),
  },
  { line: 'chaton -q backup verify', check: async (_, run) => assert.equal(run.stdout + run.stderr, '') },
  {
    line: 'chaton --json backup verify > backups.json',
    check: async ({ dir }) => {
      const report = JSON.parse(await readFile(path.join(dir, 'backups.json'), 'utf8')) as { state: string };
      assert.equal(report.state, 'ok');
    },
  },
  {
    line: 'chaton backup verify --format nagios',
    check: async (_, run) => assert.match(run.stdout, /^BACKUP OK - /),
  },
  {
    line: 'chaton backup verify --prom-file chaton_backup.prom',
    check: async ({ dir }) => {
      const text = await readFile(path.join(dir, 'chaton_backup.prom'), 'utf8');
      assert.match(text, /^chaton_backup_verify_success 1$/m);
    },
  },
  {
    line: 'chaton -q backup verify --restore-test mail,db',
    check: async ({ lab }, run) => {
      assert.equal(run.stdout, '', run.stderr);
      const records = await lab.run('backup', ['cat', '/var/lib/chaton/restore-tests.jsonl']);
      assert.match(records.stdout, /"guest":"101".*"ok":true/);
    },
  },
  {
    line: 'chaton -q backup verify --no-integrity',
    check: async (_, run) => assert.equal(run.stdout + run.stderr, ''),
  },
  { line: 'chaton doctor', check: doctorTable(false) },
  { line: 'chaton doctor --reach', check: doctorTable(true) },
  { line: 'chaton --json doctor --reach', check: jsonExitCode(0) },
  // Warm connections: a run that leaves its connections kept, what is kept, then all of it closed.
  { line: 'chaton --persist 5m hosts check all' },
  { line: 'chaton connections', check: async (_, run) => assert.match(run.stdout, /^pve1 +bastion /m) },
  { line: 'chaton connections list' },
  { line: 'chaton --json connections', check: jsonExitCode(0) },
  {
    line: 'chaton connections close',
    check: async (_, run) => assert.match(run.stdout, /^closed the keeper of \S+ \(process \d+\): \d+ connections$/m),
  },
  {
    line: 'chaton completion bash > ~/.local/share/bash-completion/completions/chaton',
    check: script('.local/share/bash-completion/completions/chaton', 'complete -F _chaton chaton'),
  },
  { line: 'chaton completion zsh > ~/.zfunc/_chaton', check: script('.zfunc/_chaton', '#compdef chaton') },
  {
    line: 'chaton completion fish > ~/.config/fish/completions/chaton.fish',
    check: script('.config/fish/completions/chaton.fish', 'complete -c chaton'),
  },
  { line: 'chaton exec', mention: true },
  { line: 'chaton exec pve1 -- uptime' },
  { line: "chaton exec -y hypervisors -- 'df -h / | tail -1'" },
  // Asks first (3 hosts): pasted into cron, without a terminal and without -y, it refuses (exit 3).
  { line: 'chaton exec hypervisors -- uptime', atTerminal: true },
  { line: 'chaton --dry-run exec all -- apt-get -y upgrade' },
  {
    line: 'chaton --json -y exec role:vm -- systemctl is-active nginx',
    exit: 1,
    why: 'the lab has no systemd: systemctl fails on every role:vm host, which the JSON shows it reached',
    check: async ({ lab }, run) => {
      const report = JSON.parse(run.stdout) as { hosts: { host: string; state: string }[] };
      const vms = lab.hosts.filter((h) => h.roles.includes('vm')).map((h) => h.name);
      assert.deepEqual(
        report.hosts.map((h) => [h.host, h.state]),
        vms.map((host) => [host, 'exited']),
      );
    },
  },
  { line: 'chaton --dry-run onboard sysadmin jdupont --key jdupont.pub --sudo', check: account('pve1', /^$/) },
  {
    line: "chaton onboard sysadmin jdupont --name 'Jeanne Dupont' --key jdupont.pub --sudo --proxmox-role PVEAdmin --save",
    check: async (site) => {
      await account('pve1', /^jdupont:x:\d+:\d+:Jeanne Dupont:/)(site);
      assert.match(await readFile(site.inventory, 'utf8'), /^sysadmins:\n {2}- login: jdupont$/m);
    },
  },
  { line: 'chaton onboard sysadmin jdupont --key jdupont.pub --sudo' },
  {
    line: 'chaton onboard sysadmin jdupont --key jdupont.pub --on pve1,pve2 --write-ssh-config jdupont.ssh_config',
    check: async ({ dir }) => {
      assert.match(await readFile(path.join(dir, 'jdupont.ssh_config'), 'utf8'), /^Host pve2$/m);
    },
  },
  { line: 'chaton --dry-run offboard sysadmin jdupont', check: shadow('pve1', /^jdupont:\*:/) },
  {
    line: 'chaton offboard sysadmin jdupont --save',
    atTerminal: true,
    check: async (site) => {
      await shadow('pve1', /^jdupont:!/)(site);
      assert.doesNotMatch(await readFile(site.inventory, 'utf8'), /jdupont/);
    },
  },
  { line: 'chaton offboard sysadmin jdupont', atTerminal: true },
  {
    line: 'chaton --yes --json offboard sysadmin jdupont --remove-home',
    check: async (site, run) => {
      await jsonExitCode(0)(site, run);
      assert.equal((await site.lab.run('pve1', ['test', '-e', '/home/jdupont'])).exitCode, 1, 'the home is removed');
    },
  },
  // A VM made on the site's cluster (the lab makes it a host of its own), then found made.
  {
    line: 'chaton --dry-run vm create web3 --memory 2G',
    check: async (_, run) =>
      assert.match(
        run.stdout,
        /^would create web3 as VM \d+ \(provisional\) on pve\d at [0-9.]+; nothing was changed/m,
      ),
  },
  {
    line: 'chaton vm create web3 --memory 2G --save',
    check: async ({ inventory }, run) => {
      assert.match(run.stdout, /^web3 created: VM \d+ on pve\d, [0-9.]+ /m);
      assert.match(await readFile(inventory, 'utf8'), /^ {2}web3: /m);
    },
  },
  {
    line: 'chaton vm create web3 --memory 2G',
    check: async (_, run) => assert.match(run.stdout, /^web3 exists, unchanged: VM \d+ on pve\d/m),
  },
  // A disk swapped on a Ceph lab: the plan, the runbook's swap onto the disk it names, then the
  // same swap asked at a terminal or resumed finds it done.
  onCephLab('chaton --dry-run disk swap pve2 --osd 3', async (_, run) =>
    assert.match(run.stdout, /^osd\.3 on pve2: dry-run, nothing changed/m),
  ),
  onCephLab(
    'chaton -y disk swap pve2 --osd 3 --new-device S3Z9NB0K12',
    async (_, run) => assert.match(run.stdout, /^osd\.3 on pve2: disk swapped, the cluster is healthy/m),
    // The new disk the line names, in a free bay.
    async (lab) => void (await lab.diskInsert('pve2', { serial: 'S3Z9NB0K12' })),
  ),
  onCephLab('chaton disk swap pve2 --osd 3', async (_, run) =>
    assert.match(run.stdout, /^osd\.3 on pve2: already on the disk asked for, unchanged/m),
  ),
  onCephLab('chaton disk swap pve2 --osd 3 --resume', async (_, run) =>
    assert.match(run.stdout, /^osd\.3 on pve2: already on the disk asked for, unchanged/m),
  ),
  // A disk of pve1's ZFS mirror rpool and of backup's md0 swapped on a lab with disks: the plan, the
  // runbook's swap onto the disk it names (in a free bay), then the same swap at a terminal finds it
  // done. Each line's old disk is first put in by a swap of chaton's own (the lab's serials are its).
  onMirrorLab(
    'chaton --dry-run disk swap pve1 --zfs rpool --device WD-WX12',
    async (_, run) => assert.match(run.stdout, /^pool rpool on pve1: dry-run, nothing changed/m),
    (lab) => swapInto(lab, 'pve1', ['--zfs', 'rpool'], 'WD-WX12', 8),
  ),
  onMirrorLab(
    'chaton -y disk swap pve1 --zfs rpool --device WD-WX12 --new-device WD-WX77',
    async (_, run) => assert.match(run.stdout, /^pool rpool on pve1: disk swapped, the mirror is whole again/m),
    async (lab) => void (await lab.diskInsert('pve1', { serial: 'WD-WX77', sizeGiB: 8 })),
  ),
  onMirrorLab('chaton disk swap pve1 --zfs rpool --device WD-WX12', async (_, run) =>
    assert.match(run.stdout, /^pool rpool on pve1: already on the disk asked for, unchanged/m),
  ),
  onMirrorLab(
    'chaton -y disk swap backup --md md0 --device WD-WX34 --new-device S3Z9NB0K77',
    async (_, run) => assert.match(run.stdout, /^array \/dev\/md0 on backup: disk swapped, the mirror is whole again/m),
    async (lab) => {
      await swapInto(lab, 'backup', ['--md', 'md0'], 'WD-WX34', 4);
      await lab.diskInsert('backup', { serial: 'S3Z9NB0K77', sizeGiB: 4 });
    },
  ),
  onMirrorLab('chaton disk swap backup --md md0 --device WD-WX34', async (_, run) =>
    assert.match(run.stdout, /^array \/dev\/md0 on backup: already on the disk asked for, unchanged/m),
  ),
  onWanLab('chaton failover status', async (_, run) =>
    assert.match(run.stdout, /\n\nOK: on main; main up, backup up\n$/),
  ),
  onWanLab('chaton -q failover status', async (_, run) => assert.equal(run.stdout + run.stderr, '')),
  onWanLab('chaton --json failover status > failover.json', async ({ dir }) => {
    const report = JSON.parse(await readFile(path.join(dir, 'failover.json'), 'utf8')) as { state: string };
    assert.equal(report.state, 'ok');
  }),
  onWanLab('chaton failover status --format nagios', async (_, run) =>
    assert.match(run.stdout, /^FAILOVER OK - on main; main up, backup up \| /),
  ),
  // In this order: a plan, the switch, then lines that find it done, and the way back.
  onWanLab('chaton --dry-run failover to backup', async (_, run) =>
    assert.match(run.stdout, /^dry-run: would switch from main to backup/m),
  ),
  onWanLab('chaton -y failover to backup', async (_, run) =>
    assert.match(run.stdout, /^switched to backup, proven end to end, in /m),
  ),
  onWanLab('chaton failover to backup', async (_, run) => assert.match(run.stdout, /^unchanged: /m)),
  onWanLab('chaton failover to backup --force', async (_, run) => assert.match(run.stdout, /^unchanged: /m)),
  onWanLab('chaton -y failover to main', async (_, run) =>
    assert.match(run.stdout, /^switched to main, proven end to end, in /m),
  ),
  // The watchdog: a plan, the install (asked), lines that find it done, then its removal.
  onWanLab('chaton --dry-run failover watchdog install', async (_, run) =>
    assert.match(run.stdout, /^dry-run: the command above was not run$/m),
  ),
  {
    ...onWanLab('chaton failover watchdog install', async (_, run) =>
      assert.match(run.stdout, /^changed: the watchdog runs on gw every minute /m),
    ),
    atTerminal: true,
  },
  onWanLab('chaton -y failover watchdog install', async (_, run) => assert.match(run.stdout, /^unchanged: /m)),
  onWanLab('chaton failover watchdog status', async (_, run) => assert.match(run.stdout, /^watchdog: current, on /m)),
  onWanLab('chaton --json failover watchdog status > watchdog.json', async ({ dir }) => {
    const report = JSON.parse(await readFile(path.join(dir, 'watchdog.json'), 'utf8')) as {
      watchdog: { installed: string };
    };
    assert.equal(report.watchdog.installed, 'current');
  }),
  {
    ...onWanLab('chaton failover watchdog remove', async (_, run) =>
      assert.match(run.stdout, /^changed: no watchdog left on gw/m),
    ),
    atTerminal: true,
  },
  onWanLab('chaton -y failover watchdog remove', async (_, run) =>
    assert.match(run.stdout, /^unchanged: no watchdog on gw$/m),
  ),
];

/**
 * The site's lab has no internet links and no Ceph: the failover lines run on a wan lab of their
 * own, the disk swap's on a Ceph lab, each with its inventory.
 */
let wanLab: Lab | undefined;
let cephLab: Lab | undefined;
let mirrorLab: Lab | undefined;

/** A line run against another lab's inventory; `prepare`, once that lab is up, puts what it reads in place. */
function onLab(
  lab: () => Promise<Lab>,
  line: string,
  check: NonNullable<DocumentedLine['check']>,
  prepare?: (lab: Lab) => Promise<void>,
): DocumentedLine {
  return {
    line,
    prepare: async ({ env }) => {
      const up = await lab();
      env.CHATON_INVENTORY = up.inventoryPath;
      await prepare?.(up);
    },
    check: async (site, run) => {
      delete site.env.CHATON_INVENTORY;
      await check(site, run);
    },
  };
}

function onWanLab(line: string, check: NonNullable<DocumentedLine['check']>): DocumentedLine {
  return onLab(async () => (wanLab ??= await freshLab('it-docs-wan', 1, { wan: true })), line, check);
}

function onCephLab(
  line: string,
  check: NonNullable<DocumentedLine['check']>,
  prepare?: (lab: Lab) => Promise<void>,
): DocumentedLine {
  return onLab(async () => (cephLab ??= await freshLab('it-docs-ceph', 0, { ceph: true })), line, check, prepare);
}

function onMirrorLab(
  line: string,
  check: NonNullable<DocumentedLine['check']>,
  prepare?: (lab: Lab) => Promise<void>,
): DocumentedLine {
  return onLab(mirrorSite, line, check, prepare);
}

/** A lab with disks, its resilvers and resyncs fast (a documented line waits for them). */
async function mirrorSite(): Promise<Lab> {
  if (mirrorLab) return mirrorLab;
  mirrorLab = await freshLab('it-docs-mirror', 0, { disks: true });
  await mirrorLab.setStorageRates({ resilverBytesPerSecond: 1024 ** 3, syncBytesPerSecond: 1024 ** 3 });
  return mirrorLab;
}

/**
 * Puts the disk `serial` (new, of `sizeGiB`, in a free bay) into the host's mirror in place of its
 * first disk, with chaton itself: the documented lines then name a disk by the serial they show.
 */
async function swapInto(lab: Lab, host: string, target: string[], serial: string, sizeGiB: number): Promise<void> {
  const [first] = (await lab.disks()).filter((d) => d.host === host && d.state === 'inserted');
  await lab.diskInsert(host, { serial, sizeGiB });
  const args = ['-y', 'disk', 'swap', host, ...target, '--device', first!.serial, '--new-device', serial];
  const run = await chaton(['-i', lab.inventoryPath, ...args], { env: site.env });
  assert.equal(run.code, 0, `${args.join(' ')}: ${run.stdout}\n${run.stderr}`);
  await lab.diskPull(host, first!.serial);
}

const CHECKOUT = path.dirname(path.dirname(CHATON));
const README = path.join(CHECKOUT, 'README.md');
/** The program as documented: `chaton` on the PATH, or `bin/chaton.js` in the checkout. */
const PROGRAM = /^(chaton|bin\/chaton\.js)\s/;
/**
 * A synopsis, not an example: `<placeholder>` words or `[optional parts]`. Such lines are not
 * run; the options they name must be in the --help of their command.
 */
const SYNOPSIS = /<[^\s<>]+>|(^|\s)\[/;
/**
 * `-i FILE` names a site's own inventory (/etc/chaton/site.yaml, or that of the lab named default,
 * which tests must leave alone): the test gives its own site's, the lab's.
 */
const INVENTORY_FLAG = /(^|\s)(-i|--inventory)\s+\S+/;

let site: Site;

/**
 * A line that failed: the ends of its stdout (where a report says why: the problems under its table)
 * and of its stderr come first, as CI's excerpt of a failure keeps only its head; then all of both.
 */
function failure(command: string, run: LineRun, expected: number): string {
  const end = (text: string, lines: number) => text.trimEnd().split('\n').slice(-lines).join('\n');
  return [
    `${command}: exit ${run.code}, ${expected} expected`,
    `(end of stdout)\n${end(run.stdout, 10)}`,
    `(end of stderr)\n${end(run.stderr, 4)}`,
    `(stdout)\n${run.stdout}`,
    `(stderr)\n${run.stderr}`,
  ].join('\n');
}

before(async () => {
  const lab = await freshLab('it-docs', 2);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-docs-'));
  const inventory = path.join(dir, 'chaton.yaml');
  await copyFile(lab.inventoryPath, inventory);
  const keygen = ['-q', '-t', 'ed25519', '-N', '', '-C', 'jdupont@laptop', '-f', path.join(dir, 'jdupont')];
  await promisify(execFile)('ssh-keygen', keygen);
  // `chaton` on the PATH, as `npm link` puts it there.
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'chaton'), `#!/bin/sh\nexec '${process.execPath}' '${CHATON}' "$@"\n`);
  await chmod(path.join(bin, 'chaton'), 0o755);
  const env = await sandboxEnv();
  env.PATH = [bin, path.dirname(process.execPath), env.PATH].join(':');
  // Where the completion examples write: each shell's own directory, which the user has made.
  for (const where of ['.local/share/bash-completion/completions', '.zfunc', '.config/fish/completions']) {
    await mkdir(path.join(env.HOME!, where), { recursive: true });
  }
  site = { lab, dir, inventory, env };
});
after(async () => {
  await site?.lab.down();
  await wanLab?.down();
  await cephLab?.down();
  await mirrorLab?.down();
});

describe('every documented chaton line', () => {
  it('is known to this test, and every line this test knows is still documented', async () => {
    const documented = await documentedLines(site.env);
    const known = new Set(DOCUMENTED.map((entry) => entry.line));
    const unknown = [...documented.keys()].filter((line) => !known.has(line));
    const where = unknown.map((line) => `${line} in ${documented.get(line)!.join(', ')}`).join('; ');
    assert.deepEqual(unknown, [], `documented lines this test does not know how to run (${where})`);
    const gone = [...known].filter((line) => !documented.has(line));
    assert.deepEqual(gone, [], 'lines in the test that are no longer documented');
    assert.equal(known.size, DOCUMENTED.length, 'each line once in the table');
  });

  it('synopses name only options their command has', async () => {
    for (const synopsis of (await readmeLines()).filter((line) => SYNOPSIS.test(line))) {
      const words = synopsis.split(/\s+/).slice(1);
      const commandPath = words.slice(
        0,
        words.findIndex((word) => !/^[a-z]+$/.test(word)),
      );
      const help = (await helpOf(commandPath, site.env)) + (await helpOf([], site.env));
      for (const option of synopsis.match(/--[a-z][a-z-]*/g) ?? []) {
        assert.match(help, new RegExp(`(^|[\\s,])${option}(?![a-z-])`, 'm'), `${option} of "${synopsis}"`);
      }
    }
  });

  for (const entry of DOCUMENTED) {
    it(`${entry.line}${entry.why ? ` (exit ${entry.exit}: ${entry.why})` : ''}`, async () => {
      const command = entry.mention
        ? `${entry.line} --help`
        : entry.line.replace(INVENTORY_FLAG, `$1$2 ${site.inventory}`);
      await entry.prepare?.(site);
      const run = await runLine(command, entry.atTerminal === true);
      assert.equal(run.code, entry.exit ?? 0, failure(command, run, entry.exit ?? 0));
      if (entry.atTerminal) assert.ok(run.asked, 'the line asked first, at the terminal');
      await entry.check?.(site, run);
    });
  }
});

/**
 * Runs a line through sh as pasted, from the site directory (bin/chaton.js: from the checkout);
 * at a terminal, answers its question yes, once, as a person would type it.
 */
function runLine(command: string, atTerminal: boolean): Promise<LineRun> {
  const cwd = command.startsWith('bin/') ? CHECKOUT : site.dir;
  const env = { ...site.env, SHELL: '/bin/sh' };
  // script(1) gives the line a terminal of its own; a new terminal has no size until one is set.
  const argv = atTerminal
    ? ['script', '--quiet', '--flush', '--return', '--command', `stty cols 120 rows 40 && ${command}`, '/dev/null']
    : ['sh', '-c', command];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const run: LineRun = { code: null, stdout: '', stderr: '', asked: false };
    child.stdout.on('data', (chunk: Buffer) => {
      run.stdout += chunk.toString();
      if (atTerminal && !run.asked && run.stdout.includes('(y/N)')) {
        run.asked = true;
        child.stdin.end('y\r');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    if (!atTerminal) child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...run, code }));
  });
}

/** Each documented line, with where it is documented. */
async function documentedLines(env: NodeJS.ProcessEnv): Promise<Map<string, string[]>> {
  const lines = new Map<string, string[]>();
  const add = (line: string, where: string) => lines.set(line, [...(lines.get(line) ?? []), where]);
  for (const line of await readmeLines()) if (!SYNOPSIS.test(line)) add(line, 'README.md');
  for (const commandPath of await commandPaths([], env)) {
    const where = ['chaton', ...commandPath, '--help'].join(' ');
    for (const line of examplesOf(await helpOf(commandPath, env))) add(line, where);
  }
  return lines;
}

/** The chaton lines of README.md: in code blocks, and inline code that is a whole command line. */
async function readmeLines(): Promise<string[]> {
  const text = await readFile(README, 'utf8');
  const blocks: string[] = [];
  const prose: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    // A fence may be indented, inside a list item.
    if (line.trimStart().startsWith('```')) inBlock = !inBlock;
    else (inBlock ? blocks : prose).push(line);
  }
  // An inline code span may go on over a line break, which Markdown shows as a space.
  const spans = [...prose.join('\n').matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/\s*\n\s*/g, ' '));
  return [...blocks.map((line) => line.trim()), ...spans].map(withoutComment).filter((line) => PROGRAM.test(line));
}

/** The lines after "Examples:" in a --help. */
function examplesOf(help: string): string[] {
  const after = help.split(/^Examples:\n/m)[1] ?? '';
  const block = after.split(/\n\s*\n/)[0]!;
  return block
    .split('\n')
    .map(withoutComment)
    .filter((line) => PROGRAM.test(line));
}

/** Every command path from the program's own --help: [], [inventory], [inventory, check]... */
async function commandPaths(parent: string[], env: NodeJS.ProcessEnv): Promise<string[][]> {
  const commands = (await helpOf(parent, env)).split(/^Commands:\n/m)[1]?.split(/\n\s*\n/)[0] ?? '';
  const names = [...commands.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
  const below = await Promise.all(names.map((name) => commandPaths([...parent, name], env)));
  return [parent, ...below.flat()];
}

async function helpOf(commandPath: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const run = await chaton([...commandPath, '--help'], { env });
  assert.equal(run.code, 0, run.stderr);
  return run.stdout;
}

/** A shell line without its trailing `# comment` (a # that starts a word outside quotes). */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i).trim();
    }
  }
  return line.trim();
}

/** An inventory written by `inventory init`, which chaton reads without a problem. */
function checkWritten(name: string, holds: RegExp) {
  return async ({ dir, env }: Site) => {
    const file = path.join(dir, name);
    assert.match(await readFile(file, 'utf8'), holds);
    const check = await chaton(['-i', file, 'inventory', 'check'], { env });
    assert.equal(check.code, 0, check.stderr);
  };
}

function jsonExitCode(code: number) {
  return async (_: Site, run: LineRun) => {
    assert.equal((JSON.parse(run.stdout) as { exitCode: number }).exitCode, code);
  };
}

/** check.json, as cron would leave it: every host the targets name (by their roles) reached. */
function checkJson(targeted: (roles: string[]) => boolean) {
  return async ({ dir, lab }: Site) => {
    const report = JSON.parse(await readFile(path.join(dir, 'check.json'), 'utf8')) as {
      hosts: { host: string; ok: boolean }[];
      exitCode: number;
    };
    const hosts = lab.hosts.filter((host) => targeted(host.roles)).map((host) => [host.name, true]);
    assert.deepEqual(
      report.hosts.map((h) => [h.host, h.ok]),
      hosts,
    );
    assert.equal(report.exitCode, 0);
  };
}

/** doctor's table: nothing but OK on the lab, and `reach` lines (the bastion first) only with --reach. */
function doctorTable(reach: boolean) {
  return async (_: Site, run: LineRun) => {
    assert.match(run.stdout, /^CHECK +ON +RESULT\n/, run.stdout);
    assert.doesNotMatch(run.stdout, /FAIL|WARN/);
    assert.equal(/^reach +bastion +OK: ED25519 key/m.test(run.stdout), reach, run.stdout);
  };
}

/** The completion script a line wrote where its shell looks for it (`~` is the site's HOME). */
function script(file: string, marker: string) {
  return async ({ env }: Site) => {
    assert.ok((await readFile(path.join(env.HOME!, file), 'utf8')).includes(marker), file);
  };
}

function account(host: string, passwd: RegExp) {
  return async ({ lab }: Site) => assert.match((await lab.run(host, ['getent', 'passwd', 'jdupont'])).stdout, passwd);
}

function shadow(host: string, entry: RegExp) {
  return async ({ lab }: Site) => assert.match((await lab.run(host, ['getent', 'shadow', 'jdupont'])).stdout, entry);
}
