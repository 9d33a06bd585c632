// systemctl for a Ceph lab's hosts, where no systemd runs: the Ceph daemons' units (ceph-osd@N,
// ceph-mon@<host>, ceph-mgr@<host>) are run by the lab's supervisor in the foreground, with their
// unit files' own command lines (and ceph-osd@'s ExecStartPre, ceph-osd-prestart.sh), and this
// asks it through its control socket (ceph-lab.ts). Verbs: start, stop, restart, status,
// is-active. Any other unit or verb goes to the real systemctl, which says that systemd is not
// running, as it would in a container.
//
// Sources (github.com/systemd/systemd, v252, Debian 12's):
// - src/systemctl/systemctl-start-unit.c: start and stop print nothing on success, stop of a
//   stopped unit too; every instance of a template unit exists;
// - src/shared/bus-wait-for-jobs.c log_job_error_with_service_result: "Job for X failed because the
//   control process exited with error code." and the "See ..." line, exit 1;
// - src/systemctl/systemctl-is-active.c: one state per unit, exit 0 when all are active, else 3
//   (EXIT_PROGRAM_NOT_RUNNING); an unknown unit is "inactive";
// - src/systemctl/systemctl-show.c print_status_info: the "●/○/×" line, Loaded, Active (with
//   "since <time>; <relative> ago"), the Main PID line, then the journal; exit 0 when running, 3
//   when not;
// - src/basic/time-util.c format_timestamp ("%a %Y-%m-%d %H:%M:%S %Z", local time) and
//   format_timestamp_relative ("5min 3s ago"); src/shared/logs-show.c output_short (the journal's
//   "Dec 02 07:29:01 pve1 ceph-osd[29101]: message" lines, local time);
// - ceph's systemd/ceph-osd@.service, ceph-mon@.service, ceph-mgr@.service (descriptions,
//   ExecStart; Debian installs them in /lib/systemd/system).
// Not reproduced: Tasks, Memory, CPU and CGroup lines, Restart=on-failure (a daemon that dies
// stays failed), enable/disable, any other unit.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { UnitStatus } from '../control.js';
import { cephLabRequest } from './ceph-lab.js';

const REAL_SYSTEMCTL = '/usr/bin/systemctl';
/** EXIT_PROGRAM_NOT_RUNNING (LSB). */
const EXIT_NOT_RUNNING = 3;

const DESCRIPTIONS: Record<string, (id: string) => string> = {
  osd: (id) => `Ceph object storage daemon osd.${id}`,
  mon: () => 'Ceph cluster monitor daemon',
  mgr: () => 'Ceph cluster manager daemon',
};

interface Unit {
  /** With its suffix: "ceph-osd@3.service". */
  name: string;
  type: string;
  id: string;
}

/** A unit name as systemctl completes it (".service" added); undefined when it is no Ceph daemon's. */
function cephUnit(argument: string): Unit | undefined {
  const match = /^ceph-(osd|mon|mgr)@([^@/\s]+?)(?:\.service)?$/.exec(argument);
  if (!match) return undefined;
  const [, type = '', id = ''] = match;
  return { name: `ceph-${type}@${id}.service`, type, id };
}

function realSystemctl(args: string[]): number {
  const result = spawnSync(REAL_SYSTEMCTL, args, { stdio: 'inherit' });
  return result.status ?? 1;
}

async function ask(action: 'start' | 'stop' | 'status', unit: Unit): Promise<UnitStatus> {
  const answer = await cephLabRequest({ op: 'unit', host: hostname(), action, unit: unit.name });
  // No Ceph lab on this host: what the real one says without systemd.
  if (!answer) throw new Error("System has not been booted with systemd as init system (PID 1). Can't operate.");
  if (!answer.ok) throw new Error(answer.error);
  if (!answer.unit) throw new Error(`lab supervisor: no unit in its answer to ${action} ${unit.name}`);
  return answer.unit;
}

/** format_timestamp: the host's local time, as date(1) formats it with the zone's abbreviation. */
function timestamp(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return spawnSync('date', ['-d', `@${seconds}`, '+%a %Y-%m-%d %H:%M:%S %Z'], { encoding: 'utf8' }).stdout.trim();
}

/** format_timestamp_relative, to the second. */
function relative(iso: string): string {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days > 0) return `${days} day${days > 1 ? 's' : ''} ${hours}h ago`;
  if (hours > 0) return `${hours}h ${minutes}min ago`;
  if (minutes > 0) return `${minutes}min ${rest}s ago`;
  return seconds > 0 ? `${rest}s ago` : 'now';
}

/** A lab syslog line, "<ISO time> <host> <program>[<pid>]: <message>", as journalctl's short format shows it. */
function journalLine(line: string): string {
  const [iso = '', ...rest] = line.split(' ');
  const parts = new Intl.DateTimeFormat('en-US', {
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)?.value;
  return `${part('month')} ${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${rest.join(' ')}`;
}

function exitDescription(status: UnitStatus): string {
  if (status.result?.kind === 'signal') return `code=killed, signal=${status.result.status}`;
  const code = status.result?.status ?? '0';
  return `code=exited, status=${code}/${code === '0' ? 'SUCCESS' : 'FAILURE'}`;
}

function statusText(unit: Unit, status: UnitStatus): string {
  const description = DESCRIPTIONS[unit.type]!(unit.id);
  const bullet = status.state === 'active' ? '●' : status.state === 'failed' ? '×' : '○';
  const since = status.since ? ` since ${timestamp(status.since)}; ${relative(status.since)}` : '';
  const active =
    status.state === 'active'
      ? `active (running)${since}`
      : status.state === 'failed'
        ? `failed (Result: ${status.result?.kind ?? 'exit-code'})${since}`
        : `inactive (dead)${since}`;
  const lines = [
    `${bullet} ${unit.name} - ${description}`,
    `     Loaded: loaded (/lib/systemd/system/ceph-${unit.type}@.service; enabled-runtime; preset: enabled)`,
    `     Active: ${active}`,
  ];
  if (status.pid !== undefined) {
    lines.push(
      status.state === 'active'
        ? `   Main PID: ${status.pid} (ceph-${unit.type})`
        : `   Main PID: ${status.pid} (${exitDescription(status)})`,
    );
  }
  if (status.journal.length > 0) lines.push('', ...status.journal.map(journalLine));
  return `${lines.join('\n')}\n`;
}

async function main(args: string[]): Promise<number> {
  const verbs = new Set(['start', 'stop', 'restart', 'status', 'is-active']);
  const options = args.filter((arg) => arg.startsWith('-'));
  const [verb, ...names] = args.filter((arg) => !arg.startsWith('-'));
  const units = names.map(cephUnit);
  const quiet = options.includes('--quiet') || options.includes('-q');
  if (!verb || !verbs.has(verb) || names.length === 0 || units.some((unit) => unit === undefined)) {
    return realSystemctl(args);
  }
  let exitCode = 0;
  for (const unit of units as Unit[]) {
    if (verb === 'is-active' || verb === 'status') {
      const status = await ask('status', unit);
      if (verb === 'is-active') {
        if (!quiet) process.stdout.write(`${status.state}\n`);
      } else {
        process.stdout.write(statusText(unit, status));
      }
      if (status.state !== 'active') exitCode = EXIT_NOT_RUNNING;
      continue;
    }
    if (verb === 'stop' || verb === 'restart') await ask('stop', unit);
    if (verb === 'stop') continue;
    const status = await ask('start', unit);
    if (status.state === 'failed') {
      process.stderr.write(
        `Job for ${unit.name} failed because the control process exited with error code.\n` +
          `See "systemctl status ${unit.name}" and "journalctl -xeu ${unit.name}" for details.\n`,
      );
      exitCode = 1;
    }
  }
  return exitCode;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
