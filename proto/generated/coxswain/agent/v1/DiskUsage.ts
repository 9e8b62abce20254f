// Original file: proto/coxswain/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Disk usage of a data node's data directory.
 */
export interface DiskUsage {
  /**
   * Bytes used by the node's data directory.
   */
  'usedBytes'?: (number | string | Long);
  /**
   * Bytes still free on the file system that holds it.
   */
  'availableBytes'?: (number | string | Long);
}

/**
 * Disk usage of a data node's data directory.
 */
export interface DiskUsage__Output {
  /**
   * Bytes used by the node's data directory.
   */
  'usedBytes': (string);
  /**
   * Bytes still free on the file system that holds it.
   */
  'availableBytes': (string);
}
