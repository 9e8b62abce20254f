// A small in-memory cluster for the unit tests of observe, the executor and the
// reconciler: a VmProvider whose agents (AgentPort) answer at once, keep a log of every
// call, and fail on demand (`fail(...)`). It models just enough Redis Cluster for the
// real planner to form a cluster: nodes start, join as primaries with slots or as
// replicas (always in sync), and every member reports the same topology digest.
// Ghosts (addGhost: a failed, slotless member no VM runs) are reported by the members
// that know them (failed_members) until each has forgotten them (ForgetNode).
// The generative tests have the faithful simulation (test/generative/world.ts).
import type { VmSpec } from '../../model/step.ts';
import type { SlotRange } from '../../model/observed.ts';
import type { AgentCallOptions, AgentPort } from '../../ports/agent-port.ts';
import type { VmProvider, VmRecord } from '../../ports/vm-provider.ts';
import type { DecodedResponseOf, RequestOf, UnaryMethod } from '../../../proto/methods.ts';
import type { DataNode__Output } from '../../../proto/generated/coxswain/agent/v1/DataNode.ts';
import { FailedPreconditionError, NotFoundError, UnavailableError } from '../../../proto/status.ts';

export interface FakeNode {
  id: string;
  engineNodeId: string;
  port: number;
  nodeGroup: number;
  version: string;
  up: boolean;
  role: 'none' | 'primary' | 'replica';
  /** Engine id of the primary, for a replica. */
  primary: string;
  slots: SlotRange[];
  labels: Record<string, string>;
  config: Record<string, string>;
}

export interface FakeVm {
  record: VmRecord;
  agentUp: boolean;
  installed: Set<string>;
  nodes: Map<string, FakeNode>;
}

/** One call the fake saw. */
export interface FakeCall {
  /** "GetState", "StartDataNode", "provider.create" … */
  method: string;
  vmId: string;
  request: unknown;
  idempotencyKey: string | undefined;
  deadlineMs: number | undefined;
}

interface Fault {
  method: string;
  vmId: string | undefined;
  error: () => Error;
  times: number;
}

export class FakeCluster implements VmProvider {
  readonly vms = new Map<string, FakeVm>();
  readonly calls: FakeCall[] = [];
  /** sinkKey → backup ids. */
  readonly backups = new Map<string, Set<string>>();
  /** Versions a new VM has installed. */
  installedOnCreate: string[] = ['7.0'];
  /** Ghosts: engine id → ids of the nodes that still know it (and report it failed). */
  readonly ghosts = new Map<string, Set<string>>();
  #faults: Fault[] = [];
  #topology = 1;
  #nextPort = 7001;

  /** The next `times` calls of `method` (on `vmId`, or any VM) throw `error()` before any effect. */
  fail(method: string, error: () => Error, times = 1, vmId?: string): void {
    this.#faults.push({ method, vmId, error, times });
  }

  /** Forgets every scripted fault. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** Calls of one method. */
  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Every node of every VM. */
  nodes(): FakeNode[] {
    return [...this.vms.values()].flatMap((vm) => [...vm.nodes.values()]);
  }

  // ---- VmProvider ------------------------------------------------------------------

  list(): Promise<VmRecord[]> {
    return Promise.resolve([...this.vms.values()].map((vm) => ({ ...vm.record })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }

  create(spec: VmSpec): Promise<VmRecord> {
    return this.#provider('provider.create', spec.id, spec, () => {
      const seen = this.vms.get(spec.id);
      if (seen !== undefined) return { ...seen.record };
      const port = this.#nextPort++;
      const record: VmRecord = {
        id: spec.id,
        zone: spec.zone,
        vmType: spec.vmType,
        storageGiB: spec.storageGiB,
        nodeGroup: spec.nodeGroup,
        temporary: spec.temporary,
        agentRunningSince: spec.agentRunningSince,
        endpoint: `fake-${spec.id}:9000`,
        dataHost: `host-${spec.id}`,
        dataPort: port,
        state: 'running',
      };
      this.vms.set(spec.id, { record, agentUp: true, installed: new Set(this.installedOnCreate), nodes: new Map() });
      return { ...record };
    });
  }

  delete(vmId: string): Promise<void> {
    return this.#provider('provider.delete', vmId, { vmId }, () => {
      this.vms.delete(vmId);
    });
  }

  restartAgent(vmId: string, agentRunningSince: number): Promise<VmRecord> {
    return this.#provider('provider.restartAgent', vmId, { vmId, agentRunningSince }, () => {
      const vm = this.#vm(vmId);
      vm.agentUp = true;
      vm.record.state = 'running';
      vm.record.agentRunningSince = agentRunningSince;
      return { ...vm.record };
    });
  }

  agent(vmId: string): AgentPort {
    return new FakeAgent(this, vmId);
  }

  /** As the contract says (operator/ports/vm-provider.ts): the VMs stay, 'stopped', their agents down; with purge nothing is left. */
  shutdown(options: { dataNodes: boolean; purge: boolean } = { dataNodes: true, purge: false }): Promise<void> {
    if (options.purge) this.vms.clear();
    for (const vm of this.vms.values()) {
      vm.agentUp = false;
      vm.record.state = 'stopped';
      if (options.dataNodes) for (const n of vm.nodes.values()) n.up = false;
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // ---- the agent's side ------------------------------------------------------------

  /** Runs one agent call: logs it, applies a scripted fault, checks the agent is up, applies the effect. */
  serve<M extends UnaryMethod>(method: M, vmId: string, request: RequestOf<M>, options: AgentCallOptions | undefined, effect: (vm: FakeVm) => DecodedResponseOf<M>): Promise<DecodedResponseOf<M>> {
    this.calls.push({ method, vmId, request: structuredClone(request), idempotencyKey: options?.idempotencyKey, deadlineMs: options?.deadlineMs });
    try {
      this.#fault(method, vmId);
      const vm = this.vms.get(vmId);
      if (vm === undefined || !vm.agentUp || vm.record.state !== 'running') throw new UnavailableError(`${method} on ${vmId}: the agent does not answer`);
      return Promise.resolve(effect(vm));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  topologyChanged(): void {
    this.#topology++;
  }

  /** A failed, slotless member no VM runs (a removed or lost node): every member that is up knows it. */
  addGhost(engineId: string): void {
    this.ghosts.set(engineId, new Set(this.nodes().filter((n) => n.up && n.role !== 'none').map((n) => n.id)));
  }

  dataNode(n: FakeNode): DataNode__Output {
    const params: Record<string, string> = {};
    if (n.up) params['topology_digest'] = n.role === 'none' ? `alone-${n.id}` : `t${this.#topology}`;
    if (n.up && n.role === 'replica') params['in_sync'] = 'yes';
    const failed = [...this.ghosts].filter(([, knownBy]) => knownBy.has(n.id)).map(([id]) => id).sort();
    if (n.up && failed.length > 0) params['failed_members'] = failed.join(',');
    return {
      id: n.id,
      engineNodeId: n.engineNodeId,
      program: 'redis-server',
      port: n.port,
      role: !n.up ? 'NODE_ROLE_UNSPECIFIED' : n.role === 'primary' ? 'NODE_ROLE_PRIMARY' : n.role === 'replica' ? 'NODE_ROLE_REPLICA' : 'NODE_ROLE_NONE',
      primaryEngineNodeId: n.up && n.role === 'replica' ? n.primary : '',
      nodeGroup: n.nodeGroup,
      slots: n.up && n.role === 'primary' ? n.slots.map((r) => ({ ...r })) : [],
      pid: n.up ? 1000 : 0,
      up: n.up,
      version: n.version,
      dataDirUsage: null,
      engineParams: params,
      labels: { ...n.labels },
    };
  }

  node(vm: FakeVm, id: string): FakeNode {
    const n = vm.nodes.get(id);
    if (n === undefined) throw new NotFoundError(`data node ${id} is not on ${vm.record.id}`);
    return n;
  }

  byEngineId(engineId: string): FakeNode {
    const n = this.nodes().find((x) => x.engineNodeId === engineId);
    if (n === undefined) throw new NotFoundError(`no node with engine id ${engineId}`);
    return n;
  }

  #vm(vmId: string): FakeVm {
    const vm = this.vms.get(vmId);
    if (vm === undefined) throw new NotFoundError(`no VM ${vmId}`);
    return vm;
  }

  #fault(method: string, vmId: string): void {
    const f = this.#faults.find((x) => x.method === method && (x.vmId === undefined || x.vmId === vmId) && x.times > 0);
    if (f === undefined) return;
    f.times--;
    throw f.error();
  }

  #provider<T>(method: string, vmId: string, request: unknown, effect: () => T): Promise<T> {
    this.calls.push({ method, vmId, request: structuredClone(request), idempotencyKey: undefined, deadlineMs: undefined });
    try {
      this.#fault(method, vmId);
      return Promise.resolve(effect());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  nextPort(): number {
    return this.#nextPort++;
  }
}

const outcome = (job: RequestOf<'StopDataNode'>['job'], message: string, changed = true): DecodedResponseOf<'StopDataNode'>['outcome'] => ({
  message,
  job: { jobId: job?.jobId ?? '', stepId: job?.stepId ?? '' },
  changed,
});

class FakeAgent implements AgentPort {
  readonly endpoint: string;
  readonly #c: FakeCluster;
  readonly #vmId: string;

  constructor(cluster: FakeCluster, vmId: string) {
    this.#c = cluster;
    this.#vmId = vmId;
    this.endpoint = cluster.vms.get(vmId)?.record.endpoint ?? `fake-${vmId}:9000`;
  }

  close(): void {}

  getState(request: RequestOf<'GetState'> = {}, options?: AgentCallOptions): Promise<DecodedResponseOf<'GetState'>> {
    return this.#c.serve('GetState', this.#vmId, request, options, (vm) => ({
      state: {
        agentId: vm.record.id,
        zone: vm.record.zone,
        engine: 'redis',
        agentVersion: 'fake',
        installedVersions: [...vm.installed].sort().map((version) => ({ version, programs: ['redis-server'] })),
        dataNodes: [...vm.nodes.values()].map((n) => this.#c.dataNode(n)),
        backups: [],
      },
    }));
  }

  ensureVersion(request: RequestOf<'EnsureVersion'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'EnsureVersion'>> {
    return this.#c.serve('EnsureVersion', this.#vmId, request, options, (vm) => {
      const version = request.version ?? '';
      vm.installed.add(version);
      return { outcome: outcome(request.job, `Installed version ${version}`), installed: { version, programs: ['redis-server'] } };
    });
  }

  startDataNode(request: RequestOf<'StartDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'StartDataNode'>> {
    return this.#c.serve('StartDataNode', this.#vmId, request, options, (vm) => {
      const id = request.nodeId ?? '';
      const version = request.version ?? '';
      if (!vm.installed.has(version)) throw new FailedPreconditionError(`version ${version} is not installed`);
      let n = vm.nodes.get(id);
      if (n === undefined) {
        n = {
          id,
          engineNodeId: Buffer.from(id).toString('hex').padEnd(40, '0').slice(0, 40),
          port: request.port ?? 0,
          nodeGroup: request.nodeGroup ?? 0,
          version,
          up: false,
          role: 'none',
          primary: '',
          slots: [],
          labels: {},
          config: {},
        };
        vm.nodes.set(id, n);
      }
      n.version = version;
      n.up = true;
      n.labels = { ...request.labels };
      n.config = { ...request.engineParams };
      return { outcome: outcome(request.job, `Started data node ${id} on port ${n.port}`), node: this.#c.dataNode(n) };
    });
  }

  stopDataNode(request: RequestOf<'StopDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'StopDataNode'>> {
    return this.#c.serve('StopDataNode', this.#vmId, request, options, (vm) => {
      const n = this.#c.node(vm, request.nodeId ?? '');
      n.up = false;
      return { outcome: outcome(request.job, `Stopped data node ${n.id}`), node: this.#c.dataNode(n) };
    });
  }

  joinNode(request: RequestOf<'JoinNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'JoinNode'>> {
    return this.#c.serve('JoinNode', this.#vmId, request, options, (vm) => {
      const n = this.#c.node(vm, request.nodeId ?? '');
      if (request.role === 'JOIN_ROLE_REPLICA') {
        const p = this.#c.byEngineId(request.replicaOf?.engineNodeId ?? '');
        n.role = 'replica';
        n.primary = p.engineNodeId;
        n.slots = [];
      } else {
        n.role = 'primary';
        for (const r of request.assignSlots ?? []) n.slots.push({ start: r.start ?? 0, end: r.end ?? 0 });
      }
      this.#c.topologyChanged();
      return { outcome: outcome(request.job, `Joined data node ${n.id} as a ${n.role}`), node: this.#c.dataNode(n) };
    });
  }

  removeNode(request: RequestOf<'RemoveNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'RemoveNode'>> {
    return this.#c.serve('RemoveNode', this.#vmId, request, options, (vm) => {
      vm.nodes.delete(request.nodeId ?? '');
      this.#c.topologyChanged();
      return { outcome: outcome(request.job, `Removed data node ${request.nodeId ?? ''}`) };
    });
  }

  forgetNode(request: RequestOf<'ForgetNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'ForgetNode'>> {
    return this.#c.serve('ForgetNode', this.#vmId, request, options, (vm) => {
      const n = this.#c.node(vm, request.nodeId ?? '');
      const id = request.engineNodeId ?? '';
      if (!n.up) throw new FailedPreconditionError(`data node ${n.id} is not running`);
      if (this.#c.nodes().some((x) => x.engineNodeId === id)) {
        throw new FailedPreconditionError(`node ${id} is a data node of this cluster that has not failed`, { reason: 'NOT_FAILED' });
      }
      const knownBy = this.#c.ghosts.get(id);
      const changed = knownBy?.delete(n.id) === true;
      if (knownBy !== undefined && knownBy.size === 0) this.#c.ghosts.delete(id);
      return {
        outcome: outcome(request.job, changed ? `Data node ${n.id} forgot failed node ${id}` : `Data node ${n.id} does not know node ${id}; nothing to forget`, changed),
        node: this.#c.dataNode(n),
      };
    });
  }

  failover(request: RequestOf<'Failover'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'Failover'>> {
    return this.#c.serve('Failover', this.#vmId, request, options, (vm) => {
      const n = this.#c.node(vm, request.nodeId ?? '');
      const p = this.#c.byEngineId(n.primary);
      n.role = 'primary';
      n.slots = p.slots;
      p.role = 'replica';
      p.slots = [];
      p.primary = n.engineNodeId;
      n.primary = '';
      this.#c.topologyChanged();
      return { outcome: outcome(request.job, `Promoted ${n.id}`), node: this.#c.dataNode(n), formerPrimaryEngineNodeId: p.engineNodeId };
    });
  }

  moveData(request: RequestOf<'MoveData'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'MoveData'>> {
    return this.#c.serve('MoveData', this.#vmId, request, options, (vm) => {
      const source = this.#c.node(vm, request.sourceNodeId ?? '');
      const target = this.#c.byEngineId(request.target?.engineNodeId ?? '');
      const moved = request.all === true ? source.slots : source.slots.slice(0, 1);
      target.slots.push(...moved);
      source.slots = source.slots.filter((r) => !moved.includes(r));
      this.#c.topologyChanged();
      return { outcome: outcome(request.job, `Moved slots from ${source.id}`), moved };
    });
  }

  createBackup(request: RequestOf<'CreateBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'CreateBackup'>> {
    return this.#c.serve('CreateBackup', this.#vmId, request, options, () => {
      const sink = `local:${request.sink?.local?.path ?? ''}`;
      const set = this.#c.backups.get(sink) ?? new Set<string>();
      set.add(request.backupId ?? '');
      this.#c.backups.set(sink, set);
      return { outcome: outcome(request.job, `Created backup ${request.backupId ?? ''}`), backup: null };
    });
  }

  restoreBackup(request: RequestOf<'RestoreBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'RestoreBackup'>> {
    return this.#c.serve('RestoreBackup', this.#vmId, request, options, (vm) => {
      for (const id of request.nodeIds ?? []) this.#c.node(vm, id);
      return { outcome: outcome(request.job, `Restored backup ${request.backupId ?? ''} into ${(request.nodeIds ?? []).join(', ')}`) };
    });
  }

  deleteBackup(request: RequestOf<'DeleteBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'DeleteBackup'>> {
    return this.#c.serve('DeleteBackup', this.#vmId, request, options, () => {
      this.#c.backups.get(`local:${request.sink?.local?.path ?? ''}`)?.delete(request.backupId ?? '');
      return { outcome: outcome(request.job, `Deleted backup ${request.backupId ?? ''}`) };
    });
  }

  listBackups(request: RequestOf<'ListBackups'> = {}, options?: AgentCallOptions): Promise<DecodedResponseOf<'ListBackups'>> {
    return this.#c.serve('ListBackups', this.#vmId, request, options, () => {
      const path = request.sink?.local?.path ?? '';
      const ids = [...(this.#c.backups.get(`local:${path}`) ?? [])].sort();
      return {
        backups: ids.map((backupId) => ({
          backupId,
          sink: { local: { path }, kind: 'local' as const },
          status: 'BACKUP_STATUS_COMPLETE' as const,
          createdAt: '',
          parts: [],
          detail: '',
        })),
      };
    });
  }

  configureDataNode(request: RequestOf<'ConfigureDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'ConfigureDataNode'>> {
    return this.#c.serve('ConfigureDataNode', this.#vmId, request, options, (vm) => {
      const n = this.#c.node(vm, request.nodeId ?? '');
      Object.assign(n.config, request.engineParams);
      Object.assign(n.labels, request.labels);
      return { outcome: outcome(request.job, `Configured ${n.id}`), applied: Object.keys(request.engineParams ?? {}), pendingRestart: [] };
    });
  }
}
