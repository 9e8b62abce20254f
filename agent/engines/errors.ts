// Typed errors of the engine layer (engine adapters and the data node supervisor).
//
// They extend the error classes of the agent contract (proto/status.ts), so the gRPC
// layer sends each with the right code, transient or terminal, and a precise `reason`
// (ENGINE_NOT_INSTALLED, PORT_IN_USE, …) without a mapping of its own. Every message
// says what failed and what to do.
import {
  AbortedError,
  AgentCallError,
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  reviveError,
  UnavailableError,
} from '../../proto/status.ts';

/** A data node spec the engine cannot run: a bad node id or port, an owned parameter. INVALID_ARGUMENT. */
export class InvalidSpecError extends InvalidArgumentError {
  constructor(field: string, problem: string) {
    super(field, problem);
  }
}

/** A version the engine's catalogue does not list. INVALID_ARGUMENT on "version". */
export class UnknownVersionError extends InvalidArgumentError {
  constructor(engine: string, version: string, known: readonly string[]) {
    super('version', `${engine} has no version "${version}"; the catalogue lists ${known.map((v) => `"${v}"`).join(', ')}`);
  }
}

/** The programs of an engine version are missing from PATH, or of the wrong version. FAILED_PRECONDITION. */
export class EngineNotInstalledError extends FailedPreconditionError {
  readonly engine: string;
  readonly version: string;
  /** The program that is missing or wrong, e.g. "valkey-server". */
  readonly program: string;
  constructor(fields: { engine: string; version: string; program: string }, message: string) {
    super(message, { reason: 'ENGINE_NOT_INSTALLED', details: { ...fields } });
    this.engine = fields.engine;
    this.version = fields.version;
    this.program = fields.program;
  }
}

/** Who holds a port, as far as /proc lets us see. */
export interface PortHolder {
  pid: number;
  /** The process's command line, or what it is to us ("data node a: …"). */
  command: string;
}

/** A port a data node needs is already bound by someone. FAILED_PRECONDITION. */
export class PortInUseError extends FailedPreconditionError {
  readonly port: number;
  readonly host: string;
  readonly holder: PortHolder | undefined;
  constructor(fields: { nodeId: string; port: number; host: string; purpose: string; holder?: PortHolder }) {
    const who =
      fields.holder === undefined
        ? 'by a process this agent cannot see (another user, or a socket still closing)'
        : `by pid ${fields.holder.pid} (${fields.holder.command})`;
    super(
      `Cannot start data node ${fields.nodeId}: port ${fields.port} (${fields.purpose}) on ${fields.host} is already in use ${who}. ` +
        'Choose another port for the node, or stop the process that holds it.',
      {
        reason: 'PORT_IN_USE',
        details: {
          port: String(fields.port),
          host: fields.host,
          ...(fields.holder === undefined ? {} : { holderPid: String(fields.holder.pid) }),
        },
      },
    );
    this.port = fields.port;
    this.host = fields.host;
    this.holder = fields.holder;
  }
}

/** The node exists with other properties (version, port, configuration). ALREADY_EXISTS. */
export class NodeConflictError extends AlreadyExistsError {
  constructor(message: string) {
    super(message, { reason: 'NODE_CONFLICT' });
  }
}

/** The server could not be started, or exited before it was ready. FAILED_PRECONDITION. */
export class StartFailedError extends FailedPreconditionError {
  constructor(message: string, cause?: unknown) {
    super(message, { reason: 'START_FAILED', ...(cause === undefined ? {} : { cause }) });
  }
}

/** The server was not ready before the start's own time limit; what was started was killed. DEADLINE_EXCEEDED. */
export class StartTimeoutError extends DeadlineExceededError {
  constructor(message: string) {
    super(message, { reason: 'START_TIMEOUT' });
  }
}

/** A data node did not exit, even after SIGKILL. UNAVAILABLE. */
export class StopFailedError extends UnavailableError {
  constructor(message: string) {
    super(message, { reason: 'STOP_FAILED' });
  }
}

/** The node is in the middle of another operation (a stop that was interrupted). ABORTED: retry. */
export class NodeBusyError extends AbortedError {
  constructor(message: string) {
    super(message, { reason: 'NODE_BUSY' });
  }
}

/** The supervisor was closed (the agent is stopping or restarting). UNAVAILABLE. */
export class SupervisorClosedError extends UnavailableError {
  constructor(operation: string) {
    super(`Cannot ${operation}: the data node supervisor is closed (the agent is stopping); retry against the new agent.`, {
      reason: 'SUPERVISOR_CLOSED',
    });
  }
}

/**
 * The error for an operation its signal aborted: the same kind as the signal's reason
 * when that is a typed error (DeadlineExceededError for a deadline, CancelledError for
 * a cancel, UnavailableError when the agent stops), with `message` saying what was
 * done about it. A plain abort counts as a cancel.
 */
export function abortedError(signal: AbortSignal, message: string): AgentCallError {
  const reason: unknown = signal.reason;
  if (reason instanceof AgentCallError) {
    const revived = reviveError(reason.code, `${message} (${reason.message})`, reason.reason, reason.details);
    Object.defineProperty(revived, 'cause', { value: reason, enumerable: false });
    return revived;
  }
  return new CancelledError(message, { cause: reason });
}
