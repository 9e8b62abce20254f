// The target layout: which VMs each node group keeps, which it no longer needs, and how
// many it lacks. A VM "conforms" when it has the desired vmType and storageGiB, sits in
// one of the availabilityZones and is not temporary. Each wanted group (0 … nodeGroups−1)
// keeps up to replicationFactor conforming VMs, picked so that they spread over the zones
// as evenly as the candidates allow (its primary first, then healthy nodes, then lowest
// id); every other VM of the group is an "extra" that goes once it is no longer needed
// (excess replicas, VMs being replaced, temporary VMs). Groups ≥ nodeGroups keep nothing.
//
// When the kept VMs could spread better (some zone has two more than another) and the
// cluster runs, one of them is marked as misplaced: it becomes an extra and the group
// lacks one VM, which the replacement concern creates in the emptiest zone.
//
// New VMs go to the zone with the fewest kept VMs of their group, ties broken by the
// fewest kept VMs overall, then by the zone's place in availabilityZones.
import type { Desired } from '../../desired-state/types.ts';
import type { ObservedVm } from '../model/observed.ts';
import type { VmSpec } from '../model/step.ts';
import { compareIds, vmId } from './names.ts';
import type { ClusterView } from './view.ts';

export interface GroupLayout {
  readonly index: number;
  /** index < nodeGroups. */
  readonly wanted: boolean;
  /** Conforming VMs the group keeps, lowest id first. */
  readonly keep: ObservedVm[];
  /** Every other VM of the group, lowest id first. */
  readonly extras: ObservedVm[];
  /** VMs to add so the group has replicationFactor kept VMs. */
  readonly missing: number;
  /** A kept VM was moved to the extras to improve the zone spread. */
  readonly misplaced: ObservedVm | undefined;
}

export interface Layout {
  readonly groups: ReadonlyMap<number, GroupLayout>;
  readonly keepIds: ReadonlySet<string>;
  /** The layout of a group (an empty, unwanted one when it has no VM and is not wanted). */
  group(index: number): GroupLayout;
  /** Names and places a new VM for group `g` (advances the id counter and the zone counts). */
  newVm(g: number, temporary: boolean): VmSpec;
}

/** The VM has the desired size and storage, sits in a listed zone, and is not temporary. */
export function conforms(desired: Desired, vm: ObservedVm): boolean {
  return (
    !vm.temporary &&
    vm.vmType === desired.vmType &&
    vm.storageGiB === desired.storageGiB &&
    desired.availabilityZones.includes(vm.zone)
  );
}

/** Zone counts of kept VMs; chooses zones for new VMs by the rule in the header. */
export class ZoneChooser {
  readonly #zones: readonly string[];
  readonly #byGroup = new Map<number, Map<string, number>>();
  readonly #overall = new Map<string, number>();

  constructor(zones: readonly string[]) {
    this.#zones = zones;
  }

  add(group: number, zone: string): void {
    let m = this.#byGroup.get(group);
    if (m === undefined) {
      m = new Map();
      this.#byGroup.set(group, m);
    }
    m.set(zone, (m.get(zone) ?? 0) + 1);
    this.#overall.set(zone, (this.#overall.get(zone) ?? 0) + 1);
  }

  choose(group: number): string {
    const m = this.#byGroup.get(group);
    let best = this.#zones[0] ?? '';
    let bestKey: [number, number] | undefined;
    for (const zone of this.#zones) {
      const key: [number, number] = [m?.get(zone) ?? 0, this.#overall.get(zone) ?? 0];
      if (bestKey === undefined || key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = zone;
        bestKey = key;
      }
    }
    return best;
  }
}

/** Spread of `vms` over `zones` can improve: some listed zone has two more VMs than another. */
export function spreadImprovable(vms: readonly ObservedVm[], zones: readonly string[]): boolean {
  if (vms.length < 2 || zones.length < 2) return false;
  const counts = new Map<string, number>(zones.map((z) => [z, 0]));
  for (const vm of vms) counts.set(vm.zone, (counts.get(vm.zone) ?? 0) + 1);
  let min = Infinity;
  let max = -Infinity;
  for (const z of zones) {
    const c = counts.get(z) ?? 0;
    min = Math.min(min, c);
    max = Math.max(max, c);
  }
  return max - min > 1;
}

/**
 * Picks up to `count` VMs from `candidates` (already in priority order) so that they
 * spread over the zones as evenly as possible: each pick takes, from the zone with the
 * fewest picks so far, its highest-priority candidate (ties: the candidate's priority).
 */
function pickSpread(candidates: readonly ObservedVm[], count: number): ObservedVm[] {
  const picked: ObservedVm[] = [];
  const perZone = new Map<string, number>();
  const left = [...candidates];
  // The first candidate (the primary, when it conforms) is always kept.
  while (picked.length < count && left.length > 0) {
    let bestIdx = 0;
    if (picked.length > 0) {
      let bestZoneCount = Infinity;
      for (let i = 0; i < left.length; i++) {
        const c = perZone.get((left[i] as ObservedVm).zone) ?? 0;
        if (c < bestZoneCount) {
          bestZoneCount = c;
          bestIdx = i;
        }
      }
    }
    const [vm] = left.splice(bestIdx, 1);
    if (vm === undefined) break;
    picked.push(vm);
    perZone.set(vm.zone, (perZone.get(vm.zone) ?? 0) + 1);
  }
  return picked.sort((a, b) => compareIds(a.id, b.id));
}

/**
 * The layout for this observation. `improveSpread`: mark a misplaced VM when the kept
 * ones could spread better (only while the cluster runs: moving a VM copies its data).
 */
export function computeLayout(view: ClusterView, improveSpread: boolean): Layout {
  const d = view.desired;
  const rf = d.replicationFactor;
  const groups = new Map<number, GroupLayout>();
  const keepIds = new Set<string>();
  const zones = new ZoneChooser(d.availabilityZones);
  for (const index of view.groupIndexes()) {
    const g = view.group(index);
    const wanted = index < d.nodeGroups;
    if (!wanted) {
      groups.set(index, { index, wanted, keep: [], extras: [...g.vms], missing: 0, misplaced: undefined });
      continue;
    }
    const primaryId = g.primary?.id;
    const rank = (vm: ObservedVm): number => {
      const node = view.node(vm);
      if (node !== undefined && node.id === primaryId) return 0;
      if (node !== undefined && view.isHealthy(node)) return 1;
      if (node !== undefined && node.up) return 2;
      if (view.alive(vm)) return 3;
      return 4;
    };
    const conforming = g.vms.filter((vm) => conforms(d, vm));
    // Common case: no more candidates than places — all are kept (already in id order).
    let keep =
      conforming.length <= rf ? conforming : pickSpread(conforming.sort((a, b) => rank(a) - rank(b) || compareIds(a.id, b.id)), rf);
    let misplaced: ObservedVm | undefined;
    if (improveSpread && keep.length === rf && spreadImprovable(keep, d.availabilityZones)) {
      misplaced = chooseMisplaced(keep, d.availabilityZones, primaryId, view);
      keep = keep.filter((vm) => vm !== misplaced);
    }
    for (const vm of keep) {
      keepIds.add(vm.id);
      zones.add(index, vm.zone);
    }
    const extras = g.vms.filter((vm) => !keepIds.has(vm.id));
    groups.set(index, { index, wanted, keep, extras, missing: rf - keep.length, misplaced });
  }
  const empty = (index: number): GroupLayout => ({ index, wanted: index < d.nodeGroups, keep: [], extras: [], missing: 0, misplaced: undefined });
  return {
    groups,
    keepIds,
    group: (index) => groups.get(index) ?? empty(index),
    newVm: (g, temporary) => {
      const zone = zones.choose(g);
      if (!temporary) zones.add(g, zone);
      return {
        id: vmId(view.nextVmNumber++),
        zone,
        vmType: d.vmType,
        storageGiB: d.storageGiB,
        nodeGroup: g,
        temporary,
        agentRunningSince: d.agentRunningSince,
      };
    },
  };
}

/** The kept VM to move: in the zone with the most kept VMs, not the primary, highest id. */
function chooseMisplaced(
  keep: readonly ObservedVm[],
  zones: readonly string[],
  primaryId: string | undefined,
  view: ClusterView,
): ObservedVm | undefined {
  const counts = new Map<string, number>();
  for (const vm of keep) counts.set(vm.zone, (counts.get(vm.zone) ?? 0) + 1);
  let worst: string | undefined;
  for (const z of zones) if (worst === undefined || (counts.get(z) ?? 0) > (counts.get(worst) ?? 0)) worst = z;
  const inWorst = keep.filter((vm) => vm.zone === worst && view.node(vm)?.id !== primaryId);
  return inWorst.sort((a, b) => compareIds(b.id, a.id))[0];
}
