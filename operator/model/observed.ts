// What the leader observes of one cluster: the VM inventory (from the VM provider) joined
// with what each VM's agent reports (GetState), plus the few facts only the leader can
// know, which it persists (what it restored, which backups its history ever named).
//
// This is the planner's whole view of the world: `plan(desired, observed)` reads
// nothing else. It is plain data (JSON-serialisable, no classes, no Maps) so the
// generative tests can build it, print it and save it in a regression file, and so
// `coxswain plan` and `status --json` can show it. operator/observe/observe.ts builds it
// from the real ports; the simulated world builds it through the same code.
import type { EngineVersion, VmType } from '../../desired-state/types.ts';
import { slotsIn, type SlotRange } from '../../common/slot-ranges.ts';

/** The role of a data node as its engine reports it. */
export type ObservedRole =
  /** A primary of its node group: it serves slots (or founded the cluster and waits for them). */
  | 'primary'
  /** A replica of `primaryId`. */
  | 'replica'
  /** Started, not yet a member of the cluster (Redis: knows only itself). */
  | 'none'
  /** Down, or the engine did not say. */
  | 'unknown';

// Hash-slot ranges are defined once, in common/slot-ranges.ts; the model names them too.
export { SLOT_COUNT as REDIS_SLOTS, slotsCovered, type SlotRange } from '../../common/slot-ranges.ts';

/** One data node (one redis-server / valkey-server process), as observed. */
export interface ObservedDataNode {
  /** Coxswain's id of the node; by convention the id of the VM that hosts it. */
  id: string;
  /** The VM (and agent) that hosts it. */
  vmId: string;
  /** Where clients and other nodes reach it. */
  host: string;
  port: number;
  /** The node group the leader placed it in (StartDataNode's node_group). */
  nodeGroup: number;
  /** The engine's id (Redis: 40-hex cluster node id); '' until assigned. */
  engineNodeId: string;
  role: ObservedRole;
  /** For a replica: the Coxswain id of its primary, resolved from the engine id; undefined when unknown or not a replica. */
  primaryId: string | undefined;
  /** Hash slots it serves as primary (0 for replicas). */
  slots: SlotRange[];
  /** Process runs and answers the readiness probe. */
  up: boolean;
  /** Version it runs (or last ran). */
  version: EngineVersion;
  /** Label: the desired state's runningSince it was last (re)started for. */
  runningSince: number;
  /** Label: canonical JSON of the engine parameters it was started or last configured with (see configKey). */
  configKey: string;
  /** Replica only: the replication link is up and the initial sync finished. */
  inSync: boolean;
  /** Digest of the cluster topology as this node sees it; '' when down. All up members agree ⇔ equal digests. */
  topologyDigest: string;
  /**
   * Engine ids of the members this node flags failed (`fail`, or `fail?`: a ghost only a
   * few members know never gets the cluster's verdict) and that serve no slot, sorted (DataNode.engine_params failed_members). Absent or empty:
   * none (and always for a node that is down). A failed member no observed node is is a
   * stranger (see strangers()): left over from a removal or a lost VM.
   */
  failedMembers?: string[];
}

/** One VM: the provider's record joined with its agent's report. */
export interface ObservedVm {
  id: string;
  /** Availability zone label. */
  zone: string;
  vmType: VmType;
  storageGiB: number;
  /** The node group this VM was created for (its data node's node group). */
  nodeGroup: number;
  /** Created only for the duration of an operation (allowTemporaryVms). */
  temporary: boolean;
  /** Provider's view: 'creating' until its agent answered once, 'running', 'stopped' (down on purpose), 'failed' (lost). */
  state: 'creating' | 'running' | 'stopped' | 'failed';
  /** The agent answered GetState in this observation. */
  agentUp: boolean;
  /** host:port of the agent's gRPC service. */
  endpoint: string;
  /** The desired state's agentRunningSince the agent was (re)started for. */
  agentRunningSince: number;
  /** Host and port its data node uses (assigned by the provider). */
  dataHost: string;
  dataPort: number;
  /** Engine versions whose binaries the agent reports as available. */
  installedVersions: EngineVersion[];
  /** Data nodes the agent reports (0 or 1 in this design: one data node per VM). Empty when the agent is down. */
  dataNodes: ObservedDataNode[];
}

/** A backup in a sink, among those the cluster's desired-state history ever named. */
export interface ObservedBackup {
  id: string;
  /** The sink's key (sinkKey()). */
  sink: string;
  /** Complete and restorable (manifest present). */
  complete: boolean;
}

/** Facts only the leader knows, persisted in its state directory. */
export interface LeaderFacts {
  /** The backup this cluster was filled from, once that restore finished. */
  restoredFrom: string | undefined;
  /** The cluster was formed once (all slots assigned); it has "run". */
  formed: boolean;
}

export interface ObservedCluster {
  /** Every VM of the cluster, sorted by id. */
  vms: ObservedVm[];
  /** The backups the history ever named, as found in their sinks; undefined when no sink could be listed this time. */
  backups: ObservedBackup[] | undefined;
  facts: LeaderFacts;
}

/** Every data node of the cluster, across VMs. */
export function dataNodes(observed: ObservedCluster): ObservedDataNode[] {
  return observed.vms.flatMap((vm) => vm.dataNodes);
}

/**
 * The strangers of an observation: engine ids that some up data node reports as a failed
 * member (failedMembers) and that are not the engine id of any observed data node — a
 * removed node or a lost VM's node that gossip kept in the members' tables. Sorted.
 *
 * Only meaningful when every VM's agent answered and every node is up: a VM whose agent
 * is down hides its node, whose id then looks like a stranger's (the planner's guard:
 * planner/strangers.ts strangersHidden).
 */
export function strangers(observed: ObservedCluster): string[] {
  const nodes = dataNodes(observed);
  const owned = new Set<string>();
  for (const n of nodes) if (n.engineNodeId !== '') owned.add(n.engineNodeId);
  const out = new Set<string>();
  for (const n of nodes) {
    if (!n.up) continue;
    for (const id of n.failedMembers ?? []) if (id !== '' && !owned.has(id)) out.add(id);
  }
  return [...out].sort();
}

/** Slots a node serves. */
export function slotCount(node: Pick<ObservedDataNode, 'slots'>): number {
  return slotsIn(node.slots);
}


/** The key a sink is known by: "local:<path>". */
export function sinkKey(sink: { type: 'local'; path: string }): string {
  return `${sink.type}:${sink.path}`;
}

/** Canonical JSON of engine parameters: keys sorted, values as strings — the label a node carries. */
export function configKey(config: Readonly<Record<string, string | number>>): string {
  const sorted = Object.keys(config)
    .sort()
    .map((k) => [k, String(config[k])] as const);
  return JSON.stringify(Object.fromEntries(sorted));
}

/** An empty cluster: nothing created yet. */
export function emptyObserved(): ObservedCluster {
  return { vms: [], backups: [], facts: { restoredFrom: undefined, formed: false } };
}
