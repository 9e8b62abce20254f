// A planned failover: a replica becomes the primary of its node group, its old primary
// its replica. The rules every operation follows are at the top of cluster-ops.ts.
import { redisOpError, shortId } from './errors.ts';
import { NodePool, command, formatAddr, withNode } from './redis-connection.ts';
import { findNode, parseInfo } from './topology.ts';
import type { TopologyNode } from './topology.ts';
import { replicationOf } from './node-facts.ts';
import type { OpOptions, OpResult, RedisClusterOps } from './cluster-ops.ts';

export interface FailoverResult extends OpResult {
  newPrimaryId: string;
  oldPrimaryId: string | null;
}

/** How long a planned failover may take before it counts as failed. The server gives a
 * manual failover 5 s (CLUSTER_MF_TIMEOUT); past that it is abandoned. */
const FAILOVER_TIMEOUT_MS = 8_000;

/**
 * Planned failover: CLUSTER FAILOVER on the replica (never FORCE/TAKEOVER), then wait
 * until it is the primary, its old primary is its replica, and all nodes agree.
 * Refuses a replica that is not in sync. A replica that is already primary: no-op.
 */
export async function failover(ops: RedisClusterOps, replicaId: string, opts: OpOptions = {}): Promise<FailoverResult> {
  const op = 'failover';
  const started = Date.now();
  const signal = opts.signal;
  // A planned failover needs the old primary (it pauses its clients and hands over
  // its offset). If it is down, say so now instead of waiting for agreement.
  const quick = (await ops.observe({ signal })).topology;
  const r0 = findNode(quick, replicaId);
  const p0 = r0?.role === 'replica' && r0.primaryId ? findNode(quick, r0.primaryId) : undefined;
  if (r0 && p0 && (!p0.reachable || p0.flags.includes('fail') || p0.flags.includes('pfail'))) {
    throw redisOpError({
      op,
      reason: 'UNREACHABLE',
      nodeId: p0.id,
      addr: formatAddr(p0.addr),
      detail: `the primary of replica ${shortId(replicaId)} is down, and a planned failover needs it`,
      action: 'start the primary again and retry; a primary that stays down is replaced by the cluster itself (automatic failover)',
    });
  }
  // A member of another node group that died (flagged fail, serving no slot) must not
  // hold up this group's failover: the leader cannot restart it while the failover runs
  // (seen end to end: a data node killed in a rolling restart held up every later
  // failover of the batch, 30 s per try, for minutes). This group's own primary is
  // checked above; a failed primary that still owns slots is still waited for.
  const before = await ops.agree(op, { signal, ignoreFailed: true });
  const replica = findNode(before.topology, replicaId);
  if (!replica) throw ops.unknownNode(op, replicaId, before.topology);
  if (replica.role === 'primary') {
    if (replica.slotCount === 0) {
      throw redisOpError({
        op,
        reason: 'WRONG_ROLE',
        nodeId: replicaId,
        addr: formatAddr(replica.addr),
        detail: 'it is a primary without slots, not a replica',
        action: 'name a replica of the node group that should get a new primary',
      });
    }
    return { changed: false, topology: before.topology, ms: Date.now() - started, newPrimaryId: replicaId, oldPrimaryId: null };
  }
  const oldPrimaryId = replica.primaryId;
  const oldPrimary = oldPrimaryId ? findNode(before.topology, oldPrimaryId) : undefined;
  if (!oldPrimaryId || !oldPrimary) throw ops.unknownNode(op, oldPrimaryId ?? '?', before.topology);
  await requireInSync(op, replica, oldPrimary, signal);

  await withNode(replica.addr, (c) => command(c, 'CLUSTER', 'FAILOVER'), { signal, op, nodeId: replicaId });
  ops.log.info({ op, replicaId, oldPrimaryId }, 'CLUSTER FAILOVER sent; waiting for the promotion');
  // The replica itself knows first; if it is not primary within the server's manual
  // failover time-out, the failover was abandoned (e.g. no majority of votes).
  const deadline = Date.now() + FAILOVER_TIMEOUT_MS;
  const pool = new NodePool({ signal, op });
  try {
    for (;;) {
      const role = await pool.run(replica.addr, (c) => command<unknown[]>(c, 'ROLE'), replicaId).catch((err: unknown) => {
        if (signal?.aborted) throw err;
        return undefined; // a node busy switching roles may drop one connection
      });
      if (role?.[0] === 'master') break;
      if (Date.now() > deadline) {
        throw redisOpError({
          op,
          reason: 'TIMEOUT',
          nodeId: replicaId,
          addr: formatAddr(replica.addr),
          detail: `the replica was not promoted within ${FAILOVER_TIMEOUT_MS / 1000} s; the failover was abandoned`,
          action: 'check that a majority of primaries is up and the old primary answers, then retry',
        });
      }
      await ops.sleep(op, 20, signal);
    }
  } finally {
    pool.close();
  }
  ops.log.info({ op, replicaId, ms: Date.now() - started }, 'promoted; waiting for agreement');
  const obs = await ops.agree(op, {
    signal,
    ignoreFailed: true,
    until: (o) => {
      const missing: string[] = [];
      const n = findNode(o.topology, replicaId);
      const old = findNode(o.topology, oldPrimaryId);
      if (n?.role !== 'primary') missing.push(`node ${shortId(replicaId)} is not primary yet`);
      if (old && (old.role !== 'replica' || old.primaryId !== replicaId)) missing.push(`node ${shortId(oldPrimaryId)} is not its replica yet`);
      return missing;
    },
  });
  return { changed: true, topology: obs.topology, ms: Date.now() - started, newPrimaryId: replicaId, oldPrimaryId };
}

async function requireInSync(op: string, replica: TopologyNode, primary: TopologyNode, signal?: AbortSignal): Promise<void> {
  const r = await withNode(replica.addr, replicationOf, { signal, op, nodeId: replica.id });
  const primaryOffset = await withNode(
    primary.addr,
    async (c) => Number(parseInfo(await command<string>(c, 'INFO', 'replication'))['master_repl_offset'] ?? 0),
    { signal, op, nodeId: primary.id },
  );
  const lag = primaryOffset - r.offset;
  // The server's manual failover lets the replica catch up while clients are paused,
  // for up to 5 s; a replica far behind would make that pause long, so refuse it.
  const MAX_LAG_BYTES = 16 * 1024 * 1024;
  if (!r.linkUp || r.syncing || lag > MAX_LAG_BYTES) {
    throw redisOpError({
      op,
      reason: 'NOT_IN_SYNC',
      nodeId: replica.id,
      addr: formatAddr(replica.addr),
      detail: !r.linkUp
        ? 'its replication link to the primary is down'
        : r.syncing
          ? 'it is still doing its initial sync'
          : `it is ${lag} bytes behind its primary`,
      action: 'wait until the replica is in sync (INFO replication: master_link_status:up) and retry',
    });
  }
}
