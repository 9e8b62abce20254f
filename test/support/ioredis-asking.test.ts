import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import './ioredis-asking.ts';

test('an ASKING whose connection closes before it is sent rejects without an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  // Nothing is contacted: lazyConnect queues the commands offline until disconnect() flushes them.
  const redis = new Redis({ lazyConnect: true, port: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    const asking = redis.asking(); // as ioredis's Cluster does on an ASK redirection: no handler
    redis.disconnect();
    await sleep(50);
    assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
    await assert.rejects(asking, /Connection is closed|connection/i, 'the ASKING itself still rejects for a caller that awaits it');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    redis.disconnect();
  }
});
