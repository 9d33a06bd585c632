// "Did you mean ...?" for names typed by hand: host names, keys of the inventory, groups.

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a typo:
 * within max(1, floor(length / 3)) insertions, deletions, substitutions or swaps of two
 * neighbouring letters (case ignored), or one is the beginning of the other.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const typed = word.toLowerCase();
  if (typed === '') return undefined;
  const maxDistance = Math.max(1, Math.floor(typed.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    const distance = editDistance(typed, lower);
    const isPrefix = lower.startsWith(typed) || typed.startsWith(lower);
    if (distance > maxDistance && !isPrefix) continue;
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate;
}

/** Damerau-Levenshtein distance (optimal string alignment): a swap of neighbours counts 1. */
function editDistance(a: string, b: string): number {
  // rows[i][j] = distance between the first i characters of a and the first j of b
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, at(i - 2, j - 2) + 1);
      }
      rows[i]![j] = distance;
    }
  }
  return at(a.length, b.length);
}
