// CLUSTER MEET: a node introduced to others directly, one handshake each, instead of
// their learning of it from gossip one ping at a time.
//
// Convergence: after a change only the node that changed knows it; the others learn
// from its next ping, which with the default cluster-node-timeout takes seconds (a
// failed-over primary's new role took ~5 s to reach everyone). While waiting for
// agreement, `pushNews()` makes each node that others see differently from how it sees
// itself send CLUSTER MEET to those others: the MEET packet carries its current header
// (role, primary, slots, config epoch), which the receivers apply at once as from any
// known sender; the extra handshake entry disappears with the answer (~100 ms, and a
// cluster-bus link may be re-made). Agreement after a failover: ~0.3 s instead of ~5 s.
// Nothing is pushed that the node would not send in its own next ping anyway. A node
// that another node knows but it does not (two primaries that joined through the same
// member at once) is met directly the same way.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { command, redisErrorText, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import type { ClusterObservation, NodeView } from './topology.ts';
import type { SlotRange } from '../../../common/slot-ranges.ts';
import { rangesText } from '../../../common/slot-ranges.ts';
import type { RedisClusterOps } from './cluster-ops.ts';

export async function ipOf(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  return (await lookup(host)).address;
}

/**
 * Announces every node that some reachable node sees differently than it sees itself
 * (role, primary, slots) to those nodes; and, where a node files a replica under
 * another shard than its primary (Valkey 8 shard ids), the primary and the replica to
 * everyone, so the replica learns its primary's shard id and spreads it.
 */
export async function pushNews(ops: RedisClusterOps, op: string, obs: ClusterObservation, lastPush: Map<string, number>, signal?: AbortSignal): Promise<void> {
  const now = Date.now();
  const reachable = obs.views.filter((v): v is Extract<NodeView, { reachable: true }> => v.reachable);
  const byId = new Map(reachable.map((v) => [v.myId, v]));
  const sig = (r: { role: string; primaryId: string | null; slots: SlotRange[] }): string =>
    `${r.role} ${r.primaryId ?? '-'} ${rangesText(r.slots)}`;
  const push = new Map<string, Set<string>>(); // announcing node id → ids to tell
  const add = (from: string, to: string): void => {
    if (from === to || !byId.has(to)) return;
    push.set(from, (push.get(from) ?? new Set()).add(to));
  };
  for (const v of reachable) {
    const self = v.nodes.find((r) => r.myself);
    if (!self) continue;
    for (const o of reachable) {
      const seen = o.myId !== v.myId ? o.nodes.find((r) => r.id === v.myId) : undefined;
      if (seen && !seen.flags.includes('handshake') && sig(seen) !== sig(self)) add(v.myId, o.myId);
    }
  }
  // A node that another reachable node knows but it does not (e.g. two primaries that
  // joined through the same member at once) meets it directly.
  for (const v of reachable) {
    const knows = new Set(v.nodes.map((r) => r.id));
    for (const o of reachable) if (!knows.has(o.myId)) add(v.myId, o.myId);
  }
  for (const o of reachable) {
    if (!o.shards) continue;
    const shardOf = new Map<string, number>();
    o.shards.forEach((ids, i) => ids.forEach((id) => shardOf.set(id, i)));
    for (const r of o.nodes) {
      if (r.role !== 'replica' || r.primaryId === null) continue;
      const a = shardOf.get(r.id);
      const b = shardOf.get(r.primaryId);
      if (a === undefined || b === undefined || a === b) continue;
      for (const t of byId.keys()) {
        add(r.primaryId, t);
        add(r.id, t);
      }
    }
  }
  await Promise.all(
    [...push].map(async ([id, to]) => {
      const v = byId.get(id);
      if (!v || now - (lastPush.get(id) ?? 0) < 300) return;
      lastPush.set(id, now);
      const targets = [...to].flatMap((t) => {
        const tv = byId.get(t);
        const rec = tv?.nodes.find((r) => r.myself);
        return tv && rec ? [{ addr: tv.addr, busPort: rec.busPort }] : [];
      });
      await meetAll(op, v.addr, id, targets, signal).catch((err: unknown) => {
        ops.log.warn({ op, nodeId: id, err: redisErrorText(err) }, 'could not announce a node (gossip will do it)');
      });
    }),
  );
}

export async function meetAll(op: string, addr: NodeAddress, id: string, targets: { addr: NodeAddress; busPort: number }[], signal?: AbortSignal): Promise<void> {
  if (targets.length === 0) return;
  const resolved = await Promise.all(targets.map(async (t) => ({ ip: await ipOf(t.addr.host), port: t.addr.port, bus: t.busPort })));
  await withNode(addr, (c) => Promise.all(resolved.map((t) => command(c, 'CLUSTER', 'MEET', t.ip, t.port, t.bus))), {
    signal,
    op,
    nodeId: id,
  });
}
