// How often each step has failed while the reconciler works towards one desired state.
// A step is known by its describeStep text (the job's intent), so the count carries
// across reconcile passes, where the planner plans the same step again as a new job. A
// success of the step clears its count; accepting a newer desired state clears all.
// A restarted leader rebuilds the counts from the journal, so a restart is not a way to
// get a fresh retry budget for free (it does get one more try).
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

  /** The step succeeded: its count starts again. */
  succeeded(intent: string): void {
    this.#byIntent.delete(intent);
  }

  get(intent: string): StepFailure | undefined {
    return this.#byIntent.get(intent);
  }

  clear(): void {
    this.#byIntent.clear();
  }

  /** Rebuilds the counts from the journal's jobs (id order) for desired state `desiredId`. */
  rebuild(jobs: readonly Job[], desiredId: number): void {
    this.clear();
    for (const job of jobs) {
      if (job.desiredId !== desiredId) continue;
      if (job.status === 'succeeded') this.succeeded(job.intent);
      else if (job.status === 'failed' && !fencedOff(job)) this.failed(job);
    }
  }
}
