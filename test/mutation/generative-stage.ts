// The generative stage of `make mutation` (test/mutation/command.ts): the regression corpus
// (test/regressions/) and the first COXSWAIN_GEN_RUNS scenarios of seed COXSWAIN_GEN_SEED,
// run against the simulated world exactly as regressions.test.ts and generative.test.ts
// judge them (test/generative/known-issues.ts explains known open bugs away).
//
// The items are named r<i> (the i-th regression file) and s<i> (the i-th scenario).
//   COXSWAIN_MUTATION_ITEMS=r0,s4,…  runs only those, in that order, and stops at the
//     first failure (exit 1): a mutant runs only the items that execute it.
//   COXSWAIN_MUTATION_COVERAGE=FILE  runs every item and writes, per item, which mutants
//     it executed (the instrumentation's counters, read and reset after each item), and
//     under `load` the ones executed while the modules loaded (those affect every item).
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadCorpus } from '../generative/corpus.ts';
import { systemUnderTest } from '../generative/harness.ts';
import { unexplained } from '../generative/known-issues.ts';
import { runScenario } from '../generative/runner.ts';
import { arbScenario, type Scenario } from '../generative/scenario.ts';

interface Item {
  name: string;
  scenario: Scenario;
  /** The check a regression with an open bug must still fail with. */
  knownFailure?: string;
}

interface StrykerGlobal {
  __stryker__?: { mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> } };
}

const runs = Number(process.env['COXSWAIN_GEN_RUNS'] ?? 150);
const seed = Number(process.env['COXSWAIN_GEN_SEED'] ?? 20_261_207);
const coverageFile = process.env['COXSWAIN_MUTATION_COVERAGE'];
const only = process.env['COXSWAIN_MUTATION_ITEMS'];

// Scenarios are drawn one after another from the seed: the first n are the same for any n.
const wanted = only?.split(',').filter((n) => n !== '');
const drawn = wanted === undefined ? runs : Math.max(0, ...wanted.filter((n) => n.startsWith('s')).map((n) => Number(n.slice(1)) + 1));
const items: Item[] = [
  ...loadCorpus().map(({ regression }, i) => ({
    name: `r${i}`,
    scenario: regression.scenario,
    ...(regression.knownFailure === undefined ? {} : { knownFailure: regression.knownFailure.check }),
  })),
  ...(drawn === 0 ? [] : fc.sample(arbScenario(), { seed, numRuns: Math.min(drawn, runs) })).map((scenario, i) => ({ name: `s${i}`, scenario })),
];
const byName = new Map(items.map((it) => [it.name, it]));
const chosen = wanted === undefined ? items : wanted.map((n) => byName.get(n) as Item);

const sut = systemUnderTest();
const covered: Record<string, string[]> = {};
const g = globalThis as StrykerGlobal;
if (coverageFile !== undefined) covered['load'] = Object.keys(g.__stryker__?.mutantCoverage?.static ?? {});
for (const item of chosen) {
  if (g.__stryker__?.mutantCoverage !== undefined) g.__stryker__.mutantCoverage.static = {};
  const result = await runScenario(item.scenario, sut);
  if (coverageFile !== undefined) covered[item.name] = Object.keys(g.__stryker__?.mutantCoverage?.static ?? {});
  const failed =
    item.knownFailure === undefined ? unexplained(result).length > 0 : !result.failures.some((f) => f.check === item.knownFailure);
  if (failed) {
    const checks = [...new Set(result.failures.map((f) => f.check))].join(', ') || `no longer fails with ${item.knownFailure}`;
    console.error(`FAILED ${item.name} (seed ${seed}): ${checks}`);
    process.exit(1);
  }
}
if (coverageFile !== undefined) writeFileSync(coverageFile, JSON.stringify(covered));
console.log(`generative stage: ${chosen.length} items passed`);
