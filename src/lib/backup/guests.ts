// The guests to back up: the cluster's VMs and containers, as `pvesh` lists them on a node, with
// those in no backup job; and the hosts outside Proxmox a target lists as its own guests.
// Sources: pve-manager PVE/API2/Cluster.pm (`/cluster/resources`: id, type, vmid, name, node,
// status, template 0/1, tags as written in the guest's config, pool) and PVE/API2/BackupInfo.pm
// (`/cluster/backup-info/not-backed-up`: [{vmid, name, type}], templates included); the fields in
// pve-docs' API viewer (apidata.js). Both print one JSON array on one line with --output-format json.
import type { Fact } from '../remote/facts.js';
import { command } from '../remote/shell.js';

export interface Guest {
  /** Absent for a host outside Proxmox (a restic or borg target's `extra_guests`). */
  vmid?: number;
  name: string;
  type: 'qemu' | 'lxc' | 'host';
  node?: string;
  /** Lower case, as Proxmox VE compares them. */
  tags: string[];
  pool?: string;
}

export interface ClusterGuests {
  /** Templates left out: they are not guests to back up. */
  guests: Guest[];
  /** VMIDs in no backup job of the cluster. */
  notBackedUp: number[];
}

/** The one key of a guest in maps, JSON and restore-test records: its VMID, or `host:<name>`. */
export function guestKey(guest: Guest): string {
  return guest.vmid === undefined ? `host:${guest.name}` : String(guest.vmid);
}

/** How people read a guest: "100 web", or the host name alone. */
export function guestLabel(guest: Guest): string {
  return guest.vmid === undefined ? guest.name : `${guest.vmid} ${guest.name}`;
}

/** Both lists in one session; a blank line between the two JSON arrays. */
const GUESTS_SCRIPT =
  'pvesh get /cluster/resources --type vm --output-format json && echo && ' +
  'pvesh get /cluster/backup-info/not-backed-up --output-format json';

/** The cluster's guests and those in no backup job, read on one node (pmxcfs makes it cluster-wide). */
export const clusterGuestsFact: Fact<ClusterGuests> = {
  command: command('sh', '-c', GUESTS_SCRIPT),
  parse: parseClusterGuests,
};

export function parseClusterGuests(stdout: string): ClusterGuests {
  const arrays = stdout.split('\n').filter((line) => line.trim() !== '');
  if (arrays.length !== 2) throw new Error(`pvesh printed ${arrays.length} lines of JSON where 2 were expected`);
  return { guests: parseResources(arrays[0]!), notBackedUp: parseNotBackedUp(arrays[1]!) };
}

function jsonArray(text: string, what: string): Record<string, unknown>[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error(`${what}: a JSON array was expected`);
  return value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

/** A VMID as the API gives it: a number, or its text. */
function vmidOf(value: unknown): number | undefined {
  const vmid = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  return typeof vmid === 'number' && Number.isInteger(vmid) && vmid > 0 ? vmid : undefined;
}

/** Tags as a guest's config writes them: separated by ";" (",", " " in older releases). */
export function splitTags(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(/[;, ]+/)
    .filter(Boolean)
    .map((tag) => tag.toLowerCase());
}

/** `/cluster/resources --type vm`: the guests, templates left out. */
function parseResources(json: string): Guest[] {
  return jsonArray(json, '/cluster/resources').flatMap((entry) => {
    const vmid = vmidOf(entry.vmid);
    const type = entry.type;
    // Booleans may come as 0/1 or true/false.
    const template = entry.template === true || Number(entry.template) === 1;
    if (vmid === undefined || (type !== 'qemu' && type !== 'lxc') || template) return [];
    const guest: Guest = {
      vmid,
      name: typeof entry.name === 'string' && entry.name !== '' ? entry.name : `VM ${vmid}`,
      type,
      tags: splitTags(entry.tags),
    };
    if (typeof entry.node === 'string') guest.node = entry.node;
    if (typeof entry.pool === 'string' && entry.pool !== '') guest.pool = entry.pool;
    return [guest];
  });
}

/** `/cluster/backup-info/not-backed-up`: the VMIDs in no backup job. */
function parseNotBackedUp(json: string): number[] {
  return jsonArray(json, '/cluster/backup-info/not-backed-up').flatMap((entry) => {
    const vmid = vmidOf(entry.vmid);
    return vmid === undefined ? [] : [vmid];
  });
}

/** A host outside Proxmox that a target lists among its guests. */
export function extraGuest(name: string): Guest {
  return { name, type: 'host', tags: [] };
}
