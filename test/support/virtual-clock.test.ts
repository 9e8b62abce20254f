import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock, VirtualClockError, settle } from './virtual-clock.ts';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

test('manual: sleeps wake when time is advanced past them, in due order', async () => {
  const clock = new VirtualClock({ recordSleeps: true });
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

test('sleeps are recorded only when asked for', async () => {
  const clock = new VirtualClock();
  await clock.drive(clock.sleep(10));
  assert.deepEqual(clock.sleeps, []);
});

test('a cancelled timer never fires and is no longer pending; schedule() fires before timer() at the same instant', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  const cancel = clock.timer(50, () => order.push('cancelled'));
  clock.timer(100, () => order.push('timer'));
  clock.schedule(100, () => order.push('schedule'));
  assert.equal(clock.pending, 3);
  cancel();
  assert.equal(clock.pending, 2);
  assert.equal(clock.nextDue(), T0 + 100, 'the cancelled timer is not the next one due');
  assert.equal(await clock.run({ until: () => false, maxTime: T0 + HOUR, maxEvents: 100 }), 'idle');
  assert.deepEqual(order, ['schedule', 'timer'], 'schedule runs as its timer fires, timer() as a job of its own after');
  assert.equal(clock.fired, 2);
  assert.equal(clock.pending, 0);
});

test('run(): every timer due at one instant fires before the promise chains settle', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  void clock.sleep(10).then(async () => {
    order.push('first');
    await clock.sleep(0); // due at 10 too, but taken after the second one fired
    order.push('chained');
  });
  void clock.sleep(10).then(() => order.push('second'));
  assert.equal(await clock.run({ until: () => false, maxTime: T0 + HOUR, maxEvents: 100 }), 'idle');
  assert.deepEqual(order, ['first', 'second', 'chained']);
  assert.equal(clock.now() - T0, 10);
});

test('the step driver, unlike run(), settles between two wake-ups due at one instant', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  void clock.sleep(10).then(() => {
    order.push('first');
    clock.schedule(0, () => order.push('scheduled by first'));
  });
  void clock.sleep(10).then(() => order.push('second'));
  await clock.advance(10);
  assert.deepEqual(order, ['first', 'second', 'scheduled by first']);
});

test('run() stops at its time and event limits, keeping the timer that would pass them', async () => {
  const clock = new VirtualClock();
  let fired = 0;
  for (const ms of [10, 20, 30, 5000]) clock.schedule(ms, () => fired++);
  assert.equal(await clock.run({ until: () => false, maxTime: T0 + HOUR, maxEvents: 2 }), 'event-limit');
  assert.equal(fired, 2);
  assert.equal(await clock.run({ until: () => false, maxTime: T0 + 1000, maxEvents: 100 }), 'time-limit');
  assert.equal(fired, 3);
  assert.equal(clock.now() - T0, 30, 'time stops at the last timer fired, not at the limit');
  assert.equal(clock.nextDue(), T0 + 5000);
  assert.equal(await clock.run({ until: () => fired === 4, maxTime: T0 + HOUR, maxEvents: 100 }), 'until');
});

test('run() keeps due order across many timers taken out of order (the heap)', async () => {
  const clock = new VirtualClock();
  const woke: number[] = [];
  const dues = Array.from({ length: 200 }, (_, i) => (i * 7919) % 1000);
  for (const ms of dues) void clock.sleep(ms).then(() => woke.push(clock.now() - T0));
  const cancels = dues.map((ms) => clock.timer(ms, () => woke.push(-1)));
  for (const c of cancels) c();
  assert.equal(await clock.run({ until: () => false, maxTime: T0 + HOUR, maxEvents: 10_000 }), 'idle');
  assert.deepEqual(woke, [...dues].sort((a, b) => a - b));
});

test('drive() throws a VirtualClockError when the promise never settles', async () => {
  const clock = new VirtualClock();
  await assert.rejects(clock.drive(new Promise<never>(() => undefined)), (err: unknown) => err instanceof VirtualClockError && /idle/.test(err.message));
});
