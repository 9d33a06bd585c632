// chaton's sudoers drop-in: where it lives, what it says, how it is installed (checked by
// visudo first) and what sudo then says the login may run.
import type { Fact } from '../remote/facts.js';
import { command, withStdin, type RemoteCommand } from '../remote/shell.js';

/** chaton's sudoers drop-in: no dot in the name, or sudo would silently skip it. */
export function sudoersFile(login: string): string {
  return `/etc/sudoers.d/chaton-${login}`;
}

/**
 * The sudoers rule of --sudo. No password: the account has none (key-only). Its comment stays in
 * English whatever the operator's language: the file is compared with this text to find it done.
 */
export function sudoersContent(login: string, commands: string): string {
  const why = `# Written by chaton onboard sysadmin: ${login} has no password, so sudo asks for none.`;
  return `${why}\n${login} ALL=(ALL:ALL) NOPASSWD: ${commands}\n`;
}

/** Whether this host's sudo takes the rule (visudo reads it on stdin): checked before any change. */
export function sudoersCheck(content: string): RemoteCommand {
  return withStdin(command('visudo', '-c', '-f', '-'), content);
}

// Checked by visudo before it is renamed into place: a bad rule is never installed. The
// temporary name has a dot, so sudo ignores it even if it were left behind.
const INSTALL_SUDOERS = `set -eu
file=$1
tmp=$(mktemp "$file.chaton-XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
visudo -cf "$tmp" > /dev/null
chown root:root -- "$tmp"
chmod 0440 -- "$tmp"
mv -f -- "$tmp" "$file"
trap - EXIT`;

/** Installs `content` as the login's drop-in, checked by visudo before it is renamed into place. */
export function installSudoers(login: string, content: string): RemoteCommand {
  return withStdin(command('sh', '-c', INSTALL_SUDOERS, 'sh', sudoersFile(login)), content);
}

/**
 * What `sudo -l -U login` says the login may run, one rule per line; empty when nothing. In the
 * C locale: sudo translates its words, and a French host would say "peut utiliser les commandes".
 */
export const sudoRights = (login: string): Fact<string[]> => ({
  command: command('env', 'LC_ALL=C', 'sudo', '-n', '-l', '-U', login),
  parse: (stdout) => {
    const at = stdout.search(/may run the following commands/);
    if (at < 0) return [];
    return stdout
      .slice(at)
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
  },
});
