// The independent oracle (oracle.ts): that it stays independent of the code under test,
// and that it bites where the old checks — the world's own and plan-unsafe
// (checkStepSafety) — do not: each bug of oracle-bugs.ts is caught by the oracle within
// its budget, and in every scenario the oracle caught it the old checks alone pass
// (a run is deterministic; the oracle only records, so the old checks can only fail where
// the oracle run failed). The shared-helper mutant is also run in the planner only: then
// the real checker catches it, which shows that the old checker misses the shared
// mutant because it shares the helper.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { systemUnderTest } from './harness.ts';
import { unexplained } from './known-issues.ts';
import { ORACLE_BUGS, plannerOnlyIsHealthy } from './oracle-bugs.ts';
import { PLANTED_BUGS, faultsFor, type PlantedBug } from './planted-bugs.ts';
import { arbFaults } from '../arbitraries/faults.ts';
import { runScenario } from './runner.ts';
import { arbScenario, type Scenario } from './scenario.ts';
import '../support/seed.ts'; // every property runs on the run's seed

/** The import statements of a TypeScript source that bring a VALUE from operator/planner/** or operator/executor/** (type-only imports are fine). */
export function valueImportsFromSystemUnderTest(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(import|export)\s+([^;]*?)\s+from\s+['"]([^'"]+)['"]/gms)) {
    const clause = (m[2] ?? '').trim();
    const from = m[3] ?? '';
    if (!/(^|\/)operator\/(planner|executor)\//.test(from)) continue;
    if (/^type\s/.test(clause)) continue;
    // `import { type A, type B }`: type-only when every specifier is a type.
    const braces = /^\{([^}]*)\}$/.exec(clause);
    if (braces !== null && (braces[1] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '').every((x) => x.startsWith('type '))) continue;
    out.push(m[0].trim());
  }
  for (const m of source.matchAll(/\b(import|require)\s*\(\s*['"]([^'"]+)['"]/g)) {
    if (/(^|\/)operator\/(planner|executor)\//.test(m[2] ?? '')) out.push(m[0]);
  }
  // A side-effect import (`import '…'`) runs the module too.
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) {
    if (/(^|\/)operator\/(planner|executor)\//.test(m[1] ?? '')) out.push(m[0].trim());
  }
  return out;
}

describe('the oracle is independent of the code under test', () => {
  it('the import reader finds a value import from the planner or executor (and lets types through)', () => {
    const bad = [
      `import { versionOrderAllows } from '../../operator/planner/failover.ts';`,
      `import { ClusterView, type GroupView } from '../../operator/planner/view.ts';`,
      `import * as x from '../../operator/executor/commands.ts';`,
      `import '../../operator/planner/plan.ts';`,
      `const m = await import('../../operator/planner/plan.ts');`,
      `export { plan } from '../../operator/planner/plan.ts';`,
    ];
    for (const line of bad) assert.equal(valueImportsFromSystemUnderTest(line).length, 1, line);
    const good = [
      `import type { Step } from '../../operator/model/step.ts';`,
      `import type { GroupView } from '../../operator/planner/view.ts';`,
      `import { type GroupView, type ClusterView } from '../../operator/planner/view.ts';`,
      `import { REDIS_SLOTS } from '../../operator/model/observed.ts';`,
    ];
    for (const line of good) assert.deepEqual(valueImportsFromSystemUnderTest(line), [], line);
  });

  it('oracle.ts imports no value from operator/planner/** or operator/executor/**', () => {
    const source = readFileSync(new URL('./oracle.ts', import.meta.url), 'utf8');
    assert.ok(/^import /m.test(source), 'oracle.ts has import lines to read');
    assert.deepEqual(valueImportsFromSystemUnderTest(source), []);
  });
});

/** Scenarios without faults: the oracle's bugs are plain planner bugs. */
const arbPlain = (): fc.Arbitrary<Scenario> => arbScenario({ faults: { maxFaults: 1 } }).map((s) => ({ ...s, faults: [] }));
const SEED = 20_251_122;

interface Search {
  caught: boolean;
  tried: number;
  evidence: string;
  /** Scenarios the bug failed (the real system passing them), and of those, the ones the old checks alone caught, with their checks. */
  failedWithOracle: number;
  oldCaught: string[];
}

/** Runs the bug until it fails a scenario that the real system passes; with the oracle on, re-runs that scenario with the old checks only. */
async function search(bug: PlantedBug, oracle: boolean): Promise<Search> {
  const buggy = systemUnderTest({ bug, oracle });
  const old = systemUnderTest({ bug, oracle: false });
  const real = systemUnderTest();
  const s: Search = { caught: false, tried: 0, evidence: '', failedWithOracle: 0, oldCaught: [] };
  await fc.check(
    fc.asyncProperty(arbPlain(), async (scenario) => {
      s.tried++;
      const failures = unexplained(await runScenario(scenario, buggy));
      if (failures.length === 0) return true;
      if (unexplained(await runScenario(scenario, real)).length > 0) return true;
      s.failedWithOracle++;
      const checks = [...new Set(failures.map((f) => f.check))];
      if (oracle) {
        const oldFailures = unexplained(await runScenario(scenario, old));
        if (oldFailures.length > 0) s.oldCaught.push(`#${s.tried}: ${[...new Set(oldFailures.map((f) => f.check))].join(', ')}`);
      }
      s.caught = true;
      s.evidence = checks.join(', ');
      return false;
    }),
    { numRuns: bug.budget, seed: SEED, endOnFailure: true },
  );
  return s;
}

describe('the oracle catches what the old checks miss', () => {
  for (const bug of ORACLE_BUGS) {
    it(`${bug.name} (breaks: ${bug.breaks}): the oracle catches it within ${bug.budget} scenarios, the old checks alone do not`, async () => {
      const s = await search(bug, true);
      const line = `oracle bug ${bug.name}: ${s.caught ? `caught after ${s.tried} scenarios by ${s.evidence}` : `NOT caught in ${s.tried} scenarios`}; old checks alone caught ${s.oldCaught.length} of the ${s.failedWithOracle} scenarios the oracle run failed${s.oldCaught.length > 0 ? ` (${s.oldCaught.join('; ')})` : ''}`;
      console.log(line);
      assert.ok(s.caught, line);
      assert.ok(/oracle-/.test(s.evidence), `${line}: the oracle's own checks must be among the evidence`);
      assert.deepEqual(s.oldCaught, [], `${line}: the old checks must miss it`);
    });
  }

  it(`the shared-helper mutant in the planner only (${plannerOnlyIsHealthy.name}) is caught by the real checker (plan-unsafe) without the oracle`, async () => {
    const s = await search(plannerOnlyIsHealthy, false);
    const line = `planner-only mutant: ${s.caught ? `caught after ${s.tried} scenarios by ${s.evidence}` : `NOT caught in ${s.tried} scenarios`} (old checks only)`;
    console.log(line);
    assert.ok(s.caught, line);
    assert.match(s.evidence, /plan-unsafe/);
  });
});

/** Scenarios for a planted bug of planted-bugs.ts: the fault kinds it needs, or none (as generative.test.ts). */
function arbFor(bug: PlantedBug): fc.Arbitrary<Scenario> {
  const kinds = bug.faultKinds;
  if (kinds === undefined) return arbPlain();
  return arbScenario({ faults: { kinds } }).chain((s) => (s.faults.length > 0 ? fc.constant({ ...s, faults: faultsFor(bug, s.faults) }) : arbFaults({ kinds }).map((faults) => ({ ...s, faults }))));
}

/** The safety bugs of planted-bugs.ts the oracle has a check for, and the check. */
const REWRITTEN: Readonly<Record<string, string>> = {
  'stop-two-of-a-group': 'oracle-two-down',
  'skip-failover': 'oracle-primary-stopped',
  'remove-group-before-moving-data': 'oracle-vm-deleted-while-member',
  'delete-restore-backup': 'oracle-restore-backup-deleted',
  'ignore-epoch': 'oracle-stale-epoch',
};

describe('the oracle alone catches the safety bugs of planted-bugs.ts', () => {
  for (const [name, check] of Object.entries(REWRITTEN)) {
    const bug = PLANTED_BUGS.find((b) => b.name === name);
    it(`${name} by ${check}`, async () => {
      assert.ok(bug !== undefined, `planted bug ${name} exists`);
      const buggy = systemUnderTest({ bug });
      let tried = 0;
      const out = await fc.check(
        fc.asyncProperty(arbFor(bug), async (scenario) => {
          tried++;
          return !(await runScenario(scenario, buggy)).failures.some((f) => f.check === check);
        }),
        { numRuns: bug.budget, seed: SEED, endOnFailure: true },
      );
      const line = `planted bug ${name}: ${out.failed ? `the oracle's ${check} caught it after ${tried} scenarios` : `NOT caught by ${check} in ${tried} scenarios`}`;
      console.log(line);
      assert.ok(out.failed, line);
    });
  }
});
