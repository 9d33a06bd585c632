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

export type ControlResponse = { ok: true; fingerprint?: string } | { ok: false; error: string };

/** A started cloud-init VM as the Proxmox stand-ins describe it to the supervisor (standins/pve-lab-vm.ts). */
export interface VmSpec {
  vmid: number;
  node: string;
  name: string;
  /** "198.18.3.240/24", from ipconfig0. */
  address: string;
  gateway?: string;
  nameservers: string[];
  searchdomain?: string;
  /** ciuser; root when absent, as the lab's template has no default user. */
  user: string;
  /** The decoded sshkeys lines. */
  sshKeys: string[];
}

/** What a guest agent command asks: the qemu-guest-agent command and its arguments. */
export type VmAgentExecute = 'guest-ping' | 'guest-network-get-interfaces' | 'guest-file-read' | 'guest-exec';

/** The lab's VM hosts: started (idempotent), stopped (its disk kept), destroyed, asked through its agent. */
export type VmRequest =
  | { op: 'vm-start'; vm: VmSpec }
  | { op: 'vm-stop'; vmid: number }
  | { op: 'vm-destroy'; vmid: number }
  | { op: 'vm-agent'; vmid: number; execute: VmAgentExecute; path?: string; argv?: string[] };

/** vm-start answers the new host's key fingerprint; vm-agent the agent's result, or that it does not answer. */
export type VmResponse =
  { ok: true; fingerprint?: string; result?: unknown; agent?: 'not-running' } | { ok: false; error: string };

/** Sends one request; resolves with the response, rejects when the supervisor reports an error. */
export async function controlRequest(socketPath: string, request: ControlRequest): Promise<{ fingerprint?: string }> {
  const socket = createConnection(socketPath).setEncoding('utf8');
  await once(socket, 'connect');
  socket.end(JSON.stringify(request) + '\n');
  let answer = '';
  for await (const chunk of socket) answer += chunk;
  const [line] = answer.split('\n');
  if (!line) throw new Error(`${request.op} ${request.host}: the lab supervisor closed without answering`);
  const response = JSON.parse(line) as ControlResponse;
  if (!response.ok) throw new Error(`${request.op} ${request.host}: ${response.error}`);
  return response;
}
