// What went down while a batch ran: after a batch the reconciler re-observes until the
// effects of its jobs are visible (settle). Some effects cannot become visible without a
// step of their own: a move's target killed as the move ended is not "an up primary
// serving the slots" until it is started again, and only a new plan starts it. Settling
// waited its full time limit (30 s) for such effects — seen in the crash test. So the
// settle ends as soon as an agent or a data node that was up when the batch was planned
// is down and no step of the batch took it down on purpose (a stop, a restart, a removal,
// a deletion, a restore): drift, for the planner to repair.
import type { ObservedCluster } from '../model/observed.ts';
import type { Step } from '../model/step.ts';

/**
 * The first agent or data node that was up in `before` and is down in `after` while no
 * step of `steps` takes it down, described for a log line; undefined when none.
 */
export function wentDown(before: ObservedCluster, after: ObservedCluster, steps: readonly Step[]): string | undefined {
  const vmsTouched = new Set<string>();
  const nodesTouched = new Set<string>();
  for (const s of steps) {
    if (s.kind === 'restartAgent' || s.kind === 'deleteVm') vmsTouched.add(s.vmId);
    if (s.kind === 'stopDataNode' || s.kind === 'startDataNode' || s.kind === 'removeNode' || s.kind === 'configureDataNode') {
      nodesTouched.add(s.nodeId);
    }
    if (s.kind === 'restoreBackup') for (const id of s.nodeIds) nodesTouched.add(id); // restarted with the backup's data
  }
  const now = new Map(after.vms.map((vm) => [vm.id, vm]));
  for (const was of before.vms) {
    if (!was.agentUp || vmsTouched.has(was.id)) continue;
    const vm = now.get(was.id);
    if (vm === undefined || vm.state !== 'running' || !vm.agentUp) return `the agent of ${was.id}`;
    for (const n of was.dataNodes) {
      if (!n.up || nodesTouched.has(n.id)) continue;
      const still = vm.dataNodes.find((d) => d.id === n.id);
      if (still !== undefined && !still.up) return `the data node ${n.id} of ${was.id}`;
    }
  }
  return undefined;
}
