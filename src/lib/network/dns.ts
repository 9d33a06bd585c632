// The DNS names of the site moved to the new link's address: an RFC 2136 update signed with the
// TSIG key that stays on the gateway (`nsupdate -k <file>`, the update on stdin), then the
// authoritative server's answer for each name (`dig +short`).
import type { Fact } from '../remote/facts.js';
import { command, type RemoteCommand, withStdin } from '../remote/shell.js';
import { eachAtOnce, parseEach } from './each.js';
import type { DnsSettings } from './inventory.js';

/** nsupdate's own bound on the exchange, in seconds: a dead server is said, not waited for. */
const NSUPDATE_TIMEOUT = '10';

/**
 * Each name's A records replaced by `address`, in one update (one transaction on the server):
 * the key file's path in argv, the update on stdin; never the key itself.
 */
export function dnsUpdate(dns: DnsSettings, address: string): RemoteCommand {
  const lines = [
    `server ${dns.server}`,
    `zone ${dns.zone}.`,
    ...dns.names.flatMap((name) => [`update delete ${name}. A`, `update add ${name}. ${dns.ttl} A ${address}`]),
    'send',
  ];
  return withStdin(command('nsupdate', '-t', NSUPDATE_TIMEOUT, '-k', dns.keyFile), `${lines.join('\n')}\n`);
}

/** Why nsupdate failed (`update failed: NOTAUTH(BADSIG)`, `; Communication with ... failed`), from its stderr. */
export function nsupdateFailure(code: number | null, stderr: string): string | undefined {
  if (code === 0) return undefined;
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.find((line) => line.startsWith('update failed:')) ?? lines.pop() ?? `exit ${code}`;
}

/** dig's own bounds: 2 s per try, one try; the check is repeated by its caller, not by dig. */
const DIG = ['dig', '+short', '+time=2', '+tries=1'];

/** What the authoritative server answers for a name: its A records, or why there is no answer. */
export type DnsAnswer = { addresses: string[] } | { error: string };

/** Every name asked of the server at once; an empty answer is no record (NXDOMAIN or none). */
export function dnsAnswersFact(dns: DnsSettings): Fact<Map<string, DnsAnswer>> {
  return {
    command: eachAtOnce(dns.names, [...DIG, `@${dns.server}`, '-t', 'A']),
    parse: (stdout) => {
      const runs = parseEach(stdout);
      return new Map(
        dns.names.map((name) => [name, parseDig(runs.get(name)?.code ?? 9, runs.get(name)?.output ?? '')]),
      );
    },
  };
}

/** `dig +short` prints the records, one a line; its errors, on stdout too, start with `;;` (exit 9: no reply). */
export function parseDig(code: number, output: string): DnsAnswer {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (code !== 0) return { error: lines.find((line) => line.startsWith(';;')) ?? `exit ${code}` };
  return { addresses: lines.filter((line) => /^\d+\.\d+\.\d+\.\d+$/.test(line)) };
}
