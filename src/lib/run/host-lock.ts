// A named lock on one host, taken by this run (see remote/host-lock.ts): refused at once naming
// its holder (take), or asked for again and again by a caller that waits (tryTake).
import type { Host } from '../inventory/types.js';
import { LOCK_HELD, lockDirectory, ownerLine, parseOwnerLine, releaseLock, takeLock } from '../remote/host-lock.js';
import type { RunContext } from './context.js';
import { LockHeldError } from './errors.js';
import { messages } from './messages.js';
import { timestamp } from './output.js';

/** The owner line of this run: the operator, this process, now. */
export function runOwnerLine(operator: string): string {
  return ownerLine({ operator, pid: process.pid, since: new Date() });
}

/** The holder of a lock, for people: "alice@laptop (pid 1234) since 2026-11-21T12:03:11+01:00". */
export function describeHolder(line: string): string {
  const owner = parseOwnerLine(line);
  if (!owner) return line.trim() || messages.lockHolderUnknown;
  return messages.lockHolder(owner.operator, owner.pid, timestamp(owner.since));
}

export class HostLock {
  constructor(
    private readonly ctx: Pick<RunContext, 'executor' | 'operator'>,
    readonly host: Host,
    readonly name: string,
    /** Shared by the locks of one run (see runOwnerLine). */
    readonly owner: string = runOwnerLine(ctx.operator),
  ) {}

  get directory(): string {
    return lockDirectory(this.name);
  }

  /**
   * Takes the lock: undefined once taken, else its holder's owner line. A lock of a chaton of
   * this operator on this machine that no longer exists (killed, crashed) is taken over.
   */
  async tryTake(): Promise<string | undefined> {
    for (;;) {
      // Never cut short by Ctrl-C: stopped between its mkdir and its owner line, a take would
      // leave a lock that no release can tell is this run's.
      const result = await this.ctx.executor.run(this.host, takeLock(this.name, this.owner), {
        kind: 'probe',
        okCodes: [0, LOCK_HELD],
        onInterrupt: 'finish',
      });
      if (result.code === 0) return undefined;
      const holder = result.stdout.toString().trim();
      if (!ownerGone(this.ctx.operator, holder)) return holder;
      await this.ctx.executor.run(this.host, releaseLock(this.name, holder), { kind: 'probe' });
    }
  }

  /** Takes the lock, or refuses (LockHeldError, exit 3) naming who holds it and since when. */
  async take(): Promise<void> {
    const holder = await this.tryTake();
    if (holder === undefined) return;
    const described = describeHolder(holder);
    throw new LockHeldError(this.host.name, this.name, described, this.directory, parseOwnerLine(holder));
  }

  /** Removes the lock if this run holds it; also after Ctrl-C, never cut short by it. */
  async release(): Promise<void> {
    await this.ctx.executor.run(this.host, releaseLock(this.name, this.owner), { kind: 'probe', afterInterrupt: true });
  }
}

/** Whether the owner line `holder` is a chaton of `operator` (user@this machine) that is gone. */
export function ownerGone(operator: string, holder: string): boolean {
  const owner = parseOwnerLine(holder);
  if (!owner || owner.operator !== operator) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
