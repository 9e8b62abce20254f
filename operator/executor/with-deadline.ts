// Bounds a call by time on the injected Clock, whatever the callee does with its signal.
// The observer needs it because a read must not hang an observation (an agent client may
// retry inside one call), the executor because VM provider calls take no deadline of
// their own. The timer runs on the Clock, never on a real setTimeout, so the simulated
// world and the virtual clock see it, and it is cancelled as soon as the call settles.
import type { Clock } from '../ports/clock.ts';
import { DeadlineExceededError } from '../../proto/status.ts';

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or `ms` pass on `clock`,
 * whichever comes first. Resolves or rejects with `fn`'s outcome; at the deadline it
 * rejects with a DeadlineExceededError saying `what` did not answer in time (a
 * transient error: worth another try), even when `fn` ignores its signal.
 *
 * Every observation and every command goes through here, so it is frugal: one
 * AbortController, aborted only when the call must stop, and a plain timer cancelled
 * once the call settled.
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
  let expire: (reason: unknown) => void = () => undefined;
  const expired = new Promise<never>((_, reject) => {
    expire = reject;
  });
  // Nobody may be left holding an unhandled rejection once the call has settled.
  expired.catch(() => undefined);
  // `expired` rejects before the callee hears of the abort.
  const onParentAbort = (): void => {
    expire(parent?.reason);
    call.abort(parent?.reason);
  };
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const cancelTimer = clock.timer(ms, () => {
    const error = new DeadlineExceededError(`${what}: no answer within ${ms} ms`);
    expire(error);
    call.abort(error);
  });
  try {
    return await Promise.race([fn(call.signal), expired]);
  } finally {
    cancelTimer();
    parent?.removeEventListener('abort', onParentAbort);
  }
}
