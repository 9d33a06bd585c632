// The lab's command line: `npm run lab -- up|down|status|shell`. Exit 2 on usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DISK_METADATA } from './control.js';
import { DEFAULT_DISK_GIB } from './disks.js';
import { labAttach, labDown, labStatus, labUp } from './lab.js';
import { DEFAULT_EXTRA_HOSTS, DEFAULT_LAB_NAME, LabPreconditionError, lanSubnet } from './topology.js';

const USAGE = `usage: npm run lab -- <command>   (or: node dist/test/lab/cli.js <command>)
  up [--hosts N] [--name X] [--wan] [--ceph] [--disks]
                              start a lab: a bastion, pve1-3, gw, backup and N extra hosts
                              (default ${DEFAULT_EXTRA_HOSTS}), name "${DEFAULT_LAB_NAME}" unless given;
                              --wan: behind gw's two ISP links, as issue 12's site;
                              --ceph: a real Ceph cluster on pve1-3, HEALTH_OK when up returns;
                              --disks: pve1-3 boot from a ZFS mirror rpool, backup from an mdadm
                              RAID1 md0, GRUB or ESPs on both disks (stand-ins, README)
  down [--name X]             stop it and remove all it made (after a crash too)
  status                      list the labs on this machine
  shell <host> [--name X]     a root shell on a lab host
  isp-down|isp-up main|backup [--name X]
                              cut or restore a wan lab's ISP link beyond the ISP's box
  vm-faults '<json>' [--name X]
                              merge into the VM faults file (e.g. '{"agentNever":true}'; null
                              removes a key) and print the faults now in force
  ceph-faults '<json>' [--name X]
                              the same for a Ceph lab's faults (e.g. '{"cephVolumeFailActivate":1}':
                              the next ceph-volume lvm create fails in raw activate and rolls back)
  disk insert <host> [--size G] [--serial S] [--metadata gpt|lvm|ext4] [--name X]
                              a lab with disks (--ceph, --disks): a new empty disk (default
                              ${DEFAULT_DISK_GIB} GiB) in pve1-3 or backup, or carrying old metadata, or the
                              pulled disk S put back as it was (a serial never seen: a new disk
                              bearing it), its partitions mapped from its table; prints its serial
  disk pull <host> <serial> [--name X]
                              take that disk out of the host
  disk smart <host> <serial> passed|failing [--name X]
                              what smartctl says of that disk's health
  disk list [--name X]        the lab's disks, inserted and pulled, with partitions and locate LEDs`;

const NAME = { name: { type: 'string' } } as const;

/** The command's options and its positional arguments; a LabPreconditionError when they are wrong. */
function parse<Options extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: Options,
  positionalCount: number,
) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: positionalCount > 0, strict: true });
    if (parsed.positionals.length !== positionalCount) {
      throw new Error(`expected ${positionalCount} argument(s), got ${parsed.positionals.length}`);
    }
    return parsed;
  } catch (error) {
    throw new LabPreconditionError(`${(error as Error).message}\n${USAGE}`);
  }
}

function nameOption(name: string | undefined): string {
  return name === undefined ? '' : ` --name ${name}`;
}

async function up(args: string[]): Promise<void> {
  const options = {
    ...NAME,
    hosts: { type: 'string' },
    wan: { type: 'boolean' },
    ceph: { type: 'boolean' },
    disks: { type: 'boolean' },
  } as const;
  const { values } = parse(args, options, 0);
  if (values.hosts !== undefined && !/^\d+$/.test(values.hosts)) {
    throw new LabPreconditionError(`--hosts takes a number of hosts, not "${values.hosts}"`);
  }
  const started = performance.now();
  const hosts = values.hosts === undefined ? undefined : Number(values.hosts);
  const lab = await labUp({ name: values.name, hosts, wan: values.wan, ceph: values.ceph, disks: values.disks });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const name = nameOption(values.name);
  const { main, backup } = lab.wan?.links ?? {};
  const bastion = main && backup ? `${main.publicAddress} or ${backup.publicAddress}` : lab.bastion.address;
  console.log(
    `lab "${lab.name}" is up in ${seconds} s: bastion ${bastion}, ` +
      `${lab.hosts.length} hosts behind it on ${lanSubnet(lab.index)}`,
  );
  if (lab.ceph) console.log('Ceph: HEALTH_OK, two OSDs on each of pve1-3, pool rbd');
  if (lab.mirrors) console.log('disks: rpool (ZFS mirror) on pve1-3, md0 (RAID1) on backup');
  console.log(`inventory: ${lab.inventoryPath}`);
  console.log(`  chaton -i ${lab.inventoryPath} hosts check all`);
  console.log(`  npm run lab -- shell pve1${name}     # a root shell on a lab host`);
  console.log(`  npm run lab -- down${name}           # removes everything`);
}

async function down(args: string[]): Promise<void> {
  const { values } = parse(args, NAME, 0);
  await labDown(values.name);
  console.log(`lab "${values.name ?? DEFAULT_LAB_NAME}" is down`);
}

async function status(args: string[]): Promise<void> {
  parse(args, {}, 0);
  const labs = await labStatus();
  if (labs.length === 0) {
    console.log('no lab is up');
    return;
  }
  const rows = [['NAME', 'INDEX', 'HOSTS', 'SSHD UP', 'INVENTORY']];
  for (const lab of labs)
    rows.push([lab.name, String(lab.index), String(lab.hosts), String(lab.alive), lab.inventoryPath]);
  printTable(rows);
}

async function shell(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, NAME, 1);
  const lab = await labAttach(values.name);
  return lab.shell(positionals[0] as string);
}

async function isp(state: 'up' | 'down', args: string[]): Promise<void> {
  const { values, positionals } = parse(args, NAME, 1);
  const link = positionals[0];
  if (link !== 'main' && link !== 'backup') throw new LabPreconditionError(`no ISP link "${link}": main or backup`);
  const lab = await labAttach(values.name);
  await (state === 'down' ? lab.ispDown(link) : lab.ispUp(link));
  console.log(`lab "${lab.name}": the ${link} ISP's link to the internet is ${state}`);
}

/** `vm-faults` and `ceph-faults`: merges the JSON object given into the lab's faults file, prints the result. */
async function faults(command: 'vm-faults' | 'ceph-faults', args: string[]): Promise<void> {
  const { values, positionals } = parse(args, NAME, 1);
  let partial: unknown;
  try {
    partial = JSON.parse(positionals[0] as string);
  } catch (error) {
    throw new LabPreconditionError(`${command} takes a JSON object: ${(error as Error).message}`);
  }
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new LabPreconditionError(`${command} takes a JSON object, not ${positionals[0]}`);
  }
  const lab = await labAttach(values.name);
  const merged = command === 'vm-faults' ? await lab.setVmFaults(partial) : await lab.setCephFaults(partial);
  console.log(JSON.stringify(merged, null, 2));
}

/** A table as `status` prints it: columns padded to their widest cell. */
function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows)
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

async function disk([action, ...args]: string[]): Promise<void> {
  switch (action) {
    case 'insert': {
      const options = {
        ...NAME,
        size: { type: 'string' },
        serial: { type: 'string' },
        metadata: { type: 'string' },
      } as const;
      const { values, positionals } = parse(args, options, 1);
      if (values.size !== undefined && !/^\d+$/.test(values.size)) {
        throw new LabPreconditionError(`--size takes a number of GiB, not "${values.size}"`);
      }
      const metadata = DISK_METADATA.find((kind) => kind === values.metadata);
      if (values.metadata !== undefined && metadata === undefined) {
        throw new LabPreconditionError(`--metadata takes ${DISK_METADATA.join(', ')}, not "${values.metadata}"`);
      }
      const lab = await labAttach(values.name);
      const sizeGiB = values.size === undefined ? undefined : Number(values.size);
      const opts = {
        ...(sizeGiB === undefined ? {} : { sizeGiB }),
        ...(values.serial ? { serial: values.serial } : {}),
        ...(metadata ? { metadata } : {}),
      };
      console.log(await lab.diskInsert(positionals[0] as string, opts));
      return;
    }
    case 'pull': {
      const { values, positionals } = parse(args, NAME, 2);
      const [host, serial] = positionals as [string, string];
      const lab = await labAttach(values.name);
      await lab.diskPull(host, serial);
      console.log(`disk ${serial} pulled out of ${host}`);
      return;
    }
    case 'smart': {
      const { values, positionals } = parse(args, NAME, 3);
      const [host, serial, health] = positionals as [string, string, string];
      if (health !== 'passed' && health !== 'failing') {
        throw new LabPreconditionError(`disk smart takes passed or failing, not "${health}"`);
      }
      const lab = await labAttach(values.name);
      await lab.diskSmart(host, serial, health === 'passed');
      console.log(`disk ${serial} of ${host}: SMART health ${health}`);
      return;
    }
    case 'list': {
      const { values } = parse(args, NAME, 0);
      const lab = await labAttach(values.name);
      const rows = [['HOST', 'SERIAL', 'STATE', 'DEVICE', 'PARTITIONS', 'SIZE', 'MODEL', 'WWN', 'SMART', 'LOCATE']];
      const leds = await lab.diskLeds();
      for (const entry of await lab.disks()) {
        const size = `${entry.sizeBytes / 1024 ** 3}G`;
        const smart = entry.smartPassed ? 'passed' : 'failing';
        const locate = leds[entry.serial] ? 'on' : 'off';
        const { host, serial, state, model, wwn } = entry;
        const partitions = entry.partitions.map((partition) => partition.number).join(',') || '-';
        rows.push([host, serial, state, entry.device ?? '-', partitions, size, model, wwn, smart, locate]);
      }
      printTable(rows);
      return;
    }
    default:
      throw new LabPreconditionError(`disk takes insert, pull, smart or list\n${USAGE}`);
  }
}

async function main([command, ...args]: string[]): Promise<number> {
  switch (command) {
    case 'up':
      await up(args);
      return 0;
    case 'down':
      await down(args);
      return 0;
    case 'status':
      await status(args);
      return 0;
    case 'shell':
      return shell(args);
    case 'isp-down':
    case 'isp-up':
      await isp(command === 'isp-down' ? 'down' : 'up', args);
      return 0;
    case 'vm-faults':
    case 'ceph-faults':
      await faults(command, args);
      return 0;
    case 'disk':
      await disk(args);
      return 0;
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new LabPreconditionError(command ? `unknown command "${command}"\n${USAGE}` : USAGE);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`lab: ${(error as Error).message}`);
  process.exitCode = error instanceof LabPreconditionError ? 2 : 1;
}
