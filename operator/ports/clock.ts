// Time, injected: the real clock for the leader, a virtual one in the generative tests
// (which must run thousands of scenarios a minute and never wait for real).
import { sleep } from '../../proto/sleep.ts';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};
