// The one writer of an imported site as chaton YAML, with comments saying what was guessed:
// the bastion (the jump chain most hosts use), hosts reached directly, what was left out. Hosts,
// bastions and groups share one set of names in chaton and a bastion is in no group, not so in
// the source: a group keeps its meaning without the bastion, or yields its name (see keptGroups).
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

/** A name chaton takes (`all` means every host). */
const takesName = (name: string | undefined): name is string => name !== undefined && NAME.test(name) && name !== 'all';

/** `wanted`, else `wanted-2`, `wanted-3`...: the first name not taken, within the length of a name. */
function freeName(wanted: string, taken: Set<string>): string {
  for (let n = 1; ; n++) {
    const tail = n === 1 ? '' : `-${n}`;
    const name = `${wanted.slice(0, 63 - tail.length)}${tail}`;
    if (!taken.has(name) && name !== 'all') return name;
  }
}

interface KeptGroup {
  name: string;
  /** Hosts, then groups, by their names in chaton. */
  members: string[];
  /** Comments on the group: a new name, the bastion left out of it. */
  comments: string[];
}

/**
 * The source's groups as chaton takes them. A bastion is in no group: it leaves every group, and
 * a group left with nothing but it (directly or through its child groups) is left out, with a
 * note. Hosts and bastions keep their names; a group whose name is one of theirs is renamed
 * `<name>-group`. A group whose name chaton does not take is left out, with a note.
 */
function keptGroups(
  site: ImportedSite,
  hostNames: Set<string>,
  bastionNames: Set<string>,
  bastionOf: Map<string, string>,
  notes: string[],
): KeptGroup[] {
  const byName = new Map(site.groups.map((group) => [group.name, group]));
  for (const group of site.groups)
    if (!takesName(group.name)) notes.push(messages.leftOutName(JSON.stringify(group.name)));
  // Whether a group is left out for holding nothing but the bastion, itself or through its children.
  const onlyBastion = new Map<string, boolean>();
  const resolve = (name: string, visiting: string[]): boolean => {
    const known = onlyBastion.get(name);
    if (known !== undefined) return known;
    const group = byName.get(name)!;
    // Ansible refuses groups containing each other: the loader will say it, not loop here.
    const children = group.children.filter((child) => byName.has(child) && !visiting.includes(child));
    const dropped = children.filter((child) => resolve(child, [...visiting, name]));
    const kept = group.hosts.some((host) => hostNames.has(host)) || children.length > dropped.length;
    const result = !kept && (group.hosts.some((host) => bastionOf.has(host)) || dropped.length > 0);
    onlyBastion.set(name, result);
    return result;
  };
  const groups = site.groups.filter((group) => takesName(group.name) && !resolve(group.name, []));
  for (const group of site.groups) {
    if (!onlyBastion.get(group.name)) continue;
    const held = [...new Set(bastionsIn(group.name, byName, bastionOf))].join(', ');
    notes.push(messages.groupOnlyBastion(group.name, held));
  }

  // Hosts and bastions keep their names; a group yields its own, to a name no other group has.
  const names = new Map<string, string>();
  const taken = new Set([...hostNames, ...bastionNames, ...groups.map((group) => group.name)]);
  const comments = new Map<string, string[]>();
  for (const { name } of groups) {
    const first = hostNames.has(name) ? messages.ofTheHost : bastionNames.has(name) ? messages.ofTheBastion : undefined;
    if (first === undefined) {
      names.set(name, name);
      continue;
    }
    const renamed = freeName(`${name}-group`, taken);
    taken.add(renamed);
    names.set(name, renamed);
    comments.set(name, [messages.groupRenamed(name, first)]);
  }
  return groups.map((group) => {
    const left = [...new Set(group.hosts.filter((host) => bastionOf.has(host)))];
    return {
      name: names.get(group.name)!,
      members: [
        ...group.hosts.filter((host) => hostNames.has(host)),
        ...group.children.flatMap((child) => (names.has(child) ? [names.get(child)!] : [])),
      ],
      comments: [
        ...(comments.get(group.name) ?? []),
        ...left.map((host) => messages.bastionNotMember(bastionOf.get(host)!)),
      ],
    };
  });
}

/** The bastions a group holds, itself or through its child groups, by their names in chaton. */
function bastionsIn(
  name: string,
  byName: Map<string, ImportedSite['groups'][number]>,
  bastionOf: Map<string, string>,
  visiting: string[] = [],
): string[] {
  const group = byName.get(name);
  if (!group || visiting.includes(name)) return [];
  return [
    ...group.hosts.flatMap((host) => (bastionOf.has(host) ? [bastionOf.get(host)!] : [])),
    ...group.children.flatMap((child) => bastionsIn(child, byName, bastionOf, [...visiting, name])),
  ];
}

/** The chaton inventory text of `site`; `bastion` (an address) replaces the one guessed. */
export function importedInventory(site: ImportedSite, bastion?: string): string {
  const chain = mostUsedChain(site.hosts);
  // The guessed jump host becomes the bastion, so it leaves hosts:; with --bastion it stays there.
  const jumpHosts = new Set(bastion === undefined ? (chain ?? []).flatMap((hop) => (hop.name ? [hop.name] : [])) : []);
  const notes = [...site.notes];
  const seen = new Map<string, string>();
  const hosts = site.hosts.filter((host) => {
    if (jumpHosts.has(host.name)) return false;
    if (!takesName(host.name)) {
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
  const root = doc.contents as YAMLMap;
  const defaults = plain({ user: site.defaults.user, port: site.defaults.port });
  if (Object.keys(defaults).length > 0) root.set('defaults', doc.createNode(defaults));

  // The bastion's names, from the names in the source; one a host keeps (with --bastion) is taken.
  const hostNames = new Set(hosts.map((host) => host.name));
  const bastionNames = new Set<string>();
  /** The source's name of a guessed jump host -> its name as a bastion. */
  const bastionOf = new Map<string, string>();
  const hops = bastion === undefined ? chain : [{ name: 'bastion', address: bastion }];
  if (hops?.length) {
    const bastionNotes = [bastion === undefined ? messages.guessedBastion : messages.bastionFromFlag];
    const sections = hops.map((hop, index) => {
      const wanted = takesName(hop.name) ? hop.name : `bastion${index + 1}`;
      const name = freeName(wanted, new Set([...hostNames, ...bastionNames]));
      bastionNames.add(name);
      if (name !== wanted) bastionNotes.push(messages.bastionRenamed(name, wanted, messages.ofTheHost));
      if (bastion === undefined && hop.name !== undefined) bastionOf.set(hop.name, name);
      return plain({ name, address: hop.address, port: hop.port, user: hop.user });
    });
    const node = doc.createNode(sections.length === 1 ? sections[0] : sections);
    node.commentBefore = comment(bastionNotes);
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

  const groups = keptGroups(site, hostNames, bastionNames, bastionOf, notes);
  if (groups.length > 0) {
    const groupsNode = doc.createNode({}) as YAMLMap;
    for (const group of groups) {
      const members = doc.createNode(group.members) as YAMLSeq;
      members.flow = true;
      const pair = doc.createPair(group.name, members) as Pair<Scalar>;
      if (group.comments.length > 0) pair.key.commentBefore = comment(group.comments);
      groupsNode.items.push(pair);
    }
    root.set('groups', groupsNode);
  }
  // Comments for the operator, in their language (the keys are chaton's); at the top, what was left out.
  doc.commentBefore = comment([messages.writtenBy(site.source), messages.guessedToCheck, ...notes]);
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}
