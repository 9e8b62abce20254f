// How the leader's facts change: pure functions, so the rules are written once and the
// reconciler only persists what they return.
//
// - restoreBackup succeeded → restoredFrom = the backup, formed = true (a restore runs
//   only once every slot is assigned).
// - an observation in which up primaries serve all 16384 slots → formed = true, unless
//   the desired state asks for a restore that has not happened yet: the planner restores
//   only into a cluster that was never formed, so `formed` must wait for the restore.
import { REDIS_SLOTS, dataNodes, slotsCovered, type LeaderFacts, type ObservedCluster, type SlotRange } from '../model/observed.ts';
import type { Step } from '../model/step.ts';

/** The facts after `step` succeeded (the same object when the step changes none). */
export function factsAfterStep(facts: LeaderFacts, step: Step): LeaderFacts {
  if (step.kind !== 'restoreBackup') return facts;
  if (facts.restoredFrom === step.backupId && facts.formed) return facts;
  return { restoredFrom: step.backupId, formed: true };
}

/** The facts after an observation, for the desired state's restoreFromBackup (the same object when unchanged). */
export function factsAfterObservation(
  facts: LeaderFacts,
  observed: ObservedCluster,
  restoreFromBackup: { id: string } | undefined,
): LeaderFacts {
  if (facts.formed) return facts;
  if (restoreFromBackup !== undefined && facts.restoredFrom !== restoreFromBackup.id) return facts;
  return assignedSlots(observed) === REDIS_SLOTS ? { ...facts, formed: true } : facts;
}

/** Slots served by some up primary. */
export function assignedSlots(observed: ObservedCluster): number {
  const served: SlotRange[] = [];
  for (const n of dataNodes(observed)) if (n.up && n.role === 'primary') served.push(...n.slots);
  return slotsCovered(served);
}
