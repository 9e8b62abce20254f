// An in-memory AgentBackend for tests: data nodes and backups are plain records, every
// operation is deterministic (engine ids from the node id, pids from a counter, time
// from a logical clock), and it counts how often each operation really ran, so tests
// can tell a replayed call from a second execution. Faults can be injected per method
// (fail, or be slow while observing the call's signal); generative tests use the same.
//
// It models what the leader relies on, not Redis: roles, primaries, slots, node
// groups, labels, backups, and the preconditions of each step (a node must run before
// it joins; a primary with slots cannot be removed; only a replica is promoted; a
// running node is not started again with other labels). Observations it cannot make
// without a real cluster: `topology_digest` is not reported (every fake node reads as
// agreeing); an up replica reports `in_sync: "yes"`; `failed_members` is never reported
// (the fake keeps no cluster table, so no node lingers in one), and ForgetNode checks
// the local node only, then answers `changed: false`.
import { createHash } from 'node:crypto';
import type { AgentBackend, BackendContext } from './backend.ts';
import type { AgentMethod, DecodedRequestOf, ResponseOf } from '../proto/methods.ts';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '../proto/status.ts';
import { sleep } from './server/deadline.ts';
import type { AgentState } from '../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { BackupInfo } from '../proto/generated/coxswain/agent/v1/BackupInfo.ts';
import type { BackupPart } from '../proto/generated/coxswain/agent/v1/BackupPart.ts';
import type { DataNode } from '../proto/generated/coxswain/agent/v1/DataNode.ts';
import type { NodeRole__Output } from '../proto/generated/coxswain/agent/v1/NodeRole.ts';
import type { SlotRange } from '../proto/generated/coxswain/agent/v1/SlotRange.ts';
import type { Sink__Output } from '../proto/generated/coxswain/agent/v1/Sink.ts';

/** A fault to inject into the next calls of one method. */
export type FakeFault =
  /** Throw `error()` before doing anything (no effect, no execution counted). */
  | { readonly kind: 'fail'; readonly error: () => Error; readonly times?: number }
  /** Wait `ms` before doing the work, observing the call's signal (aborted → no effect). */
  | { readonly kind: 'delay'; readonly ms: number; readonly times?: number };

export interface FakeBackendOptions {
  /** @default "redis" */
  engine?: string;
  /** @default "0.0.0-fake" */
  agentVersion?: string;
  /** Versions whose binaries are available from the start. @default [] */
  installedVersions?: readonly string[];
  /** @default a logical clock: 2024-01-01T00:00:00Z, one second later at each reading */
  now?: () => Date;
}

/** A data node as the fake keeps it. */
export interface FakeDataNode {
  id: string;
  engineNodeId: string;
  port: number;
  version: string;
  nodeGroup: number;
  role: NodeRole__Output;
  primaryEngineNodeId: string;
  slots: Set<number>;
  up: boolean;
  pid: number;
  config: Record<string, string>;
  /** The leader's labels (StartDataNode replaces them, ConfigureDataNode sets some). */
  labels: Record<string, string>;
  /** The backup last restored into the node, if any. */
  restoredFrom: string | undefined;
}

interface FakeBackup {
  id: string;
  sinkPath: string;
  createdAt: string;
  parts: BackupPart[];
}

/** Parameters Coxswain sets itself; a change would break the cluster. */
const OWNED_PARAMS = new Set(['port', 'dir', 'bind', 'cluster-enabled', 'cluster-config-file', 'daemonize', 'pidfile']);
/** Parameters the fake pretends cannot change live. */
const RESTART_PARAMS = new Set(['databases', 'io-threads']);
const AVAILABLE_BYTES = 10 * 1024 ** 3;
const MAX_LABELS = 32;

/** "key" for every label whose value differs between the two maps, sorted. */
function labelDiff(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
}
const FIRST_PID = 4000;

function engineIdOf(nodeId: string): string {
  return createHash('sha1').update(`coxswain-fake:${nodeId}`).digest('hex');
}

function logicalClock(): () => Date {
  let tick = 0;
  const start = Date.parse('2024-01-01T00:00:00Z');
  return () => new Date(start + 1000 * tick++);
}

/** Sorted slot numbers as inclusive ranges. */
export function toRanges(slots: Iterable<number>): SlotRange[] {
  const sorted = [...slots].sort((a, b) => a - b);
  const ranges: SlotRange[] = [];
  for (const slot of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.end === slot - 1) last.end = slot;
    else ranges.push({ start: slot, end: slot });
  }
  return ranges;
}

function fromRanges(ranges: readonly { start: number; end: number }[]): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let s = r.start; s <= r.end; s++) out.push(s);
  return out;
}

/** By id, in code-unit order (not locale order: the fake must not depend on the machine). */
function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sinkPath(sink: Sink__Output | null): string {
  return sink?.local?.path ?? '';
}

function programOf(engine: string, version: string): string {
  if (engine !== 'redis') return engine;
  return version.startsWith('7.') ? 'redis-server' : 'valkey-server';
}

export class FakeBackend implements AgentBackend {
  readonly #engine: string;
  readonly #agentVersion: string;
  readonly #now: () => Date;
  readonly #versions = new Set<string>();
  readonly #nodes = new Map<string, FakeDataNode>();
  readonly #backups = new Map<string, FakeBackup>();
  readonly #listeners = new Set<() => void>();
  readonly #faults = new Map<AgentMethod, FakeFault[]>();
  readonly #executions = new Map<AgentMethod, number>();
  readonly #attempts = new Map<AgentMethod, number>();
  readonly #aborted = new Map<AgentMethod, number>();
  readonly #keys = new Map<AgentMethod, (string | undefined)[]>();
  #nextPid = FIRST_PID;

  constructor(options: FakeBackendOptions = {}) {
    this.#engine = options.engine ?? 'redis';
    this.#agentVersion = options.agentVersion ?? '0.0.0-fake';
    this.#now = options.now ?? logicalClock();
    for (const v of options.installedVersions ?? []) this.#versions.add(v);
  }

  // ---- test controls -------------------------------------------------------------

  /** How many times `method` really ran (took effect, or answered a read). */
  executions(method: AgentMethod): number {
    return this.#executions.get(method) ?? 0;
  }

  /** How many calls of `method` reached the backend, including failed and aborted ones. */
  attempts(method: AgentMethod): number {
    return this.#attempts.get(method) ?? 0;
  }

  /** How many calls of `method` were aborted by their signal while delayed. */
  aborted(method: AgentMethod): number {
    return this.#aborted.get(method) ?? 0;
  }

  /** The idempotency key of every attempt of `method`, in order. */
  keys(method: AgentMethod): readonly (string | undefined)[] {
    return this.#keys.get(method) ?? [];
  }

  /** Queues a fault for the next `times` (default 1) calls of `method`. */
  injectFault(method: AgentMethod, fault: FakeFault): void {
    const list = this.#faults.get(method) ?? [];
    for (let i = 0; i < (fault.times ?? 1); i++) list.push(fault);
    this.#faults.set(method, list);
  }

  /** A copy of a data node's record, or undefined. */
  node(nodeId: string): FakeDataNode | undefined {
    const n = this.#nodes.get(nodeId);
    return n === undefined ? undefined : { ...n, slots: new Set(n.slots), config: { ...n.config }, labels: { ...n.labels } };
  }

  /** Simulates a crash of a data node's process (no RPC involved). */
  crashNode(nodeId: string): void {
    const n = this.#nodes.get(nodeId);
    if (n === undefined) throw new Error(`fake: no data node ${nodeId}`);
    n.up = false;
    n.pid = 0;
    this.#notify();
  }

  // ---- AgentBackend --------------------------------------------------------------

  onStateChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async hasDataNode(nodeId: string): Promise<boolean> {
    return this.#nodes.has(nodeId);
  }

  getState(_request: DecodedRequestOf<'GetState'>, ctx: BackendContext): Promise<AgentState> {
    return this.#run('GetState', ctx, () => this.#state());
  }

  ensureVersion(r: DecodedRequestOf<'EnsureVersion'>, ctx: BackendContext): Promise<ResponseOf<'EnsureVersion'>> {
    return this.#run('EnsureVersion', ctx, () => {
      const changed = !this.#versions.has(r.version);
      this.#versions.add(r.version);
      return {
        outcome: { changed, message: changed ? `Installed version ${r.version}` : `Version ${r.version} was already installed` },
        installed: { version: r.version, programs: this.#programs(r.version) },
      };
    });
  }

  startDataNode(r: DecodedRequestOf<'StartDataNode'>, ctx: BackendContext): Promise<ResponseOf<'StartDataNode'>> {
    return this.#run('StartDataNode', ctx, () => {
      if (!this.#versions.has(r.version)) {
        throw new FailedPreconditionError(`version ${r.version} is not installed on this agent; call EnsureVersion first`);
      }
      let n = this.#nodes.get(r.nodeId);
      if (n !== undefined && n.port !== r.port) {
        throw new FailedPreconditionError(
          `data node ${r.nodeId} already uses port ${n.port}; a node's port cannot change (asked for ${r.port})`,
        );
      }
      if (n !== undefined && n.up && n.version === r.version) {
        const differ = labelDiff(n.labels, r.labels);
        if (differ.length > 0) {
          throw new AlreadyExistsError(`data node ${r.nodeId} already runs with other labels (${differ.join(', ')}); stop it first, then start it with the new labels`, {
            reason: 'NODE_CONFLICT',
          });
        }
        return { outcome: { changed: false, message: `Data node ${r.nodeId} was already running on port ${n.port}` }, node: this.#dataNode(n) };
      }
      const restarted = n !== undefined;
      if (n === undefined) {
        n = {
          id: r.nodeId,
          engineNodeId: engineIdOf(r.nodeId),
          port: r.port,
          version: r.version,
          nodeGroup: r.nodeGroup,
          role: 'NODE_ROLE_NONE',
          primaryEngineNodeId: '',
          slots: new Set(),
          up: false,
          pid: 0,
          config: { ...r.engineParams },
          labels: {},
          restoredFrom: undefined,
        };
        this.#nodes.set(r.nodeId, n);
      }
      n.version = r.version;
      n.nodeGroup = r.nodeGroup;
      n.config = { ...r.engineParams };
      n.labels = { ...r.labels };
      n.up = true;
      n.pid = this.#nextPid++;
      const message = restarted
        ? `Started data node ${r.nodeId} with version ${r.version} on port ${n.port}`
        : `Started new data node ${r.nodeId} with version ${r.version} on port ${n.port}`;
      return { outcome: { changed: true, message }, node: this.#dataNode(n) };
    });
  }

  stopDataNode(r: DecodedRequestOf<'StopDataNode'>, ctx: BackendContext): Promise<ResponseOf<'StopDataNode'>> {
    return this.#run('StopDataNode', ctx, () => {
      const n = this.#node(r.nodeId);
      if (!n.up) return { outcome: { changed: false, message: `Data node ${n.id} was already stopped` }, node: this.#dataNode(n) };
      n.up = false;
      n.pid = 0;
      return { outcome: { changed: true, message: `Stopped data node ${n.id}; its data is kept` }, node: this.#dataNode(n) };
    });
  }

  joinNode(r: DecodedRequestOf<'JoinNode'>, ctx: BackendContext): Promise<ResponseOf<'JoinNode'>> {
    return this.#run('JoinNode', ctx, () => {
      const n = this.#node(r.nodeId);
      if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it (StartDataNode) before joining it`);
      if (r.role === 'JOIN_ROLE_REPLICA') {
        const primary = r.replicaOf?.engineNodeId ?? '';
        if (primary === n.engineNodeId) throw new InvalidArgumentError('replica_of.engine_node_id', `is data node ${n.id} itself`);
        if (n.role === 'NODE_ROLE_REPLICA' && n.primaryEngineNodeId === primary) {
          return { outcome: { changed: false, message: `Data node ${n.id} was already a replica of ${primary}` }, node: this.#dataNode(n) };
        }
        if (n.slots.size > 0) {
          throw new FailedPreconditionError(
            `data node ${n.id} serves ${n.slots.size} slots as a primary; move its data away (MoveData) before making it a replica`,
          );
        }
        n.role = 'NODE_ROLE_REPLICA';
        n.primaryEngineNodeId = primary;
        return { outcome: { changed: true, message: `Joined data node ${n.id} as a replica of ${primary}` }, node: this.#dataNode(n) };
      }
      if (n.role === 'NODE_ROLE_REPLICA') {
        throw new FailedPreconditionError(`data node ${n.id} is a replica; a replica becomes a primary by Failover`);
      }
      const before = n.slots.size;
      for (const s of fromRanges(r.assignSlots)) n.slots.add(s);
      const changed = n.role !== 'NODE_ROLE_PRIMARY' || n.slots.size !== before;
      n.role = 'NODE_ROLE_PRIMARY';
      return {
        outcome: { changed, message: changed ? `Joined data node ${n.id} as a primary with ${n.slots.size} slots` : `Data node ${n.id} was already a primary` },
        node: this.#dataNode(n),
      };
    });
  }

  removeNode(r: DecodedRequestOf<'RemoveNode'>, ctx: BackendContext): Promise<ResponseOf<'RemoveNode'>> {
    return this.#run('RemoveNode', ctx, () => {
      const n = this.#node(r.nodeId);
      if (n.role === 'NODE_ROLE_PRIMARY' && n.slots.size > 0) {
        throw new FailedPreconditionError(
          `data node ${n.id} still serves ${n.slots.size} slots; move its data to another node group (MoveData) before removing it`,
        );
      }
      this.#nodes.delete(n.id);
      return { outcome: { changed: true, message: `Removed data node ${n.id} from the cluster and deleted its data` } };
    });
  }

  /**
   * The fake keeps no cluster table, so there is never a failed member to forget: after
   * the checks of the local node (known, running, not the node to forget itself, as
   * RedisBackend does them) it answers `changed: false`.
   */
  forgetNode(r: DecodedRequestOf<'ForgetNode'>, ctx: BackendContext): Promise<ResponseOf<'ForgetNode'>> {
    return this.#run('ForgetNode', ctx, () => {
      const n = this.#node(r.nodeId);
      if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it (StartDataNode) before making it forget a node`);
      if (r.engineNodeId === n.engineNodeId) {
        throw new FailedPreconditionError(`forgetNode: data node ${n.id} cannot forget itself; RemoveNode takes it out of the cluster`, { reason: 'NOT_FAILED' });
      }
      return {
        outcome: { changed: false, message: `Data node ${n.id} does not know node ${r.engineNodeId}; nothing to forget` },
        node: this.#dataNode(n),
      };
    });
  }

  failover(r: DecodedRequestOf<'Failover'>, ctx: BackendContext): Promise<ResponseOf<'Failover'>> {
    return this.#run('Failover', ctx, () => {
      const n = this.#node(r.nodeId);
      if (n.role === 'NODE_ROLE_PRIMARY') {
        return { outcome: { changed: false, message: `Data node ${n.id} was already a primary` }, node: this.#dataNode(n), formerPrimaryEngineNodeId: '' };
      }
      if (n.role !== 'NODE_ROLE_REPLICA') {
        throw new FailedPreconditionError(`data node ${n.id} is not a replica (${n.role}); only a replica can be promoted`);
      }
      if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it before promoting it`);
      const former = n.primaryEngineNodeId;
      n.role = 'NODE_ROLE_PRIMARY';
      n.primaryEngineNodeId = '';
      const local = [...this.#nodes.values()].find((o) => o.engineNodeId === former);
      if (local !== undefined) {
        for (const s of local.slots) n.slots.add(s);
        local.slots.clear();
        local.role = 'NODE_ROLE_REPLICA';
        local.primaryEngineNodeId = n.engineNodeId;
      }
      return {
        outcome: { changed: true, message: `Promoted data node ${n.id} to primary in place of ${former}` },
        node: this.#dataNode(n),
        formerPrimaryEngineNodeId: former,
      };
    });
  }

  moveData(r: DecodedRequestOf<'MoveData'>, ctx: BackendContext): Promise<ResponseOf<'MoveData'>> {
    return this.#run('MoveData', ctx, () => {
      const source = this.#node(r.sourceNodeId);
      const targetId = r.target?.engineNodeId ?? '';
      if (targetId === source.engineNodeId) throw new InvalidArgumentError('target.engine_node_id', `is the source ${source.id} itself`);
      if (source.role !== 'NODE_ROLE_PRIMARY' || !source.up) {
        throw new FailedPreconditionError(`data node ${source.id} is not a running primary; data moves from a running primary only`);
      }
      let wanted: number[];
      if (r.selection === 'all') wanted = [...source.slots];
      else if (r.selection === 'slotCount') wanted = [...source.slots].sort((a, b) => a - b).slice(0, r.slotCount ?? 0);
      else wanted = fromRanges(r.slots?.ranges ?? []);
      // Slots the source no longer serves have moved already (a repeated step).
      const moving = wanted.filter((s) => source.slots.has(s));
      const target = [...this.#nodes.values()].find((o) => o.engineNodeId === targetId);
      for (const s of moving) {
        source.slots.delete(s);
        target?.slots.add(s);
      }
      return {
        outcome: {
          changed: moving.length > 0,
          message: moving.length > 0 ? `Moved ${moving.length} slots from data node ${source.id} to ${targetId}` : `No slots left to move from data node ${source.id}`,
        },
        moved: toRanges(moving),
      };
    });
  }

  createBackup(r: DecodedRequestOf<'CreateBackup'>, ctx: BackendContext): Promise<ResponseOf<'CreateBackup'>> {
    return this.#run('CreateBackup', ctx, () => {
      const existing = this.#backups.get(r.backupId);
      if (existing !== undefined) {
        if (existing.sinkPath !== sinkPath(r.sink)) {
          throw new AlreadyExistsError(`backup ${r.backupId} already exists in sink ${existing.sinkPath}; choose another id`);
        }
        return { outcome: { changed: false, message: `Backup ${r.backupId} already existed` }, backup: this.#backupInfo(existing) };
      }
      const nodes = r.nodeIds.length > 0 ? r.nodeIds.map((id) => this.#node(id)) : [...this.#nodes.values()].filter((n) => n.role === 'NODE_ROLE_PRIMARY');
      if (nodes.length === 0) throw new FailedPreconditionError('there is no primary on this agent to back up; name node_ids to back up replicas');
      const backup: FakeBackup = {
        id: r.backupId,
        sinkPath: sinkPath(r.sink),
        createdAt: this.#now().toISOString(),
        parts: nodes.map((n) => ({ nodeGroup: n.nodeGroup, dataNodeId: n.id, sizeBytes: 1024 * n.slots.size })),
      };
      this.#backups.set(backup.id, backup);
      return { outcome: { changed: true, message: `Created backup ${backup.id} of ${nodes.length} data nodes` }, backup: this.#backupInfo(backup) };
    });
  }

  restoreBackup(r: DecodedRequestOf<'RestoreBackup'>, ctx: BackendContext): Promise<ResponseOf<'RestoreBackup'>> {
    return this.#run('RestoreBackup', ctx, () => {
      const backup = this.#backups.get(r.backupId);
      if (backup === undefined || backup.sinkPath !== sinkPath(r.sink)) {
        throw new NotFoundError(`backup ${r.backupId} is not in sink ${sinkPath(r.sink)}; ListBackups shows what the sink holds`);
      }
      const nodes = r.nodeIds.map((id) => this.#node(id));
      for (const n of nodes) {
        if (n.up) throw new FailedPreconditionError(`data node ${n.id} is running; stop it before restoring into it`);
        if (!backup.parts.some((p) => p.nodeGroup === n.nodeGroup)) {
          throw new FailedPreconditionError(`backup ${backup.id} has no part for node group ${n.nodeGroup} of data node ${n.id}`);
        }
      }
      const todo = nodes.filter((n) => n.restoredFrom !== backup.id);
      for (const n of todo) n.restoredFrom = backup.id;
      return {
        outcome: {
          changed: todo.length > 0,
          message: todo.length > 0 ? `Restored backup ${backup.id} into ${todo.map((n) => n.id).join(', ')}` : `Backup ${backup.id} was already restored`,
        },
      };
    });
  }

  deleteBackup(r: DecodedRequestOf<'DeleteBackup'>, ctx: BackendContext): Promise<ResponseOf<'DeleteBackup'>> {
    return this.#run('DeleteBackup', ctx, () => {
      const existing = this.#backups.get(r.backupId);
      if (existing === undefined || existing.sinkPath !== sinkPath(r.sink)) {
        return { outcome: { changed: false, message: `Backup ${r.backupId} was already gone` } };
      }
      this.#backups.delete(r.backupId);
      return { outcome: { changed: true, message: `Deleted backup ${r.backupId}` } };
    });
  }

  listBackups(r: DecodedRequestOf<'ListBackups'>, ctx: BackendContext): Promise<ResponseOf<'ListBackups'>> {
    return this.#run('ListBackups', ctx, () => ({
      backups: this.#sortedBackups().filter((b) => r.sink === null || b.sinkPath === sinkPath(r.sink)).map((b) => this.#backupInfo(b)),
    }));
  }

  configureDataNode(r: DecodedRequestOf<'ConfigureDataNode'>, ctx: BackendContext): Promise<ResponseOf<'ConfigureDataNode'>> {
    return this.#run('ConfigureDataNode', ctx, () => {
      const n = this.#node(r.nodeId);
      for (const name of Object.keys(r.engineParams)) {
        if (OWNED_PARAMS.has(name)) {
          throw new InvalidArgumentError(`engine_params[${JSON.stringify(name)}]`, 'is set by Coxswain itself and cannot be configured');
        }
      }
      if (Object.keys(r.engineParams).length > 0 && !n.up) {
        throw new FailedPreconditionError(`data node ${n.id} is not running; start it (StartDataNode) before configuring it`);
      }
      const changedNames = Object.keys(r.engineParams).filter((k) => n.config[k] !== r.engineParams[k]).sort();
      const changedLabels = Object.keys(r.labels).filter((k) => n.labels[k] !== r.labels[k]).sort();
      if (Object.keys({ ...n.labels, ...r.labels }).length > MAX_LABELS) {
        throw new InvalidArgumentError('labels', `data node ${n.id} would have more than ${MAX_LABELS} labels`);
      }
      Object.assign(n.config, r.engineParams);
      Object.assign(n.labels, r.labels);
      const applied = changedNames.filter((k) => !RESTART_PARAMS.has(k));
      const pendingRestart = changedNames.filter((k) => RESTART_PARAMS.has(k));
      const what = [...changedNames, ...changedLabels.map((k) => `label ${k}`)];
      return {
        outcome: {
          changed: what.length > 0,
          message: what.length > 0 ? `Configured ${what.join(', ')} on data node ${n.id}` : `Data node ${n.id} already had these parameters and labels`,
        },
        applied,
        pendingRestart,
      };
    });
  }

  // ---- internals -----------------------------------------------------------------

  async #run<T>(method: AgentMethod, ctx: BackendContext, body: () => T): Promise<T> {
    this.#attempts.set(method, this.attempts(method) + 1);
    this.#keys.set(method, [...this.keys(method), ctx.idempotencyKey]);
    const fault = this.#faults.get(method)?.shift();
    if (fault?.kind === 'fail') throw fault.error();
    if (fault?.kind === 'delay') {
      try {
        await sleep(fault.ms, ctx.signal);
      } catch (err) {
        this.#aborted.set(method, this.aborted(method) + 1);
        throw err;
      }
    }
    ctx.signal.throwIfAborted();
    const result = body();
    this.#executions.set(method, this.executions(method) + 1);
    if (method !== 'GetState' && method !== 'ListBackups') this.#notify();
    return result;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  #node(nodeId: string): FakeDataNode {
    const n = this.#nodes.get(nodeId);
    // The service checks node ids first; this guards direct use of the fake.
    if (n === undefined) throw new NotFoundError(`data node ${nodeId} is not on this agent`);
    return n;
  }

  #programs(version: string): string[] {
    const server = programOf(this.#engine, version);
    return this.#engine === 'redis' ? [server, server.replace('-server', '-cli')] : [server];
  }

  #dataNode(n: FakeDataNode): DataNode {
    return {
      id: n.id,
      engineNodeId: n.engineNodeId,
      program: programOf(this.#engine, n.version),
      port: n.port,
      role: n.up ? n.role : 'NODE_ROLE_UNSPECIFIED',
      primaryEngineNodeId: n.primaryEngineNodeId,
      nodeGroup: n.nodeGroup,
      slots: toRanges(n.slots),
      pid: n.pid,
      up: n.up,
      version: n.version,
      dataDirUsage: { usedBytes: 1024 * n.slots.size, availableBytes: AVAILABLE_BYTES },
      engineParams: { ...n.config, ...(n.up && n.role === 'NODE_ROLE_REPLICA' ? { in_sync: 'yes' } : {}) },
      labels: { ...n.labels },
    };
  }

  #sortedBackups(): FakeBackup[] {
    return [...this.#backups.values()].sort(byId);
  }

  #backupInfo(b: FakeBackup): BackupInfo {
    return {
      backupId: b.id,
      sink: { local: { path: b.sinkPath } },
      status: 'BACKUP_STATUS_COMPLETE',
      createdAt: b.createdAt,
      parts: b.parts.map((p) => ({ ...p })),
      detail: '',
    };
  }

  #state(): AgentState {
    return {
      agentId: '',
      zone: '',
      engine: this.#engine,
      agentVersion: this.#agentVersion,
      installedVersions: [...this.#versions].sort().map((version) => ({ version, programs: this.#programs(version) })),
      dataNodes: [...this.#nodes.values()].sort(byId).map((n) => this.#dataNode(n)),
      backups: this.#sortedBackups().map((b) => this.#backupInfo(b)),
    };
  }
}
