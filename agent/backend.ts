// What an agent does, behind the gRPC service: one method per RPC. The service
// (agent/server/service.ts) authenticates, fences, validates, de-duplicates and sets
// the deadline; a backend only does the work. The real engine backend (Redis/Valkey
// processes) and the in-memory fake (agent/fake-backend.ts) both implement this.
//
// Rules for an implementation:
// - Observe `ctx.signal`: when it aborts (deadline, cancel, agent stopping), stop
//   and throw (`ctx.signal.throwIfAborted()`, or pass the signal to what you await).
// - Be idempotent in effect (safety invariant 5): repeating a step that already took
//   effect changes nothing and answers `outcome.changed: false`. The idempotency key
//   spares most repeats, but not a retry after a transient failure.
// - Throw the typed errors of proto/status.ts: FailedPreconditionError when the
//   cluster is not in a state for the step (say what must happen first),
//   TransientError subclasses for what a retry may fix. Anything else becomes INTERNAL.
// - Requests arrive validated (field formats) and every local node id they name has
//   been checked with hasDataNode, so a backend does not repeat those checks.
// - `outcome.job` is filled in by the service from the request; a backend sets
//   `outcome.message` and `outcome.changed`. `agentId` and `zone` of the state are
//   filled in by the service from the daemon's options.
import type { Logger } from 'pino';
import type { AgentMethod, DecodedRequestOf, ResponseOf } from '../proto/methods.ts';
import type { AgentState } from '../proto/generated/coxswain/agent/v1/AgentState.ts';

/** What a backend method gets besides the request. */
export interface BackendContext {
  /** Aborts when the call's deadline passes, the caller cancels, or the agent stops. */
  readonly signal: AbortSignal;
  /** A child logger that already names the method, epoch, key and job of the call. */
  readonly logger: Logger;
  /** The RPC being served. */
  readonly method: AgentMethod;
  /** The leader epoch of the call (already admitted by the fence). */
  readonly epoch: number;
  /** The idempotency key of a mutating call; undefined for read-only calls. */
  readonly idempotencyKey: string | undefined;
  /** When the call's time is up (the caller's deadline, or the agent's maximum). */
  readonly deadline: Date;
}

type Op<M extends AgentMethod> = (request: DecodedRequestOf<M>, ctx: BackendContext) => Promise<ResponseOf<M>>;

export interface AgentBackend {
  /** The observed state of this agent's VM: versions, data nodes, backups. */
  getState(request: DecodedRequestOf<'GetState'>, ctx: BackendContext): Promise<AgentState>;
  /** Whether a data node with this Coxswain id exists on this agent (declared by StartDataNode, not yet removed). */
  hasDataNode(nodeId: string, ctx: BackendContext): Promise<boolean>;
  /** Make a version's binaries available. */
  ensureVersion: Op<'EnsureVersion'>;
  /** Start a data node, declaring it on first use. */
  startDataNode: Op<'StartDataNode'>;
  /** Stop a data node, keeping its data. */
  stopDataNode: Op<'StopDataNode'>;
  /** Join a started data node into the cluster. */
  joinNode: Op<'JoinNode'>;
  /** Take a data node out of the cluster once its data moved. */
  removeNode: Op<'RemoveNode'>;
  /** Make a local data node forget a failed, slotless member no agent runs. */
  forgetNode: Op<'ForgetNode'>;
  /** Planned promotion of a local replica. */
  failover: Op<'Failover'>;
  /** Move data (slots) from a local primary to another node group. */
  moveData: Op<'MoveData'>;
  /** Back up local data nodes to a sink. */
  createBackup: Op<'CreateBackup'>;
  /** Restore a backup into local data nodes. */
  restoreBackup: Op<'RestoreBackup'>;
  /** Delete a backup from a sink. */
  deleteBackup: Op<'DeleteBackup'>;
  /** The backups of a sink, or those this agent knows. */
  listBackups: Op<'ListBackups'>;
  /** Apply engine parameters to a data node. */
  configureDataNode: Op<'ConfigureDataNode'>;
  /**
   * Optional: calls `listener` whenever the backend notices a change by itself (a
   * process died, a failover happened). WatchState then re-observes at once instead
   * of at its next interval. Returns a function that unsubscribes.
   */
  onStateChange?(listener: () => void): () => void;
}

/**
 * Every method of AgentBackend, and whether a backend must have it. The compiler holds
 * this table to the interface: a method added there and not here, one here that is not
 * there, or one marked required that is optional (or the other way round) fails tsc.
 */
const BACKEND_METHOD_KINDS = {
  getState: 'required',
  hasDataNode: 'required',
  ensureVersion: 'required',
  startDataNode: 'required',
  stopDataNode: 'required',
  joinNode: 'required',
  removeNode: 'required',
  forgetNode: 'required',
  failover: 'required',
  moveData: 'required',
  createBackup: 'required',
  restoreBackup: 'required',
  deleteBackup: 'required',
  listBackups: 'required',
  configureDataNode: 'required',
  onStateChange: 'optional',
} as const satisfies { readonly [K in keyof AgentBackend]-?: undefined extends AgentBackend[K] ? 'optional' : 'required' };

/** A method every AgentBackend has. */
export type RequiredBackendMethod = {
  [K in keyof typeof BACKEND_METHOD_KINDS]: (typeof BACKEND_METHOD_KINDS)[K] extends 'required' ? K : never;
}[keyof typeof BACKEND_METHOD_KINDS];

/** The methods every AgentBackend has, in the interface's order: what agent/daemon.ts checks a backend for. */
export const AGENT_BACKEND_METHODS: readonly RequiredBackendMethod[] = Object.entries(BACKEND_METHOD_KINDS)
  .filter(([, kind]) => kind === 'required')
  .map(([method]) => method as RequiredBackendMethod);
