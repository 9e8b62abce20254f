// Typed errors of the local VM provider. The executor treats a provider call like an
// agent call (proto/status.ts): a TransientError is retried after its delay list, a
// TerminalError fails the job at once. So every error a provider method throws is one
// of those classes, with a message that says which VM, what happened and what to do.
// Only the options error (a programming or configuration mistake at construction) is
// a plain Error, since it is raised before any step runs.
import {
  CancelledError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../proto/status.ts';

/** LocalVmProvider options that do not hold, every problem listed. */
export class VmProviderOptionsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid local VM provider options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'VmProviderOptionsError';
    this.problems = problems;
  }
}

/** A VmSpec field is not acceptable (terminal: the planner asked for something impossible). */
export class InvalidVmSpecError extends InvalidArgumentError {
  constructor(field: string, problem: string) {
    super(field, problem);
    this.name = 'InvalidVmSpecError';
  }
}

/** No VM with this id is in the inventory. */
export class VmNotFoundError extends NotFoundError {
  readonly vmId: string;
  constructor(vmId: string, doing: string) {
    super(`Cannot ${doing}: VM ${vmId} is not in the inventory of this cluster (list() shows the VMs it has).`, {
      details: { vmId },
    });
    this.name = 'VmNotFoundError';
    this.vmId = vmId;
  }
}

/**
 * A VM's agent did not come up: it exited during start-up, or did not answer SERVING
 * in time. Transient: a later attempt may find the port free again or the machine less
 * busy. The message holds the tail of the agent's log.
 */
export class AgentStartError extends UnavailableError {
  readonly vmId: string;
  readonly logFile: string;
  readonly logTail: string;
  constructor(vmId: string, what: string, logFile: string, logTail: string) {
    super(
      `The agent of VM ${vmId} ${what}. Its log is ${logFile}` +
        (logTail === '' ? ' (empty).' : `; its last lines:\n${logTail}`),
      { details: { vmId, logFile } },
    );
    this.name = 'AgentStartError';
    this.vmId = vmId;
    this.logFile = logFile;
    this.logTail = logTail;
  }
}

/** An agent (or a data node) would not exit, even after SIGKILL. */
export class ProcessStopError extends UnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessStopError';
  }
}

/** No port in the allowed range is free for a new VM. */
export class NoFreePortError extends ResourceExhaustedError {
  constructor(purpose: string, from: number, to: number, host: string) {
    super(
      `No free ${purpose} port in ${from}-${to} on ${host}: every port there is reserved by a VM of this cluster or in use. ` +
        'Delete VMs that are no longer needed, stop what uses those ports, or choose another port base.',
    );
    this.name = 'NoFreePortError';
  }
}

/** The inventory or the secret file on disk cannot be used as it is. */
export class VmStateFileError extends FailedPreconditionError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, { details: { file } });
    this.name = 'VmStateFileError';
    this.file = file;
  }
}

/** The caller's signal aborted a provider call. */
export class VmOperationCancelledError extends CancelledError {
  constructor(what: string) {
    super(`${what} was cancelled`);
    this.name = 'VmOperationCancelledError';
  }
}
