// The data subset restic reads (`1/10`, `5%`). Durations and sizes are the core's
// (../inventory/durations.ts, ../inventory/sizes.ts).

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
