// Original file: proto/coxswain/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One data node's part of a backup.
 */
export interface BackupPart {
  /**
   * The node group (shard) whose data this part holds.
   */
  'nodeGroup'?: (number);
  /**
   * The data node it was taken from.
   */
  'dataNodeId'?: (string);
  /**
   * Size of the part in bytes.
   */
  'sizeBytes'?: (number | string | Long);
}

/**
 * One data node's part of a backup.
 */
export interface BackupPart__Output {
  /**
   * The node group (shard) whose data this part holds.
   */
  'nodeGroup': (number);
  /**
   * The data node it was taken from.
   */
  'dataNodeId': (string);
  /**
   * Size of the part in bytes.
   */
  'sizeBytes': (string);
}
