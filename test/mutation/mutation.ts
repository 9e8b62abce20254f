// `make mutation`: Stryker over the planner, the executor, the reconciler and the agent's
// fence and idempotency store (test/mutation/stryker.config.json), each mutant against the
// unit tests that may kill it, then the seeded generative stage for the ones they leave
// alive (test/mutation/command.ts, test/mutation/map.ts). Prints the score per file, the
// overall score as `mutation score: N%`, and every surviving mutant with what reached it.
//
//   node --import tsx test/mutation/mutation.ts [--incremental | --survivors] [--mutate GLOB]... [--unit-only]
//                                                [--out DIR] [--summary-only] [--merge DIR]...
//
// --incremental reuses the previous run's results (reports/mutation/stryker-incremental.json)
// for the mutants whose code did not change, except in the files whose tests changed: see
// pruneIncremental. --mutate narrows the run (Stryker's own option; `file.ts:10-20` takes
// lines). --unit-only skips the generative stage (a quicker first look at the
// survivors; its score is a lower bound), and --survivors then runs only the generative
// stage, only for the mutants the last run left alive (the others' results are reused);
// the two together judge every mutant as one full run does (give both the same --mutate).
// --out puts the reports, the incremental file and Stryker's sandbox in DIR
// instead of reports/mutation (two runs at once need two). --summary-only prints the
// summary of the last run again; --merge DIR lays the files of another run's report
// (a rerun of a few files, say) over this one's in the summary. --progress prints, while a
// run goes on (or after one was stopped), the verdicts of its stage log so far, per file.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { equivalentFor } from './equivalent.ts';
import { GENERATIVE, ImportGraph, generativeFor, isMutated, unitTestsFor } from './map.ts';
import type { Verdict } from './command.ts';

const OUT = path.resolve(option('--out') ?? 'reports/mutation');
const REPORT = path.join(OUT, 'mutation.json');
const INCREMENTAL = path.join(OUT, 'stryker-incremental.json');
const STAGES = path.join(OUT, 'stages.jsonl');
const VERDICTS = path.join(OUT, 'verdicts.json');
const FINGERPRINTS = path.join(OUT, 'fingerprints.json');

/** Targets of issue 13: the planner's score, and files whose every mutant must be killed (or listed as equivalent). */
const PLANNER_TARGET = 80;
const ALL_KILLED = ['agent/server/epoch-fence.ts', 'operator/planner/batch.ts'];

interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
}
type KnownVerdict = Pick<Verdict, 'killedBy' | 'how' | 'unitTests' | 'generative' | 'generativeRan' | 'detail'>;

function main(): number {
  const args = process.argv.slice(2);
  const incremental = args.includes('--incremental');
  const mutate = args.flatMap((a, i) => (args[i - 1] === '--mutate' ? [a] : []));
  if (args.includes('--progress')) return progress();
  if (!args.includes('--summary-only')) {
    mkdirSync(OUT, { recursive: true });
    rmSync(STAGES, { force: true });
    const prints = fingerprints();
    const survivors = args.includes('--survivors');
    if (survivors) dropSurvivors();
    else if (incremental) pruneIncremental(prints);
    const started = Date.now();
    const stryker = spawnSync(
      process.execPath,
      [
        'node_modules/@stryker-mutator/core/bin/stryker.js',
        'run',
        strykerConfig(),
        '--incremental',
        ...(incremental || survivors ? [] : ['--force']),
        ...(mutate.length === 0 ? [] : ['--mutate', mutate.join(',')]),
      ],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          COXSWAIN_MUTATION_OUT: OUT,
          ...(args.includes('--unit-only') ? { COXSWAIN_MUTATION_UNIT_ONLY: '1' } : {}),
          ...(survivors ? { COXSWAIN_MUTATION_SKIP_UNIT: '1' } : {}),
        },
      },
    );
    if (stryker.status !== 0) {
      console.error(`mutation: stryker exited with ${stryker.status ?? stryker.signal}`);
      return 1;
    }
    writeFileSync(FINGERPRINTS, JSON.stringify(prints, null, 1));
    console.log(`mutation: stryker took ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return summarize();
}

/** The verdicts logged so far by a run (going on, or stopped), per file. */
function progress(): number {
  const per = new Map<string, { judged: number; unit: number; gen: number; unreached: number }>();
  const lines = existsSync(STAGES) ? readFileSync(STAGES, 'utf8').split('\n').filter((l) => l !== '') : [];
  for (const line of lines) {
    const v = JSON.parse(line) as Verdict;
    const t = per.get(v.file) ?? { judged: 0, unit: 0, gen: 0, unreached: 0 };
    t.judged++;
    if (v.killedBy === 'unit') t.unit++;
    else if (v.killedBy === 'generative') t.gen++;
    else if (v.unitTests === 0 && v.generative === 0) t.unreached++;
    per.set(v.file, t);
  }
  console.log('file (mutants judged so far)                judged  killed(unit)  killed(gen)  survived  (reached by no test)  score so far');
  for (const [file, t] of [...per].sort(([a], [b]) => a.localeCompare(b))) {
    const survived = t.judged - t.unit - t.gen;
    console.log(
      `${file.padEnd(44)}${String(t.judged).padStart(6)}${String(t.unit).padStart(14)}${String(t.gen).padStart(13)}${String(survived).padStart(10)}${String(t.unreached).padStart(22)}  ${score({ mutants: t.judged, unit: t.unit, gen: t.gen })}`,
    );
  }
  return 0;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** test/mutation/stryker.config.json with its outputs in OUT; the path of that copy. */
function strykerConfig(): string {
  const config = JSON.parse(readFileSync('test/mutation/stryker.config.json', 'utf8')) as Record<string, unknown>;
  delete config['$schema'];
  const rel = (f: string): string => path.relative(process.cwd(), path.join(OUT, f));
  const file = path.join(OUT, 'stryker.config.json');
  writeFileSync(
    file,
    JSON.stringify({ ...config, jsonReporter: { fileName: rel('mutation.json') }, incrementalFile: rel('stryker-incremental.json'), tempDirName: rel('stryker-tmp') }, null, 2),
  );
  return file;
}

/** Reads the report and the stage log, prints the summary; 1 when a target is missed. */
function summarize(): number {
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as Report;
  const verdicts = mergeVerdicts(report);
  const args = process.argv.slice(2);
  for (const dir of args.flatMap((a, i) => (args[i - 1] === '--merge' ? [a] : []))) {
    const other = JSON.parse(readFileSync(path.join(dir, 'mutation.json'), 'utf8')) as Report;
    const otherVerdicts = JSON.parse(readFileSync(path.join(dir, 'verdicts.json'), 'utf8')) as Record<string, KnownVerdict>;
    for (const [file, entry] of Object.entries(other.files)) {
      report.files[file] = entry;
      for (const m of entry.mutants) {
        const v = otherVerdicts[keyOf(file, m)];
        if (v !== undefined) verdicts.set(keyOf(file, m), v);
      }
    }
    console.log(`mutation: the files of ${dir} replace this run's`);
  }
  const lines: string[] = [];
  const survivors: string[] = [];
  const totals = new Map<string, { mutants: number; unit: number; gen: number; equivalent: number }>();
  const add = (key: string, d: { mutants: number; unit: number; gen: number; equivalent: number }): void => {
    const t = totals.get(key) ?? { mutants: 0, unit: 0, gen: 0, equivalent: 0 };
    totals.set(key, { mutants: t.mutants + d.mutants, unit: t.unit + d.unit, gen: t.gen + d.gen, equivalent: t.equivalent + d.equivalent });
  };
  lines.push('file                                        mutants  killed(unit)  killed(gen)  survived  score');
  for (const file of Object.keys(report.files).sort()) {
    const { source, mutants } = report.files[file] as Report['files'][string];
    const srcLines = source.split('\n');
    const counted = mutants.filter((m) => m.status !== 'Ignored' && m.status !== 'CompileError' && m.status !== 'RuntimeError');
    let unit = 0;
    let gen = 0;
    let equivalent = 0;
    for (const m of counted) {
      const v = verdicts.get(keyOf(file, m));
      const detected = m.status === 'Killed' || m.status === 'Timeout';
      if (detected) {
        if (v?.killedBy === 'generative') gen++;
        else unit++;
        continue;
      }
      const line = (srcLines[m.location.start.line - 1] ?? '').trim();
      const occurrence = srcLines.slice(0, m.location.start.line).filter((l) => l.trim() === line).length;
      const eq = equivalentFor(file, m.mutatorName, m.replacement ?? '', line, occurrence);
      if (eq !== undefined) equivalent++;
      const reach =
        v === undefined
          ? 'no verdict recorded'
          : `${v.unitTests === 0 ? 'no unit test executes it' : `${v.unitTests} unit test files pass`}; ${
              !generativeFor(file)
                ? 'no generative stage'
                : v.generative === 0
                  ? 'no generative item executes it'
                  : v.generativeRan === false
                    ? `generative stage not run (${v.generative} items execute it)`
                    : `${v.generative} generative items pass`
            }`;
      survivors.push(
        `  ${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}: ${oneLine(m.replacement ?? '')}  [${eq === undefined ? reach : `equivalent: ${eq.reason}`}]`,
      );
    }
    const d = { mutants: counted.length, unit, gen, equivalent };
    add(file, d);
    add(area(file), d);
    add('all', d);
    lines.push(
      `${file.padEnd(44)}${String(counted.length).padStart(7)}${String(unit).padStart(14)}${String(gen).padStart(13)}${String(counted.length - unit - gen).padStart(10)}  ${score(d)}`,
    );
  }
  lines.push('');
  for (const a of ['operator/planner', 'operator/executor', 'operator/reconciler', 'agent/server']) {
    const t = totals.get(a);
    if (t !== undefined) lines.push(`${a}: ${score(t)} (${t.mutants} mutants, ${t.mutants - t.unit - t.gen} survived)`);
  }
  lines.push('');
  lines.push(`surviving mutants (${survivors.length}; file:line:column mutator: replacement  [what ran against it]):`);
  lines.push(...survivors);
  lines.push('');
  let missed = 0;
  const planner = totals.get('operator/planner');
  if (planner !== undefined) {
    const ok = pct(planner) >= PLANNER_TARGET;
    if (!ok) missed++;
    lines.push(`target: planner ≥ ${PLANNER_TARGET}%: ${score(planner)} ${ok ? 'met' : 'MISSED'}`);
  }
  for (const f of ALL_KILLED) {
    const t = totals.get(f);
    if (t === undefined) continue;
    const left = t.mutants - t.unit - t.gen - t.equivalent;
    if (left > 0) missed++;
    lines.push(`target: every mutant of ${f} killed: ${left === 0 ? 'met' : `MISSED (${left} survive)`}${t.equivalent > 0 ? ` (${t.equivalent} equivalent)` : ''}`);
  }
  const all = totals.get('all') ?? { mutants: 0, unit: 0, gen: 0, equivalent: 0 };
  lines.push(`${all.mutants} mutants: ${all.unit} killed by unit tests, ${all.gen} by the generative stage, ${all.mutants - all.unit - all.gen} survived`);
  lines.push(`mutation score: ${score(all)}`);
  const text = lines.join('\n');
  writeFileSync(path.join(OUT, 'summary.txt'), `${text}\n`);
  console.log(text);
  return missed > 0 ? 1 : 0;
}

function pct(t: { mutants: number; unit: number; gen: number }): number {
  return t.mutants === 0 ? 100 : (100 * (t.unit + t.gen)) / t.mutants;
}

function score(t: { mutants: number; unit: number; gen: number }): string {
  return `${Math.floor(pct(t) * 100) / 100}%`;
}

function area(file: string): string {
  return path.posix.dirname(file);
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
}

/** A mutant's key across runs (ids change): Stryker's own identity of a mutant. */
function keyOf(file: string, m: ReportMutant): string {
  const { start, end } = m.location;
  return `${file}@${start.line}:${start.column}-${end.line}:${end.column} ${m.mutatorName} ${m.replacement ?? ''}`;
}

/**
 * The verdicts of this run's stage log, keyed by mutant, merged into the ones kept from
 * earlier runs (for the mutants an incremental run reused), and saved.
 */
function mergeVerdicts(report: Report): Map<string, KnownVerdict> {
  const kept = new Map<string, KnownVerdict>(existsSync(VERDICTS) ? (Object.entries(JSON.parse(readFileSync(VERDICTS, 'utf8'))) as [string, KnownVerdict][]) : []);
  const now = new Map<string, Verdict>();
  if (existsSync(STAGES)) {
    for (const line of readFileSync(STAGES, 'utf8').split('\n')) if (line !== '') now.set((JSON.parse(line) as Verdict).id, JSON.parse(line) as Verdict);
  }
  const out = new Map<string, KnownVerdict>();
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      const key = keyOf(file, m);
      const v = now.get(m.id);
      const known = v === undefined ? kept.get(key) : { killedBy: v.killedBy, how: v.how, unitTests: v.unitTests, generative: v.generative, generativeRan: v.generativeRan, detail: v.detail };
      if (known !== undefined) out.set(key, known);
    }
  }
  writeFileSync(VERDICTS, JSON.stringify(Object.fromEntries(out)));
  return out;
}

/**
 * Per mutated file, a hash of everything but the file itself that decides its mutants'
 * fate: its unit tests and all they import, the generative stage and all it imports (when
 * the file has that stage), the regression corpus, and test/mutation/. Stryker's
 * incremental mode sees changes to the mutated file only (its test runner reports no
 * test files), so a file whose fingerprint changed is dropped from the incremental file
 * before the run: all its mutants run again.
 */
function fingerprints(): Record<string, string> {
  const graph = new ImportGraph('.');
  const hashOf = new Map<string, string>();
  const contentHash = (f: string): string => {
    let h = hashOf.get(f);
    if (h === undefined) {
      h = createHash('sha256').update(readFileSync(f)).digest('hex');
      hashOf.set(f, h);
    }
    return h;
  };
  const shared = createHash('sha256');
  for (const f of graph.files.filter((f) => f.startsWith('test/mutation/')).sort()) shared.update(`${f}:${contentHash(f)}\n`);
  for (const f of ['test/mutation/stryker.config.json', 'test/mutation/ignore-logs.mjs', 'test/mutation/test-runner.mjs']) shared.update(`${f}:${contentHash(f)}\n`);
  const corpus = path.resolve('test/regressions');
  if (existsSync(corpus)) for (const f of readDirSorted(corpus)) shared.update(`${f}:${contentHash(path.join(corpus, f))}\n`);
  const sharedHash = shared.digest('hex');
  const out: Record<string, string> = {};
  for (const file of graph.files.filter(isMutated)) {
    const deps = new Set<string>();
    for (const t of unitTestsFor(file, graph)) for (const d of [t, ...graph.closure(t)]) deps.add(d);
    if (generativeFor(file)) for (const d of [GENERATIVE.entry, ...graph.closure(GENERATIVE.entry)]) deps.add(d);
    deps.delete(file);
    const h = createHash('sha256').update(sharedHash);
    for (const d of [...deps].sort()) if (existsSync(d)) h.update(`${d}:${contentHash(d)}\n`);
    out[file] = h.digest('hex');
  }
  return out;
}

function readDirSorted(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
}

/** Drops the surviving mutants from the incremental file: the next run judges them again. */
function dropSurvivors(): void {
  if (!existsSync(INCREMENTAL)) throw new Error(`--survivors needs a previous run in ${OUT}`);
  const inc = JSON.parse(readFileSync(INCREMENTAL, 'utf8')) as Report;
  let dropped = 0;
  for (const entry of Object.values(inc.files)) {
    const before = entry.mutants.length;
    entry.mutants = entry.mutants.filter((m) => m.status !== 'Survived' && m.status !== 'NoCoverage');
    dropped += before - entry.mutants.length;
  }
  writeFileSync(INCREMENTAL, JSON.stringify(inc));
  console.log(`mutation: ${dropped} surviving mutants meet the generative stage; the others' results are reused`);
}

/** Drops from the incremental file the files whose fingerprint changed since it was written. */
function pruneIncremental(now: Record<string, string>): void {
  if (!existsSync(INCREMENTAL)) return;
  const before = existsSync(FINGERPRINTS) ? (JSON.parse(readFileSync(FINGERPRINTS, 'utf8')) as Record<string, string>) : {};
  const inc = JSON.parse(readFileSync(INCREMENTAL, 'utf8')) as Report;
  const dropped = Object.keys(inc.files).filter((f) => before[f] === undefined || before[f] !== now[f]);
  for (const f of dropped) delete inc.files[f];
  writeFileSync(INCREMENTAL, JSON.stringify(inc));
  console.log(`mutation: incremental: ${dropped.length} of the previous run's files run again (their tests changed), the rest reuse unchanged mutants`);
}

process.exitCode = main();
