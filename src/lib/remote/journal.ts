// The host's copy of a long operation's journal (see run/journal.ts): one file per operation
// under /var/lib/chaton/journals, kept across reboots (unlike /run/chaton) because a resume may
// come after one. A write is whole or not at all: a temporary file in the same directory, synced,
// renamed over the old one. The text travels on stdin, never on a command line (ps shows those).
import type { Fact } from './facts.js';
import { chatonFileName } from './host-lock.js';
import { command, withStdin, type RemoteCommand } from './shell.js';

export const JOURNAL_DIRECTORY = '/var/lib/chaton/journals';

/** The host's journal file of the operation `id`. */
export function journalPath(id: string): string {
  return `${JOURNAL_DIRECTORY}/${chatonFileName(id, JOURNAL_DIRECTORY)}.json`;
}

// $1 the directory, $2 the id; the journal on stdin. umask 077: only root reads what was done.
const WRITE_JOURNAL = `umask 077
mkdir -p -- "$1" || exit 1
tmp=$(mktemp -- "$1/.$2.XXXXXX") || exit 1
if cat > "$tmp" && sync -- "$tmp" && mv -f -- "$tmp" "$1/$2.json"; then sync -- "$1"; exit 0; fi
rm -f -- "$tmp"
exit 1`;

/** Replaces the host's journal `id` with `text` (one line of JSON), atomically. */
export function writeJournal(id: string, text: string): RemoteCommand {
  chatonFileName(id, JOURNAL_DIRECTORY);
  return withStdin(command('sh', '-c', WRITE_JOURNAL, 'sh', JOURNAL_DIRECTORY, id), text);
}

// Nothing at all when there is no journal: a journal file is never empty.
const READ_JOURNAL = 'if [ -f "$1" ]; then cat -- "$1"; fi';

/** The text of the host's journal `id`, undefined when it has none. */
export function journalText(id: string): Fact<string | undefined> {
  return {
    command: command('sh', '-c', READ_JOURNAL, 'sh', journalPath(id)),
    parse: (stdout) => (stdout.trim() === '' ? undefined : stdout),
  };
}

// Each journal is one line (JSON without newlines, ended by one); an unmatched glob stays as is.
const LIST_JOURNALS = 'for f in "$1"/*.json; do if [ -f "$f" ]; then cat -- "$f" || exit 1; fi; done';

/** The text of every journal of the host, one per line. */
export const journalTexts: Fact<string[]> = {
  command: command('sh', '-c', LIST_JOURNALS, 'sh', JOURNAL_DIRECTORY),
  parse: (stdout) => stdout.split('\n').filter((line) => line.trim() !== ''),
};
