// Original file: proto/coxswain/agent/v1/agent.proto

import type { Outcome as _coxswain_agent_v1_Outcome, Outcome__Output as _coxswain_agent_v1_Outcome__Output } from '../../../coxswain/agent/v1/Outcome.ts';
import type { SlotRange as _coxswain_agent_v1_SlotRange, SlotRange__Output as _coxswain_agent_v1_SlotRange__Output } from '../../../coxswain/agent/v1/SlotRange.ts';

/**
 * Result of MoveData.
 */
export interface MoveDataResponse {
  /**
   * What was done.
   */
  'outcome'?: (_coxswain_agent_v1_Outcome | null);
  /**
   * The slots now served by the target.
   */
  'moved'?: (_coxswain_agent_v1_SlotRange)[];
}

/**
 * Result of MoveData.
 */
export interface MoveDataResponse__Output {
  /**
   * What was done.
   */
  'outcome': (_coxswain_agent_v1_Outcome__Output | null);
  /**
   * The slots now served by the target.
   */
  'moved': (_coxswain_agent_v1_SlotRange__Output)[];
}
