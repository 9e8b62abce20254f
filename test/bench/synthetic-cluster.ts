// Synthetic observations for timing the planner at scale: a cluster of `nodeGroups` ×
// `replicationFactor` data nodes exactly at its desired state (every VM up, every node
// healthy with the desired labels, the slots balanced, one topology digest), built as
// plain data the way operator/model/observed.ts describes it. Nothing is measured here.
import type { Desired } from '../../desired-state/types.ts';
import { REDIS_SLOTS, configKey } from '../../operator/model/observed.ts';
import type { ObservedCluster, ObservedDataNode, ObservedVm, SlotRange } from '../../operator/model/observed.ts';

export const SYNTHETIC_ZONES = ['zone-a', 'zone-b', 'zone-c'] as const;
const SYNTHETIC_CONFIG: Record<string, string> = { 'maxmemory-policy': 'noeviction', appendfsync: 'everysec' };

export interface SyntheticShape {
  nodeGroups: number;
  replicationFactor: number;
}

/** The desired state a synthetic cluster is at (id 1, version 8.0, three zones). */
export function syntheticDesired(shape: SyntheticShape): Desired {
  return {
    id: 1,
    name: 'synthetic',
    engine: 'redis',
    version: '8.0',
    running: true,
    runningSince: 1,
    agentRunningSince: 1,
    nodeGroups: shape.nodeGroups,
    replicationFactor: shape.replicationFactor,
    maxReplicationFactor: Math.max(shape.replicationFactor, 1),
    availabilityZones: [...SYNTHETIC_ZONES],
    vmType: 'small',
    storageGiB: 10,
    config: { ...SYNTHETIC_CONFIG },
    backups: [],
    allowTemporaryVms: false,
  };
}

/** The slots of group `g` of `n`: contiguous, balanced (sizes differ by at most one). */
export function balancedSlots(g: number, n: number): SlotRange[] {
  const base = Math.floor(REDIS_SLOTS / n);
  const extra = REDIS_SLOTS % n;
  const start = g * base + Math.min(g, extra);
  const size = base + (g < extra ? 1 : 0);
  return size === 0 ? [] : [{ start, end: start + size - 1 }];
}

/** A 40-hex engine id derived from a number, as Redis node ids look. */
function engineId(n: number): string {
  return n.toString(16).padStart(40, '0');
}

/** An observation of the cluster of `desired`, at that desired state. */
export function syntheticObserved(desired: Desired): ObservedCluster {
  const label = configKey(desired.config);
  const vms: ObservedVm[] = [];
  const rf = desired.replicationFactor;
  for (let g = 0; g < desired.nodeGroups; g++) {
    const primaryId = `vm-${g * rf + 1}`;
    for (let r = 0; r < rf; r++) {
      const number = g * rf + r + 1;
      const id = `vm-${number}`;
      const port = 10000 + (number % 50000);
      const node: ObservedDataNode = {
        id,
        vmId: id,
        host: '10.0.0.1',
        port,
        nodeGroup: g,
        engineNodeId: engineId(number),
        role: r === 0 ? 'primary' : 'replica',
        primaryId: r === 0 ? undefined : primaryId,
        slots: r === 0 ? balancedSlots(g, desired.nodeGroups) : [],
        up: true,
        version: desired.version,
        runningSince: desired.runningSince,
        configKey: label,
        inSync: true,
        topologyDigest: 'synthetic-digest-1',
      };
      vms.push({
        id,
        zone: desired.availabilityZones[r % desired.availabilityZones.length] ?? 'zone-a',
        vmType: desired.vmType,
        storageGiB: desired.storageGiB,
        nodeGroup: g,
        temporary: false,
        state: 'running',
        agentUp: true,
        endpoint: `10.0.0.1:${port + 1}`,
        agentRunningSince: desired.agentRunningSince,
        dataHost: '10.0.0.1',
        dataPort: port,
        installedVersions: [desired.version],
        dataNodes: [node],
      });
    }
  }
  vms.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { vms, backups: [], facts: { restoredFrom: undefined, formed: true } };
}

/** The same desired state one edit later, asking for a rolling restart of every data node. */
export function withRollingRestart(desired: Desired): Desired {
  return { ...desired, id: desired.id + 1, runningSince: desired.id + 1 };
}
