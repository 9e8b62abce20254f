// Configuration changes. Parameters the catalogue applies 'live' reach every up node of
// the kept groups by ConfigureDataNode with only the changed parameters; the node's label
// becomes the full desired config. A node that needs a restart anyway (a restart-only
// parameter, a removed parameter — config-diff.ts —, version, runningSince) gets the whole
// configuration from that restart instead (rolling.ts). While running is false nothing is
// configured: the next start writes the configuration.
import type { PlanContext } from './context.ts';
import { groupName } from './names.ts';

export function configureLive(ctx: PlanContext): void {
  const { view, batch, desired: d } = ctx;
  if (!ctx.running || !d.running) return;
  for (const vm of view.vms) {
    if (vm.nodeGroup >= d.nodeGroups) continue;
    const node = view.node(vm);
    if (node === undefined || !node.up) continue;
    const s = view.staleness(node);
    if (s.configEqual || s.restart.length > 0) continue;
    batch.estimate(1);
    batch.add(
      { kind: 'configureDataNode', vmId: vm.id, nodeId: node.id, params: { ...s.live }, config: { ...view.desiredConfig } },
      `${node.id} (${groupName(vm.nodeGroup)}) runs with other live parameters: setting ${Object.keys(s.live).join(', ')}`,
    );
  }
}
