// What differs between the observation and the desired state, in words — the planner's
// own definition of AT_DESIRED_STATE, written independently of the concerns that plan the
// steps, so that a gap in them shows as "waiting" instead of a false "done".
//
// Running: every kept group has replicationFactor conforming VMs spread as evenly as the
// zones allow, no other VM exists, every agent answers with the desired
// agentRunningSince, every node is up, healthy and carries the desired version,
// runningSince (≥) and config, every slot is served and the groups are balanced, the
// members agree on the topology, no up node reports a failed member that no observed node
// is (a stranger: strangers.ts), the restore (if any) is done, the listed backups exist
// and no other backup (but the restore's) does.
// Stopped: the same for VMs, agents and backups; no data node runs; labels are not
// compared (the next start applies them); the listed backups exist — a cluster that
// never held data is founded for them (running.ts) — and a founded cluster is restored.
import { REDIS_SLOTS, strangers, type ObservedDataNode } from '../model/observed.ts';
import { shortEngineId } from '../model/step.ts';
import type { PlanContext } from './context.ts';
import { missingBackups, unwantedBackups } from './backups.ts';
import { groupName, listIds } from './names.ts';
import { isBalanced } from './slots.ts';
import type { ClusterView } from './view.ts';

const MAX = 10;

export function differences(ctx: PlanContext): string[] {
  const { view, layout, desired: d } = ctx;
  const out: string[] = [];
  const push = (s: string): boolean => {
    out.push(s);
    return out.length >= MAX;
  };
  for (const [g, gl] of layout.groups) {
    if (!gl.wanted && gl.extras.length > 0 && push(`${groupName(g)} should not exist`)) return out;
    if (gl.wanted && gl.missing > 0 && push(`${groupName(g)} has ${gl.keep.length} of ${d.replicationFactor} conforming VMs`)) return out;
    if (gl.wanted && gl.extras.length > 0 && push(`${groupName(g)} has ${gl.extras.length} VMs to remove`)) return out;
  }
  for (const vm of view.vms) {
    if (!view.alive(vm) && push(`${vm.id} is ${vm.state === 'running' ? 'without an answering agent' : vm.state}`)) return out;
    if (vm.agentRunningSince < d.agentRunningSince && push(`the agent of ${vm.id} runs for agentRunningSince ${vm.agentRunningSince}`)) return out;
    const node = view.node(vm);
    if (d.running) {
      if (node === undefined) {
        if (view.alive(vm) && push(`${vm.id} has no data node`)) return out;
        continue;
      }
      if (!node.up && push(`${node.id} is down`)) return out;
      const unhealthy = node.up && !view.isHealthy(node) ? whyUnhealthy(view, node) : undefined;
      if (unhealthy !== undefined && push(unhealthy)) return out;
      const s = view.staleness(node);
      if (s.restart.length > 0 && push(`${node.id} needs a restart: ${s.restart.join('; ')}`)) return out;
      if (!s.configEqual && s.restart.length === 0 && push(`${node.id} lacks live parameters ${Object.keys(s.live).join(', ')}`)) return out;
    } else if (node?.up === true && push(`${node.id} runs, but running is false`)) {
      return out;
    }
  }
  if (d.running) {
    for (let g = 0; g < d.nodeGroups; g++) {
      if (view.group(g).primary === undefined && push(noPrimary(view, g))) return out;
    }
    if (view.assigned < REDIS_SLOTS && push(`${REDIS_SLOTS - view.assigned} slots are not served`)) return out;
    const counts = new Map<number, number>();
    for (const g of view.groupIndexes()) counts.set(g, view.group(g).slots);
    if (view.assigned === REDIS_SLOTS && !isBalanced(counts, d.nodeGroups) && push('the slots are not balanced')) return out;
    if (!view.topologyAgrees && push('the nodes do not agree on the topology')) return out;
  }
  // Whatever `running` says: an up node that still lists one is not done with it.
  for (const id of strangers(view.observed)) if (push(`failed node ${shortEngineId(id)} is still known to the cluster`)) return out;
  // A stopped cluster that was never founded is restored when it first runs.
  if (ctx.restorePending && (d.running || view.holdsData) && push(`backup "${d.restoreFromBackup?.id ?? ''}" is not restored yet`)) return out;
  const backups = view.observed.backups;
  if (backups === undefined) {
    push('the backups cannot be listed');
    return out;
  }
  for (const b of missingBackups(ctx, backups)) if (push(`backup "${b.id}" is missing`)) return out;
  for (const b of unwantedBackups(ctx, backups)) if (push(`backup "${b.id}" in ${b.sink} is to be deleted`)) return out;
  return out;
}

/**
 * Why an up node is not healthy (view.isHealthy), in words; undefined when its group shows
 * no primary: then the node itself may be fine, and the group's line (noPrimary) says why.
 */
function whyUnhealthy(view: ClusterView, node: ObservedDataNode): string | undefined {
  const group = view.groupOf(node);
  const primary = group.primary;
  if (primary === undefined) return undefined;
  const name = groupName(group.index);
  switch (node.role) {
    case 'primary':
      return `${node.id} is a second primary in ${name} (${primary.id} serves the most slots)`;
    case 'replica':
      if (node.primaryId !== primary.id) return `${node.id} replicates ${node.primaryId ?? 'an unknown node'}, not ${primary.id}, the primary of ${name}`;
      return `${node.id} has not finished its initial sync with ${primary.id}`;
    default:
      return `${node.id} is not a member of the cluster yet`;
  }
}

/** Why node group `g` shows no primary: none runs, or the nodes that might be it cannot be seen. */
function noPrimary(view: ClusterView, g: number): string {
  const unseen = view.group(g).vms.filter((vm) => vm.state === 'running' && !vm.agentUp).map((vm) => vm.id);
  if (unseen.length === 0) return `${groupName(g)} has no running primary`;
  const whose = unseen.length === 1 ? 'the agent of' : 'the agents of';
  const answer = unseen.length === 1 ? 'does not answer, so its data node' : 'do not answer, so their data nodes';
  return `${groupName(g)} shows no primary: ${whose} ${listIds(unseen)} ${answer} cannot be seen`;
}
