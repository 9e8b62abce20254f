// Original file: proto/coxswain/agent/v1/agent.proto

import type { SlotRange as _coxswain_agent_v1_SlotRange, SlotRange__Output as _coxswain_agent_v1_SlotRange__Output } from '../../../coxswain/agent/v1/SlotRange.ts';

/**
 * A list of slot ranges (wraps the repeated field so it can sit in a oneof).
 */
export interface SlotRanges {
  /**
   * The ranges, in any order, not overlapping.
   */
  'ranges'?: (_coxswain_agent_v1_SlotRange)[];
}

/**
 * A list of slot ranges (wraps the repeated field so it can sit in a oneof).
 */
export interface SlotRanges__Output {
  /**
   * The ranges, in any order, not overlapping.
   */
  'ranges': (_coxswain_agent_v1_SlotRange__Output)[];
}
