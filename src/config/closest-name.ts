// "Did you mean …?" for misspelled option names: a typo should cost one glance, not a search
// through the documentation.

/**
 * Edit distance counting an insertion, deletion, substitution or swap of two neighbouring
 * characters as one edit (optimal string alignment), since swapped letters are the commonest typo.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/**
 * The candidate nearest to `name`, or null when none is near enough to be a plausible typo
 * (a third of the name's length, at least 2 edits).
 */
export function closestName(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === null) return null;
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestDistance <= limit ? best : null;
}

/**
 * The one sentence for a flag a command does not know, so proxy, serve and generate say it alike:
 * `--sit: unknown option; did you mean --site? (latchkey serve --help lists them all)`.
 * Names come without their leading dashes.
 */
export function unknownFlagProblem(name: string, knownNames: Iterable<string>, command: string): string {
  const suggestion = closestName(name, knownNames);
  return `--${name}: unknown option${suggestion && suggestion !== name ? `; did you mean --${suggestion}?` : ''} (latchkey ${command} --help lists them all)`;
}
