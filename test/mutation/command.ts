// Stryker's test runner for `make mutation` (stryker.config.json `testRunner: "coxswain"`,
// registered as a plugin through test/mutation/test-runner.mjs): one instance lives in each
// of Stryker's worker processes, whose working directory is Stryker's sandbox, where the
// mutated files are instrumented with every mutant, switched on by `__STRYKER_ACTIVE_MUTANT__`.
// It spawns only the test processes: the plan stays in memory between mutants.
//
// The dry run prepares the run, in `.mutation-run/` of the sandbox:
//   1. which file each mutant id is in (the ids in the instrumented files);
//   2. each test file bundled with esbuild into one module (the TypeScript compiled once, not
//      by tsx at every start: a start costs about a tenth of a second instead of half);
//   3. each unit test run alone, unmutated, recording its time and which mutants it
//      executes (the instrumentation's own coverage counters), and likewise the generative
//      stage.
// A mutant's run then runs the unit tests of the mutant's file (test/mutation/map.ts) that
// execute the mutant, in one process that stops at the first failure; if they all pass and
// the generative scenarios execute the mutant, the seeded generative stage. A failure or a
// hang kills the mutant, otherwise it survives. Each verdict is appended, as one JSON line,
// to the stage log that test/mutation/mutation.ts reads.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';
import {
  DryRunStatus,
  type DryRunResult,
  type MutantRunOptions,
  type MutantRunResult,
  MutantRunStatus,
  type TestRunner,
  type TestRunnerCapabilities,
  TestStatus,
} from '@stryker-mutator/api/test-runner';
import * as esbuild from 'esbuild';
import { GENERATIVE, ImportGraph, generativeFor, isMutated, unitTestsFor } from './map.ts';

// Stryker loads this module before its worker moves into the sandbox: paths are resolved at use.
const state = (): string => path.resolve('.mutation-run');
const planFile = (): string => path.join(state(), 'plan.json');
const out = (): string => process.env['COXSWAIN_MUTATION_OUT'] ?? state();
const MUTANT_MARK = /stryMutAct_9fa48\("(\d+)"\)/g;
/**
 * A test process may take this many times its unmutated time, plus the slack, before it
 * counts as hanging (the mutant is then killed, as in Stryker). In the stage log of a full
 * run (about 5,300 verdicts), the slowest process that passed took 2.9 times its unmutated
 * time (a 0.15 s test, 0.43 s: the start of Node dominates) and no passing run took more
 * than 2 × + 1 s; a hang stopped at 5 × + 10 s cost 13–18 s of a worker.
 */
const TIMEOUT_FACTOR = 3;
const TIMEOUT_SLACK_MS = 2_000;

export interface Plan {
  /**
   * Per mutant id: its file, the unit tests to run (indices into `tests`; the `first` of
   * them, its own tests, in a process of their own), and the generative items that execute it.
   */
  mutants: Record<string, { file: string; unit: number[]; first: number; gen: string[] }>;
  tests: { file: string; bundle: string; ms: number; covers: number }[];
  generative: { bundle: string; ms: number; items: number; runs: number; seed: number };
}

/** One verdict of the stage log. */
export interface Verdict {
  id: string;
  file: string;
  /** The stage that killed the mutant, or null when it survived. */
  killedBy: 'unit' | 'generative' | null;
  /** 'failure' when a test failed, 'timeout' when the run exceeded its limit. */
  how?: 'failure' | 'timeout';
  /** How many unit test files execute the mutant, and how many generative items (run only when `generativeRan`). */
  unitTests: number;
  generative: number;
  generativeRan?: boolean;
  ms: number;
  detail?: string;
}

const BAIL_REPORTER = `import { writeSync } from 'node:fs';
// Stops the run at the first failed test: one failure is enough to kill a mutant.
export default async function* bail(source) {
  for await (const event of source) {
    if (event.type === 'test:fail' && !event.data.todo) {
      const error = event.data.details?.error;
      const message = String(error?.cause?.message ?? error?.message ?? error ?? '').split('\\n')[0];
      writeSync(2, 'FAILED ' + event.data.name + ': ' + message.slice(0, 300) + '\\n');
      process.exit(1);
    }
  }
}
`;

const COVERAGE_HOOK = `import { writeFileSync } from 'node:fs';
// Records which mutants the run executed (the instrumentation's counters), at exit.
process.on('exit', () => {
  const cov = globalThis.__stryker__?.mutantCoverage;
  const ids = new Set(Object.keys(cov?.static ?? {}));
  for (const perTest of Object.values(cov?.perTest ?? {})) for (const id of Object.keys(perTest)) ids.add(id);
  writeFileSync(process.env.COXSWAIN_MUTATION_COVERAGE, JSON.stringify([...ids]));
});
`;

// Imports the given bundles into one process; node:test runs their tests together.
const RUN_BUNDLES = `for (const file of process.argv.slice(2)) await import(new URL(file, 'file://' + process.cwd() + '/'));
`;

/**
 * The test runner plugin: Stryker calls `dryRun` once (in one of its workers), then
 * `mutantRun` for each mutant in whichever worker is free. A worker that did not run the
 * dry run reads the plan it wrote, once.
 */
export class CoxswainTestRunner implements TestRunner {
  static inject = [] as const;
  #plan: Plan | undefined;
  readonly #generative = new GenerativeCopies();

  capabilities(): TestRunnerCapabilities {
    // Each test run is a new Node process.
    return { reloadEnvironment: true };
  }

  async dryRun(): Promise<DryRunResult> {
    const started = Date.now();
    try {
      this.#plan = await dryRun();
    } catch (error) {
      return { status: DryRunStatus.Error, errorMessage: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    return { status: DryRunStatus.Complete, tests: [{ id: 'all', name: 'All tests', status: TestStatus.Success, timeSpentMs: Date.now() - started }] };
  }

  async mutantRun({ activeMutant }: MutantRunOptions): Promise<MutantRunResult> {
    this.#plan ??= JSON.parse(readFileSync(planFile(), 'utf8')) as Plan;
    const v = await mutantRun(this.#plan, activeMutant.id, this.#generative);
    if (v.killedBy === null) return { status: MutantRunStatus.Survived, nrOfTests: 1 };
    // A hang counts as killed (not Stryker's Timeout, which would restart this worker).
    return { status: MutantRunStatus.Killed, killedBy: ['all'], failureMessage: v.detail ?? v.how ?? '', nrOfTests: 1 };
  }

  dispose(): Promise<void> {
    for (const child of running) child.kill('SIGKILL');
    return Promise.resolve();
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'coxswain', CoxswainTestRunner)];

async function dryRun(): Promise<Plan> {
  const started = Date.now();
  rmSync(state(), { recursive: true, force: true });
  mkdirSync(state(), { recursive: true });
  writeFileSync(path.join(state(), 'bail.mjs'), BAIL_REPORTER);
  writeFileSync(path.join(state(), 'coverage.mjs'), COVERAGE_HOOK);
  writeFileSync(path.join(state(), 'run.mjs'), RUN_BUNDLES);

  const graph = new ImportGraph('.');
  const fileOf = new Map<string, string>();
  const testsOf = new Map<string, string[]>();
  for (const file of graph.files.filter(isMutated)) {
    const text = readFileSync(file, 'utf8');
    const ids = [...text.matchAll(MUTANT_MARK)].map((m) => m[1] as string);
    if (ids.length === 0) continue;
    for (const id of ids) fileOf.set(id, file);
    testsOf.set(file, unitTestsFor(file, graph));
  }
  const unitFiles = [...new Set([...testsOf.values()].flat())].sort();
  const bundles = await bundle(unitFiles, 'bundles', true);
  const genBundle = (await bundle([GENERATIVE.entry], 'generative', false)).get(GENERATIVE.entry) as string;

  // Each unit test alone, unmutated, two at a time: its time and the mutants it executes.
  const tests: Plan['tests'] = [];
  const coverage = new Map<string, Set<string>>();
  await inParallel(unitFiles, 2, async (file) => {
    const bundleFile = bundles.get(file) as string;
    const r = await runCovered([bundleFile], {}, file);
    if (r.code !== 0) throw new Error(`the unmutated ${file} fails in the sandbox (exit ${r.code}):\n${r.output}`);
    coverage.set(file, r.covered);
    tests.push({ file, bundle: bundleFile, ms: r.ms, covers: r.covered.size });
  });
  tests.sort((a, b) => a.file.localeCompare(b.file));
  if (fileOf.size > 0 && tests.length > 0 && tests.every((t) => t.covers === 0)) {
    throw new Error(`no unit test executes any of the ${fileOf.size} mutants: the bundles were not built from the instrumented files of the sandbox`);
  }
  // The other tests of a mutant run together in one process, sharing module instances:
  // they must pass that way unmutated too.
  const together = await runNode(nodeArgs(tests.map((t) => t.bundle)), {}, 10 * 60_000);
  if (together.code !== 0) throw new Error(`the unmutated unit tests fail when run together in one process (exit ${together.code}):\n${together.output}`);
  const indexOf = new Map(tests.map((t, i) => [t.file, i]));

  // The generative stage once, unmutated: which mutants each of its items executes.
  const genCoverage = path.join(state(), 'generative-coverage.json');
  const gen = await runNode([genBundle], { ...genEnv(GENERATIVE), COXSWAIN_MUTATION_COVERAGE: genCoverage }, 20 * 60_000);
  if (gen.code !== 0) throw new Error(`the unmutated generative stage fails in the sandbox (exit ${gen.code}):\n${gen.output}`);
  const itemsOf = new Map<string, string[]>();
  const perItem = JSON.parse(readFileSync(genCoverage, 'utf8')) as Record<string, string[]>;
  const items = Object.keys(perItem).filter((n) => n !== 'load');
  for (const [item, ids] of Object.entries(perItem)) for (const id of ids) itemsOf.set(id, [...(itemsOf.get(id) ?? []), item]);

  const mutants: Plan['mutants'] = {};
  for (const [id, file] of fileOf) {
    const own = (testsOf.get(file) ?? []).filter((t) => coverage.get(t)?.has(id));
    // The file's own tests first (the map's order), then the rest fastest first.
    const ownFirst = own.filter((t) => path.posix.basename(t).startsWith(path.posix.basename(file, '.ts') + '.'));
    const rest = own.filter((t) => !ownFirst.includes(t)).sort((a, b) => (tests[indexOf.get(a) as number]?.ms ?? 0) - (tests[indexOf.get(b) as number]?.ms ?? 0));
    const reached = itemsOf.get(id) ?? [];
    mutants[id] = {
      file,
      unit: [...ownFirst, ...rest].map((t) => indexOf.get(t) as number),
      first: Math.max(1, ownFirst.length),
      // A mutant executed while the modules load changes every item; otherwise only the items that execute it.
      gen: !generativeFor(file) ? [] : (reached.includes('load') ? items : reached.filter((n) => n !== 'load')).slice(0, GENERATIVE.maxItems),
    };
  }
  const plan: Plan = {
    mutants,
    tests,
    generative: { bundle: genBundle, ms: gen.ms, items: items.length, runs: GENERATIVE.runs, seed: GENERATIVE.seed },
  };
  writeFileSync(planFile(), JSON.stringify(plan));
  mkdirSync(out(), { recursive: true });
  writeFileSync(
    path.join(out(), 'dry-run.json'),
    JSON.stringify(
      {
        seconds: Math.round((Date.now() - started) / 100) / 10,
        mutants: fileOf.size,
        tests: tests.map(({ file, ms, covers }) => ({ file, ms, covers })),
        generative: { ms: gen.ms, items: items.length, covers: itemsOf.size, runs: GENERATIVE.runs, seed: GENERATIVE.seed },
      },
      null,
      2,
    ),
  );
  return plan;
}

/** Judges mutant `id` and logs the verdict. */
async function mutantRun(plan: Plan, id: string, generative: GenerativeCopies): Promise<Verdict> {
  const m = plan.mutants[id];
  const started = Date.now();
  const verdict = (v: Omit<Verdict, 'id' | 'file' | 'unitTests' | 'generative' | 'ms'>): Verdict =>
    record({
      id,
      file: m?.file ?? '?',
      unitTests: m?.unit.length ?? 0,
      generative: m?.gen.length ?? 0,
      ms: Date.now() - started,
      ...v,
    });
  if (m === undefined) return verdict({ killedBy: null, detail: 'mutant id not found in the instrumented files' });
  const active = { __STRYKER_ACTIVE_MUTANT__: id };
  // The mutant's own tests first, alone: they kill most mutants, and loading every other
  // bundle (all are loaded before the first test ends) would cost more than a second process.
  // After `mutation.ts --survivors` the unit tests already let this mutant live.
  const chosen = process.env['COXSWAIN_MUTATION_SKIP_UNIT'] === undefined ? m.unit.map((i) => plan.tests[i] as Plan['tests'][number]) : [];
  for (const part of [chosen.slice(0, m.first), chosen.slice(m.first)]) {
    if (part.length === 0) continue;
    const limit = TIMEOUT_FACTOR * part.reduce((s, t) => s + t.ms, 0) + TIMEOUT_SLACK_MS;
    const r = await runNode(nodeArgs(part.map((t) => t.bundle)), active, limit);
    if (r.code !== 0) return verdict({ killedBy: 'unit', how: r.timedOut ? 'timeout' : 'failure', detail: firstFailure(r.output) });
  }
  const runGenerative = m.gen.length > 0 && process.env['COXSWAIN_MUTATION_UNIT_ONLY'] === undefined;
  if (runGenerative) {
    const bundle = await generative.forFile(plan, m.file);
    // The whole stage's unmutated time (instrumented, so slower than this copy) bounds a part of it.
    const limit = TIMEOUT_FACTOR * plan.generative.ms + TIMEOUT_SLACK_MS;
    const env = { ...active, ...genEnv(plan.generative), COXSWAIN_MUTATION_ITEMS: m.gen.join(',') };
    const r = await runNode([bundle], env, limit);
    if (r.code !== 0) {
      return verdict({ killedBy: 'generative', how: r.timedOut ? 'timeout' : 'failure', detail: firstFailure(r.output), generativeRan: true });
    }
  }
  return verdict({ killedBy: null, generativeRan: runGenerative });
}

/**
 * Copies of the generative bundle for the mutants of one mutated file each: the switches
 * of every other file's mutants folded to `false`, no coverage counters, and the dead
 * branches dropped by esbuild, so the code runs about as fast as the original (the
 * instrumented bundle took about twice as long). This file's switches stay, as a cheap
 * comparison with the active mutant read once from `__STRYKER_ACTIVE_MUTANT__` — the same
 * semantics as Stryker's `stryMutAct_9fa48(id)`. Made once per file, at its first
 * generative run, and kept in the sandbox for every mutant of the file (and the other
 * worker); replacing each mutant's switch by a constant cost an esbuild transform of the
 * whole bundle per mutant.
 */
class GenerativeCopies {
  readonly #made = new Map<string, Promise<string>>();

  forFile(plan: Plan, file: string): Promise<string> {
    let made = this.#made.get(file);
    if (made === undefined) {
      made = this.#make(plan, file);
      this.#made.set(file, made);
    }
    return made;
  }

  async #make(plan: Plan, file: string): Promise<string> {
    const dir = path.join(state(), 'generative-by-file');
    const name = `${createHash('sha256').update(file).digest('hex').slice(0, 16)}-${path.basename(plan.generative.bundle)}`;
    const copy = path.join(dir, name);
    if (existsSync(copy)) return copy;
    const own = new Set(Object.entries(plan.mutants).flatMap(([id, m]) => (m.file === file ? [id] : [])));
    const text = readFileSync(plan.generative.bundle, 'utf8')
      .replace(/\bstryMutAct_9fa48\d*\("(\d+)"\)/g, (_, n: string) => (own.has(n) ? `(${ACTIVE} === "${n}")` : 'false'))
      .replace(/\bstryCov_9fa48\d*\((?:"\d+"(?:, )?)+\)/g, '0');
    const folded = await esbuild.transform(`const ${ACTIVE} = process.env.__STRYKER_ACTIVE_MUTANT__;\n${text}`, {
      loader: 'js',
      format: 'esm',
      target: 'node20',
      minifySyntax: true,
    });
    // Written aside, then renamed: the other worker may be making the same copy.
    mkdirSync(dir, { recursive: true });
    const partial = `${copy}.${process.pid}`;
    writeFileSync(partial, folded.code);
    renameSync(partial, copy);
    return copy;
  }
}

/** The active mutant's id in a generative copy (a name no bundled module uses). */
const ACTIVE = '__coxswainActiveMutant';

function genEnv(g: { runs: number; seed: number }): Record<string, string> {
  return { COXSWAIN_GEN_RUNS: String(g.runs), COXSWAIN_GEN_SEED: String(g.seed) };
}

function record(v: Verdict): Verdict {
  mkdirSync(out(), { recursive: true });
  appendFileSync(path.join(out(), 'stages.jsonl'), `${JSON.stringify(v)}\n`);
  return v;
}

function firstFailure(output: string): string {
  return (output.split('\n').find((l) => l.startsWith('FAILED ')) ?? output.trim().split('\n').slice(-1)[0] ?? '').slice(0, 300);
}

function nodeArgs(bundles: string[]): string[] {
  return [
    `--test-reporter=${path.join(state(), 'bail.mjs')}`,
    '--test-reporter-destination=stderr',
    path.join(state(), 'run.mjs'),
    ...bundles,
  ];
}

interface Ran {
  code: number;
  ms: number;
  timedOut: boolean;
  output: string;
}

/** The test processes running now: killed when Stryker disposes of the runner. */
const running = new Set<ChildProcess>();

function runNode(args: string[], env: Record<string, string>, limitMs: number): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), ms: Date.now() - started, timedOut, output });
    });
  });
}

async function runCovered(bundles: string[], env: Record<string, string>, what: string): Promise<Ran & { covered: Set<string> }> {
  const coverageFile = path.join(state(), `coverage-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const args = ['--import', pathToFileURL(path.join(state(), 'coverage.mjs')).href, ...nodeArgs(bundles)];
  const r = await runNode(args, { ...env, COXSWAIN_MUTATION_COVERAGE: coverageFile }, 10 * 60_000);
  let covered = new Set<string>();
  try {
    covered = new Set(JSON.parse(readFileSync(coverageFile, 'utf8')) as string[]);
  } catch {
    if (r.code === 0) throw new Error(`${what} left no coverage file`);
  }
  return { ...r, covered };
}

/**
 * Bundles each test file with what it imports (packages stay external); returns test file
 * → bundle path. With `splitting`, the modules that several test files import go into
 * shared chunks, loaded once by a process that runs several test files.
 */
async function bundle(files: string[], dir: string, splitting: boolean): Promise<Map<string, string>> {
  const outdir = path.join(state(), dir);
  await esbuild.build({
    // The sandbox, explicitly: esbuild's default is the directory its service started in,
    // and tsx started it (loading this plugin) before Stryker's worker moved into the sandbox.
    absWorkingDir: process.cwd(),
    entryPoints: files,
    outdir,
    splitting,
    outbase: '.',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [keepImportMetaUrl],
  });
  return new Map(files.map((f) => [f, path.join(outdir, f.replace(/\.ts$/, '.mjs'))]));
}

/** Each module keeps its own `import.meta.url` (files found beside the sources), not the bundle's. */
const keepImportMetaUrl: esbuild.Plugin = {
  name: 'keep-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

async function inParallel<T>(items: T[], width: number, f: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(width, os.availableParallelism(), queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await f(item);
    }),
  );
}

