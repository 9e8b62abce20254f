// Runs one scenario: builds the world, starts a leader (the real reconciler, planner
// and executor, or a planted-bug variant) on the VirtualClock, offers the desired states
// when the scenario says, injects the faults, lets clients write, and ends when the
// leader is at rest after the last offer and the last fault — or when it is plainly
// stuck or looping, or has worked without progress for longer than its options allow
// (liveness.ts). Then the end-of-scenario checks run on the world and the leader.
// A fault in a repair ('in-repair') is placed by the calls the injector reports: its
// second fault comes in the window its first crash's repair (or the leader's own work)
// opens.
// Along the way: a stale edit (an id not higher than the accepted one) must be ignored,
// and a desired state offered while the leader is in ERROR_STATE must be taken at once.
import type { Desired } from '../../desired-state/types.ts';
import type { ObservedCluster } from '../../operator/model/observed.ts';
import type { Plan, Step } from '../../operator/model/step.ts';
import type { ClusterStatus } from '../../operator/model/status.ts';
import type { Clock } from '../../common/clock.ts';
import type { Job } from '../../operator/ports/journal.ts';
import type { OfferResult } from '../../operator/ports/leader-api.ts';
import type { VmProvider } from '../../operator/ports/vm-provider.ts';
import { canExhaustRetries, describeFault, type Fault } from '../arbitraries/faults.ts';
import { checkAcceptance, checkEndState, checkNoGhosts, checkWorldMatches, type Failure, type Offer } from './checks.ts';
import { FaultInjector } from './faults.ts';
import { Oracle } from './oracle.ts';
import { LivenessWatch, livelockSteps, livenessBound, type LivenessOptions } from './liveness.ts';
import { MemoryHistory } from './memory-history.ts';
import type { Scenario } from './scenario.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import { checkStaleAnswer, staleEdit } from './stale-edits.ts';
import type { AgentCode } from './sim-agent.ts';
import type { SimContext } from './world-agent.ts';
import { WorldProvider } from './world-provider.ts';
import { World } from './world.ts';

export type Planner = (desired: Desired, observed: ObservedCluster) => Plan;
export type StepSafety = (desired: Desired, observed: ObservedCluster, batch: Step[]) => string[];

/** One running leader, as the runner drives it. */
export interface SimLeader {
  /** Offers a desired state, validated against this leader's latest accepted one (as its file source would). */
  offer(desired: Desired): Promise<OfferResult>;
  status(): Promise<ClusterStatus>;
  /** Jobs in the journal so far. */
  jobCount(): Promise<number>;
  /** Jobs committed so far: their step's effect was seen (the liveness check's progress). */
  committed(): Promise<number>;
  /** Every job of the journal (for the end checks and a failure's report). */
  jobs(): Promise<Job[]>;
  /** Ends the loop; resolves once it has ended. */
  stop(): Promise<void>;
}

/** What the runner gives a leader it starts. */
export interface LeaderSpawn<S> {
  /** 1 for the first leader, 2 for the one after a restart … */
  instance: number;
  epoch: number;
  provider: VmProvider;
  clock: Clock;
  history: MemoryHistory;
  planner: Planner;
  /** What the leaders of this scenario persist (journal, facts), from createShared. */
  shared: S;
  /** The scenario's pace for the leader. */
  pace: Scenario['leader'];
}

export interface LeaderFactory<S = unknown> {
  createShared(clock: Clock): S;
  spawn(spec: LeaderSpawn<S>): SimLeader;
}

export interface RunOptions<S = unknown> {
  factory: LeaderFactory<S>;
  planner: Planner;
  /** The planner's own safety check of each batch, when there is one. */
  stepSafety?: StepSafety;
  /** The epoch of a restarted leader. @default previous + 1 */
  nextEpoch?: (previous: number) => number;
  /** Virtual ms without an offer, a fault or a mutating call after which a leader that is not at rest counts as stuck. @default 20 min */
  stuckMs?: number;
  /** Jobs after which the leader counts as looping (a scenario needs a few hundred at most). @default 1000 */
  maxJobs?: number;
  /** Timers fired at most (a hard bound on the run's cost). @default 300000 */
  maxEvents?: number;
  /** The leader's options the liveness bound is derived from (liveness.ts), for a scenario's pace; without it, no liveness check. */
  liveness?: (pace: Scenario['leader']) => LivenessOptions;
  /** Run the independent oracle (oracle.ts) beside the world's own checks and plan-unsafe. @default true */
  oracle?: boolean;
  /** The agent code the simulated agents run (a planted bug's mutant, agent-mutants.ts). @default the production code */
  agentCode?: () => Promise<AgentCode>;
}

export interface ScenarioStats {
  virtualMs: number;
  jobs: number;
  mutatingCalls: number;
  providerCalls: number;
  leaders: number;
  writes: number;
  events: number;
  plans: number;
  /** GetState calls (observations × agents). */
  reads: number;
  endState: string;
  /** The longest the leader worked, outside its jobs, without progress (liveness.ts), ms. */
  maxIdleMs: number;
}

export interface ScenarioResult {
  ok: boolean;
  failures: Failure[];
  stats: ScenarioStats;
  /** The world's last events, for a person reading a failure. */
  trace: string[];
  /** The faults as sentences. */
  faults: string[];
  /** The desired states the leader accepted, in order. */
  accepted: Desired[];
  /** The cluster held data at some point: clients wrote to it, or it was restored. */
  heldData: boolean;
  /** Steps (job intents) one of whose jobs succeeded while an 'effect-invisible' fault hid its effect. */
  invisibleSteps: string[];
  /** When the liveness check failed: what the leader kept running meanwhile. */
  livelock?: { steps: { intent: string; runs: number; succeeded: number }[] };
  /**
   * The crashes the faults caused (world ms), each with the first GetState of that VM after
   * it (absent: none came): before then, no observation the leader planned from could show it.
   */
  crashes: { vmId: string; atMs: number; seenAtMs?: number }[];
}

const POLL_MS = 1000;

interface Trigger {
  fault: Extract<Fault, { kind: 'crash' | 'leader-restart' | 'stale-edit' }>;
  state: 'waiting' | 'scheduled' | 'done';
}

/**
 * An 'in-repair' fault on its way: its first crash ('first-scheduled' until it happens),
 * then 'armed' until the window's call comes, then its second fault ('scheduled').
 */
interface RepairTrigger {
  fault: Extract<Fault, { kind: 'in-repair' }>;
  state: 'waiting' | 'first-scheduled' | 'armed' | 'scheduled' | 'done';
  /** The VM the first crash hit (undefined: no first crash, or no VM existed then). */
  vmId: string | undefined;
  /** Calls of the window's kind seen since it was armed. */
  seen: number;
}

/** A stranger of the world's parameters: 'due' once its call came, until a member runs to meet it. */
interface StrangerTrigger {
  afterCall: number;
  state: 'waiting' | 'due' | 'done';
}

interface Running {
  instance: number;
  epoch: number;
  leader: SimLeader;
  stopped: boolean;
}

export async function runScenario<S>(scenario: Scenario, opts: RunOptions<S>): Promise<ScenarioResult> {
  const clock = new VirtualClock();
  const world = new World(clock, scenario.world);
  const oracle = opts.oracle === false ? undefined : new Oracle(world);
  const injector = new FaultInjector(scenario.faults);
  const history = new MemoryHistory(
    () => new Date(clock.now()),
    (d) => {
      world.desired = d;
    },
  );
  const shared = opts.factory.createShared(clock);
  const failures: Failure[] = [];
  const stuckMs = opts.stuckMs ?? 20 * 60_000;
  const maxJobs = opts.maxJobs ?? 1000;
  const startMs = clock.now();
  // At rest long enough for two observations of the leader: drift would have shown.
  const restConfirmMs = Math.max(3000, 2 * scenario.leader.observeIntervalMs + POLL_MS);

  let plans = 0;
  const planner: Planner = (desired, observed) => {
    plans++;
    const plan = opts.planner(desired, observed);
    if (opts.stepSafety !== undefined && plan.next.length > 0) {
      for (const v of opts.stepSafety(desired, observed, plan.next.map((p) => p.step))) world.violate('plan-unsafe', v);
    }
    return plan;
  };

  // ---- scenario state ----
  const steps = scenario.steps;
  let nextStep = 0;
  let lastOffered: Desired | undefined;
  /** Offers made to the newest leader; the last one is checked at the end. */
  let lastOffer: Offer | undefined;
  let callsSinceOffer = 0;
  let offerQueued = false;
  let lastProgressMs = clock.now();
  let writing = false;
  let finished = false;
  let lastStatus: ClusterStatus | undefined;
  let restSince: number | undefined;
  let pendingTimers = 0;
  const triggers: Trigger[] = scenario.faults.flatMap((f): Trigger[] =>
    f.kind === 'crash' || f.kind === 'leader-restart' || f.kind === 'stale-edit' ? [{ fault: f, state: 'waiting' }] : [],
  );
  const liveness = opts.liveness === undefined ? undefined : new LivenessWatch(livenessBound(opts.liveness(scenario.leader), POLL_MS), clock.now());
  let livelock: ScenarioResult['livelock'];
  const strangers: StrangerTrigger[] = (scenario.world.strangers ?? []).map((s) => ({ afterCall: s.afterCall, state: 'waiting' }));
  const crashes: ScenarioResult['crashes'] = [];
  // Without a first crash, a window is armed once its mutating call came (at once for 0).
  const repairs: RepairTrigger[] = scenario.faults.flatMap((f): RepairTrigger[] =>
    f.kind === 'in-repair' ? [{ fault: f, state: f.first === undefined && (f.afterCall ?? 0) === 0 ? 'armed' : 'waiting', vmId: undefined, seen: 0 }] : [],
  );
  const leaders: Running[] = [];
  let epoch = 1;

  const current = (): Running => leaders.at(-1) as Running;

  /**
   * Offers `d` to the newest leader, remembering what it answered (a stale edit is checked
   * on its own and does not count as the last offer). The status is read in the same turn
   * as the offer is made (the reconciler answers both synchronously), so "offered while in
   * ERROR_STATE" is exact: such an offer must be taken at once, never left pending behind
   * the error (a desired state that is not valid may still be refused).
   */
  const offerTo = (d: Desired, what: string, stale = false): void => {
    const record: Offer = { desired: d, status: 'threw', acceptedBefore: history.latest()?.desired, everRanBefore: history.everRan() };
    if (!stale) lastOffer = record;
    const acceptedId = history.latest()?.id;
    const leader = current().leader;
    const before = leader.status();
    const answer = leader.offer(d);
    Promise.all([before, answer])
      .then(([s, r]) => {
        record.status = r.status;
        record.message = r.message;
        world.note(`${what} of ${d.id}: ${r.status}`);
        if (stale && acceptedId !== undefined) failures.push(...checkStaleAnswer(d, acceptedId, r.status));
        if (!stale && s.state === 'ERROR_STATE' && r.status === 'pending') {
          failures.push({
            check: 'offer-after-error',
            message: `desired state ${d.id} was offered while the leader was in ERROR_STATE (${s.lastError?.step ?? '?'}: ${s.lastError?.reason ?? '?'}) and was left pending; after ERROR_STATE a newer desired state is taken at once`,
          });
        }
      })
      .catch((err: unknown) => failures.push({ check: 'offer-threw', message: `${what} of ${d.id} threw: ${String(err)}` }));
  };

  const offer = (): void => {
    const step = steps[nextStep];
    if (step === undefined) return;
    // The first desired state starts the scenario; a later one may open an 'offer' window.
    if (nextStep > 0) windowCall('offer', undefined);
    nextStep++;
    offerQueued = false;
    callsSinceOffer = 0;
    lastOffered = step.desired;
    lastProgressMs = clock.now();
    restSince = undefined;
    world.note(`offered desired state ${step.desired.id}`);
    offerTo(step.desired, 'offer');
  };

  const fire = (t: Trigger): void => {
    if (t.state !== 'waiting') return;
    t.state = 'scheduled';
    pendingTimers++;
    clock.schedule(t.fault.delayMs, () => {
      pendingTimers--;
      t.state = 'done';
      lastProgressMs = clock.now();
      restSince = undefined;
      const f = t.fault;
      if (f.kind === 'stale-edit') {
        // Not progress for the liveness check: a stale edit must change nothing.
        const accepted = history.latest();
        if (accepted === undefined) {
          world.note(`fault: ${describeFault(f)}: nothing accepted yet, no edit`);
          return;
        }
        const edit = staleEdit(accepted.desired, f);
        world.note(`fault: ${describeFault(f)}: desired state ${edit.id} while ${accepted.id} is accepted`);
        offerTo(edit, 'stale edit', true);
        return;
      }
      liveness?.progress(clock.now());
      if (f.kind === 'leader-restart') {
        restartLeader(f.zombieMs);
        return;
      }
      const vms = world.vms();
      const vm = vms[f.vm % Math.max(1, vms.length)];
      if (vm === undefined) return;
      world.note(`fault: ${describeFault(f)}`);
      crash(f.what, vm.record.id);
    });
  };

  /** Something happened that the liveness and rest checks count as the scenario moving on. */
  const moved = (): void => {
    lastProgressMs = clock.now();
    restSince = undefined;
    liveness?.progress(clock.now());
  };

  /** The VM `vm` names (modulo the VMs there are, sorted by id). */
  const vmAt = (vm: number): string | undefined => {
    const vms = world.vms();
    return vms[vm % Math.max(1, vms.length)]?.record.id;
  };
  /** The next VM after `vmId` in id order (cyclic) of another node group, or simply the next when every VM is of its group. */
  const otherVm = (vmId: string | undefined, primary: boolean): string | undefined => {
    const vms = world.vms();
    const i = vms.findIndex((v) => v.record.id === vmId);
    const group = vms[i]?.record.nodeGroup;
    const order = [...vms.slice(i + 1), ...vms.slice(0, i + 1)];
    const isPrimary = (v: (typeof vms)[number]): boolean => [...v.nodes.values()].some((n) => n.up && n.member && n.role === 'primary' && world.slotsOf(n).length > 0);
    const other = order.filter((v) => v.record.nodeGroup !== group);
    return ((primary ? other.find(isPrimary) : undefined) ?? other[0] ?? order[0])?.record.id;
  };
  /** A crash of a fault, recorded when something on the VM was up to die. */
  const crash = (what: 'node' | 'agent' | 'vm', vmId: string): void => {
    const vm = world.vm(vmId);
    const nodeUp = [...(vm?.nodes.values() ?? [])].some((n) => n.up);
    if (what === 'node' ? nodeUp : what === 'agent' ? vm?.agentUp === true : nodeUp || vm?.agentUp === true) crashes.push({ vmId, atMs: world.nowMs });
    if (what === 'node') world.crashNode(vmId);
    else if (what === 'agent') world.crashAgent(vmId);
    else world.crashVm(vmId);
  };

  /** The first crash of an 'in-repair' fault (none: the window is armed now); then it waits for its window. */
  const fireFirst = (t: RepairTrigger): void => {
    const first = t.fault.first;
    if (t.state !== 'waiting') return;
    if (first === undefined) {
      t.state = 'armed';
      return;
    }
    t.state = 'first-scheduled';
    pendingTimers++;
    clock.schedule(first.delayMs, () => {
      pendingTimers--;
      moved();
      t.vmId = vmAt(first.vm);
      t.state = 'armed';
      if (t.vmId === undefined) return;
      world.note(`fault: ${describeFault({ kind: 'crash', ...first })} (the first of a fault in its repair)`);
      crash(first.what, t.vmId);
    });
  };

  /** The second fault of an 'in-repair', `delayMs` after its window opened with a call to `vmId`. */
  const fireSecond = (t: RepairTrigger, vmId: string | undefined): void => {
    if (t.state !== 'armed') return;
    t.state = 'scheduled';
    pendingTimers++;
    clock.schedule(t.fault.delayMs, () => {
      pendingTimers--;
      t.state = 'done';
      moved();
      const second = t.fault.second;
      world.note(`fault: ${describeFault(t.fault)}: the second now`);
      if (second.kind === 'leader-restart') {
        restartLeader(second.zombieMs);
        return;
      }
      const same = vmId ?? t.vmId ?? vmAt(0);
      const target = second.vm === 'same' ? same : otherVm(same, second.vm === 'other-primary');
      if (target !== undefined) crash(second.what, target);
    });
  };

  /** A call that may open the window of an armed 'in-repair' fault: one of its kind, to the VM its first crash hit (any VM without one). */
  const windowCall = (call: string, vmId: string | undefined): void => {
    for (const t of repairs) {
      if (t.state !== 'armed' || t.fault.window.call !== call || (t.vmId !== undefined && vmId !== t.vmId)) continue;
      if (++t.seen >= t.fault.window.nth) fireSecond(t, vmId);
    }
  };
  injector.onCall = (method, vmId) => windowCall(method, vmId);
  injector.onRead = (vmId) => {
    for (const c of crashes) if (c.vmId === vmId && c.seenAtMs === undefined && world.nowMs > c.atMs) c.seenAtMs = world.nowMs;
  };

  /** Due strangers join once a member runs (the world says whether one could). */
  const meetStrangers = (): void => {
    for (const t of strangers) {
      if (t.state !== 'due' || !world.strangerJoinsAndDies()) continue;
      t.state = 'done';
      liveness?.progress(clock.now());
      lastProgressMs = clock.now();
      restSince = undefined;
    }
  };

  const agentCode = opts.agentCode === undefined ? undefined : await opts.agentCode();
  const ctx: SimContext = {
    world,
    clock,
    faults: injector,
    ...(oracle === undefined ? {} : { oracle }),
    ...(agentCode === undefined ? {} : { agentCode }),
    onMutatingCall: (ordinal) => {
      // A leader that still calls is not stuck (a lost call can hold a job for its whole deadline).
      lastProgressMs = clock.now();
      callsSinceOffer++;
      const step = steps[nextStep];
      if (step !== undefined && nextStep > 0 && step.offerAt.kind === 'after-calls' && callsSinceOffer >= step.offerAt.calls && !offerQueued) {
        offerQueued = true;
        clock.schedule(0, offer);
      }
      for (const t of triggers) if (t.fault.afterCall === ordinal) fire(t);
      for (const t of repairs) if ((t.fault.first?.afterCall ?? t.fault.afterCall) === ordinal) fireFirst(t);
      for (const t of strangers) if (t.state === 'waiting' && t.afterCall <= ordinal) t.state = 'due';
    },
  };

  const spawn = (): Running => {
    const instance = leaders.length + 1;
    const provider = new WorldProvider(ctx, { leader: instance, epoch });
    // The oracle sees each batch this leader's planner hands to its reconciler.
    const planned: Planner =
      oracle === undefined
        ? planner
        : (d, o) => {
            const p = planner(d, o);
            oracle.planned(instance, p.next.map((x) => x.step));
            return p;
          };
    const leader = opts.factory.spawn({ instance, epoch, provider, clock, history, planner: planned, shared, pace: scenario.leader });
    const r: Running = { instance, epoch, leader, stopped: false };
    leaders.push(r);
    world.note(`leader #${instance} started with epoch ${epoch}`);
    return r;
  };

  const stopLeader = (r: Running): void => {
    if (r.stopped) return;
    r.stopped = true;
    world.note(`leader #${r.instance} stopped`);
    r.leader.stop().catch((err: unknown) => failures.push({ check: 'stop-threw', message: `leader #${r.instance} did not stop cleanly: ${String(err)}` }));
  };

  const restartLeader = (zombieMs: number): void => {
    const old = current();
    epoch = (opts.nextEpoch ?? ((e: number) => e + 1))(epoch);
    spawn();
    // The new leader's file source reads the file: the last desired state offered.
    if (lastOffered !== undefined) offerTo(lastOffered, 're-offer to the new leader');
    pendingTimers++;
    clock.schedule(zombieMs, () => {
      pendingTimers--;
      stopLeader(old);
    });
  };

  const startWriting = (): void => {
    if (writing) return;
    writing = true;
    const tick = (): void => {
      if (finished) return;
      world.write();
      clock.schedule(scenario.writeEveryMs, tick);
    };
    clock.schedule(scenario.writeEveryMs, tick);
  };

  const atRest = (s: ClusterStatus): boolean =>
    (s.state === 'AT_DESIRED_STATE' || s.state === 'ERROR_STATE') && s.pendingId === null && s.acceptedId === (history.latest()?.id ?? null);

  const poll = async (): Promise<void> => {
    if (finished) return;
    meetStrangers();
    const s = await current().leader.status();
    lastStatus = s;
    const jobs = await current().leader.jobCount();
    if (jobs > maxJobs) {
      failures.push({ check: 'looping', message: `${jobs} jobs ran (more than ${maxJobs}): the leader loops` });
      finished = true;
      return;
    }
    if (liveness !== undefined && liveness.poll(clock.now(), s, await current().leader.committed())) {
      const steps = livelockSteps(await current().leader.jobs(), liveness.since);
      livelock = { steps };
      failures.push({
        check: 'livelock',
        message:
          `still WORKING_TOWARDS_DESIRED_STATE ${Math.round((clock.now() - liveness.since) / 1000)} s after its last progress, ${Math.round(liveness.idleMs / 1000)} s of it outside jobs ` +
          `(bound ${liveness.bound.derivation}); no step's effect became visible meanwhile; it ran: ` +
          (steps.length === 0 ? 'no job' : steps.map((x) => `"${x.intent}" ×${x.runs} (${x.succeeded} succeeded)`).join(', ')) +
          (s.pendingId === null ? '' : `; desired state ${s.pendingId} waits behind it (pending)`),
      });
      finished = true;
      return;
    }
    if (!atRest(s)) {
      restSince = undefined;
      if (clock.now() - lastProgressMs > stuckMs) finished = true; // not converged: checkEndState says so
      return;
    }
    restSince ??= clock.now();
    // A ghost the members know but have not flagged failed yet cannot be seen by the leader:
    // wait until it is flagged; and give the leader its rest time after every ghost change.
    if (world.unflaggedGhosts().length > 0) {
      restSince = undefined;
      return;
    }
    restSince = Math.max(restSince, world.ghostsChangedAt);
    if (s.state === 'AT_DESIRED_STATE' && world.desired?.running === true) startWriting();
    if (clock.now() - restSince < restConfirmMs) return;
    // At rest mid-scenario (the end is checked by checkWorldMatches): "done" with a ghost known is a leader bug.
    const more =
      nextStep < steps.length ||
      triggers.some((t) => t.state === 'waiting') ||
      strangers.some((t) => t.state !== 'done') ||
      repairs.some((t) => t.state === 'waiting' || t.state === 'armed');
    if (more && s.state === 'AT_DESIRED_STATE' && world.desired?.running === true && !failures.some((f) => f.check === 'ghost-known')) {
      for (const f of checkNoGhosts(world)) failures.push({ check: f.check, message: `at rest mid-scenario: ${f.message}` });
    }
    if (nextStep < steps.length) {
      offer();
      return;
    }
    const waiting = triggers.find((t) => t.state === 'waiting');
    if (waiting !== undefined) {
      fire(waiting);
      return;
    }
    // A fault in a repair whose first crash, or whose window, never came: now.
    const repair = repairs.find((t) => t.state === 'waiting' || t.state === 'armed');
    if (repair !== undefined) {
      if (repair.state === 'waiting') fireFirst(repair);
      else {
        world.note(`fault: ${describeFault(repair.fault)}: its window never opened, so at rest`);
        fireSecond(repair, undefined);
      }
      return;
    }
    // Strangers whose call never came join now; one that finds no member running (a stopped cluster) never does.
    const stranger = strangers.find((t) => t.state !== 'done');
    if (stranger !== undefined) {
      stranger.state = 'done';
      if (world.strangerJoinsAndDies()) {
        liveness?.progress(clock.now());
        lastProgressMs = clock.now();
        restSince = undefined;
      } else world.note('a stranger could not join: no member runs');
      return;
    }
    if (pendingTimers === 0) finished = true;
  };
  const schedulePoll = (): void => {
    clock.schedule(POLL_MS, () => {
      poll()
        .catch((err: unknown) => {
          failures.push({ check: 'status-threw', message: `status() threw: ${String(err)}` });
          finished = true;
        })
        .finally(() => {
          if (!finished) schedulePoll();
        });
    });
  };

  // ---- run ----
  spawn();
  for (const t of triggers) if (t.fault.afterCall === 0) fire(t);
  for (const t of repairs) if (t.fault.first?.afterCall === 0) fireFirst(t);
  offer();
  schedulePoll();
  const end = await clock.run({ until: () => finished, maxTime: Number.MAX_SAFE_INTEGER, maxEvents: opts.maxEvents ?? 300_000 });
  if (end === 'event-limit') failures.push({ check: 'event-limit', message: `the scenario did not end within ${opts.maxEvents ?? 300_000} timer events` });
  if (end === 'idle') failures.push({ check: 'idle', message: 'nothing was left to happen but the scenario had not ended (the leader stopped its loop?)' });

  // Stop every leader, letting their loops unwind on virtual time.
  let stopped = 0;
  for (const r of leaders) {
    if (!r.stopped) {
      r.stopped = true;
      r.leader.stop().then(
        () => stopped++,
        () => stopped++,
      );
    } else stopped++;
  }
  const finalStatus = lastStatus;
  await clock.run({ until: () => stopped >= leaders.length, maxTime: Number.MAX_SAFE_INTEGER, maxEvents: 10_000 });

  // ---- checks ----
  for (const v of world.violations) failures.push({ check: v.check, message: `${(v.atMs / 1000).toFixed(3)}s: ${v.message}` });
  const jobs = await current().leader.jobCount();
  const journal: Job[] = injector.invisibleJobs.size > 0 ? await current().leader.jobs() : [];
  const invisibleSteps = [...new Set(journal.filter((j) => injector.invisibleJobs.has(j.id)).map((j) => j.intent))];
  if (finalStatus !== undefined && lastOffer !== undefined && failures.every((f) => f.check !== 'looping' && f.check !== 'livelock')) {
    const canExhaust = scenario.faults.some(canExhaustRetries);
    const endFailures = checkEndState(finalStatus, canExhaust, world, history.latest()?.desired, injector.failuresByCall, {
      jobs: injector.invisibleJobs,
      steps: new Set(invisibleSteps),
    });
    failures.push(...endFailures);
    failures.push(...checkAcceptance({ status: finalStatus, history: history.list(), lastOffer }));
    const accepted = history.latest()?.desired;
    if (endFailures.length === 0 && finalStatus.state === 'AT_DESIRED_STATE' && accepted !== undefined) {
      failures.push(...checkWorldMatches(world, accepted, history.list()));
    }
  }
  return {
    ok: failures.length === 0,
    failures,
    stats: {
      virtualMs: clock.now() - startMs,
      jobs,
      mutatingCalls: world.mutatingCalls,
      providerCalls: world.providerCalls,
      leaders: leaders.length,
      writes: world.writes,
      events: clock.fired,
      plans,
      reads: world.reads,
      endState: finalStatus?.state ?? 'unknown',
      maxIdleMs: liveness?.maxIdleMs ?? 0,
    },
    trace: world.trace,
    faults: scenario.faults.map(describeFault),
    accepted: history.list().map((e) => e.desired),
    heldData: world.writes > 0 || world.restoredFrom !== undefined,
    invisibleSteps,
    ...(livelock === undefined ? {} : { livelock }),
    crashes,
  };
}
