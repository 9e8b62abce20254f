// A Clock whose time moves only when a test says so: the reconciler's and the executor's
// tests, and the generative tests' simulated world (its Redis-like timers, the injected
// faults and the leaders all wait on it). Nothing waits for real time. One timer queue,
// a binary heap ordered by due time, ties in the order taken, and two ways to drive it
// that differ only at equal due times (each suite's outcomes depend on its own):
//
// - run(): the discrete-event driver of the generative harness. Lets every promise chain
//   settle, then fires the earliest timer AND every other one due at that same instant,
//   then settles again: one turn of the real event loop per instant, not per timer (the
//   harness runs thousands of scenarios a minute). Bounded by virtual time and by events.
// - advance(), advanceTo(), runUntil(), drive(): the step driver of the unit tests. One
//   wake-up per settled turn, so what one wake-up causes happens before the next, even at
//   the same instant.
// - 'auto' mode: nobody drives; whenever the event loop has nothing else to do (one
//   setImmediate turn), the earliest timer fires and now jumps to its due time. Code
//   under test runs at full speed, timers keep their order, and a deadline still loses
//   against a call that answers at once.
//
// Settling uses setImmediate: that is the test's event loop turning, not a timer the
// code under test depends on. The sleep and timer paths stay lean (no closure per
// sleep, lazy cancellation): the generative harness takes thousands per scenario.
import type { Clock } from '../../common/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  /** Cancelled before it fired: skipped when it reaches the top of the heap. */
  cancelled: boolean;
}

export type VirtualClockMode = 'manual' | 'auto';

export interface VirtualClockOptions {
  /** Start time, ms since the epoch. @default VIRTUAL_EPOCH_MS */
  start?: number;
  /** @default 'manual' */
  mode?: VirtualClockMode;
  /** Record every sleep's length in `sleeps` (tests assert retry delays with it). @default false */
  recordSleeps?: boolean;
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

/** Why runUntil() returned. */
export type RunUntilEnd = 'condition' | 'idle' | 'time-limit';

/** 2025-01-01T00:00:00Z: a plausible wall clock for journal timestamps. */
export const VIRTUAL_EPOCH_MS = Date.UTC(2025, 0, 1);

/** Lets every pending promise chain run (one turn of the real event loop). */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export class VirtualClock implements Clock {
  #mode: VirtualClockMode;
  #now: number;
  #seq = 0;
  #heap: Timer[] = [];
  #fired = 0;
  #pumpScheduled = false;
  readonly #recordSleeps: boolean;
  /** With `recordSleeps`: every sleep asked for, in ms, in order. */
  readonly sleeps: number[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? VIRTUAL_EPOCH_MS;
    this.#mode = options.mode ?? 'manual';
    this.#recordSleeps = options.recordSleeps ?? false;
  }

  get mode(): VirtualClockMode {
    return this.#mode;
  }

  /** Switching to 'auto' wakes what is pending, in order. */
  set mode(mode: VirtualClockMode) {
    this.#mode = mode;
    this.#schedulePump();
  }

  now(): number {
    return this.#now;
  }

  /** Timers (sleeps included) fired so far. */
  get fired(): number {
    return this.#fired;
  }

  /** Sleeps and timers not yet fired nor cancelled. */
  get pending(): number {
    let n = 0;
    for (const t of this.#heap) if (!t.cancelled) n++;
    return n;
  }

  /** The due time of the earliest pending sleep or timer, or undefined. */
  nextDue(): number | undefined {
    return this.#peek()?.at;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const wait = Math.max(0, ms);
    if (this.#recordSleeps) this.sleeps.push(wait);
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) {
        this.#push(wait, resolve);
        return;
      }
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const sleep = new AbortableSleep(signal, resolve, reject);
      sleep.timer = this.#push(wait, () => sleep.wake());
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

  // ---- the discrete-event driver ----

  /**
   * Lets every promise chain settle, then fires the earliest timer and every other one
   * due at that instant, and again, until `until()` holds, no timer is left, or a limit
   * is reached.
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

  // ---- the step driver ----

  /** Moves time forward by `ms`, waking every sleep due on the way, in order. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  /** Moves time to `t` (never backwards), waking every sleep due by then, in order. */
  async advanceTo(t: number): Promise<void> {
    await settle();
    for (;;) {
      const first = this.#peek();
      if (first === undefined || first.at > t) break;
      this.#wakeFirst();
      await settle();
    }
    if (t > this.#now) this.#now = t;
    await settle();
  }

  /**
   * Wakes sleeps one at a time, in due order, until `until()` holds (checked after every
   * settled turn), no sleep is pending, or the next one is due after `maxMs` from now.
   */
  async runUntil(until: () => boolean, maxMs = 24 * 3_600_000): Promise<RunUntilEnd> {
    const limit = this.#now + maxMs;
    for (;;) {
      await settle();
      if (until()) return 'condition';
      const first = this.#peek();
      if (first === undefined) return 'idle';
      if (first.at > limit) return 'time-limit';
      this.#wakeFirst();
    }
  }

  /** Awaits `p` while waking sleeps as needed (time passes only as `p` needs). */
  async drive<T>(p: Promise<T>, maxMs?: number): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    p.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    const end = await this.runUntil(() => outcome !== undefined, maxMs);
    if (outcome === undefined) throw new VirtualClockError(`VirtualClock.drive: the promise did not settle (${end})`);
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  /** Auto mode: wakes the earliest timer once the event loop has turned, and again while any is pending. */
  #schedulePump(): void {
    if (this.#mode !== 'auto' || this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      if (this.#mode !== 'auto') return;
      if (this.#wakeFirst()) this.#schedulePump();
    });
  }

  /** Fires the earliest live timer, moving now to its due time; false when none is left. */
  #wakeFirst(): boolean {
    const first = this.#pop();
    if (first === undefined) return false;
    if (first.at > this.#now) this.#now = first.at;
    this.#fired++;
    first.fire();
    return true;
  }

  /** The earliest live timer, left in place (cancelled ones on top are dropped). */
  #peek(): Timer | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || !top.cancelled) return top;
      this.#removeTop();
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
    if (this.#mode === 'auto') this.#schedulePump();
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

  /** Removes and returns the earliest live timer (dropping cancelled ones on the way). */
  #pop(): Timer | undefined {
    for (;;) {
      const top = this.#removeTop();
      if (top === undefined || !top.cancelled) return top;
    }
  }

  /** Removes and returns the top of the heap, live or cancelled. */
  #removeTop(): Timer | undefined {
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
    return top;
  }
}

/** drive() gave up: the promise it drove did not settle. */
export class VirtualClockError extends Error {
  override readonly name = 'VirtualClockError';
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
