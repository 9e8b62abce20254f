// Original file: proto/coxswain/agent/v1/agent.proto


/**
 * Which leader job and step a mutating call belongs to, so the agent's log lines and
 * the leader's journal answer "what happened" with the same ids.
 */
export interface JobRef {
  /**
   * The leader's job id (required on mutating calls), e.g. "42".
   */
  'jobId'?: (string);
  /**
   * The step within the job, e.g. "3" or "start ng0-r1"; empty when the job has one step.
   */
  'stepId'?: (string);
}

/**
 * Which leader job and step a mutating call belongs to, so the agent's log lines and
 * the leader's journal answer "what happened" with the same ids.
 */
export interface JobRef__Output {
  /**
   * The leader's job id (required on mutating calls), e.g. "42".
   */
  'jobId': (string);
  /**
   * The step within the job, e.g. "3" or "start ng0-r1"; empty when the job has one step.
   */
  'stepId': (string);
}
