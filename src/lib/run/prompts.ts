// Questions to the operator, only through listr2's prompt adapter and only on a terminal:
// without one nobody can answer, so a decision must be on the command line (--yes).
import type { RunContext } from './context.js';
import type { Wrapper } from './display.js';
import { InterruptedError, RefusedError } from './errors.js';
import { messages } from './messages.js';
import type { OutputMode } from './output.js';

/**
 * Asks `question` (or takes --yes for an answer); refuses without a terminal. Its task's title
 * says how it was answered.
 */
export async function confirm(ctx: RunContext, task: Wrapper, question: string): Promise<void> {
  if (ctx.options.yes) {
    task.title = messages.confirmedByYes;
    return;
  }
  if (!ctx.mode.interactive) {
    throw new RefusedError(messages.nobodyToAnswer(question), messages.nobodyToAnswerHint);
  }
  // inquirer's own confirm takes only y/yes: a French operator answers o/oui, and would be refused.
  const { input } = await import('@inquirer/prompts');
  const answer = await ask(task, input, { message: `${question} ${messages.yesOrNo}` });
  if (!YES.test(answer.trim())) throw new RefusedError(messages.notConfirmed);
}

/**
 * Asks the operator to type `expected` (a disk's serial read off its label): proof that the thing
 * in their hand is the one chaton found. Refuses without a terminal (the command line names it
 * instead) and when what was typed differs.
 */
export async function confirmByTyping(
  ctx: RunContext,
  task: Wrapper,
  question: string,
  expected: string,
  mismatch: (typed: string) => string,
): Promise<void> {
  if (!ctx.mode.interactive) throw new RefusedError(messages.nobodyToAnswer(question), messages.nobodyToAnswerHint);
  const { input } = await import('@inquirer/prompts');
  const typed = (await ask(task, input, { message: question })).trim();
  if (typed !== expected) throw new RefusedError(mismatch(typed));
}

/** Yes in either language, whatever the language of the moment; anything else is no (the default). */
const YES = /^(y|yes|o|oui)$/i;

/** A key's passphrase; undefined without a terminal (the key is then skipped). */
export async function askPassphrase(
  mode: OutputMode,
  task: Wrapper,
  file: string,
  retry: boolean,
): Promise<string | undefined> {
  if (!mode.interactive) return undefined;
  const { password } = await import('@inquirer/prompts');
  const message = retry ? messages.wrongPassphrase(file) : messages.passphraseFor(file);
  return ask(task, password, { message, mask: true });
}

/** A question through listr2's prompt adapter; Ctrl-C at the question is an interruption. */
async function ask<Config, Answer>(
  task: Wrapper,
  prompt: (config: Config) => Promise<Answer>,
  config: Config,
): Promise<Answer> {
  const { ListrInquirerPromptAdapter } = await import('@listr2/prompt-adapter-inquirer');
  try {
    // The adapter's typing wants inquirer's own Prompt type; ours is the same function, narrower.
    const adapter = task.prompt(ListrInquirerPromptAdapter) as unknown as {
      run(prompt: unknown, config: unknown): Promise<Answer>;
    };
    return await adapter.run(prompt, config);
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError') throw new InterruptedError(messages.interruptedAtQuestion);
    throw error;
  }
}
