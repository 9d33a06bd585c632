// --dry-run promises to print exactly what a real run sends. Each case runs a dry-run, then the
// same command for real on the same host with nothing changed in between, and compares the
// dry-run's planned changes with the changes the executor really sent (CHATON_RECORD_COMMANDS).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { chaton, freshLab, sandboxEnv } from './chaton.js';

interface SentCommand {
  host: string;
  command: string;
}

interface HostReport {
  host: string;
  changes: string[];
}

let lab: Lab;
let env: NodeJS.ProcessEnv;
let dir: string;
let key: string;

before(async () => {
  lab = await freshLab('it-dry-run', 1);
  env = await sandboxEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-dry-run-'));
  key = path.join(dir, 'lea');
  await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lea@laptop', '-f', key]);
});
after(async () => {
  await lab?.down();
});

/**
 * Runs `args` with --dry-run --json, then for real with the executor recording what it sends.
 * The record holds change commands only: probes run in both and differ by design.
 */
async function dryRunThenReal(args: string[]) {
  const dryRun = await chaton(['-i', lab.inventoryPath, '--dry-run', '--json', ...args], { env });
  assert.equal(dryRun.code, 0, dryRun.stderr);
  const planned = JSON.parse(dryRun.stdout) as { planned: SentCommand[]; hosts: HostReport[] };
  const record = path.join(await mkdtemp(path.join(dir, 'sent-')), 'commands.jsonl');
  const recorded = { ...env, CHATON_RECORD_COMMANDS: record };
  const real = await chaton(['-i', lab.inventoryPath, '--json', ...args], { env: recorded });
  assert.equal(real.code, 0, real.stderr);
  const done = JSON.parse(real.stdout) as { hosts: HostReport[] };
  const lines = (await readFile(record, 'utf8')).split('\n').filter(Boolean);
  return {
    planned: planned.planned.map(({ host, command }) => ({ host, command })),
    sent: lines.map((line) => JSON.parse(line) as SentCommand),
    plannedReport: planned.hosts.map(({ host, changes }) => ({ host, changes })),
    sentReport: done.hosts.map(({ host, changes }) => ({ host, changes })),
  };
}

/**
 * The real run sent the dry-run's commands line for line, then the host's syslog audit line,
 * which is chaton's own record of the run rather than one of its changes.
 */
function assertSentAsPlanned(host: string, run: Awaited<ReturnType<typeof dryRunThenReal>>): void {
  assert.ok(run.planned.length > 0, 'the dry-run planned changes');
  assert.ok(
    run.planned.every((step) => step.host === host),
    `every planned change is for ${host}`,
  );
  assert.deepEqual(run.sent.slice(0, -1), run.planned);
  assert.equal(run.sent.at(-1)?.host, host);
  assert.match(run.sent.at(-1)?.command ?? '', /logger -t chaton/);
  assert.deepEqual(run.sentReport, run.plannedReport, 'the reports name the same changes');
}

describe('--dry-run prints exactly what a real run sends', () => {
  it('onboard sysadmin on a fresh host: account, name, groups, expiry, keys, sudo and the Proxmox user', async () => {
    const who = ['--name', 'Léa Martin', '--email', 'lea@example.org', '--key', `${key}.pub`];
    const access = ['--sudo', '--groups', 'adm', '--expires', '2099-12-31', '--proxmox-role', 'PVEAdmin'];
    assert.equal((await lab.run('pve1', ['getent', 'passwd', 'lea'])).exitCode, 2, 'pve1 has never seen lea');
    const onboard = ['onboard', 'sysadmin', 'lea', ...who, ...access, '--on', 'pve1'];
    assertSentAsPlanned('pve1', await dryRunThenReal(onboard));
  });

  it('offboard sysadmin of that account: lock, keys, sudo, Proxmox user and home', async () => {
    const offboard = ['--yes', 'offboard', 'sysadmin', 'lea', '--on', 'pve1', '--remove-home'];
    assertSentAsPlanned('pve1', await dryRunThenReal(offboard));
  });
});
