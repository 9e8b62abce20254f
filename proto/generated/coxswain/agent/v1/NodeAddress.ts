// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * How to reach a data node on any agent.
 */
export interface NodeAddress {
  /**
   * Host name or IP address the engine listens on.
   */
  'host'?: (string);
  /**
   * The engine's client port.
   */
  'port'?: (number);
  /**
   * The engine's own id of the node (Redis: the 40-hex cluster node id).
   */
  'engineNodeId'?: (string);
}

/**
 * How to reach a data node on any agent.
 */
export interface NodeAddress__Output {
  /**
   * Host name or IP address the engine listens on.
   */
  'host': (string);
  /**
   * The engine's client port.
   */
  'port': (number);
  /**
   * The engine's own id of the node (Redis: the 40-hex cluster node id).
   */
  'engineNodeId': (string);
}
