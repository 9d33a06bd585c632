// A stand-in for `qm`, Proxmox VE's QEMU/KVM manager, on lab hosts with the pve role: list, config,
// status, start, stop, destroy (with --skiplock, --purge, --destroy-unreferenced-disks), set (values
// and --delete), clone, disk resize (alias resize), guest cmd (alias agent) and guest exec of the
// VMs of the node it runs on, with the real output, errors and exit codes, the real configuration
// files in /etc/pve and the real config lock (/var/lock/qemu-server/lock-<vmid>.conf).
// Self-contained (node: builtins only); run by /usr/local/sbin/qm. Run state, locks and tasks: see
// pve-guests.ts; clone, set's values, resize and the agent: pve-vm.ts.
//
// Sources (github.com/proxmox):
// - qemu-server: src/PVE/CLI/qm.pm (the command tree and its aliases, `qm list`'s printf columns,
//   `qm config`'s sorted "key: value" lines without digest, `qm status`'s "status: <qmpstatus>",
//   $upid_exit for start, stop, destroy and clone but not disk resize, param_mapping's sshkeys
//   file URL-encoded by URI::Escape::uri_escape, $print_agent_result, exec's extra-args),
//   src/PVE/API2/Qemu.pm (vmlist, vm_config, vm_start, vm_stop, destroy_vm, update_vm and their
//   parameters and messages), src/PVE/QemuServer.pm (vmstatus, vm_start, _do_vm_stop: silent when
//   stopped).
// - pve-common: src/PVE/JSONSchema.pm (pve-vmid: minimum 100, "value does not look like a valid
//   VM ID"; extra-args); the shared command-line machinery is in pve-cli.ts.
import { readFile } from 'node:fs/promises';
import type { VmAgentCommand } from '../control.js';
import { Die, type Json, type Param, prettyJson, sorted, stringParam, type Command, type Tool } from './pve-cli.js';
import { readVmList } from './pve-cluster.js';
import {
  destroyGuest,
  guestStatus,
  loadConfig,
  type NodeContext,
  refreshNodeStatus,
  startGuest,
  stopGuest,
  configCommand,
  setCommand,
  nodeTool,
  forkWorker,
  runTask,
} from './pve-guests.js';
import {
  AGENT_COMMANDS,
  agentCommand,
  CLONE_OPTIONS,
  cloneRequest,
  cloneVm,
  GUEST_AGENT_COMMANDS,
  prepareVmValues,
  RESIZE_OPTIONS,
  resizeVm,
  VM_OPTIONS,
  VMID_PARAM,
} from './pve-vm.js';

export { VMID_PARAM };

const SKIPLOCK: Param = { type: 'boolean', optional: true };

/** Perl's "%s" of a number: integers plainly, others with up to 15 significant digits. */
function perlNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
}

/** qm set's options: the API's, but --sshkeys is a file (see its param mapping). */
const QM_SET_OPTIONS = { ...VM_OPTIONS, sshkeys: { type: 'string', optional: true } } satisfies Record<string, Param>;

/** URI::Escape::uri_escape: every byte but the unreserved characters as %XX. */
function uriEscape(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** qm.pm $print_agent_result: a string as a line, an empty object as nothing, the rest as pretty JSON. */
function printAgentResult(ctx: NodeContext, result: Json): void {
  if (typeof result === 'string') {
    if (!/^\s*$/.test(result)) ctx.io.out(`${result.replace(/\n$/, '')}\n`);
    return;
  }
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && Object.keys(result).length === 0) {
    return;
  }
  ctx.io.out(`${prettyJson(result)}\n`);
}

const COMMANDS: Command<NodeContext>[] = [
  {
    words: ['list'],
    argParams: [],
    params: { full: { type: 'boolean', optional: true } },
    async run(_params, ctx) {
      const statuses = await refreshNodeStatus(ctx);
      if (![...statuses.values()].some((status) => status['type'] !== 'lxc')) return;
      const row = (cells: string[]): string => {
        const [vmid = '', name = '', status = '', mem = '', disk = '', pid = ''] = cells;
        const line = [vmid.padStart(10), name.padEnd(20), status.padEnd(10), mem.padEnd(10), disk.padStart(12)];
        return `${[...line, pid.padEnd(10)].join(' ')}\n`;
      };
      const vmlist = await readVmList(ctx.configDir);
      let text = row(['VMID', 'NAME', 'STATUS', 'MEM(MB)', 'BOOTDISK(GB)', 'PID']);
      for (const vmid of [...statuses.keys()].sort((a, b) => a - b)) {
        const status = statuses.get(vmid) ?? {};
        if (vmlist.get(vmid)?.type !== 'qemu') continue;
        text += row([
          String(vmid),
          String(status['name'] ?? ''),
          String(status['qmpstatus'] ?? status['status']),
          perlNumber(Number(status['maxmem'] ?? 0) / (1024 * 1024)),
          (Number(status['maxdisk'] ?? 0) / 1024 ** 3).toFixed(2),
          String(status['pid'] ?? 0),
        ]);
      }
      ctx.io.out(text);
    },
  },
  configCommand('qemu', VMID_PARAM),
  {
    words: ['status'],
    argParams: ['vmid'],
    params: { vmid: VMID_PARAM, verbose: { type: 'boolean', optional: true } },
    async run(params, ctx) {
      const vmid = Number(params['vmid']);
      const config = await loadConfig(ctx, 'qemu', vmid);
      const status = await guestStatus(ctx, { vmid, type: 'qemu', node: ctx.node }, config, true);
      if (!params['verbose']) {
        ctx.io.out(`status: ${status['qmpstatus'] ?? 'unknown'}\n`);
        return;
      }
      let text = '';
      for (const key of sorted(Object.keys(status))) {
        if (key === 'cpu' || key === 'relcpu') continue;
        const value = status[key];
        if (value !== null && typeof value === 'object') {
          for (const [inner, innerValue] of Object.entries(value)) text += `${key}:\n\t${inner}: ${innerValue}\n`;
        } else text += `${key}: ${value}\n`;
      }
      ctx.io.out(text);
    },
  },
  {
    words: ['start'],
    argParams: ['vmid'],
    params: {
      vmid: VMID_PARAM,
      skiplock: SKIPLOCK,
      timeout: { type: 'integer', optional: true, minimum: 0, maximum: 86400 },
    },
    async run(params, ctx) {
      await startGuest(ctx, 'qemu', Number(params['vmid']));
    },
  },
  {
    words: ['stop'],
    argParams: ['vmid'],
    params: {
      vmid: VMID_PARAM,
      skiplock: SKIPLOCK,
      timeout: { type: 'integer', optional: true, minimum: 0 },
      keepActive: { type: 'boolean', optional: true },
      'overrule-shutdown': { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      await stopGuest(ctx, 'qemu', Number(params['vmid']));
    },
  },
  {
    words: ['destroy'],
    argParams: ['vmid'],
    params: {
      vmid: VMID_PARAM,
      skiplock: SKIPLOCK,
      purge: { type: 'boolean', optional: true },
      'destroy-unreferenced-disks': { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      await destroyGuest(ctx, 'qemu', Number(params['vmid']), {
        skiplock: Boolean(params['skiplock']),
        purge: Boolean(params['purge']),
        unreferencedDisks: Boolean(params['destroy-unreferenced-disks']),
      });
    },
  },
  setCommand('qemu', { vmid: VMID_PARAM, skiplock: SKIPLOCK }, QM_SET_OPTIONS, async (set) => {
    // qm.pm param_mapping: --sshkeys names a file, whose content the API gets URL-encoded.
    const file = set.get('sshkeys');
    if (file !== undefined) set.set('sshkeys', uriEscape(await readFile(file, 'utf8')));
    await prepareVmValues(set);
  }),
  {
    words: ['clone'],
    argParams: ['vmid', 'newid'],
    params: {
      vmid: VMID_PARAM,
      newid: VMID_PARAM,
      ...CLONE_OPTIONS,
    },
    async run(params, ctx) {
      await cloneVm(ctx, cloneRequest(params), runTask);
    },
  },
  {
    words: ['disk', 'resize'],
    argParams: ['vmid', 'disk', 'size'],
    params: { vmid: VMID_PARAM, ...RESIZE_OPTIONS },
    async run(params, ctx) {
      // No $upid_exit for disk resize: a failed task is printed, and qm exits 0 all the same.
      const options = { digest: stringParam(params, 'digest'), skiplock: Boolean(params['skiplock']) };
      await resizeVm(ctx, Number(params['vmid']), String(params['disk']), String(params['size']), options, forkWorker);
    },
  },
  {
    words: ['guest', 'cmd'],
    argParams: ['vmid', 'command'],
    params: { vmid: VMID_PARAM, command: { type: 'string', enum: GUEST_AGENT_COMMANDS } },
    async run(params, ctx) {
      const command = String(params['command']);
      if (!(command in AGENT_COMMANDS))
        throw new Die(`qm (chaton lab stand-in): guest cmd ${command} is not implemented\n`);
      const result = await agentCommand(ctx, Number(params['vmid']), `guest-${command}` as VmAgentCommand);
      printAgentResult(ctx, result);
    },
  },
  {
    words: ['guest', 'exec'],
    argParams: ['vmid', 'extra-args'],
    params: {
      vmid: VMID_PARAM,
      'extra-args': { type: 'string', optional: true, format: { list: true, verify: (value) => value } },
      synchronous: { type: 'boolean', optional: true },
      timeout: { type: 'integer', optional: true, minimum: 0 },
      'pass-stdin': { type: 'boolean', optional: true },
    },
    async run(params, ctx) {
      const argv = String(params['extra-args'] ?? '')
        .split('\0')
        .filter((arg) => arg !== '');
      if (argv.length === 0) throw new Die('command or input-data (or both) required\n');
      const result = await agentCommand(ctx, Number(params['vmid']), 'guest-exec', { argv });
      printAgentResult(ctx, result);
    },
  },
];

export const QM: Tool<NodeContext> = {
  name: 'qm',
  commands: COMMANDS,
  aliases: { resize: ['disk', 'resize'], agent: ['guest', 'cmd'] },
};

/** Runs one qm command line on `ctx.node`; returns its exit code. The node's status is rebroadcast. */
export const { run, main } = nodeTool(QM, import.meta.url);
