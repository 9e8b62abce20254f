// The real leader for the generative harness: operator/reconciler's Reconciler (with the
// real observe, executor and leader-facts rules inside), given the simulated world's
// provider, the VirtualClock, and an in-memory history, journal and facts store that the
// leaders of one scenario share the way real leaders share a state directory. Offers are
// validated as the file source validates them (against the accepted latest).
import { pino } from 'pino';
import type { DesiredStateHistory } from '../../desired-state/history.ts';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import { MemoryFactsStore } from '../../operator/executor/facts-store.ts';
import { MemoryJournal } from '../../operator/executor/journal-memory.ts';
import type { Job } from '../../operator/ports/journal.ts';
import type { VmProvider } from '../../operator/ports/vm-provider.ts';
import { resolveReconcilerOptions, type ReconcilerOptions } from '../../operator/reconciler/options.ts';
import { Reconciler } from '../../operator/reconciler/reconciler.ts';
import type { LivenessOptions } from './liveness.ts';
import type { LeaderFactory, SimLeader } from './runner.ts';

/** The journal the leaders of one scenario share, counting the jobs committed (their step's effect was seen). */
export class WatchedJournal extends MemoryJournal {
  #committed = new Set<string>();

  override record(job: Job): Promise<void> {
    if (job.stages.committed !== undefined) this.#committed.add(job.id);
    return super.record(job);
  }

  get committed(): number {
    return this.#committed.size;
  }
}

export interface ReconcilerShared {
  journal: WatchedJournal;
  facts: MemoryFactsStore;
}

/** Reconciler options a scenario (or a planted bug) may set; the ports come from the runner. */
export type ReconcilerTuning = Partial<Omit<ReconcilerOptions, 'cluster' | 'history' | 'provider' | 'journal' | 'facts' | 'epoch' | 'clock' | 'planner'>>;

const silent = pino({ level: 'silent' });

/**
 * The options the liveness bound is derived from (liveness.ts): the reconciler's own
 * resolution of `tuning` and the scenario's pace, defaults filled in. The ports are
 * required by the resolver but not read by it.
 */
export function livenessOptions(pace: { settleIntervalMs: number; observeIntervalMs: number }, tuning: ReconcilerTuning = {}): LivenessOptions {
  const unused = {} as unknown;
  const o = resolveReconcilerOptions({
    ...pace,
    ...tuning,
    cluster: 'sim',
    history: unused as DesiredStateHistory,
    provider: unused as VmProvider,
    journal: new MemoryJournal(),
    facts: new MemoryFactsStore(),
    epoch: 1,
  });
  return {
    maxAttempts: o.maxAttempts,
    settleTimeoutMs: o.settleTimeoutMs,
    settleIntervalMs: o.settleIntervalMs,
    retryDelaysMs: o.retryDelaysMs,
    observeIntervalMs: o.observeIntervalMs,
    observeDeadlineMs: o.observeDeadlineMs,
    stuckTimeoutMs: o.stuckTimeoutMs,
  };
}

export function reconcilerFactory(tuning: ReconcilerTuning = {}): LeaderFactory<ReconcilerShared> {
  return {
    createShared: () => ({ journal: new WatchedJournal(), facts: new MemoryFactsStore() }),
    spawn: (spec) => {
      const { journal, facts } = spec.shared;
      const reconciler = new Reconciler({
        logger: silent,
        settleIntervalMs: spec.pace.settleIntervalMs,
        observeIntervalMs: spec.pace.observeIntervalMs,
        ...tuning,
        cluster: 'sim',
        history: spec.history,
        provider: spec.provider,
        journal,
        facts,
        epoch: spec.epoch,
        clock: spec.clock,
        planner: spec.planner,
      });
      const stop = new AbortController();
      let crash: unknown;
      const done = reconciler.run(stop.signal).then(
        () => undefined,
        (err: unknown) => {
          crash = err;
        },
      );
      const leader: SimLeader = {
        offer: (desired: Desired) => {
          const latest = spec.history.latest();
          const candidate = validateDesiredStateText(
            { file: 'desired_state.json', text: JSON.stringify(desired) },
            latest === undefined ? {} : { previous: latest.desired, everRan: spec.history.everRan() },
          );
          return reconciler.offer(candidate, 'file:desired_state.json');
        },
        status: () => reconciler.status(),
        jobCount: () => Promise.resolve(journal.size),
        committed: () => Promise.resolve(journal.committed),
        jobs: () => journal.list(),
        stop: async () => {
          stop.abort(new Error('the scenario stopped this leader'));
          await done;
          if (crash !== undefined) throw crash;
        },
      };
      return leader;
    },
  };
}
