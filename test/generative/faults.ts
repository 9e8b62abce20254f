// Turns a scenario's faults (data, test/arbitraries/faults.ts) into decisions about
// individual calls while the scenario runs: which call fails and how, which times out,
// which is delivered twice or is slow, which succeeds without a visible effect, which
// hangs and which agent dies when a call to it is cancelled, which call is followed by a
// malformed copy or by another request under its key, and how slow the agents' disks
// are. Crashes, leader restarts, stale edits and faults in a repair are scheduled by the
// scenario runner (they are not about one call); the injector tells it of each call
// (onCall) for the last.
//
// Every injected error says "(injected fault)" in its message, so the harness can tell
// an ERROR_STATE the faults caused from one the leader caused by itself.
import {
  AbortedError,
  DeadlineExceededError,
  FailedPreconditionError,
  InternalError,
  ResourceExhaustedError,
  UnavailableError,
  UnknownError,
  type AgentCallError,
} from '../../proto/status.ts';
import type { CallError, Fault, InvisibleMethod } from '../arbitraries/faults.ts';

export const INJECTED = '(injected fault)';

export function injectedError(kind: CallError, what: string): AgentCallError {
  const message = `${what} failed ${INJECTED}`;
  switch (kind) {
    case 'unavailable':
      return new UnavailableError(message);
    case 'deadline-exceeded':
      return new DeadlineExceededError(message);
    case 'resource-exhausted':
      return new ResourceExhaustedError(message);
    case 'aborted':
      return new AbortedError(message);
    case 'internal':
      return new InternalError(message);
    case 'failed-precondition':
      return new FailedPreconditionError(message);
    case 'unknown':
      return new UnknownError(message);
  }
}

/** What happens to one mutating call. */
export interface CallDecision {
  /** Fails before any effect. */
  fail?: AgentCallError;
  /** Times out; the effect happens or not. */
  timeout?: { effect: boolean };
  /** A copy is delivered this many ms later. */
  duplicateAfterMs?: number;
  /** Extra processing time. */
  slowMs?: number;
  /** Answers success but the world does not show the effect (invisible-effects.ts). */
  invisible?: boolean;
  /** Never answers by itself: only the caller's deadline or abort ends it. */
  hangs?: boolean;
  /** A malformed copy (the `pick`-th way, malformed.ts) arrives this many ms later, under a key of its own. */
  malformed?: { afterMs: number; pick: number };
  /** Another request under the same key arrives this many ms later. */
  reuseKeyAfterMs?: number;
}

interface Ongoing {
  index: number;
  left: number;
  error: CallError;
  method: string;
  vmId: string;
  key: string;
  sticky: boolean;
}

export class FaultInjector {
  readonly faults: readonly Fault[];
  /** How often each fault (by index) took effect. */
  readonly fired: number[];
  /**
   * Injected failures per method and VM ("EnsureVersion on vm-7", as the error says),
   * whichever faults caused them: several faults can hit the same step (checks.ts).
   */
  readonly failuresByCall = new Map<string, number>();
  /**
   * Jobs (request.job.jobId) one of whose calls answered success while an
   * 'effect-invisible' fault hid its effect: an ERROR_STATE naming such a job's step
   * is one the faults made so (checks.ts).
   */
  readonly invisibleJobs = new Set<string>();
  #ongoing: Ongoing[] = [];
  /** 'effect-invisible' faults that found their call: the method, on this VM, is invisible for good. */
  readonly #invisible: { index: number; method: InvisibleMethod; vmId: string }[] = [];
  /** 'effect-invisible' faults waiting for their first call of the method, by index. */
  readonly #invisibleArmed = new Set<number>();
  /** VMs whose agent dies when a call to it is cancelled, with the fault's index. */
  readonly #diesOnCancel = new Map<string, number>();
  /**
   * Told of every mutating agent call and every provider call as it starts, by method
   * ("StartDataNode", "provider.restartAgent") and VM: the runner places the second
   * fault of an 'in-repair' by the calls of the repair.
   */
  onCall: ((method: string, vmId: string) => void) | undefined;
  /** Told of every GetState that answers (the VM was seen): the runner marks when a crash became visible. */
  onRead: ((vmId: string) => void) | undefined;

  constructor(faults: readonly Fault[]) {
    this.faults = faults;
    this.fired = faults.map(() => 0);
  }

  /** The decision for the `ordinal`-th mutating call (1-based). */
  mutatingCall(ordinal: number, method: string, vmId: string, key: string): CallDecision {
    this.onCall?.(method, vmId);
    const d: CallDecision = {};
    // Faults already under way: repeats with the same key, or (sticky) the same method on the same VM.
    for (const o of this.#ongoing) {
      if (o.left <= 0) continue;
      const hit = o.sticky ? o.method === method && o.vmId === vmId : o.key === key;
      if (hit && d.fail === undefined) {
        o.left--;
        this.fired[o.index] = (this.fired[o.index] ?? 0) + 1;
        d.fail = injectedError(o.error, `${method} on ${vmId}`);
      }
    }
    this.faults.forEach((f, index) => {
      if (!('call' in f) || f.kind === 'provider-fails' || f.call !== ordinal) return;
      this.fired[index] = (this.fired[index] ?? 0) + 1;
      switch (f.kind) {
        case 'call-fails':
          if (d.fail === undefined) d.fail = injectedError(f.error, `${method} on ${vmId}`);
          if (f.times > 1) this.#ongoing.push({ index, left: f.times - 1, error: f.error, method, vmId, key, sticky: f.sticky });
          break;
        case 'call-times-out':
          d.timeout = { effect: f.effect };
          break;
        case 'call-duplicated':
          d.duplicateAfterMs = f.delayMs;
          break;
        case 'call-slow':
          d.slowMs = (d.slowMs ?? 0) + f.ms;
          break;
        case 'effect-invisible':
          this.#invisibleArmed.add(index);
          break;
        case 'agent-dies-on-cancel':
          if (!this.#diesOnCancel.has(vmId)) this.#diesOnCancel.set(vmId, index);
          if (f.hangs) d.hangs = true;
          break;
        case 'call-malformed':
          d.malformed = { afterMs: f.delayMs, pick: f.pick };
          break;
        case 'key-reused':
          d.reuseKeyAfterMs = f.delayMs;
          break;
      }
    });
    // Succeeded but never visible: an armed fault takes the first call of its method (and its VM for good).
    for (const index of [...this.#invisibleArmed]) {
      const f = this.faults[index];
      if (f?.kind !== 'effect-invisible' || f.method !== method) continue;
      this.#invisibleArmed.delete(index);
      this.#invisible.push({ index, method: f.method, vmId });
    }
    const invisible = this.#invisible.find((v) => v.method === method && v.vmId === vmId);
    if (invisible !== undefined) {
      d.invisible = true;
      this.fired[invisible.index] = (this.fired[invisible.index] ?? 0) + 1;
    }
    if (d.fail !== undefined) {
      const what = `${method} on ${vmId}`;
      this.failuresByCall.set(what, (this.failuresByCall.get(what) ?? 0) + 1);
    }
    return d;
  }

  /** Whether the agent of `vmId` dies because a call to it was cancelled (an 'agent-dies-on-cancel' fault). */
  diesOnCancel(vmId: string): boolean {
    const index = this.#diesOnCancel.get(vmId);
    if (index === undefined) return false;
    this.fired[index] = (this.fired[index] ?? 0) + 1;
    return true;
  }

  /** How much longer than usual a durable write of an agent takes once `mutatingCalls` mutating calls were made ('disk-slow'). */
  diskSlowMs(mutatingCalls: number): number {
    let ms = 0;
    this.faults.forEach((f, index) => {
      if (f.kind !== 'disk-slow' || f.afterCall > mutatingCalls) return;
      this.fired[index] = (this.fired[index] ?? 0) + 1;
      ms += f.ms;
    });
    return ms;
  }

  /** Whether the `ordinal`-th GetState fails. */
  read(ordinal: number, vmId: string): AgentCallError | undefined {
    const index = this.faults.findIndex((f) => f.kind === 'read-fails' && f.read === ordinal);
    if (index < 0) {
      this.onRead?.(vmId);
      return undefined;
    }
    this.fired[index] = (this.fired[index] ?? 0) + 1;
    return injectedError('unavailable', `GetState on ${vmId}`);
  }

  /** Whether the `ordinal`-th provider call fails, and whether its effect happens first. */
  providerCall(ordinal: number, what: string): { error: AgentCallError; effect: boolean } | undefined {
    // "provider.create vm-5": the method, then the VM.
    const space = what.lastIndexOf(' ');
    if (space > 0) this.onCall?.(what.slice(0, space), what.slice(space + 1));
    const index = this.faults.findIndex((f) => f.kind === 'provider-fails' && f.call === ordinal);
    const f = this.faults[index];
    if (f === undefined || f.kind !== 'provider-fails') return undefined;
    this.fired[index] = (this.fired[index] ?? 0) + 1;
    return { error: injectedError(f.transient ? 'unavailable' : 'internal', what), effect: f.effect };
  }
}
