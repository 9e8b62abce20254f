// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';
import type { Sink as _coxswain_agent_v1_Sink, Sink__Output as _coxswain_agent_v1_Sink__Output } from '../../../coxswain/agent/v1/Sink.ts';

/**
 * Delete a backup.
 */
export interface DeleteBackupRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The backup's id (required).
   */
  'backupId'?: (string);
  /**
   * Where it is (required).
   */
  'sink'?: (_coxswain_agent_v1_Sink | null);
}

/**
 * Delete a backup.
 */
export interface DeleteBackupRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The backup's id (required).
   */
  'backupId': (string);
  /**
   * Where it is (required).
   */
  'sink': (_coxswain_agent_v1_Sink__Output | null);
}
