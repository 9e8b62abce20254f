// Planted bugs for the independent oracle (oracle.ts): each is one that the old checks —
// the world's own (world.ts) and checkStepSafety on every plan (plan-unsafe) — miss, and
// the oracle catches. oracle.test.ts asserts both, scenario by scenario.
//
// - stop-while-replica-syncs: the planner believes a replica that is still syncing is in
//   sync (a wrong "in sync" in the rolling rule only), so rolling work stops the next node
//   of a group while another replica of it is still catching up. The world counts only
//   nodes that are down; checkStepSafety too. Oracle: oracle-stopped-while-syncing.
// - two-disruptive-in-a-group: the batching rule lets a failover share a batch with a stop
//   of another replica of the same group. The rule lives on the view the planner and the
//   checker share (batch.ts's group claims, invariants.ts's disruptive steps per group,
//   both keyed by ClusterView.groupOfNode): the mutant is the same wrong rule in both, so
//   plan-unsafe stays quiet; the world has no such check. Oracle: oracle-batch-group.
// - shared-isHealthy-ignores-sync: a mutant of a SHARED helper — ClusterView.isHealthy taking
//   a replica that is still syncing for a healthy one — in the planner and in the checker,
//   which both build their view from the observation: the mutant hands both an observation
//   in which every replica is in sync. The real checker alone catches the planner's
//   mistakes (planner-only variant: plan-unsafe); with the shared helper wrong, it does not.
import type { ObservedCluster, ObservedDataNode } from '../../operator/model/observed.ts';
import type { PlannedStep, Plan, Step } from '../../operator/model/step.ts';
import type { PlantedBug } from './planted-bugs.ts';

const nodesOf = (o: ObservedCluster): ObservedDataNode[] => o.vms.flatMap((v) => v.dataNodes);

/** The observation with every up replica shown as in sync (what a wrong isHealthy believes). */
export function allInSync(o: ObservedCluster): ObservedCluster {
  return { ...o, vms: o.vms.map((v) => ({ ...v, dataNodes: v.dataNodes.map((n) => (n.role === 'replica' && n.up ? { ...n, inSync: true } : n)) })) };
}

function withNext(plan: Plan, next: PlannedStep[]): Plan {
  return { ...plan, next, done: plan.done && next.length === 0 };
}

const vmOfStep = (s: Step): string | undefined => ('vmId' in s ? s.vmId : undefined);

/** Stops the next node of a group while another replica still syncs; hides the failovers that would betray it (they would name a replica not in sync). */
export const stopWhileReplicaSyncs: PlantedBug = {
  name: 'stop-while-replica-syncs',
  breaks: 'a group keeps its complete copies during rolling work: no stop while another replica of the group is still syncing (invariant 1)',
  planner: (real) => (d, o) => {
    const syncing = new Set(nodesOf(o).filter((n) => n.role === 'replica' && n.up && !n.inSync).map((n) => n.id));
    if (syncing.size === 0) return real(d, o);
    // What the wrong "in sync" plans, but only its stops (a failover or removal it plans would name a syncing replica).
    const plan = real(d, allInSync(o));
    const stops = plan.next.filter((p) => p.step.kind === 'stopDataNode' && !syncing.has(p.step.nodeId));
    return stops.length === 0 ? real(d, o) : withNext(plan, stops);
  },
  budget: 300,
};

/** A failover of another in-sync replica beside the stop of a replica of the same group, in one batch; the checker's copy of the rule has the same hole. */
export const twoDisruptiveInAGroup: PlantedBug = {
  name: 'two-disruptive-in-a-group',
  breaks: 'at most one disruptive step (stop, failover, removal) per node group in a batch (invariant 1)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    if (!d.running) return plan;
    const used = new Set(plan.next.flatMap((p) => vmOfStep(p.step) ?? []));
    const extra: PlannedStep[] = [];
    for (const p of plan.next) {
      if (p.step.kind !== 'stopDataNode') continue;
      const stopped = nodesOf(o).find((n) => n.id === (p.step as { nodeId: string }).nodeId);
      if (stopped === undefined || stopped.role !== 'replica') continue;
      const group = nodesOf(o).filter((n) => n.id === stopped.primaryId || (n.role === 'replica' && n.primaryId === stopped.primaryId));
      const other = group.find((n) => n.up && n.role === 'replica' && n.inSync && n.id !== stopped.id && !used.has(n.vmId));
      // Only where the failover is otherwise sound (no version order at stake): the one hole is the batch.
      if (other === undefined || group.some((n) => n.version !== other.version)) continue;
      used.add(other.vmId);
      extra.push({ step: { kind: 'failover', vmId: other.vmId, nodeId: other.id }, why: `planted bug: fail over to ${other.id} beside the stop of ${stopped.id}` });
    }
    return extra.length === 0 ? plan : withNext(plan, [...plan.next, ...extra]);
  },
  // The same hole in the checker's copy of the rule: a failover does not count as disruptive.
  stepSafety: (real) => (d, o, batch) => {
    const failovers = new Set(batch.flatMap((s) => (s.kind === 'failover' ? [s.vmId] : [])));
    if (failovers.size === 0) return real(d, o, batch);
    const rest = batch.filter((s) => s.kind !== 'failover');
    return [...real(d, o, rest), ...real(d, o, batch.filter((s) => s.kind === 'failover')).filter((v) => !v.includes('disruptive steps'))];
  },
  budget: 300,
};

/** The shared helper wrong for planner and checker alike: a syncing replica counts as healthy. */
export const sharedIsHealthy: PlantedBug = {
  name: 'shared-isHealthy-ignores-sync',
  breaks: 'ClusterView.isHealthy, shared by the planner and checkStepSafety, counts a replica that is still syncing as healthy',
  planner: (real) => (d, o) => real(d, allInSync(o)),
  stepSafety: (real) => (d, o, batch) => real(d, allInSync(o), batch),
  budget: 300,
};

/** The same mutant in the planner only: the real checker (its own helper right) sees what the planner got wrong. */
export const plannerOnlyIsHealthy: PlantedBug = {
  name: 'planner-only-isHealthy-ignores-sync',
  breaks: 'the planner alone counts a replica that is still syncing as healthy',
  planner: sharedIsHealthy.planner as NonNullable<PlantedBug['planner']>,
  budget: 300,
};

export const ORACLE_BUGS: readonly PlantedBug[] = [stopWhileReplicaSyncs, twoDisruptiveInAGroup, sharedIsHealthy];
