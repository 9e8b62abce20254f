// The agent's calls without their transport. Every call is first admitted:
//
//   the leader epoch, as received      → INVALID_ARGUMENT (missing) / FAILED_PRECONDITION (stale)
//   fence it (epoch-fence.ts)
//   validate the request (validate.ts) → INVALID_ARGUMENT naming the field
//   the idempotency key (mutating)     → INVALID_ARGUMENT when missing
//
// then run: at most once per key (idempotency.ts: a repeat is replayed, a duplicate
// waits for the first, the same key with another request is INVALID_ARGUMENT), the
// local data nodes it names looked up (NOT_FOUND), the backend called, and the response
// put in the form the caller decodes (its outcome naming the request's job).
//
// Two transports use it: the gRPC service (service.ts), which adds the credential and
// turns the call's deadline, cancel and the agent's stop into the signal; and the
// generative tests' simulated agent (test/generative/world-agent.ts), which puts the
// same code in front of the simulated world, so that retries, duplicates and stale
// leaders there meet the production fence, store and validation.
import type { Logger } from 'pino';
import type { AgentBackend, BackendContext } from '../backend.ts';
import { canonicalResponse, canonicalState } from '../../proto/codec.ts';
import { isMutating } from '../../proto/methods.ts';
import type { AgentMethod, DecodedRequestOf, DecodedResponseOf, ResponseOf, UnaryMethod } from '../../proto/methods.ts';
import { NotFoundError, asAgentCallError } from '../../proto/status.ts';
import type { AgentState } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { JobRef__Output } from '../../proto/generated/coxswain/agent/v1/JobRef.ts';
import { raceSignal } from './deadline.ts';
import type { EpochFence } from './epoch-fence.ts';
import { parseEpochValue } from './epoch-fence.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { parseIdempotencyKeyValue } from './idempotency.ts';
import { validateRequest } from './validate.ts';
import type { NodeRef } from './validate.ts';

export interface AgentCoreOptions {
  backend: AgentBackend;
  fence: EpochFence;
  idempotency: IdempotencyStore;
  /** Put into every observed state. */
  agentId: string;
  zone: string;
  /** Called once each mutating call that was admitted has settled (WatchState re-observes). */
  onMutation?: () => void;
}

/** The call metadata the core reads, as received (it validates them). */
export interface CallMetadata {
  /** `coxswain-epoch`. */
  readonly epoch: unknown;
  /** `coxswain-idempotency-key` (mutating calls). */
  readonly idempotencyKey: unknown;
}

/** What the transport gives a call. */
export interface CallScope {
  /** Aborts when the call's deadline passes, the caller cancels, or the agent stops; its reason is the error the caller gets. */
  readonly signal: AbortSignal;
  /** When the call's time is up. */
  readonly deadline: Date;
  /** Names the method (and the peer); the core adds the epoch, key and job. */
  readonly logger: Logger;
}

/** A call that passed the gates of admission. */
export interface AdmittedCall<M extends AgentMethod> {
  readonly method: M;
  readonly request: DecodedRequestOf<M>;
  readonly ctx: BackendContext;
  /** The local data nodes the request names (looked up when it runs). */
  readonly nodes: readonly NodeRef[];
  readonly job: JobRef__Output | null;
}

export interface CallResult<M extends UnaryMethod> {
  readonly response: DecodedResponseOf<M>;
  /** True when the response is a recorded one (or shared with a running duplicate), not produced by this call. */
  readonly replayed: boolean;
}

type Op<M extends UnaryMethod> = (request: DecodedRequestOf<M>, ctx: BackendContext) => Promise<ResponseOf<M>>;
type Ops = { readonly [M in UnaryMethod]: Op<M> };

export class AgentCore {
  readonly #o: AgentCoreOptions;
  readonly #ops: Ops;

  constructor(options: AgentCoreOptions) {
    this.#o = options;
    const b = options.backend;
    this.#ops = {
      GetState: async (r, ctx) => ({ state: this.#stamp(await b.getState(r, ctx)) }),
      EnsureVersion: (r, ctx) => b.ensureVersion(r, ctx),
      StartDataNode: (r, ctx) => b.startDataNode(r, ctx),
      StopDataNode: (r, ctx) => b.stopDataNode(r, ctx),
      JoinNode: (r, ctx) => b.joinNode(r, ctx),
      RemoveNode: (r, ctx) => b.removeNode(r, ctx),
      ForgetNode: (r, ctx) => b.forgetNode(r, ctx),
      Failover: (r, ctx) => b.failover(r, ctx),
      MoveData: (r, ctx) => b.moveData(r, ctx),
      CreateBackup: (r, ctx) => b.createBackup(r, ctx),
      RestoreBackup: (r, ctx) => b.restoreBackup(r, ctx),
      DeleteBackup: (r, ctx) => b.deleteBackup(r, ctx),
      ListBackups: (r, ctx) => b.listBackups(r, ctx),
      ConfigureDataNode: (r, ctx) => b.configureDataNode(r, ctx),
    };
  }

  /** Admits and runs a unary call: what a transport does once it has the request, its metadata and its scope. */
  async call<M extends UnaryMethod>(method: M, request: DecodedRequestOf<M>, metadata: CallMetadata, scope: CallScope): Promise<CallResult<M>> {
    return this.run(await this.admit(method, request, metadata, scope));
  }

  /** The gates before any work: epoch (fenced), request, idempotency key. Throws the typed error of the first that refuses. */
  async admit<M extends AgentMethod>(method: M, request: DecodedRequestOf<M>, metadata: CallMetadata, scope: CallScope): Promise<AdmittedCall<M>> {
    const epoch = parseEpochValue(metadata.epoch);
    await this.#o.fence.admit(epoch);
    const nodes = validateRequest(method, request);
    const key = isMutating(method) ? parseIdempotencyKeyValue(metadata.idempotencyKey, method) : undefined;
    const body: object = request;
    const job = 'job' in body ? (body.job as JobRef__Output | null) : null;
    const logger = scope.logger.child({ epoch, key, jobId: job?.jobId, stepId: job?.stepId });
    return {
      method,
      request,
      ctx: { signal: scope.signal, logger, method, epoch, idempotencyKey: key, deadline: scope.deadline },
      nodes,
      job,
    };
  }

  /** Runs an admitted unary call: once per idempotency key, with the data nodes it names looked up first. */
  async run<M extends UnaryMethod>(call: AdmittedCall<M>): Promise<CallResult<M>> {
    const { method, request, ctx, nodes, job } = call;
    const started = performance.now();
    const op = this.#ops[method] as Op<M>;
    const execute = async (): Promise<DecodedResponseOf<M>> => {
      await this.#requireNodes(nodes, ctx);
      const response = await op(request, ctx);
      // The canonical form is what the caller decodes (and what is recorded for a repeat).
      return canonicalResponse(method, isMutating(method) ? withJob(response, job) : response);
    };
    // A caller that left (or ran out of time) while the call was admitted gets no work started.
    ctx.signal.throwIfAborted();
    if (ctx.idempotencyKey === undefined) {
      const response = await raceSignal(execute(), ctx.signal, (late) =>
        ctx.logger.debug(
          { ms: Math.round(performance.now() - started), ok: late.ok, error: late.ok ? undefined : asAgentCallError(late.error).message },
          `Finished the work of ${method} after its caller had gone`,
        ),
      );
      return { response, replayed: false };
    }
    try {
      return await this.#o.idempotency.run({ key: ctx.idempotencyKey, method, request, signal: ctx.signal, execute });
    } finally {
      this.#o.onMutation?.();
    }
  }

  /** The observed state of an admitted call (WatchState), as the caller decodes it. */
  async observe(ctx: BackendContext): Promise<AgentState__Output> {
    return canonicalState(this.#stamp(await this.#o.backend.getState({}, ctx)));
  }

  async #requireNodes(nodes: readonly NodeRef[], ctx: BackendContext): Promise<void> {
    for (const { field, nodeId } of nodes) {
      if (!(await this.#o.backend.hasDataNode(nodeId, ctx))) {
        throw new NotFoundError(
          `data node ${JSON.stringify(nodeId)} (${field}) is not on agent ${this.#o.agentId}; GetState lists the data nodes it has`,
          { details: { field, nodeId } },
        );
      }
    }
  }

  #stamp(state: AgentState): AgentState {
    return { ...state, agentId: this.#o.agentId, zone: this.#o.zone };
  }
}

/** Sets `outcome.job` of a mutating call's response to the request's job. */
function withJob<T>(response: T, job: JobRef__Output | null): T {
  if (typeof response !== 'object' || response === null) return response;
  const outcome = 'outcome' in response && typeof response.outcome === 'object' && response.outcome !== null ? response.outcome : {};
  return { ...response, outcome: { ...outcome, job } };
}
