// commander's own texts in the language of messages: the help headings, its --help option and
// help command, the `(default: ...)` of an option, and its usage errors. commander speaks only
// English; its words are replaced where it lets them be (configureHelp, helpOption, helpCommand,
// showHelpAfterError) and its error messages, which it builds itself, are read back by their
// English form (commander 14) and said again. One it does not know passes as it is.
import { Help, type Argument, type Command, type HelpConfiguration, type Option } from 'commander';
import { messages } from './messages.js';
import { glued, unglued } from './text.js';

/**
 * Sets commander's texts on `program`. Before its subcommands are added: commander copies these
 * settings into each subcommand as it is created (copyInheritedSettings), so all of them speak
 * as the program does. The help configuration and outputError go with the program's own
 * configureHelp and configureOutput: see helpTexts() and errorOutput().
 */
export function commanderTexts(program: Command): Command {
  return program
    .helpOption('-h, --help', messages.helpDescription)
    .helpCommand(`help ${messages.commandPlaceholder}`, messages.helpDescription)
    .showHelpAfterError(messages.helpAfterError);
}

/** The help titles commander writes, each with its words in the language of the moment. */
const TITLES: Record<string, () => string> = {
  'Usage:': () => messages.titleUsage,
  'Arguments:': () => messages.titleArguments,
  'Options:': () => messages.titleOptions,
  'Global Options:': () => messages.titleGlobalOptions,
  'Commands:': () => messages.titleCommands,
};

/** What configureHelp takes for commander's words in help: add the program's own settings. */
export function helpTexts(): HelpConfiguration {
  return {
    styleTitle: (title) => TITLES[title]?.() ?? title,
    // The usage line, `chaton [options] [command]`: its subcommand placeholder. (Not the man
    // page, which reads commandUsage() itself.)
    styleUsage: (usage) =>
      usage
        .split(' ')
        .map((word) => (word === '[command]' ? messages.commandPlaceholder : word))
        .join(' '),
    optionDescription,
    argumentDescription,
    // commander breaks a description at any space: never before a French colon.
    boxWrap(this: Help, text: string, width: number) {
      return unglued(Help.prototype.boxWrap.call(this, glued(text), width));
    },
  };
}

/** As commander 14's Help.optionDescription, its words in the language of the moment. */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(messages.choicesAre(quotedList(option.argChoices)));
  // commander shows a default for an option that takes a value, or a boolean one set to a boolean.
  const shownDefault =
    option.required || option.optional || (option.isBoolean() && typeof option.defaultValue === 'boolean');
  if (option.defaultValue !== undefined && shownDefault) {
    extra.push(messages.defaultIs(option.defaultValueDescription || JSON.stringify(option.defaultValue)));
  }
  if (option.presetArg !== undefined && option.optional)
    extra.push(messages.presetIs(JSON.stringify(option.presetArg)));
  if (option.envVar !== undefined) extra.push(messages.envIs(option.envVar));
  return withExtra(option.description, extra);
}

/** As commander 14's Help.argumentDescription, its words in the language of the moment. */
function argumentDescription(argument: Argument): string {
  const extra: string[] = [];
  if (argument.argChoices) extra.push(messages.choicesAre(quotedList(argument.argChoices)));
  if (argument.defaultValue !== undefined) {
    extra.push(messages.defaultIs(argument.defaultValueDescription || JSON.stringify(argument.defaultValue)));
  }
  return withExtra(argument.description, extra);
}

function quotedList(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

function withExtra(description: string, extra: string[]): string {
  if (extra.length === 0) return description;
  return description ? `${description} (${extra.join(', ')})` : `(${extra.join(', ')})`;
}

/**
 * configureOutput's outputError: commander's usage error, `error: unknown option '--x'`, with
 * the prefix chaton's own errors have and its message in the language of the moment.
 */
export function errorOutput(text: string, write: (text: string) => void): void {
  const message = text.replace(/\n$/, '');
  write(/^error: /.test(message) ? `${messages.errorLabel} ${commanderMessage(message)}\n` : text);
}

/** One of commander's usage errors, as it writes it: what it reads, and how it is said. */
interface Known {
  english: RegExp;
  say(...found: string[]): string;
}

/** commander 14's usage errors (lib/command.js), their values in parentheses. */
const KNOWN: Known[] = [
  { english: /^unknown option '(.*)'$/, say: (flag) => messages.unknownOption(flag) },
  { english: /^unknown command '(.*)'$/, say: (name) => messages.unknownCommand(name) },
  { english: /^missing required argument '(.*)'$/, say: (name) => messages.missingArgument(name) },
  { english: /^option '(.*)' argument missing$/, say: (flags) => messages.optionMissingArgument(flags) },
  { english: /^required option '(.*)' not specified$/, say: (flags) => messages.requiredOption(flags) },
  {
    english: /^(option '.*'|environment variable '.*') cannot be used with (option '.*'|environment variable '.*')$/,
    say: (one, other) => messages.conflictingOption(conflicting(one), conflicting(other)),
  },
  {
    english: /^too many arguments for '(.*)'\. Expected (\d+) arguments? but got (\d+)\.$/,
    say: (name, expected, got) => messages.tooManyArgumentsFor(name, Number(expected), Number(got)),
  },
  {
    english: /^too many arguments\. Expected (\d+) arguments? but got (\d+)\.$/,
    say: (expected, got) => messages.tooManyArguments(Number(expected), Number(got)),
  },
  // A value refused by a parser: commander adds the parser's reason after a space.
  {
    english: /^option '([^']*)' argument '([^]*?)' is invalid\.(?: ([^]*))?$/,
    say: (flags, value, reason) => withReason(messages.invalidOptionValue(flags, value), reason),
  },
  {
    english: /^option '([^']*)' value '([^]*?)' from env '([^']*)' is invalid\.(?: ([^]*))?$/,
    say: (flags, value, name, reason) => withReason(messages.invalidOptionEnv(flags, value, name), reason),
  },
  {
    english: /^command-argument value '([^]*?)' is invalid for argument '([^']*)'\.(?: ([^]*))?$/,
    say: (value, name, reason) => withReason(messages.invalidArgumentValue(value, name), reason),
  },
];

/** commander's suggestion, on the line after an unknown option or command. */
const SUGGESTIONS: Known[] = [
  { english: /^\(Did you mean one of (.*)\?\)$/, say: (candidates) => messages.didYouMeanOneOf(candidates) },
  { english: /^\(Did you mean (.*)\?\)$/, say: (candidate) => messages.didYouMean(candidate) },
];

/** A parser's reason for refusing a value: commander's own for `.choices()`, or the parser's words. */
const REASONS: Known[] = [
  { english: /^Allowed choices are ([^]*)\.$/, say: (choices) => messages.allowedChoices(choices) },
];

/**
 * One of commander's usage error messages (a CommanderError's, `error: ...` and any suggestion
 * on the next line) without its `error: `, in the language of the moment. A message commander
 * may write one day and this does not know stays as commander wrote it.
 */
export function commanderMessage(message: string): string {
  const [first = '', ...rest] = message.replace(/^error: /, '').split('\n');
  return [said(KNOWN, first), ...rest.map((line) => said(SUGGESTIONS, line))].join('\n');
}

function said(known: Known[], text: string): string {
  for (const { english, say } of known) {
    const found = english.exec(text);
    if (found) return say(...found.slice(1).map((value) => value ?? ''));
  }
  return text;
}

function withReason(message: string, reason: string): string {
  return reason ? `${message} ${said(REASONS, reason)}` : message;
}

/** One side of a conflict, `option '-q'` or `environment variable 'X'`, in the language of the moment. */
function conflicting(side: string): string {
  const option = /^option '(.*)'$/.exec(side);
  if (option) return messages.optionNamed(option[1]!);
  const variable = /^environment variable '(.*)'$/.exec(side);
  return variable ? messages.variableNamed(variable[1]!) : side;
}
