// coxswain down: through the running leader when there is one; without one, directly
// with the provider (taking the lock and the next epoch); nothing to stop is not an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { NoLeaderError } from '../leader/admin-client.ts';
import type { ProviderContext } from '../leader/offline-down.ts';
import { stateLayout } from '../leader/state-layout.ts';
import { FakeLeader, FakeProvider } from '../leader/test-fakes.ts';
import { makeDownCommand } from './down-command.ts';
import { memoryOutput } from './output.ts';

const noLeader = (dir: string): Promise<never> => Promise.reject(new NoLeaderError(dir));

test('with a leader: down asks it to shut down (with --purge when given) and waits for it to end', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-down-'));
  try {
    const fake = new FakeLeader();
    const provider = new FakeProvider();
    const waited: number[] = [];
    const command = makeDownCommand({
      connect: () => Promise.resolve(fake),
      provider: () => Promise.resolve(provider),
      leaderPid: () => Promise.resolve(4242),
      processGone: (pid) => {
        waited.push(pid);
        return Promise.resolve(true);
      },
    });
    const io = memoryOutput();
    assert.equal(await command.run(['--state-dir', dir], io), 0);
    assert.deepEqual(fake.shutdowns, [{ purge: false }]);
    assert.match(io.stdout, /Stopped the leader of .* and every agent and data node\./);
    assert.deepEqual(provider.shutdowns, [], 'the provider is not used directly while a leader runs');
    assert.deepEqual(waited, [4242], 'down returns once the leader process has exited');

    const purge = memoryOutput();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(await command.run(['--purge', '--state-dir', dir], purge), 0);
    assert.deepEqual(fake.shutdowns[1], { purge: true });
    assert.match(purge.stdout, /Deleted the data and the cluster state \(.* is gone\)/);

    const stuck = makeDownCommand({ connect: () => Promise.resolve(fake), provider: () => Promise.resolve(provider), leaderPid: () => Promise.resolve(4242), processGone: () => Promise.resolve(false) });
    const late = memoryOutput();
    assert.equal(await stuck.run(['--state-dir', dir], late), 1);
    assert.match(late.stderr, /leader process \(pid 4242\) has not ended after 30 s; see .*leader\.log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a leader: down stops the agents with the provider, under the lock and a new epoch', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-down-offline-'));
  const layout = stateLayout(dir);
  try {
    mkdirSync(path.join(layout.vmsDir, 'vm-1'), { recursive: true });
    mkdirSync(layout.leaderDir, { recursive: true });
    writeFileSync(layout.epochFile, '4\n');
    writeFileSync(layout.secretFile, 'the-secret-of-this-cluster\n', { mode: 0o600 });
    const provider = new FakeProvider();
    const contexts: ProviderContext[] = [];
    let lockHeld = false;
    provider.onShutdown = () => {
      lockHeld = existsSync(layout.pidFile);
      return Promise.resolve();
    };
    const command = makeDownCommand({
      connect: noLeader,
      provider: (ctx) => {
        contexts.push(ctx);
        return Promise.resolve(provider);
      },
    });
    const io = memoryOutput();
    assert.equal(await command.run(['--state-dir', dir], io), 0, io.stderr);
    assert.match(io.stdout, /No leader was running for .*; stopped every agent and data node directly\./);
    assert.deepEqual(provider.shutdowns, [{ dataNodes: true, purge: false }]);
    assert.equal(provider.closed, 1);
    assert.equal(contexts[0]?.epoch, 5, 'the next epoch fences any older leader');
    assert.equal(contexts[0]?.secret, 'the-secret-of-this-cluster');
    assert.equal(lockHeld, true, 'the lock is held while the agents stop');
    assert.equal(existsSync(layout.pidFile), false, 'and released after');
    assert.equal(readFileSync(layout.epochFile, 'utf8'), '5\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a leader, --purge deletes the state\'s own files and keeps the backups the history named and anything else', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-down-purge-'));
  const layout = stateLayout(dir);
  try {
    new DesiredStateHistory(dir).append(exampleDesired({ id: 1, backups: [{ id: 'b1', sink: { type: 'local', path: 'keep/backups' } }] }), 'test');
    mkdirSync(layout.vmsDir, { recursive: true });
    writeFileSync(layout.secretFile, 'the-secret-of-this-cluster\n', { mode: 0o600 });
    mkdirSync(path.join(dir, 'keep', 'backups', 'b1'), { recursive: true });
    writeFileSync(path.join(dir, 'keep', 'other.txt'), 'not a backup');
    writeFileSync(layout.logFile, '');
    const provider = new FakeProvider();
    provider.onShutdown = ({ purge }) => {
      if (purge) rmSync(layout.vmsDir, { recursive: true, force: true });
      return Promise.resolve();
    };
    const io = memoryOutput();
    assert.equal(await makeDownCommand({ connect: noLeader, provider: () => Promise.resolve(provider) }).run(['--purge', '--state-dir', dir], io), 0);
    assert.deepEqual(provider.shutdowns, [{ dataNodes: true, purge: true }]);
    assert.deepEqual(readdirSync(dir), ['keep']);
    // Only the state's own entries go: a file that is not one of them stays, backup or not.
    assert.deepEqual(readdirSync(path.join(dir, 'keep')).sort(), ['backups', 'other.txt']);
    assert.match(io.stdout, /kept in .*: keep \(backups, and whatever is not the cluster.s state, are kept on purpose\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing to stop: a state directory that does not exist', async () => {
  const dir = path.join(tmpdir(), `coxswain-down-none-${process.pid}`);
  const provider = new FakeProvider();
  const io = memoryOutput();
  assert.equal(await makeDownCommand({ connect: noLeader, provider: () => Promise.resolve(provider) }).run(['--purge', '--state-dir', dir], io), 0);
  assert.match(io.stdout, /Nothing to stop: there is no cluster in /);
  assert.deepEqual(provider.shutdowns, []);
  assert.equal(existsSync(dir), false);
});

test('a directory that is not a state directory: refused with the reason, nothing stopped, nothing deleted, no lock left', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-down-notstate-'));
  try {
    writeFileSync(path.join(dir, 'crash.jsonc'), '{}');
    mkdirSync(path.join(dir, 'src'));
    const provider = new FakeProvider();
    const io = memoryOutput();
    assert.equal(await makeDownCommand({ connect: noLeader, provider: () => Promise.resolve(provider) }).run(['--purge', '--state-dir', dir], io), 1);
    assert.match(io.stderr, /coxswain down: .* is not a Coxswain state directory: it has none of history\/, journal\/, vms\/, leader\/ or secret\. Nothing was stopped or deleted\./);
    assert.deepEqual(provider.shutdowns, []);
    assert.deepEqual(readdirSync(dir).sort(), ['crash.jsonc', 'src'], 'the directory is untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
