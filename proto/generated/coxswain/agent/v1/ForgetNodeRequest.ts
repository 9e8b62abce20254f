// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * Forget a failed member. Redis bans a forgotten node id for 60 s; a member that still
 * knows the node after that brings it back by gossip, so the leader asks every member
 * within a few seconds of each other.
 */
export interface ForgetNodeRequest {
  /**
   * The leader job and step (job_id required).
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * The local node that forgets (required; NOT_FOUND when unknown; FAILED_PRECONDITION
   * when it is not running).
   */
  'nodeId'?: (string);
  /**
   * The engine id of the member to forget (required). FAILED_PRECONDITION (reason
   * NOT_FAILED) when the local node does not flag it failed ("fail" or "fail?") or when
   * it is the local node itself; FAILED_PRECONDITION (reason NOT_EMPTY) when it serves
   * slots. `changed: false` when the local node does not know it.
   */
  'engineNodeId'?: (string);
}

/**
 * Forget a failed member. Redis bans a forgotten node id for 60 s; a member that still
 * knows the node after that brings it back by gossip, so the leader asks every member
 * within a few seconds of each other.
 */
export interface ForgetNodeRequest__Output {
  /**
   * The leader job and step (job_id required).
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * The local node that forgets (required; NOT_FOUND when unknown; FAILED_PRECONDITION
   * when it is not running).
   */
  'nodeId': (string);
  /**
   * The engine id of the member to forget (required). FAILED_PRECONDITION (reason
   * NOT_FAILED) when the local node does not flag it failed ("fail" or "fail?") or when
   * it is the local node itself; FAILED_PRECONDITION (reason NOT_EMPTY) when it serves
   * slots. `changed: false` when the local node does not know it.
   */
  'engineNodeId': (string);
}
