import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { systemClock } from './clock.ts';

test('systemClock.timer calls fn once ms have passed, and not at all once cancelled', async () => {
  const fired: string[] = [];
  systemClock.timer(5, () => fired.push('kept'));
  const cancel = systemClock.timer(5, () => fired.push('cancelled'));
  cancel();
  await systemClock.sleep(30);
  assert.deepEqual(fired, ['kept']);
});

test('systemClock.sleep rejects with the signal reason when it aborts first', async () => {
  const ctl = new AbortController();
  const sleeping = systemClock.sleep(60_000, ctl.signal);
  ctl.abort(new RangeError('stop'));
  await assert.rejects(sleeping, RangeError);
});

test('a pending systemClock.timer does not keep the process alive; a pending sleep does', () => {
  const run = (body: string): { status: number | null; ms: number } => {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { systemClock } from ${JSON.stringify(new URL('./clock.ts', import.meta.url).href)}; ${body}`], {
      timeout: 20_000,
      stdio: 'ignore',
    });
    return { status: r.status, ms: Date.now() - started };
  };
  const timer = run('systemClock.timer(60_000, () => process.exit(3));');
  assert.equal(timer.status, 0, 'the process exits at once, without running fn');
  assert.ok(timer.ms < 15_000, `exited after ${timer.ms} ms`);
  const sleep = run('await systemClock.sleep(300); process.exit(4);');
  assert.equal(sleep.status, 4, 'the sleep held the process until it woke');
});
