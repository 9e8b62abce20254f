// A deliberately small planner for the reconciler's unit tests, so they do not depend on
// the real planner's choices: one node group of `replicationFactor` VMs vm-1 … vm-n,
// each running a data node with the desired version and labels; vm-1 founds the cluster
// with every slot, the others replicate it. One step per VM per pass, no safety rules.
import type { Desired } from '../../../desired-state/types.ts';
import { REDIS_SLOTS, configKey, type ObservedCluster } from '../../model/observed.ts';
import type { Plan, PlannedStep } from '../../model/step.ts';

export function tinyPlanner(d: Desired, o: ObservedCluster): Plan {
  const next: PlannedStep[] = [];
  const waiting: string[] = [];
  const config = Object.fromEntries(Object.entries(d.config).map(([k, v]) => [k, String(v)]));
  const key = configKey(config);
  const primary = o.vms.find((v) => v.id === 'vm-1')?.dataNodes[0];
  for (let i = 1; i <= d.replicationFactor; i++) {
    const id = `vm-${i}`;
    const vm = o.vms.find((v) => v.id === id);
    if (vm === undefined) {
      next.push({
        step: { kind: 'createVm', vm: { id, zone: 'zone-a', vmType: d.vmType, storageGiB: d.storageGiB, nodeGroup: 0, temporary: false, agentRunningSince: d.agentRunningSince } },
        why: `${id} is missing`,
      });
      continue;
    }
    if (!vm.agentUp) {
      waiting.push(`the agent of ${id}`);
      continue;
    }
    const node = vm.dataNodes[0];
    if (node === undefined || !node.up || node.version !== d.version || node.runningSince !== d.runningSince || node.configKey !== key) {
      next.push({
        step: { kind: 'startDataNode', vmId: id, nodeId: id, nodeGroup: 0, version: d.version, config, runningSince: d.runningSince },
        why: `${id} must run ${d.version}`,
      });
      continue;
    }
    if (i === 1 && node.role === 'none') {
      next.push({ step: { kind: 'joinPrimary', vmId: id, nodeId: id, via: undefined, slots: [{ start: 0, end: REDIS_SLOTS - 1 }] }, why: 'found the cluster' });
    } else if (i > 1 && node.role !== 'replica') {
      if (primary === undefined || primary.role !== 'primary') waiting.push(`a primary for ${id} to follow`);
      else next.push({ step: { kind: 'joinReplica', vmId: id, nodeId: id, primaryId: 'vm-1' }, why: `${id} must replicate vm-1` });
    }
  }
  const done = next.length === 0 && waiting.length === 0;
  return { next, done, waiting, remaining: next.length + waiting.length, blocked: [] };
}
