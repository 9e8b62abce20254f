// Test support: forms a cluster of empty primaries in one call (formCluster), the way
// tests set up a cluster without the leader, and adds an empty primary
// (addEmptyPrimary). The agent itself founds a cluster by joinPrimary
// (agent/engines/redis/cluster-join.ts), one primary at a time.
import { describeNode, redisOpError, throwIfAborted } from '../../agent/engines/redis/errors.ts';
import { command, formatAddr, withNode } from '../../agent/engines/redis/redis-connection.ts';
import type { NodeAddress } from '../../agent/engines/redis/redis-connection.ts';
import { findNode, observeCluster } from '../../agent/engines/redis/topology.ts';
import type { NodeView } from '../../agent/engines/redis/topology.ts';
import { ipOf } from '../../agent/engines/redis/cluster-meet.ts';
import { nodeFacts } from '../../agent/engines/redis/node-facts.ts';
import type { JoinResult } from '../../agent/engines/redis/cluster-join.ts';
import type { OpOptions, OpResult, RedisClusterOps } from '../../agent/engines/redis/cluster-ops.ts';
import type { SlotRange } from '../../common/slot-ranges.ts';
import { rangesText, SLOT_COUNT, slotsToRanges } from '../../common/slot-ranges.ts';

/** The even split used by formCluster: node i gets [⌊i·S/n⌋, ⌊(i+1)·S/n⌋ − 1]. */
export function evenSlotRanges(n: number): SlotRange[] {
  const out: SlotRange[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ start: Math.floor((i * SLOT_COUNT) / n), end: Math.floor(((i + 1) * SLOT_COUNT) / n) - 1 });
  }
  return out;
}

/**
 * Makes the given empty nodes one cluster of primaries owning all 16384 slots, split
 * evenly in the order of their addresses. Works for any number of primaries (unlike
 * `--cluster create`, trap 4). Refuses nodes that hold keys or know nodes that are
 * not among `primaries` (another cluster). A partial formation (crash, abort) is
 * completed; a formed cluster is left alone.
 */
export async function formCluster(ops: RedisClusterOps, primaries: NodeAddress[], opts: OpOptions = {}): Promise<OpResult> {
  const op = 'formCluster';
  const started = Date.now();
  const signal = opts.signal;
  if (primaries.length === 0) {
    throw redisOpError({ op, reason: 'BAD_ARGUMENT', detail: 'no primaries given', action: 'pass at least one node address' });
  }
  const sorted = [...new Map(primaries.map((a) => [formatAddr(a), a])).values()].sort((a, b) =>
    formatAddr(a) < formatAddr(b) ? -1 : 1,
  );
  for (const a of sorted) ops.members.set(formatAddr(a), a);

  // Already formed? Then there is nothing to do but to wait for agreement. Only the
  // given nodes are judged: replicas and primaries added later are fine.
  const first = await observeCluster(sorted, { signal });
  const given = first.views.filter((v) => sorted.some((a) => formatAddr(a) === formatAddr(v.addr)));
  const alreadyFormed =
    first.unassignedSlots === 0 &&
    given.every((v) => {
      if (!v.reachable) return false;
      const n = findNode(first.topology, v.myId);
      return n?.role === 'primary' && n.slotCount > 0;
    }) &&
    sameCluster(given);
  if (alreadyFormed) {
    const obs = first.agreed ? first : await ops.agree(op, { signal });
    ops.remember(obs.topology);
    ops.log.info({ op }, 'cluster already formed');
    return { changed: false, topology: obs.topology, ms: Date.now() - started };
  }

  const facts = await Promise.all(sorted.map((a) => nodeFacts(a, op, signal)));
  const ids = new Set(facts.map((f) => f.view.myId));
  const plan = evenSlotRanges(facts.length);
  const claims = new Map<number, string>(); // slot → id of the node that claims it (shares are disjoint)
  for (const f of facts) {
    const self = f.view.nodes.find((r) => r.myself);
    // Another cluster: a node that knows primaries (or their replicas) we were not given.
    for (const r of f.view.nodes) {
      if (r.myself || r.flags.includes('handshake') || ids.has(r.id)) continue;
      if (r.role === 'replica' && r.primaryId !== null && ids.has(r.primaryId)) continue;
      throw redisOpError({
        op,
        reason: 'FOREIGN_CLUSTER',
        nodeId: f.view.myId,
        addr: formatAddr(f.addr),
        detail: `it already knows ${describeNode(r.id, `${r.host}:${r.port}`)}, which is not among the ${sorted.length} primaries given, so it belongs to another cluster`,
        action: 'pass every primary of that cluster, or use a fresh node (CLUSTER RESET HARD on a node whose data is not needed)',
      });
    }
    if (f.keys > 0) {
      throw redisOpError({
        op,
        reason: 'NOT_EMPTY',
        nodeId: f.view.myId,
        addr: formatAddr(f.addr),
        detail: `it holds ${f.keys} keys; a cluster is only formed from empty nodes`,
        action: 'use an empty node; to bring data in, restore a backup into the formed cluster',
      });
    }
    // A partial formation (same nodes, same order by address) owns slots of its own
    // planned share only; anything else was formed differently.
    const share = plan[facts.indexOf(f)];
    const outside = (self?.slots ?? []).filter((r) => !share || r.start < share.start || r.end > share.end);
    if (outside.length > 0) {
      throw redisOpError({
        op,
        reason: 'FOREIGN_CLUSTER',
        nodeId: f.view.myId,
        addr: formatAddr(f.addr),
        detail: `it owns slots ${rangesText(outside)} outside its share ${share ? rangesText([share]) : ''} of a cluster of these ${sorted.length} nodes, so it was formed differently`,
        action: 'pass the same primaries as when the cluster was formed, or CLUSTER RESET HARD the nodes that hold no data',
      });
    }
    for (const r of self?.slots ?? []) for (let s = r.start; s <= r.end; s++) claims.set(s, f.view.myId);
  }
  throwIfAborted(signal, op);

  // Unique config epochs before the nodes meet (what `--cluster create` does): saves
  // the epoch-collision rounds. Only possible while a node knows nobody else.
  await Promise.all(
    facts.map(async (f, i) => {
      const self = f.view.nodes.find((r) => r.myself);
      if (f.view.nodes.length !== 1 || !self || self.configEpoch !== 0 || f.view.info.currentEpoch !== 0) return;
      await withNode(f.addr, (c) => command(c, 'CLUSTER', 'SET-CONFIG-EPOCH', i + 1), { signal, op, nodeId: f.view.myId });
    }),
  );

  // Each node claims the still unclaimed slots of its planned range.
  await Promise.all(
    facts.map(async (f, i) => {
      const range = plan[i];
      if (!range) return;
      const mine: number[] = [];
      for (let s = range.start; s <= range.end; s++) if (!claims.has(s)) mine.push(s);
      if (mine.length === 0) return;
      const args = slotsToRanges(mine).flatMap((r) => [r.start, r.end]);
      await withNode(f.addr, (c) => command(c, 'CLUSTER', 'ADDSLOTSRANGE', ...args), { signal, op, nodeId: f.view.myId });
    }),
  );
  throwIfAborted(signal, op);

  // Everyone meets everyone it does not know yet: direct handshakes, no gossip rounds.
  if (facts.length > 1) {
    const targets = await Promise.all(
      facts.map(async (f) => {
        const self = f.view.nodes.find((r) => r.myself);
        return { id: f.view.myId, ip: await ipOf(f.addr.host), port: f.addr.port, bus: self?.busPort ?? f.addr.port + 10000 };
      }),
    );
    await Promise.all(
      facts.map((f) =>
        withNode(
          f.addr,
          async (c) => {
            const knows = new Set(f.view.nodes.filter((r) => !r.flags.includes('handshake')).map((r) => r.id));
            await Promise.all(
              targets
                .filter((t) => t.id !== f.view.myId && !knows.has(t.id))
                .map((t) => command(c, 'CLUSTER', 'MEET', t.ip, t.port, t.bus)),
            );
          },
          { signal, op, nodeId: f.view.myId },
        ),
      ),
    );
  }
  // A node learns its own ip only from a cluster bus connection; one that met nobody
  // (a single primary) meets itself, else CLUSTER SLOTS shows clients an empty host.
  await Promise.all(
    facts.map(async (f) => {
      const self = f.view.nodes.find((r) => r.myself);
      if (facts.length > 1 || !self || self.host) return;
      const ip = await ipOf(f.addr.host);
      await withNode(f.addr, (c) => command(c, 'CLUSTER', 'MEET', ip, f.addr.port, self.busPort), { signal, op, nodeId: f.view.myId });
    }),
  );
  ops.log.info({ op, primaries: sorted.map(formatAddr) }, 'slots assigned and nodes met; waiting for agreement');
  const obs = await ops.agree(op, {
    signal,
    until: (o) => (o.unassignedSlots === 0 ? [] : [`${o.unassignedSlots} slots are not assigned yet`]),
  });
  return { changed: true, topology: obs.topology, ms: Date.now() - started };
}

/** Adds an empty node as a primary without slots (MEET, wait for agreement). */
export async function addEmptyPrimary(ops: RedisClusterOps, node: NodeAddress, opts: OpOptions = {}): Promise<JoinResult> {
  return ops.joinPrimary(node, { signal: opts.signal });
}

/** True when every view lists exactly the same node ids (ignoring handshakes). */
function sameCluster(views: NodeView[]): boolean {
  let ref: string | undefined;
  for (const v of views) {
    if (!v.reachable) return false;
    const ids = v.nodes
      .filter((r) => !r.flags.includes('handshake'))
      .map((r) => r.id)
      .sort()
      .join(' ');
    if (ref === undefined) ref = ids;
    else if (ref !== ids) return false;
  }
  return true;
}
