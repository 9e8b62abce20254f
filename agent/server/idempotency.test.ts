import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { systemClock } from '../../common/clock.ts';
import { IdempotencyStore, fingerprintOf, parseIdempotencyKey } from './idempotency.ts';
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from '../../proto/status.ts';

const silent = pino({ level: 'silent' });
const signal = new AbortController().signal;

async function withStore(fn: (open: (now?: () => number) => Promise<IdempotencyStore>, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-idem-'));
  const stores: IdempotencyStore[] = [];
  try {
    await fn(async (now) => {
      const s = await IdempotencyStore.open({ dir, logger: silent, retentionMs: 60_000, ...(now === undefined ? {} : { clock: { ...systemClock, now } }) });
      stores.push(s);
      return s;
    }, dir);
  } finally {
    for (const s of stores) s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function counter<T>(value: T): { runs: number; execute: () => Promise<T> } {
  const c = { runs: 0, execute: async () => (c.runs++, value) };
  return c;
}

test('the fingerprint ignores key order but not values', () => {
  assert.equal(fingerprintOf('M', { a: 1, b: { c: 2, d: 3 } }), fingerprintOf('M', { b: { d: 3, c: 2 }, a: 1 }));
  assert.notEqual(fingerprintOf('M', { a: 1 }), fingerprintOf('M', { a: 2 }));
  assert.notEqual(fingerprintOf('M', { a: 1 }), fingerprintOf('N', { a: 1 }));
});

test('a key without metadata, or too long, is INVALID_ARGUMENT naming the header', () => {
  assert.throws(() => parseIdempotencyKey(new Metadata(), 'StartDataNode'), (e: unknown) => e instanceof InvalidArgumentError && e.field === 'coxswain-idempotency-key');
  const long = new Metadata();
  long.set('coxswain-idempotency-key', 'k'.repeat(300));
  assert.throws(() => parseIdempotencyKey(long, 'StartDataNode'), InvalidArgumentError);
});

test('a repeated key runs once and replays the response', () =>
  withStore(async (open) => {
    const store = await open();
    const c = counter({ ok: 1 });
    const first = await store.run({ key: 'k', method: 'M', request: { x: 1 }, signal, execute: c.execute });
    const second = await store.run({ key: 'k', method: 'M', request: { x: 1 }, signal, execute: c.execute });
    assert.equal(c.runs, 1);
    assert.deepEqual(second.response, first.response);
    assert.equal(first.replayed, false);
    assert.equal(second.replayed, true);
  }));

test('the same key with another request is refused', () =>
  withStore(async (open) => {
    const store = await open();
    const c = counter('r');
    await store.run({ key: 'k', method: 'M', request: { x: 1 }, signal, execute: c.execute });
    await assert.rejects(store.run({ key: 'k', method: 'M', request: { x: 2 }, signal, execute: c.execute }), /idempotency key reused for a different request/);
    await assert.rejects(store.run({ key: 'k', method: 'N', request: { x: 1 }, signal, execute: c.execute }), InvalidArgumentError);
    assert.equal(c.runs, 1);
  }));

test('concurrent duplicates wait for the first and share its result', () =>
  withStore(async (open) => {
    const store = await open();
    let runs = 0;
    const execute = async (): Promise<string> => {
      runs++;
      await new Promise((r) => setTimeout(r, 50));
      return 'done';
    };
    const results = await Promise.all([1, 2, 3, 4].map(() => store.run({ key: 'k', method: 'M', request: {}, signal, execute })));
    assert.equal(runs, 1);
    assert.deepEqual(results.map((r) => r.response), ['done', 'done', 'done', 'done']);
    assert.deepEqual(results.map((r) => r.replayed), [false, true, true, true]);
    await assert.rejects(
      Promise.all([store.run({ key: 'j', method: 'M', request: { a: 1 }, signal, execute }), store.run({ key: 'j', method: 'M', request: { a: 2 }, signal, execute })]),
      InvalidArgumentError,
    );
  }));

test('terminal errors are recorded and replayed; transient ones are not', () =>
  withStore(async (open) => {
    const store = await open();
    let runs = 0;
    const terminal = async (): Promise<never> => {
      runs++;
      throw new FailedPreconditionError('node still serves slots');
    };
    await assert.rejects(store.run({ key: 't', method: 'M', request: {}, signal, execute: terminal }), FailedPreconditionError);
    await assert.rejects(store.run({ key: 't', method: 'M', request: {}, signal, execute: terminal }), /node still serves slots/);
    assert.equal(runs, 1);
    const transient = async (): Promise<never> => {
      runs++;
      throw new UnavailableError('busy');
    };
    await assert.rejects(store.run({ key: 'u', method: 'M', request: {}, signal, execute: transient }), UnavailableError);
    await assert.rejects(store.run({ key: 'u', method: 'M', request: {}, signal, execute: transient }), UnavailableError);
    assert.equal(runs, 3);
  }));

test('records survive a restart of the store', () =>
  withStore(async (open) => {
    const before = await open();
    await before.run({ key: 'k', method: 'M', request: { n: 1 }, signal, execute: async () => ({ port: 7000 }) });
    before.close();
    const after = await open();
    const c = counter({ port: 1 });
    const replay = await after.run({ key: 'k', method: 'M', request: { n: 1 }, signal, execute: c.execute });
    assert.deepEqual(replay.response, { port: 7000 });
    assert.equal(c.runs, 0);
  }));

test('records past the retention are pruned, and the key runs again', () =>
  withStore(async (open, dir) => {
    let now = Date.parse('2024-01-01T00:00:00Z');
    const store = await open(() => now);
    const c = counter('v');
    await store.run({ key: 'old', method: 'M', request: {}, signal, execute: c.execute });
    now += 30_000;
    await store.run({ key: 'young', method: 'M', request: {}, signal, execute: c.execute });
    now += 40_000; // 'old' is 70 s old, past the 60 s retention
    assert.equal(await store.prune(), 1);
    assert.equal((await readdir(dir)).length, 1);
    await store.run({ key: 'old', method: 'M', request: {}, signal, execute: c.execute });
    assert.equal(c.runs, 3);
  }));

test('a caller that gives up stops waiting; the work goes on and is recorded', () =>
  withStore(async (open) => {
    const store = await open();
    const controller = new AbortController();
    let runs = 0;
    const execute = async (): Promise<string> => {
      runs++;
      await new Promise((r) => setTimeout(r, 60));
      return 'finished';
    };
    const first = store.run({ key: 'k', method: 'M', request: {}, signal: controller.signal, execute });
    setTimeout(() => controller.abort(new UnavailableError('caller left')), 10);
    await assert.rejects(first, /caller left/);
    await new Promise((r) => setTimeout(r, 80));
    const again = await store.run({ key: 'k', method: 'M', request: {}, signal, execute });
    assert.equal(again.response, 'finished');
    assert.equal(runs, 1);
  }));
