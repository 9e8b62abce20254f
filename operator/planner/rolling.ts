// The rolling machinery shared by restarts (runningSince raised), upgrades (version) and
// restart-only configuration changes (staleness: view.ts). Per node group, one node at a
// time, replicas first; node groups in parallel.
//
// In a settled group (every node up and healthy) whose kept nodes need a restart:
// 1. a kept replica that needs it is stopped (lowest id first; the version is installed
//    before, so the node is down only for the restart); drift.ts starts it again with
//    the desired labels, and the group waits until it is in sync;
// 2. when only the primary needs it, it hands its role to a healthy, up-to-date replica
//    (failover.ts; the old primary becomes a replica and goes through step 1);
// 3. when no replica is up to date but a leaving one is healthy, that one restarts first
//    so it can take over (replicationFactor 2 → 1 with an upgrade);
// 4. with no replica at all (replicationFactor 1): a stand-in joins first (stand-in.ts) —
//    a leaving VM of the group, or a temporary VM when allowTemporaryVms — else the plan
//    is blocked: the only copy of the group's data would go offline.
// While `running` is false nothing rolls: the next start applies the labels — except a
// group that must run a newer version before slots can move into it (ctx.upgradeFirst,
// node-groups.ts), while the cluster still runs for that move, until no replica of it is
// older than its primary (the failover that hands the primary role to an upgraded
// replica leaves the old primary older: it restarts next). Its only node (rf 1) simply
// restarts: the cluster is to stop anyway.
import type { ObservedDataNode } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { failoverTarget, failoverWait, olderVersion } from './failover.ts';
import { groupName, listIds } from './names.ts';

export function rollingRestart(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  if (!ctx.running) return;
  for (let g = 0; g < d.nodeGroups; g++) {
    if (!d.running && !ctx.upgradeFirst.has(g) && !replicaOlderThanPrimary(ctx, g)) continue;
    const gl = layout.group(g);
    const gv = view.group(g);
    const stale = gl.keep.filter((vm) => {
      const n = view.node(vm);
      return n !== undefined && view.isStale(n);
    });
    if (stale.length === 0) continue;
    batch.estimate(stale.length * 2 + 1);
    if (!batch.canClaim([g], 'exclusive')) continue;
    if (gl.missing > 0) {
      batch.waitOn('rolling restarts wait until their node group has all its VMs', groupName(g));
      continue;
    }
    if (!gv.settled) {
      const stuck = olderReplicaThatCannotSync(ctx, g);
      if (stuck !== undefined) {
        stopForRestart(ctx, g, stuck.vmId, stuck.id, `it cannot sync from its primary on a newer version until it restarts`);
        continue;
      }
      batch.waitOn('rolling restarts wait until every node of their node group is healthy', groupName(g));
      continue;
    }
    const p = gv.primary;
    if (p === undefined) continue;
    const replica = stale.map((vm) => view.node(vm)).find((n) => n !== undefined && n !== p);
    if (replica !== undefined) {
      stopForRestart(ctx, g, replica.vmId, replica.id, `replicas first`);
      continue;
    }
    const target = failoverTarget(view, layout, gv);
    if (target !== undefined) {
      const held = failoverWait(view);
      if (held !== undefined) {
        batch.waitOn(held, groupName(g));
      } else {
        batch.add(
          { kind: 'failover', vmId: target.vmId, nodeId: target.id },
          `${groupName(g)}'s primary ${p.id} needs a restart (${view.staleness(p).restart.join('; ')}): failing over to ${target.id} first`,
          { groups: [g], claim: 'exclusive', topology: true },
        );
      }
      continue;
    }
    const leavingStale = gv.vms
      .map((vm) => view.node(vm))
      .find((n) => n !== undefined && n !== p && n.role === 'replica' && view.isHealthy(n) && view.isStale(n));
    if (leavingStale !== undefined) {
      stopForRestart(ctx, g, leavingStale.vmId, leavingStale.id, `so it can take over from the primary ${p.id}`);
      continue;
    }
    const replicas = gv.vms.filter((vm) => view.node(vm) !== p);
    if (!d.running && replicas.length === 0) {
      stopForRestart(ctx, g, p.vmId, p.id, 'its only node (running is false: the cluster stops afterwards)');
      continue;
    }
    if (replicas.length > 0) {
      batch.waitOn(`${groupName(g)}'s primary waits for a replica that can take over`, listIds(replicas.map((v) => v.id)));
      continue;
    }
    if (!d.allowTemporaryVms) {
      batch.block(
        `${groupName(g)}: ${p.id} needs a restart (${view.staleness(p).restart.join('; ')}) but it is the only node of its node group; ` +
          'restarting it would take its data offline. Set "allowTemporaryVms": true so a temporary node can take over meanwhile, ' +
          'or raise "replicationFactor" to 2 first',
      );
      continue;
    }
    const vm = layout.newVm(g, true);
    batch.estimate(6);
    batch.add(
      { kind: 'createVm', vm },
      `${groupName(g)}'s only node ${p.id} needs a restart: adding temporary VM ${vm.id} in ${vm.zone} to take over meanwhile`,
      { groups: [g], claim: 'exclusive' },
    );
  }
}

/** A replica of group `g` runs an older version than its primary (it could not sync: it restarts next). */
function replicaOlderThanPrimary(ctx: PlanContext, g: number): boolean {
  const { view } = ctx;
  const gv = view.group(g);
  const p = gv.primary;
  if (p === undefined) return false;
  return gv.vms.some((vm) => {
    const n = view.node(vm);
    return n !== undefined && n.up && n.role === 'replica' && olderVersion(n.version, p.version);
  });
}

/**
 * The group is unsettled only because a replica runs an older version than its primary
 * (a failover handed the primary role to an upgraded node, then the old primary fell
 * behind): it cannot sync until it restarts on the newer version, and stopping it takes no
 * healthy node away. Every other node of the group is up and healthy.
 */
function olderReplicaThatCannotSync(ctx: PlanContext, g: number): ObservedDataNode | undefined {
  const { view } = ctx;
  const gv = view.group(g);
  const p = gv.primary;
  if (p === undefined || gv.creating > 0 || gv.hidden > 0) return undefined;
  let stuck: ObservedDataNode | undefined;
  for (const vm of gv.vms) {
    const n = view.node(vm);
    if (n === undefined) return undefined;
    if (view.isHealthy(n)) continue;
    const older = n.up && n.role === 'replica' && n.primaryId === p.id && olderVersion(n.version, p.version) && view.isStale(n);
    if (!older || stuck !== undefined) return undefined;
    stuck = n;
  }
  return stuck;
}

function stopForRestart(ctx: PlanContext, g: number, vmId: string, nodeId: string, order: string): void {
  const { view, batch, desired: d } = ctx;
  const vm = view.vmById.get(vmId);
  const node = view.nodeById.get(nodeId);
  if (vm === undefined || node === undefined) return;
  if (!view.hasVersion(vm, d.version)) {
    batch.add(
      { kind: 'ensureVersion', vmId, version: d.version },
      `${nodeId} restarts next on version ${d.version}: installing it before stopping the node`,
      { groups: [g], claim: 'exclusive' },
    );
    return;
  }
  batch.add(
    { kind: 'stopDataNode', vmId, nodeId },
    `${groupName(g)}: ${nodeId} needs a restart (${view.staleness(node).restart.join('; ')}); stopping it, ${order}`,
    { groups: [g], claim: 'exclusive' },
  );
}
