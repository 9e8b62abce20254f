// The reconciler: the leader's one loop per cluster, and the reconciliation part of
// LeaderApi (status, preview, offer, jobs).
//
//   observe → plan → done?     AT_DESIRED_STATE (then accept a pending desired state)
//                  → blocked?  ERROR_STATE with the planner's reasons
//                  → next      run the batch as jobs, in parallel → settle (re-observe until
//                              the effects are visible) → loop
//                  → waiting   pause observeIntervalMs; after stuckTimeoutMs with no step
//                              to take: ERROR_STATE "stuck waiting for …"
//
// A step whose jobs failed maxAttempts times (each job retried transient errors itself)
// puts the cluster in ERROR_STATE with the step, the reason, the last job and the calls
// made. Liveness: a job that "succeeded" but whose effect is still not visible when the
// settle ends (effect-visible.ts; quickSettleTimeoutMs for steps whose effect the agent
// made before answering, settleTimeoutMs for those that spread through the cluster) is a
// failed attempt too, recorded in the journal with the effect waited for and what was
// observed; and a step whose effect was seen maxAttempts times in one reconcile and that
// is planned yet again was undone each time: ERROR_STATE rather than a loop. So nothing a
// desired state asks for holds the leader in WORKING for ever, and a pending desired
// state is accepted once the leader gives up (step-failures.ts).
//
// In AT_DESIRED_STATE and ERROR_STATE the loop keeps observing:
//   - from AT_DESIRED_STATE, any difference (the plan is not done) is drift: WORKING again;
//   - from ERROR_STATE it goes back to work only when a newer desired state is accepted,
//     or when the plan no longer holds what failed: the failing step is not among the
//     next steps (which are not empty), the planner no longer blocks, or — after "stuck
//     waiting" — there is a step to take again. A fenced-off leader (a newer epoch took
//     over) never goes back to work: run() returns 'fenced'.
//
// Offers: an invalid or old desired state changes nothing (lastRefusal says why). A
// valid one is accepted at once unless the leader is WORKING with an accepted state; then
// it waits as the pending one (a newer offer replaces it) and is validated again and
// accepted when the work ends in AT_DESIRED_STATE or ERROR_STATE.
//
// The loop is the only writer of the cluster: one reconcile pass at a time. Offers only
// append to the history and wake the loop. After a restart, a new Reconciler on the same
// state resumes from history + journal + facts + a fresh observation; jobs a dead leader
// left 'running' are marked 'abandoned' (the planner plans their steps again from what is
// observed).
import { setMaxListeners } from 'node:events';
import { parse as parseJsonc } from 'jsonc-parser';
import type { Logger } from 'pino';
import { acceptDesiredState } from '../../desired-state/accept.ts';
import { formatProblems } from '../../desired-state/format.ts';
import type { HistoryEntry } from '../../desired-state/history.ts';
import { idNotIncreasing } from '../../desired-state/transition.ts';
import type { Desired } from '../../desired-state/types.ts';
import type { ValidationResult } from '../../desired-state/validate.ts';
import type { LeaderFacts, ObservedCluster } from '../model/observed.ts';
import { describeStep, type Plan, type Step } from '../model/step.ts';
import type { ClusterStatus, ReconciliationState, StatusError } from '../model/status.ts';
import type { Job } from '../ports/journal.ts';
import type { LeaderApi, OfferResult } from '../ports/leader-api.ts';
import { effectSeen, effectWanted } from '../executor/effect-explain.ts';
import { stepEffectVisible } from '../executor/effect-visible.ts';
import { undoneAtOnce, wentDown } from './went-down.ts';
import { BatchStoppedError, commitJob, executeBatch, retryDelay } from '../executor/execute-step.ts';
import { factsAfterObservation, factsAfterStep } from '../executor/leader-facts.ts';
import { backupRefsOf, observe, type BackupRef } from '../observe/observe.ts';
import { resolveReconcilerOptions, type ReconcilerOptions, type ResolvedReconcilerOptions } from './options.ts';
import { unreachable } from './reachable.ts';
import { revalidate } from './revalidate.ts';
import { StatusMemory, buildStatus } from './status-view.ts';
import { StepFailures, fencedOff, type StepFailure } from './step-failures.ts';
import { Wakeup } from './wakeup.ts';
import { errorText } from '../../common/error-text.ts';

/** Why run() returned: the signal aborted, or a newer leader fenced this one off. */
export type RunEnd = 'stopped' | 'fenced';

/** run() was called while the loop already runs. */
export class ReconcilerRunningError extends Error {
  override name = 'ReconcilerRunningError';
  constructor(cluster: string) {
    super(`the reconciler of cluster ${cluster} is already running; one reconcile loop per cluster`);
  }
}

type ErrorKind = 'step' | 'blocked' | 'stuck' | 'fenced' | 'internal';

interface CurrentError {
  kind: ErrorKind;
  status: StatusError;
}

/** How a settle ended: every effect visible, something went down, a newer desired state, or out of time. */
type Settled =
  | { end: 'committed' | 'newer' }
  | { end: 'timeout'; observed: ObservedCluster; waitedMs: number }
  /** `undone`: the succeeded jobs whose own node or agent is down again (went-down.ts undoneAtOnce). */
  | { end: 'went-down'; observed: ObservedCluster; waitedMs: number; undone: Job[] };

/**
 * Steps whose effect the agent has made before it answers, so that the next observation
 * shows it: waited for quickSettleTimeoutMs, not settleTimeoutMs.
 */
const QUICK_EFFECTS: ReadonlySet<Step['kind']> = new Set([
  'ensureVersion',
  'startDataNode',
  'stopDataNode',
  'configureDataNode',
  'createBackup',
  'deleteBackup',
  'restoreBackup',
]);

interface Uncommitted {
  job: Job;
  /** The observation the job's step was planned against. */
  before: ObservedCluster;
  /** When it finished, ms. */
  finishedAt: number;
}

export class Reconciler implements Pick<LeaderApi, 'status' | 'preview' | 'offer' | 'jobs' | 'job'> {
  readonly #o: ResolvedReconcilerOptions;
  readonly #log: Logger;
  readonly #failures = new StepFailures();
  readonly #wakeup: Wakeup;
  #state: ReconciliationState = 'WORKING_TOWARDS_DESIRED_STATE';
  #error: CurrentError | undefined;
  #pending: { candidate: ValidationResult; source: string; id: number } | undefined;
  #lastRefusal: ClusterStatus['lastRefusal'] = null;
  #observed: ObservedCluster | undefined;
  #plan: Plan | undefined;
  #facts: LeaderFacts | undefined;
  /** Updates of the facts, one after the other (#updateFacts). */
  #factsQueue: Promise<unknown> = Promise.resolve();
  #running = false;
  #initialised = false;
  /** Jobs that succeeded in this reconcile (since the desired state was accepted or last reached): never decreases until then. */
  #done = 0;
  /** What status() shows of nodes whose agent stopped answering: recorded at every observation. */
  readonly #statusMemory = new StatusMemory();
  /** Intents of the jobs running now. */
  #current: string[] = [];
  /** Bumped at each acceptance: a pass planned for an older desired state is dropped. */
  #generation = 0;
  #waitingSince: number | undefined;
  /** VMs created by a job, by id → when, until their agent answers (or createGraceMs passes). */
  readonly #creating = new Map<string, number>();
  readonly #uncommitted = new Map<string, Uncommitted>();
  /** An observation made while settling, reused by the next pass. */
  #fresh: ObservedCluster | undefined;
  #refs: { latestId: number | undefined; refs: BackupRef[] } | undefined;

  constructor(options: ReconcilerOptions) {
    this.#o = resolveReconcilerOptions(options);
    this.#log = this.#o.logger;
    this.#wakeup = new Wakeup(this.#o.clock);
  }

  // ---- LeaderApi -------------------------------------------------------------------

  status(): Promise<ClusterStatus> {
    const working = this.#state === 'WORKING_TOWARDS_DESIRED_STATE';
    return Promise.resolve(
      buildStatus({
        cluster: this.#o.cluster,
        state: this.#state,
        acceptedId: this.#o.history.latest()?.id ?? null,
        pendingId: this.#pending?.id ?? null,
        lastRefusal: this.#lastRefusal,
        lastError: this.#error?.status ?? null,
        progress: working ? { done: this.#done, remaining: this.#plan?.remaining ?? null, current: [...this.#current] } : null,
        waiting: this.#plan?.waiting ?? [],
        observed: this.#observed,
        epoch: this.#o.epoch,
        now: this.#o.clock.now(),
        memory: this.#statusMemory,
      }),
    );
  }

  jobs(): Promise<Job[]> {
    return this.#o.journal.list();
  }

  job(id: string): Promise<Job | undefined> {
    return this.#o.journal.get(id);
  }

  /** Observes and plans towards `desired`, executing nothing and changing no state. */
  async preview(desired: Desired, signal?: AbortSignal): Promise<{ plan: Plan; observed: ObservedCluster }> {
    const facts = await this.#loadFacts();
    const refs = backupRefsOf([...this.#o.history.list().map((e) => e.desired), desired]);
    const observed = await observe(this.#o.provider, {
      backupRefs: refs,
      facts,
      clock: this.#o.clock,
      callDeadlineMs: this.#o.observeDeadlineMs,
      ...(this.#o.sinkBaseDir === undefined ? {} : { sinkBaseDir: this.#o.sinkBaseDir }),
      creatingVmIds: new Set(this.#creating.keys()),
      ...(signal === undefined ? {} : { signal }),
    });
    const preview = { ...observed, facts: factsAfterObservation(facts, observed, desired.restoreFromBackup) };
    return { plan: this.#o.planner(desired, preview), observed: preview };
  }

  /** Offers a desired state validated against the latest accepted one (see the file comment). */
  offer(candidate: ValidationResult, source: string): Promise<OfferResult> {
    const id = candidateId(candidate);
    if (candidate.verdict !== 'valid' || candidate.desired === undefined) {
      return Promise.resolve(this.#refuse(candidate.verdict === 'ignored' ? 'ignored' : 'refused', id, candidate));
    }
    if (this.#error?.kind === 'fenced') {
      const message = `this leader (epoch ${this.#o.epoch}) was fenced off by a newer one and takes no desired state; offer it to the running leader`;
      this.#lastRefusal = { id, reason: message, at: this.#stamp() };
      return Promise.resolve({ status: 'refused', id, message });
    }
    const latest = this.#o.history.latest();
    if (latest !== undefined && candidate.desired.id <= latest.id) {
      return Promise.resolve(this.#refuse('ignored', id, { ...candidate, problems: [idNotIncreasing(latest.id, candidate.desired.id)] }));
    }
    // While the leader works, the cluster is in between: the check waits for the end of
    // that work (#acceptPending), where the observation shows where the cluster stopped.
    if (this.#state !== 'WORKING_TOWARDS_DESIRED_STATE' || latest === undefined) {
      const cannot = unreachable(this.#o.planner, candidate.desired, latest?.desired, this.#observed);
      if (cannot.length > 0) return Promise.resolve(this.#refuse('refused', id, { ...candidate, verdict: 'invalid', problems: cannot }));
    }
    if (latest !== undefined && this.#state === 'WORKING_TOWARDS_DESIRED_STATE') {
      const replaced = this.#pending?.id;
      this.#pending = { candidate, source, id: candidate.desired.id };
      this.#lastRefusal = null;
      this.#log.info(
        { desiredId: candidate.desired.id, workingOn: latest.id, replaced },
        `Kept desired state ${candidate.desired.id} pending until the work towards desired state ${latest.id} ends`,
      );
      return Promise.resolve({
        status: 'pending',
        id: candidate.desired.id,
        message:
          `desired state ${candidate.desired.id} waits: the leader is working towards desired state ${latest.id} and takes the new one once that work ends` +
          (replaced !== undefined && replaced !== candidate.desired.id ? ` (it replaces the pending desired state ${replaced})` : ''),
      });
    }
    this.#pending = undefined;
    return Promise.resolve(this.#accept(candidate, source));
  }

  // ---- the loop --------------------------------------------------------------------

  /** Runs the loop until `outer` aborts ('stopped') or a newer leader fences this one off ('fenced'). */
  async run(outer: AbortSignal): Promise<RunEnd> {
    if (this.#running) throw new ReconcilerRunningError(this.#o.cluster);
    this.#running = true;
    // Every call of an observation and of a batch listens to this signal: many at once is normal.
    const inner = new AbortController();
    setMaxListeners(0, inner.signal);
    const onAbort = (): void => inner.abort(outer.reason);
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
    const signal = inner.signal;
    try {
      if (!this.#initialised) await this.#init();
      while (!signal.aborted) {
        try {
          if ((await this.#pass(signal)) === 'fenced') return 'fenced';
        } catch (err) {
          if (signal.aborted) break;
          this.#internalError(err);
          await this.#pause(this.#o.observeIntervalMs, signal).catch(() => undefined);
        }
      }
      return 'stopped';
    } finally {
      outer.removeEventListener('abort', onAbort);
      this.#running = false;
      this.#current = [];
    }
  }

  /** Loads the facts, marks jobs a dead leader left running as abandoned, rebuilds the failure counts. */
  async #init(): Promise<void> {
    await this.#loadFacts();
    const jobs = await this.#o.journal.list();
    const now = this.#stamp();
    for (const job of jobs) {
      if (job.status !== 'running' || job.epoch >= this.#o.epoch) continue;
      job.status = 'abandoned';
      job.error = `abandoned: the leader of epoch ${job.epoch} stopped before the job finished; its step is planned again from what is observed`;
      job.stages.finished ??= now;
      await this.#o.journal.record(job);
      this.#log.warn({ job: job.id, step: job.intent, epoch: job.epoch }, `Marked job ${job.id} abandoned: its leader stopped while it ran`);
    }
    const latest = this.#o.history.latest();
    if (latest !== undefined) this.#failures.rebuild(jobs, latest.id);
    this.#initialised = true;
  }

  async #loadFacts(): Promise<LeaderFacts> {
    this.#facts ??= await this.#o.facts.load();
    return this.#facts;
  }

  /** One pass: observe, plan, act. */
  async #pass(signal: AbortSignal): Promise<'fenced' | undefined> {
    const entry = this.#o.history.latest();
    const generation = this.#generation;
    let observed: ObservedCluster;
    try {
      observed = this.#fresh ?? (await this.#observe(signal, entry?.desired));
    } catch (err) {
      if (signal.aborted) throw err;
      this.#log.warn({ err: errorText(err) }, `Failed to observe the cluster: ${errorText(err)}; will observe again in ${this.#o.observeIntervalMs} ms`);
      await this.#pause(this.#o.observeIntervalMs, signal);
      return undefined;
    } finally {
      this.#fresh = undefined;
    }
    if (entry === undefined) {
      // Nothing accepted yet: keep the observation current for status() and wait for an offer.
      await this.#pause(this.#o.observeIntervalMs, signal);
      return undefined;
    }
    const plan = this.#o.planner(entry.desired, observed);
    if (generation !== this.#generation) return undefined; // a newer desired state was accepted meanwhile
    this.#plan = plan;

    if (plan.blocked.length > 0) {
      if (this.#error?.kind !== 'blocked' || this.#state !== 'ERROR_STATE') {
        this.#toError('blocked', { step: 'plan', reason: plan.blocked.join('; '), attempts: 0 });
      }
      await this.#pauseUnlessAccepted(signal);
      return undefined;
    }
    if (plan.done) {
      this.#toAtDesiredState(entry);
      await this.#pauseUnlessAccepted(signal);
      return undefined;
    }
    if (this.#state === 'ERROR_STATE') {
      const why = this.#mayLeaveError(plan);
      if (why === undefined) {
        await this.#pause(this.#o.observeIntervalMs, signal);
        return undefined;
      }
      this.#toWorking(entry, why);
    } else if (this.#state === 'AT_DESIRED_STATE') {
      this.#toWorking(entry, `drifted from desired state ${entry.id}: ${describePlan(plan)}`);
    }

    if (plan.next.length > 0) {
      this.#waitingSince = undefined;
      const undone = plan.next.find((p) => this.#failures.tookEffect(describeStep(p.step)) >= this.#o.maxAttempts);
      if (undone !== undefined) {
        const intent = describeStep(undone.step);
        this.#toError('step', {
          step: intent,
          reason:
            `its effect was seen ${this.#failures.tookEffect(intent)} times while working towards desired state ${entry.id} and was undone each time, ` +
            `so the leader stopped repeating it: wanted ${effectWanted(undone.step)}; observed ${effectSeen(undone.step, observed)}`,
          attempts: this.#failures.tookEffect(intent),
        });
        await this.#pauseUnlessAccepted(signal);
        return undefined;
      }
      return this.#runBatch(plan, observed, entry, signal);
    }
    const now = this.#o.clock.now();
    this.#waitingSince ??= now;
    if (now - this.#waitingSince >= this.#o.stuckTimeoutMs) {
      this.#toError('stuck', {
        step: 'waiting',
        reason: `stuck waiting for ${plan.waiting.join('; ') || 'something the plan does not name'} (no step could be taken for ${duration(now - this.#waitingSince)})`,
        attempts: 0,
      });
      await this.#pauseUnlessAccepted(signal);
      return undefined;
    }
    await this.#pause(this.#o.observeIntervalMs, signal);
    return undefined;
  }

  async #runBatch(plan: Plan, observed: ObservedCluster, entry: HistoryEntry, signal: AbortSignal): Promise<'fenced' | undefined> {
    const intents = plan.next.map((p) => describeStep(p.step));
    this.#current = intents;
    this.#log.info({ desiredId: entry.id, steps: intents }, `Started a batch of ${intents.length} step${intents.length === 1 ? '' : 's'} towards desired state ${entry.id}`);
    let jobs: Job[];
    // While the batch runs, the cluster is observed on (status stays current) and the batch
    // is stopped when something it did not take down went down (went-down.ts): a step
    // waiting on a killed node — a join waiting for the members to agree — would hold the
    // batch, and that node's restart, for its whole retry budget (5 × 60 s; seen in the
    // crash test). Its jobs end abandoned, and the next plan repairs first.
    const batch = new AbortController();
    setMaxListeners(0, batch.signal); // each job and call of the batch listens on it: by design, not a leak
    const onAbort = (): void => batch.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const watching = this.#watchBatch(plan, observed, entry, signal, batch);
    try {
      jobs = await executeBatch(plan.next, {
        provider: this.#o.provider,
        journal: this.#o.journal,
        clock: this.#o.clock,
        observed,
        desiredId: entry.id,
        epoch: this.#o.epoch,
        source: `reconcile desired state ${entry.id}`,
        signal: batch.signal,
        logger: this.#log,
        options: this.#o.executor,
        onSucceeded: (job) => this.#recordFacts(job),
        ...(this.#o.sinkBaseDir === undefined ? {} : { sinkBaseDir: this.#o.sinkBaseDir }),
      });
    } finally {
      this.#current = [];
      signal.removeEventListener('abort', onAbort);
      if (!batch.signal.aborted) batch.abort(new BatchStoppedError('the batch ended')); // ends the watch
      await watching;
    }
    signal.throwIfAborted();
    let exhausted: { job: Job; calls: number; jobs: number } | undefined;
    let fenced: Job | undefined;
    let mostFailures = 0;
    let succeeded = 0;
    for (const job of jobs) {
      if (job.status === 'succeeded') {
        succeeded++;
        this.#done++;
        this.#uncommitted.set(job.id, { job, before: observed, finishedAt: this.#o.clock.now() });
        if (job.step.kind === 'createVm') this.#creating.set(job.step.vm.id, this.#o.clock.now());
      } else if (job.status === 'failed') {
        if (fencedOff(job)) {
          fenced = job;
          continue;
        }
        const tally = this.#failures.failed(job);
        mostFailures = Math.max(mostFailures, tally.jobs);
        if (tally.jobs >= this.#o.maxAttempts && exhausted === undefined) exhausted = { job, calls: tally.calls, jobs: tally.jobs };
      }
    }
    if (fenced !== undefined) {
      this.#toError('fenced', {
        step: fenced.intent,
        reason: `a newer leader has taken over (${fenced.error ?? 'stale leader'}); this leader stopped sending steps`,
        jobId: fenced.id,
        attempts: fenced.commands.length,
      });
      return 'fenced';
    }
    if (exhausted !== undefined) {
      this.#toError('step', {
        step: exhausted.job.intent,
        reason: `${exhausted.job.error ?? 'failed'} (${exhausted.jobs} failed job${exhausted.jobs === 1 ? '' : 's'}, ${exhausted.calls} call${exhausted.calls === 1 ? '' : 's'})`,
        jobId: exhausted.job.id,
        attempts: exhausted.calls,
      });
      return undefined;
    }
    // A failed step is planned again only after the retry delay its failures have earned.
    let retryAt = this.#o.clock.now() + (mostFailures > 0 ? retryDelay(this.#o.retryDelaysMs, mostFailures) : 0);
    if (succeeded > 0) {
      const settled = await this.#settle(signal, entry, jobs, observed);
      if (settled.end === 'timeout' || settled.end === 'went-down') {
        const verdict = await this.#ineffective(settled.end === 'timeout' ? jobs : settled.undone, settled.observed, settled.waitedMs);
        if (verdict.exhausted !== undefined) {
          const { job, tally } = verdict.exhausted;
          this.#toError('step', {
            step: job.intent,
            reason: `${tally.lastError} (${tally.jobs} attempt${tally.jobs === 1 ? '' : 's'} in all, ${tally.calls} call${tally.calls === 1 ? '' : 's'})`,
            jobId: job.id,
            attempts: tally.calls,
          });
          return undefined;
        }
        if (verdict.mostFailures > 0) retryAt = Math.max(retryAt, this.#o.clock.now() + retryDelay(this.#o.retryDelaysMs, verdict.mostFailures));
      }
    }
    const rest = retryAt - this.#o.clock.now();
    if (rest > 0) await this.#pause(rest, signal);
    return undefined;
  }

  /**
   * Observes every observeIntervalMs while a batch runs; stops the batch (aborts `batch`
   * with a BatchStoppedError) when an agent or data node went down that the batch did not
   * take down. Ends when the batch's signal aborts.
   */
  async #watchBatch(plan: Plan, before: ObservedCluster, entry: HistoryEntry, signal: AbortSignal, batch: AbortController): Promise<void> {
    const steps = plan.next.map((p) => p.step);
    while (!batch.signal.aborted) {
      try {
        await this.#o.clock.sleep(this.#o.observeIntervalMs, batch.signal);
      } catch {
        return;
      }
      let observed: ObservedCluster;
      try {
        observed = await this.#observe(batch.signal, entry.desired);
      } catch {
        if (batch.signal.aborted || signal.aborted) return;
        continue;
      }
      const down = wentDown(before, observed, steps);
      if (down !== undefined && !batch.signal.aborted) {
        this.#log.warn({ desiredId: entry.id }, `Stopped the batch: ${down} went down while it ran; planning its repair first`);
        batch.abort(new BatchStoppedError(`${down} went down while the batch ran; the leader stopped the batch to repair it first`));
        return;
      }
    }
  }

  /**
   * Re-observes until every succeeded job of the batch is committed, something went down
   * that the batch did not take down (went-down.ts: only a new plan repairs it), or
   * settleTimeoutMs passes. `before` is the observation the batch was planned against.
   */
  async #settle(signal: AbortSignal, entry: HistoryEntry, jobs: readonly Job[], before: ObservedCluster): Promise<Settled> {
    const ids = jobs.filter((j) => j.status === 'succeeded').map((j) => j.id);
    const waitMs = Math.max(...jobs.filter((j) => j.status === 'succeeded').map((j) => this.#effectWaitMs(j.step)));
    const started = this.#o.clock.now();
    const deadline = started + waitMs;
    const generation = this.#generation;
    for (;;) {
      await this.#pause(this.#o.settleIntervalMs, signal);
      if (generation !== this.#generation) return { end: 'newer' }; // a newer desired state: plan for it now
      let observed: ObservedCluster;
      try {
        observed = await this.#observe(signal, entry.desired);
      } catch (err) {
        if (signal.aborted) throw err;
        continue;
      }
      const open = ids.filter((id) => this.#uncommitted.has(id));
      if (open.length === 0) {
        this.#fresh = observed;
        return { end: 'committed' };
      }
      const down = wentDown(
        before,
        observed,
        jobs.map((j) => j.step),
        jobs.filter((j) => j.status === 'succeeded').map((j) => j.step),
      );
      if (down !== undefined) {
        this.#log.info(
          { jobs: open },
          `Planning again before the effect of job${open.length === 1 ? '' : 's'} ${open.join(', ')} became visible: ${down} went down`,
        );
        this.#fresh = observed;
        const succeededJobs = jobs.filter((j) => j.status === 'succeeded' && this.#uncommitted.has(j.id));
        const undone = new Set(undoneAtOnce(observed, succeededJobs.map((j) => j.step)));
        return { end: 'went-down', observed, waitedMs: this.#o.clock.now() - started, undone: succeededJobs.filter((j) => undone.has(j.step)) };
      }
      if (this.#o.clock.now() >= deadline) {
        this.#fresh = observed;
        return { end: 'timeout', observed, waitedMs: this.#o.clock.now() - started };
      }
    }
  }

  /** How long the settle waits for the effect of a succeeded step of this kind (see the options). */
  #effectWaitMs(step: Step): number {
    return QUICK_EFFECTS.has(step.kind) ? this.#o.quickSettleTimeoutMs : this.#o.settleTimeoutMs;
  }

  /**
   * The settle ran out with succeeded jobs whose effect is not visible: each is a failed
   * attempt of its step, recorded in its job with what was waited for and what was seen.
   */
  async #ineffective(
    jobs: readonly Job[],
    observed: ObservedCluster,
    waitedMs: number,
  ): Promise<{ mostFailures: number; exhausted: { job: Job; tally: StepFailure } | undefined }> {
    let mostFailures = 0;
    let exhausted: { job: Job; tally: StepFailure } | undefined;
    for (const job of jobs) {
      if (job.status !== 'succeeded' || !this.#uncommitted.has(job.id)) continue;
      const why =
        `${job.intent} succeeded, but its effect was not visible ${duration(waitedMs)} later: ` +
        `wanted ${effectWanted(job.step)}; observed ${effectSeen(job.step, observed)}`;
      job.ineffective = why;
      await this.#o.journal.record(job);
      const tally = this.#failures.ineffective(job, why);
      mostFailures = Math.max(mostFailures, tally.jobs);
      this.#log.warn(
        { job: job.id, step: job.intent, attempt: tally.jobs, maxAttempts: this.#o.maxAttempts },
        `Counted job ${job.id} as failed attempt ${tally.jobs} of ${this.#o.maxAttempts}: ${why}`,
      );
      if (tally.jobs >= this.#o.maxAttempts && exhausted === undefined) exhausted = { job, tally };
    }
    return { mostFailures, exhausted };
  }

  /** Observes, then keeps the facts, the VMs being created and the commits up to date. */
  async #observe(signal: AbortSignal, desired: Desired | undefined): Promise<ObservedCluster> {
    const facts = await this.#loadFacts();
    const now = this.#o.clock.now();
    for (const [id, since] of this.#creating) if (now - since > this.#o.createGraceMs) this.#creating.delete(id);
    const observed = await observe(this.#o.provider, {
      backupRefs: this.#backupRefs(),
      facts,
      signal,
      clock: this.#o.clock,
      callDeadlineMs: this.#o.observeDeadlineMs,
      ...(this.#o.sinkBaseDir === undefined ? {} : { sinkBaseDir: this.#o.sinkBaseDir }),
      creatingVmIds: new Set(this.#creating.keys()),
    });
    for (const vm of observed.vms) if (vm.agentUp) this.#creating.delete(vm.id);
    // The facts as they are now: a job of the running batch may have recorded one while
    // this observation ran (the batch watch observes alongside it).
    const next = await this.#updateFacts((now) => factsAfterObservation(now, observed, desired?.restoreFromBackup), 'Recorded that the cluster is formed: every slot is served');
    if (next !== facts) observed.facts = { ...next };
    await this.#commitVisible(observed);
    this.#observed = observed;
    this.#statusMemory.record(observed, this.#o.clock.now());
    return observed;
  }

  /** Stamps committed every succeeded job whose effect the observation shows; forgets those too old to wait for. */
  async #commitVisible(observed: ObservedCluster): Promise<void> {
    const now = this.#o.clock.now();
    for (const [id, u] of this.#uncommitted) {
      if (stepEffectVisible(u.job.step, observed, u.before)) {
        this.#uncommitted.delete(id);
        this.#failures.committed(u.job.intent);
        await commitJob(this.#o.journal, u.job, this.#o.clock);
        this.#log.debug({ job: id, step: u.job.intent }, `Committed job ${id}: its effect is visible`);
      } else if (now - u.finishedAt > this.#o.stuckTimeoutMs) {
        this.#uncommitted.delete(id);
      }
    }
  }

  async #recordFacts(job: Job): Promise<void> {
    await this.#updateFacts((now) => factsAfterStep(now, job.step), (next) => `Recorded that the cluster was restored from backup ${next.restoredFrom ?? ''}`);
  }

  /**
   * Changes the facts one update at a time (an observation and a job's record can run at
   * once): `change` gets the facts as they are, and a changed result is saved. Returns
   * the facts after the update.
   */
  #updateFacts(change: (now: LeaderFacts) => LeaderFacts, message: string | ((next: LeaderFacts) => string)): Promise<LeaderFacts> {
    const run = this.#factsQueue.then(async () => {
      const now = await this.#loadFacts();
      const next = change(now);
      if (next !== now) await this.#saveFacts(next, typeof message === 'string' ? message : message(next));
      return next;
    });
    this.#factsQueue = run.catch(() => undefined);
    return run;
  }

  async #saveFacts(facts: LeaderFacts, message: string): Promise<void> {
    await this.#o.facts.save(facts);
    this.#facts = facts;
    this.#log.info({ facts }, message);
  }

  #backupRefs(): BackupRef[] {
    const latestId = this.#o.history.latest()?.id;
    if (this.#refs === undefined || this.#refs.latestId !== latestId) {
      this.#refs = { latestId, refs: backupRefsOf(this.#o.history.list().map((e) => e.desired)) };
    }
    return this.#refs.refs;
  }

  // ---- states ----------------------------------------------------------------------

  #toAtDesiredState(entry: HistoryEntry): void {
    if (this.#state !== 'AT_DESIRED_STATE') this.#log.info({ desiredId: entry.id }, `Reached desired state ${entry.id}`);
    this.#state = 'AT_DESIRED_STATE';
    this.#error = undefined;
    this.#waitingSince = undefined;
    this.#done = 0; // the next reconcile (drift) counts from 0; leaving ERROR_STATE for the same desired state does not
    this.#failures.clearEffects();
    this.#acceptPending();
  }

  #toWorking(entry: HistoryEntry, why: string): void {
    this.#log.info({ desiredId: entry.id, from: this.#state }, `Started working towards desired state ${entry.id}: ${why}`);
    this.#state = 'WORKING_TOWARDS_DESIRED_STATE';
    this.#error = undefined;
    this.#waitingSince = undefined;
  }

  #toError(kind: ErrorKind, error: Omit<StatusError, 'at'>): void {
    const status: StatusError = { ...error, at: this.#stamp() };
    this.#state = 'ERROR_STATE';
    this.#error = { kind, status };
    this.#waitingSince = undefined;
    this.#log.error(
      { step: status.step, job: status.jobId, attempts: status.attempts, reason: status.reason },
      `Entered ERROR_STATE: ${status.step}: ${status.reason}`,
    );
    if (kind !== 'fenced') this.#acceptPending();
  }

  /** Why the loop may go back to work from ERROR_STATE with this plan (not done, not blocked), or undefined. */
  #mayLeaveError(plan: Plan): string | undefined {
    const error = this.#error;
    if (error === undefined) return 'recovered';
    switch (error.kind) {
      case 'fenced':
        return undefined;
      case 'blocked':
        return 'the planner no longer blocks';
      case 'internal':
        return 'planning works again';
      case 'stuck':
        return plan.next.length > 0 ? 'a step can be taken again' : undefined;
      case 'step':
        return plan.next.length > 0 && !plan.next.some((p) => describeStep(p.step) === error.status.step)
          ? `the failed step (${error.status.step}) is no longer planned`
          : undefined;
    }
  }

  #internalError(err: unknown): void {
    const reason = errorText(err);
    if (this.#state === 'ERROR_STATE' && this.#error?.kind === 'internal' && this.#error.status.reason === reason) return; // said already
    this.#log.error({ err: reason }, `Failed a reconcile pass: ${reason}`);
    this.#toError('internal', { step: 'reconcile', reason, attempts: 0 });
  }

  // ---- offers ----------------------------------------------------------------------

  #accept(candidate: ValidationResult, source: string): OfferResult {
    const outcome = acceptDesiredState(this.#o.history, candidate, source);
    if (outcome.status !== 'accepted') {
      return this.#refuse(outcome.status, candidateId(candidate), { ...candidate, problems: outcome.problems });
    }
    const entry = outcome.entry;
    this.#generation++;
    this.#state = 'WORKING_TOWARDS_DESIRED_STATE';
    this.#error = undefined;
    this.#lastRefusal = null;
    this.#done = 0;
    this.#waitingSince = undefined;
    this.#failures.clear();
    this.#plan = undefined;
    this.#fresh = undefined;
    this.#log.info({ desiredId: entry.id, source }, `Accepted desired state ${entry.id} from ${source}`);
    this.#wakeup.wake();
    return { status: 'accepted', id: entry.id, message: `accepted desired state ${entry.id}; the leader works towards it now` };
  }

  #refuse(status: 'ignored' | 'refused', id: number | null, candidate: ValidationResult): OfferResult {
    const message = formatProblems(candidate.problems, candidate.source);
    this.#lastRefusal = { id, reason: message, at: this.#stamp() };
    this.#log.warn({ desiredId: id, verdict: status }, `${status === 'ignored' ? 'Ignored' : 'Refused'} desired state ${id ?? '(no id)'}: ${firstLine(message)}`);
    return { status, id, message };
  }

  /** Accepts the pending desired state, validated again against the latest accepted one; whether one was accepted. */
  #acceptPending(): boolean {
    const pending = this.#pending;
    if (pending === undefined) return false;
    this.#pending = undefined;
    const latest = this.#o.history.latest();
    const result = revalidate(pending.candidate, latest?.desired, this.#o.history.everRan());
    if (result.verdict !== 'valid') {
      this.#refuse(result.verdict === 'ignored' ? 'ignored' : 'refused', pending.id, result);
      return false;
    }
    const cannot = result.desired === undefined ? [] : unreachable(this.#o.planner, result.desired, latest?.desired, this.#observed);
    if (cannot.length > 0) {
      this.#refuse('refused', pending.id, { ...result, verdict: 'invalid', problems: cannot });
      return false;
    }
    return this.#accept(result, pending.source).status === 'accepted';
  }

  // ---- helpers ---------------------------------------------------------------------

  #pause(ms: number, signal: AbortSignal): Promise<'elapsed' | 'woken'> {
    return this.#wakeup.pause(ms, signal);
  }

  /** Pauses observeIntervalMs, unless a desired state was just accepted (then loops at once). */
  async #pauseUnlessAccepted(signal: AbortSignal): Promise<void> {
    if (this.#state === 'WORKING_TOWARDS_DESIRED_STATE') return;
    await this.#pause(this.#o.observeIntervalMs, signal);
  }

  #stamp(): string {
    return new Date(this.#o.clock.now()).toISOString();
  }
}

/** The id a candidate asks for: its desired state's, or (when it did not validate) the top-level "id" of its text. */
function candidateId(candidate: ValidationResult): number | null {
  if (candidate.desired !== undefined) return candidate.desired.id;
  const text = candidate.source?.text;
  if (text === undefined) return null;
  const parsed: unknown = parseJsonc(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const id = (parsed as Record<string, unknown>)['id'];
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

function describePlan(plan: Plan): string {
  if (plan.next.length > 0) return plan.next.map((p) => p.why).join('; ');
  return `waiting for ${plan.waiting.join('; ')}`;
}

/** "45 s", "10 min", "1 h 5 min". */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 120 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
