// The real AgentBackend for Redis Cluster (Redis 7.0 / Valkey 8.0): data nodes are
// processes run by the DataNodeSupervisor (adopted again after an agent restart), and
// cluster steps go through RedisClusterOps; backups through backup.ts / restore.ts.
//
// Layout under the backend's directory: nodes/<nodeId>/ (the supervisor's),
// backups.json (the backups this agent knows, backup-registry.ts), restores/ (markers of
// finished restores, restore-markers.ts), restore-tmp/ (temporary restore servers,
// restore-leftovers.ts). Local sink paths must be absolute (the leader resolves relative ones).
//
// Labels: the leader's labels (StartDataNode, ConfigureDataNode) live in the node
// record beside the agent's own `nodeGroup` label, which is never reported as a label
// (a leader label key is lower case, so it cannot collide with it).
//
// Observation (GetState, every second): per node one round trip with CLUSTER NODES,
// CLUSTER INFO and INFO replication pipelined; engine_params as the .proto documents
// (topology_digest, known_nodes, failed_members, in_sync …).
//
// Every method passes ctx.signal down and is idempotent in effect: cluster-ops and
// the supervisor report `changed: false` when the effect was already there.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AgentBackend, BackendContext } from '../../backend.ts';
import type { DecodedRequestOf, ResponseOf } from '../../../proto/methods.ts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../../../proto/status.ts';
import type { AgentState } from '../../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { BackupInfo } from '../../../proto/generated/coxswain/agent/v1/BackupInfo.ts';
import type { DataNode } from '../../../proto/generated/coxswain/agent/v1/DataNode.ts';
import type { InstalledVersion } from '../../../proto/generated/coxswain/agent/v1/InstalledVersion.ts';
import type { NodeRole } from '../../../proto/generated/coxswain/agent/v1/NodeRole.ts';
import type { Sink__Output } from '../../../proto/generated/coxswain/agent/v1/Sink.ts';
import { settableParameter } from '../../../desired-state/catalogue.ts';
import { DataNodeSupervisor, type DataNodeStatus, type RecoveryReport, type SupervisorOptions } from '../../supervisor.ts';
import { createBackup, deleteBackup, listBackups } from './backup.ts';
import { BackupRegistry } from './backup-registry.ts';
import { RedisClusterOps } from './cluster-ops.ts';
import type { JoinPhases } from './cluster-join.ts';
import { ownedDirective } from './config.ts';
import { RedisEngine } from './redis-engine.ts';
import { redisOpError, shortId } from './errors.ts';
import { command, formatAddr, replyErrorText, withNode, type NodeAddress } from './redis-connection.ts';
import { restoreBackup } from './restore.ts';
import { cleanUpLeftoverRestores, restoreTempBase, type LeftoverRestores } from './restore-leftovers.ts';
import { findRestoreMarker, writeRestoreMarker } from './restore-markers.ts';
import { openSink, type BackupSink } from './sink.ts';
import {
  failedMembers,
  parseClusterInfo,
  parseClusterNodes,
  parseInfo,
  topologyDigest,
  type ClusterNodeRecord,
} from './topology.ts';
import { rangesText, rangesToSlots, slotsToRanges } from '../../../common/slot-ranges.ts';

export interface RedisBackendOptions {
  /** The backend's own directory (absolute): data nodes live in <dir>/nodes. */
  dir: string;
  /** @default a new RedisEngine (PATH) */
  adapter?: RedisEngine;
  /** Address data nodes listen on and are announced with. @default "127.0.0.1" */
  bindHost?: string;
  /** @default silent */
  logger?: Logger;
  /** @default "0.1.0" */
  agentVersion?: string;
  /** Supervisor tuning (poll interval, timeouts). */
  supervisor?: Partial<Omit<SupervisorOptions, 'baseDir' | 'adapter' | 'logger'>>;
  /** How long cluster steps wait for the nodes to agree. @default 30000 */
  agreementTimeoutMs?: number;
}

/** What a probe of one node's cluster state found. */
interface ClusterFacts {
  self: ClusterNodeRecord | undefined;
  /** Nodes it knows, itself included, handshake entries not. */
  known: number;
  state: string;
  digest: string;
  /** Members it flags `fail` that serve no slot, sorted (failedMembers). */
  failed: string[];
  /** Slots it has half-moved (migrating or importing markers). */
  openSlots: number;
  /** INFO replication: master_link_status and master_sync_in_progress (replicas). */
  linkStatus: string | undefined;
  syncing: boolean;
}

/** The agent's own label: the node group given by StartDataNode (not reported as a label). */
const NODE_GROUP_LABEL = 'nodeGroup';
const INTERNAL_LABELS: ReadonlySet<string> = new Set([NODE_GROUP_LABEL]);
const MAX_LABELS = 32;

/** The leader's labels of a record (the agent's own left out). */
function leaderLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !INTERNAL_LABELS.has(k)));
}

function phaseText(p: JoinPhases): string {
  return `observe ${p.observeMs} ms, claim ${p.claimMs} ms, meet ${p.meetMs} ms, agreement ${p.agreeMs} ms`;
}
const PROBE_TIMEOUT_MS = 1000;

function byText(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export class RedisBackend implements AgentBackend {
  readonly #dir: string;
  readonly #nodesDir: string;
  readonly #adapter: RedisEngine;
  readonly #bindHost: string;
  readonly #log: Logger | undefined;
  readonly #agentVersion: string;
  readonly #agreementTimeoutMs: number;
  readonly #supervisor: DataNodeSupervisor;
  readonly #listeners = new Set<() => void>();
  /** Backups this agent created or saw in a sink (set at open()). */
  #backups!: BackupRegistry;
  #recovery: RecoveryReport | undefined;
  #leftovers: LeftoverRestores = { dirs: [], killed: [], survivors: [] };
  /** Restores running now (their temporary base directory is removed when the last ends). */
  #restoring = 0;

  private constructor(options: RedisBackendOptions) {
    if (!path.isAbsolute(options.dir)) throw new Error(`RedisBackend: dir ${JSON.stringify(options.dir)} is not absolute`);
    this.#dir = options.dir;
    this.#nodesDir = path.join(options.dir, 'nodes');
    this.#adapter = options.adapter ?? new RedisEngine();
    this.#bindHost = options.bindHost ?? '127.0.0.1';
    this.#log = options.logger;
    this.#agentVersion = options.agentVersion ?? '0.1.0';
    this.#agreementTimeoutMs = options.agreementTimeoutMs ?? 30_000;
    this.#supervisor = new DataNodeSupervisor({
      ...options.supervisor,
      baseDir: this.#nodesDir,
      adapter: this.#adapter,
      ...(options.logger === undefined ? {} : { logger: options.logger.child({ component: 'supervisor' }) }),
    });
    this.#supervisor.onExit((exit) => {
      this.#log?.warn({ ...exit }, `Data node ${exit.nodeId} exited`);
      this.#notify();
    });
  }

  /**
   * Creates the backend: loads the backups it knows, cleans up after a restore an
   * earlier agent was killed in, and adopts the data nodes an earlier agent left running.
   */
  static async open(options: RedisBackendOptions): Promise<RedisBackend> {
    const backend = new RedisBackend(options);
    await mkdir(backend.#dir, { recursive: true, mode: 0o700 });
    backend.#backups = await BackupRegistry.open(backend.#dir, backend.#log);
    backend.#leftovers = await cleanUpLeftoverRestores(backend.#dir, backend.#log);
    backend.#recovery = await backend.#supervisor.recover();
    const r = backend.#recovery;
    backend.#log?.info(
      { adopted: r.adopted.map((n) => ({ nodeId: n.nodeId, pid: n.pid })), down: r.down, stopped: r.stopped },
      `Recovered data nodes: ${r.adopted.length} adopted, ${r.stopped.length} stopped, ${r.down.length} down`,
    );
    return backend;
  }

  /** What open() cleaned up of interrupted restores. */
  get leftoverRestores(): LeftoverRestores {
    return this.#leftovers;
  }

  /** What the recovery at open() found. */
  get recovery(): RecoveryReport {
    return this.#recovery ?? { adopted: [], down: [], stopped: [] };
  }

  /** The supervisor's view of the data nodes (for tests and diagnostics). */
  nodes(): DataNodeStatus[] {
    return this.#supervisor.list().filter((n) => this.#exists(n.nodeId));
  }

  /** Stops watching the data nodes WITHOUT stopping them: the next agent adopts them. */
  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#supervisor.close();
  }

  onStateChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch {
        // a listener's problem is not the backend's
      }
    }
  }

  #exists(nodeId: string): boolean {
    return existsSync(path.join(this.#nodesDir, nodeId));
  }

  async hasDataNode(nodeId: string, _ctx?: BackendContext): Promise<boolean> {
    return this.#supervisor.list().some((n) => n.nodeId === nodeId) && this.#exists(nodeId);
  }

  #status(nodeId: string): DataNodeStatus {
    const n = this.#supervisor.list().find((s) => s.nodeId === nodeId);
    if (n === undefined || !this.#exists(nodeId)) throw new NotFoundError(`data node ${nodeId} is not on this agent`);
    return n;
  }

  #addr(n: Pick<DataNodeStatus, 'bindHost' | 'port'>): NodeAddress {
    return this.#adapter.endpoint(n);
  }

  #ops(seeds: NodeAddress[]): RedisClusterOps {
    return new RedisClusterOps({
      seeds,
      agreementTimeoutMs: this.#agreementTimeoutMs,
      ...(this.#log === undefined ? {} : { logger: this.#log.child({ component: 'cluster-ops' }) }),
    });
  }

  /**
   * What the node says of itself and the cluster, or undefined when it does not answer
   * within PROBE_TIMEOUT_MS in all: a process that accepts connections but never replies
   * (hung, or stopped) kept ioredis's connect waiting without any timeout of its own, and
   * GetState as a whole then missed the leader's deadline — the leader took the whole
   * agent for down (seen end to end: a Valkey 8.0 node that stopped answering after a
   * failover). Now that node alone is reported down, and a start repairs it.
   */
  async #facts(n: DataNodeStatus, signal: AbortSignal): Promise<ClusterFacts | undefined> {
    if (!n.up) return undefined;
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
    // The race: after an abort ioredis closes the connection gracefully, which to a silent
    // server took 2 s more (measured); the probe's verdict does not wait for that.
    const givenUp = new Promise<never>((_, reject) => {
      if (bounded.aborted) reject(bounded.reason as Error);
      bounded.addEventListener('abort', () => reject(bounded.reason as Error), { once: true });
    });
    try {
      return await Promise.race([givenUp, this.#probe(n, bounded)]);
    } catch (err) {
      signal.throwIfAborted();
      this.#log?.debug({ nodeId: n.nodeId, error: (err as Error).message }, 'Data node did not answer its probe');
      return undefined;
    }
  }

  /** One round trip to the node: CLUSTER NODES, CLUSTER INFO and INFO replication. */
  #probe(n: DataNodeStatus, signal: AbortSignal): Promise<ClusterFacts> {
    return withNode(
      this.#addr(n),
      async (c) => {
        // One round trip: the three commands are written back to back.
        const [nodesText, infoText, replText] = await Promise.all([
          command<string>(c, 'CLUSTER', 'NODES'),
          command<string>(c, 'CLUSTER', 'INFO'),
          command<string>(c, 'INFO', 'replication'),
        ]);
        const nodes = parseClusterNodes(String(nodesText));
        const info = parseClusterInfo(String(infoText));
        const repl = parseInfo(String(replText));
        const self = nodes.find((r) => r.myself);
        return {
          self,
          known: nodes.filter((r) => !r.flags.includes('handshake')).length,
          state: info.state,
          digest: topologyDigest(nodes),
          failed: failedMembers(nodes),
          openSlots: (self?.migrating.length ?? 0) + (self?.importing.length ?? 0),
          linkStatus: repl['master_link_status'],
          syncing: repl['master_sync_in_progress'] === '1',
        };
      },
      { signal, op: 'observe', connectTimeoutMs: PROBE_TIMEOUT_MS, commandTimeoutMs: PROBE_TIMEOUT_MS },
    );
  }

  async #dataNode(n: DataNodeStatus, signal: AbortSignal): Promise<DataNode> {
    const facts = await this.#facts(n, signal);
    const self = facts?.self;
    let role: NodeRole = 'NODE_ROLE_UNSPECIFIED';
    if (self !== undefined) {
      if (self.role === 'replica') role = 'NODE_ROLE_REPLICA';
      else if (self.slots.length === 0 && facts !== undefined && facts.known === 1) role = 'NODE_ROLE_NONE';
      else role = 'NODE_ROLE_PRIMARY';
    }
    const usedBytes = await dirBytes(n.nodeDir);
    const fs = await statfs(n.nodeDir).catch(() => undefined);
    const program = n.version.startsWith('7.') ? 'redis-server' : 'valkey-server';
    return {
      id: n.nodeId,
      engineNodeId: self?.id ?? n.engineNodeId ?? '',
      program,
      port: n.port,
      role,
      primaryEngineNodeId: self?.role === 'replica' ? (self.primaryId ?? '') : '',
      nodeGroup: Number(n.labels[NODE_GROUP_LABEL] ?? 0),
      slots: self?.role === 'primary' ? self.slots.map((r) => ({ start: r.start, end: r.end })) : [],
      pid: n.up ? (n.pid ?? 0) : 0,
      up: n.up && facts !== undefined,
      version: n.version,
      dataDirUsage: { usedBytes, availableBytes: fs === undefined ? 0 : fs.bavail * fs.bsize },
      engineParams: facts === undefined ? {} : this.#engineParams(n, facts),
      labels: leaderLabels(n.labels),
    };
  }

  /** DataNode.engine_params of a node that answered (the .proto lists them). */
  #engineParams(n: DataNodeStatus, facts: ClusterFacts): Record<string, string> {
    const params: Record<string, string> = {
      cluster_state: facts.state,
      known_nodes: String(facts.known),
      topology_digest: facts.digest,
      open_slots: String(facts.openSlots),
    };
    if (facts.failed.length > 0) params['failed_members'] = facts.failed.join(',');
    if (n.runningVersion !== null) params['running_version'] = n.runningVersion;
    if (facts.self?.role === 'replica') {
      const link = facts.linkStatus ?? 'down';
      params['master_link_status'] = link;
      params['in_sync'] = link === 'up' && !facts.syncing ? 'yes' : 'no';
    }
    if (n.pendingRestart.length > 0) params['pending_restart'] = n.pendingRestart.join(',');
    return params;
  }

  async #installed(): Promise<InstalledVersion[]> {
    const out: InstalledVersion[] = [];
    for (const version of this.#adapter.versions()) {
      try {
        const b = await this.#adapter.resolve(version, 'data');
        out.push({ version, programs: [b.server.name, ...Object.values(b.tools).map((t) => t.name)] });
      } catch {
        // not installed
      }
    }
    return out;
  }

  async getState(_request: DecodedRequestOf<'GetState'>, ctx: BackendContext): Promise<AgentState> {
    const nodes = await Promise.all(this.nodes().map((n) => this.#dataNode(n, ctx.signal)));
    ctx.signal.throwIfAborted();
    return {
      agentId: '',
      zone: '',
      engine: 'redis',
      agentVersion: this.#agentVersion,
      installedVersions: await this.#installed(),
      dataNodes: nodes.sort((a, b) => byText(a.id, b.id)),
      backups: this.#backups.list(),
    };
  }

  async ensureVersion(r: DecodedRequestOf<'EnsureVersion'>, ctx: BackendContext): Promise<ResponseOf<'EnsureVersion'>> {
    ctx.signal.throwIfAborted();
    if (r.artifactUrl !== '') {
      ctx.logger.warn({ artifactUrl: r.artifactUrl }, 'This agent does not download engines; artifact_url is ignored');
    }
    // No downloads: a missing version is EngineNotInstalledError (FAILED_PRECONDITION,
    // reason ENGINE_NOT_INSTALLED) whose message says how to install it; an unknown
    // one is INVALID_ARGUMENT listing the catalogue's versions.
    const b = await this.#adapter.resolve(r.version, 'data');
    return {
      outcome: { changed: false, message: `Version ${r.version} is installed (${b.server.product} ${b.server.version} at ${b.server.path})` },
      installed: { version: r.version, programs: [b.server.name, ...Object.values(b.tools).map((t) => t.name)] },
    };
  }

  async startDataNode(r: DecodedRequestOf<'StartDataNode'>, ctx: BackendContext): Promise<ResponseOf<'StartDataNode'>> {
    for (const name of Object.keys(r.engineParams)) {
      const why = ownedDirective(name);
      if (why !== undefined) throw new InvalidArgumentError(`engine_params[${JSON.stringify(name)}]`, `is set by Coxswain itself: ${why}`);
    }
    const result = await this.#supervisor.start(
      {
        nodeId: r.nodeId,
        version: r.version,
        port: r.port,
        bindHost: this.#bindHost,
        parameters: { ...r.engineParams },
        labels: { ...leaderLabels(r.labels), [NODE_GROUP_LABEL]: String(r.nodeGroup) },
      },
      { signal: ctx.signal },
    );
    const node = await this.#dataNode(result.node, ctx.signal);
    const message = result.changed
      ? `Started data node ${r.nodeId} (pid ${node.pid}) with version ${r.version} on port ${r.port}`
      : `Data node ${r.nodeId} was already running (pid ${node.pid}) on port ${r.port}`;
    if (result.changed) this.#notify();
    return { outcome: { changed: result.changed, message }, node };
  }

  async stopDataNode(r: DecodedRequestOf<'StopDataNode'>, ctx: BackendContext): Promise<ResponseOf<'StopDataNode'>> {
    this.#status(r.nodeId);
    const result = await this.#supervisor.stop(r.nodeId, { signal: ctx.signal });
    const node = await this.#dataNode(this.#status(r.nodeId), ctx.signal);
    const message = result.changed
      ? `Stopped data node ${r.nodeId}${result.killed ? ' (killed after the grace period)' : ''}; its data is kept`
      : `Data node ${r.nodeId} was already stopped`;
    return { outcome: { changed: result.changed, message }, node };
  }

  #requireUp(n: DataNodeStatus, doing: string): void {
    if (!n.up) throw new FailedPreconditionError(`data node ${n.nodeId} is not running; start it (StartDataNode) before ${doing}`);
  }

  async joinNode(r: DecodedRequestOf<'JoinNode'>, ctx: BackendContext): Promise<ResponseOf<'JoinNode'>> {
    const n = this.#status(r.nodeId);
    this.#requireUp(n, 'joining it');
    const addr = this.#addr(n);
    const signal = ctx.signal;
    const member = r.clusterMember === null ? undefined : { host: r.clusterMember.host, port: r.clusterMember.port };
    let changed: boolean;
    let message: string;
    if (r.role === 'JOIN_ROLE_REPLICA') {
      const primaryId = r.replicaOf?.engineNodeId ?? '';
      if (primaryId === '') throw new InvalidArgumentError('replica_of.engine_node_id', 'is required for JOIN_ROLE_REPLICA');
      const seeds = [addr, ...(member === undefined ? [] : [member])];
      if (r.replicaOf !== null && r.replicaOf.host !== '') seeds.push({ host: r.replicaOf.host, port: r.replicaOf.port });
      if (seeds.length === 1) throw new InvalidArgumentError('cluster_member', 'a replica joins an existing cluster: name a member or replica_of with its address');
      const res = await this.#ops(seeds.slice(1)).addReplica(addr, primaryId, { signal });
      changed = res.changed;
      message = changed ? `Joined data node ${n.nodeId} as a replica of ${primaryId}` : `Data node ${n.nodeId} was already a replica of ${primaryId}`;
    } else if (r.role === 'JOIN_ROLE_PRIMARY_WITHOUT_DATA') {
      const slots = r.assignSlots.map((x) => ({ start: x.start, end: x.end }));
      let assigned: number;
      if (member !== undefined) {
        // Join the member's cluster and claim the unowned slots asked for (several
        // primaries may do this at once: the leader founds N primaries that way).
        const res = await this.#ops([member]).joinPrimary(addr, { slots, signal });
        changed = res.changed;
        assigned = res.claimed;
        ctx.logger.info(
          { nodeId: n.nodeId, engineNodeId: res.nodeId, changed, claimed: res.claimed, ms: res.ms, ...res.phases },
          `${changed ? 'Joined' : 'Checked'} data node ${n.nodeId} as a primary in ${res.ms} ms (${phaseText(res.phases)})`,
        );
      } else {
        assigned = await this.#assignSlots(n, addr, slots, signal);
        changed = assigned > 0;
      }
      message = changed
        ? `Joined data node ${n.nodeId} as a primary${assigned > 0 ? ` with ${assigned} new slots` : ''}`
        : `Data node ${n.nodeId} was already a primary${slots.length > 0 ? ' with the slots asked for' : ''}`;
    } else {
      throw new InvalidArgumentError('role', 'must be JOIN_ROLE_PRIMARY_WITHOUT_DATA or JOIN_ROLE_REPLICA');
    }
    if (changed) this.#notify();
    return { outcome: { changed, message }, node: await this.#dataNode(this.#status(r.nodeId), signal) };
  }

  /**
   * Without a cluster member: claims the slots of `ranges` that no node this node knows
   * serves (founding a cluster, or a member taking unowned slots); returns how many it
   * claimed. Refuses slots another node serves, naming it. A founder alone meets itself
   * so that it learns its own address; a member waits until the cluster agrees.
   */
  async #assignSlots(n: DataNodeStatus, addr: NodeAddress, ranges: readonly { start: number; end: number }[], signal: AbortSignal): Promise<number> {
    for (const [i, range] of ranges.entries()) {
      if (range.start > range.end || range.end > 16383) throw new InvalidArgumentError(`assign_slots[${i}]`, `is not a slot range within 0 … 16383`);
    }
    const { claimed, alone } = await withNode(
      addr,
      async (c) => {
        const nodes = parseClusterNodes(String(await command(c, 'CLUSTER', 'NODES')));
        const self = nodes.find((x) => x.myself);
        if (self?.role === 'replica') {
          throw new FailedPreconditionError(`data node ${n.nodeId} is a replica; a replica becomes a primary by Failover`);
        }
        const known = nodes.filter((x) => !x.flags.includes('handshake'));
        const owner = new Map<number, ClusterNodeRecord>();
        for (const rec of known) if (rec.role === 'primary') for (const s of rangesToSlots(rec.slots)) owner.set(s, rec);
        const wanted = rangesToSlots([...ranges]);
        const taken = wanted.filter((s) => owner.has(s) && owner.get(s)?.id !== self?.id);
        if (taken.length > 0) {
          const first = owner.get(taken[0] ?? -1);
          throw new FailedPreconditionError(
            `data node ${n.nodeId} cannot claim ${taken.length} of the slots asked for (${slotsToRanges(taken).map((x) => (x.start === x.end ? `${x.start}` : `${x.start}-${x.end}`)).join(',')}): ` +
              `they are served by node ${first?.id ?? '?'} (${first?.host ?? '?'}:${first?.port ?? '?'}); claim only unowned slots, and move served ones with MoveData`,
            { reason: 'SLOTS_OWNED' },
          );
        }
        const todo = wanted.filter((s) => !owner.has(s));
        if (todo.length > 0) await command(c, 'CLUSTER', 'ADDSLOTSRANGE', ...slotsToRanges(todo).flatMap((x) => [x.start, x.end]));
        // A founder alone must meet itself so that it learns its own address (clients
        // get it from CLUSTER SLOTS), as formCluster does.
        if (self !== undefined && self.host === '' && known.length === 1) await command(c, 'CLUSTER', 'MEET', addr.host, addr.port, self.busPort);
        return { claimed: todo.length, alone: known.length === 1 };
      },
      { signal, op: 'assignSlots', nodeId: n.nodeId },
    );
    if (!alone && claimed > 0) await this.#ops([addr]).agree('assignSlots', { signal });
    return claimed;
  }

  async removeNode(r: DecodedRequestOf<'RemoveNode'>, ctx: BackendContext): Promise<ResponseOf<'RemoveNode'>> {
    const n = this.#status(r.nodeId);
    const signal = ctx.signal;
    let clusterNote = '';
    if (n.up) {
      const facts = await this.#facts(n, signal);
      if (facts?.self !== undefined && facts.self.role === 'primary' && facts.self.slots.length > 0) {
        throw new FailedPreconditionError(
          `data node ${n.nodeId} still serves slots; move its data to another node group (MoveData) before removing it`,
        );
      }
      if (facts?.self !== undefined && facts.known > 1) {
        await this.#ops([this.#addr(n)]).removeNode(facts.self.id, { signal });
        clusterNote = ' from the cluster';
      }
      await this.#supervisor.stop(n.nodeId, { signal });
    }
    signal.throwIfAborted();
    await rm(n.nodeDir, { recursive: true, force: true });
    this.#notify();
    return { outcome: { changed: true, message: `Removed data node ${n.nodeId}${clusterNote}, stopped it and deleted its data` } };
  }

  /**
   * Makes a local node forget a member that no agent runs any more: one it flags failed
   * (`fail`, or `fail?` on its way there) and that serves no slot, e.g. a removed node
   * that a member which missed the removal's FORGET gossiped back, or a node of a lost
   * VM. One CLUSTER FORGET on the local node only; the leader asks every member within
   * the 60 s for which Redis bans a forgotten id, so that none brings it back. Refused
   * (FAILED_PRECONDITION) for the node itself or a member not flagged failed (NOT_FAILED),
   * a member serving slots (NOT_EMPTY) and the local node's own primary (WRONG_ROLE: Redis
   * refuses, the replica must go first). A node it does not know: `changed: false`.
   */
  async forgetNode(r: DecodedRequestOf<'ForgetNode'>, ctx: BackendContext): Promise<ResponseOf<'ForgetNode'>> {
    const op = 'forgetNode';
    const n = this.#status(r.nodeId);
    this.#requireUp(n, 'making it forget a node');
    const id = r.engineNodeId;
    if (id === '') throw new InvalidArgumentError('engine_node_id', 'is required');
    const addr = this.#addr(n);
    const forgotten = await withNode(
      addr,
      async (c): Promise<ClusterNodeRecord | undefined> => {
        const nodes = parseClusterNodes(String(await command(c, 'CLUSTER', 'NODES')));
        const self = nodes.find((x) => x.myself);
        const target = nodes.find((x) => x.id === id && !x.flags.includes('handshake'));
        const where = target === undefined || target.host === '' ? undefined : formatAddr({ host: target.host, port: target.port });
        const refuse = (reason: 'NOT_FAILED' | 'NOT_EMPTY' | 'WRONG_ROLE', detail: string, action: string): never => {
          throw redisOpError({ op, reason, nodeId: id, addr: where, detail, action });
        };
        if (self?.id === id) {
          refuse(
            'NOT_FAILED',
            `it is data node ${n.nodeId} itself, which runs`,
            `name another member; to take data node ${n.nodeId} out of the cluster, call RemoveNode on this agent`,
          );
        }
        if (target === undefined) return undefined;
        if (!target.flags.includes('fail') && !target.flags.includes('pfail')) {
          refuse(
            'NOT_FAILED',
            `data node ${n.nodeId} does not flag it failed (flags ${target.flags.join(',')}): it still answers, it is not dead`,
            'a live member leaves the cluster with RemoveNode on the agent that runs it; ForgetNode is only for a member no agent runs, once the cluster flags it fail',
          );
        }
        if (target.role === 'primary' && target.slots.length > 0) {
          refuse(
            'NOT_EMPTY',
            `it is flagged failed but serves slots ${rangesText(target.slots)}; forgetting it would leave them unserved`,
            'bring the node back, or let its replica take over its slots (the cluster fails over by itself), then forget it',
          );
        }
        if (self?.role === 'replica' && self.primaryId === id) {
          refuse(
            'WRONG_ROLE',
            `data node ${n.nodeId} is its replica, and Redis does not let a replica forget its own primary`,
            `make data node ${n.nodeId} a replica of another primary, or remove it (RemoveNode), then forget the failed node`,
          );
        }
        try {
          await command(c, 'CLUSTER', 'FORGET', id);
        } catch (err) {
          const text = replyErrorText(err) ?? '';
          if (/unknown node/i.test(text)) return undefined; // forgotten meanwhile
          if (/forget my master/i.test(text)) {
            refuse('WRONG_ROLE', `Redis refused: ${text}`, `make data node ${n.nodeId} a replica of another primary, or remove it (RemoveNode), then forget the failed node`);
          }
          throw err;
        }
        return target;
      },
      { signal: ctx.signal, op, nodeId: n.nodeId },
    );
    let message: string;
    if (forgotten === undefined) {
      message = `Data node ${n.nodeId} does not know node ${id}; nothing to forget`;
    } else {
      const where = forgotten.host === '' ? undefined : formatAddr({ host: forgotten.host, port: forgotten.port });
      message = `Data node ${n.nodeId} forgot failed node ${shortId(id)}${where === undefined ? '' : ` (${where})`}`;
      this.#notify();
    }
    ctx.logger.info({ nodeId: n.nodeId, engineNodeId: id, changed: forgotten !== undefined }, message);
    return {
      outcome: { changed: forgotten !== undefined, message },
      node: await this.#dataNode(this.#status(r.nodeId), ctx.signal),
    };
  }

  async failover(r: DecodedRequestOf<'Failover'>, ctx: BackendContext): Promise<ResponseOf<'Failover'>> {
    const n = this.#status(r.nodeId);
    this.#requireUp(n, 'promoting it');
    const facts = await this.#facts(n, ctx.signal);
    const self = facts?.self;
    if (self === undefined) throw new FailedPreconditionError(`data node ${n.nodeId} does not answer; it cannot be promoted now`);
    if (self.role === 'primary') {
      return {
        outcome: { changed: false, message: `Data node ${n.nodeId} was already a primary` },
        node: await this.#dataNode(n, ctx.signal),
        formerPrimaryEngineNodeId: '',
      };
    }
    const res = await this.#ops([this.#addr(n)]).failover(self.id, { signal: ctx.signal });
    this.#notify();
    return {
      outcome: { changed: res.changed, message: `Promoted data node ${n.nodeId} to primary in place of ${res.oldPrimaryId ?? '?'}` },
      node: await this.#dataNode(this.#status(r.nodeId), ctx.signal),
      formerPrimaryEngineNodeId: res.oldPrimaryId ?? '',
    };
  }

  async moveData(r: DecodedRequestOf<'MoveData'>, ctx: BackendContext): Promise<ResponseOf<'MoveData'>> {
    const n = this.#status(r.sourceNodeId);
    this.#requireUp(n, 'moving data from it');
    const targetId = r.target?.engineNodeId ?? '';
    if (targetId === '') throw new InvalidArgumentError('target.engine_node_id', 'is required');
    const self = (await this.#facts(n, ctx.signal))?.self;
    if (self === undefined || self.role !== 'primary') {
      throw new FailedPreconditionError(`data node ${n.nodeId} is not a running primary; data moves from a running primary only`);
    }
    const seeds = [this.#addr(n)];
    if (r.target !== null && r.target.host !== '') seeds.push({ host: r.target.host, port: r.target.port });
    const ops = this.#ops(seeds);
    let selection: number[] | { count: number };
    if (r.selection === 'all') selection = rangesToSlots(self.slots);
    else if (r.selection === 'slotCount') selection = { count: r.slotCount ?? 0 };
    else if (r.selection === 'slots') selection = rangesToSlots((r.slots?.ranges ?? []).map((x) => ({ start: x.start, end: x.end })));
    else throw new InvalidArgumentError('selection', 'one of slots, slot_count or all is required');
    if (Array.isArray(selection) && selection.length === 0) {
      return { outcome: { changed: false, message: `No slots left to move from data node ${n.nodeId}` }, moved: [] };
    }
    const res = await ops.moveSlots(self.id, targetId, selection, { signal: ctx.signal });
    if (res.changed) this.#notify();
    const count = rangesToSlots(res.slots).length;
    return {
      outcome: {
        changed: res.changed,
        message: res.changed ? `Moved ${count} slots (${res.keysMoved} keys) from data node ${n.nodeId} to ${targetId}` : `No slots left to move from data node ${n.nodeId}`,
      },
      moved: res.slots.map((x) => ({ start: x.start, end: x.end })),
    };
  }

  #sink(sink: Sink__Output | null): BackupSink {
    if (sink?.local === undefined || sink.local === null) throw new InvalidArgumentError('sink', 'a sink is required (local)');
    // No base directory: the leader resolves a relative path against its state directory
    // before it calls any agent (operator/observe/labels.ts resolveSinkPath), so that
    // every VM means the same directory; a relative path here is refused, never taken
    // relative to this VM's own directory (which no other VM would list).
    return openSink({ type: 'local', path: sink.local.path });
  }

  #seeds(nodeIds: readonly string[]): NodeAddress[] {
    const nodes = nodeIds.length > 0 ? nodeIds.map((id) => this.#status(id)) : this.nodes();
    const up = nodes.filter((x) => x.up);
    if (up.length === 0) throw new FailedPreconditionError('no data node runs on this agent; start one before backing up or restoring');
    return up.map((x) => this.#addr(x));
  }

  async createBackup(r: DecodedRequestOf<'CreateBackup'>, ctx: BackendContext): Promise<ResponseOf<'CreateBackup'>> {
    const sink = this.#sink(r.sink);
    const res = await createBackup({ cluster: this.#seeds(r.nodeIds), backupId: r.backupId, sink, signal: ctx.signal });
    const m = res.manifest;
    const local = new Map(this.nodes().map((x) => [x.engineNodeId ?? '', x]));
    const info: BackupInfo = {
      backupId: r.backupId,
      sink: { local: { path: r.sink?.local?.path ?? '' } },
      status: 'BACKUP_STATUS_COMPLETE',
      createdAt: m.finishedAt,
      // Parts of the node groups whose primary is on this agent name the local node and
      // its node group; the others name the primary's engine node id and the backup's index.
      parts: m.nodeGroups.map((g) => {
        const n = local.get(g.primaryId);
        return {
          nodeGroup: n === undefined ? g.index : Number(n.labels[NODE_GROUP_LABEL] ?? g.index),
          dataNodeId: n?.nodeId ?? g.primaryId,
          sizeBytes: String(g.file.bytes),
        };
      }),
      detail: '',
    };
    await this.#backups.set(info);
    return {
      outcome: { changed: res.created, message: res.created ? `Created backup ${r.backupId}` : `Backup ${r.backupId} already existed` },
      backup: info,
    };
  }

  async restoreBackup(r: DecodedRequestOf<'RestoreBackup'>, ctx: BackendContext): Promise<ResponseOf<'RestoreBackup'>> {
    const sink = this.#sink(r.sink);
    const sinkPath = r.sink?.local?.path ?? '';
    const nodes = r.nodeIds.map((id) => this.#status(id));
    const target = { backupId: r.backupId, sinkPath, engineNodeIds: nodes.map((x) => x.engineNodeId ?? '') };
    const done = await findRestoreMarker(this.#dir, target);
    if (done !== undefined) {
      return {
        outcome: {
          changed: false,
          message: `Backup ${r.backupId} was already restored into data nodes ${r.nodeIds.join(', ')} at ${done.restoredAt} (${done.keysInCluster} keys then)`,
        },
      };
    }
    const tempDir = restoreTempBase(this.#dir);
    this.#restoring++;
    let res: Awaited<ReturnType<typeof restoreBackup>>;
    try {
      await mkdir(tempDir, { recursive: true, mode: 0o700 });
      res = await restoreBackup({
        backupId: r.backupId,
        sink,
        cluster: this.#seeds(r.nodeIds),
        signal: ctx.signal,
        engine: this.#adapter,
        // Temporary servers listen on a unix socket under this agent's own temporary
        // directory, where the next agent finds them if this one is killed meanwhile.
        tempDir,
      });
    } finally {
      // The base directory goes with the last restore (it may lie in the system's temp dir).
      if (--this.#restoring === 0) await rmdir(tempDir).catch(() => undefined);
    }
    const message = `Restored backup ${r.backupId}: ${res.keysInCluster} keys in the cluster (${res.keysInBackup} in the backup)${res.resumed ? ', an interrupted restore finished' : ''}`;
    await writeRestoreMarker(this.#dir, target, { keysInCluster: res.keysInCluster, message });
    return { outcome: { changed: true, message } };
  }

  async deleteBackup(r: DecodedRequestOf<'DeleteBackup'>, ctx: BackendContext): Promise<ResponseOf<'DeleteBackup'>> {
    const sink = this.#sink(r.sink);
    const res = await deleteBackup(sink, r.backupId, { signal: ctx.signal });
    await this.#backups.remove([r.backupId]);
    return { outcome: { changed: res.deleted, message: res.deleted ? `Deleted backup ${r.backupId}` : `Backup ${r.backupId} was already gone` } };
  }

  async listBackups(r: DecodedRequestOf<'ListBackups'>, ctx: BackendContext): Promise<ResponseOf<'ListBackups'>> {
    if (r.sink === null) return { backups: this.#backups.list() };
    const sinkPath = r.sink.local?.path ?? '';
    const list = await listBackups(this.#sink(r.sink), { signal: ctx.signal });
    const backups = list.map((b) => ({
      backupId: b.id,
      sink: { local: { path: sinkPath } },
      status: 'BACKUP_STATUS_COMPLETE',
      createdAt: b.finishedAt,
      parts: [],
      detail: '',
    }) satisfies BackupInfo);
    await this.#backups.reconcileSink(sinkPath, backups);
    return { backups };
  }

  async configureDataNode(r: DecodedRequestOf<'ConfigureDataNode'>, ctx: BackendContext): Promise<ResponseOf<'ConfigureDataNode'>> {
    const n = this.#status(r.nodeId);
    const names = Object.keys(r.engineParams).sort();
    for (const name of names) {
      const why = ownedDirective(name);
      if (why !== undefined) throw new InvalidArgumentError(`engine_params[${JSON.stringify(name)}]`, `is set by Coxswain itself: ${why}`);
    }
    if (names.length > 0) this.#requireUp(n, 'configuring it');
    const labels = leaderLabels(r.labels);
    const merged = { ...n.labels, ...labels };
    if (Object.keys(leaderLabels(merged)).length > MAX_LABELS) {
      throw new InvalidArgumentError('labels', `data node ${n.nodeId} would have ${Object.keys(leaderLabels(merged)).length} labels; at most ${MAX_LABELS} are allowed`);
    }
    const live = names.filter((k) => settableParameter('redis', k)?.apply !== 'restart');
    const pendingRestart = names.filter((k) => settableParameter('redis', k)?.apply === 'restart');
    const applied: string[] = [];
    // Live first (CONFIG SET), then saved in redis.conf and the node record (the
    // supervisor renders the node's configuration from the record's parameters), all
    // under the node's lock; an invalid parameter is refused before anything changes.
    const res = await this.#supervisor.reconfigure(
      n.nodeId,
      { parameters: { ...r.engineParams }, pendingRestart, labels },
      {
        signal: ctx.signal,
        apply: async () => {
          if (live.length === 0) return;
          await withNode(
            this.#addr(n),
            async (c) => {
              for (const name of live) {
                const value = r.engineParams[name] ?? '';
                const before = String(((await command<string[]>(c, 'CONFIG', 'GET', name)) ?? [])[1] ?? '');
                if (before === value) continue;
                await command(c, 'CONFIG', 'SET', name, value);
                // The server may normalise the value (e.g. "100mb" → "104857600"): only a
                // different value afterwards is a change, so a repeat stays a no-op.
                const after = String(((await command<string[]>(c, 'CONFIG', 'GET', name)) ?? [])[1] ?? '');
                if (after !== before) applied.push(name);
              }
            },
            { signal: ctx.signal, op: 'configureDataNode', nodeId: n.nodeId },
          );
        },
      },
    );
    const savedChanged = names.filter((k) => String(n.parameters?.[k] ?? '') !== r.engineParams[k] || !(n.parameters !== null && k in n.parameters));
    const labelsChanged = Object.keys(labels).filter((k) => n.labels[k] !== labels[k]);
    const changed = applied.length > 0 || savedChanged.length > 0 || labelsChanged.length > 0;
    if (!res.saved) {
      ctx.logger.warn(
        { nodeId: n.nodeId, parameters: names },
        `Applied parameters to data node ${n.nodeId} without saving them: its record was written by an older agent; the next StartDataNode saves the whole configuration`,
      );
    }
    const parts: string[] = [];
    if (applied.length > 0) parts.push(`applied ${applied.join(', ')} live`);
    if (savedChanged.length > 0 && res.saved) parts.push(`saved ${savedChanged.join(', ')} in its configuration`);
    if (labelsChanged.length > 0) parts.push(`set labels ${labelsChanged.join(', ')}`);
    const restartNote = pendingRestart.length > 0 ? `; ${pendingRestart.join(', ')} take effect at its next start` : '';
    if (changed) this.#notify();
    return {
      outcome: {
        changed,
        message: (changed ? `Configured data node ${n.nodeId}: ${parts.join('; ')}` : `Data node ${n.nodeId} already had these parameters and labels`) + restartNote,
      },
      applied,
      pendingRestart,
    };
  }
}
