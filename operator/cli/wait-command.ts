// coxswain wait [--id N] [--timeout S] — blocks until the cluster is AT_DESIRED_STATE for
// the edit waited for, or says why it never will be. Without --id that is the newest edit
// the file the leader follows holds: the leader's status tells which id the file holds,
// a digest of the text it read (so a save the leader has not read yet is waited for) and
// whether that edit was accepted, is pending, or was ignored or refused — never success
// for an edit that was not taken. With --id N: desired state N (a later one counts).
// Each way of ending has its own exit code (WAIT_EXIT), so a script can tell them apart;
// a line is printed each time the state or the running step changes.
import { accessSync, constants } from 'node:fs';
import { readSourceFile } from '../../desired-state/read-source.ts';
import { connectLeader, NoLeaderError, type ConnectLeader } from '../leader/admin-client.ts';
import { fileTextDigest } from '../leader/file-status.ts';
import { plainKey, progressSummary } from '../leader/progress-view.ts';
import type { ClusterStatus, StatusFile } from '../model/status.ts';
import type { LeaderApi } from '../ports/leader-api.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, parseIdArgument, UsageError } from './usage.ts';

/** The exit codes of `coxswain wait` (the other commands use 0, 1 and 2 only). */
export const WAIT_EXIT = {
  reached: EXIT_OK,
  failed: EXIT_FAILED,
  usage: EXIT_USAGE,
  errorState: 3,
  refused: 4,
  timedOut: 5,
  noLeader: 6,
} as const;

export interface WaitCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
  /** How often the status is asked, in ms. @default 100 */
  pollMs: number;
  /** @default Date.now */
  now: () => number;
  /**
   * The digest of the desired-state file as it is on disk now (fileTextDigest of what
   * the file reader returns); null when it cannot be read as a desired-state text;
   * undefined when this process may not read it (then the leader's reading is trusted).
   */
  digestOnDisk: (file: string) => string | null | undefined;
}

/** @default 600 s */
const DEFAULT_TIMEOUT_S = 600;

/** What one status means for the wait. */
export type WaitVerdict = { done: true; code: number; message: string } | { done: false };

/**
 * Decides a wait from one status. `target` undefined: the newest edit of the file the
 * leader follows (status.file), read by the leader as it is on disk (`onDisk`); a leader
 * that reports no file: the newest desired state it knows (the waiting one, else the
 * accepted one). A cluster at a later accepted id than N has passed N: reached.
 */
export function judge(status: ClusterStatus, target: number | undefined, onDisk?: string | null): WaitVerdict {
  if (target !== undefined) return judgeId(status, target);
  if (status.file === null) return { done: false }; // the leader has not read its file yet
  if (status.file === undefined) {
    const newest = status.pendingId ?? status.acceptedId;
    return newest === null ? { done: false } : judgeId(status, newest);
  }
  return judgeFile(status, status.file, onDisk);
}

function judgeFile(status: ClusterStatus, file: StatusFile, onDisk: string | null | undefined): WaitVerdict {
  // A save the leader has not read yet (it reads the file ~0.3 s after it is saved).
  if (onDisk !== undefined && onDisk !== file.sha256) return { done: false };
  const keeps = `the cluster keeps desired state ${status.acceptedId ?? '— (none accepted yet)'}`;
  switch (file.outcome) {
    case 'ignored': {
      const accepted = status.acceptedId ?? 0;
      return {
        done: true,
        code: WAIT_EXIT.refused,
        message:
          `the edit in ${file.path} was ignored: the file's id ${file.id ?? '(none)'} is not higher than the accepted id ${accepted}: ` +
          `raise "id" to ${accepted + 1} or more and save it again; ${keeps}${reasonBlock(file.reason)}`,
      };
    }
    case 'refused':
      return {
        done: true,
        code: WAIT_EXIT.refused,
        message: `the edit in ${file.path}${file.id === null ? '' : ` (id ${file.id})`} was refused; ${keeps}. Fix the file and save it again${reasonBlock(file.reason)}`,
      };
    case 'failed':
      return { done: true, code: WAIT_EXIT.failed, message: `the leader could not take the edit in ${file.path}: ${file.reason ?? 'no reason given'}; save the file again to retry` };
    case 'accepted':
    case 'pending':
      return judgeId(status, file.id ?? status.acceptedId ?? Number.MAX_SAFE_INTEGER);
  }
}

function judgeId(status: ClusterStatus, want: number): WaitVerdict {
  const accepted = status.acceptedId ?? 0;
  const refusal = status.lastRefusal;
  if (refusal !== null && refusal.id === want && accepted < want && status.pendingId !== want) {
    return { done: true, code: WAIT_EXIT.refused, message: `desired state ${want} was refused; the cluster keeps desired state ${status.acceptedId ?? '—'}:\n${refusal.reason}` };
  }
  if (accepted < want) return { done: false };
  if (status.state === 'AT_DESIRED_STATE') {
    return { done: true, code: WAIT_EXIT.reached, message: `AT_DESIRED_STATE: desired state ${accepted}` };
  }
  if (status.state === 'ERROR_STATE') {
    const e = status.lastError;
    const why = e === null ? 'no reason given' : `${e.step} failed ${e.attempts} time${e.attempts === 1 ? '' : 's'}${e.jobId === undefined ? '' : ` (job ${e.jobId})`}: ${e.reason}`;
    return { done: true, code: WAIT_EXIT.errorState, message: `ERROR_STATE for desired state ${accepted}: ${why}` };
  }
  return { done: false };
}

function reasonBlock(reason: string | null): string {
  return reason === null || reason.trim() === '' ? '' : `:\n${reason.trimEnd()}`;
}

/** What the wait is for, in a time-out message. */
function describeTarget(status: ClusterStatus, target: number | undefined, onDisk: string | null | undefined): string {
  if (target !== undefined) return `desired state ${target}`;
  const file = status.file;
  if (file === undefined) return 'the desired state';
  if (file === null) return 'the leader to read its desired-state file';
  if (onDisk !== undefined && onDisk !== file.sha256) return `the leader to read the latest save of ${file.path} (it reads the file ~0.3 s after a save; is it watching the file?)`;
  return `the edit in ${file.path}${file.id === null ? '' : ` (desired state ${file.id})`}`;
}

/** fileTextDigest of the file as the leader's reader would read it; see WaitCommandDeps.digestOnDisk. */
export function digestOnDisk(file: string): string | null | undefined {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return undefined;
  }
  const read = readSourceFile(file);
  return read.ok ? fileTextDigest(read.source.text) : null;
}

export function makeWaitCommand(overrides: Partial<WaitCommandDeps> = {}): Command {
  const deps: WaitCommandDeps = { connect: connectLeader, pollMs: 100, now: Date.now, digestOnDisk, ...overrides };
  return {
    name: 'wait',
    summary: 'wait until the latest edit is AT_DESIRED_STATE, or say why it is not (exit codes 0-6)',
    usage: 'coxswain wait [--id N] [--timeout S] [--state-dir DIR]',
    help: `Waits until the running leader reports AT_DESIRED_STATE for the newest edit of the
desired-state file it follows, printing a line whenever the state or the running step
changes. A save the leader has not read yet is waited for (it reads the file ~0.3 s
after it is saved). An edit that was ignored (its id is not above the accepted one)
or refused (invalid) is never reported as reached: wait says why and exits 4.

Options:
  --id N             wait for desired state N instead (a later accepted id counts as
                     having reached N)
  --timeout S        give up after S seconds (default ${DEFAULT_TIMEOUT_S})
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status:
  0  AT_DESIRED_STATE for the edit (or desired state N)
  1  any other failure (e.g. the leader could not take the edit, or did not answer)
  2  usage
  3  ERROR_STATE for the edit (or desired state N)
  4  the edit (or desired state N) was refused or ignored
  5  time-out
  6  no leader running for the state directory`,
    async run(args, io) {
      const { values } = parseCommandLine('wait', args, { id: { type: 'string' }, timeout: { type: 'string' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const target = typeof values['id'] === 'string' ? parseIdArgument('wait', '--id', values['id']) : undefined;
      const timeoutS = typeof values['timeout'] === 'string' ? parseSeconds(values['timeout']) : DEFAULT_TIMEOUT_S;
      const started = deps.now();
      let leader: LeaderApi;
      try {
        leader = await deps.connect(resolveStateDir(values['state-dir']));
      } catch (err) {
        return noLeader(err, io);
      }
      let lastKey = '';
      for (;;) {
        let status: ClusterStatus;
        try {
          status = await leader.status();
        } catch (err) {
          return noLeader(err, io);
        }
        const onDisk = target === undefined && status.file !== undefined && status.file !== null ? deps.digestOnDisk(status.file.path) : undefined;
        const verdict = judge(status, target, onDisk);
        const key = plainKey(status);
        if (key !== lastKey && !verdict.done) {
          io.out(progressSummary(status));
          lastKey = key;
        }
        const seconds = ((deps.now() - started) / 1000).toFixed(1);
        if (verdict.done) {
          if (verdict.code === WAIT_EXIT.reached) io.out(`${verdict.message} (waited ${seconds} s)`);
          else io.err(`coxswain wait: ${verdict.message}`);
          return verdict.code;
        }
        if (deps.now() - started >= timeoutS * 1000) {
          io.err(
            `coxswain wait: timed out after ${seconds} s waiting for ${describeTarget(status, target, onDisk)}; ` +
              `the leader reports ${status.state} at desired state ${status.acceptedId ?? '—'} (see coxswain status)`,
          );
          return WAIT_EXIT.timedOut;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(deps.pollMs, timeoutS * 1000 - (deps.now() - started)))));
      }
    },
  };
}

/** No leader (exit 6) for NoLeaderError; anything else is thrown on (main prints it, exit 1). */
function noLeader(err: unknown, io: { err(text: string): void }): number {
  if (!(err instanceof NoLeaderError)) throw err;
  io.err(`coxswain wait: ${err.message}`);
  return WAIT_EXIT.noLeader;
}

export const waitCommand = makeWaitCommand();

function parseSeconds(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--timeout must be a number of seconds above 0, got "${text}"`, 'wait');
  }
  return value;
}
