// The lab's supervisor: `node supervisor.js <stateDir>`, started detached by `up`. It builds the
// lab, owns every host's processes (PID 1 is no real init here: someone must reap them), serves
// each host's /dev/log and the control socket, and dismantles the lab on SIGTERM.
//
// A host is a "holder" process (a shell, pid 1 of the host's own pid namespace, holding its
// mount, UTS and pid namespaces inside the host's network namespace) plus an sshd entered into
// those namespaces: `pgrep -u alice` on a host sees that host's processes only. Stopping sshd thus
// leaves the host's mounts, /run and processes as they are, like on a real machine.
import { once } from 'node:events';
import { closeSync, createWriteStream, writeSync } from 'node:fs';
import {
  appendFile,
  chmod,
  chown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { CephCluster } from './ceph.js';
import { DiskLab } from './disks.js';
import type {
  CephOp,
  CephRequest,
  DiskOp,
  DiskRequest,
  ControlAnswer,
  ControlRequest,
  ControlResponse,
  HostOp,
  IspOp,
  Json,
  VmOp,
  VmRequest,
  VmSpec,
} from './control.js';
import { ifExists } from './if-exists.js';
import { childOf } from './processes.js';
import {
  etcHosts,
  hostFstab,
  inventoryYaml,
  knownHosts,
  LAB_TIMEZONE,
  LOCAL_ZONE_ROLES,
  namedConf,
  namedFiles,
  siteZone,
  sshdConfig,
  resolvConf,
  sshdListenAddress,
  vmLabConfig,
} from './lab-files.js';
import { enterNetnsArgs, inNetns, NETNS_DIR, setLinkState } from './netns.js';
import { addVmNetwork, createLabNetwork, lanRoutes, removeVmNetwork } from './network.js';
import { forEachLimit, SPAWN_CONCURRENCY } from './parallel.js';
import { dismantleLab } from './registry.js';
import {
  guestMac,
  installStandins,
  joinClusterSsh,
  newPbsServerSecrets,
  preparePbsHost,
  preparePveHost,
  writeClusterFiles,
} from './pve-lab.js';
import {
  activeRoles,
  hasDisks,
  enterHostArgs,
  GATEWAY_HOST,
  HOST_SESSION_ENV,
  hostPaths,
  LAB_ROOT,
  labPlan,
  OVERLAID_DIRS,
  overlayLayers,
  VM_LAB_CONFIG,
  vmDir,
  vmHost,
  vmNetns,
  type HostState,
  type LabConfig,
  type LabState,
  type PlannedHost,
  type VmState,
  type WanLayout,
  type WanLinkName,
} from './topology.js';
import { DEFAULT_AGENT_DELAY_MS, mergeVmFaults, readVmFaults, recordWait } from './vm-faults.js';
import { setUplinkState } from './wan-network.js';

/**
 * `up` passes a pipe as fd 3 and reads one JSON line, {"ready":true} or {"error":"..."}, then
 * end-of-file. Node makes inherited descriptors above 2 close-on-exec, so no host process keeps
 * it open: `up` sees end-of-file as soon as this process reports, or dies.
 */
const REPORT_FD = 3;
const STARTUP_TIMEOUT_MS = 10_000;
const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const DEV_LINKS: [string, string][] = [
  ['ptmx', 'pts/ptmx'],
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
  ['log', '/run/systemd/journal/dev-log'],
];

/**
 * Run by the holder inside the host's new mount and UTS namespaces. $1: host directory, $2: host
 * name, $3: /dev template, $4: the lab's state directory. Prints "mounted", then holds the
 * namespaces.
 */
const HOLDER_SCRIPT = `
# This namespace got copies of every mount: those of the network namespaces and of the other labs'
# state directories would keep them alive as long as this host lives.
other_labs=
while read -r _ _ _ _ target _; do
  case $target in
    "$4" | "$4"/*) ;;
    ${LAB_ROOT}/*) other_labs="$other_labs $target" ;;
  esac
done < /proc/self/mountinfo
umount --lazy /run/netns
# Another lab may be going down at this very moment: its mounts may already be gone.
for target in $other_labs; do umount --lazy "$target" 2> /dev/null || true; done
mount -t tmpfs -o mode=755,nosuid tmpfs "$1/dev"
cp -a "$3/." "$1/dev/"
mount -a -T "$1/fstab"
echo "$2" > /proc/sys/kernel/hostname
# Its own process list: this shell is pid 1 of the host's pid namespace. Its pid as the machine
# sees it (through the machine's /proc, still mounted) is what nsenter needs to join the host.
read -r machine_pid _ < /proc/self/stat
mount -t proc -o nosuid,nodev,noexec proc /proc
echo "mounted $machine_pid"
# As pid 1, reap the orphans (sessions whose sshd went away) until told to stop.
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait; done
`;

/** A running host's processes: its holder and its sshd. */
interface HostProcesses {
  plan: PlannedHost;
  holderPid: number;
  sshd: ResultPromise | undefined;
  /** sshd's own pid (runtime.sshd is the nsenter that started it in the host's pid namespace). */
  sshdPid?: number;
}

interface HostRuntime extends HostProcesses {
  /** Control operations on one host run one after the other. */
  queue: Promise<unknown>;
}

/** A started VM's host (its operations are queued by VMID): its guest agent answers from agentReadyAt on. */
interface VmRuntime extends HostProcesses {
  vmid: number;
  syslog: Server;
  agentReadyAt: number;
}

const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: node supervisor.js <lab state directory>\n');
  process.exit(2);
}
process.chdir('/');
process.umask(0o022);
const config = JSON.parse(await readFile(join(stateDir, 'lab.json'), 'utf8')) as LabConfig;
const plan = labPlan(config);
/** The lab's PBS server's password and certificate: the server's, and its storage's in the cluster. */
const pbsSecrets = newPbsServerSecrets();
const { paths } = plan;
const runtimes = new Map<string, HostRuntime>();
const diskLab = hasDisks(config) ? new DiskLab(plan, (name) => runtimes.get(name), log) : undefined;
const ceph = config.ceph && diskLab ? new CephCluster(plan, (name) => runtimes.get(name), diskLab, log) : undefined;
const vms = new Map<number, VmRuntime>();
/** Operations on one VMID run one after the other, whether its host exists yet or not. */
const vmQueues = new Map<number, Promise<unknown>>();
const servers: Server[] = [];
let stateWrites = Promise.resolve();
const aborter = new AbortController();
let stopping: Promise<void> | undefined;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

function keygenArgs(keyPath: string, comment: string): string[] {
  return ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', keyPath];
}

async function makeDir(path: string, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  if (mode & 0o022) await chmod(path, mode); // the umask took those bits off
}

/** Resolves when the process has exited (or failed to start), whatever its inherited pipes do. */
function exitOf(subprocess: ResultPromise): Promise<unknown> {
  return new Promise((resolve) => {
    subprocess.once('exit', resolve);
    void subprocess.then(resolve); // never rejects (reject: false), settles after a failed spawn too
  });
}

/** Resolves with the output once `pattern` shows up in it; rejects if the process exits first or on time-out. */
function waitForOutput(output: Readable, pattern: RegExp, exited: Promise<unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      output.off('data', onData);
      aborter.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (pattern.test(text)) finish();
    };
    const onAbort = (): void => finish(new Error('the lab is stopping'));
    const timer = setTimeout(
      () => finish(new Error(`not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)),
      STARTUP_TIMEOUT_MS,
    );
    output.on('data', onData);
    aborter.signal.addEventListener('abort', onAbort);
    void exited.then(() => finish(new Error('exited before it was ready')));
  });
}

async function prepareDevTemplate(): Promise<void> {
  await makeDir(paths.devTemplate);
  await execa('cp', ['-a', ...DEVICES.map((name) => `/dev/${name}`), paths.devTemplate]);
  await Promise.all([
    makeDir(join(paths.devTemplate, 'pts')),
    makeDir(join(paths.devTemplate, 'shm'), 0o1777),
    ...DEV_LINKS.map(([name, target]) => symlink(target, join(paths.devTemplate, name))),
  ]);
}

/** Login records that sshd keeps (UsePAM no): Debian's modes, group utmp. */
const LOGIN_RECORDS: [string, number][] = [
  ['log/wtmp', 0o664],
  ['log/btmp', 0o660],
  ['log/lastlog', 0o664],
  ['run/utmp', 0o664],
];

async function groupId(group: string): Promise<number> {
  const line = (await readFile('/etc/group', 'utf8')).split('\n').find((entry) => entry.startsWith(`${group}:`));
  return Number(line?.split(':')[2] ?? 0);
}

interface HostFiles {
  /** root's authorized_keys (the operator's key on lab hosts; a VM's are cloud-init's, written when it boots). */
  rootAuthorizedKeys: string;
  utmpGid: number;
}

/** The lab's /etc/pve as the design's cluster has it (see pve-lab.ts): nodes, storage, jobs, guests. */
async function preparePveCluster(): Promise<void> {
  await Promise.all([makeDir(paths.pveCluster), makeDir(paths.backupExport), makeDir(paths.vmData)]);
  await writeClusterFiles(paths.pveCluster, plan, pbsSecrets, paths.vmData);
}

/** What the pve hosts share with the supervisor: the directory bound into them, an empty faults file, no waits yet. */
async function prepareVmLab(): Promise<void> {
  await Promise.all([makeDir(paths.vmLab.dir), makeDir(paths.vmsDir)]);
  await Promise.all([mergeVmFaults(paths.vmLab.faults, {}), writeFile(paths.vmLab.waitsLog, '')]);
}

/** A host's role-specific files: its stand-in tools, a pve node's storage, the PBS server of `backup`. */
async function prepareRoles(host: PlannedHost): Promise<void> {
  const files = hostPaths(host.dir);
  await installStandins(files.usrLocalUpper, activeRoles(plan, host));
  if (host.roles.includes('pve')) {
    await Promise.all([
      makeDir(join(files.etcUpper, 'pve')),
      preparePveHost(host, plan, pbsSecrets),
      (async () => {
        const configFile = join(files.etcUpper, relative('/etc', VM_LAB_CONFIG));
        await makeDir(dirname(configFile));
        await writeFile(configFile, vmLabConfig());
      })(),
    ]);
  }
  if (host.roles.includes('backup')) await preparePbsHost(host, paths.backupExport, pbsSecrets);
}

/** What pve-guests.service does when a node boots: start the guests marked onboot. */
async function bootPveNode(runtime: HostRuntime): Promise<void> {
  await inHost(runtime, ['pvesh', '--nooutput', 'create', '/nodes/localhost/startall']);
}

/** Everything a host needs on disk before its mounts: layers, home directories, keys, config. */
async function prepareHost(host: PlannedHost, { rootAuthorizedKeys, utmpGid }: HostFiles): Promise<void> {
  const { dir } = host;
  const files = hostPaths(dir);
  await Promise.all([
    ...OVERLAID_DIRS.flatMap((target) => Object.values(overlayLayers(dir, target)).map((path) => makeDir(path))),
    makeDir(join(files.etcUpper, 'ssh')),
    makeDir(join(dir, 'home')),
    makeDir(join(files.root, '.ssh'), 0o700),
    makeDir(join(dir, 'tmp'), 0o1777),
    makeDir(files.log),
    makeDir(join(files.run, 'sshd')),
    makeDir(join(files.run, 'lock'), 0o1777),
    makeDir(join(files.run, 'systemd', 'journal')),
    makeDir(files.dev),
  ]);
  await Promise.all([
    writeFile(join(files.etcUpper, 'hostname'), `${host.name}\n`),
    writeFile(join(files.etcUpper, 'hosts'), etcHosts(plan, host)),
    writeFile(join(files.etcUpper, 'ssh', 'sshd_config'), sshdConfig(sshdListenAddress(plan, host))),
    writeFile(join(files.root, '.ssh', 'authorized_keys'), rootAuthorizedKeys, { mode: 0o600 }),
    writeFile(files.fstab, hostFstab(host, paths, activeRoles(plan, host))),
    prepareRoles(host),
    ...(host.roles.some((role) => LOCAL_ZONE_ROLES.includes(role)) ? [setTimezone(files.etcUpper)] : []),
    execa('ssh-keygen', keygenArgs(files.hostKey, `root@${host.name}`)),
    hideMachineHostKeys(join(files.etcUpper, 'ssh')),
    ...LOGIN_RECORDS.map(async ([file, mode]) => {
      const path = join(dir, file);
      await writeFile(path, '', { mode });
      await chown(path, 0, utmpGid);
    }),
  ]);
}

/** The host's zone, as `dpkg-reconfigure tzdata` sets it: chaton reads the link's target. */
async function setTimezone(etcUpper: string): Promise<void> {
  await Promise.all([
    symlink(`/usr/share/zoneinfo/${LAB_TIMEZONE}`, join(etcUpper, 'localtime')),
    writeFile(join(etcUpper, 'timezone'), `${LAB_TIMEZONE}\n`),
  ]);
}

/**
 * The machine's own host keys must not show through a host's /etc overlay: each gets a whiteout
 * (a 0/0 character device in the upper layer), except the ed25519 pair each host writes itself.
 */
async function hideMachineHostKeys(sshUpper: string): Promise<void> {
  const machineKeys = (await readdir('/etc/ssh')).filter((name) => /^ssh_host_(?!ed25519_)\w+_key/.test(name));
  await Promise.all(machineKeys.map((name) => execa('mknod', [join(sshUpper, name), 'c', '0', '0'])));
}

/** BIND's files, and the TSIG key that both BIND and the gateway hold (the gateway's in its /etc). */
async function prepareDns(wan: WanLayout, gateway: PlannedHost): Promise<void> {
  const { dns } = wan;
  const files = namedFiles(dns);
  const gatewayKey = join(hostPaths(gateway.dir).etcUpper, relative('/etc', dns.keyFile));
  const [{ stdout: key }] = await Promise.all([
    execa('tsig-keygen', ['-a', 'hmac-sha256', dns.keyName]),
    makeDir(dns.dir),
    makeDir(dirname(gatewayKey)),
  ]);
  await Promise.all([
    writeFile(files.conf, namedConf(dns)),
    writeFile(files.zone, siteZone(wan)),
    ...[files.key, gatewayKey].map((path) => writeFile(path, `${key}\n`, { mode: 0o600 })),
  ]);
}

/** BIND in the internet namespace, in the foreground (no systemd here); down ends it with the namespace. */
async function startNamed(wan: WanLayout): Promise<void> {
  const files = namedFiles(wan.dns);
  const named = execa(
    'nsenter',
    enterNetnsArgs(wan.internetNetns, ['/usr/sbin/named', '-g', '-4', '-n', '1', '-c', files.conf]),
    { stdin: 'ignore', stdout: 'ignore', buffer: false, reject: false },
  );
  const logFile = createWriteStream(files.log, { flags: 'a' });
  logFile.on('error', (error) => log(`named: ${error.message}`));
  named.stderr.pipe(logFile);
  const exited = exitOf(named);
  try {
    await waitForOutput(named.stderr, /\brunning\n/, exited);
  } catch (error) {
    named.kill('SIGKILL');
    await exited;
    throw new Error(`named did not start (${(error as Error).message}): see ${files.log}`);
  }
  void exited.then(() => stopping || log(`named (pid ${named.pid}) exited on its own`));
}

/** Where a wan lab's gateway has busybox as `sh`: its root login shell, as on small routers. */
const BUSYBOX_SH = '/usr/local/lib/busybox/sh';

/** So that what chaton sends the gateway is proven POSIX: busybox picks its applet from the name `sh`. */
async function useBusyboxLoginShell(runtime: HostRuntime): Promise<void> {
  const script = 'mkdir -p "${1%/*}" && ln -s /bin/busybox "$1" && add-shell "$1" && usermod --shell "$1" root';
  await inHost(runtime, ['sh', '-ec', script, 'sh', BUSYBOX_SH]);
}

/** Appends each message of a syslog(3)/logger stream connection to the host's /var/log/syslog. */
async function serveSyslog({ name, dir }: PlannedHost): Promise<Server> {
  const { devLogSocket, syslog } = hostPaths(dir);
  let writes = Promise.resolve(); // in arrival order
  const record = (messages: string[]): void => {
    const lines = messages
      .filter((message) => message.length > 0)
      .map((message) => `${new Date().toISOString()} ${name} ${message.replace(/^<\d{1,3}>/, '')}\n`);
    if (lines.length === 0) return;
    writes = writes
      .then(() => appendFile(syslog, lines.join('')))
      .catch((error: Error) => log(`${name}: syslog: ${error.message}`));
  };
  const server = createServer((connection) => {
    let pending = '';
    connection.setEncoding('utf8');
    // logger ends each message with a newline, glibc's syslog(3) with a NUL.
    connection.on('data', (chunk: string) => {
      const messages = (pending + chunk).split(/[\n\0]/);
      pending = messages.pop() ?? '';
      record(messages);
    });
    connection.on('end', () => record([pending]));
    connection.on('error', (error) => log(`${name}: syslog connection: ${error.message}`));
  });
  servers.push(server);
  await rm(devLogSocket, { force: true }); // a VM's, left by its previous boot
  server.listen(devLogSocket);
  await once(server, 'listening');
  await chmod(devLogSocket, 0o666); // anyone on the host may log
  return server;
}

async function startHolder(host: PlannedHost): Promise<number> {
  const holder = execa(
    'nsenter',
    [
      `--net=${join(NETNS_DIR, host.netns)}`,
      ...['unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--propagation', 'private', '--'],
      ...['sh', '-ec', HOLDER_SCRIPT, 'lab-host', host.dir, host.name, paths.devTemplate, paths.stateDir],
    ],
    { stdin: 'ignore', buffer: { stdout: false }, reject: false, extendEnv: false, env: HOST_SESSION_ENV },
  );
  try {
    const [, pid] = /^mounted (\d+)$/m.exec(await waitForOutput(holder.stdout, /^mounted \d+$/m, exitOf(holder)))!;
    return Number(pid);
  } catch (error) {
    holder.kill('SIGKILL');
    const { stderr } = await holder;
    throw new Error(`${host.name}: could not set up its mounts (${(error as Error).message}): ${stderr}`);
  }
}

async function startSshd(runtime: HostProcesses): Promise<void> {
  if (runtime.sshd) return;
  const { name, dir } = runtime.plan;
  const { sshdLog } = hostPaths(dir);
  const sshd = execa(
    'nsenter',
    enterHostArgs(runtime.holderPid, ['/usr/sbin/sshd', '-D', '-e', '-f', '/etc/ssh/sshd_config']),
    {
      stdin: 'ignore',
      stdout: 'ignore',
      buffer: false,
      reject: false,
      extendEnv: false,
      env: HOST_SESSION_ENV,
    },
  );
  const logFile = createWriteStream(sshdLog, { flags: 'a' });
  logFile.on('error', (error) => log(`${name}: ${error.message}`));
  sshd.stderr.pipe(logFile);
  const exited = exitOf(sshd);
  try {
    await waitForOutput(sshd.stderr, /Server listening on /, exited);
  } catch (error) {
    sshd.kill('SIGKILL');
    await exited;
    const logTail = (await readFile(sshdLog, 'utf8')).split('\n').slice(-10).join('\n');
    throw new Error(`${name}: sshd did not start (${(error as Error).message}); ${sshdLog} ends with:\n${logTail}`);
  }
  runtime.sshd = sshd;
  runtime.sshdPid = await childOf(sshd.pid!);
  void exited.then(() => {
    if (runtime.sshd !== sshd || stopping) return; // stopped on purpose
    log(`${name}: sshd (pid ${sshd.pid}) exited on its own`);
    runtime.sshd = undefined;
    saveState();
  });
}

async function stopSshd(runtime: HostProcesses): Promise<void> {
  const { sshd } = runtime;
  if (!sshd) return;
  runtime.sshd = undefined;
  const exited = exitOf(sshd);
  // (nsenter, which entered the host's pid namespace, passes no signal on: sshd itself is told.)
  if (runtime.sshdPid) process.kill(runtime.sshdPid, 'SIGTERM');
  else sshd.kill('SIGTERM');
  runtime.sshdPid = undefined;
  await exited;
  // Its sessions too: the host can no longer be reached over SSH, not even on a connection
  // opened before (a keeper's, ssh.persist), as when it crashes or goes down. sshd's
  // `systemctl stop ssh` alone would leave them: a ControlPersist master would live on too.
  await execa('nsenter', enterHostArgs(runtime.holderPid, ['pkill', '-KILL', '-x', 'sshd']), {
    ...sessionOptions(),
    reject: false,
  });
}

/** A root session's environment on the host, stdin empty unless `input` is given. */
function sessionOptions(input?: string) {
  return {
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
    extendEnv: false,
    env: HOST_SESSION_ENV,
  };
}

async function inHost(runtime: HostProcesses, argv: string[], { input }: { input?: string } = {}): Promise<string> {
  const { stdout } = await execa('nsenter', enterHostArgs(runtime.holderPid, argv), sessionOptions(input));
  return stdout;
}

/** Its output as bytes (a file may be binary). */
async function inHostBytes(runtime: HostProcesses, argv: string[]): Promise<Buffer> {
  const options = { ...sessionOptions(), encoding: 'buffer', stripFinalNewline: false } as const;
  const { stdout } = await execa('nsenter', enterHostArgs(runtime.holderPid, argv), options);
  return Buffer.from(stdout);
}

/** A new host key, made on the host itself (its /etc is an overlay), and sshd restarted with it. */
async function rekey(runtime: HostRuntime): Promise<string> {
  await inHost(runtime, ['rm', '-f', HOST_KEY, `${HOST_KEY}.pub`]);
  await inHost(runtime, ['ssh-keygen', ...keygenArgs(HOST_KEY, `root@${runtime.plan.name}`)]);
  await stopSshd(runtime);
  await startSshd(runtime);
  return hostKeyFingerprint(runtime.plan);
}

/** "SHA256:..." of the host's key, read in its /etc upper layer (where the host writes it). */
async function hostKeyFingerprint(host: PlannedHost): Promise<string> {
  const { stdout } = await execa('ssh-keygen', ['-l', '-f', `${hostPaths(host.dir).hostKey}.pub`]);
  const fingerprint = stdout.split(' ')[1];
  if (!fingerprint) throw new Error(`${host.name}: ssh-keygen printed no fingerprint`);
  return fingerprint;
}

function hostState(runtime: HostRuntime): HostState {
  const { name, address, netns, roles } = runtime.plan;
  return { name, address, netns, roles, holderPid: runtime.holderPid, sshdPid: runtime.sshdPid ?? null };
}

function vmState({ vmid, plan: { name, address, netns }, holderPid, sshdPid }: VmRuntime): VmState {
  return { vmid, name, address, netns, holderPid, sshdPid: sshdPid ?? null };
}

/** Rewrites state.json (atomically: readers never see half a file), in call order. */
function saveState(): void {
  if (stopping) return; // the state directory is about to go
  const stateOf = (host: PlannedHost): HostState => {
    const runtime = runtimes.get(host.name);
    if (!runtime) throw new Error(`${host.name} has not started`);
    return hostState(runtime);
  };
  const state: LabState = {
    ...config,
    supervisorPid: process.pid,
    bastion: stateOf(plan.bastion),
    hosts: plan.hosts.map(stateOf),
    vms: [...vms.values()].sort((a, b) => a.vmid - b.vmid).map(vmState),
  };
  const temporary = `${paths.stateFile}.tmp`;
  stateWrites = stateWrites
    .then(() => writeFile(temporary, JSON.stringify(state, null, 2) + '\n'))
    .then(() => rename(temporary, paths.stateFile))
    .catch((error: Error) => log(`state.json: ${error.message}`));
}

const OPERATIONS: Record<HostOp, (runtime: HostRuntime) => Promise<string | void>> = {
  'stop-sshd': stopSshd,
  'start-sshd': startSshd,
  'link-down': (runtime) => setLinkState(runtime.plan.netns, 'eth0', 'down'),
  'link-up': (runtime) => setLinkState(runtime.plan.netns, 'eth0', 'up', lanRoutes(plan, runtime.plan)),
  rekey,
};

const ISP_OPERATIONS: Record<IspOp, 'up' | 'down'> = { 'isp-down': 'down', 'isp-up': 'up' };

/** An ISP link's upstream cut or restored; `host` names the link (main or backup). */
async function controlIsp(op: IspOp, linkName: string | undefined): Promise<ControlResponse> {
  const wan = plan.wanLayout;
  if (!wan) throw new Error(`lab "${plan.name}" has no ISP links (it was not brought up with --wan)`);
  if (!Object.hasOwn(wan.links, linkName ?? '')) throw new Error(`no ISP link named "${linkName}" (main, backup)`);
  await setUplinkState(wan, wan.links[linkName as WanLinkName], ISP_OPERATIONS[op]);
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// VM hosts: a cloud-init VM the Proxmox stand-in starts becomes a new lab host (README: VM hosts).

/** The groups of cloud-init's default user on Debian (its cloud.cfg), those this machine has. */
const DEFAULT_USER_GROUPS = 'adm audio cdrom dialout dip floppy netdev plugdev sudo video';

/** What root's keys run instead of a shell when the VM has another user: cloud-init's disable_root. */
function disableRootOptions(user: string): string {
  // cloudinit/ssh_util.py DISABLE_USER_OPTS, $USER being the VM's user and $DISABLE_USER root
  const message = `Please login as the user \\"${user}\\" rather than the user \\"root\\".`;
  const forbidden = 'no-port-forwarding,no-agent-forwarding,no-X11-forwarding';
  return `${forbidden},command="echo '${message}';echo;sleep 10;exit 142"`;
}

/**
 * What cloud-init does for the VM's user at boot (cc_users_groups, cc_ssh), inside the host: $1
 * the user, $2 the groups, $3 root's key options, the keys on stdin. root: its authorized_keys.
 * Another user: created once as the default user (bash, the groups, `sudo: ALL=(ALL)
 * NOPASSWD:ALL` in 90-cloud-init-users), its keys; root's keys then only say whom to log in as
 * (disable_root). The password is `*`, not cloud-init's locked `!`: sshd runs without PAM here,
 * and would refuse a key login to a locked account.
 */
const CLOUD_INIT_USER_SCRIPT = `
keys=$(cat)
if [ "$1" = root ]; then
  printf '%s\\n' "$keys" > /root/.ssh/authorized_keys
  exit 0
fi
groups=
for group in $2; do getent group "$group" > /dev/null && groups="$groups,$group"; done
id "$1" > /dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups "\${groups#,}" "$1"
usermod --password '*' "$1"
install -d -m 700 -o "$1" -g "$1" "/home/$1/.ssh"
printf '%s\\n' "$keys" > "/home/$1/.ssh/authorized_keys"
chown "$1:" "/home/$1/.ssh/authorized_keys"
chmod 600 "/home/$1/.ssh/authorized_keys"
printf '# User rules for %s\\n%s ALL=(ALL) NOPASSWD:ALL\\n' "$1" "$1" > /etc/sudoers.d/90-cloud-init-users
chmod 440 /etc/sudoers.d/90-cloud-init-users
printf '%s\\n' "$keys" | while IFS= read -r key; do
  if [ -n "$key" ]; then printf '%s %s\\n' "$3" "$key"; fi
done > /root/.ssh/authorized_keys
`;

function checkVmSpec(vm: Partial<VmSpec> | undefined): VmSpec {
  const valid =
    vm !== undefined &&
    Number.isInteger(vm.vmid) &&
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(vm.name ?? '') &&
    /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(vm.address ?? '') &&
    /^[a-z_][a-z0-9_-]{0,31}$/.test(vm.user ?? '') &&
    Array.isArray(vm.nameservers) &&
    Array.isArray(vm.sshKeys) &&
    vm.sshKeys.every((key) => typeof key === 'string' && !key.includes('\n'));
  if (valid) return vm as VmSpec;
  const fields = 'vmid, node, name, address A/P, nameservers, user, sshKeys';
  throw new Error(`not a VM spec (${fields}): ${JSON.stringify(vm)}`);
}

/** What cloud-init writes on every boot: the VM's name, its own line in /etc/hosts, its DNS. */
async function writeCloudInitFiles(host: PlannedHost, vm: VmSpec): Promise<void> {
  const { etcUpper } = hostPaths(host.dir);
  await Promise.all([
    writeFile(join(etcUpper, 'hostname'), `${host.name}\n`),
    writeFile(join(etcUpper, 'hosts'), etcHosts(plan, host)),
    writeFile(join(etcUpper, 'resolv.conf'), resolvConf(vm.nameservers, vm.searchdomain)),
  ]);
}

/** Boots the VM's host: its disk made on the first start (a new host key), kept afterwards. */
async function startVm(vm: VmSpec): Promise<ControlAnswer> {
  const running = vms.get(vm.vmid);
  if (running) return { fingerprint: await hostKeyFingerprint(running.plan) };
  const host = vmHost(plan, vm);
  const poweredOn = performance.now();
  if ((await ifExists(stat(host.dir))) === undefined) {
    await prepareHost(host, { rootAuthorizedKeys: '', utmpGid: await groupId('utmp') });
  }
  await writeCloudInitFiles(host, vm);
  try {
    await addVmNetwork(plan, host, { address: vm.address, gateway: vm.gateway, mac: guestMac(vm.vmid) });
    const syslog = await serveSyslog(host);
    const runtime: VmRuntime = {
      plan: host,
      vmid: vm.vmid,
      syslog,
      holderPid: 0,
      sshd: undefined,
      agentReadyAt: Infinity,
    };
    vms.set(vm.vmid, runtime);
    runtime.holderPid = await startHolder(host);
    const cloudInit = ['sh', '-ec', CLOUD_INIT_USER_SCRIPT, 'cloud-init', vm.user, DEFAULT_USER_GROUPS];
    await inHost(runtime, [...cloudInit, disableRootOptions(vm.user)], { input: vm.sshKeys.join('\n') });
    await startSshd(runtime);
    const agentDelayMs = (await readVmFaults(paths.vmLab.faults)).agentDelayMs ?? DEFAULT_AGENT_DELAY_MS;
    runtime.agentReadyAt = Date.now() + agentDelayMs;
    // The guest's boot, as the lab makes it (its host's namespace, users, sshd), then its agent's start.
    await recordWait(paths.vmLab.waitsLog, 'boot', Math.round(performance.now() - poweredOn));
    await recordWait(paths.vmLab.waitsLog, 'agent', agentDelayMs);
    return { fingerprint: await hostKeyFingerprint(host) };
  } catch (error) {
    await stopVm(vm.vmid);
    throw error;
  } finally {
    saveState();
  }
}

/** Its processes and namespace go; its directory (its disk) stays. Not running: done. */
async function stopVm(vmid: number): Promise<ControlAnswer> {
  const runtime = vms.get(vmid);
  if (runtime) await stopSshd(runtime); // first, so that its exit is not taken for a crash
  await removeVmNetwork(vmNetns(plan.index, vmid));
  if (runtime) {
    vms.delete(vmid);
    runtime.syslog.close();
    servers.splice(servers.indexOf(runtime.syslog), 1);
    saveState();
  }
  return {};
}

async function destroyVm(vmid: number): Promise<ControlAnswer> {
  await stopVm(vmid);
  await rm(vmDir(paths, vmid), { recursive: true, force: true });
  return {};
}

/** qemu-guest-agent's guest-network-get-interfaces, from what the VM's namespace really has. */
async function networkInterfaces(runtime: VmRuntime): Promise<Json> {
  interface IpLink {
    ifname: string;
    address?: string;
    addr_info: { family: string; local: string; prefixlen: number }[];
    stats64?: Record<'rx' | 'tx', { bytes: number; packets: number; errors: number; dropped: number }>;
  }
  const output = await inNetns(runtime.plan.netns, ['ip', '-json', '-stats', 'address', 'show']);
  const links = JSON.parse(output) as IpLink[];
  return links.map((link) => ({
    name: link.ifname,
    'hardware-address': link.address ?? '00:00:00:00:00:00',
    'ip-addresses': link.addr_info.map((info) => ({
      'ip-address-type': info.family === 'inet6' ? 'ipv6' : 'ipv4',
      'ip-address': info.local,
      prefix: info.prefixlen,
    })),
    ...(link.stats64 && {
      statistics: Object.fromEntries(
        (['rx', 'tx'] as const).flatMap((way) => [
          [`${way}-bytes`, link.stats64![way].bytes],
          [`${way}-packets`, link.stats64![way].packets],
          [`${way}-errs`, link.stats64![way].errors],
          [`${way}-dropped`, link.stats64![way].dropped],
        ]),
      ),
    }),
  }));
}

/** A host key file as an agentWrongHostKey agent reads it: another valid key, the same for every read. */
async function decoyHostKey(runtime: VmRuntime): Promise<Buffer> {
  const keyPath = join(runtime.plan.dir, 'decoy_host_key'); // beside its disk, not on it
  if ((await ifExists(stat(`${keyPath}.pub`))) === undefined) {
    await execa('ssh-keygen', keygenArgs(keyPath, `root@${runtime.plan.name}`));
  }
  return readFile(`${keyPath}.pub`);
}

/** guest-file-read after guest-file-open, in one read: `{count, buf-b64, eof}` (qga/commands-posix.c). */
async function fileRead(runtime: VmRuntime, path: string | undefined, wrongHostKey: boolean): Promise<Json> {
  if (!path) throw new Error('guest-file-read needs a path');
  const content =
    wrongHostKey && /^\/etc\/ssh\/ssh_host_\w+_key\.pub$/.test(path)
      ? await decoyHostKey(runtime)
      : await inHostBytes(runtime, ['cat', '--', path]).catch(() => {
          // qmp_guest_file_open's error, as the agent reports it
          throw new Error(`failed to open file '${path}' (mode: 'r'): No such file or directory`);
        });
  return { count: content.length, 'buf-b64': content.toString('base64'), eof: true };
}

/**
 * guest-exec, run to its end: the answer is guest-exec-status's once exited (qga/qapi-schema.json:
 * out-data and err-data base64, left out when empty), which the stand-in has then no need to poll.
 */
async function guestExec(runtime: VmRuntime, argv: string[] | undefined): Promise<Json> {
  if (!argv?.length) throw new Error('guest-exec needs argv');
  const options = { ...sessionOptions(), encoding: 'buffer', stripFinalNewline: false, reject: false } as const;
  const result = await execa('nsenter', enterHostArgs(runtime.holderPid, argv), options);
  return {
    exited: true,
    ...(result.exitCode === undefined ? { signal: 9 } : { exitcode: result.exitCode }),
    ...(result.stdout.length > 0 && { 'out-data': Buffer.from(result.stdout).toString('base64') }),
    ...(result.stderr.length > 0 && { 'err-data': Buffer.from(result.stderr).toString('base64') }),
  };
}

async function vmAgent(request: Extract<VmRequest, { op: 'vm-agent' }>): Promise<ControlAnswer> {
  const runtime = vms.get(request.vmid);
  const faults = await readVmFaults(paths.vmLab.faults);
  if (!runtime || faults.agentNever || Date.now() < runtime.agentReadyAt) return { agent: 'not-running' };
  switch (request.execute) {
    case 'guest-ping':
      return { result: {} };
    case 'guest-network-get-interfaces':
      return { result: await networkInterfaces(runtime) };
    case 'guest-file-read':
      return { result: await fileRead(runtime, request.path, faults.agentWrongHostKey === true) };
    case 'guest-exec':
      return { result: await guestExec(runtime, request.argv) };
    default:
      throw new Error(`the lab's guest agent does not know "${String(request.execute)}"`);
  }
}

const VM_OPERATIONS: Record<VmOp, (request: VmRequest) => Promise<ControlAnswer>> = {
  'vm-start': (request) => startVm(checkVmSpec((request as Partial<Extract<VmRequest, { op: 'vm-start' }>>).vm)),
  'vm-stop': (request) => stopVm((request as { vmid: number }).vmid),
  'vm-destroy': (request) => destroyVm((request as { vmid: number }).vmid),
  'vm-agent': (request) => vmAgent(request as Extract<VmRequest, { op: 'vm-agent' }>),
};

/** One VM's operations in arrival order; the VMID is the start's spec's or the request's own. */
async function controlVm(request: VmRequest): Promise<ControlAnswer> {
  const vmid = 'vm' in request ? request.vm?.vmid : request.vmid;
  if (!Number.isInteger(vmid)) throw new Error(`${request.op}: no vmid`);
  const result = (vmQueues.get(vmid!) ?? Promise.resolve()).then(() => VM_OPERATIONS[request.op](request));
  const settled = result.catch(() => undefined); // a failed operation does not block the next
  vmQueues.set(vmid!, settled);
  void settled.then(() => vmQueues.get(vmid!) === settled && vmQueues.delete(vmid!));
  return result;
}

const CEPH_OPERATIONS: CephOp[] = ['unit'];
const DISK_OPERATIONS: DiskOp[] = ['disk-insert', 'disk-pull', 'disk-smart', 'disk-rescan'];

async function handleControl(line: string): Promise<ControlResponse> {
  try {
    const request = JSON.parse(line) as Partial<ControlRequest>;
    if (CEPH_OPERATIONS.includes(request.op as CephOp)) {
      if (!ceph) throw new Error(`lab "${plan.name}" has no Ceph cluster (it was not brought up with --ceph)`);
      return { ok: true, ...(await ceph.control(request as unknown as CephRequest)) };
    }
    if (DISK_OPERATIONS.includes(request.op as DiskOp)) {
      if (!diskLab) throw new Error(`lab "${plan.name}" has no disks (it was not brought up with --disks or --ceph)`);
      return { ok: true, ...(await diskLab.control(request as unknown as DiskRequest)) };
    }
    if (request.op && Object.hasOwn(VM_OPERATIONS, request.op)) {
      return { ok: true, ...(await controlVm(request as unknown as VmRequest)) };
    }
    if (request.op && Object.hasOwn(ISP_OPERATIONS, request.op)) {
      return await controlIsp(request.op as IspOp, request.host);
    }
    const runtime = runtimes.get(request.host ?? '');
    if (!runtime) throw new Error(`no host named "${request.host}" in lab "${plan.name}"`);
    if (!request.op || !Object.hasOwn(OPERATIONS, request.op)) throw new Error(`unknown op "${request.op}"`);
    const operation = OPERATIONS[request.op as HostOp];
    const result = runtime.queue.then(() => operation(runtime));
    runtime.queue = result.catch(() => undefined); // a failed operation does not block the next
    const fingerprint = await result;
    saveState();
    return fingerprint ? { ok: true, fingerprint } : { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** The lab's control socket, or the one pve hosts see (the same requests, see VmLabPaths). */
async function serveControl(socketPath: string): Promise<void> {
  const server = createServer({ allowHalfOpen: true }, async (connection) => {
    connection.on('error', (error) => log(`control connection: ${error.message}`));
    for await (const line of createInterface({ input: connection })) {
      if (!line.trim()) continue;
      const response = await handleControl(line);
      await stateWrites; // state.json says what the answer says: lab.vms() right after vm-start lists the VM
      connection.write(JSON.stringify(response) + '\n');
    }
    connection.end();
  });
  servers.push(server);
  server.listen(socketPath);
  await once(server, 'listening');
  await chmod(socketPath, 0o600);
}

async function build(): Promise<void> {
  const { signal } = aborter;
  const allHosts = [plan.bastion, ...plan.hosts];
  const wan = plan.wanLayout;
  const gateway = plan.hosts.find((host) => host.name === GATEWAY_HOST);
  await makeDir(dirname(paths.operatorKey), 0o700);
  await Promise.all([
    (async () => {
      await Promise.all([createLabNetwork(plan, signal), ...(wan && gateway ? [prepareDns(wan, gateway)] : [])]);
      if (wan) await startNamed(wan);
    })(),
    prepareDevTemplate(),
    preparePveCluster(),
    prepareVmLab(),
    ...(ceph ? [ceph.prepare()] : []),
    ...(diskLab ? [diskLab.prepare()] : []),
    (async () => {
      await execa('ssh-keygen', keygenArgs(paths.operatorKey, `chaton-lab-operator@${plan.name}`));
      const shared = {
        rootAuthorizedKeys: await readFile(`${paths.operatorKey}.pub`, 'utf8'),
        utmpGid: await groupId('utmp'),
      };
      await forEachLimit(allHosts, SPAWN_CONCURRENCY, (host) => prepareHost(host, shared), signal);
    })(),
  ]);
  await joinClusterSsh(paths.pveCluster, plan);
  log('network, keys and files ready');
  const knownHostEntries = await Promise.all(
    allHosts.map(async (host) => {
      const publicKey = await readFile(`${hostPaths(host.dir).hostKey}.pub`, 'utf8');
      const addresses = new Set([...host.addresses, host.lanAddress]);
      return [...addresses].map((address) => ({ address, publicKey }));
    }),
  );
  await Promise.all([
    writeFile(paths.knownHosts, knownHosts(knownHostEntries.flat())),
    writeFile(paths.inventory, inventoryYaml(plan)),
  ]);
  await forEachLimit(
    allHosts,
    SPAWN_CONCURRENCY,
    async (host) => {
      await serveSyslog(host); // before any process of the host may log
      const runtime: HostRuntime = {
        plan: host,
        holderPid: await startHolder(host),
        sshd: undefined,
        queue: Promise.resolve(),
      };
      runtimes.set(host.name, runtime);
      await startSshd(runtime);
    },
    signal,
  );
  // Before the nodes boot: starting their guests may start VM hosts.
  await Promise.all([
    serveControl(paths.controlSocket),
    serveControl(paths.vmLab.controlSocket),
    ...(ceph ? [serveControl(paths.cephLab.controlSocket)] : []),
    ...(diskLab ? [serveControl(paths.diskLab.controlSocket)] : []),
  ]);
  const gatewayRuntime = wan && runtimes.get(GATEWAY_HOST);
  await Promise.all([
    ...[...runtimes.values()].filter((runtime) => runtime.plan.roles.includes('pve')).map(bootPveNode),
    ...(gatewayRuntime ? [useBusyboxLoginShell(gatewayRuntime)] : []),
  ]);
  await Promise.all([ceph?.start(signal), config.disks ? diskLab?.layOut() : undefined]);
  saveState();
  await stateWrites;
}

function reportToUp(report: { ready: true } | { error: string }): void {
  try {
    writeSync(REPORT_FD, JSON.stringify(report) + '\n');
    closeSync(REPORT_FD);
  } catch (error) {
    log(`could not report to up (interrupted?): ${(error as Error).message}`);
  }
}

function stop(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    log('stopping');
    aborter.abort();
    await Promise.allSettled([building]);
    for (const server of servers) server.close();
    await stateWrites;
    try {
      await dismantleLab(plan.name, plan.index);
    } catch (error) {
      log(`could not dismantle the lab (\`down\` will finish it): ${(error as Error).stack}`);
      process.exit(1);
    }
    process.exit(exitCode);
  })();
  return stopping;
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
process.on('uncaughtException', (error) => {
  log(`crashed: ${error.stack}`);
  void stop(1);
});

log(`building lab "${plan.name}" (index ${plan.index}, ${plan.hosts.length} hosts behind the bastion)`);
const building = build();
building.then(
  () => {
    log('ready');
    reportToUp({ ready: true });
  },
  (error: Error) => {
    log(`start-up failed: ${error.stack}`);
    reportToUp({ error: error.message });
    void stop(1);
  },
);
