// Choosing the replica a planned failover promotes. It must be healthy (up, in sync with
// the group's primary); it should already be up to date (a rolling restart hands the
// primary role only to a restarted node); kept VMs are preferred over VMs that are
// leaving, temporary VMs come last; then the lowest id.
//
// Version order (docs/redis-cluster.md, agent/engines/redis/COMPATIBILITY.md): a
// replica cannot sync from a primary on a newer version than its own, so a node is
// promoted only when no other replica of the group (the old primary aside: it restarts
// next) runs an older version than it.
import { REDIS_SLOTS, type ObservedDataNode } from '../model/observed.ts';
import { compareIds } from './names.ts';
import type { Layout } from './layout.ts';
import type { ClusterView, GroupView } from './view.ts';

/**
 * Why no planned failover may start now, or undefined. A planned failover needs the votes
 * of a majority of primaries and, in the agent, every member's agreement. While some slot
 * has no up primary (a primary or its agent is down), neither may come: with two node
 * groups the cluster cannot even flag the dead primary failed. The failover would then
 * hold its batch, and the start of that primary queued behind it, for every try (seen
 * in the crash test: a rolling restart with a killed primary, stuck for minutes).
 */
export function failoverWait(view: ClusterView): string | undefined {
  if (view.assigned === REDIS_SLOTS) return undefined;
  return `planned failovers wait until every slot is served by an up primary (${REDIS_SLOTS - view.assigned} are not)`;
}

/** Compares version strings numerically ("7.10" after "7.9"); built once, not per comparison. */
const versionOrder = new Intl.Collator('en', { numeric: true });

/** Version a is older than version b ("7.0" < "8.0"). */
export function olderVersion(a: string, b: string): boolean {
  return versionOrder.compare(a, b) < 0;
}

/** Promoting `target` leaves no other replica of its group on an older version. */
export function versionOrderAllows(view: ClusterView, g: GroupView, target: ObservedDataNode): boolean {
  for (const vm of g.vms) {
    const n = view.node(vm);
    if (n === undefined || !n.up || n === target || n === g.primary || n.role !== 'replica') continue;
    if (olderVersion(n.version, target.version)) return false;
  }
  return true;
}

export interface TargetOptions {
  /** Only replicas that need no restart. @default true */
  upToDate?: boolean;
  /** Only kept VMs. @default false */
  keptOnly?: boolean;
}

/** The replica to promote in group `g`, if any qualifies. */
export function failoverTarget(view: ClusterView, layout: Layout, g: GroupView, opts: TargetOptions = {}): ObservedDataNode | undefined {
  const upToDate = opts.upToDate ?? true;
  const primary = g.primary;
  if (primary === undefined) return undefined;
  const rank = (vmId: string, temporary: boolean): number => (layout.keepIds.has(vmId) ? 0 : temporary ? 2 : 1);
  let best: { node: ObservedDataNode; rank: number } | undefined;
  for (const vm of g.vms) {
    const n = view.node(vm);
    if (n === undefined || n === primary || n.role !== 'replica' || !view.isHealthy(n)) continue;
    if (upToDate && view.isStale(n)) continue;
    if (opts.keptOnly === true && !layout.keepIds.has(vm.id)) continue;
    if (!versionOrderAllows(view, g, n)) continue;
    const r = rank(vm.id, vm.temporary);
    if (best === undefined || r < best.rank || (r === best.rank && compareIds(n.id, best.node.id) < 0)) best = { node: n, rank: r };
  }
  return best?.node;
}
