// Words for a step's effect, for a person: what the leader waits to see after a step
// succeeded (effectWanted) and what an observation shows instead (effectSeen). The
// reconciler puts both into the journal and into ERROR_STATE when a step "succeeds" but
// its effect never becomes visible (operator/reconciler/reconciler.ts), so that the
// status names the effect and the evidence, not only the step.
//
// These follow the rules of effect-visible.ts, kind by kind; effect-explain.test.ts
// checks that every kind has both texts.
import { dataNodes, sinkKey, type ObservedCluster, type ObservedDataNode, type SlotRange } from '../model/observed.ts';
import type { Step } from '../model/step.ts';

const AGREE = 'every up member reports the same topology';

/** What must be observed for the step's effect to count as visible. */
export function effectWanted(step: Step): string {
  switch (step.kind) {
    case 'createVm':
      return `VM ${step.vm.id} is listed, running, and its agent answers`;
    case 'deleteVm':
      return `VM ${step.vmId} is no longer listed`;
    case 'restartAgent':
      return `the agent of ${step.vmId} answers and runs for agentRunningSince ${step.agentRunningSince}`;
    case 'ensureVersion':
      return `the agent of ${step.vmId} lists version ${step.version} as installed`;
    case 'startDataNode':
      return `data node ${step.nodeId} is up with version ${step.version}, runningSince ${step.runningSince} and the desired config`;
    case 'stopDataNode':
      return `the agent of ${step.vmId} answers and data node ${step.nodeId} is down`;
    case 'joinPrimary':
      return `data node ${step.nodeId} is an up primary serving ${ranges(step.slots)}, and ${AGREE}`;
    case 'joinReplica':
      return `data node ${step.nodeId} is an up replica of ${step.primaryId}, and ${AGREE}`;
    case 'failover':
      return `data node ${step.nodeId} is an up primary, and ${AGREE}`;
    case 'moveData':
      return `${step.toId} serves ${ranges(step.slots)} and ${step.fromId} none of them, and ${AGREE}`;
    case 'removeNode':
      return `no agent reports data node ${step.nodeId}, and ${AGREE}`;
    case 'forgetNode':
      return `no up member lists ${short(step.engineNodeId)} among its failed members, and ${AGREE}`;
    case 'configureDataNode':
      return `data node ${step.nodeId} carries the desired config`;
    case 'createBackup':
      return `sink ${sinkKey(step.sink)} lists backup ${step.backupId} as complete`;
    case 'deleteBackup':
      return `sink ${sinkKey(step.sink)} can be listed and holds no backup ${step.backupId}`;
    case 'restoreBackup':
      return `the leader's facts record backup ${step.backupId} as restored`;
  }
}

/** What `observed` shows about the step's effect instead, one line. */
export function effectSeen(step: Step, observed: ObservedCluster): string {
  switch (step.kind) {
    case 'createVm':
      return vmText(observed, step.vm.id);
    case 'deleteVm':
    case 'restartAgent':
    case 'ensureVersion':
      return vmText(observed, step.vmId);
    case 'stopDataNode':
      return `${vmText(observed, step.vmId)}; ${nodeText(observed, step.nodeId)}`;
    case 'startDataNode':
    case 'joinPrimary':
    case 'joinReplica':
    case 'failover':
    case 'removeNode':
    case 'configureDataNode':
      return withAgreement(step, observed, nodeText(observed, step.nodeId));
    case 'moveData':
      return withAgreement(step, observed, `${nodeText(observed, step.fromId)}; ${nodeText(observed, step.toId)}`);
    case 'forgetNode': {
      const listing = dataNodes(observed)
        .filter((n) => n.up && n.failedMembers?.includes(step.engineNodeId) === true)
        .map((n) => n.id);
      return withAgreement(step, observed, listing.length === 0 ? 'no up member lists it' : `still listed as failed by ${listing.join(', ')}`);
    }
    case 'createBackup':
    case 'deleteBackup': {
      if (observed.backups === undefined) return 'the sinks could not be listed (no agent answered, or the listing failed)';
      const key = sinkKey(step.sink);
      const here = observed.backups.filter((b) => b.sink === key);
      const it = here.find((b) => b.id === step.backupId);
      if (it !== undefined) return `sink ${key} lists backup ${step.backupId} (${it.complete ? 'complete' : 'incomplete: no manifest'})`;
      return here.length === 0
        ? `sink ${key} lists none of the backups the desired states name`
        : `sink ${key} lists ${here.map((b) => b.id).join(', ')}, not ${step.backupId}`;
    }
    case 'restoreBackup':
      return observed.facts.restoredFrom === undefined ? 'the facts record no restore' : `the facts record a restore of ${observed.facts.restoredFrom}`;
  }
}

function withAgreement(step: Step, observed: ObservedCluster, text: string): string {
  if (step.kind === 'startDataNode' || step.kind === 'configureDataNode') return text;
  const digests = new Set(
    dataNodes(observed)
      .filter((n) => n.up && (n.role === 'primary' || n.role === 'replica'))
      .map((n) => n.topologyDigest),
  );
  return digests.size > 1 ? `${text}; the members disagree (${digests.size} different topologies)` : text;
}

function vmText(observed: ObservedCluster, id: string): string {
  const vm = observed.vms.find((v) => v.id === id);
  if (vm === undefined) return `VM ${id} is not listed`;
  return `VM ${id} is ${vm.state}, its agent ${vm.agentUp ? 'answers' : 'does not answer'} (agentRunningSince ${vm.agentRunningSince}, installed ${vm.installedVersions.join(', ') || 'none'})`;
}

function nodeText(observed: ObservedCluster, id: string): string {
  const n: ObservedDataNode | undefined = dataNodes(observed).find((d) => d.id === id);
  if (n === undefined) return `no agent reports data node ${id}`;
  const role = n.role === 'replica' ? `replica of ${n.primaryId ?? 'an unknown primary'}` : n.role;
  const slots = n.slots.length > 0 ? `, serving ${ranges(n.slots)}` : '';
  return `data node ${id} is ${n.up ? 'up' : 'down'}, ${role}${slots}, version ${n.version}, runningSince ${n.runningSince}`;
}

function ranges(slots: readonly SlotRange[]): string {
  if (slots.length === 0) return 'no slots';
  return `slots ${slots.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(',')}`;
}

function short(engineId: string): string {
  return engineId.length > 12 ? `${engineId.slice(0, 12)}…` : engineId;
}
