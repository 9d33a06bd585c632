// What `onboard sysadmin` and `offboard sysadmin` share: their targets, the accounts they refuse
// to touch, the lock that keeps two runs for one login apart, and sshd's own word on a key.
import path from 'node:path';
import ssh2 from 'ssh2';
import { LOCK_HELD, lockDirectory, LOGIN, releaseLock, takeLock, type Change } from './accounts.js';
import type { HostOutcome, HostTask } from './chain.js';
import type { RunContext } from './context.js';
import { ChatonError, ConnectionError, ExitCode, formatError, RefusedError, UsageError } from './errors.js';
import { resolveTargets } from './inventory/targets.js';
import type { Endpoint, Host, Inventory } from './inventory/types.js';
import { paint, table } from './output.js';
import { Semaphore } from './semaphore.js';
import { command } from './shell.js';

export function checkLogin(login: string, inventory: Inventory): void {
  if (!LOGIN.test(login)) {
    throw new UsageError(
      `invalid login ${JSON.stringify(login)}: a login is 1 to 32 of a-z, 0-9, _ and -, starting with a letter or _ (no dots, no capitals)`,
      'choose a login such as jdupont or j_dupont',
    );
  }
  const own = [...inventory.hosts, ...inventory.bastions].filter((h) => h.user === login || login === 'root');
  if (own.length) {
    throw new UsageError(
      `${login} is the account chaton itself logs in with (${own.map((h) => h.name).join(', ')}): changing it could lock chaton out`,
      'give each volunteer an account of their own',
    );
  }
}

/** By default the bastions and every host; `--on` narrows. */
export function sysadminTargets(inventory: Inventory, on: string | undefined): Host[] {
  return on ? resolveTargets(inventory, on) : [...inventory.bastions, ...inventory.hosts];
}

/** A jump host whose inventory entry says sysadmins only forward through it. */
export function forwardingOnly(host: Host): boolean {
  return host.roles.includes('bastion') && host.sysadminAccess === 'forwarding';
}

/** How long a run waits for another run on the same login before it gives up. */
const LOCK_WAIT_MS = 30_000;
const LOCK_POLL_MS = 500;

/**
 * One lock per login on every target, taken one host after the other in inventory order before
 * any change, so that two runs for the same login cannot interleave (the later one waits, and
 * its result is the one that stays everywhere).
 */
export class LoginLocks {
  readonly #held = new Set<Host>();
  readonly #owner: string;

  constructor(
    private readonly ctx: RunContext,
    private readonly login: string,
  ) {
    this.#owner = `${ctx.operator} pid ${process.pid} since ${new Date().toISOString()}`;
  }

  /** The shared step for fanOut; dry-run changes nothing, so it takes no lock. */
  step(hosts: Host[]): { title: string; run(): Promise<void> } | undefined {
    if (this.ctx.options.dryRun) return undefined;
    return {
      title: `Lock ${this.login} on ${hosts.length === 1 ? hosts[0]!.name : `each host in turn`}`,
      run: async () => {
        try {
          for (const host of hosts) await this.#take(host);
        } catch (error) {
          await this.releaseAll();
          throw error;
        }
      },
    };
  }

  async #take(host: Host): Promise<void> {
    const deadline = performance.now() + LOCK_WAIT_MS;
    for (;;) {
      let result;
      try {
        result = await this.ctx.executor.run(host, takeLock(this.login, this.#owner), { kind: 'probe', okCodes: [0, LOCK_HELD] });
      } catch (error) {
        // Unreachable: its own work fails the same way; the others go on.
        if (error instanceof ConnectionError) return;
        throw error;
      }
      if (result.code === 0) {
        this.#held.add(host);
        return;
      }
      const holder = result.stdout.toString().trim();
      if (this.#diedHere(holder)) {
        // A run of this operator on this machine that no longer exists (killed, crashed).
        await this.ctx.executor.run(host, releaseLock(this.login, holder), { kind: 'probe' });
        continue;
      }
      if (performance.now() > deadline || this.ctx.signal.aborted) {
        throw new RefusedError(
          `${host.name}: another chaton run is changing ${this.login} (${holder || 'holder unknown'}); nothing was changed by this run`,
          `wait for it to end and rerun; if it died, remove ${lockDirectory(this.login)} on ${host.name}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  /** Whether the lock's holder was a chaton of this operator, on this machine, that is gone. */
  #diedHere(holder: string): boolean {
    const match = /^(\S+) pid (\d+) since /.exec(holder);
    if (!match || match[1] !== this.ctx.operator) return false;
    try {
      process.kill(Number(match[2]), 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  async release(host: Host): Promise<void> {
    if (!this.#held.delete(host)) return;
    await this.ctx.executor.run(host, releaseLock(this.login, this.#owner), { kind: 'probe', afterInterrupt: true }).catch(() => {});
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.#held].map((host) => this.release(host)));
  }
}

/** The Proxmox user is cluster-wide: one node at a time, so the second one finds it done. */
export const proxmoxTurn = new Semaphore(1);

/**
 * Which of the key lines sshd on `host` accepts for `login`, asked through the same bastion as
 * every connection (see ConnectionPool.acceptsKey): each key on a connection of its own, so
 * that sshd's MaxAuthTries never cuts the list short.
 */
export async function acceptedKeys(ctx: RunContext, host: Host, login: string, keyLines: string[]): Promise<string[]> {
  const accepted: string[] = [];
  for (const line of keyLines) {
    const key = ssh2.utils.parseKey(line);
    if (key instanceof Error) continue;
    if (await ctx.pool.acceptsKey(host, host.via, login, Array.isArray(key) ? key[0]! : key)) accepted.push(line);
  }
  return accepted;
}

/** What a host's work did: its changes (or would do, in dry-run), and what was checked. */
export interface HostChanges {
  changes: string[];
  verified: string[];
  dryRun: boolean;
}

/** Runs the changes in order, each shown on the host's line; dry-run only records them. */
export async function applyChanges(ctx: RunContext, host: Host, task: HostTask, changes: Change[]): Promise<void> {
  for (const change of changes) {
    task.progress(`${ctx.options.dryRun ? 'would ' : ''}${change.what}`);
    await ctx.executor.run(host, change.command, { kind: 'change', onLines: task.verboseLines, drained: task.drained });
  }
}

export function summarise(report: HostChanges): string {
  if (report.changes.length === 0) return 'unchanged';
  return `${report.dryRun ? 'would change' : 'changed'}: ${report.changes.join('; ')}`;
}

/** One line per host: what changed and what was checked, or why it failed. */
export function reportTable(outcomes: HostOutcome<HostChanges>[]): string {
  return table(
    ['HOST', 'RESULT', 'CHECKED'],
    outcomes.map((o) => (o.ok ? [o.host.name, summarise(o.value), o.value.verified.join('; ') || '-'] : [o.host.name, paint.red(`FAILED: ${formatError(o.error).split('\n')[0]}`), '-'])),
  );
}

/**
 * Logs in as `login` with their private key through the bastion, on their own account there
 * too, as they will: `id -un` on each host, and `sudo -n true` where sudo was granted. A
 * forwarding-only bastion is only logged in to (it has no shell to run anything).
 */
export async function loginsAsNewcomer(ctx: RunContext, login: string, keyFile: string, hosts: Host[], sudo: boolean): Promise<HostOutcome<string>[]> {
  const { Identities } = await import('./identities.js');
  const { ConnectionPool } = await import('./ssh.js');
  const { Executor } = await import('./executor.js');
  const { fanOut } = await import('./chain.js');
  const asNewcomer = <E extends Endpoint>(e: E): E => ({
    ...e,
    user: login,
    ssh: { ...e.ssh, identityFiles: [path.resolve(keyFile)], identityFilesExplicit: true, identityPassphraseEnv: undefined, agent: false },
  });
  const identities = new Identities();
  await identities.load([asNewcomer(hosts[0]!).ssh], ctx.env, async () => undefined);
  if (identities.warnings.length) throw new UsageError(`--verify-with ${keyFile}: ${identities.warnings.join('; ')}`, 'give an unencrypted copy of the key, or leave --verify-with out');
  const pool = new ConnectionPool({ identities, env: ctx.env, acceptNew: false, notice: (message) => ctx.notices.push(message) });
  const executor = new Executor(pool, { dryRun: false, signal: ctx.signal });
  try {
    return await fanOut<string>(ctx, {
      title: `Log in as ${login} with ${keyFile}`,
      hosts,
      style: 'live',
      offline: true,
      work: async (host) => {
        const newcomer: Host = { ...asNewcomer(host), via: host.via.map(asNewcomer), become: null };
        if (forwardingOnly(host)) {
          await pool.connect(newcomer, newcomer.via);
          return 'logged in (forwarding only)';
        }
        const who = (await executor.run(newcomer, command('id', '-un'), { kind: 'probe' })).stdout.toString().trim();
        if (who !== login) throw new ChatonError(`${host.name}: logged in, but as ${who}`, ExitCode.failed);
        if (!sudo) return `logged in as ${login}`;
        await executor.run(newcomer, command('sudo', '-n', 'true'), { kind: 'probe' });
        return `logged in as ${login}, sudo -n true works`;
      },
      summary: (result) => result,
    });
  } finally {
    pool.closeAll();
  }
}

/**
 * The newcomer's ~/.ssh/config block (the bastion, then every host through it) and the
 * known_hosts lines of the keys this run verified, so that their first login trusts nothing new.
 */
export async function newcomerSshConfig(ctx: RunContext, login: string, hosts: Host[], knownHostsName: string): Promise<{ config: string; knownHosts: string }> {
  const endpoints = new Map<string, { endpoint: Endpoint; via: Endpoint[] }>();
  for (const host of hosts) {
    host.via.forEach((jump, i) => endpoints.set(jump.name, { endpoint: jump, via: host.via.slice(0, i) }));
    endpoints.set(host.name, { endpoint: host, via: host.via });
  }
  const blocks: string[] = [`# ~/.ssh/config for ${login}, written by chaton onboard sysadmin.`, `# Put the host keys in ~/.ssh/${knownHostsName}: no host then needs a trust-on-first-use.`];
  const knownHosts: string[] = [];
  for (const { endpoint, via } of endpoints.values()) {
    const connection = await ctx.pool.connect(endpoint, via).catch(() => undefined);
    if (connection) knownHosts.push(connection.info.knownHostsLine);
    blocks.push(
      [
        `Host ${endpoint.name}`,
        ...(connection ? [`  # ${connection.info.hostKey}`] : []),
        `  HostName ${endpoint.address}`,
        ...(endpoint.port === 22 ? [] : [`  Port ${endpoint.port}`]),
        `  User ${login}`,
        ...(via.length ? [`  ProxyJump ${via.map((j) => j.name).join(',')}`] : []),
        `  UserKnownHostsFile ~/.ssh/${knownHostsName}`,
        '  StrictHostKeyChecking yes',
      ].join('\n'),
    );
  }
  return { config: `${blocks.join('\n')}\n`, knownHosts: knownHosts.length ? `${knownHosts.join('\n')}\n` : '' };
}

/** A local file replaced in one rename: readers see the old content or the new one. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const { rename, writeFile } = await import('node:fs/promises');
  const temporary = `${file}.chaton-${process.pid}`;
  await writeFile(temporary, content, { mode: 0o644 });
  await rename(temporary, file);
}
