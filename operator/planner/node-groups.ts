// Adding and removing node groups, and the slot balance.
//
// A new group (formed cluster): its VMs are created (replicas.ts), their nodes started
// (drift.ts); its first kept node joins as a primary WITHOUT slots via an existing
// primary, the others join as its replicas (membership.ts); then slots move.
//
// Balance: when some kept group is off by more than ±1 from 16384/n, or a group that is
// going away (index ≥ n) still serves slots, slots move from groups above their share to
// groups below it (exact shares, slots.ts): groups going away first, then the biggest
// surplus, each to the group with the biggest deficit; at most one move per source and
// per target at a time. Slots move only into groups that are settled (all nodes
// healthy), so new data is replicated at once.
//
// A move names its exact slots (invariant 5), never a count: the source's highest
// `min(surplus, deficit)` slots as observed (slots.ts topSlots), all of them for a group
// going away when the target can take everything, all of a second primary's. Repeating the
// step after it happened — a new leader that planned from an observation taken before the
// old leader's move showed, or a retry after a deadline — finds the slots at the target and
// moves nothing; a count would move as many again.
//
// Version order: MIGRATE payloads of a newer version do not load in an older one, so
// slots never move from a primary to one on an older version. Such a target waits for
// its group's rolling upgrade (rolling.ts, later in the same plan: it needs no balance;
// with running false too, as the move cannot wait for the next start) and the source
// tries the next target meanwhile. This matters when a group on the new
// version serves more than its share while another is still on the old one (seen while
// moves were counts: a leader restart mid-plan moved slots twice into a new group during
// an upgrade with a scale-out, the zombie's move and the new leader's, planned before it
// showed; error-state-335f2cc0.json).
//
// Removal (invariant 3): a group ≥ n is removed only when none of its nodes serves a
// slot and every node of it answers: replicas first, then its primary, then the VMs.
import { REDIS_SLOTS, slotCount, type ObservedDataNode } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { olderVersion } from './failover.ts';
import { groupName, plural } from './names.ts';
import { normalRanges } from '../../common/slot-ranges.ts';
import { isBalanced, shareCount, topSlots } from './slots.ts';

export function joinNewGroupPrimaries(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  if (!ctx.running || ctx.forming) return;
  for (let g = 0; g < d.nodeGroups; g++) {
    const gv = view.group(g);
    if (gv.primary !== undefined || gv.hidden > 0) continue;
    const nodes = gv.vms.map((vm) => view.node(vm)).filter((n): n is ObservedDataNode => n !== undefined);
    if (nodes.length === 0 || nodes.some((n) => n.role !== 'none')) continue;
    const first = layout.group(g).keep.map((vm) => view.node(vm)).find((n) => n !== undefined && n.up && n.role === 'none');
    if (first === undefined) continue;
    const via = view.introducer();
    batch.estimate(2);
    if (via === undefined) {
      batch.waitOn('new node groups wait for a running primary to join through', groupName(g));
      continue;
    }
    batch.add(
      { kind: 'joinPrimary', vmId: first.vmId, nodeId: first.id, via: via.id, slots: [] },
      `${groupName(g)} is new: ${first.id} joins via ${via.id} as its primary, without slots (they move in once its replicas are in sync)`,
      { groups: [g], claim: 'shared', topology: true },
    );
  }
}

interface Source {
  g: number;
  primary: ObservedDataNode;
  surplus: number;
  leaving: boolean;
}

export function moveSlots(ctx: PlanContext): void {
  const { view, batch, desired: d } = ctx;
  if (!ctx.running || view.assigned !== REDIS_SLOTS) return;
  const n = d.nodeGroups;
  // A second primary inside a group that serves slots: its slots go to the group's primary.
  for (const g of view.groupIndexes()) {
    const gv = view.group(g);
    const p = gv.primary;
    if (p === undefined) continue;
    for (const other of gv.otherPrimaries) {
      if (slotCount(other) === 0) continue;
      batch.estimate(1);
      if (olderVersion(p.version, other.version)) {
        batch.waitOn(`slots of a second primary on ${other.version} wait until the primary runs that version too`, groupName(g));
        ctx.upgradeFirst.add(g);
        continue;
      }
      batch.add(
        { kind: 'moveData', vmId: other.vmId, fromId: other.id, toId: p.id, slots: normalRanges(other.slots) },
        `${other.id} and ${p.id} both serve slots in ${groupName(g)}: moving ${other.id}'s slots to ${p.id}`,
        { groups: [g], claim: 'exclusive', topology: true },
      );
    }
  }
  const counts = new Map<number, number>();
  for (const g of view.groupIndexes()) counts.set(g, view.group(g).slots);
  if (isBalanced(counts, n)) return;
  const sources: Source[] = [];
  const targets: { g: number; deficit: number }[] = [];
  for (const [g, slots] of counts) {
    const surplus = slots - shareCount(g, n);
    const primary = view.group(g).primary;
    if (surplus > 0 && primary !== undefined) sources.push({ g, primary, surplus, leaving: g >= n });
    if (surplus < 0 && g < n) targets.push({ g, deficit: -surplus });
  }
  sources.sort((a, b) => Number(b.leaving) - Number(a.leaving) || b.surplus - a.surplus || a.g - b.g);
  targets.sort((a, b) => b.deficit - a.deficit || a.g - b.g);
  batch.estimate(Math.max(sources.length, targets.length));
  const used = new Set<number>();
  for (const s of sources) {
    if (!batch.canClaim([s.g], 'exclusive')) continue;
    for (const t of targets) {
      if (used.has(t.g)) continue;
      const tg = view.group(t.g);
      const tp = tg.primary;
      if (tp === undefined) {
        batch.waitOn('slots wait for the primary of', groupName(t.g));
        continue;
      }
      if (view.holdsData && !tg.settled) {
        batch.waitOn('slots move into a node group once all its nodes are healthy', groupName(t.g));
        continue;
      }
      if (olderVersion(tp.version, s.primary.version)) {
        batch.waitOn(`slots from a primary on ${s.primary.version} move into a node group only once its primary runs that version too`, groupName(t.g));
        ctx.upgradeFirst.add(t.g);
        continue;
      }
      if (!batch.canClaim([t.g], 'exclusive')) continue;
      const own = slotCount(s.primary);
      const count = Math.min(s.surplus, t.deficit, own);
      if (count <= 0) continue;
      const all = count >= own;
      const slots = topSlots(s.primary.slots, count);
      const added = batch.add(
        { kind: 'moveData', vmId: s.primary.vmId, fromId: s.primary.id, toId: tp.id, slots },
        s.leaving
          ? `${groupName(s.g)} is being removed: moving ${all ? 'all its slots' : plural(count, 'slot')} to ${groupName(t.g)}`
          : `${groupName(s.g)} serves ${plural(counts.get(s.g) ?? 0, 'slot')}, ${groupName(t.g)} ${plural(counts.get(t.g) ?? 0, 'slot')}: moving ${plural(count, 'slot')} to balance them`,
        { groups: [s.g, t.g], claim: 'exclusive', topology: true },
      );
      if (added) {
        used.add(t.g);
        break;
      }
    }
  }
}

export function removeLeavingGroups(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  for (const [g, gl] of layout.groups) {
    if (gl.wanted || gl.extras.length === 0) continue;
    const gv = view.group(g);
    batch.estimate(gv.vms.length * 2);
    for (const vm of gv.vms) {
      if (view.alive(vm) && vm.dataNodes.length === 0) {
        batch.add({ kind: 'deleteVm', vmId: vm.id }, `${groupName(g)} is being removed (nodeGroups is ${d.nodeGroups}): deleting ${vm.id}, which has no data node`);
      }
    }
    if (view.hidden > 0) {
      // A node that cannot be seen may serve slots, or gossip a removed node back in when it
      // returns; a down one is started first (drift.ts, running.ts).
      batch.waitOn('node groups being removed wait until every node answers', groupName(g));
      continue;
    }
    if (gv.slots > 0) continue; // still moving its data out
    const nodes = gv.vms.map((vm) => view.node(vm)).filter((n): n is ObservedDataNode => n !== undefined && n.up);
    if (nodes.some((n) => slotCount(n) > 0)) continue;
    const replicas = nodes.filter((n) => n !== gv.primary);
    const now = replicas.length > 0 ? replicas : nodes;
    for (const node of now) {
      batch.add(
        { kind: 'removeNode', vmId: node.vmId, nodeId: node.id },
        `${groupName(g)} is being removed and serves no slot: removing ${node === gv.primary ? 'its primary' : 'its node'} ${node.id}`,
        { groups: [g], claim: 'shared', topology: true },
      );
    }
  }
}
