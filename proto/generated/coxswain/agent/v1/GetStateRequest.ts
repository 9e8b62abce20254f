// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * GetState takes no parameters.
 */
export interface GetStateRequest {
}

/**
 * GetState takes no parameters.
 */
export interface GetStateRequest__Output {
}
