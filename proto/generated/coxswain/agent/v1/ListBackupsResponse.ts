// Original file: proto/coxswain/agent/v1/agent.proto

import type { BackupInfo as _coxswain_agent_v1_BackupInfo, BackupInfo__Output as _coxswain_agent_v1_BackupInfo__Output } from '../../../coxswain/agent/v1/BackupInfo.ts';

/**
 * The backups.
 */
export interface ListBackupsResponse {
  /**
   * Sorted by id.
   */
  'backups'?: (_coxswain_agent_v1_BackupInfo)[];
}

/**
 * The backups.
 */
export interface ListBackupsResponse__Output {
  /**
   * Sorted by id.
   */
  'backups': (_coxswain_agent_v1_BackupInfo__Output)[];
}
