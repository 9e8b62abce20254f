// The leader's start-up state: the lock (one leader per state directory; a stale one is
// taken over), the fencing epoch (+1 per start, durable), the cluster secret (created
// once, 0600, 32 random bytes in base64url, the same on every later start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readProcStat } from '../../common/process-inspect.ts';
import { EpochFileError, nextEpoch, readEpoch } from './epoch.ts';
import { LeaderRunningError, acquireLeaderLock, liveLockHolder } from './lock.ts';
import { loadOrCreateSecret, SecretFileError } from './secret.ts';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'coxswain-leader-state-'));
}

test('the lock: held → LeaderRunningError naming the pid; released → free; a dead holder is taken over', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'leader.pid');
  try {
    const lock = await acquireLeaderLock(file, { stateDir: dir });
    const [pidLine, startLine] = readFileSync(file, 'utf8').split('\n');
    assert.equal(pidLine, String(process.pid));
    assert.equal(Number(startLine), (await readProcStat(process.pid))?.startTime, 'the start time names this process exactly');
    await assert.rejects(acquireLeaderLock(file, { stateDir: dir }), (err: unknown) => {
      assert.ok(err instanceof LeaderRunningError);
      assert.match(err.message, new RegExp(`already running for .* \\(pid ${process.pid}\\).*coxswain down`));
      return true;
    });
    await lock.release();
    assert.equal(existsSync(file), false);
    assert.equal(await liveLockHolder(file), undefined);

    // A lock left by a process that has exited.
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid as number;
    await new Promise((resolve) => child.on('exit', resolve));
    writeFileSync(file, `${deadPid}\n12345\n`);
    assert.equal(await liveLockHolder(file), undefined);
    const taken = await acquireLeaderLock(file, { stateDir: dir });
    assert.equal(readFileSync(file, 'utf8').split('\n')[0], String(process.pid));
    await taken.release();

    // A live pid whose start time differs (the pid was reused by another process) is stale too.
    writeFileSync(file, `${process.pid}\n1\n`);
    const reused = await acquireLeaderLock(file, { stateDir: dir });
    await reused.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the lock: release does not remove a lock that is no longer ours', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'leader.pid');
  try {
    const lock = await acquireLeaderLock(file, { stateDir: dir });
    writeFileSync(file, '1\n1\n');
    await lock.release();
    assert.equal(readFileSync(file, 'utf8'), '1\n1\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the epoch: 0 before any leader, then +1 per start, durable; a damaged file is a clear error', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'leader', 'epoch');
  try {
    assert.equal(await readEpoch(file), 0);
    assert.equal(await nextEpoch(file), 1);
    assert.equal(await nextEpoch(file), 2);
    assert.equal(readFileSync(file, 'utf8'), '2\n');
    assert.equal(await readEpoch(file), 2);
    writeFileSync(file, 'seven');
    await assert.rejects(nextEpoch(file), (err: unknown) => err instanceof EpochFileError && /not a whole number/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the secret: created once with mode 0600, 32 random bytes base64url; read back the same; narrowed if too open', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'secret');
  try {
    const secret = await loadOrCreateSecret(file);
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(await loadOrCreateSecret(file), secret, 'the same secret on the next start');
    const other = await loadOrCreateSecret(path.join(tempDirFor(dir), 'secret'));
    assert.notEqual(other, secret, 'random per cluster');

    chmodSync(file, 0o644);
    assert.equal(await loadOrCreateSecret(file), secret);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    writeFileSync(file, '\n');
    await assert.rejects(loadOrCreateSecret(file), SecretFileError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function tempDirFor(parent: string): string {
  return mkdtempSync(path.join(parent, 'other-'));
}
