// The keys chaton offers to sshd: the ssh-agent's, then identity files, loaded once per run.
import { stat } from 'node:fs/promises';
import type { AnyAuthMethod, ParsedKey } from 'ssh2';
import type { Endpoint, SshSettings } from '../inventory/types.js';
import { UsageError } from '../run/errors.js';
import { readKeyFile, UnreadableFileError } from '../run/files.js';
import { openSshPublicHalf } from './key-blob.js';
import { messages } from './messages.js';
import { loadSsh2 } from './ssh2.js';

/** Asks the operator for a passphrase (on a terminal); undefined when nobody can answer. */
export type PassphrasePrompt = (file: string, retry: boolean) => Promise<string | undefined>;

/** Tries at a passphrase typed by the operator, as ssh gives. */
const PASSPHRASE_TRIES = 3;

/** What loading identity files reads of the ssh settings. */
type KeySettings = Pick<SshSettings, 'identityFiles' | 'identityFilesExplicit' | 'identityPassphraseEnv'>;

/** A key read from an identity file: its public half at once, its private key when it must sign. */
export interface IdentityKey {
  type: string;
  /** The public key blob (RFC 4253 §6.6). */
  blob: Buffer;
  /** Parsed by ssh2 as it was loaded (encrypted, PEM...), or when it first signs. */
  parsed: ParsedKey | undefined;
  /** The file's content, until parsed. */
  unparsed: Buffer | undefined;
}

/** What chaton offers sshd: the ssh-agent's keys (at its socket), or an identity file's key. */
export type Offer = { agent: string } | { file: string; key: IdentityKey };

/** A key file skipped without stopping the run (an OpenSSH default that ssh would skip too). */
export interface KeyWarning {
  file: string;
  message: string;
  hint: string;
}

/** Whether the ssh-agent of SSH_AUTH_SOCK can sign: how many keys it holds, or why it cannot. */
export type AgentState = { keys: number } | { problem: string };

/** An agent that does not answer its socket in this time is as good as absent. */
const AGENT_TIMEOUT_MS = 5000;

export class Identities {
  readonly #keys = new Map<string, IdentityKey>();
  /** Files already read, used or not: none is read twice (nor its passphrase asked twice) in a run. */
  readonly #tried = new Set<string>();
  readonly warnings: KeyWarning[] = [];

  /** Reads every identity file the given endpoints may use; encrypted ones need a passphrase. */
  async load(settings: KeySettings[], env: NodeJS.ProcessEnv, ask: PassphrasePrompt): Promise<void> {
    for (const ssh of settings) {
      for (const file of ssh.identityFiles) {
        if (this.#tried.has(file)) continue;
        this.#tried.add(file);
        const key = await loadKey(file, ssh, env, ask, this.warnings);
        if (key) this.#keys.set(file, key);
      }
    }
  }

  /** What chaton offers `endpoint`, in OpenSSH's order: the agent's keys first, then identity files. */
  offers(endpoint: Endpoint, env: NodeJS.ProcessEnv): Offer[] {
    const offers: Offer[] = [];
    const agentSocket = env.SSH_AUTH_SOCK;
    if (endpoint.ssh.agent && agentSocket) offers.push({ agent: agentSocket });
    for (const file of endpoint.ssh.identityFiles) {
      const key = this.#keys.get(file);
      if (key) offers.push({ file, key });
    }
    return offers;
  }

  /** What ssh2 tries, the offers in their order. */
  async authMethods(endpoint: Endpoint, env: NodeJS.ProcessEnv): Promise<AnyAuthMethod[]> {
    const username = endpoint.user;
    return Promise.all(
      this.offers(endpoint, env).map(async (offer): Promise<AnyAuthMethod> =>
        'agent' in offer
          ? { type: 'agent', username, agent: offer.agent }
          : { type: 'publickey', username, key: await this.privateKey(offer.file) },
      ),
    );
  }

  /** The private key of a loaded identity file, parsed by ssh2 the first time it is needed. */
  async privateKey(file: string): Promise<ParsedKey> {
    const key = this.#keys.get(file);
    if (!key) throw new Error(`${file} was not loaded`);
    if (key.unparsed) {
      const { utils } = await loadSsh2();
      // Hosts connecting at once all ask: the first to resume after the load parses it for all.
      if (key.unparsed) key.parsed = parsedKey(file, utils.parseKey(key.unparsed));
      key.unparsed = undefined;
    }
    return key.parsed!;
  }

  /** The identity file a loaded key was read from, to name it without showing it (-vv). */
  fileOf(key: ParsedKey): string | undefined {
    for (const [file, loaded] of this.#keys) if (loaded.parsed === key) return file;
    return undefined;
  }

  /**
   * The public halves of the keys chaton would offer `endpoint` (`type base64` lines): agent keys,
   * then identity files. What a new machine must accept for chaton to log in (vm create's
   * cloud-init keys).
   */
  async publicKeyLines(endpoint: Endpoint, env: NodeJS.ProcessEnv): Promise<string[]> {
    const lines: string[] = [];
    const socket = env.SSH_AUTH_SOCK;
    if (endpoint.ssh.agent && socket) {
      const ssh2 = await loadSsh2();
      const keys = await new Promise<ParsedKey[]>((resolve) => {
        const timer = setTimeout(() => resolve([]), AGENT_TIMEOUT_MS);
        new ssh2.OpenSSHAgent(socket).getIdentities((error, found) => {
          clearTimeout(timer);
          resolve(error ? [] : ((found ?? []) as ParsedKey[]));
        });
      });
      lines.push(...keys.map((key) => publicLine(key.type, key.getPublicSSH())));
    }
    for (const file of endpoint.ssh.identityFiles) {
      const key = this.#keys.get(file);
      if (key) lines.push(publicLine(key.type, key.blob));
    }
    return [...new Set(lines)];
  }

  /** The key read from `file`, if it could be used. */
  loaded(file: string): IdentityKey | undefined {
    return this.#keys.get(file);
  }

  /**
   * Why `endpoint` would get no key to offer at all (no identity file usable, no agent key to
   * sign with), or undefined when it has one: then a connection could only fail. What to do
   * about it is messages.noKeyHint.
   */
  noKey(endpoint: Endpoint, env: NodeJS.ProcessEnv, agent: AgentState): string | undefined {
    if (endpoint.ssh.identityFiles.some((file) => this.#keys.has(file))) return undefined;
    if (endpoint.ssh.agent && 'keys' in agent && agent.keys > 0) return undefined;
    const files = endpoint.ssh.identityFiles.join(', ') || messages.noFiles;
    const agentWhy = !endpoint.ssh.agent
      ? messages.agentOff
      : 'keys' in agent
        ? messages.agentHoldsNoKey(messages.agentAt(env.SSH_AUTH_SOCK ?? ''))
        : agent.problem;
    return messages.noIdentityFile(files, agentWhy);
  }

  /** For error messages: which keys were offered. */
  describe(endpoint: Endpoint, env: NodeJS.ProcessEnv): string {
    const offered = endpoint.ssh.identityFiles.filter((file) => this.#keys.has(file));
    if (endpoint.ssh.agent && env.SSH_AUTH_SOCK) offered.unshift(messages.agentKeysOffered);
    return offered.length ? offered.join(', ') : messages.noKeyAtAll;
  }
}

function publicLine(type: string, blob: Buffer): string {
  return `${type} ${blob.toString('base64')}`;
}

/** What ssh2 made of a key file: the key, or a refusal that says why and what to do. */
function parsedKey(file: string, parsed: ParsedKey | Error): ParsedKey {
  if (parsed instanceof Error) {
    throw new UsageError(messages.cannotUseIdentityFile(file, parsed.message), messages.giveOpenSshKey);
  }
  return parsed;
}

/** Asks the ssh-agent of SSH_AUTH_SOCK for its keys: a local socket, never the network. */
export async function agentState(env: NodeJS.ProcessEnv): Promise<AgentState> {
  const socket = env.SSH_AUTH_SOCK;
  if (!socket) return { problem: messages.noAgent };
  const agent = messages.agentAt(socket);
  // ssh2 says only "Failed to connect to agent": the usual reasons are told first.
  const missing = await stat(socket).then(
    (stats) => (stats.isSocket() ? undefined : messages.notASocket),
    () => messages.noSuchSocket,
  );
  if (missing) return { problem: messages.agentUnreachable(agent, missing) };
  const ssh2 = await loadSsh2();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ problem: messages.agentSilent(agent) }), AGENT_TIMEOUT_MS);
    new ssh2.OpenSSHAgent(socket).getIdentities((error, keys) => {
      clearTimeout(timer);
      resolve(error ? { problem: messages.agentUnreachable(agent, error.message) } : { keys: keys?.length ?? 0 });
    });
  });
}

/**
 * Why OpenSSH would ignore this private key (sshkey_perm_ok: "UNPROTECTED PRIVATE KEY FILE"):
 * one of ours that others may read. Such a key may already be someone else's too.
 */
async function unprotected(file: string): Promise<string | undefined> {
  const { mode, uid } = await stat(file);
  if (uid !== process.getuid?.() || (mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return messages.unprotectedKey(file, octal);
}

async function loadKey(
  file: string,
  ssh: KeySettings,
  env: NodeJS.ProcessEnv,
  ask: PassphrasePrompt,
  warnings: KeyWarning[],
): Promise<IdentityKey | undefined> {
  let data: Buffer;
  try {
    data = await readKeyFile(file);
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    if (!ssh.identityFilesExplicit) return undefined; // an OpenSSH default that is not there
    throw new UsageError(messages.identityFile(error.message), messages.fixIdentityFiles);
  }
  const open = await unprotected(file);
  if (open) {
    const hint = messages.chmodHint(file);
    if (ssh.identityFilesExplicit) throw new UsageError(messages.identityFile(open), hint);
    warnings.push({ file, message: messages.skipped(open), hint });
    return undefined;
  }
  const half = openSshPublicHalf(data);
  if (half) return { ...half, parsed: undefined, unparsed: data };
  const ssh2 = await loadSsh2();
  let parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    const fromEnv = ssh.identityPassphraseEnv ? env[ssh.identityPassphraseEnv] : undefined;
    if (fromEnv !== undefined) parsed = ssh2.utils.parseKey(data, fromEnv);
    for (let tries = 0; fromEnv === undefined && tries < PASSPHRASE_TRIES; tries++) {
      const typed = await ask(file, tries > 0);
      if (typed === undefined) {
        warnings.push({
          file,
          message: messages.skipped(messages.encryptedNoPassphrase(file)),
          hint: messages.setVariable(ssh.identityPassphraseEnv || 'ssh.identity_passphrase_env'),
        });
        return undefined;
      }
      parsed = ssh2.utils.parseKey(data, typed);
      if (!(parsed instanceof Error)) break;
    }
  }
  const key = parsedKey(file, parsed);
  return { type: key.type, blob: key.getPublicSSH(), parsed: key, unparsed: undefined };
}
