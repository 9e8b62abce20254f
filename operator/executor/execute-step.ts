// Carries out planned steps as jobs (ConfD's model): each step is one job in the journal,
// stamped at each stage — submitted (it has an id), scheduled (its requests are resolved
// from the observation), executed (its first command started), finished (its commands
// ended) — and later committed by the reconciler once an observation shows its effect.
// Every command (each attempt of each call) is journaled with its result and output.
//
// Retries follow a delay list (JobScheduler's retryDelays: the last delay repeats): a
// TransientError is tried again after the next delay, with the same idempotency key, up
// to maxAttempts calls; a TerminalError fails the job at once. Waiting happens on the
// injected Clock only. When the caller aborts, the job ends 'abandoned' — the next
// observation and plan decide what to do about its step.
import { pino, type Logger } from 'pino';
import type { Clock } from '../../common/clock.ts';
import type { Job, JobCommand, JobStage, Journal } from '../ports/journal.ts';
import type { VmProvider } from '../ports/vm-provider.ts';
import type { ObservedCluster } from '../model/observed.ts';
import { describeStep, type PlannedStep, type StepKind } from '../model/step.ts';
import { AGENT_UNREACHABLE, asAgentCallError, type AgentCallError } from '../../proto/status.ts';
import { DEFAULT_DEADLINES_MS, commandsFor, commandsRunTogether, type Command } from './commands.ts';

export interface ExecutorOptions {
  /** Delays before the 2nd, 3rd … call of a command that failed transiently, in ms; the last repeats. @default [1000, 2000, 5000] */
  retryDelaysMs?: readonly number[];
  /** Calls of one command at most, the first included (a job's whole retry budget). @default 5 */
  maxAttempts?: number;
  /** Deadline of one call, per kind of step, in ms. @default DEFAULT_DEADLINES_MS (10 min for data movement and backups, 60 s for joins, 30 s for most else) */
  deadlinesMs?: Partial<Record<StepKind, number>>;
}

export interface ResolvedExecutorOptions {
  retryDelaysMs: readonly number[];
  maxAttempts: number;
  deadlinesMs: Readonly<Record<StepKind, number>>;
}

/** Options that do not hold, every problem listed. */
export class ExecutorOptionsError extends Error {
  override name = 'ExecutorOptionsError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid executor options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Validates the options once and fills in the defaults. */
export function resolveExecutorOptions(options: ExecutorOptions = {}): ResolvedExecutorOptions {
  const problems: string[] = [];
  const retryDelaysMs = options.retryDelaysMs ?? [1000, 2000, 5000];
  if (retryDelaysMs.length === 0 || retryDelaysMs.some((d) => !Number.isFinite(d) || d < 0)) {
    problems.push(`retryDelaysMs: must be a non-empty list of delays ≥ 0 ms (got ${JSON.stringify(retryDelaysMs)})`);
  }
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) problems.push(`maxAttempts: must be an integer ≥ 1 (got ${maxAttempts})`);
  const deadlinesMs = { ...DEFAULT_DEADLINES_MS, ...options.deadlinesMs };
  for (const [kind, ms] of Object.entries(deadlinesMs)) {
    if (!Number.isFinite(ms) || ms <= 0) problems.push(`deadlinesMs.${kind}: must be a positive number of ms (got ${ms})`);
  }
  if (problems.length > 0) throw new ExecutorOptionsError(problems);
  return { retryDelaysMs: [...retryDelaysMs], maxAttempts, deadlinesMs };
}

/** The delay before call number `attempt + 1`, after `attempt` calls failed (the last delay repeats). */
export function retryDelay(delaysMs: readonly number[], attempt: number): number {
  return delaysMs[Math.min(Math.max(attempt - 1, 0), delaysMs.length - 1)] ?? 0;
}

export interface ExecuteContext {
  provider: VmProvider;
  journal: Journal;
  clock: Clock;
  /** The observation the step was planned against: addresses and engine ids come from here. */
  observed: ObservedCluster;
  /** The desired-state id the job works towards. */
  desiredId: number;
  /** The leader's epoch, recorded in the job. */
  epoch: number;
  /** Who asked, e.g. "reconcile desired state 4". */
  source: string;
  /** Aborting ends the job as 'abandoned'. */
  signal?: AbortSignal;
  /** @default a silent logger */
  logger?: Logger;
  /** @default resolveExecutorOptions({}) */
  options?: ResolvedExecutorOptions;
  /**
   * Runs after the last command succeeded and before the job is recorded finished, e.g.
   * to persist a leader fact the step established. When it throws, the job fails.
   */
  onSucceeded?: (job: Job) => Promise<void>;
  /** The directory a relative local sink path is relative to (operator/observe/labels.ts resolveSinkPath). @default none */
  sinkBaseDir?: string;
}

/** The reason a batch's signal carries when the leader stops it to repair something first (the reconciler's watch). */
export class BatchStoppedError extends Error {
  override name = 'BatchStoppedError';
}

const silent = pino({ level: 'silent' });

/** Read through a call, so the compiler does not keep a narrowing from before an await. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Carries out one planned step as a job; resolves with the job as finally recorded. Rejects only when the journal cannot be written. */
export async function executeStep(planned: PlannedStep, ctx: ExecuteContext): Promise<Job> {
  const { journal, clock } = ctx;
  const options = ctx.options ?? resolveExecutorOptions();
  const signal = ctx.signal;
  const stamp = (): string => new Date(clock.now()).toISOString();
  const step = planned.step;
  const job: Job = {
    id: await journal.nextId(),
    intent: describeStep(step),
    source: ctx.source,
    why: planned.why,
    desiredId: ctx.desiredId,
    epoch: ctx.epoch,
    step,
    commands: [],
    stages: { submitted: stamp() },
    status: 'running',
  };
  const log = (ctx.logger ?? silent).child({ job: job.id, step: job.intent });
  // The journal copies the job as record() is called: `job` goes on changing here.
  const record = (): Promise<void> => journal.record(job);
  const setStage = (stage: JobStage): void => {
    job.stages[stage] ??= stamp();
  };
  await record();

  const end = async (status: Job['status'], error?: string): Promise<Job> => {
    job.status = status;
    if (error !== undefined) job.error = error;
    setStage('finished');
    await record();
    return job;
  };
  const abandoned = (): Promise<Job> => {
    // A batch stopped for a repair (BatchStoppedError) says why; otherwise the leader stopped.
    const why = signal?.reason instanceof BatchStoppedError ? signal.reason.message : 'the leader stopped before the job finished';
    log.warn(`Abandoned the job: ${why}`);
    return end('abandoned', `${why}; its step is planned again from what is observed`);
  };

  if (aborted(signal)) return abandoned();
  let commands: Command[];
  try {
    commands = commandsFor(step, ctx.observed, job.id, ctx.sinkBaseDir);
  } catch (err) {
    const e = asAgentCallError(err);
    log.error({ reason: e.reason }, `Failed the job before any call: ${e.message}`);
    return end('failed', `${e.message} (${e.reason})`);
  }
  setStage('scheduled');
  await record();
  log.info(`Started job ${job.id}: ${job.intent}`);

  const run = (command: Command): Promise<'ok' | 'aborted' | AgentCallError> => runCommand(command, step.kind, job, ctx, options, stamp, record, log);
  if (commandsRunTogether(step)) {
    // All at once, each with its own retries (forgetNode: the calls must land within
    // seconds of each other); the job fails with the first command, in order, that failed.
    const outcomes = await Promise.all(commands.map(run));
    if (outcomes.includes('aborted')) return abandoned();
    const failed = commands.findIndex((_, i) => outcomes[i] !== 'ok');
    const command = commands[failed];
    const outcome = outcomes[failed];
    if (command !== undefined && outcome !== undefined && outcome !== 'ok' && outcome !== 'aborted') {
      const others = outcomes.filter((o) => o !== 'ok').length - 1;
      log.error({ reason: outcome.reason, attempts: job.commands.filter((c) => c.command === command.name).length }, `Failed job ${job.id}: ${outcome.message}`);
      return end('failed', `${command.name}: ${outcome.message} (${outcome.reason})${others > 0 ? ` (and ${others} more of its ${commands.length} calls failed)` : ''}`);
    }
  } else {
    for (const command of commands) {
      const outcome = await run(command);
      if (outcome === 'aborted') return abandoned();
      if (outcome !== 'ok') {
        log.error({ reason: outcome.reason, attempts: job.commands.filter((c) => c.command === command.name).length }, `Failed job ${job.id}: ${outcome.message}`);
        return end('failed', `${command.name}: ${outcome.message} (${outcome.reason})`);
      }
    }
  }
  if (ctx.onSucceeded !== undefined) {
    try {
      await ctx.onSucceeded(job);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(`Failed job ${job.id} after its calls succeeded: ${message}`);
      return end('failed', `the step succeeded, but recording its effect failed: ${message}`);
    }
  }
  log.info(`Finished job ${job.id}: ${job.intent}`);
  return end('succeeded');
}

/** Calls `command` until it succeeds, fails terminally, runs out of attempts, or the caller aborts. */
async function runCommand(
  command: Command,
  kind: StepKind,
  job: Job,
  ctx: ExecuteContext,
  options: ResolvedExecutorOptions,
  stamp: () => string,
  record: () => Promise<void>,
  log: Logger,
): Promise<'ok' | 'aborted' | AgentCallError> {
  const signal = ctx.signal;
  for (let attempt = 1; ; attempt++) {
    if (aborted(signal)) return 'aborted';
    const startedAt = stamp();
    job.stages.executed ??= startedAt;
    let entry: JobCommand;
    let failure: AgentCallError | undefined;
    try {
      const output = await command.run({ provider: ctx.provider, clock: ctx.clock, deadlineMs: options.deadlinesMs[kind], signal });
      entry = { command: command.name, attempt, startedAt, endedAt: stamp(), result: 'ok', output };
    } catch (err) {
      if (aborted(signal)) return 'aborted';
      failure = asAgentCallError(err);
      entry = {
        command: command.name,
        attempt,
        startedAt,
        endedAt: stamp(),
        result: failure.kind === 'transient' ? 'transient-error' : 'terminal-error',
        output: failure.message,
        reason: failure.reason,
      };
    }
    job.commands.push(entry);
    await record();
    if (failure === undefined) return 'ok';
    // An agent that cannot be reached (its client already tried for seconds) does not
    // run: the job ends, so that the next plan can start it again, rather than holding its
    // batch — and that repair — for the whole retry budget (about 30 s, seen in the crash test).
    if (failure.kind === 'terminal' || failure.reason === AGENT_UNREACHABLE || attempt >= options.maxAttempts) return failure;
    const delayMs = retryDelay(options.retryDelaysMs, attempt);
    log.warn(
      { reason: failure.reason, attempt, delayMs },
      `Scheduled another try of ${command.name} in ${delayMs} ms (attempt ${attempt + 1} of ${options.maxAttempts}) after it failed: ${failure.message}`,
    );
    try {
      await ctx.clock.sleep(delayMs, signal);
    } catch {
      return 'aborted';
    }
  }
}

/**
 * Carries out a batch (Plan.next): every step at once, each its own job — except planned
 * failovers, which run one after the other (alongside the rest). Redis Cluster promotes
 * a replica with the votes of the primaries, one vote per primary and epoch: two manual
 * failovers started at the same moment ask for the same epoch, one loses, and its old
 * primary keeps its clients' writes paused until the manual failover times out (5 s) —
 * client errors in a rolling restart, seen end to end (test/e2e/lifecycle.test.ts). One
 * failover takes well under a second. Jobs come back in the order of `steps`. Rejects
 * after all ended if a journal write failed.
 */
export async function executeBatch(steps: readonly PlannedStep[], ctx: ExecuteContext): Promise<Job[]> {
  const failovers = steps.filter((s) => s.step.kind === 'failover');
  const oneByOne = (async (): Promise<PromiseSettledResult<Job>[]> => {
    const out: PromiseSettledResult<Job>[] = [];
    for (const s of failovers) out.push(...(await Promise.allSettled([executeStep(s, ctx)])));
    return out;
  })();
  const atOnce = Promise.allSettled(steps.filter((s) => s.step.kind !== 'failover').map((s) => executeStep(s, ctx)));
  const [inTurn, together] = await Promise.all([oneByOne, atOnce]);
  const settled = steps.map((s) => (s.step.kind === 'failover' ? inTurn.shift() : together.shift()) as PromiseSettledResult<Job>);
  const jobs: Job[] = [];
  for (const r of settled) {
    if (r.status === 'rejected') throw r.reason;
    jobs.push(r.value);
  }
  return jobs;
}

/** Stamps a succeeded job committed (its effect is visible) and records it. */
export async function commitJob(journal: Journal, job: Job, clock: Clock): Promise<Job> {
  // Only the stages change; the journal keeps its own copy of the rest.
  const committed: Job = { ...job, stages: { ...job.stages, committed: job.stages.committed ?? new Date(clock.now()).toISOString() } };
  await journal.record(committed);
  return committed;
}
