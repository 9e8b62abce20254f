// The simulated world of the generative state tests: VMs, their agents, Redis-like
// data nodes with roles, the slots each primary serves and the data each node holds,
// and backups in sinks. The world-agent and world-provider put the agent's and the VM
// provider's contracts in front of it; the reconciler under test runs unchanged
// against them, on the VirtualClock.
//
// Data, so that "moved" can be told from "lost": every slot holds a data token (a
// number). Clients write fresh tokens into the slots of running primaries; a replica
// copies its primary's tokens once in sync and follows every change while in sync;
// MoveData carries a slot's token to the target; RemoveNode and deleting a VM destroy
// what the node held. `truth` is the token of the last acknowledged write of each slot:
// a slot whose truth token no node holds any more is lost data.
//
// Redis-like asynchrony where it matters: a replica is in sync only some virtual ms
// after it (re)connects; each node sees a topology change only after its own lag
// (topology digests converge); a primary that stays down for node-timeout is flagged
// failed and replaced by an in-sync replica when a majority of primaries is up.
//
// Ghosts: a member that leaves without every member forgetting it stays in their tables
// — removed while it was down (nobody could tell it), its VM deleted, removed while some
// member was down (that member kept it), or a stranger (a node no VM runs that joined and
// died: WorldParams.strangers). A ghost is flagged failed after node-timeout; every up
// member that knows it then reports it in failed_members, and ForgetNode makes one member
// forget it. Redis bans a forgotten id for 60 s (FORGET_BAN_MS): when the ban ends, or
// when a member that still knows it (re)starts, every member whose ban ended learns it
// again by gossip (a restart loses the ban too). A ghost is gone only once every member
// has forgotten it. Each member's topology digest includes the ghosts it knows, as the
// agent's digest covers every node of CLUSTER NODES.
//
// The world also watches itself: every intentional change (an agent call, a provider
// call) is checked against the safety invariants of docs/invariants.md on the world's ACTUAL
// state, not on what a planner claims; violations are recorded, never thrown, so a
// scenario reports all of them.
import type { Desired, EngineVersion } from '../../desired-state/types.ts';
import { ownedParameter, settableParameter } from '../../desired-state/catalogue.ts';
import { REDIS_SLOTS, sinkKey, type SlotRange } from '../../operator/model/observed.ts';
import type { VmSpec } from '../../operator/model/step.ts';
import type { VmRecord } from '../../operator/ports/vm-provider.ts';
import type { DecodedResponseOf, RequestOf } from '../../proto/methods.ts';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  StaleLeaderError,
  UnavailableError,
} from '../../proto/status.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { BackupInfo__Output } from '../../proto/generated/coxswain/agent/v1/BackupInfo.ts';
import type { DataNode__Output } from '../../proto/generated/coxswain/agent/v1/DataNode.ts';
import type { Sink } from '../../proto/generated/coxswain/agent/v1/Sink.ts';
import { Rng } from './rng.ts';
import { rangesText, slotsIn } from '../../common/slot-ranges.ts';
import { SlotMap, lowestSlots } from './ranges.ts';
import type { VirtualClock } from '../support/virtual-clock.ts';

// ───────────────────────────── parameters and records ─────────────────────────────

/** How the world behaves; part of a scenario's data, so a replay does not depend on generators. */
export interface WorldParams {
  /** Virtual ms a replica needs for a full sync (after joining, or after its primary changed under it). */
  fullSyncMs: number;
  /** Virtual ms a replica needs to catch up after a restart of either side. */
  partialSyncMs: number;
  /** The longest a node's view of the topology lags behind a change (each node draws its own lag up to this). */
  convergeMs: number;
  /** Redis cluster-node-timeout: a primary down this long is flagged failed and replaced by a replica. */
  nodeTimeoutMs: number;
  /** Engine versions a new VM has installed before any EnsureVersion. */
  installedAtCreate: EngineVersion[];
  /**
   * Virtual ms after a VM's creation until its agent answers (0: at once, as the local
   * provider, which waits for the agent's health check; a cloud VM boots after create returns).
   * @default 0
   */
  agentStartMs?: number;
  /** Seed of the per-node lags and engine ids. */
  seed: number;
  /** Backups that exist in their sinks before the cluster is created (e.g. the one restoreFromBackup names). */
  preexistingBackups: { id: string; sink: { type: 'local'; path: string } }[];
  /**
   * Strangers: nodes no VM of the cluster runs that join it (CLUSTER MEET by hand, or the
   * node of a VM the provider lost) and die at once, each once `afterCall` mutating calls
   * were made and a member runs (the runner triggers them; at rest if the run never
   * gets that far). They stay as failed, slotless ghosts until every member forgets them.
   * @default none
   */
  strangers?: { afterCall: number }[];
}

export const DEFAULT_WORLD_PARAMS: WorldParams = {
  fullSyncMs: 1500,
  partialSyncMs: 300,
  convergeMs: 1500,
  nodeTimeoutMs: 5000,
  installedAtCreate: ['7.0'],
  seed: 1,
  preexistingBackups: [],
};

/** Who makes a call: the harness's number of the leader instance (1, 2, …) and the epoch it presents. */
export interface Caller {
  leader: number;
  epoch: number;
}

/** The safety checks the world (and the harness) can find violated. */
export type SafetyCheck =
  | 'last-live-copy'
  | 'two-down-in-group'
  | 'primary-stopped-without-failover'
  | 'node-group-removed-with-data'
  | 'vm-deleted-while-member'
  | 'restore-backup-deleted'
  | 'stale-leader-accepted'
  | 'data-lost'
  | 'split-cluster'
  | 'forgot-live-node'
  | 'plan-unsafe'
  // The agent's contract at the seam between the simulated transport and the real agent core (agent-contract.ts).
  | 'stale-epoch-admitted'
  | 'idempotency-broken'
  | 'malformed-request-accepted'
  // The independent oracle's checks (oracle.ts).
  | 'oracle-last-copy'
  | 'oracle-two-down'
  | 'oracle-stopped-while-syncing'
  | 'oracle-primary-stopped'
  | 'oracle-batch-group'
  | 'oracle-failover'
  | 'oracle-removed-serving'
  | 'oracle-stale-epoch'
  | 'oracle-vm-deleted-while-member'
  | 'oracle-forgot-live-node'
  | 'oracle-restore-backup-deleted';

export interface Violation {
  check: SafetyCheck;
  message: string;
  /** Virtual ms since the scenario started. */
  atMs: number;
}

export interface SimNode {
  handle: number;
  id: string;
  vmId: string;
  nodeGroup: number;
  port: number;
  engineId: string;
  /** Part of the cluster (founded, joined as primary or replica); stays true for a ghost (deleted while a member). */
  member: boolean;
  role: 'none' | 'primary' | 'replica';
  /** A replica's primary. */
  primary: SimNode | undefined;
  up: boolean;
  deleted: boolean;
  version: EngineVersion;
  /** The newest version that ever wrote this node's data (a 7.0 server cannot load 8.0 data). */
  dataVersion: EngineVersion | undefined;
  config: Record<string, string>;
  labels: Record<string, string>;
  /** Data tokens the node holds on disk. */
  data: SlotMap;
  /** A replica is catching up with its primary. */
  syncing: boolean;
  /** The next sync must be a full one (its primary changed under it). */
  needsFullSync: boolean;
  /** Bumped by every start/stop/role change: timers of an older incarnation do nothing. */
  incarnation: number;
  downAtMs: number;
  /** Flagged failed by the other nodes (down longer than node-timeout). */
  failFlag: boolean;
  /** This node's topology lag, ms. */
  lag: number;
  /** The latest topology generation this node has seen itself (it made the change). */
  seenGen: number;
  /** Set when a primary went down: whether this replica was in sync at that moment (may then be promoted). */
  eligible: boolean;
  /** Members that forgot this node (ForgetNode, or a removal): handle → virtual time (clock) their 60 s ban ends. */
  forgotten: Map<number, number>;
}

export interface SimVm {
  record: VmRecord;
  agentUp: boolean;
  /** Bumped whenever the agent process starts or dies: a call that spans a change fails, and a new process starts from the files. */
  agentIncarnation: number;
  /**
   * The agent's own files on the VM's disk, by path in its state dir: the leader epoch
   * and the idempotency records the REAL fence and store write (sim-agent.ts). Like the
   * real agent's data dir they outlive the agent's process (restarts, crashes, a VM that
   * comes back) and go with the VM.
   */
  agentFiles: Map<string, string>;
  installed: Set<EngineVersion>;
  /** The highest leader instance whose call this agent accepted (for the stale-leader check). */
  acceptedLeader: number;
  nodes: Map<string, SimNode>;
}

export interface SimBackup {
  id: string;
  sink: { type: 'local'; path: string };
  data: SlotMap;
  nodeGroups: number[];
  createdAtMs: number;
}

// ───────────────────────────── the world ─────────────────────────────

const ENGINE_PROGRAM: Readonly<Record<string, string>> = { '7.0': 'redis-server', '8.0': 'valkey-server' };
/** How long Redis refuses to learn a node id again after CLUSTER FORGET, ms. */
export const FORGET_BAN_MS = 60_000;
const TRACE_LIMIT = 400;

export class World {
  readonly clock: VirtualClock;
  readonly params: WorldParams;
  readonly violations: Violation[] = [];
  /** The last events (at least 400), for a failing scenario's report. */
  readonly trace: string[] = [];
  /** The accepted desired state, as the harness tells it (the checks need `running` and `restoreFromBackup`). */
  desired: Desired | undefined;
  /** The backup the cluster was restored from (the agents' restore marker). */
  restoredFrom: string | undefined;
  /** Every slot was served at some point: the cluster formed (and could hold data). */
  everFormed = false;
  /** Virtual time (clock) of the last change to a ghost: one appeared, was flagged failed, was learnt again or was gone. */
  ghostsChangedAt = 0;

  readonly #rng: Rng;
  readonly #startMs: number;
  readonly #vms = new Map<string, SimVm>();
  readonly #nodes = new Map<number, SimNode>();
  readonly #sinks = new Map<string, Map<string, SimBackup>>();
  /** slot → handle of the primary that serves it. */
  readonly #owner = new SlotMap();
  /** slot → token of the last acknowledged write. */
  #truth = new SlotMap();
  #nextHandle = 1;
  #nextToken = 1;
  #nextPort = 7001;
  #strangers = 0;
  /** Virtual time of each topology generation (index = generation). */
  readonly #topoTimes: number[] = [0];
  /** The highest leader instance whose provider call was accepted, and the provider's fencing epoch. */
  #providerLeader = 0;
  #providerEpoch = 0;
  /** Calls of each kind so far (for fault triggers and statistics). */
  mutatingCalls = 0;
  providerCalls = 0;
  reads = 0;
  autoKeys = 0;
  writes = 0;

  constructor(clock: VirtualClock, params: WorldParams) {
    this.clock = clock;
    this.params = params;
    this.#rng = new Rng(params.seed);
    this.#startMs = clock.now();
    this.#topoTimes[0] = clock.now();
    for (const b of params.preexistingBackups) {
      // A backup of another cluster: every slot with its own token.
      const data = new SlotMap();
      data.set(0, REDIS_SLOTS - 1, this.#nextToken++);
      this.#sink(sinkKey(b.sink)).set(b.id, { id: b.id, sink: { ...b.sink }, data, nodeGroups: [0], createdAtMs: -1 });
    }
  }

  // ───────────── reading the world (for the agent, the provider and the checks) ─────────────

  get nowMs(): number {
    return this.clock.now() - this.#startMs;
  }

  vm(vmId: string): SimVm | undefined {
    return this.#vms.get(vmId);
  }

  /** Every VM, sorted by id. */
  vms(): SimVm[] {
    return [...this.#vms.values()].sort((a, b) => byId(a.record.id, b.record.id));
  }

  /** Every data node that exists (not deleted). */
  liveNodes(): SimNode[] {
    return [...this.#nodes.values()].filter((n) => !n.deleted);
  }

  /** Slots a node serves as primary. */
  slotsOf(node: SimNode): SlotRange[] {
    return this.#owner.rangesOf(node.handle);
  }

  /** Slots served by some member primary. */
  ownedSlots(): number {
    return this.#owner.count();
  }

  /** The replicas that follow `primary`. */
  replicasOf(primary: SimNode): SimNode[] {
    return this.liveNodes().filter((n) => n.role === 'replica' && n.primary === primary);
  }

  inSync(n: SimNode): boolean {
    return n.role === 'replica' && n.up && !n.deleted && n.primary !== undefined && n.primary.up && !n.syncing;
  }

  /** The token of the last acknowledged write of each slot. */
  truth(): SlotMap {
    return this.#truth.clone();
  }

  backups(sink: string): SimBackup[] {
    return [...(this.#sinks.get(sink)?.values() ?? [])].sort((a, b) => byId(a.id, b.id));
  }

  backup(sink: string, id: string): SimBackup | undefined {
    return this.#sinks.get(sink)?.get(id);
  }

  /** The topology digest a node reports now ('' when down): the generation it has seen, and the ghosts it knows and the members it forgot. */
  digest(n: SimNode): string {
    if (!n.up || n.deleted) return '';
    if (!n.member) return `solo-${n.engineId.slice(0, 8)}`;
    const visibleAt = this.clock.now() - n.lag;
    let gen = this.#topoTimes.length - 1;
    while (gen > n.seenGen && (this.#topoTimes[gen] as number) > visibleAt) gen--;
    const odd: string[] = [];
    for (const t of this.#nodes.values()) {
      if (t === n || !t.member) continue;
      if (t.deleted && this.knows(n, t)) odd.push(`+${t.engineId.slice(0, 8)}`);
      else if (!t.deleted && t.forgotten.has(n.handle)) odd.push(`-${t.engineId.slice(0, 8)}`);
    }
    return odd.length === 0 ? `topology-${gen}` : `topology-${gen}${odd.sort().join('')}`;
  }

  /** Member `m` has `t` in its table: both are members and `m` has not forgotten `t` (a node of a ghost's own is no member). */
  knows(m: SimNode, t: SimNode): boolean {
    return m !== t && m.member && !m.deleted && t.member && !t.forgotten.has(m.handle);
  }

  /** Nodes that left (deleted) but that some member still knows. */
  ghosts(): SimNode[] {
    return [...this.#nodes.values()].filter((n) => n.deleted && n.member);
  }

  /** Ghosts no one has flagged failed yet (the leader cannot see them before). */
  unflaggedGhosts(): SimNode[] {
    return this.ghosts().filter((n) => !n.failFlag);
  }

  /** The engine ids `m` reports in failed_members: members it knows that are flagged failed and serve no slot. */
  failedMembersOf(m: SimNode): string[] {
    const out: string[] = [];
    for (const t of this.#nodes.values()) if (t.failFlag && this.knows(m, t) && this.#owner.count(t.handle) === 0) out.push(t.engineId);
    return out.sort();
  }

  /** All up members report the same digest. */
  agreed(): boolean {
    let seen: string | undefined;
    for (const n of this.#nodes.values()) {
      if (!n.member || !n.up || n.deleted) continue;
      const d = this.digest(n);
      if (seen === undefined) seen = d;
      else if (d !== seen) return false;
    }
    return true;
  }

  note(event: string): void {
    this.trace.push(`${(this.nowMs / 1000).toFixed(3)}s ${event}`);
    if (this.trace.length > 2 * TRACE_LIMIT) this.trace.splice(0, this.trace.length - TRACE_LIMIT);
  }

  violate(check: SafetyCheck, message: string): void {
    this.violations.push({ check, message, atMs: this.nowMs });
    this.note(`VIOLATION ${check}: ${message}`);
  }

  // ───────────── the provider's side ─────────────

  /** Fences a provider call and checks it does not come from a superseded leader. */
  providerFence(caller: Caller, what: string): void {
    if (caller.epoch < this.#providerEpoch) throw staleLeader(caller.epoch, this.#providerEpoch);
    this.#providerEpoch = caller.epoch;
    if (caller.leader < this.#providerLeader) {
      this.violate('stale-leader-accepted', `the VM provider accepted "${what}" from leader #${caller.leader} (epoch ${caller.epoch}) after leader #${this.#providerLeader} had used it`);
    }
    this.#providerLeader = Math.max(this.#providerLeader, caller.leader);
  }

  createVm(spec: VmSpec): VmRecord {
    const existing = this.#vms.get(spec.id);
    if (existing !== undefined) {
      if (existing.record.state === 'failed' && !existing.agentUp) this.#agentUp(existing);
      return { ...existing.record };
    }
    const port = this.#nextPort++;
    const record: VmRecord = {
      id: spec.id,
      zone: spec.zone,
      vmType: spec.vmType,
      storageGiB: spec.storageGiB,
      nodeGroup: spec.nodeGroup,
      temporary: spec.temporary,
      agentRunningSince: spec.agentRunningSince,
      endpoint: `sim-${spec.id}:7100`,
      dataHost: `sim-${spec.id}`,
      dataPort: port,
      state: 'running',
    };
    const booting = (this.params.agentStartMs ?? 0) > 0;
    const vm: SimVm = {
      record,
      agentUp: !booting,
      agentIncarnation: 1,
      agentFiles: new Map(),
      installed: new Set(this.params.installedAtCreate),
      acceptedLeader: 0,
      nodes: new Map(),
    };
    this.#vms.set(spec.id, vm);
    if (booting) {
      const inc = vm.agentIncarnation;
      this.clock.schedule(this.params.agentStartMs ?? 0, () => {
        if (this.#vms.get(spec.id) !== vm || vm.agentIncarnation !== inc || vm.agentUp) return;
        vm.agentUp = true;
        vm.agentIncarnation++;
        this.note(`the agent of ${spec.id} answers (booted)`);
      });
    }
    this.note(`created VM ${spec.id} (node group ${spec.nodeGroup}, ${spec.zone}${spec.temporary ? ', temporary' : ''})`);
    return { ...record };
  }

  deleteVm(vmId: string): void {
    const vm = this.#vms.get(vmId);
    if (vm === undefined) return;
    for (const n of vm.nodes.values()) {
      if (n.member && n.role !== 'none') {
        this.violate('vm-deleted-while-member', `VM ${vmId} was deleted while its data node ${n.id} was still a ${n.role} in the cluster (RemoveNode first)`);
      }
      if (n.role === 'primary' && this.#owner.count(n.handle) > 0) {
        this.violate('node-group-removed-with-data', `VM ${vmId} was deleted while its data node ${n.id} still served ${this.#owner.count(n.handle)} slots`);
      }
      this.#checkStop(n, 'deleted');
      const wasUp = n.up;
      this.#destroy(n);
      // Nobody tells the members: a member's node stays in their tables as a ghost.
      if (n.member) this.#ghostFails(n, wasUp);
    }
    this.#vms.delete(vmId);
    this.#settleGhosts();
    this.note(`deleted VM ${vmId}`);
    this.checkData(`after deleting VM ${vmId}`);
  }

  restartAgent(vmId: string, agentRunningSince: number): VmRecord {
    const vm = this.#vms.get(vmId);
    if (vm === undefined) throw new NotFoundError(`VM ${vmId} does not exist`);
    vm.record.agentRunningSince = agentRunningSince;
    this.#agentUp(vm);
    this.note(`restarted the agent of ${vmId} (agentRunningSince ${agentRunningSince})`);
    return { ...vm.record };
  }

  #agentUp(vm: SimVm): void {
    vm.agentUp = true;
    vm.agentIncarnation++;
    vm.record.state = 'running';
  }

  // ───────────── faults (not intentional: no safety check, but data is still watched) ─────────────

  crashNode(vmId: string): void {
    const vm = this.#vms.get(vmId);
    for (const n of vm?.nodes.values() ?? []) if (n.up) this.#goDown(n, 'crashed');
  }

  /**
   * The agent dies; the VM stays, and the provider lists it 'running' with its agent down
   * (the contract, operator/ports/vm-provider.ts: 'failed' is a lost VM), as the local
   * provider does for a killed agent process.
   */
  crashAgent(vmId: string): void {
    const vm = this.#vms.get(vmId);
    if (vm === undefined || !vm.agentUp) return;
    vm.agentUp = false;
    vm.agentIncarnation++;
    this.note(`the agent of ${vmId} crashed`);
  }

  /** The VM is lost: its data nodes and agent die, and the provider lists it 'failed'. */
  crashVm(vmId: string): void {
    this.crashNode(vmId);
    this.crashAgent(vmId);
    const vm = this.#vms.get(vmId);
    if (vm !== undefined) vm.record.state = 'failed';
  }

  /** Stopped on purpose (the provider's shutdown without purge): its agent (and, with `dataNodes`, its data nodes) stop; listed 'stopped'. */
  stopVm(vmId: string, dataNodes: boolean): void {
    const vm = this.#vms.get(vmId);
    if (vm === undefined) return;
    if (dataNodes) this.crashNode(vmId);
    this.crashAgent(vmId);
    vm.record.state = 'stopped';
  }

  // ───────────── clients ─────────────

  /**
   * Clients write to every slot a running primary serves: a fresh token per write,
   * copied to the primary's in-sync replicas (acknowledged writes).
   */
  write(): void {
    const token = this.#nextToken++;
    let wrote = 0;
    for (const n of this.#nodes.values()) {
      if (n.role !== 'primary' || !n.up || n.deleted) continue;
      for (const r of this.#owner.rangesOf(n.handle)) {
        n.data.set(r.start, r.end, token);
        this.#truth.set(r.start, r.end, token);
        wrote += r.end - r.start + 1;
      }
      n.dataVersion = newer(n.dataVersion, n.version);
      this.#replicate(n);
    }
    if (wrote > 0) {
      this.writes++;
      this.note(`clients wrote token ${token} to ${wrote} slots`);
    }
  }

  // ───────────── the agent's side: one method per RPC (the real agent core in front: sim-agent.ts) ─────────────

  /**
   * A call reached this agent's backend: the real fence admitted it. The world's own
   * check behind the fence: a mutating call accepted from a leader instance older than
   * one this agent already served is a violation, whatever the epochs say.
   */
  agentAccepted(vm: SimVm, caller: Caller, method: string, mutating: boolean): void {
    if (mutating && caller.leader < vm.acceptedLeader) {
      this.violate('stale-leader-accepted', `the agent of ${vm.record.id} accepted ${method} from leader #${caller.leader} (epoch ${caller.epoch}) after leader #${vm.acceptedLeader} had called it`);
    }
    vm.acceptedLeader = Math.max(vm.acceptedLeader, caller.leader);
  }

  getState(vm: SimVm): DecodedResponseOf<'GetState'> {
    const state: AgentState__Output = {
      agentId: vm.record.id,
      zone: vm.record.zone,
      engine: 'redis',
      agentVersion: 'sim',
      installedVersions: [...vm.installed].sort().map((v) => ({ version: v, programs: [programOf(v)] })),
      dataNodes: [...vm.nodes.values()].sort((a, b) => byId(a.id, b.id)).map((n) => this.#dataNode(n)),
      backups: [],
    };
    return { state };
  }

  ensureVersion(vm: SimVm, r: RequestOf<'EnsureVersion'>): DecodedResponseOf<'EnsureVersion'> {
    const version = required(r.version, 'version') as EngineVersion;
    if (ENGINE_PROGRAM[version] === undefined) throw new InvalidArgumentError('version', `unknown version ${JSON.stringify(version)}; known: 7.0, 8.0`);
    const changed = !vm.installed.has(version);
    vm.installed.add(version);
    return {
      outcome: outcome(r.job, changed, changed ? `Installed version ${version}` : `Version ${version} was already installed`),
      installed: { version, programs: [programOf(version)] },
    };
  }

  startDataNode(vm: SimVm, r: RequestOf<'StartDataNode'>): DecodedResponseOf<'StartDataNode'> {
    const nodeId = required(r.nodeId, 'node_id');
    const version = required(r.version, 'version') as EngineVersion;
    const port = r.port ?? 0;
    if (port < 1 || port > 65535) throw new InvalidArgumentError('port', `must be 1 … 65535, got ${port}`);
    const params = { ...(r.engineParams ?? {}) };
    for (const name of Object.keys(params)) {
      if (ownedParameter('redis', name) !== undefined) {
        throw new InvalidArgumentError(`engine_params[${JSON.stringify(name)}]`, 'is set by Coxswain itself and cannot be configured');
      }
    }
    const labels = labelsOf(r);
    if (!vm.installed.has(version)) {
      throw new FailedPreconditionError(`version ${version} is not installed on this agent; call EnsureVersion first`, { reason: 'ENGINE_NOT_INSTALLED' });
    }
    let n = vm.nodes.get(nodeId);
    if (n !== undefined && n.port !== port) {
      throw new AlreadyExistsError(`data node ${nodeId} was created with port ${n.port}, and a node keeps its port (asked for ${port})`, { reason: 'NODE_CONFLICT' });
    }
    if (n !== undefined && n.up) {
      if (n.version !== version || canonical(n.config) !== canonical(params)) {
        const differs = n.version !== version ? `version ${n.version}, not ${version}` : 'another configuration';
        throw new AlreadyExistsError(
          `data node ${nodeId} already runs with ${differs}; stop it first (after a planned failover, if it is a primary), then start it with the new settings`,
          { reason: 'NODE_CONFLICT' },
        );
      }
      return { outcome: outcome(r.job, false, `Data node ${nodeId} was already running on port ${port}`), node: this.#dataNode(n) };
    }
    if (n !== undefined && n.dataVersion !== undefined && versionNumber(n.dataVersion) > versionNumber(version)) {
      throw new FailedPreconditionError(
        `data node ${nodeId} holds data written by version ${n.dataVersion}; version ${version} cannot load it (Can't handle RDB format version 11)`,
      );
    }
    const created = n === undefined;
    if (n === undefined) {
      n = this.#newNode(vm.record.id, nodeId, port, r.nodeGroup ?? 0, version);
      vm.nodes.set(nodeId, n);
    }
    n.nodeGroup = r.nodeGroup ?? n.nodeGroup;
    n.version = version;
    n.config = params;
    if (labels !== undefined) n.labels = labels;
    this.#goUp(n);
    this.note(`started ${nodeId} (${version}${created ? ', new' : ''})`);
    return {
      outcome: outcome(r.job, true, `Started ${created ? 'new ' : ''}data node ${nodeId} with version ${version} on port ${port}`),
      node: this.#dataNode(n),
    };
  }

  stopDataNode(vm: SimVm, r: RequestOf<'StopDataNode'>): DecodedResponseOf<'StopDataNode'> {
    const n = this.#local(vm, r.nodeId);
    if (!n.up) return { outcome: outcome(r.job, false, `Data node ${n.id} was already stopped`), node: this.#dataNode(n) };
    this.#checkStop(n, 'stopped');
    this.#goDown(n, 'stopped');
    return { outcome: outcome(r.job, true, `Stopped data node ${n.id}; its data is kept`), node: this.#dataNode(n) };
  }

  joinNode(vm: SimVm, r: RequestOf<'JoinNode'>): DecodedResponseOf<'JoinNode'> {
    const n = this.#local(vm, r.nodeId);
    const role = joinRole(r.role);
    if (role === 'unspecified') throw new InvalidArgumentError('role', 'is required: JOIN_ROLE_PRIMARY_WITHOUT_DATA or JOIN_ROLE_REPLICA');
    if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it (StartDataNode) before joining it`);
    return role === 'replica' ? this.#joinReplica(n, r) : this.#joinPrimary(n, r);
  }

  #joinPrimary(n: SimNode, r: RequestOf<'JoinNode'>): DecodedResponseOf<'JoinNode'> {
    if (n.role === 'replica') throw new FailedPreconditionError(`data node ${n.id} is a replica; a replica becomes a primary by Failover`, { reason: 'WRONG_ROLE' });
    const member = r.clusterMember ?? undefined;
    let via: SimNode | undefined;
    if (member !== undefined && member !== null) {
      via = this.#byAddress(member.host ?? '', member.port ?? 0, member.engineNodeId ?? '');
      if (via === undefined || !via.member) throw new NotFoundError(`cluster member ${member.host ?? ''}:${member.port ?? 0} is not a node of the cluster`, { reason: 'UNKNOWN_NODE' });
      if (!via.up) throw new UnavailableError(`cluster member ${via.id} does not answer`, { reason: 'UNREACHABLE' });
    }
    const assign = (r.assignSlots ?? []).map((x) => ({ start: x.start ?? 0, end: x.end ?? 0 }));
    for (const x of assign) {
      if (x.start > x.end || x.end >= REDIS_SLOTS) throw new InvalidArgumentError('assign_slots', `bad range ${x.start}-${x.end}`);
      for (const run of this.#ownerRuns(x)) {
        if (run.value !== n.handle) {
          const owner = this.#nodes.get(run.value);
          throw new FailedPreconditionError(`slots ${run.start}-${run.end} are served by ${owner?.id ?? '?'}; only unowned slots can be assigned`, { reason: 'NOT_EMPTY' });
        }
      }
    }
    if (via === undefined && !n.member) {
      const others = this.liveNodes().filter((o) => o.member && o !== n);
      if (others.length > 0) {
        this.violate('split-cluster', `${n.id} founded a second cluster while ${others.map((o) => o.id).join(', ')} already form one`);
      }
    }
    const before = this.#owner.count(n.handle);
    const wasMember = n.member && n.role === 'primary';
    for (const x of assign) this.#owner.set(x.start, x.end, n.handle);
    n.member = true;
    n.role = 'primary';
    const changed = !wasMember || this.#owner.count(n.handle) !== before;
    if (changed) this.#topologyChanged(n, `${n.id} joined as a primary${assign.length > 0 ? ` with slots ${rangesText(assign)}` : ''}`);
    return {
      outcome: outcome(r.job, changed, changed ? `Joined data node ${n.id} as a primary with ${this.#owner.count(n.handle)} slots` : `Data node ${n.id} was already a primary`),
      node: this.#dataNode(n),
    };
  }

  #joinReplica(n: SimNode, r: RequestOf<'JoinNode'>): DecodedResponseOf<'JoinNode'> {
    const target = r.replicaOf ?? undefined;
    const engineId = target?.engineNodeId ?? '';
    if (engineId === '') throw new InvalidArgumentError('replica_of.engine_node_id', 'is required for JOIN_ROLE_REPLICA');
    if (engineId === n.engineId) throw new InvalidArgumentError('replica_of.engine_node_id', `is data node ${n.id} itself`);
    const p = this.liveNodes().find((o) => o.engineId === engineId && o.member);
    if (p === undefined) throw new NotFoundError(`no node with id ${engineId} in the cluster`, { reason: 'UNKNOWN_NODE' });
    if (p.role !== 'primary') throw new FailedPreconditionError(`${p.id} is not a primary; a replica follows a primary`, { reason: 'WRONG_ROLE' });
    if (!p.up) throw new UnavailableError(`primary ${p.id} does not answer`, { reason: 'UNREACHABLE' });
    if (n.role === 'replica' && n.primary === p) {
      return { outcome: outcome(r.job, false, `Data node ${n.id} was already a replica of ${engineId}`), node: this.#dataNode(n) };
    }
    if (n.role === 'primary' && this.#owner.count(n.handle) > 0) {
      throw new FailedPreconditionError(
        `data node ${n.id} serves ${this.#owner.count(n.handle)} slots as a primary; move its data away (MoveData) before making it a replica`,
        { reason: 'NOT_EMPTY' },
      );
    }
    if (n.role === 'primary' && this.replicasOf(n).length > 0) {
      throw new FailedPreconditionError(`data node ${n.id} still has replicas`, { reason: 'HAS_REPLICAS' });
    }
    n.member = true;
    n.role = 'replica';
    n.primary = p;
    n.incarnation++;
    this.#topologyChanged(n, `${n.id} joined as a replica of ${p.id}`);
    this.#startSync(n, true);
    return { outcome: outcome(r.job, true, `Joined data node ${n.id} as a replica of ${engineId}`), node: this.#dataNode(n) };
  }

  removeNode(vm: SimVm, r: RequestOf<'RemoveNode'>): DecodedResponseOf<'RemoveNode'> {
    const n = this.#local(vm, r.nodeId);
    if (n.up && n.role === 'primary' && this.#owner.count(n.handle) > 0) {
      throw new FailedPreconditionError(
        `data node ${n.id} still serves slots; move its data to another node group (MoveData) before removing it`,
        { reason: 'NOT_EMPTY' },
      );
    }
    if (n.up && n.role === 'primary' && this.replicasOf(n).some((x) => x.member)) {
      throw new FailedPreconditionError(`data node ${n.id} still has replicas; remove them first`, { reason: 'HAS_REPLICAS' });
    }
    if (n.role === 'primary' && this.#owner.count(n.handle) > 0) {
      this.violate('node-group-removed-with-data', `data node ${n.id} was removed (it was down) while it still served ${this.#owner.count(n.handle)} slots`);
    }
    // As the agent: the others must forget the node, so a member that is down and not
    // flagged failed (it would not forget, and would bring the node back) stops the removal;
    // one the cluster flagged failed does not.
    const missing = n.member && n.up ? this.liveNodes().filter((m) => m !== n && m.member && !m.up && !m.failFlag) : [];
    if (missing.length > 0) {
      throw new UnavailableError(`data node ${n.id} cannot be removed while ${missing.map((m) => m.id).join(', ')} is unreachable (it would not forget the node and could bring it back)`, {
        reason: 'UNREACHABLE',
      });
    }
    this.#checkStop(n, 'removed');
    const wasMember = n.member && n.up;
    vm.nodes.delete(n.id);
    this.#destroy(n);
    // An up member is forgotten by every up member (CLUSTER FORGET, 60 s ban); a member that
    // is down (flagged failed) keeps it and brings it back when it returns. A down node is
    // forgotten by nobody (nobody could tell it). Either stays a ghost until every member
    // forgot it; a ghost that only this node still knew is gone with it.
    if (wasMember) for (const m of this.liveNodes()) if (m.member && m.up) this.#forget(m, n);
    this.#settleGhosts(n);
    if (n.member) this.#ghostFails(n, wasMember);
    if (wasMember) this.#topologyChanged(undefined, `${n.id} left the cluster${n.member ? ` (a ghost: ${this.#knowers(n).map((m) => m.id).join(', ')} still know it)` : ''}`);
    this.note(`removed ${n.id}`);
    this.checkData(`after removing ${n.id}`);
    return { outcome: outcome(r.job, true, `Removed data node ${n.id}${wasMember ? ' from the cluster' : ''}, stopped it and deleted its data`) };
  }

  /**
   * ForgetNode as the agent (agent/engines/redis/redis-backend.ts forgetNode): the local
   * node forgets a member it flags failed that serves no slot — never itself, never its
   * own primary. `changed: false` when it does not know the node. Forgetting a node that
   * still exists (not a ghost) is a safety violation (the leader must forget only
   * members no VM runs); its effect is modelled all the same.
   */
  forgetNode(vm: SimVm, r: RequestOf<'ForgetNode'>): DecodedResponseOf<'ForgetNode'> {
    const n = this.#local(vm, r.nodeId);
    const id = required(r.engineNodeId, 'engine_node_id');
    if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it before making it forget a node`);
    if (id === n.engineId) throw new FailedPreconditionError(`node ${id} is data node ${n.id} itself, which runs`, { reason: 'NOT_FAILED' });
    const t = [...this.#nodes.values()].find((x) => x.engineId === id);
    if (t === undefined || !this.knows(n, t)) {
      return { outcome: outcome(r.job, false, `Data node ${n.id} does not know node ${id}; nothing to forget`), node: this.#dataNode(n) };
    }
    if (!t.failFlag) throw new FailedPreconditionError(`data node ${n.id} does not flag node ${id} failed: it is not dead`, { reason: 'NOT_FAILED' });
    if (this.#owner.count(t.handle) > 0) throw new FailedPreconditionError(`node ${id} is flagged failed but serves slots`, { reason: 'NOT_EMPTY' });
    if (n.role === 'replica' && n.primary === t) throw new FailedPreconditionError(`data node ${n.id} is a replica of ${id}, and Redis does not let a replica forget its own primary`, { reason: 'WRONG_ROLE' });
    if (!t.deleted) {
      this.violate('forgot-live-node', `data node ${n.id} was made to forget ${t.id} (${id.slice(0, 8)}…), a node of VM ${t.vmId} that still exists (down, flagged failed): only members no VM runs may be forgotten`);
    }
    this.#forget(n, t);
    this.ghostsChangedAt = this.clock.now();
    this.note(`${n.id} forgot ${t.id}`);
    this.#settleGhosts();
    return { outcome: outcome(r.job, true, `Data node ${n.id} forgot failed node ${id.slice(0, 8)}…`), node: this.#dataNode(n) };
  }

  /**
   * A stranger joins and dies: a node no VM of the cluster runs is met into the cluster
   * as an empty primary and killed (as test/e2e/stranger.test.ts does to a real cluster).
   * Returns false, changing nothing, when no member runs to meet it.
   */
  strangerJoinsAndDies(): boolean {
    const via = this.liveNodes().find((m) => m.member && m.up);
    if (via === undefined) return false;
    const n = this.#newNode('', `stranger-${++this.#strangers}`, 0, -1, via.version);
    n.member = true;
    n.role = 'primary';
    n.deleted = true;
    n.downAtMs = this.nowMs;
    this.#topologyChanged(undefined, `${n.id} (${n.engineId.slice(0, 8)}…, no VM runs it) joined the cluster through ${via.id} and died`);
    this.#ghostFails(n, true);
    return true;
  }

  failover(vm: SimVm, r: RequestOf<'Failover'>): DecodedResponseOf<'Failover'> {
    const n = this.#local(vm, r.nodeId);
    if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it before promoting it`);
    if (n.role === 'primary') {
      if (this.#owner.count(n.handle) === 0) throw new FailedPreconditionError(`data node ${n.id} is a primary without slots, not a replica`, { reason: 'WRONG_ROLE' });
      return { outcome: outcome(r.job, false, `Data node ${n.id} was already a primary`), node: this.#dataNode(n), formerPrimaryEngineNodeId: '' };
    }
    if (n.role !== 'replica' || n.primary === undefined) {
      throw new FailedPreconditionError(`data node ${n.id} is not a replica (${n.role}); only a replica can be promoted`, { reason: 'WRONG_ROLE' });
    }
    const p = n.primary;
    if (!p.up) throw new UnavailableError(`the primary ${p.id} of replica ${n.id} is down, and a planned failover needs it`, { reason: 'UNREACHABLE' });
    if (!this.agreed()) throw notAgreed('failover');
    if (!this.inSync(n)) throw new UnavailableError(`replica ${n.id} is not in sync with ${p.id} yet`, { reason: 'NOT_IN_SYNC' });
    this.#promote(n, true);
    return { outcome: outcome(r.job, true, `Promoted data node ${n.id} to primary in place of ${p.engineId}`), node: this.#dataNode(n), formerPrimaryEngineNodeId: p.engineId };
  }

  moveData(vm: SimVm, r: RequestOf<'MoveData'>): DecodedResponseOf<'MoveData'> {
    const source = this.#local(vm, r.sourceNodeId);
    const targetId = r.target?.engineNodeId ?? '';
    if (targetId === '') throw new InvalidArgumentError('target.engine_node_id', 'is required');
    if (targetId === source.engineId) throw new InvalidArgumentError('target.engine_node_id', `is the source ${source.id} itself`);
    if (!source.up || source.role !== 'primary') {
      throw new FailedPreconditionError(`data node ${source.id} is not a running primary; data moves from a running primary only`, { reason: 'WRONG_ROLE' });
    }
    const target = this.liveNodes().find((o) => o.engineId === targetId && o.member);
    if (target === undefined) throw new NotFoundError(`no node with id ${targetId} in the cluster`, { reason: 'UNKNOWN_NODE' });
    if (target.role !== 'primary') throw new FailedPreconditionError(`${target.id} is not a primary; data moves to a primary`, { reason: 'WRONG_ROLE' });
    if (!target.up) throw new UnavailableError(`target ${target.id} does not answer`, { reason: 'UNREACHABLE' });
    if (versionNumber(source.version) > versionNumber(target.version)) {
      throw new FailedPreconditionError(`cannot move slots from ${source.version} to ${target.version}: MIGRATE payloads of a newer version do not load in an older one`);
    }
    if (!this.agreed()) throw notAgreed('moveData');
    const owned = this.#owner.rangesOf(source.handle);
    let moving: SlotRange[];
    const selection = r.selection ?? (r.slots !== undefined && r.slots !== null ? 'slots' : r.all === true ? 'all' : r.slotCount !== undefined ? 'slotCount' : undefined);
    if (selection === 'all') moving = owned;
    else if (selection === 'slotCount') moving = lowestSlots(owned, r.slotCount ?? 0);
    else if (selection === 'slots') {
      // As the real agent (slot-migration.ts moveSlots): slots already at the target are
      // skipped, so a repeated move changes nothing; a slot served by neither the source nor
      // the target (a third node took it, or nobody serves it) refuses the whole call before
      // anything moves. Refusing is the safe choice: the step was planned from an
      // observation that is wrong about who serves its slots, and moving the rest would act
      // on that stale plan; a refusal changes nothing, and the leader plans again from a
      // fresh observation.
      const wanted = mergeRanges((r.slots?.ranges ?? []).map((x) => ({ start: x.start ?? 0, end: x.end ?? 0 })));
      moving = intersect(owned, wanted);
      const already = intersect(this.#owner.rangesOf(target.handle), wanted);
      if (slotsIn(moving) + slotsIn(already) < slotsIn(wanted)) {
        const elsewhere = subtract(subtract(wanted, owned), already);
        throw new InvalidArgumentError(
          'slots',
          `moveSlots: slots ${rangesText(elsewhere)} are served by neither ${source.id} nor the target ${target.id}. What to do: recompute the move from the current topology`,
        );
      }
    } else throw new InvalidArgumentError('selection', 'one of slots, slot_count or all is required');
    if (moving.length === 0) return { outcome: outcome(r.job, false, `No slots left to move from data node ${source.id}`), moved: [] };
    for (const x of moving) {
      this.#owner.set(x.start, x.end, target.handle);
      target.data.copyRange(source.data, x.start, x.end);
      source.data.set(x.start, x.end, 0);
    }
    target.dataVersion = newer(target.dataVersion, target.version);
    this.#replicate(source);
    this.#replicate(target);
    this.#topologyChanged(source, `moved ${slotsIn(moving)} slots from ${source.id} to ${target.id}`);
    this.checkData(`after moving slots from ${source.id} to ${target.id}`);
    return { outcome: outcome(r.job, true, `Moved ${slotsIn(moving)} slots from data node ${source.id} to ${targetId}`), moved: moving.map((x) => ({ ...x })) };
  }

  configureDataNode(vm: SimVm, r: RequestOf<'ConfigureDataNode'>): DecodedResponseOf<'ConfigureDataNode'> {
    const n = this.#local(vm, r.nodeId);
    const params = { ...(r.engineParams ?? {}) };
    if (Object.keys(params).length === 0) throw new InvalidArgumentError('engine_params', 'name at least one parameter');
    for (const name of Object.keys(params)) {
      if (ownedParameter('redis', name) !== undefined) {
        throw new InvalidArgumentError(`engine_params[${JSON.stringify(name)}]`, 'is set by Coxswain itself and cannot be configured');
      }
    }
    if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running; start it before configuring it`);
    const changed = Object.keys(params).filter((k) => n.config[k] !== params[k]).sort();
    Object.assign(n.config, params);
    const labels = labelsOf(r);
    if (labels !== undefined) n.labels = labels;
    return {
      outcome: outcome(r.job, changed.length > 0, changed.length > 0 ? `Configured ${changed.join(', ')} on data node ${n.id}` : `Data node ${n.id} already had these parameters`),
      applied: changed.filter((k) => settableParameter('redis', k)?.apply !== 'restart'),
      pendingRestart: changed.filter((k) => settableParameter('redis', k)?.apply === 'restart'),
    };
  }

  createBackup(vm: SimVm, r: RequestOf<'CreateBackup'>): DecodedResponseOf<'CreateBackup'> {
    const id = required(r.backupId, 'backup_id');
    const sink = sinkOf(r.sink);
    const key = sinkKey(sink);
    const existing = this.#sinks.get(key)?.get(id);
    if (existing !== undefined) return { outcome: outcome(r.job, false, `Backup ${id} already existed`), backup: this.#backupInfo(existing) };
    if (![...vm.nodes.values()].some((n) => n.up)) throw new FailedPreconditionError('no data node runs on this agent; start one before backing up or restoring');
    this.#requireServing('back up the cluster');
    if (!this.agreed()) throw notAgreed('createBackup');
    const data = new SlotMap();
    const groups = new Set<number>();
    for (const n of this.#nodes.values()) {
      if (n.role !== 'primary' || n.deleted) continue;
      for (const x of this.#owner.rangesOf(n.handle)) {
        data.copyRange(n.data, x.start, x.end);
        groups.add(n.nodeGroup);
      }
    }
    const backup: SimBackup = { id, sink, data, nodeGroups: [...groups].sort((a, b) => a - b), createdAtMs: this.nowMs };
    this.#sink(key).set(id, backup);
    this.note(`created backup ${id} in ${key}`);
    return { outcome: outcome(r.job, true, `Created backup ${id}`), backup: this.#backupInfo(backup) };
  }

  restoreBackup(vm: SimVm, r: RequestOf<'RestoreBackup'>): DecodedResponseOf<'RestoreBackup'> {
    const id = required(r.backupId, 'backup_id');
    const sink = sinkOf(r.sink);
    if ((r.nodeIds ?? []).length === 0) throw new InvalidArgumentError('node_ids', 'name at least one data node to restore into');
    for (const nodeId of r.nodeIds ?? []) this.#local(vm, nodeId);
    const backup = this.#sinks.get(sinkKey(sink))?.get(id);
    if (backup === undefined) throw new NotFoundError(`backup ${id} is not in sink ${sinkKey(sink)}; ListBackups shows what the sink holds`);
    this.#requireServing('restore into the cluster');
    const holdsData = [...this.#nodes.values()].some((n) => n.role === 'primary' && !n.deleted && !n.data.isEmpty());
    if (holdsData) {
      if (this.restoredFrom === id) return { outcome: outcome(r.job, false, `Backup ${id} was already restored`) };
      throw new FailedPreconditionError(`the cluster already holds data; a backup is restored into an empty cluster only`, { reason: 'NOT_EMPTY' });
    }
    for (const n of this.#nodes.values()) {
      if (n.role !== 'primary' || n.deleted) continue;
      for (const x of this.#owner.rangesOf(n.handle)) n.data.copyRange(backup.data, x.start, x.end);
      n.dataVersion = newer(n.dataVersion, n.version);
      this.#replicate(n);
    }
    this.#truth = backup.data.clone();
    this.restoredFrom = id;
    this.note(`restored backup ${id}`);
    return { outcome: outcome(r.job, true, `Restored backup ${id}`) };
  }

  deleteBackup(_vm: SimVm, r: RequestOf<'DeleteBackup'>): DecodedResponseOf<'DeleteBackup'> {
    const id = required(r.backupId, 'backup_id');
    const sink = sinkOf(r.sink);
    const key = sinkKey(sink);
    const restore = this.desired?.restoreFromBackup;
    if (restore !== undefined && restore.id === id && sinkKey(restore.sink) === key && this.#sinks.get(key)?.has(id) === true) {
      this.violate('restore-backup-deleted', `backup ${id} in ${key} was deleted although restoreFromBackup names it`);
    }
    const deleted = this.#sinks.get(key)?.delete(id) ?? false;
    if (deleted) this.note(`deleted backup ${id} from ${key}`);
    return { outcome: outcome(r.job, deleted, deleted ? `Deleted backup ${id}` : `Backup ${id} was already gone`) };
  }

  listBackups(r: RequestOf<'ListBackups'>): DecodedResponseOf<'ListBackups'> {
    if (r.sink === undefined || r.sink === null) return { backups: [] };
    const key = sinkKey(sinkOf(r.sink));
    return { backups: this.backups(key).map((b) => this.#backupInfo(b)) };
  }

  // ───────────── data watch ─────────────

  /** Records every slot whose last acknowledged write no node holds any more. */
  checkData(context: string): void {
    if (this.#truth.isEmpty()) return;
    const holders = this.liveNodes().map((n) => n.data);
    const missing = this.#truth.coveredBy(holders);
    if (missing.length === 0) return;
    for (const m of missing) {
      this.violate('data-lost', `${context}: slots ${m.start}-${m.end} lost their data (token ${m.value}): no node holds it any more`);
      this.#truth.set(m.start, m.end, 0); // reported once
    }
  }

  // ───────────── internals ─────────────

  #sink(key: string): Map<string, SimBackup> {
    let s = this.#sinks.get(key);
    if (s === undefined) {
      s = new Map();
      this.#sinks.set(key, s);
    }
    return s;
  }

  #local(vm: SimVm, nodeId: string | undefined): SimNode {
    const id = required(nodeId, 'node_id');
    const n = vm.nodes.get(id);
    if (n === undefined) throw new NotFoundError(`data node ${id} is not on this agent`);
    return n;
  }

  #byAddress(host: string, port: number, engineId: string): SimNode | undefined {
    return this.liveNodes().find((o) => (engineId !== '' && o.engineId === engineId) || (o.port === port && this.#vms.get(o.vmId)?.record.dataHost === host));
  }

  #ownerRuns(x: SlotRange): { start: number; end: number; value: number }[] {
    const m = new SlotMap();
    m.copyRange(this.#owner, x.start, x.end);
    return m.runs();
  }

  #newNode(vmId: string, id: string, port: number, nodeGroup: number, version: EngineVersion): SimNode {
    const n: SimNode = {
      handle: this.#nextHandle++,
      id,
      vmId,
      nodeGroup,
      port,
      engineId: this.#rng.hex40(),
      member: false,
      role: 'none',
      primary: undefined,
      up: false,
      deleted: false,
      version,
      dataVersion: undefined,
      config: {},
      labels: {},
      data: new SlotMap(),
      syncing: false,
      needsFullSync: false,
      incarnation: 0,
      downAtMs: 0,
      failFlag: false,
      lag: this.#rng.int(0, this.params.convergeMs),
      seenGen: 0,
      eligible: false,
      forgotten: new Map(),
    };
    this.#nodes.set(n.handle, n);
    return n;
  }

  /** Checks an intentional stop/removal/deletion of `n` against invariants 1 and 2. */
  #checkStop(n: SimNode, how: 'stopped' | 'removed' | 'deleted'): void {
    if (!n.up || this.desired?.running === false) return;
    const p = n.role === 'primary' ? n : n.role === 'replica' ? n.primary : undefined;
    if (p === undefined || p.deleted || this.#owner.count(p.handle) === 0) return;
    const group = [p, ...this.replicasOf(p)];
    const copy = (x: SimNode): boolean => x.up && !x.deleted && (x === p || (x.primary === p && !x.syncing));
    const copiesBefore = group.filter(copy);
    const copiesAfter = copiesBefore.filter((x) => x !== n);
    if (copiesBefore.length > 0 && copiesAfter.length === 0) {
      this.violate('last-live-copy', `${n.id} was ${how} while it held the last live copy of node group ${p.nodeGroup}'s data (${this.#owner.count(p.handle)} slots)`);
    }
    if (how === 'stopped') {
      if (n === p && group.some((x) => x !== p && copy(x))) {
        this.violate('primary-stopped-without-failover', `primary ${n.id} of node group ${p.nodeGroup} was stopped while its replica ${group.filter((x) => x !== p && copy(x)).map((x) => x.id).join(', ')} could have taken over (planned failover first)`);
      }
      const downAfter = group.filter((x) => x === n || !x.up);
      if (downAfter.length >= 2) {
        this.violate('two-down-in-group', `${n.id} was stopped while ${downAfter.filter((x) => x !== n).map((x) => x.id).join(', ')} of node group ${p.nodeGroup} was down too`);
      }
    }
  }

  #goUp(n: SimNode): void {
    n.up = true;
    n.incarnation++;
    // A restart loses the node's FORGET bans (they live in memory only); the ghosts it
    // still knows reach, by gossip, every member whose ban has ended.
    for (const t of this.#nodes.values()) if (t.forgotten.has(n.handle)) t.forgotten.set(n.handle, Math.min(t.forgotten.get(n.handle) ?? 0, this.clock.now()));
    this.#regossip();
    if (n.failFlag) {
      n.failFlag = false;
      this.#topologyChanged(n, `${n.id} is reachable again`);
    }
    if (n.role === 'replica' && n.primary !== undefined) {
      // The replica catches up with its primary (fully, if the primary changed under it).
      if (n.primary.deleted) {
        n.role = 'primary';
        n.primary = undefined;
      } else this.#startSync(n, n.needsFullSync);
    }
    if (n.role === 'primary') for (const r of this.replicasOf(n)) if (r.up) this.#startSync(r, r.needsFullSync);
  }

  #goDown(n: SimNode, how: 'stopped' | 'crashed'): void {
    if (n.role === 'primary') for (const r of this.replicasOf(n)) r.eligible = this.inSync(r);
    n.up = false;
    n.incarnation++;
    n.downAtMs = this.nowMs;
    this.note(`${n.id} ${how} (${n.role})`);
    if (!n.member) return;
    const inc = n.incarnation;
    this.clock.schedule(this.params.nodeTimeoutMs, () => {
      if (n.incarnation !== inc || n.up || n.deleted) return;
      n.failFlag = true;
      this.#topologyChanged(undefined, `${n.id} flagged failed after node-timeout`);
      this.#autoFailover(n);
    });
  }

  /** Redis: a failed primary is replaced by an eligible replica when a majority of primaries is up. */
  #autoFailover(p: SimNode): void {
    if (p.role !== 'primary' || this.#owner.count(p.handle) === 0) return;
    const primaries = this.liveNodes().filter((x) => x.member && x.role === 'primary' && this.#owner.count(x.handle) > 0);
    const upVoters = primaries.filter((x) => x.up).length;
    if (upVoters * 2 <= primaries.length) {
      this.note(`no automatic failover for ${p.id}: ${upVoters} of ${primaries.length} primaries up`);
      return;
    }
    const candidate = this.replicasOf(p)
      .filter((r) => r.up && r.eligible)
      .sort((a, b) => byId(a.id, b.id))[0];
    if (candidate === undefined) {
      this.note(`no automatic failover for ${p.id}: no replica was in sync when it failed`);
      return;
    }
    this.#promote(candidate, false);
  }

  #promote(r: SimNode, planned: boolean): void {
    const p = r.primary as SimNode;
    for (const x of this.#owner.rangesOf(p.handle)) this.#owner.set(x.start, x.end, r.handle);
    const others = this.replicasOf(p).filter((x) => x !== r);
    r.role = 'primary';
    r.primary = undefined;
    r.syncing = false;
    r.incarnation++;
    p.role = 'replica';
    p.primary = r;
    p.incarnation++;
    if (planned) p.syncing = false; // the old primary hands over its offset
    else p.needsFullSync = true; // it comes back as a replica and resyncs fully
    for (const o of others) {
      o.primary = r;
      o.incarnation++;
      if (o.up) this.#startSync(o, false);
      else o.needsFullSync = true;
    }
    this.#topologyChanged(r, `${planned ? 'planned failover' : 'automatic failover'}: ${r.id} replaced ${p.id} as primary`);
  }

  #startSync(r: SimNode, full: boolean): void {
    const p = r.primary;
    if (p === undefined) return;
    r.syncing = true;
    const inc = ++r.incarnation;
    const finish = (): void => {
      if (r.incarnation !== inc || !r.up || r.deleted || r.role !== 'replica' || r.primary !== p) return;
      if (!p.up) return; // resumes when the primary is back (#goUp)
      if (versionNumber(r.version) < versionNumber(p.version)) {
        // A 7.0 replica of an 8.0 primary loops on the full sync and wipes its data.
        r.data = new SlotMap();
        this.note(`${r.id} (${r.version}) cannot sync from ${p.id} (${p.version}); its data is wiped`);
        this.checkData(`after ${r.id} failed to sync`);
        return;
      }
      r.syncing = false;
      r.needsFullSync = false;
      r.data = p.data.clone();
      r.dataVersion = newer(r.dataVersion, r.version);
      this.note(`${r.id} is in sync with ${p.id}`);
      this.checkData(`after ${r.id} synced from ${p.id}`);
    };
    this.clock.schedule(full ? this.params.fullSyncMs : this.params.partialSyncMs, finish);
  }

  /** Copies a primary's data to its in-sync replicas (replication of every change). */
  #replicate(p: SimNode): void {
    for (const r of this.replicasOf(p)) {
      if (!this.inSync(r)) continue;
      r.data = p.data.clone();
      r.dataVersion = newer(r.dataVersion, r.version);
    }
  }

  /** Member `m` forgets `t` (ban for FORGET_BAN_MS; then gossip may bring `t` back). */
  #forget(m: SimNode, t: SimNode): void {
    t.forgotten.set(m.handle, this.clock.now() + FORGET_BAN_MS);
    this.clock.schedule(FORGET_BAN_MS, () => this.#regossip());
  }

  /** The members (not deleted) that still know `t`, up or down. */
  #knowers(t: SimNode): SimNode[] {
    return [...this.#nodes.values()].filter((m) => this.knows(m, t));
  }

  /**
   * Gossip: for every node some up member knows (or that runs itself), each member whose
   * ban on it has ended learns it again.
   */
  #regossip(): void {
    const now = this.clock.now();
    for (const t of this.#nodes.values()) {
      if (!t.member || t.forgotten.size === 0) continue;
      const spread = (t.up && !t.deleted) || this.#knowers(t).some((m) => m.up);
      if (!spread) continue;
      for (const [h, until] of t.forgotten) {
        if (until > now) continue;
        t.forgotten.delete(h);
        const m = this.#nodes.get(h);
        if (m !== undefined && m.member && !m.deleted) {
          this.ghostsChangedAt = now;
          this.note(`${m.id} learnt ${t.id} (${t.engineId.slice(0, 8)}…) again by gossip: its FORGET ban ended`);
        }
      }
    }
  }

  /** A ghost that no member knows any more is gone for good (`leaving`, a node being removed right now, without a note). */
  #settleGhosts(leaving?: SimNode): void {
    for (const t of this.ghosts()) {
      if (this.#knowers(t).length > 0) continue;
      t.member = false;
      t.forgotten.clear();
      if (t === leaving) continue;
      this.ghostsChangedAt = this.clock.now();
      this.note(`${t.id} (${t.engineId.slice(0, 8)}…) is forgotten by every member: gone`);
    }
  }

  /** A member's node that is gone (deleted) but still known is flagged failed after node-timeout, like any member that stopped answering. */
  #ghostFails(n: SimNode, justNow: boolean): void {
    this.ghostsChangedAt = this.clock.now();
    if (n.failFlag) return;
    if (justNow) n.downAtMs = this.nowMs;
    const inc = n.incarnation;
    this.clock.schedule(Math.max(0, n.downAtMs + this.params.nodeTimeoutMs - this.nowMs), () => {
      if (n.incarnation !== inc || n.failFlag || !n.member) return;
      n.failFlag = true;
      this.ghostsChangedAt = this.clock.now();
      this.#topologyChanged(undefined, `${n.id} (gone) flagged failed after node-timeout`);
    });
  }

  #destroy(n: SimNode): void {
    n.up = false;
    n.deleted = true;
    n.incarnation++;
    n.data = new SlotMap();
  }

  #topologyChanged(actor: SimNode | undefined, what: string): void {
    if (this.#owner.count() === REDIS_SLOTS) this.everFormed = true;
    this.#topoTimes.push(this.clock.now());
    if (actor !== undefined) actor.seenGen = this.#topoTimes.length - 1;
    this.note(what);
  }

  /** Every slot is served by a running primary. */
  #requireServing(what: string): void {
    if (this.#owner.count() < REDIS_SLOTS) {
      throw new FailedPreconditionError(`cannot ${what}: only ${this.#owner.count()} of ${REDIS_SLOTS} slots are assigned`);
    }
    for (const run of this.#owner.runs()) {
      const owner = this.#nodes.get(run.value);
      if (owner === undefined || !owner.up || owner.deleted) {
        throw new UnavailableError(`cannot ${what}: slots ${run.start}-${run.end} are served by ${owner?.id ?? '?'}, which is down`, { reason: 'UNREACHABLE' });
      }
    }
  }

  #dataNode(n: SimNode): DataNode__Output & { labels: Record<string, string> } {
    const up = n.up && !n.deleted;
    const role = !up ? 'NODE_ROLE_UNSPECIFIED' : !n.member || n.role === 'none' ? 'NODE_ROLE_NONE' : n.role === 'primary' ? 'NODE_ROLE_PRIMARY' : 'NODE_ROLE_REPLICA';
    const params: Record<string, string> = {};
    if (up) {
      params['topology_digest'] = this.digest(n);
      params['cluster_state'] = this.#owner.count() === REDIS_SLOTS ? 'ok' : 'fail';
      params['known_nodes'] = String(n.member ? 1 + [...this.#nodes.values()].filter((o) => this.knows(n, o)).length : 1);
      const failed = n.member ? this.failedMembersOf(n) : [];
      if (failed.length > 0) params['failed_members'] = failed.join(',');
      if (n.role === 'replica') {
        params['master_link_status'] = n.primary?.up === true ? 'up' : 'down';
        params['in_sync'] = this.inSync(n) ? 'yes' : 'no';
      }
    }
    return {
      id: n.id,
      engineNodeId: n.engineId,
      program: programOf(n.version),
      port: n.port,
      role,
      primaryEngineNodeId: up && n.role === 'replica' ? (n.primary?.engineId ?? '') : '',
      nodeGroup: n.nodeGroup,
      slots: up && n.role === 'primary' ? this.#owner.rangesOf(n.handle) : [],
      pid: up ? 1000 + n.handle : 0,
      up,
      version: n.version,
      dataDirUsage: null,
      engineParams: params,
      labels: { ...n.labels },
    };
  }

  #backupInfo(b: SimBackup): BackupInfo__Output {
    return {
      backupId: b.id,
      sink: { local: { path: b.sink.path }, kind: 'local' },
      status: 'BACKUP_STATUS_COMPLETE',
      createdAt: new Date(this.clock.now()).toISOString(),
      parts: b.nodeGroups.map((g) => ({ nodeGroup: g, dataNodeId: '', sizeBytes: '0' })),
      detail: '',
    };
  }
}

// ───────────────────────────── helpers ─────────────────────────────

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function programOf(version: string): string {
  return ENGINE_PROGRAM[version] ?? 'redis-server';
}

function versionNumber(v: string): number {
  return Number.parseFloat(v);
}

function newer(a: EngineVersion | undefined, b: EngineVersion): EngineVersion {
  return a === undefined || versionNumber(b) > versionNumber(a) ? b : a;
}

function canonical(o: Record<string, string>): string {
  return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw new InvalidArgumentError(field, 'is required');
  return value;
}

function outcome(job: RequestOf<'StopDataNode'>['job'], changed: boolean, message: string): DecodedResponseOf<'StopDataNode'>['outcome'] {
  return { message, changed, job: { jobId: job?.jobId ?? '', stepId: job?.stepId ?? '' } };
}

function joinRole(role: RequestOf<'JoinNode'>['role']): 'primary' | 'replica' | 'unspecified' {
  if (role === 'JOIN_ROLE_PRIMARY_WITHOUT_DATA' || role === 1) return 'primary';
  if (role === 'JOIN_ROLE_REPLICA' || role === 2) return 'replica';
  return 'unspecified';
}

function sinkOf(sink: Sink | null | undefined): { type: 'local'; path: string } {
  const path = sink?.local?.path;
  if (path === undefined || path === null || path === '') throw new InvalidArgumentError('sink', 'a sink is required (local, with a path)');
  return { type: 'local', path };
}

/** The leader's labels of a request, when the contract carries them (read defensively: older protos lack the field). */
function labelsOf(r: object): Record<string, string> | undefined {
  const labels = (r as { labels?: unknown }).labels;
  if (labels === undefined || labels === null || typeof labels !== 'object') return undefined;
  return Object.fromEntries(Object.entries(labels as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function intersect(a: readonly SlotRange[], b: readonly SlotRange[]): SlotRange[] {
  const out: SlotRange[] = [];
  for (const x of a) {
    for (const y of b) {
      const s = Math.max(x.start, y.start);
      const e = Math.min(x.end, y.end);
      if (s <= e) out.push({ start: s, end: e });
    }
  }
  return out.sort((p, q) => p.start - q.start);
}

/** Sorted ranges, overlapping or adjacent ones merged. */
function mergeRanges(ranges: readonly SlotRange[]): SlotRange[] {
  const out: SlotRange[] = [];
  for (const r of [...ranges].sort((p, q) => p.start - q.start)) {
    const last = out.at(-1);
    if (last !== undefined && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The slots of `a` (merged ranges) that are not in `b`. */
function subtract(a: readonly SlotRange[], b: readonly SlotRange[]): SlotRange[] {
  let out = mergeRanges(a);
  for (const y of b) {
    const next: SlotRange[] = [];
    for (const x of out) {
      if (y.end < x.start || y.start > x.end) next.push(x);
      else {
        if (x.start < y.start) next.push({ start: x.start, end: y.start - 1 });
        if (y.end < x.end) next.push({ start: y.end + 1, end: x.end });
      }
    }
    out = next;
  }
  return out;
}

function notAgreed(op: string): UnavailableError {
  return new UnavailableError(`${op}: the nodes do not agree on the topology yet; retry shortly`, { reason: 'NOT_AGREED' });
}

function staleLeader(presented: number, seen: number): StaleLeaderError {
  return new StaleLeaderError(presented, seen);
}
