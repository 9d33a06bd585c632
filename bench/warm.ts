// The warm figures of `npm run bench` (issue 16): a run that finds its connections already open,
// chaton's keeper (--persist) beside OpenSSH's per-host ControlPersist masters. figure()'s untimed
// warm-up run opens them; they are closed after each figure, so the cold rows never meet them.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { closeKeepers } from '../src/lib/ssh/keeper/control.js';
import { columns, figure, type Figure, seconds, sh } from './measure.js';

/** How long both keep an unused connection: longer than any figure's pause between two runs. */
const PERSIST_SECONDS = 60;
/** CHATON_PERSIST's value for that time (the one place that knows its format). */
const CHATON_PERSIST = `${PERSIST_SECONDS}s`;

const WARM_OPENSSH = 'ssh, ControlPersist per host, warm';
const WARM_OPENSSH_CHATON_LINE = "ssh, ControlPersist per host, warm, chaton's remote line";
const WARM_CHATON = 'chaton exec, warm (--persist)';

/**
 * OpenSSH settings for the bastion and every host (sshConfig's `all`): a master per host that
 * outlives its run, in the directory the environment names (each figure gets its own).
 */
export const CONTROL_PERSIST = [
  '  ControlMaster auto',
  '  ControlPath ${CHATON_BENCH_PERSIST}/%C',
  `  ControlPersist ${PERSIST_SECONDS}`,
];

/**
 * The parallel ssh command lines (sh) run with CONTROL_PERSIST's config, warm, on the same masters
 * (closed afterwards): the issue's `uptime`, then what chaton's exec sends each host instead
 * (`uptime` in a session that says its process group, then the audit trail's syslog line). The
 * second row tells how much of chaton's time is the extra remote work it does.
 */
export async function warmOpenssh(
  work: string,
  config: string,
  addresses: string[],
  parallelLines: { uptime: string; chatonLine: string },
  kex: string,
): Promise<Figure[]> {
  const control = await mkdtemp(path.join(work, 'persist-'));
  const env = { ...process.env, CHATON_BENCH_PERSIST: control };
  const warm = (scenario: string, client: string, line: string) =>
    figure(scenario, client, kex, addresses.length, ['sh', '-c', line], { env });
  try {
    return [
      await warm(WARM_OPENSSH, 'openssh-warm', parallelLines.uptime),
      await warm(WARM_OPENSSH_CHATON_LINE, 'openssh-warm-chaton-line', parallelLines.chatonLine),
    ];
  } finally {
    const exit = `for h in bastion ${sh(...addresses)}; do ${sh('ssh', '-F', config)} -O exit "$h" 2>/dev/null; done`;
    await new Promise((resolve) => spawn('sh', ['-c', exit], { env, stdio: 'ignore' }).on('close', resolve));
    await rm(control, { recursive: true, force: true });
  }
}

/**
 * The chaton command line of the cold row, with the persist setting, warm. Its keeper lives in a
 * runtime directory of its own: nothing else finds it, and closing it closes no one else's.
 */
export async function warmChaton(
  work: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  kex: string,
  hosts: number,
): Promise<Figure> {
  const runtime = await mkdtemp(path.join(work, 'runtime-'));
  const keeperEnv = { ...env, CHATON_PERSIST, XDG_RUNTIME_DIR: runtime };
  try {
    return await figure(WARM_CHATON, 'chaton-warm', kex, hosts, argv, { env: keeperEnv });
  } finally {
    await closeKeepers(keeperEnv).catch(() => []);
    await rm(runtime, { recursive: true, force: true });
  }
}

/** The warm targets and the warm/cold ratio at each size: printed, never asserted. */
export function warmReport(figures: Figure[], sizes: number[]): string[] {
  const find = (client: string, hosts: number) => figures.find((f) => f.client === client && f.hosts === hosts);
  const rows = [
    [
      'hosts (medians)',
      'chaton warm',
      'OpenSSH warm',
      'x OpenSSH warm',
      "OpenSSH warm, chaton's line",
      "x chaton's line",
      'chaton cold',
      'x chaton cold',
    ],
  ];
  for (const hosts of sizes) {
    const [warm, openssh, chatonLine, cold] = [
      find('chaton-warm', hosts),
      find('openssh-warm', hosts),
      find('openssh-warm-chaton-line', hosts),
      find('chaton', hosts),
    ];
    if (!warm || !openssh || !chatonLine || !cold) continue;
    const ratio = (of: Figure) => (warm.median / of.median).toFixed(2);
    rows.push([
      String(hosts),
      seconds(warm.median),
      seconds(openssh.median),
      ratio(openssh),
      seconds(chatonLine.median),
      ratio(chatonLine),
      seconds(cold.median),
      ratio(cold),
    ]);
  }
  const checks: [string, number, number][] = [
    ['20 hosts warm: no slower than OpenSSH ControlPersist warm', 20, 1],
    ['100 hosts warm: <= 1.5x OpenSSH ControlPersist warm', 100, 1.5],
  ];
  const targets = [['target', 'met', 'measured']];
  for (const [what, hosts, most] of checks) {
    const [warm, openssh] = [find('chaton-warm', hosts), find('openssh-warm', hosts)];
    if (!warm || !openssh) continue;
    const ratio = warm.median / openssh.median;
    targets.push([what, ratio <= most ? 'yes' : 'NO', Number.isNaN(ratio) ? 'failed' : `${ratio.toFixed(2)}x`]);
  }
  return [...columns(rows), '', ...columns(targets)];
}
