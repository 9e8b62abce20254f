// `make bench` (Coxswain issue #6, part 3): runs each operation twice in one run, on the
// same machine with the same shape (3 primaries × 1 replica), data (100k keys) and
// continuous writer — as the bare hand-driven redis-cli sequence (docs/redis-cluster.md)
// (baseline.ts) and through Coxswain's command line (coxswain.ts) — and prints one line
// per operation (format in report.ts), then the planner's latency on synthetic clusters
// of 1,000 and 10,000 nodes, generative scenarios per second, and the memory (RSS) of
// the leader, the agents and the data nodes. It installs nothing itself: `make bench`
// runs `make deps engines` first.
//
// Usage: node --import tsx test/bench/run.ts [--baseline-only | --coxswain-only]
//          [--keys N] [--rate OPS] [--no-planner] [--no-generative] [--generative-runs N]
//          [--json FILE]
// Exit: 0 when every part that ran succeeded and no acknowledged write was lost; 1
// otherwise (the reason is printed); 2 on a usage mistake.
//
// The writer is capped at --rate commands per second (default 2,000) on both sides:
// unbounded, on a 2-core machine it takes a core from the operations it measures and
// grows the data every operation has to move (see the report of issue #6).
// The whole run stays under 10 minutes: each Coxswain operation waits at most what is
// left of the budget, and the generative section gets what remains, at most 90 s.
// Ctrl-C (or SIGTERM) stops every server and cluster the bench started before it exits.
import { writeFile } from 'node:fs/promises';
import { log } from './log.ts';
import { runBaseline } from './baseline.ts';
import { runPendingCleanups } from './cleanup.ts';
import { runCoxswain } from './coxswain.ts';
import { runGenerative } from './generative-hook.ts';
import type { GenerativeOutcome } from './generative-hook.ts';
import { PLANNER_SHAPES, loadPlanner, timePlanner } from './planner-bench.ts';
import type { PlannerTiming } from './planner-bench.ts';
import { generativeLine, memoryLines, plannerLines, sideLines, sideProblems } from './report.ts';
import type { SideResult } from './ops.ts';

const BUDGET_MS = 10 * 60 * 1000;

export interface RunArgs {
  baseline: boolean;
  coxswain: boolean;
  keys: number;
  rate: number;
  planner: boolean;
  generative: boolean;
  generativeRuns: number;
  json: string | undefined;
}

/** A mistake on the command line (exit 2). */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

const USAGE =
  'usage: run.ts [--baseline-only | --coxswain-only] [--keys N] [--rate OPS] [--no-planner] [--no-generative] [--generative-runs N] [--json FILE]';

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = { baseline: true, coxswain: true, keys: 100_000, rate: 2_000, planner: true, generative: true, generativeRuns: 100, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new BenchUsageError(`${a} needs a value; ${USAGE}`);
      return v;
    };
    const count = (): number => {
      const text = next();
      if (!/^[0-9]+$/.test(text)) throw new BenchUsageError(`${a} needs a whole number ≥ 0, got ${JSON.stringify(text)}`);
      return Number(text);
    };
    if (a === '--baseline-only') args.coxswain = false;
    else if (a === '--coxswain-only') args.baseline = false;
    else if (a === '--keys') args.keys = count();
    else if (a === '--rate') args.rate = count();
    else if (a === '--no-planner') args.planner = false;
    else if (a === '--no-generative') args.generative = false;
    else if (a === '--generative-runs') args.generativeRuns = count();
    else if (a === '--json') args.json = next();
    else throw new BenchUsageError(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
  }
  if (!args.baseline && !args.coxswain) throw new BenchUsageError(`--baseline-only and --coxswain-only exclude each other; ${USAGE}`);
  return args;
}

async function plannerSection(): Promise<{ timings: PlannerTiming[]; lines: string[] }> {
  try {
    const plan = await loadPlanner();
    const timings: PlannerTiming[] = [];
    for (const shape of PLANNER_SHAPES) {
      const t = timePlanner(plan, shape);
      log.info({ section: 'planner', ...t }, `planner: ${t.nodes} nodes (${shape.nodeGroups} × ${shape.replicationFactor}): ${t.atDesiredMs.toFixed(1)} ms per plan`);
      timings.push(t);
    }
    return { timings, lines: plannerLines(timings) };
  } catch (err) {
    return { timings: [], lines: [`bench planner: - (${err instanceof Error ? err.message : String(err)})`] };
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: RunArgs;
  try {
    args = parseRunArgs(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) {
      console.error(`bench: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const started = Date.now();
  const left = (): number => BUDGET_MS - (Date.now() - started);

  let baseline: SideResult | undefined;
  let coxswain: SideResult | undefined;
  if (args.baseline) baseline = await runBaseline({ keys: args.keys, writerRate: args.rate });
  if (args.coxswain) {
    // Leave room for the planner, the generative section and clean-up.
    coxswain = await runCoxswain({ keys: args.keys, writerRate: args.rate, opTimeoutSeconds: 240, deadline: started + BUDGET_MS - 150_000 });
  }
  const lines = sideLines(coxswain, baseline);

  let planner: { timings: PlannerTiming[]; lines: string[] } = { timings: [], lines: [] };
  if (args.planner) planner = await plannerSection();
  lines.push(...planner.lines);

  let generative: GenerativeOutcome | undefined;
  if (args.generative) {
    const budget = Math.min(90_000, left() - 15_000);
    generative = budget < 10_000 ? { ok: false, reason: 'no time left in the 10-minute budget' } : await runGenerative(args.generativeRuns, 1, budget);
    lines.push(generativeLine(generative));
  }
  lines.push(...memoryLines(coxswain, baseline));
  const totalSeconds = (Date.now() - started) / 1000;
  lines.push(`bench total: ${totalSeconds.toFixed(1)} s`);
  for (const line of lines) console.log(line);

  if (args.json !== undefined) {
    await writeFile(args.json, `${JSON.stringify({ baseline, coxswain, planner: planner.timings, generative, totalSeconds }, null, 2)}\n`);
  }
  const problems = [...sideProblems(baseline), ...sideProblems(coxswain)];
  if (totalSeconds * 1000 > BUDGET_MS) problems.push(`the bench took ${totalSeconds.toFixed(0)} s, more than its 10-minute budget`);
  for (const p of problems) console.error(`bench: problem: ${p}`);
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench: ${signal}: stopping the servers and clusters it started, then exiting`);
      void runPendingCleanups().finally(() => process.exit(130));
    });
  }
  const code = await main(process.argv.slice(2));
  // Exit once the report is out: every cluster was stopped by then, but some library handle
  // (seen after the generative section) kept the event loop alive and `make bench` never returned.
  process.exit(code);
}
