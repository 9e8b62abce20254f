// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * Ask for a stream of the observed state.
 */
export interface WatchStateRequest {
  /**
   * How often the agent re-observes when nothing prompts it, in milliseconds; 0 = the agent's default. The agent also re-observes after every mutating call.
   */
  'intervalMs'?: (number);
}

/**
 * Ask for a stream of the observed state.
 */
export interface WatchStateRequest__Output {
  /**
   * How often the agent re-observes when nothing prompts it, in milliseconds; 0 = the agent's default. The agent also re-observes after every mutating call.
   */
  'intervalMs': (number);
}
