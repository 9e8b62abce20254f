// The one condition no step can repair: the cluster held data, every VM and every data
// node answers, the members agree on the topology, and yet some slots are served by no
// node — the node group that served them lost every copy (its VMs are gone). The plan is
// blocked with the slots named; the way out is a new cluster restored from a backup.
//
// A group whose nodes are all DOWN is not lost: drift.ts starts them (their data is on
// their disks), so nothing is blocked while any node cannot be seen.
import { REDIS_SLOTS } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { rangesText } from '../../common/slot-ranges.ts';
import { unownedRanges } from './slots.ts';

export function checkDataLoss(ctx: PlanContext): void {
  const { view, batch } = ctx;
  if (!view.observed.facts.formed || view.assigned === REDIS_SLOTS || view.hidden > 0 || !view.topologyAgrees) return;
  if (view.vms.some((vm) => vm.state === 'creating')) return;
  for (const vm of view.vms) {
    const n = view.node(vm);
    if (n !== undefined && n.role === 'unknown') return;
  }
  const lost = unownedRanges(view.owned, { start: 0, end: REDIS_SLOTS - 1 });
  const shown = lost.slice(0, 8);
  batch.block(
    `slots ${rangesText(shown)}${lost.length > shown.length ? ` and ${lost.length - shown.length} more ranges` : ''} are served by no node although every node answers: ` +
      'the node group that served them lost every copy of its data. Restore a backup into a new cluster ("restoreFromBackup")',
  );
}
