// Original file: proto/coxswain/agent/v1/agent.proto

import type { JobRef as _coxswain_agent_v1_JobRef, JobRef__Output as _coxswain_agent_v1_JobRef__Output } from '../../../coxswain/agent/v1/JobRef.ts';

/**
 * The result of a mutating call that succeeded.
 */
export interface Outcome {
  /**
   * What the agent did, in a sentence a person can read, e.g. "Started data node ng0-r1 on port 7001".
   */
  'message'?: (string);
  /**
   * The job and step the request named, echoed back.
   */
  'job'?: (_coxswain_agent_v1_JobRef | null);
  /**
   * False when the effect was already in place and nothing had to be done.
   */
  'changed'?: (boolean);
}

/**
 * The result of a mutating call that succeeded.
 */
export interface Outcome__Output {
  /**
   * What the agent did, in a sentence a person can read, e.g. "Started data node ng0-r1 on port 7001".
   */
  'message': (string);
  /**
   * The job and step the request named, echoed back.
   */
  'job': (_coxswain_agent_v1_JobRef__Output | null);
  /**
   * False when the effect was already in place and nothing had to be done.
   */
  'changed': (boolean);
}
