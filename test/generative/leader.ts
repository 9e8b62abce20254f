// The real leader for the generative harness: operator/reconciler's Reconciler (with the
// real observe, executor and leader-facts rules inside), given the simulated world's
// provider, the SimClock, and an in-memory history, journal and facts store that the
// leaders of one scenario share the way real leaders share a state directory. Offers are
// validated as the file source validates them (against the accepted latest).
import { pino } from 'pino';
import type { Desired } from '../../desired-state/types.ts';
import { validateDesiredStateText } from '../../desired-state/validate.ts';
import { MemoryFactsStore } from '../../operator/executor/facts-store.ts';
import { MemoryJournal } from '../../operator/executor/journal-memory.ts';
import type { ReconcilerOptions } from '../../operator/reconciler/options.ts';
import { Reconciler } from '../../operator/reconciler/reconciler.ts';
import type { LeaderFactory, SimLeader } from './runner.ts';

export interface ReconcilerShared {
  journal: MemoryJournal;
  facts: MemoryFactsStore;
}

/** Reconciler options a scenario (or a planted bug) may set; the ports come from the runner. */
export type ReconcilerTuning = Partial<Omit<ReconcilerOptions, 'cluster' | 'history' | 'provider' | 'journal' | 'facts' | 'epoch' | 'clock' | 'planner'>>;

const silent = pino({ level: 'silent' });

export function reconcilerFactory(tuning: ReconcilerTuning = {}): LeaderFactory<ReconcilerShared> {
  return {
    createShared: () => ({ journal: new MemoryJournal(), facts: new MemoryFactsStore() }),
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
