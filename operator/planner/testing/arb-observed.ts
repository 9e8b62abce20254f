// Test support: random observed clusters for property tests of the planner. A cluster
// is built at one desired state (test-cluster.ts), then mutated by a random list of
// faults and oddities: nodes down, VMs failed or lost, agents down, extra and temporary
// VMs, stale labels, replicas out of sync or following the wrong primary, slots moved
// or lost, topology disagreement, missing versions, backups missing or unknown, failed
// members reported (strangers, and nodes of the cluster), and random leader facts.
import fc from 'fast-check';
import type { Desired, EngineVersion } from '../../../desired-state/types.ts';
import { REDIS_SLOTS, type ObservedCluster, type ObservedDataNode, type ObservedVm } from '../../model/observed.ts';
import { vmNumber } from '../names.ts';
import { clusterAt, downNode, engineIdOf } from './test-cluster.ts';

export type Mutation =
  | { op: 'nodeDown'; at: number }
  | { op: 'vmFailed'; at: number; state: 'failed' | 'stopped' | 'creating' }
  | { op: 'agentDown'; at: number }
  | { op: 'dropVm'; at: number }
  | { op: 'extraVm'; group: number; zone: number; temporary: boolean; node: 'none' | 'absent' | 'replica' }
  | { op: 'staleVersion'; at: number }
  | { op: 'staleRunningSince'; at: number }
  | { op: 'staleConfig'; at: number; live: boolean }
  | { op: 'outOfSync'; at: number }
  | { op: 'wrongPrimary'; at: number; to: number }
  | { op: 'moveSlots'; from: number; to: number; count: number }
  | { op: 'loseSlots'; at: number }
  | { op: 'disagree'; at: number }
  | { op: 'noVersion'; at: number }
  | { op: 'emptyNode'; at: number }
  | { op: 'backups'; kind: 'undefined' | 'none' | 'incomplete' | 'extra' }
  /** Up nodes report a failed member: a stranger (every up node, or one), or a node of the cluster (`at`). */
  | { op: 'failedMember'; at: number; who: 'stranger' | 'node'; all: boolean };

const at = fc.nat(1000);
export const arbMutation = (): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ op: fc.constant('nodeDown' as const), at }),
    fc.record({ op: fc.constant('vmFailed' as const), at, state: fc.constantFrom('failed' as const, 'stopped' as const, 'creating' as const) }),
    fc.record({ op: fc.constant('agentDown' as const), at }),
    fc.record({ op: fc.constant('dropVm' as const), at }),
    fc.record({
      op: fc.constant('extraVm' as const),
      group: fc.nat(7),
      zone: fc.nat(20),
      temporary: fc.boolean(),
      node: fc.constantFrom('none' as const, 'absent' as const, 'replica' as const),
    }),
    fc.record({ op: fc.constant('staleVersion' as const), at }),
    fc.record({ op: fc.constant('staleRunningSince' as const), at }),
    fc.record({ op: fc.constant('staleConfig' as const), at, live: fc.boolean() }),
    fc.record({ op: fc.constant('outOfSync' as const), at }),
    fc.record({ op: fc.constant('wrongPrimary' as const), at, to: at }),
    fc.record({ op: fc.constant('moveSlots' as const), from: at, to: at, count: fc.integer({ min: 1, max: 4000 }) }),
    fc.record({ op: fc.constant('loseSlots' as const), at }),
    fc.record({ op: fc.constant('disagree' as const), at }),
    fc.record({ op: fc.constant('noVersion' as const), at }),
    fc.record({ op: fc.constant('emptyNode' as const), at }),
    fc.record({ op: fc.constant('backups' as const), kind: fc.constantFrom('undefined' as const, 'none' as const, 'incomplete' as const, 'extra' as const) }),
    fc.record({ op: fc.constant('failedMember' as const), at, who: fc.constantFrom('stranger' as const, 'node' as const), all: fc.boolean() }),
  );

const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);

function upNodes(c: ObservedCluster): ObservedDataNode[] {
  return c.vms.flatMap((vm) => vm.dataNodes.filter((n) => n.up));
}

/** Applies mutations in order (each picks its target modulo what exists). */
export function mutate(c: ObservedCluster, base: Desired, ms: readonly Mutation[]): ObservedCluster {
  for (const m of ms) {
    switch (m.op) {
      case 'nodeDown': {
        const n = pick(upNodes(c), m.at);
        if (n !== undefined) downNode(c, n.vmId);
        break;
      }
      case 'vmFailed': {
        const vm = pick(c.vms, m.at);
        if (vm !== undefined) Object.assign(vm, { state: m.state, agentUp: false, dataNodes: [] });
        break;
      }
      case 'agentDown': {
        const vm = pick(c.vms, m.at);
        if (vm !== undefined) Object.assign(vm, { agentUp: false, dataNodes: [] });
        break;
      }
      case 'dropVm': {
        const vm = pick(c.vms, m.at);
        if (vm !== undefined) c.vms = c.vms.filter((v) => v !== vm);
        break;
      }
      case 'extraVm': {
        const num = Math.max(0, ...c.vms.map((v) => vmNumber(v.id))) + 1;
        const id = `vm-${num}`;
        const zones = [...base.availabilityZones, 'gone-zone'];
        const group = m.group % (base.nodeGroups + 2);
        const primary = c.vms.flatMap((v) => v.dataNodes).find((n) => n.up && n.role === 'primary' && n.nodeGroup === group);
        const vm: ObservedVm = {
          id,
          zone: zones[m.zone % zones.length] ?? 'z',
          vmType: base.vmType,
          storageGiB: base.storageGiB,
          nodeGroup: group,
          temporary: m.temporary,
          state: 'running',
          agentUp: true,
          endpoint: `127.0.0.1:${40000 + num}`,
          agentRunningSince: base.agentRunningSince,
          dataHost: '127.0.0.1',
          dataPort: 21000 + num,
          installedVersions: [base.version],
          dataNodes: [],
        };
        if (m.node !== 'absent') {
          const replica = m.node === 'replica' && primary !== undefined;
          vm.dataNodes.push({
            id,
            vmId: id,
            host: '127.0.0.1',
            port: vm.dataPort,
            nodeGroup: group,
            engineNodeId: engineIdOf(id),
            role: replica ? 'replica' : 'none',
            primaryId: replica ? primary.id : undefined,
            slots: [],
            up: true,
            version: base.version,
            runningSince: base.runningSince,
            configKey: '{}',
            inSync: replica,
            topologyDigest: replica ? (primary.topologyDigest) : `alone-${id}`,
          });
        }
        c.vms.push(vm);
        break;
      }
      case 'staleVersion': {
        const n = pick(c.vms.flatMap((v) => v.dataNodes), m.at);
        if (n !== undefined) n.version = '7.0' as EngineVersion;
        break;
      }
      case 'staleRunningSince': {
        const n = pick(c.vms.flatMap((v) => v.dataNodes), m.at);
        if (n !== undefined) n.runningSince = -1;
        break;
      }
      case 'staleConfig': {
        const n = pick(c.vms.flatMap((v) => v.dataNodes), m.at);
        if (n !== undefined) n.configKey = m.live ? '{"maxmemory-policy":"volatile-ttl"}' : '{"io-threads":"7"}';
        break;
      }
      case 'outOfSync': {
        const n = pick(upNodes(c).filter((x) => x.role === 'replica'), m.at);
        if (n !== undefined) n.inSync = false;
        break;
      }
      case 'wrongPrimary': {
        const n = pick(upNodes(c).filter((x) => x.role === 'replica'), m.at);
        const p = pick(upNodes(c).filter((x) => x.role === 'primary'), m.to);
        if (n !== undefined && p !== undefined) n.primaryId = p.id;
        break;
      }
      case 'moveSlots': {
        const primaries = upNodes(c).filter((x) => x.role === 'primary' && x.slots.length > 0);
        const from = pick(primaries, m.from);
        const to = pick(upNodes(c).filter((x) => x.role === 'primary'), m.to);
        if (from === undefined || to === undefined || from === to) break;
        const r = from.slots[from.slots.length - 1];
        if (r === undefined) break;
        const count = Math.min(m.count, r.end - r.start + 1);
        from.slots[from.slots.length - 1] = { start: r.start, end: r.end - count };
        if (r.end - count < r.start) from.slots.pop();
        to.slots.push({ start: r.end - count + 1, end: r.end });
        break;
      }
      case 'loseSlots': {
        const n = pick(upNodes(c).filter((x) => x.role === 'primary'), m.at);
        if (n !== undefined) n.slots = [];
        break;
      }
      case 'disagree': {
        const n = pick(upNodes(c), m.at);
        if (n !== undefined) n.topologyDigest = 'other-view';
        break;
      }
      case 'noVersion': {
        const vm = pick(c.vms, m.at);
        if (vm !== undefined) vm.installedVersions = [];
        break;
      }
      case 'emptyNode': {
        const vm = pick(c.vms, m.at);
        if (vm !== undefined) vm.dataNodes = [];
        break;
      }
      case 'failedMember': {
        const target = m.who === 'stranger' ? `ghost-${m.at}` : pick(c.vms.flatMap((v) => v.dataNodes), m.at)?.engineNodeId;
        if (target === undefined) break;
        const reporters = m.all ? upNodes(c) : [pick(upNodes(c), m.at)].filter((n): n is ObservedDataNode => n !== undefined);
        for (const n of reporters) n.failedMembers = [...new Set([...(n.failedMembers ?? []), target])].sort();
        break;
      }
      case 'backups': {
        if (m.kind === 'undefined') c.backups = undefined;
        else if (m.kind === 'none') c.backups = [];
        else if (m.kind === 'incomplete') c.backups = (c.backups ?? []).map((b) => ({ ...b, complete: false }));
        else c.backups = [...(c.backups ?? []), { id: 'stray', sink: 'local:elsewhere', complete: true }];
        break;
      }
    }
  }
  return c;
}

export interface ObservedCase {
  base: Desired;
  observed: ObservedCluster;
}

/** A cluster at `base` (running or not, formed or not), mutated. */
export function arbObserved(base: Desired): fc.Arbitrary<ObservedCluster> {
  return fc
    .record({
      formed: fc.boolean(),
      running: fc.boolean(),
      restored: fc.boolean(),
      mutations: fc.array(arbMutation(), { maxLength: 8 }),
    })
    .map(({ formed, running, restored, mutations }) => {
      const c = clusterAt({ ...base, running }, { formed });
      if (!formed && running) {
        // Part way through forming: some primaries have not claimed their share yet.
        for (const vm of c.vms) for (const n of vm.dataNodes) if (n.nodeGroup % 2 === 1) n.slots = [];
      }
      c.facts.restoredFrom = restored ? base.restoreFromBackup?.id : undefined;
      return mutate(c, base, mutations);
    });
}

/** Every slot counted once across up primaries (for sanity checks in tests). */
export function servedSlots(c: ObservedCluster): number {
  const owned = new Uint8Array(REDIS_SLOTS);
  for (const n of upNodes(c)) if (n.role === 'primary') for (const r of n.slots) owned.fill(1, r.start, r.end + 1);
  return owned.reduce((s, x) => s + x, 0);
}
