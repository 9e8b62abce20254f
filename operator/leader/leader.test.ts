// The leader's composition with stand-in parts (fake reconciler, provider, journal): the
// state directory it lays out, the lock and the epoch, the admin interface it opens,
// how stop() leaves the cluster running and shutdown() stops it, and what --purge
// deletes (everything but the backups).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DesiredStateHistory } from '../../desired-state/history.ts';
import { exampleDesired } from '../../test/arbitraries/desired-state.ts';
import { AdminClient } from './admin-client.ts';
import { readAdminEndpoint } from './admin-protocol.ts';
import { DesiredStateFileError, startLeader } from './leader.ts';
import { LeaderRunningError } from './lock.ts';
import { stateLayout } from './state-layout.ts';
import { fakeParts, noProvider } from './test-fakes.ts';

const example = readFileSync(new URL('../../desired-state/desired_state.jsonc', import.meta.url), 'utf8');

function setUp(text = example): { dir: string; stateDir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'coxswain-leader-'));
  const file = path.join(dir, 'desired_state.jsonc');
  writeFileSync(file, text);
  return { dir, stateDir: path.join(dir, 'state'), file };
}

test('a leader lays out its state, serves its admin interface, and stop() leaves the cluster running', async () => {
  const { dir, stateDir, file } = setUp();
  const layout = stateLayout(stateDir);
  try {
    const fake = fakeParts();
    const leader = await startLeader({ stateDir, file, parts: fake.factory, provider: noProvider, debounceMs: 50 });
    assert.equal(leader.epoch, 1);
    assert.equal(leader.cluster, 'demo');
    assert.equal(readFileSync(layout.epochFile, 'utf8'), '1\n');
    assert.equal(readFileSync(layout.pidFile, 'utf8').split('\n')[0], String(process.pid));
    assert.equal(statSync(layout.secretFile).mode & 0o777, 0o600);
    const endpoint = await readAdminEndpoint(layout.adminFile);
    assert.equal(statSync(layout.adminFile).mode & 0o777, 0o600);
    assert.equal(endpoint?.host, '127.0.0.1');
    assert.equal(endpoint?.port, leader.adminPort);
    assert.equal(endpoint?.epoch, 1);
    assert.ok((endpoint?.token.length ?? 0) >= 40);

    // The parts got the context; the first reading of the file was offered; the loop runs.
    const ctx = fake.contexts[0] as { epoch: number; cluster: string; secret: string };
    assert.equal(ctx.epoch, 1);
    assert.equal(ctx.cluster, 'demo');
    assert.equal(ctx.secret, readFileSync(layout.secretFile, 'utf8').trim());
    assert.equal(fake.parts.reconciler.offers.length, 1);
    assert.equal(fake.parts.reconciler.offers[0]?.source, `file:${file}`);
    assert.equal(fake.parts.reconciler.runs, 1);

    const client = await AdminClient.connect(stateDir);
    assert.equal((await client.status()).cluster, 'demo');
    assert.equal((await client.jobs()).length, 0);

    // A second leader on the same directory is refused, and does not take an epoch.
    await assert.rejects(startLeader({ stateDir, file, parts: fakeParts().factory, provider: noProvider }), LeaderRunningError);
    assert.equal(readFileSync(layout.epochFile, 'utf8'), '1\n');

    const end = await leader.stop();
    assert.deepEqual(end, { reason: 'stopped' });
    assert.deepEqual(fake.parts.provider.shutdowns, [], 'Ctrl-C does not stop the agents');
    assert.equal(fake.parts.provider.closed, 1);
    assert.equal(fake.parts.reconciler.aborted, true);
    assert.equal(existsSync(layout.adminFile), false);
    assert.equal(existsSync(layout.pidFile), false);

    // The next leader takes the next epoch.
    const again = await startLeader({ stateDir, file, parts: fakeParts().factory, provider: noProvider });
    assert.equal(again.epoch, 2);
    await again.stop();

    const log = readFileSync(layout.logFile, 'utf8');
    assert.match(log, /Started the leader of cluster demo with epoch 1/);
    assert.ok(!log.includes(ctx.secret), 'the secret is never logged');
    assert.ok(!log.includes(endpoint?.token ?? 'no token'), 'the admin token is never logged');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shutdown through the admin interface stops the agents and data nodes, then the leader', async () => {
  const { dir, stateDir, file } = setUp();
  try {
    const fake = fakeParts();
    const leader = await startLeader({ stateDir, file, parts: fake.factory, provider: noProvider });
    const client = await AdminClient.connect(stateDir);
    await client.shutdown({ purge: false });
    const end = await leader.ended;
    assert.equal(end.reason, 'shutdown');
    assert.deepEqual(fake.parts.provider.shutdowns, [{ dataNodes: true, purge: false }]);
    assert.equal(fake.parts.reconciler.aborted, true, 'the loop stopped before the agents');
    assert.equal(existsSync(stateLayout(stateDir).pidFile), false);
    assert.ok(existsSync(stateLayout(stateDir).secretFile), 'without --purge the state stays');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shutdown with purge deletes the state but keeps the backups', async () => {
  const { dir, stateDir } = setUp();
  const layout = stateLayout(stateDir);
  try {
    const history = new DesiredStateHistory(stateDir);
    history.append(exampleDesired({ id: 1, backups: [{ id: 'nightly', sink: { type: 'local', path: 'backups' } }] }), 'test');
    const fake = fakeParts();
    // Stand in for the provider: its purge removes the VM directories.
    fake.parts.provider.onShutdown = async ({ purge }) => {
      if (purge) rmSync(layout.vmsDir, { recursive: true, force: true });
      await Promise.resolve();
    };
    mkdirSync(path.join(layout.vmsDir, 'vm-1'), { recursive: true });
    mkdirSync(path.join(stateDir, 'backups', 'nightly'), { recursive: true });
    writeFileSync(path.join(stateDir, 'backups', 'nightly', 'manifest.json'), '{}');
    mkdirSync(layout.journalDir, { recursive: true });
    writeFileSync(path.join(layout.journalDir, 'jobs.jsonl'), '');

    const leader = await startLeader({ stateDir, file: writeFileWithId(dir, 2), parts: fake.factory, provider: noProvider });
    await (await AdminClient.connect(stateDir)).shutdown({ purge: true });
    const end = await leader.ended;
    assert.equal(end.reason, 'shutdown');
    assert.deepEqual(fake.parts.provider.shutdowns, [{ dataNodes: true, purge: true }]);
    assert.deepEqual(readdirSync(stateDir), ['backups'], 'only the backups are left');
    assert.ok(existsSync(path.join(stateDir, 'backups', 'nightly', 'manifest.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function writeFileWithId(dir: string, id: number): string {
  const file = path.join(dir, `v${id}.jsonc`);
  writeFileSync(file, example.replace('"id": 1,', `"id": ${id},`));
  return file;
}

test('an invalid file with nothing accepted yet is a start-up error that takes nothing', async () => {
  const { dir, stateDir, file } = setUp(example.replace('"replicationFactor": 2,', '"replicationFactor": 9,'));
  try {
    await assert.rejects(startLeader({ stateDir, file, parts: fakeParts().factory, provider: noProvider }), (err: unknown) => {
      assert.ok(err instanceof DesiredStateFileError);
      assert.match(err.message, /cannot be run: no desired state was accepted .* yet/);
      assert.match(err.message, /desired_state\.jsonc:\d+:\d+: error: \$\.replicationFactor/);
      return true;
    });
    const layout = stateLayout(stateDir);
    assert.equal(existsSync(layout.pidFile), false);
    assert.equal(existsSync(layout.epochFile), false);
    assert.equal(existsSync(layout.adminFile), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reconcile loop that fails ends the leader as failed and releases the lock', async () => {
  const { dir, stateDir, file } = setUp();
  try {
    const fake = fakeParts();
    fake.parts.reconciler.failWith = new Error('planner crashed');
    const leader = await startLeader({ stateDir, file, parts: fake.factory, provider: noProvider });
    const end = await leader.ended;
    assert.deepEqual(end, { reason: 'failed', error: 'planner crashed' });
    assert.equal(existsSync(stateLayout(stateDir).pidFile), false);
    assert.deepEqual(fake.parts.provider.shutdowns, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
