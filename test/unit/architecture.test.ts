// The rule of src/lib/ (README, Development): the core (remote/, ssh/, run/, inventory/) imports no
// domain, a domain imports the core and never another domain, and neither imports the
// composition root, src/lib/domains.ts. Any folder of src/lib/ outside the core is a domain.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/unit: the sources stay in the source tree.
const LIB = fileURLToPath(new URL('../../../src/lib/', import.meta.url));
const CORE = new Set(['remote', 'ssh', 'run', 'inventory']);
/** Files directly in src/lib/: the composition root. */
const ROOT = '';
/** `from '...'` (imports, type imports, re-exports), `import '...'` and `import('...')`. */
const IMPORT = /\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g;

/** The folder of src/lib/ a path relative to it is in, ROOT for the files directly in it. */
function folderOf(libPath: string): string {
  const parts = libPath.split('/');
  return parts.length > 1 ? parts[0]! : ROOT;
}

/** What is wrong with `file` importing a module of `target`, both folders of src/lib/. */
function brokenRule(file: string, target: string): string | undefined {
  if (file === target || CORE.has(target) || file === ROOT) return undefined;
  if (target === ROOT) return 'the composition root is for src/cli.ts, not for the core or a domain';
  return CORE.has(file) ? 'the core imports no domain' : 'a domain imports no other domain';
}

/** One line per import that breaks the rule; `sources` maps paths relative to src/lib/ to their text. */
function violations(sources: Map<string, string>): string[] {
  return [...sources].flatMap(([file, text]) =>
    [...text.matchAll(IMPORT)].flatMap(([, specifier = '']) => {
      if (!specifier.startsWith('.')) return [];
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      if (target.startsWith('../')) return [];
      const broken = brokenRule(folderOf(file), folderOf(target));
      return broken ? [`src/lib/${file} imports '${specifier}': ${broken}`] : [];
    }),
  );
}

function libSources(): Map<string, string> {
  const files = readdirSync(LIB, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  return new Map(files.map((file) => [file.split(path.sep).join('/'), readFileSync(path.join(LIB, file), 'utf8')]));
}

describe('the architecture of src/lib/', () => {
  it('the core imports no domain, and no domain another one', () => {
    const sources = libSources();
    assert.ok(sources.has('inventory/load.ts') && sources.has('access/inventory.ts'), 'src/lib/ was not found');
    assert.deepEqual(violations(sources), []);
  });

  it('names the file and the import that break the rule, static, type-only or dynamic', () => {
    const sources = new Map([
      ['inventory/load.ts', "import { LOGIN } from '../access/accounts.js';\nimport { report } from './reader.js';"],
      ['run/lifecycle.ts', "const { INVENTORY_SECTIONS } = await import('../domains.js');"],
      ['backup/restic.ts', "import type { Sysadmin } from '../access/inventory.js';\nimport '../run/errors.js';"],
      ['proxmox/pveum.ts', "export { command } from '../remote/shell.js';\nimport { x } from '../domains.js';"],
      ['domains.ts', "import { ACCESS_SECTIONS } from './access/inventory.js';"],
    ]);
    const forCli = 'the composition root is for src/cli.ts, not for the core or a domain';
    assert.deepEqual(violations(sources), [
      "src/lib/inventory/load.ts imports '../access/accounts.js': the core imports no domain",
      `src/lib/run/lifecycle.ts imports '../domains.js': ${forCli}`,
      "src/lib/backup/restic.ts imports '../access/inventory.js': a domain imports no other domain",
      `src/lib/proxmox/pveum.ts imports '../domains.js': ${forCli}`,
    ]);
  });
});

describe('the source of chaton', () => {
  it('has no line over 120 columns (npm run format wraps code; strings and comments by hand)', () => {
    const src = fileURLToPath(new URL('../../../src/', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const long = files.flatMap((file) =>
      readFileSync(path.join(src, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > 120 ? [`src/${file}:${i + 1} (${line.length})`] : [])),
    );
    assert.deepEqual(long, []);
  });
});

describe('the lab tests', () => {
  it('each bring up a lab of their own name: files run side by side, and a shared name takes the other down', () => {
    const dir = fileURLToPath(new URL('../../../test/integration/', import.meta.url));
    const owners = new Map<string, string[]>();
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.test.ts'))) {
      for (const [, name] of readFileSync(path.join(dir, file), 'utf8').matchAll(/freshLab\('([^']+)'/g)) {
        owners.set(name!, [...(owners.get(name!) ?? []), file]);
      }
    }
    assert.ok(owners.size > 10, 'the lab tests were found');
    assert.deepEqual(
      [...owners].filter(([, files]) => files.length > 1),
      [],
    );
  });
});
