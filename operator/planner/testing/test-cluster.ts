// Test support for the planner: an ObservedCluster exactly AT a desired state (VMs in the
// zones the planner's zone rule picks, one primary per group with its share of slots,
// replicas in sync, desired labels, backups present, formed), and small helpers to
// tweak it. Tests copy it (structuredClone) before changing it.
import type { Desired } from '../../../desired-state/types.ts';
import { configKey, type ObservedCluster, type ObservedDataNode, type ObservedVm } from '../../model/observed.ts';
import { describeStep, type Plan, type Step } from '../../model/step.ts';
import { desiredConfigStrings } from '../config-diff.ts';
import { ZoneChooser } from '../layout.ts';
import { vmId } from '../names.ts';
import { shareRange } from '../slots.ts';

export interface ClusterOptions {
  /** The cluster was formed (every slot assigned). @default true */
  formed?: boolean;
}

/** The engine id a test gives node `id`. */
export const engineIdOf = (id: string): string => `e-${id}`;

export function clusterAt(d: Desired, opts: ClusterOptions = {}): ObservedCluster {
  const formed = opts.formed ?? true;
  const zones = new ZoneChooser(d.availabilityZones);
  const key = configKey(desiredConfigStrings(d.config));
  const vms: ObservedVm[] = [];
  let n = 0;
  for (let g = 0; g < d.nodeGroups; g++) {
    let primaryId = '';
    for (let r = 0; r < d.replicationFactor; r++) {
      n++;
      const id = vmId(n);
      const zone = zones.choose(g);
      zones.add(g, zone);
      if (r === 0) primaryId = id;
      const share = shareRange(g, d.nodeGroups);
      const node: ObservedDataNode = {
        id,
        vmId: id,
        host: '127.0.0.1',
        port: 20000 + n,
        nodeGroup: g,
        engineNodeId: engineIdOf(id),
        role: d.running ? (r === 0 ? 'primary' : 'replica') : 'unknown',
        primaryId: d.running && r > 0 ? primaryId : undefined,
        slots: d.running && r === 0 && share !== undefined ? [share] : [],
        up: d.running,
        version: d.version,
        runningSince: d.runningSince,
        configKey: key,
        inSync: d.running && r > 0,
        topologyDigest: d.running ? 'topology-1' : '',
      };
      vms.push({
        id,
        zone,
        vmType: d.vmType,
        storageGiB: d.storageGiB,
        nodeGroup: g,
        temporary: false,
        state: 'running',
        agentUp: true,
        endpoint: `127.0.0.1:${30000 + n}`,
        agentRunningSince: d.agentRunningSince,
        dataHost: '127.0.0.1',
        dataPort: 20000 + n,
        installedVersions: [d.version],
        dataNodes: [node],
      });
    }
  }
  const backups = d.backups.map((b) => ({ id: b.id, sink: `${b.sink.type}:${b.sink.path}`, complete: true }));
  const r = d.restoreFromBackup;
  if (r !== undefined && !backups.some((b) => b.id === r.id)) backups.push({ id: r.id, sink: `${r.sink.type}:${r.sink.path}`, complete: true });
  return { vms, backups, facts: { formed, restoredFrom: r?.id } };
}

/** The VM `id` of a cluster (throws when absent: a test mistake). */
export function vmOf(c: ObservedCluster, id: string): ObservedVm {
  const vm = c.vms.find((v) => v.id === id);
  if (vm === undefined) throw new Error(`test cluster has no VM ${id}`);
  return vm;
}

/** The data node of VM `id`. */
export function nodeOf(c: ObservedCluster, id: string): ObservedDataNode {
  const node = vmOf(c, id).dataNodes[0];
  if (node === undefined) throw new Error(`test cluster VM ${id} has no data node`);
  return node;
}

/** Marks a node down as an agent reports it (role unknown, no slots, no digest). */
export function downNode(c: ObservedCluster, id: string): void {
  const n = nodeOf(c, id);
  Object.assign(n, { up: false, role: 'unknown', slots: [], inSync: false, topologyDigest: '', primaryId: undefined });
}

/** Removes a VM from the inventory (lost for good). */
export function dropVm(c: ObservedCluster, id: string): void {
  c.vms = c.vms.filter((v) => v.id !== id);
}

/** The steps of a plan, one line each (describeStep). */
export function lines(p: Pick<Plan, 'next'>): string[] {
  return p.next.map((s) => describeStep(s.step));
}

/** The steps of a plan of one kind. */
export function stepsOf<K extends Step['kind']>(p: Pick<Plan, 'next'>, kind: K): Extract<Step, { kind: K }>[] {
  return p.next.flatMap((s) => (s.step.kind === kind ? [s.step as Extract<Step, { kind: K }>] : []));
}
