// Restoring a new cluster from a backup (`restoreFromBackup`). A restore fills a cluster
// that never held data: it runs once every slot is assigned to the kept node groups'
// primaries (balanced), while `facts.formed` is still false and `facts.restoredFrom` is
// not the backup's id. The executor records `restoredFrom` and `formed` afterwards.
//
// Choices: once the cluster was formed without this restore (facts.formed and
// restoredFrom differs), restoreFromBackup is ignored — the transition rules refuse to add
// it to a cluster that has run, and restoring into live data would mix two datasets. A
// backup that is missing from its sink, or incomplete, blocks the plan (ERROR_STATE with
// the reason): no later observation can make it appear — also while the cluster is
// stopped and has never run, so the leader says why instead of waiting for ever.
import { REDIS_SLOTS, sinkKey } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { compareIds } from './names.ts';
import { isBalanced } from './slots.ts';
import type { ClusterView } from './view.ts';

/** A restore is still to be done (see the header). */
export function restorePending(view: ClusterView): boolean {
  const r = view.desired.restoreFromBackup;
  return r !== undefined && !view.observed.facts.formed && view.observed.facts.restoredFrom !== r.id;
}

export function restoreBackup(ctx: PlanContext): void {
  const { view, batch, desired: d } = ctx;
  const r = d.restoreFromBackup;
  if (r === undefined || !ctx.restorePending) return;
  const backups = view.observed.backups;
  const found = backups?.find((b) => b.id === r.id && b.sink === sinkKey(r.sink));
  // Blocked also while the cluster is stopped and never ran (it restores when it first
  // runs): its desired state lists the backup (validation), so nothing else would say why
  // it is never reached.
  if (backups !== undefined && (found === undefined || !found.complete)) {
    batch.estimate(1);
    batch.block(
      `restoreFromBackup names backup "${r.id}" in ${sinkKey(r.sink)}, which ${found === undefined ? 'is not there' : 'is incomplete (no manifest)'}: ` +
        'name a complete backup, or remove "restoreFromBackup" to start empty',
    );
    return;
  }
  // Also with running false: the cluster then runs for the restore (running.ts foundingWork).
  if (!ctx.running) return;
  batch.estimate(1);
  if (backups === undefined) {
    batch.wait(`the restore of backup "${r.id}" waits until the backups can be listed`);
    return;
  }
  if (view.assigned < REDIS_SLOTS || view.hidden > 0) return;
  const counts = new Map<number, number>();
  for (const g of view.groupIndexes()) counts.set(g, view.group(g).slots);
  if (!isBalanced(counts, d.nodeGroups)) return;
  const primaries = [];
  for (let g = 0; g < d.nodeGroups; g++) {
    const p = view.group(g).primary;
    if (p === undefined) return;
    primaries.push(p);
  }
  primaries.sort((a, b) => compareIds(a.id, b.id));
  const via = primaries[0];
  if (via === undefined) return;
  batch.add(
    { kind: 'restoreBackup', vmId: via.vmId, backupId: r.id, sink: { type: r.sink.type, path: r.sink.path }, nodeIds: primaries.map((p) => p.id) },
    `The new cluster is formed: filling it from backup "${r.id}" (${sinkKey(r.sink)}) into ${primaries.length} primaries`,
    { topology: true, global: true },
  );
}
