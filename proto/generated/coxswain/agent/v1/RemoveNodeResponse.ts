// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';

/**
 * Result of RemoveNode.
 */
export interface RemoveNodeResponse {
  /**
   * What was done.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
}

/**
 * Result of RemoveNode.
 */
export interface RemoveNodeResponse__Output {
  /**
   * What was done.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
}
