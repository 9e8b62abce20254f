// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * An inclusive range of Redis Cluster hash slots, 0 … 16383.
 */
export interface SlotRange {
  /**
   * First slot of the range.
   */
  'start'?: (number);
  /**
   * Last slot of the range (inclusive, ≥ start).
   */
  'end'?: (number);
}

/**
 * An inclusive range of Redis Cluster hash slots, 0 … 16383.
 */
export interface SlotRange__Output {
  /**
   * First slot of the range.
   */
  'start': (number);
  /**
   * Last slot of the range (inclusive, ≥ start).
   */
  'end': (number);
}
