// Runs the real `chaton` binary the way cron does: no terminal, pipes only.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import type { GlobalOptions } from '../../src/lib/run/context.js';
import { labDown, labUp, type Lab } from '../lab/lab.js';

const run = promisify(execFile);

export const CHATON = fileURLToPath(new URL('../../../bin/chaton.js', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Called with the child once it runs (e.g. to interrupt it). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
  /** A command that runs chaton, given as its last words (e.g. in a mount namespace of its own). */
  wrapper?: string[];
}

/** A private state directory (audit log), runtime directory and HOME, so tests never touch the operator's. */
export async function sandboxEnv(): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'chaton-test-'));
  // Its keepers too (warm runs): `connections close` in one test never closes another's.
  const runtime = path.join(home, 'runtime');
  await mkdir(runtime, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_STATE_HOME: path.join(home, 'state'),
    XDG_RUNTIME_DIR: runtime,
    LANG: 'C.UTF-8',
    // The warm pass of `npm test` runs every test with connections kept between runs.
    ...(process.env.CHATON_PERSIST ? { CHATON_PERSIST: process.env.CHATON_PERSIST } : {}),
  };
  return env;
}

export function chaton(args: string[], options: RunOptions & { env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [program, ...words] = [...(options.wrapper ?? []), process.execPath, CHATON, ...args];
    const child = spawn(program!, words, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

/** A copy of an inventory with some settings changed, written to a temp file; returns its path. */
export async function variantInventory(
  source: string,
  edit: (doc: ReturnType<typeof parseDocument>) => void,
): Promise<string> {
  const doc = parseDocument(await readFile(source, 'utf8'));
  edit(doc);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-inv-'));
  const file = path.join(dir, 'inventory.yaml');
  await writeFile(file, doc.toString());
  return file;
}

export const ANSI = /\x1b\[/;

/** A run context's options for tests that drive the run machinery in-process: no prompts, no output. */
export const QUIET_OPTIONS: GlobalOptions = {
  dryRun: false,
  yes: true,
  json: false,
  verbose: false,
  sshDebug: false,
  quiet: true,
  concurrency: 4,
  color: false,
  acceptNew: false,
};

/**
 * A lab of its own for a test file; a leftover of an aborted earlier run is removed first.
 * CHATON_LAB_PREFIX keeps the labs of two test runs on one machine apart (e.g. two checkouts).
 */
export async function freshLab(
  name: string,
  hosts: number,
  options: { wan?: boolean; ceph?: boolean; disks?: boolean } = {},
): Promise<Lab> {
  const labName = `${process.env.CHATON_LAB_PREFIX ?? ''}${name}`;
  await labDown(labName);
  return labUp({ name: labName, hosts, ...options });
}

/**
 * An ssh-agent holding the operator's key, and a copy of the lab's inventory (agent on) whose
 * only identity file is a key no host knows: a login can only come from the agent. `stop` ends
 * the agent.
 */
export async function agentOnlyInventory(lab: Lab): Promise<{ socket: string; inventory: string; stop(): void }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-agent-'));
  const socket = path.join(dir, 'agent.sock');
  const agent = (await run('ssh-agent', ['-a', socket, '-s'])).stdout;
  const stop = () => process.kill(Number(/SSH_AGENT_PID=(\d+)/.exec(agent)![1]));
  try {
    await run('ssh-add', [lab.operatorKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    const stranger = path.join(dir, 'stranger');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const inventory = await variantInventory(lab.inventoryPath, (doc) => {
      doc.setIn(['ssh', 'identity_files'], [stranger]);
      doc.setIn(['ssh', 'agent'], true);
    });
    return { socket, inventory, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/** A key-only login for `user` on `host`, with the operator's key, and a sudoers rule if given. */
export async function addUser(lab: Lab, host: string, user: string, sudoers: string | null): Promise<void> {
  const pub = await readFile(`${lab.operatorKeyPath}.pub`, 'utf8');
  // The values travel as positional parameters of sh, never spliced into the script.
  const script = [
    'id "$1" >/dev/null 2>&1 || useradd -m -s /bin/sh "$1"',
    `usermod -p '*' "$1"`,
    'install -d -m 700 -o "$1" -g "$1" "/home/$1/.ssh"',
    'cat > "/home/$1/.ssh/authorized_keys"',
    'chown "$1:" "/home/$1/.ssh/authorized_keys"',
    'if [ -n "$2" ]; then printf "%s\\n" "$2" > "/etc/sudoers.d/$1" && chmod 440 "/etc/sudoers.d/$1"; fi',
  ].join(' && ');
  const result = await lab.run(host, ['sh', '-c', script, 'sh', user, sudoers ?? ''], { input: pub });
  assert.equal(result.exitCode, 0, result.stderr);
}

/**
 * The text of one cell of a report table, found by the host's row and the column's header: the
 * lines a wrapped cell takes are joined by spaces.
 */
export function cell(stdout: string, host: string, column: string): string {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${host} `));
  assert.ok(start >= 0, `no row for ${host} in:\n${stdout}`);
  const header = lines.slice(0, start).findLast((line) => line.startsWith('HOST '));
  assert.ok(header, `no table header above ${host}'s row`);
  const from = header.indexOf(` ${column}`) + 1;
  const to = header.slice(from + column.length).search(/\S/);
  const end = lines.findIndex((line, i) => i > start && !line.startsWith(' '));
  return lines
    .slice(start, end < 0 ? undefined : end)
    .map((line) => (to < 0 ? line.slice(from) : line.slice(from, from + column.length + to)).trim())
    .filter(Boolean)
    .join(' ');
}

/** A report's failures as one line each (message) and one for the hint: the text wrapped to 80 columns, unwrapped. */
export function unwrapped(stdout: string): string {
  return stdout.replace(/\n +(?![ →])/g, ' ');
}
