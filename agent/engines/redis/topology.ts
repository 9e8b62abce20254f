// The cluster topology as the nodes report it, and whether they agree on it.
//
// Trap 1 of docs/redis-cluster.md: `cluster_state:ok` does not mean the nodes agree — for
// seconds after a change some still see replicas as slotless primaries. So a step is
// only taken on a topology every node reports identically: the same node ids with the
// same roles, primaries and slot ranges, nothing in handshake/fail/pfail, every link
// up, no slot half-migrated, and `cluster_state:ok` everywhere once all slots are
// assigned. Nodes are addressed by id; addresses are only how we reach them.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { abortedError, describeNode, redisOpError, shortId, throwIfAborted } from './errors.ts';
import type { RedisOpError } from './errors.ts';
import { NodePool, command, formatAddr, toOpError } from './redis-connection.ts';
import type { NodeAddress } from './redis-connection.ts';
import { normalRanges, rangesText, SLOT_COUNT, type SlotRange, slotsIn } from '../../../common/slot-ranges.ts';

export type NodeFlag = 'myself' | 'master' | 'slave' | 'pfail' | 'fail' | 'handshake' | 'noaddr' | 'nofailover' | 'noflags';

/** A slot in the middle of a move, as the node reporting it sees it (only for itself). */
export interface SlotMarker {
  slot: number;
  /** The node the slot is migrating to (on the source) or importing from (on the target). */
  peerId: string;
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeRecord {
  id: string;
  /** Empty when the node does not know its own address yet (a fresh node). */
  host: string;
  port: number;
  busPort: number;
  /** Announced hostname (Redis ≥ 7), when set. */
  hostname: string | undefined;
  flags: NodeFlag[];
  myself: boolean;
  role: 'primary' | 'replica';
  /** The primary's id for a replica, else null. */
  primaryId: string | null;
  pingSentMs: number;
  pongReceivedMs: number;
  configEpoch: number;
  linkState: 'connected' | 'disconnected';
  slots: SlotRange[];
  migrating: SlotMarker[];
  importing: SlotMarker[];
}

export interface ClusterInfo {
  state: 'ok' | 'fail';
  slotsAssigned: number;
  knownNodes: number;
  currentEpoch: number;
  /** Every field of CLUSTER INFO as text. */
  fields: Record<string, string>;
}

/** What one node reported, or why it could not be asked. */
export type NodeView =
  | {
      addr: NodeAddress;
      reachable: true;
      myId: string;
      nodes: ClusterNodeRecord[];
      info: ClusterInfo;
      /** Node ids grouped by shard as CLUSTER SHARDS reports them (Valkey 8 keeps a
       * shard id per node, and a replica it files under another shard than its primary
       * is not failed over to). Undefined when the server has no CLUSTER SHARDS. */
      shards?: string[][] | undefined;
    }
  | { addr: NodeAddress; reachable: false; error: RedisOpError };

/** A node as the operations use it: its own claims where it could be asked. */
export interface TopologyNode {
  id: string;
  addr: NodeAddress;
  busPort: number;
  role: 'primary' | 'replica';
  primaryId: string | null;
  slots: SlotRange[];
  slotCount: number;
  flags: NodeFlag[];
  configEpoch: number;
  /** Open slot moves, from the node's own view (empty when it was not reachable). */
  migrating: SlotMarker[];
  importing: SlotMarker[];
  /** Whether this node answered when the topology was observed. */
  reachable: boolean;
}

export interface Topology {
  nodes: TopologyNode[];
}

export interface ClusterObservation {
  views: NodeView[];
  agreed: boolean;
  /** Human-readable reasons why the nodes do not agree; empty when agreed. */
  disagreements: string[];
  /** The topology; when not agreed, merged from each node's claims about itself. */
  topology: Topology;
  /** Slots no node claims (0 for a complete cluster). */
  unassignedSlots: number;
}

// ---------------------------------------------------------------------------------
// Parsing

const FLAG_NAMES: Record<string, NodeFlag> = {
  myself: 'myself',
  master: 'master',
  slave: 'slave',
  'fail?': 'pfail',
  fail: 'fail',
  handshake: 'handshake',
  noaddr: 'noaddr',
  nofailover: 'nofailover',
  noflags: 'noflags',
};

function parseError(line: string, why: string): RedisOpError {
  return redisOpError({
    op: 'parseClusterNodes',
    reason: 'COMMAND_FAILED',
    detail: `cannot parse CLUSTER NODES line "${line}": ${why}`,
    action: 'report this line; the server speaks a format this version of Coxswain does not know',
  });
}

function toInt(text: string | undefined, line: string, what: string): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(n)) throw parseError(line, `bad ${what} "${text ?? ''}"`);
  return n;
}

/** Parses the text of `CLUSTER NODES` (Redis 7.0 and Valkey 8.0 write the same format). */
export function parseClusterNodes(text: string): ClusterNodeRecord[] {
  const records: ClusterNodeRecord[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const f = line.split(' ');
    if (f.length < 8) throw parseError(line, `expected at least 8 fields, got ${f.length}`);
    const [id, address, flagText, primary, pingSent, pongRecv, epoch, link] = f as [
      string, string, string, string, string, string, string, string,
    ];
    if (!/^[0-9a-f]{40}$/.test(id)) throw parseError(line, `bad node id "${id}"`);

    // ip:port@cport[,hostname[,aux…]] — the ip may be empty (fresh node) or IPv6.
    const at = address.indexOf('@');
    if (at < 0) throw parseError(line, `bad address "${address}"`);
    const hostPort = address.slice(0, at);
    const [cportText, hostname] = address.slice(at + 1).split(',');
    const colon = hostPort.lastIndexOf(':');
    if (colon < 0) throw parseError(line, `bad address "${address}"`);
    const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');

    const flags: NodeFlag[] = [];
    for (const name of flagText.split(',')) {
      const flag = FLAG_NAMES[name];
      if (flag) flags.push(flag);
      // Unknown flags of newer servers are ignored on purpose (forward compatible).
    }
    if (link !== 'connected' && link !== 'disconnected') throw parseError(line, `bad link state "${link}"`);

    const slots: SlotRange[] = [];
    const migrating: SlotMarker[] = [];
    const importing: SlotMarker[] = [];
    for (const s of f.slice(8)) {
      const marker = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(s);
      if (marker) {
        const m = { slot: toInt(marker[1], line, 'slot'), peerId: marker[3] ?? '' };
        (marker[2] === '>' ? migrating : importing).push(m);
        continue;
      }
      const range = /^(\d+)(?:-(\d+))?$/.exec(s);
      if (!range) throw parseError(line, `bad slot "${s}"`);
      const start = toInt(range[1], line, 'slot');
      const end = range[2] === undefined ? start : toInt(range[2], line, 'slot');
      if (start > end || end >= SLOT_COUNT) throw parseError(line, `bad slot range "${s}"`);
      slots.push({ start, end });
    }

    records.push({
      id,
      host,
      port: toInt(hostPort.slice(colon + 1), line, 'port'),
      busPort: toInt(cportText, line, 'bus port'),
      hostname: hostname ? hostname : undefined,
      flags,
      myself: flags.includes('myself'),
      role: flags.includes('slave') ? 'replica' : 'primary',
      primaryId: primary === '-' ? null : primary,
      pingSentMs: toInt(pingSent, line, 'ping-sent'),
      pongReceivedMs: toInt(pongRecv, line, 'pong-recv'),
      configEpoch: toInt(epoch, line, 'config epoch'),
      linkState: link,
      slots: normalRanges(slots),
      migrating,
      importing,
    });
  }
  return records;
}

/** Parses `CLUSTER INFO`. */
export function parseClusterInfo(text: string): ClusterInfo {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return {
    state: fields['cluster_state'] === 'ok' ? 'ok' : 'fail',
    slotsAssigned: Number(fields['cluster_slots_assigned'] ?? 0),
    knownNodes: Number(fields['cluster_known_nodes'] ?? 0),
    currentEpoch: Number(fields['cluster_current_epoch'] ?? 0),
    fields,
  };
}

/** Parses an `INFO` section into key → value. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return fields;
}

// ---------------------------------------------------------------------------------
// Digest

/**
 * A short digest of one node's normalised view of the cluster (its CLUSTER NODES): one
 * line per known node, sorted by id — the id, "primary" or "replica", the primary's id
 * ("-" for a primary), the slot ranges, and "fail" when the node is flagged failed.
 * Handshake entries (temporary ids), addresses, link state, epochs, ping/pong times,
 * slot-move markers and the pfail flag are left out: they change without the topology
 * changing (pfail is one node's passing suspicion; fail is the cluster's verdict, which
 * every node learns). Nodes with equal digests agree on membership, roles, primaries,
 * slot ownership and failed nodes. 16 hex digits of SHA-256.
 */
export function topologyDigest(records: readonly ClusterNodeRecord[]): string {
  const lines = records
    .filter((r) => !r.flags.includes('handshake'))
    .map((r) => `${r.id} ${r.role} ${r.primaryId ?? '-'} ${rangesText(r.slots)}${r.flags.includes('fail') ? ' fail' : ''}`)
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/**
 * The engine ids of the members this node (the one whose CLUSTER NODES `records` is)
 * flags `fail` or `fail?` (pfail) and that serve no slot, sorted: what is left of a
 * removed node or of a lost VM that gossip kept in the tables, which every member must
 * forget. Not the node itself, and not handshake entries (temporary ids).
 *
 * pfail counts too: a ghost that only a minority of members still knows (one that missed
 * the removal's FORGET while it was down) never becomes `fail`, since that takes failure
 * reports from most primaries and the others do not know it; it would stay `fail?` in
 * that member's table for good, and its digest would never agree with the others'
 * (a crash test run waited 180 s on that). A live member flagged pfail for a moment is
 * one of the cluster's own nodes, which the leader never takes for a stranger
 * (operator/model/observed.ts strangers: ids no observed node carries, and only while
 * no node is hidden, operator/planner/strangers.ts).
 */
export function failedMembers(records: readonly ClusterNodeRecord[]): string[] {
  return records
    .filter((r) => !r.myself && !r.flags.includes('handshake') && (r.flags.includes('fail') || r.flags.includes('pfail')) && r.slots.length === 0)
    .map((r) => r.id)
    .sort();
}

// ---------------------------------------------------------------------------------
// Slot ranges

// ---------------------------------------------------------------------------------
// Topology helpers

export function findNode(topology: Topology, id: string): TopologyNode | undefined {
  return topology.nodes.find((n) => n.id === id);
}

export function primariesOf(topology: Topology): TopologyNode[] {
  return topology.nodes.filter((n) => n.role === 'primary');
}

export function replicasOf(topology: Topology, primaryId: string): TopologyNode[] {
  return topology.nodes.filter((n) => n.role === 'replica' && n.primaryId === primaryId);
}

/** For each slot the id of the primary that claims it, or null. */
export function slotOwners(topology: Topology): (string | null)[] {
  const owners: (string | null)[] = new Array<string | null>(SLOT_COUNT).fill(null);
  for (const n of topology.nodes) {
    if (n.role !== 'primary') continue;
    for (const r of n.slots) for (let s = r.start; s <= r.end; s++) owners[s] = n.id;
  }
  return owners;
}

// ---------------------------------------------------------------------------------
// Agreement (pure)

function describeRecord(r: ClusterNodeRecord): string {
  return r.role === 'replica'
    ? `replica of ${shortId(r.primaryId ?? '?')}`
    : `primary with ${rangesText(r.slots)}`;
}

function signature(r: ClusterNodeRecord): string {
  return `${r.role} ${r.primaryId ?? '-'} ${rangesText(r.slots)}`;
}

const MAX_LISTED = 25;

/**
 * Whether the reachable views agree, and why not. Pure: the unit tests feed it views
 * built from recorded CLUSTER NODES text.
 */
export interface JudgeOptions {
  /** Do not count open (migrating/importing) slots as disagreement: used by the move
   * operations, which resume exactly those. */
  allowOpenSlots?: boolean | undefined;
  /**
   * Nodes whose `cluster_state:fail` is not a disagreement although all slots are
   * assigned: a primary without slots that has just joined reports fail for up to
   * cluster-node-timeout (Redis's rejoin delay) and serves nothing meanwhile; the next
   * step that gives it slots waits for its ok itself.
   */
  stateNotRequiredOf?: ReadonlySet<string> | undefined;
  /**
   * Leave out nodes that are not members (withoutStrangers): a seed address may have
   * left the cluster meanwhile, e.g. a replica another RemoveNode call took out at the
   * same time. Used by the removals.
   */
  ignoreStrangers?: boolean | undefined;
  /**
   * Leave out members that are down and that every node that knows them flags `fail`
   * (withoutFailed): the cluster has given up on them, and waiting for them to agree
   * cannot end until something starts them again. Used by a replica's join, whose
   * result does not depend on them.
   */
  ignoreFailed?: boolean | undefined;
}

/**
 * The views without the members that are down for good as far as the cluster knows: a
 * node that answers nobody (no reachable view has its id), that every reachable view
 * that lists it flags `fail`, and that serves no slot (a replica, or a primary whose
 * slots its replica took over). Its unreachable address is dropped, and so are the other
 * views' lines about it, so neither holds up agreement.
 */
export function withoutFailed(views: NodeView[]): NodeView[] {
  const reachable = views.filter((v): v is Extract<NodeView, { reachable: true }> => v.reachable);
  const answering = new Set(reachable.map((v) => v.myId));
  const verdicts = new Map<string, boolean>(); // id → flagged fail, and serving no slot, in every view that lists it
  const addrOf = new Map<string, string>();
  for (const v of reachable) {
    for (const r of v.nodes) {
      if (r.myself || r.flags.includes('handshake')) continue;
      verdicts.set(r.id, (verdicts.get(r.id) ?? true) && r.flags.includes('fail') && r.slots.length === 0);
      if (r.host) addrOf.set(r.id, formatAddr({ host: r.host, port: r.port }));
    }
  }
  const failed = new Set([...verdicts].filter(([id, fail]) => fail && !answering.has(id)).map(([id]) => id));
  if (failed.size === 0) return views;
  const failedAddrs = new Set([...failed].flatMap((id) => addrOf.get(id) ?? []));
  return views.flatMap((v): NodeView[] => {
    if (!v.reachable) return failedAddrs.has(formatAddr(v.addr)) ? [] : [v];
    return [{ ...v, nodes: v.nodes.filter((r) => r.myself || !failed.has(r.id)) }];
  });
}

/**
 * The views without the nodes that are not members of the cluster the others form:
 * - a reachable node that knows no node but itself, serves no slot, and that no other
 *   reachable node knows by its id (one just reset by a removal, or a fresh one);
 * - an unreachable address that no reachable node lists (one removed, then stopped).
 * Only while some reachable node knows others: views of lone nodes alone (a cluster
 * being formed) are left as they are. Such strangers must neither hold up agreement
 * nor be announced to the members (pushNews would MEET a removed node back in).
 */
export function withoutStrangers(views: NodeView[]): NodeView[] {
  const reachable = views.filter((v): v is Extract<NodeView, { reachable: true }> => v.reachable);
  if (!reachable.some((v) => v.nodes.length > 1)) return views;
  const knownIds = new Set<string>();
  const listed = new Set<string>();
  for (const v of reachable) {
    for (const r of v.nodes) {
      if (r.myself) continue;
      if (!r.flags.includes('handshake')) knownIds.add(r.id);
      if (r.host) listed.add(formatAddr({ host: r.host, port: r.port }));
    }
  }
  return views.filter((v) => {
    if (!v.reachable) return listed.has(formatAddr(v.addr));
    const self = v.nodes.find((r) => r.myself);
    const lone = v.nodes.length === 1 && (self?.slots.length ?? 0) === 0;
    return !lone || knownIds.has(v.myId);
  });
}

export function judgeAgreement(views: NodeView[], opts: JudgeOptions = {}): Omit<ClusterObservation, 'views'> {
  const problems: string[] = [];
  const reachable = views.filter((v): v is Extract<NodeView, { reachable: true }> => v.reachable);
  const who = (v: { addr: NodeAddress }, id?: string): string => describeNode(id, formatAddr(v.addr));

  for (const v of views) if (!v.reachable) problems.push(`${who(v)} is unreachable: ${v.error.redis.detail}`);
  if (reachable.length === 0) problems.push('no node could be asked');

  // The ids each view knows, with what it says about them.
  const known = new Map<string, Map<string, ClusterNodeRecord>>(); // view myId → (id → record)
  for (const v of reachable) known.set(v.myId, new Map(v.nodes.map((r) => [r.id, r])));
  const allIds = new Set<string>();
  for (const v of reachable) for (const r of v.nodes) allIds.add(r.id);
  const idAddr = new Map<string, string>();
  for (const v of reachable) for (const r of v.nodes) if (r.host) idAddr.set(r.id, `${r.host}:${r.port}`);

  // Two addresses answering with the same id would be a misconfiguration.
  const seenMyIds = new Map<string, string>();
  for (const v of reachable) {
    const prev = seenMyIds.get(v.myId);
    if (prev) problems.push(`${prev} and ${formatAddr(v.addr)} both claim node id ${shortId(v.myId)}`);
    seenMyIds.set(v.myId, formatAddr(v.addr));
  }

  for (const v of reachable) {
    const me = who(v, v.myId);
    for (const r of v.nodes) {
      if (r.myself) continue;
      const other = describeNode(r.id, idAddr.get(r.id));
      for (const flag of ['handshake', 'fail', 'pfail', 'noaddr'] as const) {
        if (r.flags.includes(flag)) problems.push(`${me} sees ${other} in state ${flag === 'pfail' ? 'fail? (pfail)' : flag}`);
      }
      if (r.linkState !== 'connected' && !r.flags.includes('handshake')) {
        problems.push(`${me} has no link to ${other}`);
      }
    }
    const self = v.nodes.find((r) => r.myself);
    if (!self || self.id !== v.myId) problems.push(`${me} does not list itself in CLUSTER NODES`);
    // A node that never met another one does not know its own ip, and CLUSTER SLOTS
    // then gives clients an empty endpoint (ioredis drops such a node).
    else if (!self.host) problems.push(`${me} does not know its own address yet`);
    if (v.shards) {
      const shardOf = new Map<string, number>();
      v.shards.forEach((ids, i) => ids.forEach((id) => shardOf.set(id, i)));
      for (const r of v.nodes) {
        if (r.role !== 'replica' || r.primaryId === null || r.flags.includes('handshake')) continue;
        const a = shardOf.get(r.id);
        const b = shardOf.get(r.primaryId);
        if (a !== undefined && b !== undefined && a !== b) {
          problems.push(`${me} files replica ${describeNode(r.id, idAddr.get(r.id))} under another shard than its primary ${shortId(r.primaryId)}`);
        }
      }
    }
    if (opts.allowOpenSlots === true) continue;
    for (const m of self?.migrating ?? []) problems.push(`${me} has slot ${m.slot} migrating to ${shortId(m.peerId)}`);
    for (const m of self?.importing ?? []) problems.push(`${me} has slot ${m.slot} importing from ${shortId(m.peerId)}`);
  }

  // Same ids, roles, primaries and slots everywhere (ignoring handshake entries, which
  // have made-up ids and were reported above).
  for (const id of allIds) {
    const claims = new Map<string, string[]>(); // signature → views
    const missing: string[] = [];
    for (const v of reachable) {
      const r = known.get(v.myId)?.get(id);
      if (r?.flags.includes('handshake')) continue;
      if (!r) {
        missing.push(who(v, v.myId));
        continue;
      }
      const sig = signature(r);
      const list = claims.get(sig) ?? [];
      list.push(`${who(v, v.myId)} sees it as ${describeRecord(r)}`);
      claims.set(sig, list);
    }
    const other = describeNode(id, idAddr.get(id));
    if (claims.size === 0) continue; // only ever seen in handshake
    if (missing.length > 0) problems.push(`${other} is not known to ${missing.join(', ')}`);
    if (claims.size > 1) problems.push(`views of ${other} differ: ${[...claims.values()].map((l) => l.join('; ')).join(' | ')}`);
  }

  const topology = mergeTopology(views);
  const owners = slotOwners(topology);
  const unassignedSlots = owners.filter((o) => o === null).length;
  if (unassignedSlots === 0) {
    for (const v of reachable) {
      if (v.info.state !== 'ok' && opts.stateNotRequiredOf?.has(v.myId) !== true) problems.push(`${who(v, v.myId)} reports cluster_state:${v.info.state} although all ${SLOT_COUNT} slots are assigned`);
    }
  }

  const disagreements =
    problems.length > MAX_LISTED ? [...problems.slice(0, MAX_LISTED), `… and ${problems.length - MAX_LISTED} more`] : problems;
  return { agreed: problems.length === 0, disagreements, topology, unassignedSlots };
}

/**
 * One topology from all views: each node as it describes itself when it answered,
 * otherwise as the first view that knows it describes it. Handshake entries are left
 * out (their ids are temporary).
 */
export function mergeTopology(views: NodeView[]): Topology {
  const own = new Map<string, { rec: ClusterNodeRecord; addr: NodeAddress }>();
  const others = new Map<string, ClusterNodeRecord>();
  for (const v of views) {
    if (!v.reachable) continue;
    for (const r of v.nodes) {
      if (r.flags.includes('handshake')) continue;
      if (r.myself) own.set(r.id, { rec: r, addr: v.addr });
      else if (!others.has(r.id)) others.set(r.id, r);
    }
  }
  const nodes: TopologyNode[] = [];
  const ids = new Set([...own.keys(), ...others.keys()]);
  for (const id of ids) {
    const mine = own.get(id);
    const rec = mine?.rec ?? others.get(id);
    if (!rec) continue;
    // A fresh node does not know its own ip: the address we reached it at is better.
    const seen = others.get(id);
    const addr: NodeAddress = mine
      ? { host: rec.host || seen?.host || mine.addr.host, port: rec.port }
      : { host: rec.host, port: rec.port };
    nodes.push({
      id,
      addr,
      busPort: rec.busPort,
      role: rec.role,
      primaryId: rec.primaryId,
      slots: rec.slots,
      slotCount: slotsIn(rec.slots),
      flags: rec.flags.filter((f) => f !== 'myself'),
      configEpoch: rec.configEpoch,
      migrating: mine ? rec.migrating : [],
      importing: mine ? rec.importing : [],
      reachable: mine !== undefined,
    });
  }
  nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { nodes };
}

// ---------------------------------------------------------------------------------
// Observation (I/O)

export interface ObserveOptions extends JudgeOptions {
  signal?: AbortSignal | undefined;
  /** Also ask every node the answering nodes know about (default true). */
  discover?: boolean | undefined;
  /** Reuse connections across calls (polling); else connections are closed after. */
  pool?: NodePool | undefined;
}

/** Asks one node for CLUSTER NODES and CLUSTER INFO. */
export async function viewOf(client: Redis, addr: NodeAddress): Promise<NodeView> {
  const [nodesText, infoText, shardsReply] = await Promise.all([
    command<string>(client, 'CLUSTER', 'NODES'),
    command<string>(client, 'CLUSTER', 'INFO'),
    command<unknown>(client, 'CLUSTER', 'SHARDS').catch(() => undefined),
  ]);
  const nodes = parseClusterNodes(nodesText);
  const self = nodes.find((r) => r.myself);
  return {
    addr,
    reachable: true,
    myId: self?.id ?? '',
    nodes,
    info: parseClusterInfo(infoText),
    shards: shardsReply === undefined ? undefined : parseClusterShards(shardsReply),
  };
}

/** Value of `key` in a flat [key, value, key, value …] reply. */
function field(flat: unknown, key: string): unknown {
  if (!Array.isArray(flat)) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === key) return flat[i + 1];
  return undefined;
}

/** The node ids of each shard in a CLUSTER SHARDS reply (RESP2 nested arrays). */
export function parseClusterShards(reply: unknown): string[][] {
  if (!Array.isArray(reply)) return [];
  return reply.map((shard) => {
    const nodes = field(shard, 'nodes');
    if (!Array.isArray(nodes)) return [];
    return nodes.map((n) => field(n, 'id')).filter((id): id is string => typeof id === 'string');
  });
}

/**
 * Each node's view of the cluster and whether they agree. `addrs` are seeds: with
 * `discover` (the default) every node they know is asked too, so a node that missed a
 * change cannot hide. Unreachable nodes count as disagreement.
 */
export async function observeCluster(addrs: NodeAddress[], opts: ObserveOptions = {}): Promise<ClusterObservation> {
  throwIfAborted(opts.signal, 'observeCluster');
  const pool = opts.pool ?? new NodePool({ signal: opts.signal, op: 'observeCluster' });
  try {
    const views = new Map<string, NodeView>();
    let todo = dedupe(addrs);
    while (todo.length > 0) {
      const got = await Promise.all(
        todo.map(async (addr): Promise<NodeView> => {
          try {
            return await pool.run(addr, (c) => viewOf(c, addr));
          } catch (err) {
            if (opts.signal?.aborted) throw abortedError('observeCluster', opts.signal);
            return { addr, reachable: false, error: toOpError(err, 'observeCluster', addr) };
          }
        }),
      );
      for (const v of got) views.set(formatAddr(v.addr), v);
      if (opts.discover === false) break;
      const next: NodeAddress[] = [];
      for (const v of got) {
        if (!v.reachable) continue;
        for (const r of v.nodes) {
          if (r.myself || !r.host || r.flags.includes('handshake') || r.flags.includes('noaddr')) continue;
          const a = { host: r.host, port: r.port };
          if (!views.has(formatAddr(a)) && !next.some((n) => formatAddr(n) === formatAddr(a))) next.push(a);
        }
      }
      todo = next;
    }
    let all = opts.ignoreStrangers === true ? withoutStrangers([...views.values()]) : [...views.values()];
    if (opts.ignoreFailed === true) all = withoutFailed(all);
    return { views: all, ...judgeAgreement(all, opts) };
  } finally {
    if (!opts.pool) pool.close();
  }
}

function dedupe(addrs: NodeAddress[]): NodeAddress[] {
  const seen = new Map<string, NodeAddress>();
  for (const a of addrs) seen.set(formatAddr(a), a);
  return [...seen.values()];
}

export interface WaitOptions extends JudgeOptions {
  signal?: AbortSignal | undefined;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number | undefined;
  /** Time between two observations (default 50 ms: waiting dominates these steps). */
  pollMs?: number | undefined;
  discover?: boolean | undefined;
  /** Extra conditions on an agreed observation; returns what is still missing. */
  until?: ((obs: ClusterObservation) => string[]) | undefined;
  /** Name of the calling operation, for messages. */
  op?: string | undefined;
  /** Called with every observation that is not yet what was waited for (e.g. to push
   * a node's news to the others instead of waiting for gossip). */
  onPoll?: ((obs: ClusterObservation) => Promise<void>) | undefined;
}

export const DEFAULT_AGREEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_POLL_MS = 50;

/**
 * Polls until every node agrees (and `until` has nothing left), returning the agreed
 * observation. Throws NOT_AGREED (transient) with the last disagreements on time-out.
 */
export async function waitForAgreementObservation(addrs: NodeAddress[], opts: WaitOptions = {}): Promise<ClusterObservation> {
  const op = opts.op ?? 'waitForAgreement';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_AGREEMENT_TIMEOUT_MS;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const deadline = Date.now() + timeoutMs;
  const pool = new NodePool({ signal: opts.signal, op, connectTimeoutMs: 500, commandTimeoutMs: 2_000 });
  let last: string[];
  try {
    for (;;) {
      throwIfAborted(opts.signal, op);
      const obs = await observeCluster(addrs, {
        signal: opts.signal,
        discover: opts.discover,
        allowOpenSlots: opts.allowOpenSlots,
        stateNotRequiredOf: opts.stateNotRequiredOf,
        ignoreStrangers: opts.ignoreStrangers,
        ignoreFailed: opts.ignoreFailed,
        pool,
      });
      last = obs.agreed ? (opts.until?.(obs) ?? []) : obs.disagreements;
      if (obs.agreed && last.length === 0) return obs;
      if (Date.now() >= deadline) break;
      await opts.onPoll?.(obs);
      try {
        await delay(Math.min(pollMs, Math.max(0, deadline - Date.now())), undefined, { signal: opts.signal });
      } catch {
        throw abortedError(op, opts.signal ?? AbortSignal.abort());
      }
    }
  } finally {
    pool.close();
  }
  throw redisOpError({
    op,
    reason: 'NOT_AGREED',
    detail: `the nodes did not agree within ${(timeoutMs / 1000).toFixed(1)} s: ${last.join('; ')}`,
    action: 'check the nodes named above (running? reachable on the cluster bus port?) and retry',
  });
}

/** Polls until every node agrees; returns the agreed topology. */
export async function waitForAgreement(addrs: NodeAddress[], opts: WaitOptions = {}): Promise<Topology> {
  return (await waitForAgreementObservation(addrs, opts)).topology;
}
