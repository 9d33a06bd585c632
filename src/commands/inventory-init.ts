// `chaton inventory init`: a starter inventory where chaton finds it, from the annotated example.
import type { Command } from 'commander';
import type { CommandResult, GlobalOptions } from '../lib/run/context.js';
import { examples } from './help.js';

interface InitOptions {
  bastion?: string;
  force?: boolean;
  file?: string;
  /** true: the default ~/.ssh/config. */
  fromSshConfig?: string | true;
  fromAnsible?: string;
}

export function register(parent: Command): void {
  parent
    .command('init')
    .description('write a starter inventory where chaton finds it; never over an existing file without --force')
    .option('--bastion <address>', "the bastion's address (else left for you to fill in)")
    .option('--force', 'replace an existing file (its mode and owner are kept)')
    .option('--file <file>', 'where to write (default: see below)')
    .option('--from-ssh-config [file]', 'hosts and bastion from an OpenSSH client config (default ~/.ssh/config)')
    .option('--from-ansible <file>', 'hosts, groups and bastion from an Ansible inventory (INI or YAML)')
    .addHelpText(
      'after',
      `
Writes the annotated example (every key, with what it means) to
~/.config/chaton/inventory.yaml ($XDG_CONFIG_HOME/chaton/ when set), mode 0600; as root, to
/etc/chaton/inventory.yaml, mode 0640, which every user's chaton finds. An existing file is
refused (exit 3) unless --force. What is left to fill in is listed, as \`inventory check\`
reports it. With --dry-run, the text is printed and nothing is written.

--from-ssh-config: each Host without wildcards becomes a host (HostName, User, Port as ssh
would use them); wildcard blocks (Host *, Host *.lan) apply to the hosts they match; Match
blocks are skipped; Include is followed. --from-ansible: hosts (web[01:03] expanded), groups
and their children, ansible_host/user/port/become. In both, the ProxyJump most hosts use is the
bastion (--bastion replaces it), hosts without one are direct, and comments say what was guessed.
${examples(
  'chaton inventory init --bastion 203.0.113.10 --file site.yaml',
  'chaton inventory init --from-ssh-config --file from-ssh.yaml',
  'chaton inventory init --from-ansible hosts.ini --file site.yaml --force',
)}`,
    )
    .action(async (options: InitOptions, cmd: Command) => {
      const { runLocal } = await import('../lib/run/lifecycle.js');
      await runLocal(cmd, (global) => init(options, global));
    });
}

async function init(options: InitOptions, global: GlobalOptions): Promise<CommandResult> {
  const { homedir } = await import('node:os');
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const init = await import('../lib/inventory/init.js');
  const { EXAMPLE_FILE } = await import('../lib/inventory/example.js');
  const { findInventory } = await import('../lib/inventory/discover.js');
  const { ExitCode, UsageError } = await import('../lib/run/errors.js');
  const bastion = options.bastion === undefined ? undefined : init.checkedAddress(options.bastion, '--bastion');
  const file =
    options.file === undefined
      ? init.defaultInitFile(process.env, homedir(), process.getuid?.() ?? -1)
      : path.resolve(options.file);
  if (options.fromSshConfig !== undefined && options.fromAnsible !== undefined) {
    throw new UsageError('--from-ssh-config and --from-ansible cannot be used together', 'import one of them');
  }
  let text: string;
  let from = EXAMPLE_FILE;
  if (options.fromSshConfig !== undefined) {
    const ssh = await import('../lib/inventory/import-ssh-config.js');
    const { importedInventory } = await import('../lib/inventory/import-write.js');
    from =
      options.fromSshConfig === true ? path.join(homedir(), '.ssh', 'config') : path.resolve(options.fromSshConfig);
    text = importedInventory(ssh.importSshConfig(await ssh.readSshConfigFiles(from, homedir())), bastion);
  } else if (options.fromAnsible !== undefined) {
    const { importAnsible } = await import('../lib/inventory/import-ansible.js');
    const { importedInventory } = await import('../lib/inventory/import-write.js');
    const { readRegularFile } = await import('../lib/run/files.js');
    from = path.resolve(options.fromAnsible);
    const source = await readRegularFile(from, 5 * 1024 * 1024).catch((error: Error) => {
      throw new UsageError(`the Ansible inventory ${error.message}`, 'name a readable Ansible inventory file');
    });
    text = importedInventory(importAnsible(source.toString('utf8'), from), bastion);
  } else {
    text = init.starterInventory(await readFile(EXAMPLE_FILE, 'utf8'), EXAMPLE_FILE, bastion);
  }
  const toFill = init.leftToFill(text, file);
  const mode = init.initMode(file);
  if (!global.dryRun) {
    const directoryMode = options.file === undefined ? init.directoryMode(file) : undefined;
    await init.writeInventory(file, text, { force: options.force === true, mode, directoryMode });
  }
  const lines = [
    global.dryRun
      ? `# dry-run: nothing was written; ${file} would hold:\n${text}`
      : `wrote ${file} (mode ${mode.toString(8).padStart(4, '0')}) from ${from}`,
  ];
  if (toFill.length > 0) {
    lines.push('left to fill in, as `chaton inventory check` reports it:');
    lines.push(...toFill.map((p) => `  ${p.position.line}:${p.position.col}: ${p.path}: ${p.message}`));
  }
  // A file chaton would not read from here is no use unless the operator knows it.
  const found = await findInventory({ flag: global.inventory, env: process.env, cwd: process.cwd() }).catch(
    () => undefined,
  );
  if (found && found.path !== file) {
    lines.push(`note: from here, chaton reads ${found.path} first (-i ${file} reads this one)`);
  }
  return {
    exitCode: ExitCode.ok,
    hosts: [],
    fields: { file, mode: mode.toString(8).padStart(4, '0'), written: !global.dryRun, toFill },
    view: [{ text: lines.join('\n') }],
  };
}
