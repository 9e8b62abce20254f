// Drift repair: VMs and data nodes that are not as they should be regardless of the
// desired state's changes. A VM that failed, was stopped, or whose agent does not answer
// gets restartAgent (the provider restarts a dead agent; its data node is left alone). A
// data node that is down while nodes should run is started again (labels: starting.ts),
// and a kept VM whose agent answers without any data node gets its node started. VMs
// still being created are waited for.
import type { PlanContext } from './context.ts';
import { groupName } from './names.ts';
import { addStart, desiredLabels, restartLabels } from './starting.ts';
import { isStandIn } from './stand-in.ts';

export function repairVms(ctx: PlanContext): void {
  const { view, batch, desired: d } = ctx;
  for (const vm of view.vms) {
    if (vm.state === 'creating') {
      batch.waitOn('VMs still being created', vm.id);
      batch.estimate(3);
      continue;
    }
    if (view.alive(vm)) continue;
    const why =
      vm.state === 'running'
        ? `The agent of ${vm.id} does not answer: restarting it (its data node keeps running)`
        : `${vm.id} is ${vm.state}: restarting its agent`;
    batch.add({ kind: 'restartAgent', vmId: vm.id, agentRunningSince: d.agentRunningSince }, why);
    batch.estimate(1);
  }
}

export function repairNodes(ctx: PlanContext): void {
  const { view, layout, batch } = ctx;
  if (!ctx.running) return;
  for (const vm of view.vms) {
    if (!view.alive(vm)) continue;
    const node = view.node(vm);
    const g = vm.nodeGroup;
    if (node === undefined) {
      const wanted = layout.keepIds.has(vm.id) || isStandIn(ctx, vm);
      if (!wanted) continue;
      const labels = desiredLabels(view);
      batch.estimate(2);
      addStart(ctx, vm, labels, `${vm.id} has no data node yet: starting it for ${groupName(g)} (version ${labels.version})`);
      continue;
    }
    if (node.up) continue;
    const labels = restartLabels(view, node);
    batch.estimate(1);
    addStart(
      ctx,
      vm,
      labels,
      labels.desired
        ? `Data node ${node.id} of ${groupName(g)} is down: starting it (version ${labels.version}, runningSince ${labels.runningSince})`
        : `Data node ${node.id} of ${groupName(g)} is down and may come back as its primary while an older replica runs: starting it as it was (version ${labels.version})`,
    );
  }
}
