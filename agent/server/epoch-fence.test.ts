import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { pino } from 'pino';
import '../../test/support/seed.ts'; // every property runs on the run's seed
import { EPOCH_FILE, EpochFence, parseEpoch } from './epoch-fence.ts';
import type { StateDir } from './state-dir.ts';
import { InvalidArgumentError, StaleLeaderError, UnavailableError } from '../../proto/status.ts';

const silent = pino({ level: 'silent' });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coxswain-epoch-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('parseEpoch reads a decimal and names coxswain-epoch when it cannot', () => {
  const m = (v?: string): Metadata => {
    const md = new Metadata();
    if (v !== undefined) md.set('coxswain-epoch', v);
    return md;
  };
  assert.equal(parseEpoch(m('0')), 0);
  assert.equal(parseEpoch(m('42')), 42);
  for (const bad of [undefined, '', 'x', '-1', '1e3', '0x10', '99999999999999999']) {
    assert.throws(() => parseEpoch(m(bad)), (e: unknown) => e instanceof InvalidArgumentError && e.field === 'coxswain-epoch', String(bad));
  }
});

test('a higher epoch is on disk before admit returns; a lower one is refused; an equal one accepted', () =>
  withDir(async (dir) => {
    const fence = await EpochFence.open(dir, silent);
    assert.equal(fence.highestSeen, 0);
    await fence.admit(5);
    assert.equal(await readFile(path.join(dir, EPOCH_FILE), 'utf8'), '5\n');
    await fence.admit(5);
    await assert.rejects(fence.admit(3), (e: unknown) => e instanceof StaleLeaderError && /^stale leader: epoch 3 < 5 seen/.test(e.message));
    const reopened = await EpochFence.open(dir, silent);
    assert.equal(reopened.highestSeen, 5);
    await assert.rejects(reopened.admit(4), StaleLeaderError);
  }));

test('concurrent raises end at the highest epoch; calls below it are refused', () =>
  withDir(async (dir) => {
    const fence = await EpochFence.open(dir, silent);
    const epochs = [7, 6, 9, 8, 2, 9];
    const results = await Promise.allSettled(epochs.map((e) => fence.admit(e)));
    assert.equal(fence.highestSeen, 9);
    assert.equal(await readFile(path.join(dir, EPOCH_FILE), 'utf8'), '9\n');
    results.forEach((r, i) => {
      if (epochs[i] === 9) assert.equal(r.status, 'fulfilled');
      if (r.status === 'rejected') assert.ok(r.reason instanceof StaleLeaderError);
    });
  }));

test('a corrupt epoch file stops the agent from starting, with what to do', () =>
  withDir(async (dir) => {
    await writeFile(path.join(dir, EPOCH_FILE), 'five');
    await assert.rejects(EpochFence.open(dir, silent), /corrupt.*write the current leader epoch into it/);
  }));

// ---- concurrency: every interleaving of arrivals and epoch writes ---------------------

/** A state dir whose writes complete (or fail) only when the test says: the interleavings are explicit. */
class GatedDir implements StateDir {
  /** The epoch file's content after each write that completed, in order. */
  readonly written: string[] = [];
  readonly #pending: { content: string; done: (ok: boolean) => void }[] = [];
  #content: string | undefined;

  constructor(content: string | undefined) {
    this.#content = content;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** The durable content: what a restarted agent would read. */
  get content(): string | undefined {
    return this.#content;
  }

  /** Completes the oldest write in flight, or fails it. */
  release(ok: boolean): void {
    this.#pending.shift()?.done(ok);
  }

  where(name: string): string {
    return `gated/${name}`;
  }
  read(): Promise<string | undefined> {
    return Promise.resolve(this.#content);
  }
  write(_name: string, content: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({
        content,
        done: (ok) => {
          if (!ok) {
            reject(new Error('disk full'));
            return;
          }
          this.#content = content;
          this.written.push(content);
          resolve();
        },
      });
    });
  }
  list(): Promise<string[]> {
    return Promise.resolve([]);
  }
  remove(): Promise<void> {
    return Promise.resolve();
  }
  removeLeftovers(): Promise<void> {
    return Promise.resolve();
  }
}

type Step = { kind: 'arrive'; epoch: number } | { kind: 'write'; ok: boolean } | { kind: 'settle' };

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }).map((epoch): Step => ({ kind: 'arrive', epoch })) },
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'write', ok: true }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'write', ok: false }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'settle' }) },
);

/** Lets every promise chain that can move, move. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Admission {
  readonly epoch: number;
  /** Set when the call settled: what it got, what the fence had durably seen at that moment, and (admitted) its place among the admissions. */
  outcome?: 'admitted' | 'stale' | 'unavailable';
  seenThen?: number;
  durableThen?: number;
  admittedAs?: number;
}

// The fence's promise, in the order calls are admitted: once a call of epoch e is admitted,
// no call of an epoch below e is admitted after it — neither one that arrives later nor one
// that was waiting its turn behind the raise to e (or to anything above it). A call is
// refused as stale only when an epoch above its own is on disk. The newest epoch gets in.
// (A lower epoch admitted while a higher one's write completes, before that call is admitted,
// is not a breach: the two calls are admitted in that order.)
test('under any interleaving of arrivals and epoch writes, no call is admitted after a call of a higher epoch, and refusals are justified', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.array(arbStep, { minLength: 1, maxLength: 24 }), async (initial, steps) => {
      const dir = new GatedDir(initial === 0 ? undefined : `${initial}\n`);
      const fence = await EpochFence.open(dir, silent);
      const calls: Admission[] = [];
      let admissions = 0;
      const durable = (): number => Number(dir.content ?? '0');
      const arrive = (epoch: number): void => {
        const call: Admission = { epoch };
        calls.push(call);
        // Judged at the very moment the call settles, against what the fence had persisted by then.
        fence.admit(epoch).then(
          () => Object.assign(call, { outcome: 'admitted', seenThen: fence.highestSeen, durableThen: durable(), admittedAs: admissions++ }),
          (err: unknown) => {
            const outcome = err instanceof StaleLeaderError ? 'stale' : err instanceof UnavailableError ? 'unavailable' : `unexpected ${String(err)}`;
            Object.assign(call, { outcome, seenThen: fence.highestSeen, durableThen: durable() });
          },
        );
      };
      for (const step of steps) {
        if (step.kind === 'arrive') arrive(step.epoch);
        else if (step.kind === 'write') dir.release(step.ok);
        else await settle();
      }
      // Let every write complete, then every call settle.
      for (let i = 0; i < 100 && (dir.pending > 0 || calls.some((c) => c.outcome === undefined)); i++) {
        await settle();
        dir.release(true);
      }
      await settle();

      const persisted = dir.written.map(Number);
      for (let i = 1; i < persisted.length; i++) {
        assert.ok((persisted[i] ?? 0) > (persisted[i - 1] ?? 0), `the persisted epoch went ${persisted[i - 1]} → ${persisted[i]}: a raise must never lower it`);
      }
      assert.ok((persisted[0] ?? Infinity) > initial, 'the first raise is above the epoch the agent started with');
      assert.equal(fence.highestSeen, durable(), 'the fence holds exactly the epoch on disk');
      const admitted = calls.filter((c) => c.outcome === 'admitted').sort((a, b) => (a.admittedAs ?? 0) - (b.admittedAs ?? 0));
      let highest = -1;
      for (const c of admitted) {
        // EVERY older epoch is refused, including one that waited behind a raise of a higher one.
        assert.ok(c.epoch >= highest, `epoch ${c.epoch} was admitted after a call of epoch ${highest} (order: ${admitted.map((a) => a.epoch).join(', ')})`);
        highest = Math.max(highest, c.epoch);
        assert.ok((c.durableThen ?? -1) >= c.epoch, `epoch ${c.epoch} was admitted before it was on disk (${c.durableThen})`);
      }
      for (const c of calls) {
        assert.ok(c.outcome === 'admitted' || c.outcome === 'stale' || c.outcome === 'unavailable', `epoch ${c.epoch}: ${c.outcome}`);
        if (c.outcome === 'stale') assert.ok(c.epoch < (c.seenThen ?? -1), `epoch ${c.epoch} was refused as stale while only ${c.seenThen} had been persisted`);
      }
      // The newest epoch that arrived is admitted once its write goes through (writes all succeed at the end).
      const newest = Math.max(initial, ...calls.map((c) => c.epoch));
      assert.ok(fence.highestSeen === newest || calls.some((c) => c.epoch === newest && c.outcome === 'unavailable'), `ended at ${fence.highestSeen}, not ${newest}`);
    }),
    { numRuns: 500 },
  );
});
