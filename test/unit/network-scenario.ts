// A site for the network judgement's tests: the capture's gateway (test/unit/fixtures/network,
// lab index 250), what it read in the healthy state, and the probes' outcomes as ping printed them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FailoverLink, FailoverSection } from '../../src/lib/network/inventory.js';
import type { GatewayRead } from '../../src/lib/network/judge.js';
import { parseInterfaces } from '../../src/lib/network/links.js';
import { parsePing, type TargetProbe } from '../../src/lib/network/probes.js';
import { type DefaultRoute, parseDefaultRoutes, parseRules } from '../../src/lib/network/routing.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/network/', import.meta.url));
const fixture = (name: string) => {
  try {
    return readFileSync(path.join(FIXTURES, name), 'utf8');
  } catch {
    return '';
  }
};
const CODES = new Map(
  fixture('codes.txt')
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([name, code]) => [name!, Number(code)]),
);

export const TARGETS = ['192.0.2.1', '198.51.100.1', '203.0.113.1'];

/** What ping printed in a captured situation, read as the probe of `target`. */
export function probeOf(situation: string, target: string): TargetProbe {
  const output = fixture(`${situation}.stdout.txt`) + fixture(`${situation}.stderr.txt`);
  return parsePing(target, CODES.get(situation)!, output);
}

/** Every target in the same captured situation. */
export const probesOf = (situation: string) => TARGETS.map((target) => probeOf(situation, target));

const link = (name: 'main' | 'backup', interfaceName: string, hop: number, table: number): FailoverLink => ({
  name,
  interface: interfaceName,
  nextHop: `198.19.250.${hop}`,
  source: `198.19.250.${hop + 1}`,
  publicAddress: `198.19.250.${hop + 1}`,
  table,
  interfaceAt: { position: { file: '/site.yaml', line: 5, col: 22 }, path: `failover.links.${name}.interface` },
});

export const FAILOVER: FailoverSection = {
  gateway: 'gw',
  links: { main: link('main', 'wan1', 65, 101), backup: link('backup', 'wan2', 73, 102) },
  probes: { targets: TARGETS, count: 3, timeout: 1, reliability: 2 },
  revertAfter: 120,
  conntrackFlush: true,
  watchdog: { down: 3, up: 2 },
  source: { file: '/site.yaml', line: 1, col: 1 },
};

export const ON_MAIN = parseDefaultRoutes(fixture('ip-route-main.stdout.txt'));
export const ON_BACKUP = parseDefaultRoutes(fixture('ip-route-main-backup.stdout.txt'));
const MAIN_TABLE = parseDefaultRoutes(fixture('ip-route-table-101.stdout.txt'));
const BACKUP_TABLE: DefaultRoute[] = [{ via: '198.19.250.73', dev: 'wan2', metric: 0, onlink: false }];

/** The capture's gateway on main, both links answering; `change` alters what it read. */
export function healthy(change: Partial<GatewayRead> = {}): GatewayRead {
  return {
    interfaces: parseInterfaces(fixture('ip-link-wan3-down.stdout.txt')),
    routes: new Map<number | 'main', DefaultRoute[]>([
      ['main', ON_MAIN],
      [101, MAIN_TABLE],
      [102, BACKUP_TABLE],
    ]),
    rules: parseRules(fixture('ip-rule.stdout.txt')),
    probes: { main: probesOf('iputils-ok'), backup: probesOf('busybox-ok') },
    ...change,
  };
}

/** The main table's default routes replaced. */
export function routedBy(main: DefaultRoute[]): GatewayRead['routes'] {
  return new Map([...healthy().routes, ['main', main]]);
}

export const NOW = Date.parse('2026-12-02T03:00:00Z');
