// The VM faults file (README: VM hosts), a faults file (standins/faults-file.ts) the lab API merges
// settings into and the supervisor (the agent) and the Proxmox stand-in (clones, boots, counters
// they consume) read.
import { appendFile } from 'node:fs/promises';
import { mergeFaultsFile, readFaultsFile } from './standins/faults-file.js';

export interface VmFaults {
  /** The next N clones find their new VMID taken just before they create it (the stand-in's). */
  cloneVmidTaken?: number;
  /** The next N clones time out on the template's config lock (the stand-in's). */
  cloneLockTimeouts?: number;
  cloneDelayMs?: number;
  bootDelayMs?: number;
  /** How long after a VM host's sshd is up its guest agent starts answering. */
  agentDelayMs?: number;
  /** The guest agent never answers. */
  agentNever?: boolean;
  /** The agent's file read of /etc/ssh/ssh_host_*_key.pub returns another valid key than sshd's. */
  agentWrongHostKey?: boolean;
  /** Each node's total memory in bytes (the stand-in's). */
  nodeMemory?: Record<string, number>;
}

export const DEFAULT_AGENT_DELAY_MS = 1000;

export function readVmFaults(path: string): Promise<VmFaults> {
  return readFaultsFile<VmFaults>(path);
}

/** Merges `partial` into the file (a key set to null is removed); returns the faults now in force. */
export function mergeVmFaults(path: string, partial: Record<string, unknown>): Promise<VmFaults> {
  return mergeFaultsFile<VmFaults>(path, partial);
}

/** One line of the waits log, for a wait the lab imposes: `<ISO time> <kind> <ms>`. */
export function recordWait(path: string, kind: 'clone' | 'boot' | 'agent', ms: number): Promise<void> {
  return appendFile(path, `${new Date().toISOString()} ${kind} ${ms}\n`);
}
