// Test support: plans that even out the slots of the primaries (planRebalance) or empty
// one primary into the others (planDrain), and the moves that carry them out over
// RedisClusterOps.moveSlots (agent/engines/redis/slot-migration.ts).
import { redisOpError } from '../../agent/engines/redis/errors.ts';
import { formatAddr } from '../../agent/engines/redis/redis-connection.ts';
import { findNode, primariesOf } from '../../agent/engines/redis/topology.ts';
import type { Topology } from '../../agent/engines/redis/topology.ts';
import { addMovePhases, noMovePhases, resumeOpenSlots } from '../../agent/engines/redis/slot-migration.ts';
import type { MoveOptions, MoveResult } from '../../agent/engines/redis/slot-migration.ts';
import type { RedisClusterOps } from '../../agent/engines/redis/cluster-ops.ts';
import { rangesToSlots } from '../../common/slot-ranges.ts';

export interface PlannedMove {
  fromId: string;
  toId: string;
  slots: number[];
}

/**
 * Moves that leave every given primary with an even share (counts differ by at most
 * one). Nodes that already hold more keep the extra slot first, so an even cluster
 * plans nothing. Slots move in contiguous runs taken from the end of a donor's ranges.
 */
export function planRebalance(topology: Topology, primaryIds?: string[]): PlannedMove[] {
  const prim = primariesOf(topology).filter((p) => !primaryIds || primaryIds.includes(p.id));
  const holding = new Map(prim.map((p) => [p.id, rangesToSlots(p.slots)]));
  const total = [...holding.values()].reduce((n, s) => n + s.length, 0);
  if (prim.length === 0 || total === 0) return [];
  const order = [...prim].sort((a, b) => b.slotCount - a.slotCount || (a.id < b.id ? -1 : 1));
  const base = Math.floor(total / prim.length);
  const extra = total % prim.length;
  const quota = new Map(order.map((p, i) => [p.id, base + (i < extra ? 1 : 0)]));
  const donors = order.filter((p) => (holding.get(p.id)?.length ?? 0) > (quota.get(p.id) ?? 0));
  const takers = [...order].reverse().filter((p) => (holding.get(p.id)?.length ?? 0) < (quota.get(p.id) ?? 0));
  const moves: PlannedMove[] = [];
  for (const t of takers) {
    let need = (quota.get(t.id) ?? 0) - (holding.get(t.id)?.length ?? 0);
    for (const d of donors) {
      if (need <= 0) break;
      const slots = holding.get(d.id) ?? [];
      const spare = slots.length - (quota.get(d.id) ?? 0);
      if (spare <= 0) continue;
      const n = Math.min(spare, need);
      const taken = slots.splice(slots.length - n, n);
      moves.push({ fromId: d.id, toId: t.id, slots: taken });
      need -= n;
    }
  }
  return moves;
}

/** Moves that empty `id` into the other primaries, evening out their counts. */
export function planDrain(topology: Topology, id: string): PlannedMove[] {
  const node = findNode(topology, id);
  if (!node || node.slotCount === 0) return [];
  const others = primariesOf(topology).filter((p) => p.id !== id && !p.flags.includes('fail'));
  if (others.length === 0) return [];
  // Water-filling: raise the smallest first, so that the totals end up even.
  const counts = new Map(others.map((p) => [p.id, p.slotCount]));
  const give = new Map(others.map((p) => [p.id, 0]));
  for (let i = 0; i < node.slotCount; i++) {
    let best: string | undefined;
    for (const p of others) {
      const c = (counts.get(p.id) ?? 0) + (give.get(p.id) ?? 0);
      const b = best === undefined ? Infinity : (counts.get(best) ?? 0) + (give.get(best) ?? 0);
      if (c < b) best = p.id;
    }
    if (best !== undefined) give.set(best, (give.get(best) ?? 0) + 1);
  }
  const slots = rangesToSlots(node.slots);
  const moves: PlannedMove[] = [];
  let at = 0;
  for (const p of others) {
    const n = give.get(p.id) ?? 0;
    if (n > 0) moves.push({ fromId: id, toId: p.id, slots: slots.slice(at, at + n) });
    at += n;
  }
  return moves;
}

/** Moves every slot of primary `id` to the other primaries, evening them out. */
export async function drainPrimary(ops: RedisClusterOps, id: string, opts: MoveOptions = {}): Promise<MoveResult> {
  const op = 'drainPrimary';
  const started = Date.now();
  const phases = noMovePhases();
  let t = Date.now();
  const resumedSlots = await resumeOpenSlots(ops, op, opts, phases);
  phases.resumeMs = Date.now() - t;
  t = Date.now();
  const topo = (await ops.agree(op, { signal: opts.signal, ignoreFailed: true })).topology;
  phases.agreeBeforeMs = Date.now() - t;
  const node = ops.requirePrimary(op, topo, id);
  if (node.slotCount === 0) {
    return { changed: resumedSlots > 0, topology: topo, ms: Date.now() - started, slots: [], keysMoved: 0, resumedSlots, phases };
  }
  const moves = planDrain(topo, id);
  if (moves.length === 0) {
    throw redisOpError({
      op,
      reason: 'BAD_ARGUMENT',
      nodeId: id,
      addr: formatAddr(node.addr),
      detail: 'it is the only primary that is up, so its slots have nowhere to go',
      action: 'add a node group first, or keep this one',
    });
  }
  const moved = node.slots;
  let keysMoved = 0;
  let last = topo;
  for (const m of moves) {
    const r = await ops.moveSlots(m.fromId, m.toId, m.slots, opts);
    keysMoved += r.keysMoved;
    last = r.topology;
    addMovePhases(phases, r.phases);
  }
  return { changed: true, topology: last, ms: Date.now() - started, slots: moved, keysMoved, resumedSlots, phases };
}
