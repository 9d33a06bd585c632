// `chaton onboard sysadmin <login>`: a volunteer's account, keys, sudo and Proxmox user on every
// host, verified by sshd and sudo themselves, and the ssh config that gets them in.
import type { Command } from 'commander';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import { examples } from './help.js';
import { messages } from './messages.js';

interface OnboardOptions {
  key: string[];
  name?: string;
  email?: string;
  sudo?: boolean;
  sudoCommands?: string;
  groups?: string;
  proxmoxRole?: string;
  expires?: string;
  on?: string;
  exclusive?: boolean;
  verifyWith?: string;
  writeSshConfig?: string;
  save?: boolean;
}

export function register(parent: Command): void {
  parent
    .command('sysadmin')
    .description(messages.onboardDescription)
    .argument('<login>', messages.onboardLoginArgument)
    .option('--key <file|line>', messages.onboardKeyOption, (value: string, all: string[]) => [...all, value], [])
    .option('--name <full name>', messages.onboardNameOption)
    .option('--email <address>', messages.onboardEmailOption)
    .option('--sudo', messages.onboardSudoOption)
    .option('--sudo-commands <list>', messages.onboardSudoCommandsOption)
    .option('--groups <a,b>', messages.onboardGroupsOption)
    .option('--proxmox-role <role>', messages.onboardProxmoxRoleOption)
    .option('--expires <YYYY-MM-DD>', messages.onboardExpiresOption)
    .option('--on <targets>', messages.onOption)
    .option('--exclusive', messages.onboardExclusiveOption)
    .option('--verify-with <private key>', messages.onboardVerifyWithOption)
    .option('--write-ssh-config <file>', messages.onboardWriteSshConfigOption)
    .option('--save', messages.onboardSaveOption)
    .addHelpText(
      'after',
      `
${messages.onboardHelp}
${messages.targetsHelp}
${examples(
  "chaton onboard sysadmin jdupont --name 'Jeanne Dupont' --key jdupont.pub --sudo --proxmox-role PVEAdmin --save",
  'chaton --dry-run onboard sysadmin jdupont --key jdupont.pub --sudo',
  'chaton onboard sysadmin jdupont --key jdupont.pub --on pve1,pve2 --write-ssh-config jdupont.ssh_config',
)}`,
    )
    .action(async (login: string, options: OnboardOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => onboard(ctx, login, options));
    });
}

async function onboard(ctx: RunContext, login: string, options: OnboardOptions): Promise<CommandResult> {
  const { accountFact, keyOfLine } = await import('../lib/access/account.js');
  const { onboardChanges } = await import('../lib/access/account-changes.js');
  const { EMAIL, epochDay, isCalendarDate, PERSON_NAME, PROXMOX_ROLE, SUDO_COMMANDS } =
    await import('../lib/access/fields.js');
  const { sudoersCheck, sudoersContent, sudoRights } = await import('../lib/access/sudo.js');
  const { exitCodeFor } = await import('../lib/run/fan-out.js');
  const { fanOutPhase, hostOutcomes, runPhases } = await import('../lib/run/phases.js');
  const { POSIX_NAME } = await import('../lib/inventory/kinds.js');
  const { ExitCode, RefusedError, UsageError, VerificationError } = await import('../lib/run/errors.js');
  const { writeFileAtomically } = await import('../lib/run/files.js');
  const { readPublicKeys } = await import('../lib/access/public-keys.js');
  const { proxmoxFact, proxmoxOnboardChanges } = await import('../lib/proxmox/pveum.js');
  const {
    applyChanges,
    askSshdAboutKeys,
    checkLogin,
    forwardingOnly,
    LocalWrites,
    LoginLocks,
    newcomerLoginPhase,
    hostChangesTable,
    hostEntries,
    newcomerIdentity,
    newcomerSshConfig,
    summarise,
    sysadminTargets,
  } = await import('../lib/access/sysadmins.js');
  type HostChanges = import('../lib/access/sysadmins.js').HostChanges;
  type HostOutcome<T> = import('../lib/run/phases.js').HostOutcome<T>;

  // Everything is checked before any host is touched.
  checkLogin(login, ctx.inventory);
  const keys = await readPublicKeys(options.key);
  const groups = (options.groups ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  for (const group of groups)
    if (!POSIX_NAME.test(group))
      throw new UsageError(messages.invalidGroup(JSON.stringify(group)), messages.invalidGroupHint);
  const today = Math.floor(Date.now() / 86_400_000);
  if (options.expires !== undefined && (!isCalendarDate(options.expires) || epochDay(options.expires) <= today)) {
    throw new UsageError(messages.expiresNotToCome(JSON.stringify(options.expires)), messages.expiresHint);
  }
  if (options.proxmoxRole !== undefined && !PROXMOX_ROLE.test(options.proxmoxRole)) {
    throw new UsageError(
      messages.invalidProxmoxRole(JSON.stringify(options.proxmoxRole)),
      messages.invalidProxmoxRoleHint,
    );
  }
  if (options.name !== undefined && !PERSON_NAME.test(options.name))
    throw new UsageError(messages.invalidName, messages.invalidNameHint);
  if (options.email !== undefined && !EMAIL.test(options.email))
    throw new UsageError(messages.invalidEmail(JSON.stringify(options.email)), messages.invalidEmailHint);
  if (options.sudoCommands !== undefined && !SUDO_COMMANDS.test(options.sudoCommands)) {
    throw new UsageError(messages.invalidSudoCommands, messages.invalidSudoCommandsHint);
  }
  const sudo = options.sudoCommands?.trim() ?? (options.sudo ? 'ALL' : undefined);
  const hosts = sysadminTargets(ctx.inventory, options.on);
  // Read even in dry-run: a key that cannot be used is worth knowing before the real run.
  const newcomer = options.verifyWith ? await newcomerIdentity(ctx, login, options.verifyWith) : undefined;
  const saving = options.save === true && !ctx.options.dryRun;
  const { checkRosterWritable, saveSysadmin } = await import('../lib/access/roster.js');
  if (saving) await checkRosterWritable(ctx.inventory.file);
  const locks = new LoginLocks(ctx, login);
  const writes = new LocalWrites();

  let outcomes: HostOutcome<HostChanges>[];
  let roster: 'added' | 'updated' | 'unchanged' | undefined;
  let sshConfig: { config: string; knownHosts: string };
  let configWritten: boolean | undefined;
  const knownHostsName = 'chaton_known_hosts';
  // Each host's account as it is, its changes planned and its sudo rule judged, before any change.
  const probe = fanOutPhase({
    title: messages.readAccessTitle(login),
    hosts,
    work: async (host) => {
      locks.check(host);
      const wanted = {
        login,
        name: options.name,
        keys,
        sudo,
        groups,
        expires: options.expires,
        exclusive: options.exclusive === true,
        forwardingOnly: forwardingOnly(host),
      };
      const state = await ctx.executor.fact(host, accountFact(login, groups));
      const changes = onboardChanges(host.name, state, wanted, today);
      const rule = sudo !== undefined && !wanted.forwardingOnly ? sudoersContent(login, sudo) : undefined;
      if (rule !== undefined) {
        // This host's own sudo judges the rule before anything changes (visudo runs again at install).
        const check = await ctx.executor.run(host, sudoersCheck(rule), { kind: 'probe', check: false });
        if (check.code !== 0) {
          const reason = check.stderr.toString().trim().split('\n')[0]!;
          throw new RefusedError(messages.visudoRefuses(host.name, reason), messages.visudoRefusesHint);
        }
      }
      const given = new Set(keys.map((k) => keyOfLine(k.line)?.key));
      const others = state.keyLines.filter(
        (line) => keyOfLine(line) !== undefined && !given.has(keyOfLine(line)!.key),
      ).length;
      return { changes, rule, others };
    },
  });
  // --exclusive removes keys: asked once the probes have counted them, and only if there are some.
  const question = () => {
    const removing = probe.succeeded().filter(({ value }) => value.others > 0);
    if (!options.exclusive || removing.length === 0) return undefined;
    const count = removing.reduce((sum, { value }) => sum + value.others, 0);
    const names = removing.map(({ host }) => host.name).join(', ');
    return messages.removeKeysQuestion(count, login, removing.length, names);
  };
  const onboarding = fanOutPhase<HostChanges>({
    title: messages.onboardTitle(login),
    hosts: () => probe.succeeded().map(({ host }) => host),
    work: async (host, task) => {
      const { changes, rule } = probe.valueOn(host)!;
      // The Proxmox plan is made in the cluster's turn, before any change, so that a refusal changes nothing.
      const role = host.roles.includes('pve') ? options.proxmoxRole : undefined;
      const report = await applyChanges(
        ctx,
        host,
        task,
        changes,
        role === undefined
          ? undefined
          : async () => {
              const cluster = await ctx.executor.fact(host, proxmoxFact(login));
              if (!cluster.roles.includes(role)) {
                throw new RefusedError(
                  messages.noProxmoxRole(host.name, role),
                  messages.noProxmoxRoleHint(cluster.roles.join(', ')),
                );
              }
              return proxmoxOnboardChanges(cluster, {
                login,
                role,
                name: options.name,
                email: options.email,
                expire: options.expires ? epochDay(options.expires) * 86_400 : 0,
              });
            },
      );
      if (ctx.options.dryRun) return report;

      // Proof from the host's own tools: the account as it is now, sshd, sudo.
      const problems: string[] = [];
      const after = await ctx.executor.fact(host, accountFact(login, []));
      if (
        !after.account ||
        !after.password ||
        after.password.startsWith('!') ||
        (after.expireDay !== undefined && after.expireDay <= today)
      )
        problems.push(messages.accountMissing);
      else report.verified.push(messages.accountUid(after.account.uid));
      const verdicts = await askSshdAboutKeys(
        ctx,
        host,
        login,
        keys.map((k) => k.line),
      );
      if (verdicts.refused.length) problems.push(messages.sshdRefusesSome(verdicts.refused.length, keys.length, login));
      else if (verdicts.accepted.length)
        report.verified.push(
          verdicts.accepted.length === 1 && keys.length === 1
            ? messages.sshdAcceptsTheKey
            : messages.sshdAcceptsKeys(verdicts.accepted.length),
        );
      if (verdicts.notAsked.length) report.verified.push(messages.securityKeysNotAsked(verdicts.notAsked.length));
      const rights = await ctx.executor.fact(host, sudoRights(login));
      if (rule !== undefined && !rights.some((r) => grants(r, sudo!)))
        problems.push(messages.sudoNotGranted(login, sudo!));
      else report.verified.push(rights.length ? messages.sudoGrants(rights.join('; ')) : messages.noSudo);
      if (problems.length)
        throw new VerificationError(host.name, problems, messages.onboardVerifyHint(login, host.name));
      return report;
    },
    summary: summarise,
  });
  // Their own login, as they will do it: after every host is done, since the bastion comes first.
  const newcomerLogin =
    newcomer && !ctx.options.dryRun
      ? newcomerLoginPhase(ctx, newcomer, () => onboarding.succeeded().map((done) => done.host), sudo === 'ALL')
      : undefined;
  // The locks are kept until the roster is saved: a waiting offboard then comes after all of it.
  try {
    const work = newcomerLogin ? [onboarding, newcomerLogin] : [onboarding];
    await runPhases(ctx, locks.chain(hosts, probe, question, ...work), 'live');
    outcomes = hostOutcomes(hosts, [probe], onboarding);
    if (newcomerLogin) {
      const logins = new Map(newcomerLogin.outcomes.map((o) => [o.host.name, o]));
      outcomes = outcomes.map((o) => {
        const result = logins.get(o.host.name);
        if (!o.ok || !result) return o;
        if (!result.ok) return { host: o.host, ok: false as const, error: result.error };
        o.value.verified.push(result.value);
        return o;
      });
    }
    sshConfig = await newcomerSshConfig(ctx, login, hosts, knownHostsName);
    const configFile = options.writeSshConfig;
    if (configFile && !ctx.options.dryRun) {
      const { config, knownHosts } = sshConfig;
      const hint = messages.copySshConfigHint(login, knownHostsName);
      configWritten = await writes.attempt(`--write-ssh-config ${configFile}`, hint, async () => {
        await writeFileAtomically(configFile, config);
        await writeFileAtomically(`${configFile}.known_hosts`, knownHosts);
        return true;
      });
    }
    const partly = exitCodeFor(outcomes, ctx.signal);
    if (saving && (partly === ExitCode.ok || partly === ExitCode.partial)) {
      const entry = {
        login,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.email !== undefined ? { email: options.email } : {}),
        keys: keys.map((k) => k.line),
        sudo: sudo !== undefined,
        ...(options.sudoCommands !== undefined ? { sudoCommands: sudo } : {}),
        groups,
        ...(options.proxmoxRole !== undefined ? { proxmoxRole: options.proxmoxRole } : {}),
        ...(options.expires !== undefined ? { expires: options.expires } : {}),
      };
      const file = ctx.inventory.file;
      roster = await writes.saveRoster(file, messages.addByHand(login), () => saveSysadmin(file, entry));
    }
  } finally {
    newcomer?.pool.closeAll();
    await locks.releaseAll();
  }
  const { config, knownHosts } = sshConfig;
  const exitCode = writes.exitCode(exitCodeFor(outcomes, ctx.signal));
  const entries = hostEntries(outcomes);
  const configTitle = configWritten ? messages.writtenTo(options.writeSshConfig!) : messages.sshConfigOf(login);
  const knownHostsTitle = `~/.ssh/${knownHostsName}${
    configWritten ? ` (${messages.writtenTo(`${options.writeSshConfig}.known_hosts`)})` : ''
  }`;
  const rosterSaved = {
    added: messages.rosterAdded,
    updated: messages.rosterUpdated,
    unchanged: messages.rosterUnchanged,
  };
  return {
    exitCode,
    hosts: entries,
    fields: {
      login,
      keys: keys.map((k) => ({ fingerprint: k.fingerprint, kind: k.kind, bits: k.bits })),
      sshConfig: config,
      knownHosts,
      roster: roster ?? null,
      notWritten: writes.notWritten(),
    },
    view: [
      hostChangesTable(outcomes, entries),
      { text: `# ${configTitle}\n${config}` },
      { text: `# ${knownHostsTitle}\n${knownHosts}` },
      ...(roster ? [{ text: rosterSaved[roster](login, ctx.inventory.file) }] : []),
      ...writes.blocks(),
    ],
  };
}

/** Whether a rule `sudo -l` prints grants `NOPASSWD: <commands>` (it lists them after ", "). */
function grants(rule: string, commands: string): boolean {
  const normal = (text: string) =>
    text
      .split(',')
      .map((part) => part.trim().replace(/\s+/g, ' '))
      .join(', ');
  return normal(rule).endsWith(`NOPASSWD: ${normal(commands)}`);
}
