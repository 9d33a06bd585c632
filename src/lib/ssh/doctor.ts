// `chaton doctor`: this machine's side of every problem that a run would otherwise only show as
// an SSH failure (keys, ssh-agent, known_hosts), per the inventory's ssh settings, each found
// without any connection and told with what to do.
import { stat } from 'node:fs/promises';
import type { Endpoint, Inventory } from '../inventory/types.js';
import { ChatonError } from '../run/errors.js';
import { nameList } from './endpoint.js';
import { agentState, type AgentState, type Identities, type PassphrasePrompt } from './identities.js';
import { disagreementMessage } from './host-keys.js';
import { hostLookupName, KnownHostsStore } from './known-hosts.js';
import { messages } from './messages.js';

/** FAIL: a run would stop on it; WARN: a run works, but not as the operator may think; OK. */
export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  /**
   * What is checked, a name that programs read in JSON, the same in every language: "identity
   * file", "ssh-agent", "keys", "known_hosts file", "host key", "host keys", "reach". A person
   * reads its checkTitle.
   */
  check: string;
  /** What it is checked on: a file, a machine, a list of machines, EVERY_MACHINE or every host. */
  subject: string;
  status: CheckStatus;
  detail: string;
  /** What to do; null when OK. */
  fix: string | null;
}

/** The title of each check in the human view, in the language of the moment, by its name in JSON. */
const TITLES: Record<string, () => string> = {
  'identity file': () => messages.checkIdentityFile,
  'ssh-agent': () => messages.checkAgent,
  keys: () => messages.checkKeys,
  'known_hosts file': () => messages.checkKnownHostsFile,
  'host key': () => messages.checkHostKey,
  'host keys': () => messages.checkHostKeys,
  reach: () => messages.checkReach,
};

/** What a person reads for a check's name (Check.check): its title, translated. */
export function checkTitle(check: string): string {
  return TITLES[check]?.() ?? check;
}

/** Subjects of checks about every machine, or every host, at once: JSON values, English in every language. */
export const EVERY_MACHINE = 'every machine';
const EVERY_HOST = 'every host';

/** What a person reads for a check's subject: a file or a machine as it is, "every machine" translated. */
export function subjectTitle(subject: string): string {
  if (subject === EVERY_MACHINE) return messages.everyMachine;
  return subject === EVERY_HOST ? messages.everyHost : subject;
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
    if (key) checks.push({ ...about, status: 'OK', detail: messages.keyOfType(key.type), fix: null });
    else if (warning) checks.push({ ...about, status: 'WARN', detail: warning.message, fix: warning.hint });
  }
  return checks;
}

function agentCheck(env: NodeJS.ProcessEnv, agent: AgentState): Check {
  const about = { check: 'ssh-agent', subject: env.SSH_AUTH_SOCK ?? 'SSH_AUTH_SOCK' };
  if (!env.SSH_AUTH_SOCK) return { ...about, status: 'OK', detail: messages.noAgentRunning, fix: null };
  if ('problem' in agent) return { ...about, status: 'WARN', detail: agent.problem, fix: messages.startAgentHint };
  if (agent.keys === 0) return { ...about, status: 'WARN', detail: messages.itHoldsNoKey, fix: messages.sshAddHint };
  return { ...about, status: 'OK', detail: messages.keyCount(agent.keys), fix: null };
}

/** The check a run makes before connecting (see ConnectionPool.loadKeys): a key for every machine. */
function keysCheck(machines: Endpoint[], env: NodeJS.ProcessEnv, identities: Identities, agent: AgentState): Check {
  const keyless = machines.filter((m) => identities.noKey(m, env, agent));
  const [first] = keyless;
  if (!first) {
    return { check: 'keys', subject: EVERY_MACHINE, status: 'OK', detail: messages.keyForEach, fix: null };
  }
  const detail = messages.noKeyToOfferDetail(identities.noKey(first, env, agent)!);
  const subject = nameList(keyless.map((m) => m.name));
  return { check: 'keys', subject, status: 'FAIL', detail, fix: messages.noKeyHint };
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
      const fix = messages.recordHostKeysHint;
      if (alone) checks.push({ ...about, status: 'WARN', detail: messages.missingWithEveryOther, fix });
      else checks.push({ ...about, status: 'OK', detail: messages.missingCountsAsEmpty, fix: null });
      continue;
    }
    try {
      const store = await KnownHostsStore.load([file]);
      const [problem] = store.problems;
      if (problem) {
        const where = `${problem.file}:${problem.line}`;
        const detail = messages.linesIgnored(store.problems.length, where, problem.message);
        checks.push({ ...about, status: 'WARN', detail, fix: messages.fixLinesHint });
      } else {
        checks.push({ ...about, status: 'OK', detail: messages.keyCount(store.size), fix: null });
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
 * the hosts, counted: a host with no key recorded is refused, unless --accept-new. A machine at
 * several addresses that known_hosts gives different keys is refused whatever it offers: one
 * check of its own.
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
    const known = await Promise.all(endpoints.map(async (e) => (await storeOf(e))?.knows(e.addresses, e.port)));
    return endpoints.filter((_, i) => !known[i]);
  };
  const disagreementCheck = async (machine: Endpoint): Promise<Check | undefined> => {
    const disagreement = (await storeOf(machine))?.disagreement(machine.addresses, machine.port);
    if (!disagreement) return undefined;
    const detail = disagreementMessage(machine.name, disagreement);
    return {
      check: 'host key',
      subject: machine.name,
      status: 'FAIL',
      detail,
      fix: messages.addressesDisagreeHint(machine.name),
    };
  };
  const acceptNew = (names: string[]) => messages.acceptNewHint(names.join(','));
  const checks: Check[] = [];
  for (const bastion of inventory.bastions) {
    const about = { check: 'host key', subject: bastion.name };
    const name = bastion.addresses.map((address) => hostLookupName(address, bastion.port)).join(',');
    const disagreement = await disagreementCheck(bastion);
    if (disagreement) {
      checks.push(disagreement);
    } else if ((await unknown([bastion])).length === 0) {
      checks.push({ ...about, status: 'OK', detail: messages.recordedFor(name), fix: null });
    } else {
      const detail = messages.noneRecorded(name, bastion.ssh.knownHosts.join(', '));
      checks.push({ ...about, status: 'FAIL', detail, fix: acceptNew([bastion.name]) });
    }
  }
  const hosts = inventory.hosts;
  const missing = await unknown(hosts);
  const about = { check: 'host keys', subject: EVERY_HOST };
  if (missing.length === 0) {
    checks.push({ ...about, status: 'OK', detail: messages.allRecorded, fix: null });
  } else {
    const names = missing.map((h) => h.name);
    const detail = messages.hostsNotRecorded(missing.length, nameList(names));
    checks.push({ ...about, status: 'FAIL', detail, fix: acceptNew(names) });
  }
  for (const host of hosts) {
    const disagreement = await disagreementCheck(host);
    if (disagreement) checks.push(disagreement);
  }
  return checks;
}
