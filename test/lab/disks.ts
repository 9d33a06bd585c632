// The lab's disks (README: Disks, ZFS and mdadm): sparse files of the lab's state directory behind
// loop devices of the machine, in the hosts of role `disks` (pve1-3 and backup, in a lab brought up
// with --disks or --ceph), with the identity a real disk has (serial, WWN, model) in a registry
// that the stand-ins read (standins/disk-lab.ts). A loop device attached without partition
// scanning has no partitions (and one attached with it would break ceph-volume, README: Ceph), so
// the lab does what the kernel's partition re-read and udev do: each partition of a disk's table is
// a loop device of its own over the same image (its offset and size), with its node
// `/dev/<disk>p<N>` and by-id links `<link>-part<N>` in the host, at insert and on a rescan request
// (the sgdisk stand-in's). A --disks lab's hosts are then laid out as their installers leave them.
import { chmod, mkdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { DISK_METADATA, type DiskMetadata, type DiskRequest, type LabDisk, type LabPartition } from './control.js';
import { activeRoles, enterHostArgs, HOST_SESSION_ENV } from './topology.js';
import type { LabPlan, PlannedHost } from './topology.js';

/** A new disk's size unless told (a Ceph OSD's: small, sparse, written blocks only). */
export const DEFAULT_DISK_GIB = 2;
const MAX_DISK_GIB = 64;
const SECTOR_BYTES = 512;
/** A --disks lab's pve disks (a ZFS mirror each) and backup disks (an mdadm RAID1). */
const PVE_DISK_GIB = 8;
const BACKUP_DISK_GIB = 4;

/** A host as the disk side sees it: how to enter it. */
export interface DiskHost {
  plan: PlannedHost;
  holderPid: number;
}

/**
 * $1: the disk's kernel name, $2: its major:minor, $3: its partitions as "N=major:minor ..." (may be
 * empty), then its by-id link names: what udev makes of a disk and of the partitions the kernel
 * read (the old ones removed first), with by-uuid links for what blkid finds on each partition.
 */
const DISK_NODES_SCRIPT = `
name=$1 numbers=$2 partitions=$3
shift 3
rm -f "/dev/$name" "/dev/$name"p*
mknod -m 660 "/dev/$name" b "\${numbers%:*}" "\${numbers#*:}"
chgrp disk "/dev/$name"
mkdir -p /dev/disk/by-id /dev/disk/by-uuid
for link in /dev/disk/by-uuid/*; do
  case $(readlink "$link") in "../../$name"p*) rm -f "$link" ;; esac
done
for link; do
  rm -f "/dev/disk/by-id/$link"-part*
  ln -sfn "../../$name" "/dev/disk/by-id/$link"
done
for partition in $partitions; do
  n=\${partition%%=*} numbers=\${partition#*=}
  mknod -m 660 "/dev/\${name}p$n" b "\${numbers%:*}" "\${numbers#*:}"
  chgrp disk "/dev/\${name}p$n"
  for link; do ln -sfn "../../\${name}p$n" "/dev/disk/by-id/$link-part$n"; done
  uuid=$(blkid -p -s UUID -o value "/dev/\${name}p$n" || true)
  if [ -n "$uuid" ]; then ln -sfn "../../\${name}p$n" "/dev/disk/by-uuid/$uuid"; fi
done
`;

/** $1: the disk's kernel name, then its by-id link names: its nodes and links go, its partitions' too. */
const DISK_PULL_SCRIPT = `
name=$1
shift
rm -f "/dev/$name" "/dev/$name"p*
for link in /dev/disk/by-uuid/*; do
  case $(readlink "$link") in "../../$name"p*) rm -f "$link" ;; esac
done
for link; do rm -f "/dev/disk/by-id/$link" "/dev/disk/by-id/$link"-part*; done
`;

/**
 * $1: gpt, lvm or ext4, $2: the disk, $3: a volume group name: what a disk taken from another
 * machine carries, written by the real tools (the real sgdisk, not the stand-in that asks for a
 * rescan: the insert maps the partitions itself once it is written; lvm2, which ceph-osd depends
 * on; e2fsprogs). No device-mapper: the volume group has no logical volume.
 */
const DISK_METADATA_SCRIPT = `
case $1 in
gpt) /usr/sbin/sgdisk --new=1:0:+256M --typecode=1:8300 --new=2:0:0 --typecode=2:8e00 "$2" ;;
lvm) pvcreate --yes "$2" && vgcreate "$3" "$2" ;;
ext4) mkfs.ext4 -q -F -L old-data "$2" ;;
*) echo "unknown metadata: $1" >&2; exit 2 ;;
esac
`;

/**
 * $1: the disk (/dev name): a pve node's boot disk as the Proxmox VE 8 installer partitions it for a
 * ZFS RAID1 (github.com/proxmox/pve-installer, Proxmox/Install.pm, partition_bootable_disk): the
 * table zapped, the ESP (EF00, 1 GiB from 1 MiB) and the ZFS partition (BF01, the rest), then the
 * BIOS boot partition (EF02, sectors 34-2047, alignment 1). Through the sgdisk stand-in, which asks
 * for the rescan the kernel would do.
 */
const PVE_PARTITION_SCRIPT = `
sgdisk -Z "$1"
sgdisk -n2:1M:+1024M -t2:EF00 -n3:1025M:0 -t3:BF01 "$1"
sgdisk -a1 -n1:34:2047 -t1:EF02 "$1"
`;

/**
 * $1, $2: the two disks' by-id links: pve-installer's zfs_create_rpool (the mirror of both disks'
 * third partitions, ashift 12) and each ESP made and registered as prepare_proxmox_boot_esp does
 * (`proxmox-boot-tool format` runs the real mkfs.vfat, `init` registers its UUID). Stand-ins.
 */
const PVE_RPOOL_SCRIPT = `
zpool create -f -o ashift=12 rpool mirror "/dev/disk/by-id/$1-part3" "/dev/disk/by-id/$2-part3"
for disk in "$1" "$2"; do
  proxmox-boot-tool format "/dev/disk/by-id/$disk-part2"
  proxmox-boot-tool init "/dev/disk/by-id/$disk-part2"
done
`;

/**
 * $1, $2: the two disks (/dev names): the backup server as a Debian installer leaves a RAID1 boot
 * (partman-md): a BIOS boot partition (EF02, 34-2047) and a Linux RAID partition (FD00, the rest)
 * on each disk, md0 of both second partitions (metadata 1.2), GRUB installed on both disks.
 */
const BACKUP_MD_SCRIPT = `
for disk in "$1" "$2"; do
  sgdisk -Z "$disk"
  sgdisk -a1 -n1:34:2047 -t1:EF02 -n2:2048:0 -t2:FD00 "$disk"
done
mdadm --create /dev/md0 --level=1 --raid-devices=2 --metadata=1.2 --assume-clean "$1p2" "$2p2"
grub-install "$1"
grub-install "$2"
`;

function byIdLinks(disk: Pick<LabDisk, 'model' | 'serial' | 'wwn'>): string[] {
  return [`ata-${disk.model.replaceAll(' ', '_')}_${disk.serial}`, `wwn-${disk.wwn}`];
}

/** A partition table entry as `sfdisk -J` gives it: its node is the image's path and its number. */
interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
}

/** The partitions of the image's table (none when it has no table), as the kernel would read them. */
async function readPartitionTable(image: string): Promise<{ number: number; start: number; sectors: number }[]> {
  const { stdout, exitCode } = await execa('sfdisk', ['-J', image], { reject: false });
  if (exitCode !== 0) return [];
  const table = JSON.parse(stdout) as { partitiontable: { partitions?: SfdiskPartition[] } };
  return (table.partitiontable.partitions ?? []).map(({ node, start, size }) => ({
    number: Number(/p?(\d+)$/.exec(node.slice(image.length))?.[1]),
    start,
    sectors: size,
  }));
}

async function majorMinor(loop: string): Promise<string> {
  return (await readFile(`/sys/block/${loop}/dev`, 'utf8')).trim();
}

export class DiskLab {
  readonly #plan: LabPlan;
  readonly #hosts: PlannedHost[];
  readonly #runtime: (name: string) => DiskHost | undefined;
  readonly #log: (message: string) => void;
  #disks: LabDisk[] = [];
  /** Disk operations one after the other: the registry is rewritten whole. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(plan: LabPlan, runtime: (name: string) => DiskHost | undefined, log: (message: string) => void) {
    this.#plan = plan;
    this.#hosts = plan.hosts.filter((host) => activeRoles(plan, host).includes('disks'));
    this.#runtime = runtime;
    this.#log = log;
  }

  /** Before the hosts start: the registry (empty) and the images' directory. */
  async prepare(): Promise<void> {
    await Promise.all([
      mkdir(this.#plan.paths.diskLab.dir, { recursive: true }),
      mkdir(this.#plan.paths.disksDir, { recursive: true }),
    ]);
    await chmod(this.#plan.paths.diskLab.dir, 0o755);
    await this.#save();
  }

  /** The stand-ins' and the lab API's requests. */
  async control(request: DiskRequest): Promise<{ disk: LabDisk }> {
    switch (request.op) {
      case 'disk-insert':
        return { disk: await this.insert(request.host, request) };
      case 'disk-pull':
        return { disk: await this.#queued(() => this.#pull(request.host, request.serial)) };
      case 'disk-smart':
        return { disk: await this.#queued(() => this.#setSmart(request.host, request.serial, request.passed)) };
      case 'disk-rescan':
        return { disk: await this.#queued(() => this.#rescan(request.host, request.serial)) };
      default:
        throw new Error(`unknown op "${(request as { op: string }).op}"`);
    }
  }

  /**
   * A new disk (a new serial) of `sizeGiB`, with `metadata` written on it in its host, or the pulled
   * disk `serial` put back, in `host`; its partitions mapped as the kernel reads its table.
   */
  async insert(
    host: string,
    { sizeGiB, serial, metadata }: { sizeGiB?: number; serial?: string; metadata?: DiskMetadata },
  ): Promise<LabDisk> {
    if (metadata !== undefined && !DISK_METADATA.includes(metadata)) {
      throw new Error(`a new disk's metadata is ${DISK_METADATA.join(', ')}, not ${metadata}`);
    }
    const disk = await this.#queued(() => this.#insert(host, { sizeGiB, serial, metadata }));
    if (metadata === undefined) return disk;
    await this.#inHost(host, [
      'sh',
      '-ec',
      DISK_METADATA_SCRIPT,
      'metadata',
      metadata,
      `/dev/${disk.device}`,
      `lab-old-${disk.serial}`,
    ]);
    return this.#queued(() => this.#rescan(host, disk.serial));
  }

  /** A --disks lab's hosts as their installers leave them: pve1-3 on a ZFS mirror, backup on md0. */
  async layOut(): Promise<void> {
    const started = Date.now();
    const pairOf = async (host: string, sizeGiB: number) => {
      const first = await this.insert(host, { sizeGiB });
      return [first, await this.insert(host, { sizeGiB })] as const;
    };
    await Promise.all(
      this.#hosts.map(async ({ name, roles }) => {
        if (roles.includes('pve')) {
          const disks = await pairOf(name, PVE_DISK_GIB);
          const partition = (disk: LabDisk) =>
            this.#inHost(name, ['sh', '-ec', PVE_PARTITION_SCRIPT, 'sh', this.#path(disk)]);
          await Promise.all(disks.map(partition));
          await this.#inHost(name, ['sh', '-ec', PVE_RPOOL_SCRIPT, 'sh', ...disks.map((disk) => disk.byId[0]!)]);
        } else {
          const disks = await pairOf(name, BACKUP_DISK_GIB);
          await this.#inHost(name, ['sh', '-ec', BACKUP_MD_SCRIPT, 'sh', ...disks.map((disk) => this.#path(disk))]);
        }
      }),
    );
    this.#log(`disks: rpool on pve1-3 and md0 on backup after ${Date.now() - started} ms`);
  }

  #path(disk: LabDisk): string {
    return `/dev/${disk.device}`;
  }

  #queued<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #save(): Promise<void> {
    const { disksFile } = this.#plan.paths.diskLab;
    await writeFile(`${disksFile}.tmp`, JSON.stringify(this.#disks, null, 2) + '\n');
    await rename(`${disksFile}.tmp`, disksFile);
  }

  #host(name: string): DiskHost {
    const host = this.#hosts.some((candidate) => candidate.name === name) ? this.#runtime(name) : undefined;
    if (!host) {
      const names = this.#hosts.map((candidate) => candidate.name).join(', ');
      throw new Error(`no disk host named "${name}" in lab "${this.#plan.name}" (${names})`);
    }
    return host;
  }

  async #inHost(host: string, argv: string[]): Promise<string> {
    const { stdout } = await execa('nsenter', enterHostArgs(this.#host(host).holderPid, argv), {
      stdin: 'ignore',
      extendEnv: false,
      env: HOST_SESSION_ENV,
    });
    return stdout;
  }

  #image(serial: string): string {
    return join(this.#plan.paths.disksDir, `${serial}.img`);
  }

  async #insert(
    host: string,
    { sizeGiB, serial, metadata }: { sizeGiB?: number; serial?: string; metadata?: DiskMetadata },
  ): Promise<LabDisk> {
    this.#host(host);
    // A serial the lab has never seen is a new disk bearing it (a runbook's line names its new disk).
    const known = serial !== undefined && this.#disks.some((d) => d.serial === serial);
    if (known && sizeGiB !== undefined) throw new Error(`disk ${serial} is put back as it was: it keeps its size`);
    if (known && metadata !== undefined) throw new Error(`disk ${serial} is put back with what it held: no metadata`);
    const disk = known ? this.#pulledDisk(serial) : await this.#newDisk(host, sizeGiB ?? DEFAULT_DISK_GIB, serial);
    const { stdout: loop } = await execa('losetup', ['--find', '--show', this.#image(disk.serial)]);
    Object.assign(disk, { host, state: 'inserted', device: loop.replace('/dev/', '') });
    if (!this.#disks.includes(disk)) this.#disks.push(disk);
    return this.#mapPartitions(disk as LabDisk & { device: string });
  }

  /**
   * The kernel's partition re-read and udev: the disk's old partition loops detached, its table
   * read from the image, a loop device per partition, the nodes and links made again in its host.
   */
  async #mapPartitions(disk: LabDisk & { device: string }): Promise<LabDisk> {
    const image = this.#image(disk.serial);
    await this.#detachPartitions(disk);
    const partitions: LabPartition[] = [];
    for (const { number, start, sectors } of await readPartitionTable(image)) {
      const { stdout } = await execa('losetup', [
        '--find',
        '--show',
        '--offset',
        String(start * SECTOR_BYTES),
        '--sizelimit',
        String(sectors * SECTOR_BYTES),
        image,
      ]);
      partitions.push({
        number,
        device: `${disk.device}p${number}`,
        loop: stdout.replace('/dev/', ''),
        start,
        sectors,
      });
    }
    disk.partitions = partitions;
    await this.#save();
    const numbers = await Promise.all(partitions.map(async (part) => `${part.number}=${await majorMinor(part.loop)}`));
    await this.#inHost(disk.host, [
      'sh',
      '-ec',
      DISK_NODES_SCRIPT,
      'nodes',
      disk.device,
      await majorMinor(disk.device),
      numbers.join(' '),
      ...disk.byId,
    ]);
    return disk;
  }

  async #detachPartitions(disk: LabDisk): Promise<void> {
    for (const { loop } of disk.partitions) await execa('losetup', ['--detach', `/dev/${loop}`], { reject: false });
    disk.partitions = [];
  }

  /** A new empty disk's identity and sparse file; it joins the registry once inserted. */
  async #newDisk(host: string, sizeGiB: number, serial?: string): Promise<LabDisk> {
    if (!Number.isInteger(sizeGiB) || sizeGiB < 1 || sizeGiB > MAX_DISK_GIB) {
      throw new Error(`a disk's size is 1 to ${MAX_DISK_GIB} GiB, not ${sizeGiB}`);
    }
    if (serial !== undefined && !/^[A-Za-z0-9_-]{1,40}$/.test(serial)) {
      throw new Error(`a disk's serial is 1 to 40 letters, digits, _ or -, not ${JSON.stringify(serial)}`);
    }
    const number = this.#disks.length + 1;
    const labHex = this.#plan.index.toString(16).padStart(3, '0');
    const identity = {
      serial: serial ?? `CL${String(this.#plan.index).padStart(2, '0')}D${String(number).padStart(4, '0')}`,
      // NAA 5: a registered name, 16 hex digits (an OUI of no vendor, the lab, the disk).
      wwn: `0x5cafe00${labHex}${number.toString(16).padStart(6, '0')}`,
      model: `LAB SSD ${sizeGiB}G`,
    };
    const image = this.#image(identity.serial);
    await writeFile(image, '', { flag: 'wx' });
    await truncate(image, sizeGiB * 1024 ** 3);
    return {
      ...identity,
      sizeBytes: sizeGiB * 1024 ** 3,
      host,
      state: 'pulled',
      device: null,
      byId: byIdLinks(identity),
      smartPassed: true,
      partitions: [],
    };
  }

  /** A disk pulled earlier, with what it held: put back, it is the same disk to whoever reads it. */
  #pulledDisk(serial: string): LabDisk {
    const disk = this.#disks.find((candidate) => candidate.serial === serial);
    if (!disk || disk.state !== 'pulled') throw new Error(`no pulled disk with serial "${serial}" in the lab`);
    return disk;
  }

  #insertedDisk(host: string, serial: string): LabDisk & { device: string } {
    this.#host(host);
    const disk = this.#disks.find((candidate) => candidate.serial === serial);
    if (!disk || disk.host !== host || disk.state !== 'inserted' || !disk.device) {
      throw new Error(`no disk with serial "${serial}" in ${host}`);
    }
    return disk as LabDisk & { device: string };
  }

  #rescan(host: string, serial: string): Promise<LabDisk> {
    return this.#mapPartitions(this.#insertedDisk(host, serial));
  }

  /** What smartctl will say of the disk's health from now on. */
  async #setSmart(host: string, serial: string, passed: boolean): Promise<LabDisk> {
    const disk = this.#insertedDisk(host, serial);
    disk.smartPassed = passed;
    await this.#save();
    return disk;
  }

  /**
   * The disk leaves its host: its device nodes and links go, its loop devices are detached (while a
   * process still holds one open, the kernel detaches it at the last close). Its file stays.
   */
  async #pull(host: string, serial: string): Promise<LabDisk> {
    const disk = this.#insertedDisk(host, serial);
    await this.#inHost(host, ['sh', '-ec', DISK_PULL_SCRIPT, 'pull', disk.device, ...disk.byId]);
    await this.#detachPartitions(disk);
    await execa('losetup', ['--detach', `/dev/${disk.device}`]);
    Object.assign(disk, { state: 'pulled', device: null });
    await this.#save();
    return disk;
  }
}

/**
 * The loop devices whose files are under `dir` (a lab's state directory), detached: `down` leaves
 * none, the partitions' loops included (they share their disk's file).
 */
export async function detachLoopDevices(dir: string): Promise<void> {
  const { stdout } = await execa('losetup', ['--json', '--list', '--output', 'NAME,BACK-FILE']);
  if (!stdout.trim()) return;
  const { loopdevices } = JSON.parse(stdout) as { loopdevices: { name: string; 'back-file': string | null }[] };
  const ours = loopdevices.filter((loop) => loop['back-file']?.startsWith(`${dir}/`));
  for (const loop of ours) await execa('losetup', ['--detach', loop.name]);
}
