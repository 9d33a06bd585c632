// `failover to`: what to do given the gateway's state (pure), and what proves that a switch took.
// Decided from the status's judgement: already on the link is "unchanged"; a link that is not up
// is refused unless forced (switching to a dead link cuts the site off until the revert); a proof
// wants the default route through the new link, the link up through the gateway, and the
// targets answering from a host inside the site, by its ordinary routes.
import type { LinkName } from './inventory.js';
import type { Judgement } from './judge.js';
import { describeRoute } from './judge.js';
import { messages, said } from './messages.js';
import type { TargetProbe } from './probes.js';

/** The gateway's lock of a switch: `failover to` and the watchdog's rounds take it (src/lib/remote/host-lock.ts). */
export const FAILOVER_LOCK = 'failover';

export type SwitchDecision =
  | { kind: 'unchanged' }
  | { kind: 'refused'; reason: string }
  | { kind: 'switch'; from: Judgement['active']; forced: boolean };

export function decideSwitch(before: Judgement, to: LinkName, force: boolean): SwitchDecision {
  if (before.active === to) return { kind: 'unchanged' };
  const target = before.links.find((judged) => judged.link.name === to)!;
  if (target.state === 'up') return { kind: 'switch', from: before.active, forced: false };
  const why = (target.reason ?? said('linkNotProven')).text;
  if (!force) return { kind: 'refused', reason: messages.switchRefused(to, why) };
  return { kind: 'switch', from: before.active, forced: true };
}

/** Undefined when proven; else why not, for people. `inside`: the probes from a host inside, if any. */
export function switchUnproven(
  after: Judgement,
  to: LinkName,
  inside?: { host: string; probes: readonly TargetProbe[] },
): string | undefined {
  // The gateway could not be read again.
  if (after.active === 'unknown') return after.verdict.text;
  if (after.active !== to) {
    const route = after.defaultRoute ? describeRoute(after.defaultRoute) : '-';
    return messages.switchRouteElsewhere(to, route);
  }
  const link = after.links.find((judged) => judged.link.name === to)!;
  if (link.state !== 'up') {
    return messages.switchLinkNotUp(to, after.gateway, (link.reason ?? said('linkNotProven')).text);
  }
  if (!inside) return undefined;
  const answered = inside.probes.filter((probe) => probe.outcome === 'answered').length;
  if (answered >= after.reliability) return undefined;
  return messages.switchInsideUnanswered(inside.host, answered, inside.probes.length, after.reliability);
}
