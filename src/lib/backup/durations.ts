// How long things are, as the inventory writes them (`26h`, `4d`), and the data subset restic
// reads (`1/10`, `5%`). Sizes are the core's (../inventory/sizes.ts).

/** Seconds in each unit a duration may be written in: one whole number, one unit. */
const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
type Unit = keyof typeof UNIT_SECONDS;
const DURATION = /^([1-9][0-9]{0,5})([mhdw])$/;

/** Seconds of `90m`, `26h`, `4d` or `2w`; undefined for anything else (`4 days`, `1.5h`, `26`). */
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

/** Which data `restic check` reads: the n-th of t parts, or a random percentage. */
export type DataSubset = { part: number; of: number } | { percent: number };

const PART = /^([1-9][0-9]{0,5})\/([1-9][0-9]{0,5})$/;
const PERCENT = /^([0-9]{1,3}(?:\.[0-9]{1,3})?)%$/;

/** `n/t` (1 <= n <= t) or `x%` (0 < x <= 100), as restic's --read-data-subset takes them. */
export function parseSubset(text: string): DataSubset | undefined {
  const part = PART.exec(text);
  if (part) {
    const [n, t] = [Number(part[1]), Number(part[2])];
    return n <= t ? { part: n, of: t } : undefined;
  }
  const percent = PERCENT.exec(text);
  if (!percent) return undefined;
  const value = Number(percent[1]);
  return value > 0 && value <= 100 ? { percent: value } : undefined;
}

/** The value of --read-data-subset. */
export function subsetArgument(subset: DataSubset): string {
  return 'percent' in subset ? `${subset.percent}%` : `${subset.part}/${subset.of}`;
}
