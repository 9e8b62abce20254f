// The liveness check: a leader never stays WORKING_TOWARDS_DESIRED_STATE for ever. From
// any moment it works, within a bound derived from its options, it either makes progress
// (a step's effect becomes visible: a job is committed) or ends in AT_DESIRED_STATE or
// ERROR_STATE. A leader that runs a step again and again whose effect never shows —
// every job "succeeds", none is committed, the state stays WORKING — breaks it (the
// livelock a backup written under one VM's own directory caused: the runner saves such
// a scenario in test/regressions/).
//
// The bound, in simulated time, counts only the time the leader spends outside its jobs
// (status().progress.current is empty): a job's own time is bounded by the executor's
// call deadlines and retries (operator/executor/execute-step.ts), and can be long (a
// backup's call may take 600 s) without any fault of the reconciler's. Outside its jobs,
// one attempt of a step costs at most
//   settleTimeoutMs                 the reconciler waits that long for the effect to show,
//   + settleIntervalMs              plus the pause before its last look,
//   + 2 × observeDeadlineMs         plus that look and the next pass's observation,
//   + max(retryDelaysMs)            plus the pause before a failed step is tried again;
// each attempt that fails — or succeeds without its effect ever showing — counts, and
// after maxAttempts of them the leader enters ERROR_STATE (a restarted leader rebuilds
// the counts from the journal and gets one more try: operator/reconciler/step-failures.ts),
// so (maxAttempts + 1) attempts. A plan with no step to take ends in ERROR_STATE after
// stuckTimeoutMs of waiting, seen at the next observation (observeIntervalMs +
// observeDeadlineMs). Slack: two polls of the runner (it looks once a second).
import type { ClusterStatus } from '../../operator/model/status.ts';
import type { Job } from '../../operator/ports/journal.ts';

/** The reconciler options the bound is derived from (as resolved, defaults filled in). */
export interface LivenessOptions {
  maxAttempts: number;
  settleTimeoutMs: number;
  settleIntervalMs: number;
  retryDelaysMs: readonly number[];
  observeIntervalMs: number;
  observeDeadlineMs: number;
  stuckTimeoutMs: number;
}

export interface LivenessBound {
  ms: number;
  /** How it was computed, with the numbers, for a failure message. */
  derivation: string;
}

/** The bound of the file comment. */
export function livenessBound(o: LivenessOptions, pollMs: number): LivenessBound {
  const retry = Math.max(0, ...o.retryDelaysMs);
  const attempt = o.settleTimeoutMs + o.settleIntervalMs + 2 * o.observeDeadlineMs + retry;
  const waiting = o.stuckTimeoutMs + o.observeIntervalMs + o.observeDeadlineMs;
  const slack = 2 * pollMs;
  const ms = (o.maxAttempts + 1) * attempt + waiting + slack;
  const s = (x: number): string => `${x / 1000} s`;
  return {
    ms,
    derivation:
      `(maxAttempts ${o.maxAttempts} + 1) × (settle ${s(o.settleTimeoutMs)} + ${s(o.settleIntervalMs)} + 2 × observe ${s(o.observeDeadlineMs)} + retry ${s(retry)})` +
      ` + stuck ${s(o.stuckTimeoutMs)} + ${s(o.observeIntervalMs + o.observeDeadlineMs)} + slack ${s(slack)} = ${s(ms)}`,
  };
}

/**
 * Follows one run, poll by poll: the time the leader has been WORKING outside its jobs
 * since its last progress. The runner also reports progress the leader did not make
 * itself (a crash, a restart, a stranger: the world changed under it).
 */
export class LivenessWatch {
  readonly bound: LivenessBound;
  #idleMs = 0;
  #maxIdleMs = 0;
  #since: number;
  #lastAt: number;
  #accepted: number | null = null;
  #committed = -1;

  constructor(bound: LivenessBound, now: number) {
    this.bound = bound;
    this.#lastAt = now;
    this.#since = now;
  }

  /** When the current stretch without progress began (clock ms). */
  get since(): number {
    return this.#since;
  }

  /** Time WORKING outside jobs since the last progress, ms. */
  get idleMs(): number {
    return this.#idleMs;
  }

  /** The longest such stretch of the run so far, ms. */
  get maxIdleMs(): number {
    return this.#maxIdleMs;
  }

  /** The world changed under the leader: it has new work to do. */
  progress(now: number): void {
    this.#idleMs = 0;
    this.#lastAt = now;
    this.#since = now;
  }

  /** One poll; true once the leader has been WORKING without progress for longer than the bound. */
  poll(now: number, status: ClusterStatus, committed: number): boolean {
    const elapsed = now - this.#lastAt;
    this.#lastAt = now;
    if (status.state !== 'WORKING_TOWARDS_DESIRED_STATE' || status.acceptedId !== this.#accepted || committed !== this.#committed) {
      this.#accepted = status.acceptedId;
      this.#committed = committed;
      this.#idleMs = 0;
      this.#since = now;
      return false;
    }
    if ((status.progress?.current.length ?? 0) > 0) return false; // a job runs: its own deadlines bound it
    this.#idleMs += elapsed;
    this.#maxIdleMs = Math.max(this.#maxIdleMs, this.#idleMs);
    return this.#idleMs > this.bound.ms;
  }
}

/** What the leader ran during a stretch without progress: each step, how often, and how its jobs ended. */
export function livelockSteps(jobs: readonly Job[], since: number): { intent: string; runs: number; succeeded: number }[] {
  const by = new Map<string, { intent: string; runs: number; succeeded: number }>();
  for (const j of jobs) {
    const started = Date.parse(j.stages.submitted ?? '');
    if (!(started >= since) || j.stages.committed !== undefined) continue;
    const e = by.get(j.intent) ?? { intent: j.intent, runs: 0, succeeded: 0 };
    e.runs++;
    if (j.status === 'succeeded') e.succeeded++;
    by.set(j.intent, e);
  }
  return [...by.values()].sort((a, b) => b.runs - a.runs);
}
