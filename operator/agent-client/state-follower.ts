// The leader's side of WatchState: keep a copy of an agent's state from a snapshot and
// the JSON patches that follow it. A sequence gap, or a patch that does not apply,
// means the copy can no longer be trusted: the stream is dropped and a new one
// requested, which starts with a fresh snapshot.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { Logger } from 'pino';
import { asAgentCallError, isRetryable } from '../../proto/status.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { StateUpdate__Output } from '../../proto/generated/coxswain/agent/v1/StateUpdate.ts';
import { retryDelay } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

export type FollowResult =
  | { readonly kind: 'state'; readonly state: AgentState__Output; readonly sequence: number }
  | { readonly kind: 'resync'; readonly reason: string };

/** Applies one stream's updates in order; says when a new snapshot is needed. */
export class StateFollower {
  #state: AgentState__Output | undefined;
  #sequence = 0;

  /** The sequence number of the last update applied (0 before the snapshot). */
  get sequence(): number {
    return this.#sequence;
  }

  apply(update: StateUpdate__Output): FollowResult {
    const sequence = Number(update.sequence);
    if (update.update === 'snapshot' && update.snapshot !== null && update.snapshot !== undefined) {
      this.#state = jsonpatch.deepClone(update.snapshot) as AgentState__Output;
      this.#sequence = sequence;
      return { kind: 'state', state: jsonpatch.deepClone(this.#state) as AgentState__Output, sequence };
    }
    if (update.update !== 'patchJson' || update.patchJson === undefined) {
      return { kind: 'resync', reason: `update ${sequence} carries neither a snapshot nor a patch` };
    }
    if (this.#state === undefined) return { kind: 'resync', reason: `patch ${sequence} arrived before any snapshot` };
    if (sequence !== this.#sequence + 1) {
      return { kind: 'resync', reason: `missed state updates: expected sequence ${this.#sequence + 1}, got ${sequence}` };
    }
    let next: AgentState__Output;
    try {
      const ops = JSON.parse(update.patchJson) as unknown;
      if (!Array.isArray(ops)) throw new Error('the patch is not a JSON array');
      // The array came from the agent's jsonpatch.compare; applyPatch validates each operation.
      next = jsonpatch.applyPatch(jsonpatch.deepClone(this.#state) as AgentState__Output, ops as Operation[], true, true).newDocument;
    } catch (err) {
      return { kind: 'resync', reason: `patch ${sequence} does not apply: ${(err as Error).message}` };
    }
    this.#state = next;
    this.#sequence = sequence;
    return { kind: 'state', state: jsonpatch.deepClone(next) as AgentState__Output, sequence };
  }
}

/** One WatchState stream, as the follower needs it. */
export interface StateStream extends AsyncIterable<StateUpdate__Output> {
  cancel(): void;
}

export interface FollowOptions {
  /** Stops following; the iteration then ends without an error. */
  signal?: AbortSignal;
  logger: Logger;
  /** Backoff between reconnections after transient failures; gives up after maxAttempts in a row. */
  retry: RetryPolicy;
  /** Names the agent in log lines. */
  endpoint: string;
}

/**
 * The agent's state, each time it changes: opens a stream, applies its updates,
 * re-opens it on a gap or a transient failure (after a backoff), and throws on a
 * terminal failure (e.g. UNAUTHENTICATED, a stale leader).
 */
export async function* followState(open: () => Promise<StateStream>, options: FollowOptions): AsyncGenerator<AgentState__Output> {
  const { signal, logger } = options;
  // A function, so TypeScript does not assume the flag keeps the value it had.
  const stopped = (): boolean => signal?.aborted === true;
  let failures = 0;
  while (!stopped()) {
    let stream: StateStream | undefined;
    const cancel = (): void => stream?.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      stream = await open();
      const follower = new StateFollower();
      for await (const update of stream) {
        const result = follower.apply(update);
        if (result.kind === 'resync') {
          logger.warn({ endpoint: options.endpoint, reason: result.reason }, `Asked agent ${options.endpoint} for a new state snapshot: ${result.reason}`);
          break;
        }
        failures = 0;
        yield result.state;
      }
    } catch (err) {
      if (stopped()) return;
      const e = asAgentCallError(err);
      failures++;
      if (!isRetryable(e) || failures >= options.retry.maxAttempts) throw e;
      const delay = retryDelay(options.retry, failures);
      logger.warn({ endpoint: options.endpoint, code: e.reason, delayMs: delay }, `Lost the state stream of agent ${options.endpoint}; reconnecting: ${e.message}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        signal?.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
      });
    } finally {
      signal?.removeEventListener('abort', cancel);
      stream?.cancel();
    }
  }
}
