// The system under test, assembled for the runner: the real planner, its safety check
// of each batch, and the real reconciler (with the real observe and executor). One
// place, so the generative test, the corpus replay, the planted-bug proof and the CLI
// all run the same thing.
import { checkStepSafety } from '../../operator/planner/invariants.ts';
import { plan } from '../../operator/planner/plan.ts';
import { mutantAgent } from './agent-mutants.ts';
import { livenessOptions, reconcilerFactory } from './leader.ts';
import type { PlantedBug } from './planted-bugs.ts';
import type { LeaderFactory, RunOptions } from './runner.ts';

export interface SystemOptions {
  /** A planted bug to run instead of the real thing. */
  bug?: PlantedBug;
  /** Run the independent oracle (oracle.ts); false: the old checks only (the world's and plan-unsafe). @default true */
  oracle?: boolean;
}

export function systemUnderTest(opts: SystemOptions = {}): RunOptions<unknown> {
  const bug = opts.bug;
  const base = reconcilerFactory(bug?.reconciler ?? {}) as LeaderFactory<unknown>;
  const factory = bug?.factory === undefined ? base : bug.factory(base);
  return {
    factory,
    planner: bug?.planner === undefined ? plan : bug.planner(plan),
    stepSafety: bug?.stepSafety === undefined ? checkStepSafety : bug.stepSafety(checkStepSafety),
    oracle: opts.oracle ?? true,
    // The bound of the REAL leader's options: a planted bug that changes them (retry-forever) is held to it too.
    liveness: (pace) => livenessOptions(pace),
    ...(bug?.nextEpoch === undefined ? {} : { nextEpoch: bug.nextEpoch }),
    ...(bug?.agent === undefined ? {} : { agentCode: ((mutant) => () => mutantAgent(mutant))(bug.agent) }),
  };
}
