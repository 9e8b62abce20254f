// "Did you mean …?" for misspelt field names, enum values and engine parameters.
import { distance } from 'fastest-levenshtein';

/**
 * The closest candidate to `input`, or undefined when nothing is close enough.
 * A case-insensitive or separator-insensitive match always wins; otherwise the
 * edit distance must be at most a third of the longer word (and at most 3).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    if (fold(candidate) === fold(input)) return candidate;
    const d = distance(input.toLowerCase(), candidate.toLowerCase());
    const limit = Math.min(3, Math.floor(Math.max(input.length, candidate.length) / 3));
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` — did you mean "x"?` or an empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = closest(input, candidates);
  return match === undefined ? '' : `did you mean "${match}"?`;
}
