// Every human message has a French version, and each version says the same things: the values a
// message is built from (a host, a file, a count) appear in both. The compiler already refuses an
// entry without `fr`; this test reads what it cannot see.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { entriesOf, language, sameOnPurpose, type Entry, type Texts } from '../../src/lib/run/catalogue.js';

// Compiled to dist/test/unit: the catalogues are compiled to dist/src, their sources are in src/.
const DIST_SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

const files = (root: string, suffix: string) =>
  readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith(suffix));

/** Each entry's texts, a function called with placeholders ⟦0⟧, ⟦1⟧... for its values. */
function texts(entry: Entry): Texts {
  if (typeof entry !== 'function') return entry;
  const values = Array.from({ length: entry.length }, (_, i) => `⟦${i}⟧`);
  return (entry as (...args: string[]) => Texts)(...values);
}

const placeholders = (text: string) => [...new Set(text.match(/⟦\d+⟧/g) ?? [])].sort();

/** What is wrong with one entry, if anything. */
function problems(name: string, entry: Entry): string[] {
  let both: Texts;
  try {
    both = texts(entry);
  } catch (error) {
    return [`${name}: cannot be built from string values (${(error as Error).message})`];
  }
  const found: string[] = [];
  if (!both.fr?.trim()) found.push(`${name}: no French text`);
  else if (both.fr === both.en && !sameOnPurpose(both)) found.push(`${name}: the French text is the English one`);
  if (placeholders(both.en).join() !== placeholders(both.fr ?? '').join()) {
    found.push(`${name}: not the same values in both (en ${placeholders(both.en)}, fr ${placeholders(both.fr)})`);
  }
  for (const [lang, text] of Object.entries(both)) {
    if (/\bundefined\b|\bNaN\b|\[object /.test(text)) found.push(`${name} (${lang}): ${text}`);
  }
  return found;
}

describe('the message catalogue', () => {
  it('has, for every message of every catalogue, a French text saying the same things', async () => {
    const catalogueFiles = files(DIST_SRC, 'messages.js');
    assert.ok(catalogueFiles.length > 0, 'no messages.js was found under dist/src');
    let count = 0;
    const found: string[] = [];
    for (const file of catalogueFiles) {
      const module = (await import(path.join(DIST_SRC, file))) as Record<string, unknown>;
      const catalogues = Object.entries(module).flatMap(([name, value]) => {
        const entries = entriesOf(value);
        return entries ? [[name, entries] as const] : [];
      });
      if (catalogues.length === 0) found.push(`src/${file}: exports no catalogue`);
      for (const [exported, entries] of catalogues) {
        for (const [key, entry] of Object.entries(entries)) {
          count++;
          found.push(...problems(`src/${file.replace(/\.js$/, '.ts')} ${exported}.${key}`, entry));
        }
      }
    }
    assert.deepEqual(found, []);
    assert.ok(count > 0);
  });

  it('finds an entry without French, with French left in English, or dropping a value', () => {
    const missing = { en: 'no key', fr: '' };
    assert.deepEqual(problems('a', missing), ['a: no French text']);
    assert.deepEqual(problems('b', { en: 'host down', fr: 'host down' }), ['b: the French text is the English one']);
    const dropped = (host: string, file: string) => ({ en: `${host}: ${file} is missing`, fr: `${host} : absent` });
    assert.deepEqual(problems('c', dropped), ['c: not the same values in both (en ⟦0⟧,⟦1⟧, fr ⟦0⟧)']);
    const good = (host: string) => ({ en: `${host} is down`, fr: `${host} ne répond pas` });
    assert.deepEqual(problems('d', good), []);
  });

  it('is only built in the files named messages.ts', () => {
    const outside = files(SRC, '.ts').filter(
      (file) =>
        !file.endsWith('messages.ts') &&
        !file.endsWith('catalogue.ts') &&
        /\bcatalogue\(/.test(readFileSync(path.join(SRC, file), 'utf8')),
    );
    assert.deepEqual(outside, []);
  });
});

/**
 * String literals outside the catalogues that read like English prose (four lowercase words in
 * a row): a safety net for a message written without its French version. Comments, example
 * command lines and remote scripts are left out.
 */
function proseOutsideCatalogues(sources: Map<string, string>): string[] {
  const literal = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g;
  return [...sources].flatMap(([file, text]) => {
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    return (
      [...code.matchAll(literal)]
        .map(([found]) => withoutInterpolations(found.slice(1, -1)))
        .filter((words) => /\b[a-z]{2,} [a-z]{2,} [a-z]{2,} [a-z]{2,}\b/.test(words) && !/^chaton /m.test(words))
        // A remote script (it takes its values as $1, $2...): its lines are for the host's shell.
        .filter((words) => !/\$[1-9@]/.test(words))
        .map((words) => `src/${file}: ${words.slice(0, 60)}`)
    );
  });
}

/** A template's text without its `${...}` parts, nested ones included. */
function withoutInterpolations(text: string): string {
  let kept = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (depth > 0 && text[i] === '{') depth++;
    else if (depth > 0 && text[i] === '}') depth--;
    else if (depth === 0) kept += text[i];
  }
  return kept;
}

/** English on purpose, and why. */
const ENGLISH_ON_PURPOSE = new Map([
  ['lib/man.ts', 'the man page is English whatever the locale (README, Language)'],
  ['bundle.ts', 'npm run build refusing a bundle: for whoever develops chaton'],
  ['lib/access/sudo.ts', 'the sudoers comment is compared to find the job done: one text in every locale'],
  ['lib/remote/executor.ts', "sudo's own French message, matched"],
  ['lib/remote/shell.ts', 'TypeErrors that only a bug in chaton can raise'],
  ['lib/remote/host-lock.ts', 'TypeErrors that only a bug in chaton can raise'],
  ['lib/remote/guard.ts', 'TypeErrors that only a bug in chaton can raise'],
  ['lib/ssh/key-probe.ts', 'an internal error nobody reads (see there)'],
  ['lib/run/catalogue.ts', "a symbol's description"],
  ['lib/backup/render.ts', "Prometheus' HELP lines: monitoring output, English in every language"],
  [
    'lib/proxmox/vm.ts',
    "the marks vm create writes in a VM's description: one text in every locale, compared by reruns",
  ],
]);

describe('the sources outside the catalogues', () => {
  it('hold no English sentence, but where English is chosen on purpose', () => {
    const sources = new Map(
      files(SRC, '.ts')
        .filter((file) => !file.endsWith('messages.ts') && !ENGLISH_ON_PURPOSE.has(file.split(path.sep).join('/')))
        .map((file) => [file, readFileSync(path.join(SRC, file), 'utf8')] as const),
    );
    assert.deepEqual(proseOutsideCatalogues(sources), []);
  });

  it('finds a message written in English only, not a comment, an example command line or a remote script', () => {
    const sources = new Map([
      ['a.ts', '// the host is down, sadly\nthrow new UsageError(`${host} is not in the inventory`);'],
      ['b.ts', "examples('chaton hosts check all the hosts');\nconst word = 'unchanged';"],
      ['c.ts', 'const SCRIPT = `mkdir -- "$1" || { echo \'cannot make the directory\' >&2; exit 1; }`;'],
    ]);
    assert.deepEqual(proseOutsideCatalogues(sources), ['src/a.ts:  is not in the inventory']);
  });
});

describe('the language of messages', () => {
  it('is read as gettext reads it: LC_ALL, LC_MESSAGES, LANG, then LANGUAGE unless the locale is C', () => {
    assert.equal(language({}), 'en');
    assert.equal(language({ LANG: 'fr_FR.UTF-8' }), 'fr');
    assert.equal(language({ LANG: 'fr_CA' }), 'fr');
    assert.equal(language({ LANG: 'fr' }), 'fr');
    assert.equal(language({ LANG: 'fr_FR.UTF-8', LC_MESSAGES: 'C' }), 'en');
    assert.equal(language({ LANG: 'fr_FR.UTF-8', LC_ALL: 'C.UTF-8' }), 'en');
    assert.equal(language({ LANG: 'en_GB.UTF-8', LC_MESSAGES: 'fr_BE.UTF-8' }), 'fr');
    assert.equal(language({ LANG: 'de_DE.UTF-8', LANGUAGE: 'fr:en' }), 'fr');
    assert.equal(language({ LANG: 'fr_FR.UTF-8', LANGUAGE: 'en_US:fr' }), 'en');
    assert.equal(language({ LANG: 'C', LANGUAGE: 'fr' }), 'en');
    assert.equal(language({ LANG: 'fy_NL' }), 'en');
  });
});
