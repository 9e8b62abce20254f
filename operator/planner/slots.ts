// Hash-slot arithmetic for Redis Cluster: each node group's share of the 16384 slots
// (contiguous ranges, as equal as possible, the first groups take the remainder), which
// slots nobody serves, and whether the groups are balanced. Shares are counts for
// rebalancing and ranges only when a new cluster is formed; a move names the exact slots
// it takes from its source (`topSlots`), so that repeating it changes nothing.
import { REDIS_SLOTS, type SlotRange } from '../model/observed.ts';
import { normalRanges } from '../../common/slot-ranges.ts';

/** How many slots node group `g` of `n` should serve. */
export function shareCount(g: number, n: number): number {
  if (g < 0 || g >= n) return 0;
  const base = Math.floor(REDIS_SLOTS / n);
  return base + (g < REDIS_SLOTS % n ? 1 : 0);
}

/** The contiguous range node group `g` of `n` is given when the cluster is formed; undefined when it gets none (n > 16384). */
export function shareRange(g: number, n: number): SlotRange | undefined {
  const count = shareCount(g, n);
  if (count === 0) return undefined;
  const base = Math.floor(REDIS_SLOTS / n);
  const start = g * base + Math.min(g, REDIS_SLOTS % n);
  return { start, end: start + count - 1 };
}

/**
 * Balanced as docs/invariants.md (invariant 3) defines it: every kept group within ±1
 * of 16384/n, and every group that is going away (index ≥ n) empty.
 */
export function isBalanced(slotsByGroup: ReadonlyMap<number, number>, n: number): boolean {
  for (const [g, slots] of slotsByGroup) {
    if (g >= n) {
      if (slots > 0) return false;
    } else if (Math.abs(slots * n - REDIS_SLOTS) > n) {
      return false;
    }
  }
  for (let g = 0; g < n; g++) if (!slotsByGroup.has(g) && Math.abs(0 * n - REDIS_SLOTS) > n) return false;
  return true;
}

/** Marks the slots of `ranges` in `owned` (one byte per slot). */
export function markRanges(owned: Uint8Array, ranges: readonly SlotRange[]): void {
  for (const r of ranges) {
    const start = Math.max(0, r.start);
    const end = Math.min(REDIS_SLOTS - 1, r.end);
    if (end >= start) owned.fill(1, start, end + 1);
  }
}

/** The ranges of `within` whose slots are not marked in `owned`. */
export function unownedRanges(owned: Uint8Array, within: SlotRange): SlotRange[] {
  const out: SlotRange[] = [];
  let start = -1;
  for (let s = within.start; s <= within.end; s++) {
    if (owned[s] === 0) {
      if (start < 0) start = s;
    } else if (start >= 0) {
      out.push({ start, end: s - 1 });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: within.end });
  return out;
}

/**
 * The `count` highest slots of `ranges`, as sorted ranges (all of them when `count`
 * covers them). The source keeps its lowest slots, so its ranges stay few; and a move cut
 * short (slots migrate in ascending order) leaves exactly the rest of these at the top.
 */
export function topSlots(ranges: readonly SlotRange[], count: number): SlotRange[] {
  const out: SlotRange[] = [];
  let left = count;
  const sorted = normalRanges(ranges);
  for (let i = sorted.length - 1; i >= 0 && left > 0; i--) {
    const r = sorted[i]!;
    const size = r.end - r.start + 1;
    const take = Math.min(size, left);
    out.unshift({ start: r.end - take + 1, end: r.end });
    left -= take;
  }
  return out;
}

