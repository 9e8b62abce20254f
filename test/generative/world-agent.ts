// The agent's contract (AgentPort) in front of the simulated world, for one VM and one
// leader. It behaves like the real agent behind the real client, on virtual time:
//   - a call to an agent that is down fails UNAVAILABLE;
//   - the epoch fence: a lower epoch than the agent has seen → StaleLeaderError, no effect;
//   - idempotency: a repeated key returns the recorded outcome (successes and terminal
//     errors) without running again; a duplicate that arrives while the first copy runs
//     waits for its outcome; the same key with another request is INVALID_ARGUMENT;
//   - every call takes virtual time; past its deadline the caller gets
//     DEADLINE_EXCEEDED and the agent drops the work (unless a fault says the effect
//     happened anyway), and a caller's abort cancels it the same way;
//   - a call that spans an agent restart or crash fails UNAVAILABLE, without effect.
// The fault injector decides, per call, the failures, time-outs, duplicates and delays;
// which calls succeed without a visible effect (invisible-effects.ts); which call hangs
// until the caller cancels it, and which agents die when a call to them is cancelled.
import type { AgentCallOptions, AgentPort } from '../../operator/ports/agent-port.ts';
import { canonicalJson } from '../../common/canonical-json.ts';
import { isMutating, type DecodedResponseOf, type RequestOf, type UnaryMethod } from '../../proto/methods.ts';
import {
  AGENT_UNREACHABLE,
  AgentCallError,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  UnavailableError,
  asAgentCallError,
} from '../../proto/status.ts';
import type { CallDecision, FaultInjector } from './faults.ts';
import type { Oracle } from './oracle.ts';
import { canBeInvisible, invisibleEffect } from './invisible-effects.ts';
import type { SimClock } from './sim-clock.ts';
import type { Caller, RecordedOutcome, SimVm, World } from './world.ts';

/** What every simulated agent and provider of one scenario share. */
export interface SimContext {
  world: World;
  clock: SimClock;
  faults: FaultInjector;
  /** Called as each mutating agent call starts, with its ordinal (triggers for crashes, restarts, offers). */
  onMutatingCall: (ordinal: number) => void;
  /** The independent oracle (oracle.ts): sees every call an agent or the provider accepts and judges every effect; absent: the old checks only. */
  oracle?: Oracle;
}

/** Virtual one-way network time, ms. */
export const NET_MS = 1;
/** The client's default deadline, as AgentClient's. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** Virtual processing time of each RPC, ms (roughly the real agent's order of magnitude). */
const PROCESSING_MS: Readonly<Record<UnaryMethod, number>> = {
  GetState: 2,
  EnsureVersion: 50,
  StartDataNode: 30,
  StopDataNode: 20,
  JoinNode: 100,
  RemoveNode: 50,
  ForgetNode: 10,
  Failover: 300,
  MoveData: 400,
  CreateBackup: 300,
  RestoreBackup: 1000,
  DeleteBackup: 20,
  ListBackups: 5,
  ConfigureDataNode: 10,
};

export class WorldAgent implements AgentPort {
  readonly endpoint: string;
  readonly #ctx: SimContext;
  readonly #vmId: string;
  readonly #caller: Caller;

  constructor(ctx: SimContext, vmId: string, endpoint: string, caller: Caller) {
    this.#ctx = ctx;
    this.#vmId = vmId;
    this.endpoint = endpoint;
    this.#caller = caller;
  }

  getState(request: RequestOf<'GetState'> = {}, options?: AgentCallOptions): Promise<DecodedResponseOf<'GetState'>> {
    return this.#call('GetState', request, options, (vm) => this.#ctx.world.getState(vm));
  }
  ensureVersion(request: RequestOf<'EnsureVersion'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'EnsureVersion'>> {
    return this.#call('EnsureVersion', request, options, (vm) => this.#ctx.world.ensureVersion(vm, request));
  }
  startDataNode(request: RequestOf<'StartDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'StartDataNode'>> {
    return this.#call('StartDataNode', request, options, (vm) => this.#ctx.world.startDataNode(vm, request));
  }
  stopDataNode(request: RequestOf<'StopDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'StopDataNode'>> {
    return this.#call('StopDataNode', request, options, (vm) => this.#ctx.world.stopDataNode(vm, request));
  }
  joinNode(request: RequestOf<'JoinNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'JoinNode'>> {
    return this.#call('JoinNode', request, options, (vm) => this.#ctx.world.joinNode(vm, request));
  }
  removeNode(request: RequestOf<'RemoveNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'RemoveNode'>> {
    return this.#call('RemoveNode', request, options, (vm) => this.#ctx.world.removeNode(vm, request));
  }
  forgetNode(request: RequestOf<'ForgetNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'ForgetNode'>> {
    return this.#call('ForgetNode', request, options, (vm) => this.#ctx.world.forgetNode(vm, request));
  }
  failover(request: RequestOf<'Failover'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'Failover'>> {
    return this.#call('Failover', request, options, (vm) => this.#ctx.world.failover(vm, request));
  }
  moveData(request: RequestOf<'MoveData'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'MoveData'>> {
    return this.#call('MoveData', request, options, (vm) => this.#ctx.world.moveData(vm, request));
  }
  createBackup(request: RequestOf<'CreateBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'CreateBackup'>> {
    return this.#call('CreateBackup', request, options, (vm) => this.#ctx.world.createBackup(vm, request));
  }
  restoreBackup(request: RequestOf<'RestoreBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'RestoreBackup'>> {
    return this.#call('RestoreBackup', request, options, (vm) => this.#ctx.world.restoreBackup(vm, request));
  }
  deleteBackup(request: RequestOf<'DeleteBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'DeleteBackup'>> {
    return this.#call('DeleteBackup', request, options, (vm) => this.#ctx.world.deleteBackup(vm, request));
  }
  listBackups(request: RequestOf<'ListBackups'> = {}, options?: AgentCallOptions): Promise<DecodedResponseOf<'ListBackups'>> {
    return this.#call('ListBackups', request, options, () => this.#ctx.world.listBackups(request));
  }
  configureDataNode(request: RequestOf<'ConfigureDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'ConfigureDataNode'>> {
    return this.#call('ConfigureDataNode', request, options, (vm) => this.#ctx.world.configureDataNode(vm, request));
  }

  close(): void {
    // Nothing to release: the world is in memory.
  }

  // ---- the call pipeline ----------------------------------------------------------

  async #call<M extends UnaryMethod>(
    method: M,
    request: RequestOf<M>,
    options: AgentCallOptions | undefined,
    effect: (vm: SimVm) => DecodedResponseOf<M>,
  ): Promise<DecodedResponseOf<M>> {
    const { world, clock, faults } = this.#ctx;
    const signal = options?.signal;
    if (signal?.aborted === true) throw this.#cancelled(method);
    const deadlineMs = options?.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const mutating = isMutating(method);
    let decision: CallDecision = {};
    let key = '';
    if (mutating) {
      key = options?.idempotencyKey ?? `auto-${++world.autoKeys}`;
      const ordinal = ++world.mutatingCalls;
      decision = faults.mutatingCall(ordinal, method, this.#vmId, key);
      this.#ctx.onMutatingCall(ordinal);
      if (decision.duplicateAfterMs !== undefined) {
        // The network delivers the same request (same key) once more; nobody reads the answer.
        clock.schedule(decision.duplicateAfterMs, () => {
          this.#serve(method, request, key, {}, DEFAULT_DEADLINE_MS, effect, undefined).catch(() => undefined);
        });
      }
    } else if (method === 'GetState') {
      const readFault = faults.read(++world.reads, this.#vmId);
      if (readFault !== undefined) {
        await clock.sleep(2 * NET_MS);
        throw readFault;
      }
    }

    try {
      return await this.#serve(method, request, key, decision, deadlineMs, effect, signal);
    } catch (err) {
      if (signal !== undefined && isAborted(signal) && err === signal.reason) throw this.#cancelled(method);
      throw err;
    }
  }

  /**
   * One delivery of a request to the agent, until its answer is back at the caller. The
   * agent checks the call as it arrives; the effect happens when the processing time
   * has passed (one virtual-time wait per call, network included). A call whose work
   * would outlast its deadline is dropped by the agent at the deadline, without effect.
   */
  async #serve<M extends UnaryMethod>(
    method: M,
    request: RequestOf<M>,
    key: string,
    decision: CallDecision,
    deadlineMs: number,
    effect: (vm: SimVm) => DecodedResponseOf<M>,
    signal: AbortSignal | undefined,
  ): Promise<DecodedResponseOf<M>> {
    const { world, clock } = this.#ctx;
    const mutating = isMutating(method);
    const vm = world.vm(this.#vmId);
    if (vm === undefined || !vm.agentUp) {
      await clock.sleep(2 * NET_MS, signal);
      throw new UnavailableError(`${method} on ${this.endpoint}: connection refused (the agent does not run)`, { reason: AGENT_UNREACHABLE });
    }
    world.agentFence(vm, this.#caller, method, mutating);
    this.#ctx.oracle?.reached(this.#vmId, this.#caller, method, mutating);
    const incarnation = vm.agentIncarnation;

    if (!mutating) {
      await clock.sleep(2 * NET_MS + PROCESSING_MS[method], signal);
      this.#checkAgentSurvived(vm, incarnation, method);
      return effect(vm);
    }

    const hash = `${method} ${canonicalJson(request)}`;
    const recorded = vm.idempotency.get(key);
    if (recorded !== undefined) {
      if (recorded.hash !== hash) {
        throw new InvalidArgumentError(
          'coxswain-idempotency-key',
          `idempotency key reused for a different request (key ${JSON.stringify(key)} was first used for another ${method} request)`,
        );
      }
      await clock.sleep(2 * NET_MS + PROCESSING_MS.GetState, signal);
      return replay(recorded.outcome) as DecodedResponseOf<M>;
    }
    const running = vm.inflight.get(key);
    if (running !== undefined) return replay(await running) as DecodedResponseOf<M>;

    if (decision.fail !== undefined) {
      const error = decision.fail;
      if (error.kind === 'terminal') vm.idempotency.set(key, { hash, outcome: { ok: false, error } });
      await clock.sleep(2 * NET_MS, signal);
      throw error;
    }

    let settle: (o: RecordedOutcome) => void = () => undefined;
    vm.inflight.set(key, new Promise<RecordedOutcome>((resolve) => (settle = resolve)));
    const deadlineError = (): DeadlineExceededError =>
      new DeadlineExceededError(`${method} on ${this.endpoint}: no answer within the deadline of ${deadlineMs} ms`);
    try {
      const took = 2 * NET_MS + PROCESSING_MS[method] + (decision.slowMs ?? 0);
      if (decision.timeout !== undefined) {
        // The answer is lost: the caller waits out its deadline; the effect happened or not.
        if (decision.timeout.effect && took < deadlineMs) {
          await clock.sleep(took);
          try {
            this.#apply(vm, incarnation, method, key, hash, this.#effectOf(method, request, decision, effect));
          } catch {
            // The agent refused; the answer is lost all the same.
          }
          await clock.sleep(deadlineMs - took, signal);
        } else await clock.sleep(deadlineMs, signal);
        throw deadlineError();
      }
      if (took > deadlineMs || decision.hangs === true) {
        await this.#cancellable(vm, clock.sleep(deadlineMs, signal), signal);
        this.#diesIfFaulty(vm, `${method} passed its deadline`);
        throw deadlineError();
      }
      await this.#cancellable(vm, clock.sleep(took, signal), signal);
      const response = this.#apply(vm, incarnation, method, key, hash, this.#effectOf(method, request, decision, effect));
      settle({ ok: true, response });
      return response;
    } catch (err) {
      settle({ ok: false, error: err instanceof Error ? err : asAgentCallError(err) });
      throw err;
    } finally {
      vm.inflight.delete(key);
    }
  }

  /** The effect to apply: the world's, or (an 'effect-invisible' fault) a success the world never shows. */
  #effectOf<M extends UnaryMethod>(method: M, request: RequestOf<M>, decision: CallDecision, effect: (vm: SimVm) => DecodedResponseOf<M>): (vm: SimVm) => DecodedResponseOf<M> {
    if (decision.invisible !== true || !canBeInvisible(method)) return effect;
    const { world, faults } = this.#ctx;
    return (vm) => {
      const response = invisibleEffect(method, world, vm, request as RequestOf<typeof method>) as DecodedResponseOf<M>;
      const jobId = (request as { job?: { jobId?: string } | null }).job?.jobId;
      if (jobId !== undefined && jobId !== '') faults.invisibleJobs.add(jobId);
      return response;
    };
  }

  /** Waits for `wait`; when the caller aborts it, the agent of an 'agent-dies-on-cancel' fault dies. */
  async #cancellable(vm: SimVm, wait: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    try {
      await wait;
    } catch (err) {
      if (signal !== undefined && isAborted(signal)) this.#diesIfFaulty(vm, 'the caller cancelled a call');
      throw err;
    }
  }

  /** A mutating call to `vm` was cancelled: its agent dies if a fault says it does. */
  #diesIfFaulty(vm: SimVm, why: string): void {
    const { world, faults } = this.#ctx;
    if (!vm.agentUp || world.vm(this.#vmId) !== vm || !faults.diesOnCancel(this.#vmId)) return;
    world.note(`${why}: the agent of ${this.#vmId} dies with it (agent-dies-on-cancel)`);
    world.crashAgent(this.#vmId);
  }

  /** Applies the effect if the agent still runs as when the call arrived, and records the outcome. */
  #apply<M extends UnaryMethod>(
    vm: SimVm,
    incarnation: number,
    method: M,
    key: string,
    hash: string,
    effect: (vm: SimVm) => DecodedResponseOf<M>,
  ): DecodedResponseOf<M> {
    if (vm.agentIncarnation !== incarnation || !vm.agentUp || this.#ctx.world.vm(this.#vmId) !== vm) {
      throw new UnavailableError(`${method} on ${this.endpoint}: the agent stopped while the call ran`);
    }
    try {
      const oracle = this.#ctx.oracle;
      const response = oracle === undefined ? effect(vm) : oracle.around({ caller: this.#caller, method, vmId: this.#vmId }, () => effect(vm));
      vm.idempotency.set(key, { hash, outcome: { ok: true, response } });
      return response;
    } catch (err) {
      if (err instanceof AgentCallError && err.kind === 'terminal') vm.idempotency.set(key, { hash, outcome: { ok: false, error: err } });
      throw err;
    }
  }

  #checkAgentSurvived(vm: SimVm, incarnation: number, method: string): void {
    if (!vm.agentUp || vm.agentIncarnation !== incarnation || this.#ctx.world.vm(this.#vmId) !== vm) {
      throw new UnavailableError(`${method} on ${this.endpoint}: the agent stopped while the call ran`);
    }
  }

  #cancelled(method: string): CancelledError {
    return new CancelledError(`${method} on ${this.endpoint} was cancelled by the caller`);
  }
}

/** Read through a call, so a check made before an await does not narrow it. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function replay(outcome: RecordedOutcome): unknown {
  if (outcome.ok) return structuredClone(outcome.response);
  throw outcome.error;
}
