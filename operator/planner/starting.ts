// Starting a data node: with which version and labels, and the ensureVersion that must
// come first when the VM lacks the binaries. Shared by drift repair, rolling restarts and
// new VMs.
//
// A node that comes back is normally started with the desired version, configuration and
// runningSince (so a restart needed anyway is done at the same time). The exception is a
// node whose group has no up primary while an up node of the group still runs an older
// version: the node may come back as the primary, and replicas older than their primary
// cannot sync from it (Valkey 8.0 → Redis 7.0 wipes the replica; see COMPATIBILITY.md).
// Then it is started as it was (its own version and labels), and the rolling upgrade
// handles it later in the tested order.
import type { ObservedDataNode, ObservedVm } from '../model/observed.ts';
import type { EngineVersion } from '../../desired-state/types.ts';
import type { PlanContext } from './context.ts';
import { parseConfigKey } from './config-diff.ts';
import type { ClusterView } from './view.ts';

export interface StartLabels {
  version: EngineVersion;
  config: Record<string, string>;
  runningSince: number;
  /** These are the desired labels. */
  desired: boolean;
}

export function desiredLabels(view: ClusterView): StartLabels {
  const d = view.desired;
  return { version: d.version, config: { ...view.desiredConfig }, runningSince: d.runningSince, desired: true };
}

/** The labels to start a stopped node with (see the header). */
export function restartLabels(view: ClusterView, node: ObservedDataNode): StartLabels {
  const g = view.groupOf(node);
  const otherPrimaryUp = g.primary !== undefined && g.primary.id !== node.id;
  if (otherPrimaryUp || node.version === view.desired.version) return desiredLabels(view);
  const olderUp = g.vms.some((vm) => {
    const n = view.node(vm);
    return n !== undefined && n.up && n.version !== view.desired.version;
  });
  if (!olderUp) return desiredLabels(view);
  return {
    version: node.version,
    config: parseConfigKey(node.configKey) ?? { ...view.desiredConfig },
    runningSince: node.runningSince,
    desired: false,
  };
}

/**
 * Starts the data node of `vm` (id = the VM's id) with `labels`; when the VM lacks the
 * version, asks for ensureVersion instead (the start follows in a later batch).
 * Returns whether a step was added.
 */
export function addStart(ctx: PlanContext, vm: ObservedVm, labels: StartLabels, why: string): boolean {
  const { view, batch } = ctx;
  if (!view.hasVersion(vm, labels.version)) {
    return batch.add(
      { kind: 'ensureVersion', vmId: vm.id, version: labels.version },
      `${vm.id} must start on version ${labels.version}, which it does not have yet: installing it first`,
    );
  }
  return batch.add(
    {
      kind: 'startDataNode',
      vmId: vm.id,
      nodeId: vm.dataNodes[0]?.id ?? vm.id,
      nodeGroup: vm.nodeGroup,
      version: labels.version,
      config: labels.config,
      runningSince: labels.runningSince,
    },
    why,
    { groups: [vm.nodeGroup], claim: 'shared' },
  );
}
