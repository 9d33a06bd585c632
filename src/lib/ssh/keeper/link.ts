// A run's side of the keeper (ssh.persist): finds or starts the keeper of its inventory, asks it
// for connections, answers its questions (host keys are checked here, against the known_hosts
// files of this run; signatures are made here: the keeper never sees a private key), and runs
// commands on its connections. A keeper that cannot be used costs a cold run, never a failure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ParsedKey } from 'ssh2';
import type { Endpoint } from '../../inventory/types.js';
import { ConnectionError, InterruptedError } from '../../run/errors.js';
import { packageFile } from '../../run/package.js';
import { type Dialed, type Reachable, where } from '../endpoint.js';
import type { Offer } from '../identities.js';
import { messages } from '../messages.js';
import type { Connection, ConnectionInfo, ExecHandle, ExecOptions, ExecStreams } from '../pool.js';
import { loadSsh2 } from '../ssh2.js';
import { retireKeeper } from './control.js';
import { keeperDirectory, keeperSocket, ownSocket, safeDirectory } from './paths.js';
import {
  Frame,
  FrameReader,
  fromWire,
  GarbageError,
  jsonFrame,
  parseJson,
  PROTOCOL,
  toWire,
  type WireError,
} from './protocol.js';

/** A keeper that has not said hello in this time is hung: it costs this much, then a cold run. */
const HELLO_TIMEOUT_MS = 2000;

/** What the run's pool lends its keeper link: the checks and keys of this run. */
export interface KeeperServices {
  inventoryFile: string;
  env: NodeJS.ProcessEnv;
  verifyHostKey(endpoint: Dialed, key: Buffer): Promise<string>;
  offers(endpoint: Endpoint): Offer[];
  privateKey(file: string): Promise<ParsedKey>;
  describeKeys(endpoint: Endpoint): string;
  debug?: (target: Dialed, event: string) => void;
  verbose?: (message: string) => void;
}

/** The keeper went away, hangs or talks garbage: the run goes on without it. */
class KeeperUnusable extends Error {}

/** The keeper served another version of the inventory: it has retired, a new one is started. */
class KeeperRetired extends Error {}

/** The SHA-256 of the inventory file: a keeper serves the inventory it was started with, no other. */
export async function inventoryDigest(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/**
 * Holds connections across runs (ssh.persist): the run's pool asks it first. Undefined from open
 * when it cannot be used: the run then connects itself, and -v says why.
 */
export class KeeperLink {
  #control: Promise<Control | undefined> | undefined;

  constructor(private readonly services: KeeperServices) {}

  async open(target: Reachable, persistMs: number): Promise<Connection | undefined> {
    const control = await (this.#control ??= this.#attach());
    if (!control?.usable) return undefined;
    let reply: Record<string, unknown>;
    try {
      const request = control.request({ op: 'open', target, persistMs, debug: Boolean(this.services.debug) });
      reply = await within(request, openBoundMs(target));
    } catch (error) {
      this.#unusable(messages.keeperGone((error as Error).message));
      return undefined;
    }
    if (reply.error) throw fromWire(reply.error as WireError);
    const endpoint = reply.endpoint as Dialed;
    const info = reply.info as ConnectionInfo;
    if (reply.reused) this.services.debug?.(endpoint, messages.keptConnectionReused(String(reply.since)));
    return new KeptConnection(control, String(reply.conn), endpoint, info);
  }

  /** The run is over: its connections stay with the keeper. */
  detach(): void {
    void this.#control?.then((control) => control?.end());
  }

  #unusable(why: string): void {
    this.services.verbose?.(why);
  }

  /** Says hello to the keeper of this inventory, starting one if there is none (or a dead one). */
  async #attach(): Promise<Control | undefined> {
    const { env, inventoryFile } = this.services;
    const directory = keeperDirectory(env);
    let socket: string;
    let digest: string;
    try {
      await safeDirectory(directory);
      socket = keeperSocket(directory, inventoryFile, env);
      digest = await inventoryDigest(inventoryFile);
      if (await ownSocket(socket)) {
        const control = await this.#hello(socket, digest).catch(async (error: Error) => {
          // A retired keeper removed its own socket already: a new keeper may be listening there now.
          if (error instanceof KeeperRetired) return undefined;
          this.#unusable(messages.keeperStale(socket, error.message));
          await retireKeeper(socket);
          return undefined;
        });
        if (control) return control;
      }
      await startKeeper(socket, inventoryFile, digest, env);
      return await this.#hello(socket, digest);
    } catch (error) {
      this.#unusable(messages.keeperNotUsed((error as Error).message));
      return undefined;
    }
  }

  async #hello(socket: string, digest: string): Promise<Control> {
    const control = await Control.connect(socket, this.services);
    try {
      const reply = await within(control.request({ op: 'hello', protocol: PROTOCOL, inventory: digest }));
      if (reply.protocol !== PROTOCOL) throw new GarbageError(messages.keeperOtherVersion(String(reply.protocol)));
      // The inventory changed since the keeper started: it retires (and removes its socket) as it says so.
      if (reply.retired) throw new KeeperRetired(messages.keeperRetired);
      return control;
    } catch (error) {
      control.end();
      throw error;
    }
  }
}

/** Starts a keeper and waits for its word that it listens (or that another one already does). */
function startKeeper(socket: string, inventoryFile: string, digest: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [packageFile('dist', 'src', 'lib', 'ssh', 'keeper', 'main.js'), socket, inventoryFile, digest],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
        env,
      },
    );
    let said = '';
    const timer = setTimeout(
      () => finish(new KeeperUnusable(messages.keeperSilent(HELLO_TIMEOUT_MS / 1000))),
      HELLO_TIMEOUT_MS,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.unref();
      if (error) reject(error);
      else resolve();
    };
    child.on('error', finish);
    child.stdout.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('\n')) finish(said.startsWith('ready') ? undefined : new KeeperUnusable(said.trim()));
    });
    child.on('exit', (code) => finish(new KeeperUnusable(messages.keeperExited(String(code)))));
  });
}

/**
 * The longest a keeper may take to lend a connection: every address of every hop tried in turn,
 * each for its connect timeout, and the keepalive of each held one. Longer, it hangs.
 */
function openBoundMs(target: Reachable): number {
  const hops = [...target.via, target];
  return hops.reduce((sum, hop) => sum + hop.addresses.length * hop.ssh.connectTimeoutMs + HELLO_TIMEOUT_MS, 0);
}

function within<T>(promise: Promise<T>, ms = HELLO_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new KeeperUnusable(messages.keeperSilent(ms / 1000))), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Opens a unix connection to the keeper; its frames go to `onFrame`. */
function dial(socket: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socket);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** The run's conversation with its keeper: requests and their replies, the keeper's questions and our answers. */
class Control {
  readonly #replies = new Map<
    number,
    { resolve: (reply: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  #next = 1;
  #gone: Error | undefined;
  readonly #lostListeners = new Set<(error: Error) => void>();
  /** The public keys offered to each endpoint, and how to sign with each. */
  readonly #signers = new Map<string, (data: Buffer, hash: string | undefined) => Promise<Buffer>>();

  private constructor(
    readonly socket: string,
    private readonly sock: net.Socket,
    private readonly services: KeeperServices,
  ) {
    const reader = new FrameReader((type, payload) => {
      if (type === Frame.json) this.#onMessage(parseJson(payload));
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        this.#fail(error as Error);
      }
    });
    sock.on('error', (error) => this.#fail(error));
    sock.on('close', () => this.#fail(new KeeperUnusable(messages.keeperClosed)));
  }

  static async connect(socket: string, services: KeeperServices): Promise<Control> {
    return new Control(socket, await dial(socket), services);
  }

  get usable(): boolean {
    return this.#gone === undefined;
  }

  request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#replies.set(id, { resolve, reject });
      this.sock.write(jsonFrame({ ...message, id }));
    });
  }

  /** Told when the keeper is gone: every connection it lent is lost. */
  onGone(listener: (error: Error) => void): void {
    this.#lostListeners.add(listener);
  }

  end(): void {
    this.sock.end();
  }

  /** A unix connection of its own, for one command's output or one forwarded stream. */
  channel(): Promise<net.Socket> {
    return dial(this.socket);
  }

  #fail(error: Error): void {
    if (this.#gone) return;
    this.#gone = error;
    this.sock.destroy();
    for (const { reject } of this.#replies.values()) reject(error);
    this.#replies.clear();
    for (const listener of this.#lostListeners) listener(error);
  }

  #onMessage(message: Record<string, unknown>): void {
    if (typeof message.id === 'number') {
      const waiting = this.#replies.get(message.id);
      this.#replies.delete(message.id);
      waiting?.resolve(message);
      return;
    }
    if (message.event === 'debug') this.services.debug?.(message.endpoint as Dialed, String(message.text));
    if (typeof message.ask === 'number') {
      const ask = message.ask;
      this.#answer(message).then(
        (answer) => this.sock.write(jsonFrame({ ...answer, answer: ask })),
        (error: unknown) => this.sock.write(jsonFrame({ error: toWire(error), answer: ask })),
      );
    }
  }

  async #answer(question: Record<string, unknown>): Promise<Record<string, unknown>> {
    const endpoint = question.endpoint as Dialed;
    switch (question.q) {
      case 'verify':
        return { trusted: await this.services.verifyHostKey(endpoint, Buffer.from(String(question.key), 'base64')) };
      case 'keys':
        return { keys: await this.#keys(endpoint), description: this.services.describeKeys(endpoint) };
      case 'sign': {
        const signer = this.#signers.get(`${where(endpoint)}\0${String(question.key)}`);
        if (!signer) throw new Error(messages.keeperAskedUnknownKey);
        const signature = await signer(
          Buffer.from(String(question.data), 'base64'),
          question.hash as string | undefined,
        );
        return { signature: signature.toString('base64') };
      }
      default:
        throw new GarbageError(String(question.q));
    }
  }

  /** The public keys this run would offer `endpoint`, in order (the agent's, then identity files'). */
  async #keys(endpoint: Dialed): Promise<string[]> {
    const keys: string[] = [];
    const add = (publicBlob: Buffer, sign: (data: Buffer, hash: string | undefined) => Promise<Buffer>) => {
      const blob = publicBlob.toString('base64');
      keys.push(blob);
      this.#signers.set(`${where(endpoint)}\0${blob}`, sign);
    };
    for (const offer of this.services.offers(endpoint)) {
      if ('file' in offer) {
        // Parsed only if the keeper asks for a signature: a kept connection needs none.
        add(offer.key.blob, async (data, hash) => {
          const signature = (await this.services.privateKey(offer.file)).sign(data, hash);
          if (signature instanceof Error) throw signature;
          return signature;
        });
      } else {
        const agent = new (await loadSsh2()).OpenSSHAgent(offer.agent);
        const found = await new Promise<ParsedKey[]>((resolve) =>
          agent.getIdentities((error, list) => resolve(error ? [] : ((list ?? []) as ParsedKey[]))),
        );
        for (const key of found) {
          add(
            key.getPublicSSH(),
            (data, hash) =>
              new Promise((resolve, reject) =>
                agent.sign(key, data, { hash: hash as never }, (error, signed) =>
                  error || !signed ? reject(error ?? new Error('no signature')) : resolve(signed),
                ),
              ),
          );
        }
      }
    }
    return keys;
  }
}

/** A connection the keeper holds, as this run uses it: each command over a unix connection of its own. */
class KeptConnection implements Connection {
  #lost: ConnectionError | undefined;

  constructor(
    private readonly control: Control,
    private readonly id: string,
    readonly endpoint: Dialed,
    readonly info: ConnectionInfo,
  ) {
    control.onGone((error) => this.#markLost(messages.keeperGone(error.message)));
  }

  get lost(): ConnectionError | undefined {
    return this.#lost;
  }

  async exec(commandLine: Buffer, streams: ExecStreams, options: ExecOptions = {}): Promise<ExecHandle> {
    if (options.signal?.aborted) throw new InterruptedError(messages.notStarted(this.endpoint.name));
    if (this.#lost) throw this.#lost;
    const sock = await this.#channel();
    if (options.signal?.aborted) {
      sock.destroy();
      throw new InterruptedError(messages.notStarted(this.endpoint.name));
    }
    sock.write(
      jsonFrame({
        op: 'exec',
        conn: this.id,
        command: commandLine.toString('base64'),
        ...(streams.stdin ? { stdin: Buffer.from(streams.stdin).toString('base64') } : {}),
        urgent: Boolean(options.urgent),
      }),
    );
    // Ctrl-C while the keeper waits for a session: it starts nothing, and says so (as a cold run's
    // pool). Not a 'close': a change that has just started must go on (the executor decides).
    const notWanted = () => sock.write(jsonFrame({ op: 'cancel' }));
    options.signal?.addEventListener('abort', notWanted, { once: true });
    return new Promise<ExecHandle>((resolve, reject) => {
      let started = false;
      let status: { code: number | null; signal: string | null } = { code: null, signal: null };
      let ended: (status: { code: number | null; signal: string | null }) => void = () => {};
      const done = new Promise<{ code: number | null; signal: string | null }>((r) => (ended = r));
      // Flow control: a full reader stops reading the unix socket; the keeper then stops the SSH channel.
      const pauseIfFull = (accepted: boolean) => {
        if (accepted || !streams.drained || sock.isPaused()) return;
        sock.pause();
        void streams.drained().then(() => sock.resume());
      };
      const reader = new FrameReader((type, payload) => {
        if (type === Frame.stdout) return pauseIfFull(streams.onStdout(payload));
        if (type === Frame.stderr) return pauseIfFull(streams.onStderr(payload));
        const message = parseJson(payload);
        if (!started) {
          started = true;
          options.signal?.removeEventListener('abort', notWanted);
          if (message.error) {
            const error = fromWire(message.error as WireError);
            sock.destroy();
            if (!message.lost) return reject(error);
            // The keeper's connection is gone: this one is lost too, and the run connects again.
            this.#markLost(error.message);
            return reject(this.#lost);
          }
          return resolve({ done, close: () => sock.end(jsonFrame({ op: 'close' })) });
        }
        status = { code: (message.code as number | null) ?? null, signal: (message.signal as string | null) ?? null };
        if (message.lost) this.#markLost(String(message.lost));
      });
      sock.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk);
        } catch (error) {
          sock.destroy(error as Error);
        }
      });
      sock.on('error', () => {});
      sock.on('close', () => {
        options.signal?.removeEventListener('abort', notWanted);
        if (!started) {
          this.#markLost(messages.keeperClosed);
          reject(this.#lost);
        }
        ended(status);
      });
    });
  }

  async forward(endpoint: Dialed): Promise<Duplex> {
    const sock = await this.#channel();
    sock.write(jsonFrame({ op: 'forward', conn: this.id, address: endpoint.address, port: endpoint.port }));
    return new Promise((resolve, reject) => {
      // Paused mode: the reply is one frame, and what follows it (sshd's banner) stays in the
      // socket's buffer for the SSH client that reads it next.
      const onReadable = () => {
        const header = sock.read(5) as Buffer | null;
        if (!header) return;
        const payload = sock.read(header.readUInt32BE(1)) as Buffer | null;
        if (!payload) return void sock.unshift(header);
        sock.off('readable', onReadable);
        const reply = parseJson(payload);
        if (reply.error) {
          sock.destroy();
          return reject(fromWire(reply.error as WireError));
        }
        sock.once('end', () => sock.destroy());
        resolve(sock);
      };
      sock.on('readable', onReadable);
      sock.once('error', reject);
    });
  }

  /** The run no longer wants this connection (its route changed): the keeper closes it too. */
  close(): void {
    void this.control.request({ op: 'drop', conn: this.id }).catch(() => {});
  }

  async #channel(): Promise<net.Socket> {
    try {
      return await this.control.channel();
    } catch (error) {
      this.#markLost(messages.keeperGone((error as Error).message));
      throw this.#lost;
    }
  }

  #markLost(reason: string): void {
    this.#lost ??= new ConnectionError(
      this.endpoint.name,
      messages.connectionLost(where(this.endpoint), reason),
      messages.connectionLostHint(this.endpoint.name),
    );
  }
}
