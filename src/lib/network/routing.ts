// The gateway's routing: the default routes of its tables (`ip -j route show table ...`), its
// policy rules (`ip -j rule show`), which link carries the site's default route, whether each
// link's probes really leave by it; and the changes `failover to` makes: the default route
// switched to a link, and the routes read before restored exactly as they were.
import type { Fact } from '../remote/facts.js';
import { command, type RemoteCommand } from '../remote/shell.js';
import { eachAtOnce, parseEach } from './each.js';
import type { FailoverLink, FailoverSection, LinkName } from './inventory.js';
import { LINK_NAMES } from './inventory.js';
import { messages } from './messages.js';

/** A default route as `ip -j route` shows it; what is absent there is absent here. */
export interface DefaultRoute {
  /** The next hop; absent for a route by interface only (`default dev ppp0`). */
  via?: string;
  dev: string;
  /** The preferred source address (`prefsrc`). */
  src?: string;
  /** 0 when ip shows none; the lowest metric wins. */
  metric: number;
  /** Absent for `boot`, which ip does not show (and `ip route add` takes by default). */
  protocol?: string;
  onlink: boolean;
}

/** A table by number, or the main one. */
export type RouteTable = number | 'main';

/** The tables the status reads: main, and each link's own. */
export function tablesOf(failover: FailoverSection): RouteTable[] {
  return ['main', ...LINK_NAMES.flatMap((name) => failover.links[name].table ?? [])];
}

/** What ip says of a table that holds no route yet: it is empty (and prints half a document). */
const NO_SUCH_TABLE = /FIB table does not exist/;

/** The default routes of each table, in the order asked (one session, the tables read at once). */
export function defaultRoutesFact(tables: readonly RouteTable[]): Fact<Map<RouteTable, DefaultRoute[]>> {
  const names = tables.map(String);
  return {
    command: eachAtOnce(names, ['ip', '-j', 'route', 'show', 'table']),
    parse: (stdout) => {
      const runs = parseEach(stdout);
      return new Map(
        tables.map((table, i) => {
          const run = runs.get(names[i]!);
          if (run?.code === 0) return [table, parseDefaultRoutes(run.output)];
          if (run && NO_SUCH_TABLE.test(run.output)) return [table, []];
          throw new TypeError(messages.routesUnread(names[i]!, run?.output.trim() || '?'));
        }),
      );
    },
  };
}

interface RouteJson {
  type?: string;
  dst?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  metric?: number;
  protocol?: string;
  flags?: string[];
}

/** The unicast default routes of one `ip -j route show` document (unreachable, blackhole... carry nothing). */
export function parseDefaultRoutes(json: string): DefaultRoute[] {
  const routes = JSON.parse(json) as RouteJson[];
  if (!Array.isArray(routes)) throw new TypeError(messages.notJsonList('ip -j route show'));
  return routes.flatMap((route) => {
    if (route.dst !== 'default' || (route.type ?? 'unicast') !== 'unicast' || typeof route.dev !== 'string') return [];
    return [
      {
        ...(route.gateway === undefined ? {} : { via: route.gateway }),
        dev: route.dev,
        ...(route.prefsrc === undefined ? {} : { src: route.prefsrc }),
        metric: route.metric ?? 0,
        ...(route.protocol === undefined ? {} : { protocol: route.protocol }),
        onlink: route.flags?.includes('onlink') === true,
      },
    ];
  });
}

/** The route that carries the traffic: the lowest metric (the first one shown among equals). */
export function carryingRoute(routes: readonly DefaultRoute[]): DefaultRoute | undefined {
  return [...routes].sort((a, b) => a.metric - b.metric)[0];
}

/** Whether `route` goes through `link`: by its interface and its next hop. */
export function goesThrough(route: DefaultRoute, link: FailoverLink): boolean {
  return route.dev === link.interface && route.via === link.nextHop;
}

/** Which link carries the default route of the main table: a link, 'none' (no default route), 'other'. */
export function activeLink(failover: FailoverSection, main: readonly DefaultRoute[]): LinkName | 'none' | 'other' {
  const route = carryingRoute(main);
  if (!route) return 'none';
  return LINK_NAMES.find((name) => goesThrough(route, failover.links[name])) ?? 'other';
}

/** A policy rule, numbers for tables (`ip -N`): names from rt_tables would not match the inventory's. */
export interface Rule {
  priority: number;
  src?: string;
  srclen?: number;
  table?: string;
  /** It selects on more than the source (a mark, an interface...): a probe may not match it. */
  narrower: boolean;
}

export const rulesFact: Fact<Rule[]> = {
  command: command('ip', '-N', '-j', 'rule', 'show'),
  parse: parseRules,
};

/** Selectors of `ip -j rule` besides the source and the table. */
const NARROWING = ['fwmark', 'iif', 'oif', 'not', 'dst', 'tos', 'ipproto', 'sport', 'dport', 'uidrange', 'l3mdev'];

export function parseRules(stdout: string): Rule[] {
  const rules = JSON.parse(stdout) as Record<string, unknown>[];
  if (!Array.isArray(rules)) throw new TypeError(messages.notJsonList('ip -j rule show'));
  return rules.map((rule) => ({
    priority: Number(rule.priority),
    ...(typeof rule.src === 'string' ? { src: rule.src } : {}),
    ...(typeof rule.srclen === 'number' ? { srclen: rule.srclen } : {}),
    ...(rule.table === undefined ? {} : { table: String(rule.table) }),
    narrower: NARROWING.some((key) => key in rule),
  }));
}

/**
 * Why the probes of `link` would not prove it, if they would not: they must leave by the link and
 * nowhere else. With a table: a rule sends its source address to the table, and the table's
 * default route goes through the link (otherwise the kernel falls back to the main table: the
 * `ping -I` trap). Without one: the main table holds a default route through the link.
 */
export function unprovenPath(
  link: FailoverLink,
  routes: ReadonlyMap<RouteTable, readonly DefaultRoute[]>,
  rules: readonly Rule[],
): 'no-rule' | 'no-table-route' | 'no-main-route' | undefined {
  if (link.table === undefined) {
    return (routes.get('main') ?? []).some((route) => goesThrough(route, link)) ? undefined : 'no-main-route';
  }
  const table = String(link.table);
  const ruled = rules.some(
    (rule) => rule.src === link.source && (rule.srclen ?? 32) === 32 && rule.table === table && !rule.narrower,
  );
  if (!ruled) return 'no-rule';
  const route = carryingRoute(routes.get(link.table) ?? []);
  return route && goesThrough(route, link) ? undefined : 'no-table-route';
}

// ---------------------------------------------------------------------------------------------
// Changes (for `failover to`): builders only, no I/O.

/** The site's default route through `link`: replaces the one of the same metric (0), in one step. */
export function switchDefaultRoute(link: FailoverLink): RemoteCommand {
  return command('ip', 'route', 'replace', 'default', 'via', link.nextHop, 'dev', link.interface, 'src', link.source);
}

/**
 * Puts back the main table's default routes as read: every default route there now is removed,
 * then each one read is added with what ip showed of it (via, dev, src, metric, proto, onlink).
 * Six words per route, empty when absent; one failed route does not stop the others (exit 1).
 */
const RESTORE_SCRIPT = `restore() {
  ip route add default \${1:+via "$1"} dev "$2" \${3:+src "$3"} metric "$4" \${5:+proto "$5"} \${6:+onlink}
}
ip route flush table main exact 0.0.0.0/0 || exit
status=0
while [ "$#" -ge 6 ]; do
  restore "$1" "$2" "$3" "$4" "$5" "$6" || status=1
  shift 6
done
exit "$status"`;

export function restoreDefaultRoutes(routes: readonly DefaultRoute[]): RemoteCommand {
  const words = routes.flatMap((route) => [
    route.via ?? '',
    route.dev,
    route.src ?? '',
    String(route.metric),
    route.protocol ?? '',
    route.onlink ? 'onlink' : '',
  ]);
  return command('sh', '-c', RESTORE_SCRIPT, 'sh', ...words);
}
