import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { EPOCH_FILE, EpochFence, parseEpoch } from './epoch-fence.ts';
import { InvalidArgumentError, StaleLeaderError } from '../../proto/status.ts';

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
