// plan(desired, observed): the next batch of steps towards the desired state.
//
// Pure and deterministic (no I/O, clock or randomness; the input is never mutated) and
// level-based: it reads what is and returns only what can run NOW, all in parallel;
// the executor carries the batch out, observes again and calls plan again, so every
// multi-step procedure (restart, replacement, scale-out …) advances one level per call
// and resumes from any observation, e.g. after a leader restart.
//
// Concerns run in priority order (each in its own file); the batch (batch.ts) lets the
// first concern that claims a node group keep it, so work on different groups runs in
// parallel while a group gets at most one disruptive step. `done` is decided separately
// (differences.ts); when something differs and no concern can act or says why, the plan
// says so in `waiting` rather than claiming to be done.
import type { Desired } from '../../desired-state/types.ts';
import { REDIS_SLOTS, type ObservedCluster } from '../model/observed.ts';
import type { Plan } from '../model/step.ts';
import { restartAgents } from './agent-restart.ts';
import { Batch } from './batch.ts';
import { reconcileBackups } from './backups.ts';
import { formCluster } from './bootstrap.ts';
import { configureLive } from './config.ts';
import type { PlanContext } from './context.ts';
import { checkDataLoss } from './data-loss.ts';
import { differences } from './differences.ts';
import { repairNodes, repairVms } from './drift.ts';
import { computeLayout } from './layout.ts';
import { joinMembers } from './membership.ts';
import { joinNewGroupPrimaries, moveSlots, removeLeavingGroups } from './node-groups.ts';
import { createMissingVms, removeExtras } from './replicas.ts';
import { restoreBackup, restorePending } from './restore.ts';
import { rollingRestart } from './rolling.ts';
import { stopNodes, workNeedingNodes } from './running.ts';
import { forgetStrangers } from './strangers.ts';
import { installVersions } from './upgrade.ts';
import { ClusterView } from './view.ts';
import { replaceVms } from './vm-replace.ts';

/** The concerns, highest priority first. */
const CONCERNS: readonly ((ctx: PlanContext) => void)[] = [
  repairVms, // failed VMs, dead agents
  formCluster, // a new cluster: found it, primaries claim their shares
  restoreBackup, // fill a new cluster from a backup
  stopNodes, // running: false, once nothing needs the nodes
  repairNodes, // nodes down, kept VMs without a node
  forgetStrangers, // failed members no VM runs: forgotten by every member, before topology work
  installVersions, // binaries ahead of a rolling upgrade
  createMissingVms, // replication factor up, new node groups, lost VMs
  joinMembers, // new nodes join their group, wrong primaries re-pointed
  joinNewGroupPrimaries, // a new group's first node joins as an empty primary
  moveSlots, // balance, and drain groups that go away
  removeLeavingGroups, // groups ≥ nodeGroups once drained
  removeExtras, // replication factor down, replaced and temporary VMs
  rollingRestart, // restart, upgrade, restart-only config
  replaceVms, // vmType, storageGiB, zones: one VM at a time
  configureLive, // live config
  restartAgents, // agentRunningSince
  reconcileBackups, // backups to take and to delete
];

export function plan(desired: Desired, observed: ObservedCluster): Plan {
  const ctx = planContext(desired, observed);
  const { batch } = ctx;
  checkDataLoss(ctx);
  if (batch.blocked.length === 0) for (const concern of CONCERNS) concern(ctx);
  const blocked = batch.blocked;
  if (blocked.length > 0) return { next: [], done: false, waiting: [], remaining: Math.max(1, batch.estimated), blocked };
  const next = batch.steps;
  let waiting = batch.waiting;
  const diffs = next.length === 0 && waiting.length === 0 ? differences(ctx) : [];
  if (diffs.length > 0) waiting = diffs.map((d) => `no step can be planned yet for: ${d}`);
  const done = next.length === 0 && waiting.length === 0;
  return { next, done, waiting, remaining: done ? 0 : Math.max(next.length, batch.estimated, 1), blocked: [] };
}

/** What every concern reads: the index of the observation, the target layout, an empty batch and the derived facts (context.ts). */
export function planContext(desired: Desired, observed: ObservedCluster): PlanContext {
  const view = new ClusterView(desired, observed);
  const layout = computeLayout(view, desired.running);
  const batch = new Batch(
    view.topologyAgrees,
    (nodeId) => view.nodeById.get(nodeId)?.vmId,
    (nodeId) => view.agreesWithout(nodeId),
  );
  return {
    desired,
    view,
    layout,
    batch,
    running: desired.running || workNeedingNodes(view, layout) !== undefined,
    forming: !observed.facts.formed && view.assigned < REDIS_SLOTS,
    restorePending: restorePending(view),
    upgradeFirst: new Set(),
  };
}
