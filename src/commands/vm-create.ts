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
// leaves it as it is, for the same command to continue. Calls about one node run on that node.
import { Option, type Command } from 'commander';
import type { ClusterVm, VmConfig } from '../lib/proxmox/api.js';
import type { ProxmoxSection } from '../lib/proxmox/inventory.js';
import type { ClusterFacts, GuestSettings, VmFlags, VmState, WantedVm } from '../lib/proxmox/vm.js';
import type { Said } from '../lib/proxmox/messages.js';
import type { VmReport, VmStep } from '../lib/proxmox/render.js';
import type { Host } from '../lib/inventory/types.js';
import type { CommandResult, RunContext } from '../lib/run/context.js';
import type { HostLock } from '../lib/run/host-lock.js';
import type { RemoteCommand } from '../lib/remote/shell.js';
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

/** A clone copies a whole disk: long on a real cluster. Config changes are quick. */
const TASK_TIMEOUT_MS = 30 * 60_000;
const CLONE_RETRY_BOUND_MS = 2 * 60_000;
/** The agent answers when the guest has booted: looked at often, since the wait is the whole run's. */
const AGENT_INTERVAL_MS = 100;
const SSH_BOUND_MS = 60_000;
const LOCK_WAIT_MS = 60_000;
const HOST_KEY_FILE = '/etc/ssh/ssh_host_ed25519_key.pub';

async function vmCreate(ctx: RunContext, name: string, options: CreateOptions): Promise<CommandResult> {
  const { proxmoxOf } = await import('../lib/proxmox/inventory.js');
  const { wantedVm } = await import('../lib/proxmox/vm.js');
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
  const run = new Creation(ctx, proxmox, wanted, pveHosts, { ...options, agentMs: agentSeconds * 1000 });
  try {
    return await run.run();
  } finally {
    await run.releaseLock();
  }
}

/** One run of `vm create`: its steps, each timed and reported. */
class Creation {
  readonly report: VmReport;
  api: Host | undefined;
  facts: ClusterFacts | undefined;
  lock: HostLock | undefined;
  locked = false;
  /** Set once a VM of ours exists (cloned by this run, or an unfinished one found): what a failure removes. */
  made: { vmid: number; node: string } | undefined;
  readonly tried: { host: Host; error?: unknown }[] = [];
  readonly started = performance.now();
  /** --save could not write the inventory once the VM was made: exit 4. */
  notSaved = false;
  /** The backup job and the verify step, run beside the start; a cleanup waits for them. */
  sideline: Promise<void> | undefined;
  /** The address of an unfinished VM being continued, chosen in preflight. */
  address: { address: string; prefix: number } | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly proxmox: ProxmoxSection,
    private readonly wanted: WantedVm,
    private readonly pveHosts: Host[],
    private readonly options: CreateOptions & { agentMs: number },
  ) {
    this.report = {
      name: wanted.name,
      outcome: 'refused',
      vmid: null,
      node: null,
      address: null,
      fingerprint: null,
      hostname: null,
      differences: [],
      problems: [],
      attempts: [],
      steps: [],
      failure: null,
      totalMs: 0,
    };
  }

  async releaseLock(): Promise<void> {
    if (this.lock && this.locked) await this.lock.release().catch(() => undefined);
  }

  async run(): Promise<CommandResult> {
    const { runPhases } = await import('../lib/run/phases.js');
    const { ExitCode, RefusedError } = await import('../lib/run/errors.js');
    let found: { vm: ClusterVm; state: VmState } | undefined;
    let plan: { node: string; address: string; prefix: number; firstVmid: number } | undefined;
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

  async preflight(
    progress: (text: string) => void,
  ): Promise<
    | { kind: 'found'; vm: ClusterVm; state: VmState }
    | { kind: 'create'; node: string; address: string; prefix: number; firstVmid: number }
  > {
    const { HostLock } = await import('../lib/run/host-lock.js');
    const { reservedAddresses, preflight, unfinished } = await import('../lib/proxmox/vm.js');
    const api = await this.apiNode();
    progress(messages.vmApiNode(api.name));
    const lock = this.ctx.options.dryRun ? undefined : new HostLock(this.ctx, api, `vm-create-${this.wanted.name}`);
    this.lock = lock;
    const reserved = reservedAddresses(
      this.wanted.network,
      this.ctx.inventory.hosts.flatMap((host) => [...host.addresses]),
    );
    // The lock and the reads at once (the reads change nothing): a held lock stops the run here,
    // once the reads are over (none is left running when the connections close).
    const [locked, read] = await Promise.allSettled([lock && this.takeNameLock(lock), this.readCluster(api, reserved)]);
    if (locked.status === 'rejected') throw locked.reason;
    if (read.status === 'rejected') throw read.reason;
    const facts = read.value;
    this.facts = facts;
    for (;;) {
      const judged = preflight(this.wanted, this.proxmox, facts, reserved);
      if (judged.kind === 'ping') {
        for (const [address, answered] of await this.ping(api, judged.addresses)) facts.pings.set(address, answered);
        continue;
      }
      if (judged.kind === 'refused') throw await this.refused(judged.problems);
      if (judged.kind === 'create') {
        this.report.node = judged.node;
        this.report.address = judged.address;
        this.report.vmid = judged.firstVmid;
        return judged;
      }
      const state = await this.readVm(judged.vm);
      if (unfinished(state.config))
        this.address = await this.resolveAddress(reserved, { vmid: judged.vm.vmid, config: state.config });
      return { kind: 'found', vm: judged.vm, state };
    }
  }

  /** The lock of the VM's name: held, another run is making it (refused, exit 3, naming that run). */
  async takeNameLock(lock: HostLock): Promise<void> {
    const { RefusedError } = await import('../lib/run/errors.js');
    const { describeHolder } = await import('../lib/run/host-lock.js');
    const holder = await lock.tryTake();
    if (holder === undefined) {
      this.locked = true;
      return;
    }
    throw new RefusedError(
      messages.vmAnotherRun(this.wanted.name, describeHolder(holder)),
      messages.vmAnotherRunHint(lock.directory, lock.host.name),
    );
  }

  /** The address of a VM being continued: its config's, or one chosen now (pinging as needed). */
  async resolveAddress(
    reserved: Set<string>,
    own: { vmid: number; config: VmConfig },
  ): Promise<{ address: string; prefix: number }> {
    const { chooseAddress } = await import('../lib/proxmox/vm.js');
    for (;;) {
      const chosen = chooseAddress(this.wanted, this.facts!, reserved, own);
      if ('ping' in chosen) {
        for (const [address, answered] of await this.ping(this.api!, chosen.ping))
          this.facts!.pings.set(address, answered);
      } else if ('problem' in chosen) throw await this.refused([chosen.problem]);
      else return chosen;
    }
  }

  async refused(problems: Said[]): Promise<Error> {
    const { RefusedError } = await import('../lib/run/errors.js');
    this.report.problems = problems;
    return new RefusedError(
      messages.vmRefused(this.wanted.name, problems.map((p) => p.text).join('; ')),
      messages.vmRefusedHint,
    );
  }

  /** The first pve host that answers; none: the last one's error (exit 5). */
  async apiNode(): Promise<Host> {
    for (const host of this.pveHosts) {
      try {
        await this.ctx.pool.connect(host);
        this.tried.push({ host });
        this.api = host;
        return host;
      } catch (error) {
        this.tried.push({ host, error });
        if (this.ctx.signal.aborted) throw error;
      }
    }
    throw this.tried.at(-1)!.error;
  }

  /**
   * Everything the preflight needs, all at once: the API's answers and /etc/pve's files in one
   * session; beside it, the VMs' configs (a quick grep), then a ping of the first addresses that
   * none of them or the inventory names (a free address is silent for the whole ping's wait).
   */
  async readCluster(api: Host, reserved: Set<string>): Promise<ClusterFacts> {
    const { atOnce } = await import('../lib/remote/at-once.js');
    const api_ = await import('../lib/proxmox/api.js');
    const { chooseAddress } = await import('../lib/proxmox/vm.js');
    const { pvesh } = api_;
    const { template, securityGroup, backupJob } = this.wanted;
    const configs = this.ctx.executor.fact(api, { command: api_.qemuConfigsCommand, parse: api_.parseQemuConfigs });
    // The first addresses the inventory leaves free are pinged at once; if the VMs' configs name
    // every one of them, the next ones are pinged as soon as the configs say so.
    const none = { resources: { vms: [], nodes: [] }, configs: [], pings: new Map<string, boolean>() };
    const first = chooseAddress(this.wanted, none, reserved);
    const round = 'ping' in first ? first.ping : [];
    const firstPings = this.ping(api, round);
    const pings = (async () => {
      const known = await configs;
      const configured = new Set(known.flatMap((vm) => vm.addresses));
      if (round.length === 0 || round.some((address) => !configured.has(address))) return firstPings;
      const asked = new Map(round.map((address) => [address, true]));
      const next = chooseAddress(this.wanted, { ...none, configs: known, pings: asked }, reserved);
      const [answers, more] = await Promise.all([firstPings, 'ping' in next ? this.ping(api, next.ping) : new Map()]);
      return new Map([...answers, ...more]);
    })();
    const questions: { name: string; command: RemoteCommand }[] = [
      { name: 'resources', command: api_.resourcesCommand },
      { name: 'template', command: api_.readPveFile(api_.confPath(template.node, template.vmid)) },
      ...(securityGroup !== undefined ? [{ name: 'groups', command: api_.readPveFile(api_.CLUSTER_FIREWALL) }] : []),
      ...(backupJob !== undefined ? [{ name: 'job', command: api_.readPveFile(api_.JOBS_CFG) }] : []),
      ...(this.proxmox.vmids ? [] : [{ name: 'nextid', command: pvesh('get', '/cluster/nextid') }]),
    ];
    const [parts, configsRead, pinged] = await Promise.all([
      this.ctx.executor.fact(api, atOnce(questions.map((q) => q.command))),
      configs,
      pings,
      firstPings,
    ]);
    const part = (name: string) => parts[questions.findIndex((q) => q.name === name)];
    const required = (name: string) => {
      const answer = part(name)!;
      if (answer.code !== 0)
        throw new Error(messages.vmReadFailed(api.name, name, lastLine(answer.stderr) || `exit ${answer.code}`));
      return answer.stdout;
    };
    // An absent file reads as nothing: no template config, no such job.
    const templateText = required('template');
    const job = backupJob === undefined ? undefined : api_.parseJobsCfg(required('job'), backupJob);
    return {
      resources: api_.parseResources(required('resources')),
      configs: configsRead,
      pings: pinged,
      ...(securityGroup !== undefined ? { groups: api_.parseClusterGroups(required('groups')) } : {}),
      ...(job ? { job } : {}),
      ...(this.proxmox.vmids ? {} : { nextid: api_.parseNextId(required('nextid')) }),
      ...(templateText.trim() ? { template: api_.parseConfFile(templateText) } : {}),
    };
  }

  /** Asks the network about these addresses, all at once: whether each answered. */
  async ping(api: Host, addresses: string[]): Promise<Map<string, boolean>> {
    if (addresses.length === 0) return new Map();
    const { atOnce } = await import('../lib/remote/at-once.js');
    const { pingCommand } = await import('../lib/proxmox/api.js');
    const parts = await this.ctx.executor.fact(api, atOnce(addresses.map(pingCommand)));
    return new Map(addresses.map((address, i) => [address, parts[i]!.code === 0]));
  }

  /** A VM's state: its config, whether it runs (asked of its node), its firewall, whether the backup job has it. */
  async readVm(vm: ClusterVm): Promise<VmState> {
    const { atOnce } = await import('../lib/remote/at-once.js');
    const api_ = await import('../lib/proxmox/api.js');
    const { pvesh, vmPath } = api_;
    const { backupJob } = this.wanted;
    const commands = [
      api_.readPveFile(api_.confPath(vm.node, vm.vmid)),
      pvesh('get', vmPath(vm.node, vm.vmid, '/status/current')),
      api_.readPveFile(api_.vmFirewallPath(vm.vmid)),
      ...(backupJob !== undefined ? [api_.readPveFile(api_.JOBS_CFG)] : []),
    ];
    const parts = await this.ctx.executor.fact(await this.on(vm.node), atOnce(commands));
    const what = [api_.confPath(vm.node, vm.vmid), 'status/current', api_.vmFirewallPath(vm.vmid), api_.JOBS_CFG];
    const [config, status, firewall, jobs] = parts.map((p, i) => {
      if (p.code !== 0)
        throw new Error(messages.vmReadFailed(vm.node, what[i]!, lastLine(p.stderr) || `exit ${p.code}`));
      return p.stdout;
    });
    const { enabled, rules } = api_.parseVmFirewall(firewall!);
    const job = backupJob === undefined ? undefined : api_.parseJobsCfg(jobs!, backupJob);
    return {
      vm: { ...vm, status: api_.parseVmStatus(status!) },
      config: api_.parseConfFile(config!),
      firewall: enabled,
      rules,
      ...(backupJob !== undefined ? { inJob: job !== undefined && api_.jobIncludes(job, vm.vmid) } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // 2-6. Clone (or continue), configure, start and reach, verify, finish

  async make(
    found: { vm: ClusterVm; state: VmState } | undefined,
    plan: { node: string; address: string; prefix: number; firstVmid: number } | undefined,
    progress: (text: string) => void,
    live: boolean,
  ): Promise<void> {
    let vmid: number;
    let node: string;
    let address: { address: string; prefix: number };
    let config: VmConfig | undefined;
    // What cloud-init gets is worked out here while the node copies the disk.
    const guest = this.guestSettings(found ? this.address! : { address: plan!.address, prefix: plan!.prefix });
    guest.catch(() => undefined);
    if (found) {
      ({ vmid, node } = found.vm);
      this.made = { vmid, node };
      config = found.state.config;
      await this.fill(found.vm, config);
      address = this.address!;
      this.report.address = address.address;
      progress(messages.vmContinuing(this.wanted.name, vmid, node));
    } else {
      node = plan!.node;
      address = { address: plan!.address, prefix: plan!.prefix };
      await this.step('clone', progress, async () => {
        vmid = await this.clone(node, plan!.firstVmid, progress, live);
        return messages.vmCloned(this.wanted.template.name, vmid, node);
      });
      vmid = this.report.vmid!;
    }
    if (this.ctx.signal.aborted) return;
    const settings = await guest;
    await this.step('configure', progress, () => this.configure(vmid, node, settings, config));
    if (this.ctx.signal.aborted) return;
    // The backup job, then the cluster's checks, while the VM boots and its agent comes up: neither
    // needs the guest, and the node has little else to do meanwhile.
    this.sideline = (async () => {
      if (this.wanted.backupJob !== undefined) await this.step('backup', progress, () => this.joinBackupJob(vmid));
      await this.step('verify', progress, () => this.verify(vmid, node));
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
    if (this.#vmHost?.addresses[0] === address) return this.#vmHost;
    const { readInventoryText, parseInventory } = await import('../lib/inventory/load.js');
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(await readInventoryText(this.ctx.inventory.file));
    const { name, ...entry } = this.savedHost(address);
    doc.setIn(['hosts', name], doc.createNode(entry));
    const host = parseInventory(doc.toString(), this.ctx.inventory.file).hosts.find((h) => h.name === name)!;
    this.#vmHost = host;
    return host;
  }

  savedHost(address: string) {
    return { name: this.wanted.name, address, ...(this.wanted.role ? { roles: [this.wanted.role.name] } : {}) };
  }

  /** A free VMID and the clone into it; "already exists" or a lock timeout: again, a new id, after a pause. */
  async clone(node: string, firstVmid: number, progress: (text: string) => void, live: boolean): Promise<number> {
    const { waitUntil } = await import('../lib/run/wait.js');
    const { ChatonError, ExitCode, InterruptedError } = await import('../lib/run/errors.js');
    const { cloneRetryable, pvesh, vmPath } = await import('../lib/proxmox/api.js');
    const { NOT_FINISHED, nextVmid } = await import('../lib/proxmox/vm.js');
    const { template } = this.wanted;
    const used = new Set([...this.facts!.resources.vms, ...this.facts!.configs].map((vm) => vm.vmid));
    let vmid = firstVmid;
    const description = `${NOT_FINISHED} (${this.ctx.operator}, ${new Date().toISOString()})`;
    return waitUntil({
      poll: async () => {
        const args = ['--newid', String(vmid), '--name', this.wanted.name, '--full', '1', '--description', description];
        if (node !== template.node) args.push('--target', node);
        if (this.wanted.storage) args.push('--storage', this.wanted.storage);
        this.report.vmid = vmid;
        // From now on a failure may have left a VM: the cleanup looks (and removes only ours).
        this.made = { vmid, node };
        const error = await this.task(
          template.node,
          pvesh('create', vmPath(template.node, template.vmid, '/clone'), ...args),
        );
        if (error === undefined) return { done: true, value: vmid };
        const retry = cloneRetryable(error);
        this.report.attempts.push({ vmid, error });
        if (!retry) throw new ChatonError(messages.vmCloneFailed(vmid, error), ExitCode.failed);
        // Refused before anything was made: the VM there now, if any, is someone else's.
        this.made = undefined;
        used.add(vmid);
        const next = nextVmid(this.proxmox, used, this.facts!.nextid, vmid);
        if (next === undefined) throw new ChatonError(messages.vmCloneFailed(vmid, error), ExitCode.failed);
        const waiting = retry === 'vmid-taken' ? messages.vmIdTaken(vmid, next) : messages.vmLockTimeout(vmid, next);
        vmid = next;
        return { done: false, waiting };
      },
      boundMs: CLONE_RETRY_BOUND_MS,
      intervalMs: (polls) => Math.min(250 * 2 ** (polls - 1), 4000),
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: (waiting) => new ChatonError(messages.vmCloneGaveUp(waiting), ExitCode.failed),
      interrupted: () => new InterruptedError(),
    });
  }

  /**
   * Runs a task (clone, start, stop, resize, delete) in the foreground as pvesh does: undefined when
   * it ended well, else why not, as its status says. Dry-run plans it.
   */
  async task(node: string, cmd: RemoteCommand): Promise<string | undefined> {
    const { parseUpid, parseTaskStatus, taskStatusCommand, taskSucceeded, upidNode } =
      await import('../lib/proxmox/api.js');
    const result = await this.ctx.executor.run(await this.on(node), cmd, {
      kind: 'change',
      check: false,
      timeoutMs: TASK_TIMEOUT_MS,
    });
    if (result.dryRun) return undefined;
    const stderr = result.stderr.toString();
    const upid = parseUpid(result.stdout.toString());
    if (!upid) return result.code === 0 ? messages.vmNoUpid : lastLine(stderr) || `exit ${result.code}`;
    // A task that ended well says nothing on stderr (its log goes to stdout; fork_worker's tee puts
    // only "TASK ERROR" and "finished with N warning(s)" there): its status is asked only then.
    if (result.code === 0 && stderr.trim() === '') return undefined;
    const status = parseTaskStatus(
      (
        await this.ctx.executor.run(await this.on(upidNode(upid)), taskStatusCommand(upid), {
          kind: 'probe',
          afterInterrupt: true,
        })
      ).stdout.toString(),
    );
    return taskSucceeded(status) ? undefined : (status.exitstatus ?? lastLine(stderr) ?? messages.vmTaskRunning);
  }

  /** A change that must succeed (synchronous API calls), on the node it is about. */
  async change(node: string, cmd: RemoteCommand): Promise<void> {
    await this.ctx.executor.run(await this.on(node), cmd, { kind: 'change', timeoutMs: TASK_TIMEOUT_MS });
  }

  async mustTask(node: string, cmd: RemoteCommand): Promise<void> {
    const { ChatonError, ExitCode } = await import('../lib/run/errors.js');
    const error = await this.task(node, cmd);
    if (error !== undefined) throw new ChatonError(messages.vmTaskFailed(node, error), ExitCode.failed);
  }

  readonly #nodes = new Map<string, Promise<Host>>();

  /**
   * Where to run a call about a node: that node itself when the inventory has it as a pve host
   * (by the cluster's name for it) and it answers, else the API node, whose pvesh hands the call
   * over to it through SSH (one more hop each call: a quarter of a second or more).
   */
  on(node: string): Promise<Host> {
    let host = this.#nodes.get(node);
    if (!host) {
      const named = this.pveHosts.find((candidate) => candidate.name === node);
      host =
        !named || named === this.api
          ? Promise.resolve(this.api!)
          : this.ctx.pool.connect(named).then(
              () => named,
              () => this.api!,
            );
      this.#nodes.set(node, host);
    }
    return host;
  }

  /**
   * Only what differs: the config, the disk, the firewall and its group, the backup job. A VM this
   * run just cloned is the template's config under a new name (and a new MAC address, which the NIC
   * gets anew: `virtio,bridge=...` without one makes Proxmox draw another): nothing to read first.
   * A VM being continued is read.
   */
  async configure(vmid: number, node: string, guest: GuestSettings, continued: VmConfig | undefined): Promise<string> {
    const { configChanges, hasGroupRule } = await import('../lib/proxmox/vm.js');
    const { parseNic, pvesh, vmPath } = await import('../lib/proxmox/api.js');
    const state = continued
      ? await this.readVm({ vmid, node, type: 'qemu', status: 'stopped', template: false, maxmem: 0 })
      : undefined;
    const template = this.facts!.template!;
    const nic = parseNic(template.net0 ?? '');
    const cloned: VmConfig = {
      ...template,
      net0: [nic.model ?? 'virtio', ...(nic.bridge ? [`bridge=${nic.bridge}`] : [])].join(','),
    };
    const config = state?.config ?? cloned;
    const done: string[] = [];
    const changes = configChanges(config, this.wanted, guest);
    const path = (rest: string) => vmPath(node, vmid, rest);
    const group = this.wanted.securityGroup;
    // Two at once: the VM's config and disk (one lock, one after the other), and its firewall file
    // (another lock). Changes under one lock side by side would each wait for the other's lock.
    const named = (keys: string[]) => keys.filter((word) => word.startsWith('--')).map((word) => word.slice(2));
    await Promise.all([
      (async () => {
        if (changes.set.length > 0) {
          await this.change(node, pvesh('set', path('/config'), ...changes.set));
          done.push(messages.vmSetKeys(named(changes.set).join(', ')));
        }
        if (changes.resize) {
          const { disk, size } = changes.resize;
          await this.mustTask(node, pvesh('set', path('/resize'), '--disk', disk, '--size', size));
          done.push(messages.vmResized(disk, size));
        }
      })(),
      (async () => {
        if (!state?.firewall) {
          await this.change(node, pvesh('set', path('/firewall/options'), '--enable', '1'));
          done.push(messages.vmFirewallOn);
        }
        if (group !== undefined && !(state && hasGroupRule(state.rules, group))) {
          const rule = ['--type', 'group', '--action', group, '--iface', 'net0', '--enable', '1'];
          await this.change(node, pvesh('create', path('/firewall/rules'), ...rule));
          done.push(messages.vmGroupAdded(group));
        }
      })(),
    ]);
    return done.length > 0 ? done.join(messages.separator) : messages.vmAlreadyConfigured;
  }

  /**
   * Setting a job's `vmid` replaces its list, and the API takes no digest for it: two runs at once
   * would each write their own list. So the read and the write happen under a lock of chaton's on
   * the API node (other runs of chaton wait for it); the verify step checks the result.
   */
  async joinBackupJob(vmid: number): Promise<string> {
    const { JOBS_CFG, jobIncludes, parseJobsCfg, pvesh, readPveFile } = await import('../lib/proxmox/api.js');
    const { HostLock } = await import('../lib/run/host-lock.js');
    const { waitUntil } = await import('../lib/run/wait.js');
    const { InterruptedError, LockHeldError } = await import('../lib/run/errors.js');
    const { describeHolder } = await import('../lib/run/host-lock.js');
    const id = this.wanted.backupJob!;
    const jobPath = `/cluster/backup/${id}`;
    if (this.ctx.options.dryRun) {
      const job = this.facts!.job!;
      const list = job.all ? job.exclude.filter((other) => other !== vmid) : [...job.vmids, vmid];
      await this.change(this.api!.name, pvesh('set', jobPath, job.all ? '--exclude' : '--vmid', list.join(',')));
      return messages.vmJobJoined(id);
    }
    const lock = new HostLock(this.ctx, this.api!, `vm-create-backup-job-${id}`);
    await waitUntil({
      poll: async () => {
        const holder = await lock.tryTake();
        return holder === undefined
          ? { done: true, value: undefined }
          : { done: false, waiting: messages.vmJobLockWait(id, describeHolder(holder)) };
      },
      boundMs: LOCK_WAIT_MS,
      intervalMs: 200,
      signal: this.ctx.signal,
      progress: () => undefined,
      live: false,
      timedOut: () => new LockHeldError(this.api!.name, lock.name, '', lock.directory, undefined),
      interrupted: () => new InterruptedError(),
    });
    try {
      const jobs = await this.ctx.executor.run(this.api!, readPveFile(JOBS_CFG), { kind: 'probe' });
      const job = parseJobsCfg(jobs.stdout.toString(), id);
      if (!job) throw new Error(messages.vmJobGone(id));
      if (jobIncludes(job, vmid)) return messages.vmJobAlready(id);
      if (job.all)
        await this.change(
          this.api!.name,
          pvesh('set', jobPath, '--exclude', job.exclude.filter((other) => other !== vmid).join(',')),
        );
      else await this.change(this.api!.name, pvesh('set', jobPath, '--vmid', [...job.vmids, vmid].join(',')));
      return messages.vmJobJoined(id);
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  /** Started, its agent's answer awaited, its host key read through it and recorded. */
  async start(
    vmid: number,
    node: string,
    host: Host,
    status: string | undefined,
    progress: (text: string) => void,
    live: boolean,
  ): Promise<string> {
    const { pvesh, vmPath } = await import('../lib/proxmox/api.js');
    const { keyPhrase } = await import('../lib/ssh/known-hosts.js');
    if (status !== 'running') await this.mustTask(node, pvesh('create', vmPath(node, vmid, '/status/start')));
    if (this.ctx.options.dryRun) {
      // What would be read once it answers, and the first connection.
      await this.change(node, pvesh('get', vmPath(node, vmid, '/agent/network-get-interfaces')));
      await this.change(node, pvesh('get', vmPath(node, vmid, '/agent/file-read'), '--file', HOST_KEY_FILE));
      return messages.vmStartPlanned;
    }
    const agent = await this.awaitAgent(vmid, node, progress, live);
    const address = host.addresses[0]!;
    if (!agent.addresses.includes(address)) {
      const { ChatonError, ExitCode } = await import('../lib/run/errors.js');
      throw new ChatonError(
        messages.vmAddressMissing(address, agent.addresses.join(', ') || '-'),
        ExitCode.failed,
        messages.vmAddressMissingHint,
      );
    }
    const { parseHostPublicKey, recordHostKey } = await import('../lib/ssh/known-hosts.js');
    const { fingerprint } = await import('../lib/ssh/key-blob.js');
    const blob = parseHostPublicKey(agent.hostKey);
    this.report.fingerprint = fingerprint(blob);
    const file = host.ssh.knownHosts[0]!;
    await recordHostKey(file, host.addresses, host.port, blob);
    this.ctx.pool.forgetKnownHosts();
    return messages.vmKeyRecorded(keyPhrase(blob), file);
  }

  /** Bounded: the agent's interfaces and the guest's host key, read together at each look. */
  async awaitAgent(
    vmid: number,
    node: string,
    progress: (text: string) => void,
    live: boolean,
  ): Promise<{ addresses: string[]; hostKey: string }> {
    const { atOnce } = await import('../lib/remote/at-once.js');
    const { agentNotYet, parseAgentAddresses, parseFileRead, pvesh, vmPath } = await import('../lib/proxmox/api.js');
    const { waitUntil } = await import('../lib/run/wait.js');
    const { ChatonError, ExitCode, InterruptedError } = await import('../lib/run/errors.js');
    const batch = atOnce([
      pvesh('get', vmPath(node, vmid, '/agent/network-get-interfaces')),
      pvesh('get', vmPath(node, vmid, '/agent/file-read'), '--file', HOST_KEY_FILE),
    ]);
    return waitUntil({
      poll: async () => {
        const [nics, key] = await this.ctx.executor.fact(await this.on(node), batch);
        if (nics!.code === 0 && key!.code === 0) {
          return {
            done: true,
            value: { addresses: parseAgentAddresses(nics!.stdout), hostKey: parseFileRead(key!.stdout) },
          };
        }
        const said = lastLine(nics!.code !== 0 ? nics!.stderr : key!.stderr);
        if (nics!.code !== 0 && !agentNotYet(said))
          throw new ChatonError(messages.vmAgentFailed(vmid, said), ExitCode.failed);
        return { done: false, waiting: messages.vmAgentWaiting(vmid, said) };
      },
      boundMs: this.options.agentMs,
      intervalMs: AGENT_INTERVAL_MS,
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: (waiting) =>
        new ChatonError(
          messages.vmAgentTimedOut(vmid, Math.round(this.options.agentMs / 1000), waiting),
          ExitCode.failed,
          messages.vmAgentTimedOutHint,
        ),
      interrupted: () => new InterruptedError(),
    });
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

  /** On the cluster: in a backup job (not listed by not-backed-up), the firewall on with its group. */
  async verify(vmid: number, node: string): Promise<string> {
    const { atOnce } = await import('../lib/remote/at-once.js');
    const api_ = await import('../lib/proxmox/api.js');
    const { hasGroupRule } = await import('../lib/proxmox/vm.js');
    const { VerificationError } = await import('../lib/run/errors.js');
    const commands = [
      api_.pvesh('get', '/cluster/backup-info/not-backed-up'),
      api_.readPveFile(api_.vmFirewallPath(vmid)),
      api_.readPveFile(api_.confPath(node, vmid)),
    ];
    if (this.ctx.options.dryRun) {
      for (const cmd of commands) await this.change(node, cmd);
      return messages.vmVerifyPlanned;
    }
    const [backup, firewall, config] = await this.ctx.executor.fact(await this.on(node), atOnce(commands));
    const problems: string[] = [];
    for (const [name, p] of [
      ['/cluster/backup-info/not-backed-up', backup],
      [api_.vmFirewallPath(vmid), firewall],
      [api_.confPath(node, vmid), config],
    ] as const) {
      if (p!.code !== 0) problems.push(messages.vmReadFailed(node, name, lastLine(p!.stderr)));
    }
    if (problems.length === 0) {
      if (api_.parseNotBackedUp(backup!.stdout).includes(vmid)) problems.push(messages.vmNotBackedUp(vmid));
      const { enabled, rules } = api_.parseVmFirewall(firewall!.stdout);
      const nic = api_.parseNic(api_.parseConfFile(config!.stdout).net0 ?? '');
      if (!enabled || !nic.firewall) problems.push(messages.vmFirewallOff(vmid));
      const group = this.wanted.securityGroup;
      if (group !== undefined && !hasGroupRule(rules, group)) problems.push(messages.vmGroupMissing(vmid, group));
    }
    if (problems.length > 0) throw new VerificationError(this.wanted.name, problems);
    return messages.vmVerified;
  }

  /** The description says it is done (a rerun compares it instead of continuing it); --save. */
  async finish(vmid: number, node: string, address: string): Promise<string> {
    const { pvesh, vmPath } = await import('../lib/proxmox/api.js');
    const { MADE_BY } = await import('../lib/proxmox/vm.js');
    await this.change(
      node,
      pvesh(
        'set',
        vmPath(node, vmid, '/config'),
        '--description',
        `${MADE_BY} (${this.ctx.operator}, ${new Date().toISOString()})`,
      ),
    );
    this.made = undefined;
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
      if (this.made) this.ctx.notices.push(messages.vmInterruptedRerun(this.made.vmid));
      return this.result(error, ExitCode.interrupted);
    }
    if (this.made && !this.ctx.options.dryRun && (await this.ours(this.made))) {
      const { pvesh, vmPath } = await import('../lib/proxmox/api.js');
      const { vmid, node } = this.made;
      const cleanup = performance.now();
      const entry: VmStep = { step: 'cleanup', outcome: 'done', durationMs: 0, detail: '' };
      this.report.steps.push(entry);
      try {
        await this.task(node, pvesh('create', vmPath(node, vmid, '/status/stop')));
        if (this.options.keepOnFailure) {
          this.report.outcome = 'kept';
          entry.detail = messages.vmKept(vmid, node);
        } else {
          const why = await this.task(
            node,
            pvesh('delete', vmPath(node, vmid), '--purge', '1', '--destroy-unreferenced-disks', '1'),
          );
          if (why !== undefined) throw new Error(why);
          this.report.outcome = 'destroyed';
          entry.detail = messages.vmDestroyed(vmid, node);
        }
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

  /** Whether the VM there is this run's: named so, and still unfinished. Never remove someone else's. */
  async ours(made: { vmid: number; node: string }): Promise<boolean> {
    const { confPath, parseConfFile, readPveFile } = await import('../lib/proxmox/api.js');
    const { unfinished } = await import('../lib/proxmox/vm.js');
    try {
      const read = await this.ctx.executor.run(await this.on(made.node), readPveFile(confPath(made.node, made.vmid)), {
        kind: 'probe',
        afterInterrupt: true,
      });
      const config = parseConfFile(read.stdout.toString());
      return config.name === this.wanted.name && unfinished(config);
    } catch {
      return false;
    }
  }

  /** The VM found, as the report tells it. */
  async fill(vm: ClusterVm, config: VmConfig): Promise<void> {
    const { ipconfigAddress } = await import('../lib/proxmox/api.js');
    this.report.vmid = vm.vmid;
    this.report.node = vm.node;
    this.report.address = (config.ipconfig0 && ipconfigAddress(config.ipconfig0)) ?? null;
  }

  async result(error?: unknown, exitCode?: number): Promise<CommandResult> {
    const { ChatonError, ExitCode } = await import('../lib/run/errors.js');
    const { errorReport } = await import('../lib/run/report.js');
    const { vmReportFields, vmReportView } = await import('../lib/proxmox/render.js');
    this.report.totalMs = Math.round(performance.now() - this.started);
    const code =
      exitCode ??
      (this.ctx.signal.aborted
        ? ExitCode.interrupted
        : error instanceof ChatonError
          ? error.exitCode
          : ExitCode.failed);
    if (error !== undefined && this.report.failure === null) this.report.failure = errorReport(error);
    const hosts = this.tried.map(({ host, error: hostError }) => ({
      host: host.name,
      ok: hostError === undefined,
      error: hostError === undefined ? null : errorReport(hostError),
    }));
    return {
      exitCode: code as CommandResult['exitCode'],
      hosts,
      fields: vmReportFields(this.report),
      ...(error !== undefined ? { error } : {}),
      view: vmReportView(this.report),
    };
  }
}

/** The last line a command said: pvesh's error. */
function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}
