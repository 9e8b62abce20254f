// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Promote a replica.
 */
export interface FailoverRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The local replica to promote (required; FAILED_PRECONDITION when it is not a replica).
   */
  'nodeId'?: (string);
}

/**
 * Promote a replica.
 */
export interface FailoverRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The local replica to promote (required; FAILED_PRECONDITION when it is not a replica).
   */
  'nodeId': (string);
}
