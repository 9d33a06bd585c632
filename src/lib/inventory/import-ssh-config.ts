// An OpenSSH client config (~/.ssh/config) read as ssh reads it, for `inventory init
// --from-ssh-config`: each literal Host becomes a host, with the values ssh would use for it
// (first value obtained wins, wildcard blocks included); the ProxyJump most hosts use becomes the
// bastion (see import-write.ts). Reading the files (Include, globs) is apart from the parsing,
// which is pure: text in, lines out; lines in, a site out.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile, UnreadableFileError } from '../run/files.js';
import { UsageError } from '../run/errors.js';
import {
  importError,
  type ImportedEndpoint,
  type ImportedHost,
  type ImportedSite,
  parseHop,
  portOf,
} from './import-site.js';
import { messages } from './messages.js';

export interface SshConfigLine {
  /** Lowercase: ssh's keywords are case-insensitive. */
  keyword: string;
  args: string[];
  file: string;
  line: number;
  col: number;
}

/** Every file read, its lines, and the files each Include line named (key: `file:line`). */
export interface SshConfigFiles {
  main: string;
  lines: Map<string, SshConfigLine[]>;
  included: Map<string, string[]>;
}

/** ssh's own limit on nested Include. */
const MAX_INCLUDE_DEPTH = 16;
/** A client config is a few KB: more is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** `Keyword args...` or `Keyword=args`, arguments in double quotes may hold spaces; `#` starts a comment line. */
export function sshConfigLines(text: string, file: string): SshConfigLine[] {
  const lines: SshConfigLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const content = raw.replace(/\r$/, '');
    const start = content.search(/\S/);
    if (start < 0 || content[start] === '#') return;
    const match = /^([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(.*)$/.exec(content.slice(start));
    const where = { file, line: index + 1, col: start + 1 };
    if (!match) {
      throw importError(file, where.line, where.col, messages.notAKeywordLine, messages.notAKeywordLineHint);
    }
    const words = [...match[2]!.matchAll(/"([^"]*)"|(\S+)/g)].map((word) => word[1] ?? word[2]!);
    const comment = words.findIndex((word) => word.startsWith('#'));
    lines.push({ keyword: match[1]!.toLowerCase(), args: comment < 0 ? words : words.slice(0, comment), ...where });
  });
  return lines;
}

/** Reads `file` and every file its Include lines name (relative to ~/.ssh, globs allowed). */
export async function readSshConfigFiles(file: string, home: string): Promise<SshConfigFiles> {
  const files: SshConfigFiles = { main: file, lines: new Map(), included: new Map() };
  const read = async (name: string, depth: number): Promise<void> => {
    if (files.lines.has(name)) return;
    const text = await readRegularFile(name, MAX_CONFIG_BYTES).catch((error: unknown) => {
      if (!(error instanceof UnreadableFileError)) throw error;
      throw new UsageError(messages.sshConfigUnreadable(error.message), messages.sshConfigUnreadableHint);
    });
    const lines = sshConfigLines(text.toString('utf8'), name);
    files.lines.set(name, lines);
    for (const line of lines.filter((l) => l.keyword === 'include')) {
      if (depth >= MAX_INCLUDE_DEPTH) {
        const hint = messages.includeTooDeepHint(MAX_INCLUDE_DEPTH);
        throw importError(name, line.line, line.col, messages.includeTooDeep, hint);
      }
      const names = (await Promise.all(line.args.map((pattern) => expandGlob(includePath(pattern, home))))).flat();
      files.included.set(`${name}:${line.line}`, names);
      for (const included of names) await read(included, depth + 1);
    }
  };
  await read(file, 0);
  return files;
}

function includePath(pattern: string, home: string): string {
  if (pattern.startsWith('~/')) return path.join(home, pattern.slice(2));
  return path.isAbsolute(pattern) ? pattern : path.join(home, '.ssh', pattern);
}

/** The files an absolute glob names, sorted as ssh's glob(3) does; none when nothing matches. */
async function expandGlob(pattern: string): Promise<string[]> {
  let found = ['/'];
  for (const part of pattern.split('/').filter(Boolean)) {
    if (!/[*?[]/.test(part)) {
      found = found.map((dir) => path.join(dir, part));
      continue;
    }
    const matcher = globRegExp(part, true);
    const next: string[] = [];
    for (const dir of found) {
      const entries = await readdir(dir).catch(() => [] as string[]);
      next.push(
        ...entries.filter((entry) => !entry.startsWith('.') && matcher.test(entry)).map((e) => path.join(dir, e)),
      );
    }
    found = next.sort();
  }
  return found;
}

/** ssh's patterns: `*` any text, `?` one character; for Include (`classes`), also `[...]` as in glob(3). */
function globRegExp(pattern: string, classes = false): RegExp {
  const body = pattern
    .replace(classes ? /[.+^${}()|\\]/g : /[.+^${}()|\\[\]]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

const isWildcard = (pattern: string) => /[*?]/.test(pattern) || pattern.startsWith('!');

/** A Host block's patterns against a name: one positive match and no negated one (ssh's rule). */
function hostMatches(patterns: string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (globRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** A setting and the block it was read in: null for the lines before any Host, which apply to every host. */
interface Setting {
  line: SshConfigLine;
  block: { kind: 'host'; patterns: string[] } | { kind: 'match' } | null;
}

/** The hosts, defaults and bastion candidates of a config, with notes on what was skipped or guessed. */
export function importSshConfig(files: SshConfigFiles): ImportedSite {
  const settings: Setting[] = [];
  const hostBlocks: SshConfigLine[] = [];
  const notes: string[] = [];
  const walk = (file: string, outer: Setting['block']): void => {
    let block = outer;
    for (const line of files.lines.get(file) ?? []) {
      const at = `${line.file}:${line.line}`;
      if (line.keyword === 'host') {
        block = { kind: 'host', patterns: line.args };
        hostBlocks.push(line);
        const wildcards = line.args.filter(isWildcard);
        if (wildcards.length > 0) notes.push(messages.wildcardHost(wildcards.join(' '), at));
      } else if (line.keyword === 'match') {
        block = { kind: 'match' };
        notes.push(messages.matchSkipped(line.args.join(' '), at));
      } else if (line.keyword === 'include') {
        // An included file's Host lines end at its end: the block around the Include goes on.
        for (const included of files.included.get(at) ?? []) walk(included, block);
      } else {
        settings.push({ line, block });
      }
    }
  };
  walk(files.main, null);

  /** The first value of `keyword` for `name`, as ssh takes it. */
  const value = (name: string, keyword: string): SshConfigLine | undefined =>
    settings.find(
      ({ line, block }) =>
        line.keyword === keyword && (block === null || (block.kind === 'host' && hostMatches(block.patterns, name))),
    )?.line;
  const portFor = (name: string): number | undefined => {
    const line = value(name, 'port');
    if (!line) return undefined;
    const port = portOf(line.args[0] ?? '');
    if (port === undefined) {
      throw importError(line.file, line.line, line.col, `Port ${line.args.join(' ')}`, messages.portRangeHint);
    }
    return port;
  };
  const endpoint = (name: string): ImportedEndpoint => {
    const user = value(name, 'user')?.args[0];
    const port = portFor(name);
    return {
      address: (value(name, 'hostname')?.args[0] ?? name).replace(/%h/g, name),
      ...(user === undefined ? {} : { user }),
      ...(port === undefined ? {} : { port }),
    };
  };
  const jumpsOf = (name: string, notesOf: string[]): ImportedEndpoint[] | undefined => {
    const jump = value(name, 'proxyjump');
    if (!jump) {
      if (!value(name, 'proxycommand')) return [];
      notesOf.push(messages.sshProxyCommand);
      return undefined;
    }
    if (jump.args[0]?.toLowerCase() === 'none') return [];
    return (jump.args[0] ?? '').split(',').map((text) => {
      const hop = parseHop(text);
      if (!hop) throw importError(jump.file, jump.line, jump.col, `ProxyJump ${text}`, messages.jumpHint);
      // ssh reaches a jump host with its own Host block's values.
      const own = endpoint(hop.host);
      return {
        name: hop.host,
        ...own,
        ...(hop.user ? { user: hop.user } : {}),
        ...(hop.port ? { port: hop.port } : {}),
      };
    });
  };

  const names = [...new Set(hostBlocks.flatMap((line) => line.args.filter((pattern) => !isWildcard(pattern))))];
  const hosts = names.map((name): ImportedHost => {
    const hostNotes: string[] = [];
    if (!value(name, 'hostname')) hostNotes.push(messages.noHostName);
    return { name, ...endpoint(name), jumps: jumpsOf(name, hostNotes), notes: hostNotes };
  });
  const everyHost = settings.filter(
    // `Host * !foo` is not every host: foo would get a default it does not have.
    ({ block }) =>
      block === null ||
      (block.kind === 'host' && block.patterns.includes('*') && !block.patterns.some((p) => p.startsWith('!'))),
  );
  const defaultOf = (keyword: string) => everyHost.find(({ line }) => line.keyword === keyword)?.line.args[0];
  const defaultPort = defaultOf('port');
  const user = defaultOf('user');
  const port = defaultPort === undefined ? undefined : portOf(defaultPort);
  return {
    source: files.main,
    defaults: { ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }) },
    hosts,
    groups: [],
    notes,
  };
}
