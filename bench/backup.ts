// `npm run bench`, backup part (issue 11, Performance): `chaton backup verify` on a site of 200
// guests on the lab's 4 targets (vzdump directory, PBS, restic, borg: the real tools, copies of
// tiny data), metadata only (--no-integrity) and in full; the integrity of 50 vzdump archives
// against the same `zstd -t` loop written by hand in one SSH session on that host; and the
// restic check and borg check that chaton runs, by hand in one SSH session. Figures and the
// issue's bars are printed, never asserted.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backupShell, backupSite, SITE_GUESTS, TARGET_GUESTS, type SiteGuest } from '../test/lab/backups.js';
import type { Lab } from '../test/lab/lab.js';
import { forEachLimit, SPAWN_CONCURRENCY } from '../test/lab/parallel.js';
import { addBackupJob, addGuest } from '../test/lab/proxmox.js';
import { variantInventory } from '../test/integration/chaton.js';
import { columns, figure, type Figure, seconds, sh } from './measure.js';

const CHATON = fileURLToPath(new URL('../../bin/chaton.js', import.meta.url));
/** With the lab site's 6 judged guests (web, mail, db, dev, dns, www-legacy): 200. */
const ADDED_GUESTS = 194;
/** Daily copies of each guest on each target (the bench's policy wants 3 over 2 days). */
const COPIES = 3;
const INTEGRITY_ARCHIVES = 50;
/** Each archive of the integrity figure: this many MiB (base64 of random bytes, 3/4 of it after zstd). */
const ARCHIVE_MIB = 48;
const DUMP50 = '/srv/backup/dump50';
/** The bars. */
const METADATA_BAR_MS = 2000;
const INTEGRITY_BAR_RATIO = 1.15;

export interface BackupBench {
  guests: number;
  copies: number;
  buildMs: number;
  archiveMiB: number;
  metadata: Figure;
  full: Figure;
  integrity: Figure;
  integrityByHand: Figure;
  resticCheck: Figure;
  borgCheck: Figure;
  /** What chaton's own JSON says each command took: the metadata run's listings, the full run's checks. */
  listings: { target: string; durationMs: number }[];
  checksInRun: { target: string; durationMs: number }[];
}

interface Added extends SiteGuest {
  vmid: number;
  type: 'qemu' | 'lxc';
  node: string;
}

/** The guests the bench adds to the cluster: VMIDs 1000 on, over pve1-pve3, one in four a container. */
function addedGuests(): Added[] {
  return Array.from({ length: ADDED_GUESTS }, (_, i) => ({
    vmid: 1000 + i,
    name: `bench-${1000 + i}`,
    type: i % 4 === 3 ? 'lxc' : 'qemu',
    compression: 'zst',
    node: `pve${(i % 3) + 1}`,
  }));
}

/**
 * The integrity figure's dump directory: one archive for each of `lines` ("vmid type epoch"),
 * named as vzdump names them, copies of one zstd stream (the test reads each whole all the same).
 */
const DUMP50_SCRIPT = `set -euo pipefail
dir=$1 mib=$2; shift 2
rm -rf "$dir"; mkdir -p "$dir"
head -c $((mib * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 100 | zstd -q -c > "$dir/.stream"
for line; do
  read -r vmid type start <<< "$line"
  case $type in qemu) inner=vma ;; lxc) inner=tar ;; esac
  file=$dir/vzdump-$type-$vmid-$(date -d "@$start" +%Y_%m_%d-%H_%M_%S).$inner.zst
  cp "$dir/.stream" "$file"
  touch -d "@$((start + 4))" "$file"
done
rm "$dir/.stream"`;

async function buildSite(lab: Lab): Promise<Added[]> {
  const added = addedGuests();
  await forEachLimit(added, SPAWN_CONCURRENCY, (guest) =>
    addGuest(lab, { vmid: guest.vmid, name: guest.name, type: guest.type, node: guest.node, disk: '1G' }),
  );
  await addBackupJob(lab, 'backup-bench', { vmid: added.map((guest) => guest.vmid).join(','), compress: 'zstd' });
  const names = added.map((guest) => guest.name);
  await backupSite(lab, {
    copies: COPIES,
    guests: [...SITE_GUESTS, ...added],
    targetGuests: {
      vzdump: [...TARGET_GUESTS.vzdump, ...names],
      pbs: [...TARGET_GUESTS.pbs, ...names],
      restic: [...TARGET_GUESTS.restic, ...names],
      borg: [...TARGET_GUESTS.borg, ...names],
    },
  });
  const start = Math.floor(Date.now() / 1000) - 3 * 3600;
  const lines = added.slice(0, INTEGRITY_ARCHIVES).map((guest) => `${guest.vmid} ${guest.type} ${start}`);
  const made = await backupShell(lab, DUMP50_SCRIPT, [DUMP50, ARCHIVE_MIB, ...lines]);
  if (made.exitCode !== 0) throw new Error(`the integrity archives: ${made.stderr}`);
  return added;
}

interface VerifyJson {
  checks: { target: string; command: string; durationMs: number }[];
  targets: { name: string; check: { durationMs: number | null } | null }[];
}

function verifyJson(inventory: string, env: NodeJS.ProcessEnv, ...args: string[]): VerifyJson {
  const run = spawnSync(process.execPath, [CHATON, '-i', inventory, '--json', 'backup', 'verify', ...args], {
    encoding: 'utf8',
    env,
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(run.stdout) as VerifyJson;
}

export async function backupBench(lab: Lab, sshConfigFile: string, env: NodeJS.ProcessEnv): Promise<BackupBench> {
  process.stderr.write(`backup verify: building a site of 200 guests on 4 targets, ${COPIES} copies each...\n`);
  const started = performance.now();
  const added = await buildSite(lab);
  const buildMs = performance.now() - started;
  process.stderr.write(`  built in ${seconds(buildMs)}\n`);

  const site = await variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['backups', 'policy', 'min_copies'], COPIES);
    doc.setIn(['backups', 'policy', 'min_span'], `${COPIES - 1}d`);
  });
  // Only the 50 archives' guests are judged: the others are excluded, so that the run is healthy.
  const tested = new Set(added.slice(0, INTEGRITY_ARCHIVES).map((guest) => guest.vmid));
  const others = [...SITE_GUESTS, ...added].flatMap((guest) =>
    guest.vmid === undefined || tested.has(guest.vmid) ? [] : [guest.vmid],
  );
  const fifty = await variantInventory(lab.inventoryPath, (doc) => {
    doc.setIn(['backups', 'policy'], doc.createNode({ max_age: '26h', min_copies: 1, targets: 1 }));
    doc.setIn(['backups', 'overrides'], doc.createNode([{ guests: others, exclude: 'not in the integrity bench' }]));
    doc.setIn(['backups', 'targets'], doc.createNode({ dump50: { type: 'vzdump', host: 'backup', path: DUMP50 } }));
  });
  const backup = lab.hosts.find((host) => host.name === 'backup')!;
  const overSsh = (remote: string) => ['ssh', '-F', sshConfigFile, backup.address, remote];
  const verify = (inventory: string, ...args: string[]) => [CHATON, '-i', inventory, '-q', 'backup', 'verify', ...args];

  process.stderr.write('backup verify:\n');
  const metadata = await figure(
    'chaton backup verify --no-integrity',
    'backup',
    '-',
    200,
    verify(site, '--no-integrity'),
    {
      env,
    },
  );
  const listings = verifyJson(site, env, '--no-integrity').checks.map(({ target, durationMs }) => ({
    target,
    durationMs,
  }));
  // The full run: warnings or worse do not change what it costs (exit 0 or 1 both count).
  const full = await figure('chaton backup verify (full)', 'backup', '-', 200, verify(site), {
    env,
    okCodes: [0, 1],
    repeats: 2,
  });
  const fullJson = verifyJson(site, env);
  const checksInRun = fullJson.targets.flatMap((target) =>
    target.check?.durationMs == null ? [] : [{ target: target.name, durationMs: target.check.durationMs }],
  );
  const integrity = await figure(
    `chaton backup verify, ${INTEGRITY_ARCHIVES} archives`,
    'backup',
    '-',
    INTEGRITY_ARCHIVES,
    verify(fifty),
    { env },
  );
  const loop = `for f in ${sh(DUMP50)}/vzdump-*; do zstd -t -q -- "$f" || echo "$f: damaged"; done`;
  const integrityByHand = await figure(
    `zstd -t loop, one ssh session`,
    'backup-hand',
    '-',
    INTEGRITY_ARCHIVES,
    overSsh(loop),
  );
  // The very commands chaton ran (its JSON says them), by hand in one session each.
  const ran = (target: string) =>
    fullJson.checks.find((check) => check.target === target && / check/.test(check.command));
  const byHand = async (scenario: string, target: string): Promise<Figure> => {
    const check = ran(target);
    return figure(scenario, 'backup-hand', '-', 0, overSsh(check?.command ?? `echo no ${target} check; exit 1`), {
      repeats: 2,
    });
  };
  const resticCheck = await byHand('restic check, one ssh session', 'offsite');
  const borgCheck = await byHand('borg check, one ssh session', 'borg');
  await backupShell(lab, `rm -rf ${DUMP50}`);
  return {
    guests: 200,
    copies: COPIES,
    buildMs,
    archiveMiB: ARCHIVE_MIB,
    metadata,
    full,
    integrity,
    integrityByHand,
    resticCheck,
    borgCheck,
    listings,
    checksInRun,
  };
}

/** The backup figures as the bench prints them: a table, where the time goes, the bars. */
export function backupReport(bench: BackupBench): string[] {
  const rows = [
    bench.metadata,
    bench.full,
    bench.integrity,
    bench.integrityByHand,
    bench.resticCheck,
    bench.borgCheck,
  ].map((f) => [f.scenario, seconds(f.median), seconds(f.min), seconds(f.max), String(f.runs.length)]);
  const ratio = bench.integrity.median / bench.integrityByHand.median;
  const ms = (list: { target: string; durationMs: number }[]) =>
    list.map(({ target, durationMs }) => `${target} ${seconds(durationMs)}`).join(', ');
  const bars: [string, boolean, string][] = [
    [
      `metadata only, ${bench.guests} guests on 4 targets <= ${seconds(METADATA_BAR_MS)}`,
      bench.metadata.median <= METADATA_BAR_MS,
      seconds(bench.metadata.median),
    ],
    [
      `integrity of ${INTEGRITY_ARCHIVES} archives <= ${INTEGRITY_BAR_RATIO}x the zstd -t loop by hand`,
      ratio <= INTEGRITY_BAR_RATIO,
      `${ratio.toFixed(2)}x (${seconds(bench.integrity.median)} vs ${seconds(bench.integrityByHand.median)})`,
    ],
  ];
  return [
    `backup verify: a site of ${bench.guests} guests on 4 targets (vzdump, PBS, restic, borg), ${bench.copies} ` +
      `copies each, built in ${seconds(bench.buildMs)}; the integrity archives ${bench.archiveMiB} MiB each (zstd)`,
    '',
    ...columns([['backup', 'median', 'min', 'max', 'runs'], ...rows]),
    '',
    `where the metadata run's time goes (chaton's own JSON, listings in parallel): ${ms(bench.listings)}`,
    `the checks within the full run (in parallel, 2 per host): ${ms(bench.checksInRun)}`,
    '',
    ...columns([
      ['backup target', 'met', 'measured'],
      ...bars.map(([what, met, value]) => [what, met ? 'yes' : 'NO', value]),
    ]),
  ];
}
