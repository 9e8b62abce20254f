// The Redis Cluster operations the agent executes: form, join, failover, data
// movement, removal, check. Redis 7.0 and Valkey 8.0 speak the same cluster protocol.
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
//
// Joining. A joining node claims its slots first and then MEETs every member itself,
// one handshake each, without waiting for the cluster to agree beforehand, so several
// primaries can join at once (the leader founds N primaries that way: one founder,
// the others in parallel through it). What remains is Redis's rejoin delay: a primary
// that knew no serving primary (any node that has just been started, after its first
// 2 s) reports cluster_state:ok only min(cluster-node-timeout, 5 s) after it learns of
// one, and a join returns once all nodes agree and report ok. That delay is most of
// the time a cluster takes to form (config.ts, CLUSTER_NODE_TIMEOUT_MS).
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { abortedError, describeNode, isRedisOpError, redisOpError, shortId, throwIfAborted } from './errors.ts';
import type { RedisOpError } from './errors.ts';
import { NodePool, command, commandBuffer, formatAddr, replyErrorText, withNode } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import {
  findNode,
  observeCluster,
  parseInfo,
  primariesOf,
  replicasOf,
  slotOwners,
  viewOf,
  waitForAgreementObservation,
} from './topology.ts';
import type { ClusterObservation, NodeView, Topology, TopologyNode, WaitOptions } from './topology.ts';
import type { SlotRange } from '../../../common/slot-ranges.ts';
import { errorText } from '../../../common/error-text.ts';
import { normalRanges, rangesText, rangesToSlots, SLOT_COUNT, slotsToRanges } from '../../../common/slot-ranges.ts';

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

export interface FailoverResult extends OpResult {
  newPrimaryId: string;
  oldPrimaryId: string | null;
}

export interface RemoveResult extends OpResult {
  /** False when the node was unreachable, so CLUSTER RESET could not be sent to it. */
  reset: boolean;
}

export interface CheckResult {
  ok: boolean;
  /** The tool's output without colour codes. */
  output: string;
  tool: string;
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

/** How long a planned failover may take before it counts as failed. The server gives a
 * manual failover 5 s (CLUSTER_MF_TIMEOUT); past that it is abandoned. */
const FAILOVER_TIMEOUT_MS = 8_000;
/** MIGRATE's own timeout (ms of inactivity talking to the target). */
const MIGRATE_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------
// Pure planning

/** The even split used by formCluster: node i gets [⌊i·S/n⌋, ⌊(i+1)·S/n⌋ − 1]. */
export function evenSlotRanges(n: number): SlotRange[] {
  const out: SlotRange[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ start: Math.floor((i * SLOT_COUNT) / n), end: Math.floor(((i + 1) * SLOT_COUNT) / n) - 1 });
  }
  return out;
}

export interface PlannedMove {
  fromId: string;
  toId: string;
  slots: number[];
}

/**
 * Moves that leave every given primary with an even share (counts differ by at most
 * one). Nodes that already hold more keep the extra slot first, so an even cluster
 * plans nothing. Slots move in contiguous runs taken from the end of a donor's ranges.
 */
export function planRebalance(topology: Topology, primaryIds?: string[]): PlannedMove[] {
  const prim = primariesOf(topology).filter((p) => !primaryIds || primaryIds.includes(p.id));
  const holding = new Map(prim.map((p) => [p.id, rangesToSlots(p.slots)]));
  const total = [...holding.values()].reduce((n, s) => n + s.length, 0);
  if (prim.length === 0 || total === 0) return [];
  const order = [...prim].sort((a, b) => b.slotCount - a.slotCount || (a.id < b.id ? -1 : 1));
  const base = Math.floor(total / prim.length);
  const extra = total % prim.length;
  const quota = new Map(order.map((p, i) => [p.id, base + (i < extra ? 1 : 0)]));
  const donors = order.filter((p) => (holding.get(p.id)?.length ?? 0) > (quota.get(p.id) ?? 0));
  const takers = [...order].reverse().filter((p) => (holding.get(p.id)?.length ?? 0) < (quota.get(p.id) ?? 0));
  const moves: PlannedMove[] = [];
  for (const t of takers) {
    let need = (quota.get(t.id) ?? 0) - (holding.get(t.id)?.length ?? 0);
    for (const d of donors) {
      if (need <= 0) break;
      const slots = holding.get(d.id) ?? [];
      const spare = slots.length - (quota.get(d.id) ?? 0);
      if (spare <= 0) continue;
      const n = Math.min(spare, need);
      const taken = slots.splice(slots.length - n, n);
      moves.push({ fromId: d.id, toId: t.id, slots: taken });
      need -= n;
    }
  }
  return moves;
}

/** Moves that empty `id` into the other primaries, evening out their counts. */
export function planDrain(topology: Topology, id: string): PlannedMove[] {
  const node = findNode(topology, id);
  if (!node || node.slotCount === 0) return [];
  const others = primariesOf(topology).filter((p) => p.id !== id && !p.flags.includes('fail'));
  if (others.length === 0) return [];
  // Water-filling: raise the smallest first, so that the totals end up even.
  const counts = new Map(others.map((p) => [p.id, p.slotCount]));
  const give = new Map(others.map((p) => [p.id, 0]));
  for (let i = 0; i < node.slotCount; i++) {
    let best: string | undefined;
    for (const p of others) {
      const c = (counts.get(p.id) ?? 0) + (give.get(p.id) ?? 0);
      const b = best === undefined ? Infinity : (counts.get(best) ?? 0) + (give.get(best) ?? 0);
      if (c < b) best = p.id;
    }
    if (best !== undefined) give.set(best, (give.get(best) ?? 0) + 1);
  }
  const slots = rangesToSlots(node.slots);
  const moves: PlannedMove[] = [];
  let at = 0;
  for (const p of others) {
    const n = give.get(p.id) ?? 0;
    if (n > 0) moves.push({ fromId: id, toId: p.id, slots: slots.slice(at, at + n) });
    at += n;
  }
  return moves;
}

// ---------------------------------------------------------------------------------
// Small helpers

function noMovePhases(): MovePhases {
  return { resumeMs: 0, agreeBeforeMs: 0, importingMs: 0, migratingMs: 0, keysMs: 0, ownerMs: 0, agreeAfterMs: 0, setslotRounds: 0 };
}

function addMovePhases(into: MovePhases, more: MovePhases): void {
  for (const k of Object.keys(into) as (keyof MovePhases)[]) into[k] += more[k];
}

async function ipOf(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  return (await lookup(host)).address;
}

/** A Redis operation's detail, a Redis reply's error, or errorText. */
function redisErrorText(err: unknown): string {
  if (isRedisOpError(err)) return err.redis.detail;
  return replyErrorText(err) ?? errorText(err);
}

function isMember(t: Topology, id: string): boolean {
  return findNode(t, id) !== undefined;
}

interface NodeFacts {
  addr: NodeAddress;
  view: Extract<NodeView, { reachable: true }>;
  keys: number;
}

async function nodeFacts(addr: NodeAddress, op: string, signal?: AbortSignal): Promise<NodeFacts> {
  return withNode(
    addr,
    async (c) => {
      const view = await viewOf(c, addr);
      if (!view.reachable) throw new Error('unreachable');
      const keys = await command<number>(c, 'DBSIZE');
      return { addr, view, keys };
    },
    { signal, op },
  );
}

interface ReplicationState {
  linkUp: boolean;
  syncing: boolean;
  offset: number;
  primaryHost: string | undefined;
  primaryPort: number | undefined;
}

async function replicationOf(client: Redis): Promise<ReplicationState> {
  const info = parseInfo(await command<string>(client, 'INFO', 'replication'));
  return {
    linkUp: info['master_link_status'] === 'up',
    syncing: info['master_sync_in_progress'] === '1',
    offset: Number(info['slave_repl_offset'] ?? info['master_repl_offset'] ?? 0),
    primaryHost: info['master_host'],
    primaryPort: info['master_port'] === undefined ? undefined : Number(info['master_port']),
  };
}

/** Server flavour and version from INFO server. */
export async function serverKind(addr: NodeAddress, opts: OpOptions = {}): Promise<{ kind: 'redis' | 'valkey'; version: string }> {
  return withNode(
    addr,
    async (c) => {
      const info = parseInfo(await command<string>(c, 'INFO', 'server'));
      if (info['server_name'] === 'valkey') return { kind: 'valkey' as const, version: info['valkey_version'] ?? '' };
      return { kind: 'redis' as const, version: info['redis_version'] ?? '' };
    },
    { signal: opts.signal, op: 'serverKind' },
  );
}

/** The command-line tool that belongs to the server at addr. */
export async function cliFor(addr: NodeAddress, opts: OpOptions = {}): Promise<string> {
  return (await serverKind(addr, opts)).kind === 'valkey' ? 'valkey-cli' : 'redis-cli';
}

// ---------------------------------------------------------------------------------
// The command-line tool

export interface ToolRun {
  code: number | null;
  output: string;
  ms: number;
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters
const ANSI = /\x1b\[[0-9;]*m/g;

/** Runs redis-cli / valkey-cli, killing it when the signal fires or time runs out. */
export function runTool(tool: string, args: string[], opts: OpOptions & { timeoutMs?: number } = {}): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortedError(tool, opts.signal));
      return;
    }
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, opts.timeoutMs ?? 60_000);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      reject(
        redisOpError({
          op: tool,
          reason: 'TOOL_FAILED',
          detail: `cannot run ${tool}: ${err.message}`,
          action: `install ${tool} (agent/engines/redis/install-debian.sh)`,
          cause: err,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      if (opts.signal?.aborted) {
        reject(abortedError(tool, opts.signal));
        return;
      }
      resolve({ code, output: output.replace(ANSI, ''), ms: Date.now() - started });
    });
  });
}

/**
 * `redis-cli --cluster check` (or valkey-cli for a Valkey node). ok means exit code 0
 * and no [ERR]/[WARNING] line: every slot covered, all nodes agree, no open slots.
 */
export async function clusterCheck(addr: NodeAddress, opts: OpOptions = {}): Promise<CheckResult> {
  const tool = await cliFor(addr, opts);
  const run = await runTool(tool, ['--cluster', 'check', formatAddr(addr)], { signal: opts.signal, timeoutMs: 30_000 });
  const ok = run.code === 0 && !/\[(ERR|WARNING)\]/.test(run.output) && /All 16384 slots covered/.test(run.output);
  return { ok, output: run.output, tool };
}

// ---------------------------------------------------------------------------------
// The operations

export class RedisClusterOps {
  private readonly members = new Map<string, NodeAddress>();
  private readonly log: OpsLogger;
  private readonly agreementTimeoutMs: number | undefined;
  private readonly pollMs: number | undefined;
  private readonly slotWindow: number;
  private readonly keysPerMigrate: number;
  private readonly setslotConnections: number;

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
        if (announce) await this.pushNews(op, o, lastPush, opts.signal);
      },
      ...waitOpts,
      op,
    });
    this.remember(obs.topology);
    return obs;
  }

  // --- formCluster -----------------------------------------------------------------

  /**
   * Makes the given empty nodes one cluster of primaries owning all 16384 slots, split
   * evenly in the order of their addresses. Works for any number of primaries (unlike
   * `--cluster create`, trap 4). Refuses nodes that hold keys or know nodes that are
   * not among `primaries` (another cluster). A partial formation (crash, abort) is
   * completed; a formed cluster is left alone.
   */
  async formCluster(primaries: NodeAddress[], opts: OpOptions = {}): Promise<OpResult> {
    const op = 'formCluster';
    const started = Date.now();
    const signal = opts.signal;
    if (primaries.length === 0) {
      throw redisOpError({ op, reason: 'BAD_ARGUMENT', detail: 'no primaries given', action: 'pass at least one node address' });
    }
    const sorted = [...new Map(primaries.map((a) => [formatAddr(a), a])).values()].sort((a, b) =>
      formatAddr(a) < formatAddr(b) ? -1 : 1,
    );
    for (const a of sorted) this.members.set(formatAddr(a), a);

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
      const obs = first.agreed ? first : await this.agree(op, { signal });
      this.remember(obs.topology);
      this.log.info({ op }, 'cluster already formed');
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
    this.log.info({ op, primaries: sorted.map(formatAddr) }, 'slots assigned and nodes met; waiting for agreement');
    const obs = await this.agree(op, {
      signal,
      until: (o) => (o.unassignedSlots === 0 ? [] : [`${o.unassignedSlots} slots are not assigned yet`]),
    });
    return { changed: true, topology: obs.topology, ms: Date.now() - started };
  }

  // --- joining -----------------------------------------------------------------------

  /**
   * Makes `node` a replica of `primaryId`: MEET, wait until it knows the primary,
   * CLUSTER REPLICATE, then wait until its replication link is up and in sync and all
   * nodes agree. Refuses a node with keys or slots, or one of another cluster.
   */
  async addReplica(node: NodeAddress, primaryId: string, opts: OpOptions = {}): Promise<JoinResult> {
    const op = 'addReplica';
    const started = Date.now();
    const signal = opts.signal;
    // No wait for agreement first: the primary's own claim decides (other nodes may be
    // joining at the same time); the wait comes after, for the result.
    const [before, first] = await Promise.all([this.observe({ signal }), nodeFacts(node, op, signal)]);
    const primary = findNode(before.topology, primaryId);
    if (!primary) throw this.unknownNode(op, primaryId, before.topology);
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
      const obs = await this.waitReplicaReady(op, node, id, primaryId, signal);
      return { changed: false, nodeId: id, topology: obs.topology, ms: Date.now() - started };
    }
    if (current && current.role === 'primary' && current.slotCount > 0) {
      throw redisOpError({
        op,
        reason: 'NOT_EMPTY',
        nodeId: id,
        addr: formatAddr(node),
        detail: `it is a primary owning ${current.slotCount} slots`,
        action: 'drain it first (drainPrimary), then make it a replica',
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
    if (!current) ({ facts, topo } = await this.admit(op, node, facts, topo, new Set(), signal));
    await this.meetMembers(op, node, facts, topo, signal);
    this.members.set(formatAddr(node), node);

    // REPLICATE needs the node to know the primary as a primary; after MEET that takes a tick.
    await this.waitNodeKnows(op, node, id, primaryId, signal);
    await withNode(node, (c) => command(c, 'CLUSTER', 'REPLICATE', primaryId), { signal, op, nodeId: id });
    this.log.info({ op, nodeId: id, primaryId, ms: Date.now() - started }, 'replicating; waiting for sync and agreement');
    const obs = await this.waitReplicaReady(op, node, id, primaryId, signal);
    this.log.info({ op, nodeId: id, primaryId, ms: Date.now() - started }, 'replica joined');
    return { changed: true, nodeId: id, topology: obs.topology, ms: Date.now() - started };
  }

  /** Adds an empty node as a primary without slots (MEET, wait for agreement). */
  async addEmptyPrimary(node: NodeAddress, opts: OpOptions = {}): Promise<JoinResult> {
    return this.joinPrimary(node, { signal: opts.signal });
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
  async joinPrimary(node: NodeAddress, opts: JoinPrimaryOptions = {}): Promise<JoinPrimaryResult> {
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
    const seeds = this.requireSeeds(op).filter((a) => formatAddr(a) !== formatAddr(node));
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
      ({ facts, topo } = await this.admit(op, node, facts, topo, new Set(wanted), signal));
      current = findNode(topo, id);
    }
    const owners = slotOwners(topo);
    const taken = [...new Set([...wanted, ...mine])].filter((s) => owners[s] !== null && owners[s] !== undefined && owners[s] !== id);
    if (taken.length > 0) throw this.slotsOwned(op, id, node, taken, owners, topo);
    phases.observeMs = Date.now() - t;

    // 2. Claim the slots nobody serves yet (before meeting: the first packets carry them).
    t = Date.now();
    const todo = wanted.filter((s) => !mine.has(s) && (owners[s] === null || owners[s] === undefined));
    if (todo.length > 0) {
      const args = slotsToRanges(todo).flatMap((r) => [r.start, r.end]);
      await withNode(node, (c) => command(c, 'CLUSTER', 'ADDSLOTSRANGE', ...args), { signal, op, nodeId: id });
      this.log.info({ op, nodeId: id, slots: rangesText(slotsToRanges(todo)) }, 'slots claimed');
    }
    phases.claimMs = Date.now() - t;

    // 3. Meet every member the node does not know yet, directly.
    t = Date.now();
    const met = await this.meetMembers(op, node, facts, topo, signal);
    this.members.set(formatAddr(node), node);
    phases.meetMs = Date.now() - t;

    // 4. Wait until everyone agrees on the node with its slots. A primary that serves
    // nothing yet may still report cluster_state:fail (the rejoin delay): what gives it
    // slots later (MoveData) waits for its ok, and a replica can join it meanwhile.
    t = Date.now();
    const servesNothing = wanted.length === 0 && mine.size === 0 && (current === undefined || current.slotCount === 0);
    const after = await this.agree(op, {
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
    this.log.info({ op, nodeId: id, changed, claimed: todo.length, met, ...phases }, changed ? 'primary joined' : 'primary was already a member');
    return { changed, nodeId: id, topology: after.topology, ms: Date.now() - started, claimed: todo.length, phases };
  }

  private slotsOwned(op: string, id: string, node: NodeAddress, taken: number[], owners: (string | null)[], topo: Topology): RedisOpError {
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

  // --- data movement -----------------------------------------------------------------

  /**
   * Moves hash slots with their keys from one primary to another. `slots` lists the
   * slots (idempotent: slots already at `toId` are skipped); `{count}` picks that many
   * of `fromId`'s slots (the result names them; pass them explicitly to repeat the
   * same move). Half-moved slots of an earlier, interrupted move are finished first.
   */
  async moveSlots(fromId: string, toId: string, slots: number[] | { count: number }, opts: MoveOptions = {}): Promise<MoveResult> {
    const op = 'moveSlots';
    const started = Date.now();
    const signal = opts.signal;
    if (fromId === toId) {
      throw redisOpError({ op, reason: 'BAD_ARGUMENT', nodeId: fromId, detail: 'source and target are the same node', action: 'name two different primaries' });
    }
    const phases = noMovePhases();
    let t = Date.now();
    const resumedSlots = await this.resumeOpenSlots(op, opts, phases);
    phases.resumeMs = Date.now() - t;
    t = Date.now();
    // A member that died (flagged fail, no slots) would hold up the agreement until it
    // is started again, which the leader cannot do while this move runs (seen end to
    // end: a killed replica held a scale-in for 5 attempts of 5 tries of 30 s). Slots
    // move between the two primaries; a failed node learns the result when it is back.
    const topo = (await this.agree(op, { signal, ignoreFailed: true })).topology;
    phases.agreeBeforeMs = Date.now() - t;
    const from = this.requirePrimary(op, topo, fromId);
    const to = this.requirePrimary(op, topo, toId);
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
    const keysMoved = await this.migrate(op, topo, from, to, wanted, 'move', opts, phases);
    t = Date.now();
    const obs = await this.agree(op, { signal, ignoreFailed: true });
    phases.agreeAfterMs = Date.now() - t;
    const ms = Date.now() - started;
    this.log.info({ op, fromId, toId, slots: wanted.length, keysMoved, resumedSlots, ms, ...phases }, 'Moved slots');
    return { changed: true, topology: obs.topology, ms, slots: slotsToRanges(wanted), keysMoved, resumedSlots, phases };
  }

  /** Moves slots so that every primary (including empty ones) holds an even share. */
  async rebalance(opts: MoveOptions = {}): Promise<OpResult & { keysMoved: number; moves: PlannedMove[] }> {
    const op = 'rebalance';
    const started = Date.now();
    await this.resumeOpenSlots(op, opts);
    const topo = (await this.agree(op, { signal: opts.signal })).topology;
    const moves = planRebalance(topo);
    let keysMoved = 0;
    let last = topo;
    for (const m of moves) {
      const r = await this.moveSlots(m.fromId, m.toId, m.slots, opts);
      keysMoved += r.keysMoved;
      last = r.topology;
    }
    return { changed: moves.length > 0, topology: last, ms: Date.now() - started, keysMoved, moves };
  }

  /** Moves every slot of primary `id` to the other primaries, evening them out. */
  async drainPrimary(id: string, opts: MoveOptions = {}): Promise<MoveResult> {
    const op = 'drainPrimary';
    const started = Date.now();
    const phases = noMovePhases();
    let t = Date.now();
    const resumedSlots = await this.resumeOpenSlots(op, opts, phases);
    phases.resumeMs = Date.now() - t;
    t = Date.now();
    const topo = (await this.agree(op, { signal: opts.signal, ignoreFailed: true })).topology;
    phases.agreeBeforeMs = Date.now() - t;
    const node = this.requirePrimary(op, topo, id);
    if (node.slotCount === 0) {
      return { changed: resumedSlots > 0, topology: topo, ms: Date.now() - started, slots: [], keysMoved: 0, resumedSlots, phases };
    }
    const moves = planDrain(topo, id);
    if (moves.length === 0) {
      throw redisOpError({
        op,
        reason: 'BAD_ARGUMENT',
        nodeId: id,
        addr: formatAddr(node.addr),
        detail: 'it is the only primary that is up, so its slots have nowhere to go',
        action: 'add a node group first, or keep this one',
      });
    }
    const moved = node.slots;
    let keysMoved = 0;
    let last = topo;
    for (const m of moves) {
      const r = await this.moveSlots(m.fromId, m.toId, m.slots, opts);
      keysMoved += r.keysMoved;
      last = r.topology;
      addMovePhases(phases, r.phases);
    }
    return { changed: true, topology: last, ms: Date.now() - started, slots: moved, keysMoved, resumedSlots, phases };
  }

  // --- failover ----------------------------------------------------------------------

  /**
   * Planned failover: CLUSTER FAILOVER on the replica (never FORCE/TAKEOVER), then wait
   * until it is the primary, its old primary is its replica, and all nodes agree.
   * Refuses a replica that is not in sync. A replica that is already primary: no-op.
   */
  async failover(replicaId: string, opts: OpOptions = {}): Promise<FailoverResult> {
    const op = 'failover';
    const started = Date.now();
    const signal = opts.signal;
    // A planned failover needs the old primary (it pauses its clients and hands over
    // its offset). If it is down, say so now instead of waiting for agreement.
    const quick = (await this.observe({ signal })).topology;
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
    const before = await this.agree(op, { signal, ignoreFailed: true });
    const replica = findNode(before.topology, replicaId);
    if (!replica) throw this.unknownNode(op, replicaId, before.topology);
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
    if (!oldPrimaryId || !oldPrimary) throw this.unknownNode(op, oldPrimaryId ?? '?', before.topology);
    await this.requireInSync(op, replica, oldPrimary, signal);

    await withNode(replica.addr, (c) => command(c, 'CLUSTER', 'FAILOVER'), { signal, op, nodeId: replicaId });
    this.log.info({ op, replicaId, oldPrimaryId }, 'CLUSTER FAILOVER sent; waiting for the promotion');
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
        await this.sleep(op, 20, signal);
      }
    } finally {
      pool.close();
    }
    this.log.info({ op, replicaId, ms: Date.now() - started }, 'promoted; waiting for agreement');
    const obs = await this.agree(op, {
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

  // --- removal -----------------------------------------------------------------------

  /**
   * Takes a node out of the cluster: refuses a node that owns slots (drain it first) or
   * a primary with replicas; otherwise CLUSTER FORGET on every other node (all within
   * the 60 s ban, so gossip cannot bring it back), then CLUSTER RESET HARD on the node.
   * The process keeps running (trap 5): stopping it is the supervisor's job.
   */
  async removeNode(id: string, opts: OpOptions = {}): Promise<RemoveResult> {
    const op = 'removeNode';
    const started = Date.now();
    const signal = opts.signal;
    const obs = await this.observe({ signal });
    const node = findNode(obs.topology, id);
    if (!node) {
      // Already forgotten by the others. If it still answers with that id at an
      // address we know, the reset did not happen yet (crash in between): do it now.
      const leftover = obs.views.find((v) => v.reachable && v.myId === id);
      if (leftover) {
        await this.resetNode(op, leftover.addr, id, signal);
        this.members.delete(formatAddr(leftover.addr));
      }
      const after = await this.agree(op, { signal, ignoreStrangers: true, announce: false });
      return { changed: leftover !== undefined, topology: after.topology, ms: Date.now() - started, reset: leftover !== undefined };
    }
    if (node.slotCount > 0) {
      throw redisOpError({
        op,
        reason: 'NOT_EMPTY',
        nodeId: id,
        addr: formatAddr(node.addr),
        detail: `it owns ${node.slotCount} slots (${rangesText(node.slots)})`,
        action: 'move its data away first with drainPrimary, then remove it',
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
      await this.resetNode(op, node.addr, id, signal);
      reset = true;
    } else {
      this.log.warn({ op, nodeId: id, addr: formatAddr(node.addr) }, 'node unreachable: forgotten by the others, but not reset');
    }
    this.members.delete(formatAddr(node.addr));
    // Other removals may run at the same time (the leader removes a replica of each
    // node group at once): the members remembered above then include nodes that were
    // reset or stopped meanwhile. They are not members any more: they must neither hold
    // up the agreement nor be met back into the cluster. Nothing is announced either: a
    // member that has already forgotten a node another call is removing would be made
    // to MEET it again (it "does not know" it), and the node, stopped next, would stay
    // in the cluster as a failed ghost.
    const after = await this.agree(op, {
      signal,
      ignoreStrangers: true,
      announce: false,
      until: (o) => (isMember(o.topology, id) ? [`node ${shortId(id)} is still known`] : []),
    });
    return { changed: true, topology: after.topology, ms: Date.now() - started, reset };
  }

  /** `redis-cli --cluster check` against a member (or the given address). */
  async clusterCheck(addr?: NodeAddress, opts: OpOptions = {}): Promise<CheckResult> {
    const target = addr ?? this.requireSeeds('clusterCheck')[0];
    if (!target) throw redisOpError({ op: 'clusterCheck', reason: 'BAD_ARGUMENT', detail: 'no address', action: 'pass an address' });
    return clusterCheck(target, opts);
  }

  // ---------------------------------------------------------------------------------
  // internals

  private requireSeeds(op: string): NodeAddress[] {
    const seeds = this.seeds();
    if (seeds.length === 0) {
      throw redisOpError({
        op,
        reason: 'BAD_ARGUMENT',
        detail: 'no cluster member address is known',
        action: 'construct RedisClusterOps with seeds, or call formCluster first',
      });
    }
    return seeds;
  }

  /** Keep the members' addresses (the cluster may have grown or shrunk). */
  private remember(t: Topology): void {
    for (const n of t.nodes) if (n.addr.host && !n.flags.includes('noaddr')) this.members.set(formatAddr(n.addr), n.addr);
  }

  private sleep(op: string, ms: number, signal?: AbortSignal): Promise<void> {
    return delay(ms, undefined, { signal }).catch(() => {
      throw abortedError(op, signal ?? AbortSignal.abort());
    });
  }

  private unknownNode(op: string, id: string, t: Topology): RedisOpError {
    return redisOpError({
      op,
      reason: 'UNKNOWN_NODE',
      nodeId: id,
      detail: `no such node in the cluster (known: ${t.nodes.map((n) => shortId(n.id)).join(', ')})`,
      action: 'use a node id from the current topology (CLUSTER NODES)',
    });
  }

  private requirePrimary(op: string, t: Topology, id: string): TopologyNode {
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

  /**
   * Checks that a node that is not a member yet may join: it knows no node outside the
   * cluster (else it belongs to another cluster) and holds no keys, and no slots other
   * than `allowSlots`. A node it knows that the cluster does not know yet may be one
   * joining at the same time (its handshake with the members still going on): such a
   * node is looked at again for up to a second before the join is refused.
   */
  private async admit(
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
      await this.sleep(op, 50, signal);
      const [obs, again] = await Promise.all([this.observe({ signal }), nodeFacts(node, op, signal)]);
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
  private async meetMembers(op: string, node: NodeAddress, facts: NodeFacts, topo: Topology, signal?: AbortSignal): Promise<number> {
    const id = facts.view.myId;
    const knows = new Set(facts.view.nodes.filter((r) => !r.flags.includes('handshake')).map((r) => r.id));
    const targets = topo.nodes.filter(
      (n) => n.id !== id && !knows.has(n.id) && n.reachable && n.addr.host !== '' && !n.flags.includes('fail') && !n.flags.includes('noaddr'),
    );
    if (targets.length === 0) return 0;
    await this.meetAll(op, node, id, targets.map((n) => ({ addr: n.addr, busPort: n.busPort })), signal);
    this.log.info({ op, nodeId: id, addr: formatAddr(node), met: targets.map((n) => formatAddr(n.addr)) }, 'node met the members');
    return targets.length;
  }

  /**
   * Announces every node that some reachable node sees differently than it sees itself
   * (role, primary, slots) to those nodes; and, where a node files a replica under
   * another shard than its primary (Valkey 8 shard ids), the primary and the replica to
   * everyone, so the replica learns its primary's shard id and spreads it.
   */
  private async pushNews(op: string, obs: ClusterObservation, lastPush: Map<string, number>, signal?: AbortSignal): Promise<void> {
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
        await this.meetAll(op, v.addr, id, targets, signal).catch((err: unknown) => {
          this.log.warn({ op, nodeId: id, err: redisErrorText(err) }, 'could not announce a node (gossip will do it)');
        });
      }),
    );
  }

  private async meetAll(op: string, addr: NodeAddress, id: string, targets: { addr: NodeAddress; busPort: number }[], signal?: AbortSignal): Promise<void> {
    if (targets.length === 0) return;
    const resolved = await Promise.all(targets.map(async (t) => ({ ip: await ipOf(t.addr.host), port: t.addr.port, bus: t.busPort })));
    await withNode(addr, (c) => Promise.all(resolved.map((t) => command(c, 'CLUSTER', 'MEET', t.ip, t.port, t.bus))), {
      signal,
      op,
      nodeId: id,
    });
  }

  private async waitNodeKnows(op: string, addr: NodeAddress, id: string, otherId: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.agreementTimeoutMs ?? 30_000);
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
        await this.sleep(op, 20, signal);
      }
    } finally {
      pool.close();
    }
  }

  /** Waits until the replica's link is up and synced, and all nodes agree on its role. */
  private async waitReplicaReady(op: string, addr: NodeAddress, id: string, primaryId: string, signal?: AbortSignal): Promise<ClusterObservation> {
    const deadline = Date.now() + (this.agreementTimeoutMs ?? 30_000);
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
              detail: `its replication link is ${r.linkUp ? 'up but still syncing' : 'down'} after ${((this.agreementTimeoutMs ?? 30_000) / 1000).toFixed(0)} s`,
              action: 'check the replica and primary logs (full sync of a large data set takes longer), then retry',
            });
          }
          await this.sleep(op, 25, signal);
        }
      } finally {
        pool.close();
      }
    })();
    // A member that died meanwhile (flagged fail by the others) would hold up the
    // agreement until it is started again, which the leader cannot do while this join
    // runs: it is left out; the replica's own link and role are what this waits for.
    const agreed = this.agree(op, {
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

  private async requireInSync(op: string, replica: TopologyNode, primary: TopologyNode, signal?: AbortSignal): Promise<void> {
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

  private async resetNode(op: string, addr: NodeAddress, id: string, signal?: AbortSignal): Promise<void> {
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
    this.log.info({ op, nodeId: id, addr: formatAddr(addr) }, 'node reset');
  }

  // --- slot migration ----------------------------------------------------------------

  /**
   * True when CLUSTER SETSLOT on this primary waits for its replicas: Valkey 8 and later
   * replicate it and wait for every replica's acknowledgement first (see `migrate`);
   * Redis 7.0 does not. A primary without replicas has nothing to wait for.
   */
  private async setslotWaitsForReplicas(topo: Topology, node: TopologyNode, pool: NodePool): Promise<boolean> {
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
  private async resumeOpenSlots(op: string, opts: MoveOptions, phases: MovePhases = noMovePhases()): Promise<number> {
    const signal = opts.signal;
    // No agreement wait here: an interrupted move may leave the nodes disagreeing about
    // a slot until the move is finished. Markers and ownership are taken from each
    // node's own view, which is exact, and every step below is idempotent.
    const t = (await this.observe({ signal })).topology;
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
      this.log.warn({ op, nodeId: s.node.id, slot: s.slot }, 'clearing a stale migrating/importing marker');
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
      this.log.info({ op, fromId, toId, slots: rangesText(slotsToRanges(slots)) }, 'finishing half-moved slots');
      await this.migrate(op, t, from, to, slots.sort((x, y) => x - y), 'resume', opts, phases);
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
  private async migrate(
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
    const lanes = [pool, ...Array.from({ length: this.setslotConnections - 1 }, () => new NodePool(poolOpts))];
    const toOwns = new Set(rangesToSlots(to.slots));
    const fromOwns = new Set(rangesToSlots(from.slots));
    const toIp = await ipOf(to.addr.host);
    let keysMoved = 0;
    let done = 0;
    const report = (): void =>
      opts.onProgress?.({ fromId: from.id, toId: to.id, slotsDone: done, slotsTotal: slots.length, keysMoved, phase });
    try {
      const [fromLanes, toLanes] = await Promise.all(
        [from, to].map(async (n) => ((await this.setslotWaitsForReplicas(topo, n, pool)) ? lanes.length : 1)),
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
      for (let i = 0; i < slots.length; i += this.slotWindow) {
        throwIfAborted(signal, op);
        const win = slots.slice(i, i + this.slotWindow);
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
            (c) => Promise.all(pending.map((s) => commandBuffer<Buffer[]>(c, 'CLUSTER', 'GETKEYSINSLOT', s, this.keysPerMigrate))),
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

