// Original file: proto/coxswain/agent/v1/agent.proto

/**
 * The role a node takes when it joins.
 */
export const JoinRole = {
  /**
   * Not set: refused with INVALID_ARGUMENT.
   */
  JOIN_ROLE_UNSPECIFIED: 'JOIN_ROLE_UNSPECIFIED',
  /**
   * A primary that serves no data yet; data is moved to it with MoveData.
   */
  JOIN_ROLE_PRIMARY_WITHOUT_DATA: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA',
  /**
   * A replica of `replica_of`.
   */
  JOIN_ROLE_REPLICA: 'JOIN_ROLE_REPLICA',
} as const;

/**
 * The role a node takes when it joins.
 */
export type JoinRole =
  /**
   * Not set: refused with INVALID_ARGUMENT.
   */
  | 'JOIN_ROLE_UNSPECIFIED'
  | 0
  /**
   * A primary that serves no data yet; data is moved to it with MoveData.
   */
  | 'JOIN_ROLE_PRIMARY_WITHOUT_DATA'
  | 1
  /**
   * A replica of `replica_of`.
   */
  | 'JOIN_ROLE_REPLICA'
  | 2

/**
 * The role a node takes when it joins.
 */
export type JoinRole__Output = typeof JoinRole[keyof typeof JoinRole]
