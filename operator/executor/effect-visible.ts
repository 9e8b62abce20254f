// When a job is "committed" (ConfD's last stage of a modifying job): a later observation
// shows the step's effect on every node concerned. The reconciler re-observes after a
// batch until every succeeded step's effect is visible (or a time limit passes) and
// stamps those jobs committed.
//
// What each kind of step must show ("the cluster agrees" = every up member, primary or
// replica, reports the same non-empty topology digest):
//   createVm          the VM is listed, running, and its agent answers
//   deleteVm          the VM is no longer listed
//   restartAgent      the agent answers and runs for at least the step's agentRunningSince
//   ensureVersion     the agent lists the version as installed
//   startDataNode     the node is up with the step's version, runningSince and config labels
//   stopDataNode      the agent answers and the node is down (or gone)
//   joinPrimary       the node is an up primary serving every slot the step assigned, and the cluster agrees
//   joinReplica       the node is an up replica of the step's primary, and the cluster agrees
//   failover          the node is an up primary, and the cluster agrees
//   moveData          the target is an up primary serving every slot the step names, the source
//                     serves none of them, and the cluster agrees
//   removeNode        no agent reports the node any more, and the cluster agrees
//   forgetNode        no up node lists the engine id among its failed members, and the cluster agrees
//   configureDataNode the node carries the step's config label
//   createBackup      the sink lists the backup as complete
//   deleteBackup      the sinks could be listed and the backup is not among them
//   restoreBackup     the leader's facts record the backup as restored (data itself cannot be observed)
import {
  configKey,
  dataNodes,
  sinkKey,
  type ObservedCluster,
  type ObservedDataNode,
} from '../model/observed.ts';
import type { Step } from '../model/step.ts';
import { rangesCover } from '../../common/slot-ranges.ts';

/**
 * Whether `observed` shows the effect of `step` (see the file comment). `_before`, the
 * observation the step was planned against, is not needed since moves name their slots;
 * callers may still pass it.
 */
export function stepEffectVisible(step: Step, observed: ObservedCluster, _before?: ObservedCluster): boolean {
  switch (step.kind) {
    case 'createVm': {
      const vm = observed.vms.find((v) => v.id === step.vm.id);
      return vm !== undefined && vm.state === 'running' && vm.agentUp;
    }
    case 'deleteVm':
      return !observed.vms.some((v) => v.id === step.vmId);
    case 'restartAgent': {
      const vm = observed.vms.find((v) => v.id === step.vmId);
      return vm !== undefined && vm.agentUp && vm.agentRunningSince >= step.agentRunningSince;
    }
    case 'ensureVersion': {
      const vm = observed.vms.find((v) => v.id === step.vmId);
      return vm !== undefined && vm.agentUp && vm.installedVersions.includes(step.version);
    }
    case 'startDataNode': {
      const n = node(observed, step.nodeId);
      return n !== undefined && n.up && n.version === step.version && n.runningSince === step.runningSince && n.configKey === configKey(step.config);
    }
    case 'stopDataNode': {
      const vm = observed.vms.find((v) => v.id === step.vmId);
      if (vm === undefined || !vm.agentUp) return false;
      const n = vm.dataNodes.find((d) => d.id === step.nodeId);
      return n === undefined || !n.up;
    }
    case 'joinPrimary': {
      const n = node(observed, step.nodeId);
      return n !== undefined && n.up && n.role === 'primary' && rangesCover(n.slots, step.slots) && clusterAgrees(observed);
    }
    case 'joinReplica': {
      const n = node(observed, step.nodeId);
      return n !== undefined && n.up && n.role === 'replica' && n.primaryId === step.primaryId && clusterAgrees(observed);
    }
    case 'failover': {
      const n = node(observed, step.nodeId);
      return n !== undefined && n.up && n.role === 'primary' && clusterAgrees(observed);
    }
    case 'moveData':
      return moveVisible(step, observed) && clusterAgrees(observed);
    case 'removeNode':
      return node(observed, step.nodeId) === undefined && clusterAgrees(observed);
    case 'forgetNode':
      return !dataNodes(observed).some((n) => n.up && n.failedMembers?.includes(step.engineNodeId) === true) && clusterAgrees(observed);
    case 'configureDataNode': {
      const n = node(observed, step.nodeId);
      return n !== undefined && n.configKey === configKey(step.config);
    }
    case 'createBackup': {
      const key = sinkKey(step.sink);
      return observed.backups?.some((b) => b.id === step.backupId && b.sink === key && b.complete) === true;
    }
    case 'deleteBackup': {
      const key = sinkKey(step.sink);
      return observed.backups !== undefined && !observed.backups.some((b) => b.id === step.backupId && b.sink === key);
    }
    case 'restoreBackup':
      return observed.facts.restoredFrom === step.backupId;
  }
}

/** Every up member (primary or replica) reports the same, non-empty topology digest. */
export function clusterAgrees(observed: ObservedCluster): boolean {
  const digests = new Set<string>();
  for (const n of dataNodes(observed)) if (n.up && (n.role === 'primary' || n.role === 'replica')) digests.add(n.topologyDigest);
  return digests.size <= 1 && !digests.has('');
}

function node(observed: ObservedCluster, id: string): ObservedDataNode | undefined {
  return dataNodes(observed).find((n) => n.id === id);
}

function moveVisible(step: Extract<Step, { kind: 'moveData' }>, observed: ObservedCluster): boolean {
  const source = node(observed, step.fromId);
  const target = node(observed, step.toId);
  if (source === undefined || !source.up || target === undefined || !target.up || target.role !== 'primary') return false;
  const keeps = source.slots.some((o) => step.slots.some((w) => o.start <= w.end && w.start <= o.end));
  return !keeps && rangesCover(target.slots, step.slots);
}
