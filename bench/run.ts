// `npm run bench`: chaton's fan-out, start-up and memory, measured side by side with OpenSSH
// and Ansible on the same lab, the same key, the same known_hosts. Prints a table of medians
// (min/max) with ratios measured in the same run, and writes the figures as JSON. Never fails
// on a figure: targets are reported, not asserted. The fan-out is measured cold, and warm beside
// it (bench/warm.ts). Then `backup verify` on a big backup site (bench/backup.ts), `failover to` on
// a wan lab (bench/failover.ts), `vm create` (bench/vm-create.ts) and `disk swap` on a Ceph lab
// (bench/disk-swap.ts); `npm run bench -- warm`, `-- backup`, `-- failover`, `-- vm` or `-- swap`
// runs that part alone.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionCommand } from '../src/lib/remote/shell.js';
import { auditedCommandLine, hostAuditTrailer, operatorName } from '../src/lib/run/audit.js';
import { labDown, labUp, type Lab, type LabHost } from '../test/lab/lab.js';
import { ensurePackages } from '../test/lab/packages.js';
import { backupBench, backupReport } from './backup.js';
import { diskSwapBench, diskSwapReport, type DiskSwapBench } from './disk-swap.js';
import { failoverBench, failoverReport, type FailoverBench } from './failover.js';
import { vmCreateBench, vmCreateReport, type VmCreateBench } from './vm-create.js';
import { CONTROL_PERSIST, warmChaton, warmOpenssh, warmReport } from './warm.js';
import { columns, figure, type Figure, REPEATS, seconds, sh, sshConfig } from './measure.js';

const CHATON = fileURLToPath(new URL('../../bin/chaton.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url));
const BENCH_PACKAGES = fileURLToPath(new URL('../../bench/debian-packages.txt', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const SIZES = [1, 20, 100];
/** 1 GiB of output, in lines of 100 bytes: what a big log or a dump looks like. */
const GIB_COMMAND = `yes '${'x'.repeat(99)}' | head -c ${1024 ** 3}`;

/** The first line of a command's output, for versions. */
function versionOf(argv: string[]): string {
  const run = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return `${run.stdout}${run.stderr}`.trim().split('\n')[0] ?? 'unknown';
}

/** The key exchange OpenSSH negotiates with a lab host (the last hop's, from ssh -v). */
function opensshKex(config: string, address: string): string {
  const run = spawnSync('ssh', ['-F', config, '-v', address, 'true'], { encoding: 'utf8' });
  return [...run.stderr.matchAll(/kex: algorithm: (\S+)/g)].pop()?.[1] ?? 'unknown';
}

function chatonKex(inventory: string, host: string): string {
  const run = spawnSync(process.execPath, [CHATON, '-i', inventory, '--json', 'hosts', 'check', host], {
    encoding: 'utf8',
  });
  return (JSON.parse(run.stdout) as { hosts: { kex?: string }[] }).hosts[0]?.kex ?? 'unknown';
}

/** `npm run bench -- warm`, `-- backup`, `-- failover`, `-- vm` or `-- swap`: that part's figures alone. */
const PARTS = ['warm', 'backup', 'failover', 'vm', 'swap'] as const;
const ONLY = PARTS.find((part) => part === process.argv[2]);
const BACKUP_ONLY = ONLY === 'backup';
/** Apart from the labs of a checkout that tests meanwhile (CHATON_LAB_PREFIX, as the tests). */
const LAB_NAME = `${process.env.CHATON_LAB_PREFIX ?? ''}bench`;

/** A part measured on a lab of its own, taken down afterwards (also on failure). */
async function onOwnLab<T>(
  name: string,
  options: { hosts: number; wan?: boolean; ceph?: boolean },
  said: string,
  part: (lab: Lab) => Promise<T>,
): Promise<T> {
  const labName = `${process.env.CHATON_LAB_PREFIX ?? ''}${name}`;
  await labDown(labName);
  process.stderr.write(`bringing up ${said}...\n`);
  const lab = await labUp({ name: labName, ...options });
  try {
    return await part(lab);
  } finally {
    await labDown(labName);
  }
}

/** The failover figures, on a wan lab: host001 sends the probe stream and proves the path. */
function failoverPart(work: string): Promise<FailoverBench> {
  return onOwnLab('bench-wan', { hosts: 1, wan: true }, 'a wan lab (an internet, two ISPs, a gateway)', (lab) =>
    failoverBench(lab, { ...process.env, XDG_STATE_HOME: work }, REPEATS),
  );
}

/** The vm create figures, on a lab without extra hosts. */
function vmPart(work: string): Promise<VmCreateBench> {
  return onOwnLab('bench-vm', { hosts: 0 }, 'a lab for vm create', (lab) =>
    vmCreateBench(lab, { ...process.env, XDG_STATE_HOME: work }, REPEATS),
  );
}

/** The disk swap figures, on a Ceph lab without extra hosts. */
function swapPart(work: string): Promise<DiskSwapBench> {
  return onOwnLab('bench-swap', { hosts: 0, ceph: true }, 'a Ceph lab for disk swap', (lab) =>
    diskSwapBench(lab, { ...process.env, XDG_STATE_HOME: work }),
  );
}

/** A part run alone: its lab, its figures printed. */
async function partReport(part: 'failover' | 'vm' | 'swap', work: string): Promise<string[]> {
  if (part === 'vm') return vmCreateReport(await vmPart(work));
  if (part === 'swap') return diskSwapReport(await swapPart(work));
  return failoverReport(await failoverPart(work));
}

async function main(): Promise<void> {
  const loadAverage = os.loadavg(); // before the bench loads the machine itself
  // The cold figures stay cold: a persist setting of the caller's would leave connections open
  // for every chaton run after the first. The warm rows set their own.
  delete process.env.CHATON_PERSIST;
  if (ONLY === 'failover' || ONLY === 'vm' || ONLY === 'swap') {
    const work = await mkdtemp(path.join(os.tmpdir(), 'chaton-bench-'));
    try {
      const report = await partReport(ONLY, work);
      process.stdout.write(`${report.join('\n')}\n`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return;
  }
  await labDown(LAB_NAME); // leftovers of an interrupted bench; needs root, like all of it
  await ensurePackages(BENCH_PACKAGES, 'the benchmark');
  const hosts = BACKUP_ONLY ? 0 : Math.max(...SIZES);
  process.stderr.write(`bringing up a lab of ${hosts + 5} hosts behind a bastion...\n`);
  const lab = await labUp({ name: LAB_NAME, hosts });
  const work = await mkdtemp(path.join(os.tmpdir(), 'chaton-bench-'));
  const cleanUp = async () => {
    await labDown(LAB_NAME);
    await rm(work, { recursive: true, force: true });
  };
  const onSignal = () => void cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (BACKUP_ONLY) await runBackupOnly(lab, work);
    else if (ONLY === 'warm') await runWarmOnly(lab, work, loadAverage);
    else await run(lab, work, loadAverage);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}

async function runBackupOnly(lab: Lab, work: string): Promise<void> {
  const config = path.join(work, 'ssh_config');
  await writeFile(config, sshConfig(lab, {}));
  const bench = await backupBench(lab, config, { ...process.env, XDG_STATE_HOME: work });
  process.stdout.write(`${backupReport(bench).join('\n')}\n`);
}

/** The lab's extra hosts (host001...), and the others (the site's infrastructure). */
function labParts(lab: Lab): { extras: LabHost[]; infrastructure: LabHost[] } {
  const extras = lab.hosts.filter((h) => h.name.startsWith('host'));
  const infrastructure = lab.hosts.filter((h) => !h.name.startsWith('host'));
  return { extras, infrastructure };
}

/** The hosts of each fan-out size: the first infrastructure host alone, then mixed, then extras. */
function fanOutTargets(lab: Lab): Map<number, LabHost[]> {
  const { extras, infrastructure } = labParts(lab);
  return new Map(
    SIZES.map((n) => [
      n,
      n === 1 ? [infrastructure[0]!] : n === 20 ? [...infrastructure, ...extras].slice(0, 20) : extras.slice(0, n),
    ]),
  );
}

/** `uptime` on every host at once, as xargs -P, ansible -f and the floor do (-j). */
function chatonExec(lab: Lab, hosts: LabHost[]): string[] {
  const names = hosts.map((h) => h.name).join(',');
  return [CHATON, '-i', lab.inventoryPath, '-q', '-y', '-j', String(hosts.length), 'exec', names, '--', 'uptime'];
}

/** A remote command line on every host at once with OpenSSH (sh), one ssh per host. */
function parallelSsh(config: string, hosts: LabHost[], remoteLine = 'uptime'): string {
  const addresses = sh(...hosts.map((h) => h.address));
  const ssh = sh('ssh', '-F', config);
  return `printf '%s\\n' ${addresses} | xargs -P ${hosts.length} -I{} ${ssh} {} ${sh(remoteLine)} > /dev/null`;
}

/** What chatonExec sends each host: `uptime` in exec's session with its audit trailer (run context's) after it. */
function chatonRemoteLine(chatonArgv: string[]): string {
  const trailer = hostAuditTrailer(operatorName(process.env), auditedCommandLine([process.execPath, ...chatonArgv]));
  return sessionCommand({ shellText: 'uptime' }, undefined, trailer).line.toString();
}

/** chaton's runs leave their audit trail in the work directory, not in root's. */
function chatonEnvIn(work: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_STATE_HOME: work };
}

/** The warm figures (chaton's keeper, OpenSSH's ControlPersist) of one fan-out size. */
async function warmFigures(lab: Lab, work: string, hosts: LabHost[], kex: { chaton: string; openssh: string }) {
  const config = path.join(work, 'ssh_config.persist');
  await writeFile(config, sshConfig(lab, { all: CONTROL_PERSIST }));
  const addresses = hosts.map((h) => h.address);
  const argv = chatonExec(lab, hosts);
  const parallelLines = {
    uptime: parallelSsh(config, hosts),
    chatonLine: parallelSsh(config, hosts, chatonRemoteLine(argv)),
  };
  return [
    ...(await warmOpenssh(work, config, addresses, parallelLines, kex.openssh)),
    await warmChaton(work, argv, chatonEnvIn(work), kex.chaton, hosts.length),
  ];
}

/** `npm run bench -- warm`: cold chaton, warm OpenSSH and warm chaton at each fan-out size. */
async function runWarmOnly(lab: Lab, work: string, loadAverage: number[]): Promise<void> {
  const config = path.join(work, 'ssh_config');
  await writeFile(config, sshConfig(lab, {}));
  const kex = {
    chaton: chatonKex(lab.inventoryPath, lab.hosts[0]!.name),
    openssh: opensshKex(config, lab.hosts[0]!.address),
  };
  const figures: Figure[] = [];
  for (const [size, hosts] of fanOutTargets(lab)) {
    process.stderr.write(`${size} host${size === 1 ? '' : 's'}:\n`);
    figures.push(
      await figure('chaton exec', 'chaton', kex.chaton, size, chatonExec(lab, hosts), { env: chatonEnvIn(work) }),
    );
    figures.push(...(await warmFigures(lab, work, hosts, kex)));
  }
  // Figures taken while other work loads the machine say less: its load is said with them.
  const load = loadAverage.map((l) => l.toFixed(2)).join(' ');
  const machine = `machine: ${os.availableParallelism()} CPUs, load average before ${load}`;
  const out = [machine, '', ...fanOutTable(figures), '', ...warmReport(figures, SIZES)];
  process.stdout.write(`${out.join('\n')}\n`);
}

async function run(lab: Lab, work: string, loadAverage: number[]): Promise<void> {
  const chatonEnv = chatonEnvIn(work);
  const targets = fanOutTargets(lab);

  const configs = {
    default: path.join(work, 'ssh_config'),
    curve25519: path.join(work, 'ssh_config.curve25519'),
    master: path.join(work, 'ssh_config.master'),
    masterCurve25519: path.join(work, 'ssh_config.master.curve25519'),
  };
  const curve = ['  KexAlgorithms curve25519-sha256'];
  // ssh expands ${...} in ControlPath: each run gets its own directory, so each starts cold.
  const master = ['  ControlPath ${CHATON_BENCH_CONTROL}/master-%C', '  ControlMaster auto'];
  await writeFile(configs.default, sshConfig(lab, {}));
  await writeFile(configs.curve25519, sshConfig(lab, { all: curve }));
  await writeFile(configs.master, sshConfig(lab, { bastion: master }));
  await writeFile(configs.masterCurve25519, sshConfig(lab, { bastion: master, all: curve }));
  const { extras, infrastructure } = labParts(lab);
  const ansibleInventory = path.join(work, 'ansible.ini');
  await writeFile(
    ansibleInventory,
    [
      '[lab]',
      ...extras.map((h) => h.address),
      ...infrastructure.map((h) => h.address),
      '[lab:vars]',
      `ansible_ssh_common_args='-F ${configs.default}'`,
      'ansible_python_interpreter=/usr/bin/python3',
      '',
    ].join('\n'),
  );

  const firstHost = lab.hosts[0]!.address;
  const kex = {
    chaton: chatonKex(lab.inventoryPath, lab.hosts[0]!.name),
    openssh: opensshKex(configs.default, firstHost),
    opensshCurve: opensshKex(configs.curve25519, firstHost),
  };
  process.stderr.write('start-up:\n');
  const startup = [
    await figure('node -e 0', 'node', '-', 0, [process.execPath, '-e', '0']),
    await figure('chaton --help', 'chaton', '-', 0, [CHATON, '--help'], { env: chatonEnv }),
    await figure(
      'chaton inventory check (lab, 105 hosts)',
      'chaton',
      '-',
      0,
      [CHATON, '-i', lab.inventoryPath, 'inventory', 'check'],
      { env: chatonEnv },
    ),
  ];
  process.stderr.write('memory:\n');
  // Through a pipe, where writes can be refused and flow control has to work (/dev/null never refuses).
  const gibLine = sh(CHATON, '-i', lab.inventoryPath, '-q', 'exec', lab.hosts[0]!.name, '--', GIB_COMMAND);
  const gib = await figure(
    'chaton exec printing 1 GiB, | cat',
    'chaton',
    kex.chaton,
    1,
    ['sh', '-c', `${gibLine} | cat > /dev/null`],
    { env: chatonEnv },
  );

  const figures: Figure[] = [];
  for (const [size, hosts] of targets) {
    const names = hosts.map((h) => h.name).join(',');
    const addresses = sh(...hosts.map((h) => h.address));
    const parallel = (config: string) => parallelSsh(config, hosts);
    const withMaster = (config: string) =>
      `export CHATON_BENCH_CONTROL=$(${sh('mktemp', '-d', '-p', work)}) && ${sh('ssh', '-F', config)} -fNM bastion && ${parallel(config)}; status=$?; ${sh('ssh', '-F', config)} -O exit bastion 2>/dev/null; exit $status`;
    process.stderr.write(`${size} host${size === 1 ? '' : 's'}:\n`);
    figures.push(await figure('chaton exec', 'chaton', kex.chaton, size, chatonExec(lab, hosts), { env: chatonEnv }));
    figures.push(
      await figure('ssh2 minimal client (floor)', 'floor', kex.chaton, size, [
        process.execPath,
        FLOOR,
        lab.bastion.address,
        lab.operatorKeyPath,
        ...hosts.map((h) => h.address),
      ]),
    );
    // The same fan-out without the audit trail's syslog line (a second session per host).
    figures.push(
      await figure(
        'chaton hosts check (no audit line)',
        'chaton-read-only',
        kex.chaton,
        size,
        [CHATON, '-i', lab.inventoryPath, '-q', '-j', String(size), 'hosts', 'check', names],
        { env: chatonEnv },
      ),
    );
    for (const [flavour, config, kexName] of [
      ['', configs.default, kex.openssh],
      [' (curve25519)', configs.curve25519, kex.opensshCurve],
    ] as const) {
      figures.push(
        await figure(`ssh -J, one after another${flavour}`, 'openssh', kexName, size, [
          'sh',
          '-c',
          `for h in ${addresses}; do ${sh('ssh', '-F', config)} "$h" uptime > /dev/null || exit 1; done`,
        ]),
      );
      figures.push(
        await figure(`ssh -J, parallel${flavour}`, 'openssh', kexName, size, ['sh', '-c', parallel(config)]),
      );
      const masterConfig = config === configs.default ? configs.master : configs.masterCurve25519;
      figures.push(
        await figure(`ssh, ControlMaster on bastion${flavour}`, 'openssh', kexName, size, [
          'sh',
          '-c',
          withMaster(masterConfig),
        ]),
      );
    }
    figures.push(...(await warmFigures(lab, work, hosts, kex)));
    // Each run starts cold: its own ControlPath directory (Ansible's masters would otherwise
    // outlive a run and make the next one warm, which a cron job never is).
    const controlDir = await mkdtemp(path.join(work, 'ansible-cp-'));
    const ansible = `d=$(${sh('mktemp', '-d', '-p', controlDir)}) && ANSIBLE_SSH_CONTROL_PATH_DIR=$d ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=1s' exec ${sh('ansible', 'all', '-i', ansibleInventory, '-l', hosts.map((h) => h.address).join(','), '-m', 'command', '-a', 'uptime', '-f', String(size))} > /dev/null`;
    const ansibleEnv = { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1' };
    figures.push(
      await figure('ansible -m command', 'ansible', `${kex.openssh} (OpenSSH)`, size, ['sh', '-c', ansible], {
        env: ansibleEnv,
      }),
    );
    // Tuned: one SSH round trip per host instead of several (and no sftp).
    figures.push(
      await figure(
        'ansible -m command (pipelining)',
        'ansible',
        `${kex.openssh} (OpenSSH)`,
        size,
        ['sh', '-c', ansible],
        { env: { ...ansibleEnv, ANSIBLE_PIPELINING: 'True' } },
      ),
    );
  }

  const machine = {
    cpus: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    loadAverageBefore: loadAverage,
    commit: versionOf(['git', '-C', path.dirname(CHATON), 'rev-parse', '--short', 'HEAD']),
    repeats: REPEATS,
    node: process.version,
    openssh: versionOf(['ssh', '-V']),
    ansible: versionOf(['ansible', '--version']),
  };
  const backup = await backupBench(lab, configs.default, chatonEnv);
  const failover = await failoverPart(work);
  const vmCreate = await vmPart(work);
  const diskSwap = await swapPart(work);
  printReport(figures, startup, gib, machine, kex);
  process.stdout.write(`\n${backupReport(backup).join('\n')}\n`);
  process.stdout.write(`\n${failoverReport(failover).join('\n')}\n`);
  process.stdout.write(`\n${vmCreateReport(vmCreate).join('\n')}\n`);
  process.stdout.write(`\n${diskSwapReport(diskSwap).join('\n')}\n`);
  await mkdir(RESULTS, { recursive: true });
  const document = JSON.stringify(
    {
      date: new Date().toISOString(),
      ...{ machine, kex, fanOut: figures, startup, gib, backup, failover, vmCreate, diskSwap },
    },
    null,
    2,
  );
  await writeFile(path.join(RESULTS, 'latest.json'), `${document}\n`);
  await writeFile(path.join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`), `${document}\n`);
  process.stdout.write(`\nfigures written to ${path.join(RESULTS, 'latest.json')}\n`);
}

/** One row per figure, with its ratio to the (cold) chaton exec of the same size. */
function fanOutTable(figures: Figure[]): string[] {
  const rows = [['scenario', 'hosts', 'median', 'min', 'max', 'x chaton exec', 'kex']];
  for (const f of figures) {
    const chaton = figures.find((c) => c.client === 'chaton' && c.hosts === f.hosts)!;
    rows.push([
      f.scenario,
      String(f.hosts),
      seconds(f.median),
      seconds(f.min),
      seconds(f.max),
      (f.median / chaton.median).toFixed(2),
      f.kex,
    ]);
  }
  return columns(rows);
}

function printReport(
  figures: Figure[],
  startup: Figure[],
  gib: Figure,
  machine: Record<string, unknown>,
  kex: Record<string, string>,
): void {
  const out: string[] = [];
  out.push(`machine: ${machine.cpus} CPUs, node ${machine.node}, ${machine.openssh}, ${machine.ansible}`);
  out.push(
    `key exchange negotiated: chaton ${kex.chaton}; OpenSSH ${kex.openssh} by default, ${kex.opensshCurve} when told`,
  );
  out.push('');
  out.push(...fanOutTable(figures));
  out.push('');
  out.push(...warmReport(figures, SIZES));
  out.push('');
  const node = startup[0]!;
  out.push(
    ...columns([
      ['start-up', 'median', 'min', 'max', 'x node -e 0'],
      ...startup.map((f) => [
        f.scenario,
        seconds(f.median),
        seconds(f.min),
        seconds(f.max),
        (f.median / node.median).toFixed(2),
      ]),
    ]),
  );
  out.push('');
  const fanOut100 = figures.find((f) => f.client === 'chaton' && f.hosts === 100)!;
  out.push(
    `peak RSS: chaton exec on 100 hosts ${Math.round(fanOut100.peakRssKb / 1024)} MB; printing 1 GiB ${Math.round(gib.peakRssKb / 1024)} MB in ${seconds(gib.median)} (${Math.round(1024 / (gib.median / 1000))} MiB/s)`,
  );
  out.push('');
  out.push(...targets(figures, startup, gib));
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The targets of the benchmark issue, each with its figure and whether it is met. */
function targets(figures: Figure[], startup: Figure[], gib: Figure): string[] {
  const chaton = (n: number) => figures.find((f) => f.client === 'chaton' && f.hosts === n)!;
  const bestOpenssh = (n: number) =>
    Math.min(...figures.filter((f) => f.client === 'openssh' && f.hosts === n).map((f) => f.median));
  // Ansible at its best (pipelining), as OpenSSH is judged by its best variant.
  const ansible = (n: number) =>
    Math.min(...figures.filter((f) => f.client === 'ansible' && f.hosts === n).map((f) => f.median));
  const [node, help, check] = startup as [Figure, Figure, Figure];
  const checks: [string, boolean, string][] = [
    ['20 hosts <= 0.45 s', chaton(20).median <= 450, seconds(chaton(20).median)],
    [
      '20 hosts no slower than the best OpenSSH',
      chaton(20).median <= bestOpenssh(20),
      `${seconds(chaton(20).median)} vs ${seconds(bestOpenssh(20))}`,
    ],
    [
      '20 hosts >= 10x faster than Ansible',
      ansible(20) / chaton(20).median >= 10,
      `${(ansible(20) / chaton(20).median).toFixed(1)}x`,
    ],
    ['100 hosts <= 1.5 s', chaton(100).median <= 1500, seconds(chaton(100).median)],
    [
      '100 hosts peak RSS <= 150 MB',
      chaton(100).peakRssKb <= 150 * 1024,
      `${Math.round(chaton(100).peakRssKb / 1024)} MB`,
    ],
    ['--help <= 120 ms', help.median <= 120, seconds(help.median)],
    ['--help <= 2.5x node -e 0', help.median <= 2.5 * node.median, `${(help.median / node.median).toFixed(2)}x`],
    ['inventory check <= 200 ms', check.median <= 200, seconds(check.median)],
    ['1 GiB of output: peak RSS <= 120 MB', gib.peakRssKb <= 120 * 1024, `${Math.round(gib.peakRssKb / 1024)} MB`],
  ];
  return columns([
    ['target', 'met', 'measured'],
    ...checks.map(([what, met, value]) => [what, met ? 'yes' : 'NO', value]),
  ]);
}

await main();
