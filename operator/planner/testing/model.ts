// A small model world for planner tests: VMs, agents and data nodes that carry out the
// planner's steps roughly as the real agents would, with the engine's refusals where they
// protect data (a node starts only on an installed version; a node serving slots cannot
// be removed; a VM with a data node cannot be deleted; a second cluster cannot be
// founded; slots another primary serves cannot be claimed). It keeps what an agent keeps
// across a stop (a node's role and slots), lets replicas sync one tick after they
// (re)join, and can delay topology agreement. Ghosts (addGhost: a failed, slotless
// member no VM runs) are reported by the members that know them until each forgot them;
// one a member did not forget comes back to the others at the next tick (Redis's 60 s
// ban, simplified). It is NOT the simulated world of the generative tests
// (test/generative/): it exists to drive plan() to convergence.
import type { Desired, EngineVersion } from '../../../desired-state/types.ts';
import {
  REDIS_SLOTS,
  configKey,
  type ObservedBackup,
  type ObservedCluster,
  type ObservedDataNode,
  type ObservedVm,
  type LeaderFacts,
  type SlotRange,
} from '../../model/observed.ts';
import { describeStep, type Step, type VmSpec } from '../../model/step.ts';
import { olderVersion } from '../failover.ts';
import { compareIds } from '../names.ts';

export class ModelRefusal extends Error {
  override name = 'ModelRefusal';
}

interface Node {
  id: string;
  vmId: string;
  group: number;
  up: boolean;
  role: 'primary' | 'replica' | 'none';
  primaryId: string | undefined;
  version: EngineVersion;
  runningSince: number;
  configKey: string;
  /** Ticks until a replica is in sync (0: in sync). */
  syncIn: number;
}

interface Vm {
  spec: VmSpec;
  state: ObservedVm['state'];
  agentUp: boolean;
  agentRunningSince: number;
  installed: EngineVersion[];
  port: number;
  node: Node | undefined;
}

export interface ModelOptions {
  /** Ticks a replica needs to sync after it (re)joins or restarts. @default 1 */
  syncTicks?: number;
  /** Ticks the members disagree after a topology change. @default 0 */
  agreeTicks?: number;
  /** Versions a new VM comes with. @default [] */
  preinstalled?: EngineVersion[];
}

const TOPOLOGY = new Set<Step['kind']>(['joinPrimary', 'joinReplica', 'failover', 'moveData', 'removeNode']);

export class Model {
  readonly vms = new Map<string, Vm>();
  /** Owner (node id) of each slot, '' when unassigned. */
  readonly owner: string[] = new Array<string>(REDIS_SLOTS).fill('');
  backups: ObservedBackup[] = [];
  facts: LeaderFacts = { formed: false, restoredFrom: undefined };
  /** Ghosts: engine id → ids of the member nodes that know it. */
  readonly ghosts = new Map<string, Set<string>>();
  readonly #opts: Required<ModelOptions>;
  #disagree = 0;
  #digest = 1;
  #port = 20000;

  constructor(opts: ModelOptions = {}) {
    this.#opts = { syncTicks: opts.syncTicks ?? 1, agreeTicks: opts.agreeTicks ?? 0, preinstalled: opts.preinstalled ?? [] };
  }

  /** A model holding what `observed` shows (down nodes keep the role the snapshot's primaryId/slots imply: none). */
  static from(observed: ObservedCluster, opts: ModelOptions = {}): Model {
    const m = new Model(opts);
    for (const o of observed.vms) {
      const n = o.dataNodes[0];
      m.vms.set(o.id, {
        spec: { id: o.id, zone: o.zone, vmType: o.vmType, storageGiB: o.storageGiB, nodeGroup: o.nodeGroup, temporary: o.temporary, agentRunningSince: o.agentRunningSince },
        state: o.state,
        agentUp: o.agentUp,
        agentRunningSince: o.agentRunningSince,
        installed: [...o.installedVersions],
        port: o.dataPort,
        node:
          n === undefined
            ? undefined
            : {
                id: n.id,
                vmId: o.id,
                group: o.nodeGroup,
                up: n.up,
                role: n.role === 'primary' || n.role === 'replica' ? n.role : 'none',
                primaryId: n.primaryId,
                version: n.version,
                runningSince: n.runningSince,
                configKey: n.configKey,
                syncIn: n.inSync || n.role !== 'replica' ? 0 : 1,
              },
      });
      m.#port = Math.max(m.#port, o.dataPort);
      if (n !== undefined) for (const r of n.slots) for (let s = r.start; s <= r.end; s++) m.owner[s] = n.id;
    }
    m.backups = (observed.backups ?? []).map((b) => ({ ...b }));
    m.facts = { ...observed.facts };
    return m;
  }

  nodes(): Node[] {
    return [...this.vms.values()].flatMap((v) => (v.node === undefined ? [] : [v.node]));
  }

  node(id: string): Node | undefined {
    return this.vms.get(id)?.node;
  }

  slotsOf(id: string): number {
    let n = 0;
    for (const o of this.owner) if (o === id) n++;
    return n;
  }

  observe(): ObservedCluster {
    const ranges = new Map<string, SlotRange[]>();
    for (let s = 0; s < REDIS_SLOTS; s++) {
      const id = this.owner[s] ?? '';
      if (id === '') continue;
      let list = ranges.get(id);
      if (list === undefined) {
        list = [];
        ranges.set(id, list);
      }
      const last = list[list.length - 1];
      if (last !== undefined && last.end === s - 1) last.end = s;
      else list.push({ start: s, end: s });
    }
    const vms: ObservedVm[] = [...this.vms.values()]
      .sort((a, b) => compareIds(a.spec.id, b.spec.id))
      .map((v) => {
        const alive = v.state === 'running' && v.agentUp;
        const n = v.node;
        const nodes: ObservedDataNode[] = [];
        if (alive && n !== undefined) {
          const primary = n.primaryId === undefined ? undefined : this.node(n.primaryId);
          nodes.push({
            id: n.id,
            vmId: n.vmId,
            host: '127.0.0.1',
            port: v.port,
            nodeGroup: n.group,
            engineNodeId: `e-${n.id}`,
            role: n.up ? n.role : 'unknown',
            primaryId: n.up && n.role === 'replica' && primary !== undefined ? primary.id : undefined,
            slots: n.up && n.role === 'primary' ? (ranges.get(n.id) ?? []) : [],
            up: n.up,
            version: n.version,
            runningSince: n.runningSince,
            configKey: n.configKey,
            inSync: n.up && n.role === 'replica' && n.syncIn === 0 && primary?.up === true,
            topologyDigest: !n.up ? '' : n.role === 'none' ? `alone-${n.id}` : this.#disagree > 0 && n === this.firstMember() ? 'stale' : `topology-${this.#digest}`,
          });
          const failed = n.up && n.role !== 'none' ? [...this.ghosts].filter(([, by]) => by.has(n.id)).map(([id]) => id).sort() : [];
          const last = nodes[nodes.length - 1];
          if (last !== undefined && failed.length > 0) last.failedMembers = failed;
        }
        return {
          id: v.spec.id,
          zone: v.spec.zone,
          vmType: v.spec.vmType,
          storageGiB: v.spec.storageGiB,
          nodeGroup: v.spec.nodeGroup,
          temporary: v.spec.temporary,
          state: v.state,
          agentUp: v.agentUp,
          endpoint: `127.0.0.1:${v.port + 10000}`,
          agentRunningSince: v.agentRunningSince,
          dataHost: '127.0.0.1',
          dataPort: v.port,
          installedVersions: [...v.installed],
          dataNodes: nodes,
        };
      });
    return { vms, backups: this.backups.map((b) => ({ ...b })), facts: { ...this.facts } };
  }

  firstMember(): Node | undefined {
    return this.nodes().find((n) => n.up && n.role !== 'none');
  }

  #vm(id: string): Vm {
    const v = this.vms.get(id);
    if (v === undefined) throw new ModelRefusal(`no VM ${id}`);
    if (v.state !== 'running' || !v.agentUp) throw new ModelRefusal(`the agent of ${id} does not answer`);
    return v;
  }

  #up(id: string): Node {
    const n = this.node(id);
    if (n === undefined || !n.up) throw new ModelRefusal(`data node ${id} is not running`);
    return n;
  }

  apply(step: Step): void {
    const what = describeStep(step);
    try {
      this.#apply(step);
    } catch (e) {
      if (e instanceof ModelRefusal) throw new ModelRefusal(`${what}: ${e.message}`);
      throw e;
    }
    if (TOPOLOGY.has(step.kind)) {
      this.#digest++;
      this.#disagree = this.#opts.agreeTicks;
    }
  }

  #apply(step: Step): void {
    switch (step.kind) {
      case 'createVm': {
        if (this.vms.has(step.vm.id)) throw new ModelRefusal(`${step.vm.id} exists`);
        this.#port++;
        this.vms.set(step.vm.id, {
          spec: { ...step.vm },
          state: 'running',
          agentUp: true,
          agentRunningSince: step.vm.agentRunningSince,
          installed: [...this.#opts.preinstalled],
          port: this.#port,
          node: undefined,
        });
        return;
      }
      case 'deleteVm': {
        const v = this.vms.get(step.vmId);
        if (v?.node !== undefined) throw new ModelRefusal(`${step.vmId} still has a data node`);
        this.vms.delete(step.vmId);
        return;
      }
      case 'restartAgent': {
        const v = this.vms.get(step.vmId);
        if (v === undefined) throw new ModelRefusal(`no VM ${step.vmId}`);
        v.state = 'running';
        v.agentUp = true;
        v.agentRunningSince = step.agentRunningSince;
        return;
      }
      case 'ensureVersion': {
        const v = this.#vm(step.vmId);
        if (!v.installed.includes(step.version)) v.installed.push(step.version);
        return;
      }
      case 'startDataNode': {
        const v = this.#vm(step.vmId);
        if (!v.installed.includes(step.version)) throw new ModelRefusal(`version ${step.version} is not installed`);
        const n = v.node ?? {
          id: step.nodeId,
          vmId: step.vmId,
          group: step.nodeGroup,
          up: false,
          role: 'none' as const,
          primaryId: undefined,
          version: step.version,
          runningSince: step.runningSince,
          configKey: '',
          syncIn: 0,
        };
        v.node = n;
        if (!n.up) n.syncIn = n.role === 'replica' ? this.#opts.syncTicks : 0;
        n.up = true;
        n.version = step.version;
        n.runningSince = step.runningSince;
        n.configKey = configKey(step.config);
        // A former primary whose slots were taken over comes back as a replica.
        if (n.role === 'primary' && this.slotsOf(n.id) === 0) {
          const taker = this.nodes().find((o) => o !== n && o.group === n.group && o.role === 'primary' && o.up && this.slotsOf(o.id) > 0);
          if (taker !== undefined) {
            n.role = 'replica';
            n.primaryId = taker.id;
            n.syncIn = this.#opts.syncTicks;
          }
        }
        return;
      }
      case 'stopDataNode': {
        const n = this.#vm(step.vmId).node;
        if (n === undefined) throw new ModelRefusal(`no data node ${step.nodeId}`);
        n.up = false;
        return;
      }
      case 'joinPrimary': {
        this.#vm(step.vmId);
        const n = this.#up(step.nodeId);
        if (n.role === 'replica') throw new ModelRefusal('a replica becomes a primary by failover');
        if (step.via === undefined) {
          if (this.nodes().some((o) => o !== n && o.role !== 'none' && o.up)) throw new ModelRefusal('founding a second cluster');
        } else {
          const via = this.#up(step.via);
          if (via.role === 'none') throw new ModelRefusal(`${step.via} is not a member`);
        }
        for (const r of step.slots) {
          for (let s = r.start; s <= r.end; s++) {
            const o = this.owner[s] ?? '';
            if (o !== '' && o !== n.id) throw new ModelRefusal(`slot ${s} is served by ${o}`);
          }
        }
        for (const r of step.slots) for (let s = r.start; s <= r.end; s++) this.owner[s] = n.id;
        n.role = 'primary';
        n.primaryId = undefined;
        this.#updateFormed();
        return;
      }
      case 'joinReplica': {
        this.#vm(step.vmId);
        const n = this.#up(step.nodeId);
        const p = this.#up(step.primaryId);
        if (p.role !== 'primary') throw new ModelRefusal(`${p.id} is not a primary`);
        if (this.slotsOf(n.id) > 0) throw new ModelRefusal(`${n.id} serves slots`);
        if (n.role !== 'replica' || n.primaryId !== p.id) n.syncIn = this.#opts.syncTicks;
        n.role = 'replica';
        n.primaryId = p.id;
        return;
      }
      case 'failover': {
        this.#vm(step.vmId);
        const n = this.#up(step.nodeId);
        if (n.role !== 'replica' || n.primaryId === undefined) throw new ModelRefusal(`${n.id} is not a replica`);
        const old = this.#up(n.primaryId);
        if (n.syncIn > 0) throw new ModelRefusal(`${n.id} is not in sync`);
        for (let s = 0; s < REDIS_SLOTS; s++) if (this.owner[s] === old.id) this.owner[s] = n.id;
        n.role = 'primary';
        n.primaryId = undefined;
        for (const o of this.nodes()) {
          if (o.role === 'replica' && o.primaryId === old.id) o.primaryId = n.id;
        }
        old.role = 'replica';
        old.primaryId = n.id;
        return;
      }
      case 'moveData': {
        this.#vm(step.vmId);
        const from = this.#up(step.fromId);
        const to = this.#up(step.toId);
        if (from.role !== 'primary' || to.role !== 'primary') throw new ModelRefusal('slots move between primaries');
        // As the agent: slots already at the target are skipped (a repeat changes nothing);
        // a slot served by a third node (or none) refuses the whole step.
        for (const r of step.slots) {
          for (let s = r.start; s <= r.end; s++) {
            if (this.owner[s] !== from.id && this.owner[s] !== to.id) throw new ModelRefusal(`slot ${s} is served by neither ${from.id} nor ${to.id}`);
          }
        }
        for (const r of step.slots) for (let s = r.start; s <= r.end; s++) this.owner[s] = to.id;
        return;
      }
      case 'removeNode': {
        const v = this.#vm(step.vmId);
        const n = v.node;
        if (n === undefined) return;
        if (this.slotsOf(n.id) > 0) throw new ModelRefusal(`${n.id} still serves slots`);
        v.node = undefined;
        for (const o of this.nodes()) if (o.primaryId === n.id) o.primaryId = undefined;
        return;
      }
      case 'configureDataNode': {
        this.#vm(step.vmId);
        const n = this.#up(step.nodeId);
        n.configKey = configKey(step.config);
        return;
      }
      case 'forgetNode': {
        if (this.nodes().some((n) => `e-${n.id}` === step.engineNodeId)) throw new ModelRefusal(`${step.engineNodeId} is a node of the cluster`);
        for (const id of step.nodeIds) {
          const n = this.#up(id);
          this.#vm(n.vmId);
        }
        const by = this.ghosts.get(step.engineNodeId);
        if (by === undefined) return;
        for (const id of step.nodeIds) by.delete(id);
        if (by.size === 0) this.ghosts.delete(step.engineNodeId);
        return;
      }
      case 'createBackup': {
        this.#vm(step.vmId);
        const sink = `${step.sink.type}:${step.sink.path}`;
        this.backups = this.backups.filter((b) => !(b.id === step.backupId && b.sink === sink));
        this.backups.push({ id: step.backupId, sink, complete: true });
        return;
      }
      case 'deleteBackup': {
        this.#vm(step.vmId);
        const sink = `${step.sink.type}:${step.sink.path}`;
        this.backups = this.backups.filter((b) => !(b.id === step.backupId && b.sink === sink));
        return;
      }
      case 'restoreBackup': {
        this.#vm(step.vmId);
        if (this.facts.formed) throw new ModelRefusal('the cluster holds data');
        this.facts = { ...this.facts, restoredFrom: step.backupId };
        this.#updateFormed();
        return;
      }
    }
  }

  /** Sets facts.formed as the executor does: every slot assigned and the restore (if any) done. */
  #restoreWanted: string | undefined;
  expectRestore(id: string | undefined): void {
    this.#restoreWanted = id;
  }

  #updateFormed(): void {
    if (this.facts.formed) return;
    if (this.owner.some((o) => o === '')) return;
    if (this.#restoreWanted !== undefined && this.facts.restoredFrom !== this.#restoreWanted) return;
    this.facts = { ...this.facts, formed: true };
  }

  /** Time passes: replicas sync, members come to agree, a dead primary's replica takes over, a ghost some member still knows spreads again. */
  tick(): void {
    if (this.#disagree > 0) this.#disagree--;
    for (const by of this.ghosts.values()) for (const n of this.nodes()) if (n.role !== 'none') by.add(n.id);
    for (const n of this.nodes()) {
      if (!n.up || n.role !== 'replica' || n.syncIn === 0) continue;
      const p = n.primaryId === undefined ? undefined : this.node(n.primaryId);
      // A replica older than its primary cannot load its snapshot: it never syncs.
      if (p === undefined || !p.up || olderVersion(n.version, p.version)) continue;
      n.syncIn--;
    }
    for (const p of this.nodes()) {
      if (p.up || p.role !== 'primary' || this.slotsOf(p.id) === 0) continue;
      const heir = this.nodes().find((r) => r.up && r.role === 'replica' && r.primaryId === p.id && r.syncIn === 0);
      if (heir === undefined) continue;
      for (let s = 0; s < REDIS_SLOTS; s++) if (this.owner[s] === p.id) this.owner[s] = heir.id;
      heir.role = 'primary';
      heir.primaryId = undefined;
      for (const o of this.nodes()) if (o.role === 'replica' && o.primaryId === p.id) o.primaryId = heir.id;
      p.role = 'replica';
      p.primaryId = heir.id;
    }
    this.#updateFormed();
  }

  /** A failed, slotless member no VM runs (a removed or lost node): every member knows it. */
  addGhost(engineId: string): void {
    this.ghosts.set(engineId, new Set(this.nodes().filter((n) => n.role !== 'none').map((n) => n.id)));
  }

  /** Faults for tests. */
  crashNode(id: string): void {
    const n = this.node(id);
    if (n !== undefined) n.up = false;
  }

  failVm(id: string): void {
    const v = this.vms.get(id);
    if (v === undefined) return;
    v.state = 'failed';
    v.agentUp = false;
    if (v.node !== undefined) v.node.up = false;
  }

  /** The model's view of whether it matches `d` (independent of the planner). */
  mismatches(d: Desired): string[] {
    return checkAtDesired(d, this);
  }
}

function checkAtDesired(d: Desired, m: Model): string[] {
  const out: string[] = [];
  const cfg = configKey(Object.fromEntries(Object.entries(d.config).map(([k, v]) => [k, String(v)])));
  const vms = [...m.vms.values()];
  for (let g = 0; g < d.nodeGroups; g++) {
    const mine = vms.filter((v) => v.spec.nodeGroup === g);
    if (mine.length !== d.replicationFactor) out.push(`ng${g} has ${mine.length} VMs, not ${d.replicationFactor}`);
    const zones = new Map<string, number>(d.availabilityZones.map((z) => [z, 0]));
    for (const v of mine) zones.set(v.spec.zone, (zones.get(v.spec.zone) ?? 0) + 1);
    const counts = d.availabilityZones.map((z) => zones.get(z) ?? 0);
    if (d.running && mine.length > 1 && Math.max(...counts) - Math.min(...counts) > 1 && d.availabilityZones.length > 1) out.push(`ng${g} spreads badly: ${counts.join('/')}`);
    if (d.running) {
      const primaries = mine.filter((v) => v.node?.up === true && v.node.role === 'primary');
      if (primaries.length !== 1) out.push(`ng${g} has ${primaries.length} primaries`);
      const p = primaries[0]?.node;
      const slots = p === undefined ? 0 : m.slotsOf(p.id);
      if (Math.abs(slots * d.nodeGroups - REDIS_SLOTS) > d.nodeGroups) out.push(`ng${g} serves ${slots} slots`);
      for (const v of mine) {
        const n = v.node;
        if (n === undefined || !n.up) {
          out.push(`${v.spec.id} has no running node`);
          continue;
        }
        if (n !== p && (n.role !== 'replica' || n.primaryId !== p?.id || n.syncIn > 0)) out.push(`${n.id} is not a synced replica of ng${g}'s primary`);
        if (n.version !== d.version || n.runningSince < d.runningSince || n.configKey !== cfg) out.push(`${n.id} has labels ${n.version}/${n.runningSince}/${n.configKey}`);
      }
    } else if (mine.some((v) => v.node?.up === true)) {
      out.push(`ng${g} has running nodes`);
    }
  }
  for (const v of vms) {
    if (v.spec.nodeGroup >= d.nodeGroups) out.push(`${v.spec.id} of ng${v.spec.nodeGroup} still exists`);
    if (v.spec.temporary) out.push(`temporary ${v.spec.id} still exists`);
    if (v.spec.vmType !== d.vmType || v.spec.storageGiB !== d.storageGiB || !d.availabilityZones.includes(v.spec.zone)) out.push(`${v.spec.id} does not conform`);
    if (v.agentRunningSince < d.agentRunningSince) out.push(`agent of ${v.spec.id} is stale`);
  }
  if (d.running && m.owner.some((o) => o === '')) out.push('some slots are not served');
  for (const [id, by] of m.ghosts) if (d.running && by.size > 0) out.push(`ghost ${id} is known by ${[...by].join(', ')}`);
  const formed = m.facts.formed;
  // Listed backups exist, stopped or not (a cluster that never held data is founded for
  // them: running.ts foundingWork); the restore is done once the cluster is founded.
  for (const b of d.backups) {
    if (!m.backups.some((o) => o.id === b.id && o.sink === `${b.sink.type}:${b.sink.path}` && o.complete)) out.push(`backup ${b.id} is missing`);
  }
  for (const o of m.backups) {
    if (o.id === d.restoreFromBackup?.id) continue;
    if (!d.backups.some((b) => b.id === o.id && `${b.sink.type}:${b.sink.path}` === o.sink)) out.push(`backup ${o.id} should be gone`);
  }
  if ((d.running || m.owner.some((o) => o !== '')) && d.restoreFromBackup !== undefined && m.facts.restoredFrom !== d.restoreFromBackup.id && !formed) out.push('not restored');
  return out;
}
