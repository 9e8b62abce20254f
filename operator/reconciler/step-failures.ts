// How often each step has failed while the reconciler works towards one desired state.
// A step is known by its describeStep text (the job's intent), so the count carries
// across reconcile passes, where the planner plans the same step again as a new job.
//
// Two things count as a failed attempt:
//   - a job that failed (after its own retries of transient errors);
//   - a job that succeeded but whose effect never became visible (ineffective()): the
//     agent said yes, the cluster never showed it. Without this, a step whose effect
//     cannot be seen (a backup written where the sink listing does not look) is planned,
//     "succeeds" and is planned again for ever, and the leader stays WORKING.
// Only a visible effect (committed()) clears a step's count; accepting a newer desired
// state clears all. A restarted leader rebuilds the counts from the journal (failed jobs,
// and succeeded jobs marked ineffective), so a restart is not a way to get a fresh retry
// budget for free (it does get one more try).
//
// Separately it counts how often a step took effect in this reconcile (tookEffect()): a
// step planned again after its effect was seen was undone in between (a node that dies
// each time it is started), and the reconciler gives up on it after maxAttempts such
// rounds rather than loop.
import type { Job } from '../ports/journal.ts';

export interface StepFailure {
  /** Failed jobs of the step. */
  jobs: number;
  /** Calls those jobs made in all (each transient retry is one). */
  calls: number;
  /** The last failed job. */
  lastJobId: string;
  /** Why the last job failed. */
  lastError: string;
}

/** A job that failed because a newer leader fenced this one off: not the step's fault. */
export function fencedOff(job: Job): boolean {
  return job.commands.at(-1)?.reason === 'STALE_LEADER';
}

export class StepFailures {
  readonly #byIntent = new Map<string, StepFailure>();
  readonly #effective = new Map<string, number>();

  /** Counts a failed job; returns the step's tally. */
  failed(job: Job): StepFailure {
    const seen = this.#byIntent.get(job.intent);
    const tally: StepFailure = {
      jobs: (seen?.jobs ?? 0) + 1,
      calls: (seen?.calls ?? 0) + Math.max(1, job.commands.length),
      lastJobId: job.id,
      lastError: job.error ?? 'failed',
    };
    this.#byIntent.set(job.intent, tally);
    return tally;
  }

  /** The step's job succeeded, but its effect was not seen (`why` says what was waited for and seen); returns the step's tally. */
  ineffective(job: Job, why: string): StepFailure {
    const seen = this.#byIntent.get(job.intent);
    const tally: StepFailure = { jobs: (seen?.jobs ?? 0) + 1, calls: (seen?.calls ?? 0) + Math.max(1, job.commands.length), lastJobId: job.id, lastError: why };
    this.#byIntent.set(job.intent, tally);
    return tally;
  }

  /** The step's effect is visible: its failure count starts again, and its count of effects grows. */
  committed(intent: string): void {
    this.#byIntent.delete(intent);
    this.#effective.set(intent, (this.#effective.get(intent) ?? 0) + 1);
  }

  /** How often the step's effect was seen since the counts were last cleared. */
  tookEffect(intent: string): number {
    return this.#effective.get(intent) ?? 0;
  }

  /** The cluster reached its desired state: the effects seen so far were progress, not a loop. */
  clearEffects(): void {
    this.#effective.clear();
  }

  get(intent: string): StepFailure | undefined {
    return this.#byIntent.get(intent);
  }

  clear(): void {
    this.#byIntent.clear();
    this.#effective.clear();
  }

  /** Rebuilds the counts from the journal's jobs (id order) for desired state `desiredId`. */
  rebuild(jobs: readonly Job[], desiredId: number): void {
    this.clear();
    for (const job of jobs) {
      if (job.desiredId !== desiredId) continue;
      if (job.status === 'succeeded' && job.stages.committed !== undefined) this.#byIntent.delete(job.intent);
      else if (job.status === 'succeeded' && job.ineffective !== undefined) this.ineffective(job, job.ineffective);
      else if (job.status === 'failed' && !fencedOff(job)) this.failed(job);
    }
  }
}
