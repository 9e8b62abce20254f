// What went down while a batch ran: after a batch the reconciler re-observes until the
// effects of its jobs are visible (settle). Some effects cannot become visible without a
// step of their own: a move's target killed as the move ended is not "an up primary
// serving the slots" until it is started again, and only a new plan starts it. Settling
// waited its full time limit (30 s) for such effects — seen in the crash test. So the
// settle ends as soon as an agent or a data node is down that should be up:
// - it was up when the batch was planned and no step of the batch took it down on
//   purpose (a stop, a restart, a removal, a deletion, a restore), or
// - a job of the batch that succeeded brought it up (a start of the node, a restart of
//   the agent, a new VM) — killed right after, as the crash test does;
// that is drift, for the planner to repair.
import type { ObservedCluster } from '../model/observed.ts';
import type { Step } from '../model/step.ts';

/**
 * The first agent or data node that should be up in `after` and is not (see the file
 * comment), described for a log line; undefined when none. `steps` are the batch's steps,
 * `succeeded` the steps of its jobs that succeeded.
 */
export function wentDown(before: ObservedCluster, after: ObservedCluster, steps: readonly Step[], succeeded: readonly Step[] = []): string | undefined {
  const vmsTouched = new Set<string>();
  const nodesTouched = new Set<string>();
  for (const s of steps) {
    if (s.kind === 'restartAgent' || s.kind === 'deleteVm') vmsTouched.add(s.vmId);
    if (s.kind === 'stopDataNode' || s.kind === 'startDataNode' || s.kind === 'removeNode' || s.kind === 'configureDataNode') {
      nodesTouched.add(s.nodeId);
    }
    if (s.kind === 'restoreBackup') for (const id of s.nodeIds) nodesTouched.add(id); // restarted with the backup's data
  }
  const agentsUp = new Set<string>();
  const nodesUp = new Set<string>();
  for (const vm of before.vms) {
    if (!vm.agentUp || vmsTouched.has(vm.id)) continue;
    agentsUp.add(vm.id);
    for (const n of vm.dataNodes) if (n.up && !nodesTouched.has(n.id)) nodesUp.add(n.id);
  }
  for (const s of succeeded) {
    if (s.kind === 'restartAgent') agentsUp.add(s.vmId);
    if (s.kind === 'createVm') agentsUp.add(s.vm.id);
    if (s.kind === 'startDataNode') nodesUp.add(s.nodeId);
  }
  const now = new Map(after.vms.map((vm) => [vm.id, vm]));
  for (const id of [...agentsUp].sort()) {
    const vm = now.get(id);
    if (vm === undefined || vm.state !== 'running' || !vm.agentUp) return `the agent of ${id}`;
  }
  for (const vm of after.vms) {
    if (!vm.agentUp) continue;
    for (const n of vm.dataNodes) if (!n.up && nodesUp.has(n.id)) return `the data node ${n.id} of ${vm.id}`;
  }
  return undefined;
}

/**
 * The succeeded steps whose own work is down again in `after`: a start whose node, a
 * restart or creation whose agent, does not answer. Such a step took no lasting effect:
 * the reconciler counts it as a failed attempt, so that a node that dies each time it is
 * started ends in ERROR_STATE rather than in an endless loop of starts.
 */
export function undoneAtOnce(after: ObservedCluster, succeeded: readonly Step[]): Step[] {
  const vms = new Map(after.vms.map((vm) => [vm.id, vm]));
  const agentDown = (id: string): boolean => {
    const vm = vms.get(id);
    return vm === undefined || vm.state !== 'running' || !vm.agentUp;
  };
  return succeeded.filter((s) => {
    if (s.kind === 'restartAgent') return agentDown(s.vmId);
    if (s.kind === 'createVm') return agentDown(s.vm.id);
    if (s.kind === 'startDataNode') {
      const vm = vms.get(s.vmId);
      return vm !== undefined && vm.agentUp && vm.dataNodes.some((n) => n.id === s.nodeId && !n.up);
    }
    return false;
  });
}
