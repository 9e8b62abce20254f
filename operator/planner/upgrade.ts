// Version changes: the binaries of the desired version are installed on every VM whose
// node still runs another version, all at once and ahead of the rolling restart, so each
// node is down only for its restart. The order of the upgrade itself (replicas first,
// failover, then the old primary) is rolling.ts's, with the version rule of failover.ts.
import type { PlanContext } from './context.ts';
import { isStandIn } from './stand-in.ts';

export function installVersions(ctx: PlanContext): void {
  const { view, layout, batch, desired: d } = ctx;
  if (!ctx.running || !d.running) return;
  for (const vm of view.vms) {
    if (!view.alive(vm) || !(layout.keepIds.has(vm.id) || isStandIn(ctx, vm)) || vm.nodeGroup >= d.nodeGroups) continue;
    const node = view.node(vm);
    if (node === undefined || node.version === d.version || view.hasVersion(vm, d.version)) continue;
    batch.estimate(1);
    batch.add(
      { kind: 'ensureVersion', vmId: vm.id, version: d.version },
      `${node.id} runs ${node.version} and will restart on ${d.version}: installing ${d.version} on ${vm.id} ahead of time`,
    );
  }
}
