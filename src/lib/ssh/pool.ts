// The connection layer: the only module that knows how a host is reached. One SSH connection per
// endpoint per run, jump hosts included; a host behind the bastion is reached by a direct-tcpip
// channel of the bastion's connection carrying a second SSH session.
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { AnyAuthMethod, Client, ClientChannel, ParsedKey } from 'ssh2';
import type { Endpoint, SshSettings } from '../inventory/types.js';
import { ConnectionError, HostKeyError, InterruptedError, KeysRefusedError, UsageError } from '../run/errors.js';
import { milliseconds } from '../run/output.js';
import { Semaphore } from '../run/semaphore.js';
import { type Dialed, nameList, routeKey, where, type Reachable } from './endpoint.js';
import { verifyHostKey } from './host-keys.js';
import { agentState, Identities, type PassphrasePrompt } from './identities.js';
import { KeeperLink } from './keeper/link.js';
import { describeKey, keyPhrase, knownHostsLine, KnownHostsStore } from './known-hosts.js';
import { messages } from './messages.js';
import { loadSsh2 } from './ssh2.js';

export interface ConnectionInfo {
  /** The address that answered, of the host's addresses. */
  address: string;
  /** Key exchange negotiated with this host, e.g. curve25519-sha256. */
  kex: string;
  hostKey: string;
  /** The known_hosts line for that key, for people who will connect too. */
  knownHostsLine: string;
  /** Time to reach and authenticate, jumps excluded (0 for a connection a keeper held already). */
  connectMs: number;
  /** The host key itself, base64: a keeper checks it again against known_hosts at every run. */
  hostKeyBlob: string;
}

export interface ExecStreams {
  stdin?: Uint8Array;
  /** Returns false when the reader is full: the command is then paused until `drained`. */
  onStdout(chunk: Buffer): boolean;
  onStderr(chunk: Buffer): boolean;
  drained?(): Promise<void>;
}

export interface ExecHandle {
  /** Resolves when the remote command has ended. */
  done: Promise<{ code: number | null; signal: string | null }>;
  /** Closes the channel (sshd does not stop the command for that: see Executor). */
  close(): void;
}

export interface ExecOptions {
  /** Skips the queue for sessions: for stopping a command, which must not wait behind it. */
  urgent?: boolean;
  /** Ctrl-C: a command still waiting for a session then does not start. */
  signal?: AbortSignal;
}

/**
 * A jump host's channel as an SSH transport: when the far sshd goes (killed, its host rebooted),
 * the jump host says EOF and waits for ours, and ssh2 over a channel only emits 'end' and can no
 * longer close it (it writes to nothing that has ended): the connection would look alive and its
 * sessions hang until their timeout. SSH never half-closes a transport: the channel is closed at
 * once, ssh2 sees 'close', and every session on it ends (measured on the lab: 60 s before, now at once).
 */
function endsWhole(stream: Duplex): Duplex {
  stream.once('end', () => stream.destroy());
  return stream;
}

/** An open SSH connection to one host: this run's own, or one a keeper holds for it (keeper/link.ts). */
export interface Connection {
  readonly endpoint: Dialed;
  readonly info: ConnectionInfo;
  /** Why the connection dropped, if it did (a command then ends with no exit status). */
  readonly lost: ConnectionError | undefined;
  /** Runs one command line (already rendered) in a session channel. */
  exec(commandLine: Buffer, streams: ExecStreams, options?: ExecOptions): Promise<ExecHandle>;
  /** A TCP stream from this host to another one (this host acting as a jump host). */
  forward(endpoint: Dialed): Promise<Duplex>;
  close(): void;
}

/** The connections of a pool, by route (routeKey): opening or open. A keeper's pools share theirs. */
export type ConnectionCache = Map<string, { opened: Promise<Connection>; connection?: Connection }>;

export class SshConnection implements Connection {
  readonly #sessions: Semaphore;
  /** Why the connection is gone, once it is. */
  #lost: ConnectionError | undefined;

  constructor(
    readonly endpoint: Dialed,
    readonly info: ConnectionInfo,
    private readonly client: Client,
  ) {
    this.#sessions = new Semaphore(endpoint.ssh.maxSessions);
    client.on('error', (error: Error) => this.#markLost(error.message));
    client.on('close', () => this.#markLost(messages.closedByPeer));
  }

  get lost(): ConnectionError | undefined {
    return this.#lost;
  }

  async exec(commandLine: Buffer, streams: ExecStreams, options: ExecOptions = {}): Promise<ExecHandle> {
    const release = options.urgent ? () => {} : await this.#sessions.acquire();
    if (options.signal?.aborted) {
      release();
      throw new InterruptedError(messages.notStarted(this.endpoint.name));
    }
    if (this.#lost) {
      release();
      throw this.#lost;
    }
    return new Promise<ExecHandle>((resolve, reject) => {
      // A connection that died unseen (its far end killed, a jump host's stream gone) never
      // answers a session request, and the command's own timeout only starts once the session
      // is open: the request is bounded by connect_timeout, then the connection is lost (and
      // closed), so that the next command opens a new one.
      let settled = false;
      const noAnswer = setTimeout(() => {
        const why = messages.noSessionAnswer(this.endpoint.ssh.connectTimeoutMs / 1000);
        this.#markLost(why);
        this.client.end();
        failed(why);
      }, this.endpoint.ssh.connectTimeoutMs);
      const failed = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(noAnswer);
        release();
        reject(
          new ConnectionError(
            this.endpoint.name,
            messages.cannotOpenSession(where(this.endpoint), message),
            // sshd refuses a session beyond its MaxSessions with "open failed"; other failures say why.
            /open failed/i.test(message)
              ? messages.maxSessionsHint(this.endpoint.ssh.maxSessions)
              : messages.sshdLogSaysWhy(this.endpoint.name),
          ),
        );
      };
      try {
        // ssh2 sends a Buffer command as bytes, unchanged (its typings only say string).
        this.client.exec(commandLine as unknown as string, (error, channel) => {
          if (error) return failed(error.message);
          if (settled) return channel.close(); // answered after it was given up
          settled = true;
          clearTimeout(noAnswer);
          // Listen now, in this callback: a quick command's exit status can arrive in the same
          // packet batch as the channel's confirmation, before any promise continuation runs.
          resolve({
            done: ended(channel, streams, release),
            // A paused channel would never emit its end: let it flow out while it closes.
            close: () => {
              channel.resume();
              channel.stderr.resume();
              channel.close();
            },
          });
          channel.end(streams.stdin);
        });
      } catch (error) {
        // ssh2 throws "Not connected" at once when the connection is gone.
        settled = true;
        clearTimeout(noAnswer);
        this.#markLost((error as Error).message);
        release();
        reject(this.#lost);
      }
    });
  }

  forward(endpoint: Dialed): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const cannotReach = (reason: string) => messages.jumpCannotReach(this.endpoint.name, where(endpoint), reason);
      const hint = messages.checkSshdListens(endpoint.name, endpoint.port);
      try {
        this.client.forwardOut('127.0.0.1', 0, endpoint.address, endpoint.port, (error, stream) =>
          error
            ? reject(new NoAnswerError(endpoint.name, cannotReach(error.message), hint, error.message))
            : resolve(endsWhole(stream)),
        );
      } catch (error) {
        // The jump host is gone: another address behind it would not be reached either.
        const gone = messages.jumpConnectionGone(this.endpoint.name, (error as Error).message);
        reject(new ConnectionError(endpoint.name, cannotReach(gone), hint));
      }
    });
  }

  close(): void {
    this.client.end();
  }

  /**
   * Whether the far end still answers, within `ms`: one SSH keepalive (a global request sshd
   * answers at once). A connection over a link that died without a word looks alive until its
   * keepalives give up; a keeper asks this before it lends a connection it held. ssh2 has no
   * public call for it: its keepalive's own two steps (a reply callback queued, then the ping).
   */
  alive(ms: number): Promise<boolean> {
    const internals = this.client as unknown as { _callbacks?: unknown[]; _protocol?: { ping(): void } };
    if (this.#lost || !internals._callbacks || !internals._protocol) return Promise.resolve(!this.#lost);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      internals._callbacks!.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      try {
        internals._protocol!.ping();
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }

  #markLost(reason: string): void {
    this.#lost ??= new ConnectionError(
      this.endpoint.name,
      messages.connectionLost(where(this.endpoint), reason),
      messages.connectionLostHint(this.endpoint.name),
    );
  }
}

function ended(
  channel: ClientChannel,
  streams: ExecStreams,
  release: () => void,
): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    let code: number | null = null;
    let signal: string | null = null;
    channel.on('exit', (exitCode: number | null, signalName?: string) => {
      code = exitCode ?? null;
      signal = signalName ?? null;
    });
    // Flow control: while chaton's own output is full, the remote command is made to wait
    // (the SSH window closes) instead of its output piling up in memory.
    let paused = false;
    const pauseIfFull = (accepted: boolean) => {
      if (accepted || paused || !streams.drained) return;
      paused = true;
      channel.pause();
      channel.stderr.pause();
      void streams.drained().then(() => {
        paused = false;
        channel.resume();
        channel.stderr.resume();
      });
    };
    channel.on('data', (chunk: Buffer) => pauseIfFull(streams.onStdout(chunk)));
    channel.stderr.on('data', (chunk: Buffer) => pauseIfFull(streams.onStderr(chunk)));
    channel.on('close', () => {
      release();
      resolve({ code, signal });
    });
  });
}

export interface PoolOptions {
  identities: Identities;
  /** Someone else's login on every hop (see ConnectionPool.as); otherwise the inventory's. */
  login?: OtherLogin;
  env: NodeJS.ProcessEnv;
  /** Add unknown host keys to known_hosts (never replaces a changed one). */
  acceptNew: boolean;
  /** Told what the operator must know without it being a failure (a key added, a bad line). */
  notice: (message: string) => void;
  /**
   * -vv: told how each connection is made, one event at a time, as `ssh -v` tells it: how its
   * address was reached, the key exchange, the host key and the known_hosts line that vouches
   * for it, the keys offered and the one accepted, with timings. Never key material.
   */
  debug?: (target: Dialed, event: string) => void;
  /** -v: told what the operator may want to know about how the run connects (a keeper not used, and why). */
  verbose?: (message: string) => void;
  /** The host key check: by default against known_hosts here; a keeper asks the run it serves. */
  verifyHostKey?: (endpoint: Dialed, key: Buffer) => Promise<string>;
  /** Connections shared with other pools (a keeper's, across the runs it serves). */
  connections?: ConnectionCache;
  /**
   * Connections to endpoints whose persist time is not 0 are held across runs by the keeper of
   * this inventory file (keeper/): asked first, and when it cannot be used the run connects itself.
   */
  keeper?: { inventoryFile: string };
  /** --persist / CHATON_PERSIST: every endpoint's persist time (ms), whatever the inventory says. */
  persistMs?: number;
}

/** Someone else's login: their user name and private key file. */
export interface OtherLogin {
  user: string;
  keyFile: string;
}

export class ConnectionPool {
  /** Per route: the connection being opened or open; a lost one is opened again when asked for. */
  readonly #connections: ConnectionCache;
  readonly #knownHosts = new Map<string, Promise<KnownHostsStore>>();
  readonly #keeper: KeeperLink | undefined;
  constructor(private readonly options: PoolOptions) {
    this.#connections = options.connections ?? new Map();
    const { identities, env, keeper } = options;
    this.#keeper =
      keeper &&
      new KeeperLink({
        inventoryFile: keeper.inventoryFile,
        env,
        verifyHostKey: async (endpoint, key) =>
          verifyHostKey(endpoint, key, await this.#knownHostsFor(endpoint), this.options),
        offers: (endpoint) => identities.offers(endpoint, env),
        privateKey: (file) => identities.privateKey(file),
        describeKeys: (endpoint) => identities.describe(endpoint, env),
        ...(options.debug ? { debug: options.debug } : {}),
        ...(options.verbose ? { verbose: options.verbose } : {}),
      });
  }

  /**
   * The connection to `target` through its jump hosts, opened once per run and opened again if
   * it was lost (a long run outlives a dropped link). A failure to open is kept: the next command
   * fails at once, instead of waiting for another timeout.
   */
  connect(target: Reachable): Promise<Connection> {
    target = this.#asLogin(target);
    const key = routeKey(target);
    const known = this.#connections.get(key);
    if (known && !known.connection?.lost) return known.opened;
    const entry: { opened: Promise<Connection>; connection?: Connection } = { opened: this.#open(target) };
    void entry.opened.then(
      (connection) => (entry.connection = connection),
      () => {},
    );
    this.#connections.set(key, entry);
    return entry.opened;
  }

  /**
   * The known_hosts files were written outside the pool (a key recorded through a trusted channel:
   * vm create's guest agent): the next connection reads them again.
   */
  forgetKnownHosts(): void {
    this.#knownHosts.clear();
  }

  /**
   * Closes the connections of `target`'s route, its jump hosts' included, and forgets them: the
   * next connect opens each anew, and tries the way to it again. After a change of the routes,
   * an old connection may hang or be gone without a word. Commands still running on them (other
   * hosts behind the same jump host too) lose their connection.
   */
  forget(target: Reachable): void {
    target = this.#asLogin(target);
    const hops = [...target.via.map((jump, i) => ({ ...jump, via: target.via.slice(0, i) })), target];
    for (const hop of hops) {
      const key = routeKey(hop);
      const entry = this.#connections.get(key);
      this.#connections.delete(key);
      void entry?.opened.then(
        (connection) => {
          connection.close();
          const at = this.#established.indexOf(connection);
          if (at !== -1) this.#established.splice(at, 1);
        },
        () => {},
      );
    }
  }

  /**
   * A pool that reaches the same hosts the same way, with the same known_hosts, but logs in as
   * `login.user` with only `login.keyFile` on every hop (no agent): to prove that someone else's
   * access works as it will for them. Loads the key now; a key that cannot be used is a UsageError.
   */
  async as(login: OtherLogin): Promise<ConnectionPool> {
    const identities = new Identities();
    const keys = { identityFiles: [path.resolve(login.keyFile)], identityFilesExplicit: true };
    // Nobody to ask: it is not the operator's key.
    await identities.load([keys], this.options.env, async () => undefined);
    const [warning] = identities.warnings;
    if (warning) throw new UsageError(messages.about(login.keyFile, warning.message), messages.unencryptedCopyHint);
    // Someone else's connections are this run's alone: never left with a keeper.
    const { keeper: _mine, connections: _shared, ...options } = this.options;
    return new ConnectionPool({ ...options, identities, acceptNew: false, login });
  }

  #asLogin<T extends Reachable>(target: T): T {
    const { login } = this.options;
    if (!login) return target;
    const ssh = (settings: SshSettings): SshSettings => ({
      ...settings,
      identityFiles: [path.resolve(login.keyFile)],
      identityFilesExplicit: true,
      identityPassphraseEnv: undefined,
      agent: false,
    });
    const as = <E extends Endpoint>(endpoint: E): E => ({ ...endpoint, user: login.user, ssh: ssh(endpoint.ssh) });
    return { ...as(target), via: target.via.map(as) };
  }

  /** The jump hosts before these targets, each chain once and in order: to connect (and check) each first. */
  jumpsFor(targets: readonly Reachable[]): Reachable[] {
    const jumps = new Map<string, Reachable>();
    for (const target of targets) {
      target.via.forEach((jump, i) => {
        const reachable = { ...jump, via: target.via.slice(0, i) };
        jumps.set(routeKey(reachable), reachable);
      });
    }
    return [...jumps.values()];
  }

  /**
   * Loads the keys that reach these targets and their jump hosts (asking for passphrases). An
   * endpoint left with no key at all stops the run here, before any connection: sshd could only
   * refuse it, and the fix is on this machine.
   */
  async loadKeys(targets: readonly Reachable[], ask: PassphrasePrompt): Promise<void> {
    const { identities, env, notice } = this.options;
    const endpoints = [...targets.flatMap((t) => t.via), ...targets];
    await identities.load(
      endpoints.map((e) => e.ssh),
      env,
      ask,
    );
    for (const warning of identities.warnings.splice(0)) notice(`${warning.message} (${warning.hint})`);
    const agent = endpoints.some((e) => e.ssh.agent) ? await agentState(env) : { keys: 0 };
    const keyless = endpoints.filter((e) => identities.noKey(e, env, agent));
    const [first] = keyless;
    if (first) {
      const names = nameList(keyless.map((e) => e.name));
      throw new UsageError(
        messages.noKeyToOffer(names, identities.noKey(first, env, agent)!),
        messages.doctorChecksAllThis(messages.noKeyHint),
      );
    }
  }

  /**
   * Closes every open connection now, hosts before the jump hosts they go through; one still
   * being opened is closed as soon as it is ready. Never waits.
   */
  closeAll(): void {
    this.#keeper?.detach();
    this.#closing = true;
    for (const connection of [...this.#established].reverse()) connection.close();
  }

  readonly #established: Connection[] = [];
  #closing = false;

  /**
   * What `handshake` makes of a stream to `target`'s sshd, through its jump hosts, at the first
   * of its addresses that answers, tried in `order`. An address that does not answer (no answer
   * in time, refused, unreachable) is left for the next one, as -vv tells; anything else, a host
   * key problem above all, stops here. When none answers, the error names every address tried.
   */
  async #dial<T>(
    target: Reachable,
    order: readonly string[],
    handshake: (dialed: Dialed, sock: Duplex, started: number) => Promise<T>,
  ): Promise<T> {
    const jump = target.via.at(-1);
    const jumpConnection = jump ? await this.connect({ ...jump, via: target.via.slice(0, -1) }) : undefined;
    const unanswered: NoAnswerError[] = [];
    for (const [index, address] of order.entries()) {
      const dialed: Dialed = { ...target, address };
      const started = performance.now();
      try {
        const sock = jumpConnection
          ? await within(jumpConnection.forward(dialed), target.ssh.connectTimeoutMs, () =>
              noAnswer(dialed, jump!.name),
            )
          : await tcpConnect(dialed);
        const took = milliseconds(performance.now() - started);
        this.options.debug?.(dialed, jump ? messages.reachedThrough(jump.name, took) : messages.reachedDirect(took));
        return await handshake(dialed, sock, started);
      } catch (error) {
        if (!(error instanceof NoAnswerError)) throw error;
        unanswered.push(error);
        const next = order[index + 1];
        if (order.length > 1) {
          const left = next ? messages.addressLeft(error.reason, next) : messages.lastAddressLeft(error.reason);
          this.options.debug?.(dialed, left);
        }
      }
    }
    const [only] = unanswered;
    if (unanswered.length === 1 && only) throw only;
    const tried = unanswered.map((error) => error.message).join(messages.semicolonSeparator);
    throw new ConnectionError(
      target.name,
      messages.noAddressAnswered(target.name, tried),
      messages.noAddressAnsweredHint(target.name),
    );
  }

  /**
   * The host's addresses, the one its open connection answered at first: what else this run
   * opens to it (acceptsKey) goes where the run already goes. A reconnect starts from the first.
   */
  #addressOrder(target: Reachable): readonly string[] {
    const open = this.#connections.get(routeKey(target))?.connection;
    if (!open || open.lost) return target.addresses;
    const { address } = open.endpoint;
    return [address, ...target.addresses.filter((other) => other !== address)];
  }

  async #open(target: Reachable): Promise<Connection> {
    const persistMs = this.options.persistMs ?? target.ssh.persistMs;
    if (this.#keeper && persistMs > 0) {
      const kept = await this.#keeper.open(target, persistMs);
      if (kept) return kept;
    }
    const knownHosts = await this.#knownHostsFor(target);
    // In order, also when opened again: the first address is the site's usual way in.
    const connection = await this.#dial(target, target.addresses, (dialed, sock, started) =>
      this.#handshake(dialed, sock, knownHosts, started),
    );
    this.#established.push(connection);
    if (this.#closing) connection.close();
    return connection;
  }

  /**
   * Whether sshd on `target` would let `user` log in with the public key `keyLine`, asked as ssh
   * asks before it signs (RFC 4252 section 7): sshd answers for the key alone, so no private key
   * is needed and nothing is logged in. Reached through the same jumps as the host, on the
   * operator's connections. Undefined for a key ssh2 cannot ask about (security keys, sk-*).
   */
  async acceptsKey(target: Reachable, user: string, keyLine: string): Promise<boolean | undefined> {
    const ssh2 = await loadSsh2();
    const parsed = ssh2.utils.parseKey(keyLine);
    if (parsed instanceof Error) return undefined;
    const publicKey = Array.isArray(parsed) ? parsed[0]! : parsed;
    const knownHosts = await this.#knownHostsFor(target);
    const { KeyProbe } = await import('./key-probe.js');
    const probe = new KeyProbe(publicKey);
    const method: AnyAuthMethod = { type: 'agent', username: user, agent: probe };
    try {
      // A login without a signature would mean sshd asks for no key at all: worse than accepted.
      const login = await this.#dial({ ...target, user }, this.#addressOrder(target), (dialed, sock, started) =>
        this.#handshake(dialed, sock, knownHosts, started, [method]),
      );
      login.close();
      return true;
    } catch (error) {
      if (probe.accepted) return true;
      if (error instanceof KeysRefusedError) return false;
      throw error;
    }
  }

  /** known_hosts files are read once per run (hosts may name other files than the default). */
  #knownHostsFor(endpoint: Endpoint): Promise<KnownHostsStore> {
    const key = endpoint.ssh.knownHosts.join('\0');
    let store = this.#knownHosts.get(key);
    if (!store) {
      store = KnownHostsStore.load(endpoint.ssh.knownHosts).then((loaded) => {
        for (const problem of loaded.problems)
          this.options.notice(messages.knownHostsLineIgnored(problem.file, problem.line, problem.message));
        return loaded;
      });
      this.#knownHosts.set(key, store);
    }
    return store;
  }

  async #handshake(
    endpoint: Dialed,
    sock: Duplex,
    knownHosts: KnownHostsStore,
    started: number,
    authMethods?: AnyAuthMethod[],
  ): Promise<SshConnection> {
    const { identities, env } = this.options;
    const debug = (event: string) => this.options.debug?.(endpoint, event);
    const client = new (await loadSsh2()).Client();
    let kex = '';
    let hostKey = '';
    let hostKeyBlob = '';
    let knownHostsEntry = '';
    let trustProblem: HostKeyError | undefined;
    const methods = authMethods ?? (await identities.authMethods(endpoint, env));
    let tried = 0;
    /** The method last handed to ssh2: the one sshd accepted once the connection is ready. */
    let offered = '';
    const handshakeStarted = performance.now();
    let authStarted = handshakeStarted;

    return new Promise<SshConnection>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        client.destroy();
        reject(error);
      };
      // ssh2's readyTimeout does not cover a silent peer on a forwarded channel: one timer for all.
      const timer = setTimeout(
        () => fail(noAnswer(endpoint)),
        Math.max(0, started + endpoint.ssh.connectTimeoutMs - performance.now()),
      );
      client.on('handshake', (negotiated) => {
        kex = negotiated.kex;
        authStarted = performance.now();
        const took = milliseconds(authStarted - handshakeStarted);
        debug(messages.handshake(kex, negotiated.serverHostKey, negotiated.cs.cipher, took));
      });
      // A peer that hangs up without a word gives only 'close': fail now, not at the timeout.
      const onClose = () =>
        fail(
          trustProblem ??
            new ConnectionError(
              endpoint.name,
              messages.closedDuringHandshake(where(endpoint)),
              messages.sshdLogSaysWhy(endpoint.name),
            ),
        );
      client.once('ready', () => {
        clearTimeout(timer);
        const now = performance.now();
        debug(messages.accepted(offered, milliseconds(now - authStarted), milliseconds(now - started)));
        client.off('error', onError);
        client.off('close', onClose);
        resolve(
          new SshConnection(
            endpoint,
            {
              address: endpoint.address,
              kex,
              hostKey,
              knownHostsLine: knownHostsEntry,
              connectMs: performance.now() - started,
              hostKeyBlob,
            },
            client,
          ),
        );
      });
      const onError = (error: Error & { level?: string }) => {
        if (trustProblem) return fail(trustProblem);
        if (error.level === 'client-authentication') {
          return fail(
            new KeysRefusedError(
              endpoint.name,
              messages.keysRefused(
                where(endpoint),
                endpoint.user,
                authMethods ? messages.keyAskedAbout : identities.describe(endpoint, env),
              ),
              messages.installKeyHint(endpoint.user, endpoint.name),
            ),
          );
        }
        fail(
          new ConnectionError(
            endpoint.name,
            messages.about(where(endpoint), error.message),
            messages.sshdLogSaysWhy(endpoint.name),
          ),
        );
      };
      // `on`, not `once`: ssh2 may emit more errors after the first (an agent's, then authentication's).
      client.on('error', onError);
      client.on('close', onClose);
      client.connect({
        sock,
        username: endpoint.user,
        readyTimeout: endpoint.ssh.connectTimeoutMs,
        keepaliveInterval: endpoint.ssh.keepaliveIntervalMs,
        keepaliveCountMax: endpoint.ssh.keepaliveCountMax,
        // ssh2 takes the methods one by one, each when the last was refused: so the last is the one accepted.
        authHandler: (_left, _partialSuccess, next) => {
          const method = methods[tried++];
          if (method) {
            offered = offeredKey(method, identities);
            debug(messages.offering(offered, endpoint.user));
          }
          // false, no method left, ends authentication: ssh2 takes it though its typings omit it.
          next(method ?? (false as never));
        },
        algorithms: {
          serverHostKey: knownHosts.preferredHostKeyAlgorithms(endpoint.addresses, endpoint.port) as never,
        },
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          const verified = this.options.verifyHostKey
            ? this.options.verifyHostKey(endpoint, key)
            : verifyHostKey(endpoint, key, knownHosts, this.options);
          verified.then(
            (trusted) => {
              hostKey = describeKey(key);
              hostKeyBlob = key.toString('base64');
              debug(messages.hostKeyTrusted(keyPhrase(key), trusted));
              knownHostsEntry = knownHostsLine(endpoint.addresses, endpoint.port, key);
              verify(true);
            },
            (error: HostKeyError) => {
              debug(messages.hostKeyRefused(error.message));
              trustProblem = error;
              verify(false);
            },
          );
        },
      });
    });
  }
}

/**
 * A key chaton offers as -vv names it, never its material: an agent (the ssh-agent, or the probe
 * of acceptsKey, which only asks about one public key), or an identity file.
 */
function offeredKey(method: AnyAuthMethod, identities: Identities): string {
  if (method.type === 'agent') {
    return typeof method.agent === 'string'
      ? messages.agentKeys(messages.agentAt(method.agent))
      : messages.publicKeyAskedAbout;
  }
  const key = (method as { key: ParsedKey }).key;
  return `${identities.fileOf(key) ?? messages.someKey} (${key.type})`;
}

/**
 * Nothing answered at one address of a host (no answer in time, refused, unreachable): another
 * of its addresses may. `reason` says why without naming the host, for -vv.
 */
class NoAnswerError extends ConnectionError {
  constructor(
    host: string,
    message: string,
    hint: string,
    readonly reason: string,
  ) {
    super(host, message, hint);
  }
}

function noAnswer(endpoint: Dialed, jump?: string): NoAnswerError {
  const seconds = endpoint.ssh.connectTimeoutMs / 1000;
  const reason = jump ? messages.noAnswerThrough(jump, seconds) : messages.noAnswer(seconds);
  return new NoAnswerError(
    endpoint.name,
    messages.about(where(endpoint), reason),
    messages.noAnswerHint(endpoint.name),
    reason,
  );
}

/** Rejects after `ms`; a stream that arrives too late is destroyed rather than leaked. */
function within<T extends { destroy(): unknown }>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(timedOut());
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (late) value.destroy();
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!late) reject(error);
      },
    );
  });
}

/**
 * ssh2 writes each SSH packet on its own; through a bastion, every packet of every host behind
 * it is one more write on this socket. Corking until the end of the tick sends what a tick
 * produced in one system call.
 */
function coalesceWrites(socket: net.Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write(...args);
  }) as typeof socket.write;
}

function tcpConnect(endpoint: Dialed): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.address, port: endpoint.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(noAnswer(endpoint));
    }, endpoint.ssh.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      coalesceWrites(socket);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const reason = error.code === 'ECONNREFUSED' ? messages.connectionRefused : error.message;
      const hint = messages.checkAddressHint(endpoint.name);
      reject(new NoAnswerError(endpoint.name, messages.about(where(endpoint), reason), hint, reason));
    });
  });
}
