// Human messages in English and French. Each folder keeps its messages in one `messages.ts`, every
// entry with both texts side by side, so a message cannot be added without its French version
// (the compiler refuses it, and test/unit/messages.test.ts checks what the compiler cannot see).
// Only what a person reads goes through here: JSON keys and enum values, exit codes and the
// Nagios/Prometheus outputs never depend on the language.

export type Language = 'en' | 'fr';

/** One message in both languages. */
export interface Texts {
  readonly en: string;
  readonly fr: string;
}

/** A fixed message, or one built from values (strings or numbers, never objects). */
export type Entry = Texts | ((...args: never[]) => Texts);

/** The catalogue a module uses: fixed messages are strings, the others functions returning one. */
export type Messages<T extends Record<string, Entry>> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => Texts ? (...args: A) => string : string;
};

/** The entries behind each catalogue, for the test that reads every message in both languages. */
const ENTRIES = new WeakMap<object, Record<string, Entry>>();

/**
 * The language of messages, read as gettext does: LC_ALL, else LC_MESSAGES, else LANG; under a
 * locale other than C or POSIX, LANGUAGE's first entry (a priority list) wins. French for any
 * `fr` locale (fr_FR, fr_BE, fr_CA, fr_CH...), English otherwise. Read at every message, so a
 * test (or a caller) may change the environment.
 */
export function language(env: NodeJS.ProcessEnv = process.env): Language {
  const locale = env['LC_ALL'] || env['LC_MESSAGES'] || env['LANG'] || 'C';
  if (/^(C|POSIX)([.@]|$)/.test(locale)) return 'en';
  const preferred = env['LANGUAGE']?.split(':').find(Boolean) ?? locale;
  return /^fr([_.@]|$)/.test(preferred) ? 'fr' : 'en';
}

/** A folder's messages: each entry read in the language of the moment. */
export function catalogue<T extends Record<string, Entry>>(entries: T): Messages<T> {
  const messages = {} as Record<string, unknown>;
  for (const [key, entry] of Object.entries(entries)) {
    if (typeof entry === 'function') {
      messages[key] = (...args: never[]) => entry(...args)[language()];
    } else {
      Object.defineProperty(messages, key, { get: () => entry[language()], enumerable: true });
    }
  }
  ENTRIES.set(messages, entries);
  return messages as Messages<T>;
}

/** The same text in both languages, on purpose (a name, a unit): the test accepts it. */
export function both(text: string): Texts {
  return { en: text, fr: text, [SAME]: true } as Texts;
}

const SAME = Symbol('the same in both languages');

/** Whether a message is the same in both languages on purpose (see both()). */
export function sameOnPurpose(texts: Texts): boolean {
  return (texts as Texts & { [SAME]?: true })[SAME] === true;
}

/** The entries of a catalogue made by catalogue(), undefined for anything else. */
export function entriesOf(messages: unknown): Record<string, Entry> | undefined {
  return typeof messages === 'object' && messages !== null ? ENTRIES.get(messages) : undefined;
}

/** A message in English (JSON, the monitoring) and in the reader's language (the terminal). */
export interface Said {
  en: string;
  text: string;
}

type ArgsOf<E> = E extends (...args: infer A) => Texts ? A : [];

/** `said(key, ...values)`: both texts of an entry of `entries`, built from the same values. */
export function sayer<T extends Record<string, Entry>>(entries: T) {
  return <K extends keyof T>(key: K, ...args: ArgsOf<T[K]>): Said => {
    const entry: Entry = entries[key]!;
    const texts = typeof entry === 'function' ? (entry as (...values: unknown[]) => Texts)(...args) : entry;
    return { en: texts.en, text: texts[language()] };
  };
}
