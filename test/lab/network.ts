// The lab's network: one namespace per host plus a "switch" namespace holding bridge br0, a veth
// pair per host, and a /30 link between the root namespace and the bastion only.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { ifExists } from './if-exists.js';
import { inNetns, ipBatch, NETNS_DIR } from './netns.js';
import { forEachLimit, SPAWN_CONCURRENCY } from './parallel.js';
import { killNamespaceProcesses } from './processes.js';
import {
  DOCUMENTATION_RANGES,
  GATEWAY_HOST,
  gatewayLanAddress,
  LAB_RANGE,
  namespacePrefix,
  rootVethName,
  wanRootVethName,
  type LabPlan,
  type PlannedHost,
} from './topology.js';
import { configureWan, gatewayWanCommands, wanLinkCommands, wanNamespaceCommands } from './wan-network.js';

/** A LAN host's routes beyond eth0: in a wan lab, its default route via the gateway. */
export function lanRoutes(plan: LabPlan, host: PlannedHost): string[] {
  return plan.wanLayout && host.name !== GATEWAY_HOST ? [`default via ${gatewayLanAddress(plan.index)}`] : [];
}

/** The veth pair that plugs a host into the switch: `port` on br0, `eth0` in the host (its MAC address if given). */
function switchLinkCommand(plan: LabPlan, host: PlannedHost, mac?: string): string {
  const eth0 = `eth0${mac ? ` address ${mac}` : ''} netns ${host.netns}`;
  return `link add name ${host.switchPort} netns ${plan.switchNetns} type veth peer name ${eth0}`;
}

function bridgePortCommand(host: PlannedHost): string {
  return `link set ${host.switchPort} master br0 up`;
}

/** A host's own end: loopback, its address on eth0 (with its prefix length), then its routes. */
function hostAddressCommands(addressWithPrefix: string, more: string[]): string[] {
  return ['link set lo up', `addr add ${addressWithPrefix} dev eth0`, 'link set eth0 up', ...more];
}

export async function createLabNetwork(plan: LabPlan, signal: AbortSignal): Promise<void> {
  const all = [plan.bastion, ...plan.hosts];
  const wan = plan.wanLayout;
  const gateway = plan.hosts.find((host) => host.name === GATEWAY_HOST);
  await ipBatch([
    `netns add ${plan.switchNetns}`,
    ...all.map((host) => `netns add ${host.netns}`),
    // Both ends are created straight in their namespaces: no temporary name in the root one.
    ...all.map((host) => switchLinkCommand(plan, host)),
    ...(wan && gateway
      ? wanLinkCommands(wan, gateway)
      : [
          `link add name ${plan.rootVeth} type veth peer name ext0 netns ${plan.bastion.netns}`,
          `addr add ${plan.rootAddress}/30 dev ${plan.rootVeth}`,
          `link set ${plan.rootVeth} up`,
        ]),
  ]);
  const outsideCommands = (host: PlannedHost): string[] => {
    if (wan && host === gateway) return gatewayWanCommands(wan);
    if (!wan && host === plan.bastion) return [`addr add ${host.address}/30 dev ext0`, 'link set ext0 up'];
    return lanRoutes(plan, host).map((route) => `route add ${route}`);
  };
  const hostCommands = (host: PlannedHost): string[] =>
    hostAddressCommands(`${host.lanAddress}/24`, outsideCommands(host));
  const configurations: [string, string[]][] = [
    [
      plan.switchNetns,
      ['link set lo up', 'link add br0 type bridge', 'link set br0 up', ...all.map(bridgePortCommand)],
    ],
    ...all.map((host): [string, string[]] => [host.netns, hostCommands(host)]),
    ...(wan ? wanNamespaceCommands(wan) : []),
  ];
  await forEachLimit(configurations, SPAWN_CONCURRENCY, ([netns, commands]) => ipBatch(commands, netns), signal);
  // A new namespace does not forward by default; stated anyway, since the bastion's whole point
  // is that it does not route the root namespace into the LAN.
  await inNetns(plan.bastion.netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
  if (wan && gateway) await configureWan(plan, wan, gateway);
}

/**
 * A VM host's namespace on the LAN, as its cloud-init network configuration sets it up: its
 * address and prefix length (`198.18.3.240/24`), its default route via `gateway` if given. Its
 * NIC's MAC address is the VM's own, the same at every boot, and it announces itself when its
 * link comes up (gratuitous ARP): a neighbour still caching another VM's MAC for that address
 * would otherwise lose its packets until the entry expires.
 */
export async function addVmNetwork(
  plan: LabPlan,
  host: PlannedHost,
  { address, gateway, mac }: { address: string; gateway: string | undefined; mac: string },
): Promise<void> {
  await ipBatch([`netns add ${host.netns}`, switchLinkCommand(plan, host, mac)]);
  await inNetns(host.netns, ['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_notify=1']);
  await Promise.all([
    ipBatch([bridgePortCommand(host)], plan.switchNetns),
    ipBatch(hostAddressCommands(address, gateway ? [`route add default via ${gateway}`] : []), host.netns),
  ]);
}

/** Kills every process of a VM host's namespace, then deletes it (its veth pair goes with it). Absent: done. */
export async function removeVmNetwork(netns: string): Promise<void> {
  const path = join(NETNS_DIR, netns);
  if ((await ifExists(stat(path))) === undefined) return;
  await killNamespaceProcesses([path]);
  await ipBatch([`netns del ${netns}`]);
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
  const links = await readdir('/sys/class/net');
  const rootVeths = [rootVethName(index), wanRootVethName(index)].filter((veth) => links.includes(veth));
  const commands = [...rootVeths.map((veth) => `link del ${veth}`), ...namespaces.map((name) => `netns del ${name}`)];
  if (commands.length > 0) await ipBatch(commands);
}

async function blackhole(range: string): Promise<void> {
  await execa('ip', ['route', 'replace', 'unreachable', range]);
}

/** Removes an `unreachable` route only: a route of the machine's own to that range is never touched. */
async function removeBlackhole(range: string): Promise<void> {
  const removal = await execa('ip', ['route', 'del', 'unreachable', range], { reject: false });
  // "No such process": another lab going down at the same moment removed it first.
  if (removal.failed && !removal.stderr.includes('No such process')) throw removal;
}

/** No lab packet may leave the machine: the lab range is unreachable from the root namespace. */
export function blackholeLabRange(): Promise<void> {
  return blackhole(LAB_RANGE);
}

export function removeLabRangeBlackhole(): Promise<void> {
  return removeBlackhole(LAB_RANGE);
}

/**
 * Whether the machine itself routes into `range` (some live in a documentation range): such a
 * range keeps the machine's routes, which a blackhole would replace. The lab's own addresses
 * there stay unreachable from the root namespace all the same: nothing routes them to the lab.
 */
async function machineRoutes(range: string): Promise<boolean> {
  const routes = await Promise.all(
    ['root', 'match'].map(async (selector) => {
      const { stdout } = await execa('ip', ['-json', 'route', 'show', selector, range]);
      return JSON.parse(stdout) as { dst: string; type?: string }[];
    }),
  );
  return routes.flat().some((route) => route.dst !== 'default' && route.type !== 'unreachable');
}

/** A wan lab's "internet" is unreachable from the root namespace too, as far as the machine allows. */
export async function blackholeDocumentationRanges(): Promise<void> {
  for (const range of DOCUMENTATION_RANGES) if (!(await machineRoutes(range))) await blackhole(range);
}

export async function removeDocumentationRangeBlackholes(): Promise<void> {
  for (const range of DOCUMENTATION_RANGES) await removeBlackhole(range);
}
