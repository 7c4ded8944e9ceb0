// "did you mean": the known word nearest to a typo (Levenshtein distance), if it is near enough.

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The nearest of `known` to `word`, when at most a third of its letters (and at least one) differ. */
export function nearest(
  word: string,
  known: readonly string[],
  maxDistance = Math.max(1, Math.floor(word.length / 3)),
): string | undefined {
  let best: { w: string; d: number } | undefined;
  for (const w of known) {
    const d = distance(word.toLowerCase(), w.toLowerCase());
    if (!best || d < best.d) best = { w, d };
  }
  return best && best.d <= maxDistance ? best.w : undefined;
}

/** " (did you mean press-enter?)" or "". */
export function didYouMean(word: string, known: readonly string[]): string {
  const n = nearest(word, known);
  return n ? ` (did you mean ${n}?)` : '';
}
