// Bugs the generative tests found in the leader (planner, executor, reconciler, or the
// validation rules) that are reported and not fixed yet. Each has a regression file in
// test/regressions/ that replays it and asserts it still fails; here, each says which
// failures it explains, so the random search counts a scenario that only hits a known
// bug as "known" instead of failing on it again — and keeps looking for new ones.
//
// When a bug is fixed: delete its entry here and the `knownFailure` of its regression
// file (the file then guards that the scenario passes).
import { checkParameterValue, settableParameter } from '../../desired-state/catalogue.ts';
import type { Failure } from './checks.ts';
import type { ScenarioResult } from './runner.ts';

export interface KnownIssue {
  id: string;
  /** What is wrong, and where, in one line. */
  diagnosis: string;
  /** Whether the issue explains this failure of this scenario. */
  explains(f: Failure, result: ScenarioResult): boolean;
}

// Open: single-copy-respelled-restart-parameter (test/regressions/single-copy-respelled-restart-parameter.json).
// Closed: stopped-cluster-that-never-held-data by the planner, single-copy-live-parameter-removal
// by validation, livelock-succeeded-but-never-visible by the reconciler (a succeeded job
// whose effect never shows is a failed attempt); their regression files guard the fixes.
export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: 'single-copy-respelled-restart-parameter',
    diagnosis:
      'with replicationFactor 1 and no temporary VMs, a restart-only parameter written another way with the same value ' +
      '(io-threads 88 → "088") passes validation (desired-state/transition.ts restartParameterChanges compares canonical values), ' +
      'but the planner compares the configuration label as strings (operator/planner/config-diff.ts) and is blocked ' +
      '("the only node of its node group") → ERROR_STATE for an accepted desired state. Redis 7.0 and Valkey 8.0 refuse such ' +
      'an integer anyway ("argument couldn\'t be parsed into an integer"): desired-state/catalogue.ts parseInteger accepts leading zeros',
    explains: (f) => (f.check === 'error-state' || f.check === 'offer-refused-wrongly') && /only node of its node group/.test(f.message) && respelledOnly(f.message),
  },
];

/** The message names a configuration change whose old and new values the catalogue reads as the same (config "io-threads" changes from "88" to "088"). */
function respelledOnly(message: string): boolean {
  const m = /config "([^"]+)" changes from "([^"]*)" to "([^"]*)"/.exec(message);
  const param = m === null ? undefined : settableParameter('redis', m[1] ?? '');
  if (m === null || param === undefined) return false;
  const was = checkParameterValue(param.value, m[2] ?? '');
  const now = checkParameterValue(param.value, m[3] ?? '');
  return was.ok && now.ok && was.canonical === now.canonical;
}

/** The failures no known issue explains. */
export function unexplained(result: ScenarioResult): Failure[] {
  return result.failures.filter((f) => !KNOWN_ISSUES.some((k) => k.explains(f, result)));
}

/** The known issues a result hit. */
export function knownHits(result: ScenarioResult): string[] {
  return KNOWN_ISSUES.filter((k) => result.failures.some((f) => k.explains(f, result))).map((k) => k.id);
}
