// Original file: proto/coxswain/agent/v1/agent.proto

import type { Sink as _coxswain_agent_v1_Sink, Sink__Output as _coxswain_agent_v1_Sink__Output } from '../../../coxswain/agent/v1/Sink.ts';

/**
 * List backups.
 */
export interface ListBackupsRequest {
  /**
   * The sink to list; absent = the backups this agent knows of.
   */
  'sink'?: (_coxswain_agent_v1_Sink | null);
}

/**
 * List backups.
 */
export interface ListBackupsRequest__Output {
  /**
   * The sink to list; absent = the backups this agent knows of.
   */
  'sink': (_coxswain_agent_v1_Sink__Output | null);
}
