// Helpers for the world's own tests: a world with a provider for one leader, and a
// way to await a call while the virtual clock runs.
import type { VmSpec } from '../../operator/model/step.ts';
import { FaultInjector } from './faults.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import type { SimContext } from './world-agent.ts';
import { WorldProvider } from './world-provider.ts';
import { DEFAULT_WORLD_PARAMS, World, type WorldParams } from './world.ts';
import type { Fault } from '../arbitraries/faults.ts';

export interface Kit {
  clock: VirtualClock;
  world: World;
  ctx: SimContext;
  provider: WorldProvider;
  /** Awaits `p` while the clock runs (virtual time passes only as needed). */
  drive<T>(p: Promise<T>): Promise<T>;
  /** Lets `ms` of virtual time pass. */
  wait(ms: number): Promise<void>;
  /** A provider for another leader (instance number, epoch). */
  leader(leader: number, epoch: number): WorldProvider;
}

export function makeKit(params: Partial<WorldParams> = {}, faults: Fault[] = []): Kit {
  const clock = new VirtualClock();
  const world = new World(clock, { ...DEFAULT_WORLD_PARAMS, ...params });
  const ctx: SimContext = { world, clock, faults: new FaultInjector(faults), onMutatingCall: () => undefined };
  const drive = async <T>(p: Promise<T>): Promise<T> => {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    p.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    await clock.run({ until: () => outcome !== undefined, maxTime: clock.now() + 3_600_000, maxEvents: 100_000 });
    if (outcome === undefined) throw new Error('test: the call did not settle within an hour of virtual time');
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  };
  return {
    clock,
    world,
    ctx,
    provider: new WorldProvider(ctx, { leader: 1, epoch: 1 }),
    drive,
    wait: (ms) => drive(clock.sleep(ms)),
    leader: (leader, epoch) => new WorldProvider(ctx, { leader, epoch }),
  };
}

export function vmSpec(id: string, nodeGroup: number, zone = 'zone-a'): VmSpec {
  return { id, zone, vmType: 'small', storageGiB: 10, nodeGroup, temporary: false, agentRunningSince: 1 };
}

/** Creates VMs and starts a data node on each (version 7.0, node id = VM id). */
export async function startNodes(kit: Kit, groups: string[][]): Promise<void> {
  for (const [g, ids] of groups.entries()) {
    for (const id of ids) {
      const rec = await kit.drive(kit.provider.create(vmSpec(id, g)));
      await kit.drive(
        kit.provider.agent(id).startDataNode({ job: { jobId: 't' }, nodeId: id, port: rec.dataPort, version: '7.0', nodeGroup: g }, { idempotencyKey: `start-${id}` }),
      );
    }
  }
}

/** Address of a node, as a JoinNode/MoveData request names it. */
export function addressOf(kit: Kit, id: string): { host: string; port: number; engineNodeId: string } {
  const vm = kit.world.vm(id);
  const n = vm?.nodes.get(id);
  if (vm === undefined || n === undefined) throw new Error(`test: no node ${id}`);
  return { host: vm.record.dataHost, port: vm.record.dataPort, engineNodeId: n.engineId };
}

let keys = 0;
/** A fresh idempotency key. */
export const key = (): { idempotencyKey: string } => ({ idempotencyKey: `k${++keys}` });

/** Forms a cluster: the first node of each group is its primary with an equal share of slots; the others replicate it. */
export async function formCluster(kit: Kit, ids: string[][]): Promise<void> {
  const n = ids.length;
  const share = Math.floor(16384 / n);
  let start = 0;
  for (const [g, members] of ids.entries()) {
    const primary = members[0] as string;
    const end = g === n - 1 ? 16383 : start + share - 1;
    const via = g === 0 ? undefined : addressOf(kit, (ids[0] as string[])[0] as string);
    await kit.drive(
      kit.provider.agent(primary).joinNode(
        { job: { jobId: 't' }, nodeId: primary, role: 'JOIN_ROLE_PRIMARY_WITHOUT_DATA', clusterMember: via ?? null, assignSlots: [{ start, end }] },
        key(),
      ),
    );
    start = end + 1;
  }
  for (const members of ids) {
    for (const r of members.slice(1)) {
      await kit.drive(
        kit.provider.agent(r).joinNode({ job: { jobId: 't' }, nodeId: r, role: 'JOIN_ROLE_REPLICA', replicaOf: addressOf(kit, members[0] as string) }, key()),
      );
    }
  }
}
