// Time, injected: one contract for the leader and the agent. The system's clock in
// production; a virtual one in the tests (test/support/virtual-clock.ts), which must
// never wait for real time.
import { sleep } from './sleep.ts';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms`, or rejects with the signal's reason when it aborts first. A
   * pending sleep keeps the process alive: it is the work a loop is waiting to do.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fn` once `ms` have passed, from a job of its own (as a sleep's continuation
   * would run), unless the returned function was called first. For a timer that is
   * mostly cancelled, such as a call's deadline: cheaper than a sleep with an
   * AbortSignal, which costs a signal, a listener and an abort event per timer.
   *
   * A pending timer does NOT keep the process alive. Its users bound or tidy up work
   * that something else holds open: a call's deadline (operator/executor/with-deadline.ts)
   * races a call whose own I/O keeps the process running; the agent's periodic pruning
   * (agent/server/idempotency.ts) must not stop an agent from exiting. Code that must
   * wait for time to pass uses sleep().
   */
  timer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
  timer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
