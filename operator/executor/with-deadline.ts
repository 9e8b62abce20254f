// Bounds a call by time on the injected Clock, whatever the callee does with its signal.
// The observer needs it because a read must not hang an observation (an agent client may
// retry inside one call), the executor because VM provider calls take no deadline of
// their own. The timer runs on the Clock, never on a real setTimeout, so the simulated
// world and the virtual clock see it, and it is cancelled as soon as the call settles.
import type { Clock } from '../ports/clock.ts';
import { DeadlineExceededError } from '../../proto/status.ts';

/**
 * Why the deadline timer is cancelled once the call settled. A constant: abort() without
 * a reason builds a DOMException with a stack trace for every call, which was a fifth
 * of the generative tests' CPU time.
 */
const CALL_SETTLED = new Error('the call settled before its deadline');

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or `ms` pass on `clock`,
 * whichever comes first. Resolves or rejects with `fn`'s outcome; at the deadline it
 * rejects with a DeadlineExceededError saying `what` did not answer in time (a
 * transient error: worth another try), even when `fn` ignores its signal.
 */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  what: string,
  parent: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  parent?.throwIfAborted();
  const call = new AbortController();
  const timer = new AbortController();
  const onParentAbort = (): void => call.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const expired = new Promise<never>((_, reject) => {
    clock.sleep(ms, timer.signal).then(
      () => {
        const error = new DeadlineExceededError(`${what}: no answer within ${ms} ms`);
        call.abort(error);
        reject(error);
      },
      () => undefined, // the call settled first and cancelled the timer
    );
    call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), { once: true });
  });
  // Nobody may be left holding an unhandled rejection once the call has settled.
  expired.catch(() => undefined);
  try {
    return await Promise.race([fn(call.signal), expired]);
  } finally {
    timer.abort(CALL_SETTLED);
    parent?.removeEventListener('abort', onParentAbort);
  }
}
