// `chaton disk swap <host> --zfs <pool> --device <old>` and `--md <array> --device <old>`: a disk
// of a ZFS mirror or of an md RAID1 replaced, in the order nobody remembers when it is rare:
// 1. identify the disk, its place in the pool or array, its boot role; 2. preflight (the other
// side healthy, SMART too, nothing resilvering, nothing else degraded, the new disk large
// enough); 3. take it out (zpool offline; mdadm --fail, --remove); 4. the swap (LED, new serial,
// typed); 5. the partition table copied FROM the healthy disk TO the new one (sgdisk -R, then -G),
// zpool replace / mdadm --add, the boot partition (proxmox-boot-tool format + init, or
// grub-install); 6. the resilver or resync awaited with progress, bounded. Every step is a step of
// the shared journal: the same command continues after Ctrl-C or a lost laptop.
import { formatSize } from '../inventory/sizes.js';
import type { Host } from '../inventory/types.js';
import { lockDirectory, parseOwnerLine, releaseLock } from '../remote/host-lock.js';
import { display, type RemoteCommand } from '../remote/shell.js';
import type { CommandResult, RunContext } from '../run/context.js';
import type { Wrapper } from '../run/display.js';
import { ChatonError, ExitCode, InterruptedError, LockHeldError, RefusedError, UsageError } from '../run/errors.js';
import { describeHolder, HostLock } from '../run/host-lock.js';
import { Journal, type Json } from '../run/journal.js';
import { runPhases } from '../run/phases.js';
import { duration, waitUntil } from '../run/wait.js';
import { diskLinks, identify, type Disk, type DiskIdentity } from './disks.js';
import {
  judgeMirrorSwap,
  mdMirrorFacts,
  mdSyncProgress,
  zfsMirrorFacts,
  zfsSyncProgress,
  type BootRole,
  type MirrorFacts,
  type MirrorSwapOptions as MirrorSwapOptionsOf,
  type SyncProgress,
} from './judge.js';
import { mdAdd, mdadmDetail, mdFail, mdRemove, mdStatIfPresent } from './md.js';
import { messages, said } from './messages.js';
import {
  bootPartitionsOf,
  bootToolClean,
  bootToolFormat,
  bootToolInit,
  bootToolStatus,
  copyPartitionTable,
  filesystemUuid,
  grubInstall,
  memberPaths,
  partitionTable,
  type PartitionTable,
} from './partitions.js';
import { leavesOf, zpoolOffline, zpoolReplace, zpoolStatus } from './zfs.js';
import type { SwapPhaseName, SwapReport } from './swap-report.js';
import { SwapRun, type Progress } from './swap-run.js';

export interface MirrorSwapOptions {
  device: string;
  newDevice?: string;
  resume?: boolean;
}

export interface MirrorSwapBounds {
  swapMs: number;
  rebuildMs: number;
  stallMs: number;
}

export type MirrorKind = { kind: 'zfs'; pool: string } | { kind: 'md'; array: string };

const STEPS = ['identify', 'takeout', 'swap', 'partition', 'attach', 'boot', 'rebuild'] as const;
type Step = (typeof STEPS)[number];

const PHASE_OF: Record<Step, SwapPhaseName> = {
  identify: 'identify',
  takeout: 'takeout',
  swap: 'swap',
  partition: 'partition',
  attach: 'attach',
  boot: 'boot',
  rebuild: 'rebuild',
};

/** zpool status and mdadm --detail are cheap and local: asked this often while the data is rebuilt. */
const REBUILD_POLL_MS = 2000;
/** After sgdisk, udev makes the new partitions' nodes and links: at most this long. */
const PARTITIONS_WAIT_MS = 30_000;
const PARTITIONS_POLL_MS = 250;

/** What the identification found, recorded with its step: a resumed run reads it, the disk may be gone. */
interface Identified {
  disk: DiskIdentity;
  /** Every name the pool or array may give the old disk's member (memberPaths). */
  oldPaths: string[];
  /** Its member as the pool or array named it at the identification ("/dev/sda3"). */
  member: string;
  serials: string[];
  /** The healthy side's disk: the partition table's source, and the least the new disk must hold. */
  healthy: { path: string; serial: string | null; sizeBytes: number };
  /** The member's partition number on the disks; null when the pool uses whole disks. */
  partition: number | null;
  /** The ESP's partition number when proxmox-boot-tool keeps the healthy disk's ESP; its loader. */
  esp: { number: number; grub: boolean } | null;
  /** GRUB on the disk (BIOS boot partition, not managed by proxmox-boot-tool). */
  grub: boolean;
}

/** The pool's or the array's state now, brought to one shape, with the names its members have. */
interface MirrorView {
  facts: MirrorFacts;
  progress: SyncProgress;
  /** The old disk's member, as the tool names it now (a ZFS leaf absent shows its GUID). */
  oldMember: string | null;
  /** Every member's name, for finding the new disk's. */
  members: string[];
}

export function journalId(target: MirrorKind): string {
  return target.kind === 'zfs'
    ? `disk-swap-zfs-${target.pool}`
    : `disk-swap-md-${target.array.replace(/^\/dev\//, '').replaceAll('/', '_')}`;
}

export class MirrorSwap extends SwapRun<Step> {
  identified: Identified | undefined;
  /** The boot roles the preflight judges (read at the identification, not journaled). */
  bootRoles: MirrorSwapOptionsOf['boot'];
  lock: HostLock | undefined;
  stalled = false;

  constructor(
    ctx: RunContext,
    host: Host,
    readonly target: MirrorKind,
    private readonly options: MirrorSwapOptions,
    private readonly bounds: MirrorSwapBounds,
    report: SwapReport,
  ) {
    super(ctx, host, report, PHASE_OF);
  }

  get name(): string {
    return this.target.kind === 'zfs' ? this.target.pool : this.target.array;
  }

  get tool(): string {
    return this.target.kind === 'zfs' ? 'resilver' : 'resync';
  }

  async run(): Promise<CommandResult> {
    let unchanged = false;
    try {
      await runPhases(
        this.ctx,
        [
          { kind: 'connect', hosts: [this.host] },
          {
            kind: 'step',
            title: messages.mirrorIdentifyTitle(this.options.device, this.name, this.host.name),
            run: async (progress) => {
              unchanged = await this.identifyAndCheck(progress);
            },
          },
        ],
        'live',
      );
    } catch (error) {
      this.report.outcome = await this.stoppedOutcome(error);
      await this.releaseLock();
      return this.result(error);
    }
    if (unchanged) return this.result(undefined, ExitCode.ok);
    const resumed = this.journal?.resumed === true;
    const step = (title: string, work: (progress: Progress, live: boolean, task?: Wrapper) => Promise<void>) =>
      ({ kind: 'step', title, run: work }) as const;
    try {
      await runPhases(
        this.ctx,
        [
          { kind: 'confirm', question: () => this.question() },
          step(messages.mirrorTakeoutTitle(this.name), () => this.takeout()),
          step(messages.swapSwapTitle(this.host.name), (progress, live, task) =>
            this.swapStep('swap', progress, live, task!, this.newDiskWait()),
          ),
          step(messages.mirrorPartitionTitle, (progress, live) => this.partition(progress, live)),
          step(messages.mirrorAttachTitle(this.name), () => this.attach()),
          step(messages.mirrorBootTitle, (progress) => this.boot(progress)),
          step(messages.mirrorRebuildTitle(this.tool, this.name), (progress, live) => this.rebuild(progress, live)),
        ],
        'live',
      );
    } catch (error) {
      this.report.outcome = await this.stoppedOutcome(error, this.stalled);
      await this.releaseLock();
      return this.result(error);
    }
    await this.releaseLock();
    if (!this.dryRun) await this.journal!.finish();
    this.report.outcome = this.dryRun ? 'planned' : resumed ? 'resumed' : 'swapped';
    return this.result(undefined, ExitCode.ok);
  }

  // -------------------------------------------------------------------------------------------
  // 1-2. Identify and preflight (read-only)

  /** True when there is nothing to do: the swap asked for is done. */
  async identifyAndCheck(progress: Progress): Promise<boolean> {
    const started = performance.now();
    const identify = this.phase('identify');
    const records = await Journal.list(this.ctx, this.host);
    const record = records.find((r) => r.id === journalId(this.target));
    const running = record?.state === 'running' ? record : undefined;
    if (running && running.operator !== this.ctx.operator && this.options.resume !== true) {
      throw new RefusedError(
        messages.mirrorOtherOperator(this.name, running.operator, running.started, this.pendingSteps(running.steps)),
        messages.mirrorOtherOperatorHint,
      );
    }
    const recorded = running?.steps.find((s) => s.name === 'identify' && s.state === 'done')?.result as
      Identified | undefined;
    const disks = await this.listDisks();
    const view = await this.readMirror(recorded?.oldPaths ?? this.pathsOf(disks, this.options.device));

    // After a finished swap, the same command: the new disk in the mirror, the mirror whole.
    const finished = record?.state === 'finished' ? record : undefined;
    const finishedOld = (finished?.steps.find((s) => s.name === 'identify')?.result ?? null) as Identified | null;
    const finishedNew = finished ? this.recordedNewSerial(finished.steps) : undefined;
    if (!running && view.facts.old === null && view.progress.whole && finishedOld && finishedNew) {
      const named = [finishedOld.disk.serial, finishedOld.disk.path, ...finishedOld.disk.byId].includes(
        this.options.device,
      );
      const newDisk = disks.find((d) => d.serial === finishedNew);
      if (named && newDisk && this.pathsOf(disks, newDisk.path).some((p) => view.members.includes(p))) {
        this.report.outcome = 'unchanged';
        this.ctx.notices.push(messages.mirrorUnchanged(this.name, this.host.name, finishedNew));
        return true;
      }
    }

    if (recorded) {
      if (![recorded.disk.serial, recorded.disk.path, ...recorded.disk.byId].includes(this.options.device)) {
        throw new UsageError(
          messages.mirrorOtherDisk(this.name, recorded.disk.serial ?? recorded.disk.path, this.options.device),
          messages.mirrorOtherDiskHint(recorded.disk.serial ?? recorded.disk.path),
        );
      }
      this.identified = recorded;
      identify.outcome = 'earlier';
    } else {
      this.identified = await this.identifyDisk(disks, view);
      identify.outcome = 'done';
    }
    this.oldDisk = this.identified.disk;
    this.report.oldDisk = this.oldDisk;
    identify.detail = this.describeRole(this.identified);
    progress(identify.detail);
    identify.durationMs = Math.round(performance.now() - started);

    const preflight = this.phase('preflight');
    const checked = performance.now();
    const pastTakeout = running !== undefined && this.stepState('takeout', running.steps) !== 'pending';
    if (!pastTakeout) await this.preflight(view, disks);
    preflight.durationMs = Math.round(performance.now() - checked);
    if (this.report.problems.length > 0) {
      preflight.outcome = 'failed';
      preflight.detail = messages.swapRefusedDetail(this.report.problems.length);
      throw new RefusedError(
        messages.mirrorRefused(this.oldDisk.serial ?? this.oldDisk.path, this.name, this.host.name, this.problems()),
        messages.swapRefusedHint,
      );
    }
    preflight.outcome = pastTakeout ? 'earlier' : 'done';
    preflight.detail = pastTakeout ? messages.swapPreflightEarlier : messages.mirrorPreflightPassed;
    progress(preflight.detail);
    // Without a terminal nobody answers: what a question would ask is on the command line.
    const needsSerial = this.stepState('swap', running?.steps) !== 'done' && this.options.newDevice === undefined;
    const needsYes = this.stepState('takeout', running?.steps) !== 'done' && !this.ctx.options.yes;
    if (!this.ctx.mode.interactive && !this.dryRun && (needsSerial || needsYes)) {
      throw new UsageError(messages.mirrorNeedsNewDevice, messages.mirrorNeedsNewDeviceHint(this.target.kind));
    }
    await this.takeLock();
    if (running) progress(messages.swapContinuing(running.operator, running.started, this.pendingSteps(running.steps)));
    this.journal = await Journal.open(this.ctx, this.host, {
      kind: 'disk-swap',
      id: journalId(this.target),
      params: { host: this.host.name, kind: this.target.kind, target: this.name },
      steps: STEPS,
    });
    const identified = this.identified;
    await this.step('identify', { apply: async () => identified as unknown as Json }, () => identify.detail);
    return false;
  }

  /** The disk, its member and its boot role, as the identification says them. */
  describeRole(found: Identified): string {
    const boot = found.esp
      ? messages.mirrorBootRoleEsp(found.esp.number)
      : found.grub
        ? messages.mirrorBootRoleGrub
        : messages.mirrorBootRoleNone;
    return messages.mirrorIdentified(found.disk.path, found.disk.serial ?? '?', found.member, this.name, boot);
  }

  problems(): string {
    return this.report.problems.map((p) => p.text).join('; ');
  }

  /** Every name the pool or array may give the disk `spec` names (none when no such disk is here). */
  pathsOf(disks: Disk[], spec: string): string[] {
    const found = this.findDisk(disks, spec);
    return found ? this.memberPathsOf(found) : [];
  }

  findDisk(disks: Disk[], spec: string): Disk | undefined {
    return identify(disks, spec);
  }

  memberPathsOf(disk: Disk): string[] {
    return memberPaths(disk, new Map([disk, ...disk.children].map((d) => [d.kname, byIdOf(disk, d)])));
  }

  /** The pool's or array's state, the old disk being the member named by one of `oldPaths`. */
  async readMirror(oldPaths: string[]): Promise<MirrorView> {
    if (this.target.kind === 'zfs') {
      const status = await this.ctx.executor.probe(this.host, zpoolStatus(this.target.pool));
      const facts = zfsMirrorFacts(status, oldPaths);
      const wanted = new Set(oldPaths);
      const leaves = leavesOf(status.root);
      const old = leaves.find((l) => wanted.has(l.name) || (l.was !== null && wanted.has(l.was)));
      return {
        facts,
        progress: zfsSyncProgress(status),
        oldMember: old?.name ?? null,
        members: leaves.flatMap((l) => [l.name, ...(l.was ? [l.was] : [])]),
      };
    }
    const [detail, mdstat] = await Promise.all([
      this.ctx.executor.probe(this.host, mdadmDetail(this.target.array)),
      this.ctx.executor.probe(this.host, mdStatIfPresent),
    ]);
    const arrayName = this.target.array.replace(/^\/dev\//, '');
    const inStat = mdstat?.arrays.find((a) => a.name === arrayName);
    const facts = mdMirrorFacts(detail, oldPaths, inStat);
    const wanted = new Set(oldPaths);
    return {
      facts,
      progress: mdSyncProgress(detail, inStat),
      oldMember: detail.members.find((m) => m.device !== null && wanted.has(m.device))?.device ?? null,
      members: detail.members.flatMap((m) => (m.device === null ? [] : [m.device])),
    };
  }

  /** The old disk, the healthy side, the partition and boot roles: what every later step needs. */
  async identifyDisk(disks: Disk[], view: MirrorView): Promise<Identified> {
    const old = this.findDisk(disks, this.options.device);
    if (!old) {
      throw new UsageError(
        messages.mirrorNoSuchDisk(this.options.device, this.host.name),
        messages.mirrorNoSuchDiskHint(this.host.name),
      );
    }
    const healthyMember = view.facts.others.find((m) => m.healthy)?.device;
    const healthy = healthyMember === undefined ? undefined : this.diskOfMember(disks, healthyMember);
    const table = healthy ? await this.ctx.executor.probe(this.host, partitionTable(healthy.path)) : null;
    // The member's partition: by sfdisk's name for it, else by the kernel's (sda3, nvme0n1p3, loop5p3).
    const named = table?.partitions.find((part) => part.path === healthyMember)?.number;
    const child = healthy?.children.find((c) => c.path === healthyMember);
    const partition = named ?? (child ? Number(/(\d+)$/.exec(child.kname)?.[1]) : null);
    const bootTool = await this.ctx.executor.probe(this.host, bootToolStatus);
    const role = async (disk: Disk | undefined, known?: PartitionTable | null): Promise<BootRole> => {
      const found =
        known !== undefined ? known : disk ? await this.ctx.executor.probe(this.host, partitionTable(disk.path)) : null;
      const parts = bootPartitionsOf(found);
      const uuid = parts.esp?.path ? await this.ctx.executor.probe(this.host, filesystemUuid(parts.esp.path)) : null;
      return { ...parts, espUuid: uuid };
    };
    const healthyRole = await role(healthy, table);
    this.bootRoles = {
      tool: bootTool,
      old: await role(old),
      others: healthyMember === undefined ? [] : [{ device: healthyMember, role: healthyRole }],
    };
    const boot = healthyRole;
    const managed = bootTool.esps.find((esp) => esp.uuid === healthyRole.espUuid);
    return {
      disk: await this.identity(old),
      oldPaths: this.memberPathsOf(old),
      member: view.oldMember ?? old.path,
      serials: disks.flatMap((d) => (d.serial ? [d.serial] : [])),
      healthy: {
        path: healthy?.byId[0] ?? healthy?.path ?? '',
        serial: healthy?.serial ?? null,
        sizeBytes: healthy?.sizeBytes ?? 0,
      },
      partition: partition === null || Number.isNaN(partition) ? null : partition,
      esp: boot.esp && managed ? { number: boot.esp.number, grub: managed.loaders.includes('grub') } : null,
      grub: boot.biosBoot !== null && !bootTool.managing,
    };
  }

  /** The disk a member (a partition's or the disk's own path) is on. */
  diskOfMember(disks: Disk[], member: string): Disk | undefined {
    return disks.find((disk) => this.memberPathsOf(disk).includes(member));
  }

  async preflight(view: MirrorView, disks: Disk[]): Promise<void> {
    const identified = this.identified!;
    const otherSmart = new Map<string, boolean | null>();
    for (const member of view.facts.others) {
      const disk = this.diskOfMember(disks, member.device);
      if (disk) otherSmart.set(member.device, (await this.identity(disk)).smartPassed);
    }
    const asked = this.options.newDevice === undefined ? undefined : this.findDisk(disks, this.options.newDevice);
    const refusals = judgeMirrorSwap(view.facts, this.options.device, {
      otherSmart,
      ...(this.bootRoles ? { boot: this.bootRoles } : {}),
      ...(asked && asked.serial !== identified.disk.serial
        ? { newDisk: { path: asked.path, sizeBytes: asked.sizeBytes }, neededBytes: identified.healthy.sizeBytes }
        : {}),
    });
    this.report.problems.push(...refusals.map((r) => r.said));
    // --new-device naming the very disk to replace: refused before it is taken out.
    if (asked && asked.serial !== null && asked.serial === identified.disk.serial) {
      this.report.problems.push(said('oldDisk', asked.path, asked.serial));
    }
  }

  question(): string | undefined {
    if (this.stepState('takeout') === 'done') return undefined;
    const disk = this.oldDisk!;
    const healthy = this.identified!.healthy;
    return messages.mirrorQuestion(disk.serial ?? disk.path, this.name, this.host.name, healthy.serial ?? healthy.path);
  }

  /** One swap per pool or array at a time; a lock left by this operator's dead run is taken back. */
  async takeLock(): Promise<void> {
    if (this.dryRun) return;
    const lockName = journalId(this.target);
    this.lock = new HostLock(this.ctx, this.host, lockName);
    const holder = await this.lock.tryTake();
    if (holder === undefined) return;
    if (this.options.resume === true) {
      // --resume: the operator says the run holding it is gone (another laptop).
      await this.ctx.executor.run(this.host, releaseLock(lockName, holder), { kind: 'probe' });
      if ((await this.lock.tryTake()) === undefined) return;
    }
    this.lock = undefined;
    throw new LockHeldError(
      this.host.name,
      lockName,
      describeHolder(holder),
      lockDirectory(lockName),
      parseOwnerLine(holder),
    );
  }

  async releaseLock(): Promise<void> {
    await this.lock?.release();
    this.lock = undefined;
  }

  newDiskWait() {
    const identified = this.identified!;
    return {
      knownSerials: identified.serials,
      asked: this.options.newDevice,
      boundMs: this.bounds.swapMs,
      minBytes: identified.healthy.sizeBytes,
      blankOnly: true,
      refusedHint: messages.mirrorBadNewDiskHint(this.name, identified.healthy.serial ?? identified.healthy.path),
      interrupted: () => this.interrupted(),
    };
  }

  interrupted(): Error {
    return new InterruptedError(messages.mirrorInterrupted(this.name, this.host.name));
  }

  // -------------------------------------------------------------------------------------------
  // 3. Take the old disk out

  async takeout(): Promise<void> {
    const identified = this.identified!;
    const gone = (view: MirrorView) =>
      this.target.kind === 'zfs'
        ? view.oldMember === null || ['OFFLINE', 'UNAVAIL', 'REMOVED', 'FAULTED'].includes(oldState(view))
        : view.oldMember === null;
    await this.step(
      'takeout',
      {
        check: async () => ((await this.isTakenOut(gone)) ? { done: true, result: null } : { done: false }),
        apply: async () => {
          const view = await this.readMirror(identified.oldPaths);
          const member = view.oldMember ?? identified.member;
          for (const command of this.takeoutCommands(member, view)) await this.change(command);
          return null;
        },
      },
      () => messages.mirrorTakenOut(identified.disk.serial ?? identified.disk.path, this.name),
    );
  }

  async isTakenOut(gone: (view: MirrorView) => boolean): Promise<boolean> {
    return gone(await this.readMirror(this.identified!.oldPaths));
  }

  takeoutCommands(member: string, view: MirrorView): RemoteCommand[] {
    if (this.target.kind === 'zfs') return [zpoolOffline(this.target.pool, member)];
    const faulty = view.facts.old?.state.includes('faulty') === true;
    return [...(faulty ? [] : [mdFail(this.target.array, member)]), mdRemove(this.target.array, member)];
  }

  // -------------------------------------------------------------------------------------------
  // 5. The partition table, the member, the boot partition

  /** The new disk's path; in a dry-run without it, a path a runbook can read. */
  newDiskPath(): string {
    const asked = this.options.newDevice;
    return this.newDisk?.path ?? (asked?.startsWith('/dev/') ? asked : messages.swapNewDevicePlaceholder(asked ?? ''));
  }

  /** The new disk's serial: taken, or as --new-device names it (a dry-run before it is in). */
  newSerial(): string {
    return this.newDisk?.identity.serial ?? this.options.newDevice ?? '?';
  }

  /** The new disk's partition `number`, by its by-id link (what udev makes: <link>-part<N>). */
  newPartition(number: number): string {
    return `${this.newDiskPath()}-part${number}`;
  }

  async partition(progress: Progress, live: boolean): Promise<void> {
    const identified = this.identified!;
    const from = identified.healthy.path;
    const to = this.newDiskPath();
    await this.step(
      'partition',
      {
        check: async () => ((await this.sameTable(from, to)) ? { done: true, result: null } : { done: false }),
        apply: async () => {
          if (identified.partition === null) return null;
          progress(messages.mirrorCopying(from, identified.healthy.serial ?? '?', to, this.newSerial()));
          for (const command of copyPartitionTable({ from, to })) await this.change(command);
          if (!this.dryRun) await this.awaitPartitions(progress, live);
          return null;
        },
      },
      () =>
        identified.partition === null
          ? messages.mirrorWholeDisks(this.name)
          : messages.mirrorCopied(identified.healthy.serial ?? from, this.newSerial()),
    );
  }

  /** Whether the new disk already has the healthy disk's partitions (a resumed run after the copy). */
  async sameTable(from: string, to: string): Promise<boolean> {
    const [source, copy] = await Promise.all([
      this.ctx.executor.probe(this.host, partitionTable(from)),
      this.ctx.executor.probe(this.host, partitionTable(to)),
    ]);
    const shape = (table: typeof source) =>
      JSON.stringify(table?.partitions.map(({ number, start, sectors, type }) => ({ number, start, sectors, type })));
    return source !== null && copy !== null && shape(source) === shape(copy);
  }

  /** udev's part: the new partitions' by-id links, before zpool or mdadm is given one. */
  async awaitPartitions(progress: Progress, live: boolean): Promise<void> {
    const wanted = [this.identified!.partition, this.identified!.esp?.number].flatMap((n) =>
      n === null || n === undefined ? [] : [n],
    );
    await waitUntil({
      poll: async () => {
        const links = await this.ctx.executor.fact(this.host, diskLinks);
        const all = new Set([...links.values()].flat());
        const missing = wanted.map((n) => this.newPartition(n)).filter((path) => !all.has(path));
        return missing.length === 0
          ? { done: true, value: undefined }
          : { done: false, waiting: messages.mirrorAwaitingPartitions(missing.join(', ')) };
      },
      boundMs: PARTITIONS_WAIT_MS,
      intervalMs: PARTITIONS_POLL_MS,
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: (waiting) => new ChatonError(waiting, ExitCode.failed, messages.mirrorPartitionsHint),
      interrupted: () => this.interrupted(),
    });
  }

  /** The new disk's member: its partition's by-id link, or the whole disk's. */
  newMember(): string {
    const number = this.identified!.partition;
    return number === null ? this.newDiskPath() : this.newPartition(number);
  }

  async attach(): Promise<void> {
    const identified = this.identified!;
    const member = this.newMember();
    await this.step(
      'attach',
      {
        check: async () => ((await this.attached()) ? { done: true, result: null } : { done: false }),
        apply: async () => {
          if (this.target.kind === 'zfs') {
            const view = this.dryRun ? undefined : await this.readMirror(identified.oldPaths);
            const old = view?.oldMember ?? identified.member;
            await this.change(zpoolReplace({ pool: this.target.pool, old, new: member }));
          } else {
            await this.change(mdAdd(this.target.array, member));
          }
          return null;
        },
      },
      () => messages.mirrorAttached(member, this.name),
    );
  }

  /** Whether the new disk is a member already. */
  async attached(): Promise<boolean> {
    const disks = await this.listDisks();
    const disk = this.newDisk ? this.findDisk(disks, this.newDisk.path) : undefined;
    if (!disk) return false;
    const view = await this.readMirror(this.identified!.oldPaths);
    return this.memberPathsOf(disk).some((path) => view.members.includes(path));
  }

  async boot(progress: Progress): Promise<void> {
    const identified = this.identified!;
    const esp = identified.esp;
    await this.step(
      'boot',
      {
        check: async () =>
          esp && (await this.espRegistered(esp.number)) ? { done: true, result: null } : { done: false },
        apply: async () => {
          for (const command of await this.bootCommands()) {
            if (!this.dryRun) progress(messages.mirrorBootRunning(display(command)));
            await this.change(command);
          }
          return null;
        },
      },
      () =>
        esp
          ? messages.mirrorBootEsp(this.newPartition(esp.number))
          : identified.grub
            ? messages.mirrorBootGrub(this.newDiskPath())
            : messages.mirrorNotBootDisk,
    );
  }

  /**
   * What makes the new disk boot like the healthy one: its ESP formatted and kept by
   * proxmox-boot-tool, or GRUB on it, or nothing. An ESP that already holds a filesystem is this
   * swap's own, from a run stopped in this step (the disk was judged blank when it was taken):
   * formatted again with --force.
   */
  async bootCommands(): Promise<RemoteCommand[]> {
    const identified = this.identified!;
    const esp = identified.esp;
    if (!esp) return identified.grub ? [grubInstall(this.newDiskPath())] : [];
    const partition = this.newPartition(esp.number);
    const formatted = !this.dryRun && (await this.ctx.executor.probe(this.host, filesystemUuid(partition))) !== null;
    return [
      bootToolFormat(partition, { force: formatted }),
      bootToolInit(partition, esp.grub ? 'grub' : undefined),
      // The old disk's ESP, gone with it: proxmox-boot-tool would warn about it at every kernel update.
      bootToolClean,
    ];
  }

  async espRegistered(number: number): Promise<boolean> {
    const uuid = await this.ctx.executor.probe(this.host, filesystemUuid(this.newPartition(number)));
    if (uuid === null) return false;
    const status = await this.ctx.executor.probe(this.host, bootToolStatus);
    return status.esps.some((esp) => esp.uuid === uuid);
  }

  // -------------------------------------------------------------------------------------------
  // 6. The resilver or resync

  async rebuild(progress: Progress, live: boolean): Promise<void> {
    await this.step(
      'rebuild',
      {
        apply: async () => {
          if (!this.dryRun) await this.awaitRebuild(progress, live);
          return null;
        },
      },
      () => (this.dryRun ? messages.mirrorRebuildPlanned(this.tool) : messages.mirrorRebuilt(this.name, this.tool)),
    );
  }

  /**
   * Polls until the mirror is whole again: no resilver or resync running, every member in sync
   * (ZFS detaches the old disk by itself at the end). Stops when the percentage has not grown for
   * the stall bound, or at the rebuild bound; a ZFS resilver that counted errors fails the run.
   */
  async awaitRebuild(progress: Progress, live: boolean): Promise<void> {
    const identified = this.identified!;
    const best = { percent: -1, at: performance.now() };
    const stopped = (message: string) => {
      this.stalled = true;
      return new ChatonError(message, ExitCode.failed, messages.mirrorStalledHint(this.name, this.tool));
    };
    const last = await waitUntil({
      poll: async () => {
        const view = await this.readMirror(identified.oldPaths);
        const now = view.progress;
        if (now.whole) return { done: true, value: now };
        const percent = now.percent ?? -1;
        if (percent > best.percent) Object.assign(best, { percent, at: performance.now() });
        // On a terminal the line is redrawn: every detail. Without one each new text is a line of
        // the log: the percentage by fives only (a long resilver writes 20 lines, and "still
        // waiting" ones every 30 s), the time left and the rate in the last one, at a stall.
        const detailed = messages.mirrorRebuilding(
          this.tool,
          now.percent === null ? '' : now.percent.toFixed(1),
          now.secondsToGo === null ? '' : clock(now.secondsToGo),
          now.bytesPerSecond === null ? '' : formatSize(now.bytesPerSecond),
        );
        const coarse = messages.mirrorRebuilding(
          this.tool,
          now.percent === null ? '' : String(Math.floor(now.percent / 5) * 5),
          '',
          '',
        );
        const state = live ? detailed : coarse;
        if (performance.now() - best.at > this.bounds.stallMs) {
          throw stopped(messages.mirrorStalled(this.name, this.tool, duration(this.bounds.stallMs), detailed));
        }
        return { done: false, waiting: state };
      },
      boundMs: this.bounds.rebuildMs,
      intervalMs: REBUILD_POLL_MS,
      signal: this.ctx.signal,
      progress,
      live,
      timedOut: (waiting) =>
        stopped(messages.mirrorTimedOut(this.name, this.tool, duration(this.bounds.rebuildMs), waiting)),
      interrupted: () => this.interrupted(),
    });
    if (last.errors > 0) {
      throw new ChatonError(
        messages.mirrorErrors(this.name, last.errors),
        ExitCode.failed,
        messages.mirrorErrorsHint(this.name),
      );
    }
  }
}

/** "1:02:03" or "02:03": a time left, as zpool prints it. */
function clock(seconds: number): string {
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  const hours = Math.floor(seconds / 3600);
  const rest = `${pad((seconds % 3600) / 60)}:${pad(seconds % 60)}`;
  return hours > 0 ? `${hours}:${rest}` : rest;
}

function oldState(view: MirrorView): string {
  return view.facts.old?.state.split(' ')[0] ?? '';
}

/** The by-id links of `device` (the disk or one of its partitions): the disk's links, -partN for a partition. */
function byIdOf(disk: Disk, device: Disk['children'][number] | Disk): string[] {
  if (device === disk) return disk.byId;
  const number = /(\d+)$/.exec(device.kname)?.[1];
  return number === undefined ? [] : disk.byId.map((link) => `${link}-part${number}`);
}
