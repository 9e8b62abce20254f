// Every call has a deadline. The caller's deadline (the grpc-timeout header) becomes
// an AbortSignal that the handler's work must observe; a call without one gets the
// agent's default maximum, so no call runs forever. The signal also aborts when the
// caller cancels and when the agent stops.
import type { Deadline } from '@grpc/grpc-js';
import { CancelledError, DeadlineExceededError, UnavailableError } from '../../proto/status.ts';

/** The parts of a gRPC server call this module needs. */
export interface DeadlineCall {
  getDeadline(): Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

export interface CallSignalOptions {
  /** The longest a call may run, when the caller sets no deadline or a later one. */
  maxMs: number;
  /** The RPC, for messages. */
  method: string;
  /** Aborts every call (the agent is stopping). */
  stopping?: AbortSignal;
  /** @default Date.now */
  now?: () => number;
}

export interface CallSignal {
  /** Aborts with DeadlineExceededError, CancelledError or UnavailableError (stopping). */
  readonly signal: AbortSignal;
  /** When the call's time is up. */
  readonly deadline: Date;
  /** True when the caller's own deadline applies, false when the agent's maximum does. */
  readonly fromCaller: boolean;
  /** Clears the timer and listeners; call once the call has been answered. */
  dispose(): void;
}

/** setTimeout cannot wait longer than this. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function toMillis(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/** The AbortSignal of one call, from its deadline, its cancellation and the agent's stop. */
export function callSignal(call: DeadlineCall, options: CallSignalOptions): CallSignal {
  const now = (options.now ?? Date.now)();
  const requested = toMillis(call.getDeadline());
  const limit = now + options.maxMs;
  const fromCaller = Number.isFinite(requested) && requested <= limit;
  const at = fromCaller ? requested : limit;
  const controller = new AbortController();

  const expire = (): void => {
    const budget = `${Math.max(0, at - now)} ms`;
    controller.abort(
      new DeadlineExceededError(
        fromCaller
          ? `deadline exceeded: ${options.method} did not finish within the caller's deadline (${budget})`
          : `deadline exceeded: ${options.method} ran longer than the agent's maximum for a call without a deadline (${budget})`,
      ),
    );
  };
  const timer = setTimeout(expire, Math.min(MAX_TIMER_MS, Math.max(0, at - now)));

  const onCancelled = (): void => {
    // grpc-js also reports its own deadline timer as a cancellation.
    if ((options.now ?? Date.now)() >= at - 5) expire();
    else controller.abort(new CancelledError(`the caller cancelled ${options.method}`));
  };
  call.on('cancelled', onCancelled);

  const onStopping = (): void => {
    controller.abort(new UnavailableError(`the agent is stopping; ${options.method} was interrupted, retry it`));
  };
  if (options.stopping?.aborted === true) onStopping();
  else options.stopping?.addEventListener('abort', onStopping, { once: true });

  return {
    signal: controller.signal,
    deadline: new Date(at),
    fromCaller,
    dispose(): void {
      clearTimeout(timer);
      call.removeListener('cancelled', onCancelled);
      options.stopping?.removeEventListener('abort', onStopping);
    },
  };
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

export { sleep } from '../../proto/sleep.ts';
