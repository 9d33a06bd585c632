// The gateway's connection tracking after a switch. A flow NATed out of the old link keeps its
// mapping to the old link's address as long as its conntrack entry lives: its packets would now
// leave by the new link with that address, and the answers would never come back. So chaton
// deletes the entries whose replies go to the old link's address (`conntrack -D -q <source>`),
// not all of them (`conntrack -F`): flows that came IN through a public address (the operator's
// own SSH session, forwarded to the bastion) do not reply to it, keep their entries and their
// connmark (which link answers them), and survive the switch; a flush would cut them.
// The address is the link's `source`: the one the gateway's own NAT maps flows to.
import type { Fact } from '../remote/facts.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import type { FailoverLink } from './inventory.js';

/** Deletes the flows NATed out of `link`; conntrack exits 1 when there were none (okCodes). */
export function flushLinkFlows(link: FailoverLink): { command: RemoteCommand; okCodes: number[] } {
  return { command: command('conntrack', '-D', '-q', link.source), okCodes: [0, 1] };
}

/** One tracked flow: the first tuple is the original direction, the second the reply. */
export interface TrackedFlow {
  protocol: string;
  original: { src: string; dst: string };
  reply: { src: string; dst: string };
}

/** The flows whose replies go to `link`'s address: none should be left after the flush. */
export function linkFlowsFact(link: FailoverLink): Fact<TrackedFlow[]> {
  return { command: command('conntrack', '-L', '-q', link.source), parse: parseConntrack };
}

/**
 * `conntrack -L` lines, e.g. `icmp 1 29 src=198.18.1.31 dst=192.0.2.1 type=8 code=0 id=19953
 * src=192.0.2.1 dst=198.19.1.66 type=0 code=0 id=19953 mark=0 use=1` (tcp adds its state, and
 * `[UNREPLIED]`, `[ASSURED]` may stand between the tuples). Its count line goes to stderr.
 */
export function parseConntrack(stdout: string): TrackedFlow[] {
  return stdout.split('\n').flatMap((line) => {
    const protocol = /^(\S+)\s/.exec(line)?.[1];
    const sources = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]!);
    const destinations = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1]!);
    if (!protocol || sources.length < 2 || destinations.length < 2) return [];
    return [
      {
        protocol,
        original: { src: sources[0]!, dst: destinations[0]! },
        reply: { src: sources[1]!, dst: destinations[1]! },
      },
    ];
  });
}

/** How many flows conntrack says it deleted or listed (its stderr line), undefined if it did not say. */
export function conntrackCount(stderr: string): number | undefined {
  const said = /(\d+) flow entries have been (?:deleted|shown)/.exec(stderr);
  return said ? Number(said[1]) : undefined;
}
