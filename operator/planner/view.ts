// The planner's index of one observation: VMs and data nodes by id, each node group with
// its current primary and health, whether the members agree on the topology, which slots
// are served, and why each node would need a restart. Built once per plan() call in
// O(nodes) (plus one pass over the 16384 slots), read by every concern; nothing in it is
// mutated except the counter that numbers new VMs.
import type { Desired } from '../../desired-state/types.ts';
import {
  REDIS_SLOTS,
  configKey,
  slotCount,
  slotsCovered,
  type ObservedCluster,
  type ObservedDataNode,
  type ObservedVm,
  type SlotRange,
} from '../model/observed.ts';
import { desiredConfigStrings, diffConfig } from './config-diff.ts';
import { compareIds, vmNumber } from './names.ts';
import { markRanges } from './slots.ts';

export interface GroupView {
  readonly index: number;
  /** Its VMs, lowest id first. */
  readonly vms: ObservedVm[];
  /** The up node that serves the group's data: a primary, the one with most slots (then lowest id). */
  primary: ObservedDataNode | undefined;
  /** Other up nodes of the group that call themselves primary. */
  readonly otherPrimaries: ObservedDataNode[];
  /** Slots served by the group's up primaries. */
  slots: number;
  /** Nodes that are healthy (see ClusterView.isHealthy). */
  healthy: number;
  /** VMs whose data node may exist but cannot be seen now: agent down (not still being created) or node down. */
  hidden: number;
  /** VMs still being created. */
  creating: number;
  /** Every VM answers, has an up and healthy node, and none is being created. */
  settled: boolean;
}

/** Why a node would need a restart, and which live parameters it lacks. */
export interface Staleness {
  /** Reasons for a restart (empty: none needed). */
  restart: string[];
  /** Live parameters to set (meaningful only when `restart` is empty). */
  live: Record<string, string>;
  /** Its configuration label equals the desired one. */
  configEqual: boolean;
}

export class ClusterView {
  readonly desired: Desired;
  readonly observed: ObservedCluster;
  /** Every VM, lowest id first. */
  readonly vms: readonly ObservedVm[];
  readonly vmById = new Map<string, ObservedVm>();
  readonly nodeById = new Map<string, ObservedDataNode>();
  /** Node group of each node, by node id (the group its VM was created for). */
  readonly groupOfNode = new Map<string, number>();
  readonly groups = new Map<number, GroupView>();
  /** Up nodes that are members of the cluster (primary or replica). */
  readonly members: ObservedDataNode[] = [];
  readonly topologyAgrees: boolean;
  /** Slots served by some up primary. */
  readonly assigned: number;
  /** VMs across the cluster whose node may exist but cannot be seen now. */
  readonly hidden: number;
  /** The cluster may hold data: it was formed once, or some slot is served. */
  readonly holdsData: boolean;
  readonly desiredConfig: Record<string, string>;
  readonly desiredKey: string;
  /** The number the next created VM gets; plan() advances it as it names VMs. */
  nextVmNumber: number;
  readonly #staleness = new Map<string, Staleness>();
  readonly #stalenessOf = new Map<ObservedDataNode, Staleness>();
  readonly #groupOfNode = new Map<ObservedDataNode, GroupView>();
  /** The slot ranges of every up primary, for `owned` and `assigned`. */
  readonly #servedRanges: SlotRange[] = [];
  #owned: Uint8Array | undefined;
  static readonly #fresh: Staleness = Object.freeze({ restart: [], live: {}, configEqual: true }) as Staleness;

  constructor(desired: Desired, observed: ObservedCluster) {
    this.desired = desired;
    this.observed = observed;
    this.desiredConfig = desiredConfigStrings(desired.config);
    this.desiredKey = configKey(this.desiredConfig);
    this.vms = sortById(observed.vms);
    let highest = 0;
    let hidden = 0;
    for (const vm of this.vms) {
      this.vmById.set(vm.id, vm);
      highest = Math.max(highest, vmNumber(vm.id));
      const g = this.#groupView(vm.nodeGroup);
      g.vms.push(vm);
      if (vm.state === 'creating') g.creating++;
      const node = this.alive(vm) ? vm.dataNodes[0] : undefined;
      if (node !== undefined) {
        this.nodeById.set(node.id, node);
        this.groupOfNode.set(node.id, vm.nodeGroup);
        this.#groupOfNode.set(node, g);
      }
      if ((vm.state !== 'creating' && !this.alive(vm)) || (node !== undefined && !node.up)) {
        g.hidden++;
        hidden++;
      }
    }
    this.hidden = hidden;
    this.nextVmNumber = highest + 1;
    // Primaries first (health of replicas depends on them), then health and membership.
    for (const g of this.groups.values()) {
      for (const vm of g.vms) {
        const node = this.node(vm);
        if (node === undefined || !node.up || node.role !== 'primary') continue;
        g.slots += slotCount(node);
        this.#servedRanges.push(...node.slots);
        const best = g.primary;
        if (best === undefined || slotCount(node) > slotCount(best)) {
          if (best !== undefined) g.otherPrimaries.push(best);
          g.primary = node;
        } else {
          g.otherPrimaries.push(node);
        }
      }
    }
    const digests = new Set<string>();
    for (const g of this.groups.values()) {
      let settled = g.creating === 0 && g.hidden === 0 && g.vms.length > 0;
      for (const vm of g.vms) {
        const node = this.node(vm);
        if (node === undefined) {
          settled = false;
          continue;
        }
        if (node.up && (node.role === 'primary' || node.role === 'replica')) {
          this.members.push(node);
          digests.add(node.topologyDigest);
        }
        if (this.isHealthy(node)) g.healthy++;
        else settled = false;
      }
      g.settled = settled;
    }
    this.topologyAgrees = digests.size === 0 || (digests.size === 1 && !digests.has(''));
    this.assigned = slotsCovered(this.#servedRanges);
    this.holdsData = observed.facts.formed || this.assigned > 0;
  }

  /**
   * One byte per slot: 1 when an up primary serves it. Built on first use: most plans
   * only need `assigned`, and a pass over the 16384 slots was a third of building a view.
   */
  get owned(): Uint8Array {
    if (this.#owned === undefined) {
      this.#owned = new Uint8Array(REDIS_SLOTS);
      markRanges(this.#owned, this.#servedRanges);
    }
    return this.#owned;
  }

  #groupView(index: number): GroupView {
    let g = this.groups.get(index);
    if (g === undefined) {
      g = { index, vms: [], primary: undefined, otherPrimaries: [], slots: 0, healthy: 0, hidden: 0, creating: 0, settled: false };
      this.groups.set(index, g);
    }
    return g;
  }

  /** The group's view; an empty one for a group without VMs. */
  group(index: number): GroupView {
    return (
      this.groups.get(index) ?? {
        index,
        vms: [],
        primary: undefined,
        otherPrimaries: [],
        slots: 0,
        healthy: 0,
        hidden: 0,
        creating: 0,
        settled: false,
      }
    );
  }

  /** Every group with a VM and every wanted group (0 … nodeGroups−1), lowest first. */
  groupIndexes(): number[] {
    const set = new Set<number>(this.groups.keys());
    for (let g = 0; g < this.desired.nodeGroups; g++) set.add(g);
    return [...set].sort((a, b) => a - b);
  }

  /**
   * Every member but `nodeId` reports the same topology: the only disagreement is that
   * node's own view. A half-joined node looks like this: it lists the members, but its
   * handshake with them never completed (killed while joining, started again with its
   * nodes.conf), so they do not list it and ignore its pings, and nothing changes until a
   * join meets them again. Waiting for agreement before that join would wait for ever.
   */
  agreesWithout(nodeId: string): boolean {
    if (this.topologyAgrees) return true;
    const digests = new Set<string>();
    for (const m of this.members) if (m.id !== nodeId) digests.add(m.topologyDigest);
    return digests.size === 1 && !digests.has('');
  }

  /** The VM runs and its agent answers. */
  alive(vm: ObservedVm): boolean {
    return vm.state === 'running' && vm.agentUp;
  }

  /** The data node of a VM whose agent answers. */
  node(vm: ObservedVm): ObservedDataNode | undefined {
    return this.alive(vm) ? vm.dataNodes[0] : undefined;
  }

  groupOf(node: ObservedDataNode): GroupView {
    return this.#groupOfNode.get(node) ?? this.group(this.groupOfNode.get(node.id) ?? node.nodeGroup);
  }

  /** Up, and either its group's primary or a replica of it that finished its sync. */
  isHealthy(node: ObservedDataNode): boolean {
    if (!node.up) return false;
    const primary = this.groupOf(node).primary;
    if (primary === undefined) return false;
    if (node.role === 'primary') return primary === node;
    return node.role === 'replica' && node.inSync && node.primaryId === primary.id;
  }

  /** Why `node` needs a restart, and which live parameters it lacks (cached per label set). */
  staleness(node: ObservedDataNode): Staleness {
    const d = this.desired;
    if (node.version === d.version && node.runningSince >= d.runningSince && node.configKey === this.desiredKey) return ClusterView.#fresh;
    let s = this.#stalenessOf.get(node);
    if (s !== undefined) return s;
    const key = `${node.version}\u0000${node.runningSince}\u0000${node.configKey}`;
    s = this.#staleness.get(key);
    if (s === undefined) {
      const restart: string[] = [];
      if (node.version !== d.version) restart.push(`version ${node.version} → ${d.version}`);
      if (node.runningSince < d.runningSince) restart.push(`runningSince ${node.runningSince} → ${d.runningSince}`);
      const diff = diffConfig(d.engine, node.configKey, this.desiredConfig, this.desiredKey);
      restart.push(...diff.restart);
      s = { restart, live: diff.live, configEqual: diff.equal };
      this.#staleness.set(key, s);
    }
    this.#stalenessOf.set(node, s);
    return s;
  }

  /** The node needs a restart (version, runningSince or a restart-only parameter). */
  isStale(node: ObservedDataNode): boolean {
    return this.staleness(node).restart.length > 0;
  }

  /** The VM has the binaries of `version`. */
  hasVersion(vm: ObservedVm, version: string): boolean {
    return vm.installedVersions.includes(version as ObservedVm['installedVersions'][number]);
  }

  #introducer: { node: ObservedDataNode | undefined } | undefined;

  /** An up member primary to introduce new nodes to: the lowest-id one, preferring kept groups. */
  introducer(exceptId?: string): ObservedDataNode | undefined {
    if (exceptId === undefined) {
      this.#introducer ??= { node: this.#findIntroducer(undefined) };
      return this.#introducer.node;
    }
    return this.#findIntroducer(exceptId);
  }

  #findIntroducer(exceptId: string | undefined): ObservedDataNode | undefined {
    let best: ObservedDataNode | undefined;
    let bestKept = false;
    for (const g of this.groups.values()) {
      const p = g.primary;
      if (p === undefined || p.id === exceptId) continue;
      const kept = g.index < this.desired.nodeGroups;
      if (best === undefined || (kept && !bestKept) || (kept === bestKept && compareIds(p.id, best.id) < 0)) {
        best = p;
        bestKept = kept;
      }
    }
    return best;
  }
}

/** VMs ordered by id (vm-2 before vm-10), each id parsed once. */
function sortById(vms: readonly ObservedVm[]): ObservedVm[] {
  const keyed = vms.map((vm) => ({ vm, n: vmNumber(vm.id) }));
  keyed.sort((a, b) => a.n - b.n || (a.vm.id < b.vm.id ? -1 : a.vm.id > b.vm.id ? 1 : 0));
  return keyed.map((k) => k.vm);
}
