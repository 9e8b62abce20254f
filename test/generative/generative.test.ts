// The generative state tests (docs/testing.md): random valid desired states
// and sequences of follow-ups, with random faults, against the simulated world and the
// real planner, executor and reconciler. Safety is checked after every step (by the
// world on its actual state, and by the planner's own checkStepSafety); liveness at the
// end. Then the proof that this bites: every planted bug is caught within its budget.
//
// Environment: COXSWAIN_GEN_RUNS (default 1000) scenarios, COXSWAIN_GEN_SEED (default:
// the run's seed, test/support/seed.ts; printed on every run). A failure prints the one
// command that replays it (run.ts --seed S --path P, straight to that scenario) and the one
// that runs the same scenarios, shrinks the failure and saves it as a regression file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arbFaults } from '../arbitraries/faults.ts';
import { systemUnderTest } from './harness.ts';
import { knownHits, unexplained } from './known-issues.ts';
import { PLANTED_BUGS, type PlantedBug } from './planted-bugs.ts';
import { replayCommand, report } from './run.ts';
import { runScenario, type ScenarioResult } from './runner.ts';
import { arbScenario, type Scenario } from './scenario.ts';
import { TEST_SEED } from '../support/seed.ts';

const RUNS = Number(process.env['COXSWAIN_GEN_RUNS'] ?? 1000);
const SEED = Number(process.env['COXSWAIN_GEN_SEED'] ?? TEST_SEED);
/** The planted bugs' scenarios: a fixed seed of their own, so each bug's budget is measured on the same scenarios every run. */
const PLANTED_SEED = 20_251_122;

describe('generative state tests', () => {
  it(`${RUNS} random scenarios reach their desired state safely (seed ${SEED})`, async () => {
    const sut = systemUnderTest();
    const started = performance.now();
    let first: { scenario: Scenario; result: ScenarioResult } | undefined;
    const known = new Map<string, number>();
    const out = await fc.check(
      fc.asyncProperty(arbScenario(), async (scenario) => {
        const result = await runScenario(scenario, sut);
        const ok = unexplained(result).length === 0;
        if (!ok) first ??= { scenario, result };
        else if (!result.ok) for (const id of knownHits(result)) known.set(id, (known.get(id) ?? 0) + 1);
        return ok;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `generative: ${out.numRuns} scenarios, ${out.failed ? 1 : 0} failures, ${Math.round(out.numRuns / seconds)} scenarios/s (seed ${SEED})` +
        (known.size > 0 ? `; known open bugs hit: ${[...known].map(([id, n]) => `${id} ×${n}`).join(', ')}` : ''),
    );
    if (out.failed && first !== undefined) {
      assert.fail(
        `a scenario failed (seed ${SEED}, run ${out.numRuns}, path ${out.counterexamplePath ?? '?'}); replay it with:\n` +
          `  ${replayCommand(RUNS, SEED, out.counterexamplePath ?? undefined)}\n` +
          `or run the same scenarios, shrink it and save it as a regression file with:\n` +
          `  make test-generative RUNS=${RUNS} SEED=${SEED}\n${report(first.scenario, first.result)}`,
      );
    }
    assert.equal(out.numRuns, RUNS);
  });
});

/** Scenarios for a planted bug: the fault kinds it needs, or none (a plain planner bug shows without faults). */
function arbFor(bug: PlantedBug): fc.Arbitrary<Scenario> {
  const kinds = bug.faultKinds;
  if (kinds === undefined) return arbScenario({ faults: { maxFaults: 1 } }).map((s) => ({ ...s, faults: [] }));
  const faults = { ...bug.faultOptions, kinds };
  return arbScenario({ faults }).chain((s) => (s.faults.length > 0 ? fc.constant(s) : arbFaults(faults).map((f) => ({ ...s, faults: f }))));
}

describe('planted bugs are caught', () => {
  for (const bug of PLANTED_BUGS) {
    it(`${bug.name} (breaks: ${bug.breaks}) within ${bug.budget} scenarios`, async () => {
      const buggy = systemUnderTest({ bug });
      const real = systemUnderTest();
      let tried = 0;
      let evidence = '';
      const out = await fc.check(
        fc.asyncProperty(arbFor(bug), async (scenario) => {
          tried++;
          const withBug = await runScenario(scenario, buggy);
          const failures = unexplained(withBug);
          if (failures.length === 0) return true;
          // Caught only if the same scenario passes without the bug: the bug, not something else, failed it.
          const without = await runScenario(scenario, real);
          if (unexplained(without).length > 0) return true;
          evidence = [...new Set(failures.map((f) => f.check))].join(', ');
          return false;
        }),
        { numRuns: bug.budget, seed: PLANTED_SEED, endOnFailure: true },
      );
      const line = `planted bug ${bug.name}: ${out.failed ? `caught after ${tried} scenarios by ${evidence}` : `NOT caught in ${tried} scenarios`} (seed ${PLANTED_SEED})`;
      console.log(line);
      assert.ok(out.failed, line);
    });
  }
});
