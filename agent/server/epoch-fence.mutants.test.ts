// More of the epoch fence's behaviour (safety invariant 6): the edges that the mutation
// run (`make mutation`, test/mutation/README.md) found untested — what the fence says
// about a missing or malformed epoch, which leftovers it clears, which files it refuses
// to trust, what concurrent calls see, and what happens when the epoch cannot be written.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { EPOCH_FILE, EpochFence, parseEpoch } from './epoch-fence.ts';
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

function metadata(value?: string): Metadata {
  const md = new Metadata();
  if (value !== undefined) md.set('coxswain-epoch', value);
  return md;
}

function invalid(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof InvalidArgumentError && e.field === 'coxswain-epoch' && pattern.test(e.message);
}

test('an absent or empty epoch is reported as missing, a malformed one as malformed', () => {
  assert.throws(() => parseEpoch(metadata()), invalid(/missing/));
  assert.throws(() => parseEpoch(metadata('')), invalid(/missing/));
  assert.throws(() => parseEpoch(metadata('x')), invalid(/must be a decimal integer/));
});

test('spaces around the epoch are allowed', () => {
  assert.equal(parseEpoch(metadata(' 12 ')), 12);
});

test('a long malformed epoch is quoted only in part', () => {
  const value = 'y'.repeat(1000);
  assert.throws(
    () => parseEpoch(metadata(value)),
    (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('y'.repeat(40)) && !e.message.includes('y'.repeat(41)),
  );
});

test('opening clears the leftovers of interrupted epoch writes and nothing else', () =>
  withDir(async (dir) => {
    await writeFile(path.join(dir, EPOCH_FILE), '4\n');
    const leftovers = [`.${EPOCH_FILE}.123.abcd.tmp`, `.${EPOCH_FILE}.9.ffff.tmp`];
    const kept = ['notes.tmp', `.${EPOCH_FILE}.backup`, `${EPOCH_FILE}.tmp`, `x.${EPOCH_FILE}.1.tmp`];
    for (const name of [...leftovers, ...kept]) await writeFile(path.join(dir, name), '99\n');
    const fence = await EpochFence.open(dir, silent);
    assert.equal(fence.highestSeen, 4);
    assert.deepEqual((await readdir(dir)).sort(), [EPOCH_FILE, ...kept].sort());
  }));

test('an epoch file of several digits is read whole', () =>
  withDir(async (dir) => {
    await writeFile(path.join(dir, EPOCH_FILE), '1234567\n');
    const fence = await EpochFence.open(dir, silent);
    assert.equal(fence.highestSeen, 1234567);
    await assert.rejects(fence.admit(1234566), StaleLeaderError);
  }));

test('an epoch file with anything but one decimal is corrupt, and the agent does not start on it', () =>
  withDir(async (dir) => {
    for (const text of ['x7', '7x', '1 2', '', '-3', '12345678901234567']) {
      await writeFile(path.join(dir, EPOCH_FILE), `${text}\n`);
      await assert.rejects(EpochFence.open(dir, silent), /is corrupt/, JSON.stringify(text));
    }
  }));

test('a corrupt epoch file is quoted only in part', () =>
  withDir(async (dir) => {
    await writeFile(path.join(dir, EPOCH_FILE), 'z'.repeat(5000));
    await assert.rejects(EpochFence.open(dir, silent), (e: unknown) => e instanceof Error && e.message.includes('z'.repeat(40)) && !e.message.includes('z'.repeat(41)));
  }));

test('a lower epoch that waited behind a higher raise is refused, and does not lower the fence', () =>
  withDir(async (dir) => {
    const fence = await EpochFence.open(dir, silent);
    const [high, low] = await Promise.allSettled([fence.admit(7), fence.admit(6)]);
    assert.equal(high.status, 'fulfilled');
    assert.equal(low.status, 'rejected');
    assert.ok(low.status === 'rejected' && low.reason instanceof StaleLeaderError && low.reason.seenEpoch === 7);
    assert.equal(fence.highestSeen, 7);
    assert.equal(await readFile(path.join(dir, EPOCH_FILE), 'utf8'), '7\n');
    assert.equal((await EpochFence.open(dir, silent)).highestSeen, 7);
  }));

test('a call at the highest epoch seen is admitted while a higher raise is still being written', () =>
  withDir(async (dir) => {
    const fence = await EpochFence.open(dir, silent);
    await fence.admit(5);
    const raising = fence.admit(7);
    const current = fence.admit(5);
    const first = await Promise.race([current.then(() => 'current admitted'), raising.then(() => 'raise done')]);
    assert.equal(first, 'current admitted');
    await raising;
    assert.equal(fence.highestSeen, 7);
    await assert.rejects(fence.admit(5), StaleLeaderError);
  }));

test('an epoch that cannot be written refuses the call as unavailable and leaves the fence where it was', () =>
  withDir(async (dir) => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    const fence = await EpochFence.open(data, silent);
    await rm(data, { recursive: true });
    await assert.rejects(
      fence.admit(3),
      (e: unknown) => e instanceof UnavailableError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT',
    );
    assert.equal(fence.highestSeen, 0);
  }));
