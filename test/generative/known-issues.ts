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
// by validation; their regression files guard the fixes.
export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    // Open while operator/reconciler/reconciler.ts resets a step's failures when its job
    // succeeds, whether or not the effect ever shows. Its regression file,
    // test/regressions/livelock-succeeded-but-never-visible.json, has no knownFailure: it
    // fails until the reconciler counts such a job as a failed attempt; then delete this
    // entry (the file guards the fix, and the random search must find no livelock again).
    id: 'livelock-succeeded-but-never-visible',
    diagnosis:
      'a step whose job succeeds but whose effect never becomes visible is run again every settle timeout for ever: ' +
      'the reconciler resets the step\'s failure count on success, so it never reaches ERROR_STATE, and the next desired state waits behind it for ever',
    explains: (f, result) =>
      f.check === 'livelock' &&
      result.livelock !== undefined &&
      result.livelock.steps.length > 0 &&
      // Every step it kept running is one whose effect a fault hid, and its jobs kept succeeding
      // (a failure among them, from another fault, is counted; the successes reset the count).
      result.livelock.steps.every((s) => result.invisibleSteps.includes(s.intent) && s.succeeded > 0),
  },
];

/** The failures no known issue explains. */
export function unexplained(result: ScenarioResult): Failure[] {
  return result.failures.filter((f) => !KNOWN_ISSUES.some((k) => k.explains(f, result)));
}

/** The known issues a result hit. */
export function knownHits(result: ScenarioResult): string[] {
  return KNOWN_ISSUES.filter((k) => result.failures.some((f) => k.explains(f, result))).map((k) => k.id);
}
