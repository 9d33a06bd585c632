// A scratch Proxmox VE node for the stand-ins' unit tests: the lab cluster's /etc/pve (as the
// supervisor writes it) and an empty node root, in a new temporary directory.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { clusterFiles, newPbsServerSecrets } from '../lab/pve-lab.js';
import type { Io } from '../lab/standins/pve-cli.js';
import { labPlan } from '../lab/topology.js';

export interface ScratchNode {
  /** The temporary directory holding both (remove it after). */
  scratch: string;
  configDir: string;
  root: string;
}

export async function scratchNode(prefix: string): Promise<ScratchNode> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), prefix));
  const configDir = path.join(scratch, 'etc-pve');
  const root = path.join(scratch, 'node');
  const plan = labPlan({ name: 'unit', index: 7, extraHosts: 0 });
  for (const [file, content] of clusterFiles(plan, newPbsServerSecrets())) {
    await mkdir(path.dirname(path.join(configDir, file)), { recursive: true });
    await writeFile(path.join(configDir, file), content);
  }
  await mkdir(path.join(configDir, 'priv', 'lock'), { recursive: true });
  return { scratch, configDir, root };
}

/** What a stand-in run printed, and its exit code. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** An Io that keeps what a stand-in prints. */
export function capture(): { io: Io; result: () => { stdout: string; stderr: string } } {
  let stdout = '';
  let stderr = '';
  return {
    io: { out: (text) => (stdout += text), err: (text) => (stderr += text), utf8: true },
    result: () => ({ stdout, stderr }),
  };
}
