// `vm create`'s view of the Proxmox cluster (src/commands/vm-create.ts): the API node, where a call
// about a node runs (`on`), tasks and changes as pvesh runs them, and the preflight's reads of the
// cluster and of a VM with their judgement. The steps that change the cluster build on it
// (vm-operations.ts). The run's pieces come in explicitly: executor, pool, signal, dry-run, operator.
import { atOnce } from '../remote/at-once.js';
import type { Executor } from '../remote/executor.js';
import type { RemoteCommand } from '../remote/shell.js';
import type { Host } from '../inventory/types.js';
import { ChatonError, ExitCode, RefusedError } from '../run/errors.js';
import { HostLock, describeHolder } from '../run/host-lock.js';
import type { ConnectionPool } from '../ssh/pool.js';
import * as api_ from './api.js';
import type { ClusterVm } from './api.js';
import type { ProxmoxSection } from './inventory.js';
import { operationMessages as messages } from './messages.js';
import {
  chooseAddress,
  preflight,
  unfinished,
  type ClusterFacts,
  type Preflight,
  type VmState,
  type WantedVm,
} from './vm.js';

const { pvesh, vmPath } = api_;

/** A clone copies a whole disk: long on a real cluster. Config changes are quick. */
const TASK_TIMEOUT_MS = 30 * 60_000;

/** The pieces of a run the calls use. */
export interface OperationsRun {
  readonly executor: Executor;
  readonly pool: ConnectionPool;
  readonly signal: AbortSignal;
  readonly dryRun: boolean;
  readonly operator: string;
}

/** What the preflight found: refused, a VM to make, or one of that name (unfinished: with its address). */
export type Judged =
  | Exclude<Preflight, { kind: 'found' } | { kind: 'ping' }>
  | { kind: 'found'; vm: ClusterVm; state: VmState; address?: { address: string; prefix: number } };

/** The cluster as one `vm create` run reaches it: through its API node, or a node itself. */
export class VmCluster {
  /** The first pve host that answered (connectApi). */
  api: Host | undefined;
  /** What the preflight read. */
  facts: ClusterFacts | undefined;
  readonly #nodes = new Map<string, Promise<Host>>();
  /** The lock of the VM's name, once taken. */
  #nameLock: HostLock | undefined;

  constructor(
    protected readonly run: OperationsRun,
    protected readonly proxmox: ProxmoxSection,
    protected readonly wanted: WantedVm,
    protected readonly pveHosts: Host[],
  ) {}

  // -------------------------------------------------------------------------------------------
  // Reads

  /** The first pve host that answers, each one tried listed in `tried`; none: the last one's error (exit 5). */
  async connectApi(tried: { host: Host; error?: unknown }[]): Promise<Host> {
    for (const host of this.pveHosts) {
      try {
        await this.run.pool.connect(host);
        tried.push({ host });
        this.api = host;
        return host;
      } catch (error) {
        tried.push({ host, error });
        if (this.run.signal.aborted) throw error;
      }
    }
    throw tried.at(-1)!.error;
  }

  /** The lock of the VM's name on the API node: held, another run is making it (refused, exit 3, naming that run). */
  async lockName(): Promise<void> {
    const lock = new HostLock(this.run, this.api!, `vm-create-${this.wanted.name}`);
    const holder = await lock.tryTake();
    if (holder !== undefined)
      throw new RefusedError(
        messages.vmAnotherRun(this.wanted.name, describeHolder(holder)),
        messages.vmAnotherRunHint(lock.directory, lock.host.name),
      );
    this.#nameLock = lock;
  }

  async unlockName(): Promise<void> {
    await this.#nameLock?.release().catch(() => undefined);
  }

  /**
   * The preflight's judgement (vm.ts `preflight`) of the facts read, the network asked again while
   * it needs more pings; a VM of that name found: its state, and for an unfinished one the address
   * it gets (its config's, or one chosen now).
   */
  async judge(reserved: Set<string>): Promise<Judged> {
    const facts = this.facts!;
    for (;;) {
      const judged = preflight(this.wanted, this.proxmox, facts, reserved);
      if (judged.kind === 'ping') {
        await this.pingInto(judged.addresses);
        continue;
      }
      if (judged.kind !== 'found') return judged;
      const state = await this.readVm(judged.vm);
      if (!unfinished(state.config)) return { kind: 'found', vm: judged.vm, state };
      for (;;) {
        const chosen = chooseAddress(this.wanted, facts, reserved, { vmid: judged.vm.vmid, config: state.config });
        if ('ping' in chosen) await this.pingInto(chosen.ping);
        else if ('problem' in chosen) return { kind: 'refused', problems: [chosen.problem] };
        else return { kind: 'found', vm: judged.vm, state, address: chosen };
      }
    }
  }

  /** Pings from the API node, the answers added to the facts. */
  async pingInto(addresses: string[]): Promise<void> {
    for (const [address, answered] of await this.ping(this.api!, addresses)) this.facts!.pings.set(address, answered);
  }

  /**
   * Everything the preflight needs, all at once: the API's answers and /etc/pve's files in one
   * session; beside it, the VMs' configs (a quick grep), then a ping of the first addresses that
   * none of them or the inventory names (a free address is silent for the whole ping's wait).
   */
  async readCluster(api: Host, reserved: Set<string>): Promise<ClusterFacts> {
    const { template, securityGroup, backupJob } = this.wanted;
    const configs = this.run.executor.fact(api, { command: api_.qemuConfigsCommand, parse: api_.parseQemuConfigs });
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
      this.run.executor.fact(api, atOnce(questions.map((q) => q.command))),
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
    const parts = await this.run.executor.fact(api, atOnce(addresses.map(api_.pingCommand)));
    return new Map(addresses.map((address, i) => [address, parts[i]!.code === 0]));
  }

  /** A VM's state: its config, whether it runs (asked of its node), its firewall, whether the backup job has it. */
  async readVm(vm: ClusterVm): Promise<VmState> {
    const { backupJob } = this.wanted;
    const commands = [
      api_.readPveFile(api_.confPath(vm.node, vm.vmid)),
      pvesh('get', vmPath(vm.node, vm.vmid, '/status/current')),
      api_.readPveFile(api_.vmFirewallPath(vm.vmid)),
      ...(backupJob !== undefined ? [api_.readPveFile(api_.JOBS_CFG)] : []),
    ];
    const parts = await this.run.executor.fact(await this.on(vm.node), atOnce(commands));
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
  // Calls on a node: tasks and changes

  /**
   * Runs a task (clone, start, stop, resize, delete) in the foreground as pvesh does: undefined when
   * it ended well, else why not, as its status says. Dry-run plans it.
   */
  async task(node: string, cmd: RemoteCommand): Promise<string | undefined> {
    const result = await this.run.executor.run(await this.on(node), cmd, {
      kind: 'change',
      check: false,
      timeoutMs: TASK_TIMEOUT_MS,
    });
    if (result.dryRun) return undefined;
    const stderr = result.stderr.toString();
    const upid = api_.parseUpid(result.stdout.toString());
    if (!upid) return result.code === 0 ? messages.vmNoUpid : lastLine(stderr) || `exit ${result.code}`;
    // A task that ended well says nothing on stderr (its log goes to stdout; fork_worker's tee puts
    // only "TASK ERROR" and "finished with N warning(s)" there): its status is asked only then.
    if (result.code === 0 && stderr.trim() === '') return undefined;
    const status = api_.parseTaskStatus(
      (
        await this.run.executor.run(await this.on(api_.upidNode(upid)), api_.taskStatusCommand(upid), {
          kind: 'probe',
          afterInterrupt: true,
        })
      ).stdout.toString(),
    );
    return api_.taskSucceeded(status) ? undefined : (status.exitstatus ?? lastLine(stderr) ?? messages.vmTaskRunning);
  }

  /** A change that must succeed (synchronous API calls), on the node it is about. */
  async change(node: string, cmd: RemoteCommand): Promise<void> {
    await this.run.executor.run(await this.on(node), cmd, { kind: 'change', timeoutMs: TASK_TIMEOUT_MS });
  }

  async mustTask(node: string, cmd: RemoteCommand): Promise<void> {
    const error = await this.task(node, cmd);
    if (error !== undefined) throw new ChatonError(messages.vmTaskFailed(node, error), ExitCode.failed);
  }

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
          : this.run.pool.connect(named).then(
              () => named,
              () => this.api!,
            );
      this.#nodes.set(node, host);
    }
    return host;
  }
}

/** The last line a command said: pvesh's error. */
export function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}
