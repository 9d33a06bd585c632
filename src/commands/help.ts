// Help texts shared by several commands, so that every --help says the same thing.
import { messages } from './messages.js';

/**
 * The "Examples:" block of a command's --help: command lines a runbook can copy, run as they are
 * by test/integration/docs.test.ts. Only a trailing `# comment` of a line may be a message.
 */
export function examples(...lines: string[]): string {
  return `\n${messages.examplesHeading}\n${lines.map((line) => `  ${line}`).join('\n')}`;
}
