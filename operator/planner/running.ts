// running: false / true.
//
// `running: false` stops every data node, replicas first (one batch), then primaries —
// but only once no work remains that needs running nodes. The transition rules accept a
// desired state that stops the cluster together with changes that move or copy data
// (node groups, new replicas, VM replacement, a new backup, …): the planner does that work
// first, with the cluster running, then stops it. While it is stopped, label-only changes
// (version, runningSince, config) wait for the next start, which applies them; agents
// may restart and backups may be deleted.
//
// A cluster that never held data (never formed, no slot assigned) is not started for
// such work: its VMs are created and removed as they are — except that a node that must
// leave and is down is started first (it may be a member the others remember), and
// except for the backups its desired state lists (foundingWork): each must exist, so the
// cluster is founded with running false too (restored first, if it restores), the
// backups are taken, then its nodes stop. Before, such a desired state was reported done
// without them: accepted but never reached. Validation lets a stopped cluster list
// backups only once a desired state ran it (desired-state/transition.ts), so founding
// it cannot pre-empt a restoreFromBackup set later (one is set only before it first ran).
// A cluster that is founded but not yet restored (it stopped in between) is restored
// with running false as well; one that was never founded is restored when it first runs.
//
// `running: true` after a stop: every stopped node starts at once (drift.ts), their roles
// are in their nodes.conf.
import { REDIS_SLOTS } from '../model/observed.ts';
import { missingBackups } from './backups.ts';
import type { PlanContext } from './context.ts';
import type { Layout } from './layout.ts';
import { groupName, listIds } from './names.ts';
import { restorePending } from './restore.ts';
import { isBalanced } from './slots.ts';
import type { ClusterView } from './view.ts';

/** Work that needs running data nodes (the first found, in words), or undefined. */
export function workNeedingNodes(view: ClusterView, layout: Layout): string | undefined {
  // A node that leaves must be up to leave cleanly: a node that is down may be a member
  // (other nodes would remember it, maybe as the owner of slots) and cannot be asked.
  // Until then the cluster keeps running (a stop would race with the removal).
  for (const [index, gl] of layout.groups) {
    for (const vm of gl.extras) {
      const node = view.node(vm);
      if (node !== undefined && !node.up) return `${node.id} leaves ${groupName(index)} and is down: it starts so it can leave cleanly`;
      if (node !== undefined) return `${node.id} leaves ${groupName(index)} first`;
    }
  }
  const founding = view.observed.facts.formed ? undefined : foundingWork(view);
  if (founding !== undefined) return founding;
  if (!view.holdsData) return undefined;
  const d = view.desired;
  for (const [index, gl] of layout.groups) {
    if (!gl.wanted && gl.extras.length > 0) return `${groupName(index)} is to be removed`;
    if (gl.missing > 0) return `${groupName(index)} lacks ${gl.missing} of ${d.replicationFactor} VMs`;
    if (gl.extras.length > 0) return `${groupName(index)} has VMs to remove (${listIds(gl.extras.map((v) => v.id))})`;
    for (const vm of gl.keep) {
      const node = view.node(vm);
      if (view.alive(vm) && node === undefined) return `${vm.id} has no data node yet`;
      if (node !== undefined && node.up && node.role === 'none') return `${node.id} has not joined the cluster yet`;
    }
  }
  if (view.assigned === REDIS_SLOTS) {
    const counts = new Map<number, number>();
    for (const g of view.groupIndexes()) counts.set(g, view.group(g).slots);
    if (!isBalanced(counts, d.nodeGroups)) return 'the slots are not balanced over the node groups';
  }
  const backups = view.observed.backups;
  if (view.observed.facts.formed && backups !== undefined) {
    for (const b of d.backups) {
      const key = `${b.sink.type}:${b.sink.path}`;
      if (!backups.some((o) => o.id === b.id && o.sink === key && o.complete)) return `backup "${b.id}" is to be taken`;
    }
  }
  return undefined;
}

/**
 * What a cluster that is not formed yet must still do with running nodes whatever
 * `running` says (in words), or undefined (see the header): the restore, once the cluster
 * is founded; the backups desired.backups lists (a backup of a cluster without data is an
 * empty one), once the sinks can be listed — but not the one restoreFromBackup names:
 * that one exists, or the restore fails for it when the cluster runs.
 */
export function foundingWork(view: ClusterView): string | undefined {
  const d = view.desired;
  const r = d.restoreFromBackup;
  if (r !== undefined && view.holdsData && restorePending(view)) return `backup "${r.id}" is to be restored into the new cluster`;
  const backups = view.observed.backups;
  if (backups === undefined) return undefined;
  const missing = missingBackups({ desired: d }, backups).find((b) => r === undefined || b.id !== r.id || b.sink.path !== r.sink.path || b.sink.type !== r.sink.type);
  if (missing !== undefined) return `backup "${missing.id}" is to be taken, which needs the cluster founded`;
  return undefined;
}

/** Stops every data node once running is false and nothing needs them (see the header). */
export function stopNodes(ctx: PlanContext): void {
  const { view, batch, desired: d } = ctx;
  if (d.running || ctx.running) return;
  const up = view.vms.flatMap((vm) => {
    const n = view.node(vm);
    return n !== undefined && n.up ? [n] : [];
  });
  if (up.length === 0) return;
  const replicas = up.filter((n) => n.role !== 'primary');
  const first = view.holdsData && replicas.length > 0 ? replicas : up;
  batch.estimate(up.length);
  for (const node of first) {
    const role = node.role === 'primary' ? 'primary' : node.role === 'replica' ? 'replica' : 'node';
    batch.add({ kind: 'stopDataNode', vmId: node.vmId, nodeId: node.id }, `running is false: stopping ${role} ${node.id}${first === replicas ? ' (replicas first)' : ''}`, {
      groups: [view.groupOfNode.get(node.id) ?? node.nodeGroup],
      claim: 'shared',
    });
  }
}
