// How long things are, as the inventory and the command line write them (`45s`, `26h`, `4d`): one
// whole number, one unit, the way a sysadmin writes a timeout in a config file.

/** Seconds in each unit a duration may be written in: one whole number, one unit. */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
type Unit = keyof typeof UNIT_SECONDS;
const DURATION = /^([1-9][0-9]{0,5})([smhdw])$/;

/** Seconds of `45s`, `90m`, `26h`, `4d` or `2w`; undefined for anything else (`4 days`, `1.5h`, `26`). */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as Unit];
}

/** A duration as the inventory would write it, in the largest unit that divides it (JSON, Nagios). */
export function formatDuration(seconds: number): string {
  const units = Object.entries(UNIT_SECONDS).reverse() as [Unit, number][];
  const [unit, size] = units.find(([, size]) => seconds % size === 0 && seconds >= size) ?? ['m', 60];
  return `${Math.round(seconds / size)}${unit}`;
}

/**
 * The longest connections may be kept warm after their last use (`ssh.persist`, `--persist`): a
 * day of work, not a standing tunnel. Also well under what a Node timer can wait (24.8 days).
 */
export const PERSIST_MAX_SECONDS = 86_400;

/** Milliseconds of a persist time: a duration up to a day, or `off` (0); undefined for anything else. */
export function parsePersist(text: string): number | undefined {
  if (text === 'off') return 0;
  const seconds = parseDuration(text);
  return seconds !== undefined && seconds <= PERSIST_MAX_SECONDS ? seconds * 1000 : undefined;
}
