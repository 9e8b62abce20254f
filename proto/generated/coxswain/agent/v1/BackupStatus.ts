// Original file: proto/coxswain/agent/v1/agent.proto

/**
 * The state of a backup.
 */
export const BackupStatus = {
  /**
   * Not known.
   */
  BACKUP_STATUS_UNSPECIFIED: 'BACKUP_STATUS_UNSPECIFIED',
  /**
   * Being written.
   */
  BACKUP_STATUS_IN_PROGRESS: 'BACKUP_STATUS_IN_PROGRESS',
  /**
   * Complete and restorable.
   */
  BACKUP_STATUS_COMPLETE: 'BACKUP_STATUS_COMPLETE',
  /**
   * Failed; see `detail`.
   */
  BACKUP_STATUS_FAILED: 'BACKUP_STATUS_FAILED',
} as const;

/**
 * The state of a backup.
 */
export type BackupStatus =
  /**
   * Not known.
   */
  | 'BACKUP_STATUS_UNSPECIFIED'
  | 0
  /**
   * Being written.
   */
  | 'BACKUP_STATUS_IN_PROGRESS'
  | 1
  /**
   * Complete and restorable.
   */
  | 'BACKUP_STATUS_COMPLETE'
  | 2
  /**
   * Failed; see `detail`.
   */
  | 'BACKUP_STATUS_FAILED'
  | 3

/**
 * The state of a backup.
 */
export type BackupStatus__Output = typeof BackupStatus[keyof typeof BackupStatus]
