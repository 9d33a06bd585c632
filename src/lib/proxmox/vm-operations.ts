// `vm create`'s steps that change the Proxmox cluster (src/commands/vm-create.ts runs them as its
// steps and reports them): the clone with its retries, the config changes, the backup job's
// read-modify-write under a lock, the start and the wait for the guest agent, the cluster's checks,
// the finished mark, and after a failure the cleanup of what this run made. They run through
// VmCluster (vm-cluster.ts). What needs another domain (the sysadmins' keys) or the ssh layer (the
// guest's host key recorded, the first connection) stays in the command.
import { atOnce } from '../remote/at-once.js';
import type { Host } from '../inventory/types.js';
import { ChatonError, ExitCode, InterruptedError, LockHeldError, VerificationError } from '../run/errors.js';
import { HostLock, describeHolder } from '../run/host-lock.js';
import { waitUntil } from '../run/wait.js';
import * as api_ from './api.js';
import type { VmConfig } from './api.js';
import type { ProxmoxSection } from './inventory.js';
import { operationMessages as messages } from './messages.js';
import type { VmReport } from './render.js';
import { VmCluster, lastLine, type OperationsRun } from './vm-cluster.js';
import {
  MADE_BY,
  NOT_FINISHED,
  configChanges,
  hasGroupRule,
  nextVmid,
  unfinished,
  type GuestSettings,
  type WantedVm,
} from './vm.js';

const { pvesh, vmPath } = api_;

const CLONE_RETRY_BOUND_MS = 2 * 60_000;
/** The agent answers when the guest has booted: looked at often, since the wait is the whole run's. */
const AGENT_INTERVAL_MS = 100;
const LOCK_WAIT_MS = 60_000;
const HOST_KEY_FILE = '/etc/ssh/ssh_host_ed25519_key.pub';

type Progress = (text: string) => void;

/** The changes of one `vm create` run, on the cluster reached through VmCluster. */
export class VmOperations extends VmCluster {
  /** Set once a VM of ours exists (cloned by this run, or an unfinished one found): what a failure removes. */
  made: { vmid: number; node: string } | undefined;

  constructor(
    run: OperationsRun,
    proxmox: ProxmoxSection,
    wanted: WantedVm,
    pveHosts: Host[],
    /** The clone's VMIDs and refused attempts are recorded in it. */
    private readonly report: VmReport,
  ) {
    super(run, proxmox, wanted, pveHosts);
  }

  // -------------------------------------------------------------------------------------------
  // 2-6. Clone, configure, backup job, start, verify, finish

  /** A free VMID and the clone into it; "already exists" or a lock timeout: again, a new id, after a pause. */
  async clone(node: string, firstVmid: number, progress: Progress, live: boolean): Promise<number> {
    const { template } = this.wanted;
    const used = new Set([...this.facts!.resources.vms, ...this.facts!.configs].map((vm) => vm.vmid));
    let vmid = firstVmid;
    const description = `${NOT_FINISHED} (${this.run.operator}, ${new Date().toISOString()})`;
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
        const retry = api_.cloneRetryable(error);
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
      signal: this.run.signal,
      progress,
      live,
      timedOut: (waiting) => new ChatonError(messages.vmCloneGaveUp(waiting), ExitCode.failed),
      interrupted: () => new InterruptedError(),
    });
  }

  /**
   * Only what differs: the config, the disk, the firewall and its group, the backup job. A VM this
   * run just cloned is the template's config under a new name (and a new MAC address, which the NIC
   * gets anew: `virtio,bridge=...` without one makes Proxmox draw another): nothing to read first.
   * A VM being continued is read. Returns what was done, in words (nothing: it was as wanted).
   */
  async configure(
    vmid: number,
    node: string,
    guest: GuestSettings,
    continued: VmConfig | undefined,
  ): Promise<string[]> {
    const state = continued
      ? await this.readVm({ vmid, node, type: 'qemu', status: 'stopped', template: false, maxmem: 0 })
      : undefined;
    const template = this.facts!.template!;
    const nic = api_.parseNic(template.net0 ?? '');
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
    return done;
  }

  /**
   * Setting a job's `vmid` replaces its list, and the API takes no digest for it: two runs at once
   * would each write their own list. So the read and the write happen under a lock of chaton's on
   * the API node (other runs of chaton wait for it); the verify step checks the result.
   */
  async joinBackupJob(vmid: number): Promise<string> {
    const id = this.wanted.backupJob!;
    const jobPath = `/cluster/backup/${id}`;
    if (this.run.dryRun) {
      const job = this.facts!.job!;
      const list = job.all ? job.exclude.filter((other) => other !== vmid) : [...job.vmids, vmid];
      await this.change(this.api!.name, pvesh('set', jobPath, job.all ? '--exclude' : '--vmid', list.join(',')));
      return messages.vmJobJoined(id);
    }
    const lock = new HostLock(this.run, this.api!, `vm-create-backup-job-${id}`);
    await waitUntil({
      poll: async () => {
        const holder = await lock.tryTake();
        return holder === undefined
          ? { done: true, value: undefined }
          : { done: false, waiting: messages.vmJobLockWait(id, describeHolder(holder)) };
      },
      boundMs: LOCK_WAIT_MS,
      intervalMs: 200,
      signal: this.run.signal,
      progress: () => undefined,
      live: false,
      timedOut: () => new LockHeldError(this.api!.name, lock.name, '', lock.directory, undefined),
      interrupted: () => new InterruptedError(),
    });
    try {
      const jobs = await this.run.executor.run(this.api!, api_.readPveFile(api_.JOBS_CFG), { kind: 'probe' });
      const job = api_.parseJobsCfg(jobs.stdout.toString(), id);
      if (!job) throw new Error(messages.vmJobGone(id));
      if (api_.jobIncludes(job, vmid)) return messages.vmJobAlready(id);
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

  /**
   * Started (unless it runs), then its agent's answer awaited: the guest's addresses, which must
   * hold `address`, and its SSH host key. Dry-run plans the reads and returns nothing.
   */
  async boot(
    vmid: number,
    node: string,
    status: string | undefined,
    address: string,
    wait: { agentMs: number; progress: Progress; live: boolean },
  ): Promise<{ addresses: string[]; hostKey: string } | undefined> {
    if (status !== 'running') await this.mustTask(node, pvesh('create', vmPath(node, vmid, '/status/start')));
    if (this.run.dryRun) {
      // What would be read once it answers, and the first connection.
      await this.change(node, pvesh('get', vmPath(node, vmid, '/agent/network-get-interfaces')));
      await this.change(node, pvesh('get', vmPath(node, vmid, '/agent/file-read'), '--file', HOST_KEY_FILE));
      return undefined;
    }
    const agent = await this.awaitAgent(vmid, node, wait);
    if (!agent.addresses.includes(address)) {
      throw new ChatonError(
        messages.vmAddressMissing(address, agent.addresses.join(', ') || '-'),
        ExitCode.failed,
        messages.vmAddressMissingHint,
      );
    }
    return agent;
  }

  /** Bounded: the agent's interfaces and the guest's host key, read together at each look. */
  async awaitAgent(
    vmid: number,
    node: string,
    { agentMs, progress, live }: { agentMs: number; progress: Progress; live: boolean },
  ): Promise<{ addresses: string[]; hostKey: string }> {
    const batch = atOnce([
      pvesh('get', vmPath(node, vmid, '/agent/network-get-interfaces')),
      pvesh('get', vmPath(node, vmid, '/agent/file-read'), '--file', HOST_KEY_FILE),
    ]);
    return waitUntil({
      poll: async () => {
        const [nics, key] = await this.run.executor.fact(await this.on(node), batch);
        if (nics!.code === 0 && key!.code === 0) {
          return {
            done: true,
            value: { addresses: api_.parseAgentAddresses(nics!.stdout), hostKey: api_.parseFileRead(key!.stdout) },
          };
        }
        const said = lastLine(nics!.code !== 0 ? nics!.stderr : key!.stderr);
        if (nics!.code !== 0 && !api_.agentNotYet(said))
          throw new ChatonError(messages.vmAgentFailed(vmid, said), ExitCode.failed);
        return { done: false, waiting: messages.vmAgentWaiting(vmid, said) };
      },
      boundMs: agentMs,
      intervalMs: AGENT_INTERVAL_MS,
      signal: this.run.signal,
      progress,
      live,
      timedOut: (waiting) =>
        new ChatonError(
          messages.vmAgentTimedOut(vmid, Math.round(agentMs / 1000), waiting),
          ExitCode.failed,
          messages.vmAgentTimedOutHint,
        ),
      interrupted: () => new InterruptedError(),
    });
  }

  /** On the cluster: in a backup job (not listed by not-backed-up), the firewall on with its group. */
  async verify(vmid: number, node: string): Promise<string> {
    const commands = [
      pvesh('get', '/cluster/backup-info/not-backed-up'),
      api_.readPveFile(api_.vmFirewallPath(vmid)),
      api_.readPveFile(api_.confPath(node, vmid)),
    ];
    if (this.run.dryRun) {
      for (const cmd of commands) await this.change(node, cmd);
      return messages.vmVerifyPlanned;
    }
    const [backup, firewall, config] = await this.run.executor.fact(await this.on(node), atOnce(commands));
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

  /** The description says it is done (a rerun compares it instead of continuing it); a failure now keeps it. */
  async markFinished(vmid: number, node: string): Promise<void> {
    await this.change(
      node,
      pvesh(
        'set',
        vmPath(node, vmid, '/config'),
        '--description',
        `${MADE_BY} (${this.run.operator}, ${new Date().toISOString()})`,
      ),
    );
    this.made = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // After a failure

  /** Whether the VM there is this run's: named so, and still unfinished. Never remove someone else's. */
  async ours(made: { vmid: number; node: string }): Promise<boolean> {
    try {
      const read = await this.run.executor.run(
        await this.on(made.node),
        api_.readPveFile(api_.confPath(made.node, made.vmid)),
        { kind: 'probe', afterInterrupt: true },
      );
      const config = api_.parseConfFile(read.stdout.toString());
      return config.name === this.wanted.name && unfinished(config);
    } catch {
      return false;
    }
  }

  /** Stops the VM made, then destroys it unless kept; a delete that fails throws why. */
  async remove({ vmid, node }: { vmid: number; node: string }, keep: boolean): Promise<'kept' | 'destroyed'> {
    await this.task(node, pvesh('create', vmPath(node, vmid, '/status/stop')));
    if (keep) return 'kept';
    const why = await this.task(
      node,
      pvesh('delete', vmPath(node, vmid), '--purge', '1', '--destroy-unreferenced-disks', '1'),
    );
    if (why !== undefined) throw new Error(why);
    return 'destroyed';
  }
}
