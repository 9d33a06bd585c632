// What `chaton connections` and `chaton connections close` report: the keepers' states as tables
// and lines for a person, as they are for JSON. Loaded when one of them runs, not by --help.
import type { CommandResult } from '../lib/run/context.js';
import { ExitCode } from '../lib/run/errors.js';
import { localTime } from '../lib/run/output.js';
import type { Block } from '../lib/run/report.js';
import { route } from '../lib/ssh/endpoint.js';
import type { KeeperState } from '../lib/ssh/keeper/control.js';
import { messages } from './messages.js';

/** One block per keeper: what it serves and until when, then a row per connection it holds. */
export function keepersReport(keepers: KeeperState[], stale: string[], now = new Date()): CommandResult {
  const time = (iso: string) => localTime(new Date(iso), now);
  const view = keepers.flatMap((keeper): Block[] => {
    const heading = messages.keeperHeading(
      keeper.inventory,
      keeper.pid,
      time(keeper.startedAt),
      time(keeper.expiresAt),
    );
    if (keeper.connections.length === 0) return [{ text: `${heading}\n${messages.keeperHoldsNothing}` }];
    const table = {
      columns: [
        messages.columnHost,
        messages.columnVia,
        messages.columnAddress,
        messages.columnUser,
        messages.columnSince,
        messages.columnLastUsed,
        messages.columnKey,
      ],
      rows: keeper.connections.map((held) => [
        held.host,
        route(held.via),
        `${held.address}:${held.port}`,
        held.user,
        time(held.since),
        time(held.lastUsed),
        held.keyFingerprint,
      ]),
      failures: [],
    };
    return [{ text: heading }, table];
  });
  return {
    exitCode: ExitCode.ok,
    hosts: [],
    fields: { keepers, stale },
    view: view.length > 0 ? view : [{ text: messages.noConnectionKept }],
  };
}

/** The keepers closed (or that a dry-run would close): one line each. */
export function closedReport(keepers: KeeperState[], dryRun: boolean): CommandResult {
  const said = dryRun ? messages.keeperWouldClose : messages.keeperClosed;
  const lines = keepers.map((keeper) => said(keeper.inventory, keeper.pid, keeper.connections.length));
  if (keepers.length === 0) lines.push(messages.noKeeperToClose);
  else if (dryRun) lines.push(messages.nothingClosed);
  return { exitCode: ExitCode.ok, hosts: [], fields: { dryRun, keepers }, view: [{ text: lines.join('\n') }] };
}
