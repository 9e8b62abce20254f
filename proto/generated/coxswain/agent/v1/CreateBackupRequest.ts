// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';
import type { Sink as _coxswain_agent_v1_Sink, Sink__Output as _coxswain_agent_v1_Sink__Output } from '../../../coxswain/agent/v1/Sink.ts';

/**
 * Back up this agent's data nodes.
 */
export interface CreateBackupRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The backup's id (required).
   */
  'backupId'?: (string);
  /**
   * Where to write it (required).
   */
  'sink'?: (_coxswain_agent_v1_Sink | null);
  /**
   * Local nodes to back up; empty = every primary on this agent.
   */
  'nodeIds'?: (string)[];
}

/**
 * Back up this agent's data nodes.
 */
export interface CreateBackupRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The backup's id (required).
   */
  'backupId': (string);
  /**
   * Where to write it (required).
   */
  'sink': (_coxswain_agent_v1_Sink__Output | null);
  /**
   * Local nodes to back up; empty = every primary on this agent.
   */
  'nodeIds': (string)[];
}
