import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { callSignal, raceSignal, sleep } from './deadline.ts';
import type { DeadlineCall, LateOutcome } from './deadline.ts';
import { CancelledError, DeadlineExceededError, UnavailableError } from '../../proto/status.ts';

function fakeCall(deadline: Date | number): DeadlineCall & EventEmitter {
  return Object.assign(new EventEmitter(), { getDeadline: () => deadline });
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
}

test("the caller's deadline aborts the signal with DEADLINE_EXCEEDED", async () => {
  const s = callSignal(fakeCall(new Date(Date.now() + 40)), { maxMs: 60_000, method: 'StartDataNode' });
  assert.equal(s.fromCaller, true);
  const reason = await aborted(s.signal);
  assert.ok(reason instanceof DeadlineExceededError);
  assert.match(reason.message, /StartDataNode did not finish within the caller's deadline/);
  s.dispose();
});

test("a call without a deadline gets the agent's maximum", async () => {
  const s = callSignal(fakeCall(Infinity), { maxMs: 30, method: 'GetState' });
  assert.equal(s.fromCaller, false);
  const reason = await aborted(s.signal);
  assert.ok(reason instanceof DeadlineExceededError);
  assert.match(reason.message, /agent's maximum/);
  const later = callSignal(fakeCall(Date.now() + 3_600_000), { maxMs: 1000, method: 'GetState' });
  assert.equal(later.fromCaller, false, 'a deadline beyond the maximum is capped');
  later.dispose();
});

test('a cancel by the caller and a stopping agent abort the signal too', async () => {
  const call = fakeCall(Infinity);
  const s = callSignal(call, { maxMs: 60_000, method: 'MoveData' });
  call.emit('cancelled');
  assert.ok(s.signal.reason instanceof CancelledError);
  s.dispose();

  const stopping = new AbortController();
  const t = callSignal(fakeCall(Infinity), { maxMs: 60_000, method: 'MoveData', stopping: stopping.signal });
  stopping.abort();
  assert.ok(t.signal.reason instanceof UnavailableError);
  t.dispose();
});

test('after dispose the signal no longer aborts', async () => {
  const call = fakeCall(Date.now() + 20);
  const s = callSignal(call, { maxMs: 60_000, method: 'GetState' });
  s.dispose();
  await sleep(40);
  call.emit('cancelled');
  assert.equal(s.signal.aborted, false);
  assert.equal(call.listenerCount('cancelled'), 0);
});

test('raceSignal and sleep give up when the signal aborts', async () => {
  const c = new AbortController();
  const pending = raceSignal(new Promise(() => undefined), c.signal);
  const sleeping = sleep(10_000, c.signal);
  c.abort(new DeadlineExceededError('late'));
  await assert.rejects(pending, DeadlineExceededError);
  await assert.rejects(sleeping, DeadlineExceededError);
  assert.equal(await raceSignal(Promise.resolve(3), new AbortController().signal), 3);
});

test('raceSignal handles the work it lost, even when the signal aborted before the race began', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const c = new AbortController();
    c.abort(new CancelledError('the caller cancelled GetState'));
    let fail!: (err: Error) => void;
    const work = new Promise<never>((_, reject) => (fail = reject));
    const late: LateOutcome[] = [];
    await assert.rejects(raceSignal(work, c.signal, (o) => late.push(o)), CancelledError);
    // The work fails after its caller left, the way a backend observing the signal does.
    fail(new CancelledError('the caller cancelled GetState'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], 'no rejection is left unhandled');
    assert.equal(late.length, 1);
    assert.equal(late[0]?.ok, false);

    // Aborted during the race: the same.
    const c2 = new AbortController();
    let fail2!: (err: Error) => void;
    const pending = raceSignal(new Promise<never>((_, reject) => (fail2 = reject)), c2.signal);
    c2.abort(new DeadlineExceededError('late'));
    await assert.rejects(pending, DeadlineExceededError);
    fail2(new DeadlineExceededError('late'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
