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
