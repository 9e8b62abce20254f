// Random walks: a random valid desired state (test/arbitraries) is reached from nothing,
// then a random sequence of valid successors (arbNextDesired), each reached from where
// the previous one left the model world — sometimes interrupted part-way by the next
// (as when a newer desired state is accepted after ERROR_STATE), with replicas that sync
// slowly, a topology that agrees late, steps that fail (every n-th is not carried out),
// and nodes that crash and VMs that fail on the way
// (testing/walk.ts). Every batch is checked safe (testing/converge.ts); every walk must
// end at the desired state, as the model sees it, within the round budget.
//
// A successor the leader would refuse because it cannot be reached from the cluster as it
// is (operator/reconciler/reachable.ts) is skipped, as the leader skips it.
//
// One documented exception: a successor that REMOVES a live parameter while
// replicationFactor stays 1 and temporary VMs are not allowed cannot be reached (a removed
// parameter needs a restart, see config-diff.ts) — the walk keeps such parameters.
// Replay a failure: runWalk(<the counterexample's object>, console.log).
import { test } from 'node:test';
import fc from 'fast-check';
import { arbWalk, runWalk } from './testing/walk.ts';
import '../../test/support/seed.ts'; // every property runs on the run's seed

const RUNS = Number(process.env.PLANNER_WALK_RUNS ?? 40);
const SEED = process.env.PLANNER_WALK_SEED === undefined ? undefined : Number(process.env.PLANNER_WALK_SEED);

test('random walks of desired states converge, safely, with faults and interruptions', () => {
  fc.assert(
    fc.property(arbWalk(), (w) => runWalk(w)),
    { numRuns: RUNS, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
});
