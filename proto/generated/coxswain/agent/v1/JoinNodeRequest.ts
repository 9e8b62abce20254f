// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';
import type { JoinRole as _coxswain_agent_v1_JoinRole, JoinRole__Output as _coxswain_agent_v1_JoinRole__Output } from '../../../coxswain/agent/v1/JoinRole.ts';
import type { NodeAddress as _coxswain_agent_v1_NodeAddress, NodeAddress__Output as _coxswain_agent_v1_NodeAddress__Output } from '../../../coxswain/agent/v1/NodeAddress.ts';
import type { SlotRange as _coxswain_agent_v1_SlotRange, SlotRange__Output as _coxswain_agent_v1_SlotRange__Output } from '../../../coxswain/agent/v1/SlotRange.ts';

/**
 * Join a started data node into the cluster.
 */
export interface JoinNodeRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The local node to join (required; NOT_FOUND when this agent does not have it).
   */
  'nodeId'?: (string);
  /**
   * How it joins (required).
   */
  'role'?: (_coxswain_agent_v1_JoinRole);
  /**
   * A node already in the cluster to introduce the new one to; absent only when this node founds a new cluster.
   */
  'clusterMember'?: (_coxswain_agent_v1_NodeAddress | null);
  /**
   * The primary to replicate (required for JOIN_ROLE_REPLICA, engine_node_id set).
   */
  'replicaOf'?: (_coxswain_agent_v1_NodeAddress | null);
  /**
   * Redis: slots to assign to this primary right away, for a cluster that holds no data in
   * them yet. Without cluster_member the node founds a new cluster with them; with it, it
   * joins the member's cluster and claims them, which is allowed only for slots no node of
   * that cluster serves (FAILED_PRECONDITION naming the owner otherwise; slots already this
   * node's change nothing). The leader founds N primaries as: the first JoinNode without
   * cluster_member and with its share, then the others with cluster_member = the first and
   * their shares, in parallel. Data in slots that are served moves with MoveData.
   */
  'assignSlots'?: (_coxswain_agent_v1_SlotRange)[];
}

/**
 * Join a started data node into the cluster.
 */
export interface JoinNodeRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The local node to join (required; NOT_FOUND when this agent does not have it).
   */
  'nodeId': (string);
  /**
   * How it joins (required).
   */
  'role': (_coxswain_agent_v1_JoinRole__Output);
  /**
   * A node already in the cluster to introduce the new one to; absent only when this node founds a new cluster.
   */
  'clusterMember': (_coxswain_agent_v1_NodeAddress__Output | null);
  /**
   * The primary to replicate (required for JOIN_ROLE_REPLICA, engine_node_id set).
   */
  'replicaOf': (_coxswain_agent_v1_NodeAddress__Output | null);
  /**
   * Redis: slots to assign to this primary right away, for a cluster that holds no data in
   * them yet. Without cluster_member the node founds a new cluster with them; with it, it
   * joins the member's cluster and claims them, which is allowed only for slots no node of
   * that cluster serves (FAILED_PRECONDITION naming the owner otherwise; slots already this
   * node's change nothing). The leader founds N primaries as: the first JoinNode without
   * cluster_member and with its share, then the others with cluster_member = the first and
   * their shares, in parallel. Data in slots that are served moves with MoveData.
   */
  'assignSlots': (_coxswain_agent_v1_SlotRange__Output)[];
}
