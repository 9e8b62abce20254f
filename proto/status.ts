// Typed errors of the agent contract and the ONE table that maps them to gRPC status
// codes and back. The agent turns what went wrong into a status with toServiceError;
// the leader turns a status back into the same class with fromServiceError and asks
// isRetryable whether to try again.
//
// Two kinds, as in every reconciler: a TransientError is worth retrying with backoff
// (the same idempotency key makes the retry safe); a TerminalError will not go away by
// itself, so the caller stops and reports why.
//
// On the wire an error is its status code and message, plus two trailing metadata
// entries that let the other side rebuild the exact class: `coxswain-error-reason`
// (e.g. STALE_LEADER) and `coxswain-error-details` (a JSON object of strings, e.g. the
// field an INVALID_ARGUMENT is about).
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import { EPOCH_METADATA, ERROR_DETAILS_METADATA, ERROR_REASON_METADATA } from './metadata.ts';

/** transient: retry with backoff; terminal: stop and say why. */
export type ErrorKind = 'transient' | 'terminal';

/** The codes a caller retries. */
export type TransientCode =
  | status.UNAVAILABLE
  | status.DEADLINE_EXCEEDED
  | status.RESOURCE_EXHAUSTED
  | status.ABORTED;

/** Every other code except OK. */
export type TerminalCode = Exclude<status, status.OK | TransientCode>;

/** Machine-readable details of an error; travels as JSON in trailing metadata. */
export type ErrorDetails = Readonly<Record<string, string>>;

export interface AgentErrorOptions {
  /** A reason more precise than the code, e.g. "STALE_LEADER"; defaults to the code's name. */
  reason?: string;
  details?: Record<string, string>;
  cause?: unknown;
}

/** An error of an agent call: a gRPC code, a reason and a message a person can act on. */
export abstract class AgentCallError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: status;
  readonly reason: string;
  readonly details: ErrorDetails;

  constructor(code: status, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = options.reason ?? status[code];
    this.details = Object.freeze({ ...options.details });
  }
}

/** Worth retrying with backoff, with the same idempotency key. */
export class TransientError extends AgentCallError {
  readonly kind = 'transient';
  constructor(code: TransientCode, message: string, options?: AgentErrorOptions) {
    super(code, message, options);
  }
}

/** Will not go away by retrying: stop and report. */
export class TerminalError extends AgentCallError {
  readonly kind = 'terminal';
  constructor(code: TerminalCode, message: string, options?: AgentErrorOptions) {
    super(code, message, options);
  }
}

// ---- transient -----------------------------------------------------------------

/**
 * The reason of an UNAVAILABLE call that never reached the agent: no connection could be
 * made (connection refused: the agent does not run). Nothing ran, and trying again does
 * not help until the agent is started again, which is a step of its own.
 */
export const AGENT_UNREACHABLE = 'AGENT_UNREACHABLE';


/** The agent (or the network to it) cannot serve now. */
export class UnavailableError extends TransientError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.UNAVAILABLE, message, options);
  }
}

/** The call's deadline passed before it finished. */
export class DeadlineExceededError extends TransientError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.DEADLINE_EXCEEDED, message, options);
  }
}

/** The agent is out of something (busy, too many calls); retry later. */
export class ResourceExhaustedError extends TransientError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.RESOURCE_EXHAUSTED, message, options);
  }
}

/** The call lost a race with another one (e.g. a concurrent operation on the same node). */
export class AbortedError extends TransientError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.ABORTED, message, options);
  }
}

// ---- terminal ------------------------------------------------------------------

/** A request field is missing or malformed; `field` names it (proto name or metadata name). */
export class InvalidArgumentError extends TerminalError {
  readonly field: string;
  readonly problem: string;
  constructor(field: string, problem: string, options: AgentErrorOptions = {}) {
    super(status.INVALID_ARGUMENT, field === '' ? problem : `${field}: ${problem}`, {
      ...options,
      details: { ...options.details, field, problem },
    });
    this.field = field;
    this.problem = problem;
  }
}

/** Something the request names (a data node, a backup) does not exist on this agent. */
export class NotFoundError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.NOT_FOUND, message, options);
  }
}

/** The system is not in a state where the request can run (e.g. a node still holds data). */
export class FailedPreconditionError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.FAILED_PRECONDITION, message, options);
  }
}

/** The caller's leader epoch is lower than one the agent has seen: a newer leader is in charge. */
export class StaleLeaderError extends FailedPreconditionError {
  readonly presentedEpoch: number;
  readonly seenEpoch: number;
  constructor(presentedEpoch: number, seenEpoch: number, message?: string) {
    super(
      message ??
        `stale leader: epoch ${presentedEpoch} < ${seenEpoch} seen; a newer leader has taken over, ` +
          `so this leader must stop sending steps`,
      {
        reason: 'STALE_LEADER',
        details: { field: EPOCH_METADATA, presentedEpoch: String(presentedEpoch), seenEpoch: String(seenEpoch) },
      },
    );
    this.presentedEpoch = presentedEpoch;
    this.seenEpoch = seenEpoch;
  }
}

/** The credential is missing or wrong. */
export class UnauthenticatedError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.UNAUTHENTICATED, message, options);
  }
}

/** The caller is known but may not do this. */
export class PermissionDeniedError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.PERMISSION_DENIED, message, options);
  }
}

/** Something with the requested id exists already, with different properties. */
export class AlreadyExistsError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.ALREADY_EXISTS, message, options);
  }
}

/** The agent (or its engine adapter) does not implement this. */
export class UnimplementedError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.UNIMPLEMENTED, message, options);
  }
}

/** A bug or an unexpected failure inside the agent; its log has the details. */
export class InternalError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.INTERNAL, message, options);
  }
}

/** Data was lost or corrupted. */
export class DataLossError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.DATA_LOSS, message, options);
  }
}

/** The caller cancelled the call. */
export class CancelledError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.CANCELLED, message, options);
  }
}

/** A value is valid in form but outside what the system accepts now. */
export class OutOfRangeError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.OUT_OF_RANGE, message, options);
  }
}

/** A status that says nothing more (e.g. from a server that is not an agent). */
export class UnknownError extends TerminalError {
  constructor(message: string, options?: AgentErrorOptions) {
    super(status.UNKNOWN, message, options);
  }
}

// ---- the table -----------------------------------------------------------------

export interface StatusRow {
  readonly code: status;
  readonly kind: ErrorKind;
  /** The reason this row stands for; the code's own name for the generic row. */
  readonly reason: string;
  /**
   * Rebuilds the error from what travelled on the wire. A generic row keeps the reason
   * that came with it (e.g. FAILED_PRECONDITION with reason SLOTS_OWNED), so callers can
   * tell precise reasons apart even where no row of their own exists.
   */
  readonly revive: (message: string, details: ErrorDetails, reason?: string) => AgentCallError;
}

const opts = (details: ErrorDetails, reason?: string): AgentErrorOptions => ({ details: { ...details }, ...(reason === undefined ? {} : { reason }) });

/**
 * The one mapping between error classes, gRPC codes and kinds. Every code except OK
 * has a generic row named after the code; a more precise reason adds a row of its own.
 */
export const STATUS_TABLE: readonly StatusRow[] = [
  // transient: retry with backoff
  { code: status.UNAVAILABLE, kind: 'transient', reason: 'UNAVAILABLE', revive: (m, d, r) => new UnavailableError(m, opts(d, r)) },
  { code: status.DEADLINE_EXCEEDED, kind: 'transient', reason: 'DEADLINE_EXCEEDED', revive: (m, d, r) => new DeadlineExceededError(m, opts(d, r)) },
  { code: status.RESOURCE_EXHAUSTED, kind: 'transient', reason: 'RESOURCE_EXHAUSTED', revive: (m, d, r) => new ResourceExhaustedError(m, opts(d, r)) },
  { code: status.ABORTED, kind: 'transient', reason: 'ABORTED', revive: (m, d, r) => new AbortedError(m, opts(d, r)) },
  // terminal: stop and say why
  { code: status.INVALID_ARGUMENT, kind: 'terminal', reason: 'INVALID_ARGUMENT', revive: reviveInvalidArgument },
  { code: status.NOT_FOUND, kind: 'terminal', reason: 'NOT_FOUND', revive: (m, d, r) => new NotFoundError(m, opts(d, r)) },
  { code: status.FAILED_PRECONDITION, kind: 'terminal', reason: 'STALE_LEADER', revive: reviveStaleLeader },
  { code: status.FAILED_PRECONDITION, kind: 'terminal', reason: 'FAILED_PRECONDITION', revive: (m, d, r) => new FailedPreconditionError(m, opts(d, r)) },
  { code: status.UNAUTHENTICATED, kind: 'terminal', reason: 'UNAUTHENTICATED', revive: (m, d, r) => new UnauthenticatedError(m, opts(d, r)) },
  { code: status.PERMISSION_DENIED, kind: 'terminal', reason: 'PERMISSION_DENIED', revive: (m, d, r) => new PermissionDeniedError(m, opts(d, r)) },
  { code: status.ALREADY_EXISTS, kind: 'terminal', reason: 'ALREADY_EXISTS', revive: (m, d, r) => new AlreadyExistsError(m, opts(d, r)) },
  { code: status.UNIMPLEMENTED, kind: 'terminal', reason: 'UNIMPLEMENTED', revive: (m, d, r) => new UnimplementedError(m, opts(d, r)) },
  { code: status.INTERNAL, kind: 'terminal', reason: 'INTERNAL', revive: (m, d, r) => new InternalError(m, opts(d, r)) },
  { code: status.DATA_LOSS, kind: 'terminal', reason: 'DATA_LOSS', revive: (m, d, r) => new DataLossError(m, opts(d, r)) },
  { code: status.CANCELLED, kind: 'terminal', reason: 'CANCELLED', revive: (m, d, r) => new CancelledError(m, opts(d, r)) },
  { code: status.OUT_OF_RANGE, kind: 'terminal', reason: 'OUT_OF_RANGE', revive: (m, d, r) => new OutOfRangeError(m, opts(d, r)) },
  { code: status.UNKNOWN, kind: 'terminal', reason: 'UNKNOWN', revive: (m, d, r) => new UnknownError(m, opts(d, r)) },
];

function reviveInvalidArgument(message: string, details: ErrorDetails): AgentCallError {
  const { field, problem } = details;
  if (field !== undefined && problem !== undefined) return new InvalidArgumentError(field, problem);
  return new InvalidArgumentError('', message);
}

function reviveStaleLeader(message: string, details: ErrorDetails): AgentCallError {
  return new StaleLeaderError(Number(details.presentedEpoch), Number(details.seenEpoch), message);
}

function genericRow(code: number): StatusRow | undefined {
  return STATUS_TABLE.find((r) => r.code === code && r.reason === status[code]);
}

/** transient or terminal, for a gRPC code (an unknown code is terminal). */
export function kindOfCode(code: number): ErrorKind {
  return genericRow(code)?.kind ?? 'terminal';
}

/** The codes a caller retries, from the table. */
export const TRANSIENT_CODES: readonly status[] = STATUS_TABLE.filter((r) => r.kind === 'transient').map((r) => r.code);

/** Whether an error (typed, or a raw gRPC error with a code) is worth retrying. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof AgentCallError) return err.kind === 'transient';
  const code = codeOf(err);
  return code !== undefined && kindOfCode(code) === 'transient';
}

function codeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'number' ? err.code : undefined;
}

/**
 * Any thrown value as an AgentCallError: typed errors stay as they are; an abort
 * carries its reason (the deadline or the caller's cancel); a raw gRPC error is read
 * with fromServiceError; anything else is an INTERNAL error that keeps its cause.
 */
export function asAgentCallError(err: unknown): AgentCallError {
  if (err instanceof AgentCallError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    if (err.cause instanceof AgentCallError) return err.cause;
    return new CancelledError('the operation was aborted', { cause: err });
  }
  if (codeOf(err) !== undefined && typeof err === 'object' && err !== null && 'metadata' in err) {
    return fromServiceError(err as Partial<StatusObject> & { message?: string });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(`internal error in the agent: ${message}; see the agent's log`, { cause: err });
}

/** The gRPC status (code, message, trailing metadata) for an error. */
export function toServiceError(err: unknown): ServiceError {
  const e = asAgentCallError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_METADATA, e.reason);
  if (Object.keys(e.details).length > 0) metadata.set(ERROR_DETAILS_METADATA, asciiJson(e.details));
  return Object.assign(new Error(e.message), { code: e.code, details: e.message, metadata });
}

/** The typed error for a gRPC status received by a client (or built by a server). */
export function fromServiceError(err: Partial<StatusObject> & { message?: string }): AgentCallError {
  const code = typeof err.code === 'number' ? err.code : status.UNKNOWN;
  const message = err.details !== undefined && err.details !== '' ? err.details : (err.message ?? status[code] ?? 'error');
  const reason = firstString(err.metadata, ERROR_REASON_METADATA);
  const details = parseDetails(firstString(err.metadata, ERROR_DETAILS_METADATA));
  return reviveError(code, message, reason, details);
}

/** The typed error for a code, message, reason and details (as recorded or received). */
export function reviveError(code: number, message: string, reason: string | undefined, details: ErrorDetails): AgentCallError {
  const row =
    (reason === undefined ? undefined : STATUS_TABLE.find((r) => r.code === code && r.reason === reason)) ??
    genericRow(code);
  if (row === undefined) return new UnknownError(`${message} (gRPC status ${code})`, { details: { ...details } });
  return row.revive(message, details, reason);
}

function firstString(metadata: Metadata | undefined, key: string): string | undefined {
  if (metadata === undefined || typeof metadata.get !== 'function') return undefined;
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function parseDetails(text: string | undefined): ErrorDetails {
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return {};
  }
}

/** JSON with every non-ASCII character escaped: metadata values must be printable ASCII. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
