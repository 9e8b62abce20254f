// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Stop a data node, keeping its data.
 */
export interface StopDataNodeRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The node to stop (required; NOT_FOUND when this agent does not have it).
   */
  'nodeId'?: (string);
}

/**
 * Stop a data node, keeping its data.
 */
export interface StopDataNodeRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The node to stop (required; NOT_FOUND when this agent does not have it).
   */
  'nodeId': (string);
}
