// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Start a data node, declaring it on this agent the first time.
 */
export interface StartDataNodeRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * Coxswain's id for the node (required; letters, digits, '-', '_', '.', at most 63).
   */
  'nodeId'?: (string);
  /**
   * Client port (required, 1 … 65535). Must not change for an existing node.
   */
  'port'?: (number);
  /**
   * Engine version to run (required); its binaries must be available (EnsureVersion).
   */
  'version'?: (string);
  /**
   * The node group (shard) the leader places the node in.
   */
  'nodeGroup'?: (number);
  /**
   * Engine parameters for the node's configuration; those Coxswain owns (port, data dir, cluster mode …) are refused.
   * The whole configuration: a start renders exactly these (with Coxswain's own), replacing
   * what an earlier start or ConfigureDataNode saved. A node that already runs with a
   * different configuration is refused (ALREADY_EXISTS): stop it first.
   */
  'engineParams'?: ({[key: string]: string});
  /**
   * Labels the leader attaches to the node, kept in its record and reported on DataNode
   * (e.g. "coxswain.io/running-since", "coxswain.io/config"). Starting an existing node
   * replaces the labels it had with these; a node that already runs with other labels is
   * refused (ALREADY_EXISTS): stop it first. Keys: 1 … 63 characters of [a-z0-9./-];
   * values: at most 4096 characters; at most 32 labels (INVALID_ARGUMENT naming the label).
   */
  'labels'?: ({[key: string]: string});
}

/**
 * Start a data node, declaring it on this agent the first time.
 */
export interface StartDataNodeRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * Coxswain's id for the node (required; letters, digits, '-', '_', '.', at most 63).
   */
  'nodeId': (string);
  /**
   * Client port (required, 1 … 65535). Must not change for an existing node.
   */
  'port': (number);
  /**
   * Engine version to run (required); its binaries must be available (EnsureVersion).
   */
  'version': (string);
  /**
   * The node group (shard) the leader places the node in.
   */
  'nodeGroup': (number);
  /**
   * Engine parameters for the node's configuration; those Coxswain owns (port, data dir, cluster mode …) are refused.
   * The whole configuration: a start renders exactly these (with Coxswain's own), replacing
   * what an earlier start or ConfigureDataNode saved. A node that already runs with a
   * different configuration is refused (ALREADY_EXISTS): stop it first.
   */
  'engineParams': ({[key: string]: string});
  /**
   * Labels the leader attaches to the node, kept in its record and reported on DataNode
   * (e.g. "coxswain.io/running-since", "coxswain.io/config"). Starting an existing node
   * replaces the labels it had with these; a node that already runs with other labels is
   * refused (ALREADY_EXISTS): stop it first. Keys: 1 … 63 characters of [a-z0-9./-];
   * values: at most 4096 characters; at most 32 labels (INVALID_ARGUMENT naming the label).
   */
  'labels': ({[key: string]: string});
}
