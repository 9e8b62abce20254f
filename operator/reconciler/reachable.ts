// Whether a valid desired state can be reached from the cluster as it is observed now.
// Validation compares a candidate with the last accepted desired state only; the cluster
// may not be there yet. Seen in the planner's random walks: an upgrade to 8.0 accepted
// with "allowTemporaryVms": true, interrupted part-way, then a newer desired state that
// keeps 8.0 but sets "allowTemporaryVms": false — valid against its predecessor (same
// version), yet a node group of one node still on 7.0 cannot be restarted without taking
// its data offline, so the planner blocks and the leader would sit in ERROR_STATE with a
// desired state it accepted. "Any accepted desired state must be reachable": the leader
// refuses such a candidate when it is offered, with the planner's reason.
//
// Only what the candidate adds is held against it: a block the accepted desired state has
// as well (lost data) is not the candidate's doing. Backups are left out of the
// observation here, because it lists only those the history named; the restore of a
// backup the candidate names first is checked by the planner once it is accepted.
import type { Desired } from '../../desired-state/types.ts';
import type { Problem } from '../../desired-state/problem.ts';
import type { ObservedCluster } from '../model/observed.ts';
import type { Planner } from './options.ts';

/** The planner's blocks for `candidate` against `observed` that `accepted` does not have, as problems; [] when it can be reached. */
export function unreachable(planner: Planner, candidate: Desired, accepted: Desired | undefined, observed: ObservedCluster | undefined): Problem[] {
  if (observed === undefined) return [];
  const seen: ObservedCluster = { ...observed, backups: undefined };
  const blocked = planner(candidate, seen).blocked;
  if (blocked.length === 0) return [];
  const already = new Set(accepted === undefined ? [] : planner(accepted, seen).blocked);
  return blocked
    .filter((b) => !already.has(b))
    .map((b) => ({
      code: 'unreachable' as const,
      path: [],
      message: `cannot be reached from the cluster as it is now: ${b}`,
      hint: 'change the desired state as the message says, or wait until the cluster is at its current desired state and offer it again',
    }));
}
