// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';

/**
 * Result of DeleteBackup.
 */
export interface DeleteBackupResponse {
  /**
   * What was done; `changed: false` when the backup was already gone.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
}

/**
 * Result of DeleteBackup.
 */
export interface DeleteBackupResponse__Output {
  /**
   * What was done; `changed: false` when the backup was already gone.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
}
