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

// Open: crash-races-planned-stop (test/regressions/crash-races-planned-stop.json).
// Closed: single-copy-respelled-restart-parameter by validation (an integer with a leading
// zero such as "088" is refused, as Redis and Valkey refuse it, so two accepted spellings of
// a restart-only value cannot differ), restore-id-in-another-sink-kept by the end check (a backup under the restore's id is
// kept in every sink, as the planner keeps it: test/regressions/restore-id-kept-in-every-sink.json), stopped-cluster-that-never-held-data by the planner, single-copy-live-parameter-removal
// by validation, livelock-succeeded-but-never-visible by the reconciler (a succeeded job
// whose effect never shows is a failed attempt); their regression files guard the fixes.
export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: 'crash-races-planned-stop',
    diagnosis:
      'a node crashes (an injected fault) after the observation a batch was planned from and before a planned StopDataNode of ' +
      'another node of its group takes effect (a few ms): the stop leaves the group without a live copy until both are started ' +
      'again. The planner could not see the crash, and nothing after it looks: the agent\'s StopDataNode does not check the rest ' +
      'of the group (agent/engines/redis/redis-backend.ts), and a replica notices its primary gone only after a timeout. The ' +
      'world\'s and the oracle\'s checks judge the stop by the state at its effect; one of them should judge it by what could be ' +
      'known, or the agent refuse a stop while the rest of its group is not up',
    explains: (f, r) => RACE_CHECKS.has(f.check) && racedByCrash(f.message, r),
  },
];

/** The safety checks a planned stop fails when a node of its group crashed just before it took effect. */
const RACE_CHECKS = new Set(['two-down-in-group', 'last-live-copy', 'oracle-two-down', 'oracle-last-copy', 'oracle-stopped-while-syncing']);

/**
 * The violation (its message starts with the world's time, "26.320s: vm-3 was stopped while
 * vm-1 … was down too") came after an injected crash that no GetState had shown yet — of
 * a node the message names as down, when it names one.
 */
function racedByCrash(message: string, r: ScenarioResult): boolean {
  const m = /^(\d+\.\d{3})s: \S+ (?:was stopped|went down \(StopDataNode\))/.exec(message);
  if (m === null) return false;
  const atMs = Math.round(Number(m[1]) * 1000);
  const named = /while (\S+(?:, \S+)*) of .+ was down too$/.exec(message)?.[1]?.split(', ');
  return r.crashes.some((c) => c.atMs <= atMs && (c.seenAtMs === undefined || c.seenAtMs > atMs) && (named === undefined || named.includes(c.vmId)));
}

/** The failures no known issue explains. */
export function unexplained(result: ScenarioResult): Failure[] {
  return result.failures.filter((f) => !KNOWN_ISSUES.some((k) => k.explains(f, result)));
}

/** The known issues a result hit. */
export function knownHits(result: ScenarioResult): string[] {
  return KNOWN_ISSUES.filter((k) => result.failures.some((f) => k.explains(f, result))).map((k) => k.id);
}
