// The lines `make bench` prints on standard output. The operation lines have exactly
// the form (#6 part 3), so a script can read them:
//   bench <op>: coxswain <a> s, baseline <b> s, ratio <r>, client errors <e>
// <e> is the client errors of the Coxswain run — the system under test; the baseline's
// are on the `bench detail` lines. A side that did not run (or stopped before the
// operation) shows "-", and so does a ratio that cannot be computed; with
// --baseline-only, <e> is the baseline's. Every figure comes from this run.
import type { GenerativeOutcome } from './generative-hook.ts';
import type { PlannerTiming } from './planner-bench.ts';
import { OPERATIONS } from './ops.ts';
import type { OpResult, SideResult } from './ops.ts';

export function seconds(s: number | undefined): string {
  return s === undefined ? '-' : s.toFixed(2);
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b <= 0) return '-';
  return (a / b).toFixed(2);
}

function mb(kib: number): string {
  return (kib / 1024).toFixed(1);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** One operation line, in the exact form. */
export function operationLine(op: string, coxswain: OpResult | undefined, baseline: OpResult | undefined, errorsFromBaseline: boolean): string {
  const errors = errorsFromBaseline ? baseline?.clientErrors : coxswain?.clientErrors;
  return `bench ${op}: coxswain ${seconds(coxswain?.seconds)} s, baseline ${seconds(baseline?.seconds)} s, ratio ${ratio(coxswain?.seconds, baseline?.seconds)}, client errors ${errors === undefined ? '-' : String(errors)}`;
}

/** Every line about the two sides: operations, then details. */
export function sideLines(coxswain: SideResult | undefined, baseline: SideResult | undefined): string[] {
  const lines = OPERATIONS.map((op) => operationLine(op, coxswain?.ops[op], baseline?.ops[op], coxswain === undefined));
  for (const side of [coxswain, baseline]) {
    if (side === undefined) continue;
    for (const op of OPERATIONS) {
      const r = side.ops[op];
      if (r === undefined) continue;
      lines.push(
        `bench detail ${side.side} ${op}: ${seconds(r.seconds)} s, client errors ${r.clientErrors}, max latency ${r.maxLatencyMs} ms, ${r.opsPerSecond} ops/s`,
      );
    }
    if (side.load !== undefined) lines.push(`bench detail ${side.side} load: ${side.load.keys} keys in ${seconds(side.load.seconds)} s`);
    if (side.writer !== undefined) {
      const w = side.writer;
      lines.push(
        `bench detail ${side.side} writer: ${w.ops} ops in ${w.seconds.toFixed(0)} s (${w.opsPerSecond} ops/s), ${w.errors} errors, ${w.wrongReads} wrong reads, max latency ${w.maxLatencyMs} ms`,
      );
    }
    if (side.verify !== undefined) {
      const v = side.verify;
      lines.push(
        `bench detail ${side.side} verify: ${v.checked} acknowledged writes read back, ${v.missing} missing, ${v.wrong} wrong, ${v.unreadable} unreadable`,
      );
    }
    if (side.restoredData !== undefined) {
      const v = side.restoredData;
      lines.push(`bench detail ${side.side} restored data set: ${v.checked - v.missing - v.wrong - v.unreadable} of ${v.checked} keys intact`);
    }
    if (side.failure !== undefined) lines.push(`bench ${side.side} failed: ${side.failure.split('\n').join(' | ')}`);
  }
  return lines;
}

export function plannerLines(timings: readonly PlannerTiming[]): string[] {
  const out: string[] = [];
  for (const t of timings) {
    out.push(`bench planner ${t.nodes} nodes: ${t.atDesiredMs.toFixed(1)} ms per plan`);
    out.push(`bench planner ${t.nodes} nodes, rolling restart: ${t.withWorkMs.toFixed(1)} ms per plan, ${t.workSteps} steps`);
    if (!t.done) out.push(`bench planner ${t.nodes} nodes: WARNING the plan at the desired state was not done: ${t.notDoneBecause.join('; ')}`);
  }
  return out;
}

export function generativeLine(outcome: GenerativeOutcome): string {
  if (!outcome.ok) return `bench generative: - scenarios/s (${outcome.reason})`;
  const f = outcome.figure;
  return `bench generative: ${f.perSecond} scenarios/s (${f.scenarios} scenarios, ${f.failures} failures)`;
}

export function memoryLines(coxswain: SideResult | undefined, baseline: SideResult | undefined): string[] {
  const out: string[] = [];
  const m = coxswain?.memory;
  if (m !== undefined) {
    out.push(`bench memory leader: ${m.leaderKiB === undefined ? '-' : mb(m.leaderKiB)} MB RSS`);
    out.push(
      m.agentsKiB.length === 0
        ? 'bench memory agents: - (no agent pid found)'
        : `bench memory agents: ${m.agentsKiB.length} agents, ${mb(mean(m.agentsKiB))} MB RSS each (max ${mb(Math.max(...m.agentsKiB))} MB)`,
    );
  }
  const nodes = (s: SideResult | undefined): string => {
    const kib = s?.memory?.dataNodesKiB ?? [];
    return kib.length === 0 ? '-' : `${kib.length} × ${mb(mean(kib))} MB`;
  };
  if (coxswain?.memory !== undefined || baseline?.memory !== undefined) {
    out.push(`bench memory data nodes: coxswain ${nodes(coxswain)}, baseline ${nodes(baseline)} RSS`);
  }
  return out;
}

/** True when a side lost or changed data, or failed. */
export function sideProblems(side: SideResult | undefined): string[] {
  if (side === undefined) return [];
  const out: string[] = [];
  if (side.failure !== undefined) out.push(`${side.side}: ${side.failure.split('\n')[0] ?? ''}`);
  const v = side.verify;
  if (v !== undefined && v.missing + v.wrong + v.unreadable > 0) out.push(`${side.side}: ${v.missing} acknowledged writes missing, ${v.wrong} wrong, ${v.unreadable} unreadable`);
  const r = side.restoredData;
  if (r !== undefined && r.missing + r.wrong + r.unreadable > 0) out.push(`${side.side}: the restored data set lacks ${r.missing + r.wrong + r.unreadable} keys`);
  return out;
}
