// The ClusterStatus a person (`coxswain status`) and a script (`wait`, `--json`) see:
// the reconciler's own state joined with the nodes and agents of the last observation.
// The reconciler hands in what it knows, this shapes it.
//
// Two things the status must not forget between two calls, which the reconciler does not
// keep (StatusMemory, one per reconciler):
//   - the data node of a VM whose agent does not answer cannot be seen: the status shows
//     it as last seen (role, version, slots) instead of as a down data node, with when it
//     was last seen and when it was first found unseen. Both are times of calls of the
//     status (it sees only the observation current at each call): the node was last
//     observed somewhere between the two, which is all the status can honestly say;
//   - the count of jobs done is reset when the reconciler leaves ERROR_STATE for the same
//     desired state; the status carries the earlier count on, so that "done" never
//     decreases while one desired state is worked on.
import type { ObservedCluster, ObservedDataNode, ObservedVm } from '../model/observed.ts';
import type {
  ClusterStatus,
  ReconciliationState,
  SlotRange,
  StatusAgent,
  StatusError,
  StatusNode,
  StatusProgress,
} from '../model/status.ts';

export interface StatusInput {
  cluster: string;
  state: ReconciliationState;
  acceptedId: number | null;
  pendingId: number | null;
  lastRefusal: ClusterStatus['lastRefusal'];
  lastError: StatusError | null;
  /**
   * While working: jobs that succeeded since the reconciler (re)started working, the steps
   * the current plan estimates are left (null before the first plan), the jobs running now.
   */
  progress: { done: number; remaining: number | null; current: readonly string[] } | null;
  waiting: readonly string[];
  /** The last observation; undefined before the first one. */
  observed: ObservedCluster | undefined;
  epoch: number;
  /** Now, ms since the epoch. */
  now: number;
  /** What the reconciler remembers of earlier observations (it records each one); without it nothing is remembered. */
  memory?: StatusMemory;
}

/** How a data node was last seen. */
interface Sighting {
  id: string;
  role: string;
  version: string;
  up: boolean;
  slots: SlotRange[];
  /** When, ms since the epoch. */
  at: number;
}

/** What the status of one reconciler remembers from one call to the next. */
export class StatusMemory {
  /** The last data node seen on each VM, by VM id. */
  readonly #seen = new Map<string, Sighting>();
  /** When a VM's agent was first found not answering (since it last answered), ms, by VM id. */
  readonly #missing = new Map<string, number>();
  /** The observation recorded last: the same one is not recorded again (its time stays the first call's). */
  #recorded: ObservedCluster | undefined;

  /** Records the data nodes an observation shows, and forgets VMs that are gone. */
  record(observed: ObservedCluster, now: number): void {
    if (observed === this.#recorded) return;
    this.#recorded = observed;
    const ids = new Set<string>();
    for (const vm of observed.vms) {
      ids.add(vm.id);
      if (vm.agentUp) this.#missing.delete(vm.id);
      else if (!this.#missing.has(vm.id)) this.#missing.set(vm.id, now);
      const node = vm.agentUp ? vm.dataNodes[0] : undefined;
      if (node !== undefined) this.#seen.set(vm.id, { id: node.id, role: node.role, version: node.version, up: node.up, slots: node.slots.map((r) => ({ ...r })), at: now });
    }
    for (const id of this.#seen.keys()) if (!ids.has(id)) this.#seen.delete(id);
    for (const id of this.#missing.keys()) if (!ids.has(id)) this.#missing.delete(id);
  }

  /** When VM `vmId`'s agent was first found not answering, ms; undefined while it answers. */
  missingSince(vmId: string): number | undefined {
    return this.#missing.get(vmId);
  }

  /** The data node last seen on VM `vmId`, if any. */
  lastSeen(vmId: string): Sighting | undefined {
    return this.#seen.get(vmId);
  }
}

export function buildStatus(input: StatusInput): ClusterStatus {
  const memory = input.memory;
  if (input.observed !== undefined) memory?.record(input.observed, input.now);
  const groups = new Map<number, StatusNode[]>();
  const agents: StatusAgent[] = [];
  for (const vm of input.observed?.vms ?? []) {
    agents.push({ id: vm.id, endpoint: vm.endpoint, zone: vm.zone, up: vm.agentUp, vmState: vm.state });
    const nodes = groups.get(vm.nodeGroup) ?? [];
    if (vm.agentUp) {
      for (const n of vm.dataNodes) nodes.push(seenNode(n));
    } else {
      nodes.push(unseenNode(vm, memory?.lastSeen(vm.id), memory?.missingSince(vm.id) ?? input.now));
    }
    groups.set(vm.nodeGroup, nodes);
  }
  const nodeGroups = [...groups]
    .filter(([, nodes]) => nodes.length > 0)
    .sort(([a], [b]) => a - b)
    .map(([index, nodes]) => ({ index, nodes, slots: mergeRanges(nodes.filter((n) => n.role === 'primary').flatMap((n) => n.slots ?? [])) }));
  const backups = input.observed?.backups;
  return {
    cluster: input.cluster,
    state: input.state,
    acceptedId: input.acceptedId,
    pendingId: input.pendingId,
    lastRefusal: input.lastRefusal === null ? null : { ...input.lastRefusal },
    lastError: input.lastError === null ? null : { ...input.lastError },
    progress: progressOf(input),
    waiting: [...input.waiting],
    nodeGroups,
    agents,
    endpoints: seedEndpoints(nodeGroups),
    backups: backups === undefined ? null : backups.map((b) => ({ id: b.id, sink: b.sink, complete: b.complete })).sort((a, b) => a.id.localeCompare(b.id)),
    epoch: input.epoch,
    at: new Date(input.now).toISOString(),
  };
}

function progressOf(input: StatusInput): StatusProgress | null {
  const p = input.progress;
  if (p === null) return null;
  return { done: p.done, total: p.done + (p.remaining ?? 0), current: [...p.current], remaining: p.remaining };
}

function seenNode(n: ObservedDataNode): StatusNode {
  return {
    id: n.id,
    host: n.host,
    port: n.port,
    role: n.role,
    version: n.version,
    up: n.up,
    agentUp: true,
    observed: true,
    slots: n.slots.map((r) => ({ start: r.start, end: r.end })),
  };
}

/** The data node of a VM whose agent does not answer: as last seen, or unknown. */
function unseenNode(vm: ObservedVm, last: Sighting | undefined, missingSince: number): StatusNode {
  return {
    id: last?.id ?? vm.id,
    host: vm.dataHost,
    port: vm.dataPort,
    role: last?.role ?? 'unknown',
    version: last?.version ?? '',
    up: false,
    agentUp: false,
    observed: false,
    lastObservedAt: last === undefined ? null : new Date(last.at).toISOString(),
    notObservedSince: new Date(missingSince).toISOString(),
    slots: last?.slots.map((r) => ({ ...r })) ?? [],
  };
}

/** Sorted, with overlapping and adjacent ranges joined: 0-5460 and 5461-10922 give 0-10922. */
export function mergeRanges(ranges: readonly SlotRange[]): SlotRange[] {
  const sorted = [...ranges].filter((r) => r.end >= r.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: SlotRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last !== undefined && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** host:port of the nodes seen up as members: primaries first, then replicas, each by node group then id. */
function seedEndpoints(groups: readonly { index: number; nodes: readonly StatusNode[] }[]): string[] {
  const serving = (role: string): string[] =>
    groups.flatMap((g) =>
      g.nodes
        .filter((n) => n.observed === true && n.up && n.role === role)
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
        .map((n) => `${n.host}:${n.port}`),
    );
  return [...new Set([...serving('primary'), ...serving('replica')])];
}
