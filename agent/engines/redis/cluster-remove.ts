// Taking a node out of the cluster: every other node forgets it, then it is reset. The
// rules every operation follows are at the top of cluster-ops.ts.
import { describeNode, redisOpError, shortId } from './errors.ts';
import { command, formatAddr, redisErrorText, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { findNode, replicasOf } from './topology.ts';
import type { Topology } from './topology.ts';
import { rangesText } from '../../../common/slot-ranges.ts';
import type { OpOptions, OpResult, RedisClusterOps } from './cluster-ops.ts';

export interface RemoveResult extends OpResult {
  /** False when the node was unreachable, so CLUSTER RESET could not be sent to it. */
  reset: boolean;
}

function isMember(t: Topology, id: string): boolean {
  return findNode(t, id) !== undefined;
}

/**
 * Takes a node out of the cluster: refuses a node that owns slots (drain it first) or
 * a primary with replicas; otherwise CLUSTER FORGET on every other node (all within
 * the 60 s ban, so gossip cannot bring it back), then CLUSTER RESET HARD on the node.
 * The process keeps running (trap 5): stopping it is the supervisor's job.
 */
export async function removeNode(ops: RedisClusterOps, id: string, opts: OpOptions = {}): Promise<RemoveResult> {
  const op = 'removeNode';
  const started = Date.now();
  const signal = opts.signal;
  const obs = await ops.observe({ signal });
  const node = findNode(obs.topology, id);
  if (!node) {
    // Already forgotten by the others. If it still answers with that id at an
    // address we know, the reset did not happen yet (crash in between): do it now.
    const leftover = obs.views.find((v) => v.reachable && v.myId === id);
    if (leftover) {
      await resetNode(ops, op, leftover.addr, id, signal);
      ops.members.delete(formatAddr(leftover.addr));
    }
    const after = await ops.agree(op, { signal, ignoreStrangers: true, announce: false });
    return { changed: leftover !== undefined, topology: after.topology, ms: Date.now() - started, reset: leftover !== undefined };
  }
  if (node.slotCount > 0) {
    throw redisOpError({
      op,
      reason: 'NOT_EMPTY',
      nodeId: id,
      addr: formatAddr(node.addr),
      detail: `it owns ${node.slotCount} slots (${rangesText(node.slots)})`,
      action: 'move its slots to the other primaries first (MoveData), then remove it',
    });
  }
  const replicas = replicasOf(obs.topology, id);
  if (node.role === 'primary' && replicas.length > 0) {
    throw redisOpError({
      op,
      reason: 'HAS_REPLICAS',
      nodeId: id,
      addr: formatAddr(node.addr),
      detail: `it is a primary with ${replicas.length} replica(s): ${replicas.map((r) => describeNode(r.id, formatAddr(r.addr))).join(', ')}`,
      action: 'remove its replicas first (or fail over to one of them), then remove it',
    });
  }
  // A member that is down now would still know the node when it comes back and
  // gossip it back in: wait for it. One the cluster marked failed is dead for good
  // (remove it too); the removal goes ahead without it.
  const down = obs.topology.nodes.filter((n) => n.id !== id && !n.reachable && !n.flags.includes('fail'));
  if (down.length > 0) {
    throw redisOpError({
      op,
      reason: 'UNREACHABLE',
      nodeId: id,
      addr: formatAddr(node.addr),
      detail: `cannot be removed while ${down.map((n) => describeNode(n.id, formatAddr(n.addr))).join(', ')} is unreachable (it would not forget the node and could bring it back)`,
      action: 'retry when that node is back, or once the cluster marks it failed',
    });
  }
  // Everyone else forgets it, in parallel, so the ban windows overlap.
  const others = obs.topology.nodes.filter((n) => n.id !== id && n.reachable);
  await Promise.all(
    others.map((n) =>
      withNode(
        n.addr,
        async (c) => {
          try {
            await command(c, 'CLUSTER', 'FORGET', id);
          } catch (err) {
            if (/unknown node/i.test(redisErrorText(err))) return; // already forgotten
            throw err;
          }
        },
        { signal, op, nodeId: n.id },
      ),
    ),
  );
  let reset = false;
  if (node.reachable) {
    await resetNode(ops, op, node.addr, id, signal);
    reset = true;
  } else {
    ops.log.warn({ op, nodeId: id, addr: formatAddr(node.addr) }, 'node unreachable: forgotten by the others, but not reset');
  }
  ops.members.delete(formatAddr(node.addr));
  // Other removals may run at the same time (the leader removes a replica of each
  // node group at once): the members remembered above then include nodes that were
  // reset or stopped meanwhile. They are not members any more: they must neither hold
  // up the agreement nor be met back into the cluster. Nothing is announced either: a
  // member that has already forgotten a node another call is removing would be made
  // to MEET it again (it "does not know" it), and the node, stopped next, would stay
  // in the cluster as a failed ghost.
  const after = await ops.agree(op, {
    signal,
    ignoreStrangers: true,
    announce: false,
    until: (o) => (isMember(o.topology, id) ? [`node ${shortId(id)} is still known`] : []),
  });
  return { changed: true, topology: after.topology, ms: Date.now() - started, reset };
}

async function resetNode(ops: RedisClusterOps, op: string, addr: NodeAddress, id: string, signal?: AbortSignal): Promise<void> {
  await withNode(
    addr,
    async (c) => {
      // A replica's data is a copy: RESET flushes it and makes the node an empty
      // primary. A primary without slots should hold no keys (the server deletes the
      // keys of slots it loses); if it does, something is off: refuse, do not flush.
      const role = await command<unknown[]>(c, 'ROLE');
      const keys = await command<number>(c, 'DBSIZE');
      if (role[0] === 'master' && keys > 0) {
        throw redisOpError({
          op,
          reason: 'NOT_EMPTY',
          nodeId: id,
          addr: formatAddr(addr),
          detail: `it owns no slots but still holds ${keys} keys`,
          action: 'inspect the keys (they are not served by the cluster); FLUSHALL on the node if they are not needed, then retry',
        });
      }
      await command(c, 'CLUSTER', 'RESET', 'HARD');
    },
    { signal, op, nodeId: id },
  );
  ops.log.info({ op, nodeId: id, addr: formatAddr(addr) }, 'node reset');
}
