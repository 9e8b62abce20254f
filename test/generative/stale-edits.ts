// Stale edits: a desired state offered with an id that is not higher than the accepted
// one (test/arbitraries/faults.ts 'stale-edit') — a file saved again without raising "id",
// or an older copy put back. The leader must ignore it (or refuse it) and stay on what
// it accepted; the runner checks the answer (checkStaleAnswer) and, at the end, checks
// the world against the accepted desired state only, so a stale edit is never counted
// as reached.
import type { Desired } from '../../desired-state/types.ts';
import type { OfferResult } from '../../operator/ports/leader-api.ts';
import type { Fault } from '../arbitraries/faults.ts';
import type { Failure } from './checks.ts';

/** The accepted desired state `accepted` with the fault's change made and its id lowered by `lowerBy` (not below 1, the schema's least id). */
export function staleEdit(accepted: Desired, f: Extract<Fault, { kind: 'stale-edit' }>): Desired {
  const d: Desired = structuredClone(accepted);
  d.id = Math.max(1, accepted.id - f.lowerBy);
  switch (f.change) {
    case 'none':
      break;
    case 'replicas':
      d.replicationFactor = d.replicationFactor < d.maxReplicationFactor ? d.replicationFactor + 1 : Math.max(1, d.replicationFactor - 1);
      break;
    case 'node-groups':
      d.nodeGroups += 1;
      break;
    case 'running':
      d.running = !d.running;
      break;
  }
  return d;
}

/**
 * A stale edit must be ignored (or refused); taken — accepted, or kept pending to be
 * accepted later — it would move the cluster to an edit whose id says it is not newer.
 */
export function checkStaleAnswer(edit: Desired, acceptedId: number, answer: OfferResult['status']): Failure[] {
  if (answer === 'ignored' || answer === 'refused') return [];
  return [
    {
      check: 'stale-edit-taken',
      message: `desired state ${edit.id} was offered while ${acceptedId} was accepted (its id is not higher) and the leader answered "${answer}"; it must ignore it and stay on ${acceptedId}`,
    },
  ];
}
