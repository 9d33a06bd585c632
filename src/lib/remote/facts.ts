// Facts: read-only probes, each a command and the parser of its output. Operations compare
// facts with the wanted state; dry-run runs facts and only prints changes.
import { command, type RemoteCommand } from './shell.js';

export interface Fact<T> {
  readonly command: RemoteCommand;
  parse(stdout: string): T;
}

/** Kernel name and release, as `uname -sr` prints them (e.g. "Linux 6.1.0-18-amd64"). */
export const kernelRelease: Fact<string> = {
  command: command('uname', '-sr'),
  parse: (stdout) => stdout.trim(),
};

/** A command's end, as the executor returns it with `check: false`: what a Probe parses. */
export interface ProbeOutput {
  /** null: killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A read-only probe whose exit code matters as much as its output (smartctl's status bits, `ceph
 * osd ok-to-stop`'s EBUSY): run with `executor.run(host, probe.command, { kind: 'probe', check:
 * false })`, then parse all of it.
 */
export interface Probe<T> {
  readonly command: RemoteCommand;
  parse(output: ProbeOutput): T;
}
