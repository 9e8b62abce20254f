// The figures behind oracle.test.ts, over a whole budget rather than up to the first catch:
// for each bug of oracle-bugs.ts (and the planner-only variant of the shared-helper
// mutant), how many of N fault-free scenarios (seed 20251122) the oracle run fails while
// the real system passes them, the first one, and how many of those the old checks alone
// (the world's and plan-unsafe) fail. A run is deterministic and the oracle only records,
// so the old checks can fail only where the oracle run failed.
// Usage: node --import tsx test/generative/oracle-figures.ts [N=100]
import fc from 'fast-check';
import { systemUnderTest } from './harness.ts';
import { unexplained } from './known-issues.ts';
import { ORACLE_BUGS, plannerOnlyIsHealthy } from './oracle-bugs.ts';
import { runScenario } from './runner.ts';
import { arbScenario } from './scenario.ts';

const N = Number(process.argv[2] ?? 100);
console.log(`${N} scenarios per bug, seed 20251122`);
for (const bug of [...ORACLE_BUGS, plannerOnlyIsHealthy]) {
  const samples = fc.sample(arbScenario({ faults: { maxFaults: 1 } }).map((s) => ({ ...s, faults: [] })), { numRuns: N, seed: 20_251_122 });
  let first: number | undefined; let oldCaught = 0; let newCaught = 0; const checks = new Map<string, number>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const withOracle = unexplained(await runScenario(s, systemUnderTest({ bug })));
    if (withOracle.length === 0) continue;
    const real = unexplained(await runScenario(s, systemUnderTest()));
    if (real.length > 0) continue;
    newCaught++; first ??= i + 1;
    for (const c of new Set(withOracle.map((f) => f.check))) checks.set(c, (checks.get(c) ?? 0) + 1);
    const old = unexplained(await runScenario(s, systemUnderTest({ bug, oracle: false })));
    if (old.length > 0) { oldCaught++; console.log(`  old caught #${i + 1}: ${[...new Set(old.map((f) => f.check))].join(',')}`); }
  }
  console.log(`${bug.name}: oracle catches ${newCaught}/${N} (first at ${first}), old checks ${oldCaught}; checks ${[...checks].map(([c, n]) => `${c}×${n}`).join(' ')}`);
}
