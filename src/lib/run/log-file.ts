// --log-file: the run's progress as plain timestamped lines appended to a file, whatever the
// terminal shows (as borgmatic and Ansible offer), so that a night's run can be read next morning.
import { appendFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { messages } from './messages.js';
import { plainLine } from './output.js';

export class LogFile {
  /** Why the file could no longer be written mid-run, once it could not: logging stops there. */
  failed: string | undefined;

  constructor(readonly file: string) {}

  /**
   * One event on one line: line breaks inside it (a hint) are joined. A file that stops taking
   * lines (a full disk) ends the log, never the run: the run says so at its end.
   */
  line(text: string): void {
    if (this.failed) return;
    try {
      this.#append(text);
    } catch (error) {
      this.failed = (error as Error).message;
    }
  }

  // Synchronous: the lines keep their order, and the last ones are written even on the way out.
  #append(text: string): void {
    appendFileSync(this.file, `${plainLine(text)}\n`, { mode: 0o600 });
  }

  /** The run's first line: a file that cannot be written stops it before anything is done. */
  start(argv: string[]): void {
    try {
      this.#append(messages.logStart(argv.join(' ')));
    } catch (error) {
      const message = messages.logFileUnwritable(this.file, (error as Error).message);
      throw new UsageError(message, messages.logFileUnwritableHint);
    }
  }
}
