// A stand-in for `qm`, Proxmox VE's QEMU/KVM manager, on lab hosts with the pve role: list, config,
// status, start, stop, destroy (with --skiplock, --purge, --destroy-unreferenced-disks) and set
// (--delete only) of the VMs of the node it runs on, with the real output, errors
// and exit codes, the real configuration files in /etc/pve and the real config lock
// (/var/lock/qemu-server/lock-<vmid>.conf). Self-contained (node: builtins only); run by
// /usr/local/sbin/qm. Run state and locks: see pve-guests.ts.
//
// Sources (github.com/proxmox):
// - qemu-server: src/PVE/CLI/qm.pm (the command tree, `qm list`'s printf columns, `qm config`'s
//   sorted "key: value" lines without digest, `qm status`'s "status: <qmpstatus>", the UPID exit),
//   src/PVE/API2/Qemu.pm (vmlist, vm_config, vm_start, vm_stop, destroy_vm, update_vm and their parameters
//   and messages), src/PVE/QemuServer.pm (vmstatus, vm_start, _do_vm_stop: silent when stopped).
// - pve-common: src/PVE/JSONSchema.pm (pve-vmid: minimum 100, "value does not look like a valid
//   VM ID"); the shared command-line machinery is in pve-cli.ts.
import { type Param, sorted, type Command, type Tool } from './pve-cli.js';
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
} from './pve-guests.js';

export const VMID_PARAM: Param = {
  type: 'integer',
  minimum: 100,
  maximum: 999_999_999,
  format: {
    verify: (value) => {
      if (!/^[1-9][0-9]{2,8}$/.test(value)) throw new Error('value does not look like a valid VM ID\n');
      return value;
    },
  },
};

const SKIPLOCK: Param = { type: 'boolean', optional: true };

/** Perl's "%s" of a number: integers plainly, others with up to 15 significant digits. */
function perlNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
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
  setCommand('qm', 'qemu', { vmid: VMID_PARAM, skiplock: SKIPLOCK }),
];

export const QM: Tool<NodeContext> = { name: 'qm', commands: COMMANDS };

/** Runs one qm command line on `ctx.node`; returns its exit code. The node's status is rebroadcast. */
export const { run, main } = nodeTool(QM, import.meta.url);
