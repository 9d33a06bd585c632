// Several read-only commands at once in ONE remote session: the cost of a batch of questions is
// one SSH round trip and the time of the slowest, not the sum (pvesh starts a Perl interpreter
// for each call: a quarter of a second each on a real node).
import type { Fact } from './facts.js';
import { messages } from './messages.js';
import { command, render, type RemoteCommand } from './shell.js';

/**
 * Each argument after `sh` is one command's text (rendered by shell.ts), run by `sh -c` with its
 * stdout and stderr in files of its own, all at once; then each is printed in order after a line
 * `chaton-part <n> <exit status>`, its stderr after `chaton-stderr <n>`.
 */
const AT_ONCE_SCRIPT = `dir=$(mktemp -d) || exit 125
trap 'rm -rf "$dir"' EXIT
i=0
for c in "$@"; do
  i=$((i + 1))
  { sh -c "$c" >"$dir/$i" 2>"$dir/$i.err" </dev/null; echo "$?" >"$dir/$i.status"; } &
done
wait
i=0
for c in "$@"; do
  i=$((i + 1))
  printf '\\nchaton-part %s %s\\n' "$i" "$(cat "$dir/$i.status")"
  cat "$dir/$i"
  printf '\\nchaton-stderr %s\\n' "$i"
  cat "$dir/$i.err"
done`;

/** What one command of the batch did. */
export interface Part {
  code: number;
  stdout: string;
  stderr: string;
}

export function atOnceCommand(commands: readonly RemoteCommand[]): RemoteCommand {
  return command('sh', '-c', AT_ONCE_SCRIPT, 'sh', ...commands.map((c) => render(c)));
}

/** Each command's part, in order; a command without its lines did not run (the script stopped). */
export function parseAtOnce(stdout: string, count: number): Part[] {
  const parts: Part[] = [];
  let current: { code: number; out: string[]; err: string[]; in: 'out' | 'err' } | undefined;
  const close = () => {
    if (!current) return;
    parts.push({ code: current.code, stdout: current.out.join('\n').trim(), stderr: current.err.join('\n').trim() });
  };
  for (const line of stdout.split('\n')) {
    const part = /^chaton-part (\d+) (\d+)$/.exec(line);
    if (part) {
      close();
      current = { code: Number(part[2]), out: [], err: [], in: 'out' };
    } else if (current && /^chaton-stderr \d+$/.test(line)) {
      current.in = 'err';
    } else {
      current?.[current.in].push(line);
    }
  }
  close();
  if (parts.length !== count) throw new Error(messages.batchCut(count, parts.length));
  return parts;
}

/** A batch as a fact: the commands and their parts. */
export function atOnce(commands: readonly RemoteCommand[]): Fact<Part[]> {
  return { command: atOnceCommand(commands), parse: (stdout) => parseAtOnce(stdout, commands.length) };
}
