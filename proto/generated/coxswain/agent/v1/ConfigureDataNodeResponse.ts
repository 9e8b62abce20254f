// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';

/**
 * Result of ConfigureDataNode.
 */
export interface ConfigureDataNodeResponse {
  /**
   * What was done.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
  /**
   * Parameters applied live.
   */
  'applied'?: (string)[];
  /**
   * Parameters saved in the node's configuration that take effect at its next restart.
   */
  'pendingRestart'?: (string)[];
}

/**
 * Result of ConfigureDataNode.
 */
export interface ConfigureDataNodeResponse__Output {
  /**
   * What was done.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
  /**
   * Parameters applied live.
   */
  'applied': (string)[];
  /**
   * Parameters saved in the node's configuration that take effect at its next restart.
   */
  'pendingRestart': (string)[];
}
