// Membership within a node group: a started node that has not joined becomes a replica of
// its group's primary; a replica that follows another node than its group's primary is
// re-pointed; an empty extra primary inside a group becomes a replica. A group whose
// nodes all replicate other groups (no primary of its own, e.g. after replica
// migration or the loss of an empty primary) has one node reset so it can become the
// group's primary; that is safe because every slot is then served by another group.
//
// Extras (VMs that are leaving) are not joined: they are removed (replicas.ts).
import { REDIS_SLOTS, slotCount } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { groupName } from './names.ts';
import { isStandIn } from './stand-in.ts';

export function joinMembers(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  if (!ctx.running) return;
  for (let g = 0; g < d.nodeGroups; g++) {
    const gv = view.group(g);
    const p = gv.primary;
    for (const vm of gv.vms) {
      const node = view.node(vm);
      if (node === undefined || !node.up) continue;
      const wanted = layout.keepIds.has(vm.id) || isStandIn(ctx, vm);
      if (node.role === 'none') {
        if (!wanted || p === undefined) continue;
        batch.estimate(2);
        batch.add(
          { kind: 'joinReplica', vmId: vm.id, nodeId: node.id, primaryId: p.id },
          `${node.id} runs but has not joined: making it a replica of ${groupName(g)}'s primary ${p.id}`,
          { groups: [g], claim: 'shared', topology: true, joins: node.id },
        );
      } else if (node.role === 'replica' && p !== undefined) {
        if (node.primaryId === undefined) {
          batch.waitOn('replicas whose primary is not known yet', node.id);
        } else if (node.primaryId !== p.id && wanted) {
          batch.estimate(2);
          batch.add(
            { kind: 'joinReplica', vmId: vm.id, nodeId: node.id, primaryId: p.id },
            `${node.id} replicates ${node.primaryId}, not ${groupName(g)}'s primary ${p.id}: re-pointing it`,
            { groups: [g], claim: 'shared', topology: true, joins: node.id },
          );
        }
      } else if (node.role === 'primary' && p !== undefined && node !== p && slotCount(node) === 0 && wanted) {
        batch.estimate(2);
        batch.add(
          { kind: 'joinReplica', vmId: vm.id, nodeId: node.id, primaryId: p.id },
          `${node.id} is an empty primary beside ${groupName(g)}'s primary ${p.id}: making it a replica of ${p.id}`,
          { groups: [g], claim: 'shared', topology: true, joins: node.id },
        );
      }
    }
    resetOrphans(ctx, g);
  }
}

/** A wanted group whose nodes all replicate other groups: reset its first node (see the header). */
function resetOrphans(ctx: PlanContext, g: number): void {
  const { view, batch } = ctx;
  const gv = view.group(g);
  if (ctx.forming || gv.primary !== undefined || view.hidden > 0 || gv.creating > 0 || view.assigned !== REDIS_SLOTS) return;
  const nodes = gv.vms.flatMap((vm) => {
    const n = view.node(vm);
    return n === undefined ? [] : [n];
  });
  const first = nodes[0];
  if (first === undefined || !nodes.every((n) => n.up && n.role === 'replica')) return;
  batch.estimate(4);
  batch.add(
    { kind: 'removeNode', vmId: first.vmId, nodeId: first.id },
    `${groupName(g)} has no primary and its nodes replicate other node groups: resetting ${first.id} so it can become ${groupName(g)}'s primary (every slot is served elsewhere)`,
    { groups: [g], claim: 'exclusive', topology: true },
  );
}
