import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelay, withRetries } from './retry.ts';
import { NotFoundError, ResourceExhaustedError, UnavailableError } from '../../proto/status.ts';

test('delays follow the list, the last repeating, spread by the jitter', () => {
  const low = { delaysMs: [100, 200], maxAttempts: 9, jitter: 0.2, random: () => 0 };
  const high = { ...low, random: () => 1 };
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay(low, n)), [80, 160, 160, 160]);
  assert.deepEqual([1, 2, 3].map((n) => retryDelay(high, n)), [120, 240, 240]);
  assert.equal(retryDelay({ ...low, jitter: 0 }, 1), 100);
});

test('transient errors are retried until success; terminal ones are not', async () => {
  const policy = { delaysMs: [1], maxAttempts: 5, jitter: 0 };
  let n = 0;
  const retried: number[] = [];
  const value = await withRetries(policy, async () => {
    if (++n < 3) throw n === 1 ? new UnavailableError('a') : new ResourceExhaustedError('b');
    return 'ok';
  }, { onRetry: (_e, attempt) => retried.push(attempt) });
  assert.equal(value, 'ok');
  assert.deepEqual(retried, [1, 2]);

  let m = 0;
  await assert.rejects(withRetries(policy, async () => { m++; throw new NotFoundError('gone'); }), NotFoundError);
  assert.equal(m, 1);

  let k = 0;
  await assert.rejects(withRetries({ ...policy, maxAttempts: 3 }, async () => { k++; throw new UnavailableError('down'); }), UnavailableError);
  assert.equal(k, 3);
});

test('an abort ends the wait between attempts', async () => {
  const controller = new AbortController();
  const pending = withRetries({ delaysMs: [10_000], maxAttempts: 5, jitter: 0 }, async () => { throw new UnavailableError('down'); }, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('leader stopping')), 10);
  await assert.rejects(pending, /leader stopping/);
});
