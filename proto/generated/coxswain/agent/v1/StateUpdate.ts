// Original file: proto/coxswain/agent/v1/agent.proto

import type { AgentState as _coxswain_agent_v1_AgentState, AgentState__Output as _coxswain_agent_v1_AgentState__Output } from '../../../coxswain/agent/v1/AgentState.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * One message of the WatchState stream.
 * 
 * The document the patches apply to is `state` as decoded by proto/load.ts: field
 * names in lowerCamelCase, 64-bit integers as decimal strings, enums by name and
 * default values present (the proto3 JSON mapping with unpopulated fields emitted).
 */
export interface StateUpdate {
  /**
   * 1 for the snapshot, then +1 per message. A client that sees a number other than last + 1 missed a message and must call WatchState again for a new snapshot.
   */
  'sequence'?: (number | string | Long);
  /**
   * The full state; always the first message of a stream.
   */
  'snapshot'?: (_coxswain_agent_v1_AgentState | null);
  /**
   * An RFC 6902 JSON patch, as JSON text, that turns the previous report into this one.
   */
  'patchJson'?: (string);
  /**
   * Either a full snapshot or a patch; exactly one is set.
   */
  'update'?: "snapshot"|"patchJson";
}

/**
 * One message of the WatchState stream.
 * 
 * The document the patches apply to is `state` as decoded by proto/load.ts: field
 * names in lowerCamelCase, 64-bit integers as decimal strings, enums by name and
 * default values present (the proto3 JSON mapping with unpopulated fields emitted).
 */
export interface StateUpdate__Output {
  /**
   * 1 for the snapshot, then +1 per message. A client that sees a number other than last + 1 missed a message and must call WatchState again for a new snapshot.
   */
  'sequence': (string);
  /**
   * The full state; always the first message of a stream.
   */
  'snapshot'?: (_coxswain_agent_v1_AgentState__Output | null);
  /**
   * An RFC 6902 JSON patch, as JSON text, that turns the previous report into this one.
   */
  'patchJson'?: (string);
  /**
   * Either a full snapshot or a patch; exactly one is set.
   */
  'update'?: "snapshot"|"patchJson";
}
