// The ClusterStatus a person (`coxswain status`) and a script (`wait`, `--json`) see:
// the reconciler's own state joined with the nodes and agents of the last observation.
// Pure: the reconciler hands in what it knows, this shapes it.
import type { ObservedCluster } from '../model/observed.ts';
import type { ClusterStatus, ReconciliationState, StatusAgent, StatusError, StatusNode } from '../model/status.ts';

export interface StatusInput {
  cluster: string;
  state: ReconciliationState;
  acceptedId: number | null;
  pendingId: number | null;
  lastRefusal: ClusterStatus['lastRefusal'];
  lastError: StatusError | null;
  progress: ClusterStatus['progress'];
  waiting: readonly string[];
  /** The last observation; undefined before the first one. */
  observed: ObservedCluster | undefined;
  epoch: number;
  /** Now, ms since the epoch. */
  now: number;
}

export function buildStatus(input: StatusInput): ClusterStatus {
  const groups = new Map<number, StatusNode[]>();
  const agents: StatusAgent[] = [];
  for (const vm of input.observed?.vms ?? []) {
    agents.push({ id: vm.id, endpoint: vm.endpoint, zone: vm.zone, up: vm.agentUp });
    const nodes = groups.get(vm.nodeGroup) ?? [];
    if (vm.dataNodes.length > 0) {
      for (const n of vm.dataNodes) nodes.push({ id: n.id, host: n.host, port: n.port, role: n.role, version: n.version, up: n.up });
    } else if (!vm.agentUp) {
      // The agent does not answer: its node (if any) cannot be seen; show the VM's slot as down.
      nodes.push({ id: vm.id, host: vm.dataHost, port: vm.dataPort, role: 'unknown', version: '', up: false });
    }
    groups.set(vm.nodeGroup, nodes);
  }
  const nodeGroups = [...groups]
    .filter(([, nodes]) => nodes.length > 0)
    .sort(([a], [b]) => a - b)
    .map(([index, nodes]) => ({ index, nodes }));
  return {
    cluster: input.cluster,
    state: input.state,
    acceptedId: input.acceptedId,
    pendingId: input.pendingId,
    lastRefusal: input.lastRefusal === null ? null : { ...input.lastRefusal },
    lastError: input.lastError === null ? null : { ...input.lastError },
    progress: input.progress === null ? null : { ...input.progress, current: [...input.progress.current] },
    waiting: [...input.waiting],
    nodeGroups,
    agents,
    epoch: input.epoch,
    at: new Date(input.now).toISOString(),
  };
}
