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
//   (GUARD_NOTES below). --fault-kinds draws only those faults (test/arbitraries/faults.ts),
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
 * The guards the generative scenarios do not reach every run, each with why. Keyed by file
 * and the start of its message as the source writes it (not by line, so an edit above it
 * does not orphan the note). Every other guard must be reached (guard-reach.test.ts).
 * - 'dead': no input reaches it today;
 * - 'unmodelled': it needs something the simulated world does not do;
 * - 'defensive': validation or another rule of the planner keeps a valid desired state
 *   from it; it stays for what they might miss;
 * - 'rare': reachable in the world, but only by a combination of a desired state, a fault
 *   and its timing that a few hundred scenarios do not draw every time.
 */
export const GUARD_NOTES: readonly { file: string; text: string; kind: 'dead' | 'unmodelled' | 'defensive' | 'rare'; why: string }[] = [
  {
    file: 'backups.ts',
    text: 'backups in sinks of an unknown kind cannot be deleted',
    kind: 'dead',
    why:
      'the schema knows one sink type ("local") and the leader lists only the sinks the history names (operator/observe/observe.ts ' +
      'listBackups), so every observed backup is in a "local:" sink; it waits for the object store the docs announce',
  },
  {
    file: 'data-loss.ts',
    text: 'slots ${rangesText(shown)}',
    kind: 'unmodelled',
    why:
      'it needs a node group that lost every copy (every VM gone with its disk) while all else answers; the world\'s crashes keep ' +
      'the disk and the leader never deletes a VM that holds data (invariant 3), so only a lost disk, which no fault models, reaches it',
  },
  {
    file: 'membership.ts',
    text: 'replicas whose primary is not known yet',
    kind: 'defensive',
    why:
      'it needs a replica that follows a node no observation shows while its own group has an up primary; the world (as Redis) ' +
      're-points every replica at a failover and the leader joins a replica only to its group\'s primary, so a hidden primary ' +
      'leaves its group without an observed one instead',
  },
  {
    file: 'node-groups.ts',
    text: 'slots of a second primary on ${other.version}',
    kind: 'defensive',
    why:
      'it needs two primaries serving slots in one node group, the second on a newer version than the first: neither the bootstrap ' +
      'nor a failover makes a second primary with slots in a group',
  },
  {
    file: 'node-groups.ts',
    text: 'slots from a primary on ${s.primary.version}',
    kind: 'defensive',
    why:
      'it needs a node group on the newer version serving more than its share while one on the older version lacks slots; the moves ' +
      'that caused it named a count (test/regressions/error-state-335f2cc0.json) and name exact slots now, and a group that gains ' +
      'slots is a new one, which starts on the desired version; left: an upgrade accepted after an ERROR_STATE in the middle of a scale-out',
  },
  {
    file: 'rolling.ts',
    text: "${groupName(g)}'s primary waits for a replica that can take over",
    kind: 'rare',
    why:
      'in a settled group a kept replica that needs no restart can take over and one that needs it restarts first; left: an empty ' +
      'second primary in the group while the members disagree on the topology (its join as a replica waits)',
  },
  {
    file: 'rolling.ts',
    text: '${groupName(g)}: ${p.id} needs a restart',
    kind: 'rare',
    why:
      'validation refuses a rolling change with replicationFactor 1 and no temporary VMs, and reads every spelling of a value ' +
      'as the engine does (an integer with a leading zero is refused): no accepted desired state reaches it; the guard stays as a defence',
  },
  {
    file: 'rolling.ts',
    text: '(held)',
    kind: 'rare',
    why: 'a planned failover of a rolling restart while another group\'s primary is down and not yet replaced: an in-repair crash of it at the right moment',
  },
  {
    file: 'replicas.ts',
    text: '(held)',
    kind: 'rare',
    why: 'a leaving primary\'s failover while another group\'s primary is down and not yet replaced: an in-repair crash of it at the right moment',
  },
  {
    file: 'replicas.ts',
    text: "${groupName(g)}'s primary is leaving and waits",
    kind: 'rare',
    why: 'a primary on a VM that leaves (zone, VM type, replicationFactor down) while its kept replicas still need a restart (version or runningSince changed in the same edit)',
  },
  {
    file: 'node-groups.ts',
    text: 'new node groups wait for a running primary to join through',
    kind: 'rare',
    why: 'a new node group\'s first node ready while no primary of the cluster is up: an in-repair crash of the only primary as the new node starts',
  },
];

/** The note of a guard, if it has one. */
export function guardNote(g: Guard): (typeof GUARD_NOTES)[number] | undefined {
  return GUARD_NOTES.find((u) => g.site.startsWith(`${PLANNER_DIR}/${u.file}:`) && g.text.startsWith(u.text));
}

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
      // The caller's frame only: each frame of a stack costs a source-map lookup.
      const holder: { stack?: string } = {};
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 1;
      Error.captureStackTrace(holder, wrapped);
      Error.stackTraceLimit = limit;
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
    const u = guardNote(g);
    lines.push(`  not reached: ${g.site} (${g.kind}) ${u === undefined ? '— no note says why (guard-reach.test.ts fails)' : `— ${u.kind}: ${u.why}`}`);
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
