// The judgement of `failover status`, one pure function: from what was read on the gateway, which
// link carries the default route, whether each link is up (at least `reliability` targets
// answered through it, and nothing else could have answered), and a verdict. OK: on main with both
// links up; WARNING: on backup, or a link down that does not carry the traffic; CRITICAL: the
// link that carries the traffic is down, or there is no default route (the site has no
// internet); UNKNOWN: the gateway was not read, or the active link could not be proven.
import type { Said } from '../run/catalogue.js';
import type { FailoverLink, FailoverSection, LinkName } from './inventory.js';
import { LINK_NAMES } from './inventory.js';
import type { InterfaceState } from './links.js';
import { said } from './messages.js';
import type { TargetProbe } from './probes.js';
import { activeLink, carryingRoute, type DefaultRoute, type RouteTable, type Rule, unprovenPath } from './routing.js';

export type State = 'ok' | 'warning' | 'critical' | 'unknown';
export type LinkState = 'up' | 'down' | 'unknown';

/** unknown (nothing proves the site is online) ranks above a warning. */
const RANK: Record<State, number> = { ok: 0, warning: 1, unknown: 2, critical: 3 };

function worst(states: Iterable<State>): State {
  let found: State = 'ok';
  for (const state of states) if (RANK[state] > RANK[found]) found = state;
  return found;
}

/** Something the judgement found: its state, a code for programs, the link it is about, what to do. */
export interface Finding {
  state: State;
  code: string;
  link?: LinkName;
  message: Said;
}

/** What was read on the gateway; a read that failed is its error. */
export interface GatewayRead {
  interfaces: ReadonlyMap<string, InterfaceState>;
  routes: ReadonlyMap<RouteTable, readonly DefaultRoute[]>;
  rules: readonly Rule[];
  probes: Record<LinkName, readonly TargetProbe[] | { error: string }>;
}

/** Why the gateway could not be read, what to do about it, and whether it was reached at all. */
export interface GatewayUnread {
  error: string;
  hint?: string;
  reached: boolean;
}

export interface JudgeInput {
  failover: FailoverSection;
  /** What the gateway told, or why it could not be read. */
  gateway: GatewayRead | GatewayUnread;
  /** Milliseconds since the epoch. */
  now: number;
}

export interface LinkJudgement {
  link: FailoverLink;
  state: LinkState;
  /** It carries the site's default route. */
  active: boolean;
  /** Targets that answered through it. */
  answered: number;
  probes: readonly TargetProbe[];
  /** Why it is not up, when it is not. */
  reason?: Said;
}

export interface Judgement {
  state: State;
  verdict: Said;
  gateway: string;
  /** The gateway could be reached (it may still not have been read: see state). */
  reached: boolean;
  /** What to do when the gateway could not be read. */
  hint?: string;
  /** Which link carries the main table's default route. */
  active: LinkName | 'none' | 'other' | 'unknown';
  /** The default route that carries the traffic. */
  defaultRoute?: DefaultRoute;
  links: LinkJudgement[];
  findings: Finding[];
  reliability: number;
  now: number;
}

export function judge({ failover, gateway, now }: JudgeInput): Judgement {
  const base = { gateway: failover.gateway, reliability: failover.probes.reliability, now };
  if ('error' in gateway) {
    const links = LINK_NAMES.map((name) => ({
      link: failover.links[name],
      state: 'unknown' as const,
      active: false,
      answered: 0,
      probes: [],
    }));
    const verdict = said('gatewayUnread', failover.gateway, gateway.error);
    const unread = { state: 'unknown' as const, verdict, reached: gateway.reached, active: 'unknown' as const };
    return { ...base, ...unread, ...(gateway.hint ? { hint: gateway.hint } : {}), links, findings: [] };
  }
  const main = gateway.routes.get('main') ?? [];
  const active = activeLink(failover, main);
  const defaultRoute = carryingRoute(main);
  const links = LINK_NAMES.map((name) => judgeLink(failover, gateway, name, active === name));
  // Worst first, as a person reads them.
  const findings = [...routeFindings(active, defaultRoute, links), ...linkFindings(links)].sort(
    (a, b) => RANK[b.state] - RANK[a.state],
  );
  const state = worst(findings.map((finding) => finding.state));
  return {
    ...base,
    state,
    verdict: verdictOf(active, defaultRoute, links),
    reached: true,
    active,
    ...(defaultRoute ? { defaultRoute } : {}),
    links,
    findings,
  };
}

function judgeLink(failover: FailoverSection, gateway: GatewayRead, name: LinkName, active: boolean): LinkJudgement {
  const link = failover.links[name];
  const read = gateway.probes[name];
  const probes = 'error' in read ? [] : read;
  const answered = probes.filter((probe) => probe.outcome === 'answered').length;
  const judged = { link, active, answered, probes };
  const { reliability } = failover.probes;
  const device = gateway.interfaces.get(link.interface);
  if (!device?.up) return { ...judged, state: 'down', reason: said('interfaceDown', link.interface) };
  if (!device.carrier) return { ...judged, state: 'down', reason: said('noCarrier', link.interface) };
  const unproven = unprovenPath(link, gateway.routes, gateway.rules);
  if (unproven === 'no-rule') {
    return { ...judged, state: 'unknown', reason: said('noRule', link.source, String(link.table)) };
  }
  if (unproven === 'no-table-route') {
    return {
      ...judged,
      state: 'unknown',
      reason: said('noTableRoute', String(link.table), link.nextHop, link.interface),
    };
  }
  if (unproven === 'no-main-route') {
    return { ...judged, state: 'unknown', reason: said('noMainRoute', link.nextHop, link.interface) };
  }
  if ('error' in read) return { ...judged, state: 'unknown', reason: said('probesFailed', read.error) };
  if (answered >= reliability) return { ...judged, state: 'up' };
  const unsure = probes.filter((probe) => probe.outcome === 'error');
  if (answered + unsure.length >= reliability) {
    const why = unsure.map((probe) => `${probe.target}: ${probe.detail ?? '?'}`).join('; ');
    return { ...judged, state: 'unknown', reason: said('probesUnsure', unsure.length, why) };
  }
  return { ...judged, state: 'down', reason: said('tooFewAnswered', answered, probes.length, reliability) };
}

/** A link that is not up: critical (or unknown) when it carries the traffic, a warning otherwise. */
function linkFindings(links: readonly LinkJudgement[]): Finding[] {
  return links.flatMap((judged): Finding[] => {
    const name = judged.link.name;
    if (judged.state === 'up') return [];
    if (!judged.active && judged.state === 'down') {
      const message = name === 'backup' ? said('backupDown') : said('mainDown');
      return [{ state: 'warning', code: 'link-down', link: name, message }];
    }
    if (!judged.active)
      return [{ state: 'warning', code: 'link-unproven', link: name, message: said('linkUnproven', name) }];
    if (judged.state === 'unknown') {
      return [{ state: 'unknown', code: 'active-link-unproven', link: name, message: said('activeUnproven', name) }];
    }
    const other = links.find((l) => l !== judged)!;
    const message =
      other.state === 'up' ? said('activeDownSwitch', name, other.link.name) : said('activeDownNoOther', name);
    return [{ state: 'critical', code: 'active-link-down', link: name, message }];
  });
}

function routeFindings(
  active: Judgement['active'],
  route: DefaultRoute | undefined,
  links: readonly LinkJudgement[],
): Finding[] {
  const up = links.filter((judged) => judged.state === 'up').map((judged) => judged.link.name);
  if (active === 'none') {
    const message = up.length > 0 ? said('noDefaultRoute', up[0]!) : said('noDefaultRouteNoLink');
    return [{ state: 'critical', code: 'no-default-route', message }];
  }
  if (active === 'other' && route) {
    const elsewhere = said('defaultElsewhere', describeRoute(route));
    return [
      { state: 'warning', code: 'default-route-elsewhere', message: elsewhere },
      // Whatever that route goes through, neither of the site's links would take over.
      ...(up.length === 0 ? [{ state: 'critical' as const, code: 'no-link-up', message: said('noLinkUp') }] : []),
    ];
  }
  if (active === 'backup' && links.find((judged) => judged.active)?.state === 'up') {
    const message = up.includes('main') ? said('onBackupMainUp') : said('onBackup');
    return [{ state: 'warning', code: 'on-backup', link: 'backup', message }];
  }
  return [];
}

/** `via 198.19.1.65 dev wan1`, as ip writes it. */
export function describeRoute(route: DefaultRoute): string {
  return [route.via ? `via ${route.via}` : '', `dev ${route.dev}`].filter(Boolean).join(' ');
}

function verdictOf(
  active: Judgement['active'],
  route: DefaultRoute | undefined,
  links: readonly LinkJudgement[],
): Said {
  const [main, backup] = links as [LinkJudgement, LinkJudgement];
  if (active === 'none') return said('verdictNoRoute', main.state, backup.state);
  if (active === 'other') return said('verdictElsewhere', describeRoute(route!), main.state, backup.state);
  return said('verdictOn', active as LinkName, main.state, backup.state);
}
