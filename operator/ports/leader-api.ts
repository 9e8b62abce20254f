// What the running leader answers on its local admin interface, and what the command
// line (`status`, `wait`, `plan`, `jobs`, `job`, `down`) asks of it. The reconciler
// (operator/reconciler/) implements the reconciliation part; operator/leader/ wires it
// with the journal and the VM provider and serves it on loopback.
import type { Desired } from '../../desired-state/types.ts';
import type { ValidationResult } from '../../desired-state/validate.ts';
import type { ObservedCluster } from '../model/observed.ts';
import type { Plan } from '../model/step.ts';
import type { ClusterStatus } from '../model/status.ts';
import type { Job } from './journal.ts';

/** What became of a desired state offered to the leader. */
export interface OfferResult {
  /**
   * accepted: appended to the history, the leader works towards it now;
   * pending: valid, but the leader is WORKING; it is accepted when the work ends (a newer offer replaces it);
   * ignored: its id is not above the accepted one;
   * refused: invalid, or a transition the rules forbid.
   */
  status: 'accepted' | 'pending' | 'ignored' | 'refused';
  id: number | null;
  /** One or more lines a person can act on (the located problems for refused/ignored). */
  message: string;
}

export interface LeaderApi {
  status(): Promise<ClusterStatus>;
  jobs(): Promise<Job[]>;
  job(id: string): Promise<Job | undefined>;
  /** The steps the leader would take now towards `desired` (validated by the caller), executing nothing. */
  preview(desired: Desired): Promise<{ plan: Plan; observed: ObservedCluster }>;
  /** Offers a validated candidate (validated against the accepted latest). */
  offer(candidate: ValidationResult, source: string): Promise<OfferResult>;
  /** Stops the leader, its agents and data nodes; `purge` deletes their data too. */
  shutdown(options: { purge: boolean }): Promise<void>;
}
