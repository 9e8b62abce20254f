// WatchState, Sonar's delta coding: the first message of a stream is the full observed
// state, each later one an RFC 6902 JSON patch (as JSON text) against the previous
// report, sent only when something changed. Messages are numbered 1, 2, 3 … so a
// client that misses one notices and asks for a new snapshot.
//
// The agent re-observes at the stream's interval, and at once when a mutating call
// finished or the backend reported a change of its own (a process died).
import jsonpatch from 'fast-json-patch';
import type { Logger } from 'pino';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { StateUpdate } from '../../proto/generated/coxswain/agent/v1/StateUpdate.ts';

/** The parts of a server-streaming call the feed writes to. */
export interface UpdateSink {
  /** Writes one message; resolves once it may write the next (back-pressure). */
  write(update: StateUpdate): Promise<void>;
}

export interface ServeOptions {
  /** Observes the state now, in canonical form (proto/codec.ts). */
  observe: () => Promise<AgentState__Output>;
  sink: UpdateSink;
  /** Aborts the stream (deadline, cancel, agent stopping). */
  signal: AbortSignal;
  intervalMs: number;
  logger: Logger;
}

interface Waiter {
  pending: boolean;
  wake: (() => void) | undefined;
}

/** The WatchState streams of one agent. */
export class StateFeed {
  readonly #waiters = new Set<Waiter>();

  /** Something may have changed: every stream re-observes now. */
  notify(): void {
    for (const w of this.#waiters) {
      w.pending = true;
      w.wake?.();
    }
  }

  /** Streams updates until the signal aborts; rejects with the signal's reason or an observation error. */
  async serve(options: ServeOptions): Promise<void> {
    const waiter: Waiter = { pending: false, wake: undefined };
    this.#waiters.add(waiter);
    try {
      let sequence = 1;
      let previous = await options.observe();
      await options.sink.write({ sequence, snapshot: previous });
      options.logger.debug({ sequence }, 'Sent a state snapshot');
      for (;;) {
        await this.#next(waiter, options.intervalMs, options.signal);
        options.signal.throwIfAborted();
        const current = await options.observe();
        const patch = jsonpatch.compare(previous, current);
        if (patch.length === 0) continue;
        sequence++;
        await options.sink.write({ sequence, patchJson: JSON.stringify(patch) });
        options.logger.debug({ sequence, operations: patch.length }, 'Sent a state patch');
        previous = current;
      }
    } finally {
      this.#waiters.delete(waiter);
    }
  }

  /** Resolves at the interval, on notify, or (with the reason) when the signal aborts. */
  #next(waiter: Waiter, intervalMs: number, signal: AbortSignal): Promise<void> {
    if (waiter.pending) {
      waiter.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiter.wake = undefined;
        waiter.pending = false;
        resolve();
      };
      const timer = setTimeout(done, intervalMs);
      waiter.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
