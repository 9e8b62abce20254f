// Replication factor, and the VMs a node group keeps or lets go (layout.ts decides which).
//
// Up: the VMs a group lacks are created all at once (zone rule in layout.ts), except the
// ones that replace a leaving VM, which vm-replace.ts creates one at a time; their nodes
// start (drift.ts) and join as replicas (membership.ts).
//
// Down, and every other extra VM (replaced, misplaced, temporary, excess): a VM without a
// data node is deleted at once; a node is removed (removeNode, then deleteVm) one at a
// time per group, never the primary (it first hands its role to a healthy kept replica),
// and only while the group keeps at least min(replicationFactor, healthy nodes now)
// healthy nodes — and at least two nodes while a kept node still needs a restart, so a
// rolling restart always has a replica to fail over to (replicationFactor 2 → 1 together
// with an upgrade: the upgrade runs first, through the leaving replica). Extras that are
// down or out of sync go first.
import type { ObservedVm } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { failoverTarget, failoverWait } from './failover.ts';
import { compareIds, groupName } from './names.ts';
import { standIn } from './stand-in.ts';

export function createMissingVms(ctx: PlanContext): void {
  const { layout, batch, desired: d } = ctx;
  for (let g = 0; g < d.nodeGroups; g++) {
    const gl = layout.group(g);
    // Leaving VMs are replaced one at a time (vm-replace.ts) — unless the cluster holds no
    // data, where nothing needs to be copied first.
    const covered = ctx.view.holdsData ? gl.extras.filter((vm) => !vm.temporary).length : 0;
    const direct = Math.max(0, gl.missing - covered);
    batch.estimate(direct * 3);
    for (let i = 0; i < direct; i++) {
      const vm = layout.newVm(g, false);
      batch.add(
        { kind: 'createVm', vm },
        `${groupName(g)} has ${gl.keep.length + i} of ${d.replicationFactor} nodes: adding ${vm.id} in ${vm.zone}`,
      );
    }
  }
}

/** Whether the group still needs a restart of one of its kept nodes. */
export function keptNodesStale(ctx: PlanContext, g: number): boolean {
  if (!ctx.desired.running) return false;
  return ctx.layout.group(g).keep.some((vm) => {
    const n = ctx.view.node(vm);
    return n !== undefined && ctx.view.isStale(n);
  });
}

export function removeExtras(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  for (let g = 0; g < d.nodeGroups; g++) {
    const gl = layout.group(g);
    if (gl.extras.length === 0) continue;
    const gv = view.group(g);
    const helper = standIn(ctx, g);
    const leaving = gl.extras.filter((vm) => vm !== helper);
    batch.estimate(leaving.length * 2);
    for (const vm of leaving) {
      if (view.alive(vm) && vm.dataNodes.length === 0) {
        batch.add({ kind: 'deleteVm', vmId: vm.id }, `${vm.id} is no longer needed in ${groupName(g)} and has no data node: deleting it`);
      }
    }
    if (!view.holdsData) {
      // No data anywhere: nodes go without ceremony (one step each, in parallel) — once up
      // and once every other node answers (running.ts starts them first).
      if (view.hidden > 0) continue;
      for (const vm of leaving) {
        const node = view.node(vm);
        if (node === undefined || !node.up) continue;
        batch.add({ kind: 'removeNode', vmId: vm.id, nodeId: node.id }, `${node.id} is no longer needed in ${groupName(g)}: removing it`, {
          groups: [g],
          claim: 'shared',
          topology: true,
        });
      }
      continue;
    }
    // Nodes that never joined hold nothing: they go at once, whatever the group's health.
    for (const vm of leaving) {
      const node = view.node(vm);
      if (node === undefined || !node.up || node.role !== 'none') continue;
      batch.add({ kind: 'removeNode', vmId: vm.id, nodeId: node.id }, `${node.id} never joined and is not needed in ${groupName(g)} (${reason(ctx, vm)}): removing it`, {
        groups: [g],
        claim: 'shared',
        topology: true,
      });
    }
    // A member that is down would gossip a removed node back in when it returns (the agent
    // refuses then): members leave only while every node answers.
    if (!ctx.running || view.hidden > 0 || gv.creating > 0) {
      if (view.hidden > 0) batch.waitOn('nodes leave the cluster once every node answers; waiting for', groupName(g));
      continue;
    }
    const candidates = leaving
      .filter((vm) => view.node(vm) !== undefined && view.node(vm)?.role !== 'none')
      .sort((a, b) => rank(ctx, a) - rank(ctx, b) || compareIds(b.id, a.id));
    const stale = keptNodesStale(ctx, g);
    const nodes = gv.vms.filter((v) => view.node(v) !== undefined).length;
    for (const vm of candidates) {
      const node = view.node(vm);
      if (node === undefined) continue;
      const healthyNow = gv.healthy;
      const after = healthyNow - (view.isHealthy(node) ? 1 : 0);
      const need = Math.min(d.replicationFactor, healthyNow);
      // A kept node still needs a restart: keep a second node for it to fail over to,
      // even while that one is re-syncing (counted as a node, not as healthy).
      if (after < need || after < 1 || (stale && nodes - 1 < 2)) {
        batch.waitOn(`VMs leaving ${groupName(g)} wait until its kept nodes are healthy`, vm.id);
        break;
      }
      if (node === gv.primary) {
        // While stopping, labels do not matter (the next start applies them): any healthy kept replica.
        const target = failoverTarget(view, layout, gv, { keptOnly: true, upToDate: d.running });
        if (target === undefined) {
          batch.waitOn(`${groupName(g)}'s primary is leaving and waits for a healthy, up-to-date kept replica to take over`, node.id);
          break;
        }
        const held = failoverWait(view);
        if (held !== undefined) {
          batch.waitOn(held, groupName(g));
          break;
        }
        batch.add(
          { kind: 'failover', vmId: target.vmId, nodeId: target.id },
          `${node.id} leaves ${groupName(g)} (${reason(ctx, vm)}): handing its primary role to ${target.id} first`,
          { groups: [g], claim: 'exclusive', topology: true },
        );
        break;
      }
      batch.add({ kind: 'removeNode', vmId: vm.id, nodeId: node.id }, `${node.id} leaves ${groupName(g)} (${reason(ctx, vm)}): removing it from the cluster`, {
        groups: [g],
        claim: 'exclusive',
        topology: true,
      });
      break;
    }
  }
}

/** Order of removal: nodes that serve nothing first (down, out of sync), the primary last. */
function rank(ctx: PlanContext, vm: ObservedVm): number {
  const node = ctx.view.node(vm);
  if (node === undefined) return 0;
  if (node === ctx.view.group(vm.nodeGroup).primary) return 3;
  if (!node.up) return 0;
  return ctx.view.isHealthy(node) ? 2 : 1;
}

/** Why a VM leaves its group, in words. */
export function reason(ctx: PlanContext, vm: ObservedVm): string {
  const d = ctx.desired;
  const gl = ctx.layout.group(vm.nodeGroup);
  if (!gl.wanted) return `nodeGroups is ${d.nodeGroups}`;
  if (vm.temporary) return 'a temporary VM, no longer needed';
  const why: string[] = [];
  if (vm.vmType !== d.vmType) why.push(`vmType ${vm.vmType} → ${d.vmType}`);
  if (vm.storageGiB !== d.storageGiB) why.push(`storageGiB ${vm.storageGiB} → ${d.storageGiB}`);
  if (!d.availabilityZones.includes(vm.zone)) why.push(`zone ${vm.zone} is no longer listed`);
  if (why.length > 0) return why.join(', ');
  if (gl.misplaced === vm) return `${groupName(vm.nodeGroup)} spreads better over the zones with it elsewhere than in ${vm.zone}`;
  return `replicationFactor is ${d.replicationFactor}`;
}
