// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';
import type { DataNode as _coxswain_agent_v1_DataNode, DataNode__Output as _coxswain_agent_v1_DataNode__Output } from '../../../coxswain/agent/v1/DataNode.ts';

/**
 * Result of ForgetNode.
 */
export interface ForgetNodeResponse {
  /**
   * What was done.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
  /**
   * The local node after the call.
   */
  'node'?: (_coxswain_agent_v1_DataNode | null);
}

/**
 * Result of ForgetNode.
 */
export interface ForgetNodeResponse__Output {
  /**
   * What was done.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
  /**
   * The local node after the call.
   */
  'node': (_coxswain_agent_v1_DataNode__Output | null);
}
