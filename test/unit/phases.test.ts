// The phase runner with fake work and no lab: phases run in order in one chain, a failed phase
// stops the later ones, hosts' outcomes are kept, and a question comes after the probes it
// speaks of. Then waitUntil, the bounded poll the phases wait with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GlobalOptions, RunContext } from '../../src/lib/run/context.js';
import { UnendedLines } from '../../src/lib/run/display.js';
import { ExitCode, InterruptedError, RefusedError, VerificationError } from '../../src/lib/run/errors.js';
import { exitCodeFor } from '../../src/lib/run/fan-out.js';
import { parseInventory } from '../../src/lib/inventory/load.js';
import type { Host } from '../../src/lib/inventory/types.js';
import { fanOutPhase, hostOutcomes, PhaseFailedError, runPhases, type Phase } from '../../src/lib/run/phases.js';
import { waitUntil, type Polled } from '../../src/lib/run/wait.js';

const inventory = parseInventory(
  `hosts:
  pve1: { address: 10.0.0.11, direct: true }
  pve2: { address: 10.0.0.12, direct: true }
  pve3: { address: 10.0.0.13, direct: true }
`,
  '/tmp/phases-test.yaml',
);
const hosts = inventory.hosts as Host[];

/** A run without a terminal, quiet (only failures are printed), that records its audit calls. */
function fakeRun(options: Partial<GlobalOptions> = {}, signal = new AbortController().signal) {
  const audited: string[] = [];
  const ctx = {
    options: {
      dryRun: false,
      yes: false,
      json: false,
      verbose: false,
      sshDebug: false,
      quiet: true,
      concurrency: 4,
      color: false,
      acceptNew: false,
      ...options,
    },
    mode: { json: false, quiet: true, verbose: false, colour: false, interactive: false },
    unended: new UnendedLines(),
    signal,
    auditHost: async (host: Host, outcome: string) => {
      audited.push(`${host.name} ${outcome}`);
    },
  } as unknown as RunContext;
  return { ctx, audited };
}

/** The account each host has, as a probe would find it: none on pve2. */
const accounts: Record<string, boolean> = { pve1: true, pve2: false, pve3: true };

/** Offboard's shape: probe every host, ask about what was found, change where it was. */
function probeThenChange(log: string[]) {
  const probe = fanOutPhase({
    title: 'Read the account',
    hosts,
    work: async (host) => {
      log.push(`probe ${host.name}`);
      return accounts[host.name]!;
    },
  });
  const found = () =>
    probe
      .succeeded()
      .filter((s) => s.value)
      .map((s) => s.host.name);
  const question = () =>
    found().length
      ? `Lock jdupont on the ${found().length} hosts where the account exists (${found().join(', ')})?`
      : undefined;
  const change = fanOutPhase({
    title: 'Lock',
    hosts: () => probe.succeeded().map((s) => s.host),
    work: async (host) => {
      log.push(`change ${host.name}`);
      return 'locked';
    },
  });
  const phases: Phase[] = [probe, { kind: 'confirm', question }, change];
  return { probe, change, phases };
}

describe('runPhases', () => {
  it('tells a host an earlier phase counted as failed as that phase said, never as not started', async () => {
    const { ctx } = fakeRun();
    const rated = fanOutPhase({
      title: 'Rate',
      hosts,
      work: async (host) => host.name.length,
      failed: (length) => length > 3,
      summary: (length) => `${length} letters is too long`,
    });
    await runPhases(ctx, [rated], 'live');
    const after = fanOutPhase({
      title: 'After',
      hosts: () => rated.succeeded().map((s) => s.host),
      work: async () => 1,
    });
    await runPhases(ctx, [after], 'live');
    assert.match(
      String(hostOutcomes(hosts, [rated], after).map((o) => (o.ok ? 'ok' : (o.error as Error).message))),
      /^pve1: 4 letters is too long/,
    );
  });

  it('runs the phases in order, each fan-out on its hosts, and keeps every outcome', async () => {
    const log: string[] = [];
    const { ctx, audited } = fakeRun();
    const probe = fanOutPhase({
      title: 'Probe',
      hosts,
      work: async (host) => {
        log.push(`probe ${host.name}`);
        if (host.name === 'pve2') throw new RefusedError('pve2: a system account');
        return host.name.length;
      },
    });
    const change = fanOutPhase({
      title: 'Change',
      hosts: () => probe.succeeded().map((s) => s.host),
      work: async (host) => {
        log.push(`change ${host.name}`);
        if (host.name === 'pve3') throw new VerificationError('pve3', ['sshd still accepts 1 of their keys']);
        return `changed ${host.name}`;
      },
    });
    const step = (name: string): Phase => ({ kind: 'step', title: name, run: async () => void log.push(name) });
    await runPhases(ctx, [step('lock'), probe, step('between'), change], 'live');

    assert.equal(log[0], 'lock');
    assert.deepEqual(log.slice(1, 4).sort(), ['probe pve1', 'probe pve2', 'probe pve3']);
    assert.equal(log[4], 'between');
    assert.deepEqual(log.slice(5).sort(), ['change pve1', 'change pve3']);
    assert.deepEqual(
      change.hosts.map((h) => h.name),
      ['pve1', 'pve3'],
    );

    const outcomes = hostOutcomes(hosts, [probe], change);
    assert.deepEqual(
      outcomes.map((o) => [o.host.name, o.ok]),
      [
        ['pve1', true],
        ['pve2', false],
        ['pve3', false],
      ],
    );
    assert.deepEqual(outcomes[0]!.ok && outcomes[0]!.value, 'changed pve1');
    assert.ok(!outcomes[1]!.ok && outcomes[1]!.error instanceof RefusedError, 'pve2 keeps the probe phase refusal');
    assert.ok(!outcomes[2]!.ok && outcomes[2]!.error instanceof VerificationError);
    assert.match(
      String(!outcomes[2]!.ok && (outcomes[2]!.error as Error).message),
      /^pve3: verification failed: sshd still accepts/,
    );
    // A verification that failed counts as a failure: one done, two failed.
    assert.equal(exitCodeFor(outcomes, ctx.signal), ExitCode.partial);
    // Each host's audit comes when its work ends: a failure, or the end of its last phase.
    assert.deepEqual(audited.sort(), ['pve1 ok', 'pve2 failed', 'pve3 failed']);
  });

  it('stops at a failed step: the later phases never start, and their hosts were not touched', async () => {
    const log: string[] = [];
    const { ctx } = fakeRun();
    const refused = new RefusedError('pve1: waited 2 minutes for the lock');
    const { change, phases } = probeThenChange(log);
    const failing: Phase = { kind: 'step', title: 'Lock', run: async () => Promise.reject(refused) };
    await assert.rejects(runPhases(ctx, [failing, ...phases], 'lines'), (error) => error === refused);
    assert.deepEqual(log, []);
    assert.ok(
      change.outcomes.every((o) => !o.ok),
      'no host of a phase that never started counts as done',
    );
  });

  it('stops after a fan-out phase where every host had to succeed and one did not', async () => {
    const log: string[] = [];
    const { ctx } = fakeRun();
    const drain = fanOutPhase({
      title: 'Drain',
      hosts,
      everyHostMustSucceed: true,
      work: async (host) => {
        if (host.name === 'pve2') throw new Error('pve2: still 3 VMs');
        return true;
      },
    });
    const after: Phase = { kind: 'step', title: 'Reboot', run: async () => void log.push('reboot') };
    await assert.rejects(
      runPhases(ctx, [drain, after], 'lines'),
      (error) => error instanceof PhaseFailedError && /Drain: failed on pve2/.test(error.message),
    );
    assert.deepEqual(log, []);
    assert.deepEqual(
      drain.succeeded().map((s) => s.host.name),
      ['pve1', 'pve3'],
    );
  });

  it('asks after the probes, with what they found; without a terminal or --yes it refuses before any change', async () => {
    const log: string[] = [];
    const { ctx } = fakeRun();
    const { phases } = probeThenChange(log);
    await assert.rejects(runPhases(ctx, phases, 'live'), (error) => {
      assert.ok(error instanceof RefusedError);
      assert.equal(error.exitCode, ExitCode.refused);
      assert.match(
        error.message,
        /^Lock jdupont on the 2 hosts where the account exists \(pve1, pve3\)\? Nobody can answer here/,
      );
      assert.match(error.hint ?? '', /--yes/);
      return true;
    });
    assert.deepEqual(log.sort(), ['probe pve1', 'probe pve2', 'probe pve3'], 'the probes ran, nothing changed');
  });

  it('goes on with --yes, and asks nothing when the probes found nothing to do', async () => {
    const log: string[] = [];
    await runPhases(fakeRun({ yes: true }).ctx, probeThenChange(log).phases, 'lines');
    assert.deepEqual(log.filter((l) => l.startsWith('change')).sort(), ['change pve1', 'change pve2', 'change pve3']);

    const none = fanOutPhase({ title: 'Read the account', hosts, work: async () => false });
    const nothing = () => (none.succeeded().some((s) => s.value) ? 'Lock?' : undefined);
    await runPhases(fakeRun().ctx, [none, { kind: 'confirm', question: nothing }], 'lines');
  });

  it('asks nothing in a dry-run, which changes nothing', async () => {
    const log: string[] = [];
    await runPhases(fakeRun({ dryRun: true }).ctx, probeThenChange(log).phases, 'lines');
    assert.equal(log.filter((l) => l.startsWith('change')).length, 3);
  });

  it('starts no host after Ctrl-C: they are reported as interrupted', async () => {
    const abort = new AbortController();
    abort.abort();
    const { ctx } = fakeRun({}, abort.signal);
    const phase = fanOutPhase({ title: 'Probe', hosts, work: async () => 'ran' });
    await runPhases(ctx, [phase], 'lines');
    assert.ok(phase.outcomes.every((o) => !o.ok && o.error instanceof InterruptedError));
    assert.equal(exitCodeFor(phase.outcomes, abort.signal), ExitCode.interrupted);
  });
});

/** A poll that says `waiting` until its `done`-th look. */
function pollUntil(done: number, waiting = 'pve2: waiting for the lock on sysadmin nina, held by alice') {
  let polls = 0;
  return {
    polls: () => polls,
    poll: async (): Promise<Polled<string>> =>
      ++polls >= done ? { done: true, value: `after ${polls}` } : { done: false, waiting },
  };
}

const failures = {
  timedOut: (waiting: string) => new RefusedError(`gave up: ${waiting}`),
  interrupted: (waiting: string | undefined) => new InterruptedError(`interrupted: ${waiting}`),
};

describe('waitUntil', () => {
  it('returns what the poll found once it is there, saying once what it waits for, with its bound', async () => {
    const lines: string[] = [];
    const { poll } = pollUntil(3);
    const value = await waitUntil({
      poll,
      boundMs: 120_000,
      intervalMs: 1,
      signal: new AbortController().signal,
      progress: (l) => lines.push(l),
      live: false,
      ...failures,
    });
    assert.equal(value, 'after 3');
    assert.deepEqual(lines, ['pve2: waiting for the lock on sysadmin nina, held by alice (at most 2 minutes)']);
  });

  it('gives up with its own error once the bound is reached', async () => {
    const { poll, polls } = pollUntil(Infinity);
    await assert.rejects(
      waitUntil({
        poll,
        boundMs: 20,
        intervalMs: 1,
        signal: new AbortController().signal,
        progress: () => {},
        live: false,
        ...failures,
      }),
      (error) =>
        error instanceof RefusedError &&
        error.message === 'gave up: pve2: waiting for the lock on sysadmin nina, held by alice',
    );
    assert.ok(polls() >= 2);
  });

  it('ends its pause at once on Ctrl-C, with its own error', { timeout: 10_000 }, async () => {
    const abort = new AbortController();
    const { poll } = pollUntil(Infinity, 'waiting for pve1 to drain');
    const waiting = waitUntil({
      poll,
      boundMs: 3_600_000,
      intervalMs: 3_600_000,
      signal: abort.signal,
      progress: () => abort.abort(),
      live: true,
      ...failures,
    });
    await assert.rejects(
      waiting,
      (error) => error instanceof InterruptedError && error.message === 'interrupted: waiting for pve1 to drain',
    );
  });

  it('polls nothing once interrupted', async () => {
    const abort = new AbortController();
    abort.abort();
    const { poll, polls } = pollUntil(1);
    await assert.rejects(
      waitUntil({
        poll,
        boundMs: 1000,
        intervalMs: 1,
        signal: abort.signal,
        progress: () => {},
        live: false,
        ...failures,
      }),
      InterruptedError,
    );
    assert.equal(polls(), 0);
  });

  it('without a terminal, says it still waits on timestamped lines; on one, redraws its line', async () => {
    const plain: string[] = [];
    await waitUntil({
      ...pollUntil(4),
      boundMs: 60_000,
      intervalMs: 1,
      everyMs: 0,
      signal: new AbortController().signal,
      progress: (l) => plain.push(l),
      live: false,
      ...failures,
    });
    assert.equal(plain.length, 3);
    assert.equal(plain[0], 'pve2: waiting for the lock on sysadmin nina, held by alice (at most 1 minute)');
    for (const line of plain.slice(1)) {
      assert.match(
        line,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d pve2: waiting for the lock .*alice: still waiting after \d+ s \(at most 1 minute\)$/,
      );
    }
    const live: string[] = [];
    await waitUntil({
      ...pollUntil(3),
      boundMs: 90_000,
      intervalMs: 1,
      signal: new AbortController().signal,
      progress: (l) => live.push(l),
      live: true,
      ...failures,
    });
    assert.deepEqual(
      live.map((l) => l.replace(/\d+ s so far/, 'N s so far')),
      [
        'pve2: waiting for the lock on sysadmin nina, held by alice (at most 1 min 30 s)',
        'pve2: waiting for the lock on sysadmin nina, held by alice (N s so far, at most 1 min 30 s)',
      ],
    );
  });
});
