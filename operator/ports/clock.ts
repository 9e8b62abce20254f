// Time, injected: the real clock for the leader, a virtual one in the generative tests
// (which must run thousands of scenarios a minute and never wait for real).
import { sleep } from '../../proto/sleep.ts';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fn` once `ms` have passed, from a job of its own (as a sleep's continuation
   * would run), unless the returned function was called first. For a timer that is
   * mostly cancelled, such as a call's deadline: cheaper than a sleep with an
   * AbortSignal, which costs a signal, a listener and an abort event per timer.
   */
  timer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
  timer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
