// Retries of agent calls: only transient failures (proto/status.ts decides which),
// after a list of delays (the last one repeats, as JobScheduler's retryDelays), each
// spread by a random jitter so that many callers do not retry in step.
import { asAgentCallError, isRetryable } from '../../proto/status.ts';
import type { AgentCallError } from '../../proto/status.ts';
import { sleep } from '../../common/sleep.ts';

export interface RetryPolicy {
  /** Delay before the 2nd, 3rd … attempt, in ms; the last one repeats. */
  readonly delaysMs: readonly number[];
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Each delay is multiplied by a random factor in [1 − jitter, 1 + jitter]. */
  readonly jitter: number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The delay after failed attempt number `attempt` (1-based). */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const list = policy.delaysMs;
  const base = list[Math.min(attempt - 1, list.length - 1)] ?? 0;
  const factor = 1 - policy.jitter + 2 * policy.jitter * (policy.random ?? Math.random)();
  return Math.max(0, Math.round(base * factor));
}

export interface RetryHooks {
  /** Stops waiting between attempts; the error thrown is the signal's reason. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (error: AgentCallError, attempt: number, delayMs: number) => void;
}

/** Runs `attempt(n)` until it succeeds, fails terminally, or attempts run out; throws the last error, typed. */
export async function withRetries<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>, hooks: RetryHooks = {}): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const e = asAgentCallError(err);
      if (!isRetryable(e) || n >= policy.maxAttempts || hooks.signal?.aborted === true) throw e;
      const delay = retryDelay(policy, n);
      hooks.onRetry?.(e, n, delay);
      await sleep(delay, hooks.signal);
    }
  }
}

