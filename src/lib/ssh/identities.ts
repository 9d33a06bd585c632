// The keys chaton offers to sshd: the ssh-agent's, then identity files, loaded once per run.
// ssh2 is CommonJS: its named exports are only reachable through the default export.
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';
import type { Endpoint, SshSettings } from '../inventory/types.js';
import { UsageError } from '../run/errors.js';
import { readKeyFile, UnreadableFileError } from '../run/files.js';

/** Asks the operator for a passphrase (on a terminal); undefined when nobody can answer. */
export type PassphrasePrompt = (file: string, retry: boolean) => Promise<string | undefined>;

/** Tries at a passphrase typed by the operator, as ssh gives. */
const PASSPHRASE_TRIES = 3;

/** What loading identity files reads of the ssh settings. */
type KeySettings = Pick<SshSettings, 'identityFiles' | 'identityFilesExplicit' | 'identityPassphraseEnv'>;

export class Identities {
  readonly #keys = new Map<string, ParsedKey>();
  readonly warnings: string[] = [];

  /** Reads every identity file the given endpoints may use; encrypted ones need a passphrase. */
  async load(settings: KeySettings[], env: NodeJS.ProcessEnv, ask: PassphrasePrompt): Promise<void> {
    const seen = new Set<string>();
    for (const ssh of settings) {
      for (const file of ssh.identityFiles) {
        if (seen.has(file)) continue;
        seen.add(file);
        const key = await loadKey(file, ssh, env, ask, this.warnings);
        if (key) this.#keys.set(file, key);
      }
    }
  }

  /** What ssh2 tries, in OpenSSH's order: agent keys first, then identity files. */
  authMethods(endpoint: Endpoint, env: NodeJS.ProcessEnv): AnyAuthMethod[] {
    const methods: AnyAuthMethod[] = [];
    const agentSocket = env.SSH_AUTH_SOCK;
    if (endpoint.ssh.agent && agentSocket) methods.push({ type: 'agent', username: endpoint.user, agent: agentSocket });
    for (const file of endpoint.ssh.identityFiles) {
      const key = this.#keys.get(file);
      if (key) methods.push({ type: 'publickey', username: endpoint.user, key });
    }
    return methods;
  }

  /** For error messages: which keys were offered. */
  describe(endpoint: Endpoint, env: NodeJS.ProcessEnv): string {
    const offered = endpoint.ssh.identityFiles.filter((file) => this.#keys.has(file));
    if (endpoint.ssh.agent && env.SSH_AUTH_SOCK) offered.unshift('the ssh-agent keys');
    return offered.length ? offered.join(', ') : 'no key at all';
  }
}

async function loadKey(
  file: string,
  ssh: KeySettings,
  env: NodeJS.ProcessEnv,
  ask: PassphrasePrompt,
  warnings: string[],
): Promise<ParsedKey | undefined> {
  let data: Buffer;
  try {
    data = await readKeyFile(file);
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    if (!ssh.identityFilesExplicit) return undefined; // an OpenSSH default that is not there
    throw new UsageError(`identity file ${error.message}`, 'fix ssh.identity_files in the inventory');
  }
  let parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    const fromEnv = ssh.identityPassphraseEnv ? env[ssh.identityPassphraseEnv] : undefined;
    if (fromEnv !== undefined) parsed = ssh2.utils.parseKey(data, fromEnv);
    for (let tries = 0; fromEnv === undefined && tries < PASSPHRASE_TRIES; tries++) {
      const typed = await ask(file, tries > 0);
      if (typed === undefined) {
        warnings.push(
          `${file} is encrypted and no passphrase is available: skipped` +
            (ssh.identityPassphraseEnv ? ` (set ${ssh.identityPassphraseEnv})` : ' (set ssh.identity_passphrase_env)'),
        );
        return undefined;
      }
      parsed = ssh2.utils.parseKey(data, typed);
      if (!(parsed instanceof Error)) break;
    }
  }
  if (parsed instanceof Error) {
    throw new UsageError(`cannot use identity file ${file}: ${parsed.message}`, 'give an OpenSSH private key in ssh.identity_files');
  }
  return parsed;
}
