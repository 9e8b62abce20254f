// A discrete-event virtual clock for the simulated world: the reconciler, the world's
// Redis-like timers and the injected faults all wait on it, and the scenario driver
// advances it to the next due timer whenever every promise chain has settled.
//
// Why not "auto" mode (each sleep resolves at once and moves time forward): with
// parallel steps, two leaders and timers inside the world, sleeps must wake in the
// order of their due times, or a 10 s wait would finish before a 100 ms one. Here time
// only moves when nothing else can run, exactly like a simulation should.
import type { Clock } from '../../common/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

/** Why run() returned. */
export type RunEnd = 'until' | 'idle' | 'time-limit' | 'event-limit';

export interface RunOptions {
  /** Checked after every settled turn; true ends the run. */
  until: () => boolean;
  /** Virtual time (absolute ms) not to pass. */
  maxTime: number;
  /** Timers to fire at most in this run. */
  maxEvents: number;
}

/** 2025-01-01T00:00:00Z: a plausible wall clock for journal timestamps. */
export const SIM_EPOCH_MS = Date.UTC(2025, 0, 1);

const settle = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export class SimClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: Timer[] = [];
  #fired = 0;

  constructor(start = SIM_EPOCH_MS) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Timers fired so far. */
  get fired(): number {
    return this.#fired;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) {
        this.#push(Math.max(0, ms), resolve);
        return;
      }
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const sleep = new AbortableSleep(signal, resolve, reject);
      sleep.timer = this.#push(Math.max(0, ms), () => sleep.wake());
      signal.addEventListener('abort', sleep, { once: true });
    });
  }

  timer(ms: number, fn: () => void): () => void {
    // Not schedule(): fn runs as a job of its own, after every timer due at the same
    // instant fired, exactly as the continuation of a sleep would.
    return this.schedule(ms, () => queueMicrotask(fn));
  }

  /**
   * Calls `fn` once `ms` of virtual time have passed, right as its timer fires (before
   * other timers due at the same instant); returns a cancel function.
   */
  schedule(ms: number, fn: () => void): () => void {
    const timer = this.#push(Math.max(0, ms), fn);
    return () => {
      timer.cancelled = true;
    };
  }

  /**
   * Lets every promise chain settle, then fires the earliest timer, and again, until
   * `until()` holds, no timer is left, or a limit is reached.
   */
  async run(opts: RunOptions): Promise<RunEnd> {
    let events = 0;
    for (;;) {
      await settle();
      if (opts.until()) return 'until';
      const timer = this.#pop();
      if (timer === undefined) return 'idle';
      if (timer.at > opts.maxTime) {
        this.#reinsert(timer);
        return 'time-limit';
      }
      if (events >= opts.maxEvents) {
        this.#reinsert(timer);
        return 'event-limit';
      }
      if (timer.at > this.#now) this.#now = timer.at;
      // Every timer due at this same instant fires before the promise chains settle:
      // one turn of the event loop per instant, not per timer.
      let next: Timer | undefined = timer;
      while (next !== undefined) {
        events++;
        this.#fired++;
        next.fire();
        next = this.#popDueAt(this.#now);
      }
    }
  }

  /** The next live timer due at `at` exactly, if any. */
  #popDueAt(at: number): Timer | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || top.at !== at) return undefined;
      const t = this.#pop();
      if (t === undefined || t.at === at) return t;
      this.#reinsert(t);
      return undefined;
    }
  }

  // ---- a binary heap of timers, ordered by (at, seq) ----

  #push(ms: number, fire: () => void): Timer {
    const timer: Timer = { at: this.#now + ms, seq: this.#seq++, fire, cancelled: false };
    this.#reinsert(timer);
    return timer;
  }

  #reinsert(timer: Timer): void {
    const h = this.#heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Timer, h[parent] as Timer)) break;
      [h[i], h[parent]] = [h[parent] as Timer, h[i] as Timer];
      i = parent;
    }
  }

  #pop(): Timer | undefined {
    for (;;) {
      const h = this.#heap;
      const top = h[0];
      if (top === undefined) return undefined;
      const last = h.pop() as Timer;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l] as Timer, h[m] as Timer)) m = l;
          if (r < h.length && before(h[r] as Timer, h[m] as Timer)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
          i = m;
        }
      }
      if (!top.cancelled) return top;
    }
  }
}

/**
 * A sleep with a signal, and the listener of the signal's abort (an object with
 * handleEvent): thousands of sleeps per scenario, and under tsx every arrow held in a
 * const gets its name set at creation, which a closure per sleep paid for.
 */
class AbortableSleep {
  timer: Timer | undefined;
  readonly #signal: AbortSignal;
  readonly #resolve: () => void;
  readonly #reject: (reason: Error) => void;

  constructor(signal: AbortSignal, resolve: () => void, reject: (reason: Error) => void) {
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** The timer fired. */
  wake(): void {
    this.#signal.removeEventListener('abort', this);
    this.#resolve();
  }

  /** The signal aborted first. */
  handleEvent(): void {
    if (this.timer !== undefined) this.timer.cancelled = true;
    this.#reject(this.#signal.reason as Error);
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
