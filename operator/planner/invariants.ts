// The safety invariants (docs/invariants.md) as a checker of one batch against the
// observation it was planned from: checkStepSafety returns every violation, in words;
// [] means the batch is safe to run all at once. plan() must never return a batch it
// refuses (a property test asserts that), and the generative tests use it beside their
// own checks of the simulated world.
//
// It judges steps by their effect, not by the planner's reasons:
// 1. a node group that holds data keeps an up node; rolling work (stops) takes down at
//    most one node per group; a removal leaves at least min(replicationFactor, healthy
//    now) healthy nodes; at most one disruptive step (stop, failover, slot move, removal
//    of a member) per group — stops for running: false excepted;
// 2. a primary is not stopped while its group has another up node (running: false:
//    replicas first); a failover promotes only a healthy replica, never one newer than
//    another replica of the group; a primary is removed only after its replicas;
// 3. no node, VM or group going away (index ≥ nodeGroups) is removed while it serves
//    slots or cannot be seen; a member is removed only while every node answers (one that
//    is down would gossip it back in); a VM is deleted only without a data node;
// 4. the backup restoreFromBackup names is never deleted;
// and the rules that keep steps from racing or splitting the cluster: one step per VM;
// topology changes only when the members agree; one slot move per source and per target,
// naming exact slots its source serves (a repeat then moves nothing: invariant 5),
// never from a primary to one on an older version (MIGRATE payloads do not load there);
// no second cluster founded; no slots claimed once the cluster holds data; a node starts
// only on a version its VM has; restore only into a cluster that never held data, alone;
// a node is forgotten (forgetNode) only when an up node reports it as a failed member and
// no observed node is it, while every VM's agent answers and every node's engine id is
// known (a node that cannot be seen may be the one forgotten: the id of a node the leader
// runs is never forgotten).
import type { Desired } from '../../desired-state/types.ts';
import { REDIS_SLOTS, slotCount, type ObservedCluster, type ObservedDataNode } from '../model/observed.ts';
import { describeStep, type Step } from '../model/step.ts';
import { stepVms } from './batch.ts';
import { olderVersion, versionOrderAllows } from './failover.ts';
import { groupName } from './names.ts';
import { rangesCover, rangesDisjoint } from '../../common/slot-ranges.ts';
import { ClusterView } from './view.ts';

const TOPOLOGY = new Set<Step['kind']>(['joinPrimary', 'joinReplica', 'failover', 'moveData', 'removeNode', 'createBackup', 'deleteBackup', 'restoreBackup']);

export function checkStepSafety(desired: Desired, observed: ObservedCluster, batch: readonly Step[]): string[] {
  const view = new ClusterView(desired, observed);
  const vmOfNode = (nodeId: string): string | undefined => view.nodeById.get(nodeId)?.vmId;
  const out: string[] = [];
  const say = (step: Step, what: string): void => {
    out.push(`${describeStep(step)}: ${what}`);
  };

  // One step per VM; new VM ids are new.
  const perVm = new Map<string, Step[]>();
  for (const step of batch) {
    for (const vmId of stepVms(step, vmOfNode)) {
      const list = perVm.get(vmId);
      if (list === undefined) perVm.set(vmId, [step]);
      else list.push(step);
    }
    if (step.kind === 'createVm' && view.vmById.has(step.vm.id)) say(step, `${step.vm.id} already exists`);
  }
  for (const [vmId, steps] of perVm) {
    if (steps.length > 1) out.push(`${steps.length} steps act on ${vmId} in one batch (${steps.map(describeStep).join('; ')})`);
  }

  // Topology changes need agreement.
  if (!view.topologyAgrees) {
    for (const step of batch) {
      // A join of the only member that disagrees (a half-joined node) is what ends it.
      if (step.kind === 'joinReplica' && view.agreesWithout(step.nodeId)) continue;
      if (TOPOLOGY.has(step.kind)) say(step, 'the members do not agree on the topology yet');
    }
  }

  const stopping = new Set(batch.flatMap((s) => (s.kind === 'stopDataNode' ? [s.nodeId] : [])));
  const removing = new Set(batch.flatMap((s) => (s.kind === 'removeNode' ? [s.nodeId] : [])));
  const stopped = new Set<string>();
  const removed = new Set<string>();
  const started = new Set<string>();
  const touched = new Map<number, Step[]>(); // disruptive steps per group
  const disrupt = (g: number | undefined, step: Step): void => {
    if (g === undefined) return;
    const list = touched.get(g);
    if (list === undefined) touched.set(g, [step]);
    else list.push(step);
  };
  const groupOf = (nodeId: string): number | undefined => view.groupOfNode.get(nodeId);
  const moveSources = new Set<string>();
  const moveTargets = new Set<string>();
  const restoreId = desired.restoreFromBackup?.id;

  for (const step of batch) {
    switch (step.kind) {
      case 'stopDataNode': {
        stopped.add(step.nodeId);
        if (desired.running) disrupt(groupOf(step.nodeId), step);
        const node = view.nodeById.get(step.nodeId);
        if (node === undefined || !node.up || node.role !== 'primary') break;
        const others = otherUpNodes(view, node, stopping);
        if (desired.running && others.length > 0) {
          say(step, `it is the primary of ${groupName(view.groupOf(node).index)} while ${others[0]?.id ?? ''} is up: fail over first`);
        } else if (!desired.running) {
          const replica = others.find((n) => n.role === 'replica');
          if (replica !== undefined) say(step, `replica ${replica.id} still runs: stop replicas first`);
        }
        break;
      }
      case 'startDataNode': {
        started.add(step.nodeId);
        const vm = view.vmById.get(step.vmId);
        if (vm !== undefined && !view.hasVersion(vm, step.version)) say(step, `${step.vmId} does not have version ${step.version}: ensureVersion first`);
        const g = view.group(vm?.nodeGroup ?? step.nodeGroup);
        // Only a node that existed can come back as a primary (a new node joins first).
        // The hazard is an UPGRADE on start: a node that already ran this version changes nothing.
        const before = vm?.dataNodes[0];
        const upgrades = before !== undefined && olderVersion(before.version, step.version);
        if (upgrades && (g.primary === undefined || g.primary.id === step.nodeId)) {
          for (const other of g.vms) {
            const n = view.node(other);
            if (n !== undefined && n.up && n.id !== step.nodeId && n.role === 'replica' && olderVersion(n.version, step.version)) {
              say(step, `it may come back as the primary of ${groupName(g.index)} on ${step.version} while replica ${n.id} runs ${n.version}, which cannot sync from it`);
              break;
            }
          }
        }
        break;
      }
      case 'failover': {
        disrupt(groupOf(step.nodeId), step);
        const node = view.nodeById.get(step.nodeId);
        if (node === undefined || node.role !== 'replica' || !view.isHealthy(node)) {
          say(step, `${step.nodeId} is not a healthy replica in sync with its group's primary`);
        } else if (!versionOrderAllows(view, view.groupOf(node), node)) {
          say(step, `another replica of ${groupName(view.groupOf(node).index)} runs an older version than ${node.id} and could not sync from it`);
        }
        break;
      }
      case 'moveData': {
        const from = view.nodeById.get(step.fromId);
        const to = view.nodeById.get(step.toId);
        disrupt(groupOf(step.fromId), step);
        if (groupOf(step.toId) !== groupOf(step.fromId)) disrupt(groupOf(step.toId), step);
        if (from === undefined || !from.up || from.role !== 'primary' || slotCount(from) === 0) say(step, `${step.fromId} is not an up primary that serves slots`);
        else if (step.slots.length === 0 || step.slots.some((r) => !Number.isInteger(r.start) || !Number.isInteger(r.end) || r.start < 0 || r.end >= REDIS_SLOTS || r.start > r.end))
          say(step, `it names no slots, or ranges that are not slots 0-${REDIS_SLOTS - 1}`);
        else if (!rangesDisjoint(step.slots)) say(step, `it names some slots twice`);
        // Invariant 5: a move names slots its source serves in the observation it is planned
        // from, so that a repeat finds them at the target and changes nothing.
        else if (!rangesCover(from.slots, step.slots)) say(step, `it names slots ${step.fromId} does not serve`);
        if (to === undefined || !to.up || to.role !== 'primary' || step.toId === step.fromId) say(step, `${step.toId} is not another up primary`);
        else if (from !== undefined && olderVersion(to.version, from.version)) {
          say(step, `${step.toId} runs ${to.version}, older than ${step.fromId}'s ${from.version}: MIGRATE payloads of a newer version do not load in an older one`);
        }
        if (moveSources.has(step.fromId)) say(step, `a second slot move from ${step.fromId} in one batch`);
        if (moveTargets.has(step.toId)) say(step, `a second slot move into ${step.toId} in one batch`);
        moveSources.add(step.fromId);
        moveTargets.add(step.toId);
        break;
      }
      case 'removeNode': {
        removed.add(step.nodeId);
        const node = view.nodeById.get(step.nodeId);
        const g = view.group(groupOf(step.nodeId) ?? view.vmById.get(step.vmId)?.nodeGroup ?? -1);
        // Removing a node that never joined (role none) takes nothing away.
        if (view.holdsData && g.slots + g.hidden > 0 && node?.role !== 'none') disrupt(g.index, step);
        if (node === undefined) {
          say(step, `${step.vmId} reports no data node ${step.nodeId}`);
          break;
        }
        if (slotCount(node) > 0) say(step, `${node.id} still serves ${slotCount(node)} slots: move them first`);
        if (node.role !== 'none' && view.hidden > 0) say(step, 'a node that cannot be seen now would gossip the removed node back in when it returns');
        if (g.index >= desired.nodeGroups && g.slots > 0) say(step, `${groupName(g.index)} is going away but still serves ${g.slots} slots: move its data first`);
        if (g.index >= desired.nodeGroups && g.hidden > 0 && view.holdsData) say(step, `${groupName(g.index)} is going away but some of its nodes cannot be seen`);
        if (node === g.primary) {
          const others = otherUpNodes(view, node, stopping).filter((n) => !removing.has(n.id));
          if (others.length > 0) say(step, `it is the primary of ${groupName(g.index)} while ${others[0]?.id ?? ''} is up: hand over or remove the replicas first`);
        }
        break;
      }
      case 'deleteVm': {
        const vm = view.vmById.get(step.vmId);
        if (vm === undefined) break;
        if (vm.dataNodes.length > 0) say(step, `${vm.id} still has data node ${vm.dataNodes[0]?.id ?? ''}: remove it from the cluster first`);
        else if (!view.alive(vm) && vm.state !== 'creating') say(step, `the agent of ${vm.id} does not answer: its data node cannot be seen`);
        break;
      }
      case 'forgetNode':
        for (const problem of forgetProblems(view, step)) say(step, problem);
        break;
      case 'deleteBackup':
        if (restoreId !== undefined && step.backupId === restoreId) say(step, `restoreFromBackup names backup "${restoreId}": it is never deleted`);
        break;
      case 'joinPrimary': {
        const owned = step.slots.some((r) => {
          for (let s = r.start; s <= r.end; s++) if (view.owned[s] === 1) return true;
          return false;
        });
        if (step.slots.length > 0 && observed.facts.formed) say(step, 'claims slots in a cluster that holds data: move them with moveData');
        if (owned) say(step, 'claims slots another primary serves');
        const member = view.members.some((m) => m.id === step.nodeId);
        if (step.via === undefined && !member && view.members.length > 0) say(step, 'founds a second cluster beside the existing members');
        if (step.via !== undefined && !view.members.some((m) => m.id === step.via)) say(step, `${step.via} is not an up member to join through`);
        break;
      }
      case 'joinReplica': {
        const primary = view.nodeById.get(step.primaryId);
        const vm = view.vmById.get(step.vmId);
        if (primary === undefined || !primary.up || primary.role !== 'primary') say(step, `${step.primaryId} is not an up primary`);
        else if (vm !== undefined && groupOf(primary.id) !== vm.nodeGroup) say(step, `${step.primaryId} is the primary of another node group`);
        break;
      }
      case 'restoreBackup':
        if (observed.facts.formed) say(step, 'the cluster already held data: a restore fills a new cluster only');
        if (batch.some((s) => s !== step && TOPOLOGY.has(s.kind) && s.kind !== 'deleteBackup')) say(step, 'a restore runs alone');
        break;
      case 'createBackup':
        for (let g = 0; g < desired.nodeGroups; g++) {
          if (view.group(g).primary === undefined) {
            say(step, `${groupName(g)} has no running primary: the backup would miss its slots`);
            break;
          }
        }
        break;
      default:
        break;
    }
  }

  // Per group: the last up node, one node down at a time, healthy nodes kept, one disruptive step.
  const groups = new Set<number>();
  for (const id of [...stopped, ...removed]) {
    const g = groupOf(id);
    if (g !== undefined) groups.add(g);
  }
  for (const g of groups) {
    const gv = view.group(g);
    const holds = view.holdsData && (gv.slots > 0 || (gv.primary === undefined && gv.hidden > 0));
    let up = 0;
    let down = 0;
    let healthyAfter = 0;
    let stops = 0;
    let removals = 0;
    for (const vm of gv.vms) {
      const n = view.node(vm);
      if (n === undefined) {
        if (!view.alive(vm) && vm.state !== 'creating') down++;
        continue;
      }
      if (removed.has(n.id)) {
        if (n.role !== 'none') removals++; // a node that never joined takes nothing away
        continue;
      }
      if (stopped.has(n.id)) {
        stops++;
        down++;
        continue;
      }
      if (n.up) {
        up++;
        if (view.isHealthy(n)) healthyAfter++;
      } else if (!started.has(n.id)) {
        down++; // (a node started in this batch is neither: it may not come up in time)
      }
    }
    const name = groupName(g);
    if (holds && up === 0 && (removals > 0 || (stops > 0 && desired.running))) out.push(`${name} holds data and this batch takes down its last up node`);
    if (desired.running && stops > 0 && gv.vms.length >= 2 && down > 1) out.push(`${name} would have ${down} nodes down at once: rolling work takes down one at a time`);
    if (holds && removals > 0 && g < desired.nodeGroups && healthyAfter < Math.min(desired.replicationFactor, gv.healthy))
      out.push(`${name} would keep ${healthyAfter} healthy nodes, fewer than min(replicationFactor ${desired.replicationFactor}, ${gv.healthy} healthy now)`);
  }
  if (view.holdsData) {
    for (const [g, steps] of touched) {
      const gv = view.group(g);
      const holds = gv.slots > 0 || (gv.primary === undefined && gv.hidden > 0);
      if (holds && steps.length > 1) out.push(`${groupName(g)} gets ${steps.length} disruptive steps at once (${steps.map(describeStep).join('; ')})`);
    }
  }
  if (batch.some((s) => s.kind === 'restoreBackup') && view.assigned < REDIS_SLOTS) out.push('restore before every slot is assigned');
  return out;
}

/** Why forgetting `step.engineNodeId` is unsafe in this observation (see the file comment). */
function forgetProblems(view: ClusterView, step: Extract<Step, { kind: 'forgetNode' }>): string[] {
  const out: string[] = [];
  const id = step.engineNodeId;
  if (id === '') return ['it names no engine node id'];
  for (const vm of view.vms) {
    for (const n of vm.dataNodes) {
      if (n.engineNodeId === id) out.push(`it is the engine id of data node ${n.id} on ${vm.id}: a node of the cluster is never forgotten`);
      else if (n.engineNodeId === '') out.push(`data node ${n.id} has no known engine id: it may be the node forgotten`);
    }
    if (!view.alive(vm)) out.push(`${vm.id} is ${vm.state === 'running' ? 'without an answering agent' : vm.state}: the node it hides may be the one forgotten`);
  }
  const nodes = [...view.nodeById.values()];
  if (!nodes.some((n) => n.up && n.failedMembers?.includes(id) === true)) out.push('no up node reports it as a failed member');
  if (step.nodeIds.length === 0) out.push('it names no node to forget it on');
  for (const nodeId of step.nodeIds) if (view.nodeById.get(nodeId)?.up !== true) out.push(`${nodeId} is not an up data node`);
  return out;
}

/** Up nodes of the node's group other than it, not stopped in this batch. */
function otherUpNodes(view: ClusterView, node: ObservedDataNode, stopping: ReadonlySet<string>): ObservedDataNode[] {
  const out: ObservedDataNode[] = [];
  for (const vm of view.groupOf(node).vms) {
    const n = view.node(vm);
    if (n === undefined || n === node || !n.up) continue;
    if (stopping.has(n.id)) continue;
    out.push(n);
  }
  return out;
}
