// The command behind `make test-generative RUNS=N [SEED=S]`: runs N random scenarios
// against the real planner and leader, shrinks each failure to a small scenario, saves
// it as a regression file under test/regressions/, and ends with exactly the line
//   generative: <N> scenarios, <F> failures, <R> scenarios/s
//
// Usage: node --import tsx test/generative/run.ts --runs N [--seed S] [--path P] [--no-save] [--max-failures K] [--issue ID] [--no-oracle]
//   --seed S    the seed of the run (default: drawn from the clock); printed first, with the
//               command that runs the same scenarios again
//   --path P    fast-check's path of one failure (printed with it): with its seed, replays that
//               failure straight away, without the scenarios before it
//   --no-oracle runs the old checks only (the world's and plan-unsafe), without oracle.ts
//   --issue ID  looks for the smallest scenario that hits the known issue ID (known-issues.ts)
//               and saves it as a regression file with `knownFailure` set.
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { saveRegression } from './corpus.ts';
import { KNOWN_ISSUES, knownHits, unexplained, type KnownIssue } from './known-issues.ts';
import { systemUnderTest } from './harness.ts';
import { runScenario, type ScenarioResult } from './runner.ts';
import { arbScenario, SCENARIO_FORMAT, type Scenario } from './scenario.ts';
import { shrinkScenario } from './shrink.ts';

interface Args {
  runs: number;
  seed: number;
  path: string | undefined;
  save: boolean;
  maxFailures: number;
  issue: KnownIssue | undefined;
  oracle: boolean;
}

class UsageError extends Error {}

/** Scenarios fast-check may run while shrinking one failure. */
const SHRINK_BUDGET = 150;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 1000, seed: Date.now() % 2 ** 31, path: undefined, save: true, maxFailures: 5, issue: undefined, oracle: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`${a} needs a whole number ≥ 0, got ${JSON.stringify(argv[i])}`);
      return v;
    };
    if (a === '--runs') args.runs = value();
    else if (a === '--seed') args.seed = value();
    else if (a === '--path') {
      const p = argv[++i] ?? '';
      if (!/^\d+(?::\d+)*$/.test(p)) throw new UsageError(`--path needs fast-check's path (numbers separated by ":"), got ${JSON.stringify(p)}`);
      args.path = p;
    }
    else if (a === '--max-failures') args.maxFailures = value();
    else if (a === '--no-save') args.save = false;
    else if (a === '--no-oracle') args.oracle = false;
    else if (a === '--issue') {
      const id = argv[++i];
      args.issue = KNOWN_ISSUES.find((k) => k.id === id);
      if (args.issue === undefined) throw new UsageError(`no known issue ${JSON.stringify(id)}; known: ${KNOWN_ISSUES.map((k) => k.id).join(', ')}`);
    }
    else throw new UsageError(`unknown argument ${JSON.stringify(a)}; usage: run.ts --runs N [--seed S] [--path P] [--no-save] [--max-failures K] [--issue ID] [--no-oracle]`);
  }
  return args;
}

/** The command that runs `runs` scenarios on `seed` again (and, with `path`, goes straight to that failure). */
export function replayCommand(runs: number, seed: number, path?: string): string {
  return `node --import tsx test/generative/run.ts --runs ${runs} --seed ${seed}${path === undefined ? '' : ` --path ${path}`}`;
}

/** The first failure, with the scenario, in a few lines a person can read. */
export function report(scenario: Scenario, result: ScenarioResult): string {
  const lines = [
    ...result.failures.map((f) => `  ✗ ${f.check}: ${f.message}`),
    `  desired states: ${scenario.steps.map((s) => `${s.desired.id}${s.desired.running ? '' : ' (stopped)'} ng=${s.desired.nodeGroups} rf=${s.desired.replicationFactor} v${s.desired.version}`).join(' → ')}`,
    `  faults: ${result.faults.length === 0 ? 'none' : result.faults.join('; ')}`,
    `  stats: ${JSON.stringify(result.stats)}`,
    '  last events (client writes but the last left out):',
    ...lastEvents(result.trace, 25).map((t) => `    ${t}`),
  ];
  return lines.join('\n');
}

/** The last `n` events, without the clients' periodic writes but the last one: they crowd out what the leader did. */
function lastEvents(trace: readonly string[], n: number): string[] {
  const write = / clients wrote token \d+ /;
  const lastWrite = trace.findLastIndex((t) => write.test(t));
  return trace.filter((t, i) => i === lastWrite || !write.test(t)).slice(-n);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sut = systemUnderTest({ oracle: args.oracle });
  const started = performance.now();
  let done = 0;
  let failures = 0;
  let seed = args.seed;
  const known = new Map<string, number>();
  console.log(`seed ${args.seed}: running ${args.runs} scenarios${args.path === undefined ? '' : ` from path ${args.path}`} (again: ${replayCommand(args.runs, args.seed, args.path)})`);
  while (done < args.runs) {
    let last: { scenario: Scenario; result: ScenarioResult } | undefined;
    // fast-check shrinks until nothing smaller fails; a failing scenario can be slow (a leader
    // that loops runs until the job bound), so shrinking gets a budget: past it, every
    // candidate "passes" and fast-check settles on the smallest failure so far.
    let shrinkRuns = 0;
    const out = await fc.check(
      fc.asyncProperty(arbScenario(), async (scenario) => {
        if (last !== undefined && ++shrinkRuns > SHRINK_BUDGET) return true;
        const result = await runScenario(scenario, sut);
        const issue = args.issue;
        const ok = issue === undefined ? unexplained(result).length === 0 : !result.failures.some((f) => issue.explains(f, result));
        if (!ok) last = { scenario, result };
        else if (last === undefined) for (const id of knownHits(result)) known.set(id, (known.get(id) ?? 0) + 1);
        return ok;
      }),
      // A path replays its one scenario (fast-check counts the runs from the path), not the ones after it.
      args.path === undefined || done > 0 ? { numRuns: args.runs - done, seed } : { numRuns: 1, seed, path: args.path },
    );
    if (!out.failed) {
      done = args.path === undefined ? args.runs : done + out.numRuns;
      if (args.path !== undefined) console.log(`path ${args.path} of seed ${seed} passes now`);
      break;
    }
    done += out.numRuns;
    failures++;
    const found = out.counterexample?.[0];
    if (found !== undefined && last !== undefined) {
      const first = last.scenario === found ? last.result : await runScenario(found, sut);
      const issue = args.issue;
      const checkOf = (r: ScenarioResult): string | undefined =>
        issue === undefined ? unexplained(r)[0]?.check : r.failures.find((f) => issue.explains(f, r))?.check;
      const check = checkOf(first) ?? first.failures[0]?.check ?? 'unknown';
      // fast-check shrank it through the generators; shrink the data further.
      const stillFails = async (c: Scenario): Promise<boolean> => {
        const r = await runScenario(c, sut);
        return issue === undefined ? unexplained(r).some((f) => f.check === check) : r.failures.some((f) => f.check === check && issue.explains(f, r));
      };
      const { scenario: shrunk, tries } = await shrinkScenario(found, stillFails);
      const result = shrunk === found ? first : await runScenario(shrunk, sut);
      console.log(
        `failure ${failures} after ${out.numRuns} scenarios (seed ${seed}, path ${out.counterexamplePath ?? '?'}, ${out.numShrinks} fast-check shrinks, ${tries} data shrinks): ${check}`,
      );
      console.log(report(shrunk, result));
      console.log(`  replay: ${replayCommand(args.runs - done + out.numRuns, seed, out.counterexamplePath ?? undefined)}`);
      if (args.save) {
        const file = saveRegression({
          format: SCENARIO_FORMAT,
          title: issue === undefined ? `${check}: found by make test-generative` : `${issue.id}: ${issue.diagnosis}`,
          check,
          ...(issue === undefined ? {} : { knownFailure: { check, diagnosis: issue.diagnosis } }),
          found: result.failures.map((f) => `${f.check}: ${f.message}`),
          seed,
          ...(out.counterexamplePath === null ? {} : { path: out.counterexamplePath }),
          scenario: shrunk,
        });
        console.log(`  saved ${file}`);
      }
    }
    if (failures >= args.maxFailures || args.issue !== undefined || args.path !== undefined) {
      console.log(`stopping after ${failures} failures (--max-failures)`);
      break;
    }
    seed++;
  }
  const seconds = (performance.now() - started) / 1000;
  if (known.size > 0) console.log(`known issues hit (not counted as failures): ${[...known].map(([id, n]) => `${id} ×${n}`).join(', ')}`);
  console.log(`generative: ${done} scenarios, ${failures} failures, ${Math.round(done / seconds)} scenarios/s`);
  process.exitCode = failures > 0 ? 1 : 0;
}

// Run as a command (not when a test imports `report`).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`run.ts: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(err);
  process.exitCode = 1;
});
