// Backups (desired.backups) and their deletion.
//
// Each listed backup that is not complete in its sink (matched by id and sink) is taken
// through the agent of the lowest-id primary, one backup at a time, once the cluster
// holds its data (formed, restore done), every kept group has a healthy primary, no group
// is being removed, and nothing else claims a node group in the batch.
// A backup found in a sink that desired.backups does not list is deleted — never the one
// restoreFromBackup names (safety invariant 4), whatever its sink.
// When the sinks cannot be listed (observed.backups undefined) the plan waits.
//
// A cluster that is stopped and never held data is founded for its backups, then stops
// again (running.ts foundingWork): each listed backup must exist, or the desired state
// would be reported done without them.
import { sinkKey, type ObservedBackup } from '../model/observed.ts';
import type { SinkRef } from '../model/step.ts';
import type { PlanContext } from './context.ts';
import { compareIds, groupName } from './names.ts';

/** The sink of an observed backup ("local:<path>"), or undefined for an unknown kind. */
export function parseSink(key: string): SinkRef | undefined {
  return key.startsWith('local:') ? { type: 'local', path: key.slice('local:'.length) } : undefined;
}

/** Desired backups not complete in their sinks. */
export function missingBackups(ctx: Pick<PlanContext, 'desired'>, observed: readonly ObservedBackup[]): PlanContext['desired']['backups'] {
  return ctx.desired.backups.filter((b) => !observed.some((o) => o.id === b.id && o.sink === sinkKey(b.sink) && o.complete));
}

/** Backups in sinks that must go. */
export function unwantedBackups(ctx: Pick<PlanContext, 'desired'>, observed: readonly ObservedBackup[]): ObservedBackup[] {
  const d = ctx.desired;
  const restoreId = d.restoreFromBackup?.id;
  return observed
    .filter((o) => o.id !== restoreId && !d.backups.some((b) => b.id === o.id && sinkKey(b.sink) === o.sink))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.sink < b.sink ? -1 : 1));
}

export function reconcileBackups(ctx: PlanContext): void {
  const { view, batch } = ctx;
  const observed = view.observed.backups;
  if (observed === undefined) {
    batch.wait('the backups cannot be listed now (no agent answered, or a sink could not be read)');
    return;
  }
  takeBackups(ctx, observed);
  deleteBackups(ctx, observed);
}

function deleteBackups(ctx: PlanContext, observed: readonly ObservedBackup[]): void {
  const { view, batch } = ctx;
  // Deletions: one per agent per batch, through the agents in id order.
  const agents = view.vms.filter((vm) => view.alive(vm));
  let next = 0;
  for (const b of unwantedBackups(ctx, observed)) {
    batch.estimate(1);
    const sink = parseSink(b.sink);
    if (sink === undefined) {
      batch.waitOn('backups in sinks of an unknown kind cannot be deleted', b.id);
      continue;
    }
    while (next < agents.length && batch.uses(agents[next]?.id ?? '')) next++;
    const vm = agents[next];
    if (vm === undefined) break;
    next++;
    batch.add(
      { kind: 'deleteBackup', vmId: vm.id, backupId: b.id, sink },
      `Backup "${b.id}" in ${b.sink} is no longer listed in backups: deleting it`,
      { topology: true },
    );
  }
}

function takeBackups(ctx: PlanContext, observed: readonly ObservedBackup[]): void {
  const { view, batch, desired: d } = ctx;
  const missing = missingBackups(ctx, observed);
  if (missing.length === 0) return;
  batch.estimate(missing.length);
  const dataReady = view.observed.facts.formed || (!ctx.forming && !ctx.restorePending && view.holdsData);
  if (!dataReady) {
    if (ctx.running) batch.wait(`backup "${missing[0]?.id ?? ''}" is taken once the cluster is formed${ctx.restorePending ? ' and restored' : ''}`);
    return;
  }
  if (!ctx.running || batch.hasClaims) return;
  const primaries = [];
  for (const g of view.groupIndexes()) {
    const p = view.group(g).primary;
    if (g >= d.nodeGroups || p === undefined) {
      batch.waitOn('backups wait until every node group has a healthy primary and none is being removed', groupName(g));
      return;
    }
    primaries.push(p);
  }
  primaries.sort((a, b) => compareIds(a.id, b.id));
  const via = primaries[0];
  const b = missing[0];
  if (via === undefined || b === undefined) return;
  batch.add(
    { kind: 'createBackup', vmId: via.vmId, backupId: b.id, sink: { type: b.sink.type, path: b.sink.path } },
    `Backup "${b.id}" is not in ${sinkKey(b.sink)} yet: taking it through ${via.vmId}; one backup at a time`,
    { topology: true, global: true },
  );
}
