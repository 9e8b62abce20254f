// Original file: proto/coxswain/agent/v1/agent.proto

/**
 * The role a data node plays in the cluster, as the engine reports it.
 */
export const NodeRole = {
  /**
   * Not known (the node is down, or the engine did not say).
   */
  NODE_ROLE_UNSPECIFIED: 'NODE_ROLE_UNSPECIFIED',
  /**
   * Started but not yet a member of the cluster.
   */
  NODE_ROLE_NONE: 'NODE_ROLE_NONE',
  /**
   * A primary of its node group.
   */
  NODE_ROLE_PRIMARY: 'NODE_ROLE_PRIMARY',
  /**
   * A replica of `primary_engine_node_id`.
   */
  NODE_ROLE_REPLICA: 'NODE_ROLE_REPLICA',
} as const;

/**
 * The role a data node plays in the cluster, as the engine reports it.
 */
export type NodeRole =
  /**
   * Not known (the node is down, or the engine did not say).
   */
  | 'NODE_ROLE_UNSPECIFIED'
  | 0
  /**
   * Started but not yet a member of the cluster.
   */
  | 'NODE_ROLE_NONE'
  | 1
  /**
   * A primary of its node group.
   */
  | 'NODE_ROLE_PRIMARY'
  | 2
  /**
   * A replica of `primary_engine_node_id`.
   */
  | 'NODE_ROLE_REPLICA'
  | 3

/**
 * The role a data node plays in the cluster, as the engine reports it.
 */
export type NodeRole__Output = typeof NodeRole[keyof typeof NodeRole]
