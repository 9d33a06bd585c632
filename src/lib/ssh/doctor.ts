// `chaton doctor`: this machine's side of every problem that a run would otherwise only show as
// an SSH failure (keys, ssh-agent, known_hosts), per the inventory's ssh settings, each found
// without any connection and told with what to do.
import { stat } from 'node:fs/promises';
import type { Endpoint, Inventory } from '../inventory/types.js';
import { ChatonError } from '../run/errors.js';
import { nameList } from './endpoint.js';
import { agentState, Identities, type AgentState, type PassphrasePrompt } from './identities.js';
import { hostLookupName, KnownHostsStore } from './known-hosts.js';

/** FAIL: a run would stop on it; WARN: a run works, but not as the operator may think; OK. */
export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  /** What is checked: "identity file", "ssh-agent", "keys", "known_hosts file", "host key", "reach". */
  check: string;
  /** What it is checked on: a file, a machine, a list of machines. */
  subject: string;
  status: CheckStatus;
  detail: string;
  /** What to do; null when OK. */
  fix: string | null;
}

/** The endpoints whose settings count: the bastions, then the hosts. */
function machinesOf(inventory: Inventory): Endpoint[] {
  return [...inventory.bastions, ...inventory.hosts];
}

/**
 * Every local check, in the order a run meets them: keys, then known_hosts. `identities` keeps
 * what was loaded, so that a reach test after it asks no passphrase again.
 */
export async function localChecks(
  inventory: Inventory,
  env: NodeJS.ProcessEnv,
  identities: Identities,
  ask: PassphrasePrompt,
): Promise<Check[]> {
  const machines = machinesOf(inventory);
  const checks = await identityFileChecks(machines, env, identities, ask);
  const usesAgent = machines.some((m) => m.ssh.agent);
  const agent = usesAgent ? await agentState(env) : { keys: 0 };
  if (usesAgent) checks.push(agentCheck(env, agent));
  checks.push(keysCheck(machines, env, identities, agent));
  checks.push(...(await knownHostsFileChecks(machines)));
  checks.push(...(await hostKeyChecks(inventory)));
  return checks;
}

/** Each identity file once, loaded as a run loads it; an OpenSSH default that is absent says nothing. */
async function identityFileChecks(
  machines: Endpoint[],
  env: NodeJS.ProcessEnv,
  identities: Identities,
  ask: PassphrasePrompt,
): Promise<Check[]> {
  const checks: Check[] = [];
  const files = new Map(machines.flatMap((m) => m.ssh.identityFiles.map((file) => [file, m.ssh] as const)));
  for (const [file, ssh] of files) {
    const about = { check: 'identity file', subject: file };
    try {
      await identities.load([{ ...ssh, identityFiles: [file] }], env, ask);
    } catch (error) {
      if (!(error instanceof ChatonError)) throw error;
      checks.push({ ...about, status: 'FAIL', detail: error.message, fix: error.hint ?? null });
      continue;
    }
    const key = identities.loaded(file);
    const warning = identities.warnings.find((w) => w.file === file);
    if (key) checks.push({ ...about, status: 'OK', detail: `${key.type} key`, fix: null });
    else if (warning) checks.push({ ...about, status: 'WARN', detail: warning.message, fix: warning.hint });
  }
  return checks;
}

function agentCheck(env: NodeJS.ProcessEnv, agent: AgentState): Check {
  const about = { check: 'ssh-agent', subject: env.SSH_AUTH_SOCK ?? 'SSH_AUTH_SOCK' };
  if (!env.SSH_AUTH_SOCK) return { ...about, status: 'OK', detail: 'none running: identity files only', fix: null };
  if ('problem' in agent) {
    const fix = 'start one (eval "$(ssh-agent)"; ssh-add), or unset SSH_AUTH_SOCK';
    return { ...about, status: 'WARN', detail: agent.problem, fix };
  }
  if (agent.keys === 0) return { ...about, status: 'WARN', detail: 'it holds no key', fix: 'ssh-add your key' };
  return { ...about, status: 'OK', detail: `${agent.keys} key${agent.keys === 1 ? '' : 's'}`, fix: null };
}

/** The check a run makes before connecting (see ConnectionPool.loadKeys): a key for every machine. */
function keysCheck(machines: Endpoint[], env: NodeJS.ProcessEnv, identities: Identities, agent: AgentState): Check {
  const keyless = machines.filter((m) => identities.noKey(m, env, agent));
  const [first] = keyless;
  if (!first) return { check: 'keys', subject: 'every machine', status: 'OK', detail: 'a key for each', fix: null };
  const detail = `no key to offer: ${identities.noKey(first, env, agent)}`;
  const subject = nameList(keyless.map((m) => m.name));
  return { check: 'keys', subject, status: 'FAIL', detail, fix: Identities.NO_KEY_HINT };
}

/**
 * Each known_hosts file once. A missing one counts as empty, as for ssh: worth a warning only
 * when a machine then has none at all (every key of it unknown).
 */
async function knownHostsFileChecks(machines: Endpoint[]): Promise<Check[]> {
  const lists = machines.map((m) => m.ssh.knownHosts);
  const files = [...new Set(lists.flat())];
  const present = new Set<string>();
  for (const file of files) if (await exists(file)) present.add(file);
  const checks: Check[] = [];
  for (const file of files) {
    const about = { check: 'known_hosts file', subject: file };
    if (!present.has(file)) {
      const alone = lists.some((list) => list.includes(file) && !list.some((f) => present.has(f)));
      const fix = 'record the host keys (see the host key checks below)';
      if (alone) checks.push({ ...about, status: 'WARN', detail: 'does not exist, nor any other of the list', fix });
      else checks.push({ ...about, status: 'OK', detail: 'does not exist (counts as empty)', fix: null });
      continue;
    }
    try {
      const store = await KnownHostsStore.load([file]);
      const [problem] = store.problems;
      if (problem) {
        const where = `${problem.file}:${problem.line}`;
        const detail = `${store.problems.length} line(s) ssh ignores, e.g. ${where}: ${problem.message}`;
        checks.push({ ...about, status: 'WARN', detail, fix: 'fix or remove those lines' });
      } else {
        checks.push({ ...about, status: 'OK', detail: `${store.size} key${store.size === 1 ? '' : 's'}`, fix: null });
      }
    } catch (error) {
      if (!(error instanceof ChatonError)) throw error;
      checks.push({ ...about, status: 'FAIL', detail: error.message, fix: error.hint ?? null });
    }
  }
  return checks;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
}

/**
 * Whether the known_hosts files vouch for each bastion (a run stops at once without it) and for
 * the hosts, counted: a host with no key recorded is refused, unless --accept-new.
 */
async function hostKeyChecks(inventory: Inventory): Promise<Check[]> {
  const stores = new Map<string, Promise<KnownHostsStore | undefined>>();
  const storeOf = (endpoint: Endpoint) => {
    const key = endpoint.ssh.knownHosts.join('\0');
    // An unreadable file is told by its own check.
    if (!stores.has(key))
      stores.set(
        key,
        KnownHostsStore.load(endpoint.ssh.knownHosts).catch(() => undefined),
      );
    return stores.get(key)!;
  };
  const unknown = async (endpoints: Endpoint[]) => {
    const known = await Promise.all(endpoints.map(async (e) => (await storeOf(e))?.knows(e.address, e.port)));
    return endpoints.filter((_, i) => !known[i]);
  };
  const acceptNew = (names: string[]) =>
    `check the fingerprint with whoever runs it, then: chaton --accept-new hosts check ${names.join(',')}`;
  const checks: Check[] = [];
  for (const bastion of inventory.bastions) {
    const about = { check: 'host key', subject: bastion.name };
    const name = hostLookupName(bastion.address, bastion.port);
    if ((await unknown([bastion])).length === 0) {
      checks.push({ ...about, status: 'OK', detail: `recorded for ${name}`, fix: null });
    } else {
      const detail = `none recorded for ${name} in ${bastion.ssh.knownHosts.join(', ')}: every run stops there`;
      checks.push({ ...about, status: 'FAIL', detail, fix: acceptNew([bastion.name]) });
    }
  }
  const hosts = inventory.hosts;
  const missing = await unknown(hosts);
  const about = { check: 'host keys', subject: `${hosts.length} host${hosts.length === 1 ? '' : 's'}` };
  if (missing.length === 0) {
    checks.push({ ...about, status: 'OK', detail: 'all recorded', fix: null });
  } else {
    const names = missing.map((h) => h.name);
    const detail = `${missing.length} not recorded (${nameList(names)}): a run fails on them`;
    checks.push({ ...about, status: 'FAIL', detail, fix: acceptNew(names) });
  }
  return checks;
}
