// The lab's network: one namespace per host plus a "switch" namespace holding bridge br0, a veth
// pair per host, and a /30 link between the root namespace and the bastion only.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { ifExists } from './if-exists.js';
import { forEachLimit, SPAWN_CONCURRENCY } from './parallel.js';
import { killNamespaceProcesses } from './processes.js';
import { LAB_RANGE, namespacePrefix, rootVethName, type LabPlan, type PlannedHost } from './topology.js';

export const NETNS_DIR = '/run/netns';

/** Runs `ip` commands in one process, in the root namespace or in `netns`. */
async function ipBatch(commands: string[], netns?: string): Promise<void> {
  const target = netns === undefined ? [] : ['-n', netns];
  await execa('ip', [...target, '-batch', '-'], { input: commands.join('\n') + '\n' });
}

export async function createLabNetwork(plan: LabPlan, signal: AbortSignal): Promise<void> {
  const all = [plan.bastion, ...plan.hosts];
  await ipBatch([
    `netns add ${plan.switchNetns}`,
    ...all.map((host) => `netns add ${host.netns}`),
    // Both ends are created straight in their namespaces: no temporary name in the root one.
    ...all.map(
      (host) =>
        `link add name ${host.switchPort} netns ${plan.switchNetns} type veth peer name eth0 netns ${host.netns}`,
    ),
    `link add name ${plan.rootVeth} type veth peer name ext0 netns ${plan.bastion.netns}`,
    `addr add ${plan.rootAddress}/30 dev ${plan.rootVeth}`,
    `link set ${plan.rootVeth} up`,
  ]);
  const hostCommands = (host: PlannedHost): string[] => [
    'link set lo up',
    `addr add ${host.lanAddress}/24 dev eth0`,
    'link set eth0 up',
    ...(host === plan.bastion ? [`addr add ${host.address}/30 dev ext0`, 'link set ext0 up'] : []),
  ];
  const configurations: [string, string[]][] = [
    [
      plan.switchNetns,
      [
        'link set lo up',
        'link add br0 type bridge',
        'link set br0 up',
        ...all.map((host) => `link set ${host.switchPort} master br0 up`),
      ],
    ],
    ...all.map((host): [string, string[]] => [host.netns, hostCommands(host)]),
  ];
  await forEachLimit(configurations, SPAWN_CONCURRENCY, ([netns, commands]) => ipBatch(commands, netns), signal);
  // A new namespace does not forward by default; stated anyway, since the bastion's whole point
  // is that it does not route the root namespace into the LAN.
  await execa('nsenter', [`--net=${join(NETNS_DIR, plan.bastion.netns)}`, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
}

export async function setLinkState(netns: string, state: 'up' | 'down'): Promise<void> {
  await ipBatch([`link set eth0 ${state}`], netns);
}

/** The namespaces of lab `index`, found by name so that a crashed lab can be cleaned too. */
async function labNamespaces(index: number): Promise<string[]> {
  const namespaces = (await ifExists(readdir(NETNS_DIR))) ?? [];
  return namespaces.filter((name) => name.startsWith(namespacePrefix(index)));
}

/** Kills every process in the lab's namespaces, then deletes them and the root-side veth. */
export async function destroyLabNetwork(index: number): Promise<void> {
  const namespaces = await labNamespaces(index);
  // `ip netns del` leaves a namespace alive while a process is still in it.
  await killNamespaceProcesses(namespaces.map((name) => join(NETNS_DIR, name)));
  const rootVethExists = await readdir('/sys/class/net').then((links) => links.includes(rootVethName(index)));
  const commands = [
    ...(rootVethExists ? [`link del ${rootVethName(index)}`] : []),
    ...namespaces.map((name) => `netns del ${name}`),
  ];
  if (commands.length > 0) await ipBatch(commands);
}

/** No lab packet may leave the machine: the lab range is unreachable from the root namespace. */
export async function blackholeLabRange(): Promise<void> {
  await execa('ip', ['route', 'replace', 'unreachable', LAB_RANGE]);
}

export async function removeLabRangeBlackhole(): Promise<void> {
  const removal = await execa('ip', ['route', 'del', 'unreachable', LAB_RANGE], { reject: false });
  // "No such process": another lab going down at the same moment removed it first.
  if (removal.failed && !removal.stderr.includes('No such process')) throw removal;
}
