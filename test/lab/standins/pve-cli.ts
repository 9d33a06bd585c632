// The command-line machinery that every Proxmox VE tool shares, for the lab's stand-ins (pveum,
// pvesh, qm, qmrestore, pct): option parsing, parameter validation, usage lines, command
// resolution, the output formats, and the cluster-wide lock. Self-contained (node: builtins only);
// compiled next to the stand-ins and copied with them into each host's /usr/local/lib/chaton-lab.
//
// Sources (github.com/proxmox):
// - pve-common: src/PVE/CLIHandler.pm (resolve_cmd, unique abbreviations, aliases, "ERROR: ..."
//   usage, handle_simple_cmd, exit(-1)), src/PVE/RESTHandler.pm (cli_handler, usage_str, the
//   standard output options), src/PVE/JSONSchema.pm (get_options, check_prop, validate and their
//   messages), src/PVE/Exception.pm (how a 400 error prints), src/PVE/CLIFormatter.pm
//   (print_api_result: json, json-pretty, text tables), src/PVE/Format.pm (the renderers),
//   src/PVE/Tools.pm (encode_text, decode_text, split_list).
// - pve-cluster: src/PVE/Cluster.pm cfs_lock (lock directory under priv/lock, 10 s timeout, 120 s
//   expiry, "got lock request timeout").
// Every error leaves through Perl's die (message on stderr, exit 255) as in the real tools.
import { realpathSync } from 'node:fs';
import { mkdir, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Where pmxcfs mounts the cluster configuration. */
export const PVE_CONFIG_DIR = '/etc/pve';
/** Perl's die without an errno, and CLIHandler's exit(-1). */
export const ERROR_EXIT = 255;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Output lines are cut to this width (stdout is a terminal). */
  terminalColumns?: number;
  /** The locale's character set is UTF-8: tables get line-drawing frames. */
  utf8: boolean;
}

/** A plain Perl die: its message is printed as it is, then exit 255. */
export class Die extends Error {}

/** A program that ends with its own code after printing `message` on stderr (pvesh's exit(1)). */
export class Exit extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** A PVE::Exception with code 400: printed as "400 <message>", its errors, and the command's usage. */
export class ParamError extends Error {
  constructor(
    message: string,
    readonly errors: Record<string, string> = {},
  ) {
    super(message);
  }

  stringify(): string {
    return `400 ${this.message}${sorted(Object.keys(this.errors))
      .map((key) => `${key}: ${this.errors[key]}\n`)
      .join('')}`;
  }
}

/** Perl's idea of a true string: defined, not empty, not "0". */
export function truthy(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '0';
}

/** Tools.pm split_list: commas, semicolons and blanks separate. */
export function splitList(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .replace(/[,;]/g, ' ')
    .trimStart()
    .split(/\s+/)
    .filter((item) => item !== '');
}

/** Perl's sort: string comparison. */
export function sorted<T>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/** Tools.pm encode_text: UTF-8, then every control, high-bit byte and ':' as %XX. */
export function encodeText(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      byte >= 0x20 && byte <= 0x7e && byte !== 0x3a
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

export function decodeText(data: string): string {
  const pieces = data
    .split(/(%[0-9A-Fa-f]{2})/)
    .map((piece) =>
      /^%[0-9A-Fa-f]{2}$/.test(piece) ? Buffer.from([parseInt(piece.slice(1), 16)]) : Buffer.from(piece, 'utf8'),
    );
  return Buffer.concat(pieces).toString('utf8');
}

export function messageOf(error: unknown): string {
  if (error instanceof ParamError) return error.stringify();
  if (error instanceof Error) return error.message.endsWith('\n') ? error.message : `${error.message}\n`;
  return `${String(error)}\n`;
}

/** PVE::Tools::file_set_contents: a temporary file renamed into place. */
export async function replaceFile(path: string, data: string | Buffer, mode?: number): Promise<void> {
  const temporary = `${path}.tmp.${process.pid}`;
  await writeFile(temporary, data, mode === undefined ? {} : { mode });
  await rename(temporary, path);
}

// ---------------------------------------------------------------------------------------------
// The cluster-wide lock (Cluster.pm cfs_lock): pmxcfs makes mkdir of a directory under
// priv/lock atomic across nodes, and releases a lock that is older than 120 s.

const CFS_LOCK_TIMEOUT_S = 10;
const CFS_LOCK_EXPIRY_MS = 120_000;

async function acquireCfsLock(configDir: string, lockId: string, io: Io): Promise<string> {
  const lockDir = join(configDir, 'priv', 'lock');
  const lockPath = join(lockDir, lockId);
  await mkdir(lockDir).catch(() => {});
  if (
    !(await stat(lockDir).then(
      (info) => info.isDirectory(),
      () => false,
    ))
  ) {
    throw new Die('pve cluster filesystem not online.\n');
  }
  let sleptMs = 0;
  for (;;) {
    const created = await mkdir(lockPath).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return false;
        throw error;
      },
    );
    if (created) return lockPath;
    const remainingS = Math.max(CFS_LOCK_TIMEOUT_S - Math.floor(sleptMs / 1000), 1);
    const sleepMs = Math.min(remainingS, 10) * 100;
    const nextSleptS = Math.floor((sleptMs + sleepMs) / 1000);
    if (nextSleptS >= CFS_LOCK_TIMEOUT_S) throw new Die('got lock request timeout\n');
    if (nextSleptS > Math.floor(sleptMs / 1000)) io.err(`trying to acquire cfs lock '${lockId}' ...\n`);
    // cfs_lock's utime(0, 0) asks pmxcfs to drop an expired lock: done here directly.
    const age = await stat(lockPath).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (age > CFS_LOCK_EXPIRY_MS) await rmdir(lockPath).catch(() => {});
    await sleep(sleepMs);
    sleptMs += sleepMs;
  }
}

/**
 * cfs_lock_file and its callers (lock_user_config, cfs_lock_file('jobs.cfg')...): `work` under the
 * lock `lockId` (e.g. "file-user_cfg"); any failure dies as "<errmsg>: <error>", or without an
 * errmsg (cfs_lock_firewall, cfs_lock_file's callers that die with $@) the work's error as it is and
 * the lock's as "cfs-lock '<id>' error: <error>".
 */
export async function cfsLock<T>(
  configDir: string,
  lockId: string,
  io: Io,
  errmsg: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const prefix = errmsg === undefined ? '' : `${errmsg}: `;
  let lockPath: string;
  try {
    lockPath = await acquireCfsLock(configDir, lockId, io);
  } catch (error) {
    throw new Die(`${prefix}cfs-lock '${lockId}' error: ${messageOf(error)}`);
  }
  try {
    return await work();
  } catch (error) {
    if (error instanceof ParamError && errmsg === undefined) throw error;
    throw new Die(`${prefix}${messageOf(error)}`);
  } finally {
    await rmdir(lockPath).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Output (CLIFormatter.pm print_api_result): json (canonical, one line), json-pretty (JSON::XS
// pretty: three-space indent, " : "), text (a table; empty lists print nothing).

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface Column {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  optional?: boolean;
  maxLength?: number;
  /** Format.pm renderers, applied to text output unless --human-readable 0. */
  renderer?: 'bytes' | 'duration' | 'fraction_as_percentage' | 'timestamp';
}

/** The API result schema of a method, as print_api_result sees it. */
export type ResultSchema =
  | { type: 'array'; items: Record<string, Column> }
  | { type: 'object'; properties: Record<string, Column> }
  | { type: 'string' | 'integer' | 'null' };

/** An API result and its schema. */
export interface ApiResult {
  data: Json;
  schema?: ResultSchema;
  /** The columns a text table shows, in order (print_api_list's props_to_print). */
  props?: string[];
  /** Text tables: sort by this column, or not at all (0). */
  sortKey?: string | 0;
}

/** A list and the columns of its rows: what pveum's list commands return. */
export interface Listing {
  rows: { [key: string]: Json }[];
  columns: Record<string, Column>;
}

export interface OutputOptions {
  'output-format'?: string;
  noheader?: number;
  noborder?: number;
  quiet?: number;
  'human-readable'?: number;
}

export function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(sorted(Object.keys(value)).map((key) => [key, canonical(value[key] as Json)]));
  }
  return value;
}

export function prettyJson(value: Json, indent = ''): string {
  const inner = `${indent}   `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + prettyJson(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = sorted(Object.keys(value));
    if (keys.length === 0) return '{}';
    const members = keys.map((key) => `${inner}${JSON.stringify(key)} : ${prettyJson(value[key] as Json, inner)}`);
    return `{\n${members.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Format.pm render_bytes. */
export function renderBytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let unit = 0;
  let scaled = value;
  if (value > 1023) {
    unit = Math.floor(Math.log(value) / Math.log(1024));
    scaled = value / 1024 ** unit;
  }
  return `${scaled.toFixed(2)} ${units[unit]}`;
}

/** Format.pm render_duration. */
export function renderDuration(seconds: number): string {
  let rest = Math.round(seconds);
  if (!rest) return '0s';
  const parts: string[] = [];
  for (const [unit, length] of [
    ['w', 7 * 24 * 3600],
    ['d', 24 * 3600],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / length);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      rest -= count * length;
    }
  }
  return parts.join(' ');
}

/** Format.pm render_timestamp: local time, "%F %H:%M:%S". */
export function renderTimestamp(epoch: number): string {
  const date = new Date(epoch * 1000);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** data_to_text: booleans as 0/1, renderers when human-readable, structures as canonical JSON. */
function cellText(value: Json | undefined, column: Column | undefined, humanReadable = true): string {
  if (value === undefined || value === null) return '';
  if (humanReadable && column?.type === 'boolean') return value ? '1' : '0';
  if (humanReadable && column?.renderer && typeof value === 'number') {
    if (column.renderer === 'bytes') return renderBytes(value);
    if (column.renderer === 'duration') return renderDuration(value);
    if (column.renderer === 'timestamp') return renderTimestamp(value);
    return `${(value * 100).toFixed(2)}%`;
  }
  if (typeof value === 'object') return JSON.stringify(canonical(value));
  if (typeof value === 'boolean') return value ? '1' : '';
  return String(value);
}

/** extract_properties_to_print: required columns, then optional ones, each by name. */
function propertiesToPrint(columns: Record<string, Column>): string[] {
  return [
    ...sorted(Object.keys(columns).filter((name) => !columns[name]?.optional)),
    ...sorted(Object.keys(columns).filter((name) => columns[name]?.optional)),
  ];
}

/** print_text_table: rows sorted by the first column (or `sortKey`), cells cut to a column's maxLength. */
function textTable(
  rows: { [key: string]: Json }[],
  columns: Record<string, Column>,
  names: string[],
  options: OutputOptions & { sortKey?: string | 0 },
  io: Io,
): string {
  const sortKey = options.sortKey ?? names[0] ?? '';
  const numeric = (name: string): boolean => columns[name]?.type === 'integer' || columns[name]?.type === 'number';
  const humanReadable = options['human-readable'] !== 0;
  const ordered =
    sortKey === 0
      ? rows
      : [...rows].sort((a, b) => {
          const [x, y] = [a[sortKey], b[sortKey]];
          if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : -1) : 1;
          if (numeric(sortKey)) return Number(x) - Number(y);
          const [s, t] = [String(x), String(y)];
          return s < t ? -1 : s > t ? 1 : 0;
        });
  const cells = ordered.map((row) =>
    names.map((name) => cellText(row[name], columns[name], humanReadable).split('\n')),
  );
  const widths = names.map((name, index) => {
    const longest = Math.max(name.length, ...cells.flatMap((row) => (row[index] ?? []).map((line) => line.length)));
    return Math.min(columns[name]?.maxLength ?? longest, longest);
  });
  const border = !options.noborder;
  const pad = (text: string, index: number): string => {
    const width = widths[index] ?? 0;
    const cut = text.slice(0, width);
    return numeric(names[index] ?? '') ? cut.padStart(width) : cut.padEnd(width);
  };
  const line = (texts: string[]): string => {
    if (!border)
      return texts
        .map((text, index) => (index === texts.length - 1 ? text.slice(0, widths[index]) : pad(text, index)))
        .join(' ');
    const bar = io.utf8 ? '│' : '|';
    return `${bar} ${texts.map(pad).join(` ${bar} `)} ${bar}`;
  };
  // UTF-8 frames as the tools print them on a UTF-8 locale; otherwise ASCII ones.
  const rule = ([left, fill, joint, right]: string[]): string =>
    `${left}${fill}${widths.map((width) => (fill ?? '').repeat(width)).join(`${fill}${joint}${fill}`)}${fill}${right}`;
  const [top, header, bottom] = io.utf8
    ? [rule(['┌', '─', '┬', '┐']), rule(['╞', '═', '╪', '╡']), rule(['└', '─', '┴', '┘'])]
    : [rule(['+', '-', '+', '+']), rule(['+', '-', '+', '+']), rule(['+', '-', '+', '+'])];
  const out: string[] = [];
  if (border) out.push(top);
  if (!options.noheader) {
    out.push(line(names));
    if (border) out.push(header);
  }
  for (const row of cells) {
    const height = Math.max(1, ...row.map((lines) => lines.length));
    for (let index = 0; index < height; index++) out.push(line(row.map((lines) => lines[index] ?? '')));
  }
  if (border) out.push(bottom);
  const columnsLimit = io.terminalColumns;
  return out.map((text) => `${columnsLimit ? text.slice(0, columnsLimit) : text}\n`).join('');
}

/** print_api_result: an API result in the chosen output format. */
export function renderApiResult(result: ApiResult, options: OutputOptions, io: Io): string {
  const { data, schema } = result;
  if (options.quiet) return '';
  if (schema?.type === 'null') return '';
  const format = options['output-format'] ?? 'text';
  if (format === 'json') return `${JSON.stringify(canonical(data))}\n`;
  if (format === 'json-pretty') return `${prettyJson(data)}\n`;
  if (format === 'yaml') throw new Die('(chaton lab stand-in): --output-format yaml is not implemented\n');
  if (format !== 'text') throw new Die('internal error: unknown output format\n'); // output-format is never validated
  if (Array.isArray(data)) {
    if (data.length === 0) return '';
    const objects = data.filter((item): item is { [key: string]: Json } => item !== null && typeof item === 'object');
    if (objects.length === data.length && !data.some(Array.isArray)) {
      const columns = schema?.type === 'array' ? schema.items : {};
      let names = result.props ?? propertiesToPrint(columns);
      if (names.length === 0) names = sorted(new Set(objects.flatMap((object) => Object.keys(object))));
      return textTable(objects, columns, names, { ...options, sortKey: result.sortKey }, io);
    }
    const values = data.map((value) => ({ value }));
    return textTable(values, { value: { type: 'string' } }, ['value'], { ...options, noheader: 1 }, io);
  }
  if (data !== null && typeof data === 'object') {
    const columns = schema?.type === 'object' ? schema.properties : {};
    let names = result.props ?? propertiesToPrint(columns);
    if (names.length === 0) names = sorted(Object.keys(data));
    const humanReadable = options['human-readable'] !== 0;
    const rows = names
      .filter((key) => data[key] !== undefined && data[key] !== null)
      .map((key) => ({ key, value: cellText(data[key], columns[key], humanReadable) }));
    return textTable(rows, {}, ['key', 'value'], options, io);
  }
  if (data === null) return '\n';
  return `${String(data)}\n`;
}

/** pveum's list commands: a list of objects with the method's return schema. */
export function render(listing: Listing, options: OutputOptions, io: Io): string {
  return renderApiResult({ data: listing.rows, schema: { type: 'array', items: listing.columns } }, options, io);
}

// ---------------------------------------------------------------------------------------------
// Command-line parsing: JSONSchema.pm get_options (Getopt::Long with prefixes - and --, unique
// abbreviations, any case, options and arguments in any order), then validate().

export interface Format {
  verify: (value: string) => string;
  /** "-list": each item of a comma/space list is checked. */
  list?: boolean;
  /** "-opt": an empty (false) value is not checked. */
  opt?: boolean;
}

export interface Param {
  type: 'string' | 'boolean' | 'integer' | 'number';
  optional?: boolean;
  format?: Format;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: RegExp;
  enum?: string[];
  /** This parameter needs that one. */
  requires?: string;
}

export type Params = Record<string, string | number | undefined>;

/** RESTHandler.pm $standard_output_options, taken by the list commands. */
export const OUTPUT_PARAMS: Record<string, Param> = {
  'output-format': { type: 'string', optional: true },
  noheader: { type: 'boolean', optional: true },
  noborder: { type: 'boolean', optional: true },
  quiet: { type: 'boolean', optional: true },
  'human-readable': { type: 'boolean', optional: true },
};

/** JSONSchema.pm check_prop for one present or missing value; the error message, if any. */
export function checkParam(value: Params[string], param: Param): string | undefined {
  if (value === undefined) return param.optional ? undefined : 'property is missing and it is not optional';
  const text = String(value);
  if (param.type === 'integer' && !/^[+-]?\d+$/.test(text)) return `type check ('integer') failed - got '${text}'`;
  if (param.type === 'number' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text))
    return `type check ('number') failed - got '${text}'`;
  if (param.format && !(param.format.opt && !truthy(text))) {
    try {
      for (const item of param.format.list ? splitList(text) : [text]) param.format.verify(item);
    } catch (error) {
      return `invalid format - ${(error as Error).message}`;
    }
  }
  if (param.pattern && !param.pattern.test(text)) return 'value does not match the regex pattern';
  if (param.maxLength !== undefined && text.length > param.maxLength)
    return `value may only be ${param.maxLength} characters long`;
  if (param.minLength !== undefined && text.length < param.minLength)
    return `value must be at least ${param.minLength} characters long`;
  if (/^[+-]?\d+(\.\d*)?$/.test(text)) {
    if (param.maximum !== undefined && Number(text) > param.maximum)
      return `value must have a maximum value of ${param.maximum}`;
    if (param.minimum !== undefined && Number(text) < param.minimum)
      return `value must have a minimum value of ${param.minimum}`;
  }
  if (param.enum && !param.enum.includes(text))
    return `value '${text}' does not have a value in the enumeration '${param.enum.join(', ')}'`;
  return undefined;
}

export interface Command<C> {
  /** Words after the tool's name ([] for a tool with a single command, like qmrestore). */
  words: string[];
  /** Positional parameters, in order. */
  argParams: string[];
  params: Record<string, Param>;
  /** Set by the command itself, not the caller (acl modify/delete). */
  fixed?: Params;
  /** Takes the standard output options and prints a list. */
  lists?: boolean;
  run(params: Params, context: C): Promise<Listing | void>;
}

export interface Tool<C> {
  name: string;
  commands: Command<C>[];
  /** Old command names and the words they stand for (e.g. useradd: user add). */
  aliases?: Record<string, string[]>;
}

/** Getopt::Long's lookup: exact name, any case, else a unique abbreviation. */
function findOption(typed: string, options: string[], io: Io): string | undefined {
  const wanted = typed.toLowerCase();
  if (options.includes(wanted)) return wanted;
  const hits = options.filter((option) => option.startsWith(wanted));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) io.err(`Option ${typed} is ambiguous (${hits.join(', ')})\n`);
  else io.err(`Unknown option: ${typed}\n`);
  return undefined;
}

/** get_options: the command's parameters from its arguments, booleans as 0/1, lists joined. */
export function getOptions<C>(command: Command<C>, args: string[], io: Io): Params {
  const params = { ...command.params, ...(command.lists ? OUTPUT_PARAMS : {}) };
  const options = Object.keys(params).filter((name) => command.fixed?.[name] === undefined);
  const values: Record<string, string | string[]> = {};
  const positionals: string[] = [];
  let failed = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      positionals.push(...args.slice(index + 1));
      break;
    }
    const match = /^--?(.+)$/s.exec(arg);
    if (!match) {
      positionals.push(arg);
      continue;
    }
    const [, spec = ''] = match;
    const equals = spec.indexOf('=');
    const typed = equals < 0 ? spec : spec.slice(0, equals);
    const name = findOption(typed, options, io);
    const inline = equals < 0 ? undefined : spec.slice(equals + 1);
    if (name === undefined) {
      failed = true;
      continue;
    }
    const param = params[name] as Param;
    let value: string;
    if (param.type === 'boolean') {
      // "name:s": an optional value, not taken when the next word looks like an option.
      const next = args[index + 1];
      if (inline !== undefined) value = inline;
      else if (next !== undefined && next !== '--' && !/^--?./s.test(next)) value = args[++index] as string;
      else value = '';
    } else {
      // "name=s": a mandatory value, whatever it looks like, but not an empty "--name=".
      const taken = inline ?? args[++index];
      if (taken === undefined || inline === '') {
        io.err(`Option ${typed} requires an argument\n`);
        failed = true;
        continue;
      }
      value = taken;
    }
    if (param.format?.list) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  if (failed) throw new ParamError('unable to parse option\n');

  const positional: Params = {};
  // get_standard_option('extra-args'): the last argument takes every word left, kept apart by NULs.
  if (command.argParams.at(-1) === 'extra-args' && positionals.length >= command.argParams.length) {
    positionals.push(positionals.splice(command.argParams.length - 1).join('\0'));
  }
  for (const [index, name] of command.argParams.entries()) {
    const value = positionals.shift();
    if (value === undefined) {
      if (command.argParams.slice(index).some((rest) => !params[rest]?.optional))
        throw new ParamError('not enough arguments\n');
      break;
    }
    positional[name] = value;
  }
  if (positionals.length > 0) throw new ParamError('too many arguments\n');
  const result: Params = {};
  for (const [name, value] of Object.entries(values)) {
    if (params[name]?.type === 'boolean') {
      const given = value as string;
      if (given === '' || /^(1|on|yes|true)$/i.test(given)) result[name] = 1;
      else if (/^(0|off|no|false)$/i.test(given)) result[name] = 0;
      else throw new ParamError('unable to parse boolean option\n');
    } else {
      result[name] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  return { ...result, ...positional, ...command.fixed };
}

/** JSONSchema.pm validate() of the method's own parameters (not the output options). */
export function validate(params: Params, schema: Record<string, Param>): void {
  const errors: Record<string, string> = {};
  for (const [name, param] of Object.entries(schema)) {
    const error = checkParam(params[name], param);
    if (error !== undefined) errors[name] = error;
    if (param.requires && params[name] !== undefined && params[param.requires] === undefined) {
      errors[param.requires] = `missing property - '${name}' requires this property`;
    }
  }
  if (Object.keys(errors).length > 0) throw new ParamError('Parameter verification failed.\n', errors);
}

/** The values given among `options`, by name, as strings (booleans as 0 and 1). */
export function givenValues(params: Params, options: Record<string, Param>): Map<string, string> {
  const values = new Map<string, string>();
  for (const name of sorted(Object.keys(options))) {
    if (params[name] !== undefined) values.set(name, String(params[name]));
  }
  return values;
}

export function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined ? undefined : String(value);
}

export function flagParam(params: Params, name: string): 0 | 1 | undefined {
  const value = params[name];
  return value === undefined ? undefined : value ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Command resolution and usage (CLIHandler.pm).

/** RESTHandler.pm usage_str, short form. */
export function usageLine<C>(tool: string, command: Command<C>): string {
  const args = command.argParams.map((name) => {
    const param = command.params[name];
    if (param?.format?.list) return `{<${name}>}`;
    return param?.optional ? `[<${name}>]` : `<${name}>`;
  });
  const others = sorted(Object.keys(command.params)).filter(
    (name) => !command.argParams.includes(name) && command.fixed?.[name] === undefined,
  );
  for (const name of others) {
    const param = command.params[name] as Param;
    if (!param.optional) args.push(`--${name} <${param.type}>`);
  }
  const prefix = [tool, ...command.words].join(' ');
  const options = others.some((name) => command.params[name]?.optional) ? ' [OPTIONS]' : '';
  return `${prefix} ${args.join(' ')}${options}${command.lists ? ' [FORMAT_OPTIONS]' : ''}\n`;
}

/** The usage lines of every command, or of those under `prefix`; each group followed by `separator`. */
function usageListing<C>(tool: Tool<C>, prefix: string[], separator: string): string {
  const under = (words: string[]) => (command: Command<C>) =>
    words.every((word, index) => command.words[index] === word);
  const groups = sorted(
    new Set(tool.commands.filter(under(prefix)).map((command) => command.words[prefix.length] ?? '')),
  );
  return groups
    .map(
      (group) =>
        tool.commands
          .filter(under([...prefix, group]))
          .sort((a, b) => (a.words.join(' ') < b.words.join(' ') ? -1 : 1))
          .map((command) => `       ${usageLine(tool.name, command)}`)
          .join('') + separator,
    )
    .join('');
}

/** print_usage_short on stderr, before exit(-1). */
function abort<C>(tool: Tool<C>, reason: string, prefix?: string[]): string {
  const listing = prefix ? usageListing(tool, prefix, '') : usageListing(tool, [], '\n');
  return `ERROR: ${reason}\nUSAGE: ${tool.name} <COMMAND> [ARGS] [OPTIONS]\n\n${listing}`;
}

type Resolution<C> = { command: Command<C>; args: string[] } | { abort: string };

/** resolve_cmd: words, each exact or a unique prefix, down to a command; aliases replaced once. */
function resolve<C>(tool: Tool<C>, argv: string[], aliased = false): Resolution<C> {
  const single = tool.commands.find((command) => command.words.length === 0);
  if (single) return { command: single, args: argv };
  const words: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] as string;
    const alias = index === 0 && !aliased ? tool.aliases?.[word] : undefined;
    if (alias) return resolve(tool, [...alias, ...argv.slice(1)], true);
    const choices = new Set(
      tool.commands
        .filter((command) => words.every((known, at) => command.words[at] === known))
        .map((command) => command.words[index] ?? ''),
    );
    const expanded = choices.has(word) ? [word] : [...choices].filter((choice) => choice.startsWith(word));
    const chosen = expanded.length === 1 ? (expanded[0] as string) : word;
    words.push(chosen);
    if (!choices.has(chosen)) return { abort: abort(tool, `unknown command '${tool.name} ${words.join(' ')}'`) };
    const command = tool.commands.find((candidate) => candidate.words.join(' ') === words.join(' '));
    if (command) return { command, args: argv.slice(index + 1) };
  }
  if (words.length === 0) return { abort: abort(tool, 'no command specified') };
  return { abort: abort(tool, `incomplete command '${tool.name} ${words.join(' ')}'`, words) };
}

/** run_cli_handler: one command line of `tool`; returns its exit code. */
export async function runCommandLine<C>(tool: Tool<C>, argv: string[], io: Io, context: C): Promise<number> {
  const resolution = resolve(tool, argv);
  if ('abort' in resolution) {
    io.err(resolution.abort);
    return ERROR_EXIT;
  }
  const { command, args } = resolution;
  try {
    const params = getOptions(command, args, io);
    validate(params, command.params);
    const listing = await command.run(params, context);
    if (listing && !params['quiet']) io.out(render(listing, params as OutputOptions, io));
    return 0;
  } catch (error) {
    if (error instanceof ParamError) io.err(error.stringify() + usageLine(tool.name, command));
    else if (error instanceof Exit) {
      io.err(error.message);
      return error.code;
    } else if (error instanceof Die) io.err(error.message);
    else throw error;
    return ERROR_EXIT;
  }
}

/** The stand-in runs as a program (not imported by a test): `import.meta.url` of the caller. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

/** The process's own stdout and stderr, as the tools see them. */
export function processIo(): Io {
  const locale = process.env['LC_ALL'] || process.env['LC_CTYPE'] || process.env['LANG'] || '';
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    terminalColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
    utf8: /utf-?8/i.test(locale),
  };
}
