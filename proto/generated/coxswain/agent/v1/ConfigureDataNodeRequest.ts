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
   * Parameters and values, e.g. {"maxmemory-policy": "allkeys-lru"}. Applied live where the
   * engine allows, and saved in the node's configuration either way, so the node keeps them
   * across restarts; a later StartDataNode with the same full configuration changes nothing.
   * At least one parameter or one label is required.
   */
  'engineParams'?: ({[key: string]: string});
  /**
   * Labels to set on the node once the parameters were applied (same rules as
   * StartDataNodeRequest.labels). Each label given is set; the node's other labels stay.
   */
  'labels'?: ({[key: string]: string});
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
   * Parameters and values, e.g. {"maxmemory-policy": "allkeys-lru"}. Applied live where the
   * engine allows, and saved in the node's configuration either way, so the node keeps them
   * across restarts; a later StartDataNode with the same full configuration changes nothing.
   * At least one parameter or one label is required.
   */
  'engineParams': ({[key: string]: string});
  /**
   * Labels to set on the node once the parameters were applied (same rules as
   * StartDataNodeRequest.labels). Each label given is set; the node's other labels stay.
   */
  'labels': ({[key: string]: string});
}
