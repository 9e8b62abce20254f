// Properties of plan() over random desired states and random observed clusters (built
// at another desired state, then mutated: testing/arb-observed.ts): the batch is always
// safe (checkStepSafety), plan() is deterministic and leaves its input alone, and its
// flags are consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arbDesired, arbNextDesired } from '../../test/arbitraries/desired-state.ts';
import type { Desired } from '../../desired-state/types.ts';
import { describeStep } from '../model/step.ts';
import { checkStepSafety } from './invariants.ts';
import { plan } from './plan.ts';
import { arbObserved } from './testing/arb-observed.ts';
import '../../test/support/seed.ts'; // every property runs on the run's seed

/** Small clusters (most of the time) so that shrunk cases stay readable. */
const small = (d: Desired): Desired => ({ ...d, nodeGroups: Math.min(d.nodeGroups, 6) });

const arbCase = arbDesired()
  .map(small)
  .chain((base) =>
    fc.tuple(
      fc.oneof(fc.constant(base), arbNextDesired(base).map(small), arbNextDesired(base, { everRan: true }).map(small)),
      arbObserved(base),
    ),
  );

const RUNS = Number(process.env.PLANNER_PROPERTY_RUNS ?? 300);

test('plan never returns a batch the safety checker refuses', () => {
  fc.assert(
    fc.property(arbCase, ([desired, observed]) => {
      const p = plan(desired, observed);
      const violations = checkStepSafety(
        desired,
        observed,
        p.next.map((s) => s.step),
      );
      assert.deepEqual(violations, [], p.next.map((s) => describeStep(s.step)).join('\n'));
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
});

test('plan is deterministic, leaves its input alone, and its flags agree', () => {
  fc.assert(
    fc.property(arbCase, ([desired, observed]) => {
      const copy = structuredClone(observed);
      const desiredCopy = structuredClone(desired);
      const p = plan(desired, observed);
      assert.deepEqual(observed, copy);
      assert.deepEqual(desired, desiredCopy);
      assert.deepEqual(plan(desired, observed), p);
      if (p.done) {
        assert.equal(p.next.length, 0);
        assert.deepEqual(p.waiting, []);
        assert.deepEqual(p.blocked, []);
        assert.equal(p.remaining, 0);
      } else {
        assert.ok(p.next.length > 0 || p.waiting.length > 0 || p.blocked.length > 0, 'a plan that is not done acts, waits or is blocked');
        assert.ok(p.remaining >= Math.max(1, p.next.length));
      }
      if (p.blocked.length > 0) assert.equal(p.next.length, 0);
      for (const s of p.next) assert.ok(s.why.length > 0);
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
});
