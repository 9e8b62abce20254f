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

/**
 * The desired-state file the leader follows, as it last read it. `outcome` is what
 * became of that reading as of this status: accepted (or it holds the accepted desired
 * state), pending (valid; taken once the current work ends), ignored (its id is not
 * above the accepted one), refused (invalid, or a change the rules forbid), or failed
 * (the offer itself failed; the next save is offered again).
 */
export interface StatusFile {
  /** The file (absolute). */
  path: string;
  /** The top-level "id" the file holds; null when it has none that can be read. */
  id: number | null;
  /** SHA-256 (hex) of the text read; null when the file could not be read. */
  sha256: string | null;
  outcome: 'accepted' | 'pending' | 'ignored' | 'refused' | 'failed';
  /** Why it was ignored, refused or failed (located problems, one or more lines); null otherwise. */
  reason: string | null;
  /** RFC 3339 time of the reading. */
  readAt: string;
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
  /** The desired-state file the leader follows (absent where none is followed, null before its first reading). */
  file?: StatusFile | null;
  /** The leader's fencing epoch. */
  epoch: number;
  /** RFC 3339 time of this status. */
  at: string;
}
