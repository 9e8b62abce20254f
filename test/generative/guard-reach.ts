// Which of the planner's guards the generative scenarios reach. A guard is a call site
// in operator/planner/*.ts where the plan stops short and says why: `batch.block(...)`
// (no step can repair it: ERROR_STATE), `batch.waitOn(...)` (waits for named VMs, nodes or
// node groups) and the plain `batch.wait(...)` (and the batch's own wait for topology
// agreement, operator/planner/batch.ts). A guard no scenario reaches is tested by its unit
// test only: the world, the faults and the checks never see what the plan does there.
//
// The guards are found twice, independently: by reading the planner's source (every call
// site, reached or not), and while the scenarios run, by wrapping Batch's methods (in this
// process only; the planner's behaviour does not change) and naming the caller's
// file:line from the stack. A call site the source scan missed shows as its own row.
//
// Usage: node --import tsx test/generative/guard-reach.ts [--runs N] [--seed S] [--fault-kinds K,…] [--json]
//   prints, per guard, how many of N scenarios (arbScenario(), the generative test's
//   arbitrary, on seed S) reached it, and the guards none reached with why
//   (UNREACHABLE below). --fault-kinds draws only those faults (test/arbitraries/faults.ts),
//   to see what one kind reaches. guard-reach.test.ts asserts a floor on the same measurement.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { Batch } from '../../operator/planner/batch.ts';
import { systemUnderTest } from './harness.ts';
import { runScenario } from './runner.ts';
import { arbScenario, type Scenario } from './scenario.ts';
import type { FaultKind } from '../arbitraries/faults.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PLANNER_DIR = 'operator/planner';

export type GuardKind = 'block' | 'waitOn' | 'wait';

export interface Guard {
  /** "operator/planner/rolling.ts:92" */
  site: string;
  kind: GuardKind;
  /** The start of its message, as the source writes it (one line). */
  text: string;
}

/**
 * Guards that no scenario of a valid desired state reaches, with why. Each is either
 * defensive (validation, or another guard of the planner, already refuses what would reach
 * it) or needs something the simulated world does not model. Keyed by file and the
 * message's start, not by line, so an edit above it does not orphan the entry.
 */
export const UNREACHABLE: readonly { file: string; text: string; why: string }[] = [
  {
    file: 'backups.ts',
    text: 'backups in sinks of an unknown kind cannot be deleted',
    why:
      'dead code for now: the schema knows one sink type ("local"), and the leader lists only the sinks the history names ' +
      '(operator/observe/observe.ts listBackups), so every observed backup is in a "local:" sink; kept for the object store the docs announce',
  },
];

/** Every guard call site of the planner, from its source (tests and testing/ left out). */
export function plannerGuards(): Guard[] {
  const dir = path.join(ROOT, PLANNER_DIR);
  const out: Guard[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    const lines = readFileSync(path.join(dir, name), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /\b(?:batch|this)\.(block|waitOn|wait)\(/.exec(line);
      if (m === null || /^\s*(?:\/\/|\*)/.test(line)) return;
      // `this.wait` counts only inside batch.ts (its own wait for agreement).
      if (m[0].startsWith('this.') && name !== 'batch.ts') return;
      const kind = m[1] as GuardKind;
      out.push({ site: `${PLANNER_DIR}/${name}:${i + 1}`, kind, text: messageStart(lines, i, m.index + m[0].length) });
    });
  }
  return out;
}

/** The first words of the call's message argument (the literal, or the expression as written). */
function messageStart(lines: readonly string[], i: number, from: number): string {
  let rest = (lines[i] ?? '').slice(from).trim();
  if (rest === '') rest = (lines[i + 1] ?? '').trim();
  const quote = rest[0];
  let text: string;
  if (quote === '`' || quote === "'" || quote === '"') {
    let end = 1;
    while (end < rest.length && rest[end] !== quote) {
      if (quote === '`' && rest.startsWith('${', end)) {
        // Skip the substitution (it may hold quotes of its own).
        let depth = 0;
        end++;
        do {
          if (rest[end] === '{') depth++;
          else if (rest[end] === '}') depth--;
          end++;
        } while (depth > 0 && end < rest.length);
      } else end += rest[end] === '\\' ? 2 : 1;
    }
    text = rest.slice(1, end);
  } else text = `(${/^[\w.]+/.exec(rest)?.[0] ?? rest})`;
  return text.length > 90 ? `${text.slice(0, 87)}…` : text;
}

/** The UNREACHABLE entry of a guard, if it has one. */
export function unreachableEntry(g: Guard): (typeof UNREACHABLE)[number] | undefined {
  return UNREACHABLE.find((u) => g.site.startsWith(`${PLANNER_DIR}/${u.file}:`) && g.text.startsWith(u.text));
}

type Method = (this: Batch, ...args: never[]) => void;

/**
 * Wraps Batch's guard methods so each call records its caller's file:line (relative to
 * the repository). Returns the set it records into and a function that unwraps them.
 */
export function recordGuards(): { hits: Set<string>; restore: () => void } {
  const hits = new Set<string>();
  const proto = Batch.prototype as unknown as Record<GuardKind, Method>;
  const originals = new Map<GuardKind, Method>();
  const prefix = `${ROOT}${path.sep}`;
  for (const kind of ['block', 'waitOn', 'wait'] as const) {
    const original = proto[kind];
    originals.set(kind, original);
    const wrapped: Method = function (this: Batch, ...args: never[]) {
      const holder: { stack?: string } = {};
      Error.captureStackTrace(holder, wrapped);
      const caller = holder.stack?.split('\n')[1] ?? '';
      const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):\d+\)?$/.exec(caller);
      if (m !== null) {
        const file = (m[1] ?? '').startsWith('file://') ? fileURLToPath(m[1] ?? '') : (m[1] ?? '');
        hits.add(`${file.startsWith(prefix) ? file.slice(prefix.length).split(path.sep).join('/') : file}:${m[2] ?? '?'}`);
      }
      original.apply(this, args);
    };
    proto[kind] = wrapped;
  }
  return {
    hits,
    restore: () => {
      for (const [kind, original] of originals) proto[kind] = original;
    },
  };
}

export interface Reach {
  runs: number;
  seed: number;
  guards: Guard[];
  /** Scenarios that reached each site (every guard, 0 for none; plus any site the scan missed). */
  reached: Map<string, number>;
  /** The first scenario (1-based) that reached each site. */
  first: Map<string, number>;
  seconds: number;
}

/** Runs `runs` scenarios of `arb` (default: arbScenario(), as the generative test) on `seed` and counts, per guard, the scenarios that reached it. */
export async function measureReach(runs: number, seed: number, arb: fc.Arbitrary<Scenario> = arbScenario()): Promise<Reach> {
  const guards = plannerGuards();
  const reached = new Map<string, number>(guards.map((g) => [g.site, 0]));
  const first = new Map<string, number>();
  const sut = systemUnderTest();
  const rec = recordGuards();
  const started = performance.now();
  let n = 0;
  try {
    await fc.check(
      fc.asyncProperty(arb, async (scenario) => {
        n++;
        rec.hits.clear();
        await runScenario(scenario, sut);
        for (const site of rec.hits) {
          if (!site.startsWith(`${PLANNER_DIR}/`)) continue;
          reached.set(site, (reached.get(site) ?? 0) + 1);
          if (!first.has(site)) first.set(site, n);
        }
        return true;
      }),
      { numRuns: runs, seed },
    );
  } finally {
    rec.restore();
  }
  return { runs, seed, guards, reached, first, seconds: (performance.now() - started) / 1000 };
}

/** The table a person reads: one row per guard, then the ones none reached and why. */
export function reachTable(r: Reach): string {
  const known = new Set(r.guards.map((g) => g.site));
  const rows = [
    ...r.guards.map((g) => ({ site: g.site, kind: g.kind, text: g.text })),
    ...[...r.reached.keys()].filter((s) => !known.has(s)).map((site) => ({ site, kind: '?', text: '(not found by the source scan)' })),
  ];
  const width = Math.max(...rows.map((x) => x.site.length));
  const lines = [`guard reach: ${r.runs} scenarios, seed ${r.seed}, ${r.seconds.toFixed(1)} s`];
  lines.push(`${'site'.padEnd(width)}  kind    scenarios  first  message`);
  for (const x of rows) {
    const n = r.reached.get(x.site) ?? 0;
    const f = r.first.get(x.site);
    lines.push(`${x.site.padEnd(width)}  ${x.kind.padEnd(6)}  ${String(n).padStart(9)}  ${String(f ?? '-').padStart(5)}  ${x.text}`);
  }
  const unreached = r.guards.filter((g) => (r.reached.get(g.site) ?? 0) === 0);
  const reachedCount = r.guards.length - unreached.length;
  lines.push(`reached ${reachedCount} of ${r.guards.length} guards (block/waitOn: ${r.guards.filter((g) => g.kind !== 'wait' && (r.reached.get(g.site) ?? 0) > 0).length} of ${r.guards.filter((g) => g.kind !== 'wait').length})`);
  for (const g of unreached) {
    const u = unreachableEntry(g);
    lines.push(`  not reached: ${g.site} (${g.kind}) ${u === undefined ? '— no reason recorded' : `— ${u.why}`}`);
  }
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]): { runs: number; seed: number; json: boolean; kinds: FaultKind[] | undefined } {
  const out: { runs: number; seed: number; json: boolean; kinds: FaultKind[] | undefined } = { runs: 500, seed: 20_261_207, json: false, kinds: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--fault-kinds') out.kinds = (argv[++i] ?? '').split(',') as FaultKind[];
    else if (a === '--runs' || a === '--seed') {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a whole number ≥ 0`);
      if (a === '--runs') out.runs = v;
      else out.seed = v;
    } else throw new Error(`unknown argument ${JSON.stringify(a)}; usage: guard-reach.ts [--runs N] [--seed S] [--fault-kinds K,…] [--json]`);
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const r = await measureReach(args.runs, args.seed, args.kinds === undefined ? arbScenario() : arbScenario({ faults: { kinds: args.kinds } }));
  if (args.json) console.log(JSON.stringify({ runs: r.runs, seed: r.seed, reached: Object.fromEntries(r.reached) }, null, 2));
  else console.log(reachTable(r));
}
