// The agent's contract (AgentPort) in front of the simulated world, for one VM and one
// leader: the network between the leader and the VM's agent, and the faults of both.
// Behind it runs the REAL agent core — the production epoch fence, idempotency store and
// request validation (sim-agent.ts, over the world's backend) — so retries, duplicates
// and stale leaders meet the production code. What this transport adds is what the
// network and the machines do:
//   - a call to an agent that is down fails UNAVAILABLE;
//   - the request reaches the agent as the agent decodes it (encoded, then decoded);
//   - every call has a deadline on virtual time: past it the caller gets
//     DEADLINE_EXCEEDED and the agent's work is aborted (the core's signal), unless a
//     fault says the effect happened anyway and only the answer was lost; a caller's abort
//     cancels it the same way;
//   - a call that spans an agent restart or crash fails UNAVAILABLE (an answer from a
//     process that died never leaves the VM);
//   - the faults per call: failures, time-outs, duplicates (the same request and key
//     delivered once more), delays, effects that never show (invisible-effects.ts), calls
//     that hang until the caller cancels them and agents that die then, malformed copies
//     (malformed.ts) and other requests under a key in use, none of which anybody waits for.
// At the seam, the world checks the agent's contract (agent-contract.ts).
import type { AgentCallOptions, AgentPort } from '../../operator/ports/agent-port.ts';
import { canonicalJson } from '../../common/canonical-json.ts';
import type { AgentCore, CallResult } from '../../agent/server/agent-core.ts';
import { loadAgentProto } from '../../proto/load.ts';
import { isMutating, type DecodedRequestOf, type DecodedResponseOf, type MutatingMethod, type RequestOf, type UnaryMethod } from '../../proto/methods.ts';
import { AGENT_UNREACHABLE, CancelledError, DeadlineExceededError, UnavailableError, asAgentCallError } from '../../proto/status.ts';
import { admitted, answered, keyInUse, type Answer } from './agent-contract.ts';
import type { CallDecision, FaultInjector } from './faults.ts';
import { malformed } from './malformed.ts';
import type { Oracle } from './oracle.ts';
import { NET_MS, SILENT_LOGGER, agentProcess, deliverUnder, type AgentCode, type Delivery } from './sim-agent.ts';
import type { VirtualClock } from '../support/virtual-clock.ts';
import type { Caller, World } from './world.ts';

/** What every simulated agent and provider of one scenario share. */
export interface SimContext {
  world: World;
  clock: VirtualClock;
  faults: FaultInjector;
  /** Called as each mutating agent call starts, with its ordinal (triggers for crashes, restarts, offers). */
  onMutatingCall: (ordinal: number) => void;
  /** The independent oracle (oracle.ts): sees every call an agent or the provider accepts and judges every effect; absent: the old checks only. */
  oracle?: Oracle;
  /** The agent code the simulated agents run. @default the production code (sim-agent.ts) */
  agentCode?: AgentCode;
}

export { NET_MS };
/** The client's default deadline, as AgentClient's. */
export const DEFAULT_DEADLINE_MS = 30_000;

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
    return this.#call('GetState', request, options);
  }
  ensureVersion(request: RequestOf<'EnsureVersion'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'EnsureVersion'>> {
    return this.#call('EnsureVersion', request, options);
  }
  startDataNode(request: RequestOf<'StartDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'StartDataNode'>> {
    return this.#call('StartDataNode', request, options);
  }
  stopDataNode(request: RequestOf<'StopDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'StopDataNode'>> {
    return this.#call('StopDataNode', request, options);
  }
  joinNode(request: RequestOf<'JoinNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'JoinNode'>> {
    return this.#call('JoinNode', request, options);
  }
  removeNode(request: RequestOf<'RemoveNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'RemoveNode'>> {
    return this.#call('RemoveNode', request, options);
  }
  forgetNode(request: RequestOf<'ForgetNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'ForgetNode'>> {
    return this.#call('ForgetNode', request, options);
  }
  failover(request: RequestOf<'Failover'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'Failover'>> {
    return this.#call('Failover', request, options);
  }
  moveData(request: RequestOf<'MoveData'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'MoveData'>> {
    return this.#call('MoveData', request, options);
  }
  createBackup(request: RequestOf<'CreateBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'CreateBackup'>> {
    return this.#call('CreateBackup', request, options);
  }
  restoreBackup(request: RequestOf<'RestoreBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'RestoreBackup'>> {
    return this.#call('RestoreBackup', request, options);
  }
  deleteBackup(request: RequestOf<'DeleteBackup'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'DeleteBackup'>> {
    return this.#call('DeleteBackup', request, options);
  }
  listBackups(request: RequestOf<'ListBackups'> = {}, options?: AgentCallOptions): Promise<DecodedResponseOf<'ListBackups'>> {
    return this.#call('ListBackups', request, options);
  }
  configureDataNode(request: RequestOf<'ConfigureDataNode'>, options?: AgentCallOptions): Promise<DecodedResponseOf<'ConfigureDataNode'>> {
    return this.#call('ConfigureDataNode', request, options);
  }

  close(): void {
    // Nothing to release: the world is in memory.
  }

  // ---- the call pipeline ----------------------------------------------------------

  async #call<M extends UnaryMethod>(method: M, request: RequestOf<M>, options: AgentCallOptions | undefined): Promise<DecodedResponseOf<M>> {
    const { world, clock, faults } = this.#ctx;
    const signal = options?.signal;
    if (signal?.aborted === true) throw this.#cancelled(method);
    const deadlineMs = options?.deadlineMs ?? DEFAULT_DEADLINE_MS;
    let decision: CallDecision = {};
    let key = '';
    if (isMutating(method)) {
      key = options?.idempotencyKey ?? `auto-${++world.autoKeys}`;
      const ordinal = ++world.mutatingCalls;
      decision = faults.mutatingCall(ordinal, method, this.#vmId, key);
      this.#ctx.onMutatingCall(ordinal);
      this.#strays(method, request, key, decision);
    } else if (method === 'GetState') {
      const readFault = faults.read(++world.reads, this.#vmId);
      if (readFault !== undefined) {
        await clock.sleep(2 * NET_MS, signal);
        throw readFault;
      }
    }
    try {
      return await this.#deliver(method, request, key, decision, deadlineMs, signal);
    } catch (err) {
      if (signal !== undefined && isAborted(signal) && !(err instanceof CancelledError)) throw this.#cancelled(method);
      throw err;
    }
  }

  /** The copies the network (or a confused client) delivers besides the call itself; nobody reads their answers. */
  #strays<M extends MutatingMethod>(method: M, request: RequestOf<M>, key: string, decision: CallDecision): void {
    const { world, clock } = this.#ctx;
    const forget = (p: Promise<unknown>): void => {
      p.catch(() => undefined);
    };
    if (decision.duplicateAfterMs !== undefined) {
      // The same request with the same key, once more.
      clock.schedule(decision.duplicateAfterMs, () => forget(this.#deliver(method, request, key, {}, DEFAULT_DEADLINE_MS, undefined)));
    }
    const broken = decision.malformed;
    if (broken !== undefined) {
      clock.schedule(broken.afterMs, () => {
        const copy = malformed(method, request, broken.pick);
        if (copy === undefined) return;
        world.note(`a malformed copy of ${method} to ${this.#vmId} (${copy.field}) arrives`);
        forget(this.#deliver(method, copy.request, `${key}~malformed~${++world.autoKeys}`, {}, DEFAULT_DEADLINE_MS, undefined, 'malformed'));
      });
    }
    const reuseAfterMs = decision.reuseKeyAfterMs;
    if (reuseAfterMs !== undefined) {
      clock.schedule(reuseAfterMs, () => {
        const vm = world.vm(this.#vmId);
        // Only while the key is in use: a key whose work never ran (or failed transiently) is free again.
        if (vm === undefined || !keyInUse(vm, key)) return;
        const job = (request as { job?: { jobId?: string; stepId?: string } | null }).job ?? {};
        const other = { ...request, job: { ...job, stepId: `${job.stepId ?? ''}~another-step` } };
        world.note(`another ${method} request under key ${key} arrives at ${this.#vmId}`);
        forget(this.#deliver(method, other, key, {}, DEFAULT_DEADLINE_MS, undefined, 'reused-key'));
      });
    }
  }

  /**
   * One delivery of a request to the agent, until its answer is back at the caller: the
   * real core admits and runs it as the agent process that runs now; the call's deadline
   * and the caller's abort become the core's signal.
   */
  async #deliver<M extends UnaryMethod>(
    method: M,
    request: RequestOf<M>,
    key: string,
    decision: CallDecision,
    deadlineMs: number,
    signal: AbortSignal | undefined,
    stray?: Delivery['stray'],
  ): Promise<DecodedResponseOf<M>> {
    const { world, clock } = this.#ctx;
    const vm = world.vm(this.#vmId);
    if (vm === undefined || !vm.agentUp) {
      await clock.sleep(2 * NET_MS, signal);
      throw new UnavailableError(`${method} on ${this.endpoint}: connection refused (the agent does not run)`, { reason: AGENT_UNREACHABLE });
    }
    const process = agentProcess(this.#ctx, vm);
    const decoded = decodeRequest(method, request);
    const d: Delivery = {
      method,
      caller: this.#caller,
      vm,
      incarnation: process.incarnation,
      key,
      request: `${method} ${canonicalJson(decoded)}`,
      decision,
      ...(stray === undefined ? {} : { stray }),
      reached: false,
    };
    const started = clock.now();
    const controller = new AbortController();
    const deadlineError = (): DeadlineExceededError =>
      new DeadlineExceededError(`${method} on ${this.endpoint}: no answer within the deadline of ${deadlineMs} ms`);
    const cancelDeadline = clock.schedule(deadlineMs, () => controller.abort(deadlineError()));
    const onAbort = (): void => controller.abort(this.#cancelled(method));
    signal?.addEventListener('abort', onAbort, { once: true });
    deliverUnder(controller.signal, d);
    try {
      let answer: Answer;
      let result: CallResult<M> | undefined;
      try {
        const core: AgentCore = await process.core;
        // The two steps the gRPC service takes (agent/server/service.ts), so the world sees the
        // order in which the fence lets calls in.
        const call = await core.admit(
          method,
          decoded,
          { epoch: String(this.#caller.epoch), idempotencyKey: key === '' ? undefined : key },
          { signal: controller.signal, deadline: new Date(started + deadlineMs), logger: SILENT_LOGGER },
        );
        admitted(world, d, call.ctx.epoch);
        result = await core.run(call);
        answer = { ok: true, response: result.response };
      } catch (err) {
        answer = { ok: false, error: asAgentCallError(err) };
      }
      const alive = process.alive();
      if (key !== '') answered(world, d, answer, alive);
      if (decision.timeout !== undefined && !controller.signal.aborted) {
        // The answer is lost: the caller waits out its deadline.
        await clock.sleep(started + deadlineMs - clock.now(), signal);
        throw deadlineError();
      }
      if (!answer.ok) throw answer.error;
      if (!alive) throw new UnavailableError(`${method} on ${this.endpoint}: the agent stopped while the call ran`);
      // Each caller decodes its own copy; a replay shares the recorded object.
      return result?.replayed === true ? structuredClone(answer.response as DecodedResponseOf<M>) : (answer.response as DecodedResponseOf<M>);
    } finally {
      cancelDeadline();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #cancelled(method: string): CancelledError {
    return new CancelledError(`${method} on ${this.endpoint} was cancelled by the caller`);
  }
}

/** The request as the agent decodes it: encoded and decoded with the loader's options (proto/load.ts), as over the wire. */
function decodeRequest<M extends UnaryMethod>(method: M, request: RequestOf<M>): DecodedRequestOf<M> {
  const def = loadAgentProto().agentService[method] as unknown as {
    requestSerialize(value: RequestOf<M>): Buffer;
    requestDeserialize(bytes: Buffer): DecodedRequestOf<M>;
  };
  return def.requestDeserialize(def.requestSerialize(request));
}

/** Read through a call, so a check made before an await does not narrow it. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
