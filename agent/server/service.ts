// The Agent gRPC service: every call passes the same gates before a backend sees it.
//
//   authenticate (cluster secret)  → UNAUTHENTICATED
//   deadline → AbortSignal         → DEADLINE_EXCEEDED, and the backend's work is aborted
//   then the transport-free core (agent-core.ts):
//   fence the leader epoch         → INVALID_ARGUMENT (missing) / FAILED_PRECONDITION (stale)
//   validate the request           → INVALID_ARGUMENT naming the field
//   idempotency key (mutating)     → INVALID_ARGUMENT when missing or reused; a repeat is replayed
//   local data nodes it names      → NOT_FOUND
//   backend(request, ctx)          → the response, or its typed error mapped by proto/status.ts
//
// The health service is not wrapped: it needs no credential (agent/daemon.ts).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AgentBackend } from '../backend.ts';
import { EPOCH_METADATA, IDEMPOTENCY_KEY_METADATA } from '../../proto/metadata.ts';
import { isMutating } from '../../proto/methods.ts';
import type { AgentMethod, DecodedRequestOf, ResponseOf, UnaryMethod } from '../../proto/methods.ts';
import { asAgentCallError, toServiceError } from '../../proto/status.ts';
import type { AgentCallError } from '../../proto/status.ts';
import { status } from '@grpc/grpc-js';
import type { AgentHandlers } from '../../proto/generated/coxswain/agent/v1/Agent.ts';
import type { StateUpdate } from '../../proto/generated/coxswain/agent/v1/StateUpdate.ts';
import type { WatchStateRequest__Output } from '../../proto/generated/coxswain/agent/v1/WatchStateRequest.ts';
import { AgentCore } from './agent-core.ts';
import type { AdmittedCall, CallMetadata } from './agent-core.ts';
import type { ClusterCredential } from './credential.ts';
import { callSignal } from './deadline.ts';
import type { CallSignal } from './deadline.ts';
import type { EpochFence } from './epoch-fence.ts';
import type { IdempotencyStore } from './idempotency.ts';
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

/** A gRPC server call, unary or streaming: what the gates read. */
type SurfaceCall<Req> = (grpc.ServerUnaryCall<Req, unknown> | grpc.ServerWritableStream<Req, unknown>) & { request: Req };

/** Codes that mean "the agent failed", logged as errors; the rest are the caller's or the cluster's. */
const AGENT_FAULTS = new Set<number>([status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]);

export class AgentService {
  /** The implementation to register with `server.addService`. */
  readonly handlers: AgentHandlers;
  readonly #o: AgentServiceOptions;
  readonly #core: AgentCore;
  readonly #feed = new StateFeed();
  /** Aborted to end WatchState streams (graceful stop). */
  readonly #closing = new AbortController();
  /** Aborted to interrupt every running call (forced stop). */
  readonly #interrupt = new AbortController();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(options: AgentServiceOptions) {
    this.#o = options;
    this.#core = new AgentCore({
      backend: options.backend,
      fence: options.fence,
      idempotency: options.idempotency,
      agentId: options.agentId,
      zone: options.zone,
      onMutation: () => this.#feed.notify(),
    });
    this.#unsubscribe = options.backend.onStateChange?.(() => this.#feed.notify());
    this.handlers = {
      GetState: this.#unary('GetState'),
      WatchState: (call) => {
        // #watch answers every failure on the stream itself; this catches only a failure
        // of that answering, which must not become an unhandled rejection.
        this.#watch(call).catch((err: unknown) => this.#o.logger.error({ method: 'WatchState', err }, 'Failed to end a WatchState stream; the caller sees it cut'));
      },
      EnsureVersion: this.#unary('EnsureVersion'),
      StartDataNode: this.#unary('StartDataNode'),
      StopDataNode: this.#unary('StopDataNode'),
      JoinNode: this.#unary('JoinNode'),
      RemoveNode: this.#unary('RemoveNode'),
      ForgetNode: this.#unary('ForgetNode'),
      Failover: this.#unary('Failover'),
      MoveData: this.#unary('MoveData'),
      CreateBackup: this.#unary('CreateBackup'),
      RestoreBackup: this.#unary('RestoreBackup'),
      DeleteBackup: this.#unary('DeleteBackup'),
      ListBackups: this.#unary('ListBackups'),
      ConfigureDataNode: this.#unary('ConfigureDataNode'),
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

  /** The credential, then the core's gates (agent-core.ts). */
  async #admit<M extends AgentMethod>(
    method: M,
    call: SurfaceCall<DecodedRequestOf<M>>,
    signal: CallSignal,
    log: Logger,
  ): Promise<AdmittedCall<M>> {
    this.#o.credential.verify(call.metadata);
    return this.#core.admit(method, call.request, metadataOf(call.metadata), { signal: signal.signal, deadline: signal.deadline, logger: log });
  }

  // ---- unary calls ---------------------------------------------------------------

  #unary<M extends UnaryMethod>(method: M): grpc.handleUnaryCall<DecodedRequestOf<M>, ResponseOf<M>> {
    return (call, callback) => {
      this.#handle(method, call)
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(toServiceError(err)),
        )
        // Only the answering itself can fail here (e.g. the caller is gone); never a rejection left unhandled.
        .catch((err: unknown) => this.#o.logger.error({ method, err }, `Failed to answer ${method}; the caller sees the call cut`));
    };
  }

  async #handle<M extends UnaryMethod>(method: M, call: grpc.ServerUnaryCall<DecodedRequestOf<M>, ResponseOf<M>>): Promise<ResponseOf<M>> {
    const started = performance.now();
    const signal = callSignal(call, { maxMs: this.#o.defaultDeadlineMs, method, stopping: this.#interrupt.signal });
    let log = this.#o.logger.child({ method, peer: call.getPeer() });
    log.debug({ metadata: call.metadata.getMap(), request: call.request }, `Received ${method}`);
    try {
      const admitted = await this.#admit(method, call, signal, log);
      log = admitted.ctx.logger;
      const { response, replayed } = await this.#core.run(admitted);
      logSuccess(log, method, response, replayed, started);
      // The canonical form is what the caller decodes; sending it re-encodes the same bytes.
      return response as unknown as ResponseOf<M>;
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
        observe: () => this.#core.observe(ctx),
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

/** The metadata the core reads, as received. */
function metadataOf(metadata: grpc.Metadata): CallMetadata {
  return { epoch: metadata.get(EPOCH_METADATA)[0], idempotencyKey: metadata.get(IDEMPOTENCY_KEY_METADATA)[0] };
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
