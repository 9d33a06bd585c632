// The keeper: a background process of the operator's own that holds authenticated SSH connections
// between runs (ssh.persist). It runs the pool of pool.ts, shared by the runs it serves, and asks
// the run of the moment what only the run decides: whether a host key is trusted (every time a
// held connection is lent again: known_hosts may have changed since) and the signatures that log
// in (it never holds a private key). It exits when its connections have all expired, when its
// inventory file changes, or when told to.
import { createHash } from 'node:crypto';
import { rmSync, unwatchFile, watchFile, writeFileSync, type Stats } from 'node:fs';
import net from 'node:net';
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';
import type { Endpoint } from '../../inventory/types.js';
import { type Dialed, type Reachable, routeKey } from '../endpoint.js';
import { messages } from '../messages.js';
import { Identities } from '../identities.js';
import { type ConnectionCache, ConnectionPool, type ExecHandle, SshConnection } from '../pool.js';
import { type KeeperState, type KeptConnection, pidFile } from './control.js';
import {
  Frame,
  FrameReader,
  fromWire,
  frame,
  jsonFrame,
  parseJson,
  PROTOCOL,
  toWire,
  type WireError,
} from './protocol.js';

/** A keeper nobody has used since it started is gone after this. */
const UNUSED_START_MS = 30_000;
const SWEEP_MS = 500;
/** A held connection that does not answer a keepalive in this time is dropped before it is lent. */
const ALIVE_TIMEOUT_MS = 2000;

/** What the keeper knows of a connection it holds, beyond the connection itself. */
interface Held {
  /** What a run names it by: a connection of its own (another one to the same route is another id). */
  id: string;
  route: string;
  connection: SshConnection;
  host: string;
  via: string[];
  since: Date;
  lastUsed: Date;
  persistMs: number;
  /** The public key that logged in (base64 blob), as the run that opened it signed. */
  loginKey: string;
  /** Commands running on it or through it (a jump host's), and runs attached that were lent it. */
  busy: number;
}

export class Keeper {
  readonly #server: net.Server;
  readonly #cache: ConnectionCache = new Map();
  readonly #held = new Map<string, Held>();
  readonly #sessions = new Set<Session>();
  readonly #started = new Date();
  readonly #sweep: NodeJS.Timeout;
  #stopping = false;
  #lentSoFar = 1;

  constructor(
    readonly socket: string,
    readonly inventoryFile: string,
    readonly inventoryDigest: string,
  ) {
    this.#server = net.createServer((sock) => this.#accept(sock));
    this.#sweep = setInterval(() => this.#expire(), SWEEP_MS);
    // An edited (or removed) inventory may reach hosts otherwise: its keeper retires at once.
    watchFile(inventoryFile, { interval: SWEEP_MS }, (now: Stats, before: Stats) => {
      if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) this.stop();
    });
  }

  /** Resolves once listening; rejects with EADDRINUSE when another keeper already serves this socket. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.socket, () => {
        this.#server.off('error', reject);
        // For a run that finds this keeper hung: the process to end before it starts another.
        writeFileSync(pidFile(this.socket), `${process.pid}\n`, { mode: 0o600 });
        resolve();
      });
    });
  }

  /** Closes every connection (hosts before the jump hosts they go through) and exits. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#sweep);
    unwatchFile(this.inventoryFile);
    const byDepth = [...this.#held.values()].sort((a, b) => b.via.length - a.via.length);
    for (const held of byDepth) held.connection.close();
    for (const session of this.#sessions) session.sock.destroy();
    this.#server.close();
    for (const file of [this.socket, pidFile(this.socket)]) rmSync(file, { force: true });
    // Lets the last frames (a retired hello's, a close's state) reach their run first.
    setTimeout(() => process.exit(0), 100).unref();
  }

  state(): KeeperState {
    const expiries = [...this.#held.values()].map((held) => held.lastUsed.getTime() + held.persistMs);
    const expiresAt = new Date(Math.max(this.#started.getTime() + UNUSED_START_MS, ...expiries));
    const connections: KeptConnection[] = [...this.#held.values()]
      .filter((held) => !held.connection.lost)
      .map((held) => ({
        host: held.host,
        via: held.via,
        address: held.connection.endpoint.address,
        port: held.connection.endpoint.port,
        user: held.connection.endpoint.user,
        since: held.since.toISOString(),
        lastUsed: held.lastUsed.toISOString(),
        keyFingerprint: fingerprint(held.loginKey),
        hostKeyFingerprint: fingerprint(held.connection.info.hostKeyBlob),
      }));
    return {
      inventory: this.inventoryFile,
      pid: process.pid,
      startedAt: this.#started.toISOString(),
      expiresAt: expiresAt.toISOString(),
      connections,
    };
  }

  /** The connection held for this route, if it is still up. */
  #current(route: string): Held | undefined {
    const held = this.#held.get(route);
    return held && !held.connection.lost ? held : undefined;
  }

  /** The connection lent under this id, if the keeper still holds it. */
  lent(id: string): Held | undefined {
    return [...this.#held.values()].find((held) => held.id === id);
  }

  /**
   * A connection to lend: checked again for every hop it holds already (the host key against the
   * run's known_hosts now, the key that logged in among those the run would offer), the others
   * opened with the run's checks and signatures.
   */
  async open(session: Session, target: Reachable, persistMs: number): Promise<{ held: Held; reused: boolean }> {
    const hops = [...target.via.map((jump, i) => ({ ...jump, via: target.via.slice(0, i) })), target];
    let reused = true;
    for (const hop of hops) {
      const key = routeKey(hop);
      const held = this.#current(key);
      if (!held) {
        reused = false;
        continue;
      }
      if (session.checked.has(key)) continue;
      const endpoint = held.connection.endpoint;
      // A link that died without a word (no RST) leaves a connection that looks alive: it would
      // hang this run where a cold one tries the next address.
      const answers = await held.connection.alive(Math.min(ALIVE_TIMEOUT_MS, endpoint.ssh.connectTimeoutMs));
      const stillTrusted =
        answers &&
        (await session
          .verify(endpoint, Buffer.from(held.connection.info.hostKeyBlob, 'base64'))
          .then(() => true)
          .catch(() => false));
      const keys = stillTrusted ? await session.keys(endpoint) : [];
      if (stillTrusted && keys.includes(held.loginKey)) {
        session.checked.add(key);
        continue;
      }
      // Opened again below with the run's own checks: a cold run's refusal, word for word.
      this.#retire(key);
      reused = false;
    }
    let connection;
    try {
      connection = await session.pool.connect(target);
    } catch (error) {
      // A run keeps a failure to open for its next commands; the next run tries again.
      for (const hop of hops) if (!this.#cache.get(routeKey(hop))?.connection) this.#cache.delete(routeKey(hop));
      throw error;
    }
    const now = new Date();
    for (const hop of hops) {
      const key = routeKey(hop);
      // The keeper's pools open nothing but their own connections (no keeper of their own).
      const entry = (this.#cache.get(key)?.connection ?? (hop === target ? connection : undefined)) as
        SshConnection | undefined;
      if (!entry) continue;
      let held = this.#held.get(key);
      if (held?.connection !== entry) {
        held = {
          id: String(this.#lentSoFar++),
          route: key,
          connection: entry,
          host: hop.name,
          via: hop.via.map((jump) => jump.name),
          since: now,
          lastUsed: now,
          persistMs,
          loginKey: session.signedWith(entry.endpoint) ?? '',
          busy: 0,
        };
        this.#held.set(key, held);
        session.checked.add(key);
      }
      held.lastUsed = now;
      held.persistMs = persistMs;
    }
    return { held: this.#held.get(routeKey(target))!, reused };
  }

  /** A run no longer wants a connection it was lent (its route changed): closed, unless replaced since. */
  release(id: string): void {
    const held = this.lent(id);
    if (held) this.#retire(held.route);
  }

  /** Closes the connection held for a route, and forgets it (a new one being opened there is left alone). */
  #retire(route: string): void {
    const held = this.#held.get(route);
    if (!held) return;
    this.#held.delete(route);
    if (this.#cache.get(route)?.connection === held.connection) this.#cache.delete(route);
    held.connection.close();
  }

  /**
   * Marks a connection and the jump hosts' it goes through in use, until the function it returns
   * is called: then used now. The same ones, even if the route's connection was replaced meanwhile.
   */
  use(held: Held): () => void {
    const hops = [...this.#held.values()].filter((other) => held.route.startsWith(`${other.route} > `));
    const inUse = [held, ...hops];
    const touch = (delta: number) => {
      for (const each of inUse) {
        each.busy += delta;
        each.lastUsed = new Date();
      }
    };
    touch(1);
    let done = false;
    return () => {
      if (!done) touch(-1);
      done = true;
    };
  }

  #expire(): void {
    const now = Date.now();
    for (const [key, held] of [...this.#held].sort(([a], [b]) => b.length - a.length)) {
      const through = [...this.#held.keys()].some((other) => other.startsWith(`${key} > `));
      if (held.connection.lost || (!held.busy && !through && now - held.lastUsed.getTime() > held.persistMs)) {
        this.#retire(key);
      }
    }
    const unused = now - this.#started.getTime() > UNUSED_START_MS;
    if (this.#held.size === 0 && this.#sessions.size === 0 && unused) this.stop();
  }

  #accept(sock: net.Socket): void {
    sock.on('error', () => {});
    // The first frame says what this unix connection is for; the frames after it go to its handler.
    let handler = (type: number, payload: Buffer): void => {
      if (type !== Frame.json) throw new Error('not a request');
      const request = parseJson(payload);
      if (request.op === 'hello') {
        const session = new Session(this, sock, this.#cache);
        this.#sessions.add(session);
        sock.on('close', () => this.#sessions.delete(session));
        handler = (_type, next) => session.onMessage(parseJson(next));
        session.hello(request);
      } else if (request.op === 'exec') {
        // 'close': the run stops the command; 'cancel': it no longer wants it if it has not started.
        const [stop, unwanted] = [new AbortController(), new AbortController()];
        const stopAll = () => [stop, unwanted].forEach((each) => each.abort());
        handler = (_type, next) => {
          const { op } = parseJson(next);
          if (op === 'close') stopAll();
          else if (op === 'cancel') unwanted.abort();
        };
        // The run went away: whatever it asked for is not wanted any more, started or not.
        sock.once('close', stopAll);
        void this.#exec(sock, request, stop.signal, unwanted.signal);
      } else if (request.op === 'forward') {
        sock.removeAllListeners('data');
        void this.#forward(sock, request);
      } else if (request.op === 'list') sock.end(jsonFrame({ state: this.state() }));
      else if (request.op === 'close') sock.end(jsonFrame({ state: this.state() }), () => this.stop());
      else sock.destroy();
    };
    const reader = new FrameReader((type, payload) => handler(type, payload));
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch {
        sock.destroy();
      }
    });
  }

  async #exec(
    sock: net.Socket,
    request: Record<string, unknown>,
    stop: AbortSignal,
    unwanted: AbortSignal,
  ): Promise<void> {
    const held = this.lent(String(request.conn));
    if (!held || held.connection.lost) {
      // Gone (expired, replaced, dropped): lost, so that the run connects again.
      const lost = held?.connection.lost ?? new Error(messages.keeperNoSuchConnection);
      sock.end(jsonFrame({ error: toWire(lost), lost: true }));
      return;
    }
    const used = this.use(held);
    let handle: ExecHandle;
    try {
      handle = await held.connection.exec(
        Buffer.from(String(request.command), 'base64'),
        {
          ...(typeof request.stdin === 'string' ? { stdin: Buffer.from(request.stdin, 'base64') } : {}),
          onStdout: (chunk) => sock.write(frame(Frame.stdout, chunk)),
          onStderr: (chunk) => sock.write(frame(Frame.stderr, chunk)),
          drained: () => new Promise((resolve) => (sock.writableNeedDrain ? sock.once('drain', resolve) : resolve())),
        },
        // Not wanted any more before a session was free (Ctrl-C, the run gone): never started, as cold.
        { urgent: request.urgent === true, signal: unwanted },
      );
    } catch (error) {
      used();
      sock.end(jsonFrame({ error: toWire(error), lost: Boolean(held.connection.lost) }));
      return;
    }
    sock.write(jsonFrame({ started: true }));
    // The run stopped it, or went away: the channel is closed, as a cold run's own close does.
    const closeChannel = () => handle.close();
    // Gone while the session opened (Ctrl-C, a timeout): no 'close' is to come.
    if (stop.aborted) closeChannel();
    stop.addEventListener('abort', closeChannel);
    const { code, signal } = await handle.done;
    used();
    stop.removeEventListener('abort', closeChannel);
    // Read again: the connection may have been lost while the command ran.
    const lostNow = lostOf(held.connection);
    const lost = code === null && signal === null ? lostNow?.message : undefined;
    sock.end(jsonFrame({ code, signal, ...(lost ? { lost } : {}) }));
  }

  async #forward(sock: net.Socket, request: Record<string, unknown>): Promise<void> {
    const held = this.lent(String(request.conn));
    if (!held || held.connection.lost)
      return void sock.end(jsonFrame({ error: toWire(new Error(messages.keeperNoSuchConnection)) }));
    const target = { ...held.connection.endpoint, address: String(request.address), port: Number(request.port) };
    try {
      const stream = await held.connection.forward(target);
      sock.write(jsonFrame({ ok: true }));
      stream.pipe(sock).pipe(stream);
      sock.on('close', () => stream.destroy());
      stream.on('close', () => sock.destroy());
    } catch (error) {
      sock.end(jsonFrame({ error: toWire(error) }));
    }
  }
}

/** Why a connection is gone, if it is: a function, so that it is read at the time it is asked. */
function lostOf(connection: SshConnection): Error | undefined {
  return connection.lost;
}

/** `SHA256:` and the unpadded base64 of the digest, as ssh-keygen -l prints a key. */
function fingerprint(blob: string): string {
  if (!blob) return '';
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/**
 * One run attached to the keeper: its requests, and the questions the keeper asks it back. Its
 * pool shares the keeper's connections; what it checks and signs, it asks the run.
 */
class Session {
  readonly pool: ConnectionPool;
  /** Routes whose held connection this run has checked already. */
  readonly checked = new Set<string>();
  /** The connections lent to this run (by id), each to be marked used when it detaches. */
  readonly #lent = new Map<string, () => void>();
  #next = 1;
  readonly #answers = new Map<number, { resolve: (a: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  #debug = false;
  /** Per endpoint (where it was reached): the last public key this run signed with, the one that logged in. */
  readonly #signed = new Map<string, string>();
  /** Per endpoint: how the run describes the keys it offers, for a refusal's message. */
  readonly #described = new Map<string, string>();

  constructor(
    private readonly keeper: Keeper,
    readonly sock: net.Socket,
    cache: ConnectionCache,
  ) {
    const session = this;
    class RelayedKeys extends Identities {
      override async authMethods(endpoint: Endpoint): Promise<AnyAuthMethod[]> {
        return [{ type: 'agent', username: endpoint.user, agent: new RelayAgent(session, endpoint as Dialed) }];
      }
      override describe(endpoint: Endpoint): string {
        return session.#described.get(endpointKey(endpoint as Dialed)) ?? '';
      }
    }
    this.pool = new ConnectionPool({
      identities: new RelayedKeys(),
      env: {},
      acceptNew: false,
      // What it would tell (a bad known_hosts line, a key added) the run tells itself: it reads
      // known_hosts and checks the keys.
      notice: () => {},
      debug: (endpoint, text) => {
        if (this.#debug) this.#send({ event: 'debug', endpoint, text });
      },
      verifyHostKey: (endpoint, key) => this.verify(endpoint, key),
      connections: cache,
    });
    sock.on('close', () => {
      for (const used of this.#lent.values()) used();
      for (const { reject } of this.#answers.values()) reject(new Error(messages.keeperRunGone));
    });
  }

  hello(request: Record<string, unknown>): void {
    const retired = request.inventory !== this.keeper.inventoryDigest;
    // Its socket is gone before the run hears it: the keeper the run starts next is never removed by this one.
    if (retired) this.keeper.stop();
    this.#send({ id: request.id, protocol: PROTOCOL, pid: process.pid, ...(retired ? { retired: true } : {}) });
  }

  async verify(endpoint: Dialed, key: Buffer): Promise<string> {
    const answer = await this.#ask({ q: 'verify', endpoint, key: key.toString('base64') });
    return String(answer.trusted);
  }

  async keys(endpoint: Dialed): Promise<string[]> {
    const answer = await this.#ask({ q: 'keys', endpoint });
    this.#described.set(endpointKey(endpoint), String(answer.description));
    return answer.keys as string[];
  }

  async sign(endpoint: Dialed, key: string, data: Buffer, hash: string | undefined): Promise<Buffer> {
    this.#signed.set(endpointKey(endpoint), key);
    const answer = await this.#ask({ q: 'sign', endpoint, key, data: data.toString('base64'), hash });
    return Buffer.from(String(answer.signature), 'base64');
  }

  signedWith(endpoint: Dialed): string | undefined {
    return this.#signed.get(endpointKey(endpoint));
  }

  #send(message: Record<string, unknown>): void {
    if (!this.sock.destroyed) this.sock.write(jsonFrame(message));
  }

  #ask(question: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ask = this.#next++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      if (this.sock.destroyed) return reject(new Error(messages.keeperRunGone));
      this.#answers.set(ask, { resolve, reject });
      this.#send({ ...question, ask });
    }).then((answer) => {
      if (answer.error) throw fromWire(answer.error as WireError);
      return answer;
    });
  }

  async onMessage(message: Record<string, unknown>): Promise<void> {
    if (typeof message.answer === 'number') {
      const waiting = this.#answers.get(message.answer);
      this.#answers.delete(message.answer);
      return waiting?.resolve(message);
    }
    const id = message.id;
    try {
      if (message.op === 'open') {
        this.#debug = message.debug === true;
        const { held, reused } = await this.keeper.open(this, message.target as Reachable, Number(message.persistMs));
        // In use while this run is attached: its persist time counts from the run's end.
        if (!this.#lent.has(held.id)) this.#lent.set(held.id, this.keeper.use(held));
        const { endpoint, info } = held.connection;
        const conn = held.id;
        // A connection lent again took no time to reach and authenticate.
        this.#send({
          id,
          conn,
          endpoint,
          info: reused ? { ...info, connectMs: 0 } : info,
          reused,
          since: held.since.toISOString(),
        });
      } else if (message.op === 'drop') {
        this.keeper.release(String(message.conn));
        this.#send({ id });
      } else this.sock.destroy();
    } catch (error) {
      this.#send({ id, error: toWire(error) });
    }
  }
}

function endpointKey(endpoint: Dialed): string {
  return `${routeKey(endpoint)}@${endpoint.address}`;
}

/** The run's keys, as an agent for ssh2: the public halves it offers, the signatures it makes. */
class RelayAgent extends ssh2.BaseAgent<ParsedKey> {
  constructor(
    private readonly session: Session,
    private readonly endpoint: Dialed,
  ) {
    super();
  }
  getIdentities(cb: (error: Error | undefined, keys?: ParsedKey[]) => void): void {
    this.session.keys(this.endpoint).then(
      (blobs) =>
        cb(
          undefined,
          blobs.map((blob) => ssh2.utils.parseKey(Buffer.from(blob, 'base64')) as ParsedKey),
        ),
      (error: Error) => cb(error),
    );
  }
  sign(key: ParsedKey, data: Buffer, options: unknown, cb?: (error?: Error, signature?: Buffer) => void): void {
    const done = (typeof options === 'function' ? options : cb) as (error?: Error, signature?: Buffer) => void;
    const hash = typeof options === 'object' && options ? (options as { hash?: string }).hash : undefined;
    const blob = key.getPublicSSH().toString('base64');
    this.session.sign(this.endpoint, blob, data, hash).then(
      (signature) => done(undefined, signature),
      (error: Error) => done(error),
    );
  }
}
