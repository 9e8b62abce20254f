// RedisBackend in-process (no gRPC): real redis-server / valkey-server processes under
// the supervisor, adoption by a new backend on the same directory, configuration,
// versions, removal. Every server is killed by pid in clean-up, even on failure.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { BackendContext } from '../../backend.ts';
import type { AgentMethod } from '../../../proto/methods.ts';
import { FailedPreconditionError, InvalidArgumentError } from '../../../proto/status.ts';
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

    const request = { job: JOB, nodeId: 'ng0-r0', port, version: '8.0', nodeGroup: 0, engineParams: {} };
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
      { job: JOB, nodeId: 'ng0-r0', engineParams: { 'maxmemory-policy': 'allkeys-lru', 'io-threads': '2' } },
      ctx('ConfigureDataNode'),
    );
    assert.deepEqual(configured.applied, ['maxmemory-policy']);
    assert.deepEqual(configured.pendingRestart, ['io-threads']);
    const repeat = await backend.configureDataNode({ job: JOB, nodeId: 'ng0-r0', engineParams: { 'maxmemory-policy': 'allkeys-lru' } }, ctx('ConfigureDataNode'));
    assert.equal(repeat.outcome?.changed, false);
    await assert.rejects(
      backend.configureDataNode({ job: JOB, nodeId: 'ng0-r0', engineParams: { port: '1' } }, ctx('ConfigureDataNode')),
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
      backend.startDataNode({ job: JOB, nodeId: 'n1', port, version: '7.0', nodeGroup: 0, engineParams: {} }, ctx('StartDataNode', controller.signal)),
    );
    assert.equal((await backend.getState({}, ctx('GetState'))).dataNodes?.length, 0);
  }));
