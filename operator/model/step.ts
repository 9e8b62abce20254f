// The steps the planner asks for and the executor carries out. A step names VMs and
// data nodes by Coxswain id only; the executor resolves addresses and engine ids from
// the observation it runs against, so a step stays valid when it is journaled, retried
// after a crash, or replayed from a regression file.
//
// Every step is idempotent in effect (safety invariant 5): carrying it out again after
// it took effect changes nothing. Its idempotency key is derived from the job id.
import type { EngineVersion, VmType } from '../../desired-state/types.ts';
import type { SlotRange } from './observed.ts';
import { slotsIn } from '../../common/slot-ranges.ts';

/** A sink as in the desired state. */
export interface SinkRef {
  type: 'local';
  path: string;
}

/** What the VM provider is asked to create. */
export interface VmSpec {
  id: string;
  zone: string;
  vmType: VmType;
  storageGiB: number;
  nodeGroup: number;
  temporary: boolean;
  /** The agent starts for this agentRunningSince. */
  agentRunningSince: number;
}

export type Step =
  /** Create a VM and start its agent (provider). */
  | { kind: 'createVm'; vm: VmSpec }
  /** Delete a VM: stop its agent and data node, remove its directory (provider). Only once its data node left the cluster. */
  | { kind: 'deleteVm'; vmId: string }
  /** Restart the agent of a VM for a new agentRunningSince; its data node keeps running (provider). */
  | { kind: 'restartAgent'; vmId: string; agentRunningSince: number }
  /** Make a version's binaries available on a VM (agent EnsureVersion). */
  | { kind: 'ensureVersion'; vmId: string; version: EngineVersion }
  /** Start (declaring on first use) the data node of a VM with this version, configuration and labels (agent StartDataNode). */
  | {
      kind: 'startDataNode';
      vmId: string;
      nodeId: string;
      nodeGroup: number;
      version: EngineVersion;
      config: Record<string, string>;
      runningSince: number;
    }
  /** Stop a data node, keeping its data (agent StopDataNode). */
  | { kind: 'stopDataNode'; vmId: string; nodeId: string }
  /**
   * Make a started node a primary of its node group (agent JoinNode PRIMARY_WITHOUT_DATA).
   * `via` is a member to introduce it to (absent: it founds the cluster); `slots` are
   * unowned slots to assign right away (only while the cluster holds no data).
   */
  | { kind: 'joinPrimary'; vmId: string; nodeId: string; via: string | undefined; slots: SlotRange[] }
  /** Make a started node a replica of `primaryId` (agent JoinNode REPLICA); also re-points a replica that follows the wrong primary. */
  | { kind: 'joinReplica'; vmId: string; nodeId: string; primaryId: string }
  /** Planned failover: promote the replica `nodeId` in its node group (agent Failover). */
  | { kind: 'failover'; vmId: string; nodeId: string }
  /**
   * Move exactly the slots `slots` (with their keys) from primary `fromId` to primary `toId`
   * (agent MoveData on the source's VM, by ranges). The planner names slots `fromId` serves
   * in the observation, never a count: a count is not idempotent (a repeat, e.g. by a new
   * leader that planned before the first move showed, would move as many again), while a
   * repeat of a range move finds the slots at the target and changes nothing. Slots now
   * served by a third node make the agent refuse the whole step (see world.ts moveData).
   */
  | { kind: 'moveData'; vmId: string; fromId: string; toId: string; slots: SlotRange[] }
  /** Take a data node out of the cluster, stop it and delete its data (agent RemoveNode). */
  | { kind: 'removeNode'; vmId: string; nodeId: string }
  /**
   * Make the data nodes `nodeIds` (every up member) forget the failed, slotless member
   * `engineNodeId` that no observed node is — a stranger left over from a removal or a
   * lost VM (agent ForgetNode on each node's VM, all at once: Redis bans a forgotten id
   * for 60 s only, and a member that still knows it then brings it back).
   */
  | { kind: 'forgetNode'; engineNodeId: string; nodeIds: string[] }
  /** Apply live engine parameters; `config` is the full set the node then carries as its label (agent ConfigureDataNode). */
  | { kind: 'configureDataNode'; vmId: string; nodeId: string; params: Record<string, string>; config: Record<string, string> }
  /** Back up the whole cluster to a sink, through the agent of `vmId` (agent CreateBackup). */
  | { kind: 'createBackup'; vmId: string; backupId: string; sink: SinkRef }
  /** Delete a backup from a sink, through the agent of `vmId` (agent DeleteBackup). */
  | { kind: 'deleteBackup'; vmId: string; backupId: string; sink: SinkRef }
  /** Fill the freshly formed cluster from a backup, through the agent of `vmId` (agent RestoreBackup). */
  | { kind: 'restoreBackup'; vmId: string; backupId: string; sink: SinkRef; nodeIds: string[] };

export type StepKind = Step['kind'];

/** A step with the planner's reason for it. */
export interface PlannedStep {
  step: Step;
  /** Why, in words a person can act on: "ng1 has 1 of 2 replicas; adding vm-7 in zone-b". */
  why: string;
}

/** What plan(desired, observed) returns. */
export interface Plan {
  /**
   * The steps to carry out now, all at once: the planner only puts steps together
   * that keep every safety invariant when run in parallel. Empty when there is
   * nothing to do now (see `waiting`, `done`).
   */
  next: PlannedStep[];
  /** Nothing differs from the desired state: AT_DESIRED_STATE. */
  done: boolean;
  /**
   * Work remains but none can start yet (e.g. a replica is still syncing, the nodes do
   * not agree on the topology yet, an agent is down): what it waits for. Empty otherwise.
   */
  waiting: string[];
  /** An estimate of the steps left, `next` included, for progress ("step i of n"). */
  remaining: number;
  /**
   * Work that cannot be done at all from here (e.g. every replica of a node group lost):
   * the reconciler goes to ERROR_STATE with these reasons without retrying.
   */
  blocked: string[];
}

/** A one-line description of a step, for logs, the journal and `coxswain plan`. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'createVm':
      return `create VM ${step.vm.id} (${step.vm.vmType}, ${step.vm.storageGiB} GiB, ${step.vm.zone}, node group ${step.vm.nodeGroup}${step.vm.temporary ? ', temporary' : ''})`;
    case 'deleteVm':
      return `delete VM ${step.vmId}`;
    case 'restartAgent':
      return `restart the agent of ${step.vmId} (agentRunningSince ${step.agentRunningSince})`;
    case 'ensureVersion':
      return `make version ${step.version} available on ${step.vmId}`;
    case 'startDataNode':
      return `start data node ${step.nodeId} (version ${step.version}, node group ${step.nodeGroup}, runningSince ${step.runningSince})`;
    case 'stopDataNode':
      return `stop data node ${step.nodeId}`;
    case 'joinPrimary':
      return step.via === undefined
        ? `found the cluster with ${step.nodeId} as primary${step.slots.length > 0 ? ` of ${slotsWords(step.slots)}` : ''}`
        : `join ${step.nodeId} as a primary via ${step.via}${step.slots.length > 0 ? ` with ${slotsWords(step.slots)}` : ''}`;
    case 'joinReplica':
      return `make ${step.nodeId} a replica of ${step.primaryId}`;
    case 'failover':
      return `fail over to ${step.nodeId}`;
    case 'moveData':
      return `move ${moveSize(step.slots)} (${compactRanges(step.slots)}) from ${step.fromId} to ${step.toId}`;
    case 'removeNode':
      return `remove data node ${step.nodeId} from the cluster`;
    case 'forgetNode':
      return `forget failed node ${shortEngineId(step.engineNodeId)} on ${step.nodeIds.join(', ')}`;
    case 'configureDataNode':
      return `configure ${step.nodeId}: ${Object.entries(step.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`;
    case 'createBackup':
      return `create backup ${step.backupId} in ${step.sink.type}:${step.sink.path}`;
    case 'deleteBackup':
      return `delete backup ${step.backupId} from ${step.sink.type}:${step.sink.path}`;
    case 'restoreBackup':
      return `restore backup ${step.backupId} from ${step.sink.type}:${step.sink.path}`;
  }
}

/** The first 8 characters of an engine id and "…" (a Redis node id is 40 hex digits); shorter ids whole. */
export function shortEngineId(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

/** "slot 5", "slots 0-99, slots 200-299". */
function slotsWords(ranges: readonly SlotRange[]): string {
  return ranges.map((r) => (r.start === r.end ? `slot ${r.start}` : `slots ${r.start}-${r.end}`)).join(', ');
}

function moveSize(ranges: readonly SlotRange[]): string {
  const n = slotsIn(ranges);
  return n === 1 ? '1 slot' : `${n} slots`;
}

/** "0-99, 200-299": up to three ranges, then "… and N more ranges" (the intent stays one line). */
function compactRanges(ranges: readonly SlotRange[]): string {
  const shown = ranges.slice(0, 3).map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`));
  const more = ranges.length - shown.length;
  return more > 0 ? `${shown.join(', ')} … and ${more} more range${more === 1 ? '' : 's'}` : shown.join(', ');
}
