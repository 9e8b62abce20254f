// Hash-slot ranges of a Redis Cluster, as the operator's planner and executor, the agent's
// Redis engine and the tests all use them: an inclusive range { start, end } of slots
// 0 … 16383. One module, so that "how many slots", "do these ranges cover those" and how a
// range reads in a message are decided once.

/** The hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16384;

/** An inclusive range of hash slots. */
export interface SlotRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** How many slots `ranges` name (a slot named twice counts twice; see slotsCovered). */
export function slotsIn(ranges: readonly SlotRange[]): number {
  return ranges.reduce((n, r) => n + (r.end - r.start + 1), 0);
}

/** How many slots the ranges cover: overlaps once, slots outside 0 … 16383 not at all. */
export function slotsCovered(ranges: readonly SlotRange[]): number {
  let total = 0;
  let reached = -1; // the highest slot counted so far
  for (const r of clipped(ranges)) {
    if (r.end <= reached) continue;
    total += r.end - Math.max(r.start, reached + 1) + 1;
    reached = r.end;
  }
  return total;
}

/** `ranges` sorted by start, overlapping or adjacent ones merged (new objects). */
export function normalRanges(ranges: readonly SlotRange[]): SlotRange[] {
  const out: SlotRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = out.at(-1);
    if (last !== undefined && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** Whether every slot of `wanted` lies in `owned` (which may be unsorted, split or overlapping). */
export function rangesCover(owned: readonly SlotRange[], wanted: readonly SlotRange[]): boolean {
  const merged = normalRanges(owned);
  return wanted.every((w) => w.end < w.start || merged.some((r) => r.start <= w.start && w.end <= r.end));
}

/** Whether no slot is named twice in `ranges`. */
export function rangesDisjoint(ranges: readonly SlotRange[]): boolean {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  return sorted.every((r, i) => i === 0 || sorted[i - 1]!.end < r.start);
}

/** Every slot of `ranges`, in order. */
export function rangesToSlots(ranges: readonly SlotRange[]): number[] {
  const slots: number[] = [];
  for (const r of ranges) for (let s = r.start; s <= r.end; s++) slots.push(s);
  return slots;
}

/** The fewest sorted ranges that name exactly `slots`. */
export function slotsToRanges(slots: Iterable<number>): SlotRange[] {
  const out: SlotRange[] = [];
  for (const s of [...new Set(slots)].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last !== undefined && s === last.end + 1) last.end = s;
    else out.push({ start: s, end: s });
  }
  return out;
}

/** "0-5460", "5461", "0-99, 200-299": ranges for a message ("no slots" for none). */
export function rangesText(ranges: readonly SlotRange[]): string {
  if (ranges.length === 0) return 'no slots';
  return ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(', ');
}

function clipped(ranges: readonly SlotRange[]): SlotRange[] {
  return ranges
    .map((r) => ({ start: Math.max(0, r.start), end: Math.min(SLOT_COUNT - 1, r.end) }))
    .filter((r) => r.end >= r.start)
    .sort((a, b) => a.start - b.start);
}
