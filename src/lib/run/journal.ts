// The journal of one long operation on one host (a disk swap): its parameters, its steps in order,
// each pending, started or done with a small result. It lets the same command, run again after an
// SSH drop, a reboot of the laptop or Ctrl-C, go on where it stopped: a done step is never
// repeated, an undone one never skipped, and a step found started (stopped in the middle) is first
// checked against the host's real state. It is kept twice: on the operator's machine, and on the
// host (remote/journal.ts) so that a resume works from another laptop too. When the two differ,
// the host's record wins: the change happened there, and its record is written before each step.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Host } from '../inventory/types.js';
import { JOURNAL_DIRECTORY, journalPath, journalText, journalTexts, writeJournal } from '../remote/journal.js';
import { stateDirectory } from './audit.js';
import type { RunContext } from './context.js';
import { RefusedError } from './errors.js';
import { readRegularFile, UnreadableFileError, writeFileAtomically } from './files.js';
import { messages } from './messages.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type StepState = 'pending' | 'started' | 'done';

export interface StepRecord {
  name: string;
  state: StepState;
  /** ISO times: when it was last started, when it was done. */
  started?: string;
  done?: string;
  /** What a later step, or a resumed run, needs of it (a device's serial): small. */
  result?: Json;
}

export interface JournalRecord {
  version: 1;
  /** The operation's name for people and for listing: `disk-swap`. */
  kind: string;
  /** Unique on the host, a file name: `disk-swap-ceph-osd.3`. */
  id: string;
  host: string;
  /** What makes a rerun the SAME operation: another value is another operation, refused. */
  params: { [key: string]: Json };
  /** Who started it, and when. */
  operator: string;
  started: string;
  updated: string;
  state: 'running' | 'finished';
  steps: StepRecord[];
}

export interface JournalSpec {
  kind: string;
  id: string;
  params: { [key: string]: Json };
  /** The steps' names, in the order they run. */
  steps: readonly string[];
}

/** A step's real state, read on the host: done (with the result apply would have given), or not. */
export type StepCheck<T extends Json> = { done: true; result: T } | { done: false };

export interface StepWork<T extends Json> {
  /** Asked only for a step found started: whether its change is already there. */
  check(): Promise<StepCheck<T>>;
  /** Makes the change; its result is recorded with the step. */
  apply(): Promise<T>;
}

/** The local file of a host's journal: $XDG_STATE_HOME/chaton/journals/<host>/<id>.json. */
export function localJournalPath(env: NodeJS.ProcessEnv, host: string, id: string): string {
  return path.join(stateDirectory(env), 'journals', host, `${id}.json`);
}

/** A journal's JSON larger than this is not one of chaton's. */
const MAX_JOURNAL_BYTES = 1024 * 1024;
/** A step's result is what later steps need (a serial, an id), written twice per step: not a log. */
const MAX_RESULT_BYTES = 4096;

export class Journal {
  private constructor(
    private readonly ctx: Pick<RunContext, 'executor' | 'options' | 'env' | 'notices'>,
    readonly host: Host,
    private record: JournalRecord,
    /** It was found running: this run resumes it. */
    readonly resumed: boolean,
  ) {}

  /**
   * Opens the journal `spec.id` on `host`: a new one, or the running one when this is the same
   * operation again (same kind, parameters and steps); refused (exit 3) when another operation
   * runs under that id. A finished journal is replaced by a new one. In dry-run nothing is written.
   */
  static async open(
    ctx: Pick<RunContext, 'executor' | 'options' | 'env' | 'notices' | 'operator'>,
    host: Host,
    spec: JournalSpec,
  ): Promise<Journal> {
    const found = await readBoth(ctx, host, spec.id);
    if (found && found.state === 'running') {
      if (!sameOperation(found, spec)) {
        throw new RefusedError(
          messages.journalOtherOperation(host.name, found.kind, found.id, describeParams(found.params), found.operator),
          messages.journalOtherOperationHint(journalPath(found.id), host.name),
        );
      }
      const journal = new Journal(ctx, host, found, true);
      // Both copies made equal again: the host's, or the local one the host had not received.
      await journal.#save();
      return journal;
    }
    const now = new Date().toISOString();
    const record: JournalRecord = {
      version: 1,
      kind: spec.kind,
      id: spec.id,
      host: host.name,
      params: spec.params,
      operator: ctx.operator,
      started: now,
      updated: now,
      state: 'running',
      steps: spec.steps.map((name) => ({ name, state: 'pending' })),
    };
    const journal = new Journal(ctx, host, record, false);
    await journal.#save();
    return journal;
  }

  /** The journals of a host, finished ones too: for "another operation is in progress". */
  static async list(ctx: Pick<RunContext, 'executor'>, host: Host): Promise<JournalRecord[]> {
    const texts = await ctx.executor.fact(host, journalTexts);
    return texts.map((text) => parseRecord(text, `${host.name}:${JOURNAL_DIRECTORY}`));
  }

  get id(): string {
    return this.record.id;
  }

  /** A copy of what the journal says now. */
  get snapshot(): JournalRecord {
    return structuredClone(this.record);
  }

  /** The steps not done yet, in order: what --dry-run shows is left. */
  pending(): string[] {
    return this.record.steps.filter((step) => step.state !== 'done').map((step) => step.name);
  }

  /**
   * Runs the step `name` unless it is done (its recorded result is given back then). A step found
   * started is checked first: done, it is only recorded so; not done, applied again. Steps run in
   * the order given to open; running one before an earlier step is done is a bug in chaton.
   */
  async run<T extends Json>(name: string, work: StepWork<T>): Promise<T> {
    const index = this.record.steps.findIndex((step) => step.name === name);
    if (index < 0) throw new TypeError(`journal ${this.id}: no step ${JSON.stringify(name)}`);
    const step = this.record.steps[index]!;
    if (step.state === 'done') return step.result as T;
    const undone = this.record.steps.slice(0, index).find((earlier) => earlier.state !== 'done');
    if (undone) throw new TypeError(`journal ${this.id}: step ${name} before ${undone.name} is done`);
    if (step.state === 'started') {
      const checked = await work.check();
      if (checked.done) {
        await this.#mark(step, 'done', checked.result);
        return checked.result;
      }
    }
    await this.#mark(step, 'started');
    const result = await work.apply();
    const size = Buffer.byteLength(JSON.stringify(result ?? null));
    if (size > MAX_RESULT_BYTES) throw new TypeError(`journal ${this.id}: step ${name}'s result is ${size} bytes`);
    await this.#mark(step, 'done', result);
    return result;
  }

  /** Records the operation as finished, every step done: the same command again starts a new one. */
  async finish(): Promise<void> {
    const undone = this.pending();
    if (undone.length > 0) throw new TypeError(`journal ${this.id}: finished before ${undone.join(', ')}`);
    this.record.state = 'finished';
    this.record.updated = new Date().toISOString();
    await this.#save(true);
  }

  async #mark(step: StepRecord, state: 'started' | 'done', result?: Json): Promise<void> {
    const now = new Date().toISOString();
    step.state = state;
    if (state === 'started') {
      step.started = now;
      delete step.done;
      delete step.result;
    } else {
      step.done = now;
      step.result = result ?? null;
    }
    this.record.updated = now;
    // A "done" goes to the host with the next step's "started", in one write instead of two (a
    // laptop lost in between leaves the step "started": checked again, as one lost during its own
    // write would), or with flush at the end of the run.
    if (state === 'done') {
      this.#unsaved = true;
      return;
    }
    await this.#save();
  }

  /** A step's "done" not written yet (see #mark). */
  #unsaved = false;

  /**
   * Writes what is not on the host yet; the end of every run that used the journal calls it, also
   * after Ctrl-C: what was done is recorded, or its step would be checked again.
   */
  async flush(): Promise<void> {
    if (this.#unsaved) await this.#save(true);
  }

  /** Writes the local copy, then the host's: the host's is the one a resume trusts. */
  async #save(afterInterrupt = false): Promise<void> {
    this.#unsaved = false;
    if (this.ctx.options.dryRun) return;
    const text = `${JSON.stringify(this.record)}\n`;
    const file = localJournalPath(this.ctx.env, this.host.name, this.id);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomically(file, text, 0o600);
    await this.ctx.executor.run(this.host, writeJournal(this.id, text), {
      kind: 'change',
      onInterrupt: 'finish',
      afterInterrupt,
    });
  }
}

/** The journal as the host and the local copy say together, undefined when neither has it. */
async function readBoth(
  ctx: Pick<RunContext, 'executor' | 'env' | 'notices'>,
  host: Host,
  id: string,
): Promise<JournalRecord | undefined> {
  const remoteText = await ctx.executor.fact(host, journalText(id));
  const remote = remoteText === undefined ? undefined : parseRecord(remoteText, `${host.name}:${journalPath(id)}`);
  const file = localJournalPath(ctx.env, host.name, id);
  const localText = await readRegularFile(file, MAX_JOURNAL_BYTES).then(
    (bytes) => bytes.toString('utf8'),
    (error: unknown) => {
      if (error instanceof UnreadableFileError && error.reason === messages.doesNotExist) return undefined;
      throw error;
    },
  );
  const local = localText === undefined ? undefined : parseRecord(localText, file);
  if (!remote) {
    if (local && local.state === 'running') ctx.notices.push(messages.journalOnlyLocal(host.name, id, file));
    return local;
  }
  // A local copy of another run under that id (an operation finished long ago) says nothing of this one.
  if (local && local.started === remote.started) {
    const differ = remote.steps.filter((step) => {
      const mine = local.steps.find((other) => other.name === step.name);
      return mine !== undefined && mine.state !== step.state;
    });
    if (differ.length > 0) {
      const names = differ.map((step) => step.name).join(', ');
      ctx.notices.push(messages.journalHostWins(host.name, id, names));
    }
    // Steps the host's record lacks are taken from the local one; the host's win the others.
    const steps = [...remote.steps, ...local.steps.filter((step) => !remote.steps.some((s) => s.name === step.name))];
    return { ...remote, steps };
  }
  return remote;
}

function sameOperation(record: JournalRecord, spec: JournalSpec): boolean {
  return (
    record.kind === spec.kind &&
    canonical(record.params) === canonical(spec.params) &&
    canonical(record.steps.map((step) => step.name)) === canonical([...spec.steps])
  );
}

/** JSON with the keys of every object sorted: equal values, equal texts. */
function canonical(value: Json): string {
  return JSON.stringify(value, (_key, inner: Json) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

function describeParams(params: { [key: string]: Json }): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

const STEP_STATES: readonly string[] = ['pending', 'started', 'done'];

/** A journal read from `where`; refused (exit 3) when it is not one chaton wrote. */
function parseRecord(text: string, where: string): JournalRecord {
  let record: JournalRecord | undefined;
  try {
    record = JSON.parse(text) as JournalRecord;
  } catch {
    record = undefined;
  }
  const valid =
    record !== undefined &&
    record !== null &&
    record.version === 1 &&
    typeof record.id === 'string' &&
    typeof record.kind === 'string' &&
    (record.state === 'running' || record.state === 'finished') &&
    typeof record.params === 'object' &&
    record.params !== null &&
    Array.isArray(record.steps) &&
    record.steps.every((step) => typeof step?.name === 'string' && STEP_STATES.includes(step.state));
  if (!valid) throw new RefusedError(messages.journalUnreadable(where), messages.journalUnreadableHint(where));
  return record!;
}
