// Typed errors of the Redis Cluster operations (agent/engines/redis/*).
//
// They are the agent contract's own error classes (proto/status.ts): a transient
// failure is a TransientError (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED), anything that
// will not go away by retrying is a TerminalError (FAILED_PRECONDITION, NOT_FOUND,
// INVALID_ARGUMENT, INTERNAL). So an operation's error goes over gRPC unchanged and
// the leader's `isRetryable` decides the same way.
//
// On top of the class, every error says
//   - what failed: the operation and the node id and/or address (`details.op`,
//     `details.nodeId`, `details.addr`, and in the message),
//   - why: `details.detail`, and `reason`, one of RedisOpReason (e.g. NOT_EMPTY),
//   - what to do: `details.action`, and in the message after "What to do:".
import {
  AbortedError,
  AgentCallError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../../../proto/status.ts';

/** Machine-readable reasons (the `reason` of the error, also on the wire). */
export type RedisOpReason =
  // transient: repeating the same call later can succeed
  | 'UNREACHABLE' // a node does not answer (connection refused / reset)         UNAVAILABLE
  | 'TIMEOUT' // a command or a wait (sync, failover) did not finish in time      DEADLINE_EXCEEDED
  | 'NOT_AGREED' // the nodes do not (yet) agree on the topology                  UNAVAILABLE
  | 'NOT_IN_SYNC' // a replica is not linked to its primary or lags behind        UNAVAILABLE
  | 'BUSY' // the server is loading, or said TRYAGAIN / CLUSTERDOWN               UNAVAILABLE
  | 'OP_ABORTED' // the caller's AbortSignal fired; repeating the call resumes     ABORTED
  // terminal: stop and report
  | 'NOT_EMPTY' // a node holds slots or keys it must not hold for this step      FAILED_PRECONDITION
  | 'FOREIGN_CLUSTER' // a node already belongs to another cluster                FAILED_PRECONDITION
  | 'WRONG_ROLE' // e.g. failover of a node that is not a replica                 FAILED_PRECONDITION
  | 'NOT_FAILED' // a node to forget is not flagged failed (or is the node itself)  FAILED_PRECONDITION
  | 'HAS_REPLICAS' // removing a primary that still has replicas                  FAILED_PRECONDITION
  | 'NOT_CLUSTER' // the server runs without cluster-enabled yes                  FAILED_PRECONDITION
  | 'SLOTS_OWNED' // slots to claim are served by another node                    FAILED_PRECONDITION
  | 'UNKNOWN_NODE' // no node with that id in the observed topology               NOT_FOUND
  | 'BAD_ARGUMENT' // the call itself is wrong (bad slot, empty list …)           INVALID_ARGUMENT
  | 'COMMAND_FAILED' // the server refused a command for another reason           INTERNAL
  | 'TOOL_FAILED'; // redis-cli / valkey-cli could not run                        INTERNAL

export interface RedisOpErrorInit {
  /** Operation that failed, e.g. "formCluster", "moveSlots". */
  op: string;
  reason: RedisOpReason;
  /** What happened, one sentence without the node (that is added from nodeId/addr). */
  detail: string;
  /** What the caller or a person should do about it. */
  action: string;
  nodeId?: string | undefined;
  addr?: string | undefined;
  /** For BAD_ARGUMENT: the argument that is wrong. */
  field?: string | undefined;
  cause?: unknown;
}

/** What every Redis operation error carries besides its class. */
export interface RedisOpFailure {
  op: string;
  reason: RedisOpReason;
  detail: string;
  action: string;
  nodeId: string | undefined;
  addr: string | undefined;
}

/** An agent error raised by a Redis operation: `redis` says what failed and what to do. */
export type RedisOpError = AgentCallError & { readonly redis: RedisOpFailure };

const REASONS: ReadonlySet<string> = new Set<RedisOpReason>([
  'UNREACHABLE', 'TIMEOUT', 'NOT_AGREED', 'NOT_IN_SYNC', 'BUSY', 'OP_ABORTED', 'NOT_EMPTY', 'FOREIGN_CLUSTER',
  'WRONG_ROLE', 'NOT_FAILED', 'HAS_REPLICAS', 'NOT_CLUSTER', 'SLOTS_OWNED', 'UNKNOWN_NODE', 'BAD_ARGUMENT', 'COMMAND_FAILED', 'TOOL_FAILED',
]);

/** Builds the error of the class that fits the reason. */
export function redisOpError(init: RedisOpErrorInit): RedisOpError {
  const who = describeNode(init.nodeId, init.addr);
  const message = `${init.op}: ${who ? `${who}: ` : ''}${init.detail}. What to do: ${init.action}`;
  const details: Record<string, string> = { op: init.op, detail: init.detail, action: init.action };
  if (init.nodeId) details['nodeId'] = init.nodeId;
  if (init.addr) details['addr'] = init.addr;
  const options = { reason: init.reason, details, cause: init.cause };
  let err: AgentCallError;
  switch (init.reason) {
    case 'UNREACHABLE':
    case 'NOT_AGREED':
    case 'NOT_IN_SYNC':
    case 'BUSY':
      err = new UnavailableError(message, options);
      break;
    case 'TIMEOUT':
      err = new DeadlineExceededError(message, options);
      break;
    case 'OP_ABORTED':
      err = new AbortedError(message, options);
      break;
    case 'NOT_EMPTY':
    case 'FOREIGN_CLUSTER':
    case 'WRONG_ROLE':
    case 'NOT_FAILED':
    case 'HAS_REPLICAS':
    case 'NOT_CLUSTER':
    case 'SLOTS_OWNED':
      err = new FailedPreconditionError(message, options);
      break;
    case 'UNKNOWN_NODE':
      err = new NotFoundError(message, options);
      break;
    case 'BAD_ARGUMENT':
      err = new InvalidArgumentError(init.field ?? '', message, options);
      break;
    case 'COMMAND_FAILED':
    case 'TOOL_FAILED':
      err = new InternalError(message, options);
      break;
  }
  const redis: RedisOpFailure = {
    op: init.op,
    reason: init.reason,
    detail: init.detail,
    action: init.action,
    nodeId: init.nodeId,
    addr: init.addr,
  };
  return Object.assign(err, { redis });
}

export function isRedisOpError(err: unknown): err is RedisOpError {
  return err instanceof AgentCallError && 'redis' in err && REASONS.has(err.reason);
}

/** True when repeating the same call later can succeed. */
export function isTransient(err: unknown): boolean {
  return err instanceof AgentCallError && err.kind === 'transient';
}

/** "node 3f2a1b0c… (127.0.0.1:7000)" – the short form used in every message. */
export function describeNode(nodeId?: string, addr?: string): string {
  const id = nodeId ? `node ${shortId(nodeId)}` : addr ? 'node' : '';
  if (id && addr) return `${id} (${addr})`;
  return id;
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** Throws OP_ABORTED when the signal fired; call it between steps. */
export function throwIfAborted(signal: AbortSignal | undefined, op: string): void {
  if (signal?.aborted) throw abortedError(op, signal);
}

export function abortedError(op: string, signal: AbortSignal): RedisOpError {
  const why: unknown = signal.reason;
  const text = why instanceof Error ? why.message : typeof why === 'string' ? why : 'the caller aborted';
  return redisOpError({
    op,
    reason: 'OP_ABORTED',
    detail: `stopped before completion (${text})`,
    action: 'call the same operation again to finish it; every step is idempotent',
    cause: why,
  });
}
