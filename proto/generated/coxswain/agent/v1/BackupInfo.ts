// Original file: proto/coxswain/agent/v1/agent.proto

import type { Sink as _coxswain_agent_v1_Sink, Sink__Output as _coxswain_agent_v1_Sink__Output } from '../../../coxswain/agent/v1/Sink.ts';
import type { BackupStatus as _coxswain_agent_v1_BackupStatus, BackupStatus__Output as _coxswain_agent_v1_BackupStatus__Output } from '../../../coxswain/agent/v1/BackupStatus.ts';
import type { BackupPart as _coxswain_agent_v1_BackupPart, BackupPart__Output as _coxswain_agent_v1_BackupPart__Output } from '../../../coxswain/agent/v1/BackupPart.ts';

/**
 * A backup, or the parts of it this agent wrote.
 */
export interface BackupInfo {
  /**
   * The backup's id, chosen by the leader (from the desired state's `backups[].id`).
   */
  'backupId'?: (string);
  /**
   * Where it is kept.
   */
  'sink'?: (_coxswain_agent_v1_Sink | null);
  /**
   * Its state.
   */
  'status'?: (_coxswain_agent_v1_BackupStatus);
  /**
   * When it was completed (or started, while in progress), RFC 3339 UTC.
   */
  'createdAt'?: (string);
  /**
   * The parts, one per node group backed up.
   */
  'parts'?: (_coxswain_agent_v1_BackupPart)[];
  /**
   * Why it failed, for BACKUP_STATUS_FAILED; empty otherwise.
   */
  'detail'?: (string);
}

/**
 * A backup, or the parts of it this agent wrote.
 */
export interface BackupInfo__Output {
  /**
   * The backup's id, chosen by the leader (from the desired state's `backups[].id`).
   */
  'backupId': (string);
  /**
   * Where it is kept.
   */
  'sink': (_coxswain_agent_v1_Sink__Output | null);
  /**
   * Its state.
   */
  'status': (_coxswain_agent_v1_BackupStatus__Output);
  /**
   * When it was completed (or started, while in progress), RFC 3339 UTC.
   */
  'createdAt': (string);
  /**
   * The parts, one per node group backed up.
   */
  'parts': (_coxswain_agent_v1_BackupPart__Output)[];
  /**
   * Why it failed, for BACKUP_STATUS_FAILED; empty otherwise.
   */
  'detail': (string);
}
