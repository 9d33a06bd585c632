// What every part of `npm run bench` measures with: one command run under GNU time (wall time
// measured here, peak RSS from time's %M), a figure (one warm-up run, then medians of several),
// the OpenSSH client settings equivalent to a lab's inventory, and the table layout.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { command, render } from '../src/lib/remote/shell.js';
import type { Lab } from '../test/lab/lab.js';

/** Runs per figure, after one warm-up run; scenarios slower than SLOW_MS get SLOW_REPEATS. */
export const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const SLOW_MS = 5000;
const SLOW_REPEATS = 3;
const QUICK_MS = 300;
const QUICK_REPEATS = 4 * REPEATS;

interface Measure {
  ms: number;
  rssKb: number;
}

export interface Figure {
  scenario: string;
  client: string;
  kex: string;
  hosts: number;
  runs: number[];
  median: number;
  min: number;
  max: number;
  peakRssKb: number;
  /** Why the scenario could not be measured; its figures are then NaN. */
  failed?: string;
}

export interface FigureOptions {
  env?: NodeJS.ProcessEnv;
  /** Exit codes that count as a run (default 0 only): `backup verify` reports findings with 1. */
  okCodes?: readonly number[];
  /** Measured runs after the warm-up, instead of what the warm-up's duration says. */
  repeats?: number;
}

/** Runs a command once under GNU time: wall time measured here, peak RSS from time's %M. */
async function measure(argv: string[], options: FigureOptions): Promise<Measure> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-bench-'));
  try {
    return await measureInto(path.join(dir, 'time'), argv, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureInto(report: string, argv: string[], options: FigureOptions): Promise<Measure> {
  const okCodes = options.okCodes ?? [0];
  const started = performance.now();
  // -q: GNU time says nothing of its own about a command that exits non-zero.
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-q', '-f', '%M', '-o', report, ...argv], {
      env: options.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (exitCode) =>
      exitCode !== null && okCodes.includes(exitCode)
        ? resolve()
        : reject(new Error(`exited with ${exitCode}${said(stderr)} (${argv.join(' ').slice(0, 160)}...)`)),
    );
  });
  const ms = performance.now() - started;
  const rssKb = Number((await readFile(report, 'utf8')).trim().split('\n').pop());
  return { ms, rssKb };
}

/** The last lines of a command's stderr, for the error that says it failed. */
function said(stderr: string): string {
  return stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One warm-up run, then the measured ones (more for quick ones, whose medians noise moves most). */
export async function figure(
  scenario: string,
  client: string,
  kex: string,
  hosts: number,
  argv: string[],
  options: FigureOptions = {},
): Promise<Figure> {
  try {
    return await measured(scenario, client, kex, hosts, argv, options);
  } catch (error) {
    // One broken scenario must not cost the figures of all the others.
    process.stderr.write(`  ${scenario}: FAILED: ${(error as Error).message.slice(0, 300)}\n`);
    return {
      scenario,
      client,
      kex,
      hosts,
      runs: [],
      median: NaN,
      min: NaN,
      max: NaN,
      peakRssKb: NaN,
      failed: (error as Error).message,
    };
  }
}

async function measured(
  scenario: string,
  client: string,
  kex: string,
  hosts: number,
  argv: string[],
  options: FigureOptions,
): Promise<Figure> {
  const warmUp = await measure(argv, options);
  const repeats =
    options.repeats ?? (warmUp.ms > SLOW_MS ? SLOW_REPEATS : warmUp.ms < QUICK_MS ? QUICK_REPEATS : REPEATS);
  const samples: Measure[] = [];
  for (let i = 0; i < repeats; i++) samples.push(await measure(argv, options));
  const runs = samples.map((m) => m.ms);
  const result = {
    scenario,
    client,
    kex,
    hosts,
    runs,
    median: median(runs),
    min: Math.min(...runs),
    max: Math.max(...runs),
    peakRssKb: Math.max(...samples.map((m) => m.rssKb)),
  };
  process.stderr.write(
    `  ${scenario.padEnd(56)} ${String(hosts).padStart(3)} hosts  ${seconds(result.median)} (${kex})\n`,
  );
  return result;
}

export function seconds(ms: number): string {
  if (Number.isNaN(ms)) return 'failed';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Words quoted for sh, joined by spaces: paths and addresses never reach sh unquoted. */
export function sh(...words: string[]): string {
  return render(command(...words)).toString();
}

/** OpenSSH client settings equivalent to the lab inventory: same key, known_hosts, bastion. */
export function sshConfig(lab: Lab, { bastion = [], all = [] }: { bastion?: string[]; all?: string[] }): string {
  return [
    'Host bastion',
    `  HostName ${lab.bastion.address}`,
    ...bastion,
    'Host 198.18.*',
    '  ProxyJump bastion',
    'Host *',
    '  User root',
    `  IdentityFile ${lab.operatorKeyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${lab.knownHostsPath}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    '  BatchMode yes',
    '  LogLevel ERROR',
    ...all,
    '',
  ].join('\n');
}

/** Rows as columns: the first left-aligned, the others right-aligned. */
export function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
  );
}
