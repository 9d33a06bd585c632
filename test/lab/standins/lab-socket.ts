// How a stand-in asks the lab supervisor for what a real machine would do by itself (start a VM's
// host, run a Ceph daemon as its unit): one JSON request on the supervisor's control socket, one
// JSON answer (test/lab/control.ts). No Proxmox or Ceph source here: this is the lab's own side.
import { once } from 'node:events';
import { createConnection } from 'node:net';
import type { ControlResponse } from '../control.js';

/** The supervisor's answer; undefined when nobody listens there (not a lab that has this side). */
export async function labRequest(socketPath: string, request: { op: string }): Promise<ControlResponse | undefined> {
  const socket = createConnection(socketPath).setEncoding('utf8');
  try {
    await Promise.race([once(socket, 'connect'), once(socket, 'error').then(([error]) => Promise.reject(error))]);
  } catch {
    socket.destroy();
    return undefined;
  }
  socket.end(`${JSON.stringify(request)}\n`);
  let answer = '';
  for await (const chunk of socket) answer += chunk;
  const [line] = answer.split('\n');
  if (!line) throw new Error(`lab supervisor: no answer to ${request.op}`);
  return JSON.parse(line) as ControlResponse;
}
