// A Clock whose time moves only when told, for tests of the reconciler and the executor
// (and the generative tests' helpers): nothing waits for real time.
//
// - 'manual' mode: sleep(ms) resolves once the test has advanced time to its due time
//   (advance(ms), advanceTo(t) or runUntil(...)); due sleeps wake in order of their due
//   time (ties: the order they were taken), with every promise chain settled between two
//   wake-ups, so what one wake-up causes happens before the next.
// - 'auto' mode: the same order, but nobody has to advance time: whenever the event loop
//   has nothing else to do (one setImmediate turn, so every settled promise chain has
//   run), the earliest pending sleep wakes and now jumps to its due time. Code under test
//   runs at full speed, timers (deadlines, retry delays, pauses) keep their order, and a
//   deadline still loses against a call that answers at once.
//
// The helpers below let promise chains settle with setImmediate: that is the test's
// event loop turning, not a timer the code under test depends on.
import type { Clock } from '../../common/clock.ts';

export type VirtualClockMode = 'manual' | 'auto';

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
  cancelled: boolean;
}

export interface VirtualClockOptions {
  /** Start time, ms since the epoch. @default Date.UTC(2025, 0, 1) */
  start?: number;
  /** @default 'manual' */
  mode?: VirtualClockMode;
}

/** Why runUntil() returned. */
export type RunUntilEnd = 'condition' | 'idle' | 'time-limit';

/** Lets every pending promise chain run (one turn of the real event loop). */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export class VirtualClock implements Clock {
  #mode: VirtualClockMode;
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];
  #pumpScheduled = false;
  /** Every sleep asked for, in ms, in order (tests assert retry delays with it). */
  readonly sleeps: number[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? Date.UTC(2025, 0, 1);
    this.#mode = options.mode ?? 'manual';
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

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const wait = Math.max(0, ms);
    this.sleeps.push(wait);
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { at: this.#now + wait, seq: this.#seq++, resolve: () => undefined, cancelled: false };
      const onAbort = (): void => {
        sleeper.cancelled = true;
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason as Error);
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#schedulePump();
    });
  }

  timer(ms: number, fn: () => void): () => void {
    // Like a sleep: fn runs as a job of its own once woken.
    const sleeper: Sleeper = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => queueMicrotask(fn), cancelled: false };
    this.#sleepers.push(sleeper);
    this.#schedulePump();
    return () => {
      sleeper.cancelled = true;
      this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
    };
  }

  /** Sleeps (and timers) not yet due. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** The due time of the earliest pending sleep, or undefined. */
  nextDue(): number | undefined {
    return this.#first()?.at;
  }

  /** Moves time forward by `ms`, waking every sleep due on the way, in order. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  /** Moves time to `t` (never backwards), waking every sleep due by then, in order. */
  async advanceTo(t: number): Promise<void> {
    await settle();
    for (;;) {
      const first = this.#first();
      if (first === undefined || first.at > t) break;
      this.#wake(first);
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
      const first = this.#first();
      if (first === undefined) return 'idle';
      if (first.at > limit) return 'time-limit';
      this.#wake(first);
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
    if (outcome === undefined) throw new Error(`VirtualClock.drive: the promise did not settle (${end})`);
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  /** Auto mode: wakes the earliest sleep once the event loop has turned, and again while any is pending. */
  #schedulePump(): void {
    if (this.mode !== 'auto' || this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      if (this.mode !== 'auto') return;
      const first = this.#first();
      if (first === undefined) return;
      this.#wake(first);
      this.#schedulePump();
    });
  }

  #first(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) if (best === undefined || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    return best;
  }

  #wake(s: Sleeper): void {
    this.#sleepers = this.#sleepers.filter((x) => x !== s);
    if (s.at > this.#now) this.#now = s.at;
    s.resolve();
  }
}
