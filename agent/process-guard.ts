// The agent's last resort against an error nobody handled. Node ends a process on an
// unhandled promise rejection; one agent died that way of "CancelledError: the caller
// cancelled GetState" (a call's work that failed after its caller had gone), and the
// leader then took its freshly created VM for failed. Every call now handles its own
// work (agent/server/service.ts, deadline.ts raceSignal); this guard is for the next
// path that does not: it logs ONE structured line (what, which call when known, what to
// do) and decides whether the agent keeps serving.
//
// What keeps the agent serving, and what ends it:
// - An unhandled REJECTION never ends it. By the time a rejection is reported, the
//   async function that produced it has returned — its `finally` blocks ran, no code was
//   cut off half-way — so the process is in a state its code knows. It is nearly always
//   the work of a call whose caller had gone (cancelled, deadline passed) or a backend
//   step that failed with nobody awaiting it; killing the agent for it takes every other
//   call and the WatchState streams with it, and the leader then sees a dead agent.
// - An uncaught EXCEPTION ends it (exit status 70, EX_SOFTWARE). A synchronous throw
//   that reached the event loop unwound an event handler, timer or listener part-way
//   through, whatever it was updating (a node's phase, a lock queue, a stream) may be
//   half-changed, and Node documents that resuming after it is unsafe. The agent is
//   cheap to restart: its data nodes run detached and keep serving, the next agent on
//   the same data directory adopts them (agent/supervisor.ts), and the leader restarts
//   a dead agent (operator/vm/local-provider.ts restartAgent).
//
// Never a secret: lines go through the agent's logger, which redacts the cluster secret
// (agent/server/logger.ts); only the error (message, stack, code) and the call's method
// are logged, never a request or its metadata.
import type { Logger } from 'pino';
import { callOfError } from './server/deadline.ts';

/** Exit status of an agent ended by an uncaught exception (EX_SOFTWARE, sysexits.h). */
export const UNCAUGHT_EXIT_CODE = 70;

/** The parts of `process` the guard uses (tests pass an EventEmitter). */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (err: Error, origin: string) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (err: Error, origin: string) => void): unknown;
}

export interface ProcessGuardOptions {
  /** The agent's (redacting) logger. */
  logger: Logger;
  /** @default process */
  process?: GuardedProcess;
  /** Ends the process. @default process.exit */
  exit?: (code: number) => void;
}

function errorFields(err: unknown): { err: unknown; call: string | undefined } {
  return { err: err instanceof Error ? err : { message: String(err) }, call: callOfError(err) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Installs the guard on the process; returns a function that removes it. Installing it
 * again while it is installed (several agents in one process) only counts: the first
 * logger is the one used, and the guard stays until every installer removed it.
 */
export function installProcessGuard(options: ProcessGuardOptions): () => void {
  const target = options.process ?? process;
  const existing = installed.get(target);
  if (existing !== undefined) {
    existing.count++;
    return once(() => release(target));
  }
  const log = options.logger;
  const exit = options.exit ?? ((code: number) => process.exit(code));

  const onRejection = (reason: unknown): void => {
    const { err, call } = errorFields(reason);
    log.error(
      {
        guard: 'unhandledRejection',
        call,
        err,
        action: 'none needed: the agent keeps serving; report this line, it names a path that left a failure unhandled',
      },
      `Caught an unhandled rejection${call === undefined ? '' : ` of ${call}`}: ${messageOf(reason)}; kept serving`,
    );
  };
  const onException = (error: Error, origin: string): void => {
    const { err, call } = errorFields(error);
    try {
      log.fatal(
        {
          guard: 'uncaughtException',
          origin,
          call,
          err,
          exitCode: UNCAUGHT_EXIT_CODE,
          action: "the agent exits; its data nodes keep running and the next agent adopts them (the leader restarts it); report this line",
        },
        `Caught an uncaught exception${call === undefined ? '' : ` in ${call}`}: ${messageOf(error)}; exiting, the process may be in an unknown state`,
      );
      log.flush?.();
    } finally {
      exit(UNCAUGHT_EXIT_CODE);
    }
  };
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  installed.set(target, {
    count: 1,
    remove: () => {
      target.off('unhandledRejection', onRejection);
      target.off('uncaughtException', onException);
    },
  });
  return once(() => release(target));
}

const installed = new Map<GuardedProcess, { count: number; remove: () => void }>();

function release(target: GuardedProcess): void {
  const entry = installed.get(target);
  if (entry === undefined) return;
  if (--entry.count > 0) return;
  entry.remove();
  installed.delete(target);
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
