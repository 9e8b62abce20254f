// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Apply engine parameters to a data node.
 */
export interface ConfigureDataNodeRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The local node (required; NOT_FOUND when unknown).
   */
  'nodeId'?: (string);
  /**
   * Parameters and values (at least one), e.g. {"maxmemory-policy": "allkeys-lru"}.
   */
  'engineParams'?: ({[key: string]: string});
}

/**
 * Apply engine parameters to a data node.
 */
export interface ConfigureDataNodeRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The local node (required; NOT_FOUND when unknown).
   */
  'nodeId': (string);
  /**
   * Parameters and values (at least one), e.g. {"maxmemory-policy": "allkeys-lru"}.
   */
  'engineParams': ({[key: string]: string});
}
