// The one place where the agent's wire shapes meet the leader's model: the label names
// the leader puts on data nodes, and the mapping from the proto's DataNode, NodeRole,
// BackupStatus and Sink to the plain data of operator/model/observed.ts. The observer
// reads through these functions and the executor writes through them, so a label the
// executor sets is exactly the label the observer reads back.
//
// `labels` (DataNode.labels, set by StartDataNode and ConfigureDataNode) is read
// defensively: an agent that reports none, or a value that is not a string, reads as
// "no labels" (runningSince 0 and an empty config key, which the planner treats as
// "needs a restart").
import path from 'node:path';
import type { DataNode__Output } from '../../proto/generated/coxswain/agent/v1/DataNode.ts';
import type { NodeRole__Output } from '../../proto/generated/coxswain/agent/v1/NodeRole.ts';
import type { BackupStatus__Output } from '../../proto/generated/coxswain/agent/v1/BackupStatus.ts';
import type { Sink } from '../../proto/generated/coxswain/agent/v1/Sink.ts';
import type { EngineVersion } from '../../desired-state/types.ts';
import { configKey, type ObservedDataNode, type ObservedRole, type SlotRange } from '../model/observed.ts';
import type { SinkRef } from '../model/step.ts';

/** Label: the desired state's runningSince a node was (re)started for, as a decimal. */
export const RUNNING_SINCE_LABEL = 'coxswain.io/running-since';
/** Label: the canonical JSON (configKey) of the engine parameters a node was started or configured with. */
export const CONFIG_LABEL = 'coxswain.io/config';

/** engine_params key: the node's view of the cluster topology, equal on all nodes that agree. */
export const TOPOLOGY_DIGEST_PARAM = 'topology_digest';
/** engine_params key: "yes" once a replica's link is up and its initial sync finished. */
export const IN_SYNC_PARAM = 'in_sync';
/** engine_params key: the engine ids of the members a node flags failed that serve no slot, sorted, comma-separated; absent when none. */
export const FAILED_MEMBERS_PARAM = 'failed_members';

/** The failed_members engine param as a sorted list without duplicates or blanks (an absent or empty value: none). */
export function failedMembersOf(value: string | undefined): string[] {
  if (value === undefined) return [];
  return [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s !== ''))].sort();
}

/** The labels a node carries after StartDataNode / ConfigureDataNode. */
export function nodeLabels(runningSince: number, config: Readonly<Record<string, string>>): Record<string, string> {
  return { [RUNNING_SINCE_LABEL]: String(runningSince), [CONFIG_LABEL]: configKey(config) };
}

/** The labels a DataNode reports; {} when the field is absent or not a string map. */
export function readLabels(node: object): Record<string, string> {
  const labels = (node as { labels?: unknown }).labels;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The runningSince label as a whole number; 0 when absent or not a number. */
export function runningSinceOf(labels: Readonly<Record<string, string>>): number {
  const text = labels[RUNNING_SINCE_LABEL];
  if (text === undefined || !/^[0-9]+$/.test(text)) return 0;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : 0;
}

const ROLES: Readonly<Record<string, ObservedRole>> = {
  NODE_ROLE_PRIMARY: 'primary',
  NODE_ROLE_REPLICA: 'replica',
  NODE_ROLE_NONE: 'none',
};

/** NODE_ROLE_PRIMARY → 'primary', REPLICA → 'replica', NONE → 'none', anything else → 'unknown'. */
export function roleOf(role: NodeRole__Output | string): ObservedRole {
  return ROLES[role] ?? 'unknown';
}

/** Whether a backup's status means complete and restorable. */
export function backupComplete(status: BackupStatus__Output | string): boolean {
  return status === 'BACKUP_STATUS_COMPLETE';
}

/** A desired-state sink as the proto's Sink. */
export function sinkToProto(sink: SinkRef, baseDir?: string): Sink {
  return { local: { path: resolveSinkPath(sink.path, baseDir) } };
}

/**
 * The directory an agent is sent for a local sink's path. One rule for every agent: a
 * relative path is relative to the cluster's state directory (`baseDir`), resolved here
 * by the leader before any agent sees it, so every VM reads and writes the same
 * directory whichever VM took a backup (desired-state/desired_state.jsonc says the same).
 * Without a base the path is sent as given, and an agent refuses a relative one.
 */
export function resolveSinkPath(sinkPath: string, baseDir: string | undefined): string {
  return baseDir === undefined || path.isAbsolute(sinkPath) || sinkPath === '' ? sinkPath : path.resolve(baseDir, sinkPath);
}

/** Where the node's VM runs it: the VM's data host, and the port its agent reports (the VM's data port when 0). */
export interface NodePlace {
  vmId: string;
  host: string;
  port: number;
}

/**
 * One DataNode as the model's ObservedDataNode. `primaryId` is left undefined: it needs
 * every node of the cluster (engine id → Coxswain id) and is filled by resolvePrimaries.
 */
export function toObservedDataNode(node: DataNode__Output, place: NodePlace): ObservedDataNode {
  const labels = readLabels(node);
  const params = node.engineParams ?? {};
  const failed = node.up ? failedMembersOf(params[FAILED_MEMBERS_PARAM]) : [];
  return {
    id: node.id,
    vmId: place.vmId,
    host: place.host,
    port: node.port > 0 ? node.port : place.port,
    nodeGroup: node.nodeGroup,
    engineNodeId: node.engineNodeId,
    role: roleOf(node.role),
    primaryId: undefined,
    slots: (node.slots ?? []).map((r): SlotRange => ({ start: r.start, end: r.end })),
    up: node.up,
    version: node.version as EngineVersion,
    runningSince: runningSinceOf(labels),
    configKey: labels[CONFIG_LABEL] ?? '',
    inSync: params[IN_SYNC_PARAM] === 'yes',
    topologyDigest: params[TOPOLOGY_DIGEST_PARAM] ?? '',
    ...(failed.length > 0 ? { failedMembers: failed } : {}),
  };
}

/** An observed node with the engine id of the primary its agent says it follows. */
export interface ReportedNode {
  node: ObservedDataNode;
  /** DataNode.primary_engine_node_id; '' when none. */
  primaryEngineNodeId: string;
}

/**
 * Sets each replica's primaryId to the Coxswain id of the node whose engine id it
 * follows, across the whole cluster (undefined when no observed node has that engine
 * id, and for every node that is not a replica).
 */
export function resolvePrimaries(reported: readonly ReportedNode[]): void {
  const byEngineId = new Map<string, string>();
  for (const { node } of reported) if (node.engineNodeId !== '') byEngineId.set(node.engineNodeId, node.id);
  for (const { node, primaryEngineNodeId } of reported) {
    node.primaryId = node.role === 'replica' && primaryEngineNodeId !== '' ? byEngineId.get(primaryEngineNodeId) : undefined;
  }
}
