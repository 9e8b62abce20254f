// Moving hash slots with their keys from one primary to another (moveSlots), and
// finishing the slots an interrupted move left half-moved. The rules every operation
// follows are at the top of cluster-ops.ts.
//
// Slot migration is done here over ioredis with the documented command sequence
// (SETSLOT IMPORTING / MIGRATING, MIGRATE … KEYS per slot, SETSLOT NODE on the target
// then the source), pipelined over windows of 256 slots, rather than by running
// `redis-cli --cluster reshard`. Measured in one run on 100k keys (1365 slots, ~8.3k
// keys per move; cluster-ops.test.ts, COXSWAIN_BENCH_RESHARD=1): 1.4-1.6 s here,
// agreed on return, against 4.4 s for `redis-cli --cluster reshard` (3.5-3.9 s with
// --cluster-pipeline 1000) plus waiting for agreement, without which the next reshard
// refuses to start. Here, progress is reported per window, an AbortSignal stops it
// between two pipelined steps, and the next call finishes half-moved slots itself; a
// killed redis-cli leaves open slots that need `--cluster fix`. On Valkey 8.0 each SETSLOT
// waits for the primary's replicas; there they go out over many connections at once
// (`migrate`).
import { describeNode, isRedisOpError, redisOpError, throwIfAborted } from './errors.ts';
import { NodePool, command, commandBuffer, formatAddr, redisErrorText, withNode } from './redis-connection.ts';
import { findNode, parseInfo, replicasOf } from './topology.ts';
import type { Topology, TopologyNode } from './topology.ts';
import type { SlotRange } from '../../../common/slot-ranges.ts';
import { rangesText, rangesToSlots, SLOT_COUNT, slotsToRanges } from '../../../common/slot-ranges.ts';
import { ipOf } from './cluster-meet.ts';
import type { OpOptions, OpResult, RedisClusterOps } from './cluster-ops.ts';

export interface MoveProgress {
  fromId: string;
  toId: string;
  slotsDone: number;
  slotsTotal: number;
  keysMoved: number;
  /** 'resume' while finishing slots an earlier, interrupted move left open. */
  phase: 'resume' | 'move';
}

export interface MoveOptions extends OpOptions {
  onProgress?: ((p: MoveProgress) => void) | undefined;
}

/** Where the time of a move went, in ms (for the agent's log and the tests). */
export interface MovePhases {
  /** Finishing slots an earlier, interrupted move left open. */
  resumeMs: number;
  /** Waiting until the nodes agree before the move. */
  agreeBeforeMs: number;
  /** SETSLOT IMPORTING on the target. */
  importingMs: number;
  /** SETSLOT MIGRATING on the source. */
  migratingMs: number;
  /** GETKEYSINSLOT and MIGRATE. */
  keysMs: number;
  /** SETSLOT NODE on the target and the source. */
  ownerMs: number;
  /** Waiting until the nodes agree after the move. */
  agreeAfterMs: number;
  /** Not a time: CLUSTER SETSLOT commands sent one after the other on one connection,
   * summed over the steps (each waits for the node's replicas on Valkey 8.0). */
  setslotRounds: number;
}

export interface MoveResult extends OpResult {
  /** Slots moved by this call (for `{count}`: the slots that were chosen). */
  slots: SlotRange[];
  keysMoved: number;
  /** Slots an earlier interrupted move had left half-moved and this call finished. */
  resumedSlots: number;
  phases: MovePhases;
}

/** MIGRATE's own timeout (ms of inactivity talking to the target). */
const MIGRATE_TIMEOUT_MS = 10_000;

export function noMovePhases(): MovePhases {
  return { resumeMs: 0, agreeBeforeMs: 0, importingMs: 0, migratingMs: 0, keysMs: 0, ownerMs: 0, agreeAfterMs: 0, setslotRounds: 0 };
}

export function addMovePhases(into: MovePhases, more: MovePhases): void {
  for (const k of Object.keys(into) as (keyof MovePhases)[]) into[k] += more[k];
}

/**
 * Moves hash slots with their keys from one primary to another. `slots` lists the
 * slots (idempotent: slots already at `toId` are skipped); `{count}` picks that many
 * of `fromId`'s slots (the result names them; pass them explicitly to repeat the
 * same move). Half-moved slots of an earlier, interrupted move are finished first.
 */
export async function moveSlots(ops: RedisClusterOps, fromId: string, toId: string, slots: number[] | { count: number }, opts: MoveOptions = {}): Promise<MoveResult> {
  const op = 'moveSlots';
  const started = Date.now();
  const signal = opts.signal;
  if (fromId === toId) {
    throw redisOpError({ op, reason: 'BAD_ARGUMENT', nodeId: fromId, detail: 'source and target are the same node', action: 'name two different primaries' });
  }
  const phases = noMovePhases();
  let t = Date.now();
  const resumedSlots = await resumeOpenSlots(ops, op, opts, phases);
  phases.resumeMs = Date.now() - t;
  t = Date.now();
  // A member that died (flagged fail, no slots) would hold up the agreement until it
  // is started again, which the leader cannot do while this move runs (seen end to
  // end: a killed replica held a scale-in for 5 attempts of 5 tries of 30 s). Slots
  // move between the two primaries; a failed node learns the result when it is back.
  const topo = (await ops.agree(op, { signal, ignoreFailed: true })).topology;
  phases.agreeBeforeMs = Date.now() - t;
  const from = ops.requirePrimary(op, topo, fromId);
  const to = ops.requirePrimary(op, topo, toId);
  const owned = new Set(rangesToSlots(from.slots));
  let wanted: number[];
  if (Array.isArray(slots)) {
    const atTarget = new Set(rangesToSlots(to.slots));
    wanted = [];
    for (const s of [...new Set(slots)].sort((a, b) => a - b)) {
      if (!Number.isInteger(s) || s < 0 || s >= SLOT_COUNT) {
        throw redisOpError({ op, reason: 'BAD_ARGUMENT', detail: `${s} is not a slot (0-${SLOT_COUNT - 1})`, action: 'pass slot numbers' });
      }
      if (atTarget.has(s)) continue; // already moved
      if (!owned.has(s)) {
        throw redisOpError({
          op,
          reason: 'BAD_ARGUMENT',
          nodeId: fromId,
          addr: formatAddr(from.addr),
          detail: `slot ${s} is owned by neither it nor the target`,
          action: 'recompute the move from the current topology',
        });
      }
      wanted.push(s);
    }
  } else {
    if (!Number.isInteger(slots.count) || slots.count < 0) {
      throw redisOpError({ op, reason: 'BAD_ARGUMENT', detail: `count ${slots.count} is not a whole number ≥ 0`, action: 'pass a slot count' });
    }
    const list = [...owned].sort((a, b) => a - b);
    wanted = list.slice(Math.max(0, list.length - slots.count));
  }
  if (wanted.length === 0) {
    return { changed: resumedSlots > 0, topology: topo, ms: Date.now() - started, slots: [], keysMoved: 0, resumedSlots, phases };
  }
  const keysMoved = await migrate(ops, op, topo, from, to, wanted, 'move', opts, phases);
  t = Date.now();
  const obs = await ops.agree(op, { signal, ignoreFailed: true });
  phases.agreeAfterMs = Date.now() - t;
  const ms = Date.now() - started;
  ops.log.info({ op, fromId, toId, slots: wanted.length, keysMoved, resumedSlots, ms, ...phases }, 'Moved slots');
  return { changed: true, topology: obs.topology, ms, slots: slotsToRanges(wanted), keysMoved, resumedSlots, phases };
}

/**
 * True when CLUSTER SETSLOT on this primary waits for its replicas: Valkey 8 and later
 * replicate it and wait for every replica's acknowledgement first (see `migrate`);
 * Redis 7.0 does not. A primary without replicas has nothing to wait for.
 */
async function setslotWaitsForReplicas(topo: Topology, node: TopologyNode, pool: NodePool): Promise<boolean> {
  if (replicasOf(topo, node.id).length === 0) return false;
  const info = parseInfo(await pool.run(node.addr, (c) => command<string>(c, 'INFO', 'server'), node.id));
  const major = Number((info['valkey_version'] ?? '').split('.')[0]);
  return info['server_name'] === 'valkey' && major >= 8;
}

/**
 * Finishes slots that an interrupted move left open (a migrating or importing
 * marker): they are moved on to the node they were going to, which is what the
 * interrupted move was doing and what `redis-cli --cluster fix` does. A marker that
 * names a node that is not a primary any more is cleared (SETSLOT STABLE).
 */
export async function resumeOpenSlots(ops: RedisClusterOps, op: string, opts: MoveOptions, phases: MovePhases = noMovePhases()): Promise<number> {
  const signal = opts.signal;
  // No agreement wait here: an interrupted move may leave the nodes disagreeing about
  // a slot until the move is finished. Markers and ownership are taken from each
  // node's own view, which is exact, and every step below is idempotent.
  const t = (await ops.observe({ signal })).topology;
  const owns = (n: TopologyNode | undefined, slot: number): boolean =>
    n !== undefined && n.slots.some((r) => r.start <= slot && slot <= r.end);
  const pairs = new Map<number, { from: string; to: string }>();
  const stale: { node: TopologyNode; slot: number }[] = [];
  const consider = (slot: number, fromId: string, toId: string, marked: TopologyNode): void => {
    if (pairs.has(slot)) return;
    const from = findNode(t, fromId);
    const to = findNode(t, toId);
    // Only finish a move between two primaries one of which owns the slot; anything
    // else (a removed peer, a third owner) is a stale marker: clear it.
    if (from?.role === 'primary' && to?.role === 'primary' && (owns(from, slot) || owns(to, slot))) {
      pairs.set(slot, { from: fromId, to: toId });
    } else stale.push({ node: marked, slot });
  };
  for (const n of t.nodes) for (const m of n.migrating) consider(m.slot, n.id, m.peerId, n);
  for (const n of t.nodes) for (const m of n.importing) consider(m.slot, m.peerId, n.id, n);
  for (const s of stale) {
    ops.log.warn({ op, nodeId: s.node.id, slot: s.slot }, 'clearing a stale migrating/importing marker');
    await withNode(s.node.addr, (c) => command(c, 'CLUSTER', 'SETSLOT', s.slot, 'STABLE'), { signal, op, nodeId: s.node.id });
  }
  if (pairs.size === 0) return stale.length;
  const groups = new Map<string, number[]>();
  for (const [slot, p] of pairs) {
    const key = `${p.from} ${p.to}`;
    groups.set(key, [...(groups.get(key) ?? []), slot]);
  }
  for (const [key, slots] of groups) {
    const [fromId, toId] = key.split(' ') as [string, string];
    const from = findNode(t, fromId);
    const to = findNode(t, toId);
    if (!from || !to) continue;
    ops.log.info({ op, fromId, toId, slots: rangesText(slotsToRanges(slots)) }, 'finishing half-moved slots');
    await migrate(ops, op, t, from, to, slots.sort((x, y) => x - y), 'resume', opts, phases);
  }
  return pairs.size + stale.length;
}

/**
 * The migration itself, in windows of slots, each window pipelined per node:
 *   1. target: SETSLOT s IMPORTING from   (skipped where the target owns s already)
 *   2. source: SETSLOT s MIGRATING to     (skipped where the source no longer owns s)
 *   3. source: GETKEYSINSLOT, MIGRATE … REPLACE KEYS … until the slots are empty
 *   4. SETSLOT s NODE to on the target, then on the source; the other nodes learn the
 *      new owner from the target's epoch (gossip, and `agree` after the move).
 * REPLACE is right: while a slot migrates, a key that still exists on the source is
 * served by the source, so its copy is the newest. Each step is idempotent, so a
 * window cut short by an abort or a crash is finished by the next call.
 *
 * SETSLOT on Valkey 8.0: a primary with replicas replicates each CLUSTER SETSLOT and
 * holds the client until every replica has acknowledged it, and only then applies it
 * (so a failover right after cannot lose the slot's state). One connection therefore
 * waits one replica round trip per SETSLOT, in series: 4 × 1365 = 5,460 waits per
 * move of 1365 slots, measured at 4.1-7.4 s per move (0.6-2 ms per SETSLOT, more on a
 * loaded machine) against 0.5-0.9 s on Redis 7.0, which does not wait. The waits of
 * different connections overlap: the primary asks its replicas for one
 * acknowledgement per event-loop turn, which releases every client waiting by then.
 * So on such a node the SETSLOTs of a step are spread over `setslotConnections`
 * connections (1.5-2.2 s per move with 64; each SETSLOT still waits for its
 * acknowledgement). On a node that does not wait, one pipelined connection is
 * fastest (extra connections made Redis 7.0's SETSLOT steps slower, not faster).
 * `phases.setslotRounds` counts the SETSLOTs a connection sent one after the other.
 */
async function migrate(
  ops: RedisClusterOps,
  op: string,
  topo: Topology,
  from: TopologyNode,
  to: TopologyNode,
  slots: number[],
  phase: MoveProgress['phase'],
  opts: MoveOptions,
  phases: MovePhases,
): Promise<number> {
  const signal = opts.signal;
  const poolOpts = { signal, op, commandTimeoutMs: MIGRATE_TIMEOUT_MS + 5_000 };
  const pool = new NodePool(poolOpts);
  // Connections for SETSLOT: lane 0 is `pool` itself; the others are made on first use.
  const lanes = [pool, ...Array.from({ length: ops.setslotConnections - 1 }, () => new NodePool(poolOpts))];
  const toOwns = new Set(rangesToSlots(to.slots));
  const fromOwns = new Set(rangesToSlots(from.slots));
  const toIp = await ipOf(to.addr.host);
  let keysMoved = 0;
  let done = 0;
  const report = (): void =>
    opts.onProgress?.({ fromId: from.id, toId: to.id, slotsDone: done, slotsTotal: slots.length, keysMoved, phase });
  try {
    const [fromLanes, toLanes] = await Promise.all(
      [from, to].map(async (n) => ((await setslotWaitsForReplicas(topo, n, pool)) ? lanes.length : 1)),
    );
    const width = new Map([
      [from.id, fromLanes ?? 1],
      [to.id, toLanes ?? 1],
    ]);
    // SETSLOTs to one node: written back to back on each of its connections (ioredis
    // pipelines them), dealt round-robin over the connections.
    const setslot = async (node: TopologyNode, cmds: (string | number)[][]): Promise<void> => {
      if (cmds.length === 0) return;
      const n = Math.min(width.get(node.id) ?? 1, cmds.length);
      const parts = Array.from({ length: n }, (_, j) => cmds.filter((__, k) => k % n === j));
      phases.setslotRounds += parts[0]?.length ?? 0;
      await Promise.all(
        parts.map((part, j) =>
          (lanes[j] ?? pool).run(node.addr, (c) => Promise.all(part.map(([name, ...args]) => command(c, String(name), ...args))), node.id),
        ),
      );
    };
    report();
    for (let i = 0; i < slots.length; i += ops.slotWindow) {
      throwIfAborted(signal, op);
      const win = slots.slice(i, i + ops.slotWindow);
      let t = Date.now();
      await setslot(to, win.filter((s) => !toOwns.has(s)).map((s) => ['CLUSTER', 'SETSLOT', s, 'IMPORTING', from.id]));
      phases.importingMs += Date.now() - t;
      t = Date.now();
      const migrating = win.filter((s) => fromOwns.has(s));
      await setslot(from, migrating.map((s) => ['CLUSTER', 'SETSLOT', s, 'MIGRATING', to.id]));
      phases.migratingMs += Date.now() - t;
      t = Date.now();
      // MIGRATE takes keys of one slot per command (CROSSSLOT otherwise); the commands
      // of all slots of the window are written back to back.
      let pending = migrating;
      while (pending.length > 0) {
        throwIfAborted(signal, op);
        const lists = await pool.run(
          from.addr,
          (c) => Promise.all(pending.map((s) => commandBuffer<Buffer[]>(c, 'CLUSTER', 'GETKEYSINSLOT', s, ops.keysPerMigrate))),
          from.id,
        );
        const batches = lists.filter((l) => l.length > 0);
        pending = pending.filter((_, j) => (lists[j]?.length ?? 0) > 0);
        if (batches.length === 0) break;
        throwIfAborted(signal, op);
        try {
          await pool.run(
            from.addr,
            (c) =>
              Promise.all(
                batches.map((batch) =>
                  command(c, 'MIGRATE', toIp, to.addr.port, '', 0, MIGRATE_TIMEOUT_MS, 'REPLACE', 'KEYS', ...batch),
                ),
              ),
            from.id,
          );
        } catch (err) {
          if (isRedisOpError(err) && err.reason === 'OP_ABORTED') throw err;
          throw redisOpError({
            op,
            reason: /IOERR|timeout/i.test(redisErrorText(err)) ? 'TIMEOUT' : 'COMMAND_FAILED',
            nodeId: from.id,
            addr: formatAddr(from.addr),
            detail: `MIGRATE to ${describeNode(to.id, formatAddr(to.addr))} failed: ${redisErrorText(err)}`,
            action: 'retry the move: it resumes the open slots; if it keeps failing, check the target node',
            cause: err,
          });
        }
        keysMoved += batches.reduce((n, b) => n + b.length, 0);
      }
      phases.keysMs += Date.now() - t;
      t = Date.now();
      // Owner switch: target first (it bumps its epoch), then source.
      const setNode = win.map((s) => ['CLUSTER', 'SETSLOT', s, 'NODE', to.id]);
      await setslot(to, setNode);
      await setslot(from, setNode);
      phases.ownerMs += Date.now() - t;
      done += win.length;
      report();
    }
  } finally {
    for (const lane of lanes) lane.close();
  }
  return keysMoved;
}
