// Forming a new cluster. Once the VMs exist and their nodes run (drift.ts starts them):
// node group 0's first kept node founds the cluster with its share of the slots
// (joinPrimary without `via`); then the first node of every other group joins as a
// primary via an existing primary, claiming its share (only slots nobody serves); the
// replicas join afterwards (membership.ts). Shares are contiguous and as equal as
// possible (slots.ts).
//
// Safety: a cluster is founded only when no node is a member yet and every started node
// answers (a down node might be a member of an existing cluster: founding another would
// split it), and slots are claimed only while every node answers (a node that cannot be
// seen might serve them).
import { REDIS_SLOTS, type ObservedDataNode } from '../model/observed.ts';
import type { PlanContext } from './context.ts';
import { groupName, plural } from './names.ts';
import { foundingWork } from './running.ts';
import { rangesText } from '../../common/slot-ranges.ts';
import { shareRange, unownedRanges } from './slots.ts';

/** The first kept node of group `g` that runs and has not joined yet. */
function freshNode(ctx: PlanContext, g: number): ObservedDataNode | undefined {
  for (const vm of ctx.layout.group(g).keep) {
    const n = ctx.view.node(vm);
    if (n !== undefined && n.up && n.role === 'none') return n;
  }
  return undefined;
}

export function formCluster(ctx: PlanContext): void {
  const { view, batch, desired: d } = ctx;
  // A cluster that never held data is founded only when it is meant to run, or for the
  // restore or backups its desired state asks for (running.ts foundingWork).
  if (!ctx.running || !ctx.forming || (!d.running && !view.holdsData && foundingWork(view) === undefined)) return;
  const n = d.nodeGroups;
  batch.estimate(n + (d.replicationFactor - 1) * n);
  if (view.members.length === 0) {
    if (view.hidden > 0) {
      batch.wait('the cluster is founded once every started node answers (a node that is down may already be a member)');
      return;
    }
    const founder = freshNode(ctx, 0);
    const share = shareRange(0, n);
    if (founder === undefined || share === undefined) return;
    batch.add(
      { kind: 'joinPrimary', vmId: founder.vmId, nodeId: founder.id, via: undefined, slots: [share] },
      `No cluster exists yet: ${founder.id} founds it as the primary of ${groupName(0)} with slots ${rangesText([share])}`,
      { groups: [0], claim: 'shared', topology: true },
    );
    return;
  }
  if (view.hidden > 0) {
    batch.wait('slots are assigned once every node answers (a node that cannot be seen may serve some)');
    return;
  }
  for (let g = 0; g < n; g++) {
    const share = shareRange(g, n);
    if (share === undefined) continue;
    const unowned = unownedRanges(view.owned, share);
    const gv = view.group(g);
    const primary = gv.primary;
    if (primary === undefined) {
      const node = freshNode(ctx, g);
      const via = view.introducer();
      if (node === undefined || via === undefined) continue;
      batch.add(
        { kind: 'joinPrimary', vmId: node.vmId, nodeId: node.id, via: via.id, slots: unowned },
        `${node.id} joins via ${via.id} as the primary of ${groupName(g)}${unowned.length > 0 ? ` with slots ${rangesText(unowned)}` : ''}`,
        { groups: [g], claim: 'shared', topology: true },
      );
    } else if (unowned.length > 0) {
      const via = view.introducer(primary.id);
      batch.add(
        { kind: 'joinPrimary', vmId: primary.vmId, nodeId: primary.id, via: via?.id, slots: unowned },
        `${groupName(g)}'s primary ${primary.id} still lacks ${plural(unowned.reduce((s, r) => s + r.end - r.start + 1, 0), 'slot')} of its share: claiming ${rangesText(unowned)}`,
        { groups: [g], claim: 'shared', topology: true },
      );
    }
  }
  if (view.assigned < REDIS_SLOTS) batch.estimate(1);
}
