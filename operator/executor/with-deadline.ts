// Bounds a call by time on the injected Clock, whatever the callee does with its signal.
// The observer needs it because a read must not hang an observation (an agent client may
// retry inside one call), the executor because VM provider calls take no deadline of
// their own. The timer runs on the Clock, never on a real setTimeout, so the simulated
// world and the virtual clock see it, and it is cancelled as soon as the calls settled.
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../common/clock.ts';
import { DeadlineExceededError } from '../../proto/status.ts';

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
  const deadline = new Deadline(clock, ms, parent);
  try {
    return await deadline.race(what, fn);
  } finally {
    deadline.end();
  }
}

/**
 * One deadline for calls that start together, such as the reads of one observation: `ms`
 * on `clock` from its creation, or until `parent` aborts. Every observation and every
 * command goes through one, so it is frugal: a single AbortController and a single
 * timer, however many calls race it, and the controller aborts only when the calls must
 * stop. end() once the calls settled.
 */
export class Deadline {
  readonly #ms: number;
  readonly #parent: AbortSignal | undefined;
  readonly #controller = new AbortController();
  /** How to reject each call's race, and what to call it then. */
  readonly #calls: { what: string; expire: (reason: unknown) => void }[] = [];
  readonly #cancelTimer: () => void;
  readonly #onParentAbort: (() => void) | undefined;

  constructor(clock: Clock, ms: number, parent: AbortSignal | undefined) {
    this.#ms = ms;
    this.#parent = parent;
    if (parent?.aborted === true) this.#controller.abort(parent.reason);
    else if (parent !== undefined) {
      this.#onParentAbort = () => {
        const reason: unknown = parent.reason;
        this.#stop(() => reason);
      };
      parent.addEventListener('abort', this.#onParentAbort, { once: true });
    }
    this.#cancelTimer = clock.timer(ms, () => this.#stop((what) => new DeadlineExceededError(`${what}: no answer within ${this.#ms} ms`)));
  }

  /**
   * Runs `fn` with a signal that aborts at the deadline or when `parent` aborts. Resolves
   * or rejects with `fn`'s outcome; at the deadline it rejects with a
   * DeadlineExceededError saying `what` did not answer in time, even when `fn` ignores
   * its signal; when `parent` aborts, with its reason.
   */
  race<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = this.#controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    // The callees of every call listen to the one signal: many at once is normal.
    if (this.#calls.length === 1) setMaxListeners(0, signal);
    const expired = new Promise<never>((_, reject) => {
      this.#calls.push({ what, expire: reject });
    });
    // Nobody may be left holding an unhandled rejection once the call has settled.
    expired.catch(() => undefined);
    return Promise.race([fn(signal), expired]);
  }

  /** Cancels the timer and stops listening to `parent`: the calls have settled. */
  end(): void {
    this.#cancelTimer();
    if (this.#onParentAbort !== undefined) this.#parent?.removeEventListener('abort', this.#onParentAbort);
  }

  /** Rejects every call's race (each with its own reason), then tells the callees. */
  #stop(reasonFor: (what: string) => unknown): void {
    let first: unknown;
    for (const call of this.#calls) {
      const reason = reasonFor(call.what);
      first ??= reason;
      call.expire(reason);
    }
    this.#controller.abort(first ?? reasonFor('a call'));
  }
}
