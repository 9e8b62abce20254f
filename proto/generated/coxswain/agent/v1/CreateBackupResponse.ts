// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';
import type { BackupInfo as _coxswain_agent_v1_BackupInfo, BackupInfo__Output as _coxswain_agent_v1_BackupInfo__Output } from '../../../coxswain/agent/v1/BackupInfo.ts';

/**
 * Result of CreateBackup.
 */
export interface CreateBackupResponse {
  /**
   * What was done.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
  /**
   * The backup as written by this agent.
   */
  'backup'?: (_coxswain_agent_v1_BackupInfo | null);
}

/**
 * Result of CreateBackup.
 */
export interface CreateBackupResponse__Output {
  /**
   * What was done.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
  /**
   * The backup as written by this agent.
   */
  'backup': (_coxswain_agent_v1_BackupInfo__Output | null);
}
