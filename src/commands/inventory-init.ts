// `chaton inventory init`: a starter inventory where chaton finds it, from the annotated example.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { CommandResult, GlobalOptions } from '../lib/run/context.js';
import { examples } from './help.js';
import { messages } from './messages.js';

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
    .description(messages.inventoryInitDescription)
    .option('--bastion <address>', messages.initBastionOption)
    .option('--force', messages.initForceOption)
    .option('--file <file>', messages.initFileOption)
    .option('--from-ssh-config [file]', messages.initFromSshConfigOption)
    .option('--from-ansible <file>', messages.initFromAnsibleOption)
    .addHelpText(
      'after',
      `
${messages.initHelp}
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
    throw new UsageError(messages.initBothImports, messages.initBothImportsHint);
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
      throw new UsageError(messages.initAnsibleUnreadable(error.message), messages.initAnsibleUnreadableHint);
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
  const octalMode = mode.toString(8).padStart(4, '0');
  const lines = [global.dryRun ? messages.initDryRun(file, text) : messages.initWrote(file, octalMode, from)];
  if (toFill.length > 0) {
    lines.push(messages.initLeftToFill);
    lines.push(...toFill.map((p) => `  ${p.position.line}:${p.position.col}: ${p.path}: ${p.message}`));
  }
  // A file chaton would not read from here is no use unless the operator knows it.
  const found = await findInventory({ flag: global.inventory, env: process.env, cwd: process.cwd() }).catch(
    () => undefined,
  );
  if (found && found.path !== file) {
    lines.push(messages.initReadsFirst(found.path, file));
  }
  return {
    exitCode: ExitCode.ok,
    hosts: [],
    fields: { file, mode: octalMode, written: !global.dryRun, toFill },
    view: [{ text: lines.join('\n') }],
  };
}
