// `chaton offboard sysadmin <login>`: take a volunteer's access back everywhere, prove that
// their keys no longer open anything, and list the shared secrets to rotate.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { examples, TARGETS_HELP } from './help.js';

interface OffboardOptions {
  on?: string;
  removeHome?: boolean;
  save?: boolean;
}

export function register(parent: Command): void {
  parent
    .command('sysadmin')
    .description(
      "lock a volunteer's accounts, remove their keys and sudo, disable their Proxmox user, end their sessions; " +
        'asks first',
    )
    .argument('<login>', 'their login')
    .option('--on <targets>', 'only these targets (default: the bastion and every host)')
    .option('--remove-home', 'also remove their home directory (the locked account stays, so its uid is never reused)')
    .option('--save', 'remove them from sysadmins: of the inventory file (comments kept)')
    .addHelpText(
      'after',
      `
On each host, in this order: usermod --lock --expiredate 1, every process of the user killed,
authorized_keys and authorized_keys2 removed (by the user itself), chaton's sudoers drop-in
removed, and on role:pve hosts the Proxmox user disabled. Then sshd is asked, through the
bastion, whether it would still take any of their old keys (those found in authorized_keys
and authorized_keys2, and those of the roster): it must refuse them all. The home
is kept unless --remove-home. Finally the shared secrets listed under secrets: in the
inventory are printed: they may have seen them, rotate them. Without a terminal, add --yes.
${TARGETS_HELP}
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
  const { plural } = await import('../lib/run/output.js');
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
  let roster: string | undefined;
  // What each host has left of their access: read first, so that the question can say it.
  const probe = fanOutPhase({
    title: `Read ${login}'s access`,
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
    summary: (plan) => (plan.state.account ? 'the account exists' : 'no account'),
  });
  const question = () => {
    const found = probe.succeeded().filter(({ value }) => value.state.account || value.toChange);
    if (found.length === 0) return undefined;
    const names = found.map(({ host }) => host.name).join(', ');
    const locked = found.filter(({ value }) => !value.toChange).length;
    const already = locked ? `; already locked on ${locked === found.length ? 'all of them' : locked}` : '';
    const home = options.removeHome ? ', and REMOVE their home directories' : '';
    const where = `the ${plural(found.length, 'host')} where the account exists (${names}${already})`;
    return `Lock ${login} and end their sessions on ${where}${home}?`;
  };
  const offboarding = fanOutPhase<HostChanges>({
    title: `Offboard ${login}`,
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
        problems.push('the account is not locked and expired');
      if (after.keysFile || after.keys2File) problems.push('authorized_keys is still there');
      if (after.sudoers !== undefined) problems.push(`sudoers drop-in still there`);
      if (after.processes > 0) problems.push(`${after.processes} processes still run`);
      const oldKeys = [
        ...new Set(
          [...state.keyLines, ...state.keyLines2, ...rosterKeys]
            .map((line) => keyOfLine(line)?.key)
            .filter((k): k is string => !!k),
        ),
      ];
      const verdicts = await askSshdAboutKeys(ctx, host, login, oldKeys);
      if (verdicts.accepted.length) problems.push(`sshd still accepts ${verdicts.accepted.length} of their keys`);
      else if (verdicts.refused.length)
        report.verified.push(
          `sshd refuses ${verdicts.refused.length === 1 ? 'the old key' : `all ${verdicts.refused.length} old keys`}`,
        );
      else if (!verdicts.notAsked.length)
        report.verified.push('no old key known to try: the account is locked and expired');
      // sshd refuses every key of an expired account; the proof for these rests on that.
      if (verdicts.notAsked.length)
        report.verified.push(
          `${verdicts.notAsked.length} security-key key(s) not asked (ssh2 cannot): the account is locked and expired`,
        );
      if (after.account) {
        const rights = await ctx.executor.fact(host, sudoRights(login));
        // The account cannot log in any more; other rules are the host's own, shown not removed.
        if (rights.length)
          report.verified.push(`sudoers still has rules for ${login} (not chaton's): ${rights.join('; ')}`);
      }
      if (problems.length)
        throw new VerificationError(host.name, problems, `look at ${login}'s account on ${host.name}, then rerun`);
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
      const byHand = `remove ${login} from sysadmins: by hand`;
      roster = await writes.saveRoster(file, byHand, () => removeSysadmin(file, login));
    }
  } finally {
    await locks.releaseAll();
  }

  if (proxmoxDisabled)
    ctx.notices.push(
      `Proxmox web sessions of ${proxmoxUser(login)} stay valid until their ticket expires (at most 2 hours): ` +
        'disabling a user does not end them',
    );
  const secrets = secretsOf(ctx.inventory);
  const exitCode = writes.exitCode(exitCodeFor(outcomes, ctx.signal));
  const listed = secrets.map((s) => `  - ${s.name}: ${escapeUnprintable(s.description.trim())}`);
  const rotate = secrets.length
    ? `Shared secrets ${login} may have seen: rotate them now\n${listed.join('\n')}`
    : 'No shared secrets are listed under secrets: in the inventory: ' +
      'think of what they knew (passphrases, tokens) and rotate it.';
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
      ...(roster ? [{ text: `roster: ${login} ${roster} from ${ctx.inventory.file}` }] : []),
      ...writes.blocks(),
    ],
  };
}
