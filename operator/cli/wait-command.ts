// coxswain wait [--id N] [--timeout S] — blocks until the cluster is AT_DESIRED_STATE for
// desired state N (exit 0), or fails: ERROR_STATE for N, N refused, the leader gone, or
// the time-out (exit 1). Scripts and CI run it after an edit; it prints a line each time
// the state or the running step changes, so a long wait shows what it waits for.
import { connectLeader, type ConnectLeader } from '../leader/admin-client.ts';
import { plainKey, progressSummary } from '../leader/progress-view.ts';
import type { ClusterStatus } from '../model/status.ts';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.ts';
import { resolveStateDir, stateDirOption } from './state-dir.ts';
import { parseCommandLine, parseIdArgument, UsageError } from './usage.ts';

export interface WaitCommandDeps {
  /** @default the admin interface of the leader running for the state directory */
  connect: ConnectLeader;
  /** How often the status is asked, in ms. @default 500 */
  pollMs: number;
  /** @default Date.now */
  now: () => number;
}

/** @default 600 s */
const DEFAULT_TIMEOUT_S = 600;

/** What one status means for a wait on `target`. */
export type WaitVerdict = { done: true; ok: boolean; message: string } | { done: false };

/**
 * Decides a wait from one status. `target` undefined: the newest desired state the leader
 * knows (the waiting one, else the accepted one). A cluster at a later accepted id than
 * N has passed N, which counts as reached.
 */
export function judge(status: ClusterStatus, target: number | undefined): WaitVerdict {
  const want = target ?? status.pendingId ?? status.acceptedId ?? undefined;
  if (want === undefined) return { done: false };
  const accepted = status.acceptedId ?? 0;
  const refusal = status.lastRefusal;
  if (refusal !== null && refusal.id === want && accepted < want && status.pendingId !== want) {
    return { done: true, ok: false, message: `desired state ${want} was refused; the cluster keeps desired state ${status.acceptedId ?? '—'}:\n${refusal.reason}` };
  }
  if (accepted < want) return { done: false };
  if (status.state === 'AT_DESIRED_STATE') {
    return { done: true, ok: true, message: `AT_DESIRED_STATE: desired state ${accepted}` };
  }
  if (status.state === 'ERROR_STATE') {
    const e = status.lastError;
    const why = e === null ? 'no reason given' : `${e.step} failed ${e.attempts} time${e.attempts === 1 ? '' : 's'}${e.jobId === undefined ? '' : ` (job ${e.jobId})`}: ${e.reason}`;
    return { done: true, ok: false, message: `ERROR_STATE for desired state ${accepted}: ${why}` };
  }
  return { done: false };
}

export function makeWaitCommand(overrides: Partial<WaitCommandDeps> = {}): Command {
  const deps: WaitCommandDeps = { connect: connectLeader, pollMs: 100, now: Date.now, ...overrides };
  return {
    name: 'wait',
    summary: 'wait until the cluster is at a desired state (exit 0) or in ERROR_STATE (exit 1)',
    usage: 'coxswain wait [--id N] [--timeout S] [--state-dir DIR]',
    help: `Waits until the running leader reports AT_DESIRED_STATE for desired state N,
printing a line whenever the state or the running step changes.

Options:
  --id N             the desired-state id to wait for (default: the newest the
                     leader knows: the waiting one, else the accepted one). After an
                     edit, give the new id: the leader reads the file ~0.3 s after
                     it is saved. A later accepted id counts as having reached N.
  --timeout S        give up after S seconds (default ${DEFAULT_TIMEOUT_S})
  --state-dir DIR    state directory (default: $COXSWAIN_STATE_DIR or .coxswain)

Exit status: 0 at the desired state; 1 ERROR_STATE, desired state N refused,
time-out, or no leader running; 2 usage.`,
    async run(args, io) {
      const { values } = parseCommandLine('wait', args, { id: { type: 'string' }, timeout: { type: 'string' }, ...stateDirOption }, { min: 0, max: 0, names: '' });
      const target = typeof values['id'] === 'string' ? parseIdArgument('wait', '--id', values['id']) : undefined;
      const timeoutS = typeof values['timeout'] === 'string' ? parseSeconds(values['timeout']) : DEFAULT_TIMEOUT_S;
      const leader = await deps.connect(resolveStateDir(values['state-dir']));
      const started = deps.now();
      let lastKey = '';
      for (;;) {
        const status = await leader.status();
        const verdict = judge(status, target);
        const key = plainKey(status);
        if (key !== lastKey && !verdict.done) {
          io.out(progressSummary(status));
          lastKey = key;
        }
        const seconds = ((deps.now() - started) / 1000).toFixed(1);
        if (verdict.done) {
          if (verdict.ok) io.out(`${verdict.message} (waited ${seconds} s)`);
          else io.err(`coxswain wait: ${verdict.message}`);
          return verdict.ok ? EXIT_OK : EXIT_FAILED;
        }
        if (deps.now() - started >= timeoutS * 1000) {
          const what = target === undefined ? 'the desired state' : `desired state ${target}`;
          io.err(`coxswain wait: timed out after ${seconds} s waiting for ${what}; the leader reports ${status.state} at desired state ${status.acceptedId ?? '—'} (see coxswain status)`);
          return EXIT_FAILED;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(deps.pollMs, timeoutS * 1000 - (deps.now() - started)))));
      }
    },
  };
}

export const waitCommand = makeWaitCommand();

function parseSeconds(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--timeout must be a number of seconds above 0, got "${text}"`, 'wait');
  }
  return value;
}
