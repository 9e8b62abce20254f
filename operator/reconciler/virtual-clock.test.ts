import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock, settle } from './virtual-clock.ts';

const T0 = Date.UTC(2025, 0, 1);

test('manual: sleeps wake when time is advanced past them, in due order', async () => {
  const clock = new VirtualClock();
  const woke: string[] = [];
  void clock.sleep(300).then(() => woke.push(`c@${clock.now() - T0}`));
  void clock.sleep(100).then(() => woke.push(`a@${clock.now() - T0}`));
  void clock.sleep(100).then(() => woke.push(`b@${clock.now() - T0}`));
  await settle();
  assert.deepEqual(woke, []);
  assert.equal(clock.pending, 3);
  assert.equal(clock.nextDue(), T0 + 100);
  await clock.advance(200);
  assert.deepEqual(woke, ['a@100', 'b@100'], 'each woke at its own due time; ties in the order taken');
  assert.equal(clock.now(), T0 + 200);
  await clock.advance(100);
  assert.deepEqual(woke, ['a@100', 'b@100', 'c@300']);
  assert.deepEqual(clock.sleeps, [300, 100, 100]);
});

test('manual: what a wake-up causes happens before the next wake-up', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  void clock.sleep(10).then(async () => {
    order.push('first');
    await clock.sleep(5); // due at 15, before the one due at 20
    order.push('chained');
  });
  void clock.sleep(20).then(() => order.push('second'));
  await clock.advance(30);
  assert.deepEqual(order, ['first', 'chained', 'second']);
});

test('an aborted sleep rejects with the reason and is forgotten', async () => {
  const clock = new VirtualClock();
  const ctl = new AbortController();
  const sleeping = clock.sleep(1000, ctl.signal);
  ctl.abort(new Error('stop'));
  await assert.rejects(sleeping, /stop/);
  assert.equal(clock.pending, 0);
  await assert.rejects(clock.sleep(5, ctl.signal), /stop/, 'already aborted: rejects at once');
});

test('auto: sleeps resolve without anyone advancing, in due order, and now moves to each due time', async () => {
  const clock = new VirtualClock({ mode: 'auto' });
  const woke: number[] = [];
  await Promise.all([clock.sleep(5000).then(() => woke.push(clock.now() - T0)), clock.sleep(100).then(() => woke.push(clock.now() - T0))]);
  assert.deepEqual(woke, [100, 5000]);
  // A deadline timer loses against work that finishes without waiting.
  const ctl = new AbortController();
  const deadline = clock.sleep(30_000, ctl.signal).then(() => 'deadline');
  const work = Promise.resolve('work');
  const first = await Promise.race([work, deadline]);
  ctl.abort(new Error('done'));
  await deadline.catch(() => undefined);
  assert.equal(first, 'work');
  assert.equal(clock.now() - T0, 5000);
});

test('drive and runUntil let only as much time pass as needed', async () => {
  const clock = new VirtualClock();
  const value = await clock.drive(
    (async () => {
      await clock.sleep(250);
      await clock.sleep(250);
      return 'ok';
    })(),
  );
  assert.equal(value, 'ok');
  assert.equal(clock.now() - T0, 500);
  let flag = false;
  void clock.sleep(1000).then(() => (flag = true));
  void clock.sleep(9000);
  assert.equal(await clock.runUntil(() => flag), 'condition');
  assert.equal(clock.now() - T0, 1500);
  assert.equal(await clock.runUntil(() => false, 1000), 'time-limit');
  assert.equal(await clock.runUntil(() => false), 'idle');
});
