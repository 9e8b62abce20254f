import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { systemClock } from '../../common/clock.ts';
import { IdempotencyStore, fingerprintOf, parseIdempotencyKey } from './idempotency.ts';
import { CancelledError, FailedPreconditionError, InvalidArgumentError, UnavailableError } from '../../proto/status.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../proto/metadata.ts';

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

test('an unreadable record (torn, another version, fields missing) is ignored: the key runs again, and prune removes it', () =>
  withStore(async (open, dir) => {
    const store = await open();
    const c = counter('v');
    await store.run({ key: 'k', method: 'M', request: {}, signal, execute: c.execute });
    const [file] = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    assert.ok(file !== undefined);
    const good = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    const bad = [
      '{"version":1,',
      JSON.stringify({ ...good, version: 2 }),
      ...['key', 'fingerprint', 'method', 'finishedAt', 'outcome'].map((f) => JSON.stringify({ ...good, [f]: undefined })),
      JSON.stringify({ ...good, outcome: null }),
    ];
    for (const text of bad) {
      await writeFile(path.join(dir, file), text);
      const runsBefore = c.runs;
      const r = await store.run({ key: 'k', method: 'M', request: {}, signal, execute: c.execute });
      assert.equal([c.runs - runsBefore, r.replayed].join(), '1,false', `ran again over ${text.slice(0, 60)}`);
    }
    for (const text of bad) {
      await writeFile(path.join(dir, file), text);
      assert.equal(await store.prune(), 1, `prune removes ${text.slice(0, 60)}`);
    }
    await writeFile(path.join(dir, 'notes.txt'), 'not a record');
    assert.equal(await store.prune(), 0, 'a file that is no record is left alone');
    assert.deepEqual((await readdir(dir)).sort(), ['notes.txt']);
  }));

test('a record under another key (the file name is the key\'s hash) or past its retention does not replay', () =>
  withStore(async (open, dir) => {
    let now = Date.parse('2024-01-01T00:00:00Z');
    const store = await open(() => now);
    const c = counter('v');
    await store.run({ key: 'k', method: 'M', request: {}, signal, execute: c.execute });
    const [file] = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    assert.ok(file !== undefined);
    const good = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, file), JSON.stringify({ ...good, key: 'another' }));
    assert.equal((await store.run({ key: 'k', method: 'M', request: {}, signal, execute: c.execute })).replayed, false);
    assert.equal(c.runs, 2);
    now += 60_001; // past the 60 s retention, not yet pruned
    assert.equal((await store.run({ key: 'k', method: 'M', request: {}, signal, execute: c.execute })).replayed, false);
    assert.equal(c.runs, 3);
    await writeFile(path.join(dir, file), JSON.stringify({ ...good, finishedAt: 'not a time' }));
    assert.equal((await store.run({ key: 'k', method: 'M', request: {}, signal, execute: c.execute })).replayed, false, 'an unreadable time counts as expired');
    assert.equal(c.runs, 4);
  }));

test('replayed says whether this call produced the response: false for the first, true for a joiner and for a replay', () =>
  withStore(async (open) => {
    const store = await open();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const execute = async (): Promise<string> => (await gate, 'done');
    const first = store.run({ key: 'k', method: 'M', request: { a: 1 }, signal, execute });
    const joiner = store.run({ key: 'k', method: 'M', request: { a: 1 }, signal, execute });
    await assert.rejects(store.run({ key: 'k', method: 'M', request: { a: 2 }, signal, execute }), InvalidArgumentError, 'a different request joins nothing');
    release();
    assert.deepEqual([(await first).replayed, (await joiner).replayed], [false, true]);
    assert.equal((await store.run({ key: 'k', method: 'M', request: { a: 1 }, signal, execute })).replayed, true);
    await assert.rejects(store.run({ key: 'k', method: 'M', request: { a: 2 }, signal, execute }), /idempotency key reused/, 'and neither does a recorded one');
  }));

test('a cancelled call is not recorded (the step may not have happened): the retry runs', () =>
  withStore(async (open) => {
    const store = await open();
    let runs = 0;
    const cancelled = async (): Promise<never> => {
      runs++;
      throw new CancelledError('the caller cancelled');
    };
    await assert.rejects(store.run({ key: 'c', method: 'M', request: {}, signal, execute: cancelled }), CancelledError);
    await assert.rejects(store.run({ key: 'c', method: 'M', request: {}, signal, execute: cancelled }), CancelledError);
    assert.equal(runs, 2);
  }));

test('the time of a record is the clock\'s', () =>
  withStore(async (open, dir) => {
    const at = Date.parse('2024-05-06T07:08:09Z');
    const store = await open(() => at);
    await store.run({ key: 'k', method: 'M', request: {}, signal, execute: async () => 1 });
    const [file] = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    assert.ok(file !== undefined);
    const record = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { finishedAt: string; key: string; method: string };
    assert.deepEqual([record.finishedAt, record.key, record.method], ['2024-05-06T07:08:09.000Z', 'k', 'M']);
  }));

test('records are pruned periodically on the store\'s clock, until close()', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-idem-'));
  try {
    let now = Date.parse('2024-01-01T00:00:00Z');
    const timers: Array<{ ms: number; fn: () => void; cancelled: boolean }> = [];
    const clock = {
      ...systemClock,
      now: () => now,
      timer: (ms: number, fn: () => void) => {
        const t = { ms, fn, cancelled: false };
        timers.push(t);
        return () => void (t.cancelled = true);
      },
    };
    const store = await IdempotencyStore.open({ dir, logger: silent, retentionMs: 60_000, clock });
    assert.deepEqual(timers.map((t) => t.ms), [15_000], 'a quarter of the retention');
    await store.run({ key: 'k', method: 'M', request: {}, signal, execute: async () => 1 });
    now += 61_000;
    timers[0]?.fn();
    for (const until = Date.now() + 5_000; timers.length < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.json')), [], 'the expired record was pruned by the timer');
    assert.equal(timers.length, 2, 'and the next round armed');
    store.close();
    assert.equal(timers[1]?.cancelled, true, 'close() cancels the pending round');
    const bounds = async (retentionMs: number, pruneIntervalMs?: number): Promise<number | undefined> => {
      timers.length = 0;
      const s = await IdempotencyStore.open({ dir, logger: silent, retentionMs, clock, ...(pruneIntervalMs === undefined ? {} : { pruneIntervalMs }) });
      s.close();
      return timers[0]?.ms;
    };
    assert.deepEqual(
      [await bounds(100), await bounds(24 * 3600_000), await bounds(60_000, 0), await bounds(60_000, 500)],
      [1000, 3600_000, undefined, 500],
      'at least 1 s, at most an hour, none with 0, as given otherwise',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a key of only spaces is refused; one of the longest length is taken', () => {
  const md = (v: string): Metadata => {
    const m = new Metadata();
    m.set('coxswain-idempotency-key', v);
    return m;
  };
  assert.throws(() => parseIdempotencyKey(md('   '), 'StartDataNode'), InvalidArgumentError);
  const longest = 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH);
  assert.equal(parseIdempotencyKey(md(longest), 'StartDataNode'), longest);
  assert.throws(() => parseIdempotencyKey(md(`${longest}k`), 'StartDataNode'), InvalidArgumentError);
});
