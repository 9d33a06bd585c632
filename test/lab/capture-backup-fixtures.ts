// Records what the real backup tools print, on the lab's backup site, healthy and with each fault,
// into test/unit/fixtures/backup/ for the parsers' unit tests: one file per output stream that
// says something, an index (captures.json) with each command and exit code, and a README.md.
// The few files of that folder that no tool here can print (Proxmox VE's and PBS's API answers,
// an inventory) are written by hand: WRITTEN names them and their sources, the index lists them
// too, and a capture leaves them alone.
//   npm run build && node dist/test/lab/capture-backup-fixtures.js [--name LAB]
// Needs root; brings its lab up and down (default name: $CHATON_LAB_PREFIX + "capture").
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  addCopy,
  backupShell,
  backupSite,
  corruptResticPack,
  damageBorgSegment,
  dumpArchives,
  flipArchiveByte,
  leftoverDump,
  lockRepository,
  resetBackupSite,
  SITE_PATHS,
  staleLock,
  truncateArchive,
  wrongResticPassword,
} from './backups.js';
import { LAB_TIMEZONE } from './lab-files.js';
import { labDown, labUp, type Lab } from './lab.js';

const OUT = fileURLToPath(new URL('../../../test/unit/fixtures/backup/', import.meta.url));

interface Capture {
  /** The files' common stem, e.g. restic-0.14-check-locked. */
  name: string;
  what: string;
  command: string;
  exitCode: number;
  /** File names of the streams kept (a stream that printed nothing has none). */
  stdout: string | null;
  stderr: string | null;
}

/** A file of the folder written by hand, in the shape its source gives. */
interface Written {
  file: string;
  what: string;
  source: string;
}

const WRITTEN: Written[] = [
  {
    file: 'pvesh-cluster-resources.json',
    what:
      "`pvesh get /cluster/resources --type vm --output-format json` on the lab's cluster " +
      '(test/lab/README.md, Stand-ins): templates included, tags as the configuration writes them (`prod;db`)',
    source:
      "fields and types from pve-manager PVE/API2/Cluster.pm (resources) and the API viewer; the line's " +
      'shape (`"template":0`, numbers unquoted) from a real PVE capture quoted in a public test',
  },
  {
    file: 'pvesh-backup-info-not-backed-up.json',
    what: '`pvesh get /cluster/backup-info/not-backed-up --output-format json` on the same cluster',
    source: 'fields from pve-manager PVE/API2/BackupInfo.pm (`vmid`, `name`, `type`; templates are listed too)',
  },
  {
    file: 'pbs-snapshot-list.json',
    what:
      '`proxmox-backup-client snapshot list --output-format json`: vm, ct and host groups, ' +
      'verified ok, failed, and never (no `verification`)',
    source:
      'fields from proxmox-backup pbs-api-types/src/datastore.rs (SnapshotListItem: `verification` ' +
      "absent when never verified), the verify task's UPID from pbs-api-types/src/upid.rs",
  },
  {
    file: 'backups-inventory-problems.yaml',
    what: "a `backups:` section with one of each problem its reader reports (not a tool's output)",
    source: 'the reader itself, src/lib/backup/inventory.ts; tested by test/unit/backup-inventory.test.ts',
  },
];

interface Versions {
  restic: string;
  borg: string;
  zstd: string;
  gzip: string;
  lzop: string;
  packages: string;
}

const captures: Capture[] = [];

/** Runs `command` on host backup (site environment set) and keeps its streams under `name`. */
async function capture(lab: Lab, name: string, what: string, command: string, json = false): Promise<Capture> {
  const result = await backupShell(lab, command);
  const keep = async (stream: 'stdout' | 'stderr', text: string): Promise<string | null> => {
    if (text === '') return null;
    const file = `${name}.${stream}.${json && stream === 'stdout' ? 'json' : 'txt'}`;
    await writeFile(join(OUT, file), text);
    return file;
  };
  const entry: Capture = {
    name,
    what,
    command,
    exitCode: result.exitCode,
    stdout: await keep('stdout', result.stdout),
    stderr: await keep('stderr', result.stderr),
  };
  captures.push(entry);
  process.stderr.write(`${name}: exit ${result.exitCode}\n`);
  return entry;
}

async function versions(lab: Lab): Promise<Versions> {
  const line = async (command: string) => (await backupShell(lab, command)).stdout.trim();
  return {
    restic: await line('restic version'),
    borg: await line('borg --version'),
    zstd: await line('zstd --version'),
    gzip: await line('gzip --version | head -1'),
    lzop: await line('lzop --version 2>&1 | head -1'),
    packages: await line(`dpkg-query -W -f '\${Package} \${Version}\\n' restic borgbackup zstd gzip lzop`),
  };
}

async function captureAll(lab: Lab): Promise<void> {
  const R = 'restic-0.14';
  const B = 'borg-1.2';
  // restic: healthy, then each fault.
  await capture(lab, `${R}-snapshots`, 'healthy repository', 'restic snapshots --json', true);
  await capture(lab, `${R}-snapshots-host-web`, 'one guest, by host', 'restic snapshots --json --host web', true);
  await capture(lab, `${R}-check`, 'healthy repository', 'restic check');
  await capture(lab, `${R}-check-read-data-subset`, 'healthy repository', 'restic check --read-data-subset=5%');
  await corruptResticPack(lab);
  await capture(lab, `${R}-check-tree-pack-corrupted`, 'bytes inverted in a tree pack', 'restic check');
  await resetBackupSite(lab);
  await corruptResticPack(lab, { type: 'data' });
  await capture(lab, `${R}-check-data-pack-corrupted`, 'bytes inverted in a data pack: not seen', 'restic check');
  await capture(
    lab,
    `${R}-check-read-data-data-pack-corrupted`,
    'bytes inverted in a data pack',
    'restic check --read-data',
  );
  await resetBackupSite(lab);
  // What a restore test reads: a snapshot's own listing, a restore, a canary's bytes.
  await capture(lab, `${R}-ls-json`, "mail's newest snapshot, listed", 'restic ls --json latest --host mail', true);
  await capture(
    lab,
    `${R}-restore`,
    "mail's newest snapshot, restored",
    'restic restore latest --host mail --target "$(mktemp -d)"',
  );
  await capture(
    lab,
    `${R}-dump-not-in-snapshot`,
    'a file the snapshot does not hold',
    'restic dump latest /srv/guests/mail/no-such-file --host mail',
  );
  await corruptResticPack(lab, { type: 'data' });
  await capture(
    lab,
    `${R}-restore-data-pack-corrupted`,
    'bytes inverted in a data pack',
    'restic restore latest --host mail --target "$(mktemp -d)"',
  );
  await resetBackupSite(lab);
  await wrongResticPassword(lab);
  await capture(
    lab,
    `${R}-snapshots-wrong-password`,
    'password file holds another password',
    'restic snapshots --json',
  );
  await capture(lab, `${R}-check-wrong-password`, 'password file holds another password', 'restic check');
  await resetBackupSite(lab);
  await capture(
    lab,
    `${R}-snapshots-password-file-missing`,
    'the password file named is not there',
    'restic snapshots --json --no-lock --password-file /root/no-such.pass',
  );
  await capture(
    lab,
    `${R}-snapshots-no-repository`,
    'no repository at that path',
    'restic -r /srv/backup/no-such-repo snapshots --json',
  );
  const resticLock = await lockRepository(lab, 'restic');
  await capture(lab, `${R}-snapshots-locked`, 'a backup is running', 'restic snapshots --json', true);
  await capture(lab, `${R}-check-locked`, 'a backup is running', 'restic check');
  await capture(lab, `${R}-list-locks-running`, 'a backup is running', 'restic list locks --no-lock');
  await capture(
    lab,
    `${R}-cat-lock-running`,
    'a backup is running: its lock',
    'restic cat lock --no-lock "$(restic list locks --no-lock | head -1)"',
    true,
  );
  await resticLock.release();
  await staleLock(lab, 'restic');
  await capture(lab, `${R}-check-stale-lock`, 'a backup killed by SIGKILL left its lock', 'restic check');
  await capture(
    lab,
    `${R}-cat-lock-stale`,
    'a backup killed by SIGKILL: its lock (its PID is gone on host backup)',
    'restic cat lock --no-lock "$(restic list locks --no-lock | head -1)"',
    true,
  );
  await resetBackupSite(lab);

  // borg.
  await capture(lab, `${B}-list`, 'healthy repository, host in Europe/Paris', 'borg list --json', true);
  await capture(lab, `${B}-list-glob-mail`, 'one guest', "borg list --json --glob-archives 'mail-*'", true);
  await capture(lab, `${B}-list-utc`, 'healthy repository, TZ=UTC', 'TZ=UTC borg list --json', true);
  await capture(lab, `${B}-check`, 'healthy repository', 'borg check');
  const newestDb = `"::$(borg list --short --glob-archives 'db-*' --last 1)"`;
  await capture(lab, `${B}-list-json-lines`, "db's newest archive, listed", `borg list --json-lines ${newestDb}`, true);
  await capture(
    lab,
    `${B}-log-json-extract-stdout-not-in-archive`,
    'a file the archive does not hold',
    `borg --log-json extract --stdout ${newestDb} srv/guests/db/no-such-file`,
  );
  await capture(lab, `${B}-check-verify-data`, 'healthy repository', 'borg check --verify-data');
  await damageBorgSegment(lab);
  await capture(lab, `${B}-check-damaged-segment`, '16 bytes inverted in a segment', 'borg check');
  await capture(
    lab,
    `${B}-check-verify-data-damaged-segment`,
    '16 bytes inverted in a segment',
    'borg check --verify-data',
  );
  // chaton runs borg with --log-json: each error a JSON record, most with a msgid.
  await capture(lab, `${B}-log-json-check-damaged-segment`, '16 bytes inverted in a segment', 'borg --log-json check');
  await capture(
    lab,
    `${B}-log-json-check-verify-data-damaged-segment`,
    '16 bytes inverted in a segment',
    'borg --log-json check --verify-data',
  );
  await resetBackupSite(lab);
  const borgLock = await lockRepository(lab, 'borg');
  await capture(lab, `${B}-list-locked`, 'borg with-lock holds the lock', 'borg list --json');
  await capture(lab, `${B}-check-locked`, 'borg with-lock holds the lock', 'borg check');
  await capture(lab, `${B}-log-json-list-locked`, 'borg with-lock holds the lock', 'borg --log-json list --json');
  await borgLock.release();
  await staleLock(lab, 'borg');
  await capture(lab, `${B}-list-stale-lock`, 'a killed borg left its lock (same host)', 'borg list --json', true);
  await resetBackupSite(lab);
  await capture(
    lab,
    `${B}-list-wrong-passphrase`,
    'BORG_PASSCOMMAND gives another passphrase',
    "BORG_PASSCOMMAND='echo not-the-passphrase' borg list --json",
  );
  await capture(
    lab,
    `${B}-list-no-repository`,
    'no repository at that path',
    'borg list --json /srv/backup/no-such-repo',
  );
  await capture(
    lab,
    `${B}-list-passcommand-failed`,
    'BORG_PASSCOMMAND fails: the file it reads is not there',
    "BORG_PASSCOMMAND='cat -- /root/no-such.pass' borg list --json",
  );
  await capture(
    lab,
    `${B}-log-json-list-wrong-passphrase`,
    'BORG_PASSCOMMAND gives another passphrase',
    "BORG_PASSCOMMAND='echo not-the-passphrase' borg --log-json list --json",
  );
  await capture(
    lab,
    `${B}-log-json-list-no-repository`,
    'no repository at that path',
    'borg --log-json list --json /srv/backup/no-such-repo',
  );
  await capture(
    lab,
    `${B}-log-json-list-passcommand-failed`,
    'BORG_PASSCOMMAND fails: the file it reads is not there',
    "BORG_PASSCOMMAND='cat -- /root/no-such.pass' borg --log-json list --json",
  );

  // The night DST ends in Paris (26 October 2025), 02:30 shows twice: a copy at each, 00:30 and
  // 01:30 UTC, of web on restic, of mail then db on borg (their names in local time).
  for (const [target, guest, time] of [
    ['restic', 'web', '2025-10-26T00:30:00Z'],
    ['restic', 'web', '2025-10-26T01:30:00Z'],
    ['borg', 'mail', '2025-10-26T00:30:00Z'],
    ['borg', 'db', '2025-10-26T01:30:00Z'],
  ] as const) {
    await addCopy(lab, { target, guest, time: new Date(time) });
  }
  await capture(
    lab,
    `${R}-snapshots-dst-end`,
    'web, with a backup at each 02:30 of the night DST ends',
    'restic snapshots --json --no-lock --host web',
    true,
  );
  await capture(
    lab,
    `${B}-list-dst-end`,
    'an archive at each 02:30 of the night DST ends, host in Europe/Paris',
    "borg list --json --glob-archives '*-2025-10-26T*'",
    true,
  );
  await capture(
    lab,
    `${B}-list-dst-end-utc`,
    'an archive at each 02:30 of the night DST ends, TZ=UTC',
    "TZ=UTC borg list --json --glob-archives '*-2025-10-26T*'",
    true,
  );
  await resetBackupSite(lab);

  // The compressors' own test, on the newest archive of web (zstd), mail (gzip), db (lzop).
  for (const [vmid, tool, version] of [
    [100, 'zstd', 'zstd-1.5'],
    [101, 'gzip', 'gzip-1.12'],
    [102, 'lzop', 'lzop-1.04'],
  ] as const) {
    const newest = (await dumpArchives(lab, vmid)).at(-1)!.path;
    await capture(lab, `${version}-test-ok`, 'a good archive', `${tool} -t ${newest}`);
    await truncateArchive(lab, vmid);
    await capture(lab, `${version}-test-truncated`, 'cut to half its size', `${tool} -t ${newest}`);
    await resetBackupSite(lab);
    await flipArchiveByte(lab, vmid);
    await capture(lab, `${version}-test-flipped-byte`, 'one byte inverted mid-file', `${tool} -t ${newest}`);
    await resetBackupSite(lab);
  }

  // The dump directory as a listing shows it, and the logs: of a backup, of an interrupted one.
  await capture(
    lab,
    'vzdump-log',
    'the log beside the newest archive of 100',
    `cat "$(ls ${SITE_PATHS.dump}/vzdump-qemu-100-*.vma.zst | tail -1 | sed 's/\\.vma\\.zst$/.log/')"`,
  );
  const left = await leftoverDump(lab, 100);
  await capture(lab, 'vzdump-log-interrupted', 'the log of an interrupted run of 100', `cat ${left.log}`);
  await capture(
    lab,
    'vzdump-dump-dir',
    'dump directory, with the leftovers of an interrupted run of 100',
    `cd ${SITE_PATHS.dump} && find . -maxdepth 1 ! -name . -printf '%y %s %T@ %f\\n' | sort -k4`,
  );
  await resetBackupSite(lab);
}

/** A list item cut into lines of at most 100 columns, continued with two spaces; never inside a `code span`. */
function wrap(item: string): string {
  const lines: string[] = [];
  for (const word of item.match(/(?:`[^`]*`|[^ `])+/g) ?? []) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + word.length <= 100) lines[last] += ` ${word}`;
    else lines.push(last < 0 ? word : `  ${word}`);
  }
  return lines.join('\n');
}

function readme(now: Date, version: Versions): string {
  const entries = captures.map(({ name, what, command, exitCode, stdout, stderr }) => {
    const streams = [stdout && 'stdout', stderr && 'stderr'].filter(Boolean).join(', ') || 'nothing printed';
    return `- \`${name}\`: ${what}; exit ${exitCode}; ${streams}.\n  \`${command}\``;
  });
  const written = WRITTEN.map(({ file, what, source }) => wrap(`- \`${file}\`: ${what}. Source: ${source}.`));
  return `# Real outputs of the backup tools (fixtures for the backup parsers)

Written by \`test/lab/capture-backup-fixtures.ts\` (\`npm run build && node
dist/test/lab/capture-backup-fixtures.js\`, as root): it builds the lab's backup site with the real
tools (test/lab/README.md, Backup site), injects each fault, and runs each command below as root
on host \`backup\`, whose zone is ${LAB_TIMEZONE}, with RESTIC_REPOSITORY=${SITE_PATHS.restic},
RESTIC_PASSWORD_FILE=${SITE_PATHS.resticPasswordFile}, BORG_REPO=${SITE_PATHS.borg} and
BORG_PASSCOMMAND='cat ${SITE_PATHS.borgPassphraseFile}' in its environment.

Captured ${now.toISOString()} (the site's \`now\`: copies are 3 h, 1 day... 7 days older), on
Debian 12 with:

\`\`\`
${version.packages}
${version.restic}
${version.borg}
${version.zstd}
${version.gzip}
${version.lzop}
\`\`\`

Each capture keeps the streams that printed something as \`<name>.stdout.json|txt\` and
\`<name>.stderr.txt\`, exactly as printed; \`captures.json\` lists them with the command and exit
code, for tests to read, and (under \`written\`) the files written by hand.

Each capture: name, situation; exit code; streams kept; then the command.

${entries.join('\n')}

Written by hand, as no tool here prints them (no Proxmox VE nor PBS runs here; the lab's stand-ins
follow the same sources), each in the shape its source gives:

${written.join('\n')}

Worth knowing, seen here:

- restic 0.14 exits 1 for every failure (wrong password, lock, errors found): the distinct codes
  10, 11, 12 came with restic 0.17. Tell them apart by stderr. A running backup's lock and a stale
  one look the same to \`restic check\`; \`restic cat lock\` gives the holder's PID and host (the
  stale one's PID is gone on that host).
- restic prints snapshot times with the offset of the zone it ran in (here +01:00 or +02:00).
- borg 1.2 prints \`start\`/\`time\` in the local time of the host it runs on, without a zone:
  compare \`borg-1.2-list.stdout.json\` with \`borg-1.2-list-utc.stdout.json\`. Its
  \`--timestamp\` is read as UTC. The night DST ends, two archives an hour apart read the same in
  Paris (\`borg-1.2-list-dst-end\`), not under TZ=UTC: why chaton runs borg under TZ=UTC.
- borg exits 2 when the lock cannot be had (after --lock-wait, 1 s by default), the passphrase
  is wrong or the passcommand fails; \`borg check\` exits 1 when it finds errors. With
  \`--log-json\`, each message is a JSON record on stderr; an error that ends borg has a
  \`msgid\` (LockTimeout, PassphraseWrong, Repository.DoesNotExist, PasscommandFailure).
- zstd shortens the file name in its messages (\`_01-22_42_39.vma.zst : ...\`).
`;
}

const { values } = parseArgs({ options: { name: { type: 'string' } } });
const name = values.name ?? `${process.env.CHATON_LAB_PREFIX ?? ''}capture`;
await labDown(name);
const lab = await labUp({ name, hosts: 0 });
try {
  await mkdir(OUT, { recursive: true });
  const written = new Set(WRITTEN.map(({ file }) => file));
  for (const file of await readdir(OUT)) if (!written.has(file)) await rm(join(OUT, file));
  const site = await backupSite(lab);
  await captureAll(lab);
  await writeFile(
    join(OUT, 'captures.json'),
    JSON.stringify(
      { capturedAt: site.now.toISOString(), timezone: LAB_TIMEZONE, captures, written: WRITTEN },
      null,
      2,
    ) + '\n',
  );
  await writeFile(join(OUT, 'README.md'), readme(site.now, await versions(lab)));
} finally {
  await lab.down();
}
