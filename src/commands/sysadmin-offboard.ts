// `chaton offboard sysadmin <login>`: take a volunteer's access back everywhere, prove that
// their keys no longer open anything, and list the shared secrets to rotate.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { examples } from './help.js';
import { messages } from './messages.js';

interface OffboardOptions {
  on?: string;
  removeHome?: boolean;
  save?: boolean;
}

export function register(parent: Command): void {
  parent
    .command('sysadmin')
    .description(messages.offboardDescription)
    .argument('<login>', messages.offboardLoginArgument)
    .option('--on <targets>', messages.onOption)
    .option('--remove-home', messages.offboardRemoveHomeOption)
    .option('--save', messages.offboardSaveOption)
    .addHelpText(
      'after',
      `
${messages.offboardHelp}
${messages.targetsHelp}
${examples(
  'chaton offboard sysadmin jdupont --save',
  'chaton --dry-run offboard sysadmin jdupont',
  'chaton --yes --json offboard sysadmin jdupont --remove-home',
)}`,
    )
    .action(async (login: string, options: OffboardOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => offboard(ctx, login, options));
    });
}

async function offboard(ctx: RunContext, login: string, options: OffboardOptions): Promise<CommandResult> {
  const { accountFact, keyOfLine } = await import('../lib/access/account.js');
  const { offboardChanges } = await import('../lib/access/account-changes.js');
  const { sudoRights } = await import('../lib/access/sudo.js');
  const { exitCodeFor } = await import('../lib/run/fan-out.js');
  const { fanOutPhase, hostOutcomes, runPhases } = await import('../lib/run/phases.js');
  const { ExitCode, VerificationError } = await import('../lib/run/errors.js');
  const { escapeUnprintable } = await import('../lib/run/printable.js');
  const { proxmoxFact, proxmoxOffboardChanges, proxmoxUser } = await import('../lib/proxmox/pveum.js');
  const {
    applyChanges,
    askSshdAboutKeys,
    checkLogin,
    hostChangesTable,
    hostEntries,
    LocalWrites,
    LoginLocks,
    summarise,
    sysadminTargets,
  } = await import('../lib/access/sysadmins.js');
  const { checkRosterWritable, removeSysadmin } = await import('../lib/access/roster.js');
  const { secretsOf, sysadminsOf } = await import('../lib/access/inventory.js');
  type HostChanges = import('../lib/access/sysadmins.js').HostChanges;

  checkLogin(login, ctx.inventory);
  const hosts = sysadminTargets(ctx.inventory, options.on);
  const rosterKeys = sysadminsOf(ctx.inventory).find((s) => s.login === login)?.keys ?? [];
  const saving = options.save === true && !ctx.options.dryRun;
  // Refused while nothing is changed yet, before the question too.
  if (saving) await checkRosterWritable(ctx.inventory.file);
  const locks = new LoginLocks(ctx, login);
  const writes = new LocalWrites();
  let proxmoxDisabled = false;

  let outcomes: import('../lib/run/phases.js').HostOutcome<HostChanges>[];
  let roster: 'removed' | 'absent' | undefined;
  // What each host has left of their access: read first, so that the question can say it.
  const probe = fanOutPhase({
    title: messages.readAccessTitle(login),
    hosts,
    work: async (host) => {
      locks.check(host);
      const state = await ctx.executor.fact(host, accountFact(login, []));
      const changes = offboardChanges(host.name, state, login, options.removeHome === true);
      const proxmox = host.roles.includes('pve')
        ? proxmoxOffboardChanges(await ctx.executor.fact(host, proxmoxFact(login)), login)
        : [];
      return { state, changes, toChange: changes.length + proxmox.length > 0 };
    },
    summary: (plan) => (plan.state.account ? messages.accountExists : messages.noAccount),
  });
  const question = () => {
    const found = probe.succeeded().filter(({ value }) => value.state.account || value.toChange);
    if (found.length === 0) return undefined;
    const names = found.map(({ host }) => host.name).join(', ');
    const locked = found.filter(({ value }) => !value.toChange).length;
    const already = !locked
      ? ''
      : locked === found.length
        ? messages.alreadyLockedOnAll
        : messages.alreadyLockedOn(locked);
    const home = options.removeHome ? messages.andRemoveHomes : '';
    return messages.offboardQuestion(login, found.length, names, already, home);
  };
  const offboarding = fanOutPhase<HostChanges>({
    title: messages.offboardTitle(login),
    hosts: () => probe.succeeded().map(({ host }) => host),
    work: async (host, task) => {
      const { state, changes } = probe.valueOn(host)!;
      const report = await applyChanges(
        ctx,
        host,
        task,
        changes,
        host.roles.includes('pve')
          ? async () => {
              // Read again in the cluster's turn: another node may have disabled the user since.
              const proxmox = proxmoxOffboardChanges(await ctx.executor.fact(host, proxmoxFact(login)), login);
              if (proxmox.length) proxmoxDisabled = true;
              return proxmox;
            }
          : undefined,
      );
      if (ctx.options.dryRun) return report;

      // The proof: no way in left, by the host's own account data and by sshd itself.
      const problems: string[] = [];
      const after = await ctx.executor.fact(host, accountFact(login, []));
      if (after.account && (!after.password?.startsWith('!') || after.expireDay !== 1))
        problems.push(messages.accountNotLocked);
      if (after.keysFile || after.keys2File) problems.push(messages.authorizedKeysStillThere);
      if (after.sudoers !== undefined) problems.push(messages.sudoersStillThere);
      if (after.processes > 0) problems.push(messages.processesStillRun(after.processes));
      const oldKeys = [
        ...new Set(
          [...state.keyLines, ...state.keyLines2, ...rosterKeys]
            .map((line) => keyOfLine(line)?.key)
            .filter((k): k is string => !!k),
        ),
      ];
      const verdicts = await askSshdAboutKeys(ctx, host, login, oldKeys);
      if (verdicts.accepted.length) problems.push(messages.sshdStillAccepts(verdicts.accepted.length));
      else if (verdicts.refused.length)
        report.verified.push(
          verdicts.refused.length === 1
            ? messages.sshdRefusesTheOldKey
            : messages.sshdRefusesOldKeys(verdicts.refused.length),
        );
      else if (!verdicts.notAsked.length) report.verified.push(messages.noOldKeyKnown);
      // sshd refuses every key of an expired account; the proof for these rests on that.
      if (verdicts.notAsked.length) report.verified.push(messages.securityKeysNotAskedLocked(verdicts.notAsked.length));
      if (after.account) {
        const rights = await ctx.executor.fact(host, sudoRights(login));
        // The account cannot log in any more; other rules are the host's own, shown not removed.
        if (rights.length) report.verified.push(messages.otherSudoRules(login, rights.join('; ')));
      }
      if (problems.length)
        throw new VerificationError(host.name, problems, messages.offboardVerifyHint(login, host.name));
      return report;
    },
    summary: summarise,
  });
  // The locks are kept until the roster is saved: a waiting onboard then comes after all of it.
  try {
    await runPhases(ctx, locks.chain(hosts, probe, question, offboarding), 'live');
    outcomes = hostOutcomes(hosts, [probe], offboarding);
    // Only once every host is done: a partial offboard keeps them listed, for the rerun's proof.
    if (saving && exitCodeFor(outcomes, ctx.signal) === ExitCode.ok) {
      const file = ctx.inventory.file;
      roster = await writes.saveRoster(file, messages.removeByHand(login), () => removeSysadmin(file, login));
    }
  } finally {
    await locks.releaseAll();
  }

  if (proxmoxDisabled) ctx.notices.push(messages.proxmoxSessionsStay(proxmoxUser(login)));
  const secrets = secretsOf(ctx.inventory);
  const exitCode = writes.exitCode(exitCodeFor(outcomes, ctx.signal));
  const listed = secrets.map((s) => `  - ${s.name}: ${escapeUnprintable(s.description.trim())}`);
  const rotate = secrets.length ? messages.rotateSecrets(login, listed.join('\n')) : messages.noSecretsListed;
  const rosterSaved = { removed: messages.rosterRemoved, absent: messages.rosterAbsent };
  const entries = hostEntries(outcomes);
  return {
    exitCode,
    hosts: entries,
    fields: {
      login,
      secretsToRotate: secrets.map((s) => ({ name: s.name, description: s.description })),
      roster: roster ?? null,
      notWritten: writes.notWritten(),
    },
    view: [
      hostChangesTable(outcomes, entries),
      ...(ctx.options.dryRun ? [] : [{ text: rotate }]),
      ...(roster ? [{ text: rosterSaved[roster](login, ctx.inventory.file) }] : []),
      ...writes.blocks(),
    ],
  };
}
