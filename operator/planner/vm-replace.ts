// VM replacement: vmType or storageGiB changed, a VM's zone is no longer listed, or a
// group's zone spread can improve (layout.ts). One VM at a time across the cluster: the
// new VM is created in the group (zone rule), its node starts and joins as a replica
// (drift.ts, membership.ts); once it is in sync the old VM leaves (replicas.ts: failover
// first when it is the primary, then removeNode, deleteVm).
//
// A replacement needs one VM more than replicationFactor for its duration, also when
// replicationFactor = maxReplicationFactor: maxReplicationFactor bounds the replicas the
// desired state asks for, not the VMs the leader uses while it works (as in managed
// RonDB, where a VM change always adds the new VM before the old one goes).
import type { PlanContext } from './context.ts';
import { groupName } from './names.ts';
import { reason } from './replicas.ts';

/** Every VM of the group answers with a healthy node, but leaving VMs without a node (deleted now). */
function ready(ctx: PlanContext, g: number): boolean {
  const { view, layout } = ctx;
  const gv = view.group(g);
  if (gv.creating > 0 || gv.hidden > 0) return false;
  for (const vm of gv.vms) {
    const node = view.node(vm);
    if (node === undefined ? layout.keepIds.has(vm.id) || !view.alive(vm) : !view.isHealthy(node)) return false;
  }
  return true;
}

export function replaceVms(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  // Without data, leaving VMs need no stand-in: replicas.ts creates every missing VM at once.
  if (!ctx.running || !view.holdsData) return;
  let pending = 0;
  let first: number | undefined;
  for (let g = 0; g < d.nodeGroups; g++) {
    const gl = layout.group(g);
    // VMs that no longer have a data node are deleted in this batch (replicas.ts).
    const leaving = gl.extras.filter((vm) => !vm.temporary && !(view.alive(vm) && vm.dataNodes.length === 0)).length;
    const covered = Math.min(gl.missing, leaving);
    pending += covered;
    if (covered > 0 && first === undefined) first = g;
    // A replacement is under way while a group keeps more leaving VMs than it lacks.
    if (leaving > gl.missing) {
      batch.estimate(6);
      return;
    }
  }
  if (first === undefined) return;
  batch.estimate(pending * 6);
  for (let g = 0; g < d.nodeGroups; g++) {
    if (!ready(ctx, g)) {
      batch.waitOn('VM replacements wait until every node group is healthy', groupName(g));
      return;
    }
  }
  const gl = layout.group(first);
  const old = gl.extras.find((vm) => !vm.temporary);
  const vm = layout.newVm(first, false);
  batch.add(
    { kind: 'createVm', vm },
    `${groupName(first)}: ${vm.id} in ${vm.zone} replaces ${old?.id ?? 'a leaving VM'}${old === undefined ? '' : ` (${reason(ctx, old)})`}; one VM at a time`,
    { groups: [first], claim: 'shared' },
  );
}
