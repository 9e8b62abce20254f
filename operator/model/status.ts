// The leader's status of one cluster: what `coxswain status [--json]` prints and what
// `coxswain wait` polls. The JSON keys are public interface (DESIGN.md's command-line
// contract): state, acceptedId, pendingId, lastError, nodeGroups[].nodes[] with host,
// port, role, version, up, and agents[] with id, endpoint, zone, up.

export type ReconciliationState = 'WORKING_TOWARDS_DESIRED_STATE' | 'AT_DESIRED_STATE' | 'ERROR_STATE';

export interface StatusError {
  /** The failing step, one line. */
  step: string;
  /** Why it failed, for a person. */
  reason: string;
  /** The job that failed, when a job did. */
  jobId?: string;
  /** Attempts made. */
  attempts: number;
  at: string;
}

export interface StatusNode {
  id: string;
  host: string;
  port: number;
  /** primary | replica | none | unknown */
  role: string;
  version: string;
  up: boolean;
}

export interface StatusAgent {
  id: string;
  endpoint: string;
  zone: string;
  up: boolean;
}

export interface ClusterStatus {
  cluster: string;
  state: ReconciliationState;
  /** The desired-state id being worked on / reached; null before any was accepted. */
  acceptedId: number | null;
  /** A newer valid desired state waiting until the current work ends; null when none. */
  pendingId: number | null;
  /** Why the last edit of the source was not taken (invalid, immutable field, lower id …); null when it was. */
  lastRefusal: { id: number | null; reason: string; at: string } | null;
  lastError: StatusError | null;
  /** While working: step i of n (an estimate) and the job running now. */
  progress: { done: number; total: number; current: string[] } | null;
  /** What the plan waits for, when it waits. */
  waiting: string[];
  nodeGroups: { index: number; nodes: StatusNode[] }[];
  agents: StatusAgent[];
  /** The leader's fencing epoch. */
  epoch: number;
  /** RFC 3339 time of this status. */
  at: string;
}
