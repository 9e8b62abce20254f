// The real AgentBackend for Redis Cluster (Redis 7.0 / Valkey 8.0): data nodes are
// processes run by the DataNodeSupervisor (adopted again after an agent restart), and
// cluster steps go through RedisClusterOps; backups through backup.ts / restore.ts.
//
// Layout under the backend's directory: nodes/<nodeId>/ (the supervisor's), and
// relative local sinks are resolved against the same directory.
//
// Every method passes ctx.signal down and is idempotent in effect: cluster-ops and
// the supervisor report `changed: false` when the effect was already there.
import { existsSync } from 'node:fs';
import { readdir, rm, stat, statfs } from 'node:fs/promises';
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
import { RedisClusterOps } from './cluster-ops.ts';
import { ownedDirective } from './config.ts';
import { RedisEngine } from './redis-engine.ts';
import { command, withNode, type NodeAddress } from './redis-connection.ts';
import { restoreBackup } from './restore.ts';
import { openSink, type BackupSink } from './sink.ts';
import { parseClusterInfo, parseClusterNodes, rangesToSlots, slotsToRanges, type ClusterNodeRecord } from './topology.ts';

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
  known: number;
  state: string;
}

const NODE_GROUP_LABEL = 'nodeGroup';
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
  /** Backups this agent created or saw in a sink, by id. */
  readonly #backups = new Map<string, BackupInfo>();
  #recovery: RecoveryReport | undefined;

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

  /** Creates the backend and adopts the data nodes an earlier agent left running. */
  static async open(options: RedisBackendOptions): Promise<RedisBackend> {
    const backend = new RedisBackend(options);
    backend.#recovery = await backend.#supervisor.recover();
    const r = backend.#recovery;
    backend.#log?.info(
      { adopted: r.adopted.map((n) => ({ nodeId: n.nodeId, pid: n.pid })), down: r.down, stopped: r.stopped },
      `Recovered data nodes: ${r.adopted.length} adopted, ${r.stopped.length} stopped, ${r.down.length} down`,
    );
    return backend;
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

  async #facts(n: DataNodeStatus, signal: AbortSignal): Promise<ClusterFacts | undefined> {
    if (!n.up) return undefined;
    try {
      return await withNode(
        this.#addr(n),
        async (c) => {
          const nodes = parseClusterNodes(String(await command(c, 'CLUSTER', 'NODES')));
          const info = parseClusterInfo(String(await command(c, 'CLUSTER', 'INFO')));
          return { self: nodes.find((r) => r.myself), known: nodes.length, state: info.state };
        },
        { signal, op: 'observe', connectTimeoutMs: PROBE_TIMEOUT_MS, commandTimeoutMs: PROBE_TIMEOUT_MS },
      );
    } catch (err) {
      signal.throwIfAborted();
      this.#log?.debug({ nodeId: n.nodeId, error: (err as Error).message }, 'Data node did not answer its probe');
      return undefined;
    }
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
      engineParams: facts === undefined ? {} : { cluster_state: facts.state, ...(n.runningVersion === null ? {} : { running_version: n.runningVersion }) },
    };
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
      backups: [...this.#backups.values()].sort((a, b) => byText(a.backupId, b.backupId)),
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
        labels: { [NODE_GROUP_LABEL]: String(r.nodeGroup) },
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
    let changed = false;
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
      if (member !== undefined) {
        const res = await this.#ops([member]).addEmptyPrimary(addr, { signal });
        changed = res.changed;
      }
      const assigned = await this.#assignSlots(n, addr, r.assignSlots, member, signal);
      changed ||= assigned > 0;
      message = changed
        ? `Joined data node ${n.nodeId} as a primary${assigned > 0 ? ` with ${assigned} new slots` : ''}`
        : `Data node ${n.nodeId} was already a primary`;
    } else {
      throw new InvalidArgumentError('role', 'must be JOIN_ROLE_PRIMARY_WITHOUT_DATA or JOIN_ROLE_REPLICA');
    }
    if (changed) this.#notify();
    return { outcome: { changed, message }, node: await this.#dataNode(this.#status(r.nodeId), signal) };
  }

  /** Claims the slots of `ranges` this node does not hold yet; returns how many it claimed. */
  async #assignSlots(
    n: DataNodeStatus,
    addr: NodeAddress,
    ranges: readonly { start: number; end: number }[],
    member: NodeAddress | undefined,
    signal: AbortSignal,
  ): Promise<number> {
    if (ranges.length === 0) return 0;
    for (const [i, range] of ranges.entries()) {
      if (range.start > range.end || range.end > 16383) throw new InvalidArgumentError(`assign_slots[${i}]`, `is not a slot range within 0 … 16383`);
    }
    const claimed = await withNode(
      addr,
      async (c) => {
        const nodes = parseClusterNodes(String(await command(c, 'CLUSTER', 'NODES')));
        const self = nodes.find((x) => x.myself);
        if (self?.role === 'replica') {
          throw new FailedPreconditionError(`data node ${n.nodeId} is a replica; a replica becomes a primary by Failover`);
        }
        const owner = new Map<number, string>();
        for (const rec of nodes) if (rec.role === 'primary') for (const s of rangesToSlots(rec.slots)) owner.set(s, rec.id);
        const wanted = rangesToSlots([...ranges]);
        const taken = wanted.filter((s) => owner.has(s) && owner.get(s) !== self?.id);
        if (taken.length > 0) {
          throw new FailedPreconditionError(
            `data node ${n.nodeId} cannot claim ${taken.length} of the slots asked for (first: ${taken[0]}): they are served by another primary; move them with MoveData instead`,
          );
        }
        const todo = wanted.filter((s) => !owner.has(s));
        if (todo.length === 0) return 0;
        const args = slotsToRanges(todo).flatMap((x) => [x.start, x.end]);
        await command(c, 'CLUSTER', 'ADDSLOTSRANGE', ...args);
        return todo.length;
      },
      { signal, op: 'assignSlots', nodeId: n.nodeId },
    );
    // A founder alone must meet itself so clients see its address (as formCluster does).
    if (member === undefined) {
      await withNode(
        addr,
        async (c) => {
          const nodes = parseClusterNodes(String(await command(c, 'CLUSTER', 'NODES')));
          const self = nodes.find((x) => x.myself);
          if (self !== undefined && self.host === '' && nodes.length === 1) await command(c, 'CLUSTER', 'MEET', addr.host, addr.port, self.busPort);
        },
        { signal, op: 'assignSlots', nodeId: n.nodeId },
      );
    } else if (claimed > 0) {
      await this.#ops([member, addr]).agree('assignSlots', { signal });
    }
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
    return openSink({ type: 'local', path: sink.local.path }, { baseDir: this.#dir });
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
    this.#backups.set(r.backupId, info);
    return {
      outcome: { changed: res.created, message: res.created ? `Created backup ${r.backupId}` : `Backup ${r.backupId} already existed` },
      backup: info,
    };
  }

  async restoreBackup(r: DecodedRequestOf<'RestoreBackup'>, ctx: BackendContext): Promise<ResponseOf<'RestoreBackup'>> {
    const sink = this.#sink(r.sink);
    const res = await restoreBackup({
      backupId: r.backupId,
      sink,
      cluster: this.#seeds(r.nodeIds),
      signal: ctx.signal,
      engine: this.#adapter,
      // Temporary servers listen on a unix socket under tempDir (at most 100 bytes):
      // beside the agent's data when that path is short enough, else the system's.
      ...(this.#dir.length <= 48 ? { tempDir: path.join(this.#dir, 'restore-tmp') } : {}),
    });
    return {
      outcome: {
        changed: true,
        message: `Restored backup ${r.backupId}: ${res.keysInCluster} keys in the cluster (${res.keysInBackup} in the backup)${res.resumed ? ', an interrupted restore finished' : ''}`,
      },
    };
  }

  async deleteBackup(r: DecodedRequestOf<'DeleteBackup'>, ctx: BackendContext): Promise<ResponseOf<'DeleteBackup'>> {
    const sink = this.#sink(r.sink);
    const res = await deleteBackup(sink, r.backupId, { signal: ctx.signal });
    this.#backups.delete(r.backupId);
    return { outcome: { changed: res.deleted, message: res.deleted ? `Deleted backup ${r.backupId}` : `Backup ${r.backupId} was already gone` } };
  }

  async listBackups(r: DecodedRequestOf<'ListBackups'>, ctx: BackendContext): Promise<ResponseOf<'ListBackups'>> {
    if (r.sink === null) return { backups: [...this.#backups.values()].sort((a, b) => byText(a.backupId, b.backupId)) };
    const list = await listBackups(this.#sink(r.sink), { signal: ctx.signal });
    const backups = list.map((b) => ({
      backupId: b.id,
      sink: { local: { path: r.sink?.local?.path ?? '' } },
      status: 'BACKUP_STATUS_COMPLETE',
      createdAt: b.finishedAt,
      parts: [],
      detail: '',
    }) satisfies BackupInfo);
    for (const b of backups) if (!this.#backups.has(b.backupId)) this.#backups.set(b.backupId, b);
    return { backups };
  }

  async configureDataNode(r: DecodedRequestOf<'ConfigureDataNode'>, ctx: BackendContext): Promise<ResponseOf<'ConfigureDataNode'>> {
    const n = this.#status(r.nodeId);
    this.#requireUp(n, 'configuring it');
    const names = Object.keys(r.engineParams).sort();
    for (const name of names) {
      const why = ownedDirective(name);
      if (why !== undefined) throw new InvalidArgumentError(`engine_params[${JSON.stringify(name)}]`, `is set by Coxswain itself: ${why}`);
    }
    const live = names.filter((k) => settableParameter('redis', k)?.apply !== 'restart');
    const pendingRestart = names.filter((k) => settableParameter('redis', k)?.apply === 'restart');
    const applied: string[] = [];
    await withNode(
      this.#addr(n),
      async (c) => {
        for (const name of live) {
          const value = r.engineParams[name] ?? '';
          const current = (await command<string[]>(c, 'CONFIG', 'GET', name)) ?? [];
          if (String(current[1] ?? '') === value) continue;
          await command(c, 'CONFIG', 'SET', name, value);
          applied.push(name);
        }
      },
      { signal: ctx.signal, op: 'configureDataNode', nodeId: n.nodeId },
    );
    const changed = applied.length > 0;
    const restartNote = pendingRestart.length > 0 ? `; ${pendingRestart.join(', ')} take effect when the node is started with them (StartDataNode engine_params)` : '';
    return {
      outcome: {
        changed,
        message: (changed ? `Configured ${applied.join(', ')} live on data node ${n.nodeId}` : `Data node ${n.nodeId} already had these live parameters`) + restartNote,
      },
      applied,
      pendingRestart,
    };
  }
}
