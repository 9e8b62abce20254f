// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * A local directory sink, e.g. a mounted volume shared by the agents.
 */
export interface LocalSink {
  /**
   * Directory that holds the backups; relative paths are relative to the agent's data dir.
   */
  'path'?: (string);
}

/**
 * A local directory sink, e.g. a mounted volume shared by the agents.
 */
export interface LocalSink__Output {
  /**
   * Directory that holds the backups; relative paths are relative to the agent's data dir.
   */
  'path': (string);
}
