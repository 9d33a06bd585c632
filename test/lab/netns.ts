// Running commands in a named network namespace (`ip netns add`), from the root mount namespace.
import { join } from 'node:path';
import { execa, type Options } from 'execa';

export const NETNS_DIR = '/run/netns';

/** Runs `ip` commands in one process, in the root namespace or in `netns`. */
export async function ipBatch(commands: string[], netns?: string): Promise<void> {
  const target = netns === undefined ? [] : ['-n', netns];
  await execa('ip', [...target, '-batch', '-'], { input: commands.join('\n') + '\n' });
}

/** `nsenter` arguments that run `argv` in the network namespace `netns` (mounts and all else: the machine's). */
export function enterNetnsArgs(netns: string, argv: string[]): string[] {
  return [`--net=${join(NETNS_DIR, netns)}`, '--', ...argv];
}

/** Runs `argv` in `netns`; rejects when it fails. */
export async function inNetns(netns: string, argv: string[], options: Options = {}): Promise<string> {
  const { stdout } = await execa('nsenter', enterNetnsArgs(netns, argv), options);
  return String(stdout);
}

/**
 * Takes a link down or up. Linux drops the routes through a link taken down: `routes` are put
 * back when it comes up.
 */
export async function setLinkState(
  netns: string,
  device: string,
  state: 'up' | 'down',
  routes: string[] = [],
): Promise<void> {
  await ipBatch(
    [`link set ${device} ${state}`, ...(state === 'up' ? routes.map((route) => `route replace ${route}`) : [])],
    netns,
  );
}
