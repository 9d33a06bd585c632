// An Ansible inventory (INI or YAML) for `inventory init --from-ansible`: hosts (ranges like
// web[01:03] expanded), groups with their children, and the connection variables chaton has a
// key for; a ProxyJump in ansible_ssh_common_args gives the bastion (see import-write.ts).
// Pure: text in, a site out.
import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import {
  importError,
  type ImportedEndpoint,
  type ImportedHost,
  type ImportedSite,
  parseHop,
  portOf,
} from './import-site.js';
import { messages } from './messages.js';

type Vars = Map<string, string>;

interface Collected {
  hostVars: Map<string, Vars>;
  groupVars: Map<string, Vars>;
  groupHosts: Map<string, string[]>;
  children: Map<string, string[]>;
}

/** A place in the file, for errors. */
type At = (line: number, col: number, message: string, hint: string) => Error;

/** `web[01:03].lan` → web01.lan, web02.lan, web03.lan; `[a:c]` letters; `[0:8:2]` a step. */
export function expandHostRange(pattern: string, at: (message: string) => Error): string[] {
  const match = /^(.*?)\[([0-9a-z]+):([0-9a-z]+)(?::([0-9]+))?\](.*)$/i.exec(pattern);
  if (!match) return [pattern];
  const [, head, from, to, step, tail] = match as unknown as [
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const stride = step === undefined ? 1 : Number(step);
  const numeric = /^[0-9]+$/.test(from) && /^[0-9]+$/.test(to);
  const alpha = /^[a-z]$/i.test(from) && /^[a-z]$/i.test(to);
  const [start, end] = numeric ? [Number(from), Number(to)] : [from.charCodeAt(0), to.charCodeAt(0)];
  if ((!numeric && !alpha) || stride < 1 || end < start) {
    throw at(messages.notAHostRange(`[${from}:${to}${step === undefined ? '' : `:${step}`}]`));
  }
  const width = numeric && from.startsWith('0') ? from.length : 0;
  const names: string[] = [];
  for (let i = start; i <= end; i += stride) {
    const item = numeric ? String(i).padStart(width, '0') : String.fromCharCode(i);
    names.push(...expandHostRange(`${head}${item}${tail}`, at));
  }
  return names;
}

/**
 * `key=value key2='a b'` as Ansible's INI reads it: shell-like quotes, and a `#` outside them
 * starts a comment (its ini plugin splits host lines with shlex, comments on).
 */
function iniVars(line: string, at: (col: number, message: string) => Error): Vars {
  const comment = /^(?:[^'"#]|"[^"]*"|'[^']*')*?(\s#|^#)/.exec(line);
  const text = comment ? line.slice(0, comment.index + comment[0].length - 1) : line;
  const vars: Vars = new Map();
  for (const match of text.matchAll(/(\S+?)=("[^"]*"|'[^']*'|\S*)/g)) {
    vars.set(match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  }
  const rest = text.replace(/(\S+?)=("[^"]*"|'[^']*'|\S*)/g, '').trim();
  if (rest) throw at(text.indexOf(rest) + 1, messages.notKeyValue(JSON.stringify(rest)));
  return vars;
}

function collectIni(text: string, at: At): Collected {
  const collected: Collected = {
    hostVars: new Map(),
    groupVars: new Map(),
    groupHosts: new Map(),
    children: new Map(),
  };
  let section = { group: 'ungrouped', kind: 'hosts' };
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, '');
    const start = content.search(/\S/);
    if (start < 0 || content[start] === '#' || content[start] === ';') return;
    const trimmed = content.trim();
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(trimmed);
    if (header) {
      section = { group: header[1]!, kind: header[2] ?? 'hosts' };
      if (section.kind === 'hosts' && !collected.groupHosts.has(section.group))
        collected.groupHosts.set(section.group, []);
      return;
    }
    if (trimmed.startsWith('[')) {
      throw at(line, start + 1, messages.notASection(JSON.stringify(trimmed)), messages.notASectionHint);
    }
    if (section.kind === 'vars') {
      const vars = iniVars(trimmed, (col, message) => at(line, start + col, message, messages.groupVarsLineHint));
      const groupVars = collected.groupVars.get(section.group) ?? new Map();
      for (const [key, value] of vars) groupVars.set(key, value);
      collected.groupVars.set(section.group, groupVars);
      return;
    }
    if (section.kind === 'children') {
      collected.children.set(section.group, [...(collected.children.get(section.group) ?? []), trimmed]);
      return;
    }
    const [pattern, ...rest] = trimmed.split(/\s+/);
    const vars = iniVars(rest.join(' '), (col, message) =>
      at(line, start + pattern!.length + 1 + col, message, messages.hostVarsHint),
    );
    const [name, port] = splitPort(pattern!);
    if (port !== undefined) vars.set('ansible_port', port);
    for (const host of expandHostRange(name, (message) => at(line, start + 1, message, messages.iniRangeHint))) {
      addHost(collected, section.group, host, vars);
    }
  });
  return collected;
}

/** `host:2222` in INI; not an IPv6 address. */
function splitPort(pattern: string): [string, string | undefined] {
  const match = /^([^:]+):([0-9]+)$/.exec(pattern);
  return match ? [match[1]!, match[2]!] : [pattern, undefined];
}

function addHost(collected: Collected, group: string, host: string, vars: Vars): void {
  collected.groupHosts.set(group, [...(collected.groupHosts.get(group) ?? []), host]);
  const own = collected.hostVars.get(host) ?? new Map();
  for (const [key, value] of vars) own.set(key, value);
  collected.hostVars.set(host, own);
}

function collectYaml(text: string, at: At, lines: LineCounter): Collected {
  const collected: Collected = {
    hostVars: new Map(),
    groupVars: new Map(),
    groupHosts: new Map(),
    children: new Map(),
  };
  const doc = parseDocument(text, { lineCounter: lines });
  const where = (node: YamlNode | null | undefined) => lines.linePos(node?.range?.[0] ?? 0);
  const fail = (node: YamlNode | null | undefined, message: string, hint: string) => {
    const { line, col } = where(node);
    return at(line, col, message, hint);
  };
  if (doc.errors[0]) {
    const { line, col } = lines.linePos(doc.errors[0].pos[0]);
    throw at(line, col, messages.yamlSyntax(doc.errors[0].message.split('\n')[0]!), messages.ansibleYamlHint);
  }
  const scalarVars = (node: unknown): Vars => {
    const vars: Vars = new Map();
    if (!isMap(node)) return vars;
    for (const pair of node.items) {
      if (isScalar(pair.key) && isScalar(pair.value)) vars.set(String(pair.key.value), String(pair.value.value));
    }
    return vars;
  };
  const group = (name: string, node: unknown): void => {
    if (node !== null && !isMap(node) && !(isScalar(node) && node.value === null)) {
      throw fail(node as YamlNode, messages.groupNotAMapping(name), messages.groupNotAMappingHint);
    }
    if (!collected.groupHosts.has(name)) collected.groupHosts.set(name, []);
    if (!isMap(node)) return;
    const hosts = node.get('hosts', true);
    if (isMap(hosts)) {
      for (const pair of hosts.items) {
        const key = pair.key as YamlNode;
        const pattern = isScalar(key) ? String(key.value) : '';
        const [name2, port] = splitPort(pattern);
        const vars = scalarVars(pair.value);
        if (port !== undefined) vars.set('ansible_port', port);
        for (const host of expandHostRange(name2, (message) => fail(key, message, messages.yamlRangeHint))) {
          addHost(collected, name, host, vars);
        }
      }
    }
    const vars = scalarVars(node.get('vars', true));
    if (vars.size > 0) collected.groupVars.set(name, vars);
    const children = node.get('children', true);
    if (isMap(children)) {
      for (const pair of children.items) {
        const child = String((pair.key as { value?: unknown }).value);
        collected.children.set(name, [...(collected.children.get(name) ?? []), child]);
        group(child, pair.value);
      }
    }
  };
  const root = doc.contents;
  if (!isMap(root)) throw fail(root, messages.ansibleNotAMapping, messages.ansibleNotAMappingHint);
  for (const pair of root.items) group(String((pair.key as { value?: unknown }).value), pair.value);
  return collected;
}

const TRUE = /^(true|yes|on|1)$/i;

/** The jump hosts of `-o ProxyJump=...` or `-J ...` in ssh arguments; undefined when there are none. */
function jumpText(args: string | undefined): string | undefined {
  if (!args) return undefined;
  return /-o\s*['"]?ProxyJump[= ]([^\s'"]+)/i.exec(args)?.[1] ?? /(?:^|\s)-J\s*([^\s'"]+)/.exec(args)?.[1];
}

/** Whether `text` is a YAML inventory (by its name, or a first line like `all:`), else INI. */
function isYamlInventory(text: string, file: string): boolean {
  if (/\.ya?ml$/i.test(file)) return true;
  const first = text.split('\n').find((line) => /\S/.test(line) && !/^\s*[#;]/.test(line));
  return first !== undefined && /^[A-Za-z0-9_.-]+:\s*(#.*)?$/.test(first.trim());
}

export function importAnsible(text: string, file: string): ImportedSite {
  const lines = new LineCounter();
  const at: At = (line, col, message, hint) => importError(file, line, col, message, hint);
  const collected = isYamlInventory(text, file) ? collectYaml(text, at, lines) : collectIni(text, at);

  // Deeper groups override shallower ones, as in Ansible; `all` is the shallowest.
  const parents = new Map<string, string[]>();
  for (const [parent, kids] of collected.children)
    for (const kid of kids) parents.set(kid, [...(parents.get(kid) ?? []), parent]);
  const depth = (group: string, seen: string[] = []): number =>
    group === 'all' || seen.includes(group)
      ? 0
      : 1 + Math.max(0, ...(parents.get(group) ?? []).map((p) => depth(p, [...seen, group])));
  const groupsOf = (host: string) =>
    [...collected.groupHosts].filter(([, hosts]) => hosts.includes(host)).map(([group]) => group);
  const ancestors = (group: string, seen = new Set<string>()): Set<string> => {
    for (const parent of parents.get(group) ?? []) if (!seen.has(parent)) ancestors(parent, seen.add(parent));
    return seen;
  };
  const varsOf = (host: string): Vars => {
    const groups = new Set(groupsOf(host).flatMap((g) => [g, ...ancestors(g)]));
    const ordered = ['all', ...[...groups].filter((g) => g !== 'all').sort((a, b) => depth(a) - depth(b))];
    const vars: Vars = new Map();
    for (const group of ordered) for (const [k, v] of collected.groupVars.get(group) ?? []) vars.set(k, v);
    for (const [k, v] of collected.hostVars.get(host) ?? []) vars.set(k, v);
    return vars;
  };
  const portVar = (host: string, vars: Vars): number | undefined => {
    const text = vars.get('ansible_port') ?? vars.get('ansible_ssh_port');
    if (text === undefined) return undefined;
    const port = portOf(text);
    if (port === undefined) {
      throw importError(file, 1, 1, messages.notAPort(host, JSON.stringify(text)), messages.portRangeHint);
    }
    return port;
  };
  const endpointOf = (host: string): ImportedEndpoint => {
    const vars = varsOf(host);
    const user = vars.get('ansible_user') ?? vars.get('ansible_ssh_user');
    const port = portVar(host, vars);
    return {
      name: host,
      address: vars.get('ansible_host') ?? vars.get('ansible_ssh_host') ?? host,
      ...(user === undefined ? {} : { user }),
      ...(port === undefined ? {} : { port }),
    };
  };

  const hostNames = [...collected.hostVars.keys()];
  const hosts = hostNames.map((name): ImportedHost => {
    const vars = varsOf(name);
    const notes: string[] = [];
    const jump = jumpText(`${vars.get('ansible_ssh_common_args') ?? ''} ${vars.get('ansible_ssh_extra_args') ?? ''}`);
    const jumps = jump?.split(',').map((text): ImportedEndpoint => {
      const hop = parseHop(text);
      if (!hop) throw importError(file, 1, 1, messages.notAJump(name, JSON.stringify(text)), messages.jumpHint);
      const known = hostNames.includes(hop.host) ? endpointOf(hop.host) : { name: hop.host, address: hop.host };
      return { ...known, ...(hop.user ? { user: hop.user } : {}), ...(hop.port ? { port: hop.port } : {}) };
    });
    if (!vars.has('ansible_host') && !vars.has('ansible_ssh_host')) notes.push(messages.noAnsibleHost);
    // Reached through something else than a jump: not known, never "directly".
    const proxyCommand = /ProxyCommand/i.test(vars.get('ansible_ssh_common_args') ?? '');
    if (proxyCommand) notes.push(messages.ansibleProxyCommand);
    const become = vars.get('ansible_become');
    return {
      ...endpointOf(name),
      name,
      ...(become !== undefined && TRUE.test(become) ? { become: true } : {}),
      jumps: jumps ?? (proxyCommand ? undefined : []),
      notes,
    };
  });
  const allVars = collected.groupVars.get('all') ?? new Map<string, string>();
  const user = allVars.get('ansible_user');
  const port = allVars.get('ansible_port');
  const groups = [...collected.groupHosts.keys(), ...collected.children.keys()]
    .filter((group, index, all) => all.indexOf(group) === index && group !== 'all' && group !== 'ungrouped')
    .map((group) => ({
      name: group,
      hosts: collected.groupHosts.get(group) ?? [],
      children: collected.children.get(group) ?? [],
    }));
  return {
    source: file,
    defaults: {
      ...(user === undefined ? {} : { user }),
      ...(port === undefined || portOf(port) === undefined ? {} : { port: portOf(port)! }),
    },
    hosts,
    groups,
    notes: [],
  };
}
