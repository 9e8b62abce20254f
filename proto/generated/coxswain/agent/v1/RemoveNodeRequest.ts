// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Take a node out of the cluster once its data has moved.
 */
export interface RemoveNodeRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The local node to remove (required; NOT_FOUND when unknown; FAILED_PRECONDITION while it still holds data as a primary).
   */
  'nodeId'?: (string);
}

/**
 * Take a node out of the cluster once its data has moved.
 */
export interface RemoveNodeRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The local node to remove (required; NOT_FOUND when unknown; FAILED_PRECONDITION while it still holds data as a primary).
   */
  'nodeId': (string);
}
