// The stand-in of a node group with a single node: when replicationFactor is 1, the
// cluster runs, and the group's only kept node needs a restart, another node must take
// over meanwhile (rolling.ts fails over to it, restarts the kept node, fails back). The
// stand-in is a VM the group is about to let go anyway if there is one (a leaving replica
// — e.g. replicationFactor 2 → 1 with an upgrade, or a VM left by an interrupted change),
// else a temporary VM that rolling.ts creates when allowTemporaryVms is set.
//
// While it stands in, the VM is started, joined and kept; once the kept node is up to date
// it leaves like any other extra (replicas.ts). A TEMPORARY stand-in always leaves and the
// original VM is kept (after a failover back, about half a second): keeping it would leave
// a VM labelled temporary for good. A stand-in that conforms (right size, zone) is kept
// instead of the original once it is the primary (layout.ts keeps the primary first): the
// original then leaves without its own restart.
import type { ObservedVm } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { compareIds } from './names.ts';

/** The VM that stands in for group `g`'s only node, if the group needs one and has a candidate. */
export function standIn(ctx: PlanContext, g: number): ObservedVm | undefined {
  const { view, layout, desired: d } = ctx;
  if (!ctx.running || !d.running || d.replicationFactor !== 1 || g >= d.nodeGroups) return undefined;
  const gl = layout.group(g);
  const kept = gl.keep[0];
  if (gl.keep.length !== 1 || kept === undefined || gl.extras.length === 0) return undefined;
  const node = view.node(kept);
  if (node === undefined || !view.isStale(node)) return undefined;
  const rank = (vm: ObservedVm): number => {
    const n = view.node(vm);
    if (n === undefined) return 3;
    if (view.isHealthy(n)) return 0;
    return n.up ? 1 : 2;
  };
  let best: ObservedVm | undefined;
  for (const vm of gl.extras) {
    if (!view.alive(vm)) continue;
    if (
      best === undefined ||
      rank(vm) < rank(best) ||
      (rank(vm) === rank(best) && (Number(vm.temporary) < Number(best.temporary) || (vm.temporary === best.temporary && compareIds(vm.id, best.id) < 0)))
    )
      best = vm;
  }
  return best;
}

/** `vm` stands in for its group now. */
export function isStandIn(ctx: PlanContext, vm: ObservedVm): boolean {
  return standIn(ctx, vm.nodeGroup) === vm;
}
