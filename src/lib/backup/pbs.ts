// A Proxmox Backup Server datastore, read with `proxmox-backup-client snapshot list --output-format
// json` on the target host. Each snapshot: backup-type (vm, ct, host), backup-id, backup-time
// (epoch seconds), size, files, protected, and `verification: {upid, state: ok|failed}`, ABSENT
// when never verified; the verify task's start time is the 5th field of its UPID, in hex.
// Sources: proxmox-backup pbs-api-types/src/datastore.rs (SnapshotListItem, SnapshotVerifyState),
// pbs-api-types/src/upid.rs (UPID:node:pid:pstart:task_id:starttime:type:id:auth:),
// proxmox-backup-client/src/snapshot.rs (list_snapshots); real-tools.md (Backups).
import type { Copy, CopyKey, Listing } from './copies.js';
import { emptyListing, listed } from './copies.js';
import type { PbsTarget } from './inventory.js';
import {
  commonOutcome,
  lastLine,
  OK,
  type Outcome,
  outcome,
  type Probe,
  type SecretInput,
  type ToolOutput,
  withSecretIn,
} from './tools.js';

/** The snapshots of the datastore, with their verification state. */
export function pbsSnapshotsProbe(
  target: Pick<PbsTarget, 'repository' | 'fingerprint'>,
  secret: SecretInput,
): Probe<Listing> {
  const env = ['env', ...(target.fingerprint ? [`PBS_FINGERPRINT=${target.fingerprint}`] : [])];
  const list = [
    'proxmox-backup-client',
    'snapshot',
    'list',
    '--output-format',
    'json',
    '--repository',
    target.repository,
  ];
  return {
    command: withSecretIn('PBS_PASSWORD', secret, [...env, ...list]),
    parse: (output) => {
      const ended = pbsOutcome(output);
      return ended.kind === 'ok' ? listed(OK, () => parsePbsSnapshots(output.stdout)) : emptyListing(ended);
    },
  };
}

/** The client fails with one message and a non-zero status; a refused login is told apart. */
export function pbsOutcome(output: ToolOutput): Outcome {
  const common = commonOutcome(output);
  if (common) return common;
  if (output.code === 0) return OK;
  const detail = lastLine(output.stderr);
  if (/authentication failed|invalid credentials|permission check failed|401/i.test(output.stderr)) {
    return outcome('wrong-password', detail);
  }
  if (/datastore .*(does not exist|not found)|no such datastore/i.test(output.stderr))
    return outcome('no-repository', detail);
  return outcome('error', detail);
}

/** The start time of a task, from its UPID; undefined when it does not parse. */
export function upidStartTime(upid: unknown): number | undefined {
  if (typeof upid !== 'string') return undefined;
  const starttime = /^UPID:[^:]+:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8,16}:([0-9A-Fa-f]{8}):/.exec(upid)?.[1];
  return starttime === undefined ? undefined : parseInt(starttime, 16) * 1000;
}

/** A snapshot's id as PBS writes it: `vm/100/2025-03-30T01:30:00Z`. */
function snapshotId(type: string, id: string, epochSeconds: number): string {
  return `${type}/${id}/${new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z')}`;
}

export function parsePbsSnapshots(stdout: string): Copy[] {
  const value: unknown = JSON.parse(stdout);
  if (!Array.isArray(value)) throw new Error('proxmox-backup-client: a JSON array was expected');
  return value.flatMap((item: Record<string, unknown>) => {
    const type = item['backup-type'];
    const id = item['backup-id'];
    const time = item['backup-time'];
    if (typeof type !== 'string' || typeof id !== 'string' || typeof time !== 'number') return [];
    let key: CopyKey;
    if ((type === 'vm' || type === 'ct') && /^[0-9]+$/.test(id)) key = { vmid: Number(id) };
    else if (type === 'host') key = { name: id };
    else return [];
    const verification = item.verification as { state?: unknown; upid?: unknown } | undefined;
    const state = verification?.state;
    const verifiedAt = upidStartTime(verification?.upid);
    const copy: Copy = {
      key,
      time: time * 1000,
      location: snapshotId(type, id, time),
      verification:
        state === 'ok' || state === 'failed'
          ? { state, ...(verifiedAt === undefined ? {} : { time: verifiedAt }) }
          : 'never',
    };
    if (typeof item.size === 'number') copy.size = item.size;
    return [copy];
  });
}
