// `chaton vm create <name>`: a new VM on the Proxmox cluster, configured, firewalled, backed up
// and reachable through the bastion, in one command, and again without harm:
// 1. Preflight, on the first pve host that answers (the API node), under a lock named after the VM
//    (two runs of one name: one VM): the cluster's resources, the VMs' configs (names, memory,
//    addresses), the template, the security groups, the backup job, free addresses pinged, all at
//    once. A VM of that name is judged: unchanged (exit 0), different (exit 3), or left unfinished
//    by a run that stopped (its description says so): then this run continues it.
// 2. Clone into a free VMID; "already exists" or a lock timeout: again, with backoff and a new id.
// 3. Configure (only what differs): sizes, cloud-init user, keys, address, DNS, tags, onboot,
//    agent, NIC firewall; the disk grown; the VM's firewall on with the role's group.
// 4. Start, wait for the guest agent (bounded), its addresses and the guest's SSH host key read
//    through the hypervisor, recorded in known_hosts; then the first SSH connection through the
//    bastion is verified against it. Meanwhile, the backup job joined, then 5. verified on the
//    cluster: in a backup job, firewall on. 6. Marked finished; `--save` into the inventory's hosts.
// A failure after the clone destroys the VM (or leaves it stopped with --keep-on-failure); Ctrl-C
// leaves it as it is, for the same command to continue. This file holds the flags, the help, the
// phases and steps and the report; the cluster's reads and lock are src/lib/proxmox/vm-cluster.ts',
// its changes vm-operations.ts'; the sysadmins' keys (access domain), the host key recorded and the
// first connection (ssh) stay here.
import { Option, type Command } from 'commander';
import type { ClusterVm, VmConfig } from '../lib/proxmox/api.js';
import type { GuestSettings, VmFlags, WantedVm } from '../lib/proxmox/vm.js';
import type { Said } from '../lib/proxmox/messages.js';
import type { VmReport, VmStep } from '../lib/proxmox/render.js';
import type { Judged } from '../lib/proxmox/vm-cluster.js';
import type { VmOperations } from '../lib/proxmox/vm-operations.js';
import type { Host } from '../lib/inventory/types.js';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { ExitCode } from '../lib/run/errors.js';
import { examples } from './help.js';
import { messages } from './messages.js';

export function register(parent: Command): void {
  parent
    .command('create')
    .description(messages.vmCreateDescription)
    .argument('<name>', messages.vmNameArgument)
    .option('--template <name>', messages.vmTemplateOption)
    .option('--node <node>', messages.vmNodeOption)
    .option('--cores <n>', messages.vmCoresOption)
    .option('--memory <size>', messages.vmMemoryOption)
    .option('--disk <size>', messages.vmDiskOption)
    .option('--ip <address>', messages.vmIpOption)
    .option('--role <role>', messages.vmRoleOption)
    .option('--tags <tags>', messages.vmTagsOption)
    .option('--no-start', messages.vmNoStartOption)
    .option('--save', messages.vmSaveOption)
    .option('--keep-on-failure', messages.vmKeepOption)
    .addOption(new Option('--agent-timeout <seconds>', messages.vmAgentTimeoutOption).default('300'))
    .addHelpText(
      'after',
      `\n${messages.vmCreateHelp}\n${examples(
        `chaton --dry-run vm create web3 --memory 2G   # ${messages.vmDryRunExample}`,
        `chaton vm create web3 --memory 2G --save   # ${messages.vmSaveExample}`,
        `chaton vm create web3 --memory 2G   # ${messages.vmAgainExample}`,
      )}`,
    )
    .action(async (name: string, options: CreateOptions, cmd: Command) => {
      const { runRemote } = await import('../lib/run/lifecycle.js');
      await runRemote(cmd, (ctx) => vmCreate(ctx, name, options));
    });
}

interface CreateOptions extends VmFlags {
  start: boolean;
  save?: boolean;
  keepOnFailure?: boolean;
  agentTimeout: string;
}

const SSH_BOUND_MS = 60_000;

/** A VM of that name found by the preflight, or the plan of a new one. */
type Found = Extract<Judged, { kind: 'found' }>;
type Plan = Extract<Judged, { kind: 'create' }>;

async function vmCreate(ctx: RunContext, name: string, options: CreateOptions): Promise<CommandResult> {
  const { proxmoxOf } = await import('../lib/proxmox/inventory.js');
  const { wantedVm } = await import('../lib/proxmox/vm.js');
  const { VmOperations } = await import('../lib/proxmox/vm-operations.js');
  const { UsageError } = await import('../lib/run/errors.js');
  const proxmox = proxmoxOf(ctx.inventory);
  if (!proxmox) throw new UsageError(messages.vmNoSection(ctx.inventory.file), messages.vmNoSectionHint);
  const wanted = wantedVm(proxmox, name, options);
  const agentSeconds = Number(options.agentTimeout);
  if (!/^[0-9]+$/.test(options.agentTimeout) || agentSeconds < 1 || agentSeconds > 3600)
    throw new UsageError(messages.vmAgentTimeoutRange(options.agentTimeout), messages.vmAgentTimeoutHint);
  const pveHosts = ctx.inventory.hosts.filter((host) => host.roles.includes('pve'));
  if (pveHosts.length === 0) throw new UsageError(messages.vmNoPveHost, messages.vmNoPveHostHint);
  if (options.save) {
    const { checkInventoryWritable } = await import('../lib/inventory/edit.js');
    await checkInventoryWritable(ctx.inventory.file);
  }
  const { newVmReport } = await import('../lib/proxmox/render.js');
  const report = newVmReport(wanted.name);
  const { executor, pool, signal, operator } = ctx;
  const ops = new VmOperations(
    { executor, pool, signal, operator, dryRun: ctx.options.dryRun },
    proxmox,
    wanted,
    pveHosts,
    report,
  );
  const run = new Creation(ctx, ops, report, wanted, pveHosts, {
    ...options,
    agentMs: agentSeconds * 1000,
  });
  try {
    return await run.run();
  } finally {
    await ops.unlockName();
  }
}

/** One run of `vm create`: its phases and steps, each timed and reported; the cluster's calls are `ops`'. */
class Creation {
  readonly tried: { host: Host; error?: unknown }[] = [];
  readonly started = performance.now();
  /** --save could not write the inventory once the VM was made: exit 4. */
  notSaved = false;
  /** The backup job and the verify step, run beside the start; a cleanup waits for them. */
  sideline: Promise<void> | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly ops: VmOperations,
    readonly report: VmReport,
    private readonly wanted: WantedVm,
    private readonly pveHosts: Host[],
    private readonly options: CreateOptions & { agentMs: number },
  ) {}

  async run(): Promise<CommandResult> {
    const { runPhases } = await import('../lib/run/phases.js');
    const { ExitCode, RefusedError } = await import('../lib/run/errors.js');
    let found: Found | undefined;
    let plan: Plan | undefined;
    try {
      await runPhases(
        this.ctx,
        [
          { kind: 'connect', hosts: this.pveHosts },
          {
            kind: 'step',
            title: messages.vmPreflightTitle(this.wanted.name),
            run: (progress) =>
              this.step('preflight', progress, async () => {
                const judged = await this.preflight(progress);
                if (judged.kind === 'found') found = judged;
                else plan = judged;
                return judged.kind === 'found'
                  ? messages.vmFound(judged.vm.vmid, judged.vm.node)
                  : messages.vmPlanned(judged.node, judged.address, judged.firstVmid);
              }),
          },
        ],
        'live',
      );
    } catch (error) {
      this.report.outcome =
        error instanceof RefusedError ? 'refused' : this.ctx.signal.aborted ? 'interrupted' : 'failed';
      return this.result(error);
    }
    if (this.ctx.signal.aborted) {
      this.report.outcome = 'interrupted';
      return this.result(undefined, ExitCode.interrupted);
    }
    const { unfinished, differences } = await import('../lib/proxmox/vm.js');
    if (found && !unfinished(found.state.config)) {
      const diffs = differences(found.state, this.wanted, this.options.start);
      await this.fill(found.vm, found.state.config);
      this.report.differences = diffs;
      this.report.outcome = diffs.length === 0 ? 'unchanged' : 'differs';
      if (diffs.length > 0) return this.result(undefined, ExitCode.refused);
      // Made before, perhaps with a --save that could not write: the inventory gets it now.
      if (this.options.save && this.report.address !== null && !this.ctx.options.dryRun) {
        const said = await this.save(this.report.address);
        if (!this.notSaved) this.ctx.notices.push(said);
      }
      return this.result(undefined, this.notSaved ? ExitCode.partial : ExitCode.ok);
    }
    try {
      await runPhases(
        this.ctx,
        [
          {
            kind: 'step',
            title: messages.vmMakeTitle(this.wanted.name),
            run: (progress, live) => this.make(found, plan, progress, live),
          },
        ],
        'live',
      );
    } catch (error) {
      return this.failed(error);
    }
    if (this.ctx.signal.aborted) return this.failed(undefined);
    this.report.outcome = this.ctx.options.dryRun ? 'planned' : found ? 'resumed' : 'created';
    return this.result(undefined, this.notSaved ? ExitCode.partial : ExitCode.ok);
  }

  /** Runs one step, timed; what it returns is its detail in the report. */
  async step(name: VmStep['step'], progress: (text: string) => void, work: () => Promise<string>): Promise<void> {
    const started = performance.now();
    const entry: VmStep = { step: name, outcome: 'failed', durationMs: 0, detail: '' };
    this.report.steps.push(entry);
    try {
      entry.detail = await work();
      entry.outcome = this.ctx.options.dryRun && name !== 'preflight' ? 'planned' : 'done';
      progress(entry.detail);
    } catch (error) {
      // What a refusal found is listed under the table; the hint follows the report.
      entry.detail =
        this.report.problems.length > 0
          ? messages.vmRefusedDetail(this.report.problems.length)
          : error instanceof Error
            ? error.message
            : String(error);
      throw error;
    } finally {
      entry.durationMs = Math.round(performance.now() - started);
    }
  }

  // -------------------------------------------------------------------------------------------
  // 1. Preflight

  async preflight(progress: (text: string) => void): Promise<Found | Plan> {
    const { reservedAddresses } = await import('../lib/proxmox/vm.js');
    const api = await this.ops.connectApi(this.tried);
    progress(messages.vmApiNode(api.name));
    const reserved = reservedAddresses(
      this.wanted.network,
      this.ctx.inventory.hosts.flatMap((host) => [...host.addresses]),
    );
    // The lock and the reads at once (the reads change nothing): a held lock stops the run here,
    // once the reads are over (none is left running when the connections close).
    const [locked, read] = await Promise.allSettled([
      this.ctx.options.dryRun ? undefined : this.ops.lockName(),
      this.ops.readCluster(api, reserved),
    ]);
    if (locked.status === 'rejected') throw locked.reason;
    if (read.status === 'rejected') throw read.reason;
    this.ops.facts = read.value;
    const judged = await this.ops.judge(reserved);
    if (judged.kind === 'refused') throw await this.refused(judged.problems);
    if (judged.kind === 'create') {
      this.report.node = judged.node;
      this.report.address = judged.address;
      this.report.vmid = judged.firstVmid;
    }
    return judged;
  }

  async refused(problems: Said[]): Promise<Error> {
    const { RefusedError } = await import('../lib/run/errors.js');
    this.report.problems = problems;
    return new RefusedError(
      messages.vmRefused(this.wanted.name, problems.map((p) => p.text).join('; ')),
      messages.vmRefusedHint,
    );
  }

  // -------------------------------------------------------------------------------------------
  // 2-6. Clone (or continue), configure, start and reach, verify, finish

  async make(
    found: Found | undefined,
    plan: Plan | undefined,
    progress: (text: string) => void,
    live: boolean,
  ): Promise<void> {
    let vmid: number;
    let node: string;
    let address: { address: string; prefix: number };
    let config: VmConfig | undefined;
    // What cloud-init gets is worked out here while the node copies the disk.
    const guest = this.guestSettings(found ? found.address! : { address: plan!.address, prefix: plan!.prefix });
    guest.catch(() => undefined);
    if (found) {
      ({ vmid, node } = found.vm);
      this.ops.made = { vmid, node };
      config = found.state.config;
      await this.fill(found.vm, config);
      address = found.address!;
      this.report.address = address.address;
      progress(messages.vmContinuing(this.wanted.name, vmid, node));
    } else {
      node = plan!.node;
      address = { address: plan!.address, prefix: plan!.prefix };
      await this.step('clone', progress, async () => {
        vmid = await this.ops.clone(node, plan!.firstVmid, progress, live);
        return messages.vmCloned(this.wanted.template.name, vmid, node);
      });
      vmid = this.report.vmid!;
    }
    if (this.ctx.signal.aborted) return;
    const settings = await guest;
    await this.step('configure', progress, async () => {
      const done = await this.ops.configure(vmid, node, settings, config);
      return done.length > 0 ? done.join(messages.separator) : messages.vmAlreadyConfigured;
    });
    if (this.ctx.signal.aborted) return;
    // The backup job, then the cluster's checks, while the VM boots and its agent comes up: neither
    // needs the guest, and the node has little else to do meanwhile.
    this.sideline = (async () => {
      if (this.wanted.backupJob !== undefined) await this.step('backup', progress, () => this.ops.joinBackupJob(vmid));
      await this.step('verify', progress, () => this.ops.verify(vmid, node));
    })();
    // Awaited below (and by a cleanup); until then a failure must not go unhandled.
    this.sideline.catch(() => undefined);
    if (this.options.start) {
      const host = await this.vmHost(address.address);
      await this.step('start', progress, () => this.start(vmid, node, host, found?.state.vm.status, progress, live));
      if (this.ctx.signal.aborted) return;
      await this.step('reach', progress, () => this.reach(host, progress, live));
    }
    await this.sideline;
    if (this.ctx.signal.aborted) return;
    await this.step('finish', progress, () => this.finish(vmid, node, address.address));
  }

  /** The cloud-init user and keys: the inventory's user for a new host, chaton's own keys and the roster's. */
  async guestSettings(address: { address: string; prefix: number }): Promise<GuestSettings> {
    const { sysadminsOf } = await import('../lib/access/inventory.js');
    const host = await this.vmHost(address.address);
    const own = await this.ctx.identities.publicKeyLines(host, this.ctx.env);
    const roster = sysadminsOf(this.ctx.inventory)
      .filter((sysadmin) => sysadmin.expires === undefined || sysadmin.expires > new Date().toISOString().slice(0, 10))
      .flatMap((sysadmin) => sysadmin.keys);
    const keys = [...new Set([...own, ...roster])];
    return { ...address, user: host.user, sshKeys: keys };
  }

  #vmHost: Host | undefined;

  /** The VM as a host of the inventory: what --save writes, read the way every command reads it. */
  async vmHost(address: string): Promise<Host> {
    if (this.#vmHost?.addresses[0] !== address) {
      const { hostAsSaved } = await import('../lib/inventory/edit.js');
      this.#vmHost = await hostAsSaved(this.ctx.inventory.file, this.savedHost(address));
    }
    return this.#vmHost;
  }

  savedHost(address: string) {
    return { name: this.wanted.name, address, ...(this.wanted.role ? { roles: [this.wanted.role.name] } : {}) };
  }

  /** Started, its agent's answer awaited, its host key read through it and recorded in known_hosts. */
  async start(
    vmid: number,
    node: string,
    host: Host,
    status: string | undefined,
    progress: (text: string) => void,
    live: boolean,
  ): Promise<string> {
    const agent = await this.ops.boot(vmid, node, status, host.addresses[0]!, {
      agentMs: this.options.agentMs,
      progress,
      live,
    });
    if (agent === undefined) return messages.vmStartPlanned;
    const { keyPhrase } = await import('../lib/ssh/known-hosts.js');
    const { parseHostPublicKey, recordHostKey } = await import('../lib/ssh/known-hosts.js');
    const { fingerprint } = await import('../lib/ssh/key-blob.js');
    const blob = parseHostPublicKey(agent.hostKey);
    this.report.fingerprint = fingerprint(blob);
    const file = host.ssh.knownHosts[0]!;
    await recordHostKey(file, host.addresses, host.port, blob);
    this.ctx.pool.forgetKnownHosts();
    return messages.vmKeyRecorded(keyPhrase(blob), file);
  }

  /** The first connection through the bastion, its host key checked against the one recorded (sshd may be starting). */
  async reach(host: Host, progress: (text: string) => void, live: boolean): Promise<string> {
    if (this.ctx.options.dryRun) return messages.vmReachPlanned(host.addresses[0]!);
    const { waitUntil } = await import('../lib/run/wait.js');
    const { ConnectionError, HostKeyError, InterruptedError, formatError } = await import('../lib/run/errors.js');
    const { command } = await import('../lib/remote/shell.js');
    await waitUntil({
      poll: async () => {
        try {
          await this.ctx.pool.connect(host);
          return { done: true, value: undefined };
        } catch (error) {
          if (error instanceof HostKeyError || !(error instanceof ConnectionError)) throw error;
          return { done: false, waiting: messages.vmSshWaiting(host.name, formatError(error)) };
        }
      },
      boundMs: SSH_BOUND_MS,
      intervalMs: 300,
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: (waiting) => new ConnectionError(host.name, waiting),
      interrupted: () => new InterruptedError(),
    });
    const result = await this.ctx.executor.run(host, command('hostname'), { kind: 'probe' });
    this.report.hostname = result.stdout.toString().trim();
    return messages.vmReached(host.addresses[0]!, this.report.hostname);
  }

  /** The description says it is done (a rerun compares it instead of continuing it); --save. */
  async finish(vmid: number, node: string, address: string): Promise<string> {
    await this.ops.markFinished(vmid, node);
    if (!this.options.save) return messages.vmFinished;
    if (this.ctx.options.dryRun) return messages.vmSavePlanned(this.ctx.inventory.file);
    return this.save(address);
  }

  /** --save: the VM under `hosts:`; a file that cannot be written is said, the VM stays (exit 4). */
  async save(address: string): Promise<string> {
    const { saveHost } = await import('../lib/inventory/edit.js');
    const { formatError } = await import('../lib/run/errors.js');
    try {
      const saved = await saveHost(this.ctx.inventory.file, this.savedHost(address));
      return messages.vmSaved(saved, this.ctx.inventory.file);
    } catch (error) {
      // The VM is made and reached: only the inventory lacks it (a full disk since the check).
      this.notSaved = true;
      this.ctx.notices.push(messages.vmNotSaved(this.ctx.inventory.file, formatError(error)));
      return messages.vmNotSavedDetail;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The end: a failure removes what this run made, or keeps it stopped when asked

  async failed(error: unknown): Promise<CommandResult> {
    const { ExitCode, formatError } = await import('../lib/run/errors.js');
    // What runs beside the start ends first: a backup job changed after the VM is gone would name
    // it, and a change cut by the closing connections would leave its outcome unknown.
    await this.sideline?.catch(() => undefined);
    if (this.ctx.signal.aborted) {
      this.report.outcome = 'interrupted';
      if (this.ops.made) this.ctx.notices.push(messages.vmInterruptedRerun(this.ops.made.vmid));
      return this.result(error, ExitCode.interrupted);
    }
    if (this.ops.made && !this.ctx.options.dryRun && (await this.ops.ours(this.ops.made))) {
      const { vmid, node } = this.ops.made;
      const cleanup = performance.now();
      const entry: VmStep = { step: 'cleanup', outcome: 'done', durationMs: 0, detail: '' };
      this.report.steps.push(entry);
      try {
        this.report.outcome = await this.ops.remove(this.ops.made, this.options.keepOnFailure === true);
        entry.detail = this.report.outcome === 'kept' ? messages.vmKept(vmid, node) : messages.vmDestroyed(vmid, node);
      } catch (cleanupError) {
        entry.outcome = 'failed';
        entry.detail = messages.vmCleanupFailed(vmid, node, formatError(cleanupError));
        this.report.outcome = 'failed';
      }
      entry.durationMs = Math.round(performance.now() - cleanup);
      this.ctx.notices.push(entry.detail);
    } else {
      this.report.outcome = 'failed';
    }
    return this.result(error);
  }

  /** The VM found, as the report tells it. */
  async fill(vm: ClusterVm, config: VmConfig): Promise<void> {
    const { ipconfigAddress } = await import('../lib/proxmox/api.js');
    this.report.vmid = vm.vmid;
    this.report.node = vm.node;
    this.report.address = (config.ipconfig0 && ipconfigAddress(config.ipconfig0)) ?? null;
  }

  async result(error?: unknown, exitCode?: ExitCode): Promise<CommandResult> {
    const { exitCodeFor } = await import('../lib/run/errors.js');
    const { errorReport } = await import('../lib/run/report.js');
    const { vmReportFields, vmReportView } = await import('../lib/proxmox/render.js');
    this.report.totalMs = Math.round(performance.now() - this.started);
    const code = exitCodeFor(this.ctx.signal.aborted, error, exitCode);
    if (error !== undefined && this.report.failure === null) this.report.failure = errorReport(error);
    const hosts = this.tried.map(({ host, error: hostError }) => ({
      host: host.name,
      ok: hostError === undefined,
      error: hostError === undefined ? null : errorReport(hostError),
    }));
    return {
      exitCode: code,
      hosts,
      fields: vmReportFields(this.report),
      ...(error !== undefined ? { error } : {}),
      view: vmReportView(this.report),
    };
  }
}
