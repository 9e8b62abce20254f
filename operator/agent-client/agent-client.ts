// The leader's client for one agent. Every call carries the cluster secret, the
// leader's current epoch and (mutating calls) an idempotency key that stays the same
// on every retry of the call; each attempt has a deadline; transient failures are
// retried with backoff and jitter; errors come back as the typed classes of
// proto/status.ts (StaleLeaderError, InvalidArgumentError with its field, …).
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { loadAgentProto } from '../../proto/load.ts';
import { AUTHORIZATION_METADATA, EPOCH_METADATA, IDEMPOTENCY_KEY_METADATA, bearer } from '../../proto/metadata.ts';
import { isMutating } from '../../proto/methods.ts';
import type { DecodedResponseOf, RequestOf, UnaryMethod } from '../../proto/methods.ts';
import { AGENT_UNREACHABLE, UnavailableError, fromServiceError } from '../../proto/status.ts';
import type { AgentState__Output } from '../../proto/generated/coxswain/agent/v1/AgentState.ts';
import type { StateUpdate__Output } from '../../proto/generated/coxswain/agent/v1/StateUpdate.ts';
import type { WatchStateRequest } from '../../proto/generated/coxswain/agent/v1/WatchStateRequest.ts';
import { withRetries } from './retry.ts';
import type { RetryPolicy } from './retry.ts';
import { followState } from './state-follower.ts';
import type { StateStream } from './state-follower.ts';
import { createChannelCredentials } from './transport-security.ts';
import type { ClientTransportSecurity } from './transport-security.ts';

/** The leader's current epoch, asked before every attempt (it may rise while a call retries). */
export type EpochProvider = () => number | Promise<number>;

export interface AgentClientOptions {
  /** host:port of the agent's gRPC service. */
  endpoint: string;
  /** The cluster secret, sent as `authorization: Bearer …`; never logged. */
  secret: string;
  /** The leader's epoch. */
  epoch: EpochProvider;
  /** Deadline of each attempt, in ms. @default 30000 */
  deadlineMs?: number;
  /** Delays before the 2nd, 3rd … attempt, in ms; the last repeats. @default [200, 500, 1000, 2000] */
  retryDelaysMs?: readonly number[];
  /** Attempts in all, the first included. @default 5 */
  maxAttempts?: number;
  /** Each delay is spread by ± this fraction. @default 0.2 */
  jitter?: number;
  /** @default a silent logger */
  logger?: Logger;
  /** @default Math.random */
  random?: () => number;
  /** @default {} (plaintext) */
  transportSecurity?: ClientTransportSecurity;
  /** Extra gRPC channel options. @default {} */
  channelOptions?: grpc.ChannelOptions;
}

export interface AgentCallOptions {
  /** Deadline of each attempt, in ms. @default the client's deadlineMs */
  deadlineMs?: number;
  /**
   * Idempotency key of a mutating call, the same on every attempt. Give one derived
   * from the job and step (e.g. "42/3") so that a restarted leader repeats it too.
   * @default a random UUID per call
   */
  idempotencyKey?: string;
  /** Cancels the call and its retries. */
  signal?: AbortSignal;
}

export interface WatchOptions {
  /** How often the agent re-observes when nothing prompts it, in ms. @default the agent's own */
  intervalMs?: number;
  /** Ends the watch. */
  signal?: AbortSignal;
}

/** Options that do not hold, every problem listed. */
export class AgentClientOptionsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid agent client options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentClientOptionsError';
    this.problems = problems;
  }
}

interface ResolvedClientOptions {
  endpoint: string;
  deadlineMs: number;
  retry: RetryPolicy;
  logger: Logger;
}

/** Validates the options and fills in the defaults (the secret and epoch provider are checked, not copied). */
export function resolveAgentClientOptions(options: AgentClientOptions): ResolvedClientOptions {
  const problems: string[] = [];
  if (typeof options.endpoint !== 'string' || options.endpoint === '') problems.push('endpoint: required, host:port of the agent');
  if (typeof options.secret !== 'string' || options.secret === '') problems.push('secret: required, the cluster secret');
  if (typeof options.epoch !== 'function') problems.push("epoch: required, a function that returns the leader's epoch");
  const deadlineMs = options.deadlineMs ?? 30_000;
  if (!Number.isInteger(deadlineMs) || deadlineMs < 1) problems.push(`deadlineMs: must be a positive integer (got ${deadlineMs})`);
  const delaysMs = options.retryDelaysMs ?? [200, 500, 1000, 2000];
  if (delaysMs.length === 0 || delaysMs.some((d) => !Number.isFinite(d) || d < 0)) {
    problems.push('retryDelaysMs: must be a non-empty list of delays ≥ 0');
  }
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) problems.push(`maxAttempts: must be an integer ≥ 1 (got ${maxAttempts})`);
  const jitter = options.jitter ?? 0.2;
  if (!(jitter >= 0 && jitter <= 1)) problems.push(`jitter: must be 0 … 1 (got ${jitter})`);
  if (problems.length > 0) throw new AgentClientOptionsError(problems);
  return {
    endpoint: options.endpoint,
    deadlineMs,
    retry: { delaysMs, maxAttempts, jitter, random: options.random ?? Math.random },
    logger: (options.logger ?? pino({ level: 'silent' })).child({ agent: options.endpoint }),
  };
}

/** The codec of one method, as grpc.Client's generic calls want it. */
interface MethodCodec<Req, Res> {
  path: string;
  requestSerialize: (value: Req) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
}

function codec<M extends UnaryMethod | 'WatchState'>(method: M) {
  // Indexing the definition with a generic key gives a union of codecs; the key fixes
  // which one, and its types are RequestOf<M> / DecodedResponseOf<M>.
  return loadAgentProto().agentService[method] as unknown as MethodCodec<RequestOf<M>, DecodedResponseOf<M>>;
}

export class AgentClient {
  readonly endpoint: string;
  readonly #client: grpc.Client;
  readonly #secret: string;
  readonly #epoch: EpochProvider;
  readonly #o: ResolvedClientOptions;

  constructor(options: AgentClientOptions) {
    this.#o = resolveAgentClientOptions(options);
    this.endpoint = options.endpoint;
    this.#secret = options.secret;
    this.#epoch = options.epoch;
    this.#client = new grpc.Client(options.endpoint, createChannelCredentials(options.transportSecurity), options.channelOptions ?? {});
  }

  /** Closes the channel; calls in flight fail with CANCELLED/UNAVAILABLE. */
  close(): void {
    this.#client.close();
  }

  // ---- one method per RPC ----------------------------------------------------------

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

  /**
   * The agent's state each time it changes, kept from WatchState's snapshot and
   * patches; reconnects (new snapshot) after a sequence gap or a transient failure.
   */
  watchState(options: WatchOptions = {}): AsyncGenerator<AgentState__Output> {
    const request: WatchStateRequest = { intervalMs: options.intervalMs ?? 0 };
    const { path, requestSerialize, responseDeserialize } = codec('WatchState');
    const open = async (): Promise<StateStream> => {
      const metadata = await this.#metadata(undefined);
      const stream = this.#client.makeServerStreamRequest<WatchStateRequest, StateUpdate__Output>(
        path,
        requestSerialize,
        responseDeserialize,
        request,
        metadata,
        {},
      );
      // Errors reach the iterator; this keeps a late one (after cancel) from being unhandled.
      stream.on('error', () => undefined);
      return stream;
    };
    return followState(open, {
      logger: this.#o.logger,
      retry: this.#o.retry,
      endpoint: this.endpoint,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  // ---- internals -------------------------------------------------------------------

  async #metadata(idempotencyKey: string | undefined): Promise<grpc.Metadata> {
    const epoch = await this.#epoch();
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`the epoch provider returned ${epoch}; a leader epoch is an integer ≥ 0`);
    const metadata = new grpc.Metadata();
    metadata.set(AUTHORIZATION_METADATA, bearer(this.#secret));
    metadata.set(EPOCH_METADATA, String(epoch));
    if (idempotencyKey !== undefined) metadata.set(IDEMPOTENCY_KEY_METADATA, idempotencyKey);
    return metadata;
  }

  #call<M extends UnaryMethod>(method: M, request: RequestOf<M>, options: AgentCallOptions = {}): Promise<DecodedResponseOf<M>> {
    const key = isMutating(method) ? (options.idempotencyKey ?? randomUUID()) : undefined;
    const deadlineMs = options.deadlineMs ?? this.#o.deadlineMs;
    return withRetries(this.#o.retry, async () => this.#once(method, request, await this.#metadata(key), deadlineMs, options.signal), {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onRetry: (error, attempt, delayMs) =>
        this.#o.logger.warn(
          { method, key, code: error.reason, attempt, delayMs },
          `Retrying ${method} on agent ${this.endpoint} in ${delayMs} ms (attempt ${attempt + 1} of ${this.#o.retry.maxAttempts}): ${error.message}`,
        ),
    });
  }

  #once<M extends UnaryMethod>(
    method: M,
    request: RequestOf<M>,
    metadata: grpc.Metadata,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<DecodedResponseOf<M>> {
    const { path, requestSerialize, responseDeserialize } = codec(method);
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const call = this.#client.makeUnaryRequest(
        path,
        requestSerialize,
        responseDeserialize,
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (err !== null) reject(unreachable(err) ?? fromServiceError(err));
          else if (value === undefined) reject(fromServiceError({ code: grpc.status.INTERNAL, details: `${method} returned no response` }));
          else resolve(value);
        },
      );
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * The typed error of a call that never reached the agent: grpc-js fails a call with
 * UNAVAILABLE "No connection established" when it could not connect (connection refused:
 * nothing listens on the agent's port). Such a call ran nothing on the agent.
 */
function unreachable(err: grpc.ServiceError): UnavailableError | undefined {
  if (err.code !== grpc.status.UNAVAILABLE || !/No connection established/.test(err.details)) return undefined;
  return new UnavailableError(`the agent does not answer: ${err.details}`, { reason: AGENT_UNREACHABLE });
}
