// Original file: proto/coxswain/agent/v1/agent.proto

import type { NodeRole as _coxswain_agent_v1_NodeRole, NodeRole__Output as _coxswain_agent_v1_NodeRole__Output } from '../../../coxswain/agent/v1/NodeRole.ts';
import type { SlotRange as _coxswain_agent_v1_SlotRange, SlotRange__Output as _coxswain_agent_v1_SlotRange__Output } from '../../../coxswain/agent/v1/SlotRange.ts';
import type { DiskUsage as _coxswain_agent_v1_DiskUsage, DiskUsage__Output as _coxswain_agent_v1_DiskUsage__Output } from '../../../coxswain/agent/v1/DiskUsage.ts';

/**
 * One data node on this agent, as observed.
 */
export interface DataNode {
  /**
   * Coxswain's id of the node, chosen by the leader and stable for the node's life, e.g. "ng0-r1".
   */
  'id'?: (string);
  /**
   * The engine's own id (Redis: 40-hex cluster node id; RonDB: the NodeId as a decimal); empty before the engine assigned one.
   */
  'engineNodeId'?: (string);
  /**
   * Program that runs the node, e.g. "redis-server", "valkey-server", "ndbmtd".
   */
  'program'?: (string);
  /**
   * Client port the engine listens on.
   */
  'port'?: (number);
  /**
   * Role in the cluster.
   */
  'role'?: (_coxswain_agent_v1_NodeRole);
  /**
   * For a replica, the engine node id of its primary; empty otherwise.
   */
  'primaryEngineNodeId'?: (string);
  /**
   * The node group (shard) the leader placed this node in when it started it.
   */
  'nodeGroup'?: (number);
  /**
   * Redis: hash slots this node serves as primary; empty for replicas and other engines.
   */
  'slots'?: (_coxswain_agent_v1_SlotRange)[];
  /**
   * Operating-system process id; 0 when not running.
   */
  'pid'?: (number);
  /**
   * True when the process runs and answers the engine's readiness probe.
   */
  'up'?: (boolean);
  /**
   * Engine version the node runs (or last ran), e.g. "7.0".
   */
  'version'?: (string);
  /**
   * Disk usage of the node's data directory.
   */
  'dataDirUsage'?: (_coxswain_agent_v1_DiskUsage | null);
  /**
   * Engine-specific observations, e.g. {"cluster_state": "ok"}.
   */
  'engineParams'?: ({[key: string]: string});
}

/**
 * One data node on this agent, as observed.
 */
export interface DataNode__Output {
  /**
   * Coxswain's id of the node, chosen by the leader and stable for the node's life, e.g. "ng0-r1".
   */
  'id': (string);
  /**
   * The engine's own id (Redis: 40-hex cluster node id; RonDB: the NodeId as a decimal); empty before the engine assigned one.
   */
  'engineNodeId': (string);
  /**
   * Program that runs the node, e.g. "redis-server", "valkey-server", "ndbmtd".
   */
  'program': (string);
  /**
   * Client port the engine listens on.
   */
  'port': (number);
  /**
   * Role in the cluster.
   */
  'role': (_coxswain_agent_v1_NodeRole__Output);
  /**
   * For a replica, the engine node id of its primary; empty otherwise.
   */
  'primaryEngineNodeId': (string);
  /**
   * The node group (shard) the leader placed this node in when it started it.
   */
  'nodeGroup': (number);
  /**
   * Redis: hash slots this node serves as primary; empty for replicas and other engines.
   */
  'slots': (_coxswain_agent_v1_SlotRange__Output)[];
  /**
   * Operating-system process id; 0 when not running.
   */
  'pid': (number);
  /**
   * True when the process runs and answers the engine's readiness probe.
   */
  'up': (boolean);
  /**
   * Engine version the node runs (or last ran), e.g. "7.0".
   */
  'version': (string);
  /**
   * Disk usage of the node's data directory.
   */
  'dataDirUsage': (_coxswain_agent_v1_DiskUsage__Output | null);
  /**
   * Engine-specific observations, e.g. {"cluster_state": "ok"}.
   */
  'engineParams': ({[key: string]: string});
}
