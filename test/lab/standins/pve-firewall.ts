// Proxmox VE's firewall configuration for the pvesh stand-in: a VM's /etc/pve/firewall/<vmid>.fw
// (its options and rules) and the cluster's security groups in /etc/pve/firewall/cluster.fw, read
// and written in pve-firewall's format, under its cluster lock, with its digests. No firewall is
// enforced: the lab's VM hosts are reachable whatever the rules say.
//
// Sources (github.com/proxmox/pve-firewall): src/PVE/Firewall.pm (generic_fw_config_parser's
// sections [OPTIONS], [RULES], [group <name>] with "# comment"; parse_fw_rule for "|" disabled
// rules, "GROUP <name> -i <iface>", "IN ACCEPT -p tcp -dport 22"; $format_rules and
// $format_options; save_vmfw_conf, save_clusterfw_conf; copy_list_with_digest and
// copy_opject_with_digest), src/PVE/Firewall/Helpers.pm (lock_vmfw_conf: cfs lock
// "firewall-vm-<vmid>", 10 s), src/PVE/API2/Firewall/VM.pm (options GET and PUT: delete, digest,
// "no such option"), src/PVE/API2/Firewall/Rules.pm (get_rules with pos and digest, create_rule:
// the rule goes first, enable 0 unless given), src/PVE/API2/Firewall/Groups.pm
// (list_security_groups: group, comment, digest); pve-common src/PVE/Tools.pm assert_if_modified
// ("detected modified configuration - file changed by other user? Try again.").
import { createHash } from 'node:crypto';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cfsLock, Die, type Io, type Json, type Param, ParamError, replaceFile, sorted, splitList } from './pve-cli.js';

export type Rule = { [key: string]: string | number };

export interface FirewallConfig {
  options: Map<string, string>;
  rules: Rule[];
  /** [group <name>] sections of cluster.fw: their rules and comment. */
  groups: Map<string, { rules: Rule[]; comment?: string }>;
  /** Sections kept as written ([ALIASES], [IPSET ...], [RULES] of cluster.fw...). */
  other: string;
}

const RULE_FLAGS: Record<string, string> = {
  '-i': 'iface',
  '-source': 'source',
  '-dest': 'dest',
  '-p': 'proto',
  '-dport': 'dport',
  '-sport': 'sport',
  '-log': 'log',
  '-icmp-type': 'icmp-type',
};

/** parse_fw_rule: "[|]TYPE ACTION|MACRO(ACTION) [-flag value]... [# comment]". */
export function parseRule(line: string): Rule | undefined {
  const [body = '', ...comment] = line.split('#');
  const words = body.trim().split(/\s+/);
  let [type = ''] = words;
  const rule: Rule = { enable: 1 };
  if (type.startsWith('|')) {
    rule['enable'] = 0;
    type = type.slice(1);
  }
  if (!/^(IN|OUT|FORWARD|GROUP)$/i.test(type) || words.length < 2) return undefined;
  rule['type'] = type.toLowerCase();
  const action = words[1] as string;
  const macro = /^(\w+)\((\w+)\)$/.exec(action);
  if (macro) [rule['macro'], rule['action']] = [macro[1] as string, macro[2] as string];
  else rule['action'] = action;
  for (let index = 2; index + 1 < words.length; index += 2) {
    const key = RULE_FLAGS[words[index] as string];
    if (key) rule[key] = words[index + 1] as string;
  }
  const text = comment.join('#').trim();
  if (text) rule['comment'] = text;
  return rule;
}

/** $format_rules: one line per rule; `allowIface` is false in a security group. */
export function formatRule(rule: Rule, allowIface = true): string {
  let raw = rule['enable'] === 0 ? '|' : '';
  raw += String(rule['type']).toUpperCase();
  raw += rule['macro'] ? ` ${rule['macro']}(${rule['action']})` : ` ${rule['action']}`;
  if (allowIface && rule['iface']) raw += ` -i ${rule['iface']}`;
  if (rule['type'] !== 'group') {
    for (const [flag, key] of Object.entries(RULE_FLAGS)) {
      if (key !== 'iface' && rule[key] !== undefined && rule[key] !== '') raw += ` ${flag} ${rule[key]}`;
    }
  }
  if (rule['comment'] && !/^\s*$/.test(String(rule['comment']))) raw += ` # ${rule['comment']}`;
  return `${raw}\n`;
}

/** generic_fw_config_parser, for the sections the stand-in changes. */
export function parseFirewallConfig(raw: string): FirewallConfig {
  const config: FirewallConfig = { options: new Map(), rules: [], groups: new Map(), other: '' };
  let section = '';
  let group: Rule[] | undefined;
  for (const line of raw.split('\n')) {
    const header = /^\[(\w+)(?:\s+(\S+))?\]\s*(?:#\s*(.*?))?\s*$/.exec(line);
    if (header) {
      section = (header[1] as string).toUpperCase();
      group = undefined;
      if (section === 'GROUP') {
        group = [];
        const entry: { rules: Rule[]; comment?: string } = { rules: group };
        if (header[3]) entry.comment = header[3];
        config.groups.set(header[2] as string, entry);
      } else if (section !== 'OPTIONS' && section !== 'RULES') config.other += `${line}\n`;
      continue;
    }
    if (/^\s*(#.*)?$/.test(line)) {
      if (section && !['OPTIONS', 'RULES', 'GROUP'].includes(section) && line.trim() !== '')
        config.other += `${line}\n`;
      continue;
    }
    if (section === 'OPTIONS') {
      const option = /^\s*([a-z_]+)\s*:\s*(\S+)\s*$/.exec(line);
      if (option) config.options.set(option[1] as string, option[2] as string);
    } else if (section === 'RULES' || section === 'GROUP') {
      const rule = parseRule(line);
      if (rule) (group ?? config.rules).push(rule);
    } else config.other += `${line}\n`;
  }
  return config;
}

/** save_vmfw_conf / save_clusterfw_conf: options, the kept sections, rules, then the groups. */
export function writeFirewallConfig(config: FirewallConfig): string {
  let raw = '';
  if (config.options.size > 0) {
    raw += '[OPTIONS]\n\n';
    for (const key of sorted(config.options.keys())) raw += `${key}: ${config.options.get(key)}\n`;
    raw += '\n';
  }
  if (config.other) raw += `${config.other.replace(/\n*$/, '')}\n\n`;
  if (config.rules.length > 0) raw += `[RULES]\n\n${config.rules.map((rule) => formatRule(rule)).join('')}\n`;
  for (const name of sorted(config.groups.keys())) {
    const { rules, comment } = config.groups.get(name) as { rules: Rule[]; comment?: string };
    raw += comment ? `[group ${name}] # ${comment}\n\n` : `[group ${name}]\n\n`;
    raw += `${rules.map((rule) => formatRule(rule, false)).join('')}\n`;
  }
  return raw;
}

function firewallFile(configDir: string, name: string): string {
  return join(configDir, 'firewall', `${name}.fw`);
}

async function readFirewallConfig(configDir: string, name: string): Promise<FirewallConfig> {
  return parseFirewallConfig(await readFile(firewallFile(configDir, name), 'utf8').catch(() => ''));
}

async function saveFirewallConfig(configDir: string, name: string, config: FirewallConfig): Promise<void> {
  const raw = writeFirewallConfig(config);
  await mkdir(join(configDir, 'firewall'), { recursive: true });
  if (raw) await replaceFile(firewallFile(configDir, name), raw, 0o640);
  else await unlink(firewallFile(configDir, name)).catch(() => {});
}

/** copy_list_with_digest: each entry's defined keys, sorted, as "key:value\n" into one SHA-1. */
function listDigest(list: Rule[]): string {
  const sha = createHash('sha1');
  for (const entry of list) for (const key of sorted(Object.keys(entry))) sha.update(`${key}:${entry[key]}\n`);
  return sha.digest('hex');
}

/** copy_opject_with_digest. */
function objectDigest(object: Map<string, string>): string {
  const sha = createHash('sha1');
  for (const key of sorted(object.keys())) sha.update(`${key}:${object.get(key)}\n`);
  return sha.digest('hex');
}

/** assert_if_modified. */
function assertNotModified(current: string, given: string | undefined): void {
  if (given && current !== given)
    throw new Die('detected modified configuration - file changed by other user? Try again.\n');
}

function lockVmFirewall<T>(configDir: string, vmid: number, io: Io, work: () => Promise<T>): Promise<T> {
  return cfsLock(configDir, `firewall-vm-${vmid}`, io, undefined, work);
}

// ---------------------------------------------------------------------------------------------
// The API.

/** The options a VM's firewall takes (VM.pm's $option_properties). */
export const VM_FIREWALL_OPTIONS: Record<string, Param> = {
  enable: { type: 'boolean', optional: true },
  dhcp: { type: 'boolean', optional: true },
  ipfilter: { type: 'boolean', optional: true },
  macfilter: { type: 'boolean', optional: true },
  ndp: { type: 'boolean', optional: true },
  radv: { type: 'boolean', optional: true },
  policy_in: { type: 'string', optional: true, enum: ['ACCEPT', 'REJECT', 'DROP'] },
  policy_out: { type: 'string', optional: true, enum: ['ACCEPT', 'REJECT', 'DROP'] },
  log_level_in: { type: 'string', optional: true },
  log_level_out: { type: 'string', optional: true },
};

/** GET .../firewall/options: the options, typed as the API returns them, with their digest. */
export async function vmFirewallOptions(configDir: string, vmid: number): Promise<{ [key: string]: Json }> {
  const { options } = await readFirewallConfig(configDir, String(vmid));
  const result: { [key: string]: Json } = {};
  for (const [key, value] of options) {
    result[key] = VM_FIREWALL_OPTIONS[key]?.type === 'boolean' && /^\d+$/.test(value) ? Number(value) : value;
  }
  result['digest'] = objectDigest(options);
  return result;
}

/** PUT .../firewall/options. */
export async function setVmFirewallOptions(
  configDir: string,
  vmid: number,
  io: Io,
  set: Map<string, string>,
  deleted: string | undefined,
  digest: string | undefined,
): Promise<void> {
  await lockVmFirewall(configDir, vmid, io, async () => {
    const config = await readFirewallConfig(configDir, String(vmid));
    assertNotModified(objectDigest(config.options), digest);
    for (const key of splitList(deleted)) {
      if (!(key in VM_FIREWALL_OPTIONS)) {
        throw new ParamError('Parameter verification failed.\n', { delete: `no such option '${key}'` });
      }
      config.options.delete(key);
    }
    for (const [key, value] of set) config.options.set(key, value);
    await saveFirewallConfig(configDir, String(vmid), config);
  });
}

/** GET .../firewall/rules: every rule with its position and the list's digest. */
export async function vmFirewallRules(configDir: string, vmid: number): Promise<Json[]> {
  const { rules } = await readFirewallConfig(configDir, String(vmid));
  const digest = listDigest(rules);
  return rules.map((rule, pos) => ({ ...rule, digest, pos }));
}

/** The parameters of a new rule (Firewall.pm $rule_properties), type and action required. */
export const RULE_PARAMS: Record<string, Param> = {
  type: { type: 'string', enum: ['in', 'out', 'forward', 'group'] },
  action: { type: 'string', pattern: /^[A-Za-z][A-Za-z0-9\-_]+$/, maxLength: 20 },
  enable: { type: 'integer', optional: true, minimum: 0 },
  iface: { type: 'string', optional: true, pattern: /^net\d+$/ },
  macro: { type: 'string', optional: true, maxLength: 128 },
  source: { type: 'string', optional: true, maxLength: 512 },
  dest: { type: 'string', optional: true, maxLength: 512 },
  proto: { type: 'string', optional: true },
  dport: { type: 'string', optional: true },
  sport: { type: 'string', optional: true },
  log: { type: 'string', optional: true },
  'icmp-type': { type: 'string', optional: true },
  comment: { type: 'string', optional: true },
  pos: { type: 'integer', optional: true, minimum: 0 },
  digest: { type: 'string', optional: true, maxLength: 64 },
};

/** POST .../firewall/rules: verify_rule's checks for a VM, then the rule first in the list. */
export async function addVmFirewallRule(configDir: string, vmid: number, io: Io, given: Rule): Promise<void> {
  await lockVmFirewall(configDir, vmid, io, async () => {
    const config = await readFirewallConfig(configDir, String(vmid));
    const rule: Rule = {};
    for (const key of sorted(Object.keys(given)))
      if (!['pos', 'digest'].includes(key)) rule[key] = given[key] as string;
    const { type, action } = rule;
    if (type === 'forward') {
      throw new ParamError('Parameter verification failed.\n', {
        type: "invalid rule type 'forward' for rule_env 'vm'",
      });
    }
    if ((type === 'in' || type === 'out') && !rule['macro'] && !/^(ACCEPT|DROP|REJECT)$/.test(String(action))) {
      throw new ParamError('Parameter verification failed.\n', { action: `unknown action '${action}'` });
    }
    if (type === 'group' && !/^[A-Za-z][A-Za-z0-9\-_]+$/.test(String(action))) {
      throw new ParamError('Parameter verification failed.\n', { action: 'invalid characters in security group name' });
    }
    rule['enable'] = given['enable'] === undefined ? 0 : Number(given['enable']);
    config.rules.unshift(rule);
    await saveFirewallConfig(configDir, String(vmid), config);
  });
}

/** GET /cluster/firewall/groups. */
export async function securityGroups(configDir: string): Promise<Json[]> {
  const { groups } = await readFirewallConfig(configDir, 'cluster');
  const list = sorted(groups.keys()).map((group): Rule => {
    const comment = groups.get(group)?.comment;
    return comment === undefined ? { group } : { group, comment };
  });
  const digest = listDigest(list);
  return list.map((entry) => ({ ...entry, digest }));
}
