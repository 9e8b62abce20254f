// The loop's pause between observations, which an event can cut short: an accepted
// desired state should be worked on now, not at the next tick. The pause runs on the
// injected Clock; a wake-up that comes while the loop is busy (not pausing) is kept and
// ends the next pause at once, so none is lost.
import type { Clock } from '../../common/clock.ts';

export class Wakeup {
  readonly #clock: Clock;
  #pendingWake = false;
  #current: AbortController | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Ends the current pause now, or the next one as soon as it starts. */
  wake(): void {
    if (this.#current !== undefined) this.#current.abort(new Error('woken'));
    else this.#pendingWake = true;
  }

  /**
   * Pauses `ms` on the clock. Resolves 'woken' when wake() ended it early, 'elapsed'
   * otherwise; rejects with the signal's reason when `signal` aborts.
   */
  async pause(ms: number, signal: AbortSignal): Promise<'elapsed' | 'woken'> {
    signal.throwIfAborted();
    if (this.#pendingWake) {
      this.#pendingWake = false;
      return 'woken';
    }
    const local = new AbortController();
    const onAbort = (): void => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#current = local;
    try {
      await this.#clock.sleep(ms, local.signal);
      return 'elapsed';
    } catch (err) {
      if (signal.aborted) throw err;
      return 'woken';
    } finally {
      this.#current = undefined;
      signal.removeEventListener('abort', onAbort);
    }
  }
}
