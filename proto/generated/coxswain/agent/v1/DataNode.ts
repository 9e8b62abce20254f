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
   * Engine-specific observations, keyed by name. Redis/Valkey report, for a node that
   * answers (none of them when it does not):
   * cluster_state      "ok" or "fail" (CLUSTER INFO).
   * running_version    the server's own version, e.g. "7.0.15".
   * known_nodes        how many nodes this node knows, itself included and handshake
   * entries not (CLUSTER NODES); "1" until it joined a cluster.
   * topology_digest    16 hex digits: a SHA-256 prefix of this node's normalised view of
   * the cluster, one line per known node sorted by node id: its id,
   * "primary" or "replica", its primary's id ("-" for a primary), its
   * slot ranges, and "fail" when this node flags it as failed. Left
   * out on purpose: addresses, link state, epochs, ping and pong times,
   * handshake entries, half-moved slot markers and the "fail?" (pfail)
   * flag — a node's private suspicion that comes and goes with a slow
   * reply, whereas "fail" is the cluster's agreed verdict. Nodes whose
   * digests are equal agree on membership, roles, primaries, slot
   * ownership and failed nodes: the leader compares the digests of all
   * up nodes to tell "all nodes agree".
   * failed_members     the engine ids of the members this node flags failed ("fail",
   * or "fail?": a ghost only a few members know never gets the
   * cluster's verdict) and that serve no slot, sorted and
   * comma-separated; absent when there are none. A failed member no
   * agent runs is left over from a removal or a lost VM: the leader
   * makes every member forget it (ForgetNode).
   * open_slots         how many slots this node has half-moved (migrating or importing);
   * "0" normally, more after an interrupted MoveData (repeat it).
   * master_link_status replicas only: "up" or "down" (INFO replication).
   * in_sync            replicas only: "yes" when the link to the primary is up and no
   * (full) sync is in progress, else "no".
   * pending_restart    parameters ConfigureDataNode saved that take effect only at the
   * node's next start, comma-separated; absent when there are none.
   * Computed from one CLUSTER NODES, one CLUSTER INFO and one INFO replication per node,
   * sent together: GetState stays cheap enough to be called every second.
   */
  'engineParams'?: ({[key: string]: string});
  /**
   * The labels the leader attached (StartDataNode, ConfigureDataNode), e.g.
   * {"coxswain.io/running-since": "3"}; the agent's internal labels are not shown.
   */
  'labels'?: ({[key: string]: string});
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
   * Engine-specific observations, keyed by name. Redis/Valkey report, for a node that
   * answers (none of them when it does not):
   * cluster_state      "ok" or "fail" (CLUSTER INFO).
   * running_version    the server's own version, e.g. "7.0.15".
   * known_nodes        how many nodes this node knows, itself included and handshake
   * entries not (CLUSTER NODES); "1" until it joined a cluster.
   * topology_digest    16 hex digits: a SHA-256 prefix of this node's normalised view of
   * the cluster, one line per known node sorted by node id: its id,
   * "primary" or "replica", its primary's id ("-" for a primary), its
   * slot ranges, and "fail" when this node flags it as failed. Left
   * out on purpose: addresses, link state, epochs, ping and pong times,
   * handshake entries, half-moved slot markers and the "fail?" (pfail)
   * flag — a node's private suspicion that comes and goes with a slow
   * reply, whereas "fail" is the cluster's agreed verdict. Nodes whose
   * digests are equal agree on membership, roles, primaries, slot
   * ownership and failed nodes: the leader compares the digests of all
   * up nodes to tell "all nodes agree".
   * failed_members     the engine ids of the members this node flags failed ("fail",
   * or "fail?": a ghost only a few members know never gets the
   * cluster's verdict) and that serve no slot, sorted and
   * comma-separated; absent when there are none. A failed member no
   * agent runs is left over from a removal or a lost VM: the leader
   * makes every member forget it (ForgetNode).
   * open_slots         how many slots this node has half-moved (migrating or importing);
   * "0" normally, more after an interrupted MoveData (repeat it).
   * master_link_status replicas only: "up" or "down" (INFO replication).
   * in_sync            replicas only: "yes" when the link to the primary is up and no
   * (full) sync is in progress, else "no".
   * pending_restart    parameters ConfigureDataNode saved that take effect only at the
   * node's next start, comma-separated; absent when there are none.
   * Computed from one CLUSTER NODES, one CLUSTER INFO and one INFO replication per node,
   * sent together: GetState stays cheap enough to be called every second.
   */
  'engineParams': ({[key: string]: string});
  /**
   * The labels the leader attached (StartDataNode, ConfigureDataNode), e.g.
   * {"coxswain.io/running-since": "3"}; the agent's internal labels are not shown.
   */
  'labels': ({[key: string]: string});
}
