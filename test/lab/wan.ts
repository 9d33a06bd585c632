// Test helpers for a wan lab (README: WAN mode): what crossed each ISP, what the site's DNS server
// answers, the gateway's connection tracking, and commands in the namespaces that are no host.
import { runInNetns, type Lab, type RunResult } from './lab.js';
import { GATEWAY_HOST, type WanLayout, type WanLinkName } from './topology.js';

/** The internet, or the ISP of a link. */
export type WanNamespace = 'internet' | WanLinkName;

export interface PacketCounter {
  packets: number;
  bytes: number;
}

/** What an ISP forwarded for the gateway since the lab came up, each way. */
export interface IspCounters {
  toInternet: PacketCounter;
  fromInternet: PacketCounter;
}

export function wanOf(lab: Lab): WanLayout {
  if (!lab.wan) throw new Error(`lab "${lab.name}" was not brought up with --wan`);
  return lab.wan;
}

async function succeeded(description: string, result: Promise<RunResult>): Promise<string> {
  const { exitCode, stdout, stderr } = await result;
  if (exitCode !== 0) throw new Error(`${description} exited with ${exitCode}: ${stderr}`);
  return stdout;
}

/** Runs `argv` as root in the internet namespace or in an ISP's (its box: `main` or `backup`). */
export function runInWan(lab: Lab, where: WanNamespace, argv: string[]): Promise<RunResult> {
  const wan = wanOf(lab);
  return runInNetns(where === 'internet' ? wan.internetNetns : wan.links[where].ispNetns, argv);
}

/** The ISP's nftables counters of what it forwarded between the gateway and the internet. */
export async function ispCounters(lab: Lab, link: WanLinkName): Promise<IspCounters> {
  const json = await succeeded(
    `nft on the ${link} ISP`,
    runInWan(lab, link, ['nft', '--json', 'list', 'counters', 'table', 'ip', 'isp_counters']),
  );
  type Entry = { counter?: PacketCounter & { name: string } };
  const counters = (JSON.parse(json) as { nftables: Entry[] }).nftables.flatMap((entry) => entry.counter ?? []);
  const counter = (name: string): PacketCounter => {
    const found = counters.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`the ${link} ISP has no counter ${name}`);
    return { packets: found.packets, bytes: found.bytes };
  };
  return { toInternet: counter('to_internet'), fromInternet: counter('from_internet') };
}

/** The site's DNS server's answers (`dig +short`), asked from the internet. */
export async function askDns(lab: Lab, name: string, type = 'A'): Promise<string[]> {
  const { dns } = wanOf(lab);
  const dig = ['dig', `@${dns.server}`, '+short', '+time=1', '+tries=2', name, type];
  return (await succeeded('dig', runInWan(lab, 'internet', dig))).split('\n').filter(Boolean);
}

/** The gateway's connection tracking table: one `conntrack -L` line per connection. */
export async function gatewayConntrack(lab: Lab): Promise<string[]> {
  const listing = await succeeded('conntrack -L on the gateway', lab.run(GATEWAY_HOST, ['conntrack', '-L']));
  return listing.split('\n').filter(Boolean);
}
