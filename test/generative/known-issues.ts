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

// Open: single-copy-respelled-restart-parameter (test/regressions/single-copy-respelled-restart-parameter.json),
// crash-races-planned-stop (test/regressions/crash-races-planned-stop.json).
// Closed: restore-id-in-another-sink-kept by the end check (a backup under the restore's id is
// kept in every sink, as the planner keeps it: test/regressions/restore-id-kept-in-every-sink.json), stopped-cluster-that-never-held-data by the planner, single-copy-live-parameter-removal
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
    // ERROR_STATE once accepted; refused as not reachable when offered at rest (offer-refused-wrongly) or once the work it waited behind ended (offer-lost).
    explains: (f) => ['error-state', 'offer-refused-wrongly', 'offer-lost'].includes(f.check) && /only node of its node group/.test(f.message) && respelledOnly(f.message),
  },
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
