// Which tests may kill the mutants of which file (`make mutation`, test/mutation/README.md).
//
// A mutant of `operator/planner/rolling.ts` runs against rolling.test.ts first, then every
// other unit test of the mutated areas whose imports reach rolling.ts (directly or
// through other modules), fastest first — but only the ones that execute the mutated code
// (coverage measured once, in the dry run: test/mutation/command.ts). A mutant that all of
// them leave alive then meets the seeded generative stage, if its file is one the
// simulated world runs and the generative scenarios execute it.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The areas whose non-test files are mutated; mirrors `mutate` in stryker.config.json. */
export const MUTATED_AREAS = ['operator/planner', 'operator/executor', 'operator/reconciler'] as const;
/** Single files mutated outside those areas: the agent's fence and idempotency store. */
export const MUTATED_FILES = ['agent/server/epoch-fence.ts', 'agent/server/idempotency.ts'] as const;

/** Where unit tests that may kill a mutant live (each one in-process, no engines). */
export const UNIT_TEST_DIRS = ['operator/planner', 'operator/executor', 'operator/reconciler', 'agent/server'] as const;

/**
 * Unit tests left out of the per-mutant runs, with the reason. The property tests and the
 * random walks take seconds each and execute nearly every planner line, so they would run
 * for every planner mutant the example tests leave alive: the seeded generative stage plays
 * their part, once, for those mutants.
 */
export const UNIT_TESTS_LEFT_OUT: Record<string, string> = {
  'operator/planner/plan.property.test.ts': 'random observations, 300 runs: seconds per mutant; the generative stage covers the planner at random',
  'operator/planner/convergence.property.test.ts': 'random walks: seconds per mutant; the generative stage covers the planner at random',
  'operator/planner/convergence.test.ts': 'walks to convergence: seconds per mutant; the generative stage covers the planner at random',
};

/** The seeded generative stage, for the mutants that the unit tests leave alive. */
export const GENERATIVE = {
  /**
   * The regression corpus and the first `runs` scenarios of `seed`, judged as
   * regressions.test.ts and generative.test.ts judge them, each run only for the mutants
   * it executes (not generative.test.ts itself: its planted bugs test the checks, not the
   * code, and it cannot run a chosen few of its scenarios).
   */
  entry: 'test/mutation/generative-stage.ts',
  /** The areas the simulated world runs for real; the agent's files are simulated there (test/generative/world-agent.ts). */
  areas: ['operator/planner', 'operator/executor', 'operator/reconciler'],
  runs: 150,
  seed: 20_261_207,
  /**
   * At most this many items per mutant: the regressions that execute it, then the scenarios
   * that do, in the seed's order. A mutant that weakens the planner without breaking it
   * (smaller batches, say) makes every scenario longer; with all 150 such a mutant took up
   * to 45 s, and the whole run must stay under 45 minutes on two cores. Of the 82 mutants
   * the stage killed in a full run (5,270 verdicts, at most 12 items then), the item that
   * killed was the 1st for 30, the 2nd for 21, the 3rd 10, 4th 6, 5th 10, 7th 4, and the
   * 12th for one: items 9–12 killed one mutant, and cost about 0.1 s each for each of the
   * 850 mutants that ran 12 and survived.
   */
  maxItems: 8,
} as const;

/** True when `file` (repository-relative, `/`-separated) is mutated. */
export function isMutated(file: string): boolean {
  if ((MUTATED_FILES as readonly string[]).includes(file)) return true;
  return MUTATED_AREAS.some((a) => path.posix.dirname(file) === a) && file.endsWith('.ts') && !file.endsWith('.test.ts');
}

/** The unit test files that may run against the mutants of `file`, own tests first. */
export function unitTestsFor(file: string, graph: ImportGraph): string[] {
  const base = file.replace(/\.ts$/, '');
  const own = (t: string): boolean => t === `${base}.test.ts` || (t.startsWith(`${base}.`) && t.endsWith('.test.ts'));
  const pool = graph.testFiles.filter((t) => !(t in UNIT_TESTS_LEFT_OUT) && graph.reaches(t, file));
  return [...pool.filter(own), ...pool.filter((t) => !own(t))];
}

/** True when the generative stage may kill mutants of `file`. */
export function generativeFor(file: string): boolean {
  return GENERATIVE.areas.some((a) => file.startsWith(`${a}/`));
}

/** Relative imports between the TypeScript files under `root`, read from their import lines. */
export class ImportGraph {
  /** Every TypeScript file, repository-relative. */
  readonly files: string[] = [];
  readonly testFiles: string[];
  readonly #imports = new Map<string, string[]>();
  readonly #closure = new Map<string, Set<string>>();
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    const files = this.files;
    for (const dir of ['common', 'operator', 'agent', 'proto', 'desired-state', 'test']) walk(root, dir, files);
    for (const f of files) this.#imports.set(f, relativeImports(f, readFileSync(path.join(root, f), 'utf8')));
    this.testFiles = files.filter((f) => f.endsWith('.test.ts') && (UNIT_TEST_DIRS as readonly string[]).includes(path.posix.dirname(f))).sort();
  }

  /** True when `from` imports `to`, directly or through other modules. */
  reaches(from: string, to: string): boolean {
    return this.closure(from).has(to);
  }

  closure(from: string): Set<string> {
    let seen = this.#closure.get(from);
    if (seen !== undefined) return seen;
    seen = new Set<string>();
    const todo = [from];
    while (todo.length > 0) {
      const f = todo.pop() as string;
      for (const g of this.#imports.get(f) ?? []) {
        if (!seen.has(g)) {
          seen.add(g);
          todo.push(g);
        }
      }
    }
    this.#closure.set(from, seen);
    return seen;
  }
}

function walk(root: string, dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(root, rel, out);
    } else if (e.name.endsWith('.ts')) out.push(rel);
  }
}

/** The repository-relative targets of the relative `import`/`export … from` lines of `file`. */
export function relativeImports(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1] as string));
    if (target.endsWith('.ts')) out.push(target);
  }
  return out;
}
