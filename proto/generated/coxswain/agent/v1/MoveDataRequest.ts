// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';
import type { NodeAddress as _coxswain_agent_v1_NodeAddress, NodeAddress__Output as _coxswain_agent_v1_NodeAddress__Output } from '../../../coxswain/agent/v1/NodeAddress.ts';
import type { SlotRanges as _coxswain_agent_v1_SlotRanges, SlotRanges__Output as _coxswain_agent_v1_SlotRanges__Output } from '../../../coxswain/agent/v1/SlotRanges.ts';

/**
 * Move data between node groups.
 */
export interface MoveDataRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The local primary that gives data (required; NOT_FOUND when unknown).
   */
  'sourceNodeId'?: (string);
  /**
   * The primary of the node group that receives it (engine_node_id required).
   */
  'target'?: (_coxswain_agent_v1_NodeAddress | null);
  /**
   * These slot ranges (Redis).
   */
  'slots'?: (_coxswain_agent_v1_SlotRanges | null);
  /**
   * This many slots, chosen by the agent (Redis).
   */
  'slotCount'?: (number);
  /**
   * Everything the source holds (before removing its node group).
   */
  'all'?: (boolean);
  /**
   * What to move; exactly one must be set.
   */
  'selection'?: "slots"|"slotCount"|"all";
}

/**
 * Move data between node groups.
 */
export interface MoveDataRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The local primary that gives data (required; NOT_FOUND when unknown).
   */
  'sourceNodeId': (string);
  /**
   * The primary of the node group that receives it (engine_node_id required).
   */
  'target': (_coxswain_agent_v1_NodeAddress__Output | null);
  /**
   * These slot ranges (Redis).
   */
  'slots'?: (_coxswain_agent_v1_SlotRanges__Output | null);
  /**
   * This many slots, chosen by the agent (Redis).
   */
  'slotCount'?: (number);
  /**
   * Everything the source holds (before removing its node group).
   */
  'all'?: (boolean);
  /**
   * What to move; exactly one must be set.
   */
  'selection'?: "slots"|"slotCount"|"all";
}
