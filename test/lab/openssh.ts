// OpenSSH's own client reaching a lab host as chaton does: through the bastion, which the lab's
// known_hosts vouches for, with the operator's key only, and the target's key checked against the
// given known_hosts file (strictly: no prompt, no update). Tests compare chaton's verdicts with it.
import type { Lab } from './lab.js';

function options(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([option, value]) => ['-o', `${option}=${value}`]);
}

/** ssh(1)'s arguments for `command` as `login` (`user@address`, with `-p PORT` first when needed). */
export function sshThroughBastion(lab: Lab, knownHosts: string, login: string[], command: string): string[] {
  const strict = options({ BatchMode: 'yes', StrictHostKeyChecking: 'yes', GlobalKnownHostsFile: '/dev/null' });
  const common = ['-F', '/dev/null', '-i', lab.operatorKeyPath, '-o', 'IdentitiesOnly=yes', ...strict];
  // What ProxyJump runs, with the jump's own known_hosts.
  const bastion = `root@${lab.bastion.address}`;
  const jump = ['ssh', ...common, ...options({ UserKnownHostsFile: lab.knownHostsPath }), '-W', '%h:%p', bastion];
  const target = options({ UserKnownHostsFile: knownHosts, UpdateHostKeys: 'no', ProxyCommand: jump.join(' ') });
  return [...common, ...target, ...login, command];
}
