// The reconciler's options: what it is given (the cluster's ports) and how it paces
// itself. One function validates them once, at construction, and fills in the
// documented defaults, so a bad value is a clear error at start-up rather than a strange
// loop later.
import { pino, type Logger } from 'pino';
import type { DesiredStateHistory } from '../../desired-state/history.ts';
import type { Desired } from '../../desired-state/types.ts';
import type { ObservedCluster } from '../model/observed.ts';
import type { Plan, StepKind } from '../model/step.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import type { Journal } from '../ports/journal.ts';
import type { VmProvider } from '../ports/vm-provider.ts';
import { plan } from '../planner/plan.ts';
import { resolveExecutorOptions, type ResolvedExecutorOptions } from '../executor/execute-step.ts';
import type { FactsStore } from '../executor/facts-store.ts';

/** plan(desired, observed): pure, the next batch of steps. */
export type Planner = (desired: Desired, observed: ObservedCluster) => Plan;

export interface ReconcilerOptions {
  /** The cluster's name, on every log line and in status(). */
  cluster: string;
  /** The accepted desired states. */
  history: DesiredStateHistory;
  provider: VmProvider;
  journal: Journal;
  facts: FactsStore;
  /** The leader's fencing epoch, recorded in every job. */
  epoch: number;
  /** @default systemClock */
  clock?: Clock;
  /** @default a silent logger */
  logger?: Logger;
  /** @default the real planner (operator/planner/plan.ts); injectable so tests can plant bugs */
  planner?: Planner;
  /**
   * Failed jobs of one step (the same describeStep text, across reconcile passes) before
   * ERROR_STATE. Each job already retried transient errors (maxCallAttempts calls); the
   * count restarts when the step succeeds or a newer desired state is accepted.
   * @default 5
   */
  maxAttempts?: number;
  /** Calls of one command within a job (the first included) before the job fails. @default 5 */
  maxCallAttempts?: number;
  /** Delays between calls of a failing command, and before a failed step is tried again by a new job, in ms; the last repeats. @default [1000, 2000, 5000] */
  retryDelaysMs?: readonly number[];
  /** Deadline of one call, per kind of step, in ms. @default DEFAULT_DEADLINES_MS of operator/executor/commands.ts */
  deadlinesMs?: Partial<Record<StepKind, number>>;
  /** How often it observes while nothing is to be done (at rest, in ERROR_STATE, or waiting), in ms. @default 1000 */
  observeIntervalMs?: number;
  /** How soon it observes again after a batch, and then how often, until the batch's effects are visible, in ms. @default 100 */
  settleIntervalMs?: number;
  /**
   * How long it waits for a batch's effects to become visible before planning anyway, in
   * ms, for steps whose effect spreads through the cluster (joins, failovers, moves,
   * removals, VMs and agents coming up). A succeeded step whose effect is still not
   * visible then counts as a failed attempt of that step. @default 30000
   */
  settleTimeoutMs?: number;
  /**
   * The same for steps whose effect the agent has made before it answers (a backup
   * written, a node started, stopped or configured, a version installed, a restore):
   * if it is not visible this soon, it is not coming. Capped by settleTimeoutMs. @default 5000
   */
  quickSettleTimeoutMs?: number;
  /** How long the plan may wait without any step to take before ERROR_STATE "stuck waiting for …", in ms. @default 600000 */
  stuckTimeoutMs?: number;
  /** Deadline of each GetState / ListBackups call of an observation, in ms. @default 2000 */
  observeDeadlineMs?: number;
  /** How long a newly created VM whose agent does not answer yet counts as 'creating' (waited for) rather than broken, in ms. @default 60000 */
  createGraceMs?: number;
  /**
   * The directory a relative local backup sink path is relative to: the state directory
   * (operator/observe/labels.ts resolveSinkPath). @default none: such paths are sent as
   * given, and agents refuse them
   */
  sinkBaseDir?: string;
}

export interface ResolvedReconcilerOptions {
  cluster: string;
  history: DesiredStateHistory;
  provider: VmProvider;
  journal: Journal;
  facts: FactsStore;
  epoch: number;
  clock: Clock;
  logger: Logger;
  planner: Planner;
  maxAttempts: number;
  retryDelaysMs: readonly number[];
  executor: ResolvedExecutorOptions;
  observeIntervalMs: number;
  settleIntervalMs: number;
  settleTimeoutMs: number;
  quickSettleTimeoutMs: number;
  stuckTimeoutMs: number;
  observeDeadlineMs: number;
  createGraceMs: number;
  sinkBaseDir: string | undefined;
}

/** Options that do not hold, every problem listed. */
export class ReconcilerOptionsError extends Error {
  override name = 'ReconcilerOptionsError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid reconciler options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Validates the options once and fills in the defaults. */
export function resolveReconcilerOptions(o: ReconcilerOptions): ResolvedReconcilerOptions {
  const problems: string[] = [];
  if (typeof o.cluster !== 'string' || o.cluster === '') problems.push('cluster: required, the cluster name');
  for (const key of ['history', 'provider', 'journal', 'facts'] as const) {
    if (o[key] === undefined || o[key] === null) problems.push(`${key}: required`);
  }
  if (!Number.isSafeInteger(o.epoch) || o.epoch < 0) problems.push(`epoch: must be an integer ≥ 0 (got ${o.epoch})`);
  const positive = (name: string, value: number): number => {
    if (!Number.isFinite(value) || value <= 0) problems.push(`${name}: must be a positive number (got ${value})`);
    return value;
  };
  const maxAttempts = o.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) problems.push(`maxAttempts: must be an integer ≥ 1 (got ${maxAttempts})`);
  const retryDelaysMs = o.retryDelaysMs ?? [1000, 2000, 5000];
  let executor: ResolvedExecutorOptions | undefined;
  try {
    executor = resolveExecutorOptions({
      retryDelaysMs,
      maxAttempts: o.maxCallAttempts ?? 5,
      ...(o.deadlinesMs === undefined ? {} : { deadlinesMs: o.deadlinesMs }),
    });
  } catch (err) {
    const inner = (err as { problems?: readonly string[] }).problems ?? [String(err)];
    problems.push(...inner.map((p) => (p.startsWith('maxAttempts') ? p.replace('maxAttempts', 'maxCallAttempts') : p)));
  }
  const resolved = {
    observeIntervalMs: positive('observeIntervalMs', o.observeIntervalMs ?? 1000),
    settleIntervalMs: positive('settleIntervalMs', o.settleIntervalMs ?? 100),
    settleTimeoutMs: positive('settleTimeoutMs', o.settleTimeoutMs ?? 30_000),
    quickSettleTimeoutMs: positive('quickSettleTimeoutMs', o.quickSettleTimeoutMs ?? 5000),
    stuckTimeoutMs: positive('stuckTimeoutMs', o.stuckTimeoutMs ?? 600_000),
    observeDeadlineMs: positive('observeDeadlineMs', o.observeDeadlineMs ?? 2000),
    createGraceMs: positive('createGraceMs', o.createGraceMs ?? 60_000),
  };
  resolved.quickSettleTimeoutMs = Math.min(resolved.quickSettleTimeoutMs, resolved.settleTimeoutMs);
  if (problems.length > 0 || executor === undefined) throw new ReconcilerOptionsError(problems);
  return {
    cluster: o.cluster,
    history: o.history,
    provider: o.provider,
    journal: o.journal,
    facts: o.facts,
    epoch: o.epoch,
    clock: o.clock ?? systemClock,
    logger: (o.logger ?? pino({ level: 'silent' })).child({ cluster: o.cluster }),
    planner: o.planner ?? plan,
    sinkBaseDir: o.sinkBaseDir,
    maxAttempts,
    retryDelaysMs: executor.retryDelaysMs,
    executor,
    ...resolved,
  };
}
