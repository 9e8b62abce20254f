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

/** The RPC whose signal an error aborted, for errors callSignal made (see callOfError). */
const callOfReason = new WeakMap<object, string>();

/**
 * The RPC an error belongs to, when it is the abort reason of a call's signal (deadline,
 * cancel, agent stopping) or was caused by one (its `cause` chain); undefined otherwise.
 */
export function callOfError(err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const method = callOfReason.get(e);
    if (method !== undefined) return method;
  }
  return undefined;
}

function abortWith(controller: AbortController, method: string, reason: Error): void {
  callOfReason.set(reason, method);
  controller.abort(reason);
}

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
    abortWith(
      controller,
      options.method,
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
    else abortWith(controller, options.method, new CancelledError(`the caller cancelled ${options.method}`));
  };
  call.on('cancelled', onCancelled);

  const onStopping = (): void => {
    abortWith(controller, options.method, new UnavailableError(`the agent is stopping; ${options.method} was interrupted, retry it`));
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

/** How the work behind a raceSignal ended, when the signal had won the race. */
export type LateOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts.
 *
 * `promise` always gets a handler, even when the signal aborted before the race began:
 * the work it stands for was started and still settles, and a rejection nobody handles
 * ends a Node process (seen: an agent died of "CancelledError: the caller cancelled
 * GetState" when the cancel arrived while the call was being admitted). When the
 * signal wins, `late` (if given) learns how the work ended; otherwise it is dropped.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, late?: (outcome: LateOutcome) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let lost = false;
    const onAbort = (): void => {
      lost = true;
      reject(signal.reason as Error);
    };
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (lost) late?.({ ok: true });
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (lost) late?.({ ok: false, error: err });
        else reject(err as Error);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

export { sleep } from '../../common/sleep.ts';
