// A stand-in for `proxmox-backup-client` 3.2 (Proxmox Backup Server's client) on the lab's host
// `backup`: PBS is not packaged for Debian 12. Self-contained (node: builtins only); run by
// /usr/local/bin/proxmox-backup-client.
//
// Covered: `snapshot list [<group>] [--repository R] [--ns NS] [--output-format text|json|
// json-pretty]` (and its alias `snapshots`), `version`; the repository from --repository or
// PBS_REPOSITORY, the password from PBS_PASSWORD (or PBS_PASSWORD_FILE, _FD, _CMD), the server
// certificate's fingerprint from PBS_FINGERPRINT (or ~/.config/proxmox-backup/fingerprints); their
// errors, as the real client prints them ("Error: ...", exit 255).
//
// There is no server: the client reads the datastore itself, on the same host, as the server would.
// A repository's host must be this host (localhost, its name or one of its addresses); its datastore
// is looked up in the server's /etc/proxmox-backup/datastore.cfg (real format), and what the real
// server's PAM login and TLS certificate would decide comes from a lab file,
// /etc/chaton-lab/pbs.json: {"fingerprint": "aa:bb:...", "passwords": {"root@pam": "/root/pbs.pass"}}
// (a user's password is the first line of that file). The datastore's format: pbs-datastore.ts.
//
// Sources (github.com/proxmox/proxmox-backup, 3.2):
// - proxmox-backup-client/src/snapshot.rs (list_snapshots: its parameters, the text table's
//   columns "snapshot", "size", "files", sorted by type, id, time), src/main.rs (the command map
//   and aliases, api_datastore_list_snapshots: the API's data as it is).
// - pbs-client/src/tools/mod.rs (get_secret_from_env: PBS_PASSWORD, _FD, _FILE, _CMD, first line;
//   extract_repository_from_value: "unable to get (default) repository"; connect: "error building
//   client for repository <repo> - <error>"), pbs-client/src/backup_repo.rs (the repository
//   grammar, defaults root@pam, localhost, 8007; "unable to parse repository url"),
//   pbs-client/src/http_client.rs (get_password: "no password input mechanism available";
//   verify_callback: "WARNING: certificate fingerprint does not match expected fingerprint!",
//   "expected:    <fp>", "certificate validation failed - Certificate fingerprint was not
//   confirmed."; the fingerprints cache).
// - pbs-api-types/src/lib.rs (BACKUP_REPO_URL_REGEX), pbs-config/src/datastore.rs (datastore.cfg).
// - pbs-tools/src/format.rs (render_backup_file_list, render_bytes_human_readable).
// - proxmox-rs (github.com/proxmox/proxmox-rs): proxmox-router/src/cli/command.rs ("Error: {err}",
//   exit(-1)), cli/format.rs (json: one line; json-pretty: two-space indent; the usage errors),
//   cli/text_table.rs (borders, right-aligned numbers, sorting), cli/getopts.rs, proxmox-schema
//   (ParameterError: "parameter verification failed - '<name>': <message>"),
//   proxmox-human-byte (HumanByte: binary units, three decimals at most).
// - Observed: a wrong password prints "Error: permission check failed." (the server's 401).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  BACKUP_ID,
  BACKUP_TYPES,
  type BackupType,
  listSnapshots,
  prettyJson,
  type SnapshotListItem,
  snapshotPath,
  sortKeys,
} from './pbs-datastore.js';
import { isMainModule } from './pve-cli.js';

export const LAB_PBS_CONFIG = '/etc/chaton-lab/pbs.json';
export const DATASTORE_CFG = '/etc/proxmox-backup/datastore.cfg';
const CLIENT_VERSION = '3.2.4';

export interface ClientIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** stdin is a terminal (the client would ask for the password and the fingerprint). */
  interactive: boolean;
  /** Table width when stdout is a terminal. */
  terminalColumns?: number;
  utf8: boolean;
}

/** Where the "server" and its lab settings live (changed by unit tests). */
export interface ServerFiles {
  labConfig: string;
  datastoreCfg: string;
  /** The user's home, for ~/.config/proxmox-backup/fingerprints. */
  home: string;
  hostNames: string[];
}

/** An anyhow error: printed as "Error: <message>", exit 255. */
class Failure extends Error {}

/** A usage error: its text is already complete. */
class UsageFailure extends Error {}

// ---------------------------------------------------------------------------------------------
// Repository (BackupRepository) and secrets.

const USER_NAME = String.raw`[^\s:/\x00-\x1f\x7f]+`;
const SAFE_ID = String.raw`(?:[A-Za-z0-9_][A-Za-z0-9._\-]*)`;
const USER_ID = `${USER_NAME}@${SAFE_ID}`;
const TOKEN_ID = `${USER_ID}!${SAFE_ID}`;
const DNS_LABEL = String.raw`[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?`;
const DNS_NAME = String.raw`(?:(?:${DNS_LABEL}\.)*(?:${DNS_LABEL}))`;
const IPV4 = String.raw`(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IP_BRACKET = `(?:${IPV4}|\\[[0-9A-Fa-f:.]+\\])`;
/** BACKUP_REPO_URL_REGEX. */
const REPO_URL = new RegExp(
  `^(?:(?:(${USER_ID}|${TOKEN_ID})@)?(${DNS_NAME}|${IP_BRACKET}):)?(?:([0-9]{1,5}):)?(${SAFE_ID})$`,
);

export interface Repository {
  authId?: string;
  host?: string;
  port?: number;
  store: string;
}

export function parseRepository(url: string): Repository | undefined {
  const match = REPO_URL.exec(url);
  if (!match) return undefined;
  const repository: Repository = { store: match[4] as string };
  if (match[1] !== undefined) repository.authId = match[1];
  if (match[2] !== undefined) repository.host = match[2];
  if (match[3] !== undefined) repository.port = Number(match[3]);
  return repository;
}

/** BackupRepository's Display. */
export function repositoryText(repository: Repository): string {
  const host = repository.host ?? 'localhost';
  if (repository.authId !== undefined)
    return `${repository.authId}@${host}:${repository.port ?? 8007}:${repository.store}`;
  if (repository.host !== undefined && repository.port === undefined) return `${host}:${repository.store}`;
  if (repository.port !== undefined) return `${host}:${repository.port}:${repository.store}`;
  return repository.store;
}

/** get_secret_from_env: BASE, BASE_FD, BASE_FILE, BASE_CMD; the first line only. */
export function secretFromEnv(base: string, env: ClientIo['env']): string | undefined {
  const firstLine = (text: string): string => text.split(/\r?\n/)[0] ?? '';
  const direct = env[base];
  if (direct !== undefined) return firstLine(direct);
  const fd = env[`${base}_FD`];
  if (fd !== undefined) {
    if (!/^\d+$/.test(fd))
      throw new Failure(`unable to parse file descriptor in ENV(${base}_FD): invalid digit found in string`);
    return firstLine(readFileSync(Number(fd), 'utf8'));
  }
  const file = env[`${base}_FILE`];
  if (file !== undefined) {
    try {
      return firstLine(readFileSync(file, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'No such file or directory (os error 2)' : (error as Error).message;
      throw new Failure(`unable to open file in ENV(${base}_FILE): ${reason}`);
    }
  }
  const command = env[`${base}_CMD`];
  if (command !== undefined) {
    const [program = '', ...args] = command.trim().split(/\s+/);
    return firstLine(execFileSync(program, args, { encoding: 'utf8' }));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The "server": datastore.cfg and the lab's authentication settings.

interface LabServer {
  fingerprint: string;
  passwords: Record<string, string>;
}

async function datastorePath(files: ServerFiles, store: string): Promise<string> {
  const raw = await readFile(files.datastoreCfg, 'utf8').catch(() => '');
  let current: string | undefined;
  for (const line of raw.split('\n')) {
    const header = /^datastore:\s*(\S+)\s*$/.exec(line);
    if (header) current = header[1];
    const path = /^\s+path\s+(\S+)\s*$/.exec(line);
    if (path && current === store) return path[1] as string;
  }
  throw new Failure(`no such datastore '${store}'`);
}

async function labServer(files: ServerFiles): Promise<LabServer> {
  const raw = await readFile(files.labConfig, 'utf8').catch(() => undefined);
  if (raw === undefined) {
    throw new Failure('error trying to connect: tcp connect error: Connection refused (os error 111)');
  }
  return JSON.parse(raw) as LabServer;
}

/** HttpClient::new and its first request: fingerprint, then the login. */
async function connect(repository: Repository, io: ClientIo, files: ServerFiles): Promise<void> {
  const repo = repositoryText(repository);
  const authId = repository.authId ?? 'root@pam';
  const password = secretFromEnv('PBS_PASSWORD', io.env);
  if (password === undefined) {
    if (authId.includes('!'))
      throw new Failure(`error building client for repository ${repo} - API token secret must be provided!`);
    if (!io.interactive)
      throw new Failure(`error building client for repository ${repo} - no password input mechanism available`);
    throw new Failure(
      'proxmox-backup-client (chaton lab stand-in): reading a password from the terminal is not implemented',
    );
  }
  const host = repository.host ?? 'localhost';
  if (!files.hostNames.includes(host.replace(/^\[|\]$/g, '')) || (repository.port ?? 8007) !== 8007) {
    throw new Failure('error trying to connect: tcp connect error: Connection refused (os error 111)');
  }
  const server = await labServer(files);
  let expected = io.env['PBS_FINGERPRINT'];
  if (expected === undefined) {
    const cache = await readFile(join(files.home, '.config', 'proxmox-backup', 'fingerprints'), 'utf8').catch(() => '');
    expected = cache
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .find(([server]) => server === host)?.[1];
  }
  if (expected?.toLowerCase() !== server.fingerprint.toLowerCase()) {
    if (expected !== undefined) {
      io.err('WARNING: certificate fingerprint does not match expected fingerprint!\n');
      io.err(`expected:    ${expected.toLowerCase()}\n`);
    }
    io.err('certificate validation failed - Certificate fingerprint was not confirmed.\n');
    throw new Failure(
      'error trying to connect: error:0A000086:SSL routines:tls_post_process_server_certificate:' +
        'certificate verify failed:../ssl/statem/statem_clnt.c:2092:',
    );
  }
  const passwordFile = server.passwords[authId];
  const secret = passwordFile === undefined ? undefined : await readFile(passwordFile, 'utf8').catch(() => undefined);
  if (secret === undefined || secret.split(/\r?\n/)[0] !== password) throw new Failure('permission check failed.');
}

// ---------------------------------------------------------------------------------------------
// Output (proxmox-router's format_and_print_result_full and text tables).

/** HumanByte's Display: binary units, rounded to three decimals, shortest form. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  const bits = bytes >= 1 ? Math.floor(Math.log2(bytes)) + 1 : 0;
  const unit = bits >= 51 ? 5 : bits >= 41 ? 4 : bits >= 31 ? 3 : bits >= 21 ? 2 : bits >= 11 ? 1 : 0;
  const size = Math.round((bytes / 1024 ** unit) * 1000) / 1000;
  return `${size} ${units[unit]}`;
}

/** render_backup_file_list: names without .blob/.fidx/.didx, sorted, space separated. */
function renderFiles(item: SnapshotListItem): string {
  return item.files
    .map((file) => (/\.(didx|fidx|blob)$/.test(file.filename) ? file.filename.slice(0, -5) : file.filename))
    .sort()
    .join(' ');
}

/** The snapshot list as a text table: snapshot, size (right-aligned), files. */
export function snapshotTable(
  items: SnapshotListItem[],
  io: Pick<ClientIo, 'utf8' | 'terminalColumns' | 'env'>,
): string {
  if (items.length === 0) return '';
  const order = (item: SnapshotListItem): [string, string, number] => [
    item['backup-type'],
    item['backup-id'],
    item['backup-time'],
  ];
  const sorted = [...items].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
    if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
    return x[2] - y[2];
  });
  const noBorder = io.env['PROXMOX_OUTPUT_NO_BORDER'] !== undefined;
  const noHeader = io.env['PROXMOX_OUTPUT_NO_HEADER'] !== undefined;
  const headers = ['snapshot', 'size', 'files'];
  const rows = sorted.map((item) => [
    snapshotPath({ type: item['backup-type'], id: item['backup-id'], time: item['backup-time'] }),
    item.size === undefined ? '' : humanBytes(item.size),
    renderFiles(item),
  ]);
  const widths = headers.map((header, column) =>
    Math.max(noHeader || noBorder ? 0 : header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const right = [false, true, false];
  const ascii = !io.utf8;
  const cell = (text: string, column: number): string =>
    right[column] ? text.padStart(widths[column] ?? 0) : text.padEnd(widths[column] ?? 0);
  const rule = (first: string, joint: string, last: string, fill: string): string =>
    widths.map((width, column) => `${column === 0 ? first : joint}${fill.repeat(width + 2)}`).join('') + last;
  const separator = ascii ? '|' : '│';
  const line = (cells: string[]): string =>
    noBorder
      ? cells.map((text, column) => cell(text, column)).join(' ')
      : cells.map((text, column) => `${separator} ${cell(text, column)} `).join('') + separator;
  const out: string[] = [];
  const rules = ascii
    ? {
        top: rule('+', '+', '+', '='),
        head: rule('+', '+', '+', '='),
        middle: rule('+', '+', '+', '-'),
        bottom: rule('+', '+', '+', '='),
      }
    : {
        top: rule('┌', '┬', '┐', '─'),
        head: rule('╞', '╪', '╡', '═'),
        middle: rule('├', '┼', '┤', '─'),
        bottom: rule('└', '┴', '┘', '─'),
      };
  if (!noBorder) out.push(rules.top);
  if (!(noHeader || noBorder)) out.push(line(headers), rules.head);
  rows.forEach((row, index) => {
    out.push(line(row));
    if (!noBorder) out.push(index === rows.length - 1 ? rules.bottom : rules.middle);
  });
  const limit = io.terminalColumns;
  return out.map((text) => `${limit ? [...text].slice(0, limit).join('') : text}\n`).join('');
}

// ---------------------------------------------------------------------------------------------
// Commands.

interface Option {
  name: string;
  type: 'string' | 'boolean';
  /** Checked value, or the ParameterError message. */
  check?: (value: string) => string | undefined;
}

const LIST_OPTIONS: Option[] = [
  {
    name: 'repository',
    type: 'string',
    check: (value) =>
      value.length > 256
        ? 'value may only be 256 characters long'
        : REPO_URL.test(value)
          ? undefined
          : 'value does not match the regex pattern',
  },
  {
    name: 'ns',
    type: 'string',
    check: (value) =>
      /^(?:(?:[A-Za-z0-9_][A-Za-z0-9._\-]*\/){0,7}[A-Za-z0-9_][A-Za-z0-9._\-]*)?$/.test(value)
        ? undefined
        : 'value does not match the regex pattern',
  },
  {
    name: 'output-format',
    type: 'string',
    check: (value) =>
      ['text', 'json', 'json-pretty'].includes(value)
        ? undefined
        : `value '${value}' is not defined in the enumeration.`,
  },
];

const LIST_USAGE =
  'proxmox-backup-client snapshot list [<group>] [OPTIONS]\n\n' +
  ' [<group>] <string>\n             Backup group.\n\nOptional parameters:\n\n' +
  ' --ns <string>\n             Namespace.\n' +
  ' --output-format text|json|json-pretty\n             Output format.\n' +
  ' --repository <string>\n             Repository URL.\n';

/** getopts::parse_arguments then the schema's check: the options and the positional group. */
function parseListArguments(args: string[]): { options: Record<string, string>; group?: string } {
  const options: Record<string, string> = {};
  const positional: string[] = [];
  const errors: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      positional.push(...args.slice(index + 1));
      break;
    }
    const match = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match || arg.length < 2) {
      positional.push(arg);
      continue;
    }
    const [, name = '', inline] = match;
    let value = inline;
    if (value === undefined) {
      const next = args[index + 1];
      if (next !== undefined && !/^-./.test(next)) value = args[++index];
      else {
        errors.push(`'${name}': missing parameter value.`);
        continue;
      }
    }
    options[name] = value as string;
  }
  if (positional.length > 1) {
    throw new UsageFailure(
      `Error: got additional arguments: ${JSON.stringify(positional.slice(1))}\nUsage: ${LIST_USAGE}`,
    );
  }
  for (const [name, value] of Object.entries(options)) {
    const option = LIST_OPTIONS.find((candidate) => candidate.name === name);
    if (!option) errors.push(`'${name}': schema does not allow additional properties.`);
    else {
      const problem = option.check?.(value);
      if (problem) errors.push(`'${name}': ${problem}`);
    }
  }
  if (errors.length === 1)
    throw new UsageFailure(`Error: parameter verification failed - ${errors[0]}\nUsage: ${LIST_USAGE}`);
  if (errors.length > 1) {
    throw new UsageFailure(
      `Error: parameter verification failed:\n${errors.map((error) => `- ${error}`).join('\n')}\nUsage: ${LIST_USAGE}`,
    );
  }
  const result: { options: Record<string, string>; group?: string } = { options };
  if (positional[0] !== undefined) result.group = positional[0];
  return result;
}

async function snapshotList(args: string[], io: ClientIo, files: ServerFiles): Promise<void> {
  const { options, group } = parseListArguments(args);
  const url = options['repository'] ?? io.env['PBS_REPOSITORY'];
  if (url === undefined) throw new Failure('unable to get (default) repository');
  const repository = parseRepository(url);
  if (!repository) throw new Failure(`unable to parse repository url '${url}'`);
  const format = options['output-format'] ?? io.env['PROXMOX_OUTPUT_FORMAT'] ?? 'text';
  let filter: { type?: BackupType; id?: string } = {};
  if (group !== undefined) {
    const [type, id] = group.split('/');
    if (!BACKUP_TYPES.includes(type as BackupType) || id === undefined || !BACKUP_ID.test(id)) {
      throw new Failure(`unable to parse backup group '${group}'`);
    }
    filter = { type: type as BackupType, id };
  }
  if (options['ns']) throw new Failure('proxmox-backup-client (chaton lab stand-in): namespaces are not implemented');
  await connect(repository, io, files);
  const datastore = await datastorePath(files, repository.store);
  const items = (await listSnapshots(datastore, filter)).map(sortKeys) as SnapshotListItem[];
  if (format === 'json') io.out(`${JSON.stringify(items)}\n`);
  else if (format === 'json-pretty') io.out(`${prettyJson(items)}\n`);
  else if (format === 'text') io.out(snapshotTable(items, io));
  else io.err(`undefined output format '${format}'\n`);
}

const COMMANDS: Record<string, string[]> = {
  snapshot: ['list'],
  version: [],
};
const ALIASES: Record<string, string[]> = { snapshots: ['snapshot', 'list'] };

function nestedUsage(prefix: string, words: string[]): string {
  const list = 'proxmox-backup-client snapshot list [<group>] [OPTIONS]\n';
  return words.length === 0 ? `${list}${prefix} version [OPTIONS]\n` : list;
}

/** CliCommandMap::find_command: exact, else a unique prefix. */
function findCommand(word: string, names: string[]): string | undefined {
  if (names.includes(word)) return word;
  const hits = names.filter((name) => name.startsWith(word));
  return hits.length === 1 ? hits[0] : undefined;
}

/** Runs one command line; returns the exit code. */
export async function run(argv: string[], io: ClientIo, files: ServerFiles): Promise<number> {
  const prefix = 'proxmox-backup-client';
  let args = [...argv];
  const alias = args[0] === undefined ? undefined : ALIASES[args[0]];
  if (alias) args = [...alias, ...args.slice(1)];
  try {
    const first = args.shift();
    if (first === undefined) {
      throw new UsageFailure(
        `Error: no command specified.\nPossible commands: ${Object.keys(COMMANDS).join(', ')}\n\n` +
          `Usage:\n\n${nestedUsage(prefix, [])}\n`,
      );
    }
    const command = findCommand(first, Object.keys(COMMANDS));
    if (command === undefined) {
      throw new UsageFailure(`Error: no such command '${first}'\n\nUsage:\n\n${nestedUsage(prefix, [])}\n`);
    }
    if (command === 'version') {
      io.out(`client version: ${CLIENT_VERSION}\n`);
      return 0;
    }
    const sub = args.shift();
    if (sub === undefined) {
      throw new UsageFailure(
        `Error: no command specified.\nPossible commands: list\n\nUsage:\n\n${nestedUsage(prefix, ['snapshot'])}\n`,
      );
    }
    if (findCommand(sub, COMMANDS[command] ?? []) !== 'list') {
      throw new UsageFailure(`Error: no such command '${sub}'\n\nUsage:\n\n${nestedUsage(prefix, ['snapshot'])}\n`);
    }
    await snapshotList(args, io, files);
    return 0;
  } catch (error) {
    if (error instanceof UsageFailure) io.err(error.message);
    else if (error instanceof Failure) io.err(`Error: ${error.message}\n`);
    else throw error;
    return 255;
  }
}

export function defaultServerFiles(): ServerFiles {
  return {
    labConfig: LAB_PBS_CONFIG,
    datastoreCfg: DATASTORE_CFG,
    home: process.env['HOME'] ?? '/root',
    hostNames: [
      ...['localhost', 'ip6-localhost', hostname(), hostname().split('.')[0] ?? ''],
      ...Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((entry) => entry.address)),
    ],
  };
}

if (isMainModule(import.meta.url)) {
  const locale = process.env['LC_ALL'] || process.env['LC_CTYPE'] || process.env['LANG'] || '';
  process.exitCode = await run(
    process.argv.slice(2),
    {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
      interactive: Boolean(process.stdin.isTTY),
      terminalColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
      utf8: /utf-?8/i.test(locale),
    },
    defaultServerFiles(),
  );
}
