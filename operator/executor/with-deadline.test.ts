import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineExceededError } from '../../proto/status.ts';
import { VirtualClock } from '../../test/support/virtual-clock.ts';
import { Deadline, withDeadline } from './with-deadline.ts';

const T0 = Date.UTC(2025, 0, 1);
const hang = (): Promise<never> => new Promise<never>(() => undefined);

test('withDeadline: the outcome of a call that answers in time, and no timer left behind', async () => {
  const clock = new VirtualClock();
  let seen: AbortSignal | undefined;
  const value = await clock.drive(
    withDeadline(clock, 1000, 'GetState on vm-1', undefined, async (signal) => {
      seen = signal;
      await clock.sleep(10, signal);
      return 42;
    }),
  );
  assert.equal(value, 42);
  assert.equal(seen?.aborted, false, 'a call that settled is not aborted');
  assert.equal(clock.pending, 0);
  await assert.rejects(
    clock.drive(withDeadline(clock, 1000, 'x', undefined, () => Promise.reject(new Error('refused')))),
    /refused/,
  );
  assert.equal(clock.pending, 0);
});

test('withDeadline: a call that ignores its signal still ends at the deadline, its signal aborted', async () => {
  const clock = new VirtualClock();
  let seen: AbortSignal | undefined;
  const call = withDeadline(clock, 2000, 'GetState on vm-2', undefined, (signal) => {
    seen = signal;
    return hang();
  });
  await assert.rejects(clock.drive(call), (err: unknown) => {
    assert.ok(err instanceof DeadlineExceededError);
    assert.match(err.message, /GetState on vm-2: no answer within 2000 ms/);
    return true;
  });
  assert.equal(clock.now() - T0, 2000);
  assert.ok(seen?.reason instanceof DeadlineExceededError);
});

test('withDeadline: the parent aborting ends the call with its reason; an aborted parent calls nothing', async () => {
  const clock = new VirtualClock();
  const parent = new AbortController();
  const call = withDeadline(clock, 2000, 'x', parent.signal, hang);
  parent.abort(new Error('leader stopping'));
  await assert.rejects(call, /leader stopping/);
  assert.equal(clock.pending, 0);
  let called = false;
  await assert.rejects(
    withDeadline(clock, 2000, 'x', parent.signal, () => {
      called = true;
      return Promise.resolve(1);
    }),
    /leader stopping/,
  );
  assert.equal(called, false);
});

test('Deadline: calls that start together share one deadline; each late one is told by name', async () => {
  const clock = new VirtualClock();
  const deadline = new Deadline(clock, 500, undefined);
  const signals: AbortSignal[] = [];
  const fast = deadline.race('GetState on vm-1', async (signal) => {
    signals.push(signal);
    await clock.sleep(5, signal);
    return 'vm-1';
  });
  const slow = ['vm-2', 'vm-3'].map((id) =>
    deadline.race(`GetState on ${id}`, (signal) => {
      signals.push(signal);
      return hang();
    }),
  );
  assert.equal(clock.pending, 2, 'one timer for the deadline, one sleep');
  const outcomes = await clock.drive(Promise.allSettled([fast, ...slow]));
  deadline.end();
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
    ['vm-1', 'GetState on vm-2: no answer within 500 ms', 'GetState on vm-3: no answer within 500 ms'],
  );
  assert.equal(new Set(signals).size, 1, 'one signal for all');
  assert.equal(signals[0]?.aborted, true);
  assert.equal(clock.now() - T0, 500);
  assert.equal(clock.pending, 0);
});

test('Deadline: end() cancels the timer; a parent that aborted before it began fails every call', async () => {
  const clock = new VirtualClock();
  const deadline = new Deadline(clock, 500, undefined);
  assert.equal(await clock.drive(deadline.race('x', () => Promise.resolve(1))), 1);
  deadline.end();
  assert.equal(clock.pending, 0);

  const parent = new AbortController();
  parent.abort(new Error('leader stopping'));
  const late = new Deadline(clock, 500, parent.signal);
  await assert.rejects(late.race('x', () => Promise.resolve(1)), /leader stopping/);
  late.end();
  assert.equal(clock.pending, 0);
});
