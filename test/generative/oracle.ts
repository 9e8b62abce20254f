// The independent oracle: the safety invariants of docs/invariants.md, rewritten from
// the text and judged on the simulated world's OWN ground truth — what each node really
// runs and holds, which replica really is in sync (SimNode.syncing), which primary really
// serves which slots, which epoch each agent really saw — at the moment each intentional
// change takes effect. It shares no code with the system under test: it imports no value
// from operator/planner/** or operator/executor/** (types only; oracle.test.ts reads the
// import lines and fails otherwise). checkStepSafety (the `plan-unsafe` check) judges a
// batch with the planner's own helpers (ClusterView.isHealthy, versionOrderAllows, …), so a
// mistake in a helper is invisible to it as well; the oracle does not have that blind spot.
//
// How it sees changes: the world-agent and the world-provider run every effect through
// `around()`, which snapshots the nodes, applies the effect, and judges the difference
// (a node that went down, one that was removed or deleted, a replica that became primary).
// A refused call (the effect threw) changed nothing and is not judged.
//
// How it sees batches: the runner hands it every batch a leader's planner returns
// (`planned`), per leader instance; the reconciler runs a batch's steps at once. A change
// is attributed to the step of that leader's latest batch that names the same kind of
// step on the same VM (a batch has one step per VM): two different steps of one batch
// that disrupt the same node group — by ground truth, the group of the primary whose data
// the node copies — break "one disruptive step per group" (invariant 1). It trusts that the
// reconciler runs the batch the planner returned: an executor that merged two batches
// would be outside this view (the other checks, judged per effect, would still see it).
//
// It runs in every scenario (RunOptions.oracle, default on); `run.ts --no-oracle` and
// systemUnderTest({ oracle: false }) run the old checks only, for comparison.
//
// Its checks (SafetyCheck names 'oracle-…'):
//   oracle-last-copy           a node stopped/removed/deleted while it held the group's last complete live copy
//   oracle-two-down            a stop leaves two nodes of a group down while the cluster runs
//   oracle-stopped-while-syncing  a node stopped (a restart begins with a stop) while another
//                              replica of its group is up but still syncing: the group has no
//                              complete copy beside what is left, and the world's two-down
//                              check, which counts only nodes that are down, cannot see it
//   oracle-primary-stopped     a primary stopped while an in-sync replica could have taken over
//   oracle-batch-group         two disruptive steps of one batch on the same node group
//   oracle-failover            a planned failover promoted a replica that was not in sync, or
//                              while another replica of the group runs an older version
//   oracle-removed-serving     a node removed or deleted while it served slots
//   oracle-stale-epoch         an agent or the provider acted for an epoch lower than one it had
//                              seen, or for a second leader presenting the same epoch
//   oracle-vm-deleted-while-member  a VM deleted while its data node was still a primary or replica
//   oracle-forgot-live-node    a member made to forget a node that still exists (only nodes no
//                              VM runs any more may be forgotten)
//   oracle-restore-backup-deleted  the backup restoreFromBackup names vanished from its sink
import { sinkKey } from '../../operator/model/observed.ts';
import type { Step } from '../../operator/model/step.ts';
import type { Caller, SafetyCheck, SimNode, World } from './world.ts';

/** One intentional change as it reaches the world. */
export interface OracleCall {
  caller: Caller;
  /** The agent's method ('StopDataNode', …) or the provider's ('provider.delete', …). */
  method: string;
  vmId: string;
}

/** The calls the oracle judges: those that can stop, remove, promote or forget a node, or delete a backup. */
const JUDGED = new Set(['StopDataNode', 'Failover', 'RemoveNode', 'provider.delete', 'ForgetNode', 'DeleteBackup']);

interface NodeBefore {
  node: SimNode;
  up: boolean;
  member: boolean;
  role: SimNode['role'];
  primary: SimNode | undefined;
  /** Up, and a complete copy of its group's data: an up primary, or an up replica whose sync finished. */
  complete: boolean;
  /** Up replica still catching up with its primary. */
  syncing: boolean;
  version: string;
  slots: number;
}

interface Batch {
  id: number;
  steps: readonly Step[];
  /** Ground-truth group key → the index of the step that disrupted it. */
  disrupted: Map<string, number>;
}

const METHOD_KIND: Readonly<Record<string, Step['kind']>> = {
  StopDataNode: 'stopDataNode',
  Failover: 'failover',
  RemoveNode: 'removeNode',
  'provider.delete': 'deleteVm',
};

export class Oracle {
  readonly #world: World;
  readonly #batches = new Map<number, Batch>();
  #nextBatch = 1;
  /** Per agent (VM id, or 'provider'): the highest epoch it answered, and the leader instance that presented it. */
  readonly #epochs = new Map<string, { epoch: number; leader: number }>();

  constructor(world: World) {
    this.#world = world;
  }

  /** A leader's planner returned `steps` to run at once. */
  planned(leader: number, steps: readonly Step[]): void {
    if (steps.length === 0) return;
    this.#batches.set(leader, { id: this.#nextBatch++, steps, disrupted: new Map() });
  }

  /** An agent (or the provider: vmId 'provider') accepted a call from `caller`. */
  reached(vmId: string, caller: Caller, what: string, mutating: boolean): void {
    const seen = this.#epochs.get(vmId);
    if (mutating && seen !== undefined) {
      const who = vmId === 'provider' ? 'the VM provider' : `the agent of ${vmId}`;
      if (caller.epoch < seen.epoch) {
        this.#violate('oracle-stale-epoch', `${who} acted on ${what} for epoch ${caller.epoch} (leader #${caller.leader}) after it had seen epoch ${seen.epoch}`);
      } else if (caller.epoch === seen.epoch && caller.leader !== seen.leader) {
        this.#violate('oracle-stale-epoch', `${who} acted on ${what} for leader #${caller.leader} with epoch ${caller.epoch}, the epoch leader #${seen.leader} already presented: each leader must take a new epoch`);
      }
    }
    if (seen === undefined || caller.epoch > seen.epoch) this.#epochs.set(vmId, { epoch: caller.epoch, leader: caller.leader });
  }

  /** Applies `effect` (an intentional change) and judges what it really changed. */
  around<T>(call: OracleCall, effect: () => T): T {
    // Only these calls stop, remove or promote a node; the others need no judgement here.
    if (!JUDGED.has(call.method)) return effect();
    const before = this.#snapshot();
    const forgotten = new Map(this.#world.liveNodes().map((n) => [n, n.forgotten.size]));
    const restore = this.#world.desired?.restoreFromBackup;
    const restoreKey = restore === undefined ? undefined : sinkKey(restore.sink);
    const restoreHeld = restore !== undefined && restoreKey !== undefined && this.#world.backup(restoreKey, restore.id) !== undefined;
    const members = call.method === 'provider.delete' ? [...(this.#world.vm(call.vmId)?.nodes.values() ?? [])].filter((n) => n.member && n.role !== 'none') : [];
    const result = effect();
    this.#judge(call, before);
    for (const n of members) {
      this.#violate('oracle-vm-deleted-while-member', `VM ${call.vmId} was deleted while its data node ${n.id} was a ${n.role} of the cluster`);
    }
    for (const [n, size] of forgotten) {
      if (!n.deleted && n.forgotten.size > size) this.#violate('oracle-forgot-live-node', `a member was made to forget ${n.id}, a node of VM ${n.vmId} that still exists (${call.method} on ${call.vmId})`);
    }
    if (restoreHeld && restore !== undefined && restoreKey !== undefined && this.#world.backup(restoreKey, restore.id) === undefined) {
      this.#violate('oracle-restore-backup-deleted', `backup ${restore.id} in ${restoreKey}, which restoreFromBackup names, was deleted (${call.method} on ${call.vmId})`);
    }
    return result;
  }

  // ───────────── the judgement ─────────────

  #snapshot(): Map<SimNode, NodeBefore> {
    const w = this.#world;
    const out = new Map<SimNode, NodeBefore>();
    for (const n of w.liveNodes()) {
      const primaryUp = n.primary !== undefined && n.primary.up && !n.primary.deleted;
      out.set(n, {
        node: n,
        up: n.up,
        member: n.member,
        role: n.role,
        primary: n.primary,
        complete: n.up && n.member && (n.role === 'primary' || (n.role === 'replica' && primaryUp && !n.syncing)),
        syncing: n.up && n.role === 'replica' && (n.syncing || !primaryUp),
        version: n.version,
        slots: n.role === 'primary' ? w.slotsOf(n).reduce((s, r) => s + r.end - r.start + 1, 0) : 0,
      });
    }
    return out;
  }

  /** The primary whose data `b` is (a copy of): itself, or the primary it replicates. */
  static #head(b: NodeBefore): SimNode | undefined {
    if (!b.member) return undefined;
    if (b.role === 'primary') return b.node;
    if (b.role === 'replica') return b.primary;
    return undefined;
  }

  #judge(call: OracleCall, before: Map<SimNode, NodeBefore>): void {
    const running = this.#world.desired?.running !== false;
    const groupOf = (head: SimNode): NodeBefore[] => [...before.values()].filter((x) => Oracle.#head(x) === head);
    for (const b of before.values()) {
      const n = b.node;
      const stopped = b.up && (!n.up || n.deleted);
      const removed = b.member && n.deleted;
      const promoted = b.role === 'replica' && n.role === 'primary' && call.method === 'Failover';
      if (!stopped && !removed && !promoted) continue;
      const head = Oracle.#head(b);
      const headBefore = head === undefined ? undefined : before.get(head);
      const group = head === undefined ? [] : groupOf(head);
      const holds = headBefore !== undefined && headBefore.slots > 0;
      const name = `node group ${n.nodeGroup}`;

      if (removed && b.slots > 0) this.#violate('oracle-removed-serving', `${n.id} was removed (${call.method}) while it served ${b.slots} slots`);
      if (stopped && running && holds) {
        const others = group.filter((x) => x !== b);
        if (b.complete && !others.some((x) => x.complete)) {
          this.#violate('oracle-last-copy', `${n.id} went down (${call.method}) while it held the last complete live copy of ${name}'s data (${headBefore.slots} slots)`);
        }
        if (b.role === 'primary') {
          const could = others.filter((x) => x.complete && x.role === 'replica');
          if (could.length > 0 && !n.deleted) {
            this.#violate('oracle-primary-stopped', `primary ${n.id} of ${name} was stopped while its in-sync replica ${could.map((x) => x.node.id).join(', ')} could have taken over (fail over first)`);
          }
        }
        if (!n.deleted) {
          const down = others.filter((x) => !x.up);
          if (down.length > 0) this.#violate('oracle-two-down', `${n.id} was stopped while ${down.map((x) => x.node.id).join(', ')} of ${name} was down too`);
          const syncing = others.filter((x) => x.syncing);
          if (syncing.length > 0) {
            this.#violate(
              'oracle-stopped-while-syncing',
              `${n.id} was stopped (${call.method}) while ${syncing.map((x) => x.node.id).join(', ')} of ${name} was still syncing: the group kept ${others.filter((x) => x.complete).length} complete copies up`,
            );
          }
        }
      }
      if (promoted) {
        if (!b.complete) this.#violate('oracle-failover', `a planned failover promoted ${n.id}, which was not in sync with its primary`);
        const older = group.filter((x) => x !== b && x.node !== head && x.up && x.role === 'replica' && versionNumber(x.version) < versionNumber(b.version));
        if (older.length > 0) {
          this.#violate('oracle-failover', `a planned failover promoted ${n.id} (${b.version}) while replica ${older.map((x) => `${x.node.id} (${x.version})`).join(', ')} of ${name} runs an older version and cannot sync from it`);
        }
      }
      // One disruptive step per group and batch (stops for running: false excepted).
      const disruptive = (stopped && running) || promoted || (removed && b.role !== 'none');
      if (disruptive && head !== undefined && holds) this.#batchDisrupts(call, `g${head.handle}`, name);
    }
  }

  #batchDisrupts(call: OracleCall, key: string, name: string): void {
    const kind = METHOD_KIND[call.method];
    const batch = this.#batches.get(call.caller.leader);
    if (kind === undefined || batch === undefined) return;
    const index = batch.steps.findIndex((s) => s.kind === kind && 'vmId' in s && s.vmId === call.vmId);
    if (index < 0) return;
    const earlier = batch.disrupted.get(key);
    if (earlier === undefined) {
      batch.disrupted.set(key, index);
      return;
    }
    if (earlier === index) return;
    const a = batch.steps[earlier] as Step;
    const b = batch.steps[index] as Step;
    this.#violate('oracle-batch-group', `batch ${batch.id} of leader #${call.caller.leader} disrupted ${name} twice: ${stepText(a)} and ${stepText(b)}`);
  }

  #violate(check: SafetyCheck, message: string): void {
    this.#world.violate(check, message);
  }
}

function stepText(s: Step): string {
  return 'nodeId' in s ? `${s.kind} ${s.nodeId}` : 'vmId' in s ? `${s.kind} ${s.vmId}` : s.kind;
}

function versionNumber(v: string): number {
  return Number.parseFloat(v);
}
