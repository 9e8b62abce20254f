// RedisBackend in-process (no gRPC): real redis-server / valkey-server processes under
// the supervisor, adoption by a new backend on the same directory, configuration,
// versions, removal. Every server is killed by pid in clean-up, even on failure.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { BackendContext } from '../../backend.ts';
import type { AgentMethod } from '../../../proto/methods.ts';
import { Redis } from 'ioredis';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError } from '../../../proto/status.ts';
import { RedisBackend } from './redis-backend.ts';
import { Leftovers, freePort, tempDir } from './test-servers.ts';

const JOB = { jobId: 'job-1', stepId: '1' };

function ctx(method: AgentMethod, signal = AbortSignal.timeout(60_000)): BackendContext {
  return { signal, logger: pino({ level: 'silent' }), method, epoch: 1, idempotencyKey: 'k', deadline: new Date(Date.now() + 60_000) };
}

async function withBackend(fn: (open: () => Promise<RedisBackend>, dir: string) => Promise<void>): Promise<void> {
  const leftovers = new Leftovers();
  const dir = await tempDir('coxswain-redis-backend-');
  leftovers.dirs.add(dir);
  leftovers.baseDirs.add(path.join(dir, 'nodes'));
  const opened: RedisBackend[] = [];
  try {
    await fn(async () => {
      const b = await RedisBackend.open({ dir, supervisor: { adoptedPollMs: 100, stopGraceMs: 5000 } });
      opened.push(b);
      return b;
    }, dir);
  } finally {
    for (const b of opened) await b.close().catch(() => undefined);
    await leftovers.cleanup();
  }
}

test('RedisBackend starts, observes, configures, adopts after a restart, stops and removes a data node', { timeout: 60_000 }, () =>
  withBackend(async (open) => {
    const backend = await open();
    const port = await freePort();

    const ensured = await backend.ensureVersion({ job: JOB, version: '8.0', artifactUrl: '', artifactSha256: '', engineParams: {} }, ctx('EnsureVersion'));
    assert.deepEqual(ensured.installed?.programs, ['valkey-server', 'valkey-cli']);
    await assert.rejects(
      backend.ensureVersion({ job: JOB, version: '9.9', artifactUrl: '', artifactSha256: '', engineParams: {} }, ctx('EnsureVersion')),
      InvalidArgumentError,
    );

    const request = { job: JOB, nodeId: 'ng0-r0', port, version: '8.0', nodeGroup: 0, engineParams: {}, labels: {} };
    const started = await backend.startDataNode(request, ctx('StartDataNode'));
    assert.equal(started.outcome?.changed, true);
    assert.equal(started.node?.up, true);
    assert.equal(started.node?.role, 'NODE_ROLE_NONE');
    assert.equal(started.node?.program, 'valkey-server');
    assert.match(started.node?.engineNodeId ?? '', /^[0-9a-f]{40}$/);
    const pid = started.node?.pid;
    assert.ok(typeof pid === 'number' && pid > 0);
    assert.equal(await backend.hasDataNode('ng0-r0', ctx('GetState')), true);
    assert.equal(await backend.hasDataNode('ghost', ctx('GetState')), false);

    const again = await backend.startDataNode(request, ctx('StartDataNode'));
    assert.equal(again.outcome?.changed, false);
    assert.equal(again.node?.pid, pid);

    const state = await backend.getState({}, ctx('GetState'));
    assert.equal(state.engine, 'redis');
    assert.ok(state.installedVersions?.some((v) => v.version === '8.0'));
    assert.equal(state.dataNodes?.length, 1);
    assert.ok(Number(state.dataNodes?.[0]?.dataDirUsage?.availableBytes) > 0);

    const configured = await backend.configureDataNode(
      { job: JOB, nodeId: 'ng0-r0', engineParams: { 'maxmemory-policy': 'allkeys-lru', 'io-threads': '2' }, labels: {} },
      ctx('ConfigureDataNode'),
    );
    assert.deepEqual(configured.applied, ['maxmemory-policy']);
    assert.deepEqual(configured.pendingRestart, ['io-threads']);
    const repeat = await backend.configureDataNode({ job: JOB, nodeId: 'ng0-r0', engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: {} }, ctx('ConfigureDataNode'));
    assert.equal(repeat.outcome?.changed, false);
    await assert.rejects(
      backend.configureDataNode({ job: JOB, nodeId: 'ng0-r0', engineParams: { port: '1' }, labels: {} }, ctx('ConfigureDataNode')),
      InvalidArgumentError,
    );

    // A new backend on the same directory adopts the running node: same pid.
    await backend.close();
    const second = await open();
    assert.deepEqual(second.recovery.adopted.map((n) => [n.nodeId, n.pid]), [['ng0-r0', pid]]);
    const adopted = await second.getState({}, ctx('GetState'));
    assert.equal(adopted.dataNodes?.[0]?.pid, pid);
    assert.equal(adopted.dataNodes?.[0]?.up, true);

    // Exits are reported to onStateChange.
    let changes = 0;
    second.onStateChange(() => changes++);
    const stopped = await second.stopDataNode({ job: JOB, nodeId: 'ng0-r0' }, ctx('StopDataNode'));
    assert.equal(stopped.outcome?.changed, true);
    assert.equal(stopped.node?.up, false);
    assert.ok(changes >= 1);
    assert.equal((await second.stopDataNode({ job: JOB, nodeId: 'ng0-r0' }, ctx('StopDataNode'))).outcome?.changed, false);
    await assert.rejects(second.failover({ job: JOB, nodeId: 'ng0-r0' }, ctx('Failover')), FailedPreconditionError);

    const removed = await second.removeNode({ job: JOB, nodeId: 'ng0-r0' }, ctx('RemoveNode'));
    assert.equal(removed.outcome?.changed, true);
    assert.equal(await second.hasDataNode('ng0-r0', ctx('GetState')), false);
    assert.equal((await second.getState({}, ctx('GetState'))).dataNodes?.length, 0);
  }));

test('RedisBackend honours an aborted signal', { timeout: 30_000 }, () =>
  withBackend(async (open) => {
    const backend = await open();
    const port = await freePort();
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await assert.rejects(
      backend.startDataNode({ job: JOB, nodeId: 'n1', port, version: '7.0', nodeGroup: 0, engineParams: {}, labels: {} }, ctx('StartDataNode', controller.signal)),
    );
    assert.equal((await backend.getState({}, ctx('GetState'))).dataNodes?.length, 0);
  }));

test('labels and configuration: reported without the internal label, replaced by a start, set by ConfigureDataNode, kept across a restart of the agent and of the node', { timeout: 60_000 }, () =>
  withBackend(async (open) => {
    const backend = await open();
    const port = await freePort();
    const labels = { 'coxswain.io/running-since': '1', 'coxswain.io/config': '{}' };
    const request = { job: JOB, nodeId: 'n', port, version: '7.0', nodeGroup: 2, engineParams: { 'maxmemory-policy': 'noeviction' }, labels };
    const started = await backend.startDataNode(request, ctx('StartDataNode'));
    assert.deepEqual(started.node?.labels, labels, 'the internal nodeGroup label is not reported');
    assert.equal(started.node?.nodeGroup, 2);
    // Observation of a node that knows only itself.
    const params = started.node?.engineParams ?? {};
    assert.equal(params['known_nodes'], '1');
    assert.match(params['topology_digest'] ?? '', /^[0-9a-f]{16}$/);
    assert.equal(params['open_slots'], '0');
    assert.equal(params['in_sync'], undefined, 'only replicas report in_sync');

    // A running node is not started again with other labels.
    await assert.rejects(
      backend.startDataNode({ ...request, labels: { ...labels, 'coxswain.io/running-since': '2' } }, ctx('StartDataNode')),
      (err: unknown) => err instanceof AlreadyExistsError && /running-since/.test(err.message),
    );

    // ConfigureDataNode: live, saved, labels set; a repeat changes nothing.
    const newConfig = JSON.stringify({ 'maxmemory-policy': 'allkeys-lru' });
    const configured = await backend.configureDataNode(
      { job: JOB, nodeId: 'n', engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: { 'coxswain.io/config': newConfig } },
      ctx('ConfigureDataNode'),
    );
    assert.equal(configured.outcome?.changed, true);
    assert.deepEqual(configured.applied, ['maxmemory-policy']);
    const repeat = await backend.configureDataNode(
      { job: JOB, nodeId: 'n', engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: { 'coxswain.io/config': newConfig } },
      ctx('ConfigureDataNode'),
    );
    assert.equal(repeat.outcome?.changed, false);
    const labelsOnly = await backend.configureDataNode({ job: JOB, nodeId: 'n', engineParams: {}, labels: { 'coxswain.io/extra': 'x' } }, ctx('ConfigureDataNode'));
    assert.equal(labelsOnly.outcome?.changed, true);
    const newLabels = { ...labels, 'coxswain.io/config': newConfig, 'coxswain.io/extra': 'x' };
    const pid = started.node?.pid;

    // The leader's StartDataNode with its full, new configuration does not fight it.
    const same = await backend.startDataNode({ ...request, engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: newLabels }, ctx('StartDataNode'));
    assert.equal(same.outcome?.changed, false);
    assert.equal(same.node?.pid, pid);

    // A new agent on the same directory reports the same labels.
    await backend.close();
    const second = await open();
    const adopted = (await second.getState({}, ctx('GetState'))).dataNodes?.[0];
    assert.equal(adopted?.pid, pid);
    assert.deepEqual(adopted?.labels, newLabels);

    // Stopped and started again: the configured value is in its configuration.
    await second.stopDataNode({ job: JOB, nodeId: 'n' }, ctx('StopDataNode'));
    const restarted = await second.startDataNode({ ...request, engineParams: { 'maxmemory-policy': 'allkeys-lru' }, labels: { 'coxswain.io/running-since': '2' } }, ctx('StartDataNode'));
    assert.equal(restarted.outcome?.changed, true);
    assert.deepEqual(restarted.node?.labels, { 'coxswain.io/running-since': '2' }, 'a start replaces the leader labels');
    assert.equal(restarted.node?.nodeGroup, 2);
    const client = new Redis({ port, lazyConnect: true });
    try {
      await client.connect();
      assert.deepEqual(await client.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'allkeys-lru']);
    } finally {
      client.disconnect();
    }
  }));

test('a node that runs but does not answer (SIGSTOP): GetState still answers in time and reports it down; a start kills it and starts it again', { timeout: 60_000 }, () =>
  withBackend(async (open) => {
    const backend = await open();
    const port = await freePort();
    const request = { job: JOB, nodeId: 'ng0-r0', port, version: '7.0', nodeGroup: 0, engineParams: {}, labels: {} };
    const started = await backend.startDataNode(request, ctx('StartDataNode'));
    const pid = started.node?.pid ?? 0;
    assert.ok(pid > 0);
    process.kill(pid, 'SIGSTOP'); // accepts connections, answers nothing
    try {
      const t0 = performance.now();
      const state = await backend.getState({}, ctx('GetState', AbortSignal.timeout(2_000)));
      const ms = performance.now() - t0;
      assert.ok(ms < 1_900, `GetState answered within the leader's 2 s deadline (took ${ms.toFixed(0)} ms)`);
      assert.equal(state.dataNodes?.[0]?.up, false, 'the silent node is reported down');

      const again = await backend.startDataNode(request, ctx('StartDataNode'));
      assert.equal(again.outcome?.changed, true, 'the start did the work');
      assert.equal(again.node?.up, true);
      assert.notEqual(again.node?.pid, pid, 'a new process');
      let gone = false;
      try {
        process.kill(pid, 0);
      } catch {
        gone = true;
      }
      assert.ok(gone, `the silent process ${pid} was killed`);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }));

test('a relative local sink path is refused, never taken relative to the VM\'s own directory (every VM must mean one directory)', { timeout: 30_000 }, () =>
  withBackend(async (open, dir) => {
    const backend = await open();
    const sink = { local: { path: 'backups' } };
    const refused = (e: unknown): boolean => e instanceof InvalidArgumentError && /"backups" is relative/.test(e.message);
    await assert.rejects(backend.listBackups({ sink }, ctx('ListBackups')), refused);
    await assert.rejects(backend.deleteBackup({ job: JOB, backupId: 'b1', sink }, ctx('DeleteBackup')), refused);
    await assert.rejects(backend.createBackup({ job: JOB, backupId: 'b1', nodeIds: [], sink }, ctx('CreateBackup')), refused);
    // Nothing was written relative to this VM's directory (before the fix, the backup went there).
    assert.equal(existsSync(path.join(dir, 'backups')), false, 'no backups directory under the agent\'s own directory');
    // An absolute path is taken as it is.
    const absolute = path.join(dir, 'abs-sink');
    assert.deepEqual((await backend.listBackups({ sink: { local: { path: absolute } } }, ctx('ListBackups'))).backups, []);
  }));
