// The supervisor's control socket: newline-delimited JSON, one response per request, in order.
// A client half-closes after its requests; the supervisor closes once it has answered them all.
import { once } from 'node:events';
import { createConnection } from 'node:net';

export type HostOp = 'stop-sshd' | 'start-sshd' | 'link-down' | 'link-up' | 'rekey';
/** A wan lab's ISP upstream cut or restored: `host` is the link, main or backup. */
export type IspOp = 'isp-down' | 'isp-up';
export type ControlOp = HostOp | IspOp;

export interface ControlRequest {
  op: ControlOp;
  /** A host, or an ISP link for an IspOp. */
  host: string;
}

/** A cloud-init VM as the Proxmox stand-in starts it: what its cloud-init drive says. */
export interface VmSpec {
  vmid: number;
  node: string;
  name: string;
  /** "198.18.3.240/24", from ipconfig0. */
  address: string;
  gateway?: string;
  nameservers: string[];
  searchdomain?: string;
  /** ciuser (root when absent, as the lab's template has no default user). */
  user: string;
  /** The decoded sshkeys lines. */
  sshKeys: string[];
}

/** What qemu-guest-agent is asked (qemu's qga/qapi-schema.json). */
export type VmAgentCommand = 'guest-ping' | 'guest-network-get-interfaces' | 'guest-file-read' | 'guest-exec';

/**
 * vm-start: a new lab host for the VM (idempotent), answers its host key's fingerprint. vm-stop:
 * its processes and namespace go, its disk (directory, host key, users) stays. vm-destroy: the
 * disk too (absent: ok). vm-agent: the guest agent's answer, `result`, or `agent: 'not-running'`.
 */
export type VmRequest =
  | { op: 'vm-start'; vm: VmSpec }
  | { op: 'vm-stop'; vmid: number }
  | { op: 'vm-destroy'; vmid: number }
  | { op: 'vm-agent'; vmid: number; execute: VmAgentCommand; path?: string; argv?: string[] };
export type VmOp = VmRequest['op'];

/** JSON as qemu-guest-agent answers it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A unit of a Ceph lab's daemons (`ceph-osd@3`, `ceph-mon@pve1`, `ceph-mgr@pve1`) as systemd would run it. */
export interface UnitStatus {
  unit: string;
  /** systemd's ActiveState: what `systemctl is-active` prints. */
  state: 'active' | 'inactive' | 'failed';
  /** When it entered that state (ISO time); absent for a unit never started. */
  since?: string;
  /** The main process while active, the last one's after. */
  pid?: number;
  /** systemd's Result when it failed: exit-code or signal, with the code or signal name. */
  result?: { kind: 'exit-code' | 'signal'; status: string };
  /** The last lines the unit's processes printed (what `systemctl status` shows from the journal). */
  journal: string[];
}

/**
 * A partition of a lab disk as the kernel would map it: a loop device of its own over the disk's
 * image (offset and size of its table entry), its node `/dev/<disk>p<N>` in the host.
 */
export interface LabPartition {
  /** Its number in the table: /dev/loop3p2 is number 2. */
  number: number;
  /** Its node's name in the host: "loop3p2". */
  device: string;
  /** The machine's loop device behind the node ("loop9"), which lsblk lists under that name. */
  loop: string;
  /** First sector (512 bytes) and length in sectors, from the table. */
  start: number;
  sectors: number;
}

/** A disk of a lab's disk hosts (README: Disks): a sparse file behind a loop device while inserted. */
export interface LabDisk {
  serial: string;
  /** "0x5..." (NAA 5), as lsblk prints it. */
  wwn: string;
  model: string;
  sizeBytes: number;
  host: string;
  state: 'inserted' | 'pulled';
  /** Its kernel name while inserted ("loop3"): /dev/loop3 on its host. */
  device: string | null;
  /** Its links in the host's /dev/disk/by-id, names only. */
  byId: string[];
  /** SMART's overall-health self-assessment, as smartctl reads it: false makes it a failing disk. */
  smartPassed: boolean;
  /** What the kernel read of its partition table at insert or at the last rescan; none while pulled. */
  partitions: LabPartition[];
}

/**
 * What a new lab disk carries when it comes in, as a disk taken from another machine does, written
 * by the real tools in its host: a GPT with two partitions (sgdisk), an LVM physical volume in a
 * volume group (pvcreate, vgcreate), or an ext4 filesystem (mkfs.ext4).
 */
export type DiskMetadata = 'gpt' | 'lvm' | 'ext4';
export const DISK_METADATA: readonly DiskMetadata[] = ['gpt', 'lvm', 'ext4'];

/** A Ceph lab's request: `unit` is what systemctl asks (`host` is the asking host). */
export type CephRequest = { op: 'unit'; host: string; action: 'start' | 'stop' | 'status'; unit: string };
export type CephOp = CephRequest['op'];

/**
 * A lab's disk requests: `disk-insert` adds a new disk of `sizeGiB` to a host, with `metadata` on
 * it if asked (or puts the pulled disk `serial` back, in any host), `disk-pull` takes one out by
 * serial, `disk-smart` sets what its SMART health self-assessment says, `disk-rescan` maps its
 * partitions again from its table (the kernel's re-read and udev, after a tool wrote the table).
 */
export type DiskRequest =
  | { op: 'disk-insert'; host: string; sizeGiB?: number; serial?: string; metadata?: DiskMetadata }
  | { op: 'disk-pull'; host: string; serial: string }
  | { op: 'disk-smart'; host: string; serial: string; passed: boolean }
  | { op: 'disk-rescan'; host: string; serial: string };
export type DiskOp = DiskRequest['op'];

export type ControlResponse =
  | { ok: true; fingerprint?: string; result?: Json; agent?: 'not-running'; unit?: UnitStatus; disk?: LabDisk }
  | { ok: false; error: string };
/** What the supervisor answers a stand-in's VM request (standins/pve-lab-vm.ts). */
export type VmResponse = ControlResponse;
export type ControlAnswer = Omit<Extract<ControlResponse, { ok: true }>, 'ok'>;

function describe(request: ControlRequest | VmRequest | CephRequest | DiskRequest): string {
  return 'host' in request
    ? `${request.op} ${request.host}`
    : `${request.op} ${'vm' in request ? request.vm.vmid : request.vmid}`;
}

/** Sends one request; resolves with the response, rejects when the supervisor reports an error. */
export async function controlRequest(
  socketPath: string,
  request: ControlRequest | VmRequest | CephRequest | DiskRequest,
): Promise<ControlAnswer> {
  const socket = createConnection(socketPath).setEncoding('utf8');
  await once(socket, 'connect');
  socket.end(JSON.stringify(request) + '\n');
  let text = '';
  for await (const chunk of socket) text += chunk;
  const [line] = text.split('\n');
  if (!line) throw new Error(`${describe(request)}: the lab supervisor closed without answering`);
  const response = JSON.parse(line) as ControlResponse;
  if (!response.ok) throw new Error(`${describe(request)}: ${response.error}`);
  const { ok, ...answer } = response;
  return answer;
}
