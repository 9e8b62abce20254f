// Planted bugs: altered planners and leaders, defined here in test code, each breaking
// one safety or liveness property on purpose. The generative tests must catch every
// one of them within the CI budget; generative.test.ts asserts that and prints how
// many scenarios each took. A planted bug that goes unnoticed means the world, the
// faults or the checks have a blind spot.
//
// The bugs with an `agent` mutant are in the agent's own code: one change to a line of
// agent/server that the simulated agents then run (agent-mutants.ts), so the proof
// covers the production epoch fence, idempotency store and validation, not a copy.
import type { Desired } from '../../desired-state/types.ts';
import { sinkKey, strangers, type ObservedCluster, type ObservedDataNode, type ObservedVm } from '../../operator/model/observed.ts';
import type { PlannedStep, Plan } from '../../operator/model/step.ts';
import type { Fault, FaultKind, FaultOptions } from '../arbitraries/faults.ts';
import type { AgentMutant } from './agent-mutants.ts';
import type { LeaderFactory, Planner, SimLeader, StepSafety } from './runner.ts';

export interface PlantedBug {
  name: string;
  /** What it breaks, in words. */
  breaks: string;
  /** The planner to run instead of the real one (from the real one). */
  planner?: (real: Planner) => Planner;
  /**
   * The step-safety checker to run instead of the real one (from the real one): a mutant of
   * a helper the planner and checkStepSafety SHARE changes both (oracle-bugs.ts).
   */
  stepSafety?: (real: StepSafety) => StepSafety;
  /** The leader factory to use instead of the real one (from the real one). */
  factory?: <S>(real: LeaderFactory<S>) => LeaderFactory<S>;
  /** The epoch a restarted leader gets. */
  nextEpoch?: (previous: number) => number;
  /** Reconciler options to use (e.g. no attempt limit). */
  reconciler?: { maxAttempts?: number };
  /** A change to the agent's production code that the simulated agents run instead (agent-mutants.ts). */
  agent?: AgentMutant;
  /** Fault kinds the scenarios need so the bug can show (others are left out to keep the search short). */
  faultKinds?: readonly FaultKind[];
  /** How those faults are drawn, when the bug needs them at particular moments. */
  faultOptions?: Omit<FaultOptions, 'kinds'>;
  /** Scenarios to try at most before declaring the bug missed. */
  budget: number;
}

const nodesOf = (o: ObservedCluster): ObservedDataNode[] => o.vms.flatMap((v) => v.dataNodes);
const vmOf = (o: ObservedCluster, id: string): ObservedVm | undefined => o.vms.find((v) => v.id === id);
const stepOf = (step: PlannedStep['step'], why: string): PlannedStep => ({ step, why: `planted bug: ${why}` });

function withNext(plan: Plan, next: PlannedStep[]): Plan {
  return { ...plan, next, done: plan.done && next.length === 0 };
}

/** Rolling work stops two nodes of a node group at once: next to each stop, another up node of the same group. */
const twoAtOnce: PlantedBug = {
  name: 'stop-two-of-a-group',
  breaks: 'at most one node per node group down during rolling work (invariant 1)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    const extra: PlannedStep[] = [];
    for (const p of plan.next) {
      if (p.step.kind !== 'stopDataNode' || !d.running) continue;
      const target = nodesOf(o).find((n) => n.id === (p.step as { nodeId: string }).nodeId);
      const other = nodesOf(o).find((n) => n.up && n.nodeGroup === target?.nodeGroup && n.id !== target.id);
      if (other !== undefined && !plan.next.some((q) => q.step.kind === 'stopDataNode' && q.step.nodeId === other.id)) {
        extra.push(stepOf({ kind: 'stopDataNode', vmId: other.vmId, nodeId: other.id }, `also stop ${other.id}`));
      }
    }
    return extra.length === 0 ? plan : withNext(plan, [...plan.next, ...extra]);
  },
  budget: 400,
};

/** A primary is stopped instead of failing over to its replica first. */
const skipFailover: PlantedBug = {
  name: 'skip-failover',
  breaks: 'a primary is stopped only after a planned failover (invariant 2)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    let changed = false;
    const next = plan.next.map((p) => {
      if (p.step.kind !== 'failover') return p;
      const replica = nodesOf(o).find((n) => n.id === (p.step as { nodeId: string }).nodeId);
      const primary = nodesOf(o).find((n) => replica !== undefined && n.id === replica.primaryId);
      if (primary === undefined) return p;
      changed = true;
      return stepOf({ kind: 'stopDataNode', vmId: primary.vmId, nodeId: primary.id }, `stop ${primary.id} without failing over`);
    });
    return changed ? withNext(plan, next) : plan;
  },
  budget: 400,
};

/** A node group being removed is deleted before its slots move away. */
const removeBeforeMove: PlantedBug = {
  name: 'remove-group-before-moving-data',
  breaks: 'a node group is removed only after its data moved (invariant 3)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    const doomed = plan.next.find((p) => {
      if (p.step.kind !== 'moveData') return false;
      const from = vmOf(o, p.step.vmId);
      return from !== undefined && from.nodeGroup >= d.nodeGroups;
    });
    if (doomed === undefined) return plan;
    const group = vmOf(o, (doomed.step as { vmId: string }).vmId)?.nodeGroup;
    const vms = o.vms.filter((v) => v.nodeGroup === group);
    return withNext(
      plan,
      vms.map((v) => stepOf({ kind: 'deleteVm', vmId: v.id }, `delete ${v.id} of node group ${group} before its data moved`)),
    );
  },
  budget: 600,
};

/** The backup restoreFromBackup names is deleted along with the others. */
const deleteRestoreBackup: PlantedBug = {
  name: 'delete-restore-backup',
  breaks: 'a backup named by restoreFromBackup is never deleted (invariant 4)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    const r = d.restoreFromBackup;
    const via = o.vms.find((v) => v.agentUp);
    if (r === undefined || via === undefined || o.backups === undefined) return plan;
    const present = o.backups.some((b) => b.id === r.id && b.sink === sinkKey(r.sink));
    if (!present || !(plan.done || plan.next.some((p) => p.step.kind === 'deleteBackup' || p.step.kind === 'createBackup'))) return plan;
    return withNext(plan, [...plan.next, stepOf({ kind: 'deleteBackup', vmId: via.id, backupId: r.id, sink: { type: 'local', path: r.sink.path } }, `delete ${r.id}`)]);
  },
  budget: 600,
};

/** A restarted leader keeps the old epoch: the agents cannot fence the old one off. */
const ignoreEpoch: PlantedBug = {
  name: 'ignore-epoch',
  breaks: 'agents refuse steps from a stale leader (invariant 6)',
  nextEpoch: (previous) => previous,
  faultKinds: ['leader-restart'],
  budget: 600,
};

/** A newer desired state offered while the leader works is answered "pending" and then forgotten. */
const forgetPending: PlantedBug = {
  name: 'forget-pending',
  breaks: 'a desired state offered while WORKING is accepted once the work ends',
  factory:
    <S>(real: LeaderFactory<S>): LeaderFactory<S> => ({
      createShared: (clock) => real.createShared(clock),
      spawn: (spec) => {
        const leader = real.spawn(spec);
        const forgetful: SimLeader = {
          offer: async (desired: Desired) => {
            // Exactly the pending path: something is accepted and the leader works on it.
            const s = await leader.status();
            if (s.acceptedId !== null && s.state === 'WORKING_TOWARDS_DESIRED_STATE') {
              return { status: 'pending', id: desired.id, message: `desired state ${desired.id} waits` };
            }
            return leader.offer(desired);
          },
          status: () => leader.status(),
          jobCount: () => leader.jobCount(),
          committed: () => leader.committed(),
          jobs: () => leader.jobs(),
          stop: () => leader.stop(),
        };
        return forgetful;
      },
    }),
  budget: 600,
};

/** The reconciler retries a failing step without limit instead of going to ERROR_STATE. */
const retryForever: PlantedBug = {
  name: 'retry-forever',
  breaks: 'after N failed attempts the leader stops in ERROR_STATE and says why',
  reconciler: { maxAttempts: Number.MAX_SAFE_INTEGER },
  faultKinds: ['call-fails'],
  budget: 600,
};

/**
 * The leader as it was before strangers were handled: the planner never sees the failed
 * members the nodes report, so a node no VM runs stays in every member's table while the
 * leader says AT_DESIRED_STATE (the issue seen end to end after scaling down under load).
 */
const ignoreStrangers: PlantedBug = {
  name: 'ignore-strangers',
  breaks: 'AT_DESIRED_STATE only once no member knows a node that is gone (failed members are forgotten)',
  planner: (real) => (d, o) => real(d, { ...o, vms: o.vms.map((v) => ({ ...v, dataNodes: v.dataNodes.map(({ failedMembers: _ignored, ...n }) => n) })) }),
  budget: 300,
};

/**
 * Strangers forgotten without the guard: while a VM's agent does not answer, the id of
 * its node (down, flagged failed by the others) looks like a stranger's, and every up
 * member is made to forget a node the leader still runs.
 */
const forgetHidden: PlantedBug = {
  name: 'forget-hidden-node',
  breaks: 'a node the leader runs is never forgotten (strangers only while every agent answers)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    const ids = strangers(o);
    const members = nodesOf(o).filter((n) => n.up && (n.role === 'primary' || n.role === 'replica'));
    if (ids.length === 0 || members.length === 0 || plan.next.some((p) => p.step.kind === 'forgetNode')) return plan;
    const busy = new Set(plan.next.flatMap((p) => ('vmId' in p.step ? [p.step.vmId] : [])));
    const free = members.filter((n) => !busy.has(n.vmId));
    if (free.length === 0) return plan;
    return withNext(plan, [...plan.next, stepOf({ kind: 'forgetNode', engineNodeId: ids[0] ?? '', nodeIds: free.map((n) => n.id) }, 'forget a failed node while some agent is down')]);
  },
  faultKinds: ['crash'],
  budget: 600,
};

/**
 * A crashed agent is left for dead: the repairs of drift.ts (restartAgent of a VM whose
 * agent does not answer) are dropped. Shown by agents that die on a cancelled call: the
 * leader must restart them.
 */
const leaveDeadAgents: PlantedBug = {
  name: 'leave-dead-agents',
  breaks: 'an agent that died (here: on a cancelled call) is restarted by the leader',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    const next = plan.next.filter((p) => p.step.kind !== 'restartAgent' || vmOf(o, p.step.vmId)?.agentUp !== false);
    return next.length === plan.next.length ? plan : withNext(plan, next);
  },
  faultKinds: ['agent-dies-on-cancel'],
  budget: 300,
};

/**
 * Any edit is taken as the newest, whatever its id: an offer whose id is not higher than
 * the accepted one is renumbered after it (a file source that compares contents, not ids).
 */
const takeStaleEdits: PlantedBug = {
  name: 'take-stale-edits',
  breaks: 'an edit whose id is not higher than the accepted one is ignored',
  factory:
    <S>(real: LeaderFactory<S>): LeaderFactory<S> => ({
      createShared: (clock) => real.createShared(clock),
      spawn: (spec) => {
        const leader = real.spawn(spec);
        const renumbering: SimLeader = {
          ...leader,
          offer: (desired: Desired) => {
            const latest = spec.history.latest();
            return leader.offer(latest !== undefined && desired.id <= latest.id ? { ...desired, id: latest.id + 1 } : desired);
          },
        };
        return renumbering;
      },
    }),
  faultKinds: ['stale-edit'],
  budget: 300,
};

/**
 * The livelock of a trial run, planted in the planner: a backup is taken into a place the
 * leader's own listing never looks (the sink's path with a trailing "/", as a per-VM
 * resolution of a relative path put it elsewhere). Every job succeeds ("already existed"
 * after the first), the backup never shows: today's reconciler runs the step for ever
 * (the liveness check, liveness.ts); one that counts such jobs as failed attempts stops
 * in ERROR_STATE that no injected fault explains (checks.ts). Either way it is caught.
 */
const backupWhereListingDoesNotLook: PlantedBug = {
  name: 'backup-where-listing-does-not-look',
  breaks: 'the leader never runs a step for ever whose effect it cannot see (liveness: AT_DESIRED_STATE or ERROR_STATE within the bound)',
  planner: (real) => (d, o) => {
    const plan = real(d, o);
    let changed = false;
    const next = plan.next.map((p) => {
      if (p.step.kind !== 'createBackup') return p;
      changed = true;
      return stepOf({ ...p.step, sink: { ...p.step.sink, path: `${p.step.sink.path}/` } }, `take ${p.step.backupId} where the listing does not look`);
    });
    return changed ? withNext(plan, next) : plan;
  },
  budget: 300,
};

/** A desired state offered while the leader is in ERROR_STATE is answered "pending" and forgotten (the next edit waits for ever). */
const holdOffersInError: PlantedBug = {
  name: 'hold-offers-in-error',
  breaks: 'a newer desired state offered after ERROR_STATE is accepted',
  factory:
    <S>(real: LeaderFactory<S>): LeaderFactory<S> => ({
      createShared: (clock) => real.createShared(clock),
      spawn: (spec) => {
        const leader = real.spawn(spec);
        const holding: SimLeader = {
          ...leader,
          offer: async (desired: Desired) => {
            const s = await leader.status();
            if (s.state === 'ERROR_STATE') return { status: 'pending', id: desired.id, message: `desired state ${desired.id} waits` };
            return leader.offer(desired);
          },
        };
        return holding;
      },
    }),
  faultKinds: ['call-fails'],
  budget: 600,
};

// ---- bugs in the agent's own code (agent/server), run by the simulated agents ----

/** The epoch fence forgets to look again after waiting its turn: a call that waited behind the raise to a newer epoch is admitted. */
const fenceAdmitsAfterWaiting: PlantedBug = {
  name: 'fence-admits-after-waiting-on-a-raise',
  breaks: 'the agent refuses an older epoch that arrives while a newer one is being persisted (invariant 6)',
  agent: {
    file: 'agent/server/epoch-fence.ts',
    find: '    // A higher epoch may have been persisted while this call waited its turn.\n    if (epoch < this.#seen) throw new StaleLeaderError(epoch, this.#seen);\n',
    replace: '',
  },
  faultKinds: ['leader-restart', 'disk-slow'],
  // Both leaders must reach agents that are new (their first epoch write still in flight on a slow disk): early in the scenario.
  faultOptions: { maxCall: 4 },
  budget: 600,
};

/** A raise that waited behind a higher one persists its own, lower epoch: the fence goes back, and the older leader gets in. */
const fenceLowersItsEpoch: PlantedBug = {
  name: 'fence-lowers-its-epoch',
  breaks: 'the agent never goes back to an older epoch it has seen, so it refuses every lower one (invariant 6)',
  agent: { file: 'agent/server/epoch-fence.ts', find: '    if (epoch <= this.#seen) return;\n', replace: '' },
  faultKinds: ['leader-restart', 'disk-slow'],
  // Both leaders must reach agents that are new (their first epoch write still in flight on a slow disk): early in the scenario.
  faultOptions: { maxCall: 4 },
  budget: 600,
};

/** The local nodes a call names are looked up before its key: a repeat of a RemoveNode that took effect gets NOT_FOUND instead of its recorded outcome. */
const lookupBeforeReplay: PlantedBug = {
  name: 'node-lookup-before-replay',
  breaks: 'a repeat of a key gets the recorded outcome, whatever changed since (invariant 5)',
  agent: {
    file: 'agent/server/agent-core.ts',
    find: '    const execute = async (): Promise<DecodedResponseOf<M>> => {\n      await this.#requireNodes(nodes, ctx);\n',
    replace: '    await this.#requireNodes(nodes, ctx);\n    const execute = async (): Promise<DecodedResponseOf<M>> => {\n',
  },
  faultKinds: ['call-duplicated', 'call-times-out'],
  budget: 600,
};

/** The request's fingerprint leaves out its job: another request under the same key, for another step, gets the first one's outcome. */
const fingerprintWithoutJob: PlantedBug = {
  name: 'fingerprint-ignores-the-job',
  breaks: 'the same idempotency key with another request is refused with INVALID_ARGUMENT (invariant 5)',
  agent: {
    file: 'agent/server/idempotency.ts',
    find: ".update(canonicalJson(request)).digest('hex');",
    replace: ".update(canonicalJson({ ...(request as object), job: undefined })).digest('hex');",
  },
  faultKinds: ['key-reused'],
  budget: 600,
};

/** The store lets go of a running key before its outcome is on disk: a duplicate that arrives meanwhile runs the step again. */
const releaseBeforeRecord: PlantedBug = {
  name: 'duplicate-runs-while-the-record-is-written',
  breaks: 'a duplicate that arrives while the first copy runs waits for its outcome (invariant 5)',
  agent: {
    file: 'agent/server/idempotency.ts',
    find: '    if (record) await this.#write(file, run, fingerprint, outcome);\n',
    replace: '    this.#inflight.delete(run.key);\n    if (record) await this.#write(file, run, fingerprint, outcome);\n',
  },
  faultKinds: ['call-duplicated', 'disk-slow'],
  budget: 600,
};

/** Validation forgets one rule: a primary's join that names a primary to replicate is let through. */
const replicaOfOnPrimary: PlantedBug = {
  name: 'validation-lets-replica-of-through-on-a-primary-join',
  breaks: 'a malformed request is refused with INVALID_ARGUMENT before anything runs',
  agent: {
    file: 'agent/server/validate.ts',
    find: "    } else if (r.replicaOf !== null) {\n      fail('replica_of', 'only for JOIN_ROLE_REPLICA');\n    }\n",
    replace: '    }\n',
  },
  faultKinds: ['call-malformed'],
  budget: 600,
};

export const PLANTED_BUGS: readonly PlantedBug[] = [
  twoAtOnce,
  skipFailover,
  removeBeforeMove,
  deleteRestoreBackup,
  ignoreEpoch,
  forgetPending,
  retryForever,
  ignoreStrangers,
  forgetHidden,
  leaveDeadAgents,
  takeStaleEdits,
  backupWhereListingDoesNotLook,
  holdOffersInError,
  fenceAdmitsAfterWaiting,
  fenceLowersItsEpoch,
  lookupBeforeReplay,
  fingerprintWithoutJob,
  releaseBeforeRecord,
  replicaOfOnPrimary,
];

/** Keeps only the faults a bug needs (none when it names no kinds). */
export function faultsFor(bug: PlantedBug, faults: Fault[]): Fault[] {
  const kinds = bug.faultKinds;
  return kinds === undefined ? [] : faults.filter((f) => kinds.includes(f.kind));
}
