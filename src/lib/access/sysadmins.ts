// What `onboard sysadmin` and `offboard sysadmin` share: their targets, the accounts they refuse
// to touch, the lock that keeps two runs for one login apart, and sshd's own word on a key.
import type { Change } from '../remote/changes.js';
import { messages } from './messages.js';
import type { HostTask } from '../run/display.js';
import { fanOutPhase, type FanOutPhase, type HostOutcome, type Phase, type StepPhase } from '../run/phases.js';
import { duration, waitUntil } from '../run/wait.js';
import type { RunContext } from '../run/context.js';
import { ChatonError, ExitCode, formatError, InterruptedError, RefusedError, UsageError } from '../run/errors.js';
import { POSIX_NAME } from '../inventory/kinds.js';
import { everyMachine, resolveTargets } from '../inventory/targets.js';
import type { Host, Inventory } from '../inventory/types.js';
import { describeHolder, HostLock, runOwnerLine } from '../run/host-lock.js';
import { messages as runMessages } from '../run/messages.js';
import { errorReport, FAILED, hostTable } from '../run/report.js';
import type { ErrorReport, FailureBlock, HostEntry, TableBlock } from '../run/report.js';
import { Semaphore } from '../run/semaphore.js';
import { Executor } from '../remote/executor.js';
import { command } from '../remote/shell.js';
import type { ConnectionPool } from '../ssh/pool.js';

export function checkLogin(login: string, inventory: Inventory): void {
  if (!POSIX_NAME.test(login)) {
    throw new UsageError(messages.invalidLogin(JSON.stringify(login)), messages.invalidLoginHint);
  }
  const own = everyMachine(inventory).filter((h) => h.user === login);
  if (own.length) {
    const hosts = own.map((h) => h.name).join(', ');
    throw new UsageError(messages.chatonOwnLogin(login, hosts), messages.accountOfTheirOwn);
  }
  if (login === 'root') throw new UsageError(messages.rootNever, messages.accountOfTheirOwn);
}

/** By default the bastions and every host; `--on` narrows. */
export function sysadminTargets(inventory: Inventory, on: string | undefined): Host[] {
  return on ? resolveTargets(inventory, on) : everyMachine(inventory);
}

/** A jump host whose inventory entry says sysadmins only forward through it. */
export function forwardingOnly(host: Host): boolean {
  return host.roles.includes('bastion') && host.sysadminAccess === 'forwarding';
}

/** How long a run waits for another run on the same login before it gives up. */
const LOCK_WAIT_MS = 120_000;
const LOCK_POLL_MS = 500;

/**
 * One lock per login on every target (`sysadmin-<login>`, see run/host-lock.ts), taken one host
 * after the other in inventory order before any change, and kept until the run has saved the
 * roster: two runs for the same login cannot interleave (the later one waits, and its result is
 * the one that stays everywhere). They are released at the end, whatever the end: success,
 * failure or Ctrl-C.
 */
export class LoginLocks {
  /** Hosts where this run may hold the lock (a take that failed may have worked: release is safe). */
  readonly #taken = new Map<Host, HostLock>();
  /** Hosts where the lock could not be taken, and why: their own work fails with it. */
  readonly #failed = new Map<Host, unknown>();
  readonly #owner: string;

  constructor(
    private readonly ctx: RunContext,
    private readonly login: string,
  ) {
    this.#owner = runOwnerLine(ctx.operator);
  }

  get #name(): string {
    return `sysadmin-${this.login}`;
  }

  /**
   * The chain onboard and offboard both run: reach the hosts, lock the login on each in turn,
   * read them all, ask (a question computed from what was read), then `work`.
   */
  chain(hosts: Host[], read: Phase, question: () => string | undefined, ...work: Phase[]): Phase[] {
    const lock = this.step(hosts);
    return [
      { kind: 'connect', hosts },
      ...(lock ? [{ kind: 'step' as const, ...lock }] : []),
      read,
      { kind: 'confirm', question },
      ...work,
    ];
  }

  /** The shared step for fanOut; dry-run changes nothing, so it takes no lock. */
  step(hosts: Host[]): Omit<StepPhase, 'kind'> | undefined {
    if (this.ctx.options.dryRun) return undefined;
    return {
      title: hosts.length === 1 ? messages.lockOnHost(this.login, hosts[0]!.name) : messages.lockOnEachHost(this.login),
      run: async (progress, live) => {
        try {
          for (const host of hosts) await this.#take(host, progress, live);
        } catch (error) {
          await this.releaseAll();
          throw error;
        }
      },
    };
  }

  /** Throws why this host's lock could not be taken, if it could not: call before its work. */
  check(host: Host): void {
    if (this.#failed.has(host)) throw this.#failed.get(host);
  }

  async #take(host: Host, progress: (text: string) => void, live: boolean): Promise<void> {
    const { login } = this;
    const lock = new HostLock(this.ctx, host, this.#name, this.#owner);
    let holder = '';
    await waitUntil({
      poll: async () => {
        try {
          this.#taken.set(host, lock);
          const found = await lock.tryTake();
          if (found === undefined) return { done: true, value: undefined };
          holder = found;
          return { done: false, waiting: messages.waitingForLock(host.name, login, describeHolder(holder)) };
        } catch (error) {
          // Unreachable, or sudo refused: that host fails with it; the others go on.
          this.#failed.set(host, error);
          return { done: true, value: undefined };
        }
      },
      boundMs: LOCK_WAIT_MS,
      intervalMs: LOCK_POLL_MS,
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: () =>
        new RefusedError(
          messages.lockWaitTimedOut(host.name, duration(LOCK_WAIT_MS), login, describeHolder(holder)),
          runMessages.lockHeldHint(lock.directory, host.name),
        ),
      interrupted: (waiting) =>
        new InterruptedError(
          waiting === undefined
            ? messages.interruptedWhileLocking(login)
            : messages.interruptedWhileWaiting(host.name, login, describeHolder(holder)),
        ),
    });
  }

  /**
   * Removes this run's locks, on every host where a take was tried: one that failed may have
   * worked, and only a lock with this run's owner line is removed. Also after Ctrl-C, and never
   * cut short by it: a lock left behind makes the next run for this login wait.
   */
  async releaseAll(): Promise<void> {
    const locks = [...this.#taken.values()];
    this.#taken.clear();
    await Promise.all(
      locks.map(async (lock) => {
        try {
          await lock.release();
        } catch (error) {
          // Where the take failed too, there is most likely no lock to speak of.
          if (this.#failed.has(lock.host)) return;
          const why = formatError(error).split('\n')[0];
          this.ctx.notices.push(messages.lockNotReleased(lock.host.name, lock.directory, why ?? '', this.login));
        }
      }),
    );
  }
}

/** The Proxmox user is cluster-wide: one node at a time, so the second one finds it done. */
const proxmoxTurn = new Semaphore(1);

/** What sshd said about each key: accepted, or refused; some keys ssh2 cannot ask about (sk-*). */
export interface KeyVerdicts {
  accepted: string[];
  refused: string[];
  /** Security-key (sk-*) keys: ssh2 cannot parse them, so sshd was not asked. */
  notAsked: string[];
}

/**
 * What sshd on `host` says of each key line for `login`, asked through the same bastion as every
 * connection (see ConnectionPool.acceptsKey): each key on a connection of its own, so that
 * sshd's MaxAuthTries never cuts the list short.
 */
export async function askSshdAboutKeys(
  ctx: RunContext,
  host: Host,
  login: string,
  keyLines: string[],
): Promise<KeyVerdicts> {
  const verdicts: KeyVerdicts = { accepted: [], refused: [], notAsked: [] };
  for (const line of keyLines) {
    const accepted = await ctx.pool.acceptsKey(host, login, line);
    (accepted === undefined ? verdicts.notAsked : accepted ? verdicts.accepted : verdicts.refused).push(line);
  }
  return verdicts;
}

/** What a host's work did: its changes (or would do, in dry-run), and what was checked. */
export interface HostChanges {
  changes: string[];
  verified: string[];
  dryRun: boolean;
}

/**
 * Runs the changes in order, each shown on the host's line; dry-run only records them. With
 * `proxmox`, the Proxmox part is planned (it may refuse) and everything runs in the cluster's
 * turn: one node at a time, so the next node finds the cluster-wide part done.
 */
export async function applyChanges(
  ctx: RunContext,
  host: Host,
  task: HostTask,
  changes: Change[],
  proxmox?: () => Promise<Change[]>,
): Promise<HostChanges> {
  const release = proxmox ? await proxmoxTurn.acquire() : undefined;
  try {
    const all = proxmox ? [...changes, ...(await proxmox())] : changes;
    for (const change of all) {
      task.progress(ctx.options.dryRun ? messages.wouldDo(change.what) : change.what);
      await ctx.executor.run(host, change.command, {
        kind: 'change',
        okCodes: change.okCodes,
        onLines: task.verboseLines,
        drained: task.drained,
      });
    }
    return { changes: all.map((c) => c.what), verified: [], dryRun: ctx.options.dryRun };
  } finally {
    release?.();
  }
}

/** The host's line in the progress: the changes themselves are listed there as they run, and in the report. */
export function summarise(report: HostChanges): string {
  const count = report.changes.length;
  if (count === 0) return messages.unchanged;
  return report.dryRun ? messages.wouldChangeCount(count) : messages.changedCount(count);
}

/** Each host's entry: what changed and what was checked, or why it failed (then not known: null). */
export function hostEntries(outcomes: HostOutcome<HostChanges>[]): HostEntry[] {
  return outcomes.map((o) =>
    o.ok
      ? { host: o.host.name, ok: true, error: null, changes: o.value.changes, verified: o.value.verified }
      : { host: o.host.name, ok: false, error: errorReport(o.error), changes: null, verified: null },
  );
}

/** One row per host, a change or a check per line; the errors of failed hosts under the table. */
export function hostChangesTable(outcomes: HostOutcome<HostChanges>[], entries: HostEntry[]): TableBlock {
  return hostTable(
    [messages.columnHost, messages.columnResult, messages.columnChecked],
    entries,
    outcomes.map((o) => {
      if (!o.ok) return [o.host.name, FAILED, '-'];
      const { changes, dryRun, verified } = o.value;
      const heading = dryRun ? messages.wouldChangeList : messages.changedList;
      const result = changes.length ? [heading, ...changes].join('\n') : messages.unchanged;
      return [o.host.name, result, verified.join('\n') || '-'];
    }),
  );
}

/**
 * The local files written once the hosts have changed (the roster, the newcomer's ssh config).
 * A failure then cannot mean "nothing was changed" (exit 2): it is reported with the hosts'
 * results, with what to do, and the run is partial (exit 4).
 */
export class LocalWrites {
  readonly #failures: { what: string; error: unknown; hint: string }[] = [];

  /** What `write` returns, or undefined when it failed: the failure is then reported. */
  async attempt<T>(what: string, hint: string, write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (error) {
      this.#failures.push({ what, error, hint });
      return undefined;
    }
  }

  /** Saves the roster once the hosts are done; `byHand` is the edit to make if it cannot be. */
  saveRoster<T>(file: string, byHand: string, save: () => Promise<T>): Promise<T | undefined> {
    return this.attempt(messages.rosterInFile(file), messages.rosterNotSavedHint(file, byHand), save);
  }

  /** The run's exit code, given the hosts' one. */
  exitCode(hosts: ExitCode): ExitCode {
    return this.#failures.length > 0 && hosts === ExitCode.ok ? ExitCode.partial : hosts;
  }

  /** Each local write that failed: what, and why; the hint says what to do now that the hosts are done. */
  notWritten(): { what: string; error: ErrorReport }[] {
    return this.#failures.map(({ what, error, hint }) => ({
      what,
      error: { message: errorReport(error).message, hint },
    }));
  }

  /** The same, for the end of the report. */
  blocks(): FailureBlock[] {
    return this.notWritten().map(({ what, error }) => ({ failure: messages.notWritten(what), error }));
  }
}

/**
 * The newcomer's private key (--verify-with), read before anything changes: a key that cannot
 * be used is a usage error while nothing is done yet.
 */
export async function newcomerIdentity(ctx: RunContext, login: string, keyFile: string): Promise<NewcomerIdentity> {
  try {
    return { login, keyFile, pool: await ctx.pool.as({ user: login, keyFile }) };
  } catch (error) {
    // Its words are about ssh.identity_files: this key came from the command line.
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(messages.verifyWithUnusable(error.message), messages.verifyWithUnusableHint);
  }
}

export interface NewcomerIdentity {
  login: string;
  keyFile: string;
  /** Reaches the hosts as the newcomer, with their key only. */
  pool: ConnectionPool;
}

/**
 * Logs in as the newcomer with their private key through the bastion, on their own account
 * there too, as they will: `id -un` on each host, and `sudo -n true` where full sudo was
 * granted. A forwarding-only bastion is only logged in to (it has no shell to run anything).
 * A phase of onboard's chain, on the hosts `hosts()` gives when it starts (those done by then);
 * the caller closes `newcomer.pool` when the chain is over.
 */
export function newcomerLoginPhase(
  ctx: RunContext,
  newcomer: NewcomerIdentity,
  hosts: () => Host[],
  sudo: boolean,
): FanOutPhase<string> {
  const { login, keyFile, pool } = newcomer;
  const executor = new Executor(pool, { dryRun: false, signal: ctx.signal });
  return fanOutPhase<string>({
    title: messages.logInAs(login, keyFile),
    hosts,
    work: async (host) => {
      if (forwardingOnly(host)) {
        await pool.connect(host);
        return messages.loggedInForwardingOnly;
      }
      // Their own commands, as they will type them: no sudo wrapper around them.
      const as: Host = { ...host, become: null };
      const who = (await executor.run(as, command('id', '-un'), { kind: 'probe' })).stdout.toString().trim();
      if (who !== login) throw new ChatonError(messages.loggedInAsAnother(host.name, who), ExitCode.failed);
      if (!sudo) return messages.loggedInAs(login);
      await executor.run(as, command('sudo', '-n', 'true'), { kind: 'probe' });
      return messages.loggedInWithSudo(login);
    },
    summary: (result) => result,
  });
}

/**
 * The newcomer's ~/.ssh/config block (the bastion, then every host through it) and the
 * known_hosts lines of the keys this run verified, so that their first login trusts nothing new.
 */
export async function newcomerSshConfig(
  ctx: RunContext,
  login: string,
  hosts: Host[],
  knownHostsName: string,
): Promise<{ config: string; knownHosts: string }> {
  const { clientConfig } = await import('../ssh/client-config.js');
  const header = [messages.sshConfigHeader(login), messages.sshConfigKnownHosts(knownHostsName)];
  return clientConfig(ctx.pool, login, hosts, knownHostsName, header);
}
