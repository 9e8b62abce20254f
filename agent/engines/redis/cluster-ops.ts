// The Redis Cluster operations the agent executes: join (which also founds a cluster),
// failover, data movement, removal. Redis 7.0 and Valkey 8.0 speak the same cluster protocol. This file
// holds RedisClusterOps, the handle the agent calls them through (the members it knows,
// observing the cluster and waiting for agreement); each operation lives in a file of
// its own beside it: cluster-join.ts, slot-migration.ts, cluster-failover.ts,
// cluster-remove.ts, and cluster-meet.ts for the CLUSTER MEETs that speed up agreement.
//
// Rules every operation follows (docs/invariants.md; the traps of docs/redis-cluster.md):
// - Nodes are named by cluster node id; an address is only how we reach them (trap 1).
// - The topology is observed again before every step, and a step that changes the
//   topology waits until every node agrees on the result (trap 1).
// - Every operation is idempotent: repeated after success it changes nothing
//   (`changed: false`); repeated after a crash or an abort it finishes the job.
// - Every operation takes an AbortSignal, checks it between steps and closes its
//   connections when it fires; the error is RedisOpError ABORTED (transient).
// - Data moves before a node group is removed (invariant 3); removal never stops a
//   process (trap 5) — that is the supervisor's job.
//
// Slot migration: slot-migration.ts. Convergence (pushNews): cluster-meet.ts. Joining:
// cluster-join.ts.
import { setTimeout as delay } from 'node:timers/promises';
import { abortedError, redisOpError, shortId } from './errors.ts';
import type { RedisOpError } from './errors.ts';
import { formatAddr } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { findNode, observeCluster, waitForAgreementObservation } from './topology.ts';
import type { ClusterObservation, Topology, TopologyNode, WaitOptions } from './topology.ts';
import { pushNews } from './cluster-meet.ts';
import { addReplica, joinPrimary } from './cluster-join.ts';
import type { JoinPrimaryOptions, JoinPrimaryResult, JoinResult } from './cluster-join.ts';
import { moveSlots } from './slot-migration.ts';
import type { MoveOptions, MoveResult } from './slot-migration.ts';
import { failover } from './cluster-failover.ts';
import type { FailoverResult } from './cluster-failover.ts';
import { removeNode } from './cluster-remove.ts';
import type { RemoveResult } from './cluster-remove.ts';

// ---------------------------------------------------------------------------------
// Types

export interface OpOptions {
  signal?: AbortSignal | undefined;
}

/** What an operation did. `changed: false` means the cluster was already there. */
export interface OpResult {
  changed: boolean;
  /** The agreed topology after the operation. */
  topology: Topology;
  ms: number;
}

/** A pino logger fits; the default logs nothing. */
export interface OpsLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface ClusterOpsOptions {
  /** Addresses of cluster members to start from (any reachable member suffices). */
  seeds?: NodeAddress[] | undefined;
  logger?: OpsLogger | undefined;
  /** How long a wait for agreement may take (default 30 s). */
  agreementTimeoutMs?: number | undefined;
  /** Poll interval while waiting (default 50 ms). */
  pollMs?: number | undefined;
  /** Slots per pipelined migration window (default 256): at most this many slots are
   * left half-moved when a move is interrupted (the next call finishes them). */
  slotWindow?: number | undefined;
  /** Keys per MIGRATE command (default 1000). */
  keysPerMigrate?: number | undefined;
  /** Connections per node over which the CLUSTER SETSLOT commands of a window are
   * spread where each waits for the node's replicas (Valkey 8.0); default 64, 1 sends
   * them all down one connection. See `migrate`. */
  setslotConnections?: number | undefined;
}

const NO_LOG: OpsLogger = { info: () => undefined, warn: () => undefined };

// ---------------------------------------------------------------------------------
// The operations

export class RedisClusterOps {
  // Not private: the operations in the files beside this one read them (cluster-join.ts,
  // slot-migration.ts, cluster-failover.ts, cluster-remove.ts, cluster-meet.ts).
  readonly members = new Map<string, NodeAddress>();
  readonly log: OpsLogger;
  readonly agreementTimeoutMs: number | undefined;
  readonly pollMs: number | undefined;
  readonly slotWindow: number;
  readonly keysPerMigrate: number;
  readonly setslotConnections: number;

  constructor(opts: ClusterOpsOptions = {}) {
    for (const a of opts.seeds ?? []) this.members.set(formatAddr(a), a);
    this.log = opts.logger ?? NO_LOG;
    this.agreementTimeoutMs = opts.agreementTimeoutMs;
    this.pollMs = opts.pollMs;
    this.slotWindow = opts.slotWindow ?? 256;
    this.keysPerMigrate = opts.keysPerMigrate ?? 1000;
    this.setslotConnections = Math.max(1, Math.floor(opts.setslotConnections ?? 64));
  }

  /** The member addresses the next observation starts from. */
  seeds(): NodeAddress[] {
    return [...this.members.values()];
  }

  /** Observe the cluster from the known members (no waiting). */
  async observe(opts: OpOptions = {}): Promise<ClusterObservation> {
    const obs = await observeCluster(this.requireSeeds('observe'), { signal: opts.signal });
    this.remember(obs.topology);
    return obs;
  }

  /**
   * Wait until the members agree; returns the observation. While waiting, a node that
   * others still see differently from how it sees itself is announced to them (at most
   * every 300 ms per node), instead of waiting seconds for its next ping — unless
   * `announce` is false: an announcement is a CLUSTER MEET, which no FORGET ban stops,
   * so while nodes are being removed it could bring one back.
   */
  async agree(op: string, opts: OpOptions & Omit<WaitOptions, 'signal'> & { announce?: boolean } = {}): Promise<ClusterObservation> {
    const lastPush = new Map<string, number>();
    const { announce = true, ...waitOpts } = opts;
    const started = Date.now();
    let lastLog = 0;
    const obs = await waitForAgreementObservation(this.requireSeeds(op), {
      timeoutMs: this.agreementTimeoutMs,
      pollMs: this.pollMs,
      onPoll: async (o) => {
        if (Date.now() - lastLog >= 1_000) {
          lastLog = Date.now();
          const pending = o.agreed ? (opts.until?.(o) ?? []) : o.disagreements;
          this.log.info({ op, waitedMs: Date.now() - started, pending }, 'waiting for the nodes to agree');
        }
        if (announce) await pushNews(this, op, o, lastPush, opts.signal);
      },
      ...waitOpts,
      op,
    });
    this.remember(obs.topology);
    return obs;
  }

  // --- the operations, each in the file named in its comment -----------------------

  /** Makes `node` a replica of `primaryId` (cluster-join.ts). */
  addReplica(node: NodeAddress, primaryId: string, opts: OpOptions = {}): Promise<JoinResult> {
    return addReplica(this, node, primaryId, opts);
  }

  /** Joins `node` as a primary with the unserved slots of `opts.slots` (cluster-join.ts). */
  joinPrimary(node: NodeAddress, opts: JoinPrimaryOptions = {}): Promise<JoinPrimaryResult> {
    return joinPrimary(this, node, opts);
  }

  /** Moves hash slots with their keys from one primary to another (slot-migration.ts). */
  moveSlots(fromId: string, toId: string, slots: number[] | { count: number }, opts: MoveOptions = {}): Promise<MoveResult> {
    return moveSlots(this, fromId, toId, slots, opts);
  }

  /** Planned failover to the replica `replicaId` (cluster-failover.ts). */
  failover(replicaId: string, opts: OpOptions = {}): Promise<FailoverResult> {
    return failover(this, replicaId, opts);
  }

  /** Takes node `id` out of the cluster; its process keeps running (cluster-remove.ts). */
  removeNode(id: string, opts: OpOptions = {}): Promise<RemoveResult> {
    return removeNode(this, id, opts);
  }

  // ---------------------------------------------------------------------------------
  // internals (not private: the operations beside this file use them)

  requireSeeds(op: string): NodeAddress[] {
    const seeds = this.seeds();
    if (seeds.length === 0) {
      throw redisOpError({
        op,
        reason: 'BAD_ARGUMENT',
        detail: 'no cluster member address is known',
        action: 'construct RedisClusterOps with the addresses of members of a formed cluster',
      });
    }
    return seeds;
  }

  /** Keep the members' addresses (the cluster may have grown or shrunk). */
  remember(t: Topology): void {
    for (const n of t.nodes) if (n.addr.host && !n.flags.includes('noaddr')) this.members.set(formatAddr(n.addr), n.addr);
  }

  sleep(op: string, ms: number, signal?: AbortSignal): Promise<void> {
    return delay(ms, undefined, { signal }).catch(() => {
      throw abortedError(op, signal ?? AbortSignal.abort());
    });
  }

  unknownNode(op: string, id: string, t: Topology): RedisOpError {
    return redisOpError({
      op,
      reason: 'UNKNOWN_NODE',
      nodeId: id,
      detail: `no such node in the cluster (known: ${t.nodes.map((n) => shortId(n.id)).join(', ')})`,
      action: 'use a node id from the current topology (CLUSTER NODES)',
    });
  }

  requirePrimary(op: string, t: Topology, id: string): TopologyNode {
    const n = findNode(t, id);
    if (!n) throw this.unknownNode(op, id, t);
    if (n.role !== 'primary') {
      throw redisOpError({
        op,
        reason: 'WRONG_ROLE',
        nodeId: id,
        addr: formatAddr(n.addr),
        detail: `it is a replica of ${shortId(n.primaryId ?? '?')}, not a primary`,
        action: 'name the primary of the node group',
      });
    }
    return n;
  }
}
