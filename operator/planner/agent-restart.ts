// Rolling restart of the agents (agentRunningSince raised). An agent restart leaves its
// data node running, but the agent is the leader's only way to the node meanwhile, so
// agents restart one at a time across the cluster, only while every node group is
// healthy and nothing else that claims a node group runs. When no data node runs at all
// (a stopped or not yet started cluster) every agent restarts at once.
// VMs that are leaving are not restarted; a failed VM's restartAgent (drift.ts) already
// carries the desired agentRunningSince.
import type { ObservedVm } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { groupName } from './names.ts';

export function restartAgents(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  const stale: ObservedVm[] = view.vms.filter(
    (vm) => view.alive(vm) && vm.agentRunningSince < d.agentRunningSince && (layout.keepIds.has(vm.id) || vm.temporary) && vm.nodeGroup < d.nodeGroups,
  );
  if (stale.length === 0) return;
  batch.estimate(stale.length);
  const anyUp = view.vms.some((vm) => view.node(vm)?.up === true);
  if (!anyUp) {
    for (const vm of stale) {
      batch.add({ kind: 'restartAgent', vmId: vm.id, agentRunningSince: d.agentRunningSince }, `No data node runs: restarting the agent of ${vm.id} for agentRunningSince ${d.agentRunningSince}`);
    }
    return;
  }
  if (batch.hasClaims) return;
  for (const g of view.groupIndexes()) {
    if (g >= d.nodeGroups || !view.group(g).settled) {
      batch.waitOn('agent restarts wait until every node group is healthy', groupName(g));
      return;
    }
  }
  const vm = stale[0];
  if (vm === undefined) return;
  batch.add(
    { kind: 'restartAgent', vmId: vm.id, agentRunningSince: d.agentRunningSince },
    `The agent of ${vm.id} runs for agentRunningSince ${vm.agentRunningSince} < ${d.agentRunningSince}: restarting it (its data node keeps running); one agent at a time`,
    { global: true },
  );
}
