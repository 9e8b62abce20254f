// The leader's status of one cluster: what `coxswain status [--json]` prints and what
// `coxswain wait` polls. The JSON keys are public interface (docs/desired-state.md,
// "The command line"): state, acceptedId, pendingId, lastError, nodeGroups[].nodes[]
// with host, port, role, version, up, and agents[] with id, endpoint, zone, up. Keys are
// only ever added; those added later are optional here, since a newer command line may
// read the status of an older leader that lacks them.

import type { SlotRange } from '../../common/slot-ranges.ts';

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
  /** primary | replica | none | unknown; as last observed when `observed` is false. */
  role: string;
  /** As last observed when `observed` is false ('' when never observed). */
  version: string;
  /** Seen up in the last observation: false both for a node seen down and for one not seen (its agent is down). */
  up: boolean;
  /** The VM's agent answered in the last observation. */
  agentUp?: boolean;
  /** The node was seen in the last observation; false when its agent did not answer (the node may still serve). */
  observed?: boolean;
  /**
   * When `observed` is false: the last time the leader's status saw the node (RFC 3339),
   * or null when it never did. The node was last observed between this and notObservedSince.
   */
  lastObservedAt?: string | null;
  /** When `observed` is false: when the leader's status first found the node not observed (its agent not answering). */
  notObservedSince?: string;
  /** Hash slots it serves as primary (as last observed when `observed` is false). */
  slots?: SlotRange[];
}

export type { SlotRange };

/** A backup that exists in its sink. */
export interface StatusBackup {
  id: string;
  /** The sink's key, e.g. "local:/abs/dir". */
  sink: string;
  /** Complete and restorable; false while being written or when its manifest is missing. */
  complete: boolean;
}

/** The progress of the current reconcile (WORKING_TOWARDS_DESIRED_STATE). */
export interface StatusProgress {
  /**
   * Jobs done towards the accepted desired state in this reconcile: counted, not estimated.
   * Never decreases while the same desired state is worked on.
   */
  done: number;
  /** done + remaining: an estimate, never below done. */
  total: number;
  /** The jobs running now. */
  current: string[];
  /** Steps still to go, estimated from the current plan (it changes as the plan does); null before the first plan. */
  remaining?: number | null;
}

export interface StatusAgent {
  id: string;
  endpoint: string;
  zone: string;
  up: boolean;
  /** The provider's state of the VM: creating, running, stopped (on purpose) or failed (lost). */
  vmState?: 'creating' | 'running' | 'stopped' | 'failed';
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
  /** While working: jobs done (counted), the rest (estimated) and the jobs running now. */
  progress: StatusProgress | null;
  /** What the plan waits for, when it waits. */
  waiting: string[];
  /** Each node group: its nodes and (added) the slot ranges its primaries serve, merged and sorted. */
  nodeGroups: { index: number; nodes: StatusNode[]; slots?: SlotRange[] }[];
  agents: StatusAgent[];
  /** The desired-state file the leader follows (absent where none is followed, null before its first reading). */
  file?: StatusFile | null;
  /**
   * host:port of every data node a client should seed with: the primaries, then the
   * replicas, seen up and members of the cluster. Any one may be removed by a later
   * desired state (scaling in): a client should know several.
   */
  endpoints?: string[];
  /** The backups that exist (those the history ever named), or null when no sink could be listed. */
  backups?: StatusBackup[] | null;
  /** The leader's fencing epoch. */
  epoch: number;
  /** RFC 3339 time of this status. */
  at: string;
}
