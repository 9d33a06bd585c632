// The one writer of an imported site as chaton YAML, with comments saying what was guessed:
// the bastion (the jump chain most hosts use), hosts reached directly, what was left out.
import { Document, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { UsageError } from '../run/errors.js';
import type { ImportedEndpoint, ImportedHost, ImportedSite } from './import-site.js';
import { messages } from './messages.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const chainKey = (jumps: ImportedEndpoint[]) =>
  jumps.map((j) => `${j.user ?? ''}@${j.address}:${j.port ?? 22}`).join(',');

/** The jump chain used by most hosts (the first one seen on a tie), if any host has one. */
function mostUsedChain(hosts: ImportedHost[]): ImportedEndpoint[] | undefined {
  const counts = new Map<string, { chain: ImportedEndpoint[]; count: number }>();
  for (const { jumps } of hosts) {
    if (!jumps?.length) continue;
    const entry = counts.get(chainKey(jumps)) ?? { chain: jumps, count: 0 };
    entry.count++;
    counts.set(chainKey(jumps), entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count)[0]?.chain;
}

/** Lines of a YAML comment: yaml writes `#` before each, a space after it reads better. */
const comment = (lines: string[]) => lines.map((line) => ` ${line}`).join('\n');

const plain = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));

/** The chaton inventory text of `site`; `bastion` (an address) replaces the one guessed. */
export function importedInventory(site: ImportedSite, bastion?: string): string {
  const chain = mostUsedChain(site.hosts);
  // The guessed jump host becomes the bastion, so it leaves hosts:; with --bastion it stays there.
  const bastionNames = new Set(
    bastion === undefined ? (chain ?? []).flatMap((hop) => (hop.name ? [hop.name] : [])) : [],
  );
  const notes = [...site.notes];
  const seen = new Map<string, string>();
  const hosts = site.hosts.filter((host) => {
    if (bastionNames.has(host.name)) return false;
    if (!NAME.test(host.name) || host.name === 'all') {
      notes.push(messages.leftOutName(JSON.stringify(host.name)));
      return false;
    }
    const endpoint = `${host.address.toLowerCase()}:${host.port ?? site.defaults.port ?? 22}`;
    const first = seen.get(endpoint);
    if (first) notes.push(messages.leftOutDuplicate(host.name, first));
    else seen.set(endpoint, host.name);
    return !first;
  });
  if (hosts.length === 0) {
    throw new UsageError(messages.noHostToImport(site.source), messages.noHostToImportHint);
  }

  const doc = new Document({});
  // Comments for the operator, in their language; the keys are chaton's.
  doc.commentBefore = comment([messages.writtenBy(site.source), messages.guessedToCheck, ...notes]);
  const root = doc.contents as YAMLMap;
  const defaults = plain({ user: site.defaults.user, port: site.defaults.port });
  if (Object.keys(defaults).length > 0) root.set('defaults', doc.createNode(defaults));

  const hops = bastion === undefined ? chain : [{ name: 'bastion', address: bastion }];
  if (hops?.length) {
    const sections = hops.map((hop, index) =>
      plain({ name: hop.name ?? `bastion${index + 1}`, address: hop.address, port: hop.port, user: hop.user }),
    );
    const node = doc.createNode(sections.length === 1 ? sections[0] : sections);
    node.commentBefore = comment([bastion === undefined ? messages.guessedBastion : messages.bastionFromFlag]);
    root.set('bastion', node);
  }

  const hostsNode = doc.createNode({}) as YAMLMap;
  const ownKey = chain ? chainKey(chain) : undefined;
  for (const host of hosts) {
    const comments = [...host.notes];
    let direct: true | undefined;
    if (host.jumps?.length === 0) {
      direct = true;
      comments.push(messages.reachedDirectly);
    } else if (host.jumps && chainKey(host.jumps) !== ownKey) {
      const through = host.jumps.map((hop) => hop.name ?? hop.address).join(',');
      comments.push(messages.reachedOtherwise(through));
    }
    const values = plain({
      address: host.address,
      port: host.port === (site.defaults.port ?? 22) ? undefined : host.port,
      user: host.user === site.defaults.user ? undefined : host.user,
      become: host.become ? 'sudo' : undefined,
      direct,
    });
    const pair = doc.createPair(host.name, values) as Pair<Scalar>;
    if (comments.length > 0) pair.key.commentBefore = comment(comments);
    hostsNode.items.push(pair);
  }
  root.set('hosts', hostsNode);

  const kept = new Set([...hosts.map((h) => h.name), ...site.groups.map((g) => g.name)]);
  const groups = site.groups.filter((group) => NAME.test(group.name));
  if (groups.length > 0) {
    const groupsNode = doc.createNode({}) as YAMLMap;
    for (const group of groups) {
      const members = doc.createNode(group.members.filter((member) => kept.has(member))) as YAMLSeq;
      members.flow = true;
      groupsNode.set(group.name, members);
    }
    root.set('groups', groupsNode);
  }
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}
