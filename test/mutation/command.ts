// The test command of Stryker's command runner (stryker.config.json, through the plain
// JavaScript shim command.mjs): run in Stryker's sandbox, where the mutated files are
// instrumented with every mutant, switched on by `__STRYKER_ACTIVE_MUTANT__`.
//
// Without an active mutant (Stryker's dry run) it prepares the run, in `.mutation-run/` of
// the sandbox:
//   1. which file each mutant id is in (the ids in the instrumented files);
//   2. each test file bundled with esbuild into one module (the TypeScript compiled once, not
//      by tsx at every start: a start costs about a tenth of a second instead of half);
//   3. each unit test run alone, unmutated, recording its time and which mutants it
//      executes (the instrumentation's own coverage counters), and likewise the generative
//      stage.
// With an active mutant, it runs the unit tests of the mutant's file (test/mutation/map.ts)
// that execute the mutant, in one process that stops at the first failure; if they all
// pass and the generative scenarios execute the mutant, the seeded generative stage. Exit 1
// kills the mutant, exit 0 lets it survive. Each verdict is appended, as one JSON line, to
// the stage log that test/mutation/mutation.ts reads.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { GENERATIVE, ImportGraph, generativeFor, isMutated, unitTestsFor } from './map.ts';

const STATE = path.resolve('.mutation-run');
const PLAN = path.join(STATE, 'plan.json');
const OUT = process.env['COXSWAIN_MUTATION_OUT'] ?? STATE;
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

async function main(): Promise<void> {
  const active = process.env['__STRYKER_ACTIVE_MUTANT__'];
  if (active === undefined || active === '') await dryRun();
  else process.exitCode = await mutantRun(active);
}

async function dryRun(): Promise<void> {
  const started = Date.now();
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(STATE, { recursive: true });
  writeFileSync(path.join(STATE, 'bail.mjs'), BAIL_REPORTER);
  writeFileSync(path.join(STATE, 'coverage.mjs'), COVERAGE_HOOK);
  writeFileSync(path.join(STATE, 'run.mjs'), RUN_BUNDLES);

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
  // The other tests of a mutant run together in one process, sharing module instances:
  // they must pass that way unmutated too.
  const together = await runNode(nodeArgs(tests.map((t) => t.bundle)), {}, 10 * 60_000);
  if (together.code !== 0) throw new Error(`the unmutated unit tests fail when run together in one process (exit ${together.code}):\n${together.output}`);
  const indexOf = new Map(tests.map((t, i) => [t.file, i]));

  // The generative stage once, unmutated: which mutants each of its items executes.
  const genCoverage = path.join(STATE, 'generative-coverage.json');
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
  writeFileSync(PLAN, JSON.stringify(plan));
  mkdirSync(OUT, { recursive: true });
  writeFileSync(
    path.join(OUT, 'dry-run.json'),
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
  console.log(`mutation dry run: ${fileOf.size} mutants in ${testsOf.size} files, ${tests.length} unit test files, generative stage ${items.length} items in ${gen.ms} ms, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function mutantRun(id: string): Promise<number> {
  const plan = JSON.parse(readFileSync(PLAN, 'utf8')) as Plan;
  const m = plan.mutants[id];
  const started = Date.now();
  const verdict = (v: Omit<Verdict, 'id' | 'file' | 'unitTests' | 'generative' | 'ms'>): Verdict => ({
    id,
    file: m?.file ?? '?',
    unitTests: m?.unit.length ?? 0,
    generative: m?.gen.length ?? 0,
    ms: Date.now() - started,
    ...v,
  });
  if (m === undefined) {
    record(verdict({ killedBy: null, detail: 'mutant id not found in the instrumented files' }));
    return 0;
  }
  // The mutant's own tests first, alone: they kill most mutants, and loading every other
  // bundle (all are loaded before the first test ends) would cost more than a second process.
  // After `mutation.ts --survivors` the unit tests already let this mutant live.
  const chosen = process.env['COXSWAIN_MUTATION_SKIP_UNIT'] === undefined ? m.unit.map((i) => plan.tests[i] as Plan['tests'][number]) : [];
  for (const part of [chosen.slice(0, m.first), chosen.slice(m.first)]) {
    if (part.length === 0) continue;
    const limit = TIMEOUT_FACTOR * part.reduce((s, t) => s + t.ms, 0) + TIMEOUT_SLACK_MS;
    const r = await runNode(nodeArgs(part.map((t) => t.bundle)), {}, limit);
    if (r.code !== 0) {
      record(verdict({ killedBy: 'unit', how: r.timedOut ? 'timeout' : 'failure', detail: firstFailure(r.output) }));
      return 1;
    }
  }
  const runGenerative = m.gen.length > 0 && process.env['COXSWAIN_MUTATION_UNIT_ONLY'] === undefined;
  if (runGenerative) {
    // The whole stage's unmutated time (instrumented, so slower than this copy) bounds a part of it.
    const limit = TIMEOUT_FACTOR * plan.generative.ms + TIMEOUT_SLACK_MS;
    const env = { ...genEnv(plan.generative), COXSWAIN_MUTATION_ITEMS: m.gen.join(',') };
    const r = await runNode([await specialize(plan.generative.bundle, id)], env, limit);
    if (r.code !== 0) {
      record(verdict({ killedBy: 'generative', how: r.timedOut ? 'timeout' : 'failure', detail: firstFailure(r.output), generativeRan: true }));
      return 1;
    }
  }
  record(verdict({ killedBy: null, generativeRan: runGenerative }));
  return 0;
}

/**
 * A copy of `bundle` with mutant `id` switched on and every other one off, as constants,
 * without the coverage counters, and the dead branches folded away by esbuild: the
 * mutated code then runs as fast as the original (the generative stage takes about half
 * the time it takes with the switches and counters). Same semantics as Stryker's switch:
 * `stryMutAct_9fa48(id)` is true for the active mutant only. Removed at exit.
 */
async function specialize(bundle: string, id: string): Promise<string> {
  const dir = path.join(STATE, 'active', id);
  mkdirSync(dir, { recursive: true });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(bundle, 'utf8')
    .replace(/\bstryMutAct_9fa48\d*\("(\d+)"\)/g, (_, n: string) => (n === id ? 'true' : 'false'))
    .replace(/\bstryCov_9fa48\d*\((?:"\d+"(?:, )?)+\)/g, '0');
  const folded = await esbuild.transform(text, { loader: 'js', format: 'esm', target: 'node20', minifySyntax: true });
  const out = path.join(dir, path.basename(bundle));
  writeFileSync(out, folded.code);
  return out;
}

function genEnv(g: { runs: number; seed: number }): Record<string, string> {
  return { COXSWAIN_GEN_RUNS: String(g.runs), COXSWAIN_GEN_SEED: String(g.seed) };
}

function record(v: Verdict): void {
  mkdirSync(OUT, { recursive: true });
  appendFileSync(path.join(OUT, 'stages.jsonl'), `${JSON.stringify(v)}\n`);
}

function firstFailure(output: string): string {
  return (output.split('\n').find((l) => l.startsWith('FAILED ')) ?? output.trim().split('\n').slice(-1)[0] ?? '').slice(0, 300);
}

function nodeArgs(bundles: string[]): string[] {
  return [
    `--test-reporter=${path.join(STATE, 'bail.mjs')}`,
    '--test-reporter-destination=stderr',
    path.join(STATE, 'run.mjs'),
    ...bundles,
  ];
}

interface Ran {
  code: number;
  ms: number;
  timedOut: boolean;
  output: string;
}

function runNode(args: string[], env: Record<string, string>, limitMs: number): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), ms: Date.now() - started, timedOut, output });
    });
  });
}

async function runCovered(bundles: string[], env: Record<string, string>, what: string): Promise<Ran & { covered: Set<string> }> {
  const coverageFile = path.join(STATE, `coverage-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const args = ['--import', pathToFileURL(path.join(STATE, 'coverage.mjs')).href, ...nodeArgs(bundles)];
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
  const outdir = path.join(STATE, dir);
  await esbuild.build({
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

await main();
