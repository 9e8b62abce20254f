// The Agent gRPC service: every call passes the same gates before a backend sees it.
//
//   authenticate (cluster secret)  → UNAUTHENTICATED
//   fence the leader epoch         → INVALID_ARGUMENT (missing) / FAILED_PRECONDITION (stale)
//   validate the request           → INVALID_ARGUMENT naming the field
//   idempotency key (mutating)     → INVALID_ARGUMENT when missing or reused; a repeat is replayed
//   deadline → AbortSignal         → DEADLINE_EXCEEDED, and the backend's work is aborted
//   local data nodes it names      → NOT_FOUND
//   backend(request, ctx)          → the response, or its typed error mapped by proto/status.ts
//
// The health service is not wrapped: it needs no credential (agent/daemon.ts).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AgentBackend, BackendContext } from '../backend.ts';
import { canonicalResponse, canonicalState } from '../../proto/codec.ts';
import { isMutating } from '../../proto/methods.ts';
import type { AgentMethod, DecodedRequestOf, ResponseOf, UnaryMethod } from '../../proto/methods.ts';
import { NotFoundError, asAgentCallError, toServiceError } from '../../proto/status.ts';
import type { AgentCallError } from '../../proto/status.ts';
import { status } from '@grpc/grpc-js';
import type { AgentHandlers } from '../../proto/generated/coxswain/agent/v1/Agent.ts';
import type { AgentState } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { JobRef__Output } from '../../proto/generated/coxswain/agent/v1/JobRef.ts';
import type { StateUpdate } from '../../proto/generated/coxswain/agent/v1/StateUpdate.ts';
import type { WatchStateRequest__Output } from '../../proto/generated/coxswain/agent/v1/WatchStateRequest.ts';
import type { ClusterCredential } from './credential.ts';
import { callSignal, raceSignal } from './deadline.ts';
import type { CallSignal } from './deadline.ts';
import type { EpochFence } from './epoch-fence.ts';
import { parseEpoch } from './epoch-fence.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { parseIdempotencyKey } from './idempotency.ts';
import { validateRequest } from './validate.ts';
import type { NodeRef } from './validate.ts';
import { StateFeed } from './watch-state.ts';

export interface AgentServiceOptions {
  backend: AgentBackend;
  credential: ClusterCredential;
  fence: EpochFence;
  idempotency: IdempotencyStore;
  /** Must redact the secret (agent/server/logger.ts). */
  logger: Logger;
  agentId: string;
  zone: string;
  /** The longest a call without a deadline may run. */
  defaultDeadlineMs: number;
  /** How often WatchState re-observes when the caller does not say. */
  watchIntervalMs: number;
}

type Op<M extends UnaryMethod> = (request: DecodedRequestOf<M>, ctx: BackendContext) => Promise<ResponseOf<M>>;

/** A gRPC server call, unary or streaming: what the gates read. */
type SurfaceCall<Req> = (grpc.ServerUnaryCall<Req, unknown> | grpc.ServerWritableStream<Req, unknown>) & { request: Req };

interface Admitted {
  readonly ctx: BackendContext;
  readonly nodes: readonly NodeRef[];
  readonly job: JobRef__Output | null;
}

/** Codes that mean "the agent failed", logged as errors; the rest are the caller's or the cluster's. */
const AGENT_FAULTS = new Set<number>([status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]);

export class AgentService {
  /** The implementation to register with `server.addService`. */
  readonly handlers: AgentHandlers;
  readonly #o: AgentServiceOptions;
  readonly #feed = new StateFeed();
  /** Aborted to end WatchState streams (graceful stop). */
  readonly #closing = new AbortController();
  /** Aborted to interrupt every running call (forced stop). */
  readonly #interrupt = new AbortController();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(options: AgentServiceOptions) {
    this.#o = options;
    const b = options.backend;
    this.#unsubscribe = b.onStateChange?.(() => this.#feed.notify());
    this.handlers = {
      GetState: this.#unary('GetState', async (r, ctx) => ({ state: this.#stamp(await b.getState(r, ctx)) })),
      WatchState: (call) => {
        // #watch answers every failure on the stream itself; this catches only a failure
        // of that answering, which must not become an unhandled rejection.
        this.#watch(call).catch((err: unknown) => this.#o.logger.error({ method: 'WatchState', err }, 'Failed to end a WatchState stream; the caller sees it cut'));
      },
      EnsureVersion: this.#unary('EnsureVersion', (r, ctx) => b.ensureVersion(r, ctx)),
      StartDataNode: this.#unary('StartDataNode', (r, ctx) => b.startDataNode(r, ctx)),
      StopDataNode: this.#unary('StopDataNode', (r, ctx) => b.stopDataNode(r, ctx)),
      JoinNode: this.#unary('JoinNode', (r, ctx) => b.joinNode(r, ctx)),
      RemoveNode: this.#unary('RemoveNode', (r, ctx) => b.removeNode(r, ctx)),
      ForgetNode: this.#unary('ForgetNode', (r, ctx) => b.forgetNode(r, ctx)),
      Failover: this.#unary('Failover', (r, ctx) => b.failover(r, ctx)),
      MoveData: this.#unary('MoveData', (r, ctx) => b.moveData(r, ctx)),
      CreateBackup: this.#unary('CreateBackup', (r, ctx) => b.createBackup(r, ctx)),
      RestoreBackup: this.#unary('RestoreBackup', (r, ctx) => b.restoreBackup(r, ctx)),
      DeleteBackup: this.#unary('DeleteBackup', (r, ctx) => b.deleteBackup(r, ctx)),
      ListBackups: this.#unary('ListBackups', (r, ctx) => b.listBackups(r, ctx)),
      ConfigureDataNode: this.#unary('ConfigureDataNode', (r, ctx) => b.configureDataNode(r, ctx)),
    };
  }

  /** Ends every WatchState stream with UNAVAILABLE (the caller reconnects elsewhere or later). */
  closeStreams(): void {
    this.#closing.abort();
    this.#unsubscribe?.();
  }

  /** Interrupts every running call: their signals abort with UNAVAILABLE. */
  interrupt(): void {
    this.closeStreams();
    this.#interrupt.abort();
  }

  // ---- gates ---------------------------------------------------------------------

  async #admit<M extends AgentMethod>(
    method: M,
    call: SurfaceCall<DecodedRequestOf<M>>,
    signal: CallSignal,
    log: Logger,
  ): Promise<Admitted> {
    this.#o.credential.verify(call.metadata);
    const epoch = parseEpoch(call.metadata);
    await this.#o.fence.admit(epoch);
    const nodes = validateRequest(method, call.request);
    const key = isMutating(method) ? parseIdempotencyKey(call.metadata, method) : undefined;
    const request: object = call.request;
    const job = 'job' in request ? (request.job as JobRef__Output | null) : null;
    const logger = log.child({ epoch, key, jobId: job?.jobId, stepId: job?.stepId });
    return {
      ctx: { signal: signal.signal, logger, method, epoch, idempotencyKey: key, deadline: signal.deadline },
      nodes,
      job,
    };
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

  // ---- unary calls ---------------------------------------------------------------

  #unary<M extends UnaryMethod>(method: M, op: Op<M>): grpc.handleUnaryCall<DecodedRequestOf<M>, ResponseOf<M>> {
    return (call, callback) => {
      this.#handle(method, op, call)
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(toServiceError(err)),
        )
        // Only the answering itself can fail here (e.g. the caller is gone); never a rejection left unhandled.
        .catch((err: unknown) => this.#o.logger.error({ method, err }, `Failed to answer ${method}; the caller sees the call cut`));
    };
  }

  async #handle<M extends UnaryMethod>(
    method: M,
    op: Op<M>,
    call: grpc.ServerUnaryCall<DecodedRequestOf<M>, ResponseOf<M>>,
  ): Promise<ResponseOf<M>> {
    const started = performance.now();
    const signal = callSignal(call, { maxMs: this.#o.defaultDeadlineMs, method, stopping: this.#interrupt.signal });
    let log = this.#o.logger.child({ method, peer: call.getPeer() });
    log.debug({ metadata: call.metadata.getMap(), request: call.request }, `Received ${method}`);
    try {
      const { ctx, nodes, job } = await this.#admit(method, call, signal, log);
      log = ctx.logger;
      const execute = async (): Promise<ResponseOf<M>> => {
        await this.#requireNodes(nodes, ctx);
        const response = await op(call.request, ctx);
        // The canonical form is what the caller decodes; sending it re-encodes the same bytes.
        return canonicalResponse(method, isMutating(method) ? withJob(response, job) : response) as unknown as ResponseOf<M>;
      };
      // A caller that left (or ran out of time) while the call was admitted gets no work started.
      signal.signal.throwIfAborted();
      let response: ResponseOf<M>;
      let replayed = false;
      if (ctx.idempotencyKey === undefined) {
        const workLog = log;
        response = await raceSignal(execute(), signal.signal, (late) =>
          workLog.debug(
            { ms: elapsed(started), ok: late.ok, error: late.ok ? undefined : asAgentCallError(late.error).message },
            `Finished the work of ${method} after its caller had gone`,
          ),
        );
      } else {
        try {
          ({ response, replayed } = await this.#o.idempotency.run({
            key: ctx.idempotencyKey,
            method,
            request: call.request,
            signal: signal.signal,
            execute,
          }));
        } finally {
          this.#feed.notify();
        }
      }
      logSuccess(log, method, response, replayed, started);
      return response;
    } catch (err) {
      const e = asAgentCallError(err);
      logFailure(log, method, e, started);
      throw e;
    } finally {
      signal.dispose();
    }
  }

  // ---- WatchState ----------------------------------------------------------------

  async #watch(call: grpc.ServerWritableStream<WatchStateRequest__Output, StateUpdate>): Promise<void> {
    const started = performance.now();
    const stopping = AbortSignal.any([this.#closing.signal, this.#interrupt.signal]);
    const signal = callSignal(call, { maxMs: this.#o.defaultDeadlineMs, method: 'WatchState', stopping });
    let log = this.#o.logger.child({ method: 'WatchState', peer: call.getPeer() });
    log.debug({ metadata: call.metadata.getMap(), request: call.request }, 'Received WatchState');
    try {
      const { ctx } = await this.#admit('WatchState', call, signal, log);
      log = ctx.logger;
      log.info('Opened a WatchState stream');
      await this.#feed.serve({
        observe: async () => canonicalState(this.#stamp(await this.#o.backend.getState({}, ctx))),
        sink: { write: (update) => writeUpdate(call, update, signal.signal) },
        signal: signal.signal,
        intervalMs: call.request.intervalMs === 0 ? this.#o.watchIntervalMs : call.request.intervalMs,
        logger: log,
      });
    } catch (err) {
      const e = asAgentCallError(err);
      if (call.cancelled && e.code === status.CANCELLED) {
        log.info({ ms: elapsed(started) }, 'Closed a WatchState stream: the caller cancelled it');
      } else {
        logFailure(log, 'WatchState', e, started);
        call.emit('error', toServiceError(e));
      }
    } finally {
      signal.dispose();
    }
  }
}

function writeUpdate(call: grpc.ServerWritableStream<WatchStateRequest__Output, StateUpdate>, update: StateUpdate, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (call.write(update)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      call.removeListener('drain', onDrain);
      reject(signal.reason as Error);
    };
    call.once('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sets `outcome.job` of a mutating call's response to the request's job. */
function withJob<T>(response: T, job: JobRef__Output | null): T {
  if (typeof response !== 'object' || response === null) return response;
  const outcome = 'outcome' in response && typeof response.outcome === 'object' && response.outcome !== null ? response.outcome : {};
  return { ...response, outcome: { ...outcome, job } };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function logSuccess(log: Logger, method: AgentMethod, response: unknown, replayed: boolean, started: number): void {
  const outcome =
    typeof response === 'object' && response !== null && 'outcome' in response
      ? (response.outcome as { message?: string; changed?: boolean } | null)
      : null;
  const fields = { code: 'OK', ms: elapsed(started), replayed, outcome: outcome?.message, changed: outcome?.changed };
  if (!isMutating(method)) log.debug(fields, `Handled ${method}`);
  else if (replayed) log.info(fields, `Replayed ${method} from its idempotency record: ${outcome?.message ?? 'done'}`);
  else log.info(fields, `Handled ${method}: ${outcome?.message ?? 'done'}`);
}

function logFailure(log: Logger, method: AgentMethod, e: AgentCallError, started: number): void {
  const fields = { code: status[e.code], reason: e.reason, ms: elapsed(started) };
  if (AGENT_FAULTS.has(e.code)) log.error({ ...fields, err: e.cause ?? e }, `Failed ${method}: ${e.message}`);
  else if (e.kind === 'transient') log.warn(fields, `Failed ${method}, retryable: ${e.message}`);
  else log.warn(fields, `Refused ${method}: ${e.message}`);
}
