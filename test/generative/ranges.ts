// A map from hash slots (0 … 16383) to small integers, kept as sorted runs of equal
// values. The simulated world uses it twice: which node owns each slot (value = the
// node's handle) and which data each node holds (value = the data token of the slot).
//
// Why runs and not a Uint16Array per node: the world checks "no data token vanished"
// after every step of thousands of scenarios; a cluster's slots form a handful of runs,
// so every operation and every check is O(runs), not O(16384).
import { REDIS_SLOTS, type SlotRange } from '../../operator/model/observed.ts';

/** One run of equal values: slots start … end (inclusive) map to value (never 0). */
export interface Run {
  start: number;
  end: number;
  value: number;
}

/** Sorted, non-overlapping runs; adjacent runs with equal values are merged. 0 means "absent". */
export class SlotMap {
  #runs: Run[] = [];

  static from(runs: readonly Run[]): SlotMap {
    const m = new SlotMap();
    for (const r of runs) m.set(r.start, r.end, r.value);
    return m;
  }

  /** The runs, in slot order (a copy). */
  runs(): Run[] {
    return this.#runs.map((r) => ({ ...r }));
  }

  clone(): SlotMap {
    const m = new SlotMap();
    m.#runs = this.runs();
    return m;
  }

  isEmpty(): boolean {
    return this.#runs.length === 0;
  }

  /** The value of one slot (0 when absent). */
  get(slot: number): number {
    for (const r of this.#runs) {
      if (slot < r.start) return 0;
      if (slot <= r.end) return r.value;
    }
    return 0;
  }

  /** Slots with a value (any, or exactly `value`). */
  count(value?: number): number {
    let n = 0;
    for (const r of this.#runs) if (value === undefined || r.value === value) n += r.end - r.start + 1;
    return n;
  }

  /** The ranges whose value is `value`, in slot order. */
  rangesOf(value: number): SlotRange[] {
    const out: SlotRange[] = [];
    for (const r of this.#runs) {
      if (r.value !== value) continue;
      const last = out.at(-1);
      if (last !== undefined && last.end + 1 === r.start) last.end = r.end;
      else out.push({ start: r.start, end: r.end });
    }
    return out;
  }

  /** Sets slots start … end to `value` (0 clears them). */
  set(start: number, end: number, value: number): void {
    if (start > end) return;
    checkSlot(start);
    checkSlot(end);
    const out: Run[] = [];
    let placed = false;
    const put = (r: Run): void => {
      const last = out.at(-1);
      if (last !== undefined && last.value === r.value && last.end + 1 === r.start) last.end = r.end;
      else out.push(r);
    };
    for (const r of this.#runs) {
      if (r.end < start) {
        put(r);
        continue;
      }
      if (r.start > end) {
        if (!placed) {
          if (value !== 0) put({ start, end, value });
          placed = true;
        }
        put(r);
        continue;
      }
      // Overlaps: keep the parts outside start … end.
      if (r.start < start) put({ start: r.start, end: start - 1, value: r.value });
      if (!placed) {
        if (value !== 0) put({ start, end, value });
        placed = true;
      }
      if (r.end > end) put({ start: end + 1, end: r.end, value: r.value });
    }
    if (!placed && value !== 0) put({ start, end, value });
    this.#runs = out;
  }

  /** Copies the values of `from` over start … end (slots absent in `from` are cleared). */
  copyRange(from: SlotMap, start: number, end: number): void {
    this.set(start, end, 0);
    for (const r of from.#runs) {
      const s = Math.max(r.start, start);
      const e = Math.min(r.end, end);
      if (s <= e) this.set(s, e, r.value);
    }
  }

  /** Whether every run of `this` with a value is also held, with the same value, by the union of `others`. */
  coveredBy(others: readonly SlotMap[]): Run[] {
    const missing: Run[] = [];
    for (const r of this.#runs) {
      // The slots of r whose value some other map holds, as sorted intervals.
      const held: [number, number][] = [];
      for (const o of others) {
        for (const x of o.#runs) {
          if (x.end < r.start) continue;
          if (x.start > r.end) break;
          if (x.value === r.value) held.push([Math.max(x.start, r.start), Math.min(x.end, r.end)]);
        }
      }
      held.sort((a, b) => a[0] - b[0]);
      let next = r.start;
      for (const [s, e] of held) {
        if (s > next) missing.push({ start: next, end: s - 1, value: r.value });
        next = Math.max(next, e + 1);
      }
      if (next <= r.end) missing.push({ start: next, end: r.end, value: r.value });
    }
    return missing;
  }
}

/** The `count` lowest slots among `ranges` (sorted), as ranges. */
export function lowestSlots(ranges: readonly SlotRange[], count: number): SlotRange[] {
  const out: SlotRange[] = [];
  let left = count;
  for (const r of ranges) {
    if (left <= 0) break;
    const n = Math.min(left, r.end - r.start + 1);
    out.push({ start: r.start, end: r.start + n - 1 });
    left -= n;
  }
  return out;
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= REDIS_SLOTS) throw new RangeError(`slot ${slot} is outside 0 … ${REDIS_SLOTS - 1}`);
}
