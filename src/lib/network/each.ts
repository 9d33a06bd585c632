// One command run for each of several values at once, in ONE remote session: probing three targets
// through a link costs one SSH round trip and the time of the slowest probe, not the sum of all.
import { command, type RemoteCommand } from '../remote/shell.js';

/**
 * `$1`: the values, separated by spaces (addresses and DNS names: never a space or a glob in
 * them); the words after it: the command, run once per value with the value as its last word,
 * all at once. Each run's output (stdout and stderr) goes to a file of its own, then all are
 * printed in the values' order, each after a line `chaton-each <value> <exit status>`.
 */
const EACH_SCRIPT = `set -f
values=$1
shift
dir=$(mktemp -d) || exit 125
trap 'rm -rf "$dir"' EXIT
i=0
for value in $values; do
  i=$((i + 1))
  { "$@" "$value" >"$dir/$i" 2>&1; echo "$?" >"$dir/$i.status"; } &
done
wait
i=0
for value in $values; do
  i=$((i + 1))
  echo "chaton-each $value $(cat "$dir/$i.status")"
  cat "$dir/$i"
done`;

export function eachAtOnce(values: readonly string[], argv: readonly string[]): RemoteCommand {
  return command('sh', '-c', EACH_SCRIPT, 'sh', values.join(' '), ...argv);
}

/** What one run said: its exit status and its output, stdout and stderr together. */
export interface EachRun {
  code: number;
  output: string;
}

const HEADER = /^chaton-each (\S+) (\d+)$/;

/** Each value's run, in order; a value without its line did not run (the script stopped). */
export function parseEach(stdout: string): Map<string, EachRun> {
  const runs = new Map<string, EachRun>();
  let current: { value: string; code: number; lines: string[] } | undefined;
  const close = () => {
    if (current) runs.set(current.value, { code: current.code, output: current.lines.join('\n') });
  };
  for (const line of stdout.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      close();
      current = { value: header[1]!, code: Number(header[2]), lines: [] };
    } else {
      current?.lines.push(line);
    }
  }
  close();
  return runs;
}
