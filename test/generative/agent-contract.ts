// The world's checks of the agent's contract (agent/server/idempotency.ts, validate.ts),
// made at the seam where the simulated transport hands requests to the REAL agent core
// (sim-agent.ts). They judge from ground truth — which requests the network delivered,
// which of them reached the backend and what the agent answered — never from the
// store's own files, so a mistake in the store, the fence or the validation cannot hide
// behind itself:
//
//   stale-epoch-admitted         the fence let a call in after it had let in a call of a
//                                higher epoch (on this VM, whatever restarts came between:
//                                the epoch the fence keeps is on its disk);
//   idempotency-broken           the work of a key ran again in the same agent process
//                                once it had run (a duplicate must wait for it, a repeat
//                                must get its outcome), or in any process once the agent
//                                had answered it (the outcome is recorded durably); a
//                                repeat was answered otherwise than the first answer;
//                                another request under a key in use ran, or was answered
//                                anything but INVALID_ARGUMENT;
//   malformed-request-accepted   a request that the contract forbids (malformed.ts)
//                                reached the backend, or was not refused.
//
// What counts as "recorded" is the contract's: a success, or a terminal error other than
// CANCELLED. A transient error is not, and a retry then runs again. The refusals that
// come before the store (a stale epoch, a malformed request or metadata) are not answers
// of the key.
import { canonicalJson } from '../../common/canonical-json.ts';
import { IDEMPOTENCY_KEY_METADATA } from '../../proto/metadata.ts';
import { AgentCallError, CancelledError, InvalidArgumentError, StaleLeaderError } from '../../proto/status.ts';
import type { Delivery } from './sim-agent.ts';
import type { SimVm, World } from './world.ts';

/** What a delivery ended with, as its caller would see it. */
export type Answer = { ok: true; response: unknown } | { ok: false; error: AgentCallError };

interface KeyState {
  /** The request the key first ran with. */
  readonly request: string;
  /** Works of the key in progress in the agent process `runningIn`. */
  running: number;
  runningIn: number;
  /** An agent process in which a work of the key finished with an outcome that is recorded. */
  finishedIn?: number;
  /** The first recorded answer the agent gave for the key. */
  answer?: string;
}

/** By VM (the records are on its disk): key → what happened to it. */
const ledgers = new WeakMap<SimVm, Map<string, KeyState>>();

/** By VM: the highest epoch its fence let a call in with, and the leader that presented it. */
const admittedEpochs = new WeakMap<SimVm, { epoch: number; leader: number }>();

/** The fence let `d` in with `epoch` (the core's admission resolved: in the order the fence admits). */
export function admitted(world: World, d: Delivery, epoch: number): void {
  const highest = admittedEpochs.get(d.vm);
  if (highest !== undefined && epoch < highest.epoch) {
    world.violate(
      'stale-epoch-admitted',
      `${where(d)} let in ${d.method} of epoch ${epoch} (leader #${d.caller.leader}) after it had let in a call of epoch ${highest.epoch} (leader #${highest.leader}): every older epoch must be refused`,
    );
  }
  if (highest === undefined || epoch > highest.epoch) admittedEpochs.set(d.vm, { epoch, leader: d.caller.leader });
}

function keysOf(vm: SimVm): Map<string, KeyState> {
  let keys = ledgers.get(vm);
  if (keys === undefined) {
    keys = new Map();
    ledgers.set(vm, keys);
  }
  return keys;
}

/** Whether an outcome is one the agent records for its key. */
function recorded(ok: boolean, error: unknown): boolean {
  return ok || (error instanceof AgentCallError && error.kind === 'terminal' && !(error instanceof CancelledError));
}

/** A refusal before the store: not an answer of the key. */
function refusedAtTheGate(error: AgentCallError): boolean {
  return error instanceof StaleLeaderError || error instanceof InvalidArgumentError;
}

function summary(answer: Answer): string {
  return answer.ok ? `OK ${canonicalJson(answer.response)}` : `${answer.error.name} (${answer.error.code}): ${answer.error.message}`;
}

function where(d: Delivery): string {
  return `the agent of ${d.vm.record.id}`;
}

/** Whether the key of `d` is in use on its agent: its work runs in the process now running, or it has run or been answered. */
export function keyInUse(vm: SimVm, key: string): boolean {
  const k = keysOf(vm).get(key);
  if (k === undefined) return false;
  return (k.running > 0 && k.runningIn === vm.agentIncarnation) || k.finishedIn === vm.agentIncarnation || k.answer !== undefined;
}

/** A mutating delivery's work reached the backend. */
export function workStarted(world: World, d: Delivery): void {
  if (d.stray === 'malformed') {
    world.violate('malformed-request-accepted', `${where(d)} ran ${d.method} for a request the contract forbids (it must be refused with INVALID_ARGUMENT): ${d.request.slice(0, 300)}`);
    return;
  }
  const keys = keysOf(d.vm);
  const k = keys.get(d.key);
  if (k === undefined) {
    keys.set(d.key, { request: d.request, running: 1, runningIn: d.incarnation });
    return;
  }
  const key = JSON.stringify(d.key);
  if (d.stray === 'reused-key' && !keyInUse(d.vm, d.key)) {
    // The first work of the key ended without an outcome to keep (a transient failure) in
    // the instant this request arrived: the key was free again, and running it is right.
    d.keyWasFree = true;
    return;
  }
  if (k.request !== d.request) {
    world.violate('idempotency-broken', `${where(d)} ran another request under key ${key}, first used for ${k.request.slice(0, 200)}: the same key with another request must be refused`);
  } else if (k.running > 0 && k.runningIn === d.incarnation) {
    world.violate('idempotency-broken', `${where(d)} ran ${d.method} of key ${key} while the same work of that key was running: a duplicate must wait for the first`);
  } else if (k.finishedIn === d.incarnation) {
    world.violate('idempotency-broken', `${where(d)} ran ${d.method} of key ${key} again in the process that had already run it: the repeat must get its outcome`);
  } else if (k.answer !== undefined) {
    world.violate('idempotency-broken', `${where(d)} ran ${d.method} of key ${key} again after answering it (${k.answer.slice(0, 120)}): the outcome is recorded and must be replayed`);
  }
  if (k.running > 0 && k.runningIn === d.incarnation) k.running++;
  else {
    k.running = 1;
    k.runningIn = d.incarnation;
  }
}

/** A mutating delivery's work in the backend ended (with an effect or not). */
export function workEnded(_world: World, d: Delivery, ok: boolean, error?: unknown): void {
  const k = keysOf(d.vm).get(d.key);
  if (d.stray === 'malformed' || k === undefined || k.request !== d.request) return;
  if (k.runningIn === d.incarnation && k.running > 0) k.running--;
  if (recorded(ok, error)) k.finishedIn = d.incarnation;
}

/**
 * The core answered a mutating delivery; `alive`: the process that answered still runs (an
 * answer from a process that died meanwhile never leaves the VM, and its record may not
 * have been written).
 */
export function answered(world: World, d: Delivery, answer: Answer, alive: boolean): void {
  const key = JSON.stringify(d.key);
  if (d.stray !== undefined) {
    if (d.keyWasFree === true) return;
    const refused =
      !answer.ok &&
      (answer.error instanceof StaleLeaderError ||
        answer.error.kind === 'transient' ||
        (answer.error instanceof InvalidArgumentError && (d.stray === 'malformed' || answer.error.field === IDEMPOTENCY_KEY_METADATA)));
    if (!refused) {
      const what = d.stray === 'malformed' ? `a malformed ${d.method} request` : `another ${d.method} request under key ${key}`;
      world.violate(
        d.stray === 'malformed' ? 'malformed-request-accepted' : 'idempotency-broken',
        `${where(d)} answered ${what} with ${summary(answer).slice(0, 200)} instead of refusing it (INVALID_ARGUMENT)`,
      );
    }
    return;
  }
  if (!alive || !recorded(answer.ok, answer.ok ? undefined : answer.error) || (!answer.ok && refusedAtTheGate(answer.error))) return;
  const k = keysOf(d.vm).get(d.key);
  if (k === undefined || k.request !== d.request) return;
  const now = summary(answer);
  if (k.answer === undefined) k.answer = now;
  else if (k.answer !== now) {
    world.violate('idempotency-broken', `${where(d)} answered a repeat of key ${key} with ${now.slice(0, 200)} after answering it with ${k.answer.slice(0, 200)}: a repeat must get the recorded outcome`);
  }
}
