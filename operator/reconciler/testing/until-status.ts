// Test support: lets virtual time pass, timer by timer, until the reconciler's status
// satisfies a predicate (or the time limit or turn budget runs out, which throws with the
// status). Shared by the reconciler's tests.
import type { ClusterStatus } from '../../model/status.ts';
import type { Reconciler } from '../reconciler.ts';
import { settle, type VirtualClock } from '../../../test/support/virtual-clock.ts';

export async function untilStatus(r: Reconciler, clock: VirtualClock, pred: (s: ClusterStatus) => boolean, what: string, maxMs = 3_600_000): Promise<ClusterStatus> {
  const limit = clock.now() + maxMs;
  for (let turns = 0, idle = 0; ; turns++) {
    await settle();
    const s = await r.status();
    if (pred(s)) return s;
    const next = clock.nextDue();
    if (next === undefined && ++idle < 100) continue; // the loop is busy (no timer yet): let it run
    idle = 0;
    if (next === undefined || next > limit || turns > 200_000) {
      throw new Error(`test: never ${what} within ${maxMs} ms; status: ${JSON.stringify({ state: s.state, lastError: s.lastError, waiting: s.waiting, acceptedId: s.acceptedId })}`);
    }
    await clock.advanceTo(next);
  }
}
