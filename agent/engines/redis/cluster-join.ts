// Joining a node into the cluster: as a primary (joinPrimary, with the slots nobody
// serves yet) or as a replica of a primary (addReplica). The rules every operation
// follows are at the top of cluster-ops.ts.
//
// Joining. A joining node claims its slots first and then MEETs every member itself,
// one handshake each, without waiting for the cluster to agree beforehand, so several
// primaries can join at once (the leader founds N primaries that way: one founder,
// the others in parallel through it). What remains is Redis's rejoin delay: a primary
// that knew no serving primary (any node that has just been started, after its first
// 2 s) reports cluster_state:ok only min(cluster-node-timeout, 5 s) after it learns of
// one, and a join returns once all nodes agree and report ok. That delay is most of
// the time a cluster takes to form (config.ts, CLUSTER_NODE_TIMEOUT_MS).
import { describeNode, redisOpError, shortId } from './errors.ts';
import type { RedisOpError } from './errors.ts';
import { NodePool, command, formatAddr, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { findNode, observeCluster, replicasOf, slotOwners, viewOf } from './topology.ts';
import type { ClusterObservation, Topology } from './topology.ts';
import { normalRanges, rangesText, rangesToSlots, SLOT_COUNT, slotsToRanges } from '../../../common/slot-ranges.ts';
import type { SlotRange } from '../../../common/slot-ranges.ts';
import { meetAll } from './cluster-meet.ts';
import { nodeFacts, replicationOf } from './node-facts.ts';
import type { NodeFacts } from './node-facts.ts';
import type { OpOptions, OpResult, RedisClusterOps } from './cluster-ops.ts';

export interface JoinResult extends OpResult {
  nodeId: string;
}

export interface JoinPrimaryOptions extends OpOptions {
  /** Slots to give the node; only slots no node of the cluster serves. @default [] (an empty primary) */
  slots?: SlotRange[] | undefined;
}

/** Where the time of a join went, in ms (for the agent's log). */
export interface JoinPhases {
  /** Observing the cluster and the node (and, for a new member, checking it belongs to no other cluster). */
  observeMs: number;
  /** CLUSTER ADDSLOTSRANGE on the node. */
  claimMs: number;
  /** CLUSTER MEET from the node to every member it does not know. */
  meetMs: number;
  /** Waiting until every node agrees (and reports cluster_state:ok once all slots are assigned). */
  agreeMs: number;
}

export interface JoinPrimaryResult extends JoinResult {
  /** Slots this call gave the node (0 when it had them already or none were asked for). */
  claimed: number;
  phases: JoinPhases;
}

/**
 * Makes `node` a replica of `primaryId`: MEET, wait until it knows the primary,
 * CLUSTER REPLICATE, then wait until its replication link is up and in sync and all
 * nodes agree. Refuses a node with keys or slots, or one of another cluster.
 */
export async function addReplica(ops: RedisClusterOps, node: NodeAddress, primaryId: string, opts: OpOptions = {}): Promise<JoinResult> {
  const op = 'addReplica';
  const started = Date.now();
  const signal = opts.signal;
  // No wait for agreement first: the primary's own claim decides (other nodes may be
  // joining at the same time); the wait comes after, for the result.
  const [before, first] = await Promise.all([ops.observe({ signal }), nodeFacts(node, op, signal)]);
  const primary = findNode(before.topology, primaryId);
  if (!primary) throw ops.unknownNode(op, primaryId, before.topology);
  if (primary.role !== 'primary') {
    throw redisOpError({
      op,
      reason: 'WRONG_ROLE',
      nodeId: primaryId,
      addr: formatAddr(primary.addr),
      detail: `it is a replica (of ${shortId(primary.primaryId ?? '?')}), not a primary`,
      action: 'name the primary of the node group as primaryId',
    });
  }
  // A primary that is down cannot feed a replica: fail now rather than wait for a
  // sync and an agreement that cannot come (seen end to end: a primary killed while
  // the leader added replicas held the job for 5 attempts of 60 s, and the leader could
  // not restart the primary meanwhile). The caller retries, or plans anew.
  if (!primary.reachable || primary.flags.includes('fail')) {
    throw redisOpError({
      op,
      reason: 'UNREACHABLE',
      nodeId: primaryId,
      addr: formatAddr(primary.addr),
      detail: `the primary ${primary.reachable ? 'is marked failed by the cluster' : 'does not answer'}, so it cannot take a replica now`,
      action: 'start the primary again (or let the cluster fail over to its replica), then retry',
    });
  }
  let facts = first;
  const id = facts.view.myId;
  const current = findNode(before.topology, id);
  if (current?.role === 'replica' && current.primaryId === primaryId) {
    const obs = await waitReplicaReady(ops, op, node, id, primaryId, signal);
    return { changed: false, nodeId: id, topology: obs.topology, ms: Date.now() - started };
  }
  if (current && current.role === 'primary' && current.slotCount > 0) {
    throw redisOpError({
      op,
      reason: 'NOT_EMPTY',
      nodeId: id,
      addr: formatAddr(node),
      detail: `it is a primary owning ${current.slotCount} slots`,
      action: 'move its slots to the other primaries first (MoveData), then make it a replica',
    });
  }
  if (current && current.role === 'primary' && replicasOf(before.topology, id).length > 0) {
    throw redisOpError({
      op,
      reason: 'HAS_REPLICAS',
      nodeId: id,
      addr: formatAddr(node),
      detail: 'it is a primary with replicas of its own',
      action: 'move or remove its replicas first',
    });
  }
  let topo = before.topology;
  if (!current) ({ facts, topo } = await admit(ops, op, node, facts, topo, new Set(), signal));
  await meetMembers(ops, op, node, facts, topo, signal);
  ops.members.set(formatAddr(node), node);

  // REPLICATE needs the node to know the primary as a primary; after MEET that takes a tick.
  await waitNodeKnows(ops, op, node, id, primaryId, signal);
  await withNode(node, (c) => command(c, 'CLUSTER', 'REPLICATE', primaryId), { signal, op, nodeId: id });
  ops.log.info({ op, nodeId: id, primaryId, ms: Date.now() - started }, 'replicating; waiting for sync and agreement');
  const obs = await waitReplicaReady(ops, op, node, id, primaryId, signal);
  ops.log.info({ op, nodeId: id, primaryId, ms: Date.now() - started }, 'replica joined');
  return { changed: true, nodeId: id, topology: obs.topology, ms: Date.now() - started };
}

/**
 * Joins `node` into the seeds' cluster as a primary and gives it the slots of
 * `opts.slots` that no node serves — the way a new cluster of N primaries is founded
 * (the first one alone, the others through it, in parallel) and an empty primary is
 * added. Nothing waits for the cluster to agree BEFORE the join (other primaries may be
 * joining at the same time); the node claims its slots, then MEETs every member it does
 * not know (not one member, leaving the rest to gossip), then the call waits until every
 * node agrees on the result and, once all slots are assigned, reports cluster_state:ok.
 * Refuses slots another node serves (SLOTS_OWNED, naming the owner), a node of another
 * cluster, a node with keys, and a replica. Idempotent: a member that has the slots
 * already changes nothing; a repeat after a crash finishes the join.
 */
export async function joinPrimary(ops: RedisClusterOps, node: NodeAddress, opts: JoinPrimaryOptions = {}): Promise<JoinPrimaryResult> {
  const op = 'joinPrimary';
  const started = Date.now();
  const signal = opts.signal;
  const phases: JoinPhases = { observeMs: 0, claimMs: 0, meetMs: 0, agreeMs: 0 };
  for (const r of opts.slots ?? []) {
    if (!Number.isInteger(r.start) || !Number.isInteger(r.end) || r.start < 0 || r.end >= SLOT_COUNT || r.start > r.end) {
      throw redisOpError({ op, reason: 'BAD_ARGUMENT', field: 'slots', detail: `${r.start}-${r.end} is not a slot range within 0-${SLOT_COUNT - 1}`, action: 'pass slot ranges' });
    }
  }
  const wanted = rangesToSlots(normalRanges(opts.slots ?? []));
  const seeds = ops.requireSeeds(op).filter((a) => formatAddr(a) !== formatAddr(node));
  if (seeds.length === 0) {
    throw redisOpError({ op, reason: 'BAD_ARGUMENT', detail: 'no member of the cluster to join through was given', action: 'name a node of the cluster (cluster_member)' });
  }

  // 1. The cluster and the node, as they are now.
  let t = Date.now();
  const [obs, first] = await Promise.all([observeCluster(seeds, { signal }), nodeFacts(node, op, signal)]);
  if (!obs.views.some((v) => v.reachable)) {
    throw redisOpError({
      op,
      reason: 'UNREACHABLE',
      addr: seeds.map(formatAddr).join(', '),
      detail: 'no member of the cluster answers',
      action: 'check that the member named runs and is reachable, then retry',
    });
  }
  let facts = first;
  let topo = obs.topology;
  const id = facts.view.myId;
  const self = facts.view.nodes.find((r) => r.myself);
  let current = findNode(topo, id);
  if (current?.role === 'replica' || self?.role === 'replica') {
    throw redisOpError({
      op,
      reason: 'WRONG_ROLE',
      nodeId: id,
      addr: formatAddr(node),
      detail: `it is a replica (of ${shortId(current?.primaryId ?? self?.primaryId ?? '?')}), not a primary`,
      action: 'a replica becomes a primary by a planned failover; remove it first if it should be a primary of its own',
    });
  }
  const mine = new Set(rangesToSlots(self?.slots ?? []));
  if (!current) {
    ({ facts, topo } = await admit(ops, op, node, facts, topo, new Set(wanted), signal));
    current = findNode(topo, id);
  }
  const owners = slotOwners(topo);
  const taken = [...new Set([...wanted, ...mine])].filter((s) => owners[s] !== null && owners[s] !== undefined && owners[s] !== id);
  if (taken.length > 0) throw slotsOwned(op, id, node, taken, owners, topo);
  phases.observeMs = Date.now() - t;

  // 2. Claim the slots nobody serves yet (before meeting: the first packets carry them).
  t = Date.now();
  const todo = wanted.filter((s) => !mine.has(s) && (owners[s] === null || owners[s] === undefined));
  if (todo.length > 0) {
    const args = slotsToRanges(todo).flatMap((r) => [r.start, r.end]);
    await withNode(node, (c) => command(c, 'CLUSTER', 'ADDSLOTSRANGE', ...args), { signal, op, nodeId: id });
    ops.log.info({ op, nodeId: id, slots: rangesText(slotsToRanges(todo)) }, 'slots claimed');
  }
  phases.claimMs = Date.now() - t;

  // 3. Meet every member the node does not know yet, directly.
  t = Date.now();
  const met = await meetMembers(ops, op, node, facts, topo, signal);
  ops.members.set(formatAddr(node), node);
  phases.meetMs = Date.now() - t;

  // 4. Wait until everyone agrees on the node with its slots. A primary that serves
  // nothing yet may still report cluster_state:fail (the rejoin delay): what gives it
  // slots later (MoveData) waits for its ok, and a replica can join it meanwhile.
  t = Date.now();
  const servesNothing = wanted.length === 0 && mine.size === 0 && (current === undefined || current.slotCount === 0);
  const after = await ops.agree(op, {
    signal,
    ...(servesNothing ? { stateNotRequiredOf: new Set([id]) } : {}),
    until: (o) => {
      const n = findNode(o.topology, id);
      if (n?.role !== 'primary') return [`node ${shortId(id)} is not known as a primary yet`];
      const has = new Set(rangesToSlots(n.slots));
      const missing = wanted.filter((s) => !has.has(s));
      return missing.length === 0 ? [] : [`node ${shortId(id)} does not serve ${rangesText(slotsToRanges(missing))} yet`];
    },
  });
  phases.agreeMs = Date.now() - t;
  const changed = todo.length > 0 || met > 0 || current === undefined;
  ops.log.info({ op, nodeId: id, changed, claimed: todo.length, met, ...phases }, changed ? 'primary joined' : 'primary was already a member');
  return { changed, nodeId: id, topology: after.topology, ms: Date.now() - started, claimed: todo.length, phases };
}

function slotsOwned(op: string, id: string, node: NodeAddress, taken: number[], owners: (string | null)[], topo: Topology): RedisOpError {
  const byOwner = new Map<string, number[]>();
  for (const s of taken) {
    const o = owners[s];
    if (o !== null && o !== undefined) byOwner.set(o, [...(byOwner.get(o) ?? []), s]);
  }
  const list = [...byOwner].map(([o, slots]) => {
    const n = findNode(topo, o);
    return `${rangesText(slotsToRanges(slots))} by ${describeNode(o, n ? formatAddr(n.addr) : undefined)}`;
  });
  return redisOpError({
    op,
    reason: 'SLOTS_OWNED',
    nodeId: id,
    addr: formatAddr(node),
    detail: `cannot claim ${taken.length} of the slots asked for: they are served already (${list.join('; ')})`,
    action: 'claim only unowned slots; move served slots and their keys with MoveData',
  });
}

/**
 * Checks that a node that is not a member yet may join: it knows no node outside the
 * cluster (else it belongs to another cluster) and holds no keys, and no slots other
 * than `allowSlots`. A node it knows that the cluster does not know yet may be one
 * joining at the same time (its handshake with the members still going on): such a
 * node is looked at again for up to a second before the join is refused.
 */
async function admit(
  ops: RedisClusterOps,
  op: string,
  node: NodeAddress,
  facts: NodeFacts,
  topo: Topology,
  allowSlots: ReadonlySet<number>,
  signal?: AbortSignal,
): Promise<{ facts: NodeFacts; topo: Topology }> {
  const id = facts.view.myId;
  const deadline = Date.now() + 1_000;
  for (;;) {
    const members = new Set(topo.nodes.map((n) => n.id));
    const strangers = facts.view.nodes.filter((r) => !r.myself && !r.flags.includes('handshake') && !members.has(r.id));
    if (strangers.length === 0) break;
    if (Date.now() > deadline) {
      const r = strangers[0];
      throw redisOpError({
        op,
        reason: 'FOREIGN_CLUSTER',
        nodeId: id,
        addr: formatAddr(facts.addr),
        detail: `it knows ${r ? describeNode(r.id, `${r.host}:${r.port}`) : 'a node'}, which is not in this cluster, so it belongs to another cluster`,
        action: 'use a fresh node, or CLUSTER RESET HARD it if its data is not needed',
      });
    }
    await ops.sleep(op, 50, signal);
    const [obs, again] = await Promise.all([ops.observe({ signal }), nodeFacts(node, op, signal)]);
    facts = again;
    topo = obs.topology;
    if (findNode(topo, id)) return { facts, topo }; // it became a member meanwhile (another call joined it)
  }
  const self = facts.view.nodes.find((r) => r.myself);
  const extra = rangesToSlots(self?.slots ?? []).filter((s) => !allowSlots.has(s));
  if (facts.keys > 0 || extra.length > 0) {
    throw redisOpError({
      op,
      reason: 'NOT_EMPTY',
      nodeId: id,
      addr: formatAddr(facts.addr),
      detail: `it holds ${facts.keys} keys and ${extra.length} slots (${rangesText(slotsToRanges(extra))}) of its own; only empty nodes join`,
      action: 'use an empty node (FLUSHALL and CLUSTER RESET HARD if its data is not needed)',
    });
  }
  return { facts, topo };
}

/**
 * The node MEETs every member it does not know yet (reachable and not failed), over
 * one connection: each handshake takes one round trip, instead of the members learning
 * of the node from gossip one ping at a time. Returns how many it met.
 */
async function meetMembers(ops: RedisClusterOps, op: string, node: NodeAddress, facts: NodeFacts, topo: Topology, signal?: AbortSignal): Promise<number> {
  const id = facts.view.myId;
  const knows = new Set(facts.view.nodes.filter((r) => !r.flags.includes('handshake')).map((r) => r.id));
  const targets = topo.nodes.filter(
    (n) => n.id !== id && !knows.has(n.id) && n.reachable && n.addr.host !== '' && !n.flags.includes('fail') && !n.flags.includes('noaddr'),
  );
  if (targets.length === 0) return 0;
  await meetAll(op, node, id, targets.map((n) => ({ addr: n.addr, busPort: n.busPort })), signal);
  ops.log.info({ op, nodeId: id, addr: formatAddr(node), met: targets.map((n) => formatAddr(n.addr)) }, 'node met the members');
  return targets.length;
}

async function waitNodeKnows(ops: RedisClusterOps, op: string, addr: NodeAddress, id: string, otherId: string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + (ops.agreementTimeoutMs ?? 30_000);
  const pool = new NodePool({ signal, op });
  try {
    for (;;) {
      const view = await pool.run(addr, (c) => viewOf(c, addr), id);
      if (view.reachable && view.nodes.some((r) => r.id === otherId && !r.flags.includes('handshake') && r.role === 'primary')) return;
      if (Date.now() > deadline) {
        throw redisOpError({
          op,
          reason: 'TIMEOUT',
          nodeId: id,
          addr: formatAddr(addr),
          detail: `it did not learn about node ${shortId(otherId)} as a primary in time after CLUSTER MEET`,
          action: 'check that the cluster bus port (port + 10000) is reachable between the nodes, then retry',
        });
      }
      await ops.sleep(op, 20, signal);
    }
  } finally {
    pool.close();
  }
}

/** Waits until the replica's link is up and synced, and all nodes agree on its role. */
async function waitReplicaReady(ops: RedisClusterOps, op: string, addr: NodeAddress, id: string, primaryId: string, signal?: AbortSignal): Promise<ClusterObservation> {
  const deadline = Date.now() + (ops.agreementTimeoutMs ?? 30_000);
  const synced = (async (): Promise<void> => {
    const pool = new NodePool({ signal, op });
    try {
      for (;;) {
        const r = await pool.run(addr, replicationOf, id);
        if (r.linkUp && !r.syncing) return;
        if (Date.now() > deadline) {
          throw redisOpError({
            op,
            reason: 'NOT_IN_SYNC',
            nodeId: id,
            addr: formatAddr(addr),
            detail: `its replication link is ${r.linkUp ? 'up but still syncing' : 'down'} after ${((ops.agreementTimeoutMs ?? 30_000) / 1000).toFixed(0)} s`,
            action: 'check the replica and primary logs (full sync of a large data set takes longer), then retry',
          });
        }
        await ops.sleep(op, 25, signal);
      }
    } finally {
      pool.close();
    }
  })();
  // A member that died meanwhile (flagged fail by the others) would hold up the
  // agreement until it is started again, which the leader cannot do while this join
  // runs: it is left out; the replica's own link and role are what this waits for.
  const agreed = ops.agree(op, {
    signal,
    ignoreFailed: true,
    until: (o) => {
      const n = findNode(o.topology, id);
      return n?.role === 'replica' && n.primaryId === primaryId ? [] : [`node ${shortId(id)} is not a replica of ${shortId(primaryId)} yet`];
    },
  });
  const [, obs] = await Promise.all([synced, agreed]);
  return obs;
}
