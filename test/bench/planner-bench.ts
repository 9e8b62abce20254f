// Planner latency at scale: the time of one plan(desired, observed) call on synthetic
// clusters (synthetic-cluster.ts) at their desired state, and one edit later with a
// rolling restart to plan. The planner is imported when the bench runs, so a planner
// that is missing or broken costs this section only, with the reason printed.
import type { Desired } from '../../desired-state/types.ts';
import type { ObservedCluster } from '../../operator/model/observed.ts';
import type { Plan } from '../../operator/model/step.ts';
import { syntheticDesired, syntheticObserved, withRollingRestart } from './synthetic-cluster.ts';
import type { SyntheticShape } from './synthetic-cluster.ts';

export type PlanFunction = (desired: Desired, observed: ObservedCluster) => Plan;

/** The planner could not be loaded (not written yet, or does not load). */
export class PlannerUnavailableError extends Error {
  override name = 'PlannerUnavailableError';
}

export async function loadPlanner(): Promise<PlanFunction> {
  const modulePath = '../../operator/planner/plan.ts';
  let mod: { plan?: unknown };
  try {
    mod = (await import(modulePath)) as { plan?: unknown };
  } catch (err) {
    throw new PlannerUnavailableError(`operator/planner/plan.ts could not be loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (typeof mod.plan !== 'function') throw new PlannerUnavailableError('operator/planner/plan.ts exports no function "plan"');
  return mod.plan as PlanFunction;
}

export interface PlannerTiming {
  nodes: number;
  shape: SyntheticShape;
  /** Median ms per plan() call at the desired state. */
  atDesiredMs: number;
  /** The plan at the desired state said done. */
  done: boolean;
  /** Median ms per plan() call with a rolling restart to plan. */
  withWorkMs: number;
  /** Steps that plan returned for the rolling restart. */
  workSteps: number;
  /** What the at-desired plan said instead of done, when it did (for the report). */
  notDoneBecause: string[];
}

/**
 * Median ms of one call of `fn` over at least `minRuns` calls and `minMs` ms, after
 * warming up (3 calls, at least 200 ms) so the JIT has compiled it. The median, not the
 * mean: on a shared machine a call now and then waits for the CPU.
 */
export function timeCalls<T>(fn: () => T, minRuns = 5, minMs = 500, maxRuns = 200): { ms: number; last: T } {
  let last = fn();
  const warm = performance.now();
  for (let i = 1; i < 3 || (performance.now() - warm < 200 && i < maxRuns); i++) last = fn();
  const times: number[] = [];
  const started = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - started < minMs)) {
    const t0 = performance.now();
    last = fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const ms = times.length % 2 === 1 ? (times[mid] ?? 0) : ((times[mid - 1] ?? 0) + (times[mid] ?? 0)) / 2;
  return { ms, last };
}

/** Times the planner on a synthetic cluster of `shape`. */
export function timePlanner(plan: PlanFunction, shape: SyntheticShape): PlannerTiming {
  const desired = syntheticDesired(shape);
  const observed = syntheticObserved(desired);
  const at = timeCalls(() => plan(desired, observed));
  const restart = withRollingRestart(desired);
  const work = timeCalls(() => plan(restart, observed));
  return {
    nodes: shape.nodeGroups * shape.replicationFactor,
    shape,
    atDesiredMs: at.ms,
    done: at.last.done,
    withWorkMs: work.ms,
    workSteps: work.last.next.length,
    notDoneBecause: at.last.done ? [] : [...at.last.waiting, ...at.last.blocked, ...at.last.next.map((s) => s.why)].slice(0, 5),
  };
}

/**
 * The two sizes of the issue. 1,000 nodes: 500 node groups × 2. 10,000 nodes: 2,000
 * node groups × 5 — beyond the schema's nodeGroups ≤ 1000 (no valid desired state has
 * 10,000 nodes; plan() does not validate, so it still measures how the planner scales).
 */
export const PLANNER_SHAPES: readonly SyntheticShape[] = [
  { nodeGroups: 500, replicationFactor: 2 },
  { nodeGroups: 2000, replicationFactor: 5 },
];
