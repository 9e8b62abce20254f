// Original file: proto/coxswain/agent/v1/agent.proto

import type { AgentState as _coxswain_agent_v1_AgentState, AgentState__Output as _coxswain_agent_v1_AgentState__Output } from '../../../coxswain/agent/v1/AgentState.ts';

/**
 * The observed state.
 */
export interface GetStateResponse {
  /**
   * The state, as observed during this call.
   */
  'state'?: (_coxswain_agent_v1_AgentState | null);
}

/**
 * The observed state.
 */
export interface GetStateResponse__Output {
  /**
   * The state, as observed during this call.
   */
  'state': (_coxswain_agent_v1_AgentState__Output | null);
}
