// Bugs the generative tests found in the leader (planner, executor, reconciler, or the
// validation rules) that are reported and not fixed yet. Each has a regression file in
// test/regressions/ that replays it and asserts it still fails; here, each says which
// failures it explains, so the random search counts a scenario that only hits a known
// bug as "known" instead of failing on it again — and keeps looking for new ones.
//
// When a bug is fixed: delete its entry here and the `knownFailure` of its regression
// file (the file then guards that the scenario passes).
import type { Failure } from './checks.ts';
import type { ScenarioResult } from './runner.ts';

export interface KnownIssue {
  id: string;
  /** What is wrong, and where, in one line. */
  diagnosis: string;
  /** Whether the issue explains this failure of this scenario. */
  explains(f: Failure, result: ScenarioResult): boolean;
}

// Closed: stopped-cluster-that-never-held-data by the planner, single-copy-live-parameter-removal
// by validation, livelock-succeeded-but-never-visible by the reconciler (a succeeded job
// whose effect never shows is a failed attempt); their regression files guard the fixes.
export const KNOWN_ISSUES: readonly KnownIssue[] = [];

/** The failures no known issue explains. */
export function unexplained(result: ScenarioResult): Failure[] {
  return result.failures.filter((f) => !KNOWN_ISSUES.some((k) => k.explains(f, result)));
}

/** The known issues a result hit. */
export function knownHits(result: ScenarioResult): string[] {
  return KNOWN_ISSUES.filter((k) => result.failures.some((f) => k.explains(f, result))).map((k) => k.id);
}
